//! Compressed module files: detection by magic bytes and in-memory decompression.
//!
//! kmod decides how to read a module from its first bytes, never from its
//! file name suffix, and so does this module: [`detect`] looks at the zstd,
//! xz and gzip magics, in that order, like libkmod 34.2.
//!
//! Failures carry the errno kmod reports in the same situation, and for the
//! errors libkmod also logs, [`Error::detail`] is the exact text libkmod
//! logs (see [`libkmod_log_function`]):
//!
//! | situation                                  | errno    | detail (libkmod's log text)                        |
//! |--------------------------------------------|----------|----------------------------------------------------|
//! | xz stream truncated                        | `EINVAL` | `xz: Unexpected end of input`                      |
//! | xz data corrupt (bad CRC, bad LZMA2 data)  | `EINVAL` | `xz: File is corrupt`                              |
//! | xz header or trailing bytes not xz         | `EINVAL` | `xz: File format not recognized`                   |
//! | xz filter chain not supported              | `EINVAL` | `xz: Unsupported compression options`              |
//! | xz decoder needs more than [`XZ_MEMLIMIT`] | `EINVAL` | `xz: Internal error (bug)`                         |
//! | zstd frame without a content size, or 0    | `EINVAL` | `zstd: Failed to determine decompression size`     |
//! | zstd frame corrupt, truncated, too long     | `EINVAL` | `zstd: ` + libzstd's error name, e.g. `zstd: Src size is incorrect` |
//! | output buffer cannot be allocated          | `ENOMEM` | (not logged by kmod)                               |
//! | output past [`MAX_DECOMPRESSED_SIZE`]      | `EFBIG`  | (modkit only: kmod has no bound)                   |
//! | gzip stream corrupt or truncated           | `EINVAL` | `gzip: ` + a description (see below)               |
//!
//! # gzip
//!
//! Debian trixie's kmod 34.2 is built without zlib (`kmod --version` shows
//! `-ZLIB`): `modinfo` on a gzip-compressed module fails with
//! `could not get modinfo from 'x': Function not implemented` (`ENOSYS`), and
//! a `.ko.gz` file name is not even recognised as a module path. modkit
//! deliberately still decompresses gzip; a caller that wants kmod's exact
//! trixie behaviour can check for [`Compression::Gzip`] and report
//! [`errno::ENOSYS`] itself.

use std::borrow::Cow;
use std::io::Read;

use crate::error::{errno, Error, Result};

/// How a module file is compressed, as detected from its magic bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Compression {
    /// Not compressed (or at least not in a format kmod recognises).
    None,
    /// xz (`FD 37 7A 58 5A 00`).
    Xz,
    /// Zstandard (`28 B5 2F FD`).
    Zstd,
    /// gzip (`1F 8B`).
    Gzip,
}

/// zstd magic number, as checked first by kmod.
const MAGIC_ZSTD: &[u8] = &[0x28, 0xB5, 0x2F, 0xFD];
/// xz magic: six bytes, including the trailing NUL.
const MAGIC_XZ: &[u8] = &[0xFD, b'7', b'z', b'X', b'Z', 0x00];
/// gzip magic.
const MAGIC_GZIP: &[u8] = &[0x1F, 0x8B];

/// Memory limit for the xz decoder: 1 GiB.
///
/// kmod passes no limit at all (`UINT64_MAX`). Module files are compressed
/// with small dictionaries (Debian's use 1 MiB, so the decoder needs about
/// 2 MiB), and xz's largest possible dictionary is 1.5 GiB: only a hostile or
/// absurd file can exceed this limit, and it then fails with `EINVAL`
/// (`xz: Internal error (bug)`, which is what kmod prints for that liblzma
/// status) where kmod would try to allocate the memory.
pub const XZ_MEMLIMIT: u64 = 1 << 30;

