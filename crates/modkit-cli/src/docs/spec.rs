//! What the documentation generators know of each tool beyond its option
//! table: its page, which options take what kind of argument, and what
//! its operands are. A tool of `main.rs`'s TOOLS without an entry here
//! fails the tests (`docs::tests`), so a new tool gets a page and
//! completions before it is merged.

use crate::compat::getopt::{HasArg, LongOpt};

/// What an option's argument or an operand is, for the completions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Arg {
    /// Anything: nothing to offer.
    Text,
    /// A file name.
    File,
    /// A directory name.
    Dir,
    /// A kernel version: the directories of `ROOT/lib/modules`.
    Kernel,
    /// One of these words.
    Values(&'static [&'static str]),
    /// A comma-separated list of these words.
    List(&'static [&'static str]),
    /// A module name or alias of the module directory in use.
    Modules,
    /// A loaded module (`/proc/modules`).
    Loaded,
    /// A module file (`*.ko*`).
    ModuleFile,
    /// A module name, or a module file when the word has a `/`.
    ModuleOrFile,
}

/// One option table of a tool and where its page documents it.
pub(crate) struct Group {
    /// The command of the tool the table belongs to (`kmod static-nodes`),
    /// or `None` for the tool's own options.
    pub command: Option<&'static str>,
    /// The page whose option terms describe this table's options.
    pub page: &'static str,
    /// The headings of the page's sections that document this table.
    pub sections: &'static [&'static str],
    /// getopt's option string.
    pub short: &'static str,
    /// getopt's long options.
    pub long: &'static [LongOpt],
    /// Options the tool takes before getopt sees them (modprobe's
    /// `--format`).
    pub extra: &'static [LongOpt],
    /// Options of the tables that the tool rejects all the same (a usage
    /// error): neither documented nor offered.
    pub rejected: &'static [&'static str],
    /// The operands after the options.
    pub operands: Arg,
}

/// One tool: its page and its tables.
pub(crate) struct ToolSpec {
    /// The tool's name (as in TOOLS).
    pub name: &'static str,
    /// Its manual section.
    pub section: &'static str,
    /// Its tables: the tool's own first, then its commands'.
    pub groups: &'static [Group],
    /// The argument of each option that takes one, by any of its names
    /// (without dashes).
    pub args: &'static [(&'static str, Arg)],
    /// Options that name the root directory of `lib/modules`, and the
    /// kernel version, for module names and kernel versions.
    pub root_opts: &'static [&'static str],
    /// See `root_opts`.
    pub version_opts: &'static [&'static str],
    /// With one of these options, operands are loaded modules
    /// (`modprobe -r`).
    pub loaded_with: &'static [&'static str],
}

const MAIN: &[&str] = &["OPTIONS", "MODKIT OPTIONS"];
const NONE: &[LongOpt] = &[];
const FORMAT: &[LongOpt] = &[LongOpt::new(
    crate::modprobe::FORMAT_OPTION_NAME,
    HasArg::Required,
    0,
)];
const JSON: &[LongOpt] = &[LongOpt::new(
    crate::modinfo::JSON_OPTION_NAME,
    HasArg::No,
    0,
)];
const NO_CACHE: &[LongOpt] = &[LongOpt::new(
    crate::depmod::NO_CACHE_OPTION_NAME,
    HasArg::No,
    0,
)];
const LEVELS: &[&str] = &[
    "emerg", "alert", "crit", "err", "warn", "notice", "info", "debug",
];
const FACILITIES: &[&str] = &[
    "kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp", "cron", "authpriv",
    "ftp", "res0", "res1", "res2", "res3", "local0", "local1", "local2", "local3", "local4",
    "local5", "local6", "local7",
];
/// The commands of `kmod` (as `kmod help` lists them).
pub(crate) const KMOD_COMMANDS: &[&str] = &["help", "list", "static-nodes"];
/// The commands of `kprobe`.
pub(crate) const KPROBE_COMMANDS: &[&str] = crate::kprobe::SUBCOMMANDS;
/// The names `printk` knows, long and short.
pub(crate) const PRINTK_NAMES: &[&str] = &[
    "console_loglevel",
    "console",
    "default_message_loglevel",
    "default_message",
    "minimum_console_loglevel",
    "minimum_console",
    "default_console_loglevel",
    "default_console",
    "printk_devkmsg",
    "devkmsg",
    "dmesg_restrict",
    "kptr_restrict",
];

