# fish completion for lsmod (modkit): written by modkit's tests (crates/modkit-cli/src/docs) from the tool's option table and man page; do not edit.

complete -c lsmod -f
complete -c lsmod -s s -l syslog -d 'Send the messages to the system log instead of standard error'
complete -c lsmod -s v -l verbose -d 'Print more messages'
complete -c lsmod -s V -l version -d 'Print the version and exit'
complete -c lsmod -s h -l help -d 'Print a summary of the options and exit'
complete -c lsmod -l json -d 'Print the modules as a JSON array'
complete -c lsmod -l tree -d 'Print the modules as a tree of who uses whom'
