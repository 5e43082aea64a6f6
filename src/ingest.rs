//! Ingest: inputs → split → parse → interned hits in shards, with counts per file.
//!
//! This is the per-line part of the pipeline, and the only part whose cost grows with the
//! bytes read. Inputs are processed in parallel, and each input's windows are cut into
//! chunks that are parsed in parallel too. A chunk is parsed into hits with chunk-local ids
//! (borrowing the window's bytes), merged into the run's dictionaries once, and its hits are
//! handed to the visitor shards. Malformed lines are counted and the first ones sampled with
//! their line numbers; blank lines (and W3C `#` directives) are counted apart.
//!
//! Each input's format is the one given, or detected from its first window's first lines.
//! W3C formats are laid out by `#Fields:` lines (and a layout without a date is dated by
//! `#Date:` lines), and chunks are parsed in parallel: before a window's chunks are parsed,
//! the `#Fields:` and `#Date:` lines in effect at each chunk's start are found (a search of
//! each chunk on its own thread, W3C formats only) and handed to that chunk's parser, and
//! the ones in effect at the window's end are carried to the next window.
//!
//! Once every input is read, hits carried from an earlier run's open sessions
//! (`--continue-from`) join the shards, interned like the others and marked [`CARRIED`].

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use rayon::prelude::*;

use crate::enrich::{ChunkHits, ClientIp, Dictionaries, SharedDictionaries, VisitorKey};
use crate::error::{Error, Result};
use crate::input::{OpenInput, ReadOptions, Source, split_chunks};
use crate::output::progress::Progress;
use crate::parse::detect::{self, Detected};
use crate::parse::time::TimeRange;
use crate::parse::{self, Clock, CustomFormat, Format, LineParser, Malformed, Parsed};
use crate::parse::{LogLine, LogTime, Request, TextCoding};
use crate::sessionize::{CARRIED, CARRIED_INPUT, Shards, SpillOptions};

/// How many malformed lines are kept as samples (per input and in all).
pub const MAX_SAMPLES: usize = 100;

/// Longest excerpt of a malformed line that is kept.
const SAMPLE_BYTES: usize = 300;

/// What one input contained.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileStats {
    pub file: String,
    pub bytes: u64,
    pub lines: u64,
    pub blank_lines: u64,
    pub hits: u64,
    pub malformed: u64,
    /// Lines that parsed but fall outside `--since`/`--until` (neither hits nor malformed).
    pub out_of_range: u64,
    /// Hits whose client is their X-Forwarded-For address (`--client-ip forwarded-for`).
    pub forwarded_clients: u64,
    /// Hits whose line has no user-agent field ([`crate::parse::AGENT_NOT_LOGGED`]).
    pub agents_not_logged: u64,
    /// Hits whose request has no method (the format logs none, or `-`): counted as GETs.
    pub methods_not_logged: u64,
    /// Hits whose time is the server's clock with no zone written ([`Clock::Unzoned`]),
    /// read without `--tz`, so taken as UTC.
    pub unzoned_hits: u64,
    /// The input's content fingerprint (`None` for standard input).
    pub fingerprint: Option<String>,
    /// The format the input was read as.
    pub format: Format,
    /// How detection chose it (`None` when `--format` named it).
    pub detected: Option<Detected>,
}

/// A malformed line, as shown to users.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MalformedSample {
    pub file: String,
    /// 1-based line number in its file.
    pub line: u64,
    pub reason: Malformed,
    pub text: String,
}

/// How to ingest.
#[derive(Debug, Clone)]
pub struct IngestOptions {
    /// The inputs' format; `None` detects each input's own. [`Format::Custom`] comes with
    /// `custom`.
    pub format: Option<Format>,
    /// The compiled `--log-format`, shared by every chunk's parser.
    pub custom: Option<Arc<CustomFormat>>,
    /// What tells visitors apart.
    pub visitor_key: VisitorKey,
    /// Where a hit's client address comes from.
    pub client_ip: ClientIp,
    /// Keep each hit's virtual host, TLS protocol and X-Forwarded-For header: only the hits
    /// table shows them, and a logged X-Forwarded-For costs a lookup a line.
    pub connections: bool,
    pub read: ReadOptions,
    /// Chunk size in bytes; `None` adapts it to the window and the thread count.
    pub chunk_size: Option<usize>,
    /// Skip inputs that cannot be opened instead of failing.
    pub keep_going: bool,
    /// Lines outside this range are counted, not read as hits.
    pub range: TimeRange,
    /// `--tz`: minutes east of UTC of the clock for formats whose times carry no offset.
    pub tz: Option<i16>,
    /// The cookie that identifies visitors (`--visitor-key cookie:NAME`), read from the W3C
    /// formats' `cs(Cookie)` (a custom format carries its own).
    pub visitor_cookie: Option<Arc<str>>,
}

