//! The signature appended to a kernel module, as `modinfo` reports it.
//!
//! # Layout
//!
//! A signed module is the module image followed by, in order: the signer's
//! name (`signer_len` bytes), a key identifier (`key_id_len` bytes), the
//! signature data (`sig_len` bytes), a 12-byte `struct module_signature`
//! (`algo`, `hash`, `id_type`, `signer_len`, `key_id_len` as single bytes,
//! 3 bytes of padding, then `sig_len` as a big-endian u32) and the marker
//! `~Module signature appended~\n`.
//!
//! # What kmod reports (kmod 34 built with OpenSSL)
//!
//! kmod reports no signature unless the marker is present, the 12-byte
//! header fits before it, `algo < 2`, `hash < 9`, `id_type < 3`,
//! `sig_len != 0` and `sig_len + signer_len + key_id_len` fits before the
//! header. Then:
//!
//! - `id_type` 0 (`PGP`) or 1 (`X509`): signer, key id and signature are the
//!   raw byte ranges described above; the hash algorithm comes from kmod's
//!   table (`md4`, `md5`, `sha1`, `rmd160`, `sha256`, `sha384`, `sha512`,
//!   `sha224`, `sm3`).
//! - `id_type` 2 (`PKCS#7`): the `sig_len` bytes must start with a BER
//!   `ContentInfo` that OpenSSL's `d2i_PKCS7` accepts (bytes after it are
//!   ignored), of type signedData (or signedAndEnvelopedData) with content
//!   and at least one `SignerInfo`; otherwise kmod reports no signature.
//!   From the first `SignerInfo`: the signer is the first commonName in the
//!   issuer name (or, without one, the last attribute of the name; nothing
//!   for an empty name), cut at its first NUL as C's `strlen` does; the key
//!   id is the issuer serial number's magnitude as minimal big-endian bytes
//!   (`BN_bn2bin`: no bytes for serial 0); the hash algorithm is the
//!   `digestAlgorithm` OID as OpenSSL's `OBJ_obj2txt` names it (`sha256`,
//!   else dotted numbers); the signature is the `encryptedDigest` contents.
//!
//! # Why a hand-written reader
//!
//! Reporting exactly what kmod reports means accepting exactly what OpenSSL's
//! template decoder accepts, which is BER, not DER: indefinite lengths,
//! non-minimal length forms, constructed strings, unknown parameters kept as
//! `ANY`, plus OpenSSL's own checks (integer padding, OID encoding, string
//! types allowed in names, UTF-8/BMP validity, nesting limits). The `der` and
//! `cms` crates are deliberately strict DER and would disagree with kmod on
//! such inputs, so this module carries a small BER reader modelled on those
//! rules. Every length is checked against the bytes actually available,
//! nesting is bounded (30 levels like OpenSSL, 5 for constructed strings) and
//! all loops consume input, so no input can make it panic, recurse without
//! bound or loop.
//!
//! Known differences from OpenSSL: certificates and CRLs embedded in the
//! message are checked for structure only (OpenSSL also runs callbacks on
//! them), and OIDs outside a table of digest, signature and key algorithms
//! print as dotted numbers where OpenSSL might know a name.

/// The marker that ends a signed module.
pub const SIG_MAGIC: &[u8] = b"~Module signature appended~\n";

/// Size of `struct module_signature`.
const HEADER_LEN: usize = 12;

/// kmod's names for `module_signature.algo`.
const PKEY_ALGO: [&str; 2] = ["DSA", "RSA"];
/// kmod's names for `module_signature.hash`.
const PKEY_HASH_ALGO: [&str; 9] = [
    "md4", "md5", "sha1", "rmd160", "sha256", "sha384", "sha512", "sha224", "sm3",
];
/// kmod's names for `module_signature.id_type`.
const PKEY_ID_TYPE: [&str; 3] = ["PGP", "X509", "PKCS#7"];
const PKEY_ID_PKCS7: u8 = 2;

/// What kmod reports about a module's appended signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureInfo {
    /// `sig_id`: `"PGP"`, `"X509"` or `"PKCS#7"`.
    pub id_type: String,
    /// `signer`: the signer's name, already cut at its first NUL byte as
    /// kmod prints it (may be empty).
    pub signer: Vec<u8>,
    /// `sig_key`: the key identifier (for PKCS#7 the issuer serial number);
    /// may be empty. Print with [`format_hex`].
    pub key_id: Vec<u8>,
    /// `sig_hashalgo`: e.g. `"sha256"`, or a dotted OID for unknown ones.
    pub hash_algo: String,
    /// The public-key algorithm from the header (`"DSA"`/`"RSA"`) for the
    /// legacy formats; empty for PKCS#7, where kmod leaves it unset. kmod
    /// never prints it.
    pub algo: String,
    /// `signature`: the signature bytes. Print with [`format_hex`].
    pub signature: Vec<u8>,
}

/// The parsed 12-byte trailer and where its parts sit in the file.
struct Trailer {
    algo: u8,
    hash: u8,
    id_type: u8,
    signer_len: usize,
    key_id_len: usize,
    sig_len: usize,
    /// Length of the file without magic and header.
    body_len: usize,
}