const fn main_group(
    short: &'static str,
    long: &'static [LongOpt],
    page: &'static str,
    operands: Arg,
) -> Group {
    Group {
        command: None,
        page,
        sections: MAIN,
        short,
        long,
        extra: NONE,
        rejected: &[],
        operands,
    }
}

/// Every tool the generators know.
pub(crate) const SPECS: &[ToolSpec] = &[
    ToolSpec {
        name: "audit",
        section: "8",
        groups: &[main_group(
            crate::audit::SHORT_OPTS,
            crate::audit::LONG_OPTS,
            "audit",
            Arg::Text,
        )],
        args: &[("root", Arg::Dir)],
        root_opts: &[],
        version_opts: &[],
        loaded_with: &[],
    },
    ToolSpec {
        name: "check",
        section: "8",
        groups: &[main_group(
            crate::check::SHORT_OPTS,
            crate::check::LONG_OPTS,
            "check",
            Arg::ModuleOrFile,
        )],
        args: &[("k", Arg::Kernel), ("b", Arg::Dir), ("s", Arg::File)],
        root_opts: &["-b", "--basedir"],
        version_opts: &["-k", "--set-version"],
        loaded_with: &[],
    },
    ToolSpec {
        name: "depmod",
        section: "8",
        groups: &[Group {
            extra: NO_CACHE,
            ..main_group(
                crate::depmod::SHORT_OPTS,
                crate::depmod::LONG_OPTS,
                "depmod",
                Arg::Kernel,
            )
        }],
        args: &[
            ("b", Arg::Dir),
            ("m", Arg::Dir),
            ("o", Arg::Dir),
            ("C", Arg::File),
            ("E", Arg::File),
            ("F", Arg::File),
            ("P", Arg::Text),
            ("modkit-cache", Arg::File),
        ],
        root_opts: &["-b", "--basedir"],
        version_opts: &[],
        loaded_with: &[],
    },
    ToolSpec {
        name: "dmesg",
        section: "1",
        groups: &[Group {
            // util-linux 2.41's option string has an `i` that its dmesg
            // handles nowhere: `dmesg -i` is a usage error there and here
            rejected: &["-i"],
            ..main_group(
                crate::dmesg::options::SHORT_OPTS,
                crate::dmesg::options::LONG_OPTS,
                "dmesg",
                Arg::Text,
            )
        }],
        args: &[
            ("F", Arg::File),
            ("K", Arg::File),
            ("f", Arg::List(FACILITIES)),
            ("l", Arg::List(LEVELS)),
            ("n", Arg::Values(LEVELS)),
            ("s", Arg::Text),
            ("L", Arg::Values(&["auto", "always", "never"])),
            (
                "time-format",
                Arg::Values(&["delta", "reltime", "ctime", "notime", "iso", "raw"]),
            ),
            ("since", Arg::Text),
            ("until", Arg::Text),
        ],
        root_opts: &[],
        version_opts: &[],
        loaded_with: &[],
    },
    ToolSpec {
        name: "insmod",
        section: "8",
        groups: &[main_group(
            crate::insmod::SHORT_OPTS,
            crate::insmod::LONG_OPTS,
            "insmod",
            Arg::ModuleFile,
        )],
        args: &[],
        root_opts: &[],
        version_opts: &[],
        loaded_with: &[],
    },
    ToolSpec {
        name: "kallsyms",
        section: "8",
        groups: &[main_group(
            crate::kallsyms::SHORT_OPTS,
            crate::kallsyms::LONG_OPTS,
            "kallsyms",
            Arg::Text,
        )],
        args: &[("m", Arg::File), ("t", Arg::Text), ("M", Arg::Loaded)],
        root_opts: &[],
        version_opts: &[],
        loaded_with: &[],
    },
    ToolSpec {
        name: "kmod",
        section: "8",
        groups: &[
            Group {
                command: None,
                page: "kmod",
                sections: &["OPTIONS"],
                short: crate::kmod::SHORT_OPTS,
                long: crate::kmod::LONG_OPTS,
                extra: NONE,
                rejected: &[],
                operands: Arg::Values(KMOD_COMMANDS),
            },
            Group {
                command: Some("list"),
                page: "lsmod",
                sections: MAIN,
                short: crate::lsmod::SHORT_OPTS,
                long: crate::lsmod::LONG_OPTS,
                extra: NONE,
                rejected: &[],
                operands: Arg::Text,
            },
            Group {
                command: Some("static-nodes"),
                page: "kmod",
                sections: &["STATIC-NODES OPTIONS"],
                short: crate::kmod::STATIC_NODES_SHORT_OPTS,
                long: crate::kmod::STATIC_NODES_LONG_OPTS,
                extra: NONE,
                rejected: &[],
                operands: Arg::Text,
            },
            Group {
                command: Some("help"),
                page: "kmod",
                sections: &[],
                short: "",
                long: NONE,
                extra: NONE,
                rejected: &[],
                operands: Arg::Text,
            },
        ],
        args: &[
            ("f", Arg::Values(&["human", "tmpfiles", "devname"])),
            ("o", Arg::File),
            ("tree", Arg::Values(&["text", "dot"])),
        ],
        root_opts: &[],
        version_opts: &[],
        loaded_with: &[],
    },
    ToolSpec {
        name: "lsmod",
        section: "8",
        groups: &[main_group(
            crate::lsmod::SHORT_OPTS,
            crate::lsmod::LONG_OPTS,
            "lsmod",
            Arg::Text,
        )],
        args: &[("tree", Arg::Values(&["text", "dot"]))],
        root_opts: &[],
        version_opts: &[],
        loaded_with: &[],
    },
    ToolSpec {
        name: "modinfo",
        section: "8",
        groups: &[Group {
            extra: JSON,
            ..main_group(
                crate::modinfo::SHORT_OPTS,
                crate::modinfo::LONG_OPTS,
                "modinfo",
                Arg::ModuleOrFile,
            )
        }],
        args: &[
            (
                "F",
                Arg::Values(&[
                    "alias",
                    "author",
                    "depends",
                    "description",
                    "filename",
                    "firmware",
                    "import_ns",
                    "intree",
                    "license",
                    "name",
                    "parm",
                    "parmtype",
                    "retpoline",
                    "sig_hashalgo",
                    "sig_id",
                    "signature",
                    "signer",
                    "sig_key",
                    "softdep",
                    "srcversion",
                    "vermagic",
                    "version",
                ]),
            ),
            ("k", Arg::Kernel),
            ("b", Arg::Dir),
        ],
        root_opts: &["-b", "--basedir"],
        version_opts: &["-k", "--set-version"],
        loaded_with: &[],
    },
    ToolSpec {
        name: "modprobe",
        section: "8",
        groups: &[Group {
            command: None,
            page: "modprobe",
            sections: MAIN,
            short: crate::modprobe::SHORT_OPTS,
            long: crate::modprobe::LONG_OPTS,
            extra: FORMAT,
            rejected: &[],
            operands: Arg::Modules,
        }],
        args: &[
            ("w", Arg::Text),
            ("C", Arg::File),
            ("d", Arg::Dir),
            ("S", Arg::Kernel),
            ("format", Arg::Values(&["json", "dot"])),
        ],
        root_opts: &["-d", "--dirname"],
        version_opts: &["-S", "--set-version"],
        loaded_with: &["-r", "--remove"],
    },
    ToolSpec {
        name: "klogd",
        section: "8",
        groups: &[main_group(
            crate::klogd::SHORT_OPTS,
            crate::klogd::LONG_OPTS,
            "klogd",
            Arg::Text,
        )],
        args: &[
            ("c", Arg::Values(&["1", "2", "3", "4", "5", "6", "7", "8"])),
            ("f", Arg::File),
            ("k", Arg::File),
            ("config", Arg::File),
            ("forward", Arg::Text),
            ("tls-ca", Arg::File),
            ("tls-cert", Arg::File),
            ("tls-key", Arg::File),
            ("buffer-size", Arg::Text),
            ("hostname", Arg::Text),
            ("state-dir", Arg::Dir),
            ("pid-file", Arg::File),
            ("rotate-size", Arg::Text),
            ("rotate-count", Arg::Text),
            ("sync", Arg::Values(&["batch", "never"])),
            ("rate-limit", Arg::Text),
            ("kmsg-file", Arg::File),
            ("boot-id-file", Arg::File),
            ("kallsyms", Arg::File),
            ("pstore-dir", Arg::Dir),
            ("pstore-archive", Arg::Dir),
        ],
        root_opts: &[],
        version_opts: &[],
        loaded_with: &[],
    },
    ToolSpec {
        name: "kprobe",
        section: "8",
        groups: &[main_group(
            crate::kprobe::SHORT_OPTS,
            crate::kprobe::LONG_OPTS,
            "kprobe",
            Arg::Values(KPROBE_COMMANDS),
        )],
        args: &[
            ("maxactive", Arg::Text),
            ("group", Arg::Text),
            ("count", Arg::Text),
            ("duration", Arg::Text),
            ("buffer-size", Arg::Text),
            ("probe", Arg::Text),
            ("ret-probe", Arg::Text),
            ("tracefs", Arg::Dir),
            ("debugfs", Arg::Dir),
        ],
        root_opts: &[],
        version_opts: &[],
        loaded_with: &[],
    },
    ToolSpec {
        name: "param",
        section: "8",
        groups: &[main_group(
            crate::param::SHORT_OPTS,
            crate::param::LONG_OPTS,
            "param",
            Arg::Loaded,
        )],
        args: &[
            ("b", Arg::Dir),
            ("k", Arg::Kernel),
            ("sys-module", Arg::Dir),
        ],
        root_opts: &["-b", "--basedir"],
        version_opts: &["-k", "--set-version"],
        loaded_with: &[],
    },
    ToolSpec {
        name: "printk",
        section: "8",
        groups: &[main_group(
            crate::printk::SHORT_OPTS,
            crate::printk::LONG_OPTS,
            "printk",
            Arg::Values(PRINTK_NAMES),
        )],
        args: &[("proc", Arg::Dir)],
        root_opts: &[],
        version_opts: &[],
        loaded_with: &[],
    },
    ToolSpec {
        name: "rmmod",
        section: "8",
        groups: &[main_group(
            crate::rmmod::SHORT_OPTS,
            crate::rmmod::LONG_OPTS,
            "rmmod",
            Arg::Loaded,
        )],
        args: &[],
        root_opts: &[],
        version_opts: &[],
        loaded_with: &[],
    },
    ToolSpec {
        name: "symbols",
        section: "8",
        groups: &[main_group(
            crate::symbols::SHORT_OPTS,
            crate::symbols::LONG_OPTS,
            "symbols",
            Arg::Text,
        )],
        args: &[
            ("s", Arg::File),
            ("k", Arg::Kernel),
            ("b", Arg::Dir),
            ("needed-by", Arg::ModuleOrFile),
            ("users", Arg::Text),
        ],
        root_opts: &["-b", "--basedir"],
        version_opts: &["-k", "--set-version"],
        loaded_with: &[],
    },
    ToolSpec {
        name: "taint",
        section: "8",
        groups: &[main_group(
            crate::taint::SHORT_OPTS,
            crate::taint::LONG_OPTS,
            "taint",
            Arg::Text,
        )],
        args: &[("root", Arg::Dir)],
        root_opts: &[],
        version_opts: &[],
        loaded_with: &[],
    },
];

