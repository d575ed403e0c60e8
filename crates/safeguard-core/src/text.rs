//! Text that people will read: names and free text refused when they hold characters that
//! hide or reorder what is shown (NUL and other controls, bidirectional overrides, zero-width
//! characters), and reasons that must be a real sentence. Pure.

use crate::FieldError;

/// The longest reason (for breaking glass, deciding an involvement) accepted.
pub const MAX_REASON_CHARS: usize = 1_000;
/// The fewest words a reason must have.
pub const MIN_REASON_WORDS: usize = 4;
/// The fewest characters a reason must have.
pub const MIN_REASON_CHARS: usize = 20;

/// Characters that change how the text around them is shown without showing themselves:
/// bidirectional embeddings, overrides and isolates, zero-width spaces and joiners, the word
/// joiner and the byte-order mark. Left-to-right and right-to-left marks are not among them:
/// they are how a right-to-left language is written.
fn is_hiding(c: char) -> bool {
    matches!(c,
        '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200B}'..='\u{200D}'
        | '\u{2060}'..='\u{2064}' | '\u{FEFF}' | '\u{00AD}' | '\u{061C}')
}

/// The text without control characters or characters that hide or reorder it: what to echo
/// back to a person (a search box's own query).
pub fn visible(text: &str) -> String {
    text.chars()
        .filter(|&c| !c.is_control() && !is_hiding(c))
        .collect()
}

/// Refuses a name (or any one-line value) holding a control character or a character that
/// hides or reorders text.
pub fn check_line(field: &str, text: &str) -> Result<(), FieldError> {
    match text.chars().find(|&c| c.is_control() || is_hiding(c)) {
        None => Ok(()),
        Some(c) => Err(FieldError::new(field, refusal(c))),
    }
}

/// Refuses free text holding a control character other than a line break or a tab, or a
/// character that hides or reorders text.
pub fn check_free_text(field: &str, text: &str) -> Result<(), FieldError> {
    match text
        .chars()
        .find(|&c| (c.is_control() && !matches!(c, '\n' | '\r' | '\t')) || is_hiding(c))
    {
        None => Ok(()),
        Some(c) => Err(FieldError::new(field, refusal(c))),
    }
}

fn refusal(c: char) -> String {
    if c == '\0' {
        "holds a NUL character".to_owned()
    } else if c.is_control() {
        format!("holds a control character (U+{:04X})", c as u32)
    } else {
        format!(
            "holds U+{:04X}, a character that hides or reorders the text shown",
            c as u32
        )
    }
}

/// A reason given for an action others will review: a sentence of at least four words and
/// twenty characters, at most a thousand, and not one word repeated. Returns it trimmed.
pub fn reason(field: &str, text: &str) -> Result<String, FieldError> {
    let text = text.trim();
    check_free_text(field, text)?;
    let chars = text.chars().count();
    if chars > MAX_REASON_CHARS {
        return Err(FieldError::new(
            field,
            format!("is {chars} characters long; give it in at most {MAX_REASON_CHARS}"),
        ));
    }
    let words: Vec<&str> = text
        .split_whitespace()
        .filter(|w| w.chars().any(char::is_alphanumeric))
        .collect();
    let distinct = {
        let mut lower: Vec<String> = words.iter().map(|w| w.to_lowercase()).collect();
        lower.sort();
        lower.dedup();
        lower.len()
    };
    if chars < MIN_REASON_CHARS || words.len() < MIN_REASON_WORDS || distinct < MIN_REASON_WORDS {
        return Err(FieldError::new(
            field,
            format!(
                "give the reason in a sentence: at least {MIN_REASON_WORDS} different words and {MIN_REASON_CHARS} characters"
            ),
        ));
    }
    Ok(text.to_owned())
}

/// Text made safe inside HTML, in an element or a quoted attribute: for the documents
/// Safeguard writes outside its pages (a review, a subject access export).
pub fn escape_html(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_with_a_nul_or_an_override_or_a_zero_width_space_is_refused() {
        for bad in [
            "Sa\0m",
            "Sa\u{202E}m",
            "Sa\u{200B}m",
            "Sam\u{7}",
            "Sa\u{2066}m",
        ] {
            assert!(check_line("name", bad).is_err(), "{bad:?}");
        }
        assert!(check_line("name", "Zoë O'Brien-Smith").is_ok());
        assert!(check_line("name", "line\nbreak").is_err());
    }

    #[test]
    fn what_is_echoed_shows_the_letters_in_the_order_typed() {
        assert_eq!(visible("Jo\u{202E}sh\u{200B}\0"), "Josh");
    }

    #[test]
    fn free_text_keeps_line_breaks_and_direction_marks() {
        assert!(check_free_text("summary", "Seen at home.\nMother present.\t(x)").is_ok());
        assert!(check_free_text("summary", "عربي\u{200F} text").is_ok());
        let err = check_free_text("summary", "a\0b").unwrap_err();
        assert_eq!(err.field, "summary");
        assert!(err.reason.contains("NUL"), "{}", err.reason);
    }

    #[test]
    fn a_reason_must_be_a_sentence_within_the_limit() {
        assert!(reason("reason", "aaaaaaaaaaaaaaaaaaaaaaaa").is_err());
        assert!(reason("reason", "urgent urgent urgent urgent urgent").is_err());
        assert!(reason("reason", "too short").is_err());
        assert!(reason("reason", &"word ".repeat(300)).is_err());
        assert_eq!(
            reason(
                "reason",
                "  Child brought to A&E out of hours, no GP record.  "
            )
            .unwrap(),
            "Child brought to A&E out of hours, no GP record."
        );
    }
}
