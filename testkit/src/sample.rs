//! Deterministic bytes for tests and benchmarks: a file that looks like nothing in particular.

/// Bytes that look like nothing in particular, different for each `seed`.
pub fn sample_file(len: usize, seed: u8) -> Vec<u8> {
    let mut state = u64::from(seed).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        })
        .collect()
}
