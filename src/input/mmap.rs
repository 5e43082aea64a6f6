//! Memory-mapping a byte range of a file: the crate's main `unsafe` (the other is the
//! calls into the SIMD steps of the JSON and W3C scanners, in `src/parse/simd.rs`, which
//! read no memory through pointers).
//!
//! # Safety contract
//!
//! A mapping is only sound while no other process truncates or rewrites the mapped part of
//! the file. Access logs are append-only; a file that grows while it is read is fine (only
//! the length seen when it was opened is mapped). A file truncated underneath a mapping makes
//! the kernel raise SIGBUS when the vanished pages are touched (`logrotate` with
//! `copytruncate` running at that moment does this). Rust cannot turn that into an error, so
//! the process stops, but it stops saying why:
//!
//! - every live mapping is written in a fixed table of slots ([`REGISTRY`]: start address,
//!   length, the input's name) before its bytes are handed out, and taken out of it before
//!   it is unmapped;
//! - a SIGBUS handler (installed once, with the first mapping) looks the faulting address up
//!   in that table. It only reads atomics and bytes that stay alive while their mapping
//!   is (the faulting thread is reading the mapping, so its slot is filled), and only calls
//!   `write` and `_exit`, which are async-signal-safe. When the address is in a mapping, it
//!   writes `accesslens: NAME: the file shrank while it was being read …` to standard error,
//!   naming `--no-mmap` (which reads the same windows with `read()`, where a shrinking file
//!   only ends early), and exits with status 1, the status of a run that could not read an
//!   input;
//! - before it exits, it removes (`rmdir`, so only when empty) the directories a run asked
//!   it to ([`remove_on_fault`]: the output's staging directory, and `--out` when the run
//!   created it), so the stopped run leaves nothing behind;
//! - a SIGBUS at any other address goes to the handler that was there before (Rust's own,
//!   which reports stack overflows), or to the default action, as if this one did not exist.
//!
//! A mapping made when all slots are taken is not guarded (it still works; its SIGBUS is
//! the default one). Windows are mapped one per input being read, so slots run out only
//! with more inputs read at once than [`SLOTS`] (1,024), that is with more worker threads.

use std::ffi::CString;
use std::fs::File;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::sync::Once;
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicUsize, Ordering};

use memmap2::{Mmap, MmapOptions};

/// A read-only mapping of `len` bytes of `file` starting at `offset`; derefs to exactly
/// those bytes (the mapping itself starts at the page boundary below `offset`).
pub struct MappedRange {
    map: Mmap,
    skip: usize,
    /// The registry slot that guards this mapping, if one was free.
    slot: Option<usize>,
    /// The input's name as the SIGBUS message shows it; the registry points into it.
    _name: Box<[u8]>,
}

impl MappedRange {
    /// Maps the range; `name` is the input as users know it (shown if the file shrinks
    /// while mapped).
    pub fn new(file: &File, name: &str, offset: u64, len: usize) -> io::Result<MappedRange> {
        let page = page_size();
        let aligned = offset - offset % page;
        let skip = (offset - aligned) as usize;
        // SAFETY: see the module's contract. The mapping is private to this value and
        // read-only; its length never exceeds the file length observed at open time, and a
        // file that shrinks under it stops the process through the SIGBUS guard below
        // rather than letting any code observe vanished bytes.
        let map = unsafe {
            MmapOptions::new()
                .offset(aligned)
                .len(skip + len)
                .map(file)?
        };
        install_guard();
        let name: Box<[u8]> = name.as_bytes().into();
        let slot = register(map.as_ptr() as usize, map.len(), &name);
        Ok(MappedRange {
            map,
            skip,
            slot,
            _name: name,
        })
    }
}

impl Drop for MappedRange {
    fn drop(&mut self) {
        // Out of the registry before `map` is unmapped and `_name` freed (fields drop after
        // this body).
        if let Some(slot) = self.slot {
            unregister(slot);
        }
    }
}

impl std::ops::Deref for MappedRange {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.map[self.skip..]
    }
}

fn page_size() -> u64 {
    // Mapping offsets must be multiples of the allocation granularity. 64 KiB is a multiple
    // of every page size Linux and macOS use (4 KiB, 16 KiB, 64 KiB), and of Windows'
    // allocation granularity.
    64 * 1024
}

