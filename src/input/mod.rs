//! Inputs: open files and standard input, and hand their bytes out as windows of whole lines.
//!
//! All inputs are checked (opened, their first bytes read, closed) before any is read, so a
//! missing file fails the run before work is done; a file is opened again only when its turn
//! comes, so hundreds of rotated files never hold hundreds of descriptors. Files are read
//! window by window: a window is a stretch of whole lines, by default 64 MiB, that the split
//! stage cuts into chunks for the parser threads. Plain files are memory-mapped one window
//! at a time, so the resident memory of a 10 GB log stays at a few windows; small files and
//! `--no-mmap` use `read()` into a reused buffer. A window never ends inside a line: when a
//! line is longer than the window, the window grows until the line fits.
//!
//! Compressed inputs (gzip, including the multi-member files logrotate and `cat a.gz b.gz`
//! make, zstd and bzip2) are recognised by their first bytes, not their name, and streamed through
//! a decoder into the same windows; standard input may be compressed too. Streams are
//! decoded on a thread of their own one window ahead, so decompression of the next window
//! overlaps with parsing of this one.

pub mod expand;
mod mmap;

pub use mmap::{FaultCleanup, remove_on_fault};

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::mpsc;

use memchr::memrchr;

use crate::error::Error;

/// Files below this size are read, not mapped: a mapping costs more than it saves.
const MMAP_MIN_LEN: u64 = 1 << 20;

/// Where an input's bytes come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    File(PathBuf),
    Stdin,
}

impl Source {
    /// `-` is standard input; anything else is a path.
    pub fn from_arg(arg: &Path) -> Source {
        if arg == Path::new("-") {
            Source::Stdin
        } else {
            Source::File(arg.to_path_buf())
        }
    }

    /// The name shown to users and written to the `inputs` table.
    pub fn name(&self) -> String {
        match self {
            Source::File(path) => path.display().to_string(),
            Source::Stdin => "-".to_owned(),
        }
    }
}

/// How an input's bytes are encoded, from their first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    None,
    Gzip,
    Zstd,
    Bzip2,
}

impl Compression {
    /// Recognises gzip (`1f 8b`), zstd (`28 b5 2f fd`) and bzip2 (`BZh` and a block size
    /// digit) by their magic bytes.
    pub fn detect(head: &[u8]) -> Compression {
        if head.starts_with(&[0x1f, 0x8b]) {
            Compression::Gzip
        } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
            Compression::Zstd
        } else if head.len() >= 4 && head.starts_with(b"BZh") && (b'1'..=b'9').contains(&head[3]) {
            Compression::Bzip2
        } else {
            Compression::None
        }
    }

    /// A reader of the decompressed bytes of `reader`.
    fn decoder<'r>(self, reader: impl BufRead + 'r) -> io::Result<Box<dyn Read + 'r>> {
        Ok(match self {
            Compression::None => Box::new(reader),
            Compression::Gzip => Box::new(flate2::bufread::MultiGzDecoder::new(reader)),
            Compression::Zstd => Box::new(zstd::stream::read::Decoder::with_buffer(reader)?),
            // Multi-stream, as `cat a.bz2 b.bz2` and parallel compressors (pbzip2) write.
            Compression::Bzip2 => Box::new(bzip2::bufread::MultiBzDecoder::new(reader)),
        })
    }
}

/// Read buffer in front of a decoder.
const DECODE_BUFFER: usize = 256 << 10;

/// How inputs are read.
#[derive(Debug, Clone, Copy)]
pub struct ReadOptions {
    pub window_size: usize,
    pub mmap: bool,
}

