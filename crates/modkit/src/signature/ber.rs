//! A BER reader following the rules of OpenSSL's template decoder
//! (`crypto/asn1/tasn_dec.c`), which is what kmod's `d2i_PKCS7_bio` uses.
//!
//! Decoders take the bytes available at their position (never more than
//! the enclosing element allows) and return what they decoded plus how many
//! bytes they consumed; `Ok(None)` means "OPTIONAL element absent" and is
//! only returned when the caller allowed it.
//!
//! # Budgets
//!
//! Hostile input cannot make this reader overflow the stack, loop or read
//! out of bounds:
//!
//! - every definite length is checked against the bytes available before
//!   any slice is taken ([`header`]), and every loop consumes input;
//! - skipping an indefinite-length element ([`find_end`]) counts nesting
//!   in a variable instead of recursing;
//! - the pieces of a constructed string ([`collect`], the only recursive
//!   function here) nest at most 5 levels (OpenSSL's
//!   `ASN1_MAX_STRING_NEST`);
//! - every structure the PKCS#7 decoder enters goes through [`nest`], which
//!   refuses a 31st level (OpenSSL's `ASN1_MAX_CONSTRUCTED_NEST`); that is
//!   what bounds the decoder's recursion (a `ContentInfo` inside a
//!   `SignedData` inside a `ContentInfo` ...).
//!
//! Over budget, the element is [`Bad`], as OpenSSL's decoder fails with
//! `ASN1_R_NESTED_TOO_DEEP`, and kmod (so `modinfo`) reports no signature.

use std::borrow::Cow;

/// The input is not something OpenSSL would decode.
#[derive(Debug)]
pub(super) struct Bad;

pub(super) type R<T> = Result<T, Bad>;

pub(super) const UNIVERSAL: u8 = 0x00;
pub(super) const CONTEXT: u8 = 0x80;

/// OpenSSL's `ASN1_MAX_CONSTRUCTED_NEST`.
const MAX_NEST: u32 = 30;
/// OpenSSL's `ASN1_MAX_STRING_NEST`.
const MAX_STRING_NEST: u32 = 5;

pub(super) const TAG_BOOLEAN: u32 = 1;
pub(super) const TAG_INTEGER: u32 = 2;
pub(super) const TAG_BIT_STRING: u32 = 3;
pub(super) const TAG_OCTET_STRING: u32 = 4;
pub(super) const TAG_NULL: u32 = 5;
pub(super) const TAG_OID: u32 = 6;
pub(super) const TAG_ENUMERATED: u32 = 10;
pub(super) const TAG_UTF8: u32 = 12;
pub(super) const TAG_SEQUENCE: u32 = 16;
pub(super) const TAG_SET: u32 = 17;
pub(super) const TAG_UTCTIME: u32 = 23;
pub(super) const TAG_GENERALIZEDTIME: u32 = 24;
pub(super) const TAG_UNIVERSALSTRING: u32 = 28;
pub(super) const TAG_BMP: u32 = 30;

// OpenSSL's B_ASN1_* bits for the string types an MSTRING accepts.
const B_NUMERIC: u32 = 0x0001;
const B_PRINTABLE: u32 = 0x0002;
const B_T61: u32 = 0x0004;
const B_VIDEOTEX: u32 = 0x0008;
const B_IA5: u32 = 0x0010;
const B_GRAPHIC: u32 = 0x0020;
const B_ISO64: u32 = 0x0040;
const B_GENERAL: u32 = 0x0080;
const B_UNIVERSAL: u32 = 0x0100;
const B_OCTET: u32 = 0x0200;
const B_BIT: u32 = 0x0400;
const B_BMP: u32 = 0x0800;
const B_UNKNOWN: u32 = 0x1000;
const B_UTF8: u32 = 0x2000;
const B_UTCTIME: u32 = 0x4000;
const B_GENERALIZEDTIME: u32 = 0x8000;
const B_SEQUENCE: u32 = 0x10000;

/// `B_ASN1_PRINTABLE`: what a name attribute value may be.
pub(super) const MASK_PRINTABLE: u32 = B_NUMERIC
    | B_PRINTABLE
    | B_T61
    | B_IA5
    | B_BIT
    | B_UNIVERSAL
    | B_BMP
    | B_UTF8
    | B_SEQUENCE
    | B_UNKNOWN;
