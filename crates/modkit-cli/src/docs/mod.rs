//! The manual pages and shell completions, written from the pages'
//! markdown sources (`man/*.md`) and the tools' own option tables.
//!
//! Why here, at test time: the pages and completions are data that
//! `scripts/install.sh` and `scripts/deb.sh` copy, so they are kept in the
//! repository, written by these tests (`MODKIT_BLESS=1 cargo test -p
//! modkit-cli --bin modkit docs`) and checked by them on every run: a
//! page or completion that differs from what its source and the option
//! tables give fails the test, as does an option a tool accepts that its
//! page does not document (or the reverse), or a tool without a page or
//! completions. So they cannot drift, the installed binary carries no
//! generator (no hidden subcommand), and installing needs no build step
//! beyond the binary and no tool but `install`. A `build.rs` could not
//! see the option tables (they are in the crate it builds), and an xtask
//! crate would duplicate them.

mod completions;

mod man;
mod spec;
mod tests;

/// The command a tool is installed as (its man page, its completions):
/// see `Tool::command`.
fn command(name: &str) -> &'static str {
    crate::TOOLS
        .iter()
        .find(|t| t.name == name)
        .map_or_else(|| panic!("no tool '{name}' in TOOLS"), |t| t.command)
}