/// How many mappings can be guarded at once: one window is mapped per input being read, and
/// inputs are read one per worker thread, so this is more than any thread count a machine
/// runs (the registry is zeroed memory, 32 KiB, scanned only to claim a slot and on a fault).
const SLOTS: usize = 1024;

/// One guarded mapping. A slot is claimed by moving `start` from [`FREE`] to [`BUSY`],
/// filled, then published by storing the mapping's address in `start`; it is emptied the
/// other way round. The handler reads only slots whose `start` is an address.
struct Slot {
    /// First address of the mapping; 0 when free, 1 while being filled or emptied.
    start: AtomicUsize,
    len: AtomicUsize,
    name: AtomicPtr<u8>,
    name_len: AtomicUsize,
}

const FREE: usize = 0;
const BUSY: usize = 1;

#[allow(clippy::declare_interior_mutable_const)]
const EMPTY: Slot = Slot {
    start: AtomicUsize::new(FREE),
    len: AtomicUsize::new(0),
    name: AtomicPtr::new(std::ptr::null_mut()),
    name_len: AtomicUsize::new(0),
};

/// The mappings the SIGBUS handler knows.
static REGISTRY: [Slot; SLOTS] = [EMPTY; SLOTS];

/// Puts a mapping in a free slot; `None` when every slot is taken.
fn register(start: usize, len: usize, name: &[u8]) -> Option<usize> {
    for (i, slot) in REGISTRY.iter().enumerate() {
        if slot
            .start
            .compare_exchange(FREE, BUSY, Ordering::Acquire, Ordering::Relaxed)
            .is_ok()
        {
            slot.len.store(len, Ordering::Relaxed);
            slot.name.store(name.as_ptr().cast_mut(), Ordering::Relaxed);
            slot.name_len.store(name.len(), Ordering::Relaxed);
            // Published last: a handler that sees `start` sees the rest.
            slot.start.store(start, Ordering::Release);
            return Some(i);
        }
    }
    None
}

fn unregister(i: usize) {
    let slot = &REGISTRY[i];
    slot.start.store(BUSY, Ordering::Release);
    slot.name.store(std::ptr::null_mut(), Ordering::Relaxed);
    slot.name_len.store(0, Ordering::Relaxed);
    slot.len.store(0, Ordering::Relaxed);
    slot.start.store(FREE, Ordering::Release);
}

/// Directories to remove if a mapped input shrinks (see [`remove_on_fault`]).
#[allow(clippy::declare_interior_mutable_const)]
const NO_DIR: AtomicPtr<libc::c_char> = AtomicPtr::new(std::ptr::null_mut());
static LEFTOVERS: [AtomicPtr<libc::c_char>; 8] = [NO_DIR; 8];

/// Until the returned value is dropped, a run stopped by a mapped input that shrank removes
/// `dir` first if it is empty. `None` when the directory cannot be named to `rmdir` or eight
/// are already held.
pub fn remove_on_fault(dir: &Path) -> Option<FaultCleanup> {
    let path = CString::new(dir.as_os_str().as_bytes()).ok()?;
    // Never freed: the handler may read it at any time, even while it is being let go.
    let path: &'static mut std::ffi::CStr = Box::leak(path.into_boxed_c_str());
    let ptr = path.as_ptr().cast_mut();
    LEFTOVERS
        .iter()
        .position(|slot| {
            slot.compare_exchange(
                std::ptr::null_mut(),
                ptr,
                Ordering::AcqRel,
                Ordering::Relaxed,
            )
            .is_ok()
        })
        .map(|slot| FaultCleanup { slot })
}

/// A directory held by [`remove_on_fault`]; dropping it lets the directory go.
#[derive(Debug)]
pub struct FaultCleanup {
    slot: usize,
}

impl Drop for FaultCleanup {
    fn drop(&mut self) {
        LEFTOVERS[self.slot].store(std::ptr::null_mut(), Ordering::Release);
    }
}

/// The handler that was in place before [`on_sigbus`] (its address), and whether it takes
/// `siginfo_t`.
static PREVIOUS: AtomicUsize = AtomicUsize::new(libc::SIG_DFL);
static PREVIOUS_SIGINFO: AtomicBool = AtomicBool::new(false);

