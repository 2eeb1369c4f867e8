//! bash, zsh and fish completions written from the tools' option tables
//! (grouped and described as their man pages' option terms): each shell's
//! script knows every option, offers the words an option's argument may
//! be, and completes module names from the module directory in use
//! (`ROOT/lib/modules/VERSION`, from the tool's own root and version
//! options or `uname -r`), loaded modules from `/proc/modules`, and
//! `kmod`'s commands.

use std::fmt::Write as _;

use super::spec::{Arg, Group, Opt, ToolSpec};
use crate::compat::getopt::HasArg;

/// Module names of `modules.dep` (awk, `-F:`): the file name without its
/// directory and `.ko*` suffix.
const AWK_DEP: &str =
    r#"/^[^#]/ { n = $1; sub(/.*\//, "", n); sub(/\.ko(\..*)?$/, "", n); print n }"#;
/// Module names of `modules.builtin`.
const AWK_BUILTIN: &str = r#"{ n = $0; sub(/.*\//, "", n); sub(/\.ko$/, "", n); print n }"#;
/// The aliases of `modules.alias` that are words, not patterns.
const AWK_ALIAS: &str = r#"$1 == "alias" && $2 !~ /[][*?]/ { print $2 }"#;
/// The names of `/proc/modules`.
const AWK_LOADED: &str = r#"{ print $1 }"#;

const HEADER: &str = "written by modkit's tests (crates/modkit-cli/src/docs) from the \
                      tool's option table and man page; do not edit";

/// A tool's options, one list per group, in the groups' order.
pub(crate) type Options<'a> = Vec<(&'a Group, Vec<Opt>)>;

/// Every name of an option with its dashes (`-a`, `--all`).
pub(crate) fn names(opt: &Opt) -> Vec<String> {
    let mut v: Vec<String> = opt.short.iter().map(|c| format!("-{c}")).collect();
    v.extend(opt.longs.iter().map(|l| format!("--{l}")));
    v
}

fn sh_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

fn fish_quote(s: &str) -> String {
    format!("'{}'", s.replace('\\', r"\\").replace('\'', r"\'"))
}

fn uses(opts: &Options, spec: &ToolSpec, want: &[Arg]) -> bool {
    let kinds = opts
        .iter()
        .flat_map(|(g, o)| o.iter().map(|o| o.arg).chain([g.operands]));
    let mut kinds = kinds.chain(spec.loaded_with.iter().map(|_| Arg::Loaded));
    kinds.any(|k| want.contains(&k))
}

/// The pattern of words that set one of `opts` (`-d`, `--dirname`) with
/// the value in the same word, and how to get the value, for bash/zsh.
fn attached_arms(opts: &[&str], var: &str) -> String {
    let mut s = String::new();
    for o in opts {
        if o.starts_with("--") {
            let _ = writeln!(s, "            {o}=*) {var}=${{w#*=}} ;;");
        } else {
            let _ = writeln!(s, "            {o}?*) {var}=${{w#{o}}} ;;");
        }
    }
    s
}

// ---------------------------------------------------------------- bash

