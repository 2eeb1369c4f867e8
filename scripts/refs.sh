#!/bin/sh
# Fetch the reference tools (Debian trixie's kmod 34.2 and util-linux 2.41) and
# Debian kernel module trees into a cache outside the repository, using a
# private apt configuration so the host's apt sources stay untouched.
#
# usage: scripts/refs.sh [tools] [trees] [headers]
#   MODKIT_CACHE  cache directory (default: $HOME/.cache/modkit)
#
# Layout produced:
#   $MODKIT_CACHE/ref/root             extracted trixie packages (kmod, libs, util-linux)
#   $MODKIT_CACHE/ref/bin/{modinfo,depmod,modprobe,insmod,rmmod,lsmod,kmod,dmesg}
#                                      wrappers running them through trixie's loader
#   $MODKIT_CACHE/trees/6.1            bookworm linux-image (plain .ko), indexed by
#                                      the reference depmod
#   $MODKIT_CACHE/trees/6.12           trixie linux-image (.ko.xz)
#   $MODKIT_CACHE/trees/6.12-bpo       bookworm-backports linux-image (.ko.xz)
#   $MODKIT_CACHE/trees/<t>-headers    linux-headers-<version> (Module.symvers)
set -eu

CACHE=${MODKIT_CACHE:-$HOME/.cache/modkit}
APT=$CACHE/apt
mkdir -p "$APT/lists/partial" "$APT/archives/partial" "$CACHE/debs"

cat > "$APT/sources.list" <<SRC
deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian trixie main
deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian bookworm main
deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian bookworm-backports main
SRC

apt_private() {
    apt-get -q -o Dir::Etc::sourcelist="$APT/sources.list" \
        -o Dir::Etc::sourceparts=/nonexistent \
        -o Dir::State::Lists="$APT/lists" \
        -o Dir::Cache::archives="$APT/archives" \
        -o Dir::State::status=/var/lib/dpkg/status \
        -o APT::Get::List-Cleanup=0 -o APT::Sandbox::User=root "$@"
}

update_lists() {
    stamp=$APT/lists/.stamp
    if [ ! -f "$stamp" ] || [ -n "$(find "$stamp" -mmin +1440 2>/dev/null)" ]; then
        apt_private update >/dev/null
        touch "$stamp"
    fi
}

# download PKG=VERSION or PKG/SUITE into $CACHE/debs, print the .deb path
download() {
    (cd "$CACHE/debs" && apt_private download "$1" >/dev/null)
    name=${1%%[=/]*}
    ls -t "$CACHE/debs/${name}_"*.deb | head -n1
}

tools() {
    ref=$CACHE/ref
    if [ -x "$ref/bin/modinfo" ] && [ -f "$ref/.done" ]; then return 0; fi
    update_lists
    rm -rf "$ref"; mkdir -p "$ref/root" "$ref/bin"
    for p in kmod libkmod2 libc6 libssl3t64 liblzma5 libzstd1 zlib1g util-linux libtinfo6 \
             libsmartcols1 libmount1 libblkid1 libuuid1 libselinux1 libpcre2-8-0 libcap-ng0 \
             libudev1 libsystemd0 libcap2 liblz4-1 libgcrypt20 libgpg-error0; do
        deb=$(download "$p/trixie")
        dpkg-deb -x "$deb" "$ref/root"
    done
    libs="$ref/root/usr/lib/x86_64-linux-gnu:$ref/root/lib/x86_64-linux-gnu"
    loader=$ref/root/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2
    for tool in modinfo depmod modprobe insmod rmmod lsmod kmod; do
        cat > "$ref/bin/$tool" <<W
#!/bin/sh
exec "$loader" --library-path "$libs" --argv0 $tool "$ref/root/usr/bin/kmod" "\$@"
W
        chmod +x "$ref/bin/$tool"
    done
    cat > "$ref/bin/dmesg" <<W
#!/bin/sh
exec "$loader" --library-path "$libs" --argv0 dmesg "$ref/root/usr/bin/dmesg" "\$@"
W
    chmod +x "$ref/bin/dmesg"
    "$ref/bin/modinfo" --version >/dev/null
    touch "$ref/.done"
}

