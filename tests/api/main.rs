//! Integration tests: the real server on a loopback port, driven over HTTP.

mod accounts;
mod at_rest;
mod bad_input;
mod cli;
mod connections;
mod durability;
mod end_to_end;
mod expiry;
mod file_modes;
mod files;
mod flow;
mod hashing;
mod helpers;
mod openapi;
mod ops_files;
mod ots;
mod pages;
mod pages_end_to_end;
mod redis_servers;
mod redis_store;
mod s3;
mod sample;
mod several_nodes;
mod telemetry;
mod upload_slots;
mod views;
