//! Recursive-descent parser. Precedence, loosest first:
//! `or`, `and`, `not`, comparisons (not chained), `+ -`, `* /`, unary `-`.

use serde_json::Value;

use super::lexer::{tokenize, Tok, Token};
use super::path::{FieldPath, Segment};
use super::{BinOp, Func, Node};
use crate::error::ParseError;

/// Parses a whole expression.
pub(crate) fn parse_node(text: &str) -> Result<Node, ParseError> {
    let mut parser = Parser::new(text)?;
    let node = parser.or()?;
    parser.finish("an operator or the end of the expression")?;
    Ok(node)
}

/// Parses text that must be a bare field path.
pub(crate) fn parse_path(text: &str) -> Result<FieldPath, ParseError> {
    let mut parser = Parser::new(text)?;
    let token = parser.bump();
    let path = match token.tok {
        Tok::Ident(name) if !is_keyword(&name) => parser.path(name)?,
        _ => return Err(parser.error(token.pos, "a field name")),
    };
    parser.finish("the end of the field path")?;
    Ok(path)
}

fn is_keyword(name: &str) -> bool {
    matches!(name, "and" | "or" | "not" | "true" | "false" | "null")
}

struct Parser<'t> {
    text: &'t str,
    tokens: Vec<Token>,
    next: usize,
}

impl<'t> Parser<'t> {
    fn new(text: &'t str) -> Result<Self, ParseError> {
        Ok(Parser {
            text,
            tokens: tokenize(text)?,
            next: 0,
        })
    }

    fn error(&self, pos: usize, expected: &str) -> ParseError {
        ParseError {
            expr: self.text.to_string(),
            pos,
            expected: expected.to_string(),
        }
    }

    fn peek(&self) -> &Token {
        // `tokenize` always ends with `End`, and `bump` never moves past it.
        &self.tokens[self.next]
    }

    fn bump(&mut self) -> Token {
        let token = self.peek().clone();
        if self.next + 1 < self.tokens.len() {
            self.next += 1;
        }
        token
    }

    fn at_keyword(&self, keyword: &str) -> bool {
        matches!(&self.peek().tok, Tok::Ident(name) if name == keyword)
    }

    fn consume(&mut self, tok: Tok, expected: &str) -> Result<(), ParseError> {
        let token = self.bump();
        if token.tok == tok {
            Ok(())
        } else {
            Err(self.error(token.pos, expected))
        }
    }

    fn finish(&self, expected: &str) -> Result<(), ParseError> {
        match self.peek() {
            Token { tok: Tok::End, .. } => Ok(()),
            token => Err(self.error(token.pos, expected)),
        }
    }

