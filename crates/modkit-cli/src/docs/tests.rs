//! The pages and completions are current, complete and exact (see the
//! module's comment).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use modkit_testkit::{skip, Tier};

use super::command;
use super::completions::{self, names, Options};
use super::man::{is_option_name, Page};
use super::spec::{shorts, Group, ToolSpec, SPECS};

const CRATE: &str = env!("CARGO_MANIFEST_DIR");

fn man_dir() -> PathBuf {
    Path::new(CRATE).join("man")
}

fn completions_dir() -> PathBuf {
    Path::new(CRATE).join("completions")
}

fn tool_names() -> Vec<&'static str> {
    crate::TOOLS.iter().map(|t| t.name).collect()
}

fn spec(name: &str) -> &'static ToolSpec {
    SPECS
        .iter()
        .find(|s| s.name == name)
        .unwrap_or_else(|| panic!("tool '{name}' of TOOLS has no entry in src/docs/spec.rs (its option tables, page and completions)"))
}

fn page(name: &str) -> Page {
    let s = spec(name);
    let path = man_dir().join(format!("{}.{}.md", command(name), s.section));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "tool '{name}' has no man page source {}: {e}",
            path.display()
        )
    });
    let page = Page::parse(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_eq!(
        (page.name.as_str(), page.section.as_str()),
        (command(name), s.section),
        "{}",
        path.display()
    );
    page
}

