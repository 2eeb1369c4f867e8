//! `modkit::compat::ere` against glibc: every case of
//! `tests/golden/ere/glibc.tsv` (made by `tests/golden/ere/gen.c`, which ran
//! glibc's `regcomp(REG_EXTENDED | REG_NOSUB)` and `regexec`) must compile
//! where glibc's compiled, fail where it failed, and match where it matched.

use modkit::compat::ere::Regex;

const GOLDEN: &str = include_str!("golden/ere/glibc.tsv");

#[test]
fn ere_matches_glibc_on_every_golden_case() {
    let mut lines = GOLDEN.lines();
    let header = lines.next().unwrap_or_default();
    assert!(header.starts_with("# glibc "), "golden header: {header:?}");
    let mut cases = 0;
    let mut wrong = Vec::new();
    for line in lines {
        let f: Vec<&str> = line.splitn(4, '\t').collect();
        let [comp, exec, pattern, subject] = f[..] else {
            panic!("golden line: {line:?}");
        };
        cases += 1;
        let ours = match Regex::new(pattern.as_bytes()) {
            Err(_) => "-".to_string(),
            Ok(re) => match re.exec(subject.as_bytes()) {
                Ok(true) => "0".to_string(),
                Ok(false) => "1".to_string(),
                Err(e) => format!("error: {e}"),
            },
        };
        let glibc = if comp == "0" { exec } else { "-" };
        if ours == glibc {
            continue;
        }
        wrong.push(format!(
            "{pattern:?} on {subject:?}: glibc {glibc} (regcomp {comp}), modkit {ours}"
        ));
    }
    assert_eq!(cases, 24_000, "golden cases");
    assert!(
        wrong.is_empty(),
        "{} of {cases} differ from glibc:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}
