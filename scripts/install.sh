#!/bin/sh
# Installs modkit as people install software: the binary, a link for each
# of its tools (every tool `modkit --help` lists, kmod included: the
# drop-ins under their own names, modkit's own tools as modkit-TOOL), the man
# pages, the bash, zsh and fish completions, klogd's systemd unit, and the
# licence texts.
#
#   scripts/install.sh [--binary FILE] [--force]    install
#   scripts/install.sh --uninstall                  remove what it installed
#
# Environment:
#   PREFIX   where to install (default /usr/local)
#   DESTDIR  a staging root the files go under, for packaging (default
#            none); the paths recorded and the links stay those of PREFIX
#
# What goes where (under $DESTDIR$PREFIX):
#   bin/modkit, bin/COMMAND -> modkit      the binary and its tool links
#                                          (depmod..., modkit-check...)
#   share/man/man8/COMMAND.8, man1/dmesg.1 the man pages
#   share/bash-completion/completions/     bash (bash-completion loads them
#                                          by command name from XDG_DATA_DIRS)
#   share/zsh/site-functions/_modkit       zsh (in zsh's fpath for /usr/local)
#   share/fish/vendor_completions.d/       fish (found through XDG_DATA_DIRS)
#   lib/systemd/system/modkit-klogd.service
#                                          klogd's unit (dist/), its ExecStart
#                                          naming $PREFIX/bin/modkit; systemd
#                                          reads /usr/lib/systemd/system and
#                                          /usr/local/lib/systemd/system (for
#                                          another PREFIX, link it into
#                                          /etc/systemd/system); not enabled
#   share/doc/modkit/LICENSE-*             the licences
#   share/modkit/install-manifest          what was installed, for --uninstall
#
# Without --binary, the release binary is built first (cargo build
# --release --locked); with it, FILE is installed as it is.
#
# Nothing that exists is replaced unless the manifest of an earlier install
# in the same place lists it (or with --force): so PREFIX=/usr on a system
# with kmod stops at the first of kmod's tools instead of replacing them,
# and modkit can live side by side under any other prefix (PREFIX=/opt/modkit,
# then put /opt/modkit/bin first in PATH to use it instead of kmod).
#
# --uninstall removes exactly what the manifest lists: a file only if it is
# unchanged (same SHA-256), a link only if it still points where it did, a
# directory only if the install made it and it is empty.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
prefix=${PREFIX:-/usr/local}
destdir=${DESTDIR:-}
binary=""
force=0
uninstall=0
while [ $# -gt 0 ]; do
    case $1 in
        --binary) [ $# -ge 2 ] || { echo "install.sh: --binary needs a FILE" >&2; exit 2; }; binary=$2; shift ;;
        --binary=*) binary=${1#--binary=} ;;
        --force) force=1 ;;
        --uninstall) uninstall=1 ;;
        -h | --help) sed -n '2,/^set -eu/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) echo "install.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    esac
    shift
done
case $prefix in
    /*) ;;
    *) echo "install.sh: PREFIX must be an absolute path, not '$prefix'" >&2; exit 2 ;;
esac
prefix=${prefix%/}
root=$destdir$prefix
manifest_rel=share/modkit/install-manifest
manifest=$root/$manifest_rel

sha() { sha256sum "$1" | cut -d' ' -f1; }

if [ "$uninstall" = 1 ]; then
    [ -f "$manifest" ] || { echo "install.sh: no modkit install under $root (no $manifest)" >&2; exit 1; }
    kept=0
    # files and links first, then the directories, deepest first
    while IFS=' ' read -r kind a b; do
        case $kind in
            f)
                p=$destdir$b
                if [ ! -e "$p" ] && [ ! -L "$p" ]; then continue; fi
                if [ -f "$p" ] && [ ! -L "$p" ] && [ "$(sha "$p")" = "$a" ]; then
                    rm -f "$p"
                else
                    echo "install.sh: $b has changed since it was installed: kept" >&2
                    kept=1
                fi
                ;;
            l)
                p=$destdir$b
                if [ -L "$p" ] && [ "$(readlink "$p")" = "$a" ]; then
                    rm -f "$p"
                elif [ -e "$p" ] || [ -L "$p" ]; then
                    echo "install.sh: $b is no longer modkit's link: kept" >&2
                    kept=1
                fi
                ;;
        esac
    done < "$manifest"
    dirs=$(grep '^d ' "$manifest.dirs" 2>/dev/null | cut -d' ' -f2- | sort -r || true)
    rm -f "$manifest" "$manifest.dirs"
    # deepest first; one that holds something else stays
    printf '%s\n' "$dirs" | while read -r d; do
        [ -n "$d" ] && rmdir "$destdir$d" 2>/dev/null || true
    done
    echo "modkit removed from $root"
    exit $kept
fi

if [ -z "$binary" ]; then
    (cd "$here" && cargo build --release --locked -q -p modkit-cli)
    binary=${CARGO_TARGET_DIR:-$here/target}/release/modkit
fi
[ -x "$binary" ] || { echo "install.sh: $binary is not an executable" >&2; exit 1; }
# the commands: a drop-in's is its name, one of modkit's own tools' is
# modkit-TOOL (`modkit --help` says which is which)
tools=$("$binary" --help | awk '/^Tools/ { g = 1; next } /^modkit.s own tools/ { g = 2; next }
    g && /^  [^ ]/ { print (g == 2 ? "modkit-" : "") $1 }')
[ -n "$tools" ] || { echo "install.sh: $binary --help lists no tools" >&2; exit 1; }

# what an earlier install here recorded may be replaced
previous=""
if [ -f "$manifest" ]; then
    previous=$(awk '{ print $3 }' "$manifest")
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/modkit-install.XXXXXX")
trap 'rm -rf "$work"' EXIT
trap 'exit 130' INT TERM HUP
: > "$work/manifest"
: > "$work/dirs"
[ -f "$manifest.dirs" ] && cat "$manifest.dirs" > "$work/dirs"

# every target is checked before anything is written
plan() { # kind source target(relative to PREFIX)
    echo "$1 $2 $3" >> "$work/plan"
}
: > "$work/plan"
plan f "$binary" bin/modkit
for t in $tools; do
    plan l modkit "bin/$t"
done
for page in "$here"/crates/modkit-cli/man/*.[1-8]; do
    section=${page##*.}
    plan f "$page" "share/man/man$section/${page##*/}"
