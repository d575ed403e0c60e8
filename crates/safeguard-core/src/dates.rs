//! Dates as records hold them: a date of birth may be known only to the month or year, and an
//! event may be recorded to the day, the minute or the second. Precision is kept, never invented.

use std::fmt;

use chrono::{Datelike, NaiveDate, NaiveDateTime, NaiveTime};
use serde::{Deserialize, Serialize};

/// Why a string is not a date of the expected shape.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a date: {text:?} (expected {expected})")]
pub struct DateError {
    text: String,
    expected: &'static str,
}

const PARTIAL_DATE_SHAPES: &str = "YYYY, YYYY-MM or YYYY-MM-DD";
const OCCURRED_AT_SHAPES: &str =
    "a local date or date-time: YYYY-MM, YYYY-MM-DD, YYYY-MM-DDTHH:MM or YYYY-MM-DDTHH:MM:SS";

/// A calendar date known to the year, the month or the day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum PartialDate {
    /// Only the year is known.
    Year(i32),
    /// The year and month (1–12) are known.
    Month(i32, u32),
    /// The exact day is known.
    Day(NaiveDate),
}

impl PartialDate {
    /// Parses `YYYY`, `YYYY-MM` or `YYYY-MM-DD`.
    pub fn parse(text: &str) -> Result<Self, DateError> {
        let t = text.trim();
        let parsed = match t.len() {
            4 => digits(t.as_bytes()).map(|y| PartialDate::Year(y as i32)),
            7 => year_month(t).map(|(y, m)| PartialDate::Month(y, m)),
            10 => year_month_day(t).map(PartialDate::Day),
            _ => None,
        };
        parsed.ok_or_else(|| DateError {
            text: text.to_owned(),
            expected: PARTIAL_DATE_SHAPES,
        })
    }

    /// The first day this date could be.
    pub fn earliest(&self) -> NaiveDate {
        match *self {
            PartialDate::Year(y) => NaiveDate::from_ymd_opt(y, 1, 1).expect("valid year"),
            PartialDate::Month(y, m) => NaiveDate::from_ymd_opt(y, m, 1).expect("valid month"),
            PartialDate::Day(d) => d,
        }
    }

    /// The last day this date could be.
    pub fn latest(&self) -> NaiveDate {
        match *self {
            PartialDate::Year(y) => NaiveDate::from_ymd_opt(y, 12, 31).expect("valid year"),
            PartialDate::Month(y, m) => {
                let next = if m == 12 {
                    NaiveDate::from_ymd_opt(y + 1, 1, 1)
                } else {
                    NaiveDate::from_ymd_opt(y, m + 1, 1)
                };
                next.and_then(|d| d.pred_opt()).expect("valid month")
            }
            PartialDate::Day(d) => d,
        }
    }

    /// Whether `date` is a day this partial date could be.
    pub fn could_be(&self, date: NaiveDate) -> bool {
        self.earliest() <= date && date <= self.latest()
    }

    /// The year, always known.
    pub fn year(&self) -> i32 {
        self.earliest().year()
    }
}

// Hand-written fixed-width parsers: entries are decoded on every read, and chrono's
// format-string parser was a tenth of the decoding time.

/// The value of a run of ASCII digits.
fn digits(bytes: &[u8]) -> Option<u32> {
    bytes.iter().try_fold(0u32, |n, b| {
        b.is_ascii_digit().then(|| n * 10 + u32::from(b - b'0'))
    })
}

/// `YYYY-MM`, with a real month.
fn year_month(t: &str) -> Option<(i32, u32)> {
    let b = t.as_bytes();
    if b.len() != 7 || b[4] != b'-' {
        return None;
    }
    let (y, m) = (digits(&b[..4])? as i32, digits(&b[5..7])?);
    (1..=12).contains(&m).then_some((y, m))
}

