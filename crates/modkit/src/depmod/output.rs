//! The eleven outputs, generated and written as kmod's `depmod_output`.

use std::ffi::OsStr;
use std::io::Write;
use std::os::unix::ffi::OsStrExt;

use super::{cat, os, serr, Depmod, R};
use crate::error::{errno, errno_of, Errno};
use crate::fsutil;
use crate::index::IndexBuilder as Trie;
use crate::kmod::{fgets_chunks, path_to_modname, sort_in_hash_order, PATH_MAX};

/// What a generator produced: the file's bytes, or kmod's error code.
type Generated = Result<Vec<u8>, Errno>;

type Generator = fn(&mut Depmod<'_>, &mut State, bool) -> R<Generated>;

/// Data shared between generators.
#[derive(Default)]
pub(crate) struct State {
    /// Every module's sorted transitive dependencies, computed once.
    all_deps: Option<Vec<Vec<usize>>>,
}

const OUTPUTS: &[(&str, Generator)] = &[
    ("modules.dep", deps),
    ("modules.dep.bin", deps_bin),
    ("modules.alias", aliases),
    ("modules.alias.bin", aliases_bin),
    ("modules.softdep", softdeps),
    ("modules.weakdep", weakdeps),
    ("modules.symbols", symbols),
    ("modules.symbols.bin", symbols_bin),
    ("modules.builtin.bin", builtin_bin),
    ("modules.builtin.alias.bin", builtin_alias_bin),
    ("modules.devname", devname),
];

/// Writes every output (or prints them with `-n`); `Ok(false)` when one
/// failed in a way that makes depmod exit with a failure.
pub(crate) fn write_all(d: &mut Depmod<'_>) -> R<bool> {
    let mut state = State::default();
    if d.opts.dry_run {
        for (name, generate) in OUTPUTS {
            if let Ok(bytes) = generate(d, &mut state, true)? {
                d.log.stdout(&bytes);
                d.outputs.printed.push(name);
            }
        }
        return Ok(true);
    }
    let dname = d.outdirname.clone();
    if let Err(e) = mkdir_p(&dname) {
        let msg = cat(&[
            b"could not create directory ",
            &dname,
            b": ",
            serr(e),
            b"\n",
        ]);
        return Err(d.log.crit(&msg));
    }
    if let Err(e) = std::fs::File::open(os(&dname)) {
        let msg = cat(&[
            b"could not open directory ",
            &dname,
            b": ",
            serr(errno_of(&e)),
            b"\n",
        ]);
        return Err(d.log.crit(&msg));
    }
    let dir = os(&dname).to_path_buf();
    let tv = fsutil::time_of_day();
    let pid = std::process::id();
    for (name, generate) in OUTPUTS {
        let tmp = fsutil::temp_name(OsStr::new(name), pid, tv);
        if tmp.len() >= 255 {
            let msg = cat(&[b"bad filename: ", tmp.as_bytes(), b": path too long\n"]);
            d.log.err(&msg);
            continue;
        }
        let mut file = match fsutil::create_exclusive(&dir, &tmp) {
            Ok(f) => f,
            Err(e) => {
                let msg = cat(&[
                    b"openat(",
                    &dname,
                    b", ",
                    tmp.as_bytes(),
                    b", 301, 644): ",
                    serr(errno_of(&e)),
                    b"\n",
                ]);
                d.log.err(&msg);
                continue;
            }
        };
        // A FATAL here leaves the temporary file behind, as kmod's exit().
        let generated = generate(d, &mut state, false)?;
        let write_failed = match &generated {
            Ok(bytes) => file.write_all(bytes).and_then(|_| file.flush()).is_err(),
            Err(_) => false,
        };
        drop(file);
        // A write that failed (a full file system) leaves the old index in
        // place: kmod 34 renames the truncated file over it and then says
        // "Output is truncated"; modkit says the same words but removes the
        // temporary file instead, so no reader ever sees a partial index.
        if generated.is_err() || write_failed {
            if let Err(ue) = std::fs::remove_file(dir.join(&tmp)) {
                let msg = cat(&[
                    b"unlinkat(",
                    &dname,
                    b", ",
                    tmp.as_bytes(),
                    b"): ",
                    serr(errno_of(&ue)),
                    b"\n",
                ]);
                d.log.err(&msg);
            }
        }
        if let Err(e) = generated {
            let msg = cat(&[
                b"Could not write index '",
                name.as_bytes(),
                b"': ",
                serr(e),
                b"\n",
            ]);
            d.log.err(&msg);
            return Ok(false);
        }
        if write_failed {
            let msg = cat(&[
                b"Could not create index '",
                name.as_bytes(),
                b"'. Output is truncated: ",
                serr(28),
                b"\n",
            ]);
            d.log.err(&msg);
            return Ok(false);
        }
        if let Err(e) = std::fs::rename(dir.join(&tmp), dir.join(name)) {
            let msg = cat(&[
                b"renameat(",
                &dname,
                b", ",
                tmp.as_bytes(),
                b", ",
                &dname,
                b", ",
                name.as_bytes(),
                b"): ",
                serr(errno_of(&e)),
                b"\n",
            ]);
            return Err(d.log.crit(&msg));
        }
        d.outputs.written.push(dir.join(name));
    }
    Ok(true)
}

/// kmod's `mkdir_p`, step for step: find the longest existing prefix
/// (which must be a directory), then create the rest one by one.
fn mkdir_p(path: &[u8]) -> Result<(), Errno> {
    let len = path.len();
    let mut buf = path.to_vec();
    buf.push(0);
    let strlen = |buf: &[u8], at: usize| buf[at..].iter().position(|&b| b == 0).unwrap_or(0);
    let current = |buf: &[u8]| buf[..strlen(buf, 0)].to_vec();
    let mut end = len;
    // kmod reports ENOTDIR through errno, which still holds the error of
    // the last failed look-up (or an older one: ENOENT).
    let mut last_err = errno::ENOENT;
    loop {
        match std::fs::metadata(os(&current(&buf))) {
            Ok(m) if m.is_dir() => {
                end += strlen(&buf, end);
                if end == len {
                    return Ok(());
                }
                buf[end] = b'/';
                break;
            }
            Ok(_) => return Err(last_err),
            Err(e) => last_err = errno_of(&e),
        }
        if end == 0 {
            break;
        }
        buf[end] = 0;
        while end > 0 && buf[end] != b'/' {
            end -= 1;
        }
        while end > 0 && buf[end - 1] == b'/' {
            end -= 1;
        }
    }
    while end < len {
        if let Err(e) = std::fs::create_dir(os(&current(&buf))) {
            if e.kind() != std::io::ErrorKind::AlreadyExists {
                return Err(errno_of(&e));
            }
        }
        end += strlen(&buf, end);
        buf[end] = b'/';
    }
    Ok(())
}

/// Inserts into an index, checking both strings are 7-bit ASCII as kmod
/// does (a FATAL error otherwise).
fn insert(d: &mut Depmod<'_>, trie: &mut Trie, key: &[u8], value: &[u8], prio: usize) -> R<bool> {
    for s in [key, value] {
        if let Some(&ch) = s.iter().find(|&&c| c >= 128) {
            let msg = cat(&[
                b"Module index: bad character '",
                &[ch],
                format!("'=0x{ch:x} - only 7-bit ASCII is supported:\n").as_bytes(),
                s,
                b"\n",
            ]);
            return Err(d.log.crit(&msg));
        }
    }
    // Both are 7-bit ASCII here, hence valid UTF-8. The builder answers
    // "newly stored"; callers want "was a duplicate".
    let key = String::from_utf8_lossy(key);
    let value = String::from_utf8_lossy(value);
    Ok(!trie.insert(&key, &value, prio as u32))
}

/// kmod's `alias_normalize`: `-` as `_` outside brackets; `None` for an
/// unmatched bracket.
pub(crate) fn alias_normalize(alias: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(alias.len());
    let mut i = 0;
    while i < PATH_MAX - 1 {
        let Some(&c) = alias.get(i) else { break };
        match c {
            0 => break,
            b'-' => out.push(b'_'),
            b']' => return None,
            b'[' => {
                while i < alias.len() && alias[i] != b']' && alias[i] != 0 {
                    out.push(alias[i]);
                    i += 1;
                }
                if alias.get(i) != Some(&b']') {
                    return None;
                }
                out.push(b']');
            }
            c => out.push(c),
        }
        i += 1;
    }
    Some(out)
}

fn all_deps<'s>(d: &Depmod<'_>, state: &'s mut State) -> &'s [Vec<usize>] {
    state.all_deps.get_or_insert_with(|| {
        let n = d.mods.len();
        let mut seen = vec![usize::MAX; n];
        let mut result = Vec::with_capacity(n);
        for (i, m) in d.mods.iter().enumerate() {
            let mut list = Vec::new();
            let mut stack: Vec<usize> = m.deps.iter().rev().copied().collect();
            while let Some(x) = stack.pop() {
                if seen[x] == i {
                    continue;
                }
                seen[x] = i;
                list.push(x);
                stack.extend(d.mods[x].deps.iter().rev().copied());
            }
            list.sort_by_key(|&x| d.mods[x].dep_sort_idx);
            result.push(list);
        }
        result
    })
}

fn dep_line(d: &Depmod<'_>, i: usize, deps: &[usize]) -> Vec<u8> {
    let m = &d.mods[i];
    let mut line = cat(&[m.out_path(), b":"]);
    for &x in deps {
        line.push(b' ');
        line.extend_from_slice(d.mods[x].out_path());
    }
    line
}

fn deps(d: &mut Depmod<'_>, state: &mut State, _dry: bool) -> R<Generated> {
    let all = all_deps(d, state);
    let mut out = Vec::new();
    for (i, list) in all.iter().enumerate() {
        out.extend_from_slice(&dep_line(d, i, list));
        out.push(b'\n');
    }
    Ok(Ok(out))
}

fn deps_bin(d: &mut Depmod<'_>, state: &mut State, dry: bool) -> R<Generated> {
    if dry {
        return Ok(Ok(Vec::new()));
    }
    let all = all_deps(d, state).to_vec();
    let mut trie = Trie::new();
    for (i, list) in all.iter().enumerate() {
        let line = dep_line(d, i, list);
        let key = d.mods[i].modname.clone();
        let idx = d.mods[i].idx;
        if insert(d, &mut trie, &key, &line, idx)? && d.opts.warn_dups {
            d.log
                .warn(&cat(&[b"duplicate module deps:\n", &line, b"\n"]));
        }
    }
    Ok(Ok(trie.to_bytes()))
}

fn aliases(d: &mut Depmod<'_>, _state: &mut State, _dry: bool) -> R<Generated> {
    let mut out = b"# Aliases extracted from modules themselves.\n".to_vec();
    for m in &d.mods {
        for a in &m.aliases {
            out.extend_from_slice(&cat(&[b"alias ", a, b" ", &m.modname, b"\n"]));
        }
    }
    Ok(Ok(out))
}

fn aliases_bin(d: &mut Depmod<'_>, _state: &mut State, dry: bool) -> R<Generated> {
    if dry {
        return Ok(Ok(Vec::new()));
    }
    let mut trie = Trie::new();
    for i in 0..d.mods.len() {
        let aliases = std::mem::take(&mut d.mods[i].aliases);
        let modname = d.mods[i].modname.clone();
        let idx = d.mods[i].idx;
        let mut result = Ok(());
        for a in &aliases {
            let Some(alias) = alias_normalize(a) else {
                d.log.warn(&cat(&[b"Unmatched bracket in ", a, b"\n"]));
                continue;
            };
            match insert(d, &mut trie, &alias, &modname, idx) {
                Ok(dup) => {
                    if dup && d.opts.warn_dups {
                        let msg =
                            cat(&[b"duplicate module alias:\n", &alias, b" ", &modname, b"\n"]);
                        d.log.warn(&msg);
                    }
                }
                Err(f) => {
                    result = Err(f);
                    break;
                }
            }
        }
        d.mods[i].aliases = aliases;
        result?;
    }
    Ok(Ok(trie.to_bytes()))
}

fn softdeps(d: &mut Depmod<'_>, _state: &mut State, _dry: bool) -> R<Generated> {
    let mut out = b"# Soft dependencies extracted from modules themselves.\n".to_vec();
    for m in &d.mods {
        for v in &m.softdeps {
            out.extend_from_slice(&cat(&[b"softdep ", &m.modname, b" ", v, b"\n"]));
        }
    }
    Ok(Ok(out))
}

fn weakdeps(d: &mut Depmod<'_>, _state: &mut State, _dry: bool) -> R<Generated> {
    let mut out = b"# Weak dependencies extracted from modules themselves.\n".to_vec();
    for m in &d.mods {
        for v in &m.weakdeps {
            out.extend_from_slice(&cat(&[b"weakdep ", &m.modname, b" ", v, b"\n"]));
        }
    }
    Ok(Ok(out))
}

/// Owned symbols in kmod's hash-table order: (name, owner).
fn owned_symbols(d: &Depmod<'_>) -> Vec<(Vec<u8>, usize)> {
    let mut syms: Vec<(Vec<u8>, usize)> = d
        .symbols
        .iter()
        .filter_map(|(k, s)| s.owner.map(|o| (k.clone(), o)))
        .collect();
    sort_in_hash_order(&mut syms, 2048, |s| &s.0);
    syms
}

fn symbols(d: &mut Depmod<'_>, _state: &mut State, _dry: bool) -> R<Generated> {
    let mut out = b"# Aliases for symbols, used by symbol_request().\n".to_vec();
    for (name, owner) in owned_symbols(d) {
        out.extend_from_slice(&cat(&[
            b"alias symbol:",
            &name,
            b" ",
            &d.mods[owner].modname,
            b"\n",
        ]));
    }
    Ok(Ok(out))
}

fn symbols_bin(d: &mut Depmod<'_>, _state: &mut State, dry: bool) -> R<Generated> {
    if dry {
        return Ok(Ok(Vec::new()));
    }
    let mut trie = Trie::new();
    for (name, owner) in owned_symbols(d) {
        let key = cat(&[b"symbol:", &name]);
        let modname = d.mods[owner].modname.clone();
        let idx = d.mods[owner].idx;
        if insert(d, &mut trie, &key, &modname, idx)? && d.opts.warn_dups {
            let msg = cat(&[b"duplicate module syms:\n", &key, b" ", &modname, b"\n"]);
            d.log.warn(&msg);
        }
    }
    Ok(Ok(trie.to_bytes()))
}

fn builtin_bin(d: &mut Depmod<'_>, _state: &mut State, dry: bool) -> R<Generated> {
    if dry {
        return Ok(Ok(Vec::new()));
    }
    let Some(data) = d.open_input(b"modules.builtin") else {
        return Ok(Ok(Vec::new()));
    };
    let data = data.unwrap_or_default();
    let mut trie = Trie::new();
    let mut modname: Vec<u8> = Vec::new();
    for line in fgets_chunks(&data, PATH_MAX) {
        if !line.first().is_some_and(u8::is_ascii_alphabetic) {
            d.log
                .err(&cat(&[b"Invalid modules.builtin line: ", line, b"\n"]));
            continue;
        }
        if let Some(m) = path_to_modname(line) {
            modname = m;
        }
        insert(d, &mut trie, &modname, b"", 0)?;
    }
    Ok(Ok(trie.to_bytes()))
}

/// A byte stream read with `fgetc`, remembering end of file.
struct Stream<'a> {
    data: &'a [u8],
    pos: usize,
    eof: bool,
}