/// The most a module file may decompress to: 1 GiB, in every format.
///
/// kmod has no bound: a decompression bomb (a few hundred kilobytes of xz or
/// gzip, or a zstd frame declaring a huge content size) makes it allocate
/// until memory runs out. The largest module of Debian's kernels is about
/// 40 MiB decompressed, and a module with all its debugging information a
/// few hundred: past this bound decompression stops with `EFBIG` (`File too
/// large`), having held at most this much plus the input. A zstd frame
/// declaring more is refused before anything is allocated.
pub const MAX_DECOMPRESSED_SIZE: usize = 1 << 30;

/// Upper bound for pre-sizing an output buffer from a size found in the
/// compressed data itself (xz index, gzip trailer): such sizes are only
/// hints and a hostile file must not make us reserve more than this up front.
const MAX_SIZE_HINT: u64 = 1 << 30;

impl Compression {
    /// Detects the compression of `data` from its magic bytes, like kmod:
    /// zstd, then xz, then gzip; anything else (including data shorter than
    /// a magic) is [`Compression::None`].
    pub fn detect(data: &[u8]) -> Compression {
        if data.starts_with(MAGIC_ZSTD) {
            Compression::Zstd
        } else if data.starts_with(MAGIC_XZ) {
            Compression::Xz
        } else if data.starts_with(MAGIC_GZIP) {
            Compression::Gzip
        } else {
            Compression::None
        }
    }

    /// A short lowercase name: `"none"`, `"xz"`, `"zstd"` or `"gzip"`.
    pub fn name(self) -> &'static str {
        match self {
            Compression::None => "none",
            Compression::Xz => "xz",
            Compression::Zstd => "zstd",
            Compression::Gzip => "gzip",
        }
    }

    /// Whether Debian trixie's kmod 34.2 can read modules compressed this
    /// way (`+ZSTD +XZ -ZLIB`): false only for [`Compression::Gzip`], for
    /// which kmod fails with `ENOSYS`.
    pub fn supported_by_reference_kmod(self) -> bool {
        !matches!(self, Compression::Gzip)
    }
}

/// Detects the compression of `data` from its magic bytes; see
/// [`Compression::detect`]. Never fails: unknown data is [`Compression::None`].
pub fn detect(data: &[u8]) -> Compression {
    Compression::detect(data)
}

/// Decompresses `data` in memory according to its magic bytes.
///
/// Uncompressed data is returned borrowed, unchanged. Truncated or corrupt
/// streams give an [`Error`] with kmod's errno (see the module
/// documentation); this never panics.
pub fn decompress(data: &[u8]) -> Result<Cow<'_, [u8]>> {
    match detect(data) {
        Compression::None => Ok(Cow::Borrowed(data)),
        kind => decompress_as(kind, data).map(Cow::Owned),
    }
}

/// Decompresses `data` as `kind`, regardless of its magic bytes.
///
/// [`Compression::None`] returns a copy of `data`. Errors as for
/// [`decompress`]; for instance xz-decoding data that is not xz gives
/// `EINVAL` with `xz: File format not recognized`.
pub fn decompress_as(kind: Compression, data: &[u8]) -> Result<Vec<u8>> {
    decompress_limited(kind, data, MAX_DECOMPRESSED_SIZE)
}

/// [`decompress_as`] with another bound than [`MAX_DECOMPRESSED_SIZE`]:
/// output past `limit` bytes is an `EFBIG` error (at most `limit` bytes
/// and one buffer growth are held before it is noticed).
pub fn decompress_limited(kind: Compression, data: &[u8], limit: usize) -> Result<Vec<u8>> {
    match kind {
        Compression::None => Ok(data.to_vec()),
        Compression::Xz => decompress_xz(data, limit),
        Compression::Zstd => decompress_zstd(data, limit),
        Compression::Gzip => decompress_gzip(data, limit),
    }
}

fn too_large(what: &str, limit: usize) -> Error {
    Error::new(
        errno::EFBIG,
        format!("{what}: decompresses to more than {limit} bytes"),
    )
}