/// `YYYY-MM-DD`, a day that exists.
fn year_month_day(t: &str) -> Option<NaiveDate> {
    let b = t.as_bytes();
    if b.len() != 10 || b[7] != b'-' {
        return None;
    }
    let (y, m) = year_month(&t[..7])?;
    NaiveDate::from_ymd_opt(y, m, digits(&b[8..])?)
}

/// `HH:MM` or `HH:MM:SS`, a time that exists.
fn time_of_day(t: &str) -> Option<NaiveTime> {
    let b = t.as_bytes();
    let seconds = match b.len() {
        5 => 0,
        8 if b[5] == b':' => digits(&b[6..])?,
        _ => return None,
    };
    if b[2] != b':' {
        return None;
    }
    NaiveTime::from_hms_opt(digits(&b[..2])?, digits(&b[3..5])?, seconds)
}

impl fmt::Display for PartialDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PartialDate::Year(y) => write!(f, "{y:04}"),
            PartialDate::Month(y, m) => write!(f, "{y:04}-{m:02}"),
            PartialDate::Day(d) => write!(f, "{}", d.format("%Y-%m-%d")),
        }
    }
}

/// How precisely the time of an event is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Precision {
    /// Known to the month.
    Month,
    /// Known to the day.
    Day,
    /// Known to the minute.
    Minute,
    /// Known to the second.
    Second,
}

impl Precision {
    /// The name stored and sent for this precision.
    pub fn as_str(self) -> &'static str {
        match self {
            Precision::Month => "month",
            Precision::Day => "day",
            Precision::Minute => "minute",
            Precision::Second => "second",
        }
    }
}

/// When an event happened, in UK local time, to the precision the agency knew it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct OccurredAt {
    start: NaiveDateTime,
    precision: Precision,
}

impl OccurredAt {
    /// Parses `YYYY-MM`, `YYYY-MM-DD`, `YYYY-MM-DDTHH:MM` or `YYYY-MM-DDTHH:MM:SS` (a space may
    /// stand for the `T`). Offsets are refused: agency records are kept in UK local time.
    pub fn parse(text: &str) -> Result<Self, DateError> {
        let t = text.trim();
        let day = |d: &str| year_month_day(d).map(|d| d.and_time(NaiveTime::MIN));
        let parsed = match t.len() {
            7 => year_month(t)
                .and_then(|(y, m)| NaiveDate::from_ymd_opt(y, m, 1))
                .map(|d| (d.and_time(NaiveTime::MIN), Precision::Month)),
            10 => day(t).map(|start| (start, Precision::Day)),
            16 | 19 if matches!(t.as_bytes()[10], b'T' | b' ') => {
                let date = year_month_day(&t[..10]);
                let time = time_of_day(&t[11..]);
                let precision = if t.len() == 16 {
                    Precision::Minute
                } else {
                    Precision::Second
                };
                date.zip(time).map(|(d, tm)| (d.and_time(tm), precision))
            }
            _ => None,
        };
        let (start, precision) = parsed.ok_or_else(|| DateError {
            text: text.to_owned(),
            expected: OCCURRED_AT_SHAPES,
        })?;
        Ok(Self { start, precision })
    }

    /// An event known to the day.
    pub fn on(date: NaiveDate) -> Self {
        Self {
            start: date.and_time(NaiveTime::MIN),
            precision: Precision::Day,
        }
    }

    /// An event known to the minute.
    pub fn at(date_time: NaiveDateTime) -> Self {
        Self {
            start: date_time,
            precision: Precision::Minute,
        }
    }

    /// The first moment the event could have happened; chronologies sort by it.
    pub fn start(&self) -> NaiveDateTime {
        self.start
    }

    /// The (first) day of the event.
    pub fn date(&self) -> NaiveDate {
        self.start.date()
    }

    /// How precisely the time is known.
    pub fn precision(&self) -> Precision {
        self.precision
    }