/// A hit carried from an earlier run's open sessions (`--continue-from`), its texts owned:
/// what sessions need of it, and its visitor's key (the client and user agent that describe
/// the visitor, and the user name or cookie value that names it, empty when none does).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CarriedHit {
    pub client: Vec<u8>,
    pub user_agent: Vec<u8>,
    pub ident: Vec<u8>,
    pub ts_ms: i64,
    pub offset_min: i16,
    pub request: Vec<u8>,
    pub referrer: Vec<u8>,
    pub status: u16,
    pub bytes: u64,
}

/// Called once every input is read, with what was read and the first and last time of its
/// hits: the hits to carry into this run's sessions.
pub type Carry<'a> = dyn FnMut(&[FileStats], Option<(i64, i64)>) -> Result<Vec<CarriedHit>> + 'a;

/// Everything read from the inputs.
pub struct Ingested {
    pub dicts: Dictionaries,
    pub shards: Shards,
    /// Per input, in the order given.
    pub files: Vec<FileStats>,
    pub samples: Vec<MalformedSample>,
    /// Inputs skipped under `keep_going`, with the reason.
    pub skipped: Vec<String>,
    /// The first and last time (UTC ms) of the inputs' hits.
    pub span: Option<(i64, i64)>,
    /// The visitors of the carried hits, sorted.
    pub carried_visitors: Vec<u32>,
}

/// Reads every input.
pub fn ingest(
    sources: &[Source],
    options: &IngestOptions,
    spill: Option<SpillOptions>,
    progress: &Progress,
    carry: &mut Carry<'_>,
) -> Result<Ingested> {
    // Open everything first: a missing file fails the run before any work is done.
    let mut skipped = Vec::new();
    let mut files = Vec::with_capacity(sources.len());
    for source in sources {
        match crate::input::expand::expand(source) {
            Ok(found) => files.extend(found),
            Err(e) if options.keep_going => skipped.push(e.to_string()),
            Err(e) => return Err(e),
        }
    }
    let files = crate::input::expand::dedup(files);
    let mut inputs = Vec::with_capacity(files.len());
    for source in &files {
        match OpenInput::open(source) {
            Ok(input) => inputs.push(input),
            Err(e) if options.keep_going => skipped.push(e.to_string()),
            Err(e) => return Err(e),
        }
    }
    if inputs.is_empty() {
        return Err(Error::NoReadableInput { skipped });
    }
    progress.set_length(inputs.iter().map(|i| i.len).sum::<Option<u64>>());

    let dicts = SharedDictionaries::default();
    let shards = Shards::new(spill);
    let results = read_all(&inputs, |index, input| {
        ingest_one(input, index, options, &dicts, &shards, progress)
    })?;

    let mut files = Vec::with_capacity(results.len());
    let mut samples = Vec::new();
    for (stats, file_samples) in results {
        files.push(stats);
        samples.extend(file_samples);
    }
    samples.truncate(MAX_SAMPLES);
    let span = shards.span();
    let carried = carry(&files, span)?;
    let carried_visitors = add_carried(&carried, options.visitor_key, &dicts, &shards);
    Ok(Ingested {
        dicts: dicts.into_inner(),
        shards,
        files,
        samples,
        skipped,
        span,
        carried_visitors,
    })
}

/// Interns carried hits as lines of their own and adds them to the shards, marked
/// [`CARRIED`]. Returns their visitors.
fn add_carried(
    carried: &[CarriedHit],
    key: VisitorKey,
    dicts: &SharedDictionaries,
    shards: &Shards,
) -> Vec<u32> {
    if carried.is_empty() {
        return Vec::new();
    }
    let mut chunk = ChunkHits::with_key(carried.len(), key);
    for c in carried {
        let time = LogTime {
            utc_ms: c.ts_ms,
            offset_min: c.offset_min,
        };
        chunk.push(&LogLine {
            user: &c.ident,
            cookie: &c.ident,
            bytes: c.bytes,
            referrer: &c.referrer,
            user_agent: &c.user_agent,
            coding: TextCoding::AsLogged,
            ..LogLine::new(&c.client, time, Request::Line(&c.request), c.status)
        });
    }
    let mut hits = chunk.into_global(dicts);
    let mut visitors: Vec<u32> = hits.iter().map(|h| h.visitor).collect();
    visitors.sort_unstable();
    visitors.dedup();
    for hit in &mut hits {
        hit.status |= CARRIED;
    }
    shards.add(hits, CARRIED_INPUT);
    visitors
}