impl Stream<'_> {
    fn getc(&mut self) -> Option<u8> {
        match self.data.get(self.pos) {
            Some(&c) => {
                self.pos += 1;
                Some(c)
            }
            None => {
                self.eof = true;
                None
            }
        }
    }

    /// kmod's `flush_stream`: skips to `end` (or NUL or end of file).
    fn skip(&mut self, end: u8) {
        while let Some(c) = self.getc() {
            if c == end || c == 0 {
                break;
            }
        }
    }

    /// kmod's `flush_stream_to`: reads up to `end`; the bytes read, or
    /// nothing if `end` was not what stopped it.
    fn read_to(&mut self, d: &mut Depmod<'_>, end: u8) -> Vec<u8> {
        let size = PATH_MAX;
        let mut dst = Vec::new();
        let mut c = self.getc();
        while let Some(ch) = c {
            if ch == end || ch == 0 || dst.len() >= size {
                break;
            }
            dst.push(ch);
            c = self.getc();
        }
        if dst.len() == size {
            let msg = cat(&[
                b"Could not flush stream: 28. Partial content: ",
                &dst,
                b"\n",
            ]);
            d.log.warn(&msg);
            dst.pop();
        }
        if c == Some(end) {
            dst
        } else {
            Vec::new()
        }
    }
}

