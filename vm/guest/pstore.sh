#!/bin/sh
# The panic test of modkit's pstore collection (crates/modkit/src/pstore.rs),
# run by tests/vm_pstore.rs with `vm/run --warm-reboot --append mem=768M
# --add pstore_collect`: the kernel gets 768 MiB of QEMU's 1024, and
# ramoops keeps its records in the RAM above (0x30000000, 1 MiB), which a
# warm reset leaves as it was. (Not at the very top: QEMU loads the
# initramfs there again on every reset — 17 MB for 6.12 — over whatever
# was kept.) The script runs on both boots:
#
#   1st boot: pstore is empty. mk_panic (testmodules/mk_panic.c) is loaded
#     and its `trigger` parameter written: the kernel panics with
#     "Kernel panic - not syncing: mk_panic: modkit pstore test VERSION",
#     ramoops writes the dump, panic=-1 resets the machine.
#   2nd boot: ramoops finds the dump. /test/bin/pstore_collect (the library,
#     built static) mounts pstore and reads the records (compared with the
#     kernel's own files); `modkit klogd -o --pstore` forwards them to its
#     file before the live log, archives them under
#     /var/lib/modkit/pstore/BOOT_ID and removes them; a second collection
#     finds nothing.
fail=0
pass() { echo "PASS $1"; }
bad() { echo "FAIL $1"; fail=1; }
ver=$(uname -r)
C=/test/bin/pstore_collect
TEXT="modkit pstore test $ver"
PANIC="Kernel panic - not syncing: mk_panic: $TEXT"
ARCHIVE=/var/lib/modkit/pstore

if /ref/bin/modprobe ramoops mem_address=0x30000000 mem_size=0x100000 record_size=0x20000 2> /tmp/err; then
    pass "ramoops loaded (mem_address=0x30000000 mem_size=1M record_size=128K)"
else
    bad "modprobe ramoops: $(cat /tmp/err)"
    exit 1
fi
grep -q " /sys/fs/pstore pstore " /proc/mounts && bad "pstore mounted before the library ran" ||
    pass "pstore not mounted yet"
# a look without removing anything: which boot is this?
"$C" --storage journal --keep > /tmp/look 2> /tmp/err || bad "pstore_collect --keep: $(cat /tmp/err)"
grep -q " /sys/fs/pstore pstore " /proc/mounts && pass "the library mounted pstore on /sys/fs/pstore" ||
    bad "pstore not mounted after pstore_collect"

if ! grep -q '^RECORD ' /tmp/look; then
    echo "INFO first boot: no pstore records; panicking the kernel"
    /ref/bin/insmod "/lib/modules/$ver/extra/mk_panic.ko" || { bad "insmod mk_panic"; exit 1; }
    pass "first boot: mk_panic loaded, nothing happened at load"
    sync
    echo "$TEXT" > /sys/module/mk_panic/parameters/trigger
    bad "still running after writing mk_panic's trigger"
    exit 1
fi

echo "INFO second boot: $(grep -c '^RECORD ' /tmp/look) pstore records"
sed 's/^/  | /' /tmp/look | grep -v '| ENTRY' 
ls /sys/fs/pstore | sort > /tmp/files
sed -n 's/^RECORD \([^ ]*\) .*/\1/p' /tmp/look | sort > /tmp/records
cmp -s /tmp/files /tmp/records && pass "every pstore file is a record: $(tr '\n' ' ' < /tmp/files)" ||
    bad "records $(tr '\n' ' ' < /tmp/records) vs files $(tr '\n' ' ' < /tmp/files)"
grep -q '^RECORD dmesg-ramoops-[0-9]* dmesg ramoops ' /tmp/look && pass "a dmesg-ramoops record" ||
    bad "no dmesg-ramoops record"

# the panic line, as the library parsed it and as the kernel's file has it
line=$(grep -F " dmesg dmesg-ramoops-" /tmp/look | grep -F " $PANIC" | head -n1)
if [ -n "$line" ]; then
    pass "recovered: $PANIC"
else
    bad "no entry '$PANIC'"; grep '^ENTRY' /tmp/look | tail -n 20