/// The libkmod function that logs `err` when kmod 34.2 fails the same way,
/// or `None` when kmod logs nothing for it.
///
/// libkmod prints its log on stderr (`modinfo` keeps the default `LOG_ERR`
/// priority) as `libkmod: ERROR: <function>: <detail>\n`, before the tool's
/// own error line, e.g.
///
/// ```text
/// libkmod: ERROR: xz_uncompress_belch: xz: File is corrupt
/// modinfo: ERROR: could not get modinfo from 'corrupt': Invalid argument
/// ```
///
/// Only errors produced by this module are recognised (by their detail
/// text); gzip errors give `None` because trixie's kmod has no zlib support.
pub fn libkmod_log_function(err: &Error) -> Option<&'static str> {
    let detail = err.detail();
    if err.errno() == errno::ENOMEM && detail == XZ_INIT_NOMEM {
        return Some("kmod_file_load_xz");
    }
    if err.errno() != errno::EINVAL {
        return None;
    }
    if detail.starts_with("xz: ") {
        Some("xz_uncompress_belch")
    } else if detail.starts_with("zstd: ") {
        Some("kmod_file_load_zstd")
    } else {
        None
    }
}

fn out_of_memory(what: &str) -> Error {
    Error::new(
        errno::ENOMEM,
        format!("{what}: cannot allocate the output buffer"),
    )
}

/// Allocates an empty vector with room for `hint` bytes, or less if that
/// much cannot be reserved (the hint may come from hostile data).
fn buffer_for_hint(hint: Option<u64>, limit: usize) -> Vec<u8> {
    let mut out = Vec::new();
    if let Some(hint) = hint {
        if let Ok(n) = usize::try_from(hint.min(MAX_SIZE_HINT)) {
            let n = n.min(limit.saturating_add(1));
            // A failed reservation only loses the optimisation.
            let _ = out.try_reserve_exact(n);
        }
    }
    out
}

/// Makes sure `out` has spare capacity, growing it geometrically but to no
/// more than one byte past `limit` (enough to tell that it was passed).
fn ensure_spare(out: &mut Vec<u8>, what: &str, limit: usize) -> Result<()> {
    if out.len() == out.capacity() {
        let room = limit.saturating_add(1).saturating_sub(out.len()).max(1);
        let more = out.capacity().max(64 * 1024).min(room);
        out.try_reserve(more).map_err(|_| out_of_memory(what))?;
    }
    Ok(())
}

/// What kmod logs (and returns `ENOMEM` for) when the xz decoder cannot
/// even be set up.
const XZ_INIT_NOMEM: &str = "xz: Cannot allocate memory";

fn xz_error(text: &str) -> Error {
    Error::invalid(format!("xz: {text}"))
}

fn decompress_xz(data: &[u8], limit: usize) -> Result<Vec<u8>> {
    use liblzma::stream::{Action, Error as LzmaError, Status, Stream, CONCATENATED};

    let mut stream =
        Stream::new_stream_decoder(XZ_MEMLIMIT, CONCATENATED).map_err(|e| match e {
            LzmaError::Mem => Error::new(errno::ENOMEM, XZ_INIT_NOMEM),
            _ => xz_error("Internal error (bug)"),
        })?;
    let mut out = buffer_for_hint(xz_uncompressed_size(data), limit);
    loop {
        if out.len() > limit {
            return Err(too_large("xz", limit));
        }
        ensure_spare(&mut out, "xz", limit)?;
        let consumed = usize::try_from(stream.total_in())
            .unwrap_or(usize::MAX)
            .min(data.len());
        // All the input is there: finish right away. With CONCATENATED this
        // is how liblzma learns that no further stream follows.
        match stream.process_vec(&data[consumed..], &mut out, Action::Finish) {
            Ok(Status::StreamEnd) if out.len() > limit => return Err(too_large("xz", limit)),
            Ok(Status::StreamEnd) => return Ok(out),
            Ok(Status::Ok) | Ok(Status::GetCheck) => {}
            // LZMA_BUF_ERROR: no progress possible although there is output
            // space, i.e. the input ended too early.
            Ok(Status::MemNeeded) => return Err(xz_error("Unexpected end of input")),
            Err(e) => {
                return Err(xz_error(match e {
                    LzmaError::Mem => "Cannot allocate memory",
                    LzmaError::Format => "File format not recognized",
                    LzmaError::Options => "Unsupported compression options",
                    LzmaError::Data => "File is corrupt",
                    _ => "Internal error (bug)",
                }))
            }
        }
    }
}

