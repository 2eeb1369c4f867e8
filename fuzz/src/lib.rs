//! The harness of every fuzz target: one function per target, taking the
//! fuzzer's bytes. Each must return for every input, in bounded time and
//! memory, without panicking; where a property holds for every input (the
//! index writer's round trip), it asserts it. `fuzz_targets/NAME.rs` hands
//! libFuzzer's input to the function of that name; `tests/replay.rs` runs
//! the same functions over the corpora and the crash regressions on a plain
//! toolchain.

use std::collections::BTreeMap;

use modkit::compat::ere::Regex;
use modkit::compat::fnmatch::fnmatch as c_fnmatch;
use modkit::compat::tz::{TimeZone, Tm};
use modkit::compression::{self, Compression};
use modkit::config::{kernel_cmdline_options, ModprobeConfig};
use modkit::depmod::config::Config as DepmodConfig;
use modkit::index::{Index, IndexBuilder};
use modkit::kmod::Level;
use modkit::kmsg::record::{syslog_records, KmsgBuffer};
use modkit::module::Module;
use modkit::tracefs::{format, pipe, raw, spec};

/// The CLI's getopt, included by path (it is private to the binary); its
/// own tests stay with the CLI.
#[allow(dead_code, clippy::all)]
#[path = "../../crates/modkit-cli/src/compat"]
mod cli_compat {
    pub mod getopt;
}
use cli_compat::getopt;

/// A harness: takes the fuzzer's bytes.
pub type Harness = fn(&[u8]);

/// Every target by name, for the replay test and `fuzz.sh`.
pub const TARGETS: &[(&str, Harness)] = &[
    ("module", module),
    ("signature", signature),
    ("decompress_xz", decompress_xz),
    ("decompress_zstd", decompress_zstd),
    ("decompress_gzip", decompress_gzip),
    ("index_read", index_read),
    ("index_roundtrip", index_roundtrip),
    ("modprobe_d", modprobe_d),
    ("depmod_d", depmod_d),
    ("depmod_pattern", depmod_pattern),
    ("fnmatch", fnmatch),
    ("cmdline", cmdline),
    ("kmsg", kmsg),
    ("syslog", syslog),
    ("tzif", tzif),
    ("tz_string", tz_string),
    ("getopt", getopt),
    ("trace_line", trace_line),
    ("trace_raw", trace_raw),
];

/// A logger that drops everything (the messages are formatted all the same).
fn quiet(_: Level, _: &str, _: &[u8]) {}

/// Splits `data` at its first `sep`: (before, after); all of it before when
/// there is none.
fn split_at_byte(data: &[u8], sep: u8) -> (&[u8], &[u8]) {
    match data.iter().position(|&b| b == sep) {
        Some(at) => (&data[..at], &data[at + 1..]),
        None => (data, &[]),
    }
}

/// The module file reader: ELF sections, `.modinfo`, `__versions`, the
/// symbol tables, exports, parameters, the signature and `strip_for_force`
/// (both ways), and the built-in modinfo table reader. Compressed inputs
/// are left to the decompressor targets (a small xz input may expand a
/// thousandfold, which would only slow this one down).
pub fn module(data: &[u8]) {
    if compression::detect(data) != Compression::None {
        return;
    }
    let _ = modkit::builtin::modinfo_strings(data, "fuzz");
    let Ok(m) = Module::from_bytes("fuzz.ko", data.to_vec()) else {
        return;
    };
    let _ = m.info();
    let _ = m.versions();
    let _ = m.symbols();
    let _ = m.dependency_symbols();
    let _ = m.signature();
    let Ok(elf) = m.elf() else { return };
    let _ = elf.exports();
    let _ = elf.param_array_capacities();
    let _ = elf.this_module_name();
    let _ = elf.section(".modinfo");
    for (modversions, vermagic) in [(true, false), (false, true), (true, true)] {
        if let Ok(stripped) = elf.strip_for_force(modversions, vermagic) {
            // What was stripped must still read as a module.
            if let Ok(again) = Module::from_bytes("fuzz.ko", stripped) {
                let _ = again.info();
                let _ = again.versions();
            }
        }
    }
}

