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
//!
//! # Rooms
//!
//! - `trailer` — the marker and the 12-byte header at the end of the file,
//!   kmod's names for its fields, and [`strip_signature`].
//! - `ber` — the BER reader with OpenSSL's rules and nesting budgets.
//! - `pkcs7` — the PKCS#7 structures `d2i_PKCS7` decodes, on top of `ber`.
//! - `oid` — OpenSSL's names for algorithm OIDs, and dotted numbers.
//!
//! This file ties them together into [`parse_appended`] and formats values
//! as `modinfo` prints them ([`format_hex`]).

mod ber;
mod oid;
mod pkcs7;
#[cfg(test)]
mod tests;
mod trailer;

pub use trailer::{strip_signature, SIG_MAGIC};

use crate::compat::cstr::until_nul;
use oid::oid_to_text;
use trailer::{trailer, PKEY_ALGO, PKEY_HASH_ALGO, PKEY_ID_PKCS7, PKEY_ID_TYPE};

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
    let (signer, key_id, sig) = t.parts(module_bytes);
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
    Some(SignatureInfo {
        id_type,
        signer: until_nul(signer).to_vec(),
        key_id: key_id.to_vec(),
        hash_algo: PKEY_HASH_ALGO[usize::from(t.hash)].to_string(),
        algo: PKEY_ALGO[usize::from(t.algo)].to_string(),
        signature: sig.to_vec(),
    })
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
