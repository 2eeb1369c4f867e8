# fish completion for insmod (modkit): written by modkit's tests (crates/modkit-cli/src/docs) from the tool's option table and man page; do not edit.

complete -c insmod -s f -l force -d 'Load the module even when its version magic or symbol versions do not match the kernel'
complete -c insmod -s s -l syslog -d 'Send the messages to the system log instead of standard error'
complete -c insmod -s v -l verbose -d 'Print more messages'
complete -c insmod -s V -l version -d 'Print the version and exit'
complete -c insmod -s h -l help -d 'Print a summary of the options and exit'