fn bash_reply(spec: &ToolSpec, arg: Arg, id: &str) -> String {
    match arg {
        Arg::Text => "COMPREPLY=()".into(),
        Arg::File => "compopt -o filenames 2>/dev/null; mapfile -t COMPREPLY < <(compgen -f -- \"$cur\")".into(),
        Arg::Dir => "compopt -o filenames 2>/dev/null; mapfile -t COMPREPLY < <(compgen -d -- \"$cur\")".into(),
        Arg::Kernel => format!("mapfile -t COMPREPLY < <(compgen -W \"$(_modkit_{id}_kernels)\" -- \"$cur\")"),
        Arg::Values(v) => format!("mapfile -t COMPREPLY < <(compgen -W {} -- \"$cur\")", sh_quote(&v.join(" "))),
        Arg::List(v) => format!(
            "mapfile -t COMPREPLY < <(compgen -P \"${{cur%\"${{cur##*,}}\"}}\" -W {} -- \"${{cur##*,}}\")",
            sh_quote(&v.join(" "))
        ),
        Arg::Modules if !spec.loaded_with.is_empty() => format!(
            "if _modkit_{id}_has {}; then {}; else {}; fi",
            spec.loaded_with.join(" "),
            bash_reply(spec, Arg::Loaded, id),
            bash_reply(&NO_LOADED, Arg::Modules, id)
        ),
        Arg::Modules => format!("mapfile -t COMPREPLY < <(compgen -W \"$(_modkit_{id}_modules)\" -- \"$cur\")"),
        Arg::Loaded => format!("mapfile -t COMPREPLY < <(compgen -W \"$(_modkit_{id}_loaded)\" -- \"$cur\")"),
        Arg::ModuleFile => "compopt -o filenames 2>/dev/null; mapfile -t COMPREPLY < <(compgen -f -X '!*.ko*' -- \"$cur\"; compgen -d -- \"$cur\")".into(),
        Arg::ModuleOrFile => format!(
            "if [[ $cur == */* ]]; then {}; else {}; fi",
            bash_reply(spec, Arg::ModuleFile, id),
            bash_reply(spec, Arg::Modules, id)
        ),
    }
}

/// A spec without `loaded_with`, for the modules branch of `modprobe -r`.
const NO_LOADED: ToolSpec = ToolSpec {
    name: "",
    section: "",
    groups: &[],
    args: &[],
    root_opts: &[],
    version_opts: &[],
    loaded_with: &[],
};

fn bash_group(spec: &ToolSpec, group: &Group, opts: &[Opt], id: &str, ind: &str) -> String {
    let mut s = String::new();
    let with_arg: Vec<&Opt> = opts.iter().filter(|o| o.has_arg != HasArg::No).collect();
    // --opt=value: bash has split the word at '='
    let eq_longs: Vec<&Opt> = with_arg
        .iter()
        .copied()
        .filter(|o| !o.longs.is_empty())
        .collect();
    if !eq_longs.is_empty() {
        let _ = writeln!(s, "{ind}if [[ -n $opt ]]; then");
        let _ = writeln!(s, "{ind}    case $opt in");
        for o in &eq_longs {
            let pat: Vec<String> = o.longs.iter().map(|l| format!("--{l}")).collect();
            let _ = writeln!(
                s,
                "{ind}        {}) {} ;;",
                pat.join("|"),
                bash_reply(spec, o.arg, id)
            );
        }
        let _ = writeln!(s, "{ind}    esac\n{ind}    return\n{ind}fi");
    }
    let separate: Vec<&Opt> = with_arg
        .iter()
        .copied()
        .filter(|o| o.has_arg == HasArg::Required)
        .collect();
    if !separate.is_empty() {
        let _ = writeln!(s, "{ind}case $prev in");
        for o in &separate {
            let _ = writeln!(
                s,
                "{ind}    {}) {}; return ;;",
                names(o).join("|"),
                bash_reply(spec, o.arg, id)
            );
        }
        let _ = writeln!(s, "{ind}esac");
    }
    let all: Vec<String> = opts.iter().flat_map(names).collect();
    let _ = writeln!(s, "{ind}if [[ $cur == -* ]]; then");
    let _ = writeln!(
        s,
        "{ind}    mapfile -t COMPREPLY < <(compgen -W {} -- \"$cur\")",
        sh_quote(&all.join(" "))
    );
    let _ = writeln!(s, "{ind}    return\n{ind}fi");
    let _ = writeln!(s, "{ind}{}", bash_reply(spec, group.operands, id));
    s
}