/// Reads the marker and header; `None` when they are absent, truncated or
/// the lengths do not fit in the file (ignores the enum ranges).
fn trailer(data: &[u8]) -> Option<Trailer> {
    let without_magic = data.strip_suffix(SIG_MAGIC)?;
    let body_len = without_magic.len().checked_sub(HEADER_LEN)?;
    let h = &without_magic[body_len..];
    let t = Trailer {
        algo: h[0],
        hash: h[1],
        id_type: h[2],
        signer_len: usize::from(h[3]),
        key_id_len: usize::from(h[4]),
        sig_len: u32::from_be_bytes([h[8], h[9], h[10], h[11]]) as usize,
        body_len,
    };
    let needed = (t.sig_len as u64) + (t.signer_len as u64) + (t.key_id_len as u64);
    if needed > body_len as u64 {
        return None;
    }
    Some(t)
}

/// The signature information kmod's `modinfo` would print for this module
/// image (already decompressed).
///
/// Returns `None` wherever kmod prints no signature lines: no marker, a
/// header that does not fit, `algo`/`hash`/`id_type` out of kmod's tables,
/// `sig_len` of 0, lengths that run past the start of the file, or (for
/// PKCS#7) a blob OpenSSL would not decode or without a signer. Never
/// panics, whatever the input.
pub fn parse_appended(module_bytes: &[u8]) -> Option<SignatureInfo> {
    let t = trailer(module_bytes)?;
    if usize::from(t.algo) >= PKEY_ALGO.len()
        || usize::from(t.hash) >= PKEY_HASH_ALGO.len()
        || usize::from(t.id_type) >= PKEY_ID_TYPE.len()
        || t.sig_len == 0
    {
        return None;
    }
    let sig_start = t.body_len - t.sig_len;
    let sig = &module_bytes[sig_start..t.body_len];
    let id_type = PKEY_ID_TYPE[usize::from(t.id_type)].to_string();
    if t.id_type == PKEY_ID_PKCS7 {
        let s = pkcs7::first_signer(sig)?;
        return Some(SignatureInfo {
            id_type,
            signer: until_nul(&s.signer).to_vec(),
            key_id: s.serial,
            hash_algo: oid_to_text(&s.digest_oid),
            algo: String::new(),
            signature: s.signature,
        });
    }
    let key_start = sig_start - t.key_id_len;
    let signer_start = key_start - t.signer_len;
    Some(SignatureInfo {
        id_type,
        signer: until_nul(&module_bytes[signer_start..key_start]).to_vec(),
        key_id: module_bytes[key_start..sig_start].to_vec(),
        hash_algo: PKEY_HASH_ALGO[usize::from(t.hash)].to_string(),
        algo: PKEY_ALGO[usize::from(t.algo)].to_string(),
        signature: sig.to_vec(),
    })
}

/// The module image without its appended signature: everything before the
/// signer name, key id and signature data, when the file ends with the
/// marker and a header whose lengths fit in the file; otherwise the input
/// unchanged. Does not look at the header's algorithm fields or the
/// signature contents.
pub fn strip_signature(module_bytes: &[u8]) -> &[u8] {
    match trailer(module_bytes) {
        Some(t) => &module_bytes[..t.body_len - t.sig_len - t.key_id_len - t.signer_len],
        None => module_bytes,
    }
}

/// Formats bytes as kmod does for `sig_key` and `signature`: upper-case hex
/// pairs joined by `:`, with `"\n\t\t"` after every 20th byte's colon
/// (never after the last byte). Empty input gives an empty string.
pub fn format_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(bytes.len() * 3 + bytes.len() / 20 * 3);
    for (i, &b) in bytes.iter().enumerate() {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
        if i + 1 < bytes.len() {
            out.push(':');
            if (i + 1) % 20 == 0 {
                out.push_str("\n\t\t");
            }
        }
    }
    out
}

fn until_nul(s: &[u8]) -> &[u8] {
    match s.iter().position(|&b| b == 0) {
        Some(end) => &s[..end],
        None => s,
    }
}