/// `B_ASN1_TIME`.
pub(super) const MASK_TIME: u32 = B_UTCTIME | B_GENERALIZEDTIME;

/// OpenSSL's `ASN1_tag2bit`.
fn tag2bit(tag: u32) -> u32 {
    const TABLE: [u32; 31] = [
        0,
        0,
        0,
        B_BIT,
        B_OCTET,
        0,
        0,
        B_UNKNOWN,
        B_UNKNOWN,
        B_UNKNOWN,
        0,
        B_UNKNOWN,
        B_UTF8,
        B_UNKNOWN,
        B_UNKNOWN,
        B_UNKNOWN,
        B_SEQUENCE,
        0,
        B_NUMERIC,
        B_PRINTABLE,
        B_T61,
        B_VIDEOTEX,
        B_IA5,
        B_UTCTIME,
        B_GENERALIZEDTIME,
        B_GRAPHIC,
        B_ISO64,
        B_GENERAL,
        B_UNIVERSAL,
        B_UNKNOWN,
        B_BMP,
    ];
    TABLE.get(tag as usize).copied().unwrap_or(0)
}

/// Enters one more level of item nesting.
pub(super) fn nest(depth: u32) -> R<u32> {
    let depth = depth + 1;
    if depth > MAX_NEST {
        return Err(Bad);
    }
    Ok(depth)
}

/// An identifier and length octets.
#[derive(Clone, Copy, Debug)]
pub(super) struct Hdr {
    pub tag: u32,
    pub class: u8,
    pub cons: bool,
    /// Indefinite length: the contents run to a matching end-of-contents.
    pub inf: bool,
    /// Length of the identifier and length octets.
    pub hlen: usize,
    /// Contents length; for indefinite lengths, all remaining bytes.
    pub len: usize,
}

/// `ASN1_get_object`: decodes a header from `inp`, the bytes available;
/// a definite length must fit in them.
pub(super) fn header(inp: &[u8]) -> R<Hdr> {
    let first = *inp.first().ok_or(Bad)?;
    let cons = first & 0x20 != 0;
    let class = first & 0xc0;
    let mut p = 1;
    // Bytes left after the one at p-1; each identifier byte must be
    // followed by at least one more.
    let mut max = inp.len() - 1;
    if max == 0 {
        return Err(Bad);
    }
    let tag = if first & 0x1f == 0x1f {
        let mut v: u64 = 0;
        while inp[p] & 0x80 != 0 {
            v = (v << 7) | u64::from(inp[p] & 0x7f);
            p += 1;
            max -= 1;
            if max == 0 || v > (i32::MAX as u64 >> 7) {
                return Err(Bad);
            }
        }
        v = (v << 7) | u64::from(inp[p] & 0x7f);
        p += 1;
        max -= 1;
        if max == 0 {
            return Err(Bad);
        }
        v as u32
    } else {
        u32::from(first & 0x1f)
    };
    // Length octets.
    let lb = inp[p];
    max -= 1;
    p += 1;
    let (inf, len) = if lb == 0x80 {
        (true, 0)
    } else if lb & 0x80 != 0 {
        let mut n = usize::from(lb & 0x7f);
        if max < n + 1 {
            return Err(Bad);
        }
        while n > 0 && inp[p] == 0 {
            p += 1;
            n -= 1;
        }
        if n > 8 {
            return Err(Bad);
        }
        let mut v: u64 = 0;
        for _ in 0..n {
            v = (v << 8) | u64::from(inp[p]);
            p += 1;
        }
        if v > i64::MAX as u64 {
            return Err(Bad);
        }
        (false, v)
    } else {
        (false, u64::from(lb))
    };
    if inf && !cons {
        return Err(Bad);
    }
    let avail = inp.len() - p;
    if len > avail as u64 {
        return Err(Bad);
    }
    Ok(Hdr {
        tag,
        class,
        cons,
        inf,
        hlen: p,
        len: if inf { avail } else { len as usize },
    })
}

/// `asn1_check_tlen`: a header, checked against an expected tag and
/// class; a mismatch is "absent" when `opt`, an error otherwise.
pub(super) fn check_tlen(inp: &[u8], expect: Option<(u32, u8)>, opt: bool) -> R<Option<Hdr>> {
    let h = header(inp)?;
    if let Some((tag, class)) = expect {
        if h.tag != tag || h.class != class {
            return if opt { Ok(None) } else { Err(Bad) };
        }
    }
    Ok(Some(h))
}

