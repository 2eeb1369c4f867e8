//! The markdown subset of `man/*.md` (described in `man/README.md`) read
//! into roff, and the options its OPTIONS sections document.

/// A page's source, parsed enough to write roff and list its options.
pub(crate) struct Page {
    /// The name of the page (`depmod`).
    pub name: String,
    /// Its section (`8`).
    pub section: String,
    /// The lines after the title.
    lines: Vec<String>,
}

/// A term of an OPTIONS section: the options it names, and the first
/// sentence of its description, without markup.
#[derive(Clone, Debug)]
pub(crate) struct OptionTerm {
    /// The heading of the section it is in (`OPTIONS`, `MODKIT OPTIONS`).
    pub section: String,
    /// Every `-x` and `--long` in bold on the term line, in order.
    pub names: Vec<String>,
    /// What the option does, for the completions.
    pub summary: String,
}

impl Page {
    /// Parses a source; the first line must be `# NAME(SECTION)`.
    pub fn parse(source: &str) -> Result<Page, String> {
        let mut lines = source.lines();
        let title = lines.next().unwrap_or_default();
        let inner = title
            .strip_prefix("# ")
            .and_then(|t| t.strip_suffix(')'))
            .and_then(|t| t.split_once('('))
            .ok_or_else(|| format!("first line '{title}' is not '# NAME(SECTION)'"))?;
        Ok(Page {
            name: inner.0.to_string(),
            section: inner.1.to_string(),
            lines: lines.map(str::to_string).collect(),
        })
    }

    /// The terms of every section whose heading ends in `OPTIONS`.
    pub fn option_terms(&self) -> Vec<OptionTerm> {
        let mut terms = Vec::new();
        let mut section = String::new();
        for (i, line) in self.lines.iter().enumerate() {
            if let Some(h) = line.strip_prefix("## ") {
                section = h.trim().to_string();
                continue;
            }
            if !section.ends_with("OPTIONS") || !is_term(&self.lines, i) {
                continue;
            }
            let names = bold_spans(line)
                .iter()
                .filter(|s| is_option_name(s))
                .cloned()
                .collect();
            let body: Vec<&str> = self.lines[i + 1..]
                .iter()
                .take_while(|l| l.starts_with("    "))
                .map(|l| l.trim())
                .collect();
            terms.push(OptionTerm {
                section: section.clone(),
                names,
                summary: first_sentence(&plain(&body.join(" "))),
            });
        }
        terms
    }

    /// The page in roff, for `man`. `source` names the tool and version
    /// in the page's footer.
    pub fn roff(&self, source: &str) -> String {
        let mut out = format!(
            ".\\\" Written from {}.{}.md by modkit's tests; edit that file, not this one.\n\
             .TH {} {} \"\" \"{}\" \"modkit\"\n\
             .\\\" no hyphenation, ragged right: option names stay whole\n\
             .nh\n\
             .ad l\n",
            self.name,
            self.section,
            self.name.to_uppercase(),
            self.section,
            source
        );
        let mut section = String::new();
        let mut in_paragraph = false;
        let mut fence = false;
        let mut after_heading = false;
        let lines = &self.lines;
        let mut i = 0;
        while i < lines.len() {
            let line = &lines[i];
            i += 1;
            if line.trim_start().starts_with("```") {
                out.push_str(if fence { ".fi\n.RE\n" } else { ".RS 4\n.nf\n" });
                fence = !fence;
                in_paragraph = false;
                continue;
            }
            if fence {
                out.push_str(&text_line(&escape(line)));
                continue;
            }
            if let Some(h) = line.strip_prefix("## ") {
                section = h.trim().to_string();
                out.push_str(&format!(".SH \"{}\"\n", escape(&section)));
                in_paragraph = false;
                after_heading = true;
                continue;
            }
            if line.trim().is_empty() {
                in_paragraph = false;
                continue;
            }
            if line.starts_with("    ") {
                // a description's next paragraph (after a blank line)
                if !in_paragraph {
                    out.push_str(".IP\n");
                    in_paragraph = true;
                }
                out.push_str(&text_line(&inline(line.trim())));
                continue;
            }
            if let Some(item) = line.strip_prefix("- ") {
                out.push_str(".IP \\(bu 2\n");
                out.push_str(&text_line(&inline(item.trim())));
                while i < lines.len() && lines[i].starts_with("  ") && !lines[i].starts_with("    ")
                {
                    out.push_str(&text_line(&inline(lines[i].trim())));
                    i += 1;
                }
                in_paragraph = true;
                after_heading = false;
                continue;
            }
            if is_term(lines, i - 1) {
                out.push_str(".TP\n");
                out.push_str(&text_line(&inline(line.trim())));
                while i < lines.len() && lines[i].starts_with("    ") {
                    out.push_str(&text_line(&inline(lines[i].trim())));
                    i += 1;
                }
                in_paragraph = true;
                after_heading = false;
                continue;
            }
            if section == "SYNOPSIS" {
                if !in_paragraph && !after_heading {
                    out.push_str(".PP\n");
                }
                out.push_str(&text_line(&inline(line.trim())));
                out.push_str(".br\n");
                in_paragraph = true;
                after_heading = false;
                continue;
            }
            if !in_paragraph {
                if !after_heading {
                    out.push_str(".PP\n");
                }
                in_paragraph = true;
            }
            after_heading = false;
            out.push_str(&text_line(&inline(line.trim())));
        }
        out
    }
}

/// Whether line `i` is a term: it starts with `*` and the next line is
/// indented by four spaces.
fn is_term(lines: &[String], i: usize) -> bool {
    lines[i].starts_with('*') && lines.get(i + 1).is_some_and(|n| n.starts_with("    "))
}