/// Long names OpenSSL (3.5) gives to digest, signature and key algorithm
/// OIDs, keyed by the hex of the OID's content octets.
const OID_NAMES: &[(&str, &str)] = &[
    ("0992268993f22c640131", "dSAQuality"),
    ("0992268993f22c640415", "pilotDSA"),
    ("28cf06030037", "whirlpool"),
    ("2a811ccf5501822d", "sm2"),
    ("2a811ccf55018311", "sm3"),
    ("2a811ccf55018375", "SM2-with-SM3"),
    ("2a811ccf55018378", "sm3WithRSAEncryption"),
    ("2a8503020203", "GOST R 34.11-94 with GOST R 34.10-2001"),
    ("2a8503020204", "GOST R 34.11-94 with GOST R 34.10-94"),
    ("2a8503020209", "GOST R 34.11-94"),
    (
        "2a85030209010303",
        "GOST R 34.11-94 with GOST R 34.10-94 Cryptocom",
    ),
    (
        "2a85030209010304",
        "GOST R 34.11-94 with GOST R 34.10-2001 Cryptocom",
    ),
    ("2a85030701010202", "GOST R 34.11-2012 with 256 bit hash"),
    ("2a85030701010203", "GOST R 34.11-2012 with 512 bit hash"),
    (
        "2a85030701010302",
        "GOST R 34.10-2012 with GOST R 34.11-2012 (256 bit)",
    ),
    (
        "2a85030701010303",
        "GOST R 34.10-2012 with GOST R 34.11-2012 (512 bit)",
    ),
    ("2a864886f70d", "RSA Data Security, Inc."),
    ("2a864886f70d01", "RSA Data Security, Inc. PKCS"),
    ("2a864886f70d010101", "rsaEncryption"),
    ("2a864886f70d010102", "md2WithRSAEncryption"),
    ("2a864886f70d010103", "md4WithRSAEncryption"),
    ("2a864886f70d010104", "md5WithRSAEncryption"),
    ("2a864886f70d010105", "sha1WithRSAEncryption"),
    ("2a864886f70d010106", "rsaOAEPEncryptionSET"),
    ("2a864886f70d010107", "rsaesOaep"),
    ("2a864886f70d01010a", "rsassaPss"),
    ("2a864886f70d01010b", "sha256WithRSAEncryption"),
    ("2a864886f70d01010c", "sha384WithRSAEncryption"),
    ("2a864886f70d01010d", "sha512WithRSAEncryption"),
    ("2a864886f70d01010e", "sha224WithRSAEncryption"),
    ("2a864886f70d01010f", "sha512-224WithRSAEncryption"),
    ("2a864886f70d010110", "sha512-256WithRSAEncryption"),
    ("2a864886f70d010701", "pkcs7-data"),
    ("2a864886f70d010702", "pkcs7-signedData"),
    ("2a864886f70d010703", "pkcs7-envelopedData"),
    ("2a864886f70d010704", "pkcs7-signedAndEnvelopedData"),
    ("2a864886f70d010705", "pkcs7-digestData"),
    ("2a864886f70d010706", "pkcs7-encryptedData"),
    ("2a864886f70d0202", "md2"),
    ("2a864886f70d0204", "md4"),
    ("2a864886f70d0205", "md5"),
    ("2a8648ce380401", "dsaEncryption"),
    ("2a8648ce380403", "dsaWithSHA1"),
    ("2a8648ce3d0201", "id-ecPublicKey"),
    ("2a8648ce3d0401", "ecdsa-with-SHA1"),
    ("2a8648ce3d0402", "ecdsa-with-Recommended"),
    ("2a8648ce3d0403", "ecdsa-with-Specified"),
    ("2a8648ce3d040301", "ecdsa-with-SHA224"),
    ("2a8648ce3d040302", "ecdsa-with-SHA256"),
    ("2a8648ce3d040303", "ecdsa-with-SHA384"),
    ("2a8648ce3d040304", "ecdsa-with-SHA512"),
    ("2b060104018d3a0c0201", "blake2bmac"),
    ("2b060104018d3a0c020110", "blake2b512"),
    ("2b060104018d3a0c0202", "blake2smac"),
    ("2b060104018d3a0c020208", "blake2s256"),
    ("2b060105050705010c", "id-regCtrl-rsaKeyLen"),
    ("2b0e030203", "md5WithRSA"),
    ("2b0e03020b", "rsaSignature"),
    ("2b0e03020c", "dsaEncryption-old"),
    ("2b0e03020d", "dsaWithSHA"),
    ("2b0e03020f", "shaWithRSAEncryption"),
    ("2b0e030212", "sha"),
    ("2b0e03021a", "sha1"),
    ("2b0e03021b", "dsaWithSHA1-old"),
    ("2b0e03021d", "sha1WithRSA"),
    ("2b24030201", "ripemd160"),
    ("2b2403030102", "ripemd160WithRSA"),
    ("2b656e", "X25519"),
    ("2b656f", "X448"),
    ("2b6570", "ED25519"),
    ("2b6571", "ED448"),
    ("550403", "commonName"),
    ("55080101", "rsa"),
    ("55080364", "mdc2WithRSA"),
    ("55080365", "mdc2"),
    ("608648016503040201", "sha256"),
    ("608648016503040202", "sha384"),
    ("608648016503040203", "sha512"),
    ("608648016503040204", "sha224"),
    ("608648016503040205", "sha512-224"),
    ("608648016503040206", "sha512-256"),
    ("608648016503040207", "sha3-224"),
    ("608648016503040208", "sha3-256"),
    ("608648016503040209", "sha3-384"),
    ("60864801650304020a", "sha3-512"),
    ("60864801650304020b", "shake128"),
    ("60864801650304020c", "shake256"),
    ("608648016503040301", "dsa_with_SHA224"),
    ("608648016503040302", "dsa_with_SHA256"),
    ("608648016503040303", "dsa_with_SHA384"),
    ("608648016503040304", "dsa_with_SHA512"),
    ("608648016503040305", "dsa_with_SHA3-224"),
    ("608648016503040306", "dsa_with_SHA3-256"),
    ("608648016503040307", "dsa_with_SHA3-384"),
    ("608648016503040308", "dsa_with_SHA3-512"),
    ("608648016503040309", "ecdsa_with_SHA3-224"),
    ("60864801650304030a", "ecdsa_with_SHA3-256"),
    ("60864801650304030b", "ecdsa_with_SHA3-384"),
    ("60864801650304030c", "ecdsa_with_SHA3-512"),
    ("60864801650304030d", "RSA-SHA3-224"),
    ("60864801650304030e", "RSA-SHA3-256"),
    ("60864801650304030f", "RSA-SHA3-384"),
    ("608648016503040310", "RSA-SHA3-512"),
    ("608648016503040311", "ML-DSA-44"),
    ("608648016503040312", "ML-DSA-65"),
    ("608648016503040313", "ML-DSA-87"),
    ("608648016503040314", "SLH-DSA-SHA2-128s"),
    ("608648016503040315", "SLH-DSA-SHA2-128f"),
    ("608648016503040316", "SLH-DSA-SHA2-192s"),
    ("608648016503040317", "SLH-DSA-SHA2-192f"),
    ("608648016503040318", "SLH-DSA-SHA2-256s"),
    ("608648016503040319", "SLH-DSA-SHA2-256f"),
    ("60864801650304031a", "SLH-DSA-SHAKE-128s"),
    ("60864801650304031b", "SLH-DSA-SHAKE-128f"),
    ("60864801650304031c", "SLH-DSA-SHAKE-192s"),
    ("60864801650304031d", "SLH-DSA-SHAKE-192f"),
    ("60864801650304031e", "SLH-DSA-SHAKE-256s"),
    ("60864801650304031f", "SLH-DSA-SHAKE-256f"),
    ("608648016503040320", "HASH-ML-DSA-44-WITH-SHA512"),
    ("608648016503040321", "HASH-ML-DSA-65-WITH-SHA512"),
    ("608648016503040322", "HASH-ML-DSA-87-WITH-SHA512"),
    ("608648016503040323", "SLH-DSA-SHA2-128s-WITH-SHA256"),
    ("608648016503040324", "SLH-DSA-SHA2-128f-WITH-SHA256"),
    ("608648016503040325", "SLH-DSA-SHA2-192s-WITH-SHA512"),
    ("608648016503040326", "SLH-DSA-SHA2-192f-WITH-SHA512"),
    ("608648016503040327", "SLH-DSA-SHA2-256s-WITH-SHA512"),
    ("608648016503040328", "SLH-DSA-SHA2-256f-WITH-SHA512"),
    ("608648016503040329", "SLH-DSA-SHAKE-128s-WITH-SHAKE128"),
    ("60864801650304032a", "SLH-DSA-SHAKE-128f-WITH-SHAKE128"),
    ("60864801650304032b", "SLH-DSA-SHAKE-192s-WITH-SHAKE256"),
    ("60864801650304032c", "SLH-DSA-SHAKE-192f-WITH-SHAKE256"),
    ("60864801650304032d", "SLH-DSA-SHAKE-256s-WITH-SHAKE256"),
    ("60864801650304032e", "SLH-DSA-SHAKE-256f-WITH-SHAKE256"),
];