/// Runs `read` on every input and returns the results in input order (or the error of the
/// first input that failed).
///
/// A few readers, one per thread, take the inputs in turn, each reading one file at a time,
/// while every thread parses the chunks of whichever windows are open. So however many files
/// there are, at most one per thread is open and in memory at once.
fn read_all<T: Send>(
    inputs: &[OpenInput],
    read: impl Fn(u32, &OpenInput) -> Result<T> + Sync,
) -> Result<Vec<T>> {
    let next = AtomicUsize::new(0);
    let failed = AtomicBool::new(false);
    let done: Vec<Mutex<Option<Result<T>>>> = inputs.iter().map(|_| Mutex::new(None)).collect();
    let readers = rayon::current_num_threads().min(inputs.len());
    rayon::scope(|scope| {
        for _ in 0..readers {
            scope.spawn(|_| {
                while !failed.load(Ordering::Relaxed) {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(input) = inputs.get(i) else { break };
                    let result = read(i as u32, input);
                    if result.is_err() {
                        failed.store(true, Ordering::Relaxed);
                    }
                    *done[i].lock().unwrap_or_else(|p| p.into_inner()) = Some(result);
                }
            });
        }
    });
    let mut results = Vec::with_capacity(inputs.len());
    for slot in done {
        // After a failure the inputs not yet started have no result; the error is returned.
        if let Some(result) = slot.into_inner().unwrap_or_else(|p| p.into_inner()) {
            results.push(result?);
        }
    }
    Ok(results)
}

fn ingest_one(
    input: &OpenInput,
    index: u32,
    options: &IngestOptions,
    dicts: &SharedDictionaries,
    shards: &Shards,
    progress: &Progress,
) -> Result<(FileStats, Vec<MalformedSample>)> {
    let mut stats = FileStats {
        file: input.name.clone(),
        bytes: 0,
        lines: 0,
        blank_lines: 0,
        hits: 0,
        malformed: 0,
        out_of_range: 0,
        forwarded_clients: 0,
        agents_not_logged: 0,
        methods_not_logged: 0,
        unzoned_hits: 0,
        fingerprint: input.fingerprint.clone(),
        format: options.format.unwrap_or_default(),
        detected: None,
    };
    let mut samples = Vec::new();
    let threads = rayon::current_num_threads();
    let mut format = options.format;
    // The W3C `#Fields:` and `#Date:` lines in effect at the end of the windows read so far.
    let (mut fields, mut date): (Option<Vec<u8>>, Option<Vec<u8>>) = (None, None);
    stats.bytes = input.for_each_window(options.read, |window| {
        let format = match format {
            Some(f) => f,
            None => {
                let found = detect::detect(window).map_err(|e| Error::UnknownFormat {
                    path: stats.file.clone(),
                    reason: e.describe(),
                })?;
                stats.detected = Some(found);
                *format.insert(found.format)
            }
        };
        stats.format = format;
        let target = options
            .chunk_size
            .unwrap_or_else(|| (window.len() / (threads * 4)).clamp(256 << 10, 8 << 20));
        let chunks = split_chunks(window, target);
        // The directives each chunk starts under: the last ones of the chunks before it
        // (each chunk searched on its own thread), else the ones the windows before left.
        let mut starts: Vec<Directives> = Vec::with_capacity(chunks.len());
        // The window's own last directives, carried to the next window.
        let mut window_last = Directives::default();
        if format.is_w3c() {
            let lasts: Vec<Directives> = chunks.par_iter().map(|c| last_directives(c)).collect();
            for last in lasts {
                starts.push(Directives {
                    fields: window_last.fields.or(fields.as_deref()),
                    date: window_last.date.or(date.as_deref()),
                });
                window_last = Directives {
                    fields: last.fields.or(window_last.fields),
                    date: last.date.or(window_last.date),
                };
            }
        } else {
            starts.resize(chunks.len(), Directives::default());
        }
        let parsed: Vec<ChunkStats> = chunks
            .par_iter()
            .zip(&starts)
            .map(|(chunk, start)| {
                let parser = match &options.custom {
                    Some(custom) => LineParser::custom(Arc::clone(custom)),
                    None => LineParser::new(format, start.fields)
                        .with_w3c_date(start.date)
                        .with_visitor_cookie(options.visitor_cookie.clone()),
                };
                parse_chunk(chunk, index, parser, options, dicts, shards)
            })
            .collect();
        if let Some(last) = window_last.fields {
            fields = Some(last.to_vec());
        }
        if let Some(last) = window_last.date {
            date = Some(last.to_vec());
        }
        for chunk in parsed {
            for (line, reason, text) in chunk.samples {
                if samples.len() < MAX_SAMPLES {
                    samples.push(MalformedSample {
                        file: stats.file.clone(),
                        line: stats.lines + line,
                        reason,
                        text,
                    });
                }
            }
            stats.lines += chunk.lines;
            stats.blank_lines += chunk.blank_lines;
            stats.hits += chunk.hits;
            stats.malformed += chunk.malformed;
            stats.out_of_range += chunk.out_of_range;
            stats.forwarded_clients += chunk.forwarded_clients;
            stats.agents_not_logged += chunk.agents_not_logged;
            stats.methods_not_logged += chunk.methods_not_logged;
            stats.unzoned_hits += chunk.unzoned_hits;
        }
        progress.inc(window.len() as u64);
        shards.spill_error()
    })?;
    stats.fingerprint = input.content_fingerprint();
    Ok((stats, samples))
}