/// `-x` or `--long-name` (what a term line's bold spans may be).
pub(crate) fn is_option_name(s: &str) -> bool {
    let b = s.as_bytes();
    match b {
        [b'-', c] => c.is_ascii_alphanumeric(),
        [b'-', b'-', rest @ ..] => {
            !rest.is_empty()
                && rest
                    .iter()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
        }
        _ => false,
    }
}

/// The contents of the `**bold**` spans of a line.
fn bold_spans(line: &str) -> Vec<String> {
    let mut spans = Vec::new();
    let mut rest = line;
    while let Some(start) = rest.find("**") {
        let after = &rest[start + 2..];
        let Some(end) = after.find("**") else { break };
        spans.push(after[..end].replace('\\', ""));
        rest = &after[end + 2..];
    }
    spans
}

/// Text without markup.
fn plain(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.extend(chars.next()),
            '*' | '`' => {}
            c => out.push(c),
        }
    }
    out
}

/// Up to the first full stop that ends a sentence, or the first colon,
/// semicolon or parenthesis before it: a completion menu's line.
fn first_sentence(s: &str) -> String {
    let end = [". ", ": ", "; ", " ("]
        .iter()
        .filter_map(|sep| s.find(sep))
        .min()
        .unwrap_or(s.len());
    s[..end].trim_end_matches('.').to_string()
}

/// Text escaped for roff (no font changes).
fn escape(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\e"),
            '-' => out.push_str("\\-"),
            '\'' => out.push_str("\\(aq"),
            '`' => out.push_str("\\(ga"),
            '~' => out.push_str("\\(ti"),
            '^' => out.push_str("\\(ha"),
            c => out.push(c),
        }
    }
    out
}

/// A line of text: roff would take a leading `.` or `'` as a request.
fn text_line(s: &str) -> String {
    if s.starts_with('.') || s.starts_with('\'') {
        format!("\\&{s}\n")
    } else {
        format!("{s}\n")
    }
}

/// One line of text with its `**`, `*`, `` ` `` and `\` markup, in roff.
fn inline(s: &str) -> String {
    let (mut bold, mut italic, mut code) = (false, false, false);
    let font = |bold: bool, italic: bool| match (bold, italic) {
        (true, true) => "\\f(BI",
        (true, false) => "\\fB",
        (false, true) => "\\fI",
        (false, false) => "\\fR",
    };
    let mut out = String::new();
    let chars: Vec<char> = s.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if code && c != '`' {
            out.push_str(&escape(&c.to_string()));
            i += 1;
            continue;
        }
        match c {
            '\\' if i + 1 < chars.len() => {
                out.push_str(&escape(&chars[i + 1].to_string()));
                i += 2;
            }
            '`' => {
                code = !code;
                out.push_str(font(code || bold, italic && !code));
                i += 1;
            }
            '*' => {
                let mut n = chars[i..].iter().take_while(|&&c| c == '*').count();
                i += n;
                while n > 0 {
                    if n >= 2 && bold && !italic {
                        bold = false;
                        n -= 2;
                    } else if italic {
                        italic = false;
                        n -= 1;
                    } else if n >= 2 {
                        bold = true;
                        n -= 2;
                    } else {
                        italic = true;
                        n -= 1;
                    }
                }
                out.push_str(font(bold, italic));
            }
            c => {
                out.push_str(&escape(&c.to_string()));
                i += 1;
            }
        }
    }
    if bold || italic || code {
        out.push_str("\\fR");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_markup() {
        assert_eq!(
            inline("**-a**, **--all**"),
            "\\fB\\-a\\fR, \\fB\\-\\-all\\fR"
        );
        assert_eq!(
            inline("**/lib/modules/***VERSION***/x**"),
            "\\fB/lib/modules/\\fIVERSION\\fB/x\\fR"
        );
        assert_eq!(inline("`a*b` c\\*d"), "\\fBa*b\\fR c*d");
        assert_eq!(inline("it's"), "it\\(aqs");
    }

    #[test]
    fn terms_and_roff() {
        let page = Page::parse(
            "# x(8)\n\n## SYNOPSIS\n\n**x** *A*\n**x** -b\n\n## OPTIONS\n\n\
             **-a**, **--all**=*N*\n    Does it. Really.\n\n    More.\n\n\
             .dot line\n\n## SEE ALSO\n\n**y**(8)\n",
        )
        .unwrap();
        let terms = page.option_terms();
        assert_eq!(terms.len(), 1);
        assert_eq!(terms[0].names, ["-a", "--all"]);
        assert_eq!(terms[0].summary, "Does it");
        assert_eq!(first_sentence("A: b. C"), "A");
        assert_eq!(first_sentence("A (b)."), "A");
        assert_eq!(first_sentence("A b."), "A b");
        let roff = page.roff("modkit 1");
        assert!(
            roff.contains(".TH X 8 \"\" \"modkit 1\" \"modkit\"\n"),
            "{roff}"
        );
        assert!(
            roff.contains(".SH \"SYNOPSIS\"\n\\fBx\\fR \\fIA\\fR\n.br\n\\fBx\\fR \\-b\n.br\n"),
            "{roff}"
        );
        assert!(
            roff.contains(
                ".TP\n\\fB\\-a\\fR, \\fB\\-\\-all\\fR=\\fIN\\fR\nDoes it. Really.\n.IP\nMore.\n"
            ),
            "{roff}"
        );
        assert!(roff.contains(".PP\n\\&.dot line\n"), "{roff}");
        assert!(Page::parse("x(8)\n").is_err());
    }
}
