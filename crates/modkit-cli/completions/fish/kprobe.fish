# fish completion for kprobe (modkit): written by modkit's tests (crates/modkit-cli/src/docs) from the tool's option table and man page; do not edit.

complete -c kprobe -f
complete -c kprobe -s r -l ret -d 'A kretprobe'
complete -c kprobe -l maxactive -x -d 'How many instances of a kretprobe may wait for a return at once'
complete -c kprobe -s g -l group -x -d 'The event group'
complete -c kprobe -s e -l enable -d 'add'
complete -c kprobe -s a -l all -d 'del, enable, disable'
complete -c kprobe -s j -l json -d 'JSON output'
complete -c kprobe -s n -l count -x -d 'trace'
complete -c kprobe -s d -l duration -x -d 'trace'
complete -c kprobe -s p -l probe -x -d 'trace'
complete -c kprobe -s P -l ret-probe -x -d 'trace'
complete -c kprobe -l text-pipe -d 'trace'
complete -c kprobe -l tracefs -x -a '(__fish_complete_directories)' -d 'Use the tracefs at DIR instead of finding it'
complete -c kprobe -l debugfs -x -a '(__fish_complete_directories)' -d 'Use the debugfs at DIR'
complete -c kprobe -s V -l version -d 'Print the version and exit'
complete -c kprobe -s h -l help -d 'Print a summary of the commands and options and exit'
complete -c kprobe -a 'add list del enable disable stats blacklist check trace'
