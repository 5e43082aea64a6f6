//! A tiny byte-level JSON scanner for one-object-per-line logs (Caddy, Traefik).
//!
//! A [`Cursor`] walks an object forward, once: it hands out each member's key and leaves
//! the caller to read the value (a string without its quotes and with its escapes as
//! written, a number as its digits), to step into it when it is an object the log nests
//! fields in (Caddy's `request` and `headers`), or to skip it. Nothing is decoded or
//! allocated, and no byte is read twice: values a log wants are mostly plain, and the few
//! escapes (`\"`, `\\`, `\/`, `\uXXXX`) are resolved later with the other log escapes, once
//! per distinct value. Values that are skipped are skipped by bracket depth, strings and
//! their escapes respected, so a `}` inside a header value does not end an object.
//! Malformed JSON is an error, never a panic.
//!
//! [`members`] iterates an object's members with the same rules, for callers that want
//! every member of a small object.

use super::simd::quote_or_backslash;

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
        Cursor::new(array).first_string().ok().flatten()
    }
}

/// A place in one line of JSON, moving forward only.
#[derive(Clone)]
pub struct Cursor<'a> {
    s: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    pub fn new(s: &'a [u8]) -> Cursor<'a> {
        Cursor { s, pos: 0 }
    }

    /// Steps into the object that starts here (after whitespace).
    #[inline]
    pub fn open_object(&mut self) -> Result<(), BadJson> {
        self.skip_ws();
        if self.peek() != Some(b'{') {
            return Err(BadJson);
        }
        self.pos += 1;
        Ok(())
    }

    /// The next member's key in the object the cursor is in, the cursor left on the value;
    /// `None` once the object's `}` is passed. `first` is true before the first member,
    /// and is cleared here.
    #[inline(always)]
    pub fn next_key(&mut self, first: &mut bool) -> Result<Option<&'a [u8]>, BadJson> {
        // The usual shape, as Caddy and Traefik write it: `,"key":` (or `"key":` first) with
        // no whitespace around. Anything else takes the general walk below, which reads
        // this shape the same way.
        let s = self.s;
        let at = self.pos + usize::from(!*first);
        if s.get(at) == Some(&b'"')
            && (*first || s[self.pos] == b',')
            && let Some(end) = string_end(s, at + 1)
            && s.get(end + 1) == Some(&b':')
        {
            *first = false;
            self.pos = end + 2;
            self.skip_ws();
            return Ok(Some(&s[at + 1..end]));
        }
        self.skip_ws();
        if self.peek() == Some(b'}') {
            // The end: of `{}`, or after a member (a trailing comma is refused below).
            self.pos += 1;
            return Ok(None);
        }
        if !*first {
            if self.peek() != Some(b',') {
                return Err(BadJson);
            }
            self.pos += 1;
            self.skip_ws();
        }
        *first = false;
        if self.peek() != Some(b'"') {
            return Err(BadJson);
        }
        let key = self.string()?;
        self.skip_ws();
        if self.peek() != Some(b':') {
            return Err(BadJson);
        }
        self.pos += 1;
        self.skip_ws();
        Ok(Some(key))
    }

    /// Moves past the `}` that closes the object the cursor is in, the members left
    /// passed over by their brackets only (as [`skip`] passes over a value).
    ///
    /// [`skip`]: Cursor::skip
    pub fn close_object(&mut self) -> Result<(), BadJson> {
        self.skip_nested(1)
    }

    /// Whether the value here is an object (the cursor is on a value: after [`next_key`]).
    ///
    /// [`next_key`]: Cursor::next_key
    #[inline]
    pub fn at_object(&self) -> bool {
        self.peek() == Some(b'{')
    }

    /// After the outermost object: only whitespace may follow.
    pub fn finish(&mut self) -> Result<(), BadJson> {
        self.skip_ws();
        if self.pos == self.s.len() {
            Ok(())
        } else {
            Err(BadJson)
        }
    }

    /// Reads the value here and moves past it; an object or array is passed over by
    /// bracket depth and handed out whole.
    #[inline(always)]
    pub fn value(&mut self) -> Result<Value<'a>, BadJson> {
        let start = self.pos;
        match self.peek().ok_or(BadJson)? {
            b'"' => self.string().map(Value::Str),
            open @ (b'{' | b'[') => {
                self.pos += 1;
                self.skip_nested(1)?;
                let raw = &self.s[start..self.pos];
                Ok(if open == b'{' {
                    Value::Object(raw)
                } else {
                    Value::Array(raw)
                })
            }
            _ => self.scalar().map(Value::Scalar),
        }
    }

    /// The text of the string or scalar here (moving past it); `None` for an object or
    /// array, which is passed over.
    #[inline(always)]
    pub fn text(&mut self) -> Result<Option<&'a [u8]>, BadJson> {
        match self.peek().ok_or(BadJson)? {
            b'"' => self.string().map(Some),
            b'{' | b'[' => self.skip().map(|()| None),
            _ => self.scalar().map(Some),
        }
    }

    /// Moves past the value here.
    #[inline(always)]
    pub fn skip(&mut self) -> Result<(), BadJson> {
        match self.peek().ok_or(BadJson)? {
            b'"' => self.string().map(drop),
            b'{' | b'[' => {
                self.pos += 1;
                self.skip_nested(1)
            }
            _ => self.scalar().map(drop),
        }
    }

    /// The first element of the array here when it is a string (HTTP header values are
    /// arrays), moving past the whole value; `None` for anything else.
    pub fn first_string(&mut self) -> Result<Option<&'a [u8]>, BadJson> {
        if self.peek() != Some(b'[') {
            self.skip()?;
            return Ok(None);
        }
        self.pos += 1;
        self.skip_ws();
        let first = if self.peek() == Some(b'"') {
            Some(self.string()?)
        } else {
            None
        };
        self.skip_nested(1)?;
        Ok(first)
    }

    #[inline]
    fn peek(&self) -> Option<u8> {
        self.s.get(self.pos).copied()
    }

    #[inline(always)]
    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\r' | b'\n')) {
            self.pos += 1;
        }
    }

    /// The string whose opening quote is here; the cursor moves past its closing quote.
    #[inline(always)]
    fn string(&mut self) -> Result<&'a [u8], BadJson> {
        let start = self.pos + 1;
        let end = string_end(self.s, start).ok_or(BadJson)?;
        self.pos = end + 1;
        Ok(&self.s[start..end])
    }

    /// A number, `true`, `false` or `null` here.
    #[inline(always)]
    fn scalar(&mut self) -> Result<&'a [u8], BadJson> {
        let (s, start) = (self.s, self.pos);
        let mut end = start;
        while end < s.len() && CLASS[s[end] as usize] == SCALAR {
            end += 1;
        }
        if end == start {
            return Err(BadJson);
        }
        self.pos = end;
        Ok(&s[start..end])
    }

    /// Moves past the brackets that close `depth` open ones (any kind: the walk that reads
    /// members checks their shape, a skipped value is only balanced).
    fn skip_nested(&mut self, mut depth: usize) -> Result<(), BadJson> {
        let s = self.s;
        let mut i = self.pos;
        while let Some(&b) = s.get(i) {
            match CLASS[b as usize] {
                OPEN => depth += 1,
                CLOSE => {
                    depth -= 1;
                    if depth == 0 {
                        self.pos = i + 1;
                        return Ok(());
                    }
                }
                QUOTE => i = string_end(s, i + 1).ok_or(BadJson)?,
                _ => {}
            }
            i += 1;
        }
        Err(BadJson)
    }
}

