//! Dependencies: the kernel's symbols (`-E` `Module.symvers`, `-F`
//! `System.map`), each needed symbol resolved to the module exporting it,
//! the module order (kmod's hash order, then `modules.order`), and the
//! dependency order (a topological sort) with kmod's cycle reports.

use std::collections::{HashMap, HashSet};

use super::{cat, os, serr, Depmod, Fatal, Mod, Sym, DEFAULT_VERBOSE, R};
use crate::elf::SymbolBind;
use crate::error::{errno_of, Errno};
use crate::kmod::{fgets_chunks, sort_in_hash_order, PATH_MAX};

impl Depmod<'_> {
    pub(super) fn symbol_add(
        &mut self,
        name: &[u8],
        prefix_skipped: bool,
        crc: u64,
        owner: Option<usize>,
    ) {
        let mut name = name;
        if !prefix_skipped && !name.is_empty() && name[0] == self.opts.sym_prefix {
            name = &name[1..];
        }
        self.symbols.insert(name.to_vec(), Sym { owner, crc });
    }

    pub(super) fn symbol_find(&self, name: &[u8]) -> Option<&Sym> {
        let mut name = name;
        if let Some(rest) = name.strip_prefix(b".") {
            name = rest;
        }
        if !name.is_empty() && name[0] == self.opts.sym_prefix {
            name = &name[1..];
        }
        self.symbols.get(name)
    }

    pub(super) fn add_fake_syms(&mut self) {
        self.symbol_add(b"__this_module", true, 0, None);
        self.symbol_add(b"_GLOBAL_OFFSET_TABLE_", true, 0, None);
        if self.symbol_find(b"TOC.").is_none() {
            self.symbol_add(b"TOC.", true, 0, None);
        }
    }

    pub(super) fn load_symvers(&mut self, filename: &[u8]) -> Result<(), Errno> {
        let data = read_stream(filename)?;
        for (n, line) in fgets_chunks(&data, 10240).into_iter().enumerate() {
            let mut tok = line
                .split(|&b| b == b' ' || b == b'\t')
                .filter(|t| !t.is_empty());
            let (Some(ver), Some(sym), Some(wher)) = (tok.next(), tok.next(), tok.next()) else {
                continue;
            };
            if wher != b"vmlinux" {
                continue;
            }
            let Some(crc) = strtoull_hex(ver) else {
                let msg = cat(&[
                    filename,
                    b":",
                    (n + 1).to_string().as_bytes(),
                    b" Invalid symbol version ",
                    ver,
                    // kmod prints a stale errno here: that of an earlier
                    // failed look-up.
                    b": No such file or directory\n",
                ]);
                self.log.err(&msg);
                continue;
            };
            self.symbol_add(sym, false, crc, None);
        }
        self.add_fake_syms();
        Ok(())
    }

    pub(super) fn load_system_map(&mut self, filename: &[u8]) -> Result<(), Errno> {
        let data = read_stream(filename)?;
        for (n, line) in fgets_chunks(&data, 10240).into_iter().enumerate() {
            let p = line.iter().position(|&b| b == b' ').and_then(|a| {
                line[a + 1..]
                    .iter()
                    .position(|&b| b == b' ')
                    .map(|b| a + 1 + b + 1)
            });
            let Some(p) = p else {
                let msg = cat(&[
                    filename,
                    b":",
                    (n + 1).to_string().as_bytes(),
                    b": invalid line: ",
                    line,
                    b"\n",
                ]);
                self.log.err(&msg);
                continue;
            };
            let mut s = &line[p..];
            if !s.is_empty() && s[0] == self.opts.sym_prefix {
                s = &s[1..];
            }
            let Some(name) = s.strip_prefix(b"__ksymtab_") else {
                continue;
            };
            let name = match name.iter().position(|&b| b == b'\n') {
                Some(nl) => &name[..nl],
                None => name,
            };
            self.symbol_add(name, true, 0, None);
        }
        self.add_fake_syms();
        Ok(())
    }

    pub(super) fn build_array(&mut self) -> R<()> {
        let mut mods: Vec<Mod> = std::mem::take(&mut self.by_name).into_values().collect();
        sort_in_hash_order(&mut mods, 512, |m| &m.modname);
        for (i, m) in mods.iter_mut().enumerate() {
            m.idx = i;
        }
        self.mods = mods;
        if self.mods.len() >= usize::from(u16::MAX) {
            let msg = cat(&[b"could not build module array: ", serr(34), b"\n"]);
            return Err(self.log.crit(&msg));
        }
        Ok(())
    }

    pub(super) fn sort_by_order(&mut self) {
        let Some(data) = self.open_input(b"modules.order") else {
            return;
        };
        let data = data.unwrap_or_default();
        let by_uncrel: HashMap<&[u8], usize> = self
            .mods
            .iter()
            .enumerate()
            .filter_map(|(i, m)| m.uncrelpath.as_deref().map(|u| (u, i)))
            .collect();
        let mut assign: Vec<(usize, i64)> = Vec::new();
        let mut assigned = vec![false; self.mods.len()];
        let mut next = -(self.mods.len() as i64);
        let mut corrupted = None;
        for (n, line) in fgets_chunks(&data, PATH_MAX).into_iter().enumerate() {
            if line.is_empty() {
                continue;
            }
            let Some(line) = line.strip_suffix(b"\n") else {
                corrupted = Some(n + 1);
                break;
            };
            if let Some(&i) = by_uncrel.get(line) {
                if !assigned[i] {
                    assigned[i] = true;
                    assign.push((i, next));
                    next += 1;
                }
            }
        }
        for (i, s) in assign {
            self.mods[i].sort_idx = s;
        }
        if let Some(n) = corrupted {
            let msg = cat(&[
                &self.dirname,
                b"/modules.order:",
                n.to_string().as_bytes(),
                b" corrupted line misses '\\n'\n",
            ]);
            self.log.err(&msg);
            return;
        }
        if self.mods.len() > 1 {
            // glibc's qsort is a stable merge sort for arrays this size.
            self.mods.sort_by_key(|m| m.sort_idx);
            for (i, m) in self.mods.iter_mut().enumerate() {
                m.idx = i;
            }
        }
    }

    pub(super) fn load_dependencies(&mut self, print_unknown: bool) {
        let check_symvers = self.opts.symvers.is_some();
        for i in 0..self.mods.len() {
            let dep_syms = std::mem::take(&mut self.mods[i].dep_syms);
            for ds in &dep_syms {
                let name = ds.name.as_bytes();
                let is_weak = ds.bind == SymbolBind::Weak;
                let Some(sym) = self.symbol_find(name) else {
                    if print_unknown && !is_weak {
                        let msg =
                            cat(&[&self.mods[i].path, b" needs unknown symbol ", name, b"\n"]);
                        self.log.warn(&msg);
                    }
                    continue;
                };
                let (owner, crc) = (sym.owner, sym.crc);
                if check_symvers && crc != ds.crc && !is_weak && print_unknown {
                    let msg = cat(&[
                        &self.mods[i].path,
                        b" disagrees about version of symbol ",
                        name,
                        b"\n",
                    ]);
                    self.log.warn(&msg);
                }
                let Some(owner) = owner else { continue };
                if self.mods[i].deps.contains(&owner) {
                    continue;
                }
                self.mods[i].deps.push(owner);
                self.mods[owner].users += 1;
                if self.log.verbose > DEFAULT_VERBOSE {
                    let stored = self.stored_symbol_name(name);
                    let msg = cat(&[
                        &self.mods[i].path,
                        b" needs \"",
                        &stored,
                        b"\": ",
                        &self.mods[owner].path,
                        b"\n",
                    ]);
                    self.log.show(&msg);
                }
            }
        }
    }

    /// The name a needed symbol is stored under (after `.` and the prefix).
    pub(super) fn stored_symbol_name(&self, name: &[u8]) -> Vec<u8> {
        let mut name = name;
        if let Some(rest) = name.strip_prefix(b".") {
            name = rest;
        }
        if !name.is_empty() && name[0] == self.opts.sym_prefix {
            name = &name[1..];
        }
        name.to_vec()
    }

    /// Topological sort (kmod's `depmod_calculate_dependencies`); reports
    /// cycles and returns `false` if there are any.
    pub(super) fn calculate_dependencies(&mut self) -> R<bool> {
        let n = self.mods.len();
        let mut users: Vec<u32> = self.mods.iter().map(|m| m.users).collect();
        let mut roots: Vec<usize> = (0..n).filter(|&i| users[i] == 0).collect();
        let mut n_sorted = 0i64;
        while let Some(src) = roots.pop() {
            self.mods[src].dep_sort_idx = n_sorted;
            n_sorted += 1;
            for k in 0..self.mods[src].deps.len() {
                let dst = self.mods[src].deps[k];
                users[dst] -= 1;
                if users[dst] == 0 {
                    roots.push(dst);
                }
            }
        }
        if (n_sorted as usize) < n {
            self.report_cycles(&users)?;
            return Ok(false);
        }
        for i in 0..n {
            if self.mods[i].deps.len() > 1 {
                let mut deps = std::mem::take(&mut self.mods[i].deps);
                deps.sort_by_key(|&d| self.mods[d].dep_sort_idx);
                self.mods[i].deps = deps;
            }
        }
        Ok(true)
    }

    pub(super) fn report_cycles(&mut self, users: &[u32]) -> R<()> {
        let mut roots: Vec<usize> = (0..self.mods.len()).filter(|&i| users[i] > 0).collect();
        let stack_size = roots.len();
        let mut loop_set: HashSet<Vec<u8>> = HashSet::new();
        while !roots.is_empty() {
            let root = roots.remove(0);
            self.report_cycles_from_root(root, &mut roots, stack_size, &mut loop_set)?;
        }
        let msg = format!("Found {} modules in dependency cycles!\n", loop_set.len());
        self.log.err(msg.as_bytes());
        Ok(())
    }

    pub(super) fn report_cycles_from_root(
        &mut self,
        root: usize,
        roots: &mut Vec<usize>,
        stack_size: usize,
        loop_set: &mut HashSet<Vec<u8>>,
    ) -> R<()> {
        // kmod's `kmod_list_remove_data`: the list's head becomes the
        // element after the removed one (its lists are circular), so the
        // roots still to walk turn around it — which decides where the next
        // cycle's report starts.
        fn remove(roots: &mut Vec<usize>, m: usize) {
            if let Some(p) = roots.iter().position(|&r| r == m) {
                roots.remove(p);
                if !roots.is_empty() {
                    let head = p % roots.len();
                    roots.rotate_left(head);
                }
            }
        }
        // Vertices: (module, parent vertex).
        let mut vertices: Vec<(usize, Option<usize>)> = vec![(root, None)];
        let mut stack = vec![0usize];
        let mut steps: u64 = 0;
        while let Some(v) = stack.pop() {
            steps += 1;
            let m = vertices[v].0;
            if self.mods[m].visited && m == root {
                let mut chain = Vec::new();
                let mut p = vertices[v].1;
                while let Some(pv) = p {
                    chain.push(vertices[pv].0);
                    loop_set.insert(self.mods[vertices[pv].0].modname.clone());
                    p = vertices[pv].1;
                }
                let mut buf = Vec::new();
                for &c in chain.iter().rev() {
                    buf.extend_from_slice(&self.mods[c].modname);
                    buf.extend_from_slice(b" -> ");
                    remove(roots, c);
                }
                buf.extend_from_slice(&self.mods[m].modname);
                let msg = cat(&[b"Cycle detected: ", &buf, b"\n"]);
                self.log.err(&msg);
                continue;
            }
            self.mods[m].visited = true;
            if self.mods[m].deps.is_empty() {
                remove(roots, m);
                continue;
            }
            for k in 0..self.mods[m].deps.len() {
                let dep = self.mods[m].deps[k];
                if stack.len() >= stack_size {
                    return Err(Fatal::Assertion(
                        "../tools/depmod.c:1912: depmod_report_cycles_from_root: \
                         Assertion `is < stack_size' failed.\n",
                    ));
                }
                if steps > 10_000_000 {
                    // A cycle reachable from the root but not through it:
                    // kmod walks it forever (until memory runs out).
                    return Err(self
                        .log
                        .crit(b"dependency cycles not through the reported module: giving up\n"));
                }
                vertices.push((dep, Some(v)));
                stack.push(vertices.len() - 1);
            }
        }
        Ok(())
    }
}

/// Reads a whole file as `fopen` + `fgets` would see it: open errors are
/// errors, read errors (a directory) give no data.
fn read_stream(path: &[u8]) -> Result<Vec<u8>, Errno> {
    let mut f = std::fs::File::open(os(path)).map_err(|e| errno_of(&e))?;
    let mut data = Vec::new();
    let _ = std::io::Read::read_to_end(&mut f, &mut data);
    Ok(data)
}

/// `strtoull(s, &end, 16)` where the whole token must be converted
/// (`*end == '\0'`), as depmod checks a `Module.symvers` CRC.
pub(super) fn strtoull_hex(s: &[u8]) -> Option<u64> {
    let p = crate::compat::strtol::strtoul(s, 16);
    (p.end != 0 && p.end == s.len()).then_some(p.value)
}
