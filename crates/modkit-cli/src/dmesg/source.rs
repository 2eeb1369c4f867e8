//! Where dmesg's records come from — `/dev/kmsg`, `syslog(2)`, a `-F`
//! file of `syslog(2)` text or a `-K` file of NUL-separated `/dev/kmsg`
//! records — and reading them, as util-linux does.

use std::os::unix::ffi::OsStrExt;

use modkit::kmsg::reader::{Event, KmsgReader, Position};
use modkit::kmsg::record::{syslog_records, KmsgBuffer, KMSG_BUFFER_SIZE};
use modkit::kmsg::syslog;

use super::pager::Pager;
use super::{Action, Ctl, Exit, Fail, Method};

/// util-linux's `SYSLOG_DEFAULT_CALLER_ID_CHARS`: meant as the digits of
/// `SHRT_MAX`, it is `sizeof("0x7fff") - 1` (glibc defines the macro in
/// hexadecimal).
pub(super) const SYSLOG_CALLER_ID_CHARS: i32 = 6;

/// `max_threads_id_size`: the length of `/proc/sys/kernel/pid_max`'s
/// contents (newline included), the width of caller ids; 11 without it.
pub(super) fn max_threads_id_size() -> i32 {
    use std::io::Read;
    let Ok(mut f) = std::fs::File::open("/proc/sys/kernel/pid_max") else {
        return 11;
    };
    let mut buf = [0u8; 20];
    match f.read(&mut buf) {
        Ok(n) => buf[..n].iter().position(|&b| b == 0).unwrap_or(n) as i32,
        Err(_) => 11,
    }
}

impl Ctl {
    fn faclev_needed(&self) -> bool {
        self.fltr_lev || self.fltr_fac || self.decode || self.raw || self.color || self.json
    }

    pub(super) fn read_and_print(&mut self) -> Result<(), Exit> {
        let mut kmsg: Option<(KmsgReader, Option<Vec<u8>>)> = None;
        if self.method == Method::Kmsg && self.filename.is_none() {
            match self.init_kmsg() {
                Some(k) => kmsg = Some(k),
                None => self.method = Method::Syslog,
            }
        }
        if self.raw && self.method != Method::Kmsg && (self.fltr_lev || self.fltr_fac) {
            return Err(self.errx(
                "--raw can be used together with --level or --facility only when reading messages from /dev/kmsg",
            ));
        }
        if self.force_prefix && self.method != Method::Kmsg {
            return Err(self.errx("only kmsg supports multi-line messages"));
        }
        if self.pager {
            self.pager_process = Pager::start(&mut self.out);
        }
        let mut read_err = None;
        let result = match self.method {
            Method::Mmap => {
                let data = self.read_file()?;
                self.print_buffer(&data, true)
            }
            Method::Syslog => {
                if self.bufsize == 0 {
                    self.bufsize = syslog::buffer_size().unwrap_or(0);
                }
                let size = (self.bufsize > 0).then_some(self.bufsize);
                self.caller_id_size = SYSLOG_CALLER_ID_CHARS;
                match syslog::read_all(size, false) {
                    Ok(d) if d.is_empty() => Ok(()),
                    Ok(d) => self.print_buffer(&d, false),
                    Err(e) => {
                        read_err = Some(e.errno());
                        Ok(())
                    }
                }
            }
            Method::Kmsg => match kmsg {
                Some((reader, first)) => self.process_kmsg(reader, first),
                None => self.process_kmsg_file(),
            },
        };
        match result {
            Err(Fail::Write(e)) => return Err(self.write_failed(e)),
            Err(Fail::Exit(x)) => return Err(x),
            Ok(()) => {}
        }
        self.json_end();
        if let Some(e) = read_err {
            return Err(self.err(b"read kernel buffer failed", e));
        }
        if self.action == Action::ReadClear {
            if let Err(e) = syslog::clear() {
                return Err(self.err(b"clear kernel buffer failed", e.errno()));
            }
        }
        Ok(())
    }

    fn write_failed(&mut self, errno: i32) -> Exit {
        self.err(b"write failed", errno)
    }

    /// `init_kmsg`: open, seek, and read the first record; `None` makes
    /// dmesg fall back to `syslog(2)`.
    fn init_kmsg(&mut self) -> Option<(KmsgReader, Option<Vec<u8>>)> {
        if self.follow {
            self.out.set_line_buffered();
        }
        let mut r = KmsgReader::open_kmsg(self.follow).ok()?;
        r.set_buffer_size(KMSG_BUFFER_SIZE - 1);
        let _ = r.seek(if self.end {
            Position::End
        } else {
            Position::AfterClear
        });
        loop {
            match r.read() {
                Ok(Event::Record(rec)) => {
                    let first = rec.to_vec();
                    return Some((r, Some(first)));
                }
                Ok(Event::Overwritten) => continue,
                _ => return None,
            }
        }
    }