/// The bash completion of one tool.
pub(crate) fn bash(spec: &ToolSpec, opts: &Options) -> String {
    let id = spec.name;
    let cmd = super::command(id);
    let mut s = format!("# bash completion for {cmd} (modkit): {HEADER}.\n\n");
    if uses(opts, spec, &[Arg::Modules, Arg::ModuleOrFile, Arg::Kernel]) {
        s.push_str(&format!(
            "# the root and module directory the command line names\n\
             _modkit_{id}_dir() {{\n\
             \x20   local i w v eq root= version=\n\
             \x20   for ((i = 1; i < COMP_CWORD; i++)); do\n\
             \x20       w=${{COMP_WORDS[i]}}\n\
             \x20       if [[ ${{COMP_WORDS[i+1]-}} == = ]]; then v=${{COMP_WORDS[i+2]-}} eq=2; else v=${{COMP_WORDS[i+1]-}} eq=1; fi\n\
             \x20       case $w in\n"
        ));
        for (opts_, var) in [(spec.root_opts, "root"), (spec.version_opts, "version")] {
            if !opts_.is_empty() {
                let _ = writeln!(
                    s,
                    "            {}) {var}=$v; ((i += eq)) ;;",
                    opts_.join("|")
                );
                s.push_str(&attached_arms(opts_, var));
            }
        }
        s.push_str(&format!(
            "        esac\n    done\n\
             \x20   if [[ ${{1-}} == root ]]; then printf '%s\\n' \"$root\"; else printf '%s/lib/modules/%s\\n' \"$root\" \"${{version:-$(uname -r)}}\"; fi\n}}\n\n\
             _modkit_{id}_modules() {{\n\
             \x20   local dir\n    dir=$(_modkit_{id}_dir)\n\
             \x20   awk -F: {} \"$dir/modules.dep\" 2>/dev/null\n\
             \x20   awk {} \"$dir/modules.builtin\" 2>/dev/null\n\
             \x20   awk {} \"$dir/modules.alias\" 2>/dev/null\n}}\n\n\
             _modkit_{id}_kernels() {{\n\
             \x20   local root\n    root=$(_modkit_{id}_dir root)\n\
             \x20   command ls -1 \"$root/lib/modules\" 2>/dev/null\n}}\n\n",
            sh_quote(AWK_DEP),
            sh_quote(AWK_BUILTIN),
            sh_quote(AWK_ALIAS)
        ));
    }
    if uses(opts, spec, &[Arg::Loaded]) {
        let _ = write!(
            s,
            "_modkit_{id}_loaded() {{\n    awk {} /proc/modules 2>/dev/null\n}}\n\n",
            sh_quote(AWK_LOADED)
        );
    }
    if !spec.loaded_with.is_empty() {
        let mut arms: Vec<String> = spec.loaded_with.iter().map(|o| o.to_string()).collect();
        arms.extend(
            spec.loaded_with
                .iter()
                .filter(|o| !o.starts_with("--"))
                .map(|o| format!("-[!-]*{}*", &o[1..])),
        );
        let _ = write!(
            s,
            "# whether an option of the command line is one of these\n\
             _modkit_{id}_has() {{\n\
             \x20   local w\n\
             \x20   for w in \"${{COMP_WORDS[@]:1:COMP_CWORD-1}}\"; do\n\
             \x20       case $w in {}) return 0 ;; esac\n\
             \x20   done\n\
             \x20   return 1\n}}\n\n",
            arms.join("|")
        );
    }
    let _ = write!(
        s,
        "_modkit_{id}() {{\n\
         \x20   local cur=${{COMP_WORDS[COMP_CWORD]}} prev=${{COMP_WORDS[COMP_CWORD-1]}} opt=\n\
         \x20   COMPREPLY=()\n\
         \x20   # bash splits --opt=value at '='\n\
         \x20   if [[ $cur == = ]]; then\n\
         \x20       opt=$prev cur=\n\
         \x20   elif [[ $prev == = ]]; then\n\
         \x20       opt=${{COMP_WORDS[COMP_CWORD-2]}}\n\
         \x20   fi\n"
    );
    if opts.len() == 1 {
        s.push_str(&bash_group(spec, opts[0].0, &opts[0].1, id, "    "));
    } else {
        s.push_str(
            "    local i command=\n    for ((i = 1; i < COMP_CWORD; i++)); do\n\
             \x20       [[ ${COMP_WORDS[i]} == -* ]] || { command=${COMP_WORDS[i]}; break; }\n\
             \x20   done\n    case $command in\n",
        );
        for (group, o) in opts {
            let _ = writeln!(
                s,
                "        {})",
                group.command.map_or("''".to_string(), sh_quote)
            );
            s.push_str(&bash_group(spec, group, o, id, "            "));
            s.push_str("            ;;\n");
        }
        s.push_str("    esac\n");
    }
    let _ = write!(s, "}}\ncomplete -F _modkit_{id} {cmd}\n");
    s
}

