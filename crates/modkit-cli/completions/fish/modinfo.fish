# fish completion for modinfo (modkit): written by modkit's tests (crates/modkit-cli/src/docs) from the tool's option table and man page; do not edit.

# the root (with 'root') or module directory the command line names
# (fish's $version is its own: the kernel's is $kver)
function __modkit_modinfo_dir
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

function __modkit_modinfo_modules
    set -l dir (__modkit_modinfo_dir)
    awk -F: '/^[^#]/ { n = $1; sub(/.*\\//, "", n); sub(/\\.ko(\\..*)?$/, "", n); print n }' $dir/modules.dep 2>/dev/null
    awk '{ n = $0; sub(/.*\\//, "", n); sub(/\\.ko$/, "", n); print n }' $dir/modules.builtin 2>/dev/null
    awk '$1 == "alias" && $2 !~ /[][*?]/ { print $2 }' $dir/modules.alias 2>/dev/null
end

function __modkit_modinfo_kernels
    set -l root (__modkit_modinfo_dir root)
    command ls -1 $root/lib/modules 2>/dev/null
end

complete -c modinfo -s a -l author -d 'Print only the author fields'
complete -c modinfo -s d -l description -d 'Print only the description field'
complete -c modinfo -s l -l license -d 'Print only the license field'
complete -c modinfo -s p -l parameters -d 'Print only the parameters, as NAME:DESCRIPTION'
complete -c modinfo -s n -l filename -d 'Print only the module\'s file name'
complete -c modinfo -s F -l field -x -a 'alias author depends description filename firmware import_ns intree license name parm parmtype retpoline sig_hashalgo sig_id signature signer sig_key softdep srcversion vermagic version' -d 'Print only the values of FIELD, without the field name'
complete -c modinfo -s 0 -l null -d 'End each value with a NUL byte instead of a newline'
complete -c modinfo -s m -l modname -d 'Take each argument as a module name'
complete -c modinfo -s k -l set-version -x -a '(__modkit_modinfo_kernels)' -d 'Look in the module directory of kernel VERSION instead of the running kernel\'s'
complete -c modinfo -s b -l basedir -x -a '(__fish_complete_directories)' -d 'Look for /lib/modules under DIR'
complete -c modinfo -s V -l version -d 'Print the version and exit'
complete -c modinfo -s h -l help -d 'Print a summary of the options and exit'
complete -c modinfo -l json -d 'Print every module shown as one JSON array'
complete -c modinfo -a '(__modkit_modinfo_modules)'
