# fish completion for modkit-kallsyms (modkit): written by modkit's tests (crates/modkit-cli/src/docs) from the tool's option table and man page; do not edit.

function __modkit_kallsyms_loaded
    awk '{ print $1 }' /proc/modules 2>/dev/null
end

complete -c modkit-kallsyms -f
complete -c modkit-kallsyms -s m -l map -r -F -d 'Read FILE, a System.map or a saved copy of /proc/kallsyms, instead of /proc/kallsyms'
complete -c modkit-kallsyms -s t -l type -x -d 'Only symbols whose type letter'
complete -c modkit-kallsyms -s M -l module -x -a '(__modkit_kallsyms_loaded)' -d 'Only the symbols of the loaded module MODULE'
complete -c modkit-kallsyms -s j -l json -d 'Print a JSON array'
complete -c modkit-kallsyms -s V -l version -d 'Print the version and exit'
complete -c modkit-kallsyms -s h -l help -d 'Print a summary of the options and exit'
