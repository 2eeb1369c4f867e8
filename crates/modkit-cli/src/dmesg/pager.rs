//! The pager of `dmesg -H`, as util-linux's `pager_redirect`: `$PAGER`
//! (default `less`, with `LESS=FRSX`) when standard output is a terminal;
//! dmesg's output goes to it, line-buffered, and dmesg waits for it at
//! exit.

use std::io::IsTerminal;
use std::process::{Child, Command, Stdio};

use crate::compat::stdio::Stdout;

/// A running pager.
pub struct Pager {
    child: Child,
}

impl Pager {
    /// Starts the pager when standard output is a terminal and `$PAGER`
    /// names a command (not `cat`), and sends `out` to it.
    pub fn start(out: &mut Stdout) -> Option<Pager> {
        if !std::io::stdout().is_terminal() {
            return None;
        }
        let pager = match std::env::var_os("PAGER") {
            None => "less".into(),
            Some(p) if p.is_empty() || p == "cat" => return None,
            Some(p) => p,
        };
        if !has_command(pager.as_encoded_bytes()) {
            return None;
        }
        let mut cmd = Command::new("sh");
        cmd.arg("-c").arg(&pager).stdin(Stdio::piped());
        if std::env::var_os("LESS").is_none() {
            cmd.env("LESS", "FRSX");
        }
        let _ = out.flush();
        let mut child = cmd.spawn().ok()?;
        let stdin = child.stdin.take()?;
        out.redirect(Box::new(stdin));
        Some(Pager { child })
    }

    /// Closes the pager's input (`out` goes back to standard output) and
    /// waits for it to exit, leaving the terminal's signals to it.
    pub fn wait(mut self, out: &mut Stdout) {
        // Dropping our end of the pipe signals EOF to the pager.
        drop(out.redirect(Box::new(std::io::stdout())));
        modkit::process::ignore_terminal_signals();
        let _ = self.child.wait();
    }
}

/// util-linux's `has_command`: the first word of `cmd` is an executable
/// path, or is found executable in `$PATH`.
fn has_command(cmd: &[u8]) -> bool {
    use std::os::unix::ffi::OsStrExt;
    let Some(word) = cmd.split(|&b| b == b' ').find(|w| !w.is_empty()) else {
        return false;
    };
    let executable = |p: &std::path::Path| {
        std::fs::metadata(p)
            .map(|m| m.permissions().mode() & 0o111 != 0)
            .unwrap_or(false)
    };
    use std::os::unix::fs::PermissionsExt;
    if word[0] == b'/' {
        return executable(std::path::Path::new(std::ffi::OsStr::from_bytes(word)));
    }
    let Some(path) = std::env::var_os("PATH") else {
        return false;
    };
    path.as_encoded_bytes()
        .split(|&b| b == b':')
        .filter(|d| !d.is_empty())
        .any(|d| {
            executable(
                &std::path::Path::new(std::ffi::OsStr::from_bytes(d))
                    .join(std::ffi::OsStr::from_bytes(word)),
            )
        })
}