done
for f in "$here"/crates/modkit-cli/completions/bash/*; do
    plan f "$f" "share/bash-completion/completions/${f##*/}"
done
plan f "$here/crates/modkit-cli/completions/zsh/_modkit" share/zsh/site-functions/_modkit
for f in "$here"/crates/modkit-cli/completions/fish/*.fish; do
    plan f "$f" "share/fish/vendor_completions.d/${f##*/}"
done
# klogd's unit runs the binary installed here: dist/'s names /usr/local
unit=$here/dist/modkit-klogd.service
grep -q '^ExecStart=/usr/local/bin/modkit ' "$unit" ||
    { echo "install.sh: $unit: no 'ExecStart=/usr/local/bin/modkit ' line to point at $prefix/bin/modkit" >&2; exit 1; }
exec_path=$(printf '%s' "$prefix/bin/modkit" | sed 's/%/%%/g')  # systemd's specifiers
exec_sed=$(printf '%s' "$exec_path" | sed 's/[|&\\]/\\&/g')
sed "s|^ExecStart=/usr/local/bin/modkit |ExecStart=$exec_sed |" "$unit" > "$work/modkit-klogd.service"
plan f "$work/modkit-klogd.service" lib/systemd/system/modkit-klogd.service
plan f "$here/LICENSE-MIT" share/doc/modkit/LICENSE-MIT
plan f "$here/LICENSE-APACHE" share/doc/modkit/LICENSE-APACHE

if [ "$force" = 0 ]; then
    while read -r kind src rel; do
        p=$root/$rel
        if { [ -e "$p" ] || [ -L "$p" ]; } && ! printf '%s\n' "$previous" | grep -qxF "$prefix/$rel"; then
            echo "install.sh: $p exists and is not modkit's (kmod's?): not replacing it; choose another PREFIX, or --force" >&2
            exit 1
        fi
    done < "$work/plan"
fi

# a prefix that cannot be written fails here, before any file is
# (the directories that exist under it are checked as they are reached)
d=$root
while [ ! -d "$d" ]; do d=$(dirname "$d"); done
[ -w "$d" ] || { echo "install.sh: $d is not writable (install as root, or choose another PREFIX)" >&2; exit 1; }

mkdirs() { # make $1 and its missing parents, recording the ones made
    d=$1
    missing=""
    while [ "$d" != / ] && [ ! -d "$destdir$d" ]; do
        missing="$d $missing"
        d=$(dirname "$d")
    done
    for d in $missing; do
        mkdir "$destdir$d"
        echo "d $d" >> "$work/dirs"
    done
}

[ -z "$destdir" ] || mkdir -p "$destdir"
while read -r kind src rel; do
    target=$prefix/$rel
    mkdirs "$(dirname "$target")"
    case $kind in
        f)
            mode=644
            [ "$rel" = bin/modkit ] && mode=755
            install -m "$mode" "$src" "$destdir$target.modkit-new"
            mv -f "$destdir$target.modkit-new" "$destdir$target"
            echo "f $(sha "$destdir$target") $target" >> "$work/manifest"
            ;;
        l)
            ln -sfn "$src" "$destdir$target"
            echo "l $src $target" >> "$work/manifest"
            ;;
    esac
done < "$work/plan"

mkdirs "$prefix/share/modkit"
# files of an earlier install that this one no longer has go
if [ -f "$manifest" ]; then
    awk 'NR == FNR { keep[$3] = 1; next } !($3 in keep)' "$work/manifest" "$manifest" |
        while IFS=' ' read -r kind a b; do
            case $kind in
                f) [ -f "$destdir$b" ] && [ "$(sha "$destdir$b")" = "$a" ] && rm -f "$destdir$b" ;;
                l) [ -L "$destdir$b" ] && [ "$(readlink "$destdir$b")" = "$a" ] && rm -f "$destdir$b" ;;
            esac || true
        done
fi
sort -u "$work/dirs" > "$manifest.dirs.new" && mv -f "$manifest.dirs.new" "$manifest.dirs"
cp "$work/manifest" "$manifest.new" && mv -f "$manifest.new" "$manifest"
echo "modkit installed under $root: bin/modkit and $(echo $tools | wc -w) tool links ($(echo $tools)), man pages, completions, lib/systemd/system/modkit-klogd.service"
