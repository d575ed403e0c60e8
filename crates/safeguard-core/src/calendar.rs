//! Working days in England and Wales: Monday to Friday, less bank holidays. Bank holidays are
//! data (the GOV.UK list), loaded from the file shipped with Safeguard or from a newer one at
//! run time; a date in a year the data does not cover is an error, never a guess.
//!
//! Statutory day counts start on the working day after the trigger (Working Together 2023).

use std::collections::BTreeSet;

use chrono::{Datelike, Duration, Months, NaiveDate, Weekday};
use serde::Deserialize;

/// The bank holidays shipped with Safeguard (GOV.UK, England and Wales).
pub const ENGLAND_AND_WALES_CSV: &str =
    include_str!("../../../data/bank-holidays-england-and-wales.csv");

/// Why a calendar cannot be loaded or cannot answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    /// A line of a CSV file is not `YYYY-MM-DD,title`.
    #[error("bank holidays line {line}: {reason}")]
    BadLine {
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        reason: String,
    },
    /// A JSON file is not in the GOV.UK `bank-holidays.json` shape.
    #[error("bank holidays JSON: {0}")]
    BadJson(String),
    /// The calendar has no bank holidays for this year, so it cannot count its working days.
    #[error("the calendar has no bank holidays for {0}: load a newer bank holidays file")]
    YearNotCovered(i32),
}

/// Working days of England and Wales, for the years the data covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Calendar {
    holidays: BTreeSet<NaiveDate>,
    years: BTreeSet<i32>,
}

#[derive(Deserialize)]
struct GovUkFile {
    #[serde(rename = "england-and-wales")]
    england_and_wales: GovUkDivision,
}

#[derive(Deserialize)]
struct GovUkDivision {
    events: Vec<GovUkEvent>,
}

#[derive(Deserialize)]
struct GovUkEvent {
    date: NaiveDate,
}

impl Calendar {
    /// The calendar shipped with Safeguard.
    pub fn england_and_wales() -> Self {
        Self::from_csv(ENGLAND_AND_WALES_CSV).expect("the shipped bank holidays file is valid")
    }

    /// Bank holidays from lines of `YYYY-MM-DD,title` after a `date,title` header.
    pub fn from_csv(text: &str) -> Result<Self, CalendarError> {
        let mut dates = Vec::new();
        for (i, line) in text.lines().enumerate().skip(1) {
            if line.trim().is_empty() {
                continue;
            }
            let date = line.split(',').next().unwrap_or_default().trim();
            let parsed = NaiveDate::parse_from_str(date, "%Y-%m-%d").map_err(|_| {
                CalendarError::BadLine {
                    line: i + 1,
                    reason: format!("{date:?} is not a date (YYYY-MM-DD)"),
                }
            })?;
            dates.push(parsed);
        }
        Ok(Self::from_dates(dates))
    }

    /// Bank holidays from GOV.UK's `bank-holidays.json` (its England and Wales division).
    pub fn from_govuk_json(text: &str) -> Result<Self, CalendarError> {
        let file: GovUkFile =
            serde_json::from_str(text).map_err(|e| CalendarError::BadJson(e.to_string()))?;
        Ok(Self::from_dates(
            file.england_and_wales.events.into_iter().map(|e| e.date),
        ))
    }

    fn from_dates(dates: impl IntoIterator<Item = NaiveDate>) -> Self {
        let holidays: BTreeSet<NaiveDate> = dates.into_iter().collect();
        // Every year has bank holidays: a year with none in the data is a year it lacks.
        let years = holidays.iter().map(|d| d.year()).collect();
        Self { holidays, years }
    }

