//! Hits beyond the memory budget go to disk, shard by shard.
//!
//! While the inputs are read, hits wait in their visitor shards until every line has been
//! seen. When the hits held in memory pass the budget (`--hit-memory`), a shard that gets
//! more hits writes all it holds to its own file and starts again empty. Afterwards each
//! shard is read back, sorted and aggregated on its own, so at most one shard per thread is
//! in memory again. A visitor's hits all live in one shard, so sessions are cut exactly as
//! in memory: spilling changes where hits wait, never what is counted.
//!
//! A shard's file is a sequence of pieces, each `input: u32, count: u32` (little-endian)
//! then `count` hits of [`HIT_BYTES`] bytes. Each file is created in the run's staging area
//! and unlinked at once: the shard keeps it open, and its space is freed when the shard is
//! done with it or the process ends, however it ends (a failed run, a signal, the SIGBUS
//! guard's exit), so no spilled hit is ever left on disk.

use std::fs::{self, File, OpenOptions};
use std::io::{BufWriter, Read, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::enrich::Hit;
use crate::error::{Error, Result};

/// Bytes of one hit on disk (and in memory).
pub const HIT_BYTES: usize = 40;
const _: () = assert!(std::mem::size_of::<Hit>() == HIT_BYTES);

/// Where and past what size hits are spilled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpillOptions {
    /// The directory the shard files are created in (and unlinked from at once).
    pub dir: PathBuf,
    /// Bytes of hits held in memory before shards start spilling.
    pub budget: u64,
}

/// The shards' shared spill state.
pub(super) struct Spill {
    options: SpillOptions,
    /// Bytes of hits held in memory, across shards.
    held: AtomicU64,
    /// Bytes of hits written to disk.
    written: AtomicU64,
    /// The first write that failed; later hits stay in memory.
    error: Mutex<Option<Error>>,
}

impl Spill {
    pub(super) fn new(options: SpillOptions) -> Spill {
        Spill {
            options,
            held: AtomicU64::new(0),
            written: AtomicU64::new(0),
            error: Mutex::new(None),
        }
    }

    /// Notes `hits` more hits in memory.
    pub(super) fn hold(&self, hits: usize) {
        self.held
            .fetch_add((hits * HIT_BYTES) as u64, Ordering::Relaxed);
    }

    /// Whether a shard holding `shard_hits` should write them out now: memory is over
    /// budget, and the shard holds enough for one large append (a 128th of the budget, at
    /// least 4 KiB).
    pub(super) fn should_spill(&self, shard_hits: usize) -> bool {
        let budget = self.options.budget;
        let worth = (budget / (2 * super::SHARDS as u64)).max(4 << 10);
        self.held.load(Ordering::Relaxed) > budget
            && (shard_hits * HIT_BYTES) as u64 >= worth
            && self
                .error
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .is_none()
    }

    /// Appends a shard's pieces to its file and empties them; on failure keeps them in
    /// memory and remembers the error for [`Spill::finish`].
    pub(super) fn write(&self, shard: usize, pieces: &mut super::ShardPieces) {
        let hits: usize = pieces.hits.iter().map(Vec::len).sum();
        let written = match pieces.file.take() {
            Some(file) => Ok(file),
            None => SpillFile::create(
                &self
                    .options
                    .dir
                    .join(format!(".spill-shard-{shard:03}.hits")),
            ),
        }
        .and_then(|file| {
            let result = append(&file, &pieces.hits, &pieces.inputs);
            pieces.file = Some(file);
            result
        });
        match written {
            Ok(()) => {
                pieces.hits.clear();
                pieces.inputs.clear();
                pieces.held = 0;
                let bytes = (hits * HIT_BYTES) as u64;
                self.held.fetch_sub(bytes, Ordering::Relaxed);
                self.written.fetch_add(bytes, Ordering::Relaxed);
            }
            Err(e) => {
                let mut error = self.error.lock().unwrap_or_else(|p| p.into_inner());
                error.get_or_insert(e);
            }
        }
    }

    /// The first write error, taken out (the run stops on it).
    pub(super) fn take_error(&self) -> Option<Error> {
        self.error.lock().unwrap_or_else(|p| p.into_inner()).take()
    }

    /// Bytes written to disk, or the first write error.
    pub(super) fn finish(self) -> Result<u64> {
        match self.error.into_inner().unwrap_or_else(|p| p.into_inner()) {
            Some(e) => Err(e),
            None => Ok(self.written.into_inner()),
        }
    }
}

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |source| Error::Output {
        path: path.display().to_string(),
        source,
    }
}

/// A shard's file: open, already unlinked; `path` is the name it was created under, for
/// messages.
pub(super) struct SpillFile {
    file: File,
    path: PathBuf,
}

impl SpillFile {
    fn create(path: &Path) -> Result<SpillFile> {
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir).map_err(io_error(dir))?;
        }
        let file = OpenOptions::new()
            .read(true)
            .append(true)
            .create_new(true)
            .open(path)
            .map_err(io_error(path))?;
        fs::remove_file(path).map_err(io_error(path))?;
        Ok(SpillFile {
            file,
            path: path.to_path_buf(),
        })
    }
}

