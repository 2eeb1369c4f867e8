#!/bin/sh
# Fetches the reference tools (Debian trixie's kmod 34.2 and util-linux 2.41)
# and three Debian kernel module trees into a cache outside the repository.
#
# usage: scripts/refs.sh [tools] [trees] [headers] [kmod-source] [plan] [fetch PKG=VERSION]
#   tools    the reference tools
#   kmod-source  the source of the reference kmod (Debian trixie's 34.2, its
#            patches applied), for building kmod's own test suite
#   trees    the kernel images and module trees, indexed by the reference depmod
#   headers  each tree's linux-headers, -common headers and linux-kbuild
#   plan     print the exact package versions the trees and headers are made of
#            ("TREE image|headers PKG=VERSION ...") after checking that apt can
#            download each of them; downloads nothing
#   fetch PKG=VERSION   download one package at that exact version into
#            $MODKIT_CACHE/debs and print the .deb's path
#   (no target: tools trees)
#   MODKIT_CACHE  cache directory (default: $HOME/.cache/modkit)
# Prints the cache directory as its last line of stdout; everything else,
# including apt's own errors, goes to stderr. Exits non-zero, with a one-line
# message naming the package and version, when the archive lacks one.
#
# Independent of the host's apt set-up: apt runs with a private configuration
# (APT_CONFIG; the host's apt.conf.d, sources, preferences and package cache
# are not read, only its proxy settings are copied) and its own EMPTY dpkg
# status file, so packages installed on the host (say linux-kbuild-6.1 of a
# newer point release from bookworm-security) cannot change what is resolved.
# Every kernel package is downloaded at the exact version its tree's
# metapackage names: for each tree, the highest linux-image-amd64 of its
# suites, the linux-image-ABI-amd64 its Depends names (pkg (= version)), and
# for the headers linux-headers-amd64 of that same version and what its
# Depends name. Debian's archive moves (the kernel ABI changes with point and
# security releases), so nothing here names an ABI: the versions are resolved
# again whenever the lists are refreshed (once a day), and each tree records
# the versions it was made from (.pin): a tree whose pins no longer match is
# made again, and the .debs of its old versions are removed.
#
# Layout produced:
#   $MODKIT_CACHE/ref/root             extracted trixie packages (kmod, libs, util-linux)
#   $MODKIT_CACHE/ref/bin/{modinfo,depmod,modprobe,insmod,rmmod,lsmod,kmod,dmesg}
#                                      wrappers running them through trixie's loader
#   $MODKIT_CACHE/trees/6.1            bookworm (+ -updates, -security) linux-image
#                                      (plain .ko), indexed by the reference depmod
#   $MODKIT_CACHE/trees/6.12           trixie (+ -updates, -security) linux-image (.ko.xz)
#   $MODKIT_CACHE/trees/6.12-bpo       bookworm-backports linux-image (.ko.xz)
#   $MODKIT_CACHE/trees/<t>/.version   its kernel version (uname -r), .pin its package
#   $MODKIT_CACHE/trees/<t>-headers    linux-headers-<version> (Module.symvers), .pin
#   $MODKIT_CACHE/kmod-source/kmod-34.2  the reference kmod's source (kmod-source)
#   $MODKIT_CACHE/apt-refs             the private apt configuration, lists, status, pins
#   $MODKIT_CACHE/debs                 the downloaded packages
# One refs.sh at a time per cache (a lock file); the others wait.
set -eu

CACHE=${MODKIT_CACHE:-$HOME/.cache/modkit}
# not "apt": the refs.sh of before kept a different configuration there, and
# the two may share a cache while branches are switched
APT=$CACHE/apt-refs
TREES="6.1 6.12 6.12-bpo"
# bump when resolve_all changes what it writes: the pins are resolved again
RESOLVER=1
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg

die() {
    echo "refs.sh: $*" >&2
    exit 1
}

# the suites a tree's kernel comes from: the release, its point-release
# updates and its security updates (or backports alone)
suites() {
    case $1 in
        6.1) echo "bookworm bookworm-updates bookworm-security" ;;
        6.12) echo "trixie trixie-updates trixie-security" ;;
        6.12-bpo) echo "bookworm-backports" ;;
    esac
}

mkdir -p "$APT/lists/partial" "$APT/archives/partial" "$APT/cache" "$APT/state" "$APT/empty.d" \
    "$CACHE/debs" "$CACHE/trees" || die "cannot make the cache $CACHE (MODKIT_CACHE)"
