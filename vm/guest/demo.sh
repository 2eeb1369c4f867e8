#!/bin/sh
# Live demo inside the VM: modkit's tools at work on a real kernel.
# (busybox's shell runs its own applets first: modkit's tools are called
# by path, /sbin/TOOL.)
X=/lib/modules/$(uname -r)/extra
set -x
uname -r
# a test module: its parameters, loaded with values, changed at run time
/sbin/modinfo -p mk_params
/sbin/insmod $X/mk_params.ko p_int=42 'p_charp=hello world' p_array=1,2,3
/sbin/lsmod
cat /sys/module/mk_params/parameters/p_int /sys/module/mk_params/parameters/p_charp
echo 7 > /sys/module/mk_params/parameters/p_int
/sbin/rmmod mk_params
/sbin/dmesg -x | grep mk_params
# a real module with its dependencies and softdeps, resolved by modprobe
/sbin/modprobe -D btrfs
/sbin/modprobe -v btrfs
/sbin/lsmod --tree
/sbin/lsmod --json | head -n 12
/sbin/modprobe -r -v btrfs
# by alias, and the kernel log's levels
/sbin/modprobe -R fs-btrfs
/sbin/modprobe -v mk-params-alias
/sbin/modprobe -r mk_params
/sbin/printk
/sbin/dmesg -l err,warn -x | tail -n 5
