//! Your own format: an Apache `LogFormat` or nginx `log_format` string, compiled once.
//!
//! ```text
//! apache: %h %l %u %t \"%r\" %>s %b \"%{Referer}i\" \"%{User-Agent}i\" %D
//! nginx:  $remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" $request_time
//! ```
//!
//! [`CustomFormat::compile`] turns the string into the text before the first field and a
//! list of items, each a field and the literal text that follows it (like [`W3cLayout`] for
//! W3C's `#Fields:`). A line is then one walk: a field ends where the literal after it
//! starts (found eight bytes a step, or sixteen for a quote), so nothing is allocated and
//! no regex runs per line. A field between quotes (`"%r"`, `"$http_user_agent"`) ends at a
//! quote that is not escaped (`\"`) and is followed by the rest of its literal and by what
//! the next field starts with, so the unescaped quotes some servers write inside a request
//! or user agent do not end it early (as in the combined scanner). Fields this crate does
//! not use are skipped, but their place in the line is still checked.
//!
//! The usual shapes are read without searching, at the combined scanner's speed: each
//! item's `Shortcut` (a number read digit by digit, a time of the usual length, a `-`, a
//! quoted last field), the common start `%h %l %u [` read in one step when it is the usual
//! `client - - [` (`dashes_after_client`), and the combined format's middle read with its
//! text known (`CustomFormat::combined_run`), the user agent too when a number follows it. A
//! last field that is not kept and runs to the end of the line is not walked. A shortcut
//! lands where the search would, or gives way to it; a unit test checks this on mutated
//! lines.
//!
//! [`W3cLayout`]: super::W3cLayout

use memchr::memchr;

use super::clf::{dash_is_empty, is_escaped, number_field, quoted_end, seconds_to_us};
use super::time::{LogTime, parse_clf_time, parse_epoch_seconds, parse_iso8601};
use super::tokens;
use super::{LogLine, Malformed, NO_RESPONSE_TIME, Request};

/// The syntax a format string is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Syntax {
    /// Apache httpd's `LogFormat` (`%h %t "%r"`).
    Apache,
    /// nginx's `log_format` (`$remote_addr [$time_local] "$request"`).
    Nginx,
}

impl Syntax {
    pub fn name(self) -> &'static str {
        match self {
            Syntax::Apache => "apache",
            Syntax::Nginx => "nginx",
        }
    }
}

/// Why a format string does not compile. The messages say what to change.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FormatError {
    #[error(
        "cannot tell an Apache format (%h %t …) from an nginx one ($remote_addr $time_local …): start it with apache: or nginx:"
    )]
    Ambiguous,
    #[error(
        "no fields in the format (Apache: %h %t \"%r\" …, nginx: $remote_addr [$time_local] \"$request\" …)"
    )]
    NoFields,
    #[error("unknown Apache directive {0}")]
    UnknownDirective(String),
    #[error("{0} needs a name in braces, e.g. %{{Referer}}i or %{{sid}}C")]
    NeedsName(String),
    #[error("{0} has no closing }}")]
    Unclosed(String),
    #[error(
        "unsupported time format {0}: use %t, %{{%d/%b/%Y:%H:%M:%S %z}}t, %{{%Y-%m-%dT%H:%M:%S%z}}t, %{{sec}}t, %{{msec}}t or %{{usec}}t"
    )]
    UnsupportedTime(String),
    #[error("{0} writes raw bytes, not text: log $remote_addr instead")]
    Binary(String),
    #[error(
        "{first} and {second} have nothing between them, so a line cannot tell where one ends: put a space or other text between them"
    )]
    Adjacent { first: String, second: String },
    #[error("the format has no {0}")]
    Missing(String),
    #[error(
        "the visitor key cookie:{name} needs that cookie in the format: add {hint} (or the whole Cookie header)"
    )]
    NoCookie { name: String, hint: String },
    #[error("a line break inside the format: a log line cannot hold one")]
    LineBreak,
    #[error("{0}")]
    Directive(String),
}

/// What a field holds, as far as accesslens reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Client,
    User,
    /// `10/Oct/2026:13:55:36 +0000` (`%t` without its brackets, `$time_local`).
    ClfTime,
    /// `2026-10-10T13:55:36+00:00` (`$time_iso8601`).
    IsoTime,
    /// Seconds since the epoch, maybe with a fraction (`%{sec}t`, `$msec`).
    EpochSeconds,
    /// Whole milliseconds since the epoch (`%{msec}t`).
    EpochMillis,
    /// Whole microseconds since the epoch (`%{usec}t`).
    EpochMicros,
    /// The request line (`%r`, `$request`).
    Request,
    Method,
    /// The path without its query (`%U`, `$uri`).
    Path,
    /// The path with its query (`$request_uri`, or `%U%q` and `$uri$is_args$args` merged).
    Target,
    /// Apache's `%q`: `?` and the query, or nothing.
    QueryMark,
    /// nginx's `$args`: the query without `?`.
    Query,
    /// nginx's `$is_args` (`?` or nothing); only meaningful between `$uri` and `$args`.
    IsArgs,
    Protocol,
    Status,
    /// The response body size (`%b`, `%B`, `$body_bytes_sent`).
    Bytes,
    /// The size with headers (`%O`, `$bytes_sent`): used when the body size is not logged.
    BytesSent,
    Referrer,
    UserAgent,
    ForwardedFor,
    Host,
    Tls,
    /// Time taken, whole microseconds (`%D`, `%{us}T`).
    TakenMicros,
    /// Time taken, whole milliseconds (`%{ms}T`).
    TakenMillis,
    /// Time taken, seconds with or without a fraction (`%T`, `$request_time`).
    TakenSeconds,
    /// nginx's `$upstream_*`: skipped, and may be a list (`0.010, 0.020` or `0.010 : 0.020`).
    Upstream,
    /// The visitor cookie's value (`%{NAME}C`, `$cookie_NAME`).
    Cookie,
    /// The whole Cookie header, from which the visitor cookie is taken.
    CookieHeader,
    Ignored,
}

impl Field {
    /// The slot a field fills: two fields of one slot are one too many (the first is read).
    fn slot(self) -> Option<u8> {
        Some(match self {
            Field::Client => 0,
            Field::User => 1,
            Field::ClfTime
            | Field::IsoTime
            | Field::EpochSeconds
            | Field::EpochMillis
            | Field::EpochMicros => 2,
            Field::Request => 3,
            Field::Method => 4,
            Field::Path | Field::Target => 5,
            Field::QueryMark | Field::Query => 6,
            Field::Protocol => 7,
            Field::Status => 8,
            Field::Bytes => 9,
            Field::BytesSent => 10,
            Field::Referrer => 11,
            Field::UserAgent => 12,
            Field::ForwardedFor => 13,
            Field::Host => 14,
            Field::Tls => 15,
            Field::TakenMicros | Field::TakenMillis | Field::TakenSeconds => 16,
            Field::Cookie | Field::CookieHeader => 17,
            Field::IsArgs | Field::Upstream | Field::Ignored => return None,
        })
    }

    fn is_time(self) -> bool {
        self.slot() == Some(2)
    }

    /// Whether the field's value starts with a digit or `-` (confirms where a quoted field
    /// before it ends).
    fn is_numeric(self) -> bool {
        matches!(
            self,
            Field::Status
                | Field::Bytes
                | Field::BytesSent
                | Field::EpochSeconds
                | Field::EpochMillis
                | Field::EpochMicros
                | Field::TakenMicros
                | Field::TakenMillis
                | Field::TakenSeconds
                | Field::Upstream
        )
    }

    /// Spaces the value holds when it is not quoted (skipped before looking for the end).
    fn spaces(self) -> u8 {
        match self {
            Field::ClfTime => 1,
            Field::Request => 2,
            _ => 0,
        }
    }

    /// Why a line whose field could not be delimited is malformed.
    fn unterminated(self) -> Malformed {
        match self {
            Field::Client => Malformed::NoClient,
            f if f.is_time() => Malformed::NoTimestamp,
            Field::Request | Field::Method | Field::Path | Field::Target => {
                Malformed::UnterminatedRequest
            }
            Field::Status => Malformed::BadStatus,
            Field::Bytes | Field::BytesSent => Malformed::BadBytes,
            Field::Referrer => Malformed::UnterminatedReferrer,
            Field::UserAgent => Malformed::UnterminatedUserAgent,
            _ => Malformed::MissingFields,
        }
    }
}

