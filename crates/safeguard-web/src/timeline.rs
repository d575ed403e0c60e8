//! A child's record drawn as a timeline: one lane per agency, every entry a mark, injuries and
//! the times the child was not seen marked apart, and the concerns raised on a lane of their
//! own. Pure: marks and a date range in, SVG out (with a title and a description for screen
//! readers; the chronology table below it is the full text).

use chrono::{Datelike, NaiveDate};
use maud::{Markup, html};

/// What a mark on the timeline shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MarkKind {
    /// Any entry.
    Entry,
    /// An injury observed.
    Injury,
    /// A visit, appointment or attempt at which the child was not seen.
    NotSeen,
    /// A concern raised by the rules, on the day it could first be known.
    Concern,
}

/// One mark: when, on which lane, what, and a label for its tooltip.
#[derive(Debug, Clone)]
pub(crate) struct Mark {
    pub date: NaiveDate,
    pub lane: String,
    pub kind: MarkKind,
    pub label: String,
}

/// The lane of the concerns, drawn first.
pub(crate) const CONCERNS_LANE: &str = "Concerns raised";

const WIDTH: f64 = 960.0;
const LABEL_WIDTH: f64 = 190.0;
const LANE_HEIGHT: f64 = 30.0;
const AXIS_HEIGHT: f64 = 34.0;
const MARGIN: f64 = 12.0;

/// How many marks of each kind fall in the range: the timeline's description in words.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Counts {
    pub entries: usize,
    pub injuries: usize,
    pub not_seen: usize,
    pub concerns: usize,
    pub lanes: usize,
}

/// Marks within `from..=to`, and their lanes in order: the concerns first, then the agencies in
/// the order they first recorded.
fn lanes_of(marks: &[Mark], from: NaiveDate, to: NaiveDate) -> (Vec<&Mark>, Vec<&str>) {
    let mut shown: Vec<&Mark> = marks
        .iter()
        .filter(|m| m.date >= from && m.date <= to)
        .collect();
    shown.sort_by_key(|m| m.date);
    let mut lanes: Vec<&str> = Vec::new();
    if shown.iter().any(|m| m.kind == MarkKind::Concern) {
        lanes.push(CONCERNS_LANE);
    }
    for m in &shown {
        if m.kind != MarkKind::Concern && !lanes.contains(&m.lane.as_str()) {
            lanes.push(&m.lane);
        }
    }
    (shown, lanes)
}

pub(crate) fn counts(marks: &[Mark], from: NaiveDate, to: NaiveDate) -> Counts {
    let (shown, lanes) = lanes_of(marks, from, to);
    let of = |k: MarkKind| shown.iter().filter(|m| m.kind == k).count();
    Counts {
        entries: shown.len() - of(MarkKind::Concern),
        injuries: of(MarkKind::Injury),
        not_seen: of(MarkKind::NotSeen),
        concerns: of(MarkKind::Concern),
        lanes: lanes.iter().filter(|l| **l != CONCERNS_LANE).count(),
    }
}

/// Ticks on the time axis: weeks for a short range, months for up to two years, years beyond.
fn ticks(from: NaiveDate, to: NaiveDate) -> Vec<(NaiveDate, String)> {
    let days = (to - from).num_days();
    let mut ticks = Vec::new();
    if days <= 62 {
        let mut d = from;
        while d <= to {
            ticks.push((d, d.format("%-d %b").to_string()));
            d += chrono::Duration::days(7);
        }
    } else if days <= 731 {
        let step = if days <= 366 { 1 } else { 3 };
        let mut d = NaiveDate::from_ymd_opt(from.year(), from.month(), 1).unwrap_or(from);
        while d <= to {
            if d >= from {
                ticks.push((d, d.format("%b %Y").to_string()));
            }
            d = d
                .checked_add_months(chrono::Months::new(step))
                .unwrap_or(to + chrono::Duration::days(1));
        }
    } else {
        let step = ((days / 365) / 8).max(1) as i32;
        let mut year = from.year() + 1;
        while let Some(d) = NaiveDate::from_ymd_opt(year, 1, 1).filter(|d| *d <= to) {
            ticks.push((d, year.to_string()));
            year += step;
        }
    }
    ticks
}

