use std::io::Cursor;

use calamine::{Data, Reader, Xlsx, open_workbook_from_rs};
use safeguard_core::calendar::Calendar;

use super::*;
use crate::fixture::{Fixture, day};

fn annex() -> AnnexA {
    let f = Fixture::new();
    build(
        day("2023-10-01"),
        day("2024-03-31"),
        &f.histories(),
        &Calendar::england_and_wales(),
    )
}

fn text(s: &str) -> Cell {
    Cell::Text(s.to_owned())
}

fn date(s: &str) -> Cell {
    Cell::Date(day(s))
}

/// The columns after the child's five.
fn after_child(row: &[Cell]) -> &[Cell] {
    &row[5..]
}

#[test]
fn each_list_holds_what_happened_in_the_period_with_the_published_codes() {
    let a = annex();
    let rows = |n: usize| &a.lists[n - 1].rows;

    // The child's columns: identifier, coded sex and ethnicity, birth, age at the period's end.
    let ben = &rows(3)[0];
    assert_eq!(
        ben[..5],
        [
            text("LA-0002"),
            text("a) Male"),
            text("s) NOBT"),
            date("2010-01-02"),
            Cell::Number(14),
        ]
    );
    // List 1: the contact in the period (the others are before it), with its source.
    assert_eq!(rows(1).len(), 1);
    assert_eq!(
        rows(1)[0][..3],
        [
            text("LA-0003"),
            text("c) Not stated/recorded"),
            text("s) NOBT")
        ]
    );
    assert_eq!(
        after_child(&rows(1)[0]),
        [date("2023-11-15"), text("t) 9: Anonymous")]
    );
    // List 2: the contact decided for early help; what Safeguard does not hold is blank.
    assert_eq!(
        after_child(&rows(2)[0]),
        [date("2023-11-16"), Cell::Blank, Cell::Blank]
    );
    // List 3: Ben's two referrals in the period, the second with the first in the year before.
    assert_eq!(rows(3).len(), 2);
    assert_eq!(
        after_child(&rows(3)[0])[..4],
        [
            date("2023-10-02"),
            text("a) 1A: Individual"),
            text("Yes"),
            Cell::Number(0)
        ]
    );
    assert_eq!(
        after_child(&rows(3)[1])[..4],
        [
            date("2024-01-08"),
            text("e) 2A: Schools"),
            text("No"),
            Cell::Number(1)
        ]
    );
    // List 4: the assessment open in the period (Ava's was authorised before it).
    assert_eq!(rows(4).len(), 1);
    assert_eq!(
        after_child(&rows(4)[0])[..5],
        [
            text("a) Yes"),
            date("2024-01-09"),
            Cell::Blank,
            Cell::Blank,
            Cell::Blank
        ]
    );
    // List 5: the enquiry that needed no conference.
    assert_eq!(
        after_child(&rows(5)[0])[..7],
        [
            text("a) Yes"),
            date("2024-03-20"),
            text("Yes"),
            Cell::Blank,
            Cell::Blank,
            Cell::Number(0),
            Cell::Number(0)
        ]
    );
    // List 6: every episode open in the period, with where it stood at its end.
    let cin: Vec<(&Cell, &Cell, &Cell)> = rows(6).iter().map(|r| (&r[0], &r[6], &r[11])).collect();
    assert_eq!(
        cin,
        [
            (
                &text("LA-0001"),
                &date("2023-05-03"),
                &text("b) Child Protection plan")
            ),
            (
                &text("LA-0002"),
                &date("2023-10-02"),
                &text("e) Closed episode")
            ),
            (
                &text("LA-0002"),
                &date("2024-01-08"),
                &text("b) Child Protection plan")
            ),
        ]
    );
    assert_eq!(
        after_child(&rows(6)[0])[..6],
        [
            text("c) Unknown"),
            date("2023-05-03"),
            text("N1 - Abuse or neglect"),
            date("2023-06-01"),
            Cell::Blank,
            Cell::Blank
        ]
    );
    assert_eq!(
        after_child(&rows(6)[1])[4..6],
        [
            date("2023-10-03"),
            text("RC8 - Case closed after assessment, no further action")
        ]
    );
    // List 7: Ava's plan, open through the period (it ended after it), and Ben's.
    assert_eq!(
        after_child(&rows(7)[0])[..10],
        [
            text("c) Unknown"),
            date("2023-05-25"),
            text("b) Physical abuse"),
            text("e) Multiple/not recommended"),
            date("2023-06-01"),
            text("a) Yes"),
            date("2024-02-20"),
            Cell::Blank,
            text("b) No"),
            Cell::Number(0)
        ]
    );
    assert_eq!(after_child(&rows(7)[1])[9], Cell::Number(1));
    // List 8: Ben, placed, missing once.
    let placed = &rows(8)[0];
    assert_eq!(placed[0], text("LA-0002"));
    assert_eq!(placed[7], date("2024-03-29"));
    assert_eq!(placed[21], date("2024-03-29"));
    assert_eq!(placed[28], Cell::Number(1));
    for list in &a.lists {
        for row in &list.rows {
            assert_eq!(row.len(), list.columns.len(), "{}", list.name);
        }
    }
}