fi
set -- $line
seq=$2 level=$3 facility=$4 mono=$5 real=$6 kind=$7 file=$8
[ "$level $facility $kind" = "0 0 dmesg" ] && pass "the panic entry: level 0 (emerg), facility kern, kind dmesg, from $file" ||
    bad "the panic entry: level $level facility $facility kind $kind"
raw=$(grep -F "] $PANIC" "/sys/fs/pstore/$file" | head -n1)
secs=$(echo "$raw" | sed -n 's/^<\([0-9]*\)>\[ *\([0-9]*\)\.\([0-9]*\)\].*/\1 \2\3/p')
set -- $secs
if [ -n "$secs" ] && [ "$1" = 0 ] && [ "$(echo "$2" | sed 's/^0*//')" = "$mono" ]; then
    pass "the kernel's own line '<0>[...] $PANIC' has the same level and time ($mono us)"
else
    bad "kernel line '$raw' vs entry level $level mono $mono"
fi
head -n1 "/sys/fs/pstore/$file" | grep -q '^Panic#[0-9]* Part1$' && pass "the record's header: $(head -n1 "/sys/fs/pstore/$file")" ||
    bad "the record's header: $(head -n1 "/sys/fs/pstore/$file")"
now=$(date +%s)
[ "$real" != - ] && [ $((real / 1000000)) -le "$now" ] && pass "a wall-clock time estimated, not in the future" ||
    bad "realtime '$real' (now $now)"
about=$(grep -F " mk_panic: about to panic: $TEXT" /tmp/look | head -n1 | cut -d' ' -f2,3)
set -- $about
[ -n "$about" ] && [ "$2" = 3 ] && [ "$1" -lt "$seq" ] && pass "the module's pr_err line before it (level 3, seq $1 < $seq)" ||
    bad "the pr_err line: '$about' (panic seq $seq)"

# collect for real, as the daemon does at start: `klogd -o --pstore`
# forwards the records (marked as the previous boot's) before the live log,
# then archives and removes them
bootid=$(cat /proc/sys/kernel/random/boot_id)
/sbin/modkit klogd -o --pstore -f /tmp/kern.log --state-dir /tmp/klogd-state 2> /tmp/err ||
    bad "klogd -o --pstore: $(cat /tmp/err)"
kline=$(grep -nF "[pstore dmesg $file] $PANIC" /tmp/kern.log | head -n1)
[ -n "$kline" ] && echo "${kline#*:}" | grep -q '^- kern\.emerg ' &&
    pass "klogd --pstore wrote the panic line as the previous boot's: ${kline#*:}" ||
    bad "klogd's file lacks '- kern.emerg ... [pstore dmesg $file] $PANIC': $(head -n 5 /tmp/kern.log)"
live=$(grep -n '^[0-9][0-9]* kern\.' /tmp/kern.log | head -n1 | cut -d: -f1)
[ -n "$live" ] && [ "${kline%%:*}" -lt "$live" ] && pass "then this boot's records (from line $live)" ||
    bad "live records in klogd's file: line '${live}' vs panic line '${kline%%:*}'"
[ -d "$ARCHIVE/$bootid" ] && pass "archived in $ARCHIVE/<this boot's id>" ||
    bad "archive: $(ls -la "$ARCHIVE" 2>&1) (boot id $bootid)"
grep -qF "] $PANIC" "$ARCHIVE/$bootid/dmesg.txt" 2>/dev/null && pass "the archive's dmesg.txt holds the panic line" ||
    bad "dmesg.txt: $(ls -la "$ARCHIVE/$bootid" 2>&1)"
for f in $(cat /tmp/files); do
    [ -f "$ARCHIVE/$bootid/$f" ] || bad "archive lacks $f"
done
[ -z "$(ls /sys/fs/pstore)" ] && pass "/sys/fs/pstore is empty: every record removed" || bad "/sys/fs/pstore still holds $(ls /sys/fs/pstore)"
ls -a "$ARCHIVE" | grep -q '\.tmp' && bad "a temporary directory left in $ARCHIVE" || pass "no temporary directory left"
"$C" > /tmp/again 2> /tmp/err
[ $? = 0 ] && [ ! -s /tmp/again ] && pass "a second collection finds nothing and archives nothing" ||
    bad "second collection: $(cat /tmp/again /tmp/err)"
exit $fail
