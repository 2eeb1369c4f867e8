# fish completion for rmmod (modkit): written by modkit's tests (crates/modkit-cli/src/docs) from the tool's option table and man page; do not edit.

function __modkit_rmmod_loaded
    awk '{ print $1 }' /proc/modules 2>/dev/null
end

complete -c rmmod -f
complete -c rmmod -s f -l force -d 'Unload the module even if it is in use, when the kernel allows it'
complete -c rmmod -s s -l syslog -d 'Send the messages to the system log instead of standard error'
complete -c rmmod -s v -l verbose -d 'Print more messages'
complete -c rmmod -s V -l version -d 'Print the version and exit'
complete -c rmmod -s h -l help -d 'Print a summary of the options and exit'
complete -c rmmod -a '(__modkit_rmmod_loaded)'
