//! (in progress) appended module signatures.
#![allow(missing_docs, unused_variables)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureInfo { pub id_type: String, pub signer: Vec<u8>, pub key_id: Vec<u8>, pub hash_algo: String, pub algo: String, pub signature: Vec<u8> }
pub fn parse_appended(module_bytes: &[u8]) -> Option<SignatureInfo> { None }
pub fn format_hex(bytes: &[u8]) -> String { String::new() }
pub fn strip_signature(module_bytes: &[u8]) -> &[u8] { module_bytes }