/// A field and the literal text after it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Item {
    field: Field,
    /// Between quotes: the literal before ends with `"` and `after` starts with one.
    quoted: bool,
    /// Spaces inside the value to skip before looking for `after` (an unquoted field that
    /// a space ends).
    spaces: u8,
    /// When quoted and not last: the next field starts with a digit or `-`.
    next_numeric: bool,
    /// The literal that ends the field; empty only for a last field that runs to the end.
    after: Box<[u8]>,
    /// How the field's end can be found without searching for `after`.
    shortcut: Shortcut,
    /// Why a line where this field cannot be delimited is malformed: the field's own reason,
    /// or for a field of any text (`%l`, `$remote_user`) the next one's, whose opening
    /// text is what was not found.
    missing: Malformed,
    /// Why a line is malformed where the literal after this field starts but does not go on
    /// as the format says: the next field is not there.
    next_missing: Malformed,
}

/// How a field's end is found before (or instead of) searching for the literal after it.
/// Each shortcut lands where the search would: it is taken only when the value it reads
/// cannot hold the literal's first byte, and the search runs when it does not apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shortcut {
    None,
    /// A quoted last field: only the quote that leaves exactly the literal's rest to the
    /// end of the line can close it, so that place is looked at instead of every quote.
    QuotedLast,
    /// A text field outside quotes whose value is most often `-` (`%l`, `%u`,
    /// `$remote_user`): `-` followed by the literal is looked for first.
    Dash,
    /// A number read digit by digit (with `.` when `dot`), or `-`: the literal must start
    /// right after it.
    Number {
        dot: bool,
    },
    /// A CLF time of the usual 26 bytes (`10/Oct/2026:13:55:36 +0000`), then the literal.
    ClfTime,
}

/// A compiled Apache `LogFormat` or nginx `log_format` string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomFormat {
    syntax: Syntax,
    source: String,
    head: Box<[u8]>,
    items: Box<[Item]>,
    /// The visitor cookie's name, when it is taken from a logged Cookie header.
    cookie_in_header: Option<Box<[u8]>>,
    visitor_cookie: Option<String>,
    /// Where the items of the combined format's middle start, when the format has it (see
    /// [`CustomFormat::combined_run`]).
    combined_at: Option<usize>,
    /// The run goes on through the user agent: a quoted field that a number follows (`…
    /// "%{User-Agent}i" %D`, `… "$http_user_agent" $request_time`). See [`agent_in_run`].
    agent_in_run: bool,
    /// How many items a line walks: all but a last one that runs to the end of the line and
    /// is not kept (`$upstream_response_time`, `%{X}o`), whose value needs no looking at.
    walked: usize,
    /// The common format's start, `%h %l %u [` (nginx's `$remote_addr - $remote_user [`),
    /// read in one step when a line has its usual `- -`: how many items that covers, and
    /// the text expected after the client (` - - [`). See [`dashes_after_client`].
    dashes_after_client: Option<(usize, Box<[u8]>)>,
}

/// One piece of a format string before layout.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Text(Vec<u8>),
    Field(Field, String),
}

impl CustomFormat {
    /// Compiles `spec`: a format string, optionally prefixed with `apache:` or `nginx:`
    /// (without one the syntax is told by its directives, `%h` or `$remote_addr`), or a whole
    /// `LogFormat "…" name` / `log_format name '…' '…';` line as it stands in the server's
    /// configuration. `visitor_cookie` is the cookie that identifies visitors
    /// (`--visitor-key cookie:NAME`): the format must log it.
    pub fn compile(spec: &str, visitor_cookie: Option<&str>) -> Result<CustomFormat, FormatError> {
        let (syntax, body) = split_syntax(spec)?;
        let tokens = match syntax {
            Syntax::Apache => apache_tokens(&body, visitor_cookie)?,
            Syntax::Nginx => nginx_tokens(&body, visitor_cookie)?,
        };
        let mut tokens = merge_request_parts(tokens);
        keep_first_of_each_slot(&mut tokens);
        check_required(&tokens, syntax)?;
        let has = |f: Field| {
            tokens
                .iter()
                .any(|t| matches!(t, Token::Field(g, _) if *g == f))
        };
        let mut cookie_in_header = None;
        if let Some(name) = visitor_cookie {
            if has(Field::CookieHeader) {
                cookie_in_header = Some(name.as_bytes().into());
            } else if !has(Field::Cookie) {
                let hint = match syntax {
                    Syntax::Apache => format!("%{{{name}}}C"),
                    Syntax::Nginx => format!("$cookie_{name}"),
                };
                return Err(FormatError::NoCookie {
                    name: name.to_owned(),
                    hint,
                });
            }
        }
        let (head, items) = layout(tokens)?;
        Ok(CustomFormat {
            syntax,
            source: spec.to_owned(),
            head,
            combined_at: combined_run_at(&items),
            agent_in_run: agent_in_run(&items),
            walked: match items.last() {
                Some(item) if item.after.is_empty() && item.field.slot().is_none() => {
                    items.len() - 1
                }
                _ => items.len(),
            },
            dashes_after_client: dashes_after_client(&items),
            items,
            cookie_in_header,
            visitor_cookie: visitor_cookie.map(str::to_owned),
        })
    }

    pub fn syntax(&self) -> Syntax {
        self.syntax
    }

    /// The string as given.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The cookie that identifies visitors, when one was named at compile time.
    pub fn visitor_cookie(&self) -> Option<&str> {
        self.visitor_cookie.as_deref()
    }

    /// Parses one line (without its line end).
    pub fn parse<'a>(&self, line: &'a [u8]) -> Result<LogLine<'a>, Malformed> {
        if !begins_with(line, &self.head) {
            return Err(Malformed::NotFormatText);
        }
        let mut pos = self.head.len();
        let mut parsed = LogLine::new(b"", LogTime::default(), Request::Line(b""), 0);
        let (mut method, mut target, mut query, mut protocol) =
            (&b""[..], &b""[..], &b""[..], &b""[..]);
        let mut request = None;
        let last = self.items.len() - 1;
        let mut i = 0;
        if let Some((run, text)) = &self.dashes_after_client
            && let Some(space) = find_byte(line, pos, b' ')
            && space > pos
            && begins_with(&line[space..], text)
        {
            // `203.0.113.7 - - [`: the client ends at the first space (where its search
            // would end it, the text after it being there), and each `-` is its field's
            // dash shortcut; the values are the client and empty ones.
            parsed.client = &line[pos..space];
            pos = space + text.len();
            i = *run;
        }
        let items = &self.items[..self.walked];
        while let Some(item) = items.get(i) {
            if Some(i) == self.combined_at {
                let (next, line_of_request) = self.combined_run(line, pos, i, &mut parsed)?;
                (pos, request) = (next, Some(line_of_request));
                i += COMBINED_RUN.len() + usize::from(self.agent_in_run);
                continue;
            }
            i += 1;
            if item.shortcut == Shortcut::ClfTime
                && let Some(time) = line.get(pos..pos + 26)
                && begins_with(&line[pos + 26..], &item.after)
                && let Ok(time) = parse_clf_time(time)
            {
                parsed.time = time;
                pos += 26 + item.after.len();
                continue;
            }
            let (end, next) = field_end(line, pos, item, i - 1 == last)?;
            let value = &line[pos..end];
            pos = next;
            match item.field {
                Field::Client => {
                    if value.is_empty() {
                        return Err(Malformed::NoClient);
                    }
                    parsed.client = value;
                }
                Field::User => parsed.user = dash_is_empty(value),
                Field::ClfTime => {
                    parsed.time = parse_clf_time(value).map_err(|_| Malformed::BadTimestamp)?
                }
                Field::IsoTime => {
                    parsed.time = parse_iso8601(value).map_err(|_| Malformed::BadIsoTimestamp)?
                }
                Field::EpochSeconds => {
                    parsed.time =
                        parse_epoch_seconds(value).map_err(|_| Malformed::BadEpochTimestamp)?
                }
                Field::EpochMillis => parsed.time = epoch_fraction(value, 1, 15)?,
                Field::EpochMicros => parsed.time = epoch_fraction(value, 1000, 18)?,
                Field::Request => request = Some(value),
                Field::Method => method = dash_is_empty(value),
                Field::Path | Field::Target => target = value,
                Field::QueryMark => query = value.strip_prefix(b"?").unwrap_or(value),
                Field::Query => query = dash_is_empty(value),
                Field::Protocol => protocol = dash_is_empty(value),
                Field::Status => {
                    let (code, end) = number_field(value, 0);
                    if value.len() != 3 || end != 3 {
                        return Err(Malformed::BadStatus);
                    }
                    parsed.status = code as u16;
                }
                Field::Bytes => parsed.bytes = size(value)?,
                Field::BytesSent => parsed.bytes = size(value)?,
                Field::Referrer => parsed.referrer = dash_is_empty(value),
                Field::UserAgent => parsed.user_agent = dash_is_empty(value),
                Field::ForwardedFor => parsed.forwarded_for = dash_is_empty(value),
                Field::Host => parsed.vhost = dash_is_empty(value),
                Field::Tls => parsed.tls = dash_is_empty(value),
                Field::TakenMicros => parsed.response_time_us = taken(value, 1)?,
                Field::TakenMillis => parsed.response_time_us = taken(value, 1000)?,
                Field::TakenSeconds => {
                    parsed.response_time_us = match value {
                        b"-" => NO_RESPONSE_TIME,
                        _ => seconds_to_us(value).ok_or(Malformed::BadResponseTime)?,
                    }
                }
                Field::Cookie => parsed.cookie = dash_is_empty(value),
                Field::CookieHeader => {
                    if let Some(name) = &self.cookie_in_header {
                        parsed.cookie = cookie_value(value, name);
                    }
                }
                Field::IsArgs | Field::Upstream | Field::Ignored => {}
            }
        }
        parsed.request = match request {
            Some(line) => Request::Line(line),
            None => Request::Parts {
                method,
                target,
                query,
                protocol,
            },
        };
        Ok(parsed)
    }
}