/// Reads an xz variable-length integer at `*pos`.
fn xz_varint(data: &[u8], pos: &mut usize) -> Option<u64> {
    let mut value = 0u64;
    for i in 0..9 {
        let byte = *data.get(*pos)?;
        *pos += 1;
        value |= u64::from(byte & 0x7F) << (7 * i);
        if byte & 0x80 == 0 {
            return Some(value);
        }
    }
    None
}

/// The uncompressed size recorded in the index of the last xz stream of
/// `data`, used only to pre-size the output buffer. `None` when the footer
/// or index does not look right.
fn xz_uncompressed_size(data: &[u8]) -> Option<u64> {
    // Stream padding: NUL bytes in groups of four after the footer.
    let mut end = data.len();
    while end >= 4 && end & 3 == 0 && data[end - 4..end] == [0, 0, 0, 0] {
        end -= 4;
    }
    let footer = data.get(end.checked_sub(12)?..end)?;
    if &footer[10..12] != b"YZ" {
        return None;
    }
    let backward = u32::from_le_bytes([footer[4], footer[5], footer[6], footer[7]]);
    let index_size = (usize::try_from(backward).ok()? + 1).checked_mul(4)?;
    let index_start = (end - 12).checked_sub(index_size)?;
    let index = &data[index_start..end - 12];
    if index.first() != Some(&0) {
        return None;
    }
    let mut pos = 1;
    let records = xz_varint(index, &mut pos)?;
    let mut total = 0u64;
    for _ in 0..records {
        xz_varint(index, &mut pos)?; // unpadded size
        total = total.checked_add(xz_varint(index, &mut pos)?)?;
    }
    Some(total)
}

fn zstd_error(text: &str) -> Error {
    Error::invalid(format!("zstd: {text}"))
}

/// Decodes zstd the way kmod does: the first frame must declare its content
/// size, and everything must decode into a buffer of exactly that size.
fn decompress_zstd(data: &[u8], limit: usize) -> Result<Vec<u8>> {
    use zstd::zstd_safe;

    let size = match zstd_safe::get_frame_content_size(data) {
        Ok(Some(n)) if n > 0 => n,
        _ => return Err(zstd_error("Failed to determine decompression size")),
    };
    let size = match usize::try_from(size) {
        Ok(n) if n <= limit => n,
        _ => return Err(too_large("zstd", limit)),
    };
    let mut out = Vec::new();
    out.try_reserve_exact(size)
        .map_err(|_| out_of_memory("zstd"))?;
    match zstd_safe::decompress(&mut out, data) {
        Ok(_) => Ok(out),
        Err(code) => Err(zstd_error(zstd_safe::get_error_name(code))),
    }
}

