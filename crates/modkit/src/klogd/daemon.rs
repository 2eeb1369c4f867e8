//! The daemon's engine: records from a [`Source`] go to every output, none
//! lost, in order (exactly once but for what a `kill -9` sends again to a
//! collector: see `remote`).
//!
//! - Each output starts after its own resume point ([`resume_point`]: the
//!   persisted position of this boot, or what its file says it holds); the
//!   source is read from the beginning of the ring buffer and records an
//!   output already has are not given to it again.
//! - A seq gap (records the kernel overwrote before they were read, or
//!   before klogd started) becomes one entry `klogd: missed N records (seq
//!   A to B)`, numbered B: an output that has it resumes after it.
//! - Floods are rate limited ([`super::ratelimit`]), malformed records
//!   skipped and counted (`klogd: skipped N malformed records`), raw
//!   addresses decoded ([`super::decode`]).
//! - After each batch the outputs are polled and each output's delivered
//!   position saved ([`super::state`]).
//!
//! [`run`] drives it: a thread reads the source, the caller's thread
//! handles records, signals (stop, reopen, reload) and timers.

use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::decode::Decoder;
use super::entry::{Entry, Origin};
use super::file::FileOutput;
use super::output::Output;
use super::ratelimit::{Limiter, RateLimit};
use super::source::{Source, SourceEvent};
use super::state::{Position, Positions};

/// What klogd's own entries say about the log.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Records given to the outputs.
    pub records: u64,
    /// Records skipped because every output had them (a resumed run).
    pub already_delivered: u64,
    /// Records missed (seq gaps).
    pub missed: u64,
    /// `EPIPE`s seen.
    pub overwritten: u64,
    /// Records suppressed by the rate limit.
    pub suppressed: u64,
    /// Malformed records skipped.
    pub malformed: u64,
    /// Records with decoded addresses.
    pub decoded: u64,
}

/// The resume point of an output from its persisted position: the last seq
/// it delivered in this boot (`None`: from the beginning). A position of
/// another boot, or none, is replaced by `BOOT_ID -` at once.
pub fn resume_point(
    positions: Option<&Positions>,
    key: &str,
    boot_id: &str,
) -> io::Result<Option<u64>> {
    let Some(p) = positions else {
        return Ok(None);
    };
    match p.load(key) {
        Some(pos) if pos.boot_id == boot_id => Ok(pos.seq),
        _ => {
            p.save(
                key,
                &Position {
                    boot_id: boot_id.to_string(),
                    seq: None,
                },
            )?;
            Ok(None)
        }
    }
}

/// [`resume_point`] for a file output: in the same boot, the later of the
/// persisted position and the file's last line (klogd killed between
/// writing and saving); in a new boot, a boot marker is written to the file
/// first.
pub fn resume_file(
    out: &mut FileOutput,
    positions: Option<&Positions>,
    boot_id: &str,
) -> io::Result<Option<u64>> {
    let key = out.key().to_string();
    let same_boot = positions
        .and_then(|p| p.load(&key))
        .is_some_and(|pos| pos.boot_id == boot_id);
    if positions.is_some() && !same_boot {
        out.mark_boot(boot_id)?;
    }
    let saved = resume_point(positions, &key, boot_id)?;
    if positions.is_none() {
        return Ok(None);
    }
    Ok(saved.max(out.recovered()))
}

struct Slot {
    output: Box<dyn Output>,
    after: Option<u64>,
    saved: Option<u64>,
    /// The last seq given to the output (not counting pstore records).
    submitted: Option<u64>,
}

/// The engine (see the module documentation).
pub struct Engine {
    slots: Vec<Slot>,
    expected: Option<u64>,
    limiter: Option<Limiter>,
    decoder: Option<Decoder>,
    twice: bool,
    positions: Option<Positions>,
    boot_id: String,
    kernel_seq: bool,
    malformed_pending: u64,
    last_us: u64,
    last_seq: u64,
    /// Counts so far.
    pub stats: Stats,
    /// Things worth saying in debug mode, drained by [`run`].
    pub notes: Vec<String>,
}