/// The middle of the combined format, `[%t] "%r" %>s %b "%{Referer}i" "` (or nginx's
/// `[$time_local] "$request" $status $body_bytes_sent "$http_referer" "`): each field's
/// value and the literal after it, as [`layout`] lays them out.
const COMBINED_RUN: [(Field, &[u8]); 5] = [
    (Field::ClfTime, b"] \""),
    (Field::Request, b"\" "),
    (Field::Status, b" "),
    (Field::Bytes, b" \""),
    (Field::Referrer, b"\" \""),
];

/// Where the combined run starts in `items`, when it is there and a field follows it.
fn combined_run_at(items: &[Item]) -> Option<usize> {
    let run = COMBINED_RUN.len();
    (0..items.len().saturating_sub(run)).find(|&k| {
        let items = &items[k..k + run];
        items
            .iter()
            .zip(COMBINED_RUN)
            .all(|(item, (field, after))| item.field == field && *item.after == *after)
            && items[0].shortcut == Shortcut::ClfTime
            && items[1].quoted
            && items[1].next_numeric
            && items[2].shortcut == (Shortcut::Number { dot: false })
            && items[3].shortcut == (Shortcut::Number { dot: false })
            && items[4].quoted
            && !items[4].next_numeric
    })
}

/// Whether the combined run is followed by the user agent, quoted, then a space and a number
/// (the run then reads the agent too, as the `nginx` preset reads it).
fn agent_in_run(items: &[Item]) -> bool {
    combined_run_at(items).is_some_and(|at| {
        items.get(at + COMBINED_RUN.len()).is_some_and(|item| {
            item.field == Field::UserAgent
                && item.quoted
                && item.next_numeric
                && *item.after == *b"\" "
                && item.shortcut == Shortcut::None
        })
    })
}

/// The client first, then fields usually `-` whose value is not kept or is the user (`%l
/// %u`, `$remote_user`), each with the dash shortcut: how many items, and the text after the
/// client when each of those fields is `-`.
fn dashes_after_client(items: &[Item]) -> Option<(usize, Box<[u8]>)> {
    let (client, rest) = items.split_first()?;
    if client.field != Field::Client
        || client.shortcut != Shortcut::Dash
        || client.spaces != 0
        || client.after.first() != Some(&b' ')
    {
        return None;
    }
    let dashes = rest
        .iter()
        .take_while(|item| {
            matches!(item.field, Field::User | Field::Ignored) && item.shortcut == Shortcut::Dash
        })
        .count();
    if dashes == 0 {
        return None;
    }
    let mut text = client.after.to_vec();
    for item in &rest[..dashes] {
        text.push(b'-');
        text.extend_from_slice(&item.after);
    }
    Some((1 + dashes, text.into()))
}

impl CustomFormat {
    /// The combined run at `pos` (items `at..`): the most common middle of a format, read
    /// with its literals known, as the combined preset reads it. Each step's usual case is
    /// taken here; anything else goes through [`field_end`] with the step's item, so the
    /// result is the one the item-by-item walk gives. Returns where the run ends and the
    /// request line.
    #[inline]
    fn combined_run<'a>(
        &self,
        line: &'a [u8],
        mut pos: usize,
        at: usize,
        parsed: &mut LogLine<'a>,
    ) -> Result<(usize, &'a [u8]), Malformed> {
        let items = &self.items[at..at + COMBINED_RUN.len()];
        // `10/Oct/2026:13:55:36 +0000] "`
        let time = match line.get(pos..pos + 26) {
            Some(time) if begins_with(&line[pos + 26..], b"] \"") => parse_clf_time(time).ok(),
            _ => None,
        };
        match time {
            Some(time) => {
                parsed.time = time;
                pos += 29;
            }
            None => {
                let (end, next) = field_end(line, pos, &items[0], false)?;
                parsed.time =
                    parse_clf_time(&line[pos..end]).map_err(|_| Malformed::BadTimestamp)?;
                pos = next;
            }
        }
        // `GET / HTTP/1.1" ` and a digit or `-`
        let end = quoted_end(line, pos, |tail| {
            matches!(tail, [b' ', b'0'..=b'9' | b'-', ..])
        })
        .ok_or(items[1].missing)?;
        let request = &line[pos..end];
        pos = end + 2;
        // `200 `
        match line.get(pos..pos + 4) {
            Some(&[a, b, c, b' ']) if [a, b, c].iter().all(u8::is_ascii_digit) => {
                parsed.status =
                    u16::from(a - b'0') * 100 + u16::from(b - b'0') * 10 + u16::from(c - b'0');
                pos += 4;
            }
            _ => {
                let (end, next) = field_end(line, pos, &items[2], false)?;
                let value = &line[pos..end];
                let (code, digits) = number_field(value, 0);
                if value.len() != 3 || digits != 3 {
                    return Err(Malformed::BadStatus);
                }
                parsed.status = code as u16;
                pos = next;
            }
        }
        // `5120 "` or `- "`
        let (bytes, digits_end) = number_field(line, pos);
        let digits = digits_end - pos;
        if (1..=19).contains(&digits) && begins_with(&line[digits_end..], b" \"") {
            parsed.bytes = bytes;
            pos = digits_end + 2;
        } else {
            let (end, next) = field_end(line, pos, &items[3], false)?;
            parsed.bytes = size(&line[pos..end])?;
            pos = next;
        }
        // `https://www.example.com/" "`
        let end = quoted_end(line, pos, |tail| tail.starts_with(b" \"")).ok_or(items[4].missing)?;
        parsed.referrer = dash_is_empty(&line[pos..end]);
        pos = end + 3;
        if self.agent_in_run {
            // `Mozilla/5.0 …" ` and a digit or `-`: where `quoted_field_end` ends it.
            let end = quoted_end(line, pos, |tail| {
                matches!(tail, [b' ', b'0'..=b'9' | b'-', ..])
            })
            .ok_or(self.items[at + COMBINED_RUN.len()].missing)?;
            parsed.user_agent = dash_is_empty(&line[pos..end]);
            pos = end + 2;
        }
        Ok((pos, request))
    }
}

/// Where the field that starts at `pos` ends, and where the next one starts.
#[inline(always)]
fn field_end(
    line: &[u8],
    pos: usize,
    item: &Item,
    last: bool,
) -> Result<(usize, usize), Malformed> {
    let after = &*item.after;
    let Some(&first) = after.first() else {
        return Ok((line.len(), line.len()));
    };
    if pos > line.len() {
        return Err(Malformed::MissingFields);
    }
    if let Shortcut::Number { dot } = item.shortcut {
        let end = if line.get(pos) == Some(&b'-') {
            pos + 1
        } else {
            pos + line[pos..]
                .iter()
                .take_while(|&&b| b.is_ascii_digit() || (dot && b == b'.'))
                .count()
        };
        if begins_with(&line[end..], after) {
            return Ok((end, end + after.len()));
        }
    }
    if item.shortcut == Shortcut::QuotedLast {
        let end = line.len().wrapping_sub(after.len());
        return if line.len() - pos >= after.len()
            && begins_with(&line[end..], after)
            && !is_escaped(line, pos, end)
        {
            Ok((end, line.len()))
        } else {
            Err(item.missing)
        };
    }
    if item.quoted {
        return quoted_field_end(line, pos, item, last);
    }
    if last {
        return if line.len() - pos >= after.len()
            && begins_with(&line[line.len() - after.len()..], after)
        {
            Ok((line.len() - after.len(), line.len()))
        } else {
            Err(item.missing)
        };
    }
    if item.shortcut == Shortcut::Dash
        && line.get(pos) == Some(&b'-')
        && begins_with(&line[pos + 1..], after)
    {
        return Ok((pos + 1, pos + 1 + after.len()));
    }
    let mut from = pos;
    for _ in 0..item.spaces {
        from = find_byte(line, from, b' ').ok_or(item.missing)? + 1;
    }
    let mut missing = item.missing;
    loop {
        let at = find_byte(line, from, first).ok_or(missing)?;
        missing = item.next_missing;
        if begins_with(&line[at + 1..], &after[1..])
            && !(item.field == Field::Upstream && first == b' ' && in_list(line, at))
        {
            return Ok((at, at + after.len()));
        }
        from = at + 1;
    }
}

