#!/bin/sh
# Fetches the kernel's own taint decoder, tools/debugging/kernel-chktaint,
# from Debian's linux-source-6.12 package (the reference for `modkit taint`'s
# tests), once: the package (about 150 MB) is downloaded with refs.sh's
# private apt set-up, only that one file is taken out of its source tarball,
# and it is kept as $MODKIT_CACHE/ref/kernel-chktaint (with .version naming
# the package version). Prints the file's path as its last line of stdout.
#
# usage: scripts/chktaint.sh
#   MODKIT_CACHE  cache directory (default: $HOME/.cache/modkit)
set -eu

CACHE=${MODKIT_CACHE:-$HOME/.cache/modkit}
HERE=$(cd "$(dirname "$0")/.." && pwd)
OUT=$CACHE/ref/kernel-chktaint
PKG=linux-source-6.12

die() {
    echo "chktaint.sh: $*" >&2
    exit 1
}

if [ -s "$OUT" ] && [ -s "$OUT.version" ]; then
    echo "$OUT"
    exit 0
fi
# refs.sh makes the private apt configuration and its lists
[ -f "$CACHE/apt-refs/apt.conf" ] || "$HERE/scripts/refs.sh" plan >/dev/null
ver=$(APT_CONFIG=$CACHE/apt-refs/apt.conf apt-cache policy "$PKG" | awk '/Candidate:/ { print $2 }')
case $ver in "" | "(none)") die "the archive has no $PKG (apt-cache policy $PKG, refs.sh's suites)" ;; esac
deb=$("$HERE/scripts/refs.sh" fetch "$PKG=$ver" | grep "\.deb$" | tail -n 1)
[ -f "$deb" ] || die "refs.sh fetch $PKG=$ver gave no .deb"
mkdir -p "$CACHE/ref"
tmp=$(mktemp -d "$CACHE/ref/.chktaint.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
dpkg-deb --fsys-tarfile "$deb" | tar -xO "./usr/src/$PKG.tar.xz" | xz -dc |
    tar -x -C "$tmp" --wildcards '*/tools/debugging/kernel-chktaint' ||
    die "cannot extract tools/debugging/kernel-chktaint from $deb"
f=$(find "$tmp" -name kernel-chktaint -type f | head -n 1)
[ -s "$f" ] || die "$deb has no tools/debugging/kernel-chktaint"
chmod 755 "$f"
mv "$f" "$OUT"
echo "$PKG $ver" > "$OUT.version"
# the package is no longer needed (refs.sh prune would remove it anyway)
rm -f "$deb"
echo "$OUT"