/// What a byte is to the scanner: one table look-up instead of a chain of comparisons.
const OTHER: u8 = 0;
/// A byte of a number, `true`, `false` or `null`.
const SCALAR: u8 = 1;
const OPEN: u8 = 2;
const CLOSE: u8 = 3;
const QUOTE: u8 = 4;

static CLASS: [u8; 256] = {
    let mut class = [OTHER; 256];
    let mut b = 0;
    while b < 256 {
        class[b] = match b as u8 {
            b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E' | b'a'..=b'z' => SCALAR,
            b'{' | b'[' => OPEN,
            b'}' | b']' => CLOSE,
            b'"' => QUOTE,
            _ => OTHER,
        };
        b += 1;
    }
    class
};

/// Walks the members of the object `object` (leading and trailing whitespace allowed).
pub fn members(object: &[u8]) -> Members<'_> {
    let mut cursor = Cursor::new(object);
    let state = match cursor.open_object() {
        Ok(()) => State::Walking { first: true },
        Err(BadJson) => State::Failed,
    };
    Members { cursor, state }
}

/// Iterator over `(key, value)`; yields `Err` once and stops when the JSON is malformed.
pub struct Members<'a> {
    cursor: Cursor<'a>,
    state: State,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    Walking { first: bool },
    Done,
    Failed,
}

impl<'a> Iterator for Members<'a> {
    type Item = Result<(&'a [u8], Value<'a>), BadJson>;

    fn next(&mut self) -> Option<Self::Item> {
        let State::Walking { mut first } = self.state else {
            let failed = self.state == State::Failed;
            self.state = State::Done;
            return failed.then_some(Err(BadJson));
        };
        let member = self.cursor.next_key(&mut first).and_then(|key| match key {
            Some(key) => self.cursor.value().map(|value| Some((key, value))),
            None => self.cursor.finish().map(|()| None),
        });
        self.state = State::Walking { first };
        match member {
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

/// Index of the quote closing a string whose content starts at `from`: the first quote
/// not escaped by a backslash (a backslash escapes the byte after it, whatever it is).
#[inline(always)]
fn string_end(s: &[u8], mut from: usize) -> Option<usize> {
    loop {
        let i = quote_or_backslash(s, from)?;
        if s[i] == b'"' {
            return Some(i);
        }
        from = i + 2;
    }
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
    fn strings_end_at_the_first_unescaped_quote_at_every_place() {
        // The byte-by-byte rule: a backslash escapes the byte after it, whatever it is.
        fn slow(s: &[u8], mut i: usize) -> Option<usize> {
            while i < s.len() {
                match s[i] {
                    b'"' => return Some(i),
                    b'\\' => i += 2,
                    _ => i += 1,
                }
            }
            None
        }
        // Runs of 0 to 5 backslashes before a quote, each placed across every offset of
        // lines up to 70 bytes (so at every chunk edge and in the tail), a second quote
        // after it or not, searched from every start.
        let mut checked = 0;
        for len in 1..70 {
            for run in 0..6 {
                for at in 0..len {
                    for second in [None, Some(len - 1)] {
                        let mut line = vec![b'x'; len];
                        line[at..(at + run).min(len)].fill(b'\\');
                        if let Some(quote) = line.get_mut(at + run) {
                            *quote = b'"';
                        }
                        if let Some(last) = second {
                            line[last] = b'"';
                        }
                        for from in 0..=len {
                            assert_eq!(string_end(&line, from), slow(&line, from), "{line:?}");
                            checked += 1;
                        }
                    }
                }
            }
        }
        assert!(checked > 30_000, "{checked}");
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
