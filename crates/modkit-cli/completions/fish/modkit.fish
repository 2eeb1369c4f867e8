# fish completion for modkit: written by modkit's tests (crates/modkit-cli/src/docs) from the tool's option table and man page; do not edit.

complete -c modkit -f
complete -c modkit -n __fish_use_subcommand -s h -l help -d 'Show the tools'
complete -c modkit -n __fish_use_subcommand -s V -l version -d 'Show the version'
complete -c modkit -n __fish_use_subcommand -a 'audit check depmod dmesg insmod kallsyms klogd kmod kprobe lsmod modinfo modprobe param printk rmmod symbols taint'
# a tool's own completions, modkit's own tools' under modkit-TOOL
function __modkit_tool_complete
    set -l words (commandline -opc)
    set -l cur (commandline -ct)
    set -l command $words[2]
    contains -- $command audit check kallsyms kprobe param printk symbols taint; and set command modkit-$command
    set -l line (string join ' ' -- (string escape -- $command $words[3..-1]))
    complete -C "$line $cur"
end
complete -c modkit -n 'not __fish_use_subcommand' -a '(__modkit_tool_complete)'
