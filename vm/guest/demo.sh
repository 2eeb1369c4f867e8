#!/bin/sh
# Live demo inside the VM: modkit's tools at work on a real kernel.
# (busybox's shell runs its own applets first: call modkit's tools by path.)
set -x
uname -r
/sbin/lsmod
/sbin/modinfo -F description btrfs
/ref/bin/modprobe btrfs
/sbin/lsmod
/sbin/lsmod --json | head -n 12
/ref/bin/modprobe -r btrfs
/sbin/lsmod