/// The bash completion of `modkit` itself: its options and tools, then
/// the tool's own completion.
pub(crate) fn bash_modkit(tools: &[&str]) -> String {
    format!(
        "# bash completion for modkit: {HEADER}.\n\n\
         _modkit_modkit() {{\n\
         \x20   local cur=${{COMP_WORDS[COMP_CWORD]}}\n\
         \x20   if ((COMP_CWORD == 1)); then\n\
         \x20       mapfile -t COMPREPLY < <(compgen -W {} -- \"$cur\")\n\
         \x20       return\n\
         \x20   fi\n\
         \x20   local tool=${{COMP_WORDS[1]}} command=${{COMP_WORDS[1]}}\n\
         \x20   # modkit's own tools are installed as modkit-TOOL, their completions too\n\
         \x20   case $tool in {}) command=modkit-$tool ;; esac\n\
         \x20   if ! declare -F \"_modkit_$tool\" >/dev/null && declare -F __load_completion >/dev/null; then\n\
         \x20       __load_completion \"$command\"\n\
         \x20   fi\n\
         \x20   declare -F \"_modkit_$tool\" >/dev/null || return\n\
         \x20   COMP_WORDS=(\"${{COMP_WORDS[@]:1}}\")\n\
         \x20   ((COMP_CWORD--))\n\
         \x20   \"_modkit_$tool\"\n\
         }}\n\
         complete -F _modkit_modkit modkit\n",
        sh_quote(&format!("-h --help -V --version {}", tools.join(" "))),
        own_tools(tools).join("|")
    )
}

/// The tools of `tools` installed as `modkit-TOOL`.
fn own_tools<'a>(tools: &[&'a str]) -> Vec<&'a str> {
    tools
        .iter()
        .copied()
        .filter(|t| super::command(t) != *t)
        .collect()
}

// ----------------------------------------------------------------- zsh

fn zsh_action(spec: &ToolSpec, arg: Arg) -> String {
    match arg {
        Arg::Text => " ".into(),
        Arg::File => "_files".into(),
        Arg::Dir => "_files -/".into(),
        Arg::Kernel => "_modkit_kernels".into(),
        Arg::Values(v) => format!("({})", v.join(" ")),
        Arg::List(v) => format!("_values -s , value {}", v.join(" ")),
        Arg::Modules if !spec.loaded_with.is_empty() => format!("_modkit_{}_operands", spec.name),
        Arg::Modules => "_modkit_modules".into(),
        Arg::Loaded => "_modkit_loaded".into(),
        Arg::ModuleFile => "_files -g \"*.ko*\"".into(),
        Arg::ModuleOrFile => "_modkit_module_or_file".into(),
    }
}

fn zsh_desc(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('[', "\\[")
        .replace(']', "\\]")
        .replace(':', "\\:")
}

fn zsh_specs(spec: &ToolSpec, opts: &[Opt]) -> Vec<String> {
    let mut v = Vec::new();
    for o in opts {
        let desc = zsh_desc(&o.summary);
        let what = o.arg_name();
        let action = zsh_action(spec, o.arg);
        for name in names(o) {
            let long = name.starts_with("--");
            let form = match (o.has_arg, long) {
                (HasArg::No, _) => format!("*{name}[{desc}]"),
                (HasArg::Required, false) => format!("*{name}+[{desc}]:{what}:{action}"),
                (HasArg::Required, true) => format!("*{name}=[{desc}]:{what}:{action}"),
                (HasArg::Optional, false) => format!("*{name}-[{desc}]::{what}:{action}"),
                (HasArg::Optional, true) => format!("*{name}=-[{desc}]::{what}:{action}"),
            };
            v.push(sh_quote(&form));
        }
    }
    v
}