/// The signature trailer (`~Module signature appended~`) and the PKCS#7
/// inside it.
pub fn signature(data: &[u8]) {
    let stripped = modkit::signature::strip_signature(data);
    assert!(stripped.len() <= data.len());
    if let Some(info) = modkit::signature::parse_appended(data) {
        let _ = format!("{info:?}");
    }
}

/// One decompressor, at a small bound so that a bomb found by the fuzzer
/// costs milliseconds (the bound itself is tested in the library; at
/// 64 MiB, gzip ran 7 executions a second under the sanitizers).
fn decompress(kind: Compression, data: &[u8]) {
    const LIMIT: usize = 4 << 20;
    if let Ok(out) = compression::decompress_limited(kind, data, LIMIT) {
        assert!(out.len() <= LIMIT);
    }
}

/// The xz front end (concatenated streams, the index read for a size hint).
pub fn decompress_xz(data: &[u8]) {
    decompress(Compression::Xz, data);
}

/// The zstd front end (the frame's declared content size).
pub fn decompress_zstd(data: &[u8]) {
    decompress(Compression::Zstd, data);
}

/// The gzip front end (concatenated members, the ISIZE hint).
pub fn decompress_gzip(data: &[u8]) {
    decompress(Compression::Gzip, data);
}

/// The index reader, every lookup kind: the first line of the input is a
/// key, the rest an index file.
pub fn index_read(data: &[u8]) {
    let (key, file) = split_at_byte(data, b'\n');
    let key = String::from_utf8_lossy(key);
    let Ok(index) = Index::from_bytes(file.to_vec()) else {
        return;
    };
    let _ = index.lookup(&key);
    let _ = index.lookup_all(&key);
    let _ = index.search_wildcard(&key);
    if let Ok(all) = index.iter() {
        for (k, _) in all.iter().take(8) {
            let _ = index.lookup(k);
            let _ = index.search_wildcard(k);
        }
    }
}

/// The index writer's round trip: lines `KEY VALUE PRIORITY` are inserted,
/// the built file is read back, and every key gives exactly its values in
/// the writer's order (ascending priority, newest first among equals).
pub fn index_roundtrip(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let mut builder = IndexBuilder::new();
    let mut expected: BTreeMap<String, Vec<(u32, u64, String)>> = BTreeMap::new();
    for (n, line) in text.lines().take(2_000).enumerate() {
        let mut words = line.split(' ');
        let (Some(key), Some(value)) = (words.next(), words.next()) else {
            continue;
        };
        let priority = words.next().and_then(|p| p.parse().ok()).unwrap_or(0);
        // The file format stores C strings: a NUL ends them.
        if key.is_empty() || key.contains('\0') || value.contains('\0') {
            continue;
        }
        if builder.try_insert(key, value, priority).is_ok() {
            // Newest first among equal priorities: a decreasing sequence
            // number sorts it first.
            expected.entry(key.to_string()).or_default().push((
                priority,
                u64::MAX - n as u64,
                value.to_string(),
            ));
        }
    }
    let bytes = builder.to_bytes();
    let index = Index::from_bytes(bytes).expect("the writer's own file reads back");
    for (key, mut values) in expected {
        values.sort();
        let want: Vec<(u32, &str)> = values.iter().map(|(p, _, v)| (*p, v.as_str())).collect();
        let got = index.lookup_all(&key).expect("lookup in the writer's file");
        let got: Vec<(u32, &str)> = got.iter().map(|v| (v.priority, v.value.as_str())).collect();
        assert_eq!(got, want, "key {key:?}");
        assert_eq!(
            index.lookup(&key).expect("lookup"),
            want.first().map(|(_, v)| v.to_string())
        );
    }
}

/// The modprobe.d parser, `modprobe -c`'s printer and the blacklist.
pub fn modprobe_d(data: &[u8]) {
    let mut cfg = ModprobeConfig::default();
    cfg.parse(b"/etc/modprobe.d/fuzz.conf", data, &quiet);
    let _ = cfg.show();
    let _ = cfg.is_blacklisted(b"fuzz");
}

/// The depmod.d parser; the first line is the kernel version the
/// `override` and `external` patterns are matched against.
pub fn depmod_d(data: &[u8]) {
    let (kversion, file) = split_at_byte(data, b'\n');
    let mut cfg = DepmodConfig::default();
    cfg.parse(b"/etc/depmod.d/fuzz.conf", file, kversion, &quiet);
}

