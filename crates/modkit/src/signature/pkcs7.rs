//! The PKCS#7 structures OpenSSL's `d2i_PKCS7` decodes, as far as kmod
//! needs them: everything is validated, only the first signer is kept.
//!
//! One function per ASN.1 type (`ContentInfo`, `SignedData`, `SignerInfo`,
//! `Name`, `Certificate`, ...), each a field-by-field walk with the BER
//! reader's [`Seq`]. The types nest recursively (a `SignedData` holds a
//! `ContentInfo`), and every level passes through [`nest`], so the
//! recursion stops at OpenSSL's 30 levels whatever the input; all the
//! bounds checks live in the BER reader.
//!
//! What kmod prints comes from the first `SignerInfo` ([`Signer`]): the
//! issuer's first commonName (or its last attribute), the serial number's
//! magnitude, the digest algorithm's OID and the `encryptedDigest` bytes.

use super::ber::*;

/// What kmod takes from the first `SignerInfo`.
pub(super) struct Signer {
    pub signer: Vec<u8>,
    pub serial: Vec<u8>,
    pub digest_oid: Vec<u8>,
    pub signature: Vec<u8>,
}

const OID_DATA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x01];
const OID_SIGNED: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02];
const OID_ENVELOPED: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x03];
const OID_SIGNED_ENVELOPED: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x04];
const OID_DIGEST: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x05];
const OID_ENCRYPTED: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x06];
const OID_COMMON_NAME: &[u8] = &[0x55, 0x04, 0x03];
/// OpenSSL's `X509_NAME_MAX`: a name decoder never looks further.
const NAME_MAX: usize = 1024 * 1024;

type Out<T> = R<Option<(T, usize)>>;

/// Decodes `blob` as kmod does (`d2i_PKCS7_bio`; bytes after the first
/// element are ignored) and returns its first signer, if any.
pub(super) fn first_signer(blob: &[u8]) -> Option<Signer> {
    // d2i_PKCS7_bio first reads one whole element, then decodes it.
    let top = header(blob).ok()?;
    let end = top.hlen + find_end(&blob[top.hlen..], top.len, top.inf).ok()?;
    let (signers, _) = pkcs7(&blob[..end], 0).ok()?;
    signers?.into_iter().next()
}

fn set_tag() -> (u32, u8) {
    (TAG_SET, UNIVERSAL)
}

fn seq_tag() -> (u32, u8) {
    (TAG_SEQUENCE, UNIVERSAL)
}

fn integer(inp: &[u8], depth: u32, opt: bool) -> Out<Vec<u8>> {
    Ok(item(inp, depth, TAG_INTEGER, None, opt)?.map(|(v, n)| (v.into_owned(), n)))
}

fn oid(inp: &[u8], depth: u32, opt: bool) -> Out<Vec<u8>> {
    Ok(item(inp, depth, TAG_OID, None, opt)?.map(|(v, n)| (v.into_owned(), n)))
}

fn octets(inp: &[u8], depth: u32, implicit: Option<u32>, opt: bool) -> Out<Vec<u8>> {
    Ok(item(inp, depth, TAG_OCTET_STRING, implicit, opt)?.map(|(v, n)| (v.into_owned(), n)))
}

fn bits(inp: &[u8], depth: u32, implicit: Option<u32>, opt: bool) -> Out<()> {
    Ok(item(inp, depth, TAG_BIT_STRING, implicit, opt)?.map(|(_, n)| ((), n)))
}

fn any(inp: &[u8], depth: u32, opt: bool) -> Out<()> {
    Ok(super::ber::any(inp, depth, opt)?.map(|(_, n)| ((), n)))
}

fn time(inp: &[u8], depth: u32, opt: bool) -> Out<()> {
    Ok(mstring(inp, depth, MASK_TIME, opt)?.map(|(_, n)| ((), n)))
}

