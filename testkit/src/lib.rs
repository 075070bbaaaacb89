//! What burnbox's integration tests and benchmarks share: the real servers they run against
//! (`s3s-fs` for S3, Redis standalone, as a Cluster and over TLS) and deterministic sample bytes.
//! Each server runs on free loopback ports with its own data and stops when dropped.

#![warn(missing_docs)]

pub mod redis_servers;
pub mod s3;
pub mod sample;
