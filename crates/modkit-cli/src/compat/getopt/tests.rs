//! The getopt goldens of `tests/golden/getopt/` run through [`Getopt`], and
//! the API around them.
//!
//! `cases.txt` holds the inputs, `tables.txt` the option tables (written
//! from the tools' own constants by [`tables_file_is_current`]), and
//! `expected.txt` what glibc 2.41's `getopt_long` did with them, made by
//! `gen.c` (see the README there).

use super::*;

const CASES: &str = include_str!("../../../tests/golden/getopt/cases.txt");
const TABLES: &str = include_str!("../../../tests/golden/getopt/tables.txt");
const EXPECTED: &str = include_str!("../../../tests/golden/getopt/expected.txt");

/// kmod's top-level command (`kmod [-h|-V] COMMAND`): modkit's own front
/// in `main.rs` does not parse with getopt, so this table is the tests'.
/// Corner cases no tool's table has: identical candidates, an optional
/// long option, a `val` beyond `char`.
const CUSTOM: &[LongOpt] = &[
    LongOpt::new("verbose", HasArg::No, 'v' as i32),
    LongOpt::new("verbatim", HasArg::No, 'v' as i32),
    LongOpt::new("vex", HasArg::No, 'x' as i32),
    LongOpt::new("opt", HasArg::Optional, 'o' as i32),
    LongOpt::new("req", HasArg::Required, 'r' as i32),
    LongOpt::new("request", HasArg::Required, 'r' as i32),
    LongOpt::new("reqopt", HasArg::Optional, 'r' as i32),
    LongOpt::new("long-only", HasArg::No, 300),
];

/// A table of `tables.txt`: its name, the short options, and the long
/// options (`None`: plain `getopt()`).
struct Table {
    name: &'static str,
    short: &'static str,
    long: Option<&'static [LongOpt]>,
}

/// Every table the goldens use: the tools' own first, then the tests'.
const ALL_TABLES: &[Table] = &[
    Table {
        name: "depmod",
        short: crate::depmod::SHORT_OPTS,
        long: Some(crate::depmod::LONG_OPTS),
    },
    Table {
        name: "dmesg",
        short: crate::dmesg::options::SHORT_OPTS,
        long: Some(crate::dmesg::options::LONG_OPTS),
    },
    Table {
        name: "insmod",
        short: crate::insmod::SHORT_OPTS,
        long: Some(crate::insmod::LONG_OPTS),
    },
    Table {
        name: "lsmod",
        short: crate::lsmod::SHORT_OPTS,
        long: Some(crate::lsmod::LONG_OPTS),
    },
    Table {
        name: "modinfo",
        short: crate::modinfo::SHORT_OPTS,
        long: Some(crate::modinfo::LONG_OPTS),
    },
    Table {
        name: "modprobe",
        short: crate::modprobe::SHORT_OPTS,
        long: Some(crate::modprobe::LONG_OPTS),
    },
    Table {
        name: "printk",
        short: crate::printk::SHORT_OPTS,
        long: Some(crate::printk::LONG_OPTS),
    },
    Table {
        name: "rmmod",
        short: crate::rmmod::SHORT_OPTS,
        long: Some(crate::rmmod::LONG_OPTS),
    },
    Table {
        name: "kmod",
        short: crate::kmod::SHORT_OPTS,
        long: Some(crate::kmod::LONG_OPTS),
    },
    Table {
        name: "static-nodes",
        short: crate::kmod::STATIC_NODES_SHORT_OPTS,
        long: Some(crate::kmod::STATIC_NODES_LONG_OPTS),
    },
    Table {
        name: "custom",
        short: "vxo::r:",
        long: Some(CUSTOM),
    },
    Table {
        name: "empty",
        short: "vxo::r:",
        long: Some(&[]),
    },
    Table {
        name: "none",
        short: "vxo::r:",
        long: None,
    },
];

fn table(name: &str) -> &'static Table {
    ALL_TABLES
        .iter()
        .find(|t| t.name == name)
        .unwrap_or_else(|| panic!("no table {name}"))
}

/// `tables.txt` as the tables are now.
fn render_tables() -> String {
    let mut s = String::from(
        "# The long option tables the getopt goldens use: each tool's own\n\
         # (SHORT_OPTS and LONG_OPTS of crates/modkit-cli/src/TOOL.rs), then the\n\
         # test-only ones of crates/modkit-cli/src/compat/getopt/tests.rs.\n\
         # Written by that test (MODKIT_BLESS=1, see README.md), read by gen.c.\n",
    );
    for t in ALL_TABLES {
        s.push_str(&format!("\ntable {}\nshort {}\n", t.name, t.short));
        let Some(long) = t.long else {
            s.push_str("longopts null\n");
            continue;
        };
        for o in long {
            let has_arg = match o.has_arg {
                HasArg::No => "no",
                HasArg::Required => "required",
                HasArg::Optional => "optional",
            };
            s.push_str(&format!("long {} {has_arg} {}\n", o.name, o.val));
        }
    }
    s
}

