//! `kprobe trace` and the one-shot form: follow `trace_pipe` for chosen
//! events, one line (or JSON object) per hit; the one-shot form adds its
//! probes first and removes exactly those on every way out — the count or
//! duration reached, a write error, Ctrl-C (SIGINT), SIGTERM or SIGHUP.
//!
//! Hits are read from the binary per-CPU buffers (`trace_pipe_raw`) and
//! decoded here, which keeps up with a fast probe where the kernel's text
//! formatting for `trace_pipe` does not; `--text-pipe`, or an event whose
//! value forms the decoder does not know, reads `trace_pipe` instead.
//!
//! Signals only set a flag (`signal-hook`); the pipes are read without
//! blocking, so the loop sees the flag within one idle period (20 ms).
//! Events this command enabled are disabled again before it returns.

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use modkit::tracefs::pipe::{parse_line, ProbeSite, TraceEvent, TraceLine};
use modkit::tracefs::raw;
use modkit::tracefs::spec::ProbeKind;
use modkit::tracefs::Tracefs;

use super::{add_spec, build_spec, fail, split_name, tracefs, Failure, Options, Outcome};
use crate::compat::stdio::{self, Stdout};

const IDLE: Duration = Duration::from_millis(20);

/// Probes this command added, removed again by [`Added::remove_all`].
struct Added<'a> {
    tracefs: &'a Tracefs,
    events: Vec<(String, String)>,
}

impl Added<'_> {
    fn remove_all(&mut self) -> Result<(), Failure> {
        let mut first_error = None;
        for (g, e) in self.events.drain(..).rev() {
            if let Err(err) = self.tracefs.remove_probe(&g, &e) {
                first_error.get_or_insert(fail(format!("removing {g}/{e}: {err}")));
            }
        }
        first_error.map_or(Ok(()), Err)
    }
}

/// `modkit kprobe [-r] [NAME=]PLACE [FETCHARG...]`.
pub(crate) fn oneshot(o: &Options, rest: &[String]) -> Outcome {
    let mut specs: Vec<(bool, String)> = o.probes.clone();
    if !rest.is_empty() {
        specs.insert(0, (o.ret, rest.join(" ")));
    }
    run(o, &specs, &[])
}

/// `modkit kprobe trace [NAME...] [-p SPEC]... [-P SPEC]...`.
pub(crate) fn trace(o: &Options, names: &[String]) -> Outcome {
    run(o, &o.probes, names)
}

fn run(o: &Options, specs: &[(bool, String)], names: &[String]) -> Outcome {
    let t = tracefs(o)?;
    let stop = Arc::new(AtomicBool::new(false));
    for sig in [
        signal_hook::consts::SIGINT,
        signal_hook::consts::SIGTERM,
        signal_hook::consts::SIGHUP,
    ] {
        signal_hook::flag::register(sig, Arc::clone(&stop))
            .map_err(|e| fail(format!("cannot catch signal {sig}: {e}")))?;
    }
    let mut added = Added {
        tracefs: &t,
        events: Vec::new(),
    };
    let result = add_and_follow(o, &t, specs, names, &stop, &mut added);
    let removed = added.remove_all();
    let code = result?;
    removed?;
    Ok(code)
}

