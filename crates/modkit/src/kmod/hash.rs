//! kmod's string hash and the order its hash table hands keys out in,
//! which decides the order of several of depmod's outputs.

/// kmod's string hash (Paul Hsieh's SuperFastHash, as in kmod's
/// `shared/hash.c`, with C's signed `char` on x86).
pub fn kmod_hash(key: &[u8]) -> u32 {
    let len = key.len() as u32;
    let mut hash: u32 = len;
    let rem = key.len() & 3;
    let u16at = |k: &[u8], i: usize| u32::from(u16::from_le_bytes([k[i], k[i + 1]]));
    let sc = |b: u8| b as i8 as i32 as u32;
    let mut chunks = key.chunks_exact(4);
    for c in chunks.by_ref() {
        hash = hash.wrapping_add(u16at(c, 0));
        let tmp = (u16at(c, 2) << 11) ^ hash;
        hash = (hash << 16) ^ tmp;
        hash = hash.wrapping_add(hash >> 11);
    }
    let k = chunks.remainder();
    match rem {
        3 => {
            hash = hash.wrapping_add(u16at(k, 0));
            hash ^= hash << 16;
            hash ^= sc(k[2]) << 18;
            hash = hash.wrapping_add(hash >> 11);
        }
        2 => {
            hash = hash.wrapping_add(u16at(k, 0));
            hash ^= hash << 11;
            hash = hash.wrapping_add(hash >> 17);
        }
        1 => {
            hash = hash.wrapping_add(sc(k[0]));
            hash ^= hash << 10;
            hash = hash.wrapping_add(hash >> 1);
        }
        _ => {}
    }
    hash ^= hash << 3;
    hash = hash.wrapping_add(hash >> 5);
    hash ^= hash << 4;
    hash = hash.wrapping_add(hash >> 17);
    hash ^= hash << 25;
    hash = hash.wrapping_add(hash >> 6);
    hash
}

/// Sorts keys in the order kmod's hash table (with `buckets` buckets, a
/// power of two) iterates them: by bucket, then bytewise within a bucket.
pub fn sort_in_hash_order<T>(items: &mut [T], buckets: u32, key: impl Fn(&T) -> &[u8]) {
    items.sort_by_cached_key(|t| {
        let k = key(t);
        (kmod_hash(k) & (buckets - 1), k.to_vec())
    });
}
