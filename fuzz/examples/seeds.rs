//! Writes the seed corpora of the fuzz targets.
//!
//! `seeds --committed DIR`: the small synthetic seeds kept in the
//! repository (`fuzz/seeds/TARGET/`): hand-made inputs for every target,
//! the inputs of kmod's reported out-of-bounds bugs (pull requests #126 and
//! #167: index files; #184: `.modinfo` strings; #227: a `/proc/modules` line
//! starting with NUL) and the defects of issue 17 (a TZif file with counts
//! that read as negative, `(){32767}x`, a long `search` line).
//!
//! `seeds DIR`: the large corpora, from the machine: the smallest modules
//! of the Debian trees in `$MODKIT_CACHE/trees/*` (plain, xz, and made
//! into zstd and gzip here), their index files and text indexes, the
//! machine's modprobe.d/depmod.d files, `/proc/cmdline` and time zone
//! files. Written to `$MODKIT_CACHE/fuzz/corpus/TARGET/` by
//! `scripts/fuzz.sh seeds`; nothing there is committed.

use std::io::Write;
use std::path::{Path, PathBuf};

fn put(dir: &Path, target: &str, name: &str, data: &[u8]) {
    let d = dir.join(target);
    std::fs::create_dir_all(&d).unwrap();
    std::fs::write(d.join(name), data).unwrap();
}

