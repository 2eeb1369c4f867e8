#!/bin/sh
# Builds the test modules for one kernel (6.1 or 6.12-bpo) against Debian's
# matching headers into $MODKIT_CACHE/testmodules/<kernel>/ (never into the
# repository), rebuilding only when a source changed. Prints that directory.
#   testmodules/build.sh <kernel>
set -eu
here=$(cd "$(dirname "$0")" && pwd)
kernel=${1:?usage: testmodules/build.sh 6.1|6.12-bpo}
cache=$("$here/../scripts/refs.sh" tools trees headers | tail -n1)
ver=$(cat "$cache/trees/$kernel/.version")
kdir=$cache/trees/$kernel-headers/usr/src/linux-headers-$ver
out=$cache/testmodules/$kernel
# Debian's arch headers include the -common Makefile by its installed path;
# point it at the extracted copy instead.
sed -i "s|^include /usr/src/|include $cache/trees/$kernel-headers/usr/src/|" "$kdir/Makefile"
stamp=$(cat "$here"/*.c "$here/Kbuild" | sha256sum | cut -c1-16)
if [ -f "$out/.stamp" ] && [ "$(cat "$out/.stamp")" = "$stamp" ]; then
    echo "$out"; exit 0
fi
rm -rf "$out"; mkdir -p "$out"
cp "$here"/*.c "$here/Kbuild" "$out/"
# no BTF for test modules: it would need a recent pahole
    make -s -C "$kdir" M="$out" CONFIG_DEBUG_INFO_BTF_MODULES= modules >"$out/build.log" 2>&1 || { cat "$out/build.log" >&2; exit 1; }
echo "$stamp" > "$out/.stamp"
echo "$out"
