//! The zeros land where redb has not written and nowhere else, on a real file.

use std::os::unix::fs::FileExt;

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