/// An end-of-contents marker at the start of the `len` bytes of `inp`.
pub(super) fn is_eoc(inp: &[u8], len: usize) -> bool {
    len >= 2 && inp.len() >= 2 && inp[0] == 0 && inp[1] == 0
}

/// `asn1_find_end`: bytes taken by contents of length `len` starting
/// at `inp`, following nested indefinite lengths to the matching
/// end-of-contents.
pub(super) fn find_end(inp: &[u8], len: usize, inf: bool) -> R<usize> {
    if !inf {
        return Ok(len);
    }
    let mut expected: usize = 1;
    let mut p = 0;
    let mut len = len;
    while len > 0 {
        if is_eoc(&inp[p..], len) {
            p += 2;
            expected -= 1;
            if expected == 0 {
                break;
            }
            len -= 2;
            continue;
        }
        let q = p;
        let h = header(&inp[p..p + len])?;
        p += h.hlen;
        if h.inf {
            expected += 1;
        } else {
            p += h.len;
        }
        len -= p - q;
    }
    if expected != 0 {
        return Err(Bad);
    }
    Ok(p)
}

/// `asn1_collect`: concatenates the primitive pieces of a constructed
/// string whose contents (length `len`) start at `inp`; returns the
/// bytes consumed.
fn collect(inp: &[u8], len: usize, inf: bool, depth: u32, out: &mut Vec<u8>) -> R<usize> {
    let mut inf = inf;
    let mut p = 0;
    let mut len = len;
    while len > 0 {
        let q = p;
        if is_eoc(&inp[p..], len) {
            if !inf {
                return Err(Bad);
            }
            inf = false;
            p += 2;
            break;
        }
        let h = header(&inp[p..p + len])?;
        p += h.hlen;
        if h.cons {
            if depth >= MAX_STRING_NEST {
                return Err(Bad);
            }
            p += collect(&inp[p..], h.len, h.inf, depth + 1, out)?;
        } else {
            out.extend_from_slice(&inp[p..p + h.len]);
            p += h.len;
        }
        len -= p - q;
    }
    if inf {
        return Err(Bad);
    }
    Ok(p)
}

/// The universal type a primitive decoder converts to, or "other" for
/// a non-universal element read as `ANY`.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Ut {
    U(u32),
    Other,
}

/// `asn1_d2i_ex_primitive` + `asn1_ex_c2i` for type `ut`, optionally
/// under an IMPLICIT context tag. Returns the value: the contents for
/// strings (pieces of a constructed string joined; a BIT STRING without
/// its unused-bits byte and with those bits cleared), or the whole
/// encoding for SEQUENCE, SET and non-universal elements.
pub(super) fn prim(
    inp: &[u8],
    ut: Ut,
    implicit: Option<u32>,
    opt: bool,
) -> R<Option<(Cow<'_, [u8]>, usize)>> {
    let expect = match (implicit, ut) {
        (Some(tag), _) => Some((tag, CONTEXT)),
        (None, Ut::U(tag)) => Some((tag, UNIVERSAL)),
        (None, Ut::Other) => None,
    };
    let Some(h) = check_tlen(inp, expect, opt)? else {
        return Ok(None);
    };
    let (contents, used): (Cow<'_, [u8]>, usize) = match ut {
        Ut::U(TAG_SEQUENCE) | Ut::U(TAG_SET) | Ut::Other => {
            if ut != Ut::Other && !h.cons {
                return Err(Bad);
            }
            let end = h.hlen + find_end(&inp[h.hlen..], h.len, h.inf)?;
            (Cow::Borrowed(&inp[..end]), end)
        }
        Ut::U(tag) if h.cons => {
            if matches!(
                tag,
                TAG_NULL | TAG_BOOLEAN | TAG_OID | TAG_INTEGER | TAG_ENUMERATED
            ) {
                return Err(Bad);
            }
            let mut buf = Vec::new();
            let used = collect(&inp[h.hlen..], h.len, h.inf, 0, &mut buf)?;
            (Cow::Owned(buf), h.hlen + used)
        }
        Ut::U(_) => (Cow::Borrowed(&inp[h.hlen..h.hlen + h.len]), h.hlen + h.len),
    };
    Ok(Some((c2i(ut, contents)?, used)))
}