/// The timeline of `marks` from `from` to `to` as SVG. `title` names it for screen readers.
pub(crate) fn draw(marks: &[Mark], from: NaiveDate, to: NaiveDate, title: &str) -> Markup {
    let (shown, lanes) = lanes_of(marks, from, to);
    let c = counts(marks, from, to);
    let height = AXIS_HEIGHT + LANE_HEIGHT * lanes.len().max(1) as f64 + MARGIN;
    let span = (to - from).num_days().max(1) as f64;
    let x = |d: NaiveDate| {
        LABEL_WIDTH + (WIDTH - LABEL_WIDTH - MARGIN) * ((d - from).num_days() as f64 / span)
    };
    let y = |lane: &str| {
        let i = lanes.iter().position(|l| *l == lane).unwrap_or(0) as f64;
        AXIS_HEIGHT + LANE_HEIGHT * i + LANE_HEIGHT / 2.0
    };
    let description = format!(
        "{} {} from {} {} between {} and {}: {} {}, {} {} the child was not seen, {} {} raised. Every entry is listed in the chronology below.",
        c.entries,
        if c.entries == 1 { "entry" } else { "entries" },
        c.lanes,
        if c.lanes == 1 { "agency" } else { "agencies" },
        from.format("%-d %B %Y"),
        to.format("%-d %B %Y"),
        c.injuries,
        if c.injuries == 1 {
            "injury"
        } else {
            "injuries"
        },
        c.not_seen,
        if c.not_seen == 1 { "time" } else { "times" },
        c.concerns,
        if c.concerns == 1 {
            "concern"
        } else {
            "concerns"
        },
    );
    html! {
        svg class="app-timeline" xmlns="http://www.w3.org/2000/svg" role="img"
            viewBox={ "0 0 " (WIDTH) " " (height) } aria-labelledby="timeline-title timeline-description" {
            title id="timeline-title" { (title) }
            desc id="timeline-description" { (description) }
            @for (i, lane) in lanes.iter().enumerate() {
                @let top = AXIS_HEIGHT + LANE_HEIGHT * i as f64;
                rect class={ "app-timeline__lane" @if i % 2 == 1 { " app-timeline__lane--alternate" } }
                    x="0" y=(top) width=(WIDTH) height=(LANE_HEIGHT) {}
                text class="app-timeline__lane-label" x="6" y=(top + LANE_HEIGHT / 2.0 + 5.0) { title { (lane) } (truncate(lane, 24)) }
            }
            @for (day, label) in ticks(from, to) {
                line class="app-timeline__tick" x1=(x(day)) x2=(x(day)) y1=(AXIS_HEIGHT - 6.0) y2=(height - MARGIN) {}
                text class="app-timeline__tick-label" x=(x(day)) y=(AXIS_HEIGHT - 12.0) text-anchor="middle" { (label) }
            }
            @for m in &shown {
                @let (cx, cy) = (x(m.date), y(if m.kind == MarkKind::Concern { CONCERNS_LANE } else { &m.lane }));
                g class={ "app-timeline__mark app-timeline__mark--" (kind_class(m.kind)) } {
                    title { (m.label) }
                    @match m.kind {
                        MarkKind::Entry => circle cx=(cx) cy=(cy) r="5" {},
                        MarkKind::NotSeen => circle cx=(cx) cy=(cy) r="6" {},
                        MarkKind::Injury => path d={ "M" (cx) " " (cy - 8.0) " L" (cx + 8.0) " " (cy) " L" (cx) " " (cy + 8.0) " L" (cx - 8.0) " " (cy) " Z" } {},
                        MarkKind::Concern => path d={ "M" (cx) " " (cy - 8.0) " L" (cx + 8.0) " " (cy + 7.0) " L" (cx - 8.0) " " (cy + 7.0) " Z" } {},
                    }
                }
            }
        }
    }
}

fn kind_class(kind: MarkKind) -> &'static str {
    match kind {
        MarkKind::Entry => "entry",
        MarkKind::Injury => "injury",
        MarkKind::NotSeen => "not-seen",
        MarkKind::Concern => "concern",
    }
}

