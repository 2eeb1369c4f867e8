#!/bin/sh
# Builds the statically linked modkit binary (for initramfs images) and
# prints its path. Checks with ldd that it has no dynamic dependencies.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
target=x86_64-unknown-linux-gnu
RUSTFLAGS="-C target-feature=+crt-static" cargo build --release -q --target "$target" -p modkit-cli
bin=$here/target/$target/release/modkit
if ldd "$bin" 2>&1 | grep -q "=>"; then
    echo "build-static.sh: $bin is dynamically linked:" >&2
    ldd "$bin" >&2
    exit 1
fi
echo "$bin"
