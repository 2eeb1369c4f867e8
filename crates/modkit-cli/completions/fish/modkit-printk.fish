# fish completion for modkit-printk (modkit): written by modkit's tests (crates/modkit-cli/src/docs) from the tool's option table and man page; do not edit.

complete -c modkit-printk -f
complete -c modkit-printk -s j -l json -d 'Print the settings as one JSON object'
complete -c modkit-printk -l proc -x -a '(__fish_complete_directories)' -d 'Use DIR instead of /proc'
complete -c modkit-printk -s V -l version -d 'Print the version and exit'
complete -c modkit-printk -s h -l help -d 'Print a summary of the names and options and exit'
complete -c modkit-printk -a 'console_loglevel console default_message_loglevel default_message minimum_console_loglevel minimum_console default_console_loglevel default_console printk_devkmsg devkmsg dmesg_restrict kptr_restrict'
