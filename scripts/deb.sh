#!/bin/sh
# Builds a Debian package of modkit with dpkg-deb (no other tool, nothing
# downloaded): scripts/install.sh stages the files, this script adds the
# control data.
#
#   scripts/deb.sh [--binary FILE] [--out DIR]     prints the .deb's path
#
# Environment: DEB_COMPRESS (dpkg-deb -Z: xz, the default, gzip, zstd or
# none), DEBFULLNAME/DEBEMAIL (the Maintainer field).
#
# How it relates to Debian's kmod package: it installs BESIDE it, never in
# its place. kmod is Priority: important; udev and systemd depend on it,
# initramfs-tools runs its depmod and modprobe, and systemd runs
# `kmod static-nodes` at every boot. A package that took over /usr/sbin/
# modprobe and friends (Conflicts/Replaces/Provides: kmod) would make apt
# remove kmod and hand the boot of every system it is installed on to
# modkit — too much to ask of a first package, and not reversible by
# removing modkit (which would leave a system without modprobe). So:
#
#   /usr/lib/modkit/bin/modkit, and a link for each tool next to it
#   /usr/lib/modkit/share/man, .../share/{bash-completion,zsh,fish}
#   /usr/bin/modkit -> ../lib/modkit/bin/modkit   (no file kmod has)
#   /usr/bin/modkit-TOOL, /usr/share/man/man8/modkit-TOOL.8.gz and their
#   bash and fish completions: modkit's own tools (check, param...), names
#   no other package has
#   /usr/share/doc/modkit/copyright
#
# No file of kmod's is touched, and no Conflicts, Replaces or Provides is
# declared. `modkit TOOL` and `modkit-TOOL` work at once; to have the
# drop-ins (kmod's tools, dmesg, klogd) answer to their own names, put
# /usr/lib/modkit/bin first in PATH (man then finds their pages through
# PATH as well, and bash-completion the completions with
# XDG_DATA_DIRS=/usr/lib/modkit/share:/usr/share). Removing the
# package leaves the system as it was.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
binary=""
out=$here/target/deb
while [ $# -gt 0 ]; do
    case $1 in
        --binary) [ $# -ge 2 ] || { echo "deb.sh: --binary needs a FILE" >&2; exit 2; }; binary=$2; shift ;;
        --out) [ $# -ge 2 ] || { echo "deb.sh: --out needs a DIR" >&2; exit 2; }; out=$2; shift ;;
        -h | --help) sed -n '2,/^set -eu/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) echo "deb.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    esac
    shift
done
for cmd in dpkg-deb dpkg readelf gzip; do
    command -v "$cmd" >/dev/null 2>&1 || { echo "deb.sh: $cmd is missing (apt-get install dpkg binutils gzip)" >&2; exit 1; }
done
if [ -z "$binary" ]; then
    (cd "$here" && cargo build --release --locked -q -p modkit-cli)
    binary=${CARGO_TARGET_DIR:-$here/target}/release/modkit
fi

version=$(sed -n 's/^version = "\(.*\)"/\1/p' "$here/Cargo.toml" | head -1)
[ -n "$version" ] || { echo "deb.sh: no version in Cargo.toml's [workspace.package]" >&2; exit 1; }
arch=$(dpkg --print-architecture)
work=$(mktemp -d "${TMPDIR:-/tmp}/modkit-deb.XXXXXX")
trap 'rm -rf "$work"' EXIT
trap 'exit 130' INT TERM HUP
stage=$work/root

DESTDIR=$stage PREFIX=/usr/lib/modkit "$here/scripts/install.sh" --binary "$binary" >/dev/null
# dpkg keeps the file list: install.sh's manifest is not needed
rm -r "$stage/usr/lib/modkit/share/modkit"
# the licences go where Debian keeps them: the copyright file
rm -r "$stage/usr/lib/modkit/share/doc"
find "$stage/usr/lib/modkit/share/man" -type f -exec gzip -9n {} +
# the unit goes where systemd looks for a package's units
mkdir -p "$stage/usr/lib/systemd"
mv "$stage/usr/lib/modkit/lib/systemd/system" "$stage/usr/lib/systemd/system"
rmdir "$stage/usr/lib/modkit/lib/systemd" "$stage/usr/lib/modkit/lib"
mkdir -p "$stage/usr/bin" "$stage/usr/share/doc/modkit"
ln -s ../lib/modkit/bin/modkit "$stage/usr/bin/modkit"
# modkit's own tools are commands no other package has (modkit-check...):
# their links, pages and completions go where they are found without any
# set-up (the links stay in /usr/lib/modkit/bin as well)
mkdir -p "$stage/usr/share/man/man8" "$stage/usr/share/bash-completion/completions" \
    "$stage/usr/share/fish/vendor_completions.d"