    /// Seconds from 1970-01-01T00:00 local time: a portable, sortable storage key.
    pub fn sort_key(&self) -> i64 {
        self.start.and_utc().timestamp()
    }

    /// Rebuilds a value from its storage key and precision.
    pub fn from_sort_key(seconds: i64, precision: Precision) -> Option<Self> {
        let start = chrono::DateTime::from_timestamp(seconds, 0)?.naive_utc();
        Some(Self { start, precision })
    }
}

impl fmt::Display for OccurredAt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let format = match self.precision {
            Precision::Month => "%Y-%m",
            Precision::Day => "%Y-%m-%d",
            Precision::Minute => "%Y-%m-%dT%H:%M",
            Precision::Second => "%Y-%m-%dT%H:%M:%S",
        };
        write!(f, "{}", self.start.format(format))
    }
}

text_value!(PartialDate, DateError, |value| value.to_string());
text_value!(OccurredAt, DateError, |value| value.to_string());

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn a_partial_date_keeps_its_precision_through_a_round_trip() {
        for text in ["1982", "1982-03", "1982-03-14"] {
            assert_eq!(PartialDate::parse(text).unwrap().to_string(), text);
        }
    }

    #[test]
    fn a_month_covers_its_whole_month_including_a_leap_february() {
        let feb = PartialDate::parse("2008-02").unwrap();
        assert_eq!(feb.earliest(), day(2008, 2, 1));
        assert_eq!(feb.latest(), day(2008, 2, 29));
        assert!(feb.could_be(day(2008, 2, 29)));
        assert!(!feb.could_be(day(2008, 3, 1)));
        let dec = PartialDate::parse("2006-12").unwrap();
        assert_eq!(dec.latest(), day(2006, 12, 31));
    }

    #[test]
    fn a_year_covers_the_whole_year() {
        let y = PartialDate::parse("1980").unwrap();
        assert_eq!(
            (y.earliest(), y.latest()),
            (day(1980, 1, 1), day(1980, 12, 31))
        );
        assert_eq!(y.year(), 1980);
    }

    #[test]
    fn impossible_dates_are_rejected() {
        for text in [
            "2007-02-30",
            "2007-13",
            "2007-00",
            "07-01-01",
            "2007-1-1",
            "2007/01/01",
            "abcd",
            "-123",
            "",
        ] {
            assert!(PartialDate::parse(text).is_err(), "{text:?}");
        }
    }

    #[test]
    fn occurred_at_keeps_precision_and_sorts_by_its_first_moment() {
        let month = OccurredAt::parse("2006-12").unwrap();
        let dayp = OccurredAt::parse("2006-12-11").unwrap();
        let minute = OccurredAt::parse("2006-12-11 14:30").unwrap();
        let second = OccurredAt::parse("2006-12-11T14:30:05").unwrap();
        assert_eq!(month.precision(), Precision::Month);
        assert_eq!(minute.to_string(), "2006-12-11T14:30");
        assert_eq!(second.to_string(), "2006-12-11T14:30:05");
        assert!(month.sort_key() < dayp.sort_key());
        assert!(dayp.sort_key() < minute.sort_key());
        assert_eq!(second.sort_key() - minute.sort_key(), 5);
        let back = OccurredAt::from_sort_key(minute.sort_key(), Precision::Minute).unwrap();
        assert_eq!(back, minute);
    }

    #[test]
    fn impossible_times_are_refused() {
        for text in [
            "2006-12-11T24:00",
            "2006-12-11T14:60",
            "2006-12-11T14:30:61",
            "2006-12-11X14:30",
            "2006-12-11T14-30",
        ] {
            assert!(OccurredAt::parse(text).is_err(), "{text:?}");
        }
    }

    #[test]
    fn offsets_are_refused_rather_than_guessed() {
        assert!(OccurredAt::parse("2006-12-11T14:30:00Z").is_err());
        assert!(OccurredAt::parse("2006-12-11T14:30:00+01:00").is_err());
    }
}
