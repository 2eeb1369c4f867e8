//! klogd's syslog destinations against a real rsyslog (Debian's package):
//! UDP, TCP (octet counting), TLS (gtls driver, a certificate made by
//! `openssl` for the test), a Unix datagram socket (imuxsock) and a Unix
//! stream socket (imptcp). rsyslog runs unprivileged ports on loopback in a
//! scratch directory with its own configuration and writes what it
//! receives to one file per input with PRI, MSGID, the structured data and
//! the message. The outputs are driven through the library (`open`,
//! `submit`, `poll`, `flush`), as the daemon drives them.
//!
//! Checked: every entry arrives once, in order, with the PRI, MSGID and
//! structured data its fields give; the collector killed (SIGKILL) while
//! entries keep coming and restarted on the same port: for TCP and TLS
//! nothing lost and nothing twice; for UDP nothing twice and nothing out
//! of order (loss while it is down is what UDP allows); a buffer too small
//! for an outage drops entries and reports exactly how many are missing.
//!
//! Needs `rsyslogd`, its gtls driver and `openssl`: `scripts/test.sh`
//! installs them (`apt-get install rsyslog rsyslog-gnutls openssl`).

use std::fs;
use std::net::{TcpListener, TcpStream, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use modkit::klogd::entry::{Entry, Origin};
use modkit::klogd::output::Output;
use modkit::klogd::remote::{open, RemoteSpec, TlsSettings, Transport};
use modkit_testkit::{runs, skip, ScratchDir, Tier};

const RSYSLOGD: &str = "/usr/sbin/rsyslogd";
const GTLS_DRIVER: &str = "/usr/lib/x86_64-linux-gnu/rsyslog/lmnsd_gtls.so";

fn have_tools() -> bool {
    let missing: Vec<&str> = [RSYSLOGD, GTLS_DRIVER, "/usr/bin/openssl"]
        .into_iter()
        .filter(|p| !Path::new(p).exists())
        .collect();
    if missing.is_empty() {
        return true;
    }
    skip(
        Tier::Reference,
        &format!(
            "{} missing (apt-get install rsyslog rsyslog-gnutls openssl; scripts/test.sh does)",
            missing.join(", ")
        ),
    );
    false
}

/// Entry number `n`: levels and facilities cycle, some have a caller, a
/// dictionary, characters the structured data must escape, bytes that are
/// not UTF-8.
fn entry(n: u64) -> Entry {
    let mut dict = Vec::new();
    if n.is_multiple_of(3) {
        dict.push(("SUBSYSTEM".to_string(), b"pci".to_vec()));
        dict.push((
            "DEVICE".to_string(),
            format!("+pci:0000:00:{:02x}.0", n % 256).into_bytes(),
        ));
    }
    if n.is_multiple_of(7) {
        dict.push(("SUBSYSTEM".to_string(), b"odd\"va]l\\ue".to_vec()));
    }
    let mut message = format!("modkit-test message {n} caf\u{e9}").into_bytes();
    if n.is_multiple_of(11) {
        message.extend_from_slice(b" raw \xff\xfe");
    }
    Entry {
        seq: n,
        level: (n % 8) as u8,
        facility: if n.is_multiple_of(5) { 3 } else { 0 },
        monotonic_us: 1_000_000 + n * 1_234,
        realtime_us: Some(1_764_650_875_000_000 + n as i64 * 1_000),
        caller: (n.is_multiple_of(2)).then(|| format!("T{}", n + 100)),
        message,
        dict,
        origin: if n.is_multiple_of(13) {
            Origin::Pstore {
                kind: "dmesg".into(),
                file: format!("dmesg-ramoops-{}", n % 4),
            }
        } else {
            Origin::Live
        },
    }
}

/// What rsyslog's `%STRUCTURED-DATA%` must show for entry `n`, written out
/// here by hand from RFC 5424 (not with the library's formatter).
fn expected_sd(e: &Entry) -> String {
    let esc = |v: &[u8]| {
        let mut s = String::new();
        let text = String::from_utf8_lossy(v);
        for c in text.chars() {
            if matches!(c, '"' | '\\' | ']') {
                s.push('\\');
            }
            s.push(c);
        }
        s
    };
    let mut sd = format!(
        "[kmsg@32473 seq=\"{}\" level=\"{}\" facility=\"{}\" mono=\"{}.{:06}\"",
        e.seq,
        e.level,
        e.facility,
        e.monotonic_us / 1_000_000,
        e.monotonic_us % 1_000_000
    );
    if let Some(c) = &e.caller {
        sd += &format!(" caller=\"{c}\"");
    }
    for (k, v) in &e.dict {
        sd += &format!(" {k}=\"{}\"", esc(v));
    }
    if let Origin::Pstore { kind, file } = &e.origin {
        sd += &format!(" origin=\"pstore\" pstore_kind=\"{kind}\" pstore_file=\"{file}\"");
    }
    sd + "]"
}

fn expected_msg(e: &Entry) -> String {
    let mut s = String::new();
    let mut bytes = &e.message[..];
    loop {
        match std::str::from_utf8(bytes) {
            Ok(t) => {
                s += t;
                break;
            }
            Err(err) => {
                s += std::str::from_utf8(&bytes[..err.valid_up_to()]).unwrap();
                let b = bytes[err.valid_up_to()];
                s += &format!("\\x{b:02x}");
                bytes = &bytes[err.valid_up_to() + 1..];
            }
        }
    }
    s
}

/// A free port below the ephemeral range (32768 up, Linux's default): a
/// client reconnecting to a port in that range while nothing listens there
/// can be given that very port as its own and connect to itself, keeping
/// the collector from binding it again.
fn free_port(udp: bool) -> u16 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let seed = u64::from(std::process::id()) * 7919
        + std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos() as u64;
    loop {
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let port = 20000 + ((seed + n * 104_729) % 12_000) as u16;
        let free = if udp {
            UdpSocket::bind(("127.0.0.1", port)).is_ok()
        } else {
            TcpListener::bind(("127.0.0.1", port)).is_ok()
        };
        if free {
            return port;
        }
    }
}