/// `text` cut to `chars` characters, with an ellipsis when cut.
pub(crate) fn truncate(text: &str, chars: usize) -> String {
    if text.chars().count() <= chars {
        text.to_owned()
    } else {
        let mut short: String = text.chars().take(chars - 1).collect();
        short.push('…');
        short
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn mark(date: &str, lane: &str, kind: MarkKind) -> Mark {
        Mark {
            date: day(date),
            lane: lane.into(),
            kind,
            label: format!("{date} <{lane}>"),
        }
    }

    fn marks() -> Vec<Mark> {
        vec![
            mark("2007-01-05", "Police", MarkKind::Entry),
            mark("2006-12-11", "Hospital", MarkKind::Injury),
            mark("2007-02-01", "Social care", MarkKind::NotSeen),
            mark("2007-02-02", "", MarkKind::Concern),
            mark("2008-06-01", "School", MarkKind::Entry),
        ]
    }

    #[test]
    fn lanes_are_the_concerns_then_agencies_in_the_order_they_first_recorded() {
        let marks = marks();
        let (shown, lanes) = lanes_of(&marks, day("2006-01-01"), day("2007-12-31"));
        assert_eq!(shown.len(), 4, "the 2008 entry is outside the range");
        assert_eq!(
            lanes,
            vec![CONCERNS_LANE, "Hospital", "Police", "Social care"]
        );
    }

    #[test]
    fn the_description_counts_what_the_range_shows() {
        let all = counts(&marks(), day("2006-01-01"), day("2008-12-31"));
        assert_eq!(
            all,
            Counts {
                entries: 4,
                injuries: 1,
                not_seen: 1,
                concerns: 1,
                lanes: 4
            }
        );
        let svg = draw(&marks(), day("2007-01-01"), day("2007-01-31"), "Timeline").into_string();
        assert!(svg.contains("1 entry from 1 agency between 1 January 2007 and 31 January 2007: 0 injuries, 0 times the child was not seen, 0 concerns raised"), "{svg}");
    }

    #[test]
    fn marks_are_drawn_by_kind_and_their_labels_escaped() {
        let svg = draw(&marks(), day("2006-12-01"), day("2007-03-01"), "Timeline").into_string();
        assert!(svg.starts_with("<svg"));
        assert!(svg.contains(r#"role="img""#));
        assert_eq!(svg.matches("app-timeline__mark--injury").count(), 1);
        assert_eq!(svg.matches("app-timeline__mark--not-seen").count(), 1);
        assert_eq!(svg.matches("app-timeline__mark--concern").count(), 1);
        assert!(svg.contains("&lt;Hospital&gt;"), "labels are escaped");
        assert!(!svg.contains("<Hospital>"));
    }

    #[test]
    fn ticks_are_weeks_months_or_years_by_the_range() {
        assert_eq!(ticks(day("2007-01-01"), day("2007-01-29")).len(), 5);
        let months = ticks(day("2007-01-15"), day("2007-12-31"));
        assert_eq!(months.first().unwrap().1, "Feb 2007");
        assert_eq!(months.len(), 11);
        let years = ticks(day("2006-06-01"), day("2010-06-01"));
        assert_eq!(
            years.iter().map(|t| t.1.as_str()).collect::<Vec<_>>(),
            ["2007", "2008", "2009", "2010"]
        );
    }

    #[test]
    fn marks_fall_left_to_right_in_time() {
        let svg = draw(
            &[
                mark("2007-01-01", "A", MarkKind::Entry),
                mark("2007-12-31", "A", MarkKind::Entry),
            ],
            day("2007-01-01"),
            day("2007-12-31"),
            "Timeline",
        )
        .into_string();
        let xs: Vec<f64> = svg
            .match_indices("cx=\"")
            .map(|(i, _)| {
                let rest = &svg[i + 4..];
                rest[..rest.find('"').unwrap()].parse().unwrap()
            })
            .collect();
        assert_eq!(xs, vec![LABEL_WIDTH, WIDTH - MARGIN]);
    }
}