fn add_and_follow(
    o: &Options,
    t: &Tracefs,
    specs: &[(bool, String)],
    names: &[String],
    stop: &AtomicBool,
    added: &mut Added,
) -> Outcome {
    let mut events: Vec<(String, String)> = Vec::new();
    for (ret, text) in specs {
        let mut words = text.split_whitespace().map(str::to_string);
        let Some(place) = words.next() else {
            return Err(fail("an empty probe"));
        };
        let args: Vec<String> = words.collect();
        let kind = if *ret {
            ProbeKind::Return {
                maxactive: o.maxactive,
            }
        } else {
            ProbeKind::Entry
        };
        let spec = build_spec(t, kind, o.group(), &place, &args)?;
        if stop.load(Ordering::Relaxed) {
            return Ok(0);
        }
        add_spec(t, &spec)?;
        added.events.push((spec.group.clone(), spec.event.clone()));
        events.push((spec.group, spec.event));
    }
    for n in names {
        let (g, e) = split_name(o, n);
        if t.probe(&g, &e)?.is_none() {
            return Err(fail(format!(
                "trace: no kprobe event {g}/{e} (see 'modkit kprobe list')"
            )));
        }
        events.push((g, e));
    }
    if events.is_empty() {
        events = t
            .probe_events()?
            .into_iter()
            .filter(|p| p.is_kprobe() && p.group == o.group())
            .map(|p| (p.group, p.event))
            .collect();
        if events.is_empty() {
            return Err(fail(format!(
                "trace: no kprobe events in group {} (add one, or give -p SPEC)",
                o.group()
            )));
        }
    }
    // A larger ring buffer for the trace, put back as it was afterwards.
    let mut buffer_before = None;
    if let Some(kb) = o.buffer_kb {
        let path = t.root().join("buffer_size_kb");
        let before =
            std::fs::read_to_string(&path).map_err(|e| fail(format!("{}: {e}", path.display())))?;
        let before = buffer_size_kb(&before).ok_or_else(|| {
            fail(format!(
                "{}: unexpected '{}'",
                path.display(),
                before.trim()
            ))
        })?;
        std::fs::write(&path, format!("{kb}\n"))
            .map_err(|e| fail(format!("--buffer-size {kb}: {}: {e}", path.display())))?;
        buffer_before = Some((path, before));
    }
    // Enable what is off, and only that is turned off again.
    let mut enabled_here: Vec<(String, String)> = Vec::new();
    let result = (|| {
        for (g, e) in &events {
            if !t.is_enabled(g, e)? {
                t.set_enabled(g, e, true)?;
                enabled_here.push((g.clone(), e.clone()));
            }
        }
        follow(o, t, &events, stop, &mut enabled_here)
    })();
    let mut disable_error = None;
    for (g, e) in enabled_here.drain(..) {
        if let Err(err) = t.set_enabled(&g, &e, false) {
            disable_error.get_or_insert(Failure::from(err));
        }
    }
    if let Some((path, before)) = buffer_before {
        if let Err(e) = std::fs::write(&path, format!("{before}\n")) {
            disable_error.get_or_insert(fail(format!("putting back {}: {e}", path.display())));
        }
    }
    let code = result?;
    disable_error.map_or(Ok(code), Err)
}

/// The per-CPU buffer size `buffer_size_kb` gives: `1408`, or before the
/// buffer was first used `7 (expanded: 1408)`, the size it will have.
fn buffer_size_kb(text: &str) -> Option<u64> {
    let text = text.trim();
    match text.split_once("(expanded: ") {
        Some((_, rest)) => rest.strip_suffix(')')?.trim().parse().ok(),
        None => text.parse().ok(),
    }
}

fn hits(t: &Tracefs, events: &[(String, String)]) -> u64 {
    t.probe_stats()
        .map(|stats| {
            stats
                .iter()
                .filter(|(p, _)| events.iter().any(|(g, e)| *g == p.group && *e == p.event))
                .map(|(_, e)| e.hits)
                .sum()
        })
        .unwrap_or(0)
}

/// The decoders of the events and the per-CPU raw pipes, when every event
/// has a format this build decodes (else the caller reads `trace_pipe`).
fn raw_reader(
    t: &Tracefs,
    events: &[(String, String)],
) -> Option<(Vec<raw::ProbeDecoder>, raw::RawPipes)> {
    let mut decoders = Vec::new();
    for (g, e) in events {
        let text =
            std::fs::read_to_string(t.root().join("events").join(g).join(e).join("format")).ok()?;
        decoders.push(raw::ProbeDecoder::new(&raw::EventFormat::parse(&text).ok()?).ok()?);
    }
    let pipes = raw::RawPipes::open(t.root()).ok()?;
    Some((decoders, pipes))
}

