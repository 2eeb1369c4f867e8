#!/bin/sh
# Benchmark of modkit kallsyms and modkit check, best of 5 / best of 3:
#  - `kallsyms NAME` beside `grep` and `kallsyms ADDR` beside an awk
#    nearest-symbol scan, on this machine's /proc/kallsyms and on a
#    ~200k-line table (/proc/kallsyms plus its text symbols again as the
#    symbols of made-up loaded modules, in /proc/kallsyms's module format);
#  - `check` of every module of a Debian tree in one process beside kmod's
#    `modprobe --dump-modversions` once per module (what a script checking
#    CRCs with kmod has to do).
#   scripts/bench-symbols.sh [--build]    (--build: cargo build --release first;
#                                          MODKIT_BIN=PATH measures another binary;
#                                          KALLSYMS_ONLY=1 skips the check part)
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
cache=$("$here/scripts/refs.sh" tools trees headers)
[ "${1:-}" = "--build" ] && (cd "$here" && cargo build --release -q)
modkit=${MODKIT_BIN:-$here/target/release/modkit}
[ -x "$modkit" ] || { echo "build first: cargo build --release" >&2; exit 1; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT; trap 'exit 143' TERM   # dash runs the EXIT trap only on exit

now() { date +%s%N; }
# best of N runs of "$@", in ms. Output goes to a file, not /dev/null:
# GNU grep stops at its first match when its output is /dev/null.
best() {
    n=$1; shift
    b=
    i=0
    while [ $i -lt "$n" ]; do
        t0=$(now); "$@" >"$tmp/out" 2>&1 || true; t=$(( $(now) - t0 ))
        if [ -z "$b" ] || [ "$t" -lt "$b" ]; then b=$t; fi
        i=$((i + 1))
    done
    echo $((b / 1000))
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
line() { printf '%-46s %9.1f ms   %-22s %9.1f ms   ratio %s\n' "$1" "$(echo "$2" | awk '{print $1/1000}')" "$3" "$(echo "$4" | awk '{print $1/1000}')" "$(ratio "$2" "$4")"; }

cp /proc/kallsyms "$tmp/real"
# ~200k lines: the real table, then its text symbols as modules' symbols
awk '$2 ~ /^[tT]$/ && NF == 3 { n++; m = int(n / 400);
        printf "ffffffffc%07x %s %s\t[mk_bench%d]\n", n * 64, $2, $3, m }' "$tmp/real" |
    head -n $((200000 - $(wc -l < "$tmp/real"))) > "$tmp/mods"
cat "$tmp/real" "$tmp/mods" > "$tmp/big"
# the nearest symbol at or below A (16 hex digits compare as strings), and
# the offset from the low 32 bits
addr_awk='function h(s,  i, v) { v = 0; for (i = 1; i <= length(s); i++) v = v * 16 + index("0123456789abcdef", substr(s, i, 1)) - 1; return v }
{ a = $1 ""; if ($2 !~ /^[aA]$/ && a <= A && a >= best) { best = a; name = $3 } }
END { printf "%s+0x%x\n", name, h(substr(A, 9)) - h(substr(best, 9)) }'
echo "kallsyms on /proc/kallsyms itself (the kernel's generation of the text dominates)"
m=$(best 5 "$modkit" kallsyms vfs_read); g=$(best 5 grep -E " vfs_read(	|\$)" /proc/kallsyms)
line "  modkit kallsyms vfs_read" "$m" "grep" "$g"
for table in real big; do
    f=$tmp/$table
    lines=$(wc -l < "$f")
    name=vfs_read
    addr=$(grep -m1 " T $name\$" "$f" | cut -d' ' -f1)
    if [ "$addr" = 0000000000000000 ]; then echo "addresses hidden here: run as root"; exit 1; fi
    # + 0x10 on the low half (the shell's arithmetic is signed 64-bit)
    hi=${addr%????????} lo=${addr#????????}
    inside=$hi$(printf '%08x' $((0x$lo + 0x10)))
    echo "kallsyms on $lines lines ($table)"
    m=$(best 5 "$modkit" kallsyms -m "$f" "$name"); g=$(best 5 grep -E " $name(	|\$)" "$f")
    line "  modkit kallsyms $name" "$m" "grep" "$g"
    m=$(best 5 "$modkit" kallsyms -m "$f" "0x$inside"); g=$(best 5 awk -v A="$inside" -v best=0 "$addr_awk" "$f")
    line "  modkit kallsyms 0x$inside" "$m" "awk scan" "$g"
    m=$(best 5 "$modkit" kallsyms -m "$f" 'vfs_*'); g=$(best 5 grep -E " vfs_[^ ]*(	|\$)" "$f")
    line "  modkit kallsyms 'vfs_*'" "$m" "grep" "$g"
done

[ -n "${KALLSYMS_ONLY:-}" ] && exit 0
for k in 6.1 6.12-bpo; do
    tree=$cache/trees/$k
    ver=$(cat "$tree/.version")
    dir=$tree/lib/modules/$ver
    cut -d: -f1 "$dir/modules.dep" | sed "s|^|$dir/|" > "$tmp/list"
    n=$(wc -l < "$tmp/list")
    echo "check of the $n modules of $ver"
    m=$(best 3 sh -c "xargs '$modkit' check -q -b '$tree' -k '$ver' -s '$cache/trees/$k-headers/Module.symvers' < '$tmp/list'")
    kl=$(best 1 sh -c "while read -r f; do '$cache/ref/bin/modprobe' --dump-modversions \"\$f\"; done < '$tmp/list'")
    line "  modkit check (one process)" "$m" "kmod loop" "$kl"
done
