#!/bin/sh
# Prepares this (Debian, root) machine for the VM test bed; idempotent and
# quick when everything is there:
#   - apt packages: qemu-system-x86 (TCG is enough, no KVM needed),
#     busybox-static (the guest's userland), cpio, gzip, xz-utils and zstd (the
#     initramfs and the compressed test modules in it), python3 (vm/run,
#     testmodules/mangle.py),
#     gcc-12, make, libelf1 and zlib1g (building the test modules with
#     Debian's prebuilt kbuild tools: objtool links libelf), util-linux
#     (flock) and coreutils (timeout);
#   - with scripts/refs.sh: the reference kmod 34.2 (tools), the Debian
#     kernel images and module trees (trees), and their linux-headers with
#     the -common headers and linux-kbuild (headers), into $MODKIT_CACHE.
# Prints the cache directory (refs.sh's only line of stdout). Any failure
# exits non-zero with the failing tool's own message on stderr. Safe to run
# concurrently (the VM tests run in parallel): one setup at a time, the
# others wait for it.
#   vm/setup.sh
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
cache=${MODKIT_CACHE:-$HOME/.cache/modkit}
mkdir -p "$cache" || { echo "vm/setup.sh: cannot create the cache directory $cache (MODKIT_CACHE)" >&2; exit 1; }
exec 9>"$cache/.setup.lock"
flock 9   # util-linux is Essential: present before anything is installed

missing=
for pkg in qemu-system-x86 busybox-static cpio gzip xz-utils zstd python3 gcc-12 make libelf1 zlib1g util-linux coreutils; do
    dpkg-query -W -f '${Status}\n' "$pkg" 2>/dev/null | grep -q ' installed$' || missing="$missing $pkg"
done
if [ -n "$missing" ]; then
    echo "vm/setup.sh: installing$missing" >&2
    export DEBIAN_FRONTEND=noninteractive
    # an update first: a fresh machine's lists may be stale or empty
    log=$cache/apt-install.log
    # shellcheck disable=SC2086 # one word per package
    if ! { apt-get update -q && apt-get install -y -q --no-install-recommends $missing; } >"$log" 2>&1; then
        grep -E '^(E|W|Err):' "$log" >&2 || tail -n 5 "$log" >&2
        echo "vm/setup.sh: installing$missing failed (apt's messages above; all of its output in $log)" >&2
        exit 1
    fi
fi
for cmd in qemu-system-x86_64 cpio gzip xz zstd python3 gcc-12 make flock timeout; do
    command -v "$cmd" >/dev/null 2>&1 || { echo "vm/setup.sh: $cmd still missing" >&2; exit 1; }
done
/bin/busybox --list | grep -qx cttyhack || { echo "vm/setup.sh: /bin/busybox is not busybox-static's" >&2; exit 1; }

exec "$here/scripts/refs.sh" tools trees headers
