//! burnbox: a self-hostable one-time secret service.
pub mod clock;
pub mod crypto;
pub mod domain;
pub mod storage;