/// `ContentInfo` (OpenSSL's `PKCS7`): the signer infos when it is
/// signedData or signedAndEnvelopedData with content present.
fn pkcs7(inp: &[u8], depth: u32) -> R<(Option<Vec<Signer>>, usize)> {
    let mut s = Seq::required(inp, depth)?;
    let d = s.depth;
    let ty = s.need(false, |i, o| oid(i, d, o))?;
    // The content is `[0] EXPLICIT` OPTIONAL, chosen by the type.
    let signers = match ty.as_slice() {
        OID_DATA => {
            s.field(true, true, |i, o| {
                explicit(i, 0, o, |c| req(octets(c, d, None, false)))
            })?;
            None
        }
        OID_SIGNED => s.field(true, true, |i, o| explicit(i, 0, o, |c| signed(c, d)))?,
        OID_SIGNED_ENVELOPED => s.field(true, true, |i, o| {
            explicit(i, 0, o, |c| sign_envelope(c, d))
        })?,
        OID_ENVELOPED => {
            s.field(true, true, |i, o| explicit(i, 0, o, |c| envelope(c, d)))?;
            None
        }
        OID_DIGEST => {
            s.field(true, true, |i, o| explicit(i, 0, o, |c| digest(c, d)))?;
            None
        }
        OID_ENCRYPTED => {
            s.field(true, true, |i, o| explicit(i, 0, o, |c| encrypt(c, d)))?;
            None
        }
        _ => {
            s.field(true, true, |i, o| {
                explicit(i, 0, o, |c| req(any(c, d, false)))
            })?;
            None
        }
    };
    Ok((signers, s.finish()?))
}

/// `SignedData`.
fn signed(inp: &[u8], depth: u32) -> R<(Vec<Signer>, usize)> {
    let mut s = Seq::required(inp, depth)?;
    let d = s.depth;
    s.need(false, |i, o| integer(i, d, o))?;
    s.need(false, |i, o| list(i, set_tag(), o, |e| algor(e, d)))?;
    s.need(false, |i, _| pkcs7(i, d).map(|(_, n)| Some(((), n))))?;
    s.field(true, false, |i, o| list(i, (0, CONTEXT), o, |e| x509(e, d)))?;
    s.field(true, false, |i, o| list(i, (1, CONTEXT), o, |e| crl(e, d)))?;
    let signers = s.need(true, |i, o| list(i, set_tag(), o, |e| signer_info(e, d)))?;
    Ok((signers, s.finish()?))
}

/// `SignedAndEnvelopedData`.
fn sign_envelope(inp: &[u8], depth: u32) -> R<(Vec<Signer>, usize)> {
    let mut s = Seq::required(inp, depth)?;
    let d = s.depth;
    s.need(false, |i, o| integer(i, d, o))?;
    s.need(false, |i, o| list(i, set_tag(), o, |e| recip_info(e, d)))?;
    s.need(false, |i, o| list(i, set_tag(), o, |e| algor(e, d)))?;
    s.need(false, |i, _| enc_content(i, d).map(Some))?;
    s.field(true, false, |i, o| list(i, (0, CONTEXT), o, |e| x509(e, d)))?;
    s.field(true, false, |i, o| list(i, (1, CONTEXT), o, |e| crl(e, d)))?;
    let signers = s.need(true, |i, o| list(i, set_tag(), o, |e| signer_info(e, d)))?;
    Ok((signers, s.finish()?))
}

/// `EnvelopedData`.
fn envelope(inp: &[u8], depth: u32) -> R<((), usize)> {
    let mut s = Seq::required(inp, depth)?;
    let d = s.depth;
    s.need(false, |i, o| integer(i, d, o))?;
    s.need(false, |i, o| list(i, set_tag(), o, |e| recip_info(e, d)))?;
    s.need(true, |i, _| enc_content(i, d).map(Some))?;
    Ok(((), s.finish()?))
}

/// `DigestedData`.
fn digest(inp: &[u8], depth: u32) -> R<((), usize)> {
    let mut s = Seq::required(inp, depth)?;
    let d = s.depth;
    s.need(false, |i, o| integer(i, d, o))?;
    s.need(false, |i, _| algor(i, d).map(Some))?;
    s.need(false, |i, _| pkcs7(i, d).map(|(_, n)| Some(((), n))))?;
    s.need(true, |i, o| octets(i, d, None, o))?;
    Ok(((), s.finish()?))
}

/// `EncryptedData`.
fn encrypt(inp: &[u8], depth: u32) -> R<((), usize)> {
    let mut s = Seq::required(inp, depth)?;
    let d = s.depth;
    s.need(false, |i, o| integer(i, d, o))?;
    s.need(true, |i, _| enc_content(i, d).map(Some))?;
    Ok(((), s.finish()?))
}

/// `EncryptedContentInfo`.
fn enc_content(inp: &[u8], depth: u32) -> R<((), usize)> {
    let mut s = Seq::required(inp, depth)?;
    let d = s.depth;
    s.need(false, |i, o| oid(i, d, o))?;
    s.need(false, |i, _| algor(i, d).map(Some))?;
    s.field(true, true, |i, o| octets(i, d, Some(0), o))?;
    Ok(((), s.finish()?))
}

