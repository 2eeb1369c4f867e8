//! Tests of the whole signature reader through [`parse_appended`],
//! [`strip_signature`] and [`format_hex`]: the Debian `xor.ko` signature,
//! the trailer's edges, and crafted PKCS#7 messages (built with the small
//! DER/BER builder below) that kmod, through OpenSSL, accepts or rejects.

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
