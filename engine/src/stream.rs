//! Stable random-stream identifiers of the stochastic entities (MODEL.md §9).
//!
//! The engine draws no random numbers; it only fixes the names from which a simulator derives
//! stream ids, so that validation can reject a portfolio whose ids collide.

/// Stream name of the one systematic credit factor M of the Gaussian copula.
pub const SYSTEMATIC_FACTOR: &str = "systematic:M";

/// FNV-1a, 32-bit, of a byte string (offset basis 0x811c9dc5, prime 0x01000193).
pub fn fnv1a32(bytes: &[u8]) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for &b in bytes {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    h
}

/// Stream id of an entity, from its stream name: `class:<id>`, `fleet:<id>`, `operator:<id>`
/// or [`SYSTEMATIC_FACTOR`]. The kind prefix keeps a fleet and a class of the same id apart.
pub fn stream_id(name: &str) -> u32 {
    fnv1a32(name.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv1a_known_answers() {
        // Published FNV-1a 32-bit test vectors.
        assert_eq!(fnv1a32(b""), 0x811c_9dc5);
        assert_eq!(fnv1a32(b"a"), 0xe40c_292c);
        assert_eq!(fnv1a32(b"foobar"), 0xbf9c_f968);
    }
}