/// `asn1_ex_c2i`'s checks and conversions.
fn c2i(ut: Ut, c: Cow<'_, [u8]>) -> R<Cow<'_, [u8]>> {
    let Ut::U(tag) = ut else {
        return Ok(c);
    };
    let ok = match tag {
        TAG_OID => oid_ok(&c),
        TAG_NULL => c.is_empty(),
        TAG_BOOLEAN => c.len() == 1,
        TAG_INTEGER | TAG_ENUMERATED => integer_ok(&c),
        TAG_BIT_STRING => {
            let (&unused, bits) = c.split_first().ok_or(Bad)?;
            if unused > 7 {
                return Err(Bad);
            }
            let mut v = bits.to_vec();
            if let Some(last) = v.last_mut() {
                *last &= 0xffu8 << unused;
            }
            return Ok(Cow::Owned(v));
        }
        TAG_BMP => c.len() & 1 == 0,
        TAG_UNIVERSALSTRING => c.len() & 3 == 0,
        TAG_GENERALIZEDTIME => c.len() >= 15,
        TAG_UTCTIME => c.len() >= 13,
        _ => true,
    };
    if ok {
        Ok(c)
    } else {
        Err(Bad)
    }
}

/// `c2i_ASN1_OBJECT`'s checks: non-empty, last byte ends an arc, no arc
/// starts with a 0x80 padding byte.
fn oid_ok(c: &[u8]) -> bool {
    match c.last() {
        None => false,
        Some(&last) if last & 0x80 != 0 => false,
        Some(_) => !c
            .iter()
            .enumerate()
            .any(|(i, &b)| b == 0x80 && (i == 0 || c[i - 1] & 0x80 == 0)),
    }
}

/// `c2i_ibuf`'s checks: non-empty and minimally encoded (OpenSSL's
/// variant of the rule for negative numbers).
fn integer_ok(c: &[u8]) -> bool {
    match c {
        [] => false,
        [_] => true,
        [first, second, rest @ ..] => {
            let pad = match *first {
                0 => true,
                0xff => *second != 0 || rest.iter().any(|&b| b != 0),
                _ => false,
            };
            !(pad && (first & 0x80) == (second & 0x80))
        }
    }
}

/// The magnitude of a validated INTEGER as minimal big-endian bytes
/// (`ASN1_INTEGER_to_BN` then `BN_bn2bin`).
pub(super) fn integer_magnitude(c: &[u8]) -> Vec<u8> {
    let mut v = c.to_vec();
    if c.first().is_some_and(|&b| b & 0x80 != 0) {
        // Two's complement negation.
        for b in &mut v {
            *b = !*b;
        }
        for b in v.iter_mut().rev() {
            let (sum, carry) = b.overflowing_add(1);
            *b = sum;
            if !carry {
                break;
            }
        }
    }
    let start = v.iter().position(|&b| b != 0).unwrap_or(v.len());
    v.split_off(start)
}

/// A primitive item (INTEGER, OBJECT, OCTET STRING, ...) at `depth`.
pub(super) fn item(
    inp: &[u8],
    depth: u32,
    tag: u32,
    implicit: Option<u32>,
    opt: bool,
) -> R<Option<(Cow<'_, [u8]>, usize)>> {
    nest(depth)?;
    prim(inp, Ut::U(tag), implicit, opt)
}

/// An `ANY` item: any element, checked according to its own tag.
pub(super) fn any(inp: &[u8], depth: u32, opt: bool) -> R<Option<(Cow<'_, [u8]>, usize)>> {
    nest(depth)?;
    if opt {
        // OpenSSL refuses OPTIONAL ANY outside a SEQUENCE's last field.
        return Err(Bad);
    }
    let h = header(inp)?;
    let ut = if h.class == UNIVERSAL {
        Ut::U(h.tag)
    } else {
        Ut::Other
    };
    prim(inp, ut, None, false)
}

/// A multi-type string (`MSTRING`) limited to the types in `mask`:
/// returns its universal tag and value.
#[allow(clippy::type_complexity)]
pub(super) fn mstring(
    inp: &[u8],
    depth: u32,
    mask: u32,
    opt: bool,
) -> R<Option<((u32, Cow<'_, [u8]>), usize)>> {
    nest(depth)?;
    let h = header(inp)?;
    if h.class != UNIVERSAL || tag2bit(h.tag) & mask == 0 {
        return if opt { Ok(None) } else { Err(Bad) };
    }
    Ok(prim(inp, Ut::U(h.tag), None, false)?.map(|(v, used)| ((h.tag, v), used)))
}

/// Turns "absent" into an error for a required element.
pub(super) fn req<T>(r: R<Option<T>>) -> R<T> {
    r?.ok_or(Bad)
}

/// A SEQUENCE being decoded field by field, as OpenSSL's template
/// decoder does (see [`Seq::field`]).
pub(super) struct Seq<'a> {
    buf: &'a [u8],
    hlen: usize,
    pos: usize,
    len: usize,
    eoc: bool,
    indefinite: bool,
    done: bool,
    /// Nesting depth of this SEQUENCE item; its fields are one deeper.
    pub depth: u32,
}

impl<'a> Seq<'a> {
    /// Reads the SEQUENCE header (or an IMPLICIT context tag).
    pub(super) fn begin(
        inp: &'a [u8],
        depth: u32,
        implicit: Option<u32>,
        opt: bool,
    ) -> R<Option<Seq<'a>>> {
        let depth = nest(depth)?;
        let expect = match implicit {
            Some(tag) => (tag, CONTEXT),
            None => (TAG_SEQUENCE, UNIVERSAL),
        };
        let Some(h) = check_tlen(inp, Some(expect), opt)? else {
            return Ok(None);
        };
        if !h.cons {
            return Err(Bad);
        }
        Ok(Some(Seq {
            buf: &inp[h.hlen..h.hlen + h.len],
            hlen: h.hlen,
            pos: 0,
            len: h.len,
            eoc: h.inf,
            indefinite: h.inf,
            done: false,
            depth,
        }))
    }

    /// A required SEQUENCE.
    pub(super) fn required(inp: &'a [u8], depth: u32) -> R<Seq<'a>> {
        req(Seq::begin(inp, depth, None, false))
    }

    /// Decodes the next field with `f`, which receives the bytes left
    /// and whether the field may be absent. Once the contents are used
    /// up (or an end-of-contents is met) the remaining fields must be
    /// OPTIONAL; the last field is never treated as optional while data
    /// remains, so trailing garbage is an error.
    pub(super) fn field<T>(
        &mut self,
        optional: bool,
        last: bool,
        f: impl FnOnce(&'a [u8], bool) -> R<Option<(T, usize)>>,
    ) -> R<Option<T>> {
        if !self.done {
            if self.len == 0 {
                self.done = true;
            } else if is_eoc(&self.buf[self.pos..], self.len) {
                if !self.eoc {
                    return Err(Bad);
                }
                self.pos += 2;
                self.len -= 2;
                self.eoc = false;
                self.done = true;
            }
        }
        if self.done {
            return if optional { Ok(None) } else { Err(Bad) };
        }
        let isopt = optional && !last;
        match f(&self.buf[self.pos..self.pos + self.len], isopt)? {
            None if isopt => Ok(None),
            None => Err(Bad),
            Some((v, used)) => {
                self.pos += used;
                self.len -= used;
                Ok(Some(v))
            }
        }
    }

    /// A required field.
    pub(super) fn need<T>(
        &mut self,
        last: bool,
        f: impl FnOnce(&'a [u8], bool) -> R<Option<(T, usize)>>,
    ) -> R<T> {
        self.field(false, last, f)?.ok_or(Bad)
    }

    /// Checks the end of the SEQUENCE; returns the bytes it took.
    pub(super) fn finish(self) -> R<usize> {
        let mut pos = self.pos;
        let mut len = self.len;
        if self.eoc {
            if !is_eoc(&self.buf[pos..], len) {
                return Err(Bad);
            }
            pos += 2;
            len -= 2;
        }
        if !self.indefinite && len != 0 {
            return Err(Bad);
        }
        Ok(self.hlen + pos)
    }
}

/// A SET OF / SEQUENCE OF with the given outer tag; `elem` decodes one
/// (required) element from the bytes left.
pub(super) fn list<'a, T>(
    inp: &'a [u8],
    tag: (u32, u8),
    opt: bool,
    mut elem: impl FnMut(&'a [u8]) -> R<(T, usize)>,
) -> R<Option<(Vec<T>, usize)>> {
    let Some(h) = check_tlen(inp, Some(tag), opt)? else {
        return Ok(None);
    };
    let contents = &inp[h.hlen..h.hlen + h.len];
    let mut p = 0;
    let mut len = h.len;
    let mut eoc = h.inf;
    let mut out = Vec::new();
    while len > 0 {
        if is_eoc(&contents[p..], len) {
            if !eoc {
                return Err(Bad);
            }
            p += 2;
            eoc = false;
            break;
        }
        let (v, used) = elem(&contents[p..p + len])?;
        p += used;
        len -= used;
        out.push(v);
    }
    if eoc {
        return Err(Bad);
    }
    Ok(Some((out, h.hlen + p)))
}

/// An EXPLICIT context tag around a required inner element.
pub(super) fn explicit<'a, T>(
    inp: &'a [u8],
    tag: u32,
    opt: bool,
    inner: impl FnOnce(&'a [u8]) -> R<(T, usize)>,
) -> R<Option<(T, usize)>> {
    let Some(h) = check_tlen(inp, Some((tag, CONTEXT)), opt)? else {
        return Ok(None);
    };
    if !h.cons {
        return Err(Bad);
    }
    let contents = &inp[h.hlen..h.hlen + h.len];
    let (v, used) = inner(contents)?;
    let rest = h.len - used;
    let mut total = h.hlen + used;
    if h.inf {
        if !is_eoc(&contents[used..], rest) {
            return Err(Bad);
        }
        total += 2;
    } else if rest != 0 {
        return Err(Bad);
    }
    Ok(Some((v, total)))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `n` nested indefinite-length headers with identifier `tag` around
    /// `inner`, each closed by an end-of-contents.
    fn nested(tag: u8, n: usize, inner: &[u8]) -> Vec<u8> {
        let mut v = [tag, 0x80].repeat(n);
        v.extend_from_slice(inner);
        v.extend([0u8, 0].repeat(n));
        v
    }

    #[test]
    fn deep_indefinite_lengths_are_walked_without_recursion() {
        let deep = nested(0x30, 100_000, &[0x05, 0x00]);
        let h = header(&deep).unwrap();
        let end = h.hlen + find_end(&deep[h.hlen..], h.len, h.inf).unwrap();
        assert_eq!(end, deep.len());
        // Without its end-of-contents markers: an error, not a hang.
        let open = [0x30u8, 0x80].repeat(100_000);
        let h = header(&open).unwrap();
        assert!(find_end(&open[h.hlen..], h.len, h.inf).is_err());
    }

    #[test]
    fn constructed_strings_nest_five_levels_at_most() {
        let piece = [0x04, 0x02, b'o', b'k'];
        let string = |levels: usize| {
            let input = nested(0x24, levels, &piece);
            let r = prim(&input, Ut::U(TAG_OCTET_STRING), None, false);
            r.map(|v| v.map(|(value, used)| (value.into_owned(), used)))
        };
        // The outer string and five levels of pieces inside it.
        let (value, used) = string(6).unwrap().unwrap();
        assert_eq!((value.as_slice(), used), (&b"ok"[..], 6 * 4 + piece.len()));
        assert!(string(7).is_err());
        assert!(string(100_000).is_err());
    }

    #[test]
    fn nesting_budget_is_openssls() {
        let mut depth = 0;
        for _ in 0..MAX_NEST {
            depth = nest(depth).unwrap();
        }
        assert_eq!(depth, 30);
        assert!(nest(depth).is_err());
        // A SEQUENCE entered at the limit is refused before it is read.
        let seq = [0x30, 0x00];
        assert!(Seq::begin(&seq, MAX_NEST - 1, None, false).is_ok());
        assert!(Seq::begin(&seq, MAX_NEST, None, false).is_err());
    }

    #[test]
    fn lengths_past_the_input_are_refused() {
        for bad in [
            &[0x04, 0x05, b'a'][..],                  // definite length past the end
            &[0x04, 0x84, 0xff, 0xff, 0xff, 0xff],    // 4 GiB
            &[0x04, 0x89, 1, 0, 0, 0, 0, 0, 0, 0, 0], // 9 length octets
            &[0x04],                                  // no length at all
            &[0x1f, 0x81, 0x81, 0x81],                // long tag, no length
            &[0x04, 0x80, 0x00, 0x00],                // indefinite primitive
        ] {
            assert!(header(bad).is_err(), "{bad:02x?}");
        }
        // Non-minimal length octets are BER, and fine.
        let h = header(&[0x04, 0x82, 0x00, 0x01, b'a']).unwrap();
        assert_eq!((h.hlen, h.len), (4, 1));
    }
}