/// An input that has been checked and is ready to read. A file is not held open between the
/// check and the read.
pub struct OpenInput {
    pub name: String,
    /// Length at open time (`None` for standard input).
    pub len: Option<u64>,
    /// The file's compression (standard input's is found when it is read).
    pub compression: Compression,
    /// A fingerprint of the file's bytes (`None` for standard input), see [`fingerprint`];
    /// [`OpenInput::content_fingerprint`] is that of its decoded content.
    pub fingerprint: Option<String>,
    path: Option<PathBuf>,
    /// A compressed file's fingerprint taken over its decoded bytes, once they have all
    /// been read.
    decoded_fingerprint: std::sync::OnceLock<String>,
}

impl OpenInput {
    /// Opens `source`, failing with an error that names it when it is missing, unreadable
    /// or a directory.
    pub fn open(source: &Source) -> Result<OpenInput, Error> {
        let name = source.name();
        let Source::File(path) = source else {
            return Ok(OpenInput {
                name,
                len: None,
                compression: Compression::None,
                fingerprint: None,
                path: None,
                decoded_fingerprint: std::sync::OnceLock::new(),
            });
        };
        let input_error = |source: io::Error| Error::Input {
            path: name.clone(),
            source,
        };
        let meta = std::fs::metadata(path).map_err(input_error)?;
        if meta.is_dir() {
            return Err(Error::InputIsDirectory { path: name });
        }
        let file = File::open(path).map_err(input_error)?;
        let mut head = [0u8; 4];
        let n = std::os::unix::fs::FileExt::read_at(&file, &mut head, 0).map_err(input_error)?;
        let fingerprint = fingerprint(&file, meta.len()).map_err(input_error)?;
        Ok(OpenInput {
            name,
            len: Some(meta.len()),
            compression: Compression::detect(&head[..n]),
            fingerprint: Some(fingerprint),
            path: Some(path.clone()),
            decoded_fingerprint: std::sync::OnceLock::new(),
        })
    }

    /// The fingerprint of the log this input holds: of a compressed file's decoded bytes
    /// once it has been read whole, so that `access.log.1` and the `access.log.2.gz`
    /// logrotate later makes of it are one input; of the file's bytes otherwise (`None` for
    /// standard input).
    pub fn content_fingerprint(&self) -> Option<String> {
        self.decoded_fingerprint
            .get()
            .cloned()
            .or_else(|| self.fingerprint.clone())
    }

    /// Calls `each` with consecutive windows of whole lines until the input is exhausted.
    /// Returns the number of bytes read.
    pub fn for_each_window(
        &self,
        options: ReadOptions,
        mut each: impl FnMut(&[u8]) -> Result<(), Error>,
    ) -> Result<u64, Error> {
        let window_size = options.window_size.max(1);
        let file = match &self.path {
            Some(path) => Some(File::open(path).map_err(|source| Error::Input {
                path: self.name.clone(),
                source,
            })?),
            None => None,
        };
        // The length when reading starts, not when the input was checked: a live log may
        // have grown since.
        let len = match &file {
            Some(file) => Some(
                file.metadata()
                    .map_err(|source| Error::Input {
                        path: self.name.clone(),
                        source,
                    })?
                    .len(),
            ),
            None => None,
        };
        let result = match (&file, len) {
            (Some(file), _) if self.compression != Compression::None => {
                let mut print = DecodedPrint::default();
                let read = decoded_windows(file, window_size, &mut |window| {
                    print.add(window);
                    each(window)
                });
                if read.is_ok() {
                    let _ = self.decoded_fingerprint.set(print.finish());
                }
                read
            }
            (Some(file), Some(len)) if options.mmap && len >= MMAP_MIN_LEN => {
                mapped_windows(file, &self.name, len, window_size, &mut each)
            }
            (Some(file), _) => read_windows(file, window_size, &mut each),
            (None, _) => decoded_windows(io::stdin(), window_size, &mut each),
        };
        result.map_err(|e| match e {
            WindowError::Io(source) => Error::Input {
                path: self.name.clone(),
                source,
            },
            WindowError::IoAfter(after, source) => Error::InputBroken {
                path: self.name.clone(),
                after,
                source,
            },
            WindowError::Stage(e) => e,
        })
    }
}

