#!/bin/sh
# Runs kmod 34.2's own test suite (Debian trixie's source, its patches
# applied, configured as Debian builds it: zstd, xz, openssl, no zlib) twice:
# with kmod's tools, then with modkit's tools in their place, and compares
# sub-test by sub-test. Exits 1 when a sub-test that passes with kmod does
# not pass with modkit (or kmod's own run is not what it should be).
#
#   scripts/kmod-testsuite.sh [--keep]     (--keep: leave the tools swapped
#                                           in the build tree for debugging)
#   MODKIT_BIN=PATH   the modkit binary to test (default: a release build)
#
# Prints one line per sub-test that differs, then a summary:
#   kmod's test suite: N sub-tests; kmod passes P (E expected failures);
#   modkit passes Q of the P
#
# The suite's test modules are built against Debian bookworm's 6.1 headers
# (KDIR). The suite runs the tools it finds in its build directory with
# preload libraries that move absolute paths into each test's root and fake
# the module system calls; modkit's tools run there through a symlink, with
# crates/modkit-cli/tests/kmod-testsuite/shim.c preloaded as well (the calls
# a Rust program makes that those libraries do not cover). Installs meson,
# ninja and the C libraries kmod needs when missing. Cached in
# $MODKIT_CACHE/kmod-testsuite (rebuilt when the source or this script
# changes).
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
keep=0
[ "${1:-}" = --keep ] && keep=1

need=""
for p in meson:meson ninja:ninja-build gcc:gcc make:make pkg-config:pkg-config; do
    command -v "${p%%:*}" >/dev/null 2>&1 || need="$need ${p#*:}"
done
for h in zstd.h:libzstd-dev lzma.h:liblzma-dev openssl/ssl.h:libssl-dev; do
    [ -f "/usr/include/${h%%:*}" ] || need="$need ${h#*:}"
done
if [ -n "$need" ]; then
    echo "kmod-testsuite.sh: installing$need" >&2
    apt-get install -y -q $need >&2
fi

cache=$("$here/scripts/refs.sh" tools trees headers kmod-source | tail -n1)
src=$(ls -d "$cache"/kmod-source/kmod-*/ | head -n1)
src=${src%/}
ver=$(cat "$cache/trees/6.1/.version")
kdir=$cache/trees/6.1-headers/usr/src/linux-headers-$ver
work=$cache/kmod-testsuite
build=$work/build
mkdir -p "$work"
exec 9>"$work/.lock"
flock 9

stamp=$( { cat "$cache/kmod-source/.version" "$0" "$kdir/../../../.pin"; } | sha256sum | cut -c1-16)
if [ ! -f "$build/.stamp" ] || [ "$(cat "$build/.stamp")" != "$stamp" ]; then
    echo "kmod-testsuite.sh: building kmod $(cat "$cache/kmod-source/.version") and its test suite" >&2
    rm -rf "$build"
    meson setup "$build" "$src" -Dbuild-tests=true -Ddocs=false -Dmanpages=false \
        -Dopenssl=enabled -Ddlopen=all -Dzlib=disabled -Dxz=enabled -Dzstd=enabled \
        -Dbashcompletiondir=no -Dfishcompletiondir=no -Dzshcompletiondir=no >"$work/setup.log" 2>&1 ||
        { cat "$work/setup.log" >&2; echo "kmod-testsuite.sh: meson setup failed" >&2; exit 1; }
    # builds the tools, the test programs, the preload libraries, the test
    # modules and the test roots
    KDIR=$kdir meson test -C "$build" >"$work/build.log" 2>&1 ||
        { tail -n 40 "$work/build.log" >&2; echo "kmod-testsuite.sh: building or running kmod's suite failed" >&2; exit 1; }
    echo "$stamp" > "$build/.stamp"
fi

# modkit's tools: $MODKIT_BIN (the tests pass the binary cargo built for
# them), else the release binary; dynamically linked, so that the preload
# libraries see its C library calls
if [ -n "${MODKIT_BIN:-}" ]; then
    modkit=$MODKIT_BIN
else
    (cd "$here" && cargo build --release -q -p modkit-cli)
    modkit=$here/target/release/modkit
fi
gcc -O2 -Wall -shared -fPIC -DBUILDDIR="\"$build\"" -o "$work/shim.so" \
    "$here/crates/modkit-cli/tests/kmod-testsuite/shim.c" -ldl