fn follow(
    o: &Options,
    t: &Tracefs,
    events: &[(String, String)],
    stop: &AtomicBool,
    enabled_here: &mut Vec<(String, String)>,
) -> Outcome {
    if !o.text_pipe {
        if let Some((decoders, pipes)) = raw_reader(t, events) {
            return follow_raw(o, t, events, stop, enabled_here, &decoders, pipes);
        }
    }
    let mut pipe = t.open_pipe()?;
    let start = Instant::now();
    let hits_before = hits(t, events);
    let deadline = o.duration.map(|s| start + Duration::from_secs_f64(s));
    let mut out = Stdout::new();
    let (mut printed, mut lost) = (0u64, 0u64);
    let mut draining = false;
    'outer: loop {
        let ending = stop.load(Ordering::Relaxed) || deadline.is_some_and(|d| Instant::now() >= d);
        if ending && !draining {
            // Stop the probes, then print what the buffer still holds.
            for (g, e) in enabled_here.drain(..) {
                t.set_enabled(&g, &e, false)?;
            }
            draining = true;
        }
        let batch = pipe
            .read_text(if draining { Duration::ZERO } else { IDLE })
            .map_err(|e| fail(format!("{}/trace_pipe: {e}", t.root().display())))?;
        if draining && batch.is_empty() {
            break;
        }
        let mut text = Vec::with_capacity(batch.len());
        for line in batch.lines() {
            match parse_line(line) {
                TraceLine::Lost { count, .. } => lost += count,
                TraceLine::Event(ev) if events.iter().any(|(_, e)| *e == ev.event) => {
                    format_event(&mut text, &ev, o.json);
                    printed += 1;
                    if o.count.is_some_and(|n| printed >= n) {
                        write_batch(&mut out, &text)?;
                        break 'outer;
                    }
                }
                _ => {}
            }
        }
        write_batch(&mut out, &text)?;
    }
    summary(t, events, hits_before, start, printed, lost);
    Ok(0)
}

/// [`follow`] over the binary per-CPU buffers: pages decoded here, so the
/// kernel prints nothing; each sweep of the CPUs is printed in time order.
fn follow_raw(
    o: &Options,
    t: &Tracefs,
    events: &[(String, String)],
    stop: &AtomicBool,
    enabled_here: &mut Vec<(String, String)>,
    decoders: &[raw::ProbeDecoder],
    mut pipes: raw::RawPipes,
) -> Outcome {
    let layout = std::fs::read_to_string(t.root().join("events/header_page"))
        .map(|text| raw::PageLayout::parse(&text))
        .unwrap_or_default();
    let in_ns = std::fs::read_to_string(t.root().join("trace_clock"))
        .map(|c| raw::clock_in_ns(&c))
        .unwrap_or(true);
    let start = Instant::now();
    let hits_before = hits(t, events);
    let deadline = o.duration.map(|s| start + Duration::from_secs_f64(s));
    let mut out = Stdout::new();
    let mut namer = raw::AddressNamer::new(None);
    let mut tasks = raw::TaskNames::new(t.root());
    let (mut printed, mut lost) = (0u64, 0u64);
    let mut draining = false;
    // (time stamp, cpu, event index, record's range in `records`) of one sweep.
    let mut sweep: Vec<(u64, u32, usize, std::ops::Range<usize>)> = Vec::new();
    let mut records: Vec<u8> = Vec::new();
    let mut text = Vec::new();
    'outer: loop {
        let ending = stop.load(Ordering::Relaxed) || deadline.is_some_and(|d| Instant::now() >= d);
        if ending && !draining {
            for (g, e) in enabled_here.drain(..) {
                t.set_enabled(&g, &e, false)?;
            }
            draining = true;
        }
        sweep.clear();
        records.clear();
        let pages = pipes
            .read_available(|cpu, page| {
                let info = raw::walk_page(&layout, page, |ts, record| {
                    let Some(id) = raw::record_type(record) else {
                        return;
                    };
                    if let Some(i) = decoders.iter().position(|d| d.id == id) {
                        let at = records.len();
                        records.extend_from_slice(record);
                        sweep.push((ts, cpu, i, at..records.len()));
                    }
                });
                lost += info.lost.unwrap_or(0);
            })
            .map_err(|e| {
                fail(format!(
                    "{}/per_cpu/*/trace_pipe_raw: {e}",
                    t.root().display()
                ))
            })?;
        if pages == 0 {
            if draining {
                break;
            }
            std::thread::sleep(IDLE);
            continue;
        }
        sweep.sort_by_key(|(ts, cpu, _, _)| (*ts, *cpu));
        text.clear();
        for (ts, cpu, i, range) in &sweep {
            let d = &decoders[*i];
            let Some(hit) = d.decode(&records[range.clone()], &mut |a, with_offset| {
                namer.name(a, with_offset)
            }) else {
                continue;
            };
            let timestamp = raw::format_timestamp(*ts, in_ns);
            let site = match &hit.site {
                raw::Site::Entry(at) => ProbeSite::Entry { at },
                raw::Site::Return { to, from } => ProbeSite::Return { to, from },
            };
            let ev = TraceEvent {
                comm: tasks.name(hit.pid),
                pid: hit.pid,
                tgid: None,
                cpu: *cpu,
                flags: None,
                timestamp: &timestamp,
                event: &d.event,
                site: Some(site),
                args: hit
                    .args
                    .iter()
                    .map(|(n, v)| (n.as_str(), v.as_str()))
                    .collect(),
                body: "",
            };
            format_event(&mut text, &ev, o.json);
            printed += 1;
            if o.count.is_some_and(|n| printed >= n) {
                write_batch(&mut out, &text)?;
                break 'outer;
            }
        }
        write_batch(&mut out, &text)?;
    }
    summary(t, events, hits_before, start, printed, lost);
    Ok(0)
}