fn free_tcp_port() -> u16 {
    free_port(false)
}

fn free_udp_port() -> u16 {
    free_port(true)
}

/// The fields the checks read, one message a line: PRI, MSGID, the
/// structured data, the tag, the message.
const FIELDS: &str = "%PRI%|%MSGID%|%STRUCTURED-DATA%|%syslogtag%|%msg%";

/// The message as it came in (the frame's content), one a line.
const RAW: &str = "%rawmsg%";

/// One rsyslogd with one input and one output file.
struct Rsyslog {
    dir: PathBuf,
    conf: PathBuf,
    child: Option<Child>,
    /// A TCP port that is up when rsyslog is (the input's own for TCP/TLS).
    probe: u16,
}

impl Rsyslog {
    /// `input` is the input() statement (without ruleset); `out` the log file.
    fn new(dir: &Path, name: &str, modules: &str, input: &str, probe: u16) -> Rsyslog {
        Rsyslog::with_template(dir, name, modules, input, probe, FIELDS)
    }

    /// [`Rsyslog::new`] writing each message with `template` (an rsyslog
    /// string template, e.g. [`FIELDS`] or [`RAW`]).
    fn with_template(
        dir: &Path,
        name: &str,
        modules: &str,
        input: &str,
        probe: u16,
        template: &str,
    ) -> Rsyslog {
        let work = dir.join(format!("{name}.work"));
        fs::create_dir_all(&work).unwrap();
        let conf = dir.join(format!("{name}.conf"));
        let probe_input = if input.contains("imtcp") && input.contains(&format!("\"{probe}\"")) {
            String::new()
        } else {
            format!("module(load=\"imtcp\")\ninput(type=\"imtcp\" address=\"127.0.0.1\" port=\"{probe}\" ruleset=\"out\")\n")
        };
        let text = format!(
            "global(workDirectory=\"{work}\" maxMessageSize=\"64k\" \
             defaultNetstreamDriverCAFile=\"{dir}/ca.pem\" \
             defaultNetstreamDriverCertFile=\"{dir}/server.pem\" \
             defaultNetstreamDriverKeyFile=\"{dir}/server.key\")\n\
             {modules}\n{probe_input}\
             template(name=\"out\" type=\"string\" string=\"{template}\\n\")\n\
             ruleset(name=\"out\") {{ action(type=\"omfile\" file=\"{dir}/{name}.log\" template=\"out\") }}\n\
             {input}\n",
            work = work.display(),
            dir = dir.display(),
        );
        fs::write(&conf, text).unwrap();
        let mut r = Rsyslog {
            dir: dir.to_path_buf(),
            conf,
            child: None,
            probe,
        };
        r.start();
        r
    }

    fn log(&self, name: &str) -> PathBuf {
        self.dir.join(format!("{name}.log"))
    }

    fn start(&mut self) {
        let pid = self.conf.with_extension("pid");
        let stderr = fs::File::create(self.conf.with_extension("stderr")).unwrap();
        let child = Command::new(RSYSLOGD)
            .arg("-n")
            .arg("-f")
            .arg(&self.conf)
            .arg("-i")
            .arg(&pid)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .expect("rsyslogd runs");
        self.child = Some(child);
        // (slow on a loaded machine: gnutls, the modules)
        let deadline = Instant::now() + Duration::from_secs(60);
        while TcpStream::connect(("127.0.0.1", self.probe)).is_err() {
            if let Some(status) = self.child.as_mut().unwrap().try_wait().unwrap() {
                panic!(
                    "rsyslogd exited ({status}): {}",
                    fs::read_to_string(self.conf.with_extension("stderr")).unwrap_or_default()
                );
            }
            assert!(
                Instant::now() < deadline,
                "rsyslogd did not start listening on {} within 60 s: {}",
                self.probe,
                fs::read_to_string(self.conf.with_extension("stderr")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        // imudp and imuxsock start with imtcp; give them a moment too.
        std::thread::sleep(Duration::from_millis(200));
    }

    fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            c.kill().unwrap();
            c.wait().unwrap();
        }
    }

    /// Stops it the polite way (SIGTERM: rsyslog writes out its queues).
    fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            Command::new("kill")
                .arg("-TERM")
                .arg(c.id().to_string())
                .status()
                .unwrap();
            c.wait().unwrap();
        }
    }
}

