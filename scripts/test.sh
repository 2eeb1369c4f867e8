#!/bin/sh
# Runs every test of modkit: formatting, lints, unit tests, and the
# conformance tests against the reference tools on real Debian trees.
# Installs what it needs (apt packages, the reference tools and trees).
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
need=""
for cmd in dpkg-deb:dpkg apt-get:apt xz:xz-utils gcc:gcc dot:graphviz unshare:util-linux; do
    command -v "${cmd%%:*}" >/dev/null 2>&1 || need="$need ${cmd#*:}"
done
if [ -n "$need" ]; then
    apt-get update -q && apt-get install -y -q $need
fi
rustup component add clippy rustfmt >/dev/null 2>&1 || true
scripts/refs.sh tools trees headers >/dev/null
cargo fmt --all -- --check
cargo clippy --workspace --all-targets -q -- -D warnings
cargo test --workspace -q
