//! redb's file backend with the space it grows into written with zeros ahead of its pages.
//!
//! redb grows its file with `ftruncate`, which leaves a hole: no disk blocks behind the new
//! length. A commit that writes pages into a hole makes the file system allocate blocks, and
//! then `fdatasync` must also write the changed block map (on ext4 a synchronous inode write: a
//! second trip to the disk) before the commit is durable
//! (`docs/decisions/0010-zero-ahead-file-backend.md`). [`ZeroAheadFile`] keeps [`ZERO_AHEAD`] bytes beyond the furthest page
//! redb has written filled with zeros, from a thread of its own, [`ZERO_CHUNK`] at a time and
//! past the page cache (`O_DIRECT`, where the file system allows it), each chunk followed by its
//! own `fdatasync`: the blocks are allocated and recorded off the commit path, and commits
//! overwrite blocks that already exist.
//!
//! Zeros only ever go where redb has not written since the file was opened, and where the file
//! reads as zeros anyway (a hole or zeros written before), so what redb reads back is unchanged
//! and a crash leaves nothing it did not leave before. The file is measured (length, trailing
//! hole) at redb's first write or resize, when redb holds its lock on it.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io;
use std::ops::Bound;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread::JoinHandle;

use redb::backends::FileBackend;
use redb::{BackendError, StorageBackend};

use super::owner_only;
use rustix::fs::{OFlags, SeekFrom};
use rustix::io::Errno;

/// How far beyond the furthest byte redb has written the file is kept filled with zeros.
pub const ZERO_AHEAD: u64 = 4 << 20;
/// Zeros written (and synced) at a time.
pub const ZERO_CHUNK: u64 = 1 << 20;
/// Alignment of direct I/O.
const DIRECT_ALIGN: usize = 4096;

mod extent;
mod zeroing;

use extent::Extent;
use zeroing::Shared;

/// A [`StorageBackend`] that is redb's [`FileBackend`] plus zeros written ahead of redb's pages.
#[derive(Debug)]
pub struct ZeroAheadFile {
    inner: FileBackend,
    shared: Arc<Shared>,
    zeroing: Mutex<Option<JoinHandle<()>>>,
}

impl ZeroAheadFile {
    /// Opens (or creates) the database file at `path`. Zeros start at its trailing hole, if
    /// any, once redb first writes to it or resizes it.
    ///
    /// # Errors
    /// When the file cannot be opened or the zeroing thread cannot be started.
    pub fn open(path: &Path) -> io::Result<Self> {
        let open = || {
            OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .mode(owner_only::FILE_MODE)
                .open(path)
        };
        let inner = FileBackend::new(open()?).map_err(io::Error::other)?;
        // A file from before, created under a wider umask, is narrowed too.
        owner_only::narrow(path, owner_only::FILE_MODE)?;
        let file = open()?;
        let direct = i32::try_from(OFlags::DIRECT.bits()).ok().and_then(|flag| {
            OpenOptions::new()
                .write(true)
                .custom_flags(flag)
                .open(path)
                .ok()
        });
        let shared = Arc::new(Shared {
            file,
            direct,
            extent: Mutex::new(Extent {
                len: 0,
                holes: BTreeMap::new(),
                in_flight: None,
                furthest: 0,
                armed: false,
                closed: false,
            }),
            changed: Condvar::new(),
            zeros: vec![0; ZERO_CHUNK as usize + DIRECT_ALIGN].into_boxed_slice(),
        });
        let for_thread = Arc::clone(&shared);
        let zeroing = std::thread::Builder::new()
            .name("burnbox-store-zeros".into())
            .spawn(move || for_thread.run())?;
        Ok(Self {
            inner,
            shared,
            zeroing: Mutex::new(Some(zeroing)),
        })
    }

    /// Stops the zeroing thread and waits for it.
    fn stop_zeroing(&self) {
        self.shared.extent().closed = true;
        self.shared.changed.notify_all();
        let handle = self
            .zeroing
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(handle) = handle
            && handle.join().is_err()
        {
            tracing::error!("the thread writing zeros ahead of the store file panicked");
        }
    }
}