/// Bytes read from each end of a file for its fingerprint.
const FINGERPRINT_SPAN: u64 = 64 << 10;

/// [`fingerprint`] of a stream's bytes as they go by: its first and last 64 KiB are kept.
#[derive(Default)]
struct DecodedPrint {
    len: u64,
    head: Vec<u8>,
    tail: Vec<u8>,
}

impl DecodedPrint {
    fn add(&mut self, bytes: &[u8]) {
        let span = FINGERPRINT_SPAN as usize;
        self.len += bytes.len() as u64;
        let room = span - self.head.len();
        self.head.extend_from_slice(&bytes[..room.min(bytes.len())]);
        if bytes.len() >= span {
            self.tail.clear();
            self.tail.extend_from_slice(&bytes[bytes.len() - span..]);
        } else {
            self.tail.extend_from_slice(bytes);
            let over = self.tail.len().saturating_sub(span);
            self.tail.drain(..over);
        }
    }

    /// The same text [`fingerprint`] gives for a file of these bytes.
    fn finish(self) -> String {
        let len = self.len;
        let head = len.min(FINGERPRINT_SPAN);
        let tail_start = len.saturating_sub(FINGERPRINT_SPAN).max(head);
        let mut hasher = xxhash_rust::xxh3::Xxh3::new();
        hasher.update(&len.to_le_bytes());
        hasher.update(&self.head);
        hasher.update(&self.tail[self.tail.len() - (len - tail_start) as usize..]);
        format!("{len}-{:016x}", hasher.digest())
    }
}

/// A fingerprint of a file's content, cheap for any size: its length and the XXH3-64 of its
/// first and last 64 KiB, as `LENGTH-HASH` (`256044136-9f86d081884c7d65`). The same bytes
/// under another name or path give the same fingerprint, so runs that read a file twice can
/// be recognised (a log that was only appended to does not keep its fingerprint).
pub fn fingerprint(file: &File, len: u64) -> io::Result<String> {
    use std::os::unix::fs::FileExt;
    let mut hasher = xxhash_rust::xxh3::Xxh3::new();
    hasher.update(&len.to_le_bytes());
    let mut buf = vec![0u8; FINGERPRINT_SPAN as usize];
    let head = len.min(FINGERPRINT_SPAN);
    let tail_start = len.saturating_sub(FINGERPRINT_SPAN).max(head);
    for (start, end) in [(0, head), (tail_start, len)] {
        let part = &mut buf[..(end - start) as usize];
        file.read_exact_at(part, start)?;
        hasher.update(part);
    }
    Ok(format!("{len}-{:016x}", hasher.digest()))
}

enum WindowError {
    Io(io::Error),
    /// A read failed after this many bytes of log were handed out (a truncated or corrupt
    /// compressed file): those bytes' lines were counted.
    IoAfter(u64, io::Error),
    Stage(Error),
}

/// Windows of a mapped file, up to `len` bytes. A file that a server is still writing to may
/// end inside a line: then the file's length is checked once more, and if it has grown the
/// read goes on to the last whole line written by then, so a line being written as the read
/// reaches it is read whole, not as a malformed fragment. (A file that does not grow may end
/// without a line end: its last line is read as it is.)
fn mapped_windows(
    file: &File,
    name: &str,
    len: u64,
    window_size: usize,
    each: &mut impl FnMut(&[u8]) -> Result<(), Error>,
) -> Result<u64, WindowError> {
    let mut len = len;
    let (mut checked, mut grown) = (false, false);
    let mut offset = 0u64;
    let mut want = window_size;
    while offset < len {
        let take_len = want.min(usize::try_from(len - offset).unwrap_or(usize::MAX));
        let at_end = offset + take_len as u64 == len;
        let window =
            mmap::MappedRange::new(file, name, offset, take_len).map_err(WindowError::Io)?;
        hold_for_test();
        if at_end && !checked && window.last() != Some(&b'\n') {
            checked = true;
            let now = file.metadata().map_err(WindowError::Io)?.len();
            if now > len {
                grown = true;
                len = now;
                continue;
            }
        }
        let whole = if at_end && !grown {
            window.len()
        } else if at_end {
            // The file grew: stop after its last whole line. What follows was written after
            // the read got there, like any line appended later.
            let whole = memrchr(b'\n', &window).map_or(window.len(), |i| i + 1);
            len = offset + whole as u64;
            whole
        } else {
            match memrchr(b'\n', &window) {
                Some(i) => i + 1,
                None => {
                    // A line longer than the window: map a bigger one.
                    want = want.saturating_mul(2);
                    continue;
                }
            }
        };
        each(&window[..whole]).map_err(WindowError::Stage)?;
        offset += whole as u64;
        want = window_size;
    }
    Ok(len)
}

