# fish completion for modkit: written by modkit's tests (crates/modkit-cli/src/docs) from the tool's option table and man page; do not edit.

complete -c modkit -f
complete -c modkit -n __fish_use_subcommand -s h -l help -d 'Show the tools'
complete -c modkit -n __fish_use_subcommand -s V -l version -d 'Show the version'
complete -c modkit -n __fish_use_subcommand -a 'audit check depmod dmesg insmod kallsyms klogd kmod kprobe lsmod modinfo modprobe param printk rmmod symbols taint'
complete -c modkit -n 'not __fish_use_subcommand' -a '(__fish_complete_subcommand --fcs-skip=1)'