fn zsh_operand(spec: &ToolSpec, arg: Arg) -> Option<String> {
    let what = match arg {
        Arg::Text => return None,
        Arg::Kernel => "kernel version",
        Arg::Values(_) => "name",
        Arg::Modules | Arg::Loaded => "module",
        _ => "module file",
    };
    Some(sh_quote(&format!("*:{what}:{}", zsh_action(spec, arg))))
}

/// The zsh completion of every tool and of `modkit`, one file.
pub(crate) fn zsh(tools: &[(&ToolSpec, Options)]) -> String {
    let names: Vec<&str> = tools.iter().map(|(s, _)| s.name).collect();
    let commands: Vec<&str> = names.iter().map(|n| super::command(n)).collect();
    let mut s = format!(
        "#compdef modkit {}\n# zsh completion for modkit's tools: {HEADER}.\n\n",
        commands.join(" ")
    );
    s.push_str(
        "# the root (with 'root') or module directory the command line names\n\
         _modkit_dir() {\n\
         \x20   local root= version= i w\n\
         \x20   local -a ropts vopts\n\
         \x20   case $service in\n",
    );
    for (spec, _) in tools {
        if spec.root_opts.is_empty() && spec.version_opts.is_empty() {
            continue;
        }
        let _ = writeln!(
            s,
            "        {}) ropts=({}) vopts=({}) ;;",
            spec.name,
            spec.root_opts.join(" "),
            spec.version_opts.join(" ")
        );
    }
    let _ = write!(
        s,
        "    esac\n\
         \x20   for ((i = 2; i < CURRENT; i++)); do\n\
         \x20       w=$words[i]\n\
         \x20       if ((${{ropts[(Ie)$w]}})); then root=$words[i+1]; ((i++)); continue; fi\n\
         \x20       if ((${{vopts[(Ie)$w]}})); then version=$words[i+1]; ((i++)); continue; fi\n\
         \x20       for o in $ropts; do\n\
         \x20           if [[ $o == --* && $w == $o=* ]]; then root=${{w#*=}}; elif [[ $o != --* && $w == ${{o}}?* ]]; then root=${{w#$o}}; fi\n\
         \x20       done\n\
         \x20       for o in $vopts; do\n\
         \x20           if [[ $o == --* && $w == $o=* ]]; then version=${{w#*=}}; elif [[ $o != --* && $w == ${{o}}?* ]]; then version=${{w#$o}}; fi\n\
         \x20       done\n\
         \x20   done\n\
         \x20   if [[ $1 == root ]]; then print -r -- \"$root\"; else print -r -- \"$root/lib/modules/${{version:-$(uname -r)}}\"; fi\n\
         }}\n\n\
         _modkit_modules() {{\n\
         \x20   local dir=$(_modkit_dir) expl\n\
         \x20   local -a mods\n\
         \x20   mods=(${{(f)\"$(awk -F: {} $dir/modules.dep 2>/dev/null; awk {} $dir/modules.builtin 2>/dev/null; awk {} $dir/modules.alias 2>/dev/null)\"}})\n\
         \x20   _wanted modules expl module compadd -a mods\n\
         }}\n\n\
         _modkit_loaded() {{\n\
         \x20   local expl\n\
         \x20   local -a mods\n\
         \x20   mods=(${{(f)\"$(awk {} /proc/modules 2>/dev/null)\"}})\n\
         \x20   _wanted modules expl 'loaded module' compadd -a mods\n\
         }}\n\n\
         _modkit_kernels() {{\n\
         \x20   local root=$(_modkit_dir root) expl\n\
         \x20   local -a kernels\n\
         \x20   kernels=($root/lib/modules/*(N/:t))\n\
         \x20   _wanted kernels expl 'kernel version' compadd -a kernels\n\
         }}\n\n\
         _modkit_module_or_file() {{\n\
         \x20   if [[ $PREFIX == */* ]]; then _files -g \"*.ko*\"; else _modkit_modules; fi\n\
         }}\n\n",
        sh_quote(AWK_DEP),
        sh_quote(AWK_BUILTIN),
        sh_quote(AWK_ALIAS),
        sh_quote(AWK_LOADED)
    );
    for (spec, opts) in tools {
        let id = spec.name;
        if !spec.loaded_with.is_empty() {
            let pats: Vec<String> = spec
                .loaded_with
                .iter()
                .map(|o| o.to_string())
                .chain(
                    spec.loaded_with
                        .iter()
                        .filter(|o| !o.starts_with("--"))
                        .map(|o| format!("-[^-]*{}*", &o[1..])),
                )
                .collect();
            let _ = write!(
                s,
                "_modkit_{id}_operands() {{\n\
                 \x20   if ((${{words[(I)({})]}})); then _modkit_loaded; else _modkit_modules; fi\n\
                 }}\n\n",
                pats.join("|")
            );
        }
        let _ = writeln!(s, "_modkit_{id}() {{");
        let (main, main_opts) = (&opts[0].0, &opts[0].1);
        let mut specs = zsh_specs(spec, main_opts);
        if opts.len() == 1 {
            specs.extend(zsh_operand(spec, main.operands));
            let _ = writeln!(
                s,
                "    _arguments -s -S \\\n        {}\n}}\n",
                specs.join(" \\\n        ")
            );
            continue;
        }
        let commands: Vec<&str> = opts.iter().filter_map(|(g, _)| g.command).collect();
        specs.push(sh_quote(&format!("1:command:({})", commands.join(" "))));
        specs.push(sh_quote("*::arg:->command"));
        let _ = writeln!(
            s,
            "    local curcontext=$curcontext state line\n    typeset -A opt_args\n\
             \x20   _arguments -S \\\n        {}\n    [[ $state == command ]] || return\n    case $words[1] in",
            specs.join(" \\\n        ")
        );
        for (group, o) in &opts[1..] {
            let mut specs = zsh_specs(spec, o);
            specs.extend(zsh_operand(spec, group.operands));
            if specs.is_empty() {
                continue;
            }
            let _ = writeln!(
                s,
                "        {}) _arguments -s -S \\\n            {} ;;",
                group.command.unwrap_or_default(),
                specs.join(" \\\n            ")
            );
        }
        s.push_str("    esac\n}\n\n");
    }
    let _ = write!(
        s,
        "_modkit() {{\n\
         \x20   local expl\n\
         \x20   if [[ $service == modkit ]]; then\n\
         \x20       if ((CURRENT == 2)); then\n\
         \x20           _wanted tools expl tool compadd -- -h --help -V --version {}\n\
         \x20           return\n\
         \x20       fi\n\
         \x20       shift words\n\
         \x20       ((CURRENT--))\n\
         \x20       service=$words[1]\n\
         \x20   fi\n\
         \x20   # modkit's own tools are installed as modkit-TOOL\n\
         \x20   service=${{service#modkit-}}\n\
         \x20   (($+functions[_modkit_$service])) && _modkit_$service\n\
         }}\n\n\
         if [[ $funcstack[1] == _modkit ]]; then\n\
         \x20   _modkit \"$@\"\n\
         else\n\
         \x20   compdef _modkit modkit {}\n\
         fi\n",
        names.join(" "),
        commands.join(" ")
    );
    s
}