/// A test hook, not an option: with `ACCESSLENS_TEST_HOLD_MAPPED=DIR` in the environment,
/// the first window mapped in the process waits, before any of its bytes is read, until
/// `DIR/go` exists, after creating `DIR/mapped` to say it is there. It lets a test change
/// the file under a mapping at a known moment (see the SIGBUS guard in `mmap`). Debug
/// builds only (those `cargo test` runs): a release build never looks at the variable.
#[cfg(debug_assertions)]
fn hold_for_test() {
    static HELD: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    let Some(dir) = std::env::var_os("ACCESSLENS_TEST_HOLD_MAPPED") else {
        return;
    };
    if HELD.swap(true, std::sync::atomic::Ordering::Relaxed) {
        return;
    }
    let dir = PathBuf::from(dir);
    let _ = std::fs::write(dir.join("mapped"), b"");
    let go = dir.join("go");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !go.exists() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
}

#[cfg(not(debug_assertions))]
fn hold_for_test() {}

/// Windows of a stream that may be compressed: its first bytes say how to decode it. The
/// stream is read and decoded on a thread of its own, one window ahead of `each`.
fn decoded_windows(
    reader: impl Read + Send,
    window_size: usize,
    each: &mut impl FnMut(&[u8]) -> Result<(), Error>,
) -> Result<u64, WindowError> {
    std::thread::scope(|scope| {
        // A window travels to `each` and its buffer comes back to be filled again: two
        // buffers in all, one being decoded into while the other is parsed.
        let (full_tx, full_rx) = mpsc::sync_channel::<io::Result<(Vec<u8>, usize)>>(0);
        let (empty_tx, empty_rx) = mpsc::channel::<Vec<u8>>();
        let reader = scope.spawn(move || decode_ahead(reader, window_size, &full_tx, &empty_rx));
        let mut handed = 0u64;
        let mut failed = None;
        while let Ok(message) = full_rx.recv() {
            let (window, whole) = match message {
                Ok(window) => window,
                Err(e) => {
                    failed = Some(e);
                    break;
                }
            };
            if let Err(e) = each(&window[..whole]) {
                drop(full_rx);
                join(reader);
                return Err(WindowError::Stage(e));
            }
            handed += whole as u64;
            let _ = empty_tx.send(window);
        }
        join(reader);
        match failed {
            None => Ok(handed),
            Some(e) if handed == 0 => Err(WindowError::Io(e)),
            Some(e) => Err(WindowError::IoAfter(handed, e)),
        }
    })
}

/// Waits for the decoding thread; its panic is this thread's (a stream must never just end
/// early).
fn join(thread: std::thread::ScopedJoinHandle<'_, ()>) {
    if let Err(panic) = thread.join() {
        std::panic::resume_unwind(panic);
    }
}

