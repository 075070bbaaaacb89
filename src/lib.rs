//! burnbox: a self-hostable one-time secret service.
//!
//! # Layout
//! Layers depend downwards only: [`api`] (HTTP dialects) → [`service`] (the rules) → [`actors`]
//! (one actor per secret in use) → [`storage`] and [`crypto`] → [`domain`] (types, no I/O).
//! [`app`] wires them; [`cli`] and [`config`] are the binary's front door; [`client`] is the
//! command-line client, which reaches a server only over HTTP. See ARCHITECTURE.md.

#![warn(missing_docs)]

#[macro_use]
mod stdout;

pub mod actors;
pub mod admin;
pub mod api;
pub mod app;
pub mod cli;
pub mod client;
pub mod clock;
pub mod config;
pub mod crypto;
pub mod domain;
pub mod server;
pub mod service;
pub mod storage;
pub mod telemetry;
pub mod tls;
pub mod web;
