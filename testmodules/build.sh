#!/bin/sh
# Builds the test modules for one kernel (6.1 or 6.12-bpo) against Debian's
# matching headers (linux-headers-<ver>-amd64, -common and linux-kbuild, as
# scripts/refs.sh headers extracts them) into $MODKIT_CACHE/testmodules/<kernel>/
# (never into the repository), rebuilding only when a source, this script or
# the headers changed. Prints that directory; with DEST, also copies the
# built .ko files there (under the lock, so a concurrent rebuild can't pull
# them away mid-copy).
#   testmodules/build.sh <kernel> [DEST]
# Safe to run concurrently (VM tests run in parallel): one build at a time
# per kernel, and the result replaces the previous one only when complete.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
kernel=${1:?usage: testmodules/build.sh 6.1|6.12-bpo [DEST]}
dest=${2:-}
cache=$("$here/../scripts/refs.sh" tools trees headers)
[ -f "$cache/trees/$kernel/.version" ] || { echo "testmodules/build.sh: unknown kernel '$kernel'" >&2; exit 2; }
ver=$(cat "$cache/trees/$kernel/.version")
hdr=$cache/trees/$kernel-headers
kdir=$hdr/usr/src/linux-headers-$ver
out=$cache/testmodules/$kernel
mkdir -p "$cache/testmodules"
command -v flock >/dev/null 2>&1 || { echo "testmodules/build.sh: flock (util-linux) missing" >&2; exit 1; }
exec 9>"$cache/testmodules/.lock-$kernel"
flock 9

stamp=$( { echo "$ver"; cat "$hdr/.pin" "$0" "$here"/*.c "$here"/*.h "$here/Kbuild"; } | sha256sum | cut -c1-16)
finish() {
    if [ -n "$dest" ]; then mkdir -p "$dest" && cp "$out"/*.ko "$dest/"; fi
    echo "$out"; exit 0
}
if [ -f "$out/.stamp" ] && [ "$(cat "$out/.stamp")" = "$stamp" ]; then finish; fi
tmp=$out.new
rm -rf "$tmp"; mkdir -p "$tmp"
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
cp "$here"/*.c "$here"/*.h "$here/Kbuild" "$tmp/"
# No BTF for the test modules: it would need a recent pahole and vmlinux.
if ! make -s -C "$kdir" M="$tmp" CONFIG_DEBUG_INFO_BTF_MODULES= modules >"$tmp/build.log" 2>&1; then
    cat "$tmp/build.log" >&2; exit 1
fi
# Kbuild records absolute paths in .cmd files; only the .ko files are used.
echo "$stamp" > "$tmp/.stamp"
rm -rf "$out"; mv "$tmp" "$out"
finish