/// A sheet's cells as calamine reads them.
fn sheet(bytes: &[u8], name: &str) -> Vec<Vec<Data>> {
    let mut book: Xlsx<_> = open_workbook_from_rs(Cursor::new(bytes.to_vec())).unwrap();
    let range = book.worksheet_range(name).unwrap();
    range.rows().map(<[Data]>::to_vec).collect()
}

#[test]
fn the_workbook_reads_back_with_the_published_columns_of_the_sample_and_every_cell() {
    let a = annex();
    let bytes = write(&a).unwrap();
    let sample = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../data/schemas/annex-a/Annex_A.xlsx"
    ))
    .unwrap();
    let names: Vec<String> = {
        let book: Xlsx<_> = open_workbook_from_rs(Cursor::new(bytes.clone())).unwrap();
        book.sheet_names()
    };
    assert_eq!(
        names,
        [
            "List 1", "List 2", "List 3", "List 4", "List 5", "List 6", "List 7", "List 8"
        ]
    );
    for list in &a.lists {
        let ours = sheet(&bytes, list.name);
        let published = sheet(&sample, list.name);
        let header = |rows: &[Vec<Data>]| -> Vec<String> {
            rows[0].iter().map(ToString::to_string).collect()
        };
        assert_eq!(
            header(&ours),
            header(&published),
            "{}: the columns of liiatools' sample",
            list.name
        );
        assert_eq!(ours.len(), list.rows.len() + 1, "{}", list.name);
        for (row, cells) in list.rows.iter().zip(&ours[1..]) {
            for (cell, read) in row.iter().zip(cells) {
                match (cell, read) {
                    (Cell::Text(t), Data::String(s)) => assert_eq!(t, s),
                    (Cell::Number(n), Data::Float(f)) => assert_eq!(*n as f64, *f),
                    (Cell::Date(d), Data::DateTime(x)) => {
                        assert_eq!(x.as_datetime().unwrap().date(), *d)
                    }
                    (Cell::Blank, Data::Empty) => {}
                    other => panic!("{}: {other:?}", list.name),
                }
            }
        }
    }
}

#[test]
fn the_lists_are_their_golden_file() {
    let a = annex();
    let mut text = String::new();
    for list in &a.lists {
        text += &format!("== {}\n{}\n", list.name, list.columns.join("\t"));
        for row in &list.rows {
            let cells: Vec<String> = row
                .iter()
                .map(|c| match c {
                    Cell::Text(t) => t.clone(),
                    Cell::Date(d) => d.to_string(),
                    Cell::Number(n) => n.to_string(),
                    Cell::Blank => String::new(),
                })
                .collect();
            text += &cells.join("\t");
            text.push('\n');
        }
    }
    crate::fixture::assert_golden("annex-a-2023-10-01-to-2024-03-31.tsv", &text);
}