fn xz(data: &[u8]) -> Vec<u8> {
    let mut e = liblzma::write::XzEncoder::new(Vec::new(), 1);
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn gz(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn zst(data: &[u8]) -> Vec<u8> {
    zstd::bulk::compress(data, 3).unwrap()
}

fn tzif(version: u8, counts: [u32; 6], body: &[u8]) -> Vec<u8> {
    let mut h = b"TZif".to_vec();
    h.push(version);
    h.extend_from_slice(&[0; 15]);
    for c in counts {
        h.extend_from_slice(&c.to_be_bytes());
    }
    h.extend_from_slice(body);
    h
}

/// A tiny base64 decoder for the kmod proof-of-concept inputs.
fn b64(s: &str) -> Vec<u8> {
    let val = |c: u8| match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        _ => 63,
    };
    let mut out = Vec::new();
    let mut acc = 0u32;
    let mut bits = 0;
    for &c in s.as_bytes().iter().filter(|&&c| c != b'=' && c != b'\n') {
        acc = (acc << 6) | u32::from(val(c));
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    out
}

fn committed(dir: &Path) {
    use modkit_testkit::module_image;
    let m = module_image(
        &[
            ("license", "GPL"),
            ("parm", "debug:int"),
            ("alias", "pci:v00008086d*"),
        ],
        &["fuzz_export"],
        &["printk"],
    );
    put(dir, "module", "synthetic.ko.bin", &m);
    // kmod PR #184: two identical parm strings, long (scaled down from
    // over INT_MAX bytes).
    let long = format!("parm=x:{}", "A".repeat(4096));
    let m184 = module_image(&[("parm", &long[5..]), ("parm", &long[5..])], &[], &[]);
    put(dir, "module", "kmod-184-long-parm.ko.bin", &m184);
    let mut signed = m.clone();
    signed.extend_from_slice(&[0x30, 0x03, 0x02, 0x01, 0x00]);
    signed.extend_from_slice(&[0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 5]);
    signed.extend_from_slice(b"~Module signature appended~\n");
    put(dir, "signature", "pkcs7-short.bin", &signed);
    let mut lying = m.clone();
    lying.extend_from_slice(&[0, 0, 2, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff]);
    lying.extend_from_slice(b"~Module signature appended~\n");
    put(dir, "signature", "length-lies.bin", &lying);
    put(dir, "decompress_xz", "module.xz", &xz(&m));
    put(dir, "decompress_zstd", "module.zst", &zst(&m));
    put(dir, "decompress_gzip", "module.gz", &gz(&m));
    put(dir, "decompress_xz", "zeros.xz", &xz(&[0; 100_000]));
    put(dir, "decompress_gzip", "zeros.gz", &gz(&[0; 100_000]));
    put(dir, "decompress_zstd", "zeros.zst", &zst(&[0; 100_000]));

    let mut b = modkit::index::IndexBuilder::new();
    for (k, v, p) in [
        ("pci:v00008086d*", "e1000e", 0),
        ("pci:v00008086d0000100E*", "e1000", 1),
        ("usb:v*p*d*dc*dsc*dp*ic09isc*ip*in*", "usbcore", 0),
        ("snd-hda", "snd_hda_intel", 2),
        ("snd-hda", "snd_hda_codec", 2),
    ] {
        b.insert(k, v, p);
    }
    let idx = b.to_bytes();
    put(
        dir,
        "index_read",
        "small.bin",
        &[b"pci:v00008086d0000100Esv*\n", &idx[..]].concat(),
    );
    // kmod PR #126: first > last children markers.
    put(
        dir,
        "index_read",
        "kmod-126.bin",
        &[b"x\n", &b64("sAf0VwACAAEgAAAMAwA=")[..]].concat(),
    );
    // kmod PR #167: a negative first child (an xz'd index).
    let pr167 = b64(
        "/Td6WFoAAATm1rRGBMAinAghARwAAAAAAAAAAOX2A/rgBBsAGl0AWAHahc6kB/nBvrJW9H1Nj78L\
         jsj0KxaUn0kAAAA4Anj08IzoigABPpwIAAAA/lBnLLHEZ/sCAAAAAARZWg==",
    );
    if let Ok(plain) = modkit::compression::decompress(&pr167) {
        put(
            dir,
            "index_read",
            "kmod-167.bin",
            &[b"a\n", &plain[..]].concat(),
        );
    }
    put(
        dir,
        "index_roundtrip",
        "lines.txt",
        b"pci:v00008086d* e1000e 0\nsnd-hda snd_hda_intel 2\nsnd-hda snd_hda_codec 2\nx* y 7\n",
    );
    put(
        dir,
        "modprobe_d",
        "all.conf",
        b"alias foo bar\noptions e1000e IntMode=1 \"x y\"\ninstall a /bin/true\nremove a /bin/false\n\
          softdep a pre: b post: c\nweakdep a d\nblacklist evil\n# c\nbogus line\nalias \\\n cont x\n",
    );
    let search: String = (0..2_000).map(|i| format!(" d{i}")).collect();
    put(
        dir,
        "depmod_d",
        "all.conf",
        format!(
            "6.1.0-50-amd64\nsearch updates extra built-in external\noverride m ^6\\.1 extra\n\
             external * /opt/x\nexclude a b\nmake_map_files\noverride x (){{32767}}x y\nsearch{search}\n"
        )
        .as_bytes(),
    );
    put(
        dir,
        "depmod_pattern",
        "interval.txt",
        b"(){32767}x\x006.1.0x",
    );
    put(
        dir,
        "depmod_pattern",
        "backref.txt",
        b"(a*)*\\1b\x00aaaaaaaaaaaaaaaaaaaaaaaax",
    );
    put(
        dir,
        "depmod_pattern",
        "version.txt",
        b"^6\\.(1|12)\\..*-amd64$\x006.12.118+deb13-amd64",
    );
    put(
        dir,
        "fnmatch",
        "alias.txt",
        b"pci:v00008086d*sv*sd*bc02sc00i*\x00pci:v00008086d0000100Esv00001AF4sd00001100bc02sc00i00",
    );
    put(
        dir,
        "fnmatch",
        "classes.txt",
        b"[[:alpha:]]*[!a-c]?[]x]\\*\x00abcd]*",
    );
    put(
        dir,
        "cmdline",
        "cmdline.txt",
        b"BOOT_IMAGE=/vmlinuz root=UUID=1 ro quiet e1000e.IntMode=1 \"snd.opt=a b\" modprobe.blacklist=a,b,c\n",
    );
    put(
        dir,
        "kmsg",
        "records.bin",
        b"6,1234,5678901,-;hello world\n SUBSYSTEM=pci\n DEVICE=+pci:0000:00:01.0\n\x00\
          4,1235,5678902,c,caller=T12;warn \\x1b[1m\n\x0012,1,2,-;x\n",
    );
    put(
        dir,
        "syslog",
        "log.txt",
        b"<6>[    1.000000] hello\n<4>[ 2.500000] [T12] world\n<30>[x] bad\ncontinued\n<999999999999>[1.1] big\n",
    );
    put(
        dir,
        "tzif",
        "utc.tzif",
        &tzif(b'2', [0, 0, 0, 0, 1, 4], b"\0\0\0\0\0\0UTC\0"),
    );
    // Issue 17: counts that read as negative.
    put(
        dir,
        "tzif",
        "negative-count.tzif",
        &tzif(b'2', [0, 0, 0, 0x8000_0000, 1, 4], b"\0\0\0\0\0\0UTC\0"),
    );
    put(dir, "tz_string", "rule.txt", b"EST5EDT,M3.2.0,M11.1.0");
    put(
        dir,
        "tz_string",
        "angle.txt",
        b"<+0330>-3:30<+0430>,J79/24,J263/24",
    );
    put(
        dir,
        "getopt",
        "depmod.bin",
        b"\x00-a\x00-b\x00/tmp\x00--mo=x\x00--bas\x00y\x00--\x00-v\x006.1",
    );
    put(
        dir,
        "getopt",
        "dmesg.bin",
        b"\x02-Lnever\x00--color\x00--col=always\x00x\x00-c\x00",
    );
    put(
        dir,
        "trace_line",
        "pipe.txt",
        b"              sh-92      [000] .N...    18.958115: kp: (mk_kptarget_fn+0x0/0x30 [mk_kptarget]) value=7 idx=0x0 tag=\"modkit probe arg\"\n\
          CPU:1 [LOST 12 EVENTS]\n# tracer: nop\n\
          p:kprobes/kp mk_kptarget_fn value=%di:s32 tag=+0(%si):string\n\
          r4:ret do_sys_open $retval\n",
    );
    // A kprobe event's format file, NUL, a trace_pipe_raw page with two
    // records (one small, one with a length word) and a time extend.
    {
        let mut seed = b"name: kp\nID: 1561\nformat:\n\
\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n\
\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;\n\
\tfield:unsigned long __probe_ip;\toffset:8;\tsize:8;\tsigned:0;\n\
\tfield:s32 value;\toffset:16;\tsize:4;\tsigned:1;\n\
\tfield:__data_loc char[] tag;\toffset:20;\tsize:4;\tsigned:1;\n\
\nprint fmt: \"(%lx) value=%d tag=\\\"%s\\\"\", REC->__probe_ip, REC->value, __get_str(tag)\n"
            .to_vec();
        seed.push(0);
        let mut record = vec![0u8; 24];
        record[0..2].copy_from_slice(&1561u16.to_le_bytes());
        record[4..8].copy_from_slice(&92i32.to_le_bytes());
        record[16..20].copy_from_slice(&(-7i32).to_le_bytes());
        record[20..24].copy_from_slice(&(24u32 | 4 << 16).to_le_bytes());
        record.extend_from_slice(b"arg\0");
        let mut data = Vec::new();
        data.extend_from_slice(&((record.len() as u32 / 4) | 3 << 5).to_le_bytes());
        data.extend_from_slice(&record);
        data.extend_from_slice(&(30u32 | 5 << 5).to_le_bytes());
        data.extend_from_slice(&1u32.to_le_bytes());
        data.extend_from_slice(&(7u32 << 5).to_le_bytes());
        data.extend_from_slice(&(record.len() as u32 + 4).to_le_bytes());
        data.extend_from_slice(&record);
        seed.extend_from_slice(&1_000_000u64.to_le_bytes());
        seed.extend_from_slice(&(data.len() as u64).to_le_bytes());
        seed.extend_from_slice(&data);
        put(dir, "trace_raw", "kp-page.bin", &seed);
    }
    // kmod PR #227: a /proc/modules line starting with NUL (there is no
    // /proc/modules target: lsmod's reader is exercised by the hostile
    // CLI tests; the line is a syslog/kmsg input here).
    put(
        dir,
        "syslog",
        "kmod-227-nul-line.txt",
        b"\x00\nmk 16384 0 - Live 0x0\n",
    );
}

/// The smallest files under `root` whose name ends in `suffix`.
fn smallest(root: &Path, suffix: &str, n: usize, max: u64) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            let p = e.path();
            let Ok(md) = std::fs::symlink_metadata(&p) else {
                continue;
            };
            if md.is_dir() {
                stack.push(p);
            } else if md.is_file() && p.to_string_lossy().ends_with(suffix) && md.len() <= max {
                found.push((md.len(), p));
            }
        }
    }
    found.sort();
    // Spread over the sizes: every k-th of those that fit.
    let step = (found.len() / n.max(1)).max(1);
    found
        .into_iter()
        .step_by(step)
        .take(n)
        .map(|(_, p)| p)
        .collect()
}

