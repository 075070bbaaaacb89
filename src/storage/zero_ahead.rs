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
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::Path;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
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

/// Where the zeros stand, guarded by [`Shared::extent`].
#[derive(Debug)]
struct Extent {
    /// The file's length.
    len: u64,
    /// Holes of the file that redb has not written since it was armed and that hold no zeros
    /// yet (start to end, none touching another): the only places zeros go. The holes found
    /// when the file is measured, and the space each growth adds, minus redb's writes and the
    /// zeros written. redb writes a page near the end of a grown file before the pages between,
    /// so a few entries at a time.
    holes: BTreeMap<u64, u64>,
    /// Zeros being written by the zeroing thread without the lock: redb's writes into this
    /// range, and any resize, wait for them.
    in_flight: Option<(u64, u64)>,
    /// The end of the furthest write redb has made since the file was measured (the start of
    /// its first hole before that).
    furthest: u64,
    /// Set by redb's first write or resize: only then is the file known to be this process's
    /// (redb has taken its lock), so zeros wait for it.
    armed: bool,
    /// Set by [`ZeroAheadFile::close`]: the zeroing thread stops.
    closed: bool,
}

impl Extent {
    fn wants_zeros(&self) -> bool {
        self.armed
            && !self.closed
            && self
                .holes
                .first_key_value()
                .is_some_and(|(&start, _)| start < self.furthest.saturating_add(ZERO_AHEAD))
    }

    /// The next range of zeros: the start of the lowest hole, at most [`ZERO_CHUNK`] of it.
    fn next_chunk(&self) -> Option<(u64, u64)> {
        let (&start, &end) = self.holes.first_key_value()?;
        Some((start, end.min(start.saturating_add(ZERO_CHUNK))))
    }

    /// Adds `[from, to)` to the holes, joining a hole it touches.
    fn add_hole(&mut self, mut from: u64, mut to: u64) {
        if from >= to {
            return;
        }
        if let Some((&start, &end)) = self.holes.range(..=from).next_back()
            && end >= from
        {
            self.holes.remove(&start);
            from = start;
            to = to.max(end);
        }
        while let Some((&start, &end)) = self.holes.range(from..).next()
            && start <= to
        {
            self.holes.remove(&start);
            to = to.max(end);
        }
        self.holes.insert(from, to);
    }

    /// Takes `[from, to)` out of the holes: redb wrote it, or zeros landed there.
    fn fill(&mut self, from: u64, to: u64) {
        let overlapping: Vec<(u64, u64)> = self
            .holes
            .range(..to)
            .rev()
            .take_while(|&(_, &end)| end > from)
            .map(|(&start, &end)| (start, end))
            .collect();
        for (start, end) in overlapping {
            self.holes.remove(&start);
            if start < from {
                self.holes.insert(start, from);
            }
            if to < end {
                self.holes.insert(to, end);
            }
        }
    }

    /// Takes the file to `len`: a growth is a new hole, a shrink forgets what lies past it.
    fn resize(&mut self, len: u64) {
        if len > self.len {
            self.add_hole(self.len, len);
        } else {
            self.fill(len, u64::MAX);
            self.furthest = self.furthest.min(len);
        }
        self.len = len;
    }

    fn in_flight_overlaps(&self, from: u64, to: u64) -> bool {
        self.in_flight
            .is_some_and(|(start, end)| from < end && start < to)
    }
}

/// What the backend and its zeroing thread share.
#[derive(Debug)]
struct Shared {
    /// The database file opened a second time for this thread: buffered zeros where direct I/O
    /// is refused, the trailing hole, and the thread's `fdatasync`. Not a duplicate of redb's
    /// handle: a failed write-back is reported once per open file, and must reach redb's own
    /// sync rather than be taken by this one.
    file: File,
    /// The same file opened with `O_DIRECT`, when the file system allows it: zeros that never
    /// sit in the page cache, so a commit's `fdatasync` never waits to write them.
    direct: Option<File>,
    extent: Mutex<Extent>,
    /// Signalled when redb writes or resizes, when zeros land, and on close.
    changed: Condvar,
    /// [`ZERO_CHUNK`] zero bytes plus room to align them for direct I/O.
    zeros: Box<[u8]>,
}

