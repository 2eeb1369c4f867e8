//! The trailer kmod reads at the end of a signed module: the marker
//! `~Module signature appended~\n`, the 12-byte `struct module_signature`
//! before it, and the names kmod gives to its `algo`, `hash` and `id_type`
//! bytes.
//!
//! Every length in the header is checked against the bytes actually before
//! it (in 64-bit arithmetic, so no sum can wrap) before any slice is taken;
//! a header that does not fit means "no signature", as in kmod.

/// The marker that ends a signed module.
pub const SIG_MAGIC: &[u8] = b"~Module signature appended~\n";

/// Size of `struct module_signature`.
const HEADER_LEN: usize = 12;

/// kmod's names for `module_signature.algo`.
pub(super) const PKEY_ALGO: [&str; 2] = ["DSA", "RSA"];
/// kmod's names for `module_signature.hash`.
pub(super) const PKEY_HASH_ALGO: [&str; 9] = [
    "md4", "md5", "sha1", "rmd160", "sha256", "sha384", "sha512", "sha224", "sm3",
];
/// kmod's names for `module_signature.id_type`.
pub(super) const PKEY_ID_TYPE: [&str; 3] = ["PGP", "X509", "PKCS#7"];
/// The `id_type` of a PKCS#7 signature.
pub(super) const PKEY_ID_PKCS7: u8 = 2;

/// The parsed 12-byte trailer and where its parts sit in the file.
pub(super) struct Trailer {
    /// `module_signature.algo` (not range-checked here).
    pub algo: u8,
    /// `module_signature.hash` (not range-checked here).
    pub hash: u8,
    /// `module_signature.id_type` (not range-checked here).
    pub id_type: u8,
    signer_len: usize,
    key_id_len: usize,
    /// `module_signature.sig_len`.
    pub sig_len: usize,
    /// Length of the file without magic and header.
    body_len: usize,
}

impl Trailer {
    /// The signer name, key id and signature data of `data` (the bytes
    /// [`trailer`] read this header from), in file order. The lengths were
    /// checked to fit before the header, so the slices are in bounds.
    pub(super) fn parts<'a>(&self, data: &'a [u8]) -> (&'a [u8], &'a [u8], &'a [u8]) {
        let sig_start = self.body_len - self.sig_len;
        let key_start = sig_start - self.key_id_len;
        let signer_start = key_start - self.signer_len;
        (
            &data[signer_start..key_start],
            &data[key_start..sig_start],
            &data[sig_start..self.body_len],
        )
    }
}

/// Reads the marker and header; `None` when they are absent, truncated or
/// the lengths do not fit in the file (ignores the enum ranges).
pub(super) fn trailer(data: &[u8]) -> Option<Trailer> {
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
