//! A tiny byte-level JSON scanner for one-object-per-line logs (Caddy, Traefik).
//!
//! It walks an object's members and hands out each value as the raw bytes it spans: a
//! string without its quotes and with its escapes as written, a number as its digits, an
//! object or array whole (walk it again to look inside). Nothing is decoded or allocated:
//! values a log wants are mostly plain, and the few escapes (`\"`, `\\`, `\/`, `\uXXXX`)
//! are resolved later with the other log escapes, once per distinct value. Values that are
//! skipped are skipped by bracket depth, strings and their escapes respected, so a `}`
//! inside a header value does not end an object. Malformed JSON is an error, never a panic.

use memchr::memchr2;

/// The input is not the JSON this scanner reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BadJson;

/// A JSON value, as raw bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Value<'a> {
    /// The string's bytes between its quotes, escapes as written.
    Str(&'a [u8]),
    /// An object, from `{` to `}`.
    Object(&'a [u8]),
    /// An array, from `[` to `]`.
    Array(&'a [u8]),
    /// A number, `true`, `false` or `null`, as written.
    Scalar(&'a [u8]),
}

impl<'a> Value<'a> {
    /// The text of a string, or of a scalar (so `"200"` and `200` read alike); else `None`.
    pub fn text(self) -> Option<&'a [u8]> {
        match self {
            Value::Str(s) | Value::Scalar(s) => Some(s),
            _ => None,
        }
    }

    /// The first element of an array when it is a string (HTTP header values are arrays).
    pub fn first_string(self) -> Option<&'a [u8]> {
        let Value::Array(array) = self else {
            return None;
        };
        let mut p = Parser { s: array, pos: 1 };
        p.skip_ws();
        if p.peek() != Some(b'"') {
            return None;
        }
        match p.value() {
            Ok(Value::Str(s)) => Some(s),
            _ => None,
        }
    }
}

/// Walks the members of the object `object` (leading and trailing whitespace allowed).
pub fn members(object: &[u8]) -> Members<'_> {
    let mut p = Parser { s: object, pos: 0 };
    p.skip_ws();
    let state = if p.peek() == Some(b'{') {
        p.pos += 1;
        State::First
    } else {
        State::Failed
    };
    Members { p, state }
}

/// Iterator over `(key, value)`; yields `Err` once and stops when the JSON is malformed.
pub struct Members<'a> {
    p: Parser<'a>,
    state: State,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    First,
    Next,
    Done,
    Failed,
}

impl<'a> Iterator for Members<'a> {
    type Item = Result<(&'a [u8], Value<'a>), BadJson>;

    fn next(&mut self) -> Option<Self::Item> {
        match self.state {
            State::Done => return None,
            State::Failed => {
                self.state = State::Done;
                return Some(Err(BadJson));
            }
            _ => {}
        }
        match self.member() {
            Ok(Some(member)) => Some(Ok(member)),
            Ok(None) => {
                self.state = State::Done;
                None
            }
            Err(e) => {
                self.state = State::Done;
                Some(Err(e))
            }
        }
    }
}

impl<'a> Members<'a> {
    fn member(&mut self) -> Result<Option<(&'a [u8], Value<'a>)>, BadJson> {
        let p = &mut self.p;
        p.skip_ws();
        if p.peek() == Some(b'}') {
            // The end: of `{}`, or after a member (a trailing comma is refused below).
            p.pos += 1;
            p.skip_ws();
            return if p.pos == p.s.len() {
                Ok(None)
            } else {
                Err(BadJson)
            };
        }
        if self.state == State::Next {
            if p.peek() != Some(b',') {
                return Err(BadJson);
            }
            p.pos += 1;
            p.skip_ws();
        }
        if p.peek() != Some(b'"') {
            return Err(BadJson);
        }
        let Value::Str(key) = p.value()? else {
            return Err(BadJson);
        };
        p.skip_ws();
        if p.peek() != Some(b':') {
            return Err(BadJson);
        }
        p.pos += 1;
        p.skip_ws();
        let value = p.value()?;
        self.state = State::Next;
        Ok(Some((key, value)))
    }
}