/// An option of a table, as the generators use it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Opt {
    /// Its short form, if any.
    pub short: Option<char>,
    /// Its long forms (several for modprobe's `-i`).
    pub longs: Vec<String>,
    /// Whether it takes an argument.
    pub has_arg: HasArg,
    /// What it does (the first sentence of its page's description).
    pub summary: String,
    /// What its argument is.
    pub arg: Arg,
}

/// The short options of an option string, with whether each takes an
/// argument.
pub(crate) fn shorts(optstring: &str) -> Vec<(char, HasArg)> {
    let s = optstring.trim_start_matches(['+', '-', ':']);
    let chars: Vec<char> = s.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let colons = chars[i + 1..].iter().take_while(|&&c| c == ':').count();
        out.push((
            c,
            match colons {
                0 => HasArg::No,
                1 => HasArg::Required,
                _ => HasArg::Optional,
            },
        ));
        i += 1 + colons;
    }
    out
}

impl ToolSpec {
    /// The argument kind of option `name` (without dashes); `Text` when
    /// not listed.
    pub fn arg_of(&self, names: &[String]) -> Option<Arg> {
        names.iter().find_map(|n| {
            self.args
                .iter()
                .find(|(a, _)| *a == n.trim_start_matches('-'))
                .map(|(_, k)| *k)
        })
    }

