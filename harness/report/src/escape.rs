//! Escaping for XML and HTML, shared so that `junit.xml` and `report.html` cannot disagree.
//!
//! Besides the markup characters, characters XML 1.0 forbids (C0 controls other than tab, line
//! feed and carriage return; U+FFFE, U+FFFF) and the C1 controls it discourages (and HTML rejects)
//! become U+FFFD: a check detail quoting a corrupt record must not make the whole file unreadable.

/// Text content: `&`, `<`, `>` and quotes become references; line breaks and tabs stay.
pub fn text(s: &str) -> String {
    escape(s, false)
}

/// An attribute value (always written in double quotes). Tabs and line breaks become character
/// references too, since a parser would otherwise normalise them to spaces.
pub fn attr(s: &str) -> String {
    escape(s, true)
}

/// `s` with every character a document cannot carry replaced by U+FFFD: what a conforming parser
/// reads back from [`text`] or [`attr`].
pub fn sanitize(s: &str) -> String {
    s.chars()
        .map(|c| if allowed(c) { c } else { '\u{FFFD}' })
        .collect()
}

fn allowed(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{7E}' | '\u{A0}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}')
        || c >= '\u{10000}'
}

fn escape(s: &str, in_attr: bool) -> String {
    let mut out = String::with_capacity(s.len() + s.len() / 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // A literal CR would be folded into the following LF by any XML parser.
            '\r' => out.push_str("&#13;"),
            '\n' if in_attr => out.push_str("&#10;"),
            '\t' if in_attr => out.push_str("&#9;"),
            c if !allowed(c) => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_characters_become_references() {
        assert_eq!(
            text("<script>a && 'b'</script>"),
            "&lt;script&gt;a &amp;&amp; &#39;b&#39;&lt;/script&gt;"
        );
        assert_eq!(
            attr("say \"hi\"\n\tthere"),
            "say &quot;hi&quot;&#10;&#9;there"
        );
    }

    #[test]
    fn forbidden_controls_are_replaced_and_line_breaks_kept_in_text() {
        assert_eq!(
            text("a\u{0}b\u{1b}[31mc\u{85}\nd\u{FFFF}"),
            "a\u{FFFD}b\u{FFFD}[31mc\u{FFFD}\nd\u{FFFD}"
        );
        assert_eq!(sanitize("ok\u{7}\u{10FFFF}"), "ok\u{FFFD}\u{10FFFF}");
    }
}
