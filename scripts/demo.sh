#!/bin/sh
# modkit's main job, live: reads real Debian kernel module trees and shows
# modkit's tools side by side with the reference (kmod 34.2).
# (The VM demo on a booted Debian kernel arrives with the VM test bed.)
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
cache=$(scripts/refs.sh tools trees)
cargo build --release -q
modkit=$here/target/release/modkit
for t in 6.1 6.12; do
    root=$cache/trees/$t; ver=$(cat "$root/.version")
    echo "== $ver: modkit modinfo -b ROOT -k $ver btrfs"
    "$modkit" modinfo -b "$root" -k "$ver" btrfs
    echo
    echo "== modkit modinfo -p e1000e (parameters with types)"
    "$modkit" modinfo -b "$root" -k "$ver" -p e1000e | head -n 8
    echo
    echo "== alias and symbol lookups: pci:v00008086d000010D3sv*, symbol:kvm_vcpu_kick, fs-vfat"
    "$modkit" modinfo -b "$root" -k "$ver" -F filename 'pci:v00008086d000010D3sv00000000sd00000000bc02sc00i00' symbol:kvm_vcpu_kick fs-vfat
    echo
    echo "== byte-identical to kmod's modinfo on every module of the tree?"
    find "$root/lib/modules/$ver/kernel" -name '*.ko*' | sort > /tmp/modkit-demo.list
    a=$(xargs "$modkit" modinfo < /tmp/modkit-demo.list 2>&1 | sha256sum)
    b=$(xargs "$cache/ref/bin/modinfo" < /tmp/modkit-demo.list 2>&1 | sha256sum)
    n=$(wc -l < /tmp/modkit-demo.list)
    if [ "$a" = "$b" ]; then echo "yes: $n modules, same bytes"; else echo "NO: outputs differ"; fi
    echo
done