/// Installs [`on_sigbus`] once per process.
fn install_guard() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        // SAFETY: `sigaction` with a zeroed struct whose handler, flags and mask are set;
        // the handler only does async-signal-safe work (see the module's contract).
        unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = on_sigbus as *const () as usize;
            action.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK;
            libc::sigemptyset(&mut action.sa_mask);
            let mut previous: libc::sigaction = std::mem::zeroed();
            if libc::sigaction(libc::SIGBUS, &action, &mut previous) == 0 {
                PREVIOUS.store(previous.sa_sigaction, Ordering::Relaxed);
                PREVIOUS_SIGINFO
                    .store(previous.sa_flags & libc::SA_SIGINFO != 0, Ordering::Relaxed);
            }
        }
    });
}

/// What standard error says when a mapped file shrinks, around the input's name.
const SHRANK_BEFORE: &[u8] = b"accesslens: ";
const SHRANK_AFTER: &[u8] = b": the file shrank while it was being read (truncated by another process, as log rotation with copytruncate does); rerun with --no-mmap to read it without memory-mapping\n";

extern "C" fn on_sigbus(
    signal: libc::c_int,
    info: *mut libc::siginfo_t,
    context: *mut libc::c_void,
) {
    // SAFETY: the kernel hands a valid `siginfo_t` to an SA_SIGINFO handler.
    let addr = unsafe { fault_address(info) };
    for slot in &REGISTRY {
        let start = slot.start.load(Ordering::Acquire);
        if start > BUSY && addr >= start && addr - start < slot.len.load(Ordering::Relaxed) {
            let name = slot.name.load(Ordering::Relaxed);
            let name_len = slot.name_len.load(Ordering::Relaxed);
            write_stderr(SHRANK_BEFORE);
            if !name.is_null() {
                // SAFETY: the name lives as long as the mapping, which the faulting thread
                // is reading.
                write_stderr(unsafe { std::slice::from_raw_parts(name, name_len) });
            }
            write_stderr(SHRANK_AFTER);
            // Twice: a directory emptied by the first pass (`--out` around its staging
            // directory) goes in the second.
            for _ in 0..2 {
                for dir in &LEFTOVERS {
                    let dir = dir.load(Ordering::Acquire);
                    if !dir.is_null() {
                        // SAFETY: a NUL-terminated path that is never freed; `rmdir` is
                        // async-signal-safe and fails harmlessly on a directory with files.
                        unsafe { libc::rmdir(dir) };
                    }
                }
            }
            // SAFETY: `_exit` is async-signal-safe; nothing is left to flush that a run
            // which failed needs (outputs are renamed into place only on success).
            unsafe { libc::_exit(1) };
        }
    }
    // Not a mapped input: whoever handled SIGBUS before does, or the default action.
    let previous = PREVIOUS.load(Ordering::Relaxed);
    // SAFETY: `previous` is the handler `sigaction` returned, called as it was installed.
    unsafe {
        if previous == libc::SIG_DFL || previous == libc::SIG_IGN {
            // Returning re-runs the faulting access, which the default action now ends.
            libc::signal(libc::SIGBUS, libc::SIG_DFL);
        } else if PREVIOUS_SIGINFO.load(Ordering::Relaxed) {
            let handler: extern "C" fn(libc::c_int, *mut libc::siginfo_t, *mut libc::c_void) =
                std::mem::transmute(previous);
            handler(signal, info, context);
        } else {
            let handler: extern "C" fn(libc::c_int) = std::mem::transmute(previous);
            handler(signal);
        }
    }
}

/// The address whose access raised the signal.
unsafe fn fault_address(info: *mut libc::siginfo_t) -> usize {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    // SAFETY: the caller's `info` is valid.
    return unsafe { (*info).si_addr() as usize };
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    // SAFETY: the caller's `info` is valid.
    return unsafe { (*info).si_addr as usize };
}

/// `write(2)` all of `bytes`, ignoring failure (there is nowhere else to report it).
fn write_stderr(mut bytes: &[u8]) {
    while !bytes.is_empty() {
        // SAFETY: writes from a valid slice; `write` is async-signal-safe.
        let n = unsafe { libc::write(2, bytes.as_ptr().cast(), bytes.len()) };
        if n <= 0 {
            return;
        }
        bytes = &bytes[n as usize..];
    }
}