/// How the engine treats records.
pub struct Settings {
    /// The rate limit (`None`: none).
    pub rate_limit: Option<RateLimit>,
    /// The address decoder (`None`: `-x`).
    pub decoder: Option<Decoder>,
    /// `-2`: a decoded record is given twice, raw then decoded.
    pub twice: bool,
    /// Where positions are saved (`None`: nowhere, as with `-s`).
    pub positions: Option<Positions>,
    /// This boot's id.
    pub boot_id: String,
    /// Whether the source's seqs are the kernel's (gaps mean loss).
    pub kernel_seq: bool,
}

impl Engine {
    /// An engine over outputs, each with its resume point.
    pub fn new(outputs: Vec<(Box<dyn Output>, Option<u64>)>, settings: Settings) -> Engine {
        // Read from the first record an output lacks.
        let expected = if outputs.iter().any(|(_, a)| a.is_none()) || outputs.is_empty() {
            None
        } else {
            outputs.iter().filter_map(|(_, a)| *a).min().map(|a| a + 1)
        };
        Engine {
            slots: outputs
                .into_iter()
                .map(|(output, after)| Slot {
                    output,
                    after,
                    saved: after,
                    submitted: None,
                })
                .collect(),
            expected,
            limiter: settings.rate_limit.map(Limiter::new),
            decoder: settings.decoder,
            twice: settings.twice,
            positions: settings.positions,
            boot_id: settings.boot_id,
            kernel_seq: settings.kernel_seq,
            malformed_pending: 0,
            last_us: 0,
            last_seq: 0,
            stats: Stats::default(),
            notes: Vec::new(),
        }
    }

    /// The decoder, to reload its symbols (`-i`, `SIGUSR1`).
    pub fn decoder(&mut self) -> Option<&mut Decoder> {
        self.decoder.as_mut()
    }

    fn own(&self, seq: u64, level: u8, message: String) -> Entry {
        Entry {
            seq,
            level,
            facility: 5,
            monotonic_us: self.last_us,
            realtime_us: None,
            caller: None,
            message: message.into_bytes(),
            dict: Vec::new(),
            origin: Origin::Klogd,
        }
    }

    fn submit(&mut self, entry: &Entry, force: bool) -> io::Result<()> {
        for slot in &mut self.slots {
            if force || slot.after.is_none_or(|a| a < entry.seq) {
                slot.output
                    .submit(entry)
                    .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", slot.output.key())))?;
                if !force {
                    slot.submitted = Some(entry.seq);
                }
            }
        }
        Ok(())
    }

    /// Gives an entry to every output whatever its position (pstore
    /// records, which are not in the kernel's sequence).
    pub fn submit_extra(&mut self, entry: &Entry) -> io::Result<()> {
        self.submit(entry, true)
    }

    /// Handles one event of the source.
    pub fn handle(&mut self, event: SourceEvent, now: Instant) -> io::Result<()> {
        match event {
            SourceEvent::Record(e) => self.record(e, now),
            SourceEvent::Malformed(raw, why) => {
                self.stats.malformed += 1;
                self.malformed_pending += 1;
                let shown = String::from_utf8_lossy(&raw[..raw.len().min(120)]).into_owned();
                self.notes
                    .push(format!("malformed record ({why}): {shown:?}"));
                Ok(())
            }
            SourceEvent::Overwritten => {
                self.stats.overwritten += 1;
                self.notes
                    .push("records overwritten before they were read (EPIPE)".into());
                Ok(())
            }
            SourceEvent::PossibleLoss => {
                let e = self.own(
                    self.last_seq,
                    4,
                    "klogd: the kernel log buffer was full before a read: records may have been \
                     lost (syslog(2) cannot tell how many; /dev/kmsg can)"
                        .into(),
                );
                self.submit(&e, true)
            }
            SourceEvent::End => Ok(()),
        }
    }