    /// The years this calendar can count.
    pub fn years(&self) -> impl Iterator<Item = i32> + '_ {
        self.years.iter().copied()
    }

    /// Whether `date` is a working day.
    pub fn is_working_day(&self, date: NaiveDate) -> Result<bool, CalendarError> {
        if !self.years.contains(&date.year()) {
            return Err(CalendarError::YearNotCovered(date.year()));
        }
        let weekend = matches!(date.weekday(), Weekday::Sat | Weekday::Sun);
        Ok(!weekend && !self.holidays.contains(&date))
    }

    /// The `n`th working day after `start` (`n` = 0 is `start` itself).
    pub fn add_working_days(&self, start: NaiveDate, n: u32) -> Result<NaiveDate, CalendarError> {
        let mut date = start;
        let mut left = n;
        // Whole weeks at a time while more than a week is left: any seven days running hold
        // five weekdays, less the bank holidays among them (every clock counts weeks of them).
        while left > 5 {
            let week_end = date + Duration::days(7);
            for year in [(date + Duration::days(1)).year(), week_end.year()] {
                if !self.years.contains(&year) {
                    return Err(CalendarError::YearNotCovered(year));
                }
            }
            let holidays = self
                .holidays
                .range(date + Duration::days(1)..=week_end)
                .filter(|d| !matches!(d.weekday(), Weekday::Sat | Weekday::Sun))
                .count() as u32;
            let working = 5 - holidays;
            if working >= left {
                break;
            }
            date = week_end;
            left -= working;
        }
        while left > 0 {
            date += Duration::days(1);
            if self.is_working_day(date)? {
                left -= 1;
            }
        }
        Ok(date)
    }

    /// The `n`th working day before `end` (`n` = 0 is `end` itself).
    pub fn sub_working_days(&self, end: NaiveDate, n: u32) -> Result<NaiveDate, CalendarError> {
        let mut date = end;
        let mut left = n;
        while left > 0 {
            date -= Duration::days(1);
            if self.is_working_day(date)? {
                left -= 1;
            }
        }
        Ok(date)
    }

    /// Working days after `from` up to and including `to` (0 when `to` is not after `from`).
    pub fn working_days_between(
        &self,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<u32, CalendarError> {
        let mut count = 0;
        let mut date = from;
        while date < to {
            date += Duration::days(1);
            if self.is_working_day(date)? {
                count += 1;
            }
        }
        Ok(count)
    }
}

