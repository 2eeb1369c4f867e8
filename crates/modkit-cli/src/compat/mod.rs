//! The C library behaviour the tools must reproduce byte for byte, kept
//! apart from the tools: each file says what it emulates and why no crate
//! or `libc` call serves.

pub mod getopt;
pub mod stdio;
