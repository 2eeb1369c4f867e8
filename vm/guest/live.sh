#!/bin/sh
# modkit's lsmod, modinfo and depmod against the reference kmod 34.2 on a
# live kernel, while real module chains are loaded and removed. Each check
# prints PASS/FAIL; the script exits non-zero on any FAIL.
fail=0
check() { # name, command producing modkit output, command producing reference output
    name=$1
    eval "$2" > /tmp/ours 2>&1; echo "exit=$?" >> /tmp/ours
    eval "$3" > /tmp/theirs 2>&1; echo "exit=$?" >> /tmp/theirs
    if cmp -s /tmp/ours /tmp/theirs; then
        echo "PASS $name"
    else
        echo "FAIL $name"; echo "--- modkit"; cat /tmp/ours; echo "--- kmod"; cat /tmp/theirs
        fail=1
    fi
}
ver=$(uname -r)
check "lsmod, nothing loaded" "/sbin/lsmod" "/ref/bin/lsmod"
/ref/bin/modprobe btrfs || { echo "FAIL modprobe btrfs"; fail=1; }
/ref/bin/modprobe dummy || { echo "FAIL modprobe dummy"; fail=1; }
check "lsmod, btrfs closure loaded" "/sbin/lsmod" "/ref/bin/lsmod"
check "kmod list" "/sbin/kmod list" "/ref/bin/kmod list"
check "kmod list -v extra" "/sbin/kmod list -v extra" "/ref/bin/kmod list -v extra"
for f in human tmpfiles devname; do
    check "kmod static-nodes -f $f (the running kernel's modules.devname)" \
        "/sbin/kmod static-nodes -f $f" "/ref/bin/kmod static-nodes -f $f"
done
check "kmod static-nodes -o FILE" \
    "/sbin/kmod static-nodes -f tmpfiles -o /tmp/sn/a/b.conf && cat /tmp/sn/a/b.conf && rm -r /tmp/sn" \
    "/ref/bin/kmod static-nodes -f tmpfiles -o /tmp/sn/a/b.conf && cat /tmp/sn/a/b.conf && rm -r /tmp/sn"
# (the guest's tree has loop and btrfs: /dev/loop-control, /dev/btrfs-control)
case $(/sbin/kmod static-nodes -f tmpfiles) in
    *'c! /dev/loop-control 0600 - - - 10:237'*) echo "PASS static-nodes lists loop-control" ;;
    *) echo "FAIL static-nodes: no loop-control"; fail=1 ;;
esac
check "lsmod extra argument" "/sbin/lsmod x" "/ref/bin/lsmod x"
check "modinfo by name" "/sbin/modinfo btrfs dummy xor libcrc32c" "/ref/bin/modinfo btrfs dummy xor libcrc32c"
check "modinfo built-in and missing" "/sbin/modinfo -F filename ext4 nosuch" "/ref/bin/modinfo -F filename ext4 nosuch"
check "depmod -n in the guest" "/sbin/depmod -n" "/ref/bin/depmod -n"
json=$(/sbin/lsmod --json)
case $json in
    *'"name": "btrfs"'*'"holders": []'*) echo "PASS lsmod --json" ;;
    *) echo "FAIL lsmod --json"; echo "$json"; fail=1 ;;
esac
[ "$(cat /sys/module/libcrc32c/refcnt)" -ge 1 ] && echo "PASS libcrc32c held" || { echo "FAIL refcnt"; fail=1; }
[ -e /sys/module/libcrc32c/holders/btrfs ] && echo "PASS holders" || { echo "FAIL holders"; fail=1; }
/ref/bin/modprobe -r btrfs dummy
check "lsmod after removal" "/sbin/lsmod" "/ref/bin/lsmod"
exit $fail
