#!/bin/sh
# Runs every test of modkit, step by step, stopping at the first failure:
#
#   fmt        cargo fmt --check, cargo clippy -D warnings
#   offline    unit tests and fixtures made at test time, with an empty
#              cache and (as root) no network: what `cargo test` runs on a
#              bare machine
#   reference  the conformance tests against kmod 34.2 and util-linux 2.41
#              on real Debian trees (fetched first by scripts/refs.sh)
#   vm         real Debian kernels under QEMU (vm/run sets itself up)
#   fuzz       the fuzz targets (fuzz/) as plain tests on the stable
#              toolchain: every committed seed, crash regression and cached
#              corpus input, then 2,000 seeded mutations per target
#              (scripts/fuzz.sh replay; about a minute, most of it building)
#   fuzz-smoke libFuzzer itself, 6 s per target (scripts/fuzz.sh smoke;
#              under 2 minutes of fuzzing; the sanitizer build and the
#              cargo-fuzz install cost about 6 CPU-minutes the first time)
#
# Each test step sets MODKIT_TEST_TIERS to its tier: a test of that tier
# whose prerequisites cannot be had FAILS, it is never skipped (tests of the
# other tiers wait for their own step). Installs what it needs: apt
# packages, the reference tools and trees, QEMU and the kernels.
#
#   scripts/test.sh [fmt|offline|reference|vm|fuzz|fuzz-smoke ...]
#   (default: fmt offline reference vm fuzz fuzz-smoke)
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"

steps=${*:-fmt offline reference vm fuzz fuzz-smoke}
for step in $steps; do
    case $step in
        fmt | offline | reference | vm | fuzz | fuzz-smoke) ;;
        *) echo "scripts/test.sh: unknown step '$step' (fmt, offline, reference, vm, fuzz, fuzz-smoke)" >&2; exit 2 ;;
    esac
done

need=""
# man-db, zsh, fish and bash-completion: the man page and completion tests;
# rsyslog (+ its gtls driver), openssl, ip: klogd's syslog destinations
# against a real rsyslog (crates/modkit/tests/syslog_rsyslog.rs)
for cmd in dpkg-deb:dpkg apt-get:apt xz:xz-utils gcc:gcc dot:graphviz unshare:util-linux man:man-db zsh:zsh fish:fish \
    /usr/sbin/rsyslogd:rsyslog openssl:openssl ip:iproute2; do
    command -v "${cmd%%:*}" >/dev/null 2>&1 || need="$need ${cmd#*:}"
done
[ -r /usr/share/bash-completion/bash_completion ] || need="$need bash-completion"
[ -r /usr/lib/x86_64-linux-gnu/rsyslog/lmnsd_gtls.so ] || need="$need rsyslog-gnutls"
# GNU time: the hostile-input tests measure each run's peak RSS with it
[ -x /usr/bin/time ] || need="$need time"
if [ -n "$need" ]; then
    apt-get update -q && apt-get install -y -q $need
fi
rustup component add clippy rustfmt >/dev/null 2>&1 || true

tmp=$(mktemp -d "${TMPDIR:-/tmp}/modkit-test-sh.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM

started=$(date +%s)
header() {
    echo
    echo "=== $* ($(($(date +%s) - started)) s so far)"
}

# cargo test with MODKIT_TEST_TIERS=$1 and the remaining arguments; the
# skip lines of the tiers left to other steps are counted, not shown.
run_tier() {
    tier=$1
    shift
    { MODKIT_TEST_TIERS=$tier "$@" 2>&1 && echo 0 >"$tmp/rc" || echo $? >"$tmp/rc"; } |
        tee "$tmp/log" | grep -v "): not selected by MODKIT_TEST_TIERS=" || true
    deferred=$(grep -c "): not selected by MODKIT_TEST_TIERS=" "$tmp/log" || true)
    echo "($deferred tests of other tiers left to their own step)"
    return "$(cat "$tmp/rc")"
}

for step in $steps; do
    case $step in
    fmt)
        header "fmt + clippy"
        cargo fmt --all -- --check
        cargo fmt --manifest-path fuzz/Cargo.toml -- --check
        cargo clippy --workspace --all-targets -q -- -D warnings
        ;;
    offline)
        header "offline tier: unit tests and generated fixtures, empty cache, no network"
        cargo test --workspace -q --no-run
        mkdir "$tmp/empty-cache"
        isolate=""
        if [ "$(id -u)" = 0 ] && unshare -n true 2>/dev/null; then
            isolate="unshare -n"
        else
            echo "(not root: the network stays reachable; the cache is empty)"
        fi
        run_tier offline env MODKIT_CACHE="$tmp/empty-cache" $isolate cargo test --workspace -q --offline
        ;;
    reference)
        header "reference tier: kmod 34.2 and util-linux 2.41 on Debian trees"
        scripts/refs.sh tools trees headers >/dev/null
        # the set-up itself: unaffected by newer kernel packages on the host
        scripts/test-setup.sh
        run_tier reference cargo test --workspace -q
        ;;
    vm)
        header "VM tier: Debian kernels under QEMU"
        # every VM test file (crates/modkit-cli/tests/vm_*.rs)
        vm_tests=$(for f in crates/modkit-cli/tests/vm_*.rs; do
            n=${f##*/}; printf ' --test %s' "${n%.rs}"; done)
        # shellcheck disable=SC2086 # one word per option
        run_tier vm cargo test -p modkit-cli -q $vm_tests
        ;;
    fuzz)
        header "fuzz targets: seeds, regressions, corpora and seeded mutations (plain tests)"
        # the workspace's target directory: the dependencies built above
        # are reused
        (cd fuzz && CARGO_TARGET_DIR="$here/target" cargo clippy -q --no-default-features \
            --lib --tests --examples -- -D warnings)
        MODKIT_FUZZ_REPLAY_TARGET_DIR="$here/target" scripts/fuzz.sh replay
        ;;
    fuzz-smoke)
        header "fuzz smoke: libFuzzer, 6 s per target"
        scripts/fuzz.sh smoke 6
        ;;
    esac
done
header "all passed: $steps"