# linux-image-amd64 is a metapackage: resolve it to the real image package
resolve_image() {
    # $1: version prefix the metapackage must have, e.g. "6.1." or "6.12.*-1$" (awk regex)
    apt-cache -o Dir::Etc::sourcelist="$APT/sources.list" -o Dir::Etc::sourceparts=/nonexistent \
        -o Dir::State::Lists="$APT/lists" show linux-image-amd64 2>/dev/null |
        awk -v want="$1" '/^Version:/ { ok = ($2 ~ want) }
            ok && /^Depends:/ { sub(/^Depends: /, ""); sub(/[ ,].*/, ""); print; exit }'
}

tree_real() {
    dest=$CACHE/trees/$1
    if [ -f "$dest/.done" ]; then return 0; fi
    update_lists
    real=$(resolve_image "$2")
    [ -n "$real" ] || { echo "refs.sh: no linux-image-amd64 matching '$2'" >&2; exit 1; }
    rm -rf "$dest"; mkdir -p "$dest"
    deb=$(download "$real")
    dpkg-deb -x "$deb" "$dest"
    if [ -d "$dest/usr/lib/modules" ] && [ ! -e "$dest/lib/modules" ]; then
        mkdir -p "$dest/lib"; ln -s ../usr/lib/modules "$dest/lib/modules"
    fi
    ls "$dest/lib/modules" > "$dest/.version"
    # an installed tree has its indexes: let the reference depmod write them
    tools
    "$CACHE/ref/bin/depmod" -b "$dest" "$(cat "$dest/.version")"
    touch "$dest/.done"
}

# headers NAME: linux-headers-VERSION (Module.symvers, kernel config) of a tree
headers() {
    dest=$CACHE/trees/$1-headers
    if [ -f "$dest/.done" ]; then return 0; fi
    ver=$(cat "$CACHE/trees/$1/.version")
    update_lists
    rm -rf "$dest"; mkdir -p "$dest"
    deb=$(download "linux-headers-$ver")
    dpkg-deb -x "$deb" "$dest"
    # the -common headers and linux-kbuild it depends on, for building
    # external modules against it (make -C $dest/usr/src/linux-headers-$ver M=...)
    deps=$(apt-cache -o Dir::Etc::sourcelist="$APT/sources.list" -o Dir::Etc::sourceparts=/nonexistent \
        -o Dir::State::Lists="$APT/lists" show "linux-headers-$ver" 2>/dev/null |
        sed -n 's/^Depends: //p' | head -n1 | tr ',' '\n' | sed 's/^ *//; s/ .*//' |
        grep -E '^linux-(headers-.*-common|kbuild-)')
    for dep in $deps; do
        dpkg-deb -x "$(download "$dep")" "$dest"
    done
    ln -s "usr/src/linux-headers-$ver/Module.symvers" "$dest/Module.symvers"
    [ -f "$dest/Module.symvers" ] || { echo "refs.sh: no Module.symvers in linux-headers-$ver" >&2; exit 1; }
    touch "$dest/.done"
}

[ $# -gt 0 ] || set -- tools trees
for what in "$@"; do
    case $what in
        tools) tools ;;
        trees) update_lists; tree_real 6.1 "^6[.]1[.]"; tree_real 6.12 "^6[.]12[.][0-9]+-1$"; tree_real 6.12-bpo "^6[.]12[.].*bpo12" ;;
        headers) for t in 6.1 6.12 6.12-bpo; do headers "$t"; done ;;
        *) echo "refs.sh: unknown target '$what'" >&2; exit 2 ;;
    esac
done
echo "$CACHE"
