# fish completion for kmod (modkit): written by modkit's tests (crates/modkit-cli/src/docs) from the tool's option table and man page; do not edit.

complete -c kmod -f
complete -c kmod -n __fish_use_subcommand -s V -l version -d 'Print the version and exit'
complete -c kmod -n __fish_use_subcommand -s h -l help -d 'Print a summary of the commands and exit'
complete -c kmod -n __fish_use_subcommand -a 'help list static-nodes'
complete -c kmod -n '__fish_seen_subcommand_from list' -s s -l syslog -d 'Send the messages to the system log instead of standard error'
complete -c kmod -n '__fish_seen_subcommand_from list' -s v -l verbose -d 'Print more messages'
complete -c kmod -n '__fish_seen_subcommand_from list' -s V -l version -d 'Print the version and exit'
complete -c kmod -n '__fish_seen_subcommand_from list' -s h -l help -d 'Print a summary of the options and exit'
complete -c kmod -n '__fish_seen_subcommand_from list' -l json -d 'Print the modules as a JSON array'
complete -c kmod -n '__fish_seen_subcommand_from list' -l tree -d 'Print the modules as a tree of who uses whom'
complete -c kmod -n '__fish_seen_subcommand_from static-nodes' -s f -l format -x -a 'human tmpfiles devname' -d 'The output format'
complete -c kmod -n '__fish_seen_subcommand_from static-nodes' -s o -l output -r -F -d 'Write to FILE instead of standard output'
complete -c kmod -n '__fish_seen_subcommand_from static-nodes' -s h -l help -d 'Print a summary of the options and exit'
