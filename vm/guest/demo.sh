#!/bin/sh
# Live demo inside the VM: modkit's tools at work on a real kernel.
# (busybox's shell runs its own applets first: modkit's tools are called
# by path, /sbin/TOOL.)
X=/lib/modules/$(uname -r)/extra
set -x
uname -r
/sbin/modinfo -p mk_params
/sbin/insmod $X/mk_params.ko p_int=42 'p_charp=hello world' p_array=1,2,3
/sbin/lsmod
cat /sys/module/mk_params/parameters/p_int /sys/module/mk_params/parameters/p_charp
echo 7 > /sys/module/mk_params/parameters/p_int
/sbin/rmmod mk_params
dmesg | grep mk_params
/ref/bin/modprobe btrfs
/sbin/lsmod
/sbin/lsmod --json | head -n 12
/sbin/rmmod btrfs
/sbin/rmmod libcrc32c