/// The W3C directives that lay out and date the lines after them: a `#Fields:` line and a
/// `#Date:` line (each without its line end), when there is one.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Directives<'a> {
    fields: Option<&'a [u8]>,
    date: Option<&'a [u8]>,
}

/// The last `#Fields:` and `#Date:` lines of `chunk`: a forward search for `#`, the
/// directives at a line start kept. (memchr's reverse search has no vector prefilter:
/// searching each chunk backwards, one thread after the other, took 22% of a W3C run's
/// samples; a forward search takes 4%, spread over the threads. A `#` is rare inside a
/// line: browsers do not send a URL's fragment.)
fn last_directives(chunk: &[u8]) -> Directives<'_> {
    let mut last = Directives::default();
    for at in memchr::memchr_iter(b'#', chunk) {
        if at > 0 && chunk[at - 1] != b'\n' {
            continue;
        }
        let rest = &chunk[at..];
        let slot = if rest.starts_with(b"#Fields:") {
            &mut last.fields
        } else if rest.starts_with(b"#Date:") {
            &mut last.date
        } else {
            continue;
        };
        let line = &rest[..memchr::memchr(b'\n', rest).unwrap_or(rest.len())];
        *slot = Some(line.strip_suffix(b"\r").unwrap_or(line));
    }
    last
}

/// What one chunk contained; sample line numbers are 1-based within the chunk.
#[derive(Default)]
struct ChunkStats {
    lines: u64,
    blank_lines: u64,
    hits: u64,
    malformed: u64,
    out_of_range: u64,
    forwarded_clients: u64,
    agents_not_logged: u64,
    methods_not_logged: u64,
    unzoned_hits: u64,
    samples: Vec<(u64, Malformed, String)>,
}

/// The hot loop: parse every line of a chunk, intern its fields, hand the hits to the shards.
fn parse_chunk(
    chunk: &[u8],
    input: u32,
    mut parser: LineParser,
    options: &IngestOptions,
    dicts: &SharedDictionaries,
    shards: &Shards,
) -> ChunkStats {
    // The default format gets a loop of its own, with its scanner inlined into it: the
    // parsed line is built where it is used instead of being returned through the
    // dispatch of every format.
    let key = (options.visitor_key, options.client_ip, options.connections);
    let range = options.range;
    match (parser.format(), options.tz) {
        (Format::Combined, _) => parse_lines(chunk, input, range, key, dicts, shards, |line| {
            Format::Combined.parse(line).map(Parsed::Hit)
        }),
        // Times that are not each logged with their offset: with `--tz` put on its clock;
        // without it, those on the server's clock are taken as UTC and counted, for the
        // warning that says so.
        (format, tz)
            if match tz {
                Some(_) => format.clock() != Clock::Logged,
                None => format.clock() == Clock::Unzoned || format.is_w3c(),
            } =>
        {
            let mut unzoned = 0;
            let mut stats = parse_lines(chunk, input, range, key, dicts, shards, |line| {
                let mut parsed = parser.parse(line);
                // A W3C header met in the chunk may change the clock (`date-local`).
                let clock = parser.clock();
                if let Ok(Parsed::Hit(hit)) = &mut parsed {
                    match tz {
                        Some(tz) => hit.time = clock.apply(hit.time, tz),
                        None if clock == Clock::Unzoned && range.contains(hit.time) => unzoned += 1,
                        None => {}
                    }
                }
                parsed
            });
            stats.unzoned_hits = unzoned;
            stats
        }
        _ => parse_lines(chunk, input, range, key, dicts, shards, |line| {
            parser.parse(line)
        }),
    }
}