fn append(spill: &SpillFile, pieces: &[Vec<Hit>], inputs: &[u32]) -> Result<()> {
    let path = spill.path.as_path();
    let mut out = BufWriter::with_capacity(1 << 20, &spill.file);
    for (piece, &input) in pieces.iter().zip(inputs) {
        let count = u32::try_from(piece.len()).expect("a chunk holds fewer than 2^32 hits");
        out.write_all(&input.to_le_bytes())
            .and_then(|()| out.write_all(&count.to_le_bytes()))
            .map_err(io_error(path))?;
        for hit in piece {
            out.write_all(&encode(hit)).map_err(io_error(path))?;
        }
    }
    out.flush().map_err(io_error(path))
}

fn encode(hit: &Hit) -> [u8; HIT_BYTES] {
    let mut b = [0u8; HIT_BYTES];
    b[0..8].copy_from_slice(&hit.ts_ms.to_le_bytes());
    b[8..16].copy_from_slice(&hit.bytes.to_le_bytes());
    b[16..20].copy_from_slice(&hit.visitor.to_le_bytes());
    b[20..24].copy_from_slice(&hit.request.to_le_bytes());
    b[24..28].copy_from_slice(&hit.referrer.to_le_bytes());
    b[28..32].copy_from_slice(&hit.response_us.to_le_bytes());
    b[32..36].copy_from_slice(&hit.connection.to_le_bytes());
    b[36..38].copy_from_slice(&hit.status.to_le_bytes());
    b[38..40].copy_from_slice(&hit.offset_min.to_le_bytes());
    b
}

fn decode(b: &[u8]) -> Hit {
    let u64_at = |i: usize| u64::from_le_bytes(b[i..i + 8].try_into().expect("8 bytes"));
    let u32_at = |i: usize| u32::from_le_bytes(b[i..i + 4].try_into().expect("4 bytes"));
    Hit {
        ts_ms: u64_at(0) as i64,
        bytes: u64_at(8),
        visitor: u32_at(16),
        request: u32_at(20),
        referrer: u32_at(24),
        response_us: u32_at(28),
        connection: u32_at(32),
        status: u16::from_le_bytes([b[36], b[37]]),
        offset_min: i16::from_le_bytes([b[38], b[39]]),
    }
}

/// Calls `each` with every piece of a shard file and the input it came from, one piece in
/// memory at a time.
pub(super) fn read_pieces(spill: &SpillFile, mut each: impl FnMut(Vec<Hit>, u32)) -> Result<()> {
    let path = spill.path.as_path();
    let mut file = std::io::BufReader::with_capacity(
        1 << 20,
        At {
            file: &spill.file,
            offset: 0,
        },
    );
    let mut header = [0u8; 8];
    let mut bytes = Vec::new();
    loop {
        match file.read_exact(&mut header) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(()),
            Err(e) => return Err(io_error(path)(e)),
        }
        let input = u32::from_le_bytes(header[0..4].try_into().expect("4 bytes"));
        let count = u32::from_le_bytes(header[4..8].try_into().expect("4 bytes")) as usize;
        bytes.resize(count * HIT_BYTES, 0);
        file.read_exact(&mut bytes).map_err(io_error(path))?;
        each(bytes.chunks_exact(HIT_BYTES).map(decode).collect(), input);
    }
}

/// Reads a file from its start by position, so that readers of one shard's file share it
/// without sharing an offset.
struct At<'a> {
    file: &'a File,
    offset: u64,
}

impl Read for At<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.file.read_at(buf, self.offset)?;
        self.offset += n as u64;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::enrich::NO_CONNECTION;

    #[test]
    fn hits_survive_the_round_trip_through_a_file() {
        let dir = std::env::temp_dir().join(format!("accesslens-spill-{}", std::process::id()));
        let file = SpillFile::create(&dir.join("shard-000.hits")).unwrap();
        let hit = |i: u32| Hit {
            ts_ms: -1_000 + i64::from(i),
            bytes: u64::MAX - u64::from(i),
            visitor: i,
            request: i * 3,
            referrer: u32::MAX,
            response_us: 1_000_000 + i,
            connection: if i.is_multiple_of(2) {
                NO_CONNECTION
            } else {
                i * 7
            },
            status: 404,
            offset_min: -330,
        };
        let first: Vec<Hit> = (0..5).map(hit).collect();
        let second: Vec<Hit> = (5..6).map(hit).collect();
        append(&file, std::slice::from_ref(&first), &[7]).unwrap();
        append(&file, &[second.clone(), Vec::new()], &[2, 9]).unwrap();
        assert_eq!(
            fs::read_dir(&dir).unwrap().count(),
            0,
            "unlinked once created"
        );
        let mut read = Vec::new();
        read_pieces(&file, |piece, input| read.push((input, piece))).unwrap();
        assert_eq!(read, vec![(7, first), (2, second), (9, Vec::new())]);
        fs::remove_dir_all(&dir).unwrap();
    }
}