/// [`field_end`] of a quoted field: the first quote that is not escaped and is followed by
/// the rest of the literal, and then by the end of the line (the last field) or by a digit
/// or `-` (when the next field is a number).
#[inline(never)]
fn quoted_field_end(
    line: &[u8],
    pos: usize,
    item: &Item,
    last: bool,
) -> Result<(usize, usize), Malformed> {
    let rest = &item.after[1..];
    let end = quoted_end(line, pos, |tail| {
        begins_with(tail, rest) && {
            let next = &tail[rest.len()..];
            if last {
                next.is_empty()
            } else {
                !item.next_numeric || matches!(next.first(), Some(b'0'..=b'9' | b'-'))
            }
        }
    })
    .ok_or(item.missing)?;
    Ok((end, end + item.after.len()))
}

/// The shortcut an item can take (see [`Shortcut`]).
fn shortcut(item: &Item, last: bool) -> Shortcut {
    let Some(&first) = item.after.first() else {
        return Shortcut::None;
    };
    if item.quoted && last {
        return Shortcut::QuotedLast;
    }
    if item.quoted || last {
        return Shortcut::None;
    }
    let dot = matches!(item.field, Field::TakenSeconds | Field::EpochSeconds);
    let number = matches!(
        item.field,
        Field::Status
            | Field::Bytes
            | Field::BytesSent
            | Field::TakenMicros
            | Field::TakenMillis
            | Field::EpochMillis
            | Field::EpochMicros
    ) || dot;
    if number && !matches!(first, b'0'..=b'9' | b'-' | b'.') {
        return Shortcut::Number { dot };
    }
    // A valid CLF time holds letters, digits, `/`, `:`, one space and its offset's sign.
    if item.field == Field::ClfTime
        && !first.is_ascii_alphanumeric()
        && !matches!(first, b'/' | b':' | b' ' | b'+' | b'-')
    {
        return Shortcut::ClfTime;
    }
    if !number && item.spaces == 0 && item.field != Field::Upstream && first != b'-' {
        return Shortcut::Dash;
    }
    Shortcut::None
}

/// Index of the first `byte` in `hay` from `from` on ([`tokens::find_byte`]'s short-field
/// search).
#[inline(always)]
fn find_byte(hay: &[u8], from: usize, byte: u8) -> Option<usize> {
    tokens::find_byte(byte, hay.get(from..)?).map(|at| from + at)
}

/// `hay.starts_with(lit)` for the few bytes a format's literals have: a loop the compiler
/// inlines, where `starts_with` calls `memcmp` (a third of the time of a line).
#[inline(always)]
fn begins_with(hay: &[u8], lit: &[u8]) -> bool {
    hay.len() >= lit.len() && hay.iter().zip(lit).all(|(a, b)| a == b)
}

/// Whether the space at `at` separates the values of an nginx upstream list
/// (`0.010, 0.020` or `0.010 : 0.020`) rather than ending it.
fn in_list(line: &[u8], at: usize) -> bool {
    (at > 0 && matches!(line[at - 1], b',' | b':')) || line.get(at + 1) == Some(&b':')
}

/// A size: digits or `-` (nothing sent).
fn size(value: &[u8]) -> Result<u64, Malformed> {
    if value == b"-" {
        return Ok(0);
    }
    let (bytes, end) = number_field(value, 0);
    if end == 0 || end != value.len() || end > 19 {
        return Err(Malformed::BadBytes);
    }
    Ok(bytes)
}

/// A whole number of microseconds (`per` 1) or milliseconds (`per` 1000) taken; `-` is none.
fn taken(value: &[u8], per: u64) -> Result<u32, Malformed> {
    if value == b"-" {
        return Ok(NO_RESPONSE_TIME);
    }
    let (n, end) = number_field(value, 0);
    if end == 0 || end != value.len() {
        return Err(Malformed::BadResponseTime);
    }
    Ok(n.saturating_mul(per).min(u64::from(NO_RESPONSE_TIME - 1)) as u32)
}

/// Whole milliseconds (`per_ms` 1) or microseconds (`per_ms` 1000) since the epoch, of at
/// most `digits` digits: as far as the seconds parser's 12 digits reach (the year 33658).
fn epoch_fraction(value: &[u8], per_ms: i64, digits: usize) -> Result<LogTime, Malformed> {
    let (n, end) = number_field(value, 0);
    if end == 0 || end != value.len() || end > digits {
        return Err(Malformed::BadEpochTimestamp);
    }
    Ok(LogTime {
        utc_ms: n as i64 / per_ms,
        offset_min: 0,
    })
}

/// The value of cookie `name` in a Cookie header (`a=1; sid=abc`); empty when absent.
pub(super) fn cookie_value<'a>(header: &'a [u8], name: &[u8]) -> &'a [u8] {
    for part in header.split(|&b| b == b';') {
        let part = part.trim_ascii_start();
        if let Some(value) = part.strip_prefix(name).and_then(|r| r.strip_prefix(b"=")) {
            return value.trim_ascii_end();
        }
    }
    b""
}

/// The syntax and the format string, from a prefix, a configuration line or the directives.
fn split_syntax(spec: &str) -> Result<(Syntax, String), FormatError> {
    let trimmed = spec.trim();
    if let Some(rest) = trimmed.strip_prefix("apache:") {
        return Ok((Syntax::Apache, rest.to_owned()));
    }
    if let Some(rest) = trimmed.strip_prefix("nginx:") {
        return Ok((Syntax::Nginx, rest.to_owned()));
    }
    if let Some(rest) = trimmed.strip_prefix("LogFormat") {
        return Ok((Syntax::Apache, apache_directive(rest)?));
    }
    if let Some(rest) = trimmed.strip_prefix("log_format") {
        return Ok((Syntax::Nginx, nginx_directive(rest)?));
    }
    let bytes = spec.as_bytes();
    let apache = bytes.windows(2).any(|w| {
        w[0] == b'%' && (w[1].is_ascii_alphabetic() || matches!(w[1], b'{' | b'>' | b'<' | b'!'))
    });
    let nginx = bytes
        .windows(2)
        .any(|w| w[0] == b'$' && (w[1].is_ascii_alphabetic() || matches!(w[1], b'{' | b'_')));
    match (apache, nginx) {
        (true, false) => Ok((Syntax::Apache, spec.to_owned())),
        (false, true) => Ok((Syntax::Nginx, spec.to_owned())),
        (true, true) => Err(FormatError::Ambiguous),
        (false, false) => Err(FormatError::NoFields),
    }
}

/// `LogFormat "…" [nickname]` → the quoted format, its escapes kept for [`apache_tokens`].
fn apache_directive(rest: &str) -> Result<String, FormatError> {
    let bad = || {
        FormatError::Directive(
            "a LogFormat line needs the format in double quotes: LogFormat \"%h %t …\" name".into(),
        )
    };
    let rest = rest.trim_start().strip_prefix('"').ok_or_else(bad)?;
    let mut escaped = false;
    for (i, c) in rest.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            '"' => return Ok(rest[..i].to_owned()),
            _ => {}
        }
    }
    Err(bad())
}

