//! Object identifiers as OpenSSL's `OBJ_obj2txt` prints them: the long
//! name of a known digest, signature or key algorithm, else dotted decimal
//! numbers with arcs of any size (kmod prints the `digestAlgorithm` of a
//! PKCS#7 signer this way as `sig_hashalgo`).
//!
//! The input is an OID encoding the BER reader has already validated; the
//! text is built from it without any arithmetic that could overflow.

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
pub(super) fn oid_to_text(content: &[u8]) -> String {
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