fn builtin_alias_bin(d: &mut Depmod<'_>, _state: &mut State, dry: bool) -> R<Generated> {
    if dry {
        return Ok(Ok(Vec::new()));
    }
    let Some(data) = d.open_input(b"modules.builtin.modinfo") else {
        return Ok(Ok(Vec::new()));
    };
    let Ok(data) = data else {
        return Ok(Err(errno::EINVAL));
    };
    let mut trie = Trie::new();
    let mut s = Stream {
        data: &data,
        pos: 0,
        eof: false,
    };
    while !s.eof {
        let modname = s.read_to(d, b'.');
        if modname.is_empty() {
            continue;
        }
        let key = s.read_to(d, b'=');
        if key != b"alias" {
            s.skip(0);
            continue;
        }
        let value = s.read_to(d, 0);
        if value.is_empty() {
            continue;
        }
        let Some(alias) = alias_normalize(&value) else {
            d.log.warn(&cat(&[b"Unmatched bracket in ", &value, b"\n"]));
            continue;
        };
        insert(d, &mut trie, &alias, &modname, 0)?;
    }
    Ok(Ok(trie.to_bytes()))
}

/// `sscanf(s, "PREFIX%u-%u")`: both numbers, as glibc converts `%u`.
fn scan_major_minor(s: &[u8], prefix: &[u8]) -> Option<(u32, u32)> {
    let rest = s.strip_prefix(prefix)?;
    let (maj, rest) = scan_u32(rest)?;
    let rest = rest.strip_prefix(b"-")?;
    let (min, _) = scan_u32(rest)?;
    Some((maj, min))
}