/// `log_format name [escape=…] '…' '…';` → the quoted pieces joined.
fn nginx_directive(rest: &str) -> Result<String, FormatError> {
    let mut chars = rest.trim_start().chars().peekable();
    // The name, then an optional escape= parameter.
    for _ in 0..2 {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        if chars.peek().is_some_and(|c| *c != '\'' && *c != '"') {
            while chars.peek().is_some_and(|c| !c.is_whitespace()) {
                chars.next();
            }
        }
    }
    let mut out = String::new();
    let mut found = false;
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        match chars.next() {
            Some(quote @ ('\'' | '"')) => {
                found = true;
                loop {
                    match chars.next() {
                        Some('\\') => out.extend(chars.next()),
                        Some(c) if c == quote => break,
                        Some(c) => out.push(c),
                        None => {
                            return Err(FormatError::Directive(format!(
                                "the log_format line has a {quote} without its closing one"
                            )));
                        }
                    }
                }
            }
            None | Some(';') if found => return Ok(out),
            _ => {
                return Err(FormatError::Directive(
                    "a log_format line needs its format in quotes: log_format main '$remote_addr …';"
                        .into(),
                ));
            }
        }
    }
}

/// Pushes literal text, joined to the text before it.
fn push_text(tokens: &mut Vec<Token>, text: &[u8]) {
    if text.is_empty() {
        return;
    }
    if let Some(Token::Text(prev)) = tokens.last_mut() {
        prev.extend_from_slice(text);
    } else {
        tokens.push(Token::Text(text.to_vec()));
    }
}

fn apache_tokens(text: &str, visitor_cookie: Option<&str>) -> Result<Vec<Token>, FormatError> {
    let s = text.as_bytes();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < s.len() {
        match s[i] {
            b'\\' if i + 1 < s.len() => {
                match s[i + 1] {
                    b'"' => push_text(&mut tokens, b"\""),
                    b'\\' => push_text(&mut tokens, b"\\"),
                    b't' => push_text(&mut tokens, b"\t"),
                    b'n' | b'r' => return Err(FormatError::LineBreak),
                    _ => push_text(&mut tokens, &s[i..i + 2]),
                }
                i += 2;
            }
            b'\n' | b'\r' => return Err(FormatError::LineBreak),
            b'%' => {
                let start = i;
                i += 1;
                if s.get(i) == Some(&b'%') {
                    push_text(&mut tokens, b"%");
                    i += 1;
                    continue;
                }
                // Modifiers: `<` `>` (original or final request), `!` and status lists
                // (log only for some statuses): the value's place is the same.
                while i < s.len() && matches!(s[i], b'<' | b'>' | b'!' | b',' | b'0'..=b'9') {
                    i += 1;
                }
                let mut name = None;
                if s.get(i) == Some(&b'{') {
                    let close = memchr(b'}', &s[i..])
                        .ok_or_else(|| FormatError::Unclosed(text[start..].to_owned()))?;
                    name = Some(&text[i + 1..i + close]);
                    i += close + 1;
                }
                let Some(&letter) = s.get(i) else {
                    return Err(FormatError::UnknownDirective(text[start..].to_owned()));
                };
                // A multi-byte character is not a directive; show it whole.
                let len = text[i..].chars().next().map_or(1, char::len_utf8);
                i += len;
                let directive = text[start..i].to_owned();
                apache_directive_token(&mut tokens, letter, name, directive, visitor_cookie)?;
            }
            b => {
                push_text(&mut tokens, &[b]);
                i += 1;
            }
        }
    }
    Ok(tokens)
}

fn apache_directive_token(
    tokens: &mut Vec<Token>,
    letter: u8,
    name: Option<&str>,
    directive: String,
    visitor_cookie: Option<&str>,
) -> Result<(), FormatError> {
    let needs_name = || {
        name.filter(|n| !n.is_empty())
            .ok_or_else(|| FormatError::NeedsName(directive.clone()))
    };
    let field = match letter {
        b'a' | b'h' => Field::Client,
        b'u' => Field::User,
        b'l' | b'A' | b'f' | b'k' | b'L' | b'P' | b'R' | b'X' | b'I' | b'S' | b'p' => {
            Field::Ignored
        }
        b't' => match name {
            // `%t` is the CLF time in brackets.
            None => {
                push_text(tokens, b"[");
                tokens.push(Token::Field(Field::ClfTime, directive));
                push_text(tokens, b"]");
                return Ok(());
            }
            Some(spec) => {
                time_field(spec).ok_or(FormatError::UnsupportedTime(directive.clone()))?
            }
        },
        b'r' => Field::Request,
        b'm' => Field::Method,
        b'U' => Field::Path,
        b'q' => Field::QueryMark,
        b'H' => Field::Protocol,
        b's' => Field::Status,
        b'b' | b'B' => Field::Bytes,
        b'O' => Field::BytesSent,
        b'D' => Field::TakenMicros,
        b'T' => match name.map(str::to_ascii_lowercase).as_deref() {
            None | Some("s") => Field::TakenSeconds,
            Some("ms") => Field::TakenMillis,
            Some("us") => Field::TakenMicros,
            Some(_) => return Err(FormatError::UnknownDirective(directive)),
        },
        b'v' | b'V' => Field::Host,
        b'i' => header_field(
            &needs_name()?.to_ascii_lowercase().replace('_', "-"),
            visitor_cookie,
        ),
        b'C' => {
            if Some(needs_name()?) == visitor_cookie {
                Field::Cookie
            } else {
                Field::Ignored
            }
        }
        b'e' | b'n' | b'o' | b'c' => {
            needs_name()?;
            Field::Ignored
        }
        b'x' => {
            if needs_name()?.eq_ignore_ascii_case("SSL_PROTOCOL") {
                Field::Tls
            } else {
                Field::Ignored
            }
        }
        _ => return Err(FormatError::UnknownDirective(directive)),
    };
    tokens.push(Token::Field(field, directive));
    Ok(())
}

/// A request header by its lower-case name, `-` between words.
fn header_field(name: &str, visitor_cookie: Option<&str>) -> Field {
    match name {
        "referer" | "referrer" => Field::Referrer,
        "user-agent" => Field::UserAgent,
        "x-forwarded-for" => Field::ForwardedFor,
        "host" => Field::Host,
        "cookie" if visitor_cookie.is_some() => Field::CookieHeader,
        _ => Field::Ignored,
    }
}

/// `%{…}t`: the forms accesslens reads.
fn time_field(spec: &str) -> Option<Field> {
    let spec = spec
        .strip_prefix("begin:")
        .or_else(|| spec.strip_prefix("end:"))
        .unwrap_or(spec);
    Some(match spec {
        "%d/%b/%Y:%H:%M:%S %z" => Field::ClfTime,
        "%Y-%m-%dT%H:%M:%S%z" | "%FT%T%z" => Field::IsoTime,
        "sec" => Field::EpochSeconds,
        "msec" => Field::EpochMillis,
        "usec" => Field::EpochMicros,
        "msec_frac" | "usec_frac" => Field::Ignored,
        _ => return None,
    })
}

fn nginx_tokens(text: &str, visitor_cookie: Option<&str>) -> Result<Vec<Token>, FormatError> {
    let s = text.as_bytes();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < s.len() {
        if matches!(s[i], b'\n' | b'\r') {
            return Err(FormatError::LineBreak);
        }
        if s[i] != b'$' {
            push_text(&mut tokens, &s[i..i + 1]);
            i += 1;
            continue;
        }
        let start = i;
        let (name, end) = if s.get(i + 1) == Some(&b'{') {
            let close = memchr(b'}', &s[i..])
                .ok_or_else(|| FormatError::Unclosed(text[start..].to_owned()))?;
            (&text[i + 2..i + close], i + close + 1)
        } else {
            let len = s[i + 1..]
                .iter()
                .take_while(|b| b.is_ascii_alphanumeric() || **b == b'_')
                .count();
            (&text[i + 1..i + 1 + len], i + 1 + len)
        };
        if name.is_empty() {
            // A `$` that starts no variable is text.
            push_text(&mut tokens, b"$");
            i += 1;
            continue;
        }
        let directive = text[start..end].to_owned();
        i = end;
        let field = match name {
            "remote_addr" | "realip_remote_addr" => Field::Client,
            "binary_remote_addr" => return Err(FormatError::Binary(directive)),
            "remote_user" => Field::User,
            "time_local" => Field::ClfTime,
            "time_iso8601" => Field::IsoTime,
            "msec" => Field::EpochSeconds,
            "request" => Field::Request,
            "request_method" => Field::Method,
            "request_uri" => Field::Target,
            "uri" | "document_uri" => Field::Path,
            "args" | "query_string" => Field::Query,
            "is_args" => Field::IsArgs,
            "server_protocol" => Field::Protocol,
            "status" => Field::Status,
            "body_bytes_sent" => Field::Bytes,
            "bytes_sent" => Field::BytesSent,
            "host" | "server_name" => Field::Host,
            "request_time" => Field::TakenSeconds,
            "ssl_protocol" => Field::Tls,
            n if n.starts_with("upstream_") => Field::Upstream,
            n => match (n.strip_prefix("http_"), n.strip_prefix("cookie_")) {
                (Some(header), _) => header_field(&header.replace('_', "-"), visitor_cookie),
                (_, Some(cookie)) if Some(cookie) == visitor_cookie => Field::Cookie,
                _ => Field::Ignored,
            },
        };
        tokens.push(Token::Field(field, directive));
    }
    Ok(tokens)
}