lib=$stage/usr/lib/modkit
for link in "$lib"/bin/modkit-*; do
    [ -L "$link" ] || { echo "deb.sh: install.sh made no modkit-TOOL links" >&2; exit 1; }
    cmd=${link##*/}
    ln -s ../lib/modkit/bin/modkit "$stage/usr/bin/$cmd"
    mv "$lib/share/man/man8/$cmd.8.gz" "$stage/usr/share/man/man8/"
    mv "$lib/share/bash-completion/completions/$cmd" "$stage/usr/share/bash-completion/completions/"
    mv "$lib/share/fish/vendor_completions.d/$cmd.fish" "$stage/usr/share/fish/vendor_completions.d/"
done
{
    printf 'Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n'
    printf 'Upstream-Name: modkit\n\n'
    printf 'Files: *\nCopyright: the modkit developers\nLicense: MIT or Apache-2.0\n\n'
    printf 'License: MIT\n'
    sed 's/^$/./; s/^/ /' "$here/LICENSE-MIT"
    printf '\nLicense: Apache-2.0\n'
    printf ' On Debian systems, the full text of the Apache License 2.0 is in\n'
    printf ' /usr/share/common-licenses/Apache-2.0.\n'
} > "$stage/usr/share/doc/modkit/copyright"

# Depends: the shared libraries the binary needs, at the newest symbol
# version it uses
depends=""
for lib in $(readelf -d "$binary" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
    case $lib in
        libc.so.6 | libm.so.6 | libpthread.so.0 | libdl.so.2 | ld-linux*.so.*)
            glibc=$(readelf -V "$binary" | sed -n 's/.*Name: GLIBC_\([0-9.]*\).*/\1/p' | sort -t. -k1,1n -k2,2n -k3,3n | tail -1)
            dep="libc6 (>= $glibc)"
            ;;
        libgcc_s.so.1) dep="libgcc-s1" ;;
        *) echo "deb.sh: the binary needs $lib, which deb.sh does not know the package of" >&2; exit 1 ;;
    esac
    case ", $depends, " in *", $dep, "*) ;; *) depends=${depends:+$depends, }$dep ;; esac
done

mkdir "$stage/DEBIAN"
size=$(du -sk --exclude=DEBIAN "$stage" | cut -f1)
cat > "$stage/DEBIAN/control" <<EOF
Package: modkit
Version: $version-1
Architecture: $arch
Maintainer: ${DEBFULLNAME:-the modkit developers} <${DEBEMAIL:-modkit@localhost}>
Installed-Size: $size
${depends:+Depends: $depends
}Section: admin
Priority: optional
Description: Linux kernel modules and the kernel log, as kmod and dmesg do it
 modkit is a re-implementation of kmod 34's tools (modprobe, modinfo,
 insmod, rmmod, lsmod, depmod, kmod) and util-linux's dmesg, with the
 same output, messages and exit codes, plus JSON and graph output and a
 printk tool.
 .
 It installs beside Debian's kmod, in /usr/lib/modkit/bin, and touches
 none of kmod's files: run "modkit TOOL", or put /usr/lib/modkit/bin first
 in PATH to use its drop-ins under their own names. Its own tools
 (modkit-check, modkit-param, modkit-kprobe...) are in /usr/bin.
EOF
(cd "$stage" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | sort -z | xargs -0 md5sum) > "$stage/DEBIAN/md5sums"
mkdir -p "$out"
deb=$out/modkit_${version}-1_$arch.deb
dpkg-deb --root-owner-group -Z"${DEB_COMPRESS:-xz}" --build "$stage" "$deb" >/dev/null
echo "$deb"