/// gen.c's escaping: `\`, `<`, `>` and bytes outside 0x20..0x7e as `\xHH`.
fn escape(bytes: &[u8]) -> String {
    let mut s = String::new();
    for &b in bytes {
        if (0x20..=0x7e).contains(&b) && !b"\\<>".contains(&b) {
            s.push(char::from(b));
        } else {
            s.push_str(&format!("\\x{b:02x}"));
        }
    }
    s
}

fn unescape(s: &str) -> Vec<u8> {
    let mut out = Vec::new();
    let mut rest = s.as_bytes();
    while let Some((&b, tail)) = rest.split_first() {
        if b == b'\\' {
            let hex = tail
                .strip_prefix(b"x")
                .and_then(|h| h.get(..2))
                .and_then(|h| u8::from_str_radix(std::str::from_utf8(h).ok()?, 16).ok())
                .unwrap_or_else(|| panic!("bad escape in {s:?}"));
            out.push(hex);
            rest = &tail[3..];
        } else {
            out.push(b);
            rest = tail;
        }
    }
    out
}

/// A case of `cases.txt` or `expected.txt` (which adds `lines`).
#[derive(Debug, PartialEq)]
struct Case {
    name: String,
    table: String,
    optstring: String,
    posixly_correct: bool,
    opterr: bool,
    argv: Vec<Vec<u8>>,
    /// What glibc did: `err LINE` (its stderr) and `out LINE` (what it
    /// returned) lines, escaped.
    lines: Vec<String>,
}

fn parse_argv(text: &str) -> Vec<Vec<u8>> {
    let mut argv = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        let inner = rest
            .strip_prefix('<')
            .unwrap_or_else(|| panic!("argument not in <...>: {text}"));
        let end = inner
            .find('>')
            .unwrap_or_else(|| panic!("unterminated argument: {text}"));
        argv.push(unescape(&inner[..end]));
        rest = &inner[end + 1..];
        rest = rest.strip_prefix(' ').unwrap_or(rest);
    }
    argv
}

fn parse_cases(file: &str, text: &str) -> Vec<Case> {
    let mut cases: Vec<Case> = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (key, value) = line.split_once(' ').unwrap_or((line, ""));
        if key == "case" {
            cases.push(Case {
                name: value.to_string(),
                table: String::new(),
                optstring: String::new(),
                posixly_correct: false,
                opterr: true,
                argv: Vec::new(),
                lines: Vec::new(),
            });
            continue;
        }
        let Some(case) = cases.last_mut() else {
            panic!("{file}:{}: \"case NAME\" must come first", n + 1);
        };
        match (key, value) {
            ("table", _) => case.table = value.to_string(),
            ("optstring", _) => case.optstring = value.to_string(),
            ("posixly_correct", "1") => case.posixly_correct = true,
            ("opterr", "0") => case.opterr = false,
            ("argv", _) => case.argv = parse_argv(value),
            ("err" | "out", _) => case.lines.push(line.to_string()),
            _ => panic!("{file}:{}: unknown line {line:?}", n + 1),
        }
    }
    cases
}

/// Runs a case, producing the lines gen.c prints for it.
fn transcript(case: &Case) -> Vec<String> {
    let t = table(&case.table);
    let args: Vec<OsString> = case
        .argv
        .iter()
        .map(|a| OsString::from_vec(a.clone()))
        .collect();
    let g = match t.long {
        Some(long) => Getopt::new(args, &case.optstring, long),
        None => Getopt::new_short(args, &case.optstring),
    };
    let mut g = g.posixly_correct(case.posixly_correct).opterr(case.opterr);
    let mut lines = Vec::new();
    while let Some(item) = g.next() {
        let (val, arg, idx, optopt) = match item {
            Ok(opt) => (opt.val, opt.arg, opt.long_index, None),
            Err(e) => {
                let line = e.full_message();
                if let Some(line) = line.strip_suffix(b"\n") {
                    lines.push(format!("err {}", escape(line)));
                }
                (i32::from(e.code), None, None, Some(e.optopt))
            }
        };
        let arg = arg.map_or("-".to_string(), |a| format!("<{}>", escape(a.as_bytes())));
        let idx = idx.map_or(-1, |i| i as i64);
        let mut line = format!("out ret={val} arg={arg} idx={idx} optind={}", g.optind());
        if let Some(optopt) = optopt {
            line.push_str(&format!(" optopt={optopt}"));
        }
        lines.push(line);
    }
    let rest: String = g.args()[g.optind()..]
        .iter()
        .map(|a| format!("<{}>", escape(a.as_bytes())))
        .collect();
    lines.push(format!("out end optind={} rest={rest}", g.optind()));
    lines
}

#[test]
fn tables_file_is_current() {
    let now = render_tables();
    if now == TABLES {
        return;
    }
    if std::env::var_os("MODKIT_BLESS").is_some() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/golden/getopt/tables.txt"
        );
        std::fs::write(path, &now).expect("write tables.txt");
        return;
    }
    panic!(
        "tests/golden/getopt/tables.txt differs from the tools' option tables: \
         rerun with MODKIT_BLESS=1, then regenerate expected.txt with gen.c \
         (tests/golden/getopt/README.md)"
    );
}