tools="depmod insmod lsmod modinfo modprobe rmmod"
use_tools() { # kmod|modkit
    for t in $tools; do
        rm -f "$build/$t"
        if [ "$1" = kmod ]; then ln -s "$build/kmod" "$build/$t"; else ln -s "$modkit" "$build/$t"; fi
    done
}
restore() { [ "$keep" = 1 ] || use_tools kmod; }
trap restore EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# run_all NAME [LD_PRELOAD]: every test program, every sub-test; writes
# "RESULT NAME" lines (PASSED, FAILED, EXPECTED-FAIL, UNEXPECTED-PASS...)
run_all() {
    out=$work/results-$1
    : > "$out"
    # fresh test roots (a run leaves some "dirty": the suite refuses them)
    KDIR=$kdir ninja -C "$build" testsuite/stamp-rootfs >"$work/rootfs.log" 2>&1 ||
        { tail -n 20 "$work/rootfs.log" >&2; echo "kmod-testsuite.sh: making the test roots failed" >&2; exit 1; }
    for prog in "$build"/testsuite/test-*; do
        [ -f "$prog" ] && [ -x "$prog" ] || continue
        for t in $("$prog" -l 2>/dev/null | sed -n 's/^\t\([a-z0-9_]*\),.*/\1/p'); do
            log=$work/logs-$1/$(basename "$prog")-$t.log
            mkdir -p "$(dirname "$log")"
            LD_PRELOAD=${2:-} timeout 60 "$prog" "$t" >"$log" 2>&1 || true
            r=$(sed -n 's/^TESTSUITE: \(ERR: \)\?\(PASSED\|FAILED\|EXPECTED FAIL\|UNEXPECTED PASS\|SKIPPED\)\(: \| \).*/\2/p' "$log" | tail -n1)
            if [ -z "$r" ] && grep -q "^TESTSUITE: ERR: '$t' .* terminated by signal" "$log"; then r=SIGNALED; fi
            # an expected failure whose output is not the expected one is
            # not the same result as one whose output is
            if [ "$r" = "EXPECTED FAIL" ] && grep -q "^TESTSUITE: EXPECTED FAIL: .*outputs do not match" "$log"; then
                r=EXPECTED-FAIL-OTHER-OUTPUT
            fi
            echo "${r:-NO-RESULT} $t" | sed 's/^EXPECTED FAIL/EXPECTED-FAIL/; s/^UNEXPECTED PASS/UNEXPECTED-PASS/' >> "$out"
        done
    done
}

use_tools kmod
run_all kmod
use_tools modkit
run_all modkit "$work/shim.so"

total=$(wc -l < "$work/results-kmod")
kmod_pass=$(grep -c '^PASSED ' "$work/results-kmod" || true)
status=0
# kmod's own run: every sub-test passes, but those the suite expects to fail
# (marked so, or named xfail_*: they abort on purpose)
unexpected=$(grep -v -e '^PASSED ' -e '^EXPECTED-FAIL ' -e '^[A-Z-]* xfail_' "$work/results-kmod" || true)
if [ "$total" -lt 100 ] || [ -n "$unexpected" ]; then
    echo "kmod-testsuite.sh: kmod's own tools do not pass their suite ($total sub-tests):" >&2
    echo "$unexpected" >&2
    status=1
fi
kmod_xfail=$((total - kmod_pass))
both=0
while read -r result name; do
    ours=$(awk -v n="$name" '$2 == n { print $1 }' "$work/results-modkit")
    if [ "$result" = PASSED ]; then
        if [ "$ours" = PASSED ]; then both=$((both + 1)); else
            echo "differs: $name: kmod PASSED, modkit $ours (log: $work/logs-modkit/*-$name.log)"
            status=1
        fi
    elif [ "$ours" != "$result" ]; then
        echo "differs: $name: kmod $result, modkit $ours (log: $work/logs-modkit/*-$name.log)"
        status=1
    fi
done < "$work/results-kmod"
echo "kmod's test suite: $total sub-tests; kmod passes $kmod_pass ($kmod_xfail expected failures); modkit passes $both of the $kmod_pass, and fails the others as kmod does: $([ $status = 0 ] && echo yes || echo no)"
exit $status