/// `OBJ_obj2txt(.., no_name = 0)`: OpenSSL's long name for a known OID,
/// else the dotted decimal form (arbitrarily large arcs included).
/// `content` is a validated OID encoding (non-empty, last byte < 0x80).
fn oid_to_text(content: &[u8]) -> String {
    let hex: String = content.iter().map(|b| format!("{b:02x}")).collect();
    if let Some((_, name)) = OID_NAMES.iter().find(|(h, _)| *h == hex) {
        return (*name).to_string();
    }
    let mut out = String::new();
    let mut arc = BigArc::default();
    let mut first = true;
    for &b in content {
        arc.push7(b & 0x7f);
        if b & 0x80 != 0 {
            continue;
        }
        if first {
            first = false;
            let top = if arc.at_least(80) {
                arc.sub(80);
                2
            } else if arc.at_least(40) {
                arc.sub(40);
                1
            } else {
                0
            };
            out.push_str(&top.to_string());
        }
        out.push('.');
        out.push_str(&arc.to_decimal());
        arc = BigArc::default();
    }
    out
}

/// An OID arc of any size: little-endian limbs in base 10^9.
#[derive(Default)]
struct BigArc(Vec<u32>);

impl BigArc {
    const BASE: u64 = 1_000_000_000;

    /// `self = self * 128 + bits`.
    fn push7(&mut self, bits: u8) {
        let mut carry = u64::from(bits);
        for limb in &mut self.0 {
            let v = u64::from(*limb) * 128 + carry;
            *limb = (v % Self::BASE) as u32;
            carry = v / Self::BASE;
        }
        while carry > 0 {
            self.0.push((carry % Self::BASE) as u32);
            carry /= Self::BASE;
        }
    }

    fn at_least(&self, v: u32) -> bool {
        self.0.iter().skip(1).any(|&l| l > 0) || self.0.first().is_some_and(|&l| l >= v)
    }

    /// `self -= v`; only called when `self >= v`.
    fn sub(&mut self, v: u32) {
        let mut borrow = u64::from(v);
        for limb in &mut self.0 {
            let cur = u64::from(*limb);
            if cur >= borrow {
                *limb = (cur - borrow) as u32;
                return;
            }
            *limb = (cur + Self::BASE - borrow) as u32;
            borrow = 1;
        }
    }

    fn to_decimal(&self) -> String {
        let mut limbs = self.0.iter().rev().skip_while(|&&l| l == 0);
        let Some(top) = limbs.next() else {
            return "0".to_string();
        };
        let mut s = top.to_string();
        for l in limbs {
            s.push_str(&format!("{l:09}"));
        }
        s
    }
}

/// A BER reader following the rules of OpenSSL's template decoder
/// (`crypto/asn1/tasn_dec.c`), which is what kmod's `d2i_PKCS7_bio` uses.
///
/// Decoders take the bytes available at their position (never more than
/// the enclosing element allows) and return what they decoded plus how many
/// bytes they consumed; `Ok(None)` means "OPTIONAL element absent" and is
/// only returned when the caller allowed it.
mod ber {
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
}

/// The PKCS#7 structures OpenSSL's `d2i_PKCS7` decodes, as far as kmod
/// needs them: everything is validated, only the first signer is kept.
mod pkcs7 {
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
}