impl Drop for Rsyslog {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A CA and a server certificate for 127.0.0.1 signed by it.
fn make_certificates(dir: &Path) {
    let run = |args: &[&str]| {
        let out = Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    run(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "2",
        "-subj",
        "/CN=modkit test CA",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
    ]);
    run(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        "/CN=127.0.0.1",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
    ]);
    fs::write(
        dir.join("ext.cnf"),
        "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n",
    )
    .unwrap();
    run(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "2",
        "-extfile",
        "ext.cnf",
        "-out",
        "server.pem",
    ]);
}

fn spec(transport: Transport, dir: &Path, buffer: usize) -> RemoteSpec {
    let mut spec = RemoteSpec::new(transport);
    spec.tls = TlsSettings {
        ca_file: Some(dir.join("ca.pem")),
        cert_file: None,
        key_file: None,
    };
    spec.buffer_bytes = buffer;
    spec.hostname = "modkit-test".into();
    spec
}

/// Polls until `seq` is reported delivered.
fn deliver(out: &mut dyn Output, seq: u64, within: Duration) {
    let deadline = Instant::now() + within;
    loop {
        let got = out.poll(Instant::now()).unwrap();
        if got >= Some(seq) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{}: {seq} not delivered within {within:?} (delivered: {got:?})",
            out.key()
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// The lines of `log` once it holds `count` of them (or the time is up).
fn lines(log: &Path, count: usize, within: Duration) -> Vec<String> {
    let deadline = Instant::now() + within;
    loop {
        let text = fs::read(log).unwrap_or_default();
        let got: Vec<String> = String::from_utf8_lossy(&text)
            .lines()
            .map(str::to_string)
            .collect();
        if got.len() >= count || Instant::now() >= deadline {
            return got;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Parses a line of the `fields` template; checks PRI, MSGID, SD and the
/// message against entry `seq` (taken from the SD); returns `seq`.
fn check_rfc5424_line(line: &str) -> u64 {
    let mut parts = line.splitn(5, '|');
    let (pri, msgid, sd, _tag, msg) = (
        parts.next().unwrap(),
        parts.next().unwrap_or(""),
        parts.next().unwrap_or(""),
        parts.next().unwrap_or(""),
        parts.next().unwrap_or(""),
    );
    let seq: u64 = sd
        .split("seq=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no seq in {line:?}"));
    let e = entry(seq);
    let want_pri = u32::from(e.facility) * 8 + u32::from(e.level);
    assert_eq!(pri, want_pri.to_string(), "PRI of {line:?}");
    let want_msgid = if matches!(e.origin, Origin::Pstore { .. }) {
        "pstore"
    } else {
        "kmsg"
    };
    assert_eq!(msgid, want_msgid, "MSGID of {line:?}");
    assert_eq!(sd, expected_sd(&e), "structured data of {seq}");
    let msg = msg.strip_prefix('\u{feff}').unwrap_or(msg);
    assert_eq!(msg, expected_msg(&e), "message of {seq}");
    seq
}

/// The seqs of the log's lines, each line checked.
fn received(log: &Path, count: usize) -> Vec<u64> {
    lines(log, count, Duration::from_secs(10))
        .iter()
        .map(|l| check_rfc5424_line(l))
        .collect()
}

/// TCP and TLS: up, killed while entries keep coming, restarted.
fn stream_outage(name: &str, tls: bool) {
    let scratch = ScratchDir::new(&format!("rsyslog-{name}"));
    let dir = scratch.path();
    let (mut rsyslog, mut out) = stream_to_rsyslog(dir, name, tls);
    // rsyslog has written them: what it read is safe from the kill.
    send_written(out.as_mut(), &rsyslog, name, 100);

    rsyslog.kill();
    // Entries keep coming: the first go into the dead connection.
    for n in 101..=150 {
        out.submit(&entry(n)).unwrap();
        out.poll(Instant::now()).unwrap();
    }
    let down = out.poll(Instant::now()).unwrap();
    assert!(
        down < Some(150),
        "{name}: entries counted delivered while the collector is down ({down:?})"
    );
    rsyslog.start();
    deliver(out.as_mut(), 150, Duration::from_secs(20));
    for n in 151..=200 {
        out.submit(&entry(n)).unwrap();
    }
    let flushed = out.flush(Instant::now() + Duration::from_secs(10)).unwrap();
    assert_eq!(flushed, Some(200));
    assert_eq!(out.take_dropped(), 0);
    let got = received(&rsyslog.log(name), 200);
    rsyslog.stop();
    assert_eq!(
        got,
        (1..=200).collect::<Vec<u64>>(),
        "{name}: every entry once, in order"
    );
}

#[test]
fn rsyslog_tcp_every_entry_once_in_order_across_a_collector_kill() {
    if !runs(Tier::Reference) || !have_tools() {
        return;
    }
    stream_outage("tcp", false);
}

#[test]
fn rsyslog_tls_every_entry_once_in_order_across_a_collector_kill() {
    if !runs(Tier::Reference) || !have_tools() {
        return;
    }
    stream_outage("tls", true);
}

#[test]
fn rsyslog_tcp_small_buffer_counts_what_it_drops() {
    if !runs(Tier::Reference) || !have_tools() {
        return;
    }
    let scratch = ScratchDir::new("rsyslog-drop");
    let dir = scratch.path();
    make_certificates(dir);
    let port = free_tcp_port();
    let input =
        format!("input(type=\"imtcp\" address=\"127.0.0.1\" port=\"{port}\" ruleset=\"out\")");
    let mut rsyslog = Rsyslog::new(dir, "drop", "module(load=\"imtcp\")", &input, port);
    let transport = Transport::Tcp {
        host: "127.0.0.1".into(),
        port,
    };
    // Room for about 20 entries.
    let mut out = open(&spec(transport, dir, 20 * 300)).unwrap();
    for n in 1..=10 {
        out.submit(&entry(n)).unwrap();
    }
    deliver(out.as_mut(), 10, Duration::from_secs(10));
    assert_eq!(
        lines(&rsyslog.log("drop"), 10, Duration::from_secs(10)).len(),
        10
    );
    rsyslog.kill();
    for n in 11..=110 {
        out.submit(&entry(n)).unwrap();
        out.poll(Instant::now()).unwrap();
    }
    let dropped = out.take_dropped();
    assert!(
        dropped > 50,
        "only {dropped} dropped of 100 with room for about 20"
    );
    assert_eq!(out.take_dropped(), 0, "take_dropped resets the count");
    rsyslog.start();
    let flushed = out.flush(Instant::now() + Duration::from_secs(20)).unwrap();
    let got = received(&rsyslog.log("drop"), 110 - dropped as usize);
    rsyslog.stop();
    assert_eq!(
        got.len() as u64,
        110 - dropped,
        "received + dropped = submitted: {got:?}"
    );
    assert!(
        got.windows(2).all(|w| w[0] < w[1]),
        "in order, once: {got:?}"
    );
    assert_eq!(flushed, got.last().copied());
    // What was delivered before the outage is all there; what is missing
    // was submitted while the queue was full.
    assert_eq!(got[..10], (1..=10).collect::<Vec<u64>>()[..]);
    assert!(got.iter().all(|s| (1..=110).contains(s)));
}

#[test]
fn rsyslog_udp_once_in_order_loss_only_while_down() {
    if !runs(Tier::Reference) || !have_tools() {
        return;
    }
    let scratch = ScratchDir::new("rsyslog-udp");
    let dir = scratch.path();
    make_certificates(dir);
    let port = free_udp_port();
    let probe = free_tcp_port();
    let input =
        format!("input(type=\"imudp\" address=\"127.0.0.1\" port=\"{port}\" ruleset=\"out\")");
    let mut rsyslog = Rsyslog::new(dir, "udp", "module(load=\"imudp\")", &input, probe);
    let transport = Transport::Udp {
        host: "127.0.0.1".into(),
        port,
    };
    let mut out = open(&spec(transport, dir, 1 << 20)).unwrap();
    for n in 1..=100 {
        out.submit(&entry(n)).unwrap();
        out.poll(Instant::now()).unwrap();
    }
    deliver(out.as_mut(), 100, Duration::from_secs(5));
    assert_eq!(
        received(&rsyslog.log("udp"), 100),
        (1..=100).collect::<Vec<u64>>()
    );
    rsyslog.kill();
    for n in 101..=150 {
        out.submit(&entry(n)).unwrap();
        out.poll(Instant::now()).unwrap();
    }
    rsyslog.start();
    deliver(out.as_mut(), 150, Duration::from_secs(20));
    for n in 151..=200 {
        out.submit(&entry(n)).unwrap();
        out.poll(Instant::now()).unwrap();
    }
    assert_eq!(
        out.flush(Instant::now() + Duration::from_secs(5)).unwrap(),
        Some(200)
    );
    let got = received(&rsyslog.log("udp"), 200);
    rsyslog.stop();
    assert!(
        got.windows(2).all(|w| w[0] < w[1]),
        "UDP: once and in order: {got:?}"
    );
    let want: Vec<u64> = (1..=100).chain(151..=200).collect();
    let kept: Vec<u64> = got
        .iter()
        .copied()
        .filter(|s| !(101..=150).contains(s))
        .collect();
    assert_eq!(
        kept, want,
        "UDP: everything sent while the collector was up arrives"
    );
    eprintln!(
        "UDP: {} of the 50 entries sent while rsyslog was down arrived",
        got.len() - 150
    );
}

/// The local formats: imuxsock on a datagram socket, imptcp on a stream
/// socket. (rsyslog's `%msg%` of a traditional message keeps the space
/// after the tag.)
#[test]
fn rsyslog_unix_sockets_local_format() {
    if !runs(Tier::Reference) || !have_tools() {
        return;
    }
    let scratch = ScratchDir::new("rsyslog-unix");
    let dir = scratch.path();
    make_certificates(dir);
    let probe = free_tcp_port();
    let dgram = dir.join("log.sock");
    let stream = dir.join("stream.sock");
    let modules = "module(load=\"imuxsock\" SysSock.Use=\"off\")\nmodule(load=\"imptcp\")";
    let input = format!(
        "input(type=\"imuxsock\" Socket=\"{}\" ruleset=\"out\")\n\
         input(type=\"imptcp\" path=\"{}\" ruleset=\"out\")",
        dgram.display(),
        stream.display()
    );
    let mut rsyslog = Rsyslog::new(dir, "unix", modules, &input, probe);
    for (i, transport) in [
        Transport::UnixDatagram(dgram.clone()),
        Transport::UnixStream(stream.clone()),
    ]
    .into_iter()
    .enumerate()
    {
        let mut out = open(&spec(transport, dir, 1 << 20)).unwrap();
        let base = i as u64 * 1000;
        for n in base + 1..=base + 50 {
            out.submit(&entry(n)).unwrap();
            out.poll(Instant::now()).unwrap();
        }
        assert_eq!(
            out.flush(Instant::now() + Duration::from_secs(10)).unwrap(),
            Some(base + 50),
            "{}",
            out.key()
        );
        let got = lines(&rsyslog.log("unix"), 50 * (i + 1), Duration::from_secs(10));
        let mut want = Vec::new();
        for n in base + 1..=base + 50 {
            let e = entry(n);
            want.push(format!(
                "{}|-|-|kernel:| {}",
                u32::from(e.facility) * 8 + u32::from(e.level),
                expected_msg(&e)
            ));
        }
        assert_eq!(got[50 * i..], want[..], "{}", out.key());
    }
    rsyslog.stop();
}

/// Runs `test` in a private network namespace (`unshare -n`: a loopback of
/// its own that may be cut without touching the host's):
/// the test binary runs itself again there. Returns `false` in the parent
/// (which has checked the child passed), `true` in the child.
fn in_private_network(test: &str) -> bool {
    if std::env::var_os("MODKIT_RSYSLOG_NETNS").is_some() {
        let up = Command::new("ip")
            .args(["link", "set", "lo", "up"])
            .status()
            .unwrap();
        assert!(up.success(), "ip link set lo up");
        return true;
    }
    let unshare = Command::new("unshare").args(["-n", "true"]).status();
    if !matches!(unshare, Ok(s) if s.success()) {
        skip(
            Tier::Reference,
            "unshare -n fails here (a network namespace needs root)",
        );
        return false;
    }
    let out = Command::new("unshare")
        .arg("-n")
        .arg(std::env::current_exe().unwrap())
        .args(["--exact", test, "--nocapture", "--test-threads=1"])
        .env("MODKIT_RSYSLOG_NETNS", "1")
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success() && text.contains("1 passed"),
        "{test} in a private network:\n{text}"
    );
    false
}

/// Cuts the namespace's loopback (`ip link set lo down`: nothing is
/// delivered, nothing acknowledged, no reset reaches anyone) or restores it.
fn partition(on: bool) {
    let state = if on { "down" } else { "up" };
    let out = Command::new("ip")
        .args(["link", "set", "lo", state])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "ip link set lo {state}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// rsyslog's TCP input on loopback `port` (TLS, anonymous, with `tls`),
/// writing through the ruleset `out`.
fn imtcp_input(port: u16, tls: bool) -> String {
    let driver = if tls {
        " streamDriver.name=\"gtls\" streamDriver.mode=\"1\" streamDriver.authMode=\"anon\""
    } else {
        ""
    };
    format!("input(type=\"imtcp\" address=\"127.0.0.1\" port=\"{port}\" ruleset=\"out\"{driver})")
}

/// An rsyslog with a TCP (or TLS) input on a free port of loopback, in
/// `dir` (its certificates made there), and a stream output to it with
/// room for 1 MiB.
fn stream_to_rsyslog(dir: &Path, name: &str, tls: bool) -> (Rsyslog, Box<dyn Output>) {
    make_certificates(dir);
    let port = free_tcp_port();
    let input = imtcp_input(port, tls);
    let rsyslog = Rsyslog::new(dir, name, "module(load=\"imtcp\")", &input, port);
    let host = "127.0.0.1".to_string();
    let transport = if tls {
        Transport::Tls { host, port }
    } else {
        Transport::Tcp { host, port }
    };
    let out = open(&spec(transport, dir, 1 << 20)).unwrap();
    (rsyslog, out)
}

/// Entries 1..=`count` submitted, delivered, and written by rsyslog.
fn send_written(out: &mut dyn Output, rsyslog: &Rsyslog, name: &str, count: u64) {
    for n in 1..=count {
        out.submit(&entry(n)).unwrap();
    }
    deliver(out, count, Duration::from_secs(10));
    assert_eq!(
        lines(&rsyslog.log(name), count as usize, Duration::from_secs(10)).len(),
        count as usize
    );
}

/// The network is cut (the loopback down) while entries are
/// written: the collector's TCP acknowledges none of them, they must not
/// count as delivered; the collector dies meanwhile; when the network and
/// the collector are back, exactly those entries are written again.
fn stream_partition(name: &str, tls: bool) {
    let scratch = ScratchDir::new(&format!("rsyslog-part-{name}"));
    let dir = scratch.path();
    let (mut rsyslog, mut out) = stream_to_rsyslog(dir, name, tls);
    send_written(out.as_mut(), &rsyslog, name, 50);

    partition(true);
    for n in 51..=100 {
        out.submit(&entry(n)).unwrap();
        out.poll(Instant::now()).unwrap();
    }
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(
        out.poll(Instant::now()).unwrap(),
        Some(50),
        "{name}: entries the collector never acknowledged count as delivered"
    );
    rsyslog.kill();
    partition(false);
    rsyslog.start();
    deliver(out.as_mut(), 100, Duration::from_secs(30));
    let got = received(&rsyslog.log(name), 100);
    rsyslog.stop();
    assert_eq!(
        got,
        (1..=100).collect::<Vec<u64>>(),
        "{name}: every entry once, in order"
    );
}

#[test]
fn rsyslog_tcp_partition_replays_what_was_not_acknowledged() {
    let name = "rsyslog_tcp_partition_replays_what_was_not_acknowledged";
    if !runs(Tier::Reference) || !have_tools() || !in_private_network(name) {
        return;
    }
    stream_partition("tcp", false);
}

#[test]
fn rsyslog_tls_partition_replays_what_was_not_acknowledged() {
    let name = "rsyslog_tls_partition_replays_what_was_not_acknowledged";
    if !runs(Tier::Reference) || !have_tools() || !in_private_network(name) {
        return;
    }
    stream_partition("tls", true);
}

/// A collector whose certificate the CA file does not vouch for: no entry
/// counts as delivered, none reaches it, and the reason is a certificate error.
#[test]
fn rsyslog_tls_refuses_an_untrusted_certificate() {
    if !runs(Tier::Reference) || !have_tools() {
        return;
    }
    let scratch = ScratchDir::new("rsyslog-untrusted");
    let dir = scratch.path();
    make_certificates(dir);
    let other = dir.join("other");
    fs::create_dir(&other).unwrap();
    make_certificates(&other);
    let port = free_tcp_port();
    let input = format!(
        "input(type=\"imtcp\" address=\"127.0.0.1\" port=\"{port}\" ruleset=\"out\" \
         streamDriver.name=\"gtls\" streamDriver.mode=\"1\" streamDriver.authMode=\"anon\")"
    );
    let mut rsyslog = Rsyslog::new(dir, "untrusted", "module(load=\"imtcp\")", &input, port);
    let transport = Transport::Tls {
        host: "127.0.0.1".into(),
        port,
    };
    // Trusts only the other CA.
    let mut out = modkit::klogd::remote::open_syslog(&spec(transport, &other, 1 << 20)).unwrap();
    for n in 1..=5 {
        out.submit(&entry(n)).unwrap();
    }
    let deadline = Instant::now() + Duration::from_secs(1);
    while Instant::now() < deadline {
        assert_eq!(out.poll(Instant::now()).unwrap(), None);
        std::thread::sleep(Duration::from_millis(20));
    }
    let why = out.last_error().unwrap_or_default().to_string();
    assert!(why.to_lowercase().contains("certificate"), "{why}");
    assert!(!out.is_connected());
    assert_eq!(out.queued(), 5);
    std::thread::sleep(Duration::from_millis(300));
    rsyslog.stop();
    let got = fs::read_to_string(rsyslog.log("untrusted")).unwrap_or_default();
    assert!(
        !got.contains("kmsg@32473"),
        "an entry reached the collector: {got}"
    );
}

/// The environment variable that makes the test binary, run again by
/// [`klogd_killed`], the klogd daemon instead of the test:
/// `DIR\nPORT\ntcp|tls`.
const KLOGD_CHILD: &str = "MODKIT_KLOGD_KILL_CHILD";

/// The boot id of the recorded log the kill tests forward.
const KILL_BOOT: &str = "kill-test-boot";

/// Record `seq` as `/dev/kmsg` gives it (the `--kmsg-file` format): levels
/// and facilities cycle, lengths vary, a caller id and a dictionary.
fn kmsg_record(seq: u64) -> String {
    let facility = if seq.is_multiple_of(13) { 3 } else { 0 };
    format!(
        "{},{seq},{},-,caller=T{};modkit-kill message {seq} {}\n SUBSYSTEM=pci\n DEVICE=+pci:0000:00:{:02x}.0\n",
        facility * 8 + seq % 8,
        seq * 1000 + 5,
        seq % 300,
        "x".repeat((seq * 37 % 200) as usize),
        seq % 256
    )
}

/// The daemon, composed as `modkit klogd -n --kmsg-file DIR/kmsg --forward
/// tcp://127.0.0.1:PORT --state-dir DIR/state --rate-limit 0 -x` composes
/// it (the same library calls: `remote::open`, `daemon::resume_point`,
/// `Engine`, `daemon::run` on a followed recorded log); the command line
/// adds option parsing and signal handlers, which SIGKILL never reaches.
/// Runs until it is killed.
fn klogd_child(args: &str) -> ! {
    use modkit::klogd::daemon::{self, Control, Engine, Settings};
    use modkit::klogd::source::Source;
    use modkit::klogd::state::Positions;

    let mut args = args.lines();
    let dir = PathBuf::from(args.next().unwrap());
    let port: u16 = args.next().unwrap().parse().unwrap();
    let host = "127.0.0.1".to_string();
    let transport = match args.next().unwrap() {
        "tls" => Transport::Tls { host, port },
        _ => Transport::Tcp { host, port },
    };
    let positions = Positions::open(dir.join("state")).unwrap();
    let out = open(&spec(transport, &dir, 8 << 20)).unwrap();
    let after = daemon::resume_point(Some(&positions), out.key(), KILL_BOOT).unwrap();
    let mut engine = Engine::new(
        vec![(out, after)],
        Settings {
            rate_limit: None,
            decoder: None,
            twice: false,
            positions: Some(positions),
            boot_id: KILL_BOOT.into(),
            kernel_seq: true,
        },
    );
    let source = Source::recorded(dir.join("kmsg"), true).unwrap();
    let result = daemon::run(
        source,
        &mut engine,
        &Control::default(),
        &mut |_| {},
        &mut |w| eprintln!("klogd: {w}"),
    );
    panic!("the daemon returned: {result:?}");
}

/// A klogd child: killed (SIGKILL) and waited for by [`Daemon::kill`], or
/// when dropped (a failed check does not leave it running).
struct Daemon(Child);

impl Daemon {
    fn kill(&mut self) {
        let _ = self.0.kill();
        self.0.wait().unwrap();
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The seq in the structured data of a message as rsyslog's `%rawmsg%` shows it.
fn raw_seq(line: &str) -> u64 {
    line.split(" seq=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no seq in {line:?}"))
}

/// The collector's log once it has stopped growing (what a killed klogd
/// had written into the connection has all arrived).
fn settled(log: &Path) -> Vec<String> {
    let mut last = None;
    loop {
        std::thread::sleep(Duration::from_millis(300));
        let got = lines(log, 0, Duration::ZERO);
        if last.as_ref() == Some(&got) {
            return got;
        }
        last = Some(got);
    }
}

/// klogd killed with SIGKILL at random points while it forwards a growing
/// log to rsyslog, and restarted each time. What rsyslog holds:
///
/// - every record, each first arrival in seq order: nothing lost;
/// - at each kill, every record up to the position klogd had persisted is
///   at the collector (a position never runs ahead of the collector);
/// - a restarted klogd sends from the persisted position on, in order:
///   the only duplicates are records of the killed run that arrived after
///   that position. THE BOUND: after the kill of a klogd whose persisted
///   position was P, at most the records P+1 ..= H arrive twice, H being
///   the highest seq the collector had received when it was killed, i.e.
///   what the killed klogd had sent since its last persisted position;
/// - each duplicate is byte for byte the message sent first (the same
///   `seq` in the structured data), so a collector can drop it.
fn klogd_killed(test: &str, tls: bool, seed: u64) {
    if let Ok(args) = std::env::var(KLOGD_CHILD) {
        klogd_child(&args);
    }
    if !runs(Tier::Reference) || !have_tools() {
        return;
    }
    let name = if tls { "kill-tls" } else { "kill-tcp" };
    let scratch = ScratchDir::new(&format!("rsyslog-{name}"));
    let dir = scratch.path();
    make_certificates(dir);
    let port = free_tcp_port();
    let input = imtcp_input(port, tls);
    let mut rsyslog =
        Rsyslog::with_template(dir, name, "module(load=\"imtcp\")", &input, port, RAW);
    let log = rsyslog.log(name);
    let key = format!("{}:127.0.0.1:{port}", if tls { "tls" } else { "tcp" });
    let positions = modkit::klogd::state::Positions::open(dir.join("state")).unwrap();
    let persisted = || positions.load(&key).and_then(|p| p.seq);

    let kmsg = dir.join("kmsg");
    fs::write(&kmsg, "").unwrap();
    let mut writer = fs::OpenOptions::new().append(true).open(&kmsg).unwrap();
    let spawn = || {
        let stderr = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(dir.join("klogd.stderr"))
            .unwrap();
        let child = Command::new(std::env::current_exe().unwrap())
            .args(["--exact", test, "--nocapture", "--test-threads=1"])
            .env(
                KLOGD_CHILD,
                format!(
                    "{}\n{port}\n{}",
                    dir.display(),
                    if tls { "tls" } else { "tcp" }
                ),
            )
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .unwrap();
        Daemon(child)
    };

    let total = 30_000u64;
    let kills = 6;
    let mut next = 0u64;
    let mut rng = modkit_testkit::Rng(seed);
    let mut child = spawn();
    // Per kill: the position persisted, the highest seq at the collector,
    // how many lines the collector then held.
    let mut at_kill: Vec<(Option<u64>, u64, usize)> = Vec::new();
    use std::io::Write;
    let mut append = |n: u64| {
        let end = (next + n).min(total);
        let text: String = (next..end).map(kmsg_record).collect();
        writer.write_all(text.as_bytes()).unwrap();
        next = end;
    };
    for round in 0..kills {
        // Records arrive in bursts; once this klogd has delivered some,
        // it is killed: mostly in the middle of a burst it is forwarding,
        // now and then while it waits for the next.
        let before = at_kill.last().and_then(|k: &(Option<u64>, u64, usize)| k.0);
        for _ in 0..1 + rng.below(3) {
            append(200 + rng.below(1000) as u64);
            std::thread::sleep(Duration::from_millis(rng.below(50) as u64));
        }
        let deadline = Instant::now() + Duration::from_secs(60);
        while persisted() <= before {
            assert!(
                Instant::now() < deadline,
                "{name}: klogd delivered nothing in 60 s: {}",
                fs::read_to_string(dir.join("klogd.stderr")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        if round % 3 == 2 {
            std::thread::sleep(Duration::from_millis(rng.below(300) as u64));
        } else {
            append(1000 + rng.below(3000) as u64);
            std::thread::sleep(Duration::from_millis(rng.below(20) as u64));
        }
        child.kill();
        let p = persisted();
        let got = settled(&log);
        let seqs: std::collections::BTreeSet<u64> = got.iter().map(|l| raw_seq(l)).collect();
        if let Some(p) = p {
            let missing: Vec<u64> = (0..=p).filter(|s| !seqs.contains(s)).collect();
            assert!(
                missing.is_empty(),
                "{name}: position {p} persisted, but the collector lacks {missing:?}"
            );
        }
        let high = seqs.last().copied().unwrap_or(0);
        at_kill.push((p, high, got.len()));
        child = spawn();
    }
    append(total);
    let deadline = Instant::now() + Duration::from_secs(120);
    while persisted() != Some(total - 1) {
        assert!(
            Instant::now() < deadline,
            "{name}: position {:?} after 120 s, not {}: {}",
            persisted(),
            total - 1,
            fs::read_to_string(dir.join("klogd.stderr")).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    child.kill();
    let got = settled(&log);
    rsyslog.stop();

    // Every record, first arrivals in order, each copy identical to the first.
    let mut first: Vec<Option<&String>> = vec![None; total as usize];
    let mut order = Vec::new();
    for line in &got {
        let seq = raw_seq(line);
        assert!(
            line.contains(&format!("modkit-kill message {seq} ")),
            "{name}: {line:?}"
        );
        match first[seq as usize] {
            None => {
                first[seq as usize] = Some(line);
                order.push(seq);
            }
            Some(f) => assert_eq!(line, f, "{name}: a duplicate of {seq} differs"),
        }
    }
    assert_eq!(
        order,
        (0..total).collect::<Vec<_>>(),
        "{name}: every record, first arrivals in order"
    );

    // Each run sends from the position the killed one persisted, in order;
    // its duplicates are within the bound.
    let mut start = 0usize;
    let mut resume = 0u64;
    let mut report = Vec::new();
    for (run, end) in at_kill.iter().map(|k| k.2).chain([got.len()]).enumerate() {
        let seqs: Vec<u64> = got[start..end].iter().map(|l| raw_seq(l)).collect();
        assert_eq!(
            seqs,
            (resume..resume + seqs.len() as u64).collect::<Vec<_>>(),
            "{name}: run {run} sends from {resume} on, in order"
        );
        if run > 0 {
            let (p, high, _) = at_kill[run - 1];
            // P+1 ..= H (0 ..= H when nothing was persisted)
            let bound = p.map_or(high + 1, |p| high - p);
            let dups = seqs.iter().filter(|&&s| s <= high).count() as u64;
            assert!(
                dups <= bound,
                "{name}: run {run}: {dups} duplicates, more than the {bound} records after the position {p:?}"
            );
            report.push(format!("{dups}/{bound}"));
        }
        if run < at_kill.len() {
            resume = at_kill[run].0.map_or(0, |p| p + 1);
        }
        start = end;
    }
    let duplicates = got.len() as u64 - total;
    eprintln!(
        "{name}: {kills} kills, {duplicates} duplicates of {total} records \
         (per restart: duplicates/records sent after the persisted position: {})",
        report.join(" ")
    );
}

#[test]
fn rsyslog_tcp_klogd_killed_again_and_again_loses_nothing_and_repeats_only_the_unsaved_tail() {
    klogd_killed(
        "rsyslog_tcp_klogd_killed_again_and_again_loses_nothing_and_repeats_only_the_unsaved_tail",
        false,
        0x5eed_0014,
    );
}

#[test]
fn rsyslog_tls_klogd_killed_again_and_again_loses_nothing_and_repeats_only_the_unsaved_tail() {
    klogd_killed(
        "rsyslog_tls_klogd_killed_again_and_again_loses_nothing_and_repeats_only_the_unsaved_tail",
        true,
        0x5eed_0015,
    );
}
