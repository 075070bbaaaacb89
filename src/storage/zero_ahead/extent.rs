//! Where the zeros stand: the file's length, its holes that still want zeros, the zeros being
//! written and redb's furthest write. Bookkeeping only; the I/O is [`super::zeroing`]'s.

use std::collections::BTreeMap;

use super::{ZERO_AHEAD, ZERO_CHUNK};

/// Where the zeros stand, guarded by [`super::zeroing::Shared`]'s lock.
#[derive(Debug)]
pub(super) struct Extent {
    /// The file's length.
    pub(super) len: u64,
    /// Holes of the file that redb has not written since it was armed and that hold no zeros
    /// yet (start to end, none touching another): the only places zeros go. The holes found
    /// when the file is measured, and the space each growth adds, minus redb's writes and the
    /// zeros written. redb writes a page near the end of a grown file before the pages between,
    /// so a few entries at a time.
    pub(super) holes: BTreeMap<u64, u64>,
    /// Zeros being written by the zeroing thread without the lock: redb's writes into this
    /// range, and any resize, wait for them.
    pub(super) in_flight: Option<(u64, u64)>,
    /// The end of the furthest write redb has made since the file was measured (the start of
    /// its first hole before that).
    pub(super) furthest: u64,
    /// Set by redb's first write or resize: only then is the file known to be this process's
    /// (redb has taken its lock), so zeros wait for it.
    pub(super) armed: bool,
    /// Set by [`ZeroAheadFile::close`]: the zeroing thread stops.
    pub(super) closed: bool,
}

impl Extent {
    pub(super) fn wants_zeros(&self) -> bool {
        self.armed
            && !self.closed
            && self
                .holes
                .first_key_value()
                .is_some_and(|(&start, _)| start < self.furthest.saturating_add(ZERO_AHEAD))
    }

    /// The next range of zeros: the start of the lowest hole, at most [`ZERO_CHUNK`] of it.
    pub(super) fn next_chunk(&self) -> Option<(u64, u64)> {
        let (&start, &end) = self.holes.first_key_value()?;
        Some((start, end.min(start.saturating_add(ZERO_CHUNK))))
    }

    /// Adds `[from, to)` to the holes, joining a hole it touches.
    pub(super) fn add_hole(&mut self, mut from: u64, mut to: u64) {
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
    pub(super) fn fill(&mut self, from: u64, to: u64) {
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
    pub(super) fn resize(&mut self, len: u64) {
        if len > self.len {
            self.add_hole(self.len, len);
        } else {
            self.fill(len, u64::MAX);
            self.furthest = self.furthest.min(len);
        }
        self.len = len;
    }

    pub(super) fn in_flight_overlaps(&self, from: u64, to: u64) -> bool {
        self.in_flight
            .is_some_and(|(start, end)| from < end && start < to)
    }
}