command -v flock >/dev/null 2>&1 || die "flock (util-linux) missing"
command -v apt-get >/dev/null 2>&1 || die "apt-get missing: this needs a Debian (or derived) machine"
[ -f "$KEYRING" ] || die "$KEYRING missing (install debian-archive-keyring)"
exec 8>"$CACHE/.refs.lock"
flock 8
# a tree or headers directory being made ($new) goes if refs.sh does not
# finish it (dash runs the EXIT trap only on exit: the signals exit)
new=
trap '[ -z "$new" ] || rm -rf "$new"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

D="[signed-by=$KEYRING]"
cat > "$APT/sources.list.new" <<SRC
deb $D http://deb.debian.org/debian bookworm main
deb $D http://deb.debian.org/debian bookworm-updates main
deb $D http://security.debian.org/debian-security bookworm-security main
deb $D http://deb.debian.org/debian bookworm-backports main
deb $D http://deb.debian.org/debian trixie main
deb $D http://deb.debian.org/debian trixie-updates main
deb $D http://security.debian.org/debian-security trixie-security main
deb-src $D http://deb.debian.org/debian trixie main
SRC
# (files rewritten only when changed: apt's package cache is valid as long
# as its sources, status and lists are unchanged)
keep() { if cmp -s "$1.new" "$1"; then rm "$1.new"; else mv "$1.new" "$1"; fi; }
keep "$APT/sources.list"
# an empty dpkg status: nothing counts as installed
[ -f "$APT/status" ] && [ ! -s "$APT/status" ] || : > "$APT/status"
{
    cat <<CONF
Dir::Etc::main "/dev/null";
Dir::Etc::parts "$APT/empty.d";
Dir::Etc::sourcelist "$APT/sources.list";
Dir::Etc::sourceparts "$APT/empty.d";
Dir::Etc::preferences "$APT/empty.d/preferences";
Dir::Etc::preferencesparts "$APT/empty.d";
Dir::State "$APT/state";
Dir::State::lists "$APT/lists";
Dir::State::status "$APT/status";
Dir::Cache "$APT/cache";
Dir::Cache::archives "$APT/archives";
APT::Architecture "amd64";
APT::Architectures { "amd64"; };
APT::Sandbox::User "root";
Acquire::Languages "none";
CONF
    # the host's proxy, if it has one (a machine may reach the archive only so)
    APT_CONFIG= apt-config dump 2>/dev/null | grep -iE '^Acquire::[a-z]+::Proxy' || true
} > "$APT/apt.conf.new"
keep "$APT/apt.conf"
export APT_CONFIG="$APT/apt.conf"

# the lists are fetched again once a day, or when the sources changed; the
# versions the trees are made of are then resolved again (resolve_all)
update_lists() {
    [ -z "${lists_checked:-}" ] || return 0
    lists_checked=1
    key=$( { cat "$APT/sources.list"; echo "$RESOLVER"; } | sha256sum | cut -c1-16)
    stamp=$APT/lists/.stamp
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$key" ] && [ -z "$(find "$stamp" -mmin +1440)" ] &&
        [ -s "$APT/pins" ]; then
        return 0
    fi
    echo "refs.sh: updating the package lists ($(awk '{ printf "%s%s", sep, $4; sep = ", " }' "$APT/sources.list"))" >&2
    if ! apt-get -qq --error-on=any update; then
        if [ -s "$APT/pins" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$key" ]; then
            echo "refs.sh: warning: apt-get update failed (above); using the lists of $(date -r "$stamp" '+%F %R')" >&2
            return 0
        fi
        die "apt-get update failed (above) for the suites in $APT/sources.list"
    fi
    resolve_all > "$APT/pins.new"
    mv "$APT/pins.new" "$APT/pins"
    echo "$key" > "$stamp"
}

# versions PKG: "VERSION SUITE" per version of PKG in the lists
versions() {
    apt-cache madison "$1" 2>/dev/null | awk -F'[|]' -v p="$1" '{ gsub(/ /, "", $1); gsub(/ /, "", $2) }
        $1 == p { split($3, w, " "); s = w[2]; sub(/\/.*/, "", s); print $2, s }'
}

# highest PKG SUITES...: the highest version of PKG in those suites
highest() {
    pkg=$1; shift
    best=
    for v in $(versions "$pkg" | awk -v s=" $* " 'index(s, " " $2 " ") { print $1 }'); do
        if [ -z "$best" ] || dpkg --compare-versions "$v" gt "$best"; then best=$v; fi
    done
    echo "$best"
}

# has PKG VERSION: is that version in the lists?
has() {
    versions "$1" | awk -v v="$2" '$1 == v { f = 1 } END { exit !f }'
}

# depends PKG=VERSION REGEX: "NAME=VERSION" (or NAME alone when not pinned
# with "=") for each package of PKG's Depends whose name matches REGEX
depends() {
    apt-cache show "$1" 2>/dev/null | sed -n 's/^Depends: //p' | head -n1 | tr ',' '\n' |
        sed 's/|.*//' | awk -v re="$2" '{ sub(/^ +/, "") }
            $1 ~ re { v = ""; if ($2 == "(=") { v = $3; sub(/\)$/, "", v) }
                      print (v == "" ? $1 : $1 "=" v) }'
}