/// The reference tools (Debian trixie's kmod 34.2 and util-linux 2.41) run
/// with glibc 2.41.
const REFERENCE_GLIBC: &str = "2.41";

#[test]
fn expected_file_holds_the_cases() {
    let header = EXPECTED.lines().next().unwrap_or("");
    assert!(
        header.ends_with(&format!(" with glibc {REFERENCE_GLIBC}; do not edit.")),
        "expected.txt was not made with glibc {REFERENCE_GLIBC}: {header}"
    );
    let mut inputs = parse_cases("cases.txt", CASES);
    let mut expected = parse_cases("expected.txt", EXPECTED);
    assert!(
        inputs.iter().all(|c| c.lines.is_empty()),
        "cases.txt holds results"
    );
    for c in &mut expected {
        assert!(
            !c.lines.is_empty(),
            "expected.txt: case {} has no results",
            c.name
        );
        c.lines.clear();
    }
    inputs.iter_mut().for_each(|c| c.lines.clear());
    assert!(
        inputs == expected,
        "expected.txt does not hold the cases of cases.txt: regenerate it with gen.c \
         (tests/golden/getopt/README.md)"
    );
}

#[test]
fn getopt_case_count() {
    let cases = parse_cases("cases.txt", CASES);
    // 122 cases came with the first getopt, 16 with the tools' tables.
    assert!(cases.len() >= 138, "{} cases", cases.len());
    let mut names: Vec<_> = cases.iter().map(|c| c.name.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), cases.len(), "duplicate case names");
    for t in ALL_TABLES {
        assert!(
            cases.iter().any(|c| c.table == t.name),
            "no case uses table {}",
            t.name
        );
    }
}

/// A case's optstring is its table's short options, behind at most the
/// ordering (`+`, `-`) and silence (`:`) prefixes: the goldens follow the
/// tools' optstrings as they change.
#[test]
fn cases_use_their_tables_optstring() {
    for case in parse_cases("cases.txt", CASES) {
        let short = table(&case.table).short;
        let prefix = case.optstring.strip_suffix(short);
        assert!(
            prefix.is_some_and(|p| p.chars().all(|c| "+-:".contains(c))),
            "case {}: optstring {:?} is not table {}'s {short:?} with a prefix",
            case.name,
            case.optstring,
            case.table
        );
    }
}

#[test]
fn getopt_matches_glibc() {
    let cases = parse_cases("expected.txt", EXPECTED);
    assert!(!cases.is_empty());
    let mut failures = Vec::new();
    for case in &cases {
        let got = transcript(case);
        if got != case.lines {
            let show = |v: &[String]| v.iter().map(|l| format!("    {l}\n")).collect::<String>();
            failures.push(format!(
                "{}:\n  want:\n{}  got:\n{}",
                case.name,
                show(&case.lines),
                show(&got)
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn getopt_escaping_round_trips() {
    let bytes: Vec<u8> = (0..=255).collect();
    assert_eq!(unescape(&escape(&bytes)), bytes);
    assert_eq!(escape(b"a<b>\\ \xff"), "a\\x3cb\\x3e\\x5c \\xff");
}

#[test]
fn getopt_api() {
    let args = ["modinfo", "x", "--fie=vermagic", "-0", "y"].map(OsString::from);
    let modinfo = crate::modinfo::LONG_OPTS;
    let mut g = Getopt::new(args.to_vec(), "adlpn0mF:k:b:Vh", modinfo);
    assert_eq!(
        g.next(),
        Some(Ok(Opt {
            val: 'F' as i32,
            arg: Some("vermagic".into()),
            long_index: Some(7),
        }))
    );
    assert_eq!(
        g.by_ref().map(|o| o.unwrap().val).collect::<Vec<_>>(),
        ['0' as i32]
    );
    assert_eq!(g.next(), None);
    assert_eq!(g.remaining(), ["x", "y"].map(OsString::from));

    let args = ["/usr/sbin/modinfo", "--author=1"].map(OsString::from);
    let e = Getopt::new(args.to_vec(), "adlpn0mF:k:b:Vh", modinfo)
        .next()
        .unwrap()
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::UnexpectedArgument);
    assert_eq!(e.message, "option '--author' doesn't allow an argument");
    assert_eq!(e.to_string(), "option '--author' doesn't allow an argument");
    assert_eq!(
        e.full_message(),
        b"/usr/sbin/modinfo: option '--author' doesn't allow an argument\n"
    );
}

#[test]
fn getopt_program_name() {
    assert_eq!(program_name(OsStr::new("/usr/sbin/modinfo")), "modinfo");
    assert_eq!(program_name(OsStr::new("dmesg")), "dmesg");
    assert_eq!(program_name(OsStr::new("./x/")), "");
}

#[test]
fn getopt_posixly_correct_env_default() {
    // Without an override, the environment decides.
    let g = Getopt::new(vec![OsString::from("p")], "a", &[]);
    assert_eq!(
        g.posixly_correct,
        std::env::var_os("POSIXLY_CORRECT").is_some()
    );
}