    /// The options of `group`, grouped and described as the page's terms
    /// (`terms`: the terms of the group's page) group them; options of the
    /// table that no term names come last, each on its own, without a
    /// summary (the tests reject that).
    pub fn options(&self, group: &Group, terms: &[super::man::OptionTerm]) -> Vec<Opt> {
        let shorts: Vec<(char, HasArg)> = shorts(group.short)
            .into_iter()
            .filter(|(c, _)| !group.rejected.contains(&format!("-{c}").as_str()))
            .collect();
        let longs: Vec<&LongOpt> = group.long.iter().chain(group.extra).collect();
        let mut seen_short = Vec::new();
        let mut seen_long: Vec<&str> = Vec::new();
        let mut out = Vec::new();
        for term in terms
            .iter()
            .filter(|t| group.sections.contains(&t.section.as_str()))
        {
            let mut opt = Opt {
                short: None,
                longs: Vec::new(),
                has_arg: HasArg::No,
                summary: term.summary.clone(),
                arg: Arg::Text,
            };
            let mut has_arg = None;
            for name in &term.names {
                if let Some(l) = name.strip_prefix("--") {
                    if let Some(lo) = longs.iter().find(|o| o.name == l) {
                        opt.longs.push(l.to_string());
                        seen_long.push(lo.name);
                        has_arg.get_or_insert(lo.has_arg);
                    }
                } else if let Some(c) = name.strip_prefix('-').and_then(|c| c.chars().next()) {
                    if let Some(&(c, h)) = shorts.iter().find(|(s, _)| *s == c) {
                        opt.short.get_or_insert(c);
                        seen_short.push(c);
                        has_arg.get_or_insert(h);
                    }
                }
            }
            let Some(has_arg) = has_arg else { continue };
            opt.has_arg = has_arg;
            out.push(opt);
        }
        for &(c, h) in &shorts {
            if !seen_short.contains(&c) {
                out.push(Opt {
                    short: Some(c),
                    longs: Vec::new(),
                    has_arg: h,
                    summary: String::new(),
                    arg: Arg::Text,
                });
            }
        }
        for lo in longs {
            if !seen_long.contains(&lo.name) {
                out.push(Opt {
                    short: None,
                    longs: vec![lo.name.to_string()],
                    has_arg: lo.has_arg,
                    summary: String::new(),
                    arg: Arg::Text,
                });
            }
        }
        for opt in &mut out {
            let mut names: Vec<String> = opt.short.iter().map(|c| c.to_string()).collect();
            names.extend(opt.longs.iter().cloned());
            if opt.has_arg != HasArg::No {
                opt.arg = self.arg_of(&names).unwrap_or(Arg::Text);
            }
        }
        out
    }
}
