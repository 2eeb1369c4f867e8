# fish completion for printk (modkit): written by modkit's tests (crates/modkit-cli/src/docs) from the tool's option table and man page; do not edit.

complete -c printk -f
complete -c printk -s j -l json -d 'Print the settings as one JSON object'
complete -c printk -l proc -x -a '(__fish_complete_directories)' -d 'Use DIR instead of /proc'
complete -c printk -s V -l version -d 'Print the version and exit'
complete -c printk -s h -l help -d 'Print a summary of the names and options and exit'
complete -c printk -a 'console_loglevel console default_message_loglevel default_message minimum_console_loglevel minimum_console default_console_loglevel default_console printk_devkmsg devkmsg dmesg_restrict kptr_restrict'