// ---------------------------------------------------------------- fish

fn fish_arg(spec: &ToolSpec, o: &Opt) -> String {
    let id = spec.name;
    if o.has_arg != HasArg::Required {
        // no argument, or an optional one (fish has none: the option alone)
        return String::new();
    }
    match o.arg {
        Arg::File => " -r -F".into(),
        Arg::Dir => " -x -a '(__fish_complete_directories)'".into(),
        Arg::Kernel => format!(" -x -a '(__modkit_{id}_kernels)'"),
        Arg::Values(v) => format!(" -x -a {}", fish_quote(&v.join(" "))),
        Arg::List(v) => format!(
            " -x -a {}",
            fish_quote(&format!("(__fish_append , {})", v.join(" ")))
        ),
        Arg::Loaded => format!(" -x -a '(__modkit_{id}_loaded)'"),
        Arg::Modules => format!(" -x -a '(__modkit_{id}_modules)'"),
        // a module name, or a file name (fish offers files beside them)
        Arg::ModuleOrFile => format!(" -r -F -a '(__modkit_{id}_modules)'"),
        Arg::ModuleFile => " -r -F".into(),
        Arg::Text => " -x".into(),
    }
}

/// The fish completion of one tool.
pub(crate) fn fish(spec: &ToolSpec, opts: &Options) -> String {
    let id = spec.name;
    let cmd = super::command(id);
    let mut s = format!("# fish completion for {cmd} (modkit): {HEADER}.\n\n");
    if uses(opts, spec, &[Arg::Modules, Arg::ModuleOrFile, Arg::Kernel]) {
        let _ = write!(
            s,
            "# the root (with 'root') or module directory the command line names\n\
             # (fish's $version is its own: the kernel's is $kver)\n\
             function __modkit_{id}_dir\n\
             \x20   set -l root ''\n\
             \x20   set -l kver (uname -r)\n\
             \x20   set -l tokens (commandline -opc)\n\
             \x20   set -l n (count $tokens)\n\
             \x20   set -l i 2\n\
             \x20   while test $i -le $n\n\
             \x20       set -l w $tokens[$i]\n\
             \x20       set -l next ''\n\
             \x20       if test $i -lt $n\n\
             \x20           set next $tokens[(math $i + 1)]\n\
             \x20       end\n\
             \x20       switch $w\n"
        );
        for (opts_, var) in [(spec.root_opts, "root"), (spec.version_opts, "kver")] {
            if opts_.is_empty() {
                continue;
            }
            let quoted: Vec<String> = opts_.iter().map(|o| fish_quote(o)).collect();
            let _ = writeln!(
                s,
                "            case {}\n                set {var} $next\n                set i (math $i + 1)",
                quoted.join(" ")
            );
            for o in opts_.iter() {
                if o.starts_with("--") {
                    let _ = writeln!(
                        s,
                        "            case {}\n                set {var} (string replace -- {} '' $w)",
                        fish_quote(&format!("{o}=*")),
                        fish_quote(&format!("{o}="))
                    );
                } else {
                    let _ = writeln!(
                        s,
                        "            case {}\n                set {var} (string sub -s 3 -- $w)",
                        fish_quote(&format!("{o}?*"))
                    );
                }
            }
        }
        let _ = write!(
            s,
            "        end\n        set i (math $i + 1)\n    end\n\
             \x20   if test \"$argv[1]\" = root\n        echo $root\n    else\n        echo $root/lib/modules/$kver\n    end\nend\n\n\
             function __modkit_{id}_modules\n\
             \x20   set -l dir (__modkit_{id}_dir)\n\
             \x20   awk -F: {} $dir/modules.dep 2>/dev/null\n\
             \x20   awk {} $dir/modules.builtin 2>/dev/null\n\
             \x20   awk {} $dir/modules.alias 2>/dev/null\nend\n\n\
             function __modkit_{id}_kernels\n\
             \x20   set -l root (__modkit_{id}_dir root)\n\
             \x20   command ls -1 $root/lib/modules 2>/dev/null\nend\n\n",
            fish_quote(AWK_DEP),
            fish_quote(AWK_BUILTIN),
            fish_quote(AWK_ALIAS)
        );
    }
    if uses(opts, spec, &[Arg::Loaded]) {
        let _ = write!(
            s,
            "function __modkit_{id}_loaded\n    awk {} /proc/modules 2>/dev/null\nend\n\n",
            fish_quote(AWK_LOADED)
        );
    }
    let files = opts.iter().any(|(g, _)| {
        matches!(
            g.operands,
            Arg::ModuleFile | Arg::ModuleOrFile | Arg::Kernel
        )
    });
    if !files {
        let _ = writeln!(s, "complete -c {cmd} -f");
    }
    let multi = opts.len() > 1;
    for (group, o) in opts {
        let cond = match (multi, group.command) {
            (false, _) => String::new(),
            (true, None) => " -n __fish_use_subcommand".into(),
            (true, Some(c)) => format!(
                " -n {}",
                fish_quote(&format!("__fish_seen_subcommand_from {c}"))
            ),
        };
        for opt in o {
            let desc = if opt.summary.is_empty() {
                String::new()
            } else {
                format!(" -d {}", fish_quote(&opt.summary))
            };
            let arg = fish_arg(spec, opt);
            let mut first = true;
            let mut longs = opt.longs.iter();
            if let Some(c) = opt.short {
                let l = longs.next().map(|l| format!(" -l {l}")).unwrap_or_default();
                let _ = writeln!(s, "complete -c {cmd}{cond} -s {c}{l}{arg}{desc}");
                first = false;
            }
            for l in longs {
                let _ = writeln!(s, "complete -c {cmd}{cond} -l {l}{arg}{desc}");
                first = false;
            }
            debug_assert!(!first);
        }
        let operands = match group.operands {
            Arg::Text => None,
            Arg::Values(v) => Some(fish_quote(&v.join(" "))),
            Arg::Kernel => Some(format!("'(__modkit_{id}_kernels)'")),
            Arg::Modules | Arg::ModuleOrFile => Some(format!("'(__modkit_{id}_modules)'")),
            Arg::Loaded => Some(format!("'(__modkit_{id}_loaded)'")),
            _ => None,
        };
        let Some(operands) = operands else { continue };
        if spec.loaded_with.is_empty() {
            let _ = writeln!(s, "complete -c {cmd}{cond} -a {operands}");
            continue;
        }
        let mut seen = String::from("__fish_seen_argument");
        for o in spec.loaded_with {
            match o.strip_prefix("--") {
                Some(l) => seen.push_str(&format!(" -l {l}")),
                None => seen.push_str(&format!(" -s {}", &o[1..])),
            }
        }
        let _ = writeln!(
            s,
            "complete -c {id} -n {} -a '(__modkit_{id}_loaded)'",
            fish_quote(&seen)
        );
        let _ = writeln!(
            s,
            "complete -c {cmd} -n {} -a {operands}",
            fish_quote(&format!("not {seen}"))
        );
    }
    s
}