# pin_dep PKG=VERSION REGEX SUITES: the one dependency matching REGEX, at
# the version the Depends names (else the highest in SUITES)
pin_dep() {
    dep=$(depends "$1" "$2")
    [ -n "$dep" ] || die "${1%%=*} ${1#*=} depends on no package matching $2"
    [ "$(echo "$dep" | wc -l)" = 1 ] || die "${1%%=*} ${1#*=} depends on several packages matching $2: $(echo $dep)"
    case $dep in
        *=*) ;;
        *) v=$(highest "$dep" $3); [ -n "$v" ] || die "the archive has no $dep in $3 (needed by ${1%%=*} ${1#*=})"; dep=$dep=$v ;;
    esac
    has "${dep%%=*}" "${dep#*=}" || die "the archive has no ${dep%%=*} ${dep#*=} (needed by ${1%%=*} ${1#*=}; suites: $3)"
    echo "$dep"
}

# the pins of every tree, from the current lists:
#   TREE image linux-image-ABI-amd64=VERSION
#   TREE headers linux-headers-ABI-amd64=VERSION linux-headers-ABI-common=VERSION linux-kbuild-X=VERSION
resolve_all() {
    for t in $TREES; do
        s=$(suites "$t")
        meta=$(highest linux-image-amd64 $s)
        [ -n "$meta" ] || die "the archive has no linux-image-amd64 in $s"
        image=$(pin_dep "linux-image-amd64=$meta" '^linux-image-' "$s")
        abi=${image%%=*}; abi=${abi#linux-image-}
        has linux-headers-amd64 "$meta" || die "the archive has no linux-headers-amd64 $meta (for linux-image-amd64 $meta; suites: $s)"
        hdr=$(pin_dep "linux-headers-amd64=$meta" '^linux-headers-' "$s")
        [ "${hdr%%=*}" = "linux-headers-$abi" ] ||
            die "linux-headers-amd64 $meta names ${hdr%%=*}, not linux-headers-$abi of linux-image-amd64 $meta"
        common=$(pin_dep "$hdr" '^linux-headers-.*-common$' "$s")
        kbuild=$(pin_dep "$hdr" '^linux-kbuild-' "$s")
        echo "$t image $image"
        echo "$t headers $hdr $common $kbuild"
    done
}

# pins TREE image|headers
pins() {
    awk -v t="$1" -v k="$2" '$1 == t && $2 == k { $1 = $2 = ""; sub(/^ +/, ""); print }' "$APT/pins"
}

# deb_of PKG=VERSION: the .deb's file name and size (apt resolves them: this
# fails, with apt's message, when apt could not download that version)
deb_of() {
    apt-get -qq download --print-uris "$1" | awk '{ print $2, $3 }'
}

# fetch PKG=VERSION: download that exact version into $CACHE/debs (once),
# print the .deb's path
fetch() {
    name=${1%%=*} ver=${1#*=}
    case $1 in *=?*) ;; *) die "fetch: PKG=VERSION expected, not '$1'" ;; esac
    has "$name" "$ver" || die "the archive has no $name $ver (suites: $(awk '{ printf "%s%s", sep, $4; sep = " " }' "$APT/sources.list"); it has: $(versions "$name" | awk '{ printf "%s%s", sep, $1; sep = " " }'))"
    uri=$(deb_of "$1") && [ -n "$uri" ] || die "apt cannot download $name $ver (above)"
    file=${uri% *} size=${uri##* }
    if [ "$(stat -c %s "$CACHE/debs/$file" 2>/dev/null)" != "$size" ]; then
        echo "refs.sh: downloading $name $ver" >&2
        rm -f "$CACHE/debs/$file"
        (cd "$CACHE/debs" && apt-get -qq download "$1") || die "apt-get download $name $ver failed (above)"
        [ "$(stat -c %s "$CACHE/debs/$file" 2>/dev/null)" = "$size" ] ||
            die "apt-get download $name $ver made no $file of $size bytes"
    fi
    echo "$CACHE/debs/$file"
}

# prune: remove the kernel .debs no tree or headers directory is made from
# (those of older pins: each is 10-110 MB)
prune() {
    cat "$CACHE"/trees/*/.debs 2>/dev/null | sort -u > "$APT/keep"
    for f in "$CACHE"/debs/linux-*.deb; do
        [ -e "$f" ] || continue
        grep -qxF "$(basename "$f")" "$APT/keep" || rm -f "$f"
    done
}

tools() {
    ref=$CACHE/ref
    if [ -x "$ref/bin/modinfo" ] && [ -f "$ref/.done" ]; then return 0; fi
    update_lists
    rm -rf "$ref"; mkdir -p "$ref/root" "$ref/bin"
    for p in kmod libkmod2 libc6 libssl3t64 liblzma5 libzstd1 zlib1g util-linux libtinfo6 \
             libsmartcols1 libmount1 libblkid1 libuuid1 libselinux1 libpcre2-8-0 libcap-ng0 \
             libudev1 libsystemd0 libcap2 liblz4-1 libgcrypt20 libgpg-error0; do
        # trixie's own version (not -updates' or -security's): the reference
        # stays kmod 34.2 / util-linux 2.41
        v=$(highest "$p" trixie)
        [ -n "$v" ] || die "the archive has no $p in trixie"
        deb=$(fetch "$p=$v")
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
    "$ref/bin/modinfo" --version | grep -qx 'kmod version 34.2' || die "the reference kmod is not 34.2: $("$ref/bin/modinfo" --version | head -n1)"
    "$ref/bin/dmesg" --version | grep -q ' 2[.]41' || die "the reference dmesg is not util-linux 2.41: $("$ref/bin/dmesg" --version)"
    touch "$ref/.done"
}

# tree NAME: the kernel image package of the pins, extracted and indexed
tree() {
    dest=$CACHE/trees/$1
    pin=$(pins "$1" image)
    [ -n "$pin" ] || die "no pinned linux-image for tree $1 (in $APT/pins)"
    if [ -f "$dest/.done" ] && [ "$(cat "$dest/.pin" 2>/dev/null)" = "$pin" ]; then return 0; fi
    tools
    deb=$(fetch "$pin")
    new=$dest.new
    rm -rf "$new"; mkdir -p "$new"
    dpkg-deb -x "$deb" "$new"
    if [ -d "$new/usr/lib/modules" ] && [ ! -e "$new/lib/modules" ]; then
        mkdir -p "$new/lib"; ln -s ../usr/lib/modules "$new/lib/modules"
    fi
    ls "$new/lib/modules" > "$new/.version"
    [ "linux-image-$(cat "$new/.version")" = "${pin%%=*}" ] ||
        die "${pin%%=*} holds modules of $(cat "$new/.version")"
    # an installed tree has its indexes: let the reference depmod write them
    "$CACHE/ref/bin/depmod" -b "$new" "$(cat "$new/.version")"
    echo "$pin" > "$new/.pin"
    basename "$deb" > "$new/.debs"
    rm -rf "$dest"
    mv "$new" "$dest"
    touch "$dest/.done"
    echo "refs.sh: tree $1: $(cat "$dest/.version") ($pin)" >&2
}

# headers NAME: linux-headers-VERSION (Module.symvers, kernel config) of a
# tree, with the -common headers and the linux-kbuild it depends on, for
# building external modules (make -C $dest/usr/src/linux-headers-$ver M=...)
headers() {
    tree "$1"
    dest=$CACHE/trees/$1-headers
    pin=$(pins "$1" headers)
    ver=$(cat "$CACHE/trees/$1/.version")
    if [ -f "$dest/.done" ] && [ "$(cat "$dest/.pin" 2>/dev/null)" = "$pin" ]; then
        headers_include "$dest" "$ver"
        return 0
    fi
    new=$dest.new
    rm -rf "$new"; mkdir -p "$new"
    for p in $pin; do
        deb=$(fetch "$p")
        dpkg-deb -x "$deb" "$new"
        basename "$deb" >> "$new/.debs"
    done
    ln -s "usr/src/linux-headers-$ver/Module.symvers" "$new/Module.symvers"
    [ -f "$new/Module.symvers" ] || die "no Module.symvers in linux-headers-$ver"
    echo "$pin" > "$new/.pin"
    rm -rf "$dest"
    mv "$new" "$dest"
    headers_include "$dest" "$ver"
    touch "$dest/.done"
}

# headers_include DEST VER: Debian's arch headers include the -common
# Makefile by its installed path (/usr/src/...): point it at the copy in
# DEST, so that any build against them works without the packages
# installed (idempotent; also mends a cache made before this was done here)
headers_include() {
    sed -i "s|^include /usr/src/|include $1/usr/src/|" "$1/usr/src/linux-headers-$2/Makefile"
}

# kmod_source: Debian trixie's kmod source package at the reference's
# version, unpacked with its patches applied. The tarballs are fetched with
# apt's own downloader (its proxy settings) and checked against the SHA-256
# sums of the Sources index, which apt verified against the signed Release
# file (the .dsc itself is not needed: some mirrors do not serve it).
kmod_source() {
    dest=$CACHE/kmod-source
    v=$(highest kmod trixie)
    [ -n "$v" ] || die "the archive has no kmod in trixie"
    if [ -f "$dest/.done" ] && [ "$(cat "$dest/.version")" = "$v" ]; then return 0; fi
    # "DIRECTORY SHA256 FILE" per file of that version (the fields of a
    # record come in any order: printed at its end)
    src=$(apt-cache showsrc kmod 2>/dev/null | awk -v v="$v" '
        function flush() { if (p == "kmod" && ver == v) for (i = 1; i <= n; i++) print dir, f[i]; p = ver = dir = ""; n = 0 }
        /^$/ { flush(); next }
        /^Package: / { p = $2 } /^Version: / { ver = $2 } /^Directory: / { dir = $2 }
        /^[^ ]/ { c = /^Checksums-Sha256:/; next }
        c { f[++n] = $1 " " $3 }
        END { flush() }' | sort -u)
    [ -n "$src" ] || die "the Sources index has no kmod $v (trixie deb-src)"
    new=$dest.new
    rm -rf "$new"; mkdir -p "$new/dl"
    echo "$src" | while read -r dir sum file; do
        case $file in *.dsc) continue ;; esac
        /usr/lib/apt/apt-helper -qq download-file "http://deb.debian.org/debian/$dir/$file" \
            "$new/dl/$file" "SHA256:$sum" >&2 || die "downloading $file failed (above)"
    done
    up=${v%%-*}
    tar -xJf "$new"/dl/kmod_"$up".orig.tar.xz -C "$new" || die "kmod_$up.orig.tar.xz: bad archive"
    [ -d "$new/kmod-$up" ] || die "kmod_$up.orig.tar.xz holds no kmod-$up/"
    tar -xJf "$new"/dl/kmod_"$v".debian.tar.xz -C "$new/kmod-$up" || die "kmod_$v.debian.tar.xz: bad archive"
    if [ -f "$new/kmod-$up/debian/patches/series" ]; then
        grep -v '^[[:space:]]*\(#\|$\)' "$new/kmod-$up/debian/patches/series" | while read -r patch _; do
            patch -s -p1 -d "$new/kmod-$up" < "$new/kmod-$up/debian/patches/$patch" ||
                die "Debian's patch $patch does not apply to kmod $up"
        done
    fi
    rm -rf "$new/dl"
    echo "$v" > "$new/.version"
    rm -rf "$dest"; mv "$new" "$dest"; new=
    touch "$dest/.done"
    echo "refs.sh: kmod source $v in $dest/kmod-$up" >&2
}

# plan: the pins, checked with apt (it could download them all; if not, the
# first it could not download is named)
plan() {
    all=$(awk '{ for (i = 3; i <= NF; i++) print $i }' "$APT/pins")
    # shellcheck disable=SC2086 # one word per package
    if ! apt-get -qq download --print-uris $all >/dev/null 2>&1; then
        for p in $all; do
            has "${p%%=*}" "${p#*=}" || die "the archive has no ${p%%=*} ${p#*=}"
            deb_of "$p" >/dev/null || die "apt cannot download ${p%%=*} ${p#*=} (above)"
        done
    fi
    cat "$APT/pins"
}

[ $# -gt 0 ] || set -- tools trees
while [ $# -gt 0 ]; do
    case $1 in
        tools) tools ;;
        trees) update_lists; for t in $TREES; do tree "$t"; done; prune ;;
        headers) update_lists; for t in $TREES; do headers "$t"; done; prune ;;
        kmod-source) update_lists; kmod_source ;;
        plan) update_lists; plan ;;
        fetch)
            [ $# -ge 2 ] || { echo "refs.sh: fetch PKG=VERSION" >&2; exit 2; }
            update_lists; fetch "$2"; shift ;;
        *) echo "refs.sh: unknown target '$1'" >&2; exit 2 ;;
    esac
    shift
done
echo "$CACHE"