    fn process_kmsg(&mut self, mut r: KmsgReader, first: Option<Vec<u8>>) -> Result<(), Fail> {
        self.caller_id_size = max_threads_id_size();
        let mut buf = KmsgBuffer::new();
        let faclev = self.faclev_needed();
        if let Some(first) = first {
            self.print_read(&mut buf, &first, faclev)?;
        }
        loop {
            match r.read() {
                Ok(Event::Record(rec)) => self.print_read(&mut buf, rec, faclev)?,
                Ok(Event::Overwritten) => continue,
                _ => return Ok(()),
            }
        }
    }

    /// One record as a `read(2)` of `/dev/kmsg` returned it.
    fn print_read(&mut self, buf: &mut KmsgBuffer, raw: &[u8], faclev: bool) -> Result<(), Fail> {
        match buf.parse_read(raw, faclev) {
            Ok(Some(rec)) => self.print_record(buf.bytes(), &rec),
            Ok(None) => Ok(()),
            // The reader's buffer is smaller than the parser's.
            Err(_) => Err(Fail::Exit(self.errx("record too large"))),
        }
    }

    /// `mmap_file_buffer`'s checks, then the whole file.
    fn read_file(&mut self) -> Result<Vec<u8>, Exit> {
        let name = self.filename.clone().unwrap_or_default();
        let nb = name.as_bytes().to_vec();
        let mut f = match std::fs::File::open(&name) {
            Ok(f) => f,
            Err(e) => {
                let mut m = b"cannot open ".to_vec();
                m.extend_from_slice(&nb);
                return Err(self.err(&m, e.raw_os_error().unwrap_or(5)));
            }
        };
        let meta = match f.metadata() {
            Ok(m) => m,
            Err(e) => {
                let mut m = b"stat of ".to_vec();
                m.extend_from_slice(&nb);
                m.extend_from_slice(b" failed");
                return Err(self.err(&m, e.raw_os_error().unwrap_or(5)));
            }
        };
        let mmap_fail = |ctl: &mut Ctl, errno: i32| {
            let mut m = b"cannot mmap: ".to_vec();
            m.extend_from_slice(&nb);
            ctl.err(&m, errno)
        };
        if meta.len() == 0 {
            return Err(mmap_fail(self, 22));
        }
        let ft = meta.file_type();
        if !ft.is_file() {
            return Err(mmap_fail(self, 19));
        }
        let mut data = Vec::with_capacity(meta.len() as usize);
        use std::io::Read;
        if let Err(e) = f.read_to_end(&mut data) {
            return Err(mmap_fail(self, e.raw_os_error().unwrap_or(5)));
        }
        // mmap maps st_size bytes: a file that grew is cut there.
        data.truncate(meta.len() as usize);
        Ok(data)
    }

    fn process_kmsg_file(&mut self) -> Result<(), Fail> {
        let data = self.read_file().map_err(Fail::Exit)?;
        let faclev = self.faclev_needed();
        let mut buf = KmsgBuffer::new();
        let mut pos = 0;
        let mut sz = data.len();
        while sz > 0 {
            let rest = &data[pos..pos + sz];
            let len = rest.iter().position(|&b| b == 0).unwrap_or(sz);
            let rec = match buf.parse_stored(&rest[..len], faclev) {
                Ok(rec) => rec,
                Err(_) => return Err(Fail::Exit(self.errx("record too large"))),
            };
            if let Some(rec) = rec {
                self.print_record(buf.bytes(), &rec)?;
            }
            let step = if len < sz { len + 1 } else { len };
            sz -= step;
            pos += step;
        }
        Ok(())
    }

    /// `print_buffer`: a syslog(2) text buffer; `file`: it is mapped from
    /// a file (raw output in page-sized chunks).
    fn print_buffer(&mut self, data: &[u8], file: bool) -> Result<(), Fail> {
        if self.raw {
            let mut lastc = b'\n';
            if file {
                for chunk in data.chunks(4096) {
                    self.safe_fwrite(chunk, 0, 0)?;
                    lastc = chunk[chunk.len() - 1];
                }
            } else {
                self.safe_fwrite(data, 0, 0)?;
                lastc = data[data.len() - 1];
            }
            if lastc != b'\n' {
                self.out.write(b"\n");
            }
            return Ok(());
        }
        let faclev = self.faclev_needed();
        for rec in syslog_records(data, faclev) {
            self.print_record(data, &rec)?;
        }
        Ok(())
    }

    // --- printing ---
}