impl Shared {
    fn extent(&self) -> MutexGuard<'_, Extent> {
        // The guarded values are integers updated after the I/O they describe succeeded; a
        // panic elsewhere cannot leave them half-written.
        self.extent.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn wait<'a>(&self, extent: MutexGuard<'a, Extent>) -> MutexGuard<'a, Extent> {
        self.changed
            .wait(extent)
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Writes zeros over `[from, to)`: straight to the disk when the file system allows it and
    /// both ends are aligned, through the page cache otherwise.
    fn write_zeros(&self, from: u64, to: u64) -> io::Result<()> {
        let aligned =
            from.is_multiple_of(DIRECT_ALIGN as u64) && to.is_multiple_of(DIRECT_ALIGN as u64);
        if let Some(direct) = self.direct.as_ref().filter(|_| aligned)
            && write_zeros_to(direct, self.aligned_zeros(), from, to).is_ok()
        {
            return Ok(());
        }
        write_zeros_to(&self.file, self.aligned_zeros(), from, to)
    }

    fn aligned_zeros(&self) -> &[u8] {
        let start = self.zeros.as_ptr().align_offset(DIRECT_ALIGN);
        self.zeros.get(start..).unwrap_or_default()
    }

    /// Takes the file's measure when redb first writes to or resizes it: redb holds its lock
    /// by then, so no other process can still be changing it.
    fn arm(&self, extent: &mut Extent) -> io::Result<()> {
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
    fn run(&self) {
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
mod tests {
    use super::*;

    const PAGE: usize = 4096;

    fn open_in(dir: &tempfile::TempDir) -> (ZeroAheadFile, std::path::PathBuf) {
        let path = dir.path().join("db");
        (ZeroAheadFile::open(&path).expect("open"), path)
    }

    /// Where the first hole at or after `from` starts (the length when there is none).
    fn first_hole(path: &Path, from: u64) -> u64 {
        let file = File::open(path).expect("open");
        seek(&file, SeekFrom::Hole(from))
            .expect("seek")
            .expect("a hole or the end")
    }

    /// Waits until the zeros reach `at` from `from` (the thread works in the background),
    /// failing the test if they do not within 5 s; returns where the first hole now starts.
    fn assert_zeros_reach(path: &Path, from: u64, at: u64) -> u64 {
        for _ in 0..500 {
            if first_hole(path, from) >= at {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        let hole = first_hole(path, from);
        assert!(hole >= at, "zeros reach {hole}, short of {at}");
        hole
    }

    /// A file of `len` bytes, a hole but for a page of each byte value at each offset given.
    fn file_with_pages(path: &Path, len: u64, pages: &[(u64, u8)]) -> File {
        let file = File::create(path).expect("create");
        file.set_len(len).expect("grow");
        for &(offset, byte) in pages {
            file.write_all_at(&[byte; PAGE], offset).expect("write");
        }
        file
    }

    fn read_page(file: &ZeroAheadFile, offset: u64) -> Vec<u8> {
        let mut page = vec![0xee; PAGE];
        file.read(offset, &mut page).expect("read");
        page
    }

    #[test]
    fn zeros_are_written_ahead_of_the_furthest_write_and_no_further() {
        let dir = tempfile::tempdir().expect("temp dir");
        let (file, path) = open_in(&dir);
        file.set_len(64 << 20).expect("grow");
        file.write(0, &[7; PAGE]).expect("write");
        let furthest = 10 * PAGE as u64;
        file.write(furthest - PAGE as u64, &[9; PAGE])
            .expect("write");

        assert_zeros_reach(&path, furthest, furthest + ZERO_AHEAD);
        // Given time, the zeros stop within a chunk of that.
        std::thread::sleep(std::time::Duration::from_millis(100));
        let hole = first_hole(&path, furthest);
        assert!(
            hole <= furthest + ZERO_AHEAD + ZERO_CHUNK,
            "zeros went on to {hole}: the whole growth was filled"
        );
        assert_eq!(read_page(&file, 0), vec![7; PAGE]);
        assert_eq!(read_page(&file, furthest - PAGE as u64), vec![9; PAGE]);
        assert_eq!(read_page(&file, PAGE as u64), vec![0; PAGE]);
        assert_eq!(read_page(&file, furthest + PAGE as u64), vec![0; PAGE]);
        file.close().expect("close");
    }

    #[test]
    fn a_page_written_far_ahead_is_stepped_over_and_the_gap_below_filled() {
        let dir = tempfile::tempdir().expect("temp dir");
        let (file, path) = open_in(&dir);
        file.set_len(64 << 20).expect("grow");
        // As redb does after growing: a page near the new end before the pages between.
        let far = 32 << 20;
        file.write(far, &[4; PAGE]).expect("write");
        file.write(0, &[3; PAGE]).expect("write");

        let reach = far + PAGE as u64 + ZERO_AHEAD;
        assert_zeros_reach(&path, 0, reach);
        assert_eq!(read_page(&file, far), vec![4; PAGE]);
        assert_eq!(read_page(&file, 0), vec![3; PAGE]);
        assert_eq!(read_page(&file, far - PAGE as u64), vec![0; PAGE]);
        file.close().expect("close");
    }

    #[test]
    fn pages_written_while_zeros_are_written_keep_their_bytes() {
        let dir = tempfile::tempdir().expect("temp dir");
        let (file, path) = open_in(&dir);
        file.set_len(48 << 20).expect("grow");
        // Pages every 64 KiB, racing the zeroing thread as it follows them.
        let offsets: Vec<u64> = (0..640u64).map(|n| n * (64 << 10)).collect();
        for (n, offset) in offsets.iter().enumerate() {
            file.write(*offset, &[(n % 250) as u8 + 1; PAGE])
                .expect("write");
        }
        let reach = offsets.last().map_or(0, |last| last + PAGE as u64) + ZERO_AHEAD;
        assert_zeros_reach(&path, 0, reach);
        for (n, offset) in offsets.iter().enumerate() {
            assert_eq!(
                read_page(&file, *offset),
                vec![(n % 250) as u8 + 1; PAGE],
                "page at {offset}"
            );
        }
        file.close().expect("close");
    }

    #[test]
    fn no_zeros_are_written_into_an_existing_file_before_redb_writes_to_it() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("db");
        file_with_pages(&path, 16 << 20, &[(0, 1)]);
        // Another process may hold the file: redb has not taken its lock yet.
        let file = ZeroAheadFile::open(&path).expect("open");
        std::thread::sleep(std::time::Duration::from_millis(100));
        assert_eq!(first_hole(&path, 0), PAGE as u64);

        file.write(PAGE as u64, &[2; PAGE]).expect("write");
        assert_zeros_reach(&path, 0, 2 * PAGE as u64 + ZERO_AHEAD);
        assert_eq!(read_page(&file, PAGE as u64), vec![2; PAGE]);
        file.close().expect("close");
    }

    #[test]
    fn the_file_is_measured_when_redb_first_writes_not_when_it_is_opened() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("db");
        let other = file_with_pages(&path, 16 << 20, &[(0, 1)]);
        let file = ZeroAheadFile::open(&path).expect("open");
        // Another process (the instance being replaced) commits into the hole, then lets go.
        other.write_all_at(&[6; PAGE], 1 << 20).expect("write");
        drop(other);

        file.write(0, &[1; PAGE]).expect("write");
        let reach = PAGE as u64 + ZERO_AHEAD;
        assert_zeros_reach(&path, 0, reach);
        assert_eq!(read_page(&file, 1 << 20), vec![6; PAGE]);
        file.close().expect("close");
    }

    #[test]
    fn the_holes_of_a_file_are_found() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("db");
        assert!(
            holes_of(&file_with_pages(&path, 0, &[]), 0)
                .expect("holes")
                .is_empty()
        );
        let file = file_with_pages(&path, 8 << 20, &[(0, 1), (2 << 20, 2)]);
        let holes: Vec<(u64, u64)> = holes_of(&file, 8 << 20)
            .expect("holes")
            .into_iter()
            .collect();
        assert_eq!(
            holes,
            vec![(PAGE as u64, 2 << 20), ((2 << 20) + PAGE as u64, 8 << 20)]
        );
        file.write_all_at(&[3; PAGE], (8 << 20) - PAGE as u64)
            .expect("write");
        let holes: Vec<(u64, u64)> = holes_of(&file, 8 << 20)
            .expect("holes")
            .into_iter()
            .collect();
        assert_eq!(
            holes,
            vec![
                (PAGE as u64, 2 << 20),
                ((2 << 20) + PAGE as u64, (8 << 20) - PAGE as u64)
            ]
        );
    }

    #[test]
    fn holes_inside_a_file_grown_before_are_filled_after_a_restart() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("db");
        // As redb leaves its file: pages at the start, one near the end of its last growth.
        file_with_pages(&path, 32 << 20, &[(0, 1), ((32 << 20) - PAGE as u64, 9)]);
        let file = ZeroAheadFile::open(&path).expect("open");
        file.write(PAGE as u64, &[2; PAGE]).expect("write");
        let reach = 2 * PAGE as u64 + ZERO_AHEAD;
        assert_zeros_reach(&path, 0, reach);
        assert_eq!(read_page(&file, (32 << 20) - PAGE as u64), vec![9; PAGE]);
        assert_eq!(read_page(&file, PAGE as u64), vec![2; PAGE]);
        file.close().expect("close");
    }

    #[test]
    fn shrinking_right_after_growing_keeps_the_length_and_the_pages_below() {
        let dir = tempfile::tempdir().expect("temp dir");
        let (file, path) = open_in(&dir);
        // Each growth sets the thread writing zeros past the new end of the next shrink.
        for round in 0..20u8 {
            file.set_len(64 << 20).expect("grow");
            file.write((3 << 20) - PAGE as u64, &[round; PAGE])
                .expect("write");
            std::thread::sleep(std::time::Duration::from_micros(300));
            file.set_len(3 << 20).expect("shrink");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
        assert_eq!(std::fs::metadata(&path).expect("stat").len(), 3 << 20);
        assert_eq!(file.len().expect("len"), 3 << 20);
        assert_eq!(read_page(&file, (3 << 20) - PAGE as u64), vec![19; PAGE]);
        file.close().expect("close");
    }
}
