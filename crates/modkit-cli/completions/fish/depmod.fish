# fish completion for depmod (modkit): written by modkit's tests (crates/modkit-cli/src/docs) from the tool's option table and man page; do not edit.

# the root (with 'root') or module directory the command line names
# (fish's $version is its own: the kernel's is $kver)
function __modkit_depmod_dir
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
        end
        set i (math $i + 1)
    end
    if test "$argv[1]" = root
        echo $root
    else
        echo $root/lib/modules/$kver
    end
end

function __modkit_depmod_modules
    set -l dir (__modkit_depmod_dir)
    awk -F: '/^[^#]/ { n = $1; sub(/.*\\//, "", n); sub(/\\.ko(\\..*)?$/, "", n); print n }' $dir/modules.dep 2>/dev/null
    awk '{ n = $0; sub(/.*\\//, "", n); sub(/\\.ko$/, "", n); print n }' $dir/modules.builtin 2>/dev/null
    awk '$1 == "alias" && $2 !~ /[][*?]/ { print $2 }' $dir/modules.alias 2>/dev/null
end

function __modkit_depmod_kernels
    set -l root (__modkit_depmod_dir root)
    command ls -1 $root/lib/modules 2>/dev/null
end

complete -c depmod -s a -l all -d 'Read every module of the module directory'
complete -c depmod -s A -l quick -d 'Do nothing when modules.dep is newer than every module file, and do the work of -a otherwise'
complete -c depmod -s b -l basedir -x -a '(__fish_complete_directories)' -d 'Take DIR as the root'
complete -c depmod -s m -l moduledir -x -a '(__fish_complete_directories)' -d 'The module directory under the root, /lib/modules by default'
complete -c depmod -s o -l outdir -x -a '(__fish_complete_directories)' -d 'Write the output files under DIR instead of under the root given by -b'
complete -c depmod -s C -l config -r -F -d 'Read the configuration from the file or directory PATH instead of the default directories'
complete -c depmod -s E -l symvers -r -F -d 'Take the symbols the kernel exports, with their versions, from FILE'
complete -c depmod -s F -l filesyms -r -F -d 'Take the symbols the kernel exports from FILE, a System.map'
complete -c depmod -s e -l errsyms -d 'Report the symbols needed by a module that neither another module nor the kernel provides'
complete -c depmod -s n -l show -d 'Print the output files on standard output and write nothing'
complete -c depmod -l dry-run -d 'Print the output files on standard output and write nothing'
complete -c depmod -s P -l symbol-prefix -x -d 'The character the architecture puts before symbol names, to be ignored'
complete -c depmod -s w -l warn -d 'Warn about duplicate entries in the indexes'
complete -c depmod -s v -l verbose -d 'Print each dependency as it is found'
complete -c depmod -s V -l version -d 'Print the version'
complete -c depmod -s h -l help -d 'Print a summary of the options and exit'
complete -c depmod -l modkit-cache -r -F -d 'Keep the cache in FILE instead'
complete -c depmod -l no-cache -d 'Keep no cache'
complete -c depmod -a '(__modkit_depmod_kernels)'