/// A depmod.d `KVERSION` pattern (POSIX ERE, with budgets) against a
/// subject: `PATTERN NUL SUBJECT`.
pub fn depmod_pattern(data: &[u8]) {
    let (pattern, subject) = split_at_byte(data, 0);
    // (depmod's kernel_matches is this: `*`, or Regex::new and is_match)
    if let Ok(re) = Regex::new(pattern) {
        let _ = re.exec(subject);
    }
}

/// fnmatch(3) as the alias index uses it: `PATTERN NUL STRING`.
pub fn fnmatch(data: &[u8]) {
    let (pattern, s) = split_at_byte(data, 0);
    let _ = c_fnmatch(pattern, s);
}

/// The kernel command line: `MODULE.PARAM=VALUE` options, quoting and
/// `modprobe.blacklist=`.
pub fn cmdline(data: &[u8]) {
    let _ = kernel_cmdline_options(data);
    let mut cfg = ModprobeConfig::default();
    cfg.parse_kernel_cmdline(data, &quiet);
    let _ = cfg.show();
}

/// `/dev/kmsg` records, as read(2) returns them and as `dmesg -K` files
/// store them (NUL-separated, each read on from what the last left), with
/// and without the priority parsed.
pub fn kmsg(data: &[u8]) {
    let mut buf = KmsgBuffer::new();
    for with_priority in [false, true] {
        if let Ok(Some(r)) = buf.parse_read(data, with_priority) {
            let _ = r.message(buf.bytes());
            let _ = (r.caller(), r.level_name(), r.facility_name());
        }
        for raw in data.split(|&b| b == 0) {
            if let Ok(Some(r)) = buf.parse_stored(raw, with_priority) {
                let _ = r.message(buf.bytes());
            }
        }
    }
}

/// syslog(2) text (`dmesg -F` files): `<prio>[seconds.micros] text` lines.
pub fn syslog(data: &[u8]) {
    for with_priority in [false, true] {
        for r in syslog_records(data, with_priority) {
            let _ = r.message(data);
            let _ = (r.caller(), r.level_name(), r.facility_name());
        }
    }
}

/// A TZif file (with its POSIX TZ footer), then local times and mktime
/// over the whole range.
pub fn tzif(data: &[u8]) {
    if let Some(zone) = TimeZone::from_tzif(data) {
        exercise_zone(&zone);
    }
}

/// A `TZ` value read as a POSIX TZ string (values naming a file by an
/// absolute path are skipped: they would read this machine's files).
pub fn tz_string(data: &[u8]) {
    let spec = data.strip_prefix(b":").unwrap_or(data);
    if spec.first() == Some(&b'/') || spec.windows(2).any(|w| w == b"..") {
        return;
    }
    exercise_zone(&TimeZone::from_tz(Some(data)));
}

fn exercise_zone(zone: &TimeZone) {
    for t in [
        i64::MIN,
        -1 << 40,
        -86_400,
        0,
        1_719_835_200,
        1 << 40,
        i64::MAX,
    ] {
        let _ = zone.localtime_checked(t);
    }
    for year in [i64::MIN, -1900, 70, 124, 1 << 33, i64::MAX] {
        let mut tm = Tm {
            year,
            mon: 6,
            mday: 1,
            hour: 12,
            isdst: -1,
            ..Tm::default()
        };
        let _ = zone.mktime(&mut tm);
    }
}

/// Option tables like the tools' (depmod's and dmesg's shapes: required,
/// optional and no-argument options, abbreviations that collide).
const LONG_OPTS: &[getopt::LongOpt] = &[
    getopt::LongOpt::new("all", getopt::HasArg::No, 'a' as i32),
    getopt::LongOpt::new("basedir", getopt::HasArg::Required, 'b' as i32),
    getopt::LongOpt::new("base", getopt::HasArg::Required, 'B' as i32),
    getopt::LongOpt::new("color", getopt::HasArg::Optional, 'L' as i32),
    getopt::LongOpt::new("colour", getopt::HasArg::Optional, 'L' as i32),
    getopt::LongOpt::new("moduledir", getopt::HasArg::Required, 'm' as i32),
    getopt::LongOpt::new("module-dir", getopt::HasArg::Required, 'm' as i32),
    getopt::LongOpt::new("show", getopt::HasArg::No, 'n' as i32),
    getopt::LongOpt::new("show-depends", getopt::HasArg::No, 'D' as i32),
    getopt::LongOpt::new("verbose", getopt::HasArg::No, 'v' as i32),
    getopt::LongOpt::new("version", getopt::HasArg::No, 'V' as i32),
];