/// `%U%q` and `$uri$is_args$args` (path and query with nothing between) become one target.
fn merge_request_parts(tokens: Vec<Token>) -> Vec<Token> {
    let mut out: Vec<Token> = Vec::with_capacity(tokens.len());
    for token in tokens {
        let merged = match (out.as_slice(), &token) {
            ([.., Token::Field(Field::Path, a)], Token::Field(Field::QueryMark, b)) => {
                Some(format!("{a}{b}"))
            }
            ([.., Token::Field(Field::Path, a)], Token::Field(Field::IsArgs, b)) => {
                Some(format!("{a}{b}"))
            }
            ([.., Token::Field(Field::Path, a)], Token::Field(Field::Query, b))
                if a.ends_with("$is_args") =>
            {
                Some(format!("{a}{b}"))
            }
            _ => None,
        };
        match merged {
            Some(name) => {
                let target = if name.ends_with("$is_args") {
                    // Still waiting for `$args`: a path so far.
                    Field::Path
                } else {
                    Field::Target
                };
                *out.last_mut().expect("a field before") = Token::Field(target, name);
            }
            None => out.push(token),
        }
    }
    out
}

/// A second field of a slot (`%a` after `%h`, `%V` after `%v`) is skipped; so are the
/// request's parts when the request line is logged, and the size with headers when the body
/// size is.
fn keep_first_of_each_slot(tokens: &mut [Token]) {
    let mut seen = [false; 18];
    let has = |f: Field| {
        tokens
            .iter()
            .any(|t| matches!(t, Token::Field(g, _) if *g == f))
    };
    let (has_request, has_body_size) = (has(Field::Request), has(Field::Bytes));
    for token in tokens.iter_mut() {
        let Token::Field(field, _) = token else {
            continue;
        };
        let part = matches!(
            field,
            Field::Method
                | Field::Path
                | Field::Target
                | Field::QueryMark
                | Field::Query
                | Field::Protocol
        );
        if (has_request && part) || (has_body_size && *field == Field::BytesSent) {
            *field = Field::Ignored;
            continue;
        }
        if let Some(slot) = field.slot() {
            if seen[slot as usize] {
                *field = Field::Ignored;
            }
            seen[slot as usize] = true;
        }
    }
}

/// A time, a request (or its path) and a status are needed for a hit.
fn check_required(tokens: &[Token], syntax: Syntax) -> Result<(), FormatError> {
    let has = |pred: &dyn Fn(Field) -> bool| {
        tokens
            .iter()
            .any(|t| matches!(t, Token::Field(f, _) if pred(*f)))
    };
    if !tokens.iter().any(|t| matches!(t, Token::Field(..))) {
        return Err(FormatError::NoFields);
    }
    let mut missing = Vec::new();
    let apache = syntax == Syntax::Apache;
    if !has(&Field::is_time) {
        missing.push(if apache {
            "time (%t, %{sec}t, …)"
        } else {
            "time ($time_local, $time_iso8601 or $msec)"
        });
    }
    if !has(&|f| matches!(f, Field::Request | Field::Path | Field::Target)) {
        missing.push(if apache {
            "request (%r, or %U for the path)"
        } else {
            "request ($request, or $request_uri or $uri for the path)"
        });
    }
    if !has(&|f| f == Field::Status) {
        missing.push(if apache {
            "status (%>s)"
        } else {
            "status ($status)"
        });
    }
    if missing.is_empty() {
        Ok(())
    } else {
        Err(FormatError::Missing(missing.join(", ")))
    }
}

/// The text before the first field, and the items.
type Layout = (Box<[u8]>, Box<[Item]>);