    fn record(&mut self, mut e: Entry, now: Instant) -> io::Result<()> {
        let expected = self.expected.unwrap_or(0);
        if self.kernel_seq && e.seq < expected {
            // Malformed records before it were reported with it.
            self.malformed_pending = 0;
            self.stats.already_delivered += 1;
            return Ok(());
        }
        self.last_us = e.monotonic_us;
        if self.kernel_seq && e.seq > expected {
            let n = e.seq - expected;
            self.stats.missed += n;
            let m = self.own(
                e.seq - 1,
                4,
                format!(
                    "klogd: missed {n} records (seq {expected} to {})",
                    e.seq - 1
                ),
            );
            self.submit(&m, false)?;
        }
        self.expected = Some(e.seq + 1);
        self.last_seq = e.seq;
        if self.malformed_pending > 0 {
            let n = std::mem::take(&mut self.malformed_pending);
            let m = self.own(e.seq, 4, format!("klogd: skipped {n} malformed records"));
            self.submit(&m, false)?;
        }
        if let Some(limiter) = &mut self.limiter {
            let ended = limiter.tick(now);
            let admitted = limiter.admit(now, e.seq);
            if let Some(s) = ended {
                self.summarise(s.count, s.first, s.last, false)?;
            }
            if !admitted {
                self.stats.suppressed += 1;
                return Ok(());
            }
        }
        let decoded = match &mut self.decoder {
            Some(d) => {
                let decoded = d.decode(&e.message);
                if let Some(why) = d.last_error.take() {
                    self.notes.push(format!("symbols: {why}"));
                }
                decoded
            }
            None => None,
        };
        if let Some(decoded) = decoded {
            self.stats.decoded += 1;
            if self.twice {
                self.submit(&e, false)?;
            }
            e.message = decoded;
        }
        self.stats.records += 1;
        self.submit(&e, false)
    }

    fn summarise(&mut self, count: u64, first: u64, last: u64, force: bool) -> io::Result<()> {
        let m = self.own(
            last,
            5,
            format!("klogd: suppressed {count} records (seq {first} to {last}): rate limit"),
        );
        self.submit(&m, force)
    }

    /// Timers: ends a rate-limit interval that is over.
    pub fn tick(&mut self, now: Instant) -> io::Result<()> {
        if let Some(s) = self.limiter.as_mut().and_then(|l| l.tick(now)) {
            self.summarise(s.count, s.first, s.last, false)?;
        }
        Ok(())
    }

    /// Polls the outputs and saves the positions that moved. Every output
    /// is polled; the first error is returned.
    pub fn poll(&mut self, now: Instant) -> io::Result<()> {
        let mut first_err = None;
        let mut dropped = Vec::new();
        for slot in &mut self.slots {
            let r = slot.output.poll(now);
            let n = slot.output.take_dropped();
            if n > 0 {
                dropped.push(format!(
                    "klogd: {} dropped {n} records (its buffer was full)",
                    slot.output.key()
                ));
            }
            match r {
                Ok(Some(seq)) if slot.saved != Some(seq) => {
                    if let Some(p) = &self.positions {
                        let pos = Position {
                            boot_id: self.boot_id.clone(),
                            seq: Some(seq),
                        };
                        if let Err(e) = p.save(slot.output.key(), &pos) {
                            first_err.get_or_insert(e);
                            continue;
                        }
                    }
                    slot.saved = Some(seq);
                }
                Ok(_) => {}
                Err(e) => {
                    first_err.get_or_insert(io::Error::new(
                        e.kind(),
                        format!("{}: {e}", slot.output.key()),
                    ));
                }
            }
        }
        for msg in dropped {
            let e = self.own(self.last_seq, 4, msg);
            self.submit(&e, true)?;
        }
        first_err.map_or(Ok(()), Err)
    }

    /// Whether an output has entries written but not yet known delivered
    /// ([`Output::awaiting_delivery`]): [`run`] then polls again within
    /// [`ACK_POLL`] instead of [`IDLE_POLL`].
    pub fn awaiting_delivery(&self) -> bool {
        self.slots.iter().any(|s| s.output.awaiting_delivery())
    }

    /// Reopens every output (`SIGHUP`).
    pub fn reopen(&mut self) -> io::Result<()> {
        for slot in &mut self.slots {
            slot.output.reopen()?;
        }
        Ok(())
    }

