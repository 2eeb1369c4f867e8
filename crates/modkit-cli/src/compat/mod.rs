//! The C library's behaviour that the tools' output depends on, where no
//! crate reproduces it: glibc's stdio buffering.

pub mod stdio;