/// One `%u` conversion: optional white space and sign, decimal digits;
/// the value wraps like `strtoul` stored in an `unsigned int`.
pub(crate) fn scan_u32(s: &[u8]) -> Option<(u32, &[u8])> {
    let p = crate::compat::strtol::strtoul(s, 10);
    (p.end != 0).then(|| (p.value as u32, &s[p.end..]))
}

fn devname(d: &mut Depmod<'_>, _state: &mut State, dry: bool) -> R<Generated> {
    // With -n, lines go to standard output as they are made, so that the
    // errors interleave with them as kmod's do.
    let mut out = Vec::new();
    let mut empty = true;
    for i in 0..d.mods.len() {
        let m = &d.mods[i];
        let mut devname: Option<&[u8]> = None;
        let mut kind = 0u8;
        let (mut major, mut minor) = (0u32, 0u32);
        for v in &m.aliases {
            if let Some(name) = v.strip_prefix(b"devname:") {
                devname = Some(name);
            } else if let Some((a, b)) = scan_major_minor(v, b"char-major-") {
                (kind, major, minor) = (b'c', a, b);
            } else if let Some((a, b)) = scan_major_minor(v, b"block-major-") {
                (kind, major, minor) = (b'b', a, b);
            }
            if kind != 0 && devname.is_some() {
                break;
            }
        }
        let Some(name) = devname else { continue };
        if kind != 0 {
            if empty {
                out.extend_from_slice(b"# Device nodes to trigger on-demand module loading.\n");
                empty = false;
            }
            out.extend_from_slice(&cat(&[
                &m.modname,
                b" ",
                name,
                b" ",
                &[kind],
                format!("{major}:{minor}\n").as_bytes(),
            ]));
        } else {
            let msg = cat(&[
                b"Module '",
                &m.modname,
                b"' has devname (",
                name,
                b") but lacks major and minor information. Ignoring.\n",
            ]);
            if dry {
                d.log.stdout(&out);
                out.clear();
            }
            d.log.err(&msg);
        }
    }
    Ok(Ok(out))
}