/// Decodes gzip, including concatenated members (as zlib's `gzread` does).
fn decompress_gzip(data: &[u8], limit: usize) -> Result<Vec<u8>> {
    // ISIZE, the last member's size modulo 2^32: a hint only.
    let hint = data.len().checked_sub(4).map(|at| {
        u64::from(u32::from_le_bytes([
            data[at],
            data[at + 1],
            data[at + 2],
            data[at + 3],
        ]))
    });
    let mut out = buffer_for_hint(hint, limit);
    let cap = u64::try_from(limit).unwrap_or(u64::MAX).saturating_add(1);
    let mut decoder = flate2::read::MultiGzDecoder::new(data).take(cap);
    match decoder.read_to_end(&mut out) {
        Ok(_) if out.len() > limit => Err(too_large("gzip", limit)),
        Ok(_) => Ok(out),
        Err(e) if e.kind() == std::io::ErrorKind::OutOfMemory => Err(out_of_memory("gzip")),
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
            Err(Error::invalid("gzip: unexpected end of file"))
        }
        Err(e) => Err(Error::invalid(format!("gzip: {e}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn sample() -> Vec<u8> {
        let mut v = Vec::new();
        for i in 0..20_000u32 {
            v.extend_from_slice(format!("line {i} of some module text\n").as_bytes());
        }
        v
    }

    fn xz(data: &[u8]) -> Vec<u8> {
        let mut enc = liblzma::write::XzEncoder::new(Vec::new(), 6);
        enc.write_all(data).unwrap();
        enc.finish().unwrap()
    }

    fn gz(data: &[u8]) -> Vec<u8> {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(data).unwrap();
        enc.finish().unwrap()
    }

    #[test]
    fn detects_magics() {
        assert_eq!(detect(b"\x7fELF\x02\x01\x01"), Compression::None);
        assert_eq!(detect(&[0x28, 0xB5, 0x2F, 0xFD, 0, 0]), Compression::Zstd);
        assert_eq!(detect(&[0xFD, b'7', b'z', b'X', b'Z', 0]), Compression::Xz);
        // The xz magic includes its trailing NUL.
        assert_eq!(
            detect(&[0xFD, b'7', b'z', b'X', b'Z', 1]),
            Compression::None
        );
        assert_eq!(detect(&[0x1F, 0x8B]), Compression::Gzip);
        assert_eq!(detect(&[0x1F]), Compression::None);
        assert_eq!(detect(&[]), Compression::None);
    }

    #[test]
    fn uncompressed_is_borrowed() {
        let data = b"\x7fELF plain";
        assert!(matches!(decompress(data).unwrap(), Cow::Borrowed(_)));
    }

    #[test]
    fn xz_roundtrip_and_size_hint() {
        let data = sample();
        let packed = xz(&data);
        assert_eq!(xz_uncompressed_size(&packed), Some(data.len() as u64));
        assert_eq!(decompress(&packed).unwrap().as_ref(), &data[..]);
    }

    #[test]
    fn xz_concatenated_streams() {
        let mut packed = xz(b"first ");
        packed.extend_from_slice(&[0, 0, 0, 0]); // stream padding
        packed.extend(xz(b"second"));
        assert_eq!(decompress(&packed).unwrap().as_ref(), b"first second");
    }

    #[test]
    fn xz_errors_match_kmod() {
        let packed = xz(&sample());
        let e = decompress(&packed[..packed.len() / 2]).unwrap_err();
        assert_eq!(e.errno(), errno::EINVAL);
        assert_eq!(e.detail(), "xz: Unexpected end of input");
        assert_eq!(libkmod_log_function(&e), Some("xz_uncompress_belch"));

        let mut corrupt = packed.clone();
        let mid = corrupt.len() / 2;
        corrupt[mid] ^= 0xFF;
        corrupt[mid + 1] ^= 0x55;
        let e = decompress(&corrupt).unwrap_err();
        assert_eq!(e.errno(), errno::EINVAL);
        assert_eq!(e.detail(), "xz: File is corrupt");

        let e = decompress(&packed[..6]).unwrap_err();
        assert_eq!(e.errno(), errno::EINVAL);

        let e = decompress_as(Compression::Xz, b"definitely not xz").unwrap_err();
        assert_eq!(e.detail(), "xz: File format not recognized");
    }

    #[test]
    fn zstd_roundtrip_and_errors() {
        let data = sample();
        let packed = zstd::bulk::compress(&data, 3).unwrap();
        assert_eq!(decompress(&packed).unwrap().as_ref(), &data[..]);

        let e = decompress(&packed[..packed.len() / 2]).unwrap_err();
        assert_eq!(e.errno(), errno::EINVAL);
        assert_eq!(e.detail(), "zstd: Src size is incorrect");
        assert_eq!(libkmod_log_function(&e), Some("kmod_file_load_zstd"));

        // A frame without a content size is refused, as kmod does.
        let mut enc = zstd::stream::Encoder::new(Vec::new(), 3).unwrap();
        enc.include_contentsize(false).unwrap();
        enc.write_all(&data).unwrap();
        let no_size = enc.finish().unwrap();
        let e = decompress(&no_size).unwrap_err();
        assert_eq!(e.errno(), errno::EINVAL);
        assert_eq!(e.detail(), "zstd: Failed to determine decompression size");

        let e = decompress(&[0x28, 0xB5, 0x2F, 0xFD]).unwrap_err();
        assert_eq!(e.errno(), errno::EINVAL);
    }

    #[test]
    fn gzip_roundtrip_and_errors() {
        let data = sample();
        let packed = gz(&data);
        assert_eq!(decompress(&packed).unwrap().as_ref(), &data[..]);
        let mut two = gz(b"ab");
        two.extend(gz(b"cd"));
        assert_eq!(decompress(&two).unwrap().as_ref(), b"abcd");

        let e = decompress(&packed[..packed.len() / 2]).unwrap_err();
        assert_eq!(e.errno(), errno::EINVAL);
        assert!(e.detail().starts_with("gzip: "), "{}", e.detail());
        assert_eq!(libkmod_log_function(&e), None);
        assert!(!Compression::Gzip.supported_by_reference_kmod());
    }

    #[test]
    fn hostile_sizes_do_not_panic() {
        // An xz footer claiming a gigantic index, a zstd frame claiming
        // 2^60 bytes.
        let mut fake = vec![0xFD, b'7', b'z', b'X', b'Z', 0];
        fake.extend_from_slice(&[0, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0, 0, b'Y', b'Z']);
        assert!(decompress(&fake).is_err());
        let mut frame = vec![0x28, 0xB5, 0x2F, 0xFD, 0xC0];
        frame.extend_from_slice(&(1u64 << 60).to_le_bytes());
        frame.extend_from_slice(&[1, 0, 0]);
        let e = decompress(&frame).unwrap_err();
        assert_eq!(e.errno(), errno::EFBIG, "{e}");
    }

    /// Issue 17: a decompression bomb in each format stops at the bound
    /// with `EFBIG`; exactly the bound still decompresses. (The CLI test
    /// `hostile_inputs` runs bombs past the real 1 GiB bound.)
    #[test]
    fn bombs_stop_at_the_bound() {
        let limit = 1 << 20;
        let zeros = vec![0u8; limit];
        let over = vec![0u8; limit + 1];
        let zst = |d: &[u8]| zstd::bulk::compress(d, 3).unwrap();
        for (kind, enc) in [
            (Compression::Xz, &xz as &dyn Fn(&[u8]) -> Vec<u8>),
            (Compression::Gzip, &gz),
            (Compression::Zstd, &zst),
        ] {
            let ok = decompress_limited(kind, &enc(&zeros), limit).unwrap();
            assert_eq!(ok.len(), limit, "{kind:?}");
            let bomb = enc(&over);
            assert!(bomb.len() < 2048, "{kind:?}: {}", bomb.len());
            let Err(e) = decompress_limited(kind, &bomb, limit) else {
                panic!("{kind:?}: the bomb decompressed");
            };
            assert_eq!(e.errno(), errno::EFBIG, "{kind:?}: {e}");
            assert!(e.detail().contains("decompresses to more than"), "{e}");
        }
        // Concatenated xz streams and gzip members add up.
        let half = vec![0u8; limit / 2 + 1];
        for (kind, enc) in [
            (Compression::Xz, &xz as &dyn Fn(&[u8]) -> Vec<u8>),
            (Compression::Gzip, &gz),
        ] {
            let two = [enc(&half), enc(&half)].concat();
            let Err(e) = decompress_limited(kind, &two, limit) else {
                panic!("{kind:?}: the two streams decompressed");
            };
            assert_eq!(e.errno(), errno::EFBIG, "{kind:?}");
        }
    }
}
