//! modkit's version and the version text of the kmod-compatible tools:
//! what `-V`/`--version` prints, kept here so that no tool reaches into
//! `main.rs`.

/// modkit's version (the workspace's, from Cargo).
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// What `-V`/`--version` prints for the kmod-compatible tools: Debian
/// trixie's kmod 34.2's two lines exactly (scripts parse the version and the
/// features: `-ZLIB` as there, since modkit's depmod, like that kmod, does
/// not index `.ko.gz` files — the other tools' reading of gzip-compressed
/// modules is an addition, not a feature to rely on), then modkit's own
/// version.
pub fn kmod_version() -> String {
    format!("kmod version 34.2\n+ZSTD +XZ -ZLIB +OPENSSL\nmodkit {VERSION}\n")
}
