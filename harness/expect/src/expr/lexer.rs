//! Splits expression text into tokens that remember their character position.

use crate::error::ParseError;

/// One lexical unit.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tok {
    Int(i64),
    Dec(f64),
    Str(String),
    /// Names, including the keywords `and or not true false null`.
    Ident(String),
    LParen,
    RParen,
    LBracket,
    RBracket,
    Dot,
    Comma,
    Plus,
    Minus,
    Star,
    Slash,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    End,
}

/// A token and the character position where it starts.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Token {
    pub(crate) tok: Tok,
    pub(crate) pos: usize,
}

/// Tokenises `text`; the result always ends with [`Tok::End`].
pub(crate) fn tokenize(text: &str) -> Result<Vec<Token>, ParseError> {
    let chars: Vec<char> = text.chars().collect();
    let error = |pos: usize, expected: &str| ParseError {
        expr: text.to_string(),
        pos,
        expected: expected.to_string(),
    };
    let mut tokens = Vec::new();
    let mut i = 0;
    while let Some(&c) = chars.get(i) {
        let start = i;
        let tok = if c.is_whitespace() {
            i += 1;
            continue;
        } else if c.is_ascii_digit() {
            i = scan_while(&chars, i, |c| c.is_ascii_digit());
            let decimal =
                chars.get(i) == Some(&'.') && chars.get(i + 1).is_some_and(char::is_ascii_digit);
            if decimal {
                i = scan_while(&chars, i + 1, |c| c.is_ascii_digit());
            }
            let digits: String = chars[start..i].iter().collect();
            match digits.parse::<i64>() {
                Ok(int) if !decimal => Tok::Int(int),
                _ => Tok::Dec(digits.parse().map_err(|_| error(start, "a number"))?),
            }
        } else if c.is_alphabetic() || c == '_' {
            i = scan_while(&chars, i, |c| c.is_alphanumeric() || c == '_');
            Tok::Ident(chars[start..i].iter().collect())
        } else if c == '\'' {
            let (text, end) = scan_string(&chars, i + 1)
                .ok_or_else(|| error(chars.len(), "a closing quote (')"))?;
            i = end;
            Tok::Str(text)
        } else {
            let (tok, len) = match (c, chars.get(i + 1)) {
                ('=', Some('=')) => (Tok::Eq, 2),
                ('!', Some('=')) => (Tok::Ne, 2),
                ('<', Some('=')) => (Tok::Le, 2),
                ('>', Some('=')) => (Tok::Ge, 2),
                ('<', _) => (Tok::Lt, 1),
                ('>', _) => (Tok::Gt, 1),
                ('(', _) => (Tok::LParen, 1),
                (')', _) => (Tok::RParen, 1),
                ('[', _) => (Tok::LBracket, 1),
                (']', _) => (Tok::RBracket, 1),
                ('.', _) => (Tok::Dot, 1),
                (',', _) => (Tok::Comma, 1),
                ('+', _) => (Tok::Plus, 1),
                ('-', _) => (Tok::Minus, 1),
                ('*', _) => (Tok::Star, 1),
                ('/', _) => (Tok::Slash, 1),
                ('=', _) => return Err(error(i, "'==' to compare")),
                ('!', _) => return Err(error(i, "'!=' (or use not)")),
                ('"', _) => return Err(error(i, "a value (strings use single quotes)")),
                _ => return Err(error(i, "a value or an operator")),
            };
            i += len;
            tok
        };
        tokens.push(Token { tok, pos: start });
    }
    tokens.push(Token {
        tok: Tok::End,
        pos: chars.len(),
    });
    Ok(tokens)
}

fn scan_while(chars: &[char], mut i: usize, keep: impl Fn(char) -> bool) -> usize {
    while chars.get(i).is_some_and(|&c| keep(c)) {
        i += 1;
    }
    i
}

/// Reads a single-quoted string body starting after the quote; `''` is a
/// quote. Returns the text and the position after the closing quote.
fn scan_string(chars: &[char], mut i: usize) -> Option<(String, usize)> {
    let mut text = String::new();
    loop {
        match chars.get(i)? {
            '\'' if chars.get(i + 1) == Some(&'\'') => {
                text.push('\'');
                i += 2;
            }
            '\'' => return Some((text, i + 1)),
            &c => {
                text.push(c);
                i += 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(text: &str) -> Vec<Tok> {
        tokenize(text)
            .expect("tokenizes")
            .into_iter()
            .map(|t| t.tok)
            .collect()
    }

    #[test]
    fn tokens_cover_literals_paths_and_operators() {
        assert_eq!(
            toks("a.b[0] >= 1.5 and x != 'it''s'"),
            vec![
                Tok::Ident("a".into()),
                Tok::Dot,
                Tok::Ident("b".into()),
                Tok::LBracket,
                Tok::Int(0),
                Tok::RBracket,
                Tok::Ge,
                Tok::Dec(1.5),
                Tok::Ident("and".into()),
                Tok::Ident("x".into()),
                Tok::Ne,
                Tok::Str("it's".into()),
                Tok::End,
            ]
        );
    }

    #[test]
    fn positions_count_characters() {
        let tokens = tokenize("'é' + b").expect("tokenizes");
        assert_eq!(
            tokens.iter().map(|t| t.pos).collect::<Vec<_>>(),
            vec![0, 4, 6, 7]
        );
    }

    #[test]
    fn bad_characters_are_located() {
        let err = tokenize("status = 'x'").expect_err("single =");
        assert_eq!((err.pos, err.expected.as_str()), (7, "'==' to compare"));
        let err = tokenize("'open").expect_err("unterminated");
        assert_eq!((err.pos, err.expected.as_str()), (5, "a closing quote (')"));
    }
}