/// Writes a batch of lines to stdout and flushes it.
fn write_batch(out: &mut Stdout, text: &[u8]) -> Result<(), Failure> {
    out.fwrite(text)
        .and_then(|_| out.flush())
        .map_err(|_| fail("write error"))
}

/// The closing line on stderr: printed, the kernel's count, lost.
fn summary(
    t: &Tracefs,
    events: &[(String, String)],
    hits_before: u64,
    start: Instant,
    printed: u64,
    lost: u64,
) {
    let kernel = hits(t, events).saturating_sub(hits_before);
    let secs = start.elapsed().as_secs_f64();
    stdio::stderr(&format!(
        "modkit kprobe: {printed} events printed in {secs:.3} s; the kernel counted {kernel} hits; {lost} lost in the ring buffer\n"
    ));
}

/// Writes `v`, in double quotes if it holds a space or a quote or is empty.
fn put_value(out: &mut Vec<u8>, v: &str) {
    if v.is_empty() || v.contains([' ', '"']) {
        out.push(b'"');
        out.extend_from_slice(v.as_bytes());
        out.push(b'"');
    } else {
        out.extend_from_slice(v.as_bytes());
    }
}

fn format_event(out: &mut Vec<u8>, ev: &TraceEvent, json: bool) {
    if json {
        // One object per line, written field by field (a serde_json::Value
        // per event was most of the JSON form's cost); strings escaped by
        // serde_json. Key order: time, cpu, pid, comm, event, site, args.
        let string = |out: &mut Vec<u8>, v: &str| {
            let _ = serde_json::to_writer(&mut *out, v);
        };
        out.extend_from_slice(b"{\"time\":");
        string(out, ev.timestamp);
        let _ = write!(out, ",\"cpu\":{},\"pid\":{},\"comm\":", ev.cpu, ev.pid);
        string(out, ev.comm);
        out.extend_from_slice(b",\"event\":");
        string(out, ev.event);
        out.extend_from_slice(b",\"site\":");
        match &ev.site {
            Some(ProbeSite::Entry { at }) => {
                out.extend_from_slice(b"{\"at\":");
                string(out, at);
                out.push(b'}');
            }
            Some(ProbeSite::Return { to, from }) => {
                out.extend_from_slice(b"{\"from\":");
                string(out, from);
                out.extend_from_slice(b",\"to\":");
                string(out, to);
                out.push(b'}');
            }
            None => out.extend_from_slice(b"null"),
        }
        out.extend_from_slice(b",\"args\":{");
        // Later duplicates replace earlier ones in place, as a JSON map
        // keeps them.
        let mut seen: Vec<(&str, &str)> = Vec::with_capacity(ev.args.len());
        for (n, v) in &ev.args {
            match seen.iter_mut().find(|(k, _)| k == n) {
                Some(slot) => slot.1 = v,
                None => seen.push((n, v)),
            }
        }
        for (i, (n, v)) in seen.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            string(out, n);
            out.push(b':');
            string(out, v);
        }
        out.extend_from_slice(b"}}\n");
        return;
    }
    // TIME CPU PID COMM EVENT [<-FUNCTION] NAME=VALUE...
    let _ = write!(out, "{} {} {} ", ev.timestamp, ev.cpu, ev.pid);
    put_value(out, ev.comm);
    out.push(b' ');
    out.extend_from_slice(ev.event.as_bytes());
    if let Some(ProbeSite::Return { from, .. }) = &ev.site {
        out.extend_from_slice(b" <-");
        out.extend_from_slice(from.as_bytes());
    }
    for (n, v) in &ev.args {
        out.push(b' ');
        out.extend_from_slice(n.as_bytes());
        out.push(b'=');
        put_value(out, v);
    }
    out.push(b'\n');
}