/// The decoding side of [`decoded_windows`]: sends `(buffer, whole)` windows, where the
/// buffer's first `whole` bytes are whole lines, then stops at the end of the stream, at a
/// read error (sent on) or when the receiver is gone.
fn decode_ahead(
    mut reader: impl Read,
    window_size: usize,
    full: &mpsc::SyncSender<io::Result<(Vec<u8>, usize)>>,
    empty: &mpsc::Receiver<Vec<u8>>,
) {
    // A pipe may hand over its first bytes one at a time: read the magic bytes whole.
    let mut head = Vec::with_capacity(4);
    if let Err(e) = fill(&mut reader, &mut head, 4) {
        let _ = full.send(Err(e));
        return;
    }
    let compression = Compression::detect(&head);
    let whole = BufReader::with_capacity(DECODE_BUFFER, io::Cursor::new(head).chain(reader));
    let mut decoder = match compression.decoder(whole) {
        Ok(decoder) => decoder,
        Err(e) => {
            let _ = full.send(Err(e));
            return;
        }
    };
    let mut buf: Vec<u8> = Vec::with_capacity(window_size);
    let mut want = window_size;
    loop {
        let eof = match fill(&mut decoder, &mut buf, want) {
            Ok(eof) => eof,
            Err(e) => {
                let _ = full.send(Err(e));
                return;
            }
        };
        if buf.is_empty() {
            return;
        }
        let Some(whole) = whole_lines(&buf, eof) else {
            want = want.saturating_mul(2);
            continue;
        };
        // The partial last line moves to the front of the next buffer.
        let mut next = empty
            .try_recv()
            .unwrap_or_else(|_| Vec::with_capacity(window_size));
        next.clear();
        next.extend_from_slice(&buf[whole..]);
        let window = std::mem::replace(&mut buf, next);
        if full.send(Ok((window, whole))).is_err() {
            return;
        }
        want = window_size;
        if eof && buf.is_empty() {
            return;
        }
    }
}

/// How much of a filled buffer to hand out: all of it at the end of the input, else up to
/// its last line end; `None` when it holds no line end yet (the window must grow).
fn whole_lines(buf: &[u8], eof: bool) -> Option<usize> {
    if eof {
        Some(buf.len())
    } else {
        memrchr(b'\n', buf).map(|i| i + 1)
    }
}

fn read_windows(
    mut reader: impl Read,
    window_size: usize,
    each: &mut impl FnMut(&[u8]) -> Result<(), Error>,
) -> Result<u64, WindowError> {
    let mut buf: Vec<u8> = Vec::with_capacity(window_size);
    let mut total = 0u64;
    let mut want = window_size;
    loop {
        let eof = fill(&mut reader, &mut buf, want).map_err(|e| match total {
            0 => WindowError::Io(e),
            after => WindowError::IoAfter(after, e),
        })?;
        if buf.is_empty() {
            return Ok(total);
        }
        let Some(whole) = whole_lines(&buf, eof) else {
            want = want.saturating_mul(2);
            continue;
        };
        each(&buf[..whole]).map_err(WindowError::Stage)?;
        total += whole as u64;
        buf.drain(..whole);
        want = window_size;
        if eof && buf.is_empty() {
            return Ok(total);
        }
    }
}

