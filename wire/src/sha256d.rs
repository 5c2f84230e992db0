//! Double SHA-256 (SHA-256d), the one hash the protocol uses for checksums, block hashes and
//! transaction ids.
//!
//! This is the crate's only seam to a SHA-256 implementation: the `sha2` crate by default
//! (pure Rust, `no_std`; it uses the CPU's SHA extensions when present), or `ring`'s
//! assembly with the `fast-sha256` feature, which is about twice as fast on CPUs without SHA
//! extensions and no faster on CPUs with them. Both give identical results.

#[cfg(not(feature = "fast-sha256"))]
use sha2::Digest as _;

/// Which SHA-256 implementation this build uses (`"sha2"` or `"ring"`).
pub const BACKEND: &str = if cfg!(feature = "fast-sha256") {
    "ring"
} else {
    "sha2"
};

/// An incremental SHA-256d: feed the parts of a message, then [`Sha256d::finalize`].
#[derive(Clone)]
pub struct Sha256d {
    #[cfg(not(feature = "fast-sha256"))]
    inner: sha2::Sha256,
    #[cfg(feature = "fast-sha256")]
    inner: ring::digest::Context,
}

impl Default for Sha256d {
    fn default() -> Self {
        Self::new()
    }
}

impl core::fmt::Debug for Sha256d {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Sha256d")
            .field("backend", &BACKEND)
            .finish_non_exhaustive()
    }
}

impl Sha256d {
    /// Returns an empty hasher.
    #[must_use]
    pub fn new() -> Self {
        Self {
            #[cfg(not(feature = "fast-sha256"))]
            inner: sha2::Sha256::new(),
            #[cfg(feature = "fast-sha256")]
            inner: ring::digest::Context::new(&ring::digest::SHA256),
        }
    }

    /// Feeds `data` into the first SHA-256 pass.
    pub fn update(&mut self, data: &[u8]) {
        self.inner.update(data);
    }

    /// Returns SHA-256(SHA-256(data fed so far)).
    #[must_use]
    pub fn finalize(self) -> [u8; 32] {
        #[cfg(not(feature = "fast-sha256"))]
        {
            let first = self.inner.finalize();
            sha2::Sha256::digest(first).into()
        }
        #[cfg(feature = "fast-sha256")]
        {
            let first = self.inner.finish();
            let second = ring::digest::digest(&ring::digest::SHA256, first.as_ref());
            let mut out = [0u8; 32];
            out.copy_from_slice(second.as_ref());
            out
        }
    }

    /// Returns SHA-256(SHA-256(`data`)).
    // One out-of-line body for every caller: how much of the hasher's finalization gets
    // inlined otherwise depends on codegen-unit partitioning, and for a tiny payload (a
    // `ping`'s checksum) that alone moved the cost of a frame by about 10%.
    #[must_use]
    #[inline(never)]
    pub fn hash(data: &[u8]) -> [u8; 32] {
        let mut h = Self::new();
        h.update(data);
        h.finalize()
    }
}

/// Returns single SHA-256 of the concatenation of `parts` (BIP 152 short-id keys), through
/// the same backend as [`Sha256d`].
#[must_use]
pub fn sha256(parts: &[&[u8]]) -> [u8; 32] {
    #[cfg(not(feature = "fast-sha256"))]
    {
        let mut h = sha2::Sha256::new();
        parts.iter().for_each(|p| h.update(p));
        h.finalize().into()
    }
    #[cfg(feature = "fast-sha256")]
    {
        let mut h = ring::digest::Context::new(&ring::digest::SHA256);
        parts.iter().for_each(|p| h.update(p));
        let mut out = [0u8; 32];
        out.copy_from_slice(h.finish().as_ref());
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_and_incremental() {
        // SHA-256d("") = 5df6e0e2761359d30a8275058e299fcc0381534545f55cf43e41983f5d4c9456
        let h = Sha256d::hash(b"");
        assert_eq!(h[..4], [0x5d, 0xf6, 0xe0, 0xe2]);
        assert_eq!(h[28..], [0x5d, 0x4c, 0x94, 0x56]);
        let mut inc = Sha256d::new();
        inc.update(b"hello ");
        inc.update(b"world");
        assert_eq!(inc.finalize(), Sha256d::hash(b"hello world"));
        // SHA-256("abc") = ba7816bf...f20015ad
        let single = sha256(&[b"a", b"bc"]);
        assert_eq!(single[..4], [0xba, 0x78, 0x16, 0xbf]);
        assert_eq!(Sha256d::hash(b"abc"), sha256(&[&single]));
    }
}