/// Tokens → the text before the first field and the items.
fn layout(tokens: Vec<Token>) -> Result<Layout, FormatError> {
    let mut head = Vec::new();
    let mut items: Vec<Item> = Vec::new();
    // The name of the last field, for the error on two fields with nothing between them.
    let mut previous: Option<(String, bool)> = None;
    for token in tokens {
        match token {
            Token::Text(text) => match items.last_mut() {
                Some(item) => item.after = text.into(),
                None => head = text,
            },
            Token::Field(field, name) => {
                if let Some((first, false)) = &previous {
                    return Err(FormatError::Adjacent {
                        first: first.clone(),
                        second: name,
                    });
                }
                let before_quote = match items.last() {
                    Some(item) => item.after.ends_with(b"\""),
                    None => head.ends_with(b"\""),
                };
                if let Some(prev) = items.last_mut() {
                    prev.next_numeric = field.is_numeric();
                }
                items.push(Item {
                    field,
                    quoted: before_quote,
                    spaces: field.spaces(),
                    next_numeric: false,
                    after: Box::default(),
                    shortcut: Shortcut::None,
                    missing: field.unterminated(),
                    next_missing: Malformed::NotFormatText,
                });
                previous = Some((name, false));
                continue;
            }
        }
        if let Some(p) = previous.as_mut() {
            p.1 = true;
        }
    }
    // A field of any text takes the reason of the next field that has its own.
    for i in (0..items.len().saturating_sub(1)).rev() {
        if items[i].missing == Malformed::MissingFields {
            items[i].missing = items[i + 1].missing;
        }
        items[i].next_missing = match items[i + 1].field {
            Field::Request => Malformed::NoRequest,
            _ => items[i + 1].missing,
        };
    }
    for item in &mut items {
        item.quoted &= item.after.starts_with(b"\"");
        if item.quoted || !item.after.contains(&b' ') {
            // Inner spaces matter only to an unquoted field that a space ends.
            item.spaces = 0;
        }
        if item.quoted && item.after.ends_with(b"\"") && item.after.len() > 1 {
            // The next field is quoted too: its opening quote confirms the end.
            item.next_numeric = false;
        }
    }
    let last = items.len().saturating_sub(1);
    for (i, item) in items.iter_mut().enumerate() {
        item.shortcut = shortcut(item, i == last);
    }
    Ok((head.into(), items.into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn compile(spec: &str) -> CustomFormat {
        CustomFormat::compile(spec, None).unwrap_or_else(|e| panic!("{spec}: {e}"))
    }

    const APACHE_COMBINED: &str = r#"%h %l %u %t \"%r\" %>s %b \"%{Referer}i\" \"%{User-Agent}i\""#;
    const NGINX_COMBINED: &str = r#"$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent""#;
    const LINE: &str = r#"127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326 "http://www.example.com/start.html" "Mozilla/4.08 [en] (Win98; I ;Nav)""#;

    #[test]
    fn combined_in_both_syntaxes_reads_like_the_preset() {
        let preset = super::super::Format::Combined
            .parse(LINE.as_bytes())
            .unwrap();
        for spec in [APACHE_COMBINED, NGINX_COMBINED] {
            let f = compile(spec);
            assert_eq!(f.parse(LINE.as_bytes()).unwrap(), preset, "{spec}");
        }
        assert_eq!(compile(APACHE_COMBINED).syntax(), Syntax::Apache);
        assert_eq!(compile(NGINX_COMBINED).syntax(), Syntax::Nginx);
    }

    /// `spec` compiled with every shortcut off: each field found by searching for the
    /// literal after it, as the format says.
    fn searching_only(spec: &str) -> CustomFormat {
        let mut f = compile(spec);
        f.combined_at = None;
        f.agent_in_run = false;
        f.walked = f.items.len();
        f.dashes_after_client = None;
        for item in f.items.iter_mut() {
            item.shortcut = Shortcut::None;
        }
        f
    }

    #[test]
    fn shortcuts_land_where_the_search_does() {
        let specs = [
            APACHE_COMBINED.to_owned(),
            NGINX_COMBINED.to_owned(),
            format!("{APACHE_COMBINED} %D"),
            format!("{NGINX_COMBINED} $request_time $upstream_response_time"),
            format!("{NGINX_COMBINED} \"$http_x_forwarded_for\""),
            "$time_local|$remote_user|$status|$body_bytes_sent|$request_time|$request".to_owned(),
            "%{msec}t %s %b %{ms}T \"%r\" %l".to_owned(),
        ];
        for (k, spec) in specs[..4].iter().enumerate() {
            assert!(compile(spec).combined_at.is_some(), "{spec}");
            assert_eq!(compile(spec).agent_in_run, k >= 2, "{spec}");
            // `$upstream_response_time`, last, is not looked at.
            let f = compile(spec);
            assert_eq!(f.walked, f.items.len() - usize::from(k == 3), "{spec}");
        }
        for spec in &specs[..2] {
            let dashes = compile(spec).dashes_after_client;
            assert_eq!(
                dashes.as_ref().map(|(_, t)| &t[..]),
                Some(&b" - - ["[..]),
                "{spec}"
            );
        }
        let bases = [
            LINE.to_owned(),
            format!("{LINE} 1500"),
            format!("{LINE} 0.012 0.010, 0.002 : -"),
            format!("{LINE} \"10.0.0.1\""),
            r#"1.2.3.4 - - [10/Oct/2026:13:55:36 +0000] "GET /a"b HTTP/1.1" - - "-" "UA \"x\" 2""#
                .to_owned(),
            r#"1.2.3.4 - - [10/Oct/2026:13:55:36.250 +0000] "" 404 12345678901234567890 "r" "\\""#
                .to_owned(),
            "10/Oct/2026:13:55:36 +0000|-|200|-|0.5|GET / HTTP/1.1".to_owned(),
            r#"1791640536123 200 - 15 "GET / HTTP/1.1" -"#.to_owned(),
        ];
        let specials = b" \"-\\]0x.[|,:";
        let mut checked = 0;
        for spec in &specs {
            let (fast, slow) = (compile(spec), searching_only(spec));
            for base in &bases {
                for line in &crate::parse::one_edit_away(base.as_bytes(), specials) {
                    assert_eq!(
                        fast.parse(line),
                        slow.parse(line),
                        "{spec}\n{}",
                        String::from_utf8_lossy(line)
                    );
                    checked += 1;
                }
            }
        }
        assert!(checked > 100_000, "{checked}");
    }

    #[test]
    fn quotes_inside_quoted_fields() {
        let f = compile(APACHE_COMBINED);
        let l = f
            .parse(br#"1.2.3.4 - - [10/Oct/2026:13:55:36 +0000] "GET /a"b HTTP/1.1" 404 5 "http://r/?q=\"x\"" "Bad "agent" here""#)
            .unwrap();
        assert_eq!(l.request, Request::Line(br#"GET /a"b HTTP/1.1"#));
        assert_eq!(l.status, 404);
        assert_eq!(l.referrer, br#"http://r/?q=\"x\""#);
        assert_eq!(l.user_agent, br#"Bad "agent" here"#);
    }

    #[test]
    fn apache_directive_families() {
        let f = compile(
            r#"%v:%p %{c}a %a %l %u %{%d/%b/%Y:%H:%M:%S %z}t %m %U%q %H %>s %B %O %I %D "%{X-Forwarded-For}i" "%{Host}i" %{SSL_PROTOCOL}x %{sid}C %{UNIQUE_ID}e %{note}n %{Location}o %{X-Other}i %% %k"#,
        );
        let l = f
            .parse(br#"www.example.com:443 10.0.0.1 10.0.0.2 - bob 10/Oct/2026:13:55:36 +0200 POST /cart?id=3 HTTP/2.0 201 512 900 300 1234 "203.0.113.9, 10.0.0.1" "shop.example.com:8443" TLSv1.3 abc ZZ - text/html x % 0"#)
            .unwrap();
        assert_eq!(l.vhost, b"www.example.com");
        assert_eq!(l.client, b"10.0.0.1");
        assert_eq!(l.user, b"bob");
        assert_eq!(l.time.utc_ms, 1_791_640_536_000 - 2 * 3_600_000);
        assert_eq!(l.time.offset_min, 120);
        assert_eq!(
            l.request.to_line(),
            b"POST /cart?id=3 HTTP/2.0".to_vec(),
            "%U%q is the target"
        );
        assert_eq!((l.status, l.bytes), (201, 512));
        assert_eq!(l.response_time_us, 1234);
        assert_eq!(l.forwarded_for, b"203.0.113.9, 10.0.0.1");
        assert_eq!(l.tls, b"TLSv1.3");
        assert_eq!(l.cookie, b"", "no visitor cookie named");
    }

    #[test]
    fn apache_times_and_durations() {
        let cases: &[(&str, &str, i64, u32)] = &[
            (
                "%{sec}t %r %s %T",
                "1791640536 GET / HTTP/1.1 200 2",
                1_791_640_536_000,
                2_000_000,
            ),
            (
                "%{msec}t %r %s %{ms}T",
                "1791640536123 GET / HTTP/1.1 200 15",
                1_791_640_536_123,
                15_000,
            ),
            (
                "%{usec}t %r %s %{us}T",
                "1791640536123456 GET / HTTP/1.1 200 15",
                1_791_640_536_123,
                15,
            ),
            (
                "%{begin:%Y-%m-%dT%H:%M:%S%z}t %r %s %{s}T",
                "2026-10-10T13:55:36+0000 GET / HTTP/1.1 200 -",
                1_791_640_536_000,
                NO_RESPONSE_TIME,
            ),
            (
                "[%{%d/%b/%Y:%H:%M:%S %z}t] %{msec_frac}t %r %>s",
                "[10/Oct/2026:13:55:36 +0000] 250 GET / HTTP/1.1 200",
                1_791_640_536_000,
                NO_RESPONSE_TIME,
            ),
        ];
        for (spec, line, ms, taken) in cases {
            let l = compile(spec)
                .parse(line.as_bytes())
                .unwrap_or_else(|e| panic!("{spec}: {e}"));
            assert_eq!(l.time.utc_ms, *ms, "{spec}");
            assert_eq!(l.response_time_us, *taken, "{spec}");
            assert_eq!(l.request, Request::Line(b"GET / HTTP/1.1"), "{spec}");
        }
    }

    #[test]
    fn apache_modifiers_are_the_plain_directive() {
        let f = compile(r#"%h %t "%<r" %<s %400,501{User-agent}i %!200{Referer}i"#);
        let l = f
            .parse(br#"1.2.3.4 [10/Oct/2026:13:55:36 +0000] "GET / HTTP/1.1" 200 curl/8 -"#)
            .unwrap();
        assert_eq!(l.user_agent, b"curl/8");
        assert_eq!(l.referrer, b"");
        assert_eq!(l.status, 200);
    }

    #[test]
    fn nginx_variable_families() {
        let f = compile(
            r#"${remote_addr} $remote_user $time_iso8601 $host $server_name "$request_method $uri$is_args$args $server_protocol" $status $bytes_sent $body_bytes_sent $request_time $upstream_response_time "$http_x_forwarded_for" $ssl_protocol $cookie_sid "$http_accept_language" $scheme"#,
        );
        let l = f
            .parse(br#"203.0.113.7 - 2026-10-10T15:55:36+02:00 shop.example.com:8080 _ "GET /p?a=1 HTTP/1.1" 200 700 512 0.120 0.010, 0.100 : 0.002 "-" TLSv1.2 xyz "en-US,en;q=0.9" https"#)
            .unwrap();
        assert_eq!(l.client, b"203.0.113.7");
        assert_eq!(l.user, b"");
        assert_eq!(l.time.utc_ms, 1_791_640_536_000);
        assert_eq!(l.time.offset_min, 120);
        assert_eq!(l.vhost, b"shop.example.com:8080");
        assert_eq!(l.request.to_line(), b"GET /p?a=1 HTTP/1.1".to_vec());
        assert_eq!(
            (l.status, l.bytes),
            (200, 512),
            "body size wins over bytes_sent"
        );
        assert_eq!(l.response_time_us, 120_000);
        assert_eq!(l.forwarded_for, b"");
        assert_eq!(l.tls, b"TLSv1.2");

        let f = compile("$msec $request_uri?$query_string $status $bytes_sent");
        let l = f.parse(b"1791640536.250 /a/b?x=1 304 90").unwrap();
        assert_eq!(l.time.utc_ms, 1_791_640_536_250);
        assert_eq!(l.request.to_line(), b"- /a/b?x=1".to_vec());
        assert_eq!(l.bytes, 90, "bytes_sent when no body size");
        let f = compile("$time_local|$uri|$args|$status");
        let l = f.parse(b"10/Oct/2026:13:55:36 +0000|/s|-|200").unwrap();
        assert_eq!(l.request.to_line(), b"- /s".to_vec());
    }

    #[test]
    fn visitor_cookie_from_its_field_or_the_header() {
        let line =
            br#"1.2.3.4 [10/Oct/2026:13:55:36 +0000] "GET / HTTP/1.1" 200 "a=1; sid=s-42; b=2""#;
        let f = CustomFormat::compile(r#"%h %t "%r" %>s "%{Cookie}i""#, Some("sid")).unwrap();
        assert_eq!(f.parse(line).unwrap().cookie, b"s-42");
        let f = CustomFormat::compile(r#"%h %t "%r" %>s "%{Cookie}i""#, Some("nope")).unwrap();
        assert_eq!(f.parse(line).unwrap().cookie, b"");
        let f = CustomFormat::compile(r#"%h %t "%r" %>s "%{Cookie}i""#, None).unwrap();
        assert_eq!(f.parse(line).unwrap().cookie, b"");
        let f = CustomFormat::compile(
            r#"$remote_addr [$time_local] "$request" $status "$http_cookie""#,
            Some("sid"),
        )
        .unwrap();
        assert_eq!(f.parse(line).unwrap().cookie, b"s-42");
        let f = CustomFormat::compile(
            "$remote_addr [$time_local] \"$request\" $status $cookie_sid",
            Some("sid"),
        )
        .unwrap();
        let l = f
            .parse(br#"1.2.3.4 [10/Oct/2026:13:55:36 +0000] "GET / HTTP/1.1" 200 s-7"#)
            .unwrap();
        assert_eq!(l.cookie, b"s-7");
        assert_eq!(cookie_value(b"sid=1;sid2=2", b"sid2"), b"2");
        assert_eq!(cookie_value(b"xsid=1", b"sid"), b"");
    }

    #[test]
    fn configuration_lines_are_read_whole() {
        let f = compile(
            r#"LogFormat "%h %l %u %t \"%r\" %>s %b \"%{Referer}i\" \"%{User-Agent}i\"" combined"#,
        );
        assert_eq!(f.parse(LINE.as_bytes()).unwrap().user, b"frank");
        let f = compile(
            r#"log_format main escape=default '$remote_addr - $remote_user [$time_local] "$request" '
                  '$status $body_bytes_sent "$http_referer" '
                  '"$http_user_agent"';"#,
        );
        assert_eq!(f.syntax(), Syntax::Nginx);
        assert_eq!(f.parse(LINE.as_bytes()).unwrap().status, 200);
        assert_eq!(
            compile(&format!("nginx:{NGINX_COMBINED}")).syntax(),
            Syntax::Nginx
        );
        assert_eq!(compile("apache:%h [$x] %t %r %s").syntax(), Syntax::Apache);
    }

    #[test]
    fn compile_errors_say_what_to_change() {
        let err = |spec: &str| CustomFormat::compile(spec, None).unwrap_err().to_string();
        assert!(err("%h %u").contains("time (%t"), "{}", err("%h %u"));
        assert!(err("%h %t %>s").contains("request (%r"));
        assert!(err("$remote_addr [$time_local] $status").contains("request ($request"));
        let e = err("%h %t %r");
        assert!(e.contains("status (%>s)") && !e.contains("time"), "{e}");
        assert!(err("%h %t %{%s}t %r %s").contains("unsupported time format %{%s}t"));
        assert!(err("%h %Z %t %r %s").contains("unknown Apache directive %Z"));
        assert!(err("%h %{Referer %t").contains("no closing }"));
        assert!(err("%h %i %t %r %s").contains("%i needs a name"));
        assert!(err("%h%u %t %r %s").contains("%h and %u have nothing between them"));
        assert!(err("$binary_remote_addr $time_local $request $status").contains("raw bytes"));
        assert!(err("%h $remote_addr").contains("apache: or nginx:"));
        assert!(err("just text").contains("no fields"));
        assert!(err("%h\\n%t %r %s").contains("line break"));
        assert!(err("log_format main;").contains("in quotes"));
        assert!(err("LogFormat %h").contains("double quotes"));
        let e = CustomFormat::compile("%h %t %r %s", Some("sid"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("cookie:sid") && e.contains("%{sid}C"), "{e}");
        let e = CustomFormat::compile("$remote_addr $msec $request $status", Some("sid"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("$cookie_sid"), "{e}");
    }

    #[test]
    fn malformed_lines_say_why() {
        let f = compile(&format!("{APACHE_COMBINED} %D"));
        let good = format!("{LINE} 1500");
        assert_eq!(f.parse(good.as_bytes()).unwrap().response_time_us, 1500);
        let cases: &[(&str, Malformed)] = &[
            ("", Malformed::NoClient),
            ("1.2.3.4", Malformed::NoClient),
            ("bad line", Malformed::NoTimestamp),
            (
                " - - [10/Oct/2026:13:55:36 +0000] \"GET / HTTP/1.1\" 200 5 \"-\" \"-\" 1",
                Malformed::NoClient,
            ),
            (
                "1.2.3.4 - - 10/Oct/2026:13:55:36 +0000 \"GET / HTTP/1.1\" 200 5 \"-\" \"-\" 1",
                Malformed::NoTimestamp,
            ),
            (
                "1.2.3.4 - - [10/Oct/2026 13:55:36] \"GET / HTTP/1.1\" 200 5 \"-\" \"-\" 1",
                Malformed::BadTimestamp,
            ),
            (
                "1.2.3.4 - - [10/Oct/2026:13:55:36 +0000] \"GET / HTTP/1.1 200 5",
                Malformed::UnterminatedRequest,
            ),
            (
                "1.2.3.4 - - [10/Oct/2026:13:55:36 +0000] \"GET / HTTP/1.1\" 2000 5 \"-\" \"-\" 1",
                Malformed::BadStatus,
            ),
            (
                "1.2.3.4 - - [10/Oct/2026:13:55:36 +0000] \"GET / HTTP/1.1\" 200 5x \"-\" \"-\" 1",
                Malformed::BadBytes,
            ),
            (
                "1.2.3.4 - - [10/Oct/2026:13:55:36 +0000] \"GET / HTTP/1.1\" 200 5 \"- \"-\" 1",
                Malformed::UnterminatedReferrer,
            ),
            (
                "1.2.3.4 - - [10/Oct/2026:13:55:36 +0000] \"GET / HTTP/1.1\" 200 5 \"-\" \"UA 1",
                Malformed::UnterminatedUserAgent,
            ),
            (
                "1.2.3.4 - - [10/Oct/2026:13:55:36 +0000] \"GET / HTTP/1.1\" 200 5 \"-\" \"UA\" 1.5",
                Malformed::BadResponseTime,
            ),
            (
                "1.2.3.4 - - [10/Oct/2026:13:55:36 +0000] \"GET / HTTP/1.1\" 200 5 \"-\" \"UA\"",
                Malformed::UnterminatedUserAgent,
            ),
        ];
        for (line, reason) in cases {
            assert_eq!(f.parse(line.as_bytes()), Err(*reason), "{line}");
        }
        let f = compile("[%t] %r %s");
        assert_eq!(f.parse(b"x"), Err(Malformed::NotFormatText));
        let f = compile("$msec $status $request");
        assert_eq!(f.parse(b"17.5 200 GET /").unwrap().time.utc_ms, 17_500);
        assert_eq!(f.parse(b"x 200 GET /"), Err(Malformed::BadEpochTimestamp));
        let f = compile("$time_iso8601 $status $request");
        assert_eq!(
            f.parse(b"2026-10-10 200 GET /"),
            Err(Malformed::BadIsoTimestamp)
        );
    }

    #[test]
    fn an_upstream_list_first_on_the_line() {
        // A space at the very start of the line, where the list check looks one byte back.
        let f = compile("$upstream_response_time $msec $request $status");
        assert_eq!(f.parse(b" 1 GET 200"), Err(Malformed::UnterminatedRequest));
        let l = f
            .parse(b"0.1, 0.2 : 0.3 1791640536 GET / HTTP/1.1 200")
            .unwrap();
        assert_eq!(l.time.utc_ms, 1_791_640_536_000);
    }

    #[test]
    fn epoch_times_stay_within_the_seconds_parsers_range() {
        let f = compile("%{msec}t %s %r");
        assert!(f.parse(b"999999999999999 200 GET /").is_ok());
        assert_eq!(
            f.parse(b"9999999999999999 200 GET /"),
            Err(Malformed::BadEpochTimestamp)
        );
        let f = compile("%{usec}t %s %r");
        assert!(f.parse(b"999999999999999999 200 GET /").is_ok());
        assert_eq!(
            f.parse(b"9999999999999999999 200 GET /"),
            Err(Malformed::BadEpochTimestamp)
        );
    }
}