fn machine(dir: &Path) {
    let cache = std::env::var_os("MODKIT_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").unwrap()).join(".cache/modkit"));
    let trees = cache.join("trees");
    let mut count = 0;
    for tree in ["6.1", "6.12", "6.12-bpo"] {
        let root = trees.join(tree);
        if !root.is_dir() {
            eprintln!("seeds: no tree {} (scripts/refs.sh trees)", root.display());
            continue;
        }
        for p in smallest(&root, ".ko", 30, 96 << 10) {
            let data = std::fs::read(&p).unwrap();
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            put(dir, "module", &format!("{tree}-{name}"), &data);
            put(dir, "signature", &format!("{tree}-{name}"), &data);
            put(
                dir,
                "decompress_zstd",
                &format!("{tree}-{name}.zst"),
                &zst(&data),
            );
            put(
                dir,
                "decompress_gzip",
                &format!("{tree}-{name}.gz"),
                &gz(&data),
            );
            count += 1;
        }
        for p in smallest(&root, ".ko.xz", 30, 48 << 10) {
            let data = std::fs::read(&p).unwrap();
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            put(dir, "decompress_xz", &format!("{tree}-{name}"), &data);
            if let Ok(plain) = modkit::compression::decompress(&data) {
                put(dir, "module", &format!("{tree}-{name}.ko"), &plain);
                put(dir, "signature", &format!("{tree}-{name}.ko"), &plain);
            }
            count += 1;
        }
        for p in smallest(&root, ".bin", 40, 4 << 20) {
            let data = std::fs::read(&p).unwrap();
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            let key: &[u8] = if name.contains("alias") {
                b"pci:v00008086d0000100Esv00001AF4sd00001100bc02sc00i00"
            } else if name.contains("symbols") {
                b"symbol:printk"
            } else {
                b"e1000e"
            };
            put(
                dir,
                "index_read",
                &format!("{tree}-{name}"),
                &[key, b"\n", &data[..]].concat(),
            );
            count += 1;
        }
        for p in smallest(&root, "modules.alias", 2, 8 << 20) {
            let text = std::fs::read_to_string(&p).unwrap_or_default();
            let mut lines = String::new();
            let mut patterns = Vec::new();
            for (i, l) in text.lines().skip(1).take(1_500).enumerate() {
                let w: Vec<&str> = l.split(' ').collect();
                if w.len() == 3 {
                    lines.push_str(&format!("{} {} {}\n", w[1], w[2], i % 3));
                    patterns.push(w[1].to_string());
                }
            }
            put(
                dir,
                "index_roundtrip",
                &format!("{tree}-alias.txt"),
                lines.as_bytes(),
            );
            for (i, pat) in patterns.iter().step_by(100).enumerate() {
                let subject = pat.replace('*', "0");
                put(
                    dir,
                    "fnmatch",
                    &format!("{tree}-{i}"),
                    format!("{pat}\0{subject}").as_bytes(),
                );
            }
        }
    }
    for etc in ["/etc/modprobe.d", "/lib/modprobe.d", "/usr/lib/modprobe.d"] {
        for p in smallest(Path::new(etc), ".conf", 50, 1 << 20) {
            let data = std::fs::read(&p).unwrap_or_default();
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            put(dir, "modprobe_d", &name, &data);
            count += 1;
        }
    }
    for etc in ["/etc/depmod.d", "/lib/depmod.d", "/usr/lib/depmod.d"] {
        for p in smallest(Path::new(etc), ".conf", 20, 1 << 20) {
            let data = std::fs::read(&p).unwrap_or_default();
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            put(
                dir,
                "depmod_d",
                &name,
                &[b"6.1.0-50-amd64\n", &data[..]].concat(),
            );
            count += 1;
        }
    }
    if let Ok(c) = std::fs::read("/proc/cmdline") {
        put(dir, "cmdline", "proc-cmdline", &c);
    }
    for z in [
        "UTC",
        "America/New_York",
        "Europe/Berlin",
        "Asia/Kolkata",
        "Australia/Lord_Howe",
        "Pacific/Chatham",
        "America/St_Johns",
        "Africa/Casablanca",
    ] {
        if let Ok(d) = std::fs::read(Path::new("/usr/share/zoneinfo").join(z)) {
            put(dir, "tzif", &z.replace('/', "-"), &d);
            if let Some(footer) = d.rsplit(|&b| b == b'\n').nth(1) {
                put(dir, "tz_string", &z.replace('/', "-"), footer);
            }
            count += 1;
        }
    }
    eprintln!("seeds: {count} machine inputs in {}", dir.display());
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.as_slice() {
        [flag, dir] if flag == "--committed" => committed(Path::new(dir)),
        [dir] => {
            committed(Path::new(dir));
            machine(Path::new(dir));
        }
        _ => {
            eprintln!("usage: seeds [--committed] DIR");
            std::process::exit(2);
        }
    }
}