/// The fish completion of `modkit` itself.
pub(crate) fn fish_modkit(tools: &[&str]) -> String {
    format!(
        "# fish completion for modkit: {HEADER}.\n\n\
         complete -c modkit -f\n\
         complete -c modkit -n __fish_use_subcommand -s h -l help -d 'Show the tools'\n\
         complete -c modkit -n __fish_use_subcommand -s V -l version -d 'Show the version'\n\
         complete -c modkit -n __fish_use_subcommand -a {}\n\
         # a tool's own completions, modkit's own tools' under modkit-TOOL\n\
         function __modkit_tool_complete\n\
         \x20   set -l words (commandline -opc)\n\
         \x20   set -l cur (commandline -ct)\n\
         \x20   set -l command $words[2]\n\
         \x20   contains -- $command {}; and set command modkit-$command\n\
         \x20   set -l line (string join ' ' -- (string escape -- $command $words[3..-1]))\n\
         \x20   complete -C \"$line $cur\"\n\
         end\n\
         complete -c modkit -n 'not __fish_use_subcommand' -a '(__modkit_tool_complete)'\n",
        fish_quote(&tools.join(" ")),
        own_tools(tools).join(" ")
    )
}

impl Opt {
    /// What the argument is called in zsh's messages.
    fn arg_name(&self) -> &'static str {
        match self.arg {
            Arg::File => "file",
            Arg::Dir => "directory",
            Arg::Kernel => "kernel version",
            Arg::Values(_) | Arg::List(_) => "value",
            Arg::Modules | Arg::Loaded => "module",
            Arg::ModuleFile | Arg::ModuleOrFile => "module file",
            Arg::Text => "argument",
        }
    }
}