/// The same day `n` calendar months later, or the month's last day when it has no such day
/// (31 January + 1 month = 28 or 29 February).
pub fn add_months(date: NaiveDate, n: u32) -> NaiveDate {
    date.checked_add_months(Months::new(n))
        .expect("dates stay far inside chrono's range")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn weekends_and_bank_holidays_are_not_working_days() {
        let c = Calendar::england_and_wales();
        assert!(!c.is_working_day(d(2006, 12, 25)).unwrap(), "Christmas Day");
        assert!(!c.is_working_day(d(2006, 12, 26)).unwrap(), "Boxing Day");
        assert!(!c.is_working_day(d(2007, 4, 6)).unwrap(), "Good Friday");
        assert!(!c.is_working_day(d(2007, 4, 7)).unwrap(), "a Saturday");
        assert!(
            c.is_working_day(d(2007, 4, 10)).unwrap(),
            "the Tuesday after Easter"
        );
    }

    #[test]
    fn whole_weeks_at_a_time_land_where_counting_day_by_day_does() {
        let c = Calendar::england_and_wales();
        let day_by_day = |start: NaiveDate, n: u32| {
            let (mut date, mut left) = (start, n);
            while left > 0 {
                date += Duration::days(1);
                if c.is_working_day(date).unwrap() {
                    left -= 1;
                }
            }
            date
        };
        // Every start across Christmas, Easter and a year's turn, weekends included, and
        // counts from a day to over two months.
        for start in d(2006, 12, 1).iter_days().take(150) {
            for n in 0..70 {
                assert_eq!(
                    c.add_working_days(start, n).unwrap(),
                    day_by_day(start, n),
                    "{n} working days after {start}"
                );
            }
        }
        // A week's jump into a year the calendar lacks is refused as a day's step would be.
        assert_eq!(
            c.add_working_days(d(2027, 12, 20), 30),
            Err(CalendarError::YearNotCovered(2028))
        );
    }

    #[test]
    fn counting_starts_the_working_day_after_the_trigger_and_skips_holidays() {
        let c = Calendar::england_and_wales();
        // Friday 22 December 2006: Monday 25 and Tuesday 26 are bank holidays.
        assert_eq!(
            c.add_working_days(d(2006, 12, 22), 1).unwrap(),
            d(2006, 12, 27)
        );
        assert_eq!(
            c.add_working_days(d(2006, 12, 22), 0).unwrap(),
            d(2006, 12, 22)
        );
        // 15 working days from a strategy discussion on Monday 11 December 2006.
        // 12-15, 18-22 (9), 27-29 (12), 2-4 January (15): 25, 26 December and 1 January are holidays.
        assert_eq!(
            c.add_working_days(d(2006, 12, 11), 15).unwrap(),
            d(2007, 1, 4)
        );
        assert_eq!(
            c.working_days_between(d(2006, 12, 11), d(2007, 1, 4))
                .unwrap(),
            15
        );
        assert_eq!(
            c.working_days_between(d(2007, 1, 3), d(2006, 12, 11))
                .unwrap(),
            0
        );
    }

    #[test]
    fn a_year_the_data_lacks_is_an_error_not_a_guess() {
        let c = Calendar::england_and_wales();
        assert_eq!(
            c.is_working_day(d(2030, 3, 4)),
            Err(CalendarError::YearNotCovered(2030))
        );
        assert_eq!(
            c.add_working_days(d(2027, 12, 29), 5),
            Err(CalendarError::YearNotCovered(2028))
        );
        assert_eq!(
            c.is_working_day(d(2005, 6, 1)),
            Err(CalendarError::YearNotCovered(2005))
        );
        assert!(
            c.is_working_day(d(2026, 11, 25)).unwrap(),
            "today's year is covered"
        );
    }

    #[test]
    fn month_arithmetic_keeps_the_day_or_falls_back_to_the_month_end() {
        assert_eq!(add_months(d(2007, 1, 22), 3), d(2007, 4, 22));
        assert_eq!(add_months(d(2007, 1, 31), 1), d(2007, 2, 28));
        assert_eq!(add_months(d(2008, 1, 31), 1), d(2008, 2, 29));
        assert_eq!(add_months(d(2007, 8, 31), 6), d(2008, 2, 29));
    }

    #[test]
    fn the_govuk_json_shape_loads() {
        let json = r#"{"england-and-wales": {"division": "england-and-wales", "events": [
            {"title": "New Year's Day", "date": "2030-01-01", "notes": "", "bunting": true}]},
            "scotland": {"division": "scotland", "events": []}}"#;
        let c = Calendar::from_govuk_json(json).unwrap();
        assert!(!c.is_working_day(d(2030, 1, 1)).unwrap());
        assert!(c.is_working_day(d(2030, 1, 2)).unwrap());
        assert!(matches!(
            Calendar::from_govuk_json("{}"),
            Err(CalendarError::BadJson(_))
        ));
    }

    #[test]
    fn a_bad_csv_line_is_named() {
        let err =
            Calendar::from_csv("date,title\n2007-01-01,New Year\n2007-13-01,Nope\n").unwrap_err();
        assert_eq!(
            err,
            CalendarError::BadLine {
                line: 3,
                reason: "\"2007-13-01\" is not a date (YYYY-MM-DD)".into()
            }
        );
    }

    #[test]
    fn the_shipped_file_covers_2006_to_2027_without_a_gap() {
        let c = Calendar::england_and_wales();
        let years: Vec<i32> = c.years().collect();
        assert_eq!(years, (2006..=2027).collect::<Vec<_>>());
        // Counting across the years the old file skipped: the one-off days of 2011 and 2012.
        assert!(
            !c.is_working_day(d(2011, 4, 29)).unwrap(),
            "a royal wedding"
        );
        assert!(
            !c.is_working_day(d(2012, 6, 5)).unwrap(),
            "a diamond jubilee"
        );
        assert!(
            c.is_working_day(d(2012, 5, 28)).unwrap(),
            "late May moved that year"
        );
        assert_eq!(
            c.add_working_days(d(2015, 12, 24), 1).unwrap(),
            d(2015, 12, 29)
        );
    }
}
