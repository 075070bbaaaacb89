//! The zeroing thread and what it shares with the backend: it waits for redb's writes and
//! resizes, and writes zeros into the holes [`Extent`] says want them, a chunk at a time, each
//! followed by its `fdatasync`.

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};

use super::extent::Extent;
use super::{DIRECT_ALIGN, holes_of};

/// What the backend and its zeroing thread share.
#[derive(Debug)]
pub(super) struct Shared {
    /// The database file opened a second time for this thread: buffered zeros where direct I/O
    /// is refused, the trailing hole, and the thread's `fdatasync`. Not a duplicate of redb's
    /// handle: a failed write-back is reported once per open file, and must reach redb's own
    /// sync rather than be taken by this one.
    pub(super) file: File,
    /// The same file opened with `O_DIRECT`, when the file system allows it: zeros that never
    /// sit in the page cache, so a commit's `fdatasync` never waits to write them.
    pub(super) direct: Option<File>,
    pub(super) extent: Mutex<Extent>,
    /// Signalled when redb writes or resizes, when zeros land, and on close.
    pub(super) changed: Condvar,
    /// [`ZERO_CHUNK`] zero bytes plus room to align them for direct I/O.
    pub(super) zeros: Box<[u8]>,
}

impl Shared {
    pub(super) fn extent(&self) -> MutexGuard<'_, Extent> {
        // The guarded values are integers updated after the I/O they describe succeeded; a
        // panic elsewhere cannot leave them half-written.
        self.extent.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(super) fn wait<'a>(&self, extent: MutexGuard<'a, Extent>) -> MutexGuard<'a, Extent> {
        self.changed
            .wait(extent)
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Writes zeros over `[from, to)`: straight to the disk when the file system allows it and
    /// both ends are aligned, through the page cache otherwise.
    pub(super) fn write_zeros(&self, from: u64, to: u64) -> io::Result<()> {
        let aligned =
            from.is_multiple_of(DIRECT_ALIGN as u64) && to.is_multiple_of(DIRECT_ALIGN as u64);
        if let Some(direct) = self.direct.as_ref().filter(|_| aligned)
            && write_zeros_to(direct, self.aligned_zeros(), from, to).is_ok()
        {
            return Ok(());
        }
        write_zeros_to(&self.file, self.aligned_zeros(), from, to)
    }

    pub(super) fn aligned_zeros(&self) -> &[u8] {
        let start = self.zeros.as_ptr().align_offset(DIRECT_ALIGN);
        self.zeros.get(start..).unwrap_or_default()
    }

    /// Takes the file's measure when redb first writes to or resizes it: redb holds its lock
    /// by then, so no other process can still be changing it.
    pub(super) fn arm(&self, extent: &mut Extent) -> io::Result<()> {
        if !extent.armed {
            let len = self.file.metadata()?.len();
            extent.holes = holes_of(&self.file, len)?;
            extent.furthest = extent
                .holes
                .first_key_value()
                .map_or(len, |(&start, _)| start);
            extent.len = len;
            extent.armed = true;
        }
        Ok(())
    }

    /// The zeroing thread: a chunk at a time while redb's writes come within [`ZERO_AHEAD`] of
    /// the zeros' end, each chunk synced so the file system records its blocks off the commit
    /// path.
    pub(super) fn run(&self) {
        loop {
            let mut extent = self.extent();
            while !extent.wants_zeros() {
                if extent.closed {
                    return;
                }
                extent = self.wait(extent);
            }
            let Some((from, to)) = extent.next_chunk() else {
                continue;
            };
            extent.in_flight = Some((from, to));
            drop(extent);
            let written = self.write_zeros(from, to);
            let mut extent = self.extent();
            extent.in_flight = None;
            if written.is_ok() {
                extent.fill(from, to);
            }
            drop(extent);
            self.changed.notify_all();
            if let Err(err) = written.and_then(|()| Ok(rustix::fs::fdatasync(&self.file)?)) {
                tracing::warn!(error = %err, "stopped writing zeros ahead of the store file; new pages fill its holes as they are written");
                return;
            }
        }
    }
}

/// Writes `[from, to)` of `file` with `zeros`, a buffer of zeros at most that long at a time.
fn write_zeros_to(file: &File, zeros: &[u8], from: u64, to: u64) -> io::Result<()> {
    if zeros.is_empty() {
        return Err(io::Error::other("no aligned buffer of zeros"));
    }
    let mut at = from;
    while at < to {
        let n = usize::try_from(to - at).map_or(zeros.len(), |left| left.min(zeros.len()));
        file.write_all_at(&zeros[..n], at)?;
        at += n as u64;
    }
    Ok(())
}