    fn or(&mut self) -> Result<Node, ParseError> {
        let mut left = self.and()?;
        while self.at_keyword("or") {
            self.bump();
            left = Node::binary(BinOp::Or, left, self.and()?);
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Node, ParseError> {
        let mut left = self.not()?;
        while self.at_keyword("and") {
            self.bump();
            left = Node::binary(BinOp::And, left, self.not()?);
        }
        Ok(left)
    }

    fn not(&mut self) -> Result<Node, ParseError> {
        if self.at_keyword("not") {
            self.bump();
            return Ok(Node::Not(Box::new(self.not()?)));
        }
        self.comparison()
    }

    fn comparison(&mut self) -> Result<Node, ParseError> {
        let left = self.additive()?;
        let Some(op) = comparison_op(&self.peek().tok) else {
            return Ok(left);
        };
        self.bump();
        let right = self.additive()?;
        if comparison_op(&self.peek().tok).is_some() {
            return Err(self.error(self.peek().pos, "'and' or 'or' between two comparisons"));
        }
        Ok(Node::binary(op, left, right))
    }

    fn additive(&mut self) -> Result<Node, ParseError> {
        let mut left = self.term()?;
        loop {
            let op = match self.peek().tok {
                Tok::Plus => BinOp::Add,
                Tok::Minus => BinOp::Sub,
                _ => return Ok(left),
            };
            self.bump();
            left = Node::binary(op, left, self.term()?);
        }
    }

    fn term(&mut self) -> Result<Node, ParseError> {
        let mut left = self.unary()?;
        loop {
            let op = match self.peek().tok {
                Tok::Star => BinOp::Mul,
                Tok::Slash => BinOp::Div,
                _ => return Ok(left),
            };
            self.bump();
            left = Node::binary(op, left, self.unary()?);
        }
    }

    fn unary(&mut self) -> Result<Node, ParseError> {
        if self.peek().tok == Tok::Minus {
            self.bump();
            return Ok(Node::Neg(Box::new(self.unary()?)));
        }
        self.primary()
    }

    fn primary(&mut self) -> Result<Node, ParseError> {
        let token = self.bump();
        match token.tok {
            Tok::Int(int) => Ok(Node::Literal(Value::from(int))),
            Tok::Dec(dec) => Ok(Node::Literal(Value::from(dec))),
            Tok::Str(text) => Ok(Node::Literal(Value::String(text))),
            Tok::LParen => {
                let inner = self.or()?;
                self.consume(Tok::RParen, "')'")?;
                Ok(inner)
            }
            Tok::Ident(name) => match name.as_str() {
                "true" => Ok(Node::Literal(Value::Bool(true))),
                "false" => Ok(Node::Literal(Value::Bool(false))),
                "null" => Ok(Node::Literal(Value::Null)),
                "and" | "or" | "not" => Err(self.error(token.pos, "a value")),
                _ if self.peek().tok == Tok::LParen => self.call(&name, token.pos),
                _ => Ok(Node::Field(self.path(name)?)),
            },
            _ => Err(self.error(token.pos, "a value")),
        }
    }

    fn call(&mut self, name: &str, pos: usize) -> Result<Node, ParseError> {
        let func = Func::from_name(name)
            .ok_or_else(|| self.error(pos, "a function: lower, upper, coalesce or round"))?;
        self.bump(); // the '(' seen by the caller
        let mut args = Vec::new();
        if self.peek().tok != Tok::RParen {
            loop {
                args.push(self.or()?);
                let token = self.bump();
                match token.tok {
                    Tok::Comma => continue,
                    Tok::RParen => break,
                    _ => return Err(self.error(token.pos, "',' or ')'")),
                }
            }
        } else {
            self.bump();
        }
        let (min, max) = func.arity();
        if args.len() < min || args.len() > max {
            return Err(self.error(pos, func.arity_text()));
        }
        Ok(Node::Call(func, args))
    }

    fn path(&mut self, first: String) -> Result<FieldPath, ParseError> {
        let mut segments = vec![Segment::Field(first)];
        loop {
            match self.peek().tok {
                Tok::Dot => {
                    self.bump();
                    let token = self.bump();
                    match token.tok {
                        Tok::Ident(name) => segments.push(Segment::Field(name)),
                        _ => return Err(self.error(token.pos, "a field name after '.'")),
                    }
                }
                Tok::LBracket => {
                    self.bump();
                    let token = self.bump();
                    let index = match token.tok {
                        Tok::Int(index) => usize::try_from(index).ok(),
                        _ => None,
                    };
                    let index =
                        index.ok_or_else(|| self.error(token.pos, "an array index (0, 1, ...)"))?;
                    segments.push(Segment::Index(index));
                    self.consume(Tok::RBracket, "']'")?;
                }
                _ => return Ok(FieldPath::new(segments)),
            }
        }
    }
}

fn comparison_op(tok: &Tok) -> Option<BinOp> {
    Some(match tok {
        Tok::Eq => BinOp::Eq,
        Tok::Ne => BinOp::Ne,
        Tok::Lt => BinOp::Lt,
        Tok::Le => BinOp::Le,
        Tok::Gt => BinOp::Gt,
        Tok::Ge => BinOp::Ge,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(text: &str) -> String {
        parse_node(text).expect_err("should not parse").to_string()
    }

    #[test]
    fn errors_name_expression_position_and_expectation() {
        assert_eq!(
            error("amount_cents / "),
            r#""amount_cents / " at 15: expected a value"#
        );
        assert_eq!(error("(a + b"), r#""(a + b" at 6: expected ')'"#);
        assert_eq!(
            error("a b"),
            r#""a b" at 2: expected an operator or the end of the expression"#
        );
        assert_eq!(error("a +* b"), r#""a +* b" at 3: expected a value"#);
        assert_eq!(
            error("a < b < c"),
            r#""a < b < c" at 6: expected 'and' or 'or' between two comparisons"#
        );
        assert_eq!(
            error("items[x]"),
            r#""items[x]" at 6: expected an array index (0, 1, ...)"#
        );
        assert_eq!(error("a."), r#""a." at 2: expected a field name after '.'"#);
        assert_eq!(
            error("x and or y"),
            r#""x and or y" at 6: expected a value"#
        );
    }

    #[test]
    fn calls_check_names_and_arity() {
        assert_eq!(
            error("status == sha1(x)"),
            r#""status == sha1(x)" at 10: expected a function: lower, upper, coalesce or round"#
        );
        assert_eq!(
            error("round(1, 2, 3)"),
            r#""round(1, 2, 3)" at 0: expected 1 or 2 arguments to round"#
        );
        assert_eq!(
            error("lower()"),
            r#""lower()" at 0: expected 1 argument to lower"#
        );
        assert_eq!(
            error("coalesce(a b)"),
            r#""coalesce(a b)" at 11: expected ',' or ')'"#
        );
    }

    #[test]
    fn precedence_builds_the_expected_tree() {
        let node = parse_node("not a == 1 or b").expect("parses");
        let Node::Binary(BinOp::Or, left, _) = node else {
            panic!("or must be the root: {node:?}");
        };
        assert!(
            matches!(*left, Node::Not(ref inner) if matches!(**inner, Node::Binary(BinOp::Eq, _, _)))
        );
        let node = parse_node("1 + 2 * 3").expect("parses");
        assert!(
            matches!(node, Node::Binary(BinOp::Add, _, ref right) if matches!(**right, Node::Binary(BinOp::Mul, _, _)))
        );
    }
}