#[cfg(test)]
mod tests {
    use super::*;

    // --- a tiny DER/BER builder for crafted inputs -------------------------

    fn len_octets(n: usize) -> Vec<u8> {
        if n < 0x80 {
            return vec![n as u8];
        }
        let bytes: Vec<u8> = n
            .to_be_bytes()
            .into_iter()
            .skip_while(|&b| b == 0)
            .collect();
        let mut v = vec![0x80 | bytes.len() as u8];
        v.extend(bytes);
        v
    }

    fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
        let mut v = vec![tag];
        v.extend(len_octets(content.len()));
        v.extend_from_slice(content);
        v
    }

    fn indefinite(tag: u8, content: &[u8]) -> Vec<u8> {
        let mut v = vec![tag, 0x80];
        v.extend_from_slice(content);
        v.extend([0, 0]);
        v
    }

    fn cat(parts: &[&[u8]]) -> Vec<u8> {
        parts.concat()
    }

    fn seq(parts: &[&[u8]]) -> Vec<u8> {
        tlv(0x30, &cat(parts))
    }

    fn set(parts: &[&[u8]]) -> Vec<u8> {
        tlv(0x31, &cat(parts))
    }

    fn oid(arcs: &[u64]) -> Vec<u8> {
        let mut body = Vec::new();
        let mut all = vec![arcs[0] * 40 + arcs[1]];
        all.extend_from_slice(&arcs[2..]);
        for mut a in all {
            let mut enc = vec![(a & 0x7f) as u8];
            a >>= 7;
            while a > 0 {
                enc.push(0x80 | (a & 0x7f) as u8);
                a >>= 7;
            }
            enc.reverse();
            body.extend(enc);
        }
        tlv(0x06, &body)
    }

    const SIGNED_DATA: &[u64] = &[1, 2, 840, 113549, 1, 7, 2];
    const DATA: &[u64] = &[1, 2, 840, 113549, 1, 7, 1];
    const SHA256: &[u64] = &[2, 16, 840, 1, 101, 3, 4, 2, 1];
    const RSA: &[u64] = &[1, 2, 840, 113549, 1, 1, 1];
    const CN: &[u64] = &[2, 5, 4, 3];
    const COUNTRY: &[u64] = &[2, 5, 4, 6];
    const ORG: &[u64] = &[2, 5, 4, 10];

    /// A Name with one attribute per RDN.
    fn name(attrs: &[(&[u64], u8, &[u8])]) -> Vec<u8> {
        let rdns: Vec<Vec<u8>> = attrs
            .iter()
            .map(|(o, tag, v)| set(&[&seq(&[&oid(o), &tlv(*tag, v)])]))
            .collect();
        let refs: Vec<&[u8]> = rdns.iter().map(Vec::as_slice).collect();
        seq(&refs)
    }

    struct Si {
        issuer: Vec<u8>,
        serial: Vec<u8>,
        digest: Vec<u8>,
        sig: Vec<u8>,
        extra: Vec<u8>,
    }

    impl Default for Si {
        fn default() -> Si {
            Si {
                issuer: name(&[(CN, 0x0c, b"Test key")]),
                serial: vec![0x01, 0x23],
                digest: oid(SHA256),
                sig: vec![0xAA; 16],
                extra: Vec::new(),
            }
        }
    }

    impl Si {
        fn der(&self) -> Vec<u8> {
            seq(&[
                &tlv(0x02, &[1]),
                &seq(&[&self.issuer, &tlv(0x02, &self.serial)]),
                &seq(&[&self.digest]),
                &seq(&[&oid(RSA), &tlv(0x05, &[])]),
                &tlv(0x04, &self.sig),
                &self.extra,
            ])
        }
    }

    fn signed_data(signers: &[Vec<u8>], content: &[u8]) -> Vec<u8> {
        let refs: Vec<&[u8]> = signers.iter().map(Vec::as_slice).collect();
        seq(&[
            &tlv(0x02, &[1]),
            &set(&[&seq(&[&oid(SHA256)])]),
            content,
            &set(&refs),
        ])
    }

    fn pkcs7(si: &Si) -> Vec<u8> {
        content_info(&signed_data(&[si.der()], &seq(&[&oid(DATA)])))
    }

    fn content_info(signed: &[u8]) -> Vec<u8> {
        seq(&[&oid(SIGNED_DATA), &tlv(0xa0, signed)])
    }

    /// A fake module image followed by a signature trailer.
    fn module_with(blob: &[u8], hdr: [u8; 5], sig_len: u32, pre: &[u8]) -> Vec<u8> {
        let mut m = b"\x7fELF fake module image".to_vec();
        m.extend_from_slice(pre);
        m.extend_from_slice(blob);
        m.extend_from_slice(&hdr);
        m.extend([0, 0, 0]);
        m.extend(sig_len.to_be_bytes());
        m.extend_from_slice(SIG_MAGIC);
        m
    }

    fn pkcs7_module(blob: &[u8]) -> Vec<u8> {
        module_with(blob, [0, 0, 2, 0, 0], blob.len() as u32, &[])
    }

    fn parse_pkcs7(blob: &[u8]) -> Option<SignatureInfo> {
        parse_appended(&pkcs7_module(blob))
    }

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len() / 2)
            .map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap())
            .collect()
    }

    /// The PKCS#7 signature of Debian 6.1.0-50-amd64's `xor.ko`.
    fn debian_blob() -> Vec<u8> {
        hex(concat!(
            "308202a506092a864886f70d010702a082029630820292020101310d300b06096086480165030402",
            "01300b06092a864886f70d0107013182026f3082026b0201013046302e312c302a06035504030c23",
            "4275696c642074696d65206175746f67656e657261746564206b65726e656c206b657902143d4654",
            "93dd0e139644690de481b8a08e9ce54566300b0609608648016503040201300d06092a864886f70d",
            "01010105000482020030065b5749f957244a283920770fddcde3d20cc0875cd09ff27829bb80616a",
            "13cd04534d34bcec652403a8dde3ce409353ca34459d77393ad4d6c6ef268d1132efbeb2186d8158",
            "f4696ca447a4a3e9212b111ad4ff3cc73e15f839fc5825e905a5edb55549ad086595c49caebd3f76",
            "73f7722efc90f2fd88c0badfc98f6baccee591c5132a550303bcb29b449aabfd1ec1be3250a81cf9",
            "d5984444221519127115bdf3559be48b50cc65ec309597f9cb143f81dee2eb119cee66ffe0db8459",
            "06a2f34a3d3e6c4cb746b82a9c4d9c92388f281eaa1a08514427263a63fb6949b51129612488bb3d",
            "9abd67f18d3365b10a09100ca4ea463fdf39fbbd2a4730ff9e61a67f2841b9c69e15326ed56f111b",
            "51a3d4fc4f63c5d49f9970e00a02724afe673bde39052b89e4e76681581eb301b9ed6004c1b2c7ee",
            "66457434b102261f95990cdd5c745c6ecaa7e92c32ae7b852025ea54149747debd9bfc5c6aee4988",
            "e85b724abd5a8453dd493908ad35b418008eac2a5aae795cb629a660865c6a2df0dfd3e697ea2a01",
            "3f20fb8b50edccb513c516146388d6ad3705cf461bbb3c34320bda5f36e194e997e0ca9dfbdafeae",
            "f4d811c7e36ccca097cf00f2e9a7af7dd521a2f557b24c5f3673998c8a160a9eb3da60ccdff3f254",
            "81d0ad2651896959cb64438a30ec4dce77a43746012570d389d8e42ca57d65ab3ea4b009c8de708f",
            "f3",
        ))
    }

    // --- format_hex ----------------------------------------------------------

    #[test]
    fn hex_format_matches_kmod() {
        assert_eq!(format_hex(&[]), "");
        assert_eq!(format_hex(&[0x0a]), "0A");
        assert_eq!(format_hex(&[0xde, 0xad, 0x00]), "DE:AD:00");
        let b: Vec<u8> = (0..41).collect();
        let twenty = format_hex(&b[..20]);
        assert!(!twenty.contains('\n') && twenty.ends_with("13"));
        assert_eq!(format_hex(&b[..21]), format!("{twenty}:\n\t\t14"));
        let forty = format_hex(&b[..40]);
        assert_eq!(forty.matches("\n\t\t").count(), 1);
        assert!(forty.ends_with("27"));
        assert!(format_hex(&b).ends_with("26:27:\n\t\t28"));
    }

    // --- real data -----------------------------------------------------------

    #[test]
    fn debian_signature() {
        let s = parse_pkcs7(&debian_blob()).expect("signature");
        assert_eq!(s.id_type, "PKCS#7");
        assert_eq!(s.signer, b"Build time autogenerated kernel key");
        assert_eq!(
            format_hex(&s.key_id),
            "3D:46:54:93:DD:0E:13:96:44:69:0D:E4:81:B8:A0:8E:9C:E5:45:66"
        );
        assert_eq!(s.hash_algo, "sha256");
        assert_eq!(s.algo, "");
        assert_eq!(s.signature.len(), 512);
        assert_eq!(s.signature[..4], [0x30, 0x06, 0x5b, 0x57]);
        assert_eq!(s.signature[508..], [0xde, 0x70, 0x8f, 0xf3]);
        let hexed = format_hex(&s.signature);
        assert!(hexed.starts_with("30:06:5B:57:"));
        assert_eq!(hexed.lines().count(), 26);
    }

    #[test]
    fn no_input_panics() {
        let blob = debian_blob();
        for cut in 0..=blob.len() {
            let _ = parse_pkcs7(&blob[..cut]);
            let _ = parse_pkcs7(&blob[cut..]);
        }
        for i in 0..blob.len() {
            for v in [0x00, 0x80, 0xff, 0x30, 0x1f, 0x84] {
                let mut b = blob.clone();
                b[i] = v;
                let _ = parse_pkcs7(&b);
            }
        }
        let m = pkcs7_module(&blob);
        for cut in 0..m.len().min(200) {
            let _ = parse_appended(&m[m.len() - cut..]);
            let _ = strip_signature(&m[m.len() - cut..]);
        }
    }

    // --- the trailer -------------------------------------------------------------

    #[test]
    fn trailer_edges_match_kmod() {
        let blob = pkcs7(&Si::default());
        let n = blob.len() as u32;
        assert!(parse_appended(&module_with(&blob, [0, 0, 2, 0, 0], n, &[])).is_some());
        // kmod reports nothing for all of these.
        assert_eq!(parse_appended(b""), None);
        assert_eq!(parse_appended(SIG_MAGIC), None);
        assert_eq!(parse_appended(&[&[0u8; 11][..], SIG_MAGIC].concat()), None);
        let mut no_magic = module_with(&blob, [0, 0, 2, 0, 0], n, &[]);
        no_magic.pop();
        assert_eq!(parse_appended(&no_magic), None);
        for (hdr, len) in [
            ([0, 0, 2, 0, 0], 0),          // sig_len 0
            ([0, 0, 2, 0, 0], u32::MAX),   // sig_len past the start
            ([0, 0, 2, 0, 0], n - 1),      // blob cut short: not DER
            ([0, 0, 2, 0, 0], n + 1),      // starts one byte early
            ([2, 0, 2, 0, 0], n),          // algo out of range
            ([0, 9, 2, 0, 0], n),          // hash out of range
            ([0, 0, 3, 0, 0], n),          // id_type out of range
            ([0, 0, 2, 255, 255], 60_000), // lengths past the start
        ] {
            let m = module_with(&blob, hdr, len, &[]);
            assert_eq!(parse_appended(&m), None, "{hdr:?} {len}");
        }
        // signer_len/key_id_len only count for the size check with PKCS#7.
        let m = module_with(&blob, [0, 8, 2, 3, 4], n, &[]);
        assert_eq!(parse_appended(&m).unwrap().signer, b"Test key");
        // Bytes after the PKCS#7 element are ignored.
        let mut longer = blob.clone();
        longer.extend(b"junk");
        assert!(parse_pkcs7(&longer).is_some());
    }

    #[test]
    fn legacy_formats_are_raw() {
        let m = module_with(b"SIG-BYTES", [1, 4, 1, 6, 4], 9, b"signerKEY!");
        let s = parse_appended(&m).unwrap();
        assert_eq!(s.id_type, "X509");
        assert_eq!(s.signer, b"signer");
        assert_eq!(s.key_id, b"KEY!");
        assert_eq!(s.hash_algo, "sha256");
        assert_eq!(s.algo, "RSA");
        assert_eq!(s.signature, b"SIG-BYTES");
        // The signer is printed as a C string.
        let m = module_with(b"SIG", [0, 3, 0, 4, 0], 3, b"a\0bc");
        let s = parse_appended(&m).unwrap();
        assert_eq!(
            (s.id_type.as_str(), s.signer.as_slice()),
            ("PGP", &b"a"[..])
        );
        assert_eq!((s.hash_algo.as_str(), s.algo.as_str()), ("rmd160", "DSA"));
        assert!(s.key_id.is_empty());
    }

    #[test]
    fn strip_removes_the_whole_trailer() {
        let m = module_with(b"SIG", [0, 0, 1, 2, 1], 3, b"ssk");
        assert_eq!(strip_signature(&m), b"\x7fELF fake module image");
        let plain = b"\x7fELF no signature".to_vec();
        assert_eq!(strip_signature(&plain), &plain[..]);
        let lying = module_with(b"SIG", [0, 0, 2, 0, 0], 1 << 20, b"");
        assert_eq!(strip_signature(&lying), &lying[..]);
    }

    // --- PKCS#7 contents -------------------------------------------------------

    #[test]
    fn pkcs7_rejections_match_kmod() {
        let rejected = |blob: Vec<u8>, what: &str| assert_eq!(parse_pkcs7(&blob), None, "{what}");
        rejected(vec![1, 2, 3, 4], "not BER");
        rejected(tlv(0x04, b"abc"), "not a SEQUENCE");
        rejected(
            seq(&[&oid(DATA), &tlv(0xa0, &tlv(0x04, b"x"))]),
            "type data",
        );
        rejected(seq(&[&oid(SIGNED_DATA)]), "signedData without content");
        rejected(
            content_info(&signed_data(&[], &seq(&[&oid(DATA)]))),
            "no signers",
        );
        let si = Si {
            extra: tlv(0x02, &[5]),
            ..Si::default()
        };
        rejected(pkcs7(&si), "trailing field in SignerInfo");
        for serial in [&[][..], &[0x00, 0x7f], &[0xff, 0x80, 0x00]] {
            let si = Si {
                serial: serial.to_vec(),
                ..Si::default()
            };
            rejected(pkcs7(&si), "badly padded serial");
        }
        for (tag, value) in [
            (0x0c, &b"ab\xffcd"[..]),    // bad UTF-8
            (0x0c, b"ab\xed\xa0\x80"),   // UTF-8 surrogate
            (0x1e, b"\x00K\x00"),        // odd BMPString
            (0x1e, b"\xd8\x00\x00K"),    // BMP surrogate
            (0x1c, b"\x00\x11\x00\x00"), // UniversalString beyond U+10FFFF
            (0x04, b"abc"),              // OCTET STRING not allowed in names
            (0x0a, b"\x05"),             // nor ENUMERATED
            (0x17, b"250101000000Z"),    // nor UTCTime
        ] {
            let si = Si {
                issuer: name(&[(CN, tag, value)]),
                ..Si::default()
            };
            rejected(pkcs7(&si), "bad name value");
        }
        // An OID with a padded arc.
        let si = Si {
            digest: tlv(0x06, &[0x60, 0x86, 0x48, 0x80, 0x01]),
            ..Si::default()
        };
        rejected(pkcs7(&si), "bad OID");
        // EOC inside a definite-length SEQUENCE.
        let si = Si {
            extra: vec![0, 0],
            ..Si::default()
        };
        rejected(pkcs7(&si), "stray end-of-contents");
        // A certificate that is not one.
        let bad_cert = tlv(0xa0, &seq(&[&tlv(0x02, &[1])]));
        let sd = seq(&[
            &tlv(0x02, &[1]),
            &set(&[&seq(&[&oid(SHA256)])]),
            &seq(&[&oid(DATA)]),
            &bad_cert,
            &set(&[&Si::default().der()]),
        ]);
        rejected(content_info(&sd), "garbage certificate");
    }

    #[test]
    fn pkcs7_fields_match_kmod() {
        let get = |si: Si| parse_pkcs7(&pkcs7(&si)).expect("signature");
        // Signer: first CN, else the last attribute, else nothing.
        let s = get(Si {
            issuer: name(&[(CN, 0x0c, b"first"), (CN, 0x0c, b"second")]),
            ..Si::default()
        });
        assert_eq!(s.signer, b"first");
        let s = get(Si {
            issuer: name(&[(COUNTRY, 0x13, b"DE"), (ORG, 0x0c, b"Org")]),
            ..Si::default()
        });
        assert_eq!(s.signer, b"Org");
        assert!(get(Si {
            issuer: seq(&[]),
            ..Si::default()
        })
        .signer
        .is_empty());
        // A BMPString starts with a NUL byte, so strlen() sees nothing.
        let s = get(Si {
            issuer: name(&[(CN, 0x1e, b"\x00K\x00e")]),
            ..Si::default()
        });
        assert!(s.signer.is_empty());
        let s = get(Si {
            issuer: name(&[(CN, 0x0c, b"ab\0cd")]),
            ..Si::default()
        });
        assert_eq!(s.signer, b"ab");
        // Key id: the serial's magnitude, minimal.
        for (serial, key) in [
            (&[0x00][..], &[][..]),
            (&[0x00, 0x80], &[0x80]),
            (&[0xfe, 0xd4], &[0x01, 0x2c]), // -300
            (&[0xff, 0x00], &[0x01, 0x00]), // -256
        ] {
            let s = get(Si {
                serial: serial.to_vec(),
                ..Si::default()
            });
            assert_eq!(s.key_id, key);
        }
        // Hash algorithm names.
        for (digest, text) in [
            (oid(&[1, 3, 14, 3, 2, 26]), "sha1"),
            (oid(&[2, 16, 840, 1, 101, 3, 4, 2, 8]), "sha3-256"),
            (oid(&[1, 2, 3, 4, 5]), "1.2.3.4.5"),
            (oid(&[2, 999, 3]), "2.999.3"),
            (
                tlv(
                    0x06,
                    &[
                        0x88, 0x37, 0x81, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00,
                    ],
                ),
                "2.999.9223372036854775808",
            ),
        ] {
            assert_eq!(
                get(Si {
                    digest,
                    ..Si::default()
                })
                .hash_algo,
                text
            );
        }
        assert!(get(Si {
            sig: Vec::new(),
            ..Si::default()
        })
        .signature
        .is_empty());
    }

    #[test]
    fn ber_forms_openssl_accepts() {
        let si = Si::default().der();
        let sd = indefinite(
            0x30,
            &cat(&[
                &tlv(0x02, &[1]),
                &indefinite(0x31, &seq(&[&oid(SHA256)])),
                &indefinite(0x30, &oid(DATA)),
                &indefinite(0x31, &si),
            ]),
        );
        let blob = indefinite(0x30, &cat(&[&oid(SIGNED_DATA), &indefinite(0xa0, &sd)]));
        assert_eq!(parse_pkcs7(&blob).unwrap().signer, b"Test key");
        // Non-minimal length octets.
        let sd = signed_data(std::slice::from_ref(&si), &seq(&[&oid(DATA)]));
        let mut long = vec![0xa0, 0x84];
        long.extend((sd.len() as u32).to_be_bytes());
        long.extend(&sd);
        assert!(parse_pkcs7(&seq(&[&oid(SIGNED_DATA), &long])).is_some());
        // A constructed OCTET STRING signature is joined.
        let si = seq(&[
            &tlv(0x02, &[1]),
            &seq(&[&name(&[(CN, 0x0c, b"K")]), &tlv(0x02, &[7])]),
            &seq(&[&oid(SHA256)]),
            &seq(&[&oid(RSA), &tlv(0x05, &[])]),
            &tlv(0x24, &cat(&[&tlv(0x04, b"AB"), &tlv(0x04, b"CD")])),
        ]);
        let s = parse_pkcs7(&content_info(&signed_data(&[si], &seq(&[&oid(DATA)])))).unwrap();
        assert_eq!(s.signature, b"ABCD");
        // Only the first of several signers counts.
        let two = [
            Si {
                serial: vec![5],
                ..Si::default()
            }
            .der(),
            Si {
                serial: vec![6],
                ..Si::default()
            }
            .der(),
        ];
        let s = parse_pkcs7(&content_info(&signed_data(&two, &seq(&[&oid(DATA)])))).unwrap();
        assert_eq!(s.key_id, [5]);
    }

    #[test]
    fn nesting_limit_matches_openssl() {
        let si = Si::default().der();
        let nested = |levels: usize| {
            let mut inner = seq(&[&oid(DATA)]);
            for _ in 0..levels {
                inner = content_info(&signed_data(std::slice::from_ref(&si), &inner));
            }
            inner
        };
        assert!(parse_pkcs7(&nested(13)).is_some());
        assert_eq!(parse_pkcs7(&nested(14)), None);
    }
}
