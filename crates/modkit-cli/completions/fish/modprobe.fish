# fish completion for modprobe (modkit): written by modkit's tests (crates/modkit-cli/src/docs) from the tool's option table and man page; do not edit.

# the root (with 'root') or module directory the command line names
# (fish's $version is its own: the kernel's is $kver)
function __modkit_modprobe_dir
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
            case '-d' '--dirname'
                set root $next
                set i (math $i + 1)
            case '-d?*'
                set root (string sub -s 3 -- $w)
            case '--dirname=*'
                set root (string replace -- '--dirname=' '' $w)
            case '-S' '--set-version'
                set kver $next
                set i (math $i + 1)
            case '-S?*'
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

function __modkit_modprobe_modules
    set -l dir (__modkit_modprobe_dir)
    awk -F: '/^[^#]/ { n = $1; sub(/.*\\//, "", n); sub(/\\.ko(\\..*)?$/, "", n); print n }' $dir/modules.dep 2>/dev/null
    awk '{ n = $0; sub(/.*\\//, "", n); sub(/\\.ko$/, "", n); print n }' $dir/modules.builtin 2>/dev/null
    awk '$1 == "alias" && $2 !~ /[][*?]/ { print $2 }' $dir/modules.alias 2>/dev/null
end

function __modkit_modprobe_kernels
    set -l root (__modkit_modprobe_dir root)
    command ls -1 $root/lib/modules 2>/dev/null
end

function __modkit_modprobe_loaded
    awk '{ print $1 }' /proc/modules 2>/dev/null
end

complete -c modprobe -f
complete -c modprobe -s a -l all -d 'Treat every argument as a module to load'
complete -c modprobe -s r -l remove -d 'Unload the modules, then the modules they depended on that are no longer used'
complete -c modprobe -l remove-holders -d 'With -r, first unload the modules that use the module'
complete -c modprobe -l remove-dependencies -d 'The old name of --remove-holders'
complete -c modprobe -s w -l wait -x -d 'With -r, wait up to MSEC milliseconds for a module in use to be released before failing'
complete -c modprobe -l first-time -d 'Fail when the module is already loaded'
complete -c modprobe -s i -l ignore-install -d 'Ignore the install and remove commands of the configuration'
complete -c modprobe -l ignore-remove -d 'Ignore the install and remove commands of the configuration'
complete -c modprobe -s b -l use-blacklist -d 'Apply the configuration\'s blacklist to the modules named on the command line too, not only to aliases'
complete -c modprobe -s f -l force -d 'Both --force-modversion and --force-vermagic'
complete -c modprobe -l force-modversion -d 'Load the module even when its symbol versions do not match the kernel'
complete -c modprobe -l force-vermagic -d 'Load the module even when its version magic does not match the kernel'
complete -c modprobe -s R -l resolve-alias -d 'Print the names of the modules a name or alias resolves to, and load nothing'
complete -c modprobe -s D -l show-depends -d 'Print what loading would do, one insmod or builtin line per module in order, and load nothing'
complete -c modprobe -s c -l showconfig -d 'Print the configuration in effect, and the aliases of the indexes'
complete -c modprobe -l show-config -d 'Print the configuration in effect, and the aliases of the indexes'
complete -c modprobe -l show-modversions -d 'Print the symbol versions a module file needs'
complete -c modprobe -l dump-modversions -d 'Print the symbol versions a module file needs'
complete -c modprobe -l show-exports -d 'Print the symbols a module file exports, with their versions'
complete -c modprobe -s n -l dry-run -d 'Do everything but loading or unloading'
complete -c modprobe -l show -d 'Do everything but loading or unloading'
complete -c modprobe -s C -l config -r -F -d 'Read the configuration from the file or directory PATH instead of the default directories'
complete -c modprobe -s d -l dirname -x -a '(__fish_complete_directories)' -d 'Use DIR as the root under which /lib/modules is'
complete -c modprobe -s S -l set-version -x -a '(__modkit_modprobe_kernels)' -d 'Use the modules of kernel VERSION instead of the running kernel\'s'
complete -c modprobe -s s -l syslog -d 'Send the messages to the system log instead of standard error'
complete -c modprobe -s q -l quiet -d 'Print no message for a module that cannot be found'
complete -c modprobe -s v -l verbose -d 'Print more messages'
complete -c modprobe -s V -l version -d 'Print the version and exit'
complete -c modprobe -s h -l help -d 'Print a summary of the options and exit'
complete -c modprobe -l format -x -a 'json dot' -d 'With -D'
complete -c modprobe -n '__fish_seen_argument -s r -l remove' -a '(__modkit_modprobe_loaded)'
complete -c modprobe -n 'not __fish_seen_argument -s r -l remove' -a '(__modkit_modprobe_modules)'