/// Each tool's options, per group, as the generators see them.
fn options(spec: &'static ToolSpec) -> Options<'static> {
    spec.groups
        .iter()
        .map(|g| (g, spec.options(g, &page(g.page).option_terms())))
        .collect()
}

/// The option names a group's tables accept: `-x` and `--long`.
fn table_names(g: &Group) -> BTreeSet<String> {
    let mut v: BTreeSet<String> = shorts(g.short)
        .iter()
        .map(|(c, _)| format!("-{c}"))
        .collect();
    v.extend(
        g.long
            .iter()
            .chain(g.extra)
            .map(|o| format!("--{}", o.name)),
    );
    v.retain(|o| !g.rejected.contains(&o.as_str()));
    v
}

/// Every generated file: its path under the crate, and its contents.
fn generate() -> Vec<(PathBuf, String)> {
    let mut out = Vec::new();
    let version = format!("modkit {}", crate::version::VERSION);
    let tools = tool_names();
    let mut all = Vec::new();
    for name in &tools {
        let s = spec(name);
        let cmd = command(name);
        out.push((
            PathBuf::from(format!("man/{cmd}.{}", s.section)),
            page(name).roff(&version),
        ));
        let opts = options(s);
        out.push((
            PathBuf::from(format!("completions/bash/{cmd}")),
            completions::bash(s, &opts),
        ));
        out.push((
            PathBuf::from(format!("completions/fish/{cmd}.fish")),
            completions::fish(s, &opts),
        ));
        all.push((s, opts));
    }
    out.push((
        PathBuf::from("completions/bash/modkit"),
        completions::bash_modkit(&tools),
    ));
    out.push((
        PathBuf::from("completions/fish/modkit.fish"),
        completions::fish_modkit(&tools),
    ));
    out.push((
        PathBuf::from("completions/zsh/_modkit"),
        completions::zsh(&all),
    ));
    out
}

#[test]
fn every_tool_has_a_page_and_completions() {
    let generated: Vec<PathBuf> = generate().into_iter().map(|(p, _)| p).collect();
    for name in tool_names() {
        let s = spec(name);
        let cmd = command(name);
        for p in [
            format!("man/{cmd}.{}.md", s.section),
            format!("man/{cmd}.{}", s.section),
            format!("completions/bash/{cmd}"),
            format!("completions/fish/{cmd}.fish"),
        ] {
            assert!(
                Path::new(CRATE).join(&p).is_file(),
                "{name}: {p} is missing (MODKIT_BLESS=1 writes the generated ones)"
            );
            assert!(p.ends_with(".md") || generated.contains(&PathBuf::from(&p)));
        }
        let zsh = std::fs::read_to_string(completions_dir().join("zsh/_modkit")).unwrap();
        let compdef = zsh.lines().next().unwrap_or_default();
        assert!(
            compdef.split(' ').any(|w| w == cmd),
            "{cmd} missing from zsh's {compdef}"
        );
        assert!(
            zsh.contains(&format!("\n_modkit_{name}() {{\n")),
            "no zsh function for {name}"
        );
    }
    // nothing for a tool that is gone
    for s in SPECS {
        assert!(
            tool_names().contains(&s.name),
            "spec.rs has '{}', which TOOLS lacks",
            s.name
        );
    }
}

#[test]
fn pages_document_exactly_the_options_each_tool_accepts() {
    let mut failures = Vec::new();
    for name in tool_names() {
        let s = spec(name);
        let page = page(name);
        let terms = page.option_terms();
        // every OPTIONS section of the page belongs to a table
        for t in &terms {
            if !s
                .groups
                .iter()
                .any(|g| g.page == name && g.sections.contains(&t.section.as_str()))
            {
                failures.push(format!(
                    "{name}: section '{}' documents options of no table",
                    t.section
                ));
            }
            if t.names.is_empty() {
                failures.push(format!("{name}: a term of '{}' names no option", t.section));
            }
            if t.summary.is_empty() {
                failures.push(format!("{name}: {:?} has no description", t.names));
            }
        }
        for g in s
            .groups
            .iter()
            .filter(|g| g.page == name && !g.sections.is_empty())
        {
            let documented: BTreeSet<String> = terms
                .iter()
                .filter(|t| g.sections.contains(&t.section.as_str()))
                .flat_map(|t| t.names.iter().cloned())
                .collect();
            let accepted = table_names(g);
            let what = g
                .command
                .map_or(name.to_string(), |c| format!("{name} {c}"));
            for o in accepted.difference(&documented) {
                failures.push(format!("{what}: {o} is accepted but not in the page"));
            }
            for o in documented.difference(&accepted) {
                failures.push(format!(
                    "{what}: {o} is in the page but the tool rejects it"
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn options_with_arguments_say_what_the_argument_is() {
    for s in SPECS {
        for (_, opts) in options(s) {
            for o in opts
                .iter()
                .filter(|o| o.has_arg != crate::compat::getopt::HasArg::No)
            {
                assert!(
                    s.arg_of(
                        &names(o)
                            .iter()
                            .map(|n| n.trim_start_matches('-').to_string())
                            .collect::<Vec<_>>()
                    )
                    .is_some(),
                    "{}: {:?} takes an argument: say what it is in spec.rs's args",
                    s.name,
                    names(o)
                );
            }
        }
    }
}

/// The options each completion script offers for a tool, read back from
/// the script: bash's `compgen -W` word lists of options, zsh's
/// `_arguments` specs in the tool's function, fish's `-s`/`-l`.
fn offered(shell: &str, tool: &str) -> BTreeSet<String> {
    let dir = completions_dir();
    let mut out = BTreeSet::new();
    match shell {
        "bash" => {
            let text = std::fs::read_to_string(dir.join("bash").join(command(tool))).unwrap();
            for line in text.lines() {
                let Some(i) = line.find("compgen -W '") else {
                    continue;
                };
                let words = &line[i + 12..];
                let words = &words[..words.find('\'').unwrap()];
                out.extend(
                    words
                        .split(' ')
                        .filter(|w| is_option_name(w))
                        .map(str::to_string),
                );
            }
        }
        "zsh" => {
            let text = std::fs::read_to_string(dir.join("zsh/_modkit")).unwrap();
            let start = text
                .find(&format!("\n_modkit_{tool}() {{\n"))
                .expect("the tool's function");
            let body = &text[start..];
            let body = &body[..body.find("\n}\n").unwrap()];
            // a quote inside a single-quoted word is '\''
            let body = body.replace("'\\''", "\u{1}");
            for spec in body.split('\'').skip(1).step_by(2) {
                let spec = spec.trim_start_matches('*');
                let end = spec.find(['[', '+', '=']).unwrap_or(spec.len());
                let end = if spec[..end].len() > 2 && spec[..end].ends_with('-') {
                    end - 1
                } else {
                    end
                };
                if is_option_name(&spec[..end]) {
                    out.insert(spec[..end].to_string());
                } else if spec.starts_with('-') && spec.len() > 1 && spec.as_bytes()[1] != b'-' {
                    // a short option with an optional argument: -L-[...]
                    out.insert(spec[..2].to_string());
                }
            }
        }
        _ => {
            let cmd = command(tool);
            let text =
                std::fs::read_to_string(dir.join("fish").join(format!("{cmd}.fish"))).unwrap();
            for line in text
                .lines()
                .filter(|l| l.starts_with(&format!("complete -c {cmd} ")))
            {
                // the words outside quotes (conditions and descriptions)
                let line = line.replace("\\'", "");
                let unquoted: String = line.split('\'').step_by(2).collect();
                let words: Vec<&str> = unquoted.split(' ').collect();
                for w in words.windows(2) {
                    match w[0] {
                        "-s" => {
                            out.insert(format!("-{}", w[1]));
                        }
                        "-l" => {
                            out.insert(format!("--{}", w[1]));
                        }
                        _ => {}
                    }
                }
            }
        }
    }
    out
}

#[test]
fn completions_offer_exactly_the_options_each_tool_accepts() {
    let mut failures = Vec::new();
    for name in tool_names() {
        let s = spec(name);
        let accepted: BTreeSet<String> = s.groups.iter().flat_map(table_names).collect();
        for shell in ["bash", "zsh", "fish"] {
            let got = offered(shell, name);
            for o in accepted.difference(&got) {
                failures.push(format!("{shell} {name}: {o} is accepted but not offered"));
            }
            for o in got.difference(&accepted) {
                failures.push(format!(
                    "{shell} {name}: {o} is offered but the tool rejects it"
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn generated_files_are_current() {
    let bless = std::env::var_os("MODKIT_BLESS").is_some();
    let mut stale = Vec::new();
    let generated = generate();
    for (path, text) in &generated {
        let full = Path::new(CRATE).join(path);
        if std::fs::read_to_string(&full).ok().as_deref() == Some(text.as_str()) {
            continue;
        }
        if bless {
            std::fs::create_dir_all(full.parent().unwrap()).unwrap();
            std::fs::write(&full, text).unwrap();
        } else {
            stale.push(path.display().to_string());
        }
    }
    // and nothing generated earlier for what is gone
    let mut present = Vec::new();
    for dir in [
        "man",
        "completions/bash",
        "completions/zsh",
        "completions/fish",
    ] {
        for e in std::fs::read_dir(Path::new(CRATE).join(dir)).unwrap() {
            let p = PathBuf::from(dir).join(e.unwrap().file_name());
            let s = p.to_string_lossy();
            if !s.ends_with(".md") {
                present.push(p);
            }
        }
    }
    for p in present {
        if !generated.iter().any(|(g, _)| *g == p) {
            stale.push(format!("{} (no longer generated: remove it)", p.display()));
        }
    }
    assert!(
        stale.is_empty(),
        "out of date (rerun with MODKIT_BLESS=1 after checking the sources): {}",
        stale.join(", ")
    );
}

#[test]
fn pages_render_without_warnings() {
    if Command::new("man").arg("--version").output().is_err() {
        skip(
            Tier::Offline,
            "man (man-db) is not installed: apt-get install man-db",
        );
        return;
    }
    for name in tool_names() {
        let path = man_dir().join(format!("{}.{}", command(name), spec(name).section));
        let out = Command::new("man")
            .args(["--warnings", "-l"])
            .arg(&path)
            .env("MANPAGER", "cat")
            .env("MANWIDTH", "80")
            .env("LC_ALL", "C.UTF-8")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success() && stderr.is_empty(),
            "man -l {}: {stderr}",
            path.display()
        );
        let text = String::from_utf8_lossy(&out.stdout);
        for heading in [
            "NAME",
            "SYNOPSIS",
            "DESCRIPTION",
            "OPTIONS",
            "EXIT STATUS",
            "SEE ALSO",
        ] {
            assert!(
                text.lines().any(|l| l == heading),
                "{name}: no {heading} in:\n{text}"
            );
        }
    }
}
