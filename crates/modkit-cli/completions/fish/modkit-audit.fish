# fish completion for modkit-audit (modkit): written by modkit's tests (crates/modkit-cli/src/docs) from the tool's option table and man page; do not edit.

complete -c modkit-audit -f
complete -c modkit-audit -s j -l json -d 'Print the report as a JSON object'
complete -c modkit-audit -l root -x -a '(__fish_complete_directories)' -d 'Read proc/, sys/, dev/kmsg and lib/modules/ under DIR instead of under /'
complete -c modkit-audit -s V -l version -d 'Print the version and exit'
complete -c modkit-audit -s h -l help -d 'Print a summary of the options and exit'
