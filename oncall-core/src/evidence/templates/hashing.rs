//! FxHash-style 64-bit hashing (multiply-rotate mix, then an avalanche) of tokens, tree
//! keys and template shapes, and the hasher of the maps keyed by those hashes.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// The tree key and hash of a wildcard token.
pub(super) const WILD_KEY: u64 = 0x2a2a_2a2a_2a2a_2a2a;

/// One multiply-rotate step (the FxHash mix); fast, not collision-resistant, which is
/// fine here: a collision only adds a candidate that the similarity check rejects,
/// or merges two shapes (see `shape_hash`).
pub(super) fn mix(h: u64, v: u64) -> u64 {
    (h.rotate_left(5) ^ v).wrapping_mul(0x517c_c1b7_2722_0a95)
}

/// Final avalanche so the low bits (the hash table's bucket index) are well mixed.
pub(super) fn finish(mut h: u64) -> u64 {
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h
}

pub(super) fn hash_bytes(bytes: &[u8]) -> u64 {
    let mut h = mix(0, bytes.len() as u64);
    let mut chunks = bytes.chunks_exact(8);
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        h = mix(h, u64::from_le_bytes(word));
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        let mut word = [0u8; 8];
        word[..rest.len()].copy_from_slice(rest);
        h = mix(h, u64::from_le_bytes(word));
    }
    finish(h)
}

/// A hasher for keys that already are well-mixed 64-bit hashes.
#[derive(Debug, Default, Clone, Copy)]
pub(super) struct Prehashed(u64);

impl Hasher for Prehashed {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = mix(self.0, u64::from(b));
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = finish(n);
    }
}

/// A hash map keyed by [`Prehashed`] 64-bit hashes.
pub(super) type PrehashedMap<V> = HashMap<u64, V, BuildHasherDefault<Prehashed>>;