/// `RecipientInfo`.
fn recip_info(inp: &[u8], depth: u32) -> R<((), usize)> {
    let mut s = Seq::required(inp, depth)?;
    let d = s.depth;
    s.need(false, |i, o| integer(i, d, o))?;
    s.need(false, |i, _| issuer_and_serial(i, d).map(Some))?;
    s.need(false, |i, _| algor(i, d).map(Some))?;
    s.need(true, |i, o| octets(i, d, None, o))?;
    Ok(((), s.finish()?))
}

/// `SignerInfo` (version 1: issuer and serial number).
fn signer_info(inp: &[u8], depth: u32) -> R<(Signer, usize)> {
    let mut s = Seq::required(inp, depth)?;
    let d = s.depth;
    s.need(false, |i, o| integer(i, d, o))?;
    let (issuer, serial) = s.need(false, |i, _| issuer_and_serial(i, d).map(Some))?;
    let digest_oid = s.need(false, |i, _| algor(i, d).map(Some))?;
    s.field(true, false, |i, o| {
        list(i, (0, CONTEXT), o, |e| attribute(e, d))
    })?;
    s.need(false, |i, _| algor(i, d).map(Some))?;
    let signature = s.need(false, |i, o| octets(i, d, None, o))?;
    s.field(true, true, |i, o| {
        list(i, (1, CONTEXT), o, |e| attribute(e, d))
    })?;
    let used = s.finish()?;
    Ok((
        Signer {
            signer: issuer,
            serial: integer_magnitude(&serial),
            digest_oid,
            signature,
        },
        used,
    ))
}

/// `IssuerAndSerialNumber`: kmod's signer string and the raw serial.
#[allow(clippy::type_complexity)]
fn issuer_and_serial(inp: &[u8], depth: u32) -> R<((Vec<u8>, Vec<u8>), usize)> {
    let mut s = Seq::required(inp, depth)?;
    let d = s.depth;
    let entries = s.need(false, |i, _| name(i, d).map(Some))?;
    let serial = s.need(true, |i, o| integer(i, d, o))?;
    // x509_name_to_str: the first commonName, else the last entry.
    let signer = entries
        .iter()
        .find(|(o, _)| o == OID_COMMON_NAME)
        .or(entries.last())
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    Ok(((signer, serial), s.finish()?))
}

/// `AlgorithmIdentifier`: the algorithm OID.
fn algor(inp: &[u8], depth: u32) -> R<(Vec<u8>, usize)> {
    let mut s = Seq::required(inp, depth)?;
    let d = s.depth;
    let o = s.need(false, |i, opt| oid(i, d, opt))?;
    s.field(true, true, |i, opt| any(i, d, opt))?;
    Ok((o, s.finish()?))
}

/// `Attribute`: type and SET OF ANY values.
fn attribute(inp: &[u8], depth: u32) -> R<((), usize)> {
    let mut s = Seq::required(inp, depth)?;
    let d = s.depth;
    s.need(false, |i, o| oid(i, d, o))?;
    s.need(true, |i, o| {
        list(i, set_tag(), o, |e| req(any(e, d, false)))
    })?;
    Ok(((), s.finish()?))
}

/// `Name` (OpenSSL's `X509_NAME`): its attributes in order, as
/// (type OID, value) pairs. Like OpenSSL, rejects a name whose text
/// attributes do not convert to UTF-8 (bad UTF-8, surrogates).
#[allow(clippy::type_complexity)]
fn name(inp: &[u8], depth: u32) -> R<(Vec<(Vec<u8>, Vec<u8>)>, usize)> {
    nest(depth)?;
    let inp = &inp[..inp.len().min(NAME_MAX)];
    // The inner decode starts again at depth 0 in OpenSSL.
    let (rdns, used) = req(list(inp, seq_tag(), false, |rdn| {
        req(list(rdn, set_tag(), false, |e| {
            let mut s = Seq::required(e, 1)?;
            let d = s.depth;
            let o = s.need(false, |i, opt| oid(i, d, opt))?;
            let (tag, value) = s.need(true, |i, opt| mstring(i, d, MASK_PRINTABLE, opt))?;
            Ok(((o, tag, value.into_owned()), s.finish()?))
        }))
    }))?;
    let mut entries = Vec::new();
    for (o, tag, value) in rdns.into_iter().flatten() {
        if !text_converts(tag, &value) {
            return Err(Bad);
        }
        entries.push((o, value));
    }
    Ok((entries, used))
}

/// Whether OpenSSL's name canonicalisation (`ASN1_STRING_to_UTF8`)
/// accepts a value of this string type.
fn text_converts(tag: u32, v: &[u8]) -> bool {
    let scalar_ok = |c: u32| c <= 0x10ffff && !(0xd800..=0xdfff).contains(&c);
    match tag {
        TAG_UTF8 => std::str::from_utf8(v).is_ok(),
        TAG_BMP => v
            .chunks(2)
            .all(|c| c.len() == 2 && scalar_ok(u32::from(u16::from_be_bytes([c[0], c[1]])))),
        TAG_UNIVERSALSTRING => v
            .chunks(4)
            .all(|c| c.len() == 4 && scalar_ok(u32::from_be_bytes([c[0], c[1], c[2], c[3]]))),
        _ => true,
    }
}

