# fish completion for modkit-taint (modkit): written by modkit's tests (crates/modkit-cli/src/docs) from the tool's option table and man page; do not edit.

complete -c modkit-taint -f
complete -c modkit-taint -s j -l json -d 'Print the report as a JSON object'
complete -c modkit-taint -l root -x -a '(__fish_complete_directories)' -d 'Read proc/ and sys/ under DIR instead of under /'
complete -c modkit-taint -s V -l version -d 'Print the version and exit'
complete -c modkit-taint -s h -l help -d 'Print a summary of the options and exit'
