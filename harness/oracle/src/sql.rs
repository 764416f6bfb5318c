//! SQL text helpers shared by the end-state reader and the data checks.

/// Longest identifier Postgres keeps (longer ones are silently truncated).
pub const MAX_IDENTIFIER_LEN: usize = 63;

/// `name` as a quoted identifier: `"name"`, with embedded quotes doubled, so any string is safe.
pub fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// True for a plain identifier: 1 to 63 ASCII letters, digits and underscores.
pub fn is_plain_ident(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_IDENTIFIER_LEN
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_doubles_embedded_quotes() {
        assert_eq!(quote_ident(r#"a"b"#), r#""a""b""#);
    }

    #[test]
    fn plain_identifiers_are_letters_digits_and_underscores() {
        for ok in ["transactions", "run_42", "_x", "A1", &"a".repeat(63)] {
            assert!(is_plain_ident(ok), "{ok}");
        }
        for bad in [
            "",
            "a-b",
            "a.b",
            "a b",
            "é",
            "x;--",
            "\"q\"",
            &"a".repeat(64),
        ] {
            assert!(!is_plain_ident(bad), "{bad}");
        }
    }
}