#[inline(always)]
fn parse_lines<'a>(
    chunk: &'a [u8],
    input: u32,
    range: TimeRange,
    (visitor_key, client_ip, connections): (VisitorKey, ClientIp, bool),
    dicts: &SharedDictionaries,
    shards: &Shards,
    mut parse: impl FnMut(&'a [u8]) -> Result<Parsed<'a>, Malformed>,
) -> ChunkStats {
    let mut stats = ChunkStats::default();
    let mut hits = ChunkHits::with_key(chunk.len() / 160 + 1, visitor_key)
        .client_ip(client_ip)
        .connections(connections);
    for line in parse::lines(chunk) {
        stats.lines += 1;
        match parse(line) {
            Ok(Parsed::Hit(parsed)) if range.contains(parsed.time) => hits.push(&parsed),
            Ok(Parsed::Hit(_)) => stats.out_of_range += 1,
            Ok(Parsed::Directive) => stats.blank_lines += 1,
            Err(_) if parse::is_blank(line) => stats.blank_lines += 1,
            Err(reason) => {
                stats.malformed += 1;
                if stats.samples.len() < MAX_SAMPLES {
                    stats.samples.push((stats.lines, reason, excerpt(line)));
                }
            }
        }
    }
    stats.hits = hits.len() as u64;
    stats.forwarded_clients = hits.forwarded_clients();
    stats.agents_not_logged = hits.agents_not_logged();
    stats.methods_not_logged = hits.methods_not_logged();
    shards.add(hits.into_global(dicts), input);
    stats
}

/// The first [`SAMPLE_BYTES`] bytes of a line as display text (invalid UTF-8 replaced).
fn excerpt(line: &[u8]) -> String {
    String::from_utf8_lossy(&line[..line.len().min(SAMPLE_BYTES)]).into_owned()
}

#[cfg(test)]
mod tests {
    use super::{Directives, last_directives};

    #[test]
    fn the_last_directives_at_a_line_start_are_found() {
        let fields = |f: &'static [u8]| Directives {
            fields: Some(f),
            date: None,
        };
        let cases: [(&[u8], Directives); 9] = [
            (b"", Directives::default()),
            (b"2026-10-10 00:00:00 GET /\n", Directives::default()),
            (b"#Fields: date time\n", fields(b"#Fields: date time")),
            (
                b"#Fields: a\nx y\n#Fields: b c\r\nx y z\n",
                fields(b"#Fields: b c"),
            ),
            // Not at a line start: a value that happens to hold the word.
            (b"#Fields: a\nGET /q?#Fields:x\n", fields(b"#Fields: a")),
            (b"GET /q?#Fields:x\n#Software: x\n", Directives::default()),
            // The chunk's last bytes, no line end.
            (b"x\n#Fields: z", fields(b"#Fields: z")),
            // Each directive's last one, whichever comes last.
            (
                b"#Date: 2002-05-02 17:42:15\r\n#Fields: time\r\n1\n#Date: 2002-05-03 00:00:01\r\n",
                Directives {
                    fields: Some(b"#Fields: time"),
                    date: Some(b"#Date: 2002-05-03 00:00:01"),
                },
            ),
            (
                b"#Date: 1\n#Fields: a\n#Date: 2\nx #Date: 3\n",
                Directives {
                    fields: Some(b"#Fields: a"),
                    date: Some(b"#Date: 2"),
                },
            ),
        ];
        for (chunk, want) in cases {
            assert_eq!(
                last_directives(chunk),
                want,
                "{}",
                String::from_utf8_lossy(chunk)
            );
        }
    }
}