    /// At exit: summaries of what is still counted, then every output
    /// flushed (until `deadline`) and its position saved.
    pub fn finish(&mut self, deadline: Instant) -> io::Result<()> {
        if let Some(s) = self.limiter.as_mut().and_then(Limiter::take) {
            self.summarise(s.count, s.first, s.last, true)?;
        }
        if self.malformed_pending > 0 {
            let n = std::mem::take(&mut self.malformed_pending);
            let m = self.own(
                self.last_seq,
                4,
                format!("klogd: skipped {n} malformed records"),
            );
            self.submit(&m, true)?;
        }
        self.poll(Instant::now())?;
        let mut first_err = None;
        for slot in &mut self.slots {
            let flushed = slot.output.flush(deadline);
            // what the output still holds at the end is not lost (its
            // position stays before it: the next run sends it), but the
            // run did not deliver it: say so
            if let (Ok(delivered), Some(last)) = (&flushed, slot.submitted) {
                if delivered.is_none_or(|d| d < last) {
                    let from = match delivered {
                        Some(d) => format!("after seq {d}"),
                        None => "from the first".to_string(),
                    };
                    first_err.get_or_insert(io::Error::other(format!(
                        "{}: records {from} to seq {last} not delivered; the next run sends them",
                        slot.output.key(),
                    )));
                }
            }
            match flushed {
                Ok(Some(seq)) if slot.saved != Some(seq) => {
                    if let Some(p) = &self.positions {
                        let pos = Position {
                            boot_id: self.boot_id.clone(),
                            seq: Some(seq),
                        };
                        if let Err(e) = p.save(slot.output.key(), &pos) {
                            first_err.get_or_insert(e);
                        }
                    }
                    slot.saved = Some(seq);
                }
                Ok(_) => {}
                Err(e) => {
                    first_err.get_or_insert(e);
                }
            }
        }
        first_err.map_or(Ok(()), Err)
    }
}

/// How long [`run`] waits for a record before it polls the outputs again
/// (reconnects, timers) when none awaits an acknowledgement.
pub const IDLE_POLL: Duration = Duration::from_millis(200);

/// How long [`run`] waits for a record before it polls again while an output
/// awaits acknowledgements ([`Engine::awaiting_delivery`]): the saved
/// position catches up with what the collector received within about this
/// much time after the last write, which bounds what a `kill -9` sends
/// twice while the log is quiet.
pub const ACK_POLL: Duration = Duration::from_millis(10);

/// Requests from signal handlers (set by the caller, cleared by [`run`]).
#[derive(Debug, Clone, Default)]
pub struct Control {
    /// Stop (`SIGTERM`, `SIGINT`): flush, save, return.
    pub stop: Arc<AtomicBool>,
    /// Reopen the outputs (`SIGHUP`).
    pub reopen: Arc<AtomicBool>,
    /// Reload the symbols (`SIGUSR1`, `SIGUSR2`).
    pub reload: Arc<AtomicBool>,
}

