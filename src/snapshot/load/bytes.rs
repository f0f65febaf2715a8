//! The bytes of an input: a file mapped into memory (as ripgrep reads big files) or bytes already
//! read, and the pages behind a reader given back to the system, so that a big file is never
//! resident as a whole.

use std::ops::{Deref, Range};
use std::path::Path;

/// The bytes of one input: a file mapped into memory, or bytes already read (standard input, or a
/// file that cannot be mapped).
pub(super) enum Bytes {
    Mapped(memmap2::Mmap),
    Read(Vec<u8>),
}

impl Bytes {
    /// Maps a file; an empty file or one that cannot be mapped (a pipe, a special file) is read.
    pub fn open(path: &Path) -> std::io::Result<Bytes> {
        let file = std::fs::File::open(path)?;
        let size = file.metadata()?.len();
        if size > 0 {
            // SAFETY: the map is only read. Were the file changed while it is read, the reader
            // would see other bytes (and report bad JSON), which is what reading it would give.
            if let Ok(map) = unsafe { memmap2::Mmap::map(&file) } {
                #[cfg(unix)]
                let _ = map.advise(memmap2::Advice::Sequential);
                return Ok(Bytes::Mapped(map));
            }
        }
        std::fs::read(path).map(Bytes::Read)
    }

    /// Lets the system drop the pages of `range` from memory; they are read from the file again
    /// if used once more. Bytes already read stay as they are.
    pub fn release(&self, range: Range<usize>) {
        #[cfg(unix)]
        if let Bytes::Mapped(map) = self {
            // SAFETY: a read-only private map of a file: dropped pages come back from the file,
            // unchanged, when they are read again.
            let _ = unsafe {
                map.unchecked_advise_range(memmap2::UncheckedAdvice::DontNeed, range.start, range.len())
            };
        }
        #[cfg(not(unix))]
        let _ = range;
    }
}

/// A reader of [`Bytes`] that gives back the pages it has read past (the YAML parser reads
/// through it into buffers of its own, so a big file is never resident as a whole).
pub(super) struct Reader<'a> {
    bytes: &'a Bytes,
    at: usize,
    released: usize,
}

impl Bytes {
    pub fn reader(&self) -> Reader<'_> {
        Reader {
            bytes: self,
            at: 0,
            released: 0,
        }
    }
}

impl std::io::Read for Reader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let rest = &self.bytes[self.at..];
        let n = rest.len().min(buf.len());
        buf[..n].copy_from_slice(&rest[..n]);
        self.at += n;
        if self.at - self.released >= RELEASE_EVERY {
            let end = self.at & !(PAGE - 1);
            self.bytes.release(self.released..end);
            self.released = end;
        }
        Ok(n)
    }
}

impl Deref for Bytes {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        match self {
            Bytes::Mapped(map) => map,
            Bytes::Read(bytes) => bytes,
        }
    }
}

/// Pages are given back once this much of the input lies behind a reader.
pub(super) const RELEASE_EVERY: usize = 512 << 10;

/// Pages are released in whole pages of this size (a multiple of every system's page size).
pub(super) const PAGE: usize = 64 << 10;