struct Parser<'a> {
    s: &'a [u8],
    pos: usize,
}

impl<'a> Parser<'a> {
    #[inline]
    fn peek(&self) -> Option<u8> {
        self.s.get(self.pos).copied()
    }

    #[inline]
    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\r' | b'\n')) {
            self.pos += 1;
        }
    }

    /// Reads the value at `pos` and moves past it.
    fn value(&mut self) -> Result<Value<'a>, BadJson> {
        let start = self.pos;
        match self.peek().ok_or(BadJson)? {
            b'"' => {
                let end = string_end(self.s, start + 1).ok_or(BadJson)?;
                self.pos = end + 1;
                Ok(Value::Str(&self.s[start + 1..end]))
            }
            open @ (b'{' | b'[') => {
                let end = container_end(self.s, start).ok_or(BadJson)?;
                self.pos = end + 1;
                let raw = &self.s[start..=end];
                Ok(if open == b'{' {
                    Value::Object(raw)
                } else {
                    Value::Array(raw)
                })
            }
            _ => {
                let len = self.s[start..]
                    .iter()
                    .take_while(|b| matches!(b, b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E' | b'a'..=b'z'))
                    .count();
                if len == 0 {
                    return Err(BadJson);
                }
                self.pos = start + len;
                Ok(Value::Scalar(&self.s[start..self.pos]))
            }
        }
    }
}

/// Index of the quote closing a string whose content starts at `from`.
#[inline]
fn string_end(s: &[u8], mut from: usize) -> Option<usize> {
    loop {
        let i = from + memchr2(b'"', b'\\', s.get(from..)?)?;
        if s[i] == b'"' {
            return Some(i);
        }
        from = i + 2;
    }
}

/// Index of the bracket closing the object or array opening at `start`.
fn container_end(s: &[u8], start: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut i = start;
    while i < s.len() {
        match s[i] {
            b'{' | b'[' => depth += 1,
            b'}' | b']' => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            b'"' => i = string_end(s, i + 1)?,
            _ => {}
        }
        i += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(s: &str) -> Result<Vec<(String, Value<'_>)>, BadJson> {
        members(s.as_bytes())
            .map(|m| m.map(|(k, v)| (String::from_utf8_lossy(k).into_owned(), v)))
            .collect()
    }

    #[test]
    fn walks_members_of_every_kind() {
        let got =
            all(r#" {"a":"x\"}y", "b" : 12.5e3,"c":{"d":["}",1]},"e":[],"f":null} "#).unwrap();
        assert_eq!(got.len(), 5);
        assert_eq!(got[0].1, Value::Str(br#"x\"}y"#));
        assert_eq!(got[1].1, Value::Scalar(b"12.5e3"));
        assert_eq!(got[2].1, Value::Object(br#"{"d":["}",1]}"#));
        assert_eq!(got[3].1.first_string(), None);
        assert_eq!(got[4].1, Value::Scalar(b"null"));
        let Value::Object(inner) = got[2].1 else {
            panic!()
        };
        let (_, d) = members(inner).next().unwrap().unwrap();
        assert_eq!(d.first_string(), Some(&b"}"[..]));
        assert!(all("{}").unwrap().is_empty());
    }

    #[test]
    fn malformed_json_is_an_error_not_a_panic() {
        for bad in [
            "",
            "x",
            "{",
            "{\"a\"",
            "{\"a\":",
            "{\"a\":\"x",
            "{\"a\":1,}",
            "{\"a\":1 \"b\":2}",
            "{\"a\":{\"b\":1}",
            "{\"a\":1}x",
            "{a:1}",
            "{\"a\":\"\\",
            "[1]",
            "{\"a\":[1,{]}",
        ] {
            assert!(all(bad).is_err(), "{bad:?}");
        }
    }
}