/// Reads `source` on a thread of its own and hands its records to
/// `engine` until the source ends (one-shot reading) or `control.stop` is
/// set; then flushes. `debug` receives the engine's notes (malformed
/// records, `EPIPE`s...), `warn` the output errors that do not stop the
/// daemon (a full disk: the batch is written again at the next poll).
pub fn run(
    mut source: Source,
    engine: &mut Engine,
    control: &Control,
    debug: &mut dyn FnMut(&str),
    warn: &mut dyn FnMut(&str),
) -> io::Result<()> {
    let (tx, rx) = mpsc::sync_channel::<io::Result<SourceEvent>>(4096);
    std::thread::spawn(move || loop {
        let ev = source.read();
        let last = matches!(ev, Ok(SourceEvent::End) | Err(_));
        if tx.send(ev).is_err() || last {
            return;
        }
    });
    let mut done = false;
    while !done && !control.stop.load(Ordering::Relaxed) {
        if control.reopen.swap(false, Ordering::Relaxed) {
            if let Err(e) = engine.reopen() {
                warn(&format!("reopen: {e}"));
            }
        }
        if control.reload.swap(false, Ordering::Relaxed) {
            if let Some(d) = engine.decoder() {
                d.reload();
            }
        }
        let wait = if engine.awaiting_delivery() {
            ACK_POLL
        } else {
            IDLE_POLL
        };
        let first = rx.recv_timeout(wait);
        let now = Instant::now();
        let mut batch = 0;
        let mut next = first.map_err(|e| e == mpsc::RecvTimeoutError::Disconnected);
        loop {
            match next {
                Ok(Ok(SourceEvent::End)) | Err(true) => {
                    done = true;
                    break;
                }
                Ok(Ok(ev)) => engine.handle(ev, now)?,
                Ok(Err(e)) => return Err(e),
                Err(false) => break,
            }
            batch += 1;
            if batch >= 8192 {
                break;
            }
            next = match rx.try_recv() {
                Ok(ev) => Ok(ev),
                Err(mpsc::TryRecvError::Empty) => Err(false),
                Err(mpsc::TryRecvError::Disconnected) => Err(true),
            };
        }
        for n in engine.notes.drain(..) {
            debug(&n);
        }
        engine.tick(now)?;
        if let Err(e) = engine.poll(now) {
            warn(&e.to_string());
        }
    }
    engine.finish(Instant::now() + Duration::from_secs(5))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    /// An output that keeps what it was given and reports it delivered.
    struct Memory {
        key: String,
        got: Arc<Mutex<Vec<Entry>>>,
        last: Option<u64>,
    }

    impl Output for Memory {
        fn key(&self) -> &str {
            &self.key
        }
        fn submit(&mut self, entry: &Entry) -> io::Result<()> {
            self.got.lock().unwrap().push(entry.clone());
            self.last = Some(entry.seq);
            Ok(())
        }
        fn poll(&mut self, _: Instant) -> io::Result<Option<u64>> {
            Ok(self.last)
        }
        fn take_dropped(&mut self) -> u64 {
            0
        }
        fn flush(&mut self, _: Instant) -> io::Result<Option<u64>> {
            Ok(self.last)
        }
        fn reopen(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    fn rec(seq: u64) -> SourceEvent {
        SourceEvent::Record(Entry {
            seq,
            level: 6,
            facility: 0,
            monotonic_us: seq,
            realtime_us: None,
            caller: None,
            message: format!("r{seq}").into_bytes(),
            dict: Vec::new(),
            origin: Origin::Live,
        })
    }

    fn engine(
        afters: &[Option<u64>],
        limit: Option<RateLimit>,
    ) -> (Engine, Vec<Arc<Mutex<Vec<Entry>>>>) {
        let mut outs: Vec<(Box<dyn Output>, Option<u64>)> = Vec::new();
        let mut logs = Vec::new();
        for (i, a) in afters.iter().enumerate() {
            let got = Arc::new(Mutex::new(Vec::new()));
            logs.push(Arc::clone(&got));
            outs.push((
                Box::new(Memory {
                    key: format!("m{i}"),
                    got,
                    last: None,
                }),
                *a,
            ));
        }
        let e = Engine::new(
            outs,
            Settings {
                rate_limit: limit,
                decoder: None,
                twice: false,
                positions: None,
                boot_id: "b".into(),
                kernel_seq: true,
            },
        );
        (e, logs)
    }

    fn texts(log: &Mutex<Vec<Entry>>) -> Vec<String> {
        log.lock()
            .unwrap()
            .iter()
            .map(|e| format!("{} {}", e.seq, String::from_utf8_lossy(&e.message)))
            .collect()
    }

    #[test]
    fn each_output_resumes_after_its_own_position_and_gaps_are_counted() {
        let (mut e, logs) = engine(&[Some(1), Some(3)], None);
        let now = Instant::now();
        for s in [0, 1, 2, 3, 4, 8, 9] {
            e.handle(rec(s), now).unwrap();
        }
        e.handle(
            SourceEvent::Malformed(
                b"junk".to_vec(),
                super::super::record::parse(b"junk").unwrap_err(),
            ),
            now,
        )
        .unwrap();
        e.handle(rec(10), now).unwrap();
        e.finish(now).unwrap();
        assert_eq!(
            texts(&logs[0]),
            [
                "2 r2",
                "3 r3",
                "4 r4",
                "7 klogd: missed 3 records (seq 5 to 7)",
                "8 r8",
                "9 r9",
                "10 klogd: skipped 1 malformed records",
                "10 r10"
            ]
        );
        assert_eq!(texts(&logs[1])[0], "4 r4");
        assert_eq!(e.stats.missed, 3);
        assert_eq!(e.stats.already_delivered, 2);
    }

    #[test]
    fn floods_are_summarised() {
        let (mut e, logs) = engine(
            &[None],
            Some(RateLimit {
                burst: 2,
                interval: Duration::from_secs(3600),
            }),
        );
        let now = Instant::now();
        for s in 0..5 {
            e.handle(rec(s), now).unwrap();
        }
        e.finish(now).unwrap();
        assert_eq!(
            texts(&logs[0]),
            [
                "0 r0",
                "1 r1",
                "4 klogd: suppressed 3 records (seq 2 to 4): rate limit"
            ]
        );
    }
}
