# fish completion for modkit-param (modkit): written by modkit's tests (crates/modkit-cli/src/docs) from the tool's option table and man page; do not edit.

# the root (with 'root') or module directory the command line names
# (fish's $version is its own: the kernel's is $kver)
function __modkit_param_dir
    set -l root ''
    set -l kver (uname -r)
    set -l tokens (commandline -opc)
    set -l n (count $tokens)
    set -l i 2
    while test $i -le $n
        set -l w $tokens[$i]
        set -l next ''
        if test $i -lt $n
            set next $tokens[(math $i + 1)]
        end
        switch $w
            case '-b' '--basedir'
                set root $next
                set i (math $i + 1)
            case '-b?*'
                set root (string sub -s 3 -- $w)
            case '--basedir=*'
                set root (string replace -- '--basedir=' '' $w)
            case '-k' '--set-version'
                set kver $next
                set i (math $i + 1)
            case '-k?*'
                set kver (string sub -s 3 -- $w)
            case '--set-version=*'
                set kver (string replace -- '--set-version=' '' $w)
        end
        set i (math $i + 1)
    end
    if test "$argv[1]" = root
        echo $root
    else
        echo $root/lib/modules/$kver
    end
end

function __modkit_param_modules
    set -l dir (__modkit_param_dir)
    awk -F: '/^[^#]/ { n = $1; sub(/.*\\//, "", n); sub(/\\.ko(\\..*)?$/, "", n); print n }' $dir/modules.dep 2>/dev/null
    awk '{ n = $0; sub(/.*\\//, "", n); sub(/\\.ko$/, "", n); print n }' $dir/modules.builtin 2>/dev/null
    awk '$1 == "alias" && $2 !~ /[][*?]/ { print $2 }' $dir/modules.alias 2>/dev/null
end

function __modkit_param_kernels
    set -l root (__modkit_param_dir root)
    command ls -1 $root/lib/modules 2>/dev/null
end

function __modkit_param_loaded
    awk '{ print $1 }' /proc/modules 2>/dev/null
end

complete -c modkit-param -f
complete -c modkit-param -s b -l basedir -x -a '(__fish_complete_directories)' -d 'Find the module tree under DIR/lib/modules instead of /lib/modules'
complete -c modkit-param -s k -l set-version -x -a '(__modkit_param_kernels)' -d 'Take the types from the tree of kernel VERSION instead of the running kernel\'s'
complete -c modkit-param -l sys-module -x -a '(__fish_complete_directories)' -d 'Read and write DIR instead of /sys/module'
complete -c modkit-param -s j -l json -d 'Print a JSON array'
complete -c modkit-param -s V -l version -d 'Print the version and exit'
complete -c modkit-param -s h -l help -d 'Print a summary of the options and exit'
complete -c modkit-param -a '(__modkit_param_loaded)'