/// `Certificate`: structure only.
fn x509(inp: &[u8], depth: u32) -> R<((), usize)> {
    let mut s = Seq::required(inp, depth)?;
    let d = s.depth;
    s.need(false, |i, _| tbs_certificate(i, d).map(Some))?;
    s.need(false, |i, _| algor(i, d).map(Some))?;
    s.need(true, |i, o| bits(i, d, None, o))?;
    Ok(((), s.finish()?))
}

fn tbs_certificate(inp: &[u8], depth: u32) -> R<((), usize)> {
    let mut s = Seq::required(inp, depth)?;
    let d = s.depth;
    s.field(true, false, |i, o| {
        explicit(i, 0, o, |c| req(integer(c, d, false)))
    })?;
    s.need(false, |i, o| integer(i, d, o))?;
    s.need(false, |i, _| algor(i, d).map(Some))?;
    s.need(false, |i, _| name(i, d).map(Some))?;
    s.need(false, |i, _| {
        let mut v = Seq::required(i, d)?;
        let vd = v.depth;
        v.need(false, |j, o| time(j, vd, o))?;
        v.need(true, |j, o| time(j, vd, o))?;
        Ok(Some(((), v.finish()?)))
    })?;
    s.need(false, |i, _| name(i, d).map(Some))?;
    s.need(false, |i, _| {
        // X509_PUBKEY: decoded afresh (depth 0) inside its own item.
        nest(d)?;
        let mut k = Seq::required(i, 0)?;
        let kd = k.depth;
        k.need(false, |j, _| algor(j, kd).map(Some))?;
        k.need(true, |j, o| bits(j, kd, None, o))?;
        Ok(Some(((), k.finish()?)))
    })?;
    s.field(true, false, |i, o| bits(i, d, Some(1), o))?;
    s.field(true, false, |i, o| bits(i, d, Some(2), o))?;
    s.field(true, true, |i, o| explicit(i, 3, o, |c| extensions(c, d)))?;
    Ok(((), s.finish()?))
}

/// `[n] EXPLICIT SEQUENCE OF Extension`, the content of the tag.
fn extensions(inp: &[u8], depth: u32) -> R<((), usize)> {
    let (_, used) = req(list(inp, seq_tag(), false, |e| extension(e, depth)))?;
    Ok(((), used))
}

/// `Extension`.
fn extension(inp: &[u8], depth: u32) -> R<((), usize)> {
    let mut s = Seq::required(inp, depth)?;
    let d = s.depth;
    s.need(false, |i, o| oid(i, d, o))?;
    s.field(true, false, |i, o| {
        Ok(item(i, d, TAG_BOOLEAN, None, o)?.map(|(_, n)| ((), n)))
    })?;
    s.need(true, |i, o| octets(i, d, None, o))?;
    Ok(((), s.finish()?))
}

/// `CertificateList`: structure only.
fn crl(inp: &[u8], depth: u32) -> R<((), usize)> {
    let mut s = Seq::required(inp, depth)?;
    let d = s.depth;
    s.need(false, |i, _| {
        let mut t = Seq::required(i, d)?;
        let td = t.depth;
        t.field(true, false, |j, o| integer(j, td, o))?;
        t.need(false, |j, _| algor(j, td).map(Some))?;
        t.need(false, |j, _| name(j, td).map(Some))?;
        t.need(false, |j, o| time(j, td, o))?;
        t.field(true, false, |j, o| time(j, td, o))?;
        t.field(true, false, |j, o| {
            list(j, seq_tag(), o, |r| {
                let mut e = Seq::required(r, td)?;
                let ed = e.depth;
                e.need(false, |k, o| integer(k, ed, o))?;
                e.need(false, |k, o| time(k, ed, o))?;
                e.field(true, true, |k, o| {
                    list(k, seq_tag(), o, |x| extension(x, ed))
                })?;
                Ok(((), e.finish()?))
            })
        })?;
        t.field(true, true, |j, o| explicit(j, 0, o, |c| extensions(c, td)))?;
        Ok(Some(((), t.finish()?)))
    })?;
    s.need(false, |i, _| algor(i, d).map(Some))?;
    s.need(true, |i, o| bits(i, d, None, o))?;
    Ok(((), s.finish()?))
}