/// Reads until `buf` holds `want` bytes or the input ends; returns whether it ended.
fn fill(reader: &mut impl Read, buf: &mut Vec<u8>, want: usize) -> io::Result<bool> {
    while buf.len() < want {
        let before = buf.len();
        let limit = (want - before) as u64;
        match reader.by_ref().take(limit).read_to_end(buf) {
            Ok(0) => return Ok(true),
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
        if buf.len() == before {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Cuts a window into chunks of about `target` bytes, each ending at a line boundary (or at
/// the window's end). A line longer than `target` makes its chunk longer; no line is split.
pub fn split_chunks(window: &[u8], target: usize) -> Vec<&[u8]> {
    let target = target.max(1);
    let mut chunks = Vec::with_capacity(window.len() / target + 1);
    let mut rest = window;
    while !rest.is_empty() {
        if rest.len() <= target {
            chunks.push(rest);
            break;
        }
        let cut = match memchr::memchr(b'\n', &rest[target - 1..]) {
            Some(i) => target + i,
            None => rest.len(),
        };
        let (chunk, tail) = rest.split_at(cut);
        chunks.push(chunk);
        rest = tail;
    }
    chunks
}

#[cfg(test)]
mod tests {
    use super::*;

    fn windows_of(bytes: &[u8], window_size: usize, mmap: bool) -> Vec<Vec<u8>> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log");
        std::fs::write(&path, bytes).unwrap();
        let input = OpenInput::open(&Source::File(path)).unwrap();
        let mut got = Vec::new();
        let options = ReadOptions { window_size, mmap };
        let read = input
            .for_each_window(options, |w| {
                got.push(w.to_vec());
                Ok(())
            })
            .unwrap();
        assert_eq!(read, bytes.len() as u64);
        got
    }

    #[test]
    fn windows_end_at_line_boundaries_and_cover_everything() {
        let mut log = Vec::new();
        for i in 0..5000 {
            log.extend_from_slice(format!("line {i} {}\n", "x".repeat(i % 300)).as_bytes());
        }
        log.extend_from_slice(b"last line without newline");
        for mmap in [false, true] {
            // Small windows, and one line far longer than a window.
            let mut with_long = log.clone();
            with_long.splice(100..100, std::iter::repeat_n(b'y', 3 << 20));
            for bytes in [&log, &with_long] {
                let windows = windows_of(bytes, 4096, mmap);
                assert!(windows.len() > 1);
                for w in &windows[..windows.len() - 1] {
                    assert_eq!(w.last(), Some(&b'\n'));
                }
                assert_eq!(windows.concat(), *bytes);
            }
        }
    }

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut encoder, bytes).unwrap();
        encoder.finish().unwrap()
    }

    fn bzip2_of(bytes: &[u8]) -> Vec<u8> {
        let mut encoder = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::fast());
        std::io::Write::write_all(&mut encoder, bytes).unwrap();
        encoder.finish().unwrap()
    }

    #[test]
    fn compressed_files_are_read_by_their_magic_bytes() {
        let mut log = Vec::new();
        for i in 0..3000 {
            log.extend_from_slice(format!("line {i} {}\n", "z".repeat(i % 200)).as_bytes());
        }
        let (first, second) = log.split_at(log.len() / 3 + 7);
        // logrotate's and `cat a.gz b.gz`'s multi-member gzip: both members are read.
        let multi = [gzip(first), gzip(second)].concat();
        let zstd = zstd::stream::encode_all(&log[..], 1).unwrap();
        let bz2 = [bzip2_of(first), bzip2_of(second)].concat();
        for (bytes, kind) in [
            (&multi, Compression::Gzip),
            (&zstd, Compression::Zstd),
            (&bz2, Compression::Bzip2),
        ] {
            assert_eq!(Compression::detect(bytes), kind);
            for mmap in [true, false] {
                let dir = tempfile::tempdir().unwrap();
                // A name that says nothing: the bytes decide.
                let path = dir.path().join("access.log");
                std::fs::write(&path, bytes).unwrap();
                let input = OpenInput::open(&Source::File(path)).unwrap();
                assert_eq!(input.compression, kind);
                let mut got = Vec::new();
                let options = ReadOptions {
                    window_size: 4096,
                    mmap,
                };
                let read = input
                    .for_each_window(options, |w| {
                        assert_eq!(w.last(), Some(&b'\n'));
                        got.extend_from_slice(w);
                        Ok(())
                    })
                    .unwrap();
                assert_eq!(got, log, "{kind:?}");
                assert_eq!(read, log.len() as u64);
            }
        }
        assert_eq!(Compression::detect(b"127.0.0.1 - -"), Compression::None);
        assert_eq!(Compression::detect(b"\x1f"), Compression::None);
        assert_eq!(Compression::detect(b"BZh"), Compression::None);
        assert_eq!(Compression::detect(b"BZhx"), Compression::None);
    }

    #[test]
    fn a_truncated_gzip_fails_naming_the_file_and_how_far_it_got() {
        let mut log = Vec::new();
        for i in 0..20_000 {
            log.extend_from_slice(format!("line {i} {}\n", i * 7919 % 10007).as_bytes());
        }
        let gz = gzip(&log);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("access.log.gz");
        std::fs::write(&path, &gz[..gz.len() / 2]).unwrap();
        let input = OpenInput::open(&Source::File(path)).unwrap();
        let mut seen = 0;
        let options = ReadOptions {
            window_size: 4096,
            mmap: true,
        };
        let err = input
            .for_each_window(options, |w| {
                seen += w.len();
                Ok(())
            })
            .unwrap_err();
        let message = err.to_string();
        assert!(message.contains("access.log.gz"), "{message}");
        assert!(
            message.contains(&format!("after {seen} bytes of log")),
            "{message}"
        );
        // The windows before the damage were handed out, all of them whole lines of the log.
        assert!(seen > 0 && seen < log.len(), "{seen}");
        assert_eq!(log[seen - 1], b'\n');
    }

    #[test]
    fn a_compressed_stream_grows_its_window_for_a_long_line_and_stops_when_told() {
        let mut log = Vec::new();
        for i in 0..30_000 {
            log.extend_from_slice(format!("line {i}\n").as_bytes());
        }
        log.splice(50..50, std::iter::repeat_n(b'y', 100_000));
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("access.log.gz");
        std::fs::write(&path, gzip(&log)).unwrap();
        let input = OpenInput::open(&Source::File(path)).unwrap();
        let options = ReadOptions {
            window_size: 1000,
            mmap: true,
        };
        let mut got = Vec::new();
        input
            .for_each_window(options, |w| {
                assert_eq!(w.last(), Some(&b'\n'));
                got.extend_from_slice(w);
                Ok(())
            })
            .unwrap();
        assert_eq!(got, log);

        // A stage that fails ends the read with its own error, and the decoder stops.
        let mut calls = 0;
        let err = input
            .for_each_window(options, |_| {
                calls += 1;
                match calls {
                    3 => Err(Error::NoFiles {
                        what: "stop".into(),
                    }),
                    _ => Ok(()),
                }
            })
            .unwrap_err();
        assert!(matches!(err, Error::NoFiles { .. }), "{err}");
        assert_eq!(calls, 3);
    }

    #[test]
    fn a_file_removed_after_the_check_fails_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("gone.log");
        std::fs::write(&path, b"x\n").unwrap();
        let input = OpenInput::open(&Source::File(path.clone())).unwrap();
        std::fs::remove_file(&path).unwrap();
        let options = ReadOptions {
            window_size: 1000,
            mmap: true,
        };
        let err = input.for_each_window(options, |_| Ok(())).unwrap_err();
        assert!(err.to_string().contains("gone.log"), "{err}");
    }

    #[test]
    fn a_file_that_grows_while_read_is_read_to_the_end_of_its_last_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("live.log");
        let mut log = Vec::new();
        for i in 0..(MMAP_MIN_LEN as usize / 10) {
            log.extend_from_slice(format!("line {i:04}\n").as_bytes());
        }
        // A server is in the middle of writing the last line.
        log.extend_from_slice(b"line being wri");
        std::fs::write(&path, &log).unwrap();
        let input = OpenInput::open(&Source::File(path.clone())).unwrap();
        // Lines written after the check and before the read are read too.
        let mut file = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap();
        std::io::Write::write_all(&mut file, b"tten\nnext line\nthird").unwrap();
        log.extend_from_slice(b"tten\nnext line\nthird");
        let options = ReadOptions {
            window_size: 64 << 10,
            mmap: true,
        };
        let mut got = Vec::new();
        input
            .for_each_window(options, |w| {
                got.extend_from_slice(w);
                // While the read goes on, the writer finishes its line and starts another.
                if got.len() < 100_000 {
                    std::io::Write::write_all(&mut file, b" line\nhalf a ").unwrap();
                }
                Ok(())
            })
            .unwrap();
        log.extend_from_slice(b" line\nhalf a ");
        // Everything up to the end of the line being written when the read reached it.
        let end = log.len() - b"half a ".len();
        assert_eq!(
            got.len(),
            end,
            "{:?}",
            String::from_utf8_lossy(&got[got.len() - 40..])
        );
        assert_eq!(got, log[..end]);
    }

    #[test]
    fn fingerprints_follow_content_not_names() {
        let dir = tempfile::tempdir().unwrap();
        let print = |name: &str, bytes: &[u8]| {
            let path = dir.path().join(name);
            std::fs::write(&path, bytes).unwrap();
            OpenInput::open(&Source::File(path))
                .unwrap()
                .fingerprint
                .unwrap()
        };
        let big: Vec<u8> = (0..300_000u32)
            .flat_map(|i| (i % 251) as u8..=(i % 251) as u8)
            .collect();
        let a = print("a.log", &big);
        assert_eq!(print("copy-of-a.log", &big), a);
        assert!(a.starts_with("300000-"), "{a}");
        // A change at either end, or in the length, changes it.
        let mut head = big.clone();
        head[10] ^= 1;
        let mut tail = big.clone();
        tail[299_990] ^= 1;
        let mut longer = big.clone();
        longer.push(b'\n');
        for other in [&head, &tail, &longer] {
            assert_ne!(print("b.log", other), a);
        }
        assert_eq!(print("empty.log", b""), print("empty2.log", b""));
        // Compressed, the same log keeps its fingerprint once read: logrotate's
        // `access.log.1` and the `access.log.2.gz` it becomes are one input.
        let read_whole = |name: &str, bytes: &[u8]| {
            let path = dir.path().join(name);
            std::fs::write(&path, bytes).unwrap();
            let input = OpenInput::open(&Source::File(path)).unwrap();
            let options = ReadOptions {
                window_size: 100_000,
                mmap: false,
            };
            input.for_each_window(options, |_| Ok(())).unwrap();
            input.content_fingerprint().unwrap()
        };
        let gzip = |bytes: &[u8]| {
            let mut encoder =
                flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            std::io::Write::write_all(&mut encoder, bytes).unwrap();
            encoder.finish().unwrap()
        };
        for text in [&big[..], &big[..70_000], &big[..100], b""] {
            let plain = print("plain.log", text);
            assert_eq!(read_whole("plain-read.log", text), plain);
            let packed = gzip(text);
            assert_ne!(
                print("raw.log.gz", &packed),
                plain,
                "the file's bytes differ"
            );
            assert_eq!(
                read_whole("access.log.2.gz", &packed),
                plain,
                "{} bytes",
                text.len()
            );
        }
        assert!(print("short.log", b"x\n").starts_with("2-"));
    }

    #[test]
    fn empty_file_has_no_windows() {
        assert!(windows_of(b"", 1024, true).is_empty());
    }

    #[test]
    fn chunks_split_at_newlines() {
        let window = b"aaaa\nbb\ncccccccccc\nd\n\ne";
        for target in 1..window.len() + 2 {
            let chunks = split_chunks(window, target);
            assert_eq!(chunks.concat(), window.to_vec());
            for c in &chunks[..chunks.len() - 1] {
                assert_eq!(c.last(), Some(&b'\n'), "target {target}");
            }
        }
    }

    #[test]
    fn open_errors_name_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nope.log");
        let err = OpenInput::open(&Source::File(missing.clone()))
            .err()
            .unwrap();
        assert!(err.to_string().contains("nope.log"), "{err}");
        let err = OpenInput::open(&Source::File(dir.path().to_path_buf()))
            .err()
            .unwrap();
        assert!(matches!(err, Error::InputIsDirectory { .. }), "{err}");
    }
}