impl Drop for ZeroAheadFile {
    fn drop(&mut self) {
        self.stop_zeroing();
    }
}

/// The holes of the first `len` bytes of `file` (none where the file system does not report
/// holes).
fn holes_of(file: &File, len: u64) -> io::Result<BTreeMap<u64, u64>> {
    let mut holes = BTreeMap::new();
    let mut from: u64 = 0;
    while from < len {
        let hole = seek(file, SeekFrom::Hole(from))?.unwrap_or(len).min(len);
        if hole >= len {
            break;
        }
        let data = seek(file, SeekFrom::Data(hole))?.unwrap_or(len).min(len);
        holes.insert(hole, data);
        from = data;
    }
    Ok(holes)
}

/// `lseek` to the next hole or data; `None` when there is none after the offset.
fn seek(file: &File, to: SeekFrom) -> io::Result<Option<u64>> {
    match rustix::fs::seek(file, to) {
        Ok(at) => Ok(Some(at)),
        Err(Errno::NXIO) => Ok(None),
        Err(err) => Err(err.into()),
    }
}

impl StorageBackend for ZeroAheadFile {
    fn len(&self) -> Result<u64, io::Error> {
        self.inner.len()
    }

    fn read(&self, offset: u64, out: &mut [u8]) -> Result<(), io::Error> {
        self.inner.read(offset, out)
    }

    fn set_len(&self, len: u64) -> Result<(), io::Error> {
        let mut extent = self.shared.extent();
        while extent.in_flight.is_some() {
            extent = self.shared.wait(extent);
        }
        self.shared.arm(&mut extent)?;
        self.inner.set_len(len)?;
        extent.resize(len);
        drop(extent);
        self.shared.changed.notify_all();
        Ok(())
    }

    fn sync_data(&self) -> Result<(), io::Error> {
        self.inner.sync_data()
    }

    fn write(&self, offset: u64, data: &[u8]) -> Result<(), io::Error> {
        let end = offset.saturating_add(data.len() as u64);
        let mut extent = self.shared.extent();
        while extent.in_flight_overlaps(offset, end) {
            extent = self.shared.wait(extent);
        }
        let wake = end > extent.furthest || !extent.armed;
        self.shared.arm(&mut extent)?;
        extent.fill(offset, end);
        extent.furthest = extent.furthest.max(end);
        drop(extent);
        if wake {
            self.shared.changed.notify_all();
        }
        self.inner.write(offset, data)
    }

    fn close(&self) -> Result<(), io::Error> {
        self.stop_zeroing();
        self.inner.close()
    }

    fn try_lock_range(&self, start: Bound<u64>, end: Bound<u64>) -> Result<bool, BackendError> {
        self.inner.try_lock_range(start, end)
    }

    fn try_lock_shared_range(
        &self,
        start: Bound<u64>,
        end: Bound<u64>,
    ) -> Result<bool, BackendError> {
        self.inner.try_lock_shared_range(start, end)
    }

    fn lock_range(&self, start: Bound<u64>, end: Bound<u64>) -> Result<(), BackendError> {
        self.inner.lock_range(start, end)
    }

    fn lock_shared_range(&self, start: Bound<u64>, end: Bound<u64>) -> Result<(), BackendError> {
        self.inner.lock_shared_range(start, end)
    }

    fn unlock_range(&self, start: Bound<u64>, end: Bound<u64>) -> Result<(), BackendError> {
        self.inner.unlock_range(start, end)
    }

    fn query_lock_range(&self, start: Bound<u64>, end: Bound<u64>) -> Result<bool, BackendError> {
        self.inner.query_lock_range(start, end)
    }
}

/// These tests need a file system that reports holes (`SEEK_HOLE`) and keeps written zeros as
/// data: ext4, XFS, btrfs without compression, tmpfs.
#[cfg(test)]
mod tests;