/// getopt_long over an argument vector: the first byte picks an optstring
/// (permuting, `+`, `-`, `:`-prefixed) and POSIXLY_CORRECT, the rest is
/// the arguments, NUL-separated.
pub fn getopt(data: &[u8]) {
    use std::ffi::OsString;
    use std::os::unix::ffi::OsStringExt;
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let optstring = [
        "aAb:m:L::nDvVh",
        "+hV",
        "-ab:c::",
        ":ab:c::",
        "+:b:",
        "a::b:c",
    ][usize::from(mode) % 6];
    let mut args: Vec<OsString> = vec![OsString::from("fuzz")];
    args.extend(
        rest.split(|&b| b == 0)
            .take(256)
            .map(|a| OsString::from_vec(a.to_vec())),
    );
    let n = args.len();
    // Each option is at least one byte of an argument (a cluster `-abc`
    // gives three), or a whole argument (an operand in `-` order).
    let most = args.iter().map(|a| a.len()).sum::<usize>() + n + 2;
    let long: &[getopt::LongOpt] = if mode & 0x80 != 0 { &[] } else { LONG_OPTS };
    let mut opts = getopt::Getopt::new(args, optstring, long).posixly_correct(mode & 0x40 != 0);
    let mut count = 0;
    for opt in opts.by_ref() {
        count += 1;
        assert!(count <= most, "getopt did not stop");
        if let Err(e) = opt {
            let _ = e.full_message();
        }
    }
    assert!(opts.optind() <= n);
    let remaining = opts.remaining();
    assert!(remaining.len() <= n);
}

/// The tracefs parsers: trace_pipe lines and their arguments, the
/// kprobe_events, kprobe_profile, blacklist, kprobes/list and error_log
/// files, and probe points and fetch arguments as the user writes them.
pub fn trace_line(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    for line in text.lines().take(64) {
        if let pipe::TraceLine::Event(ev) = pipe::parse_line(line) {
            let _ = ev.seconds();
            let _ = ev.arg("arg1");
        }
        let _ = pipe::parse_args(line);
        let _ = spec::ProbePoint::parse(line).map(|p| p.to_string());
        for kind in [
            spec::ProbeKind::Entry,
            spec::ProbeKind::Return { maxactive: None },
        ] {
            let features = spec::Features {
                btf_args: true,
                arg_n: true,
            };
            let _ = spec::FetchArg::parse(line, kind, features).map(|a| a.to_string());
        }
        let _ = spec::parse_number(line);
        let _ = spec::sanitize(line);
    }
    let _ = format::parse_probe_events(&text);
    let _ = format::parse_profile(&text);
    let _ = format::parse_blacklist(&text);
    let _ = format::parse_kprobes_list(&text);
    let _ = format::parse_error_log(&text);
}

/// The binary ring buffer: an event `format` file (up to the first NUL)
/// and a `trace_pipe_raw` page (the rest): the format parsed, a kprobe
/// decoder built from it, the page walked and every record decoded;
/// `header_page` layouts from the same text.
pub fn trace_raw(data: &[u8]) {
    let (text, page) = split_at_byte(data, 0);
    let text = String::from_utf8_lossy(text);
    let layout = raw::PageLayout::parse(&text);
    let decoder = raw::EventFormat::parse(&text)
        .ok()
        .and_then(|f| raw::ProbeDecoder::new(&f).ok());
    let mut namer = raw::AddressNamer::new(Some(modkit::kallsyms::SymbolTable::default()));
    for layout in [raw::PageLayout::default(), layout] {
        raw::walk_page(&layout, page, |_, record| {
            let _ = raw::record_type(record);
            if let Some(d) = &decoder {
                let _ = d.decode(record, &mut |a, o| namer.name(a, o));
            }
        });
    }
    let _ = raw::clock_in_ns(&text);
}
