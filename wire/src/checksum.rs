//! The frame checksum: the first 4 bytes of SHA-256d of the payload.

use crate::sha256d::Sha256d;

/// A frame checksum, as it appears in the header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Checksum(pub [u8; 4]);

impl Checksum {
    /// The checksum of an empty payload (`verack`, `getaddr`, ...): `5df6e0e2`.
    pub const EMPTY: Self = Self([0x5d, 0xf6, 0xe0, 0xe2]);

    /// Returns the checksum of `payload`: the first 4 bytes of SHA-256(SHA-256(payload)).
    #[must_use]
    pub fn of(payload: &[u8]) -> Self {
        if payload.is_empty() {
            return Self::EMPTY;
        }
        Self::from_digest(&Sha256d::hash(payload))
    }

    /// Returns the checksum in a payload's SHA-256d `digest`: its first 4 bytes.
    #[must_use]
    pub fn from_digest(digest: &[u8; 32]) -> Self {
        Self([digest[0], digest[1], digest[2], digest[3]])
    }
}

/// Bytes hashed at each step of a [`RunningChecksum`]: four SHA-256 blocks. On the bundled
/// mainnet blocks one to four blocks per step were within 1% of each other, eight about 1%
/// slower and sixteen 1.5–2.5% slower; with finer steps (a simulation) four were clearly
/// best. Each call of the compression function stores and reloads its state (about 11
/// cycles on the hash's critical path: 256-byte steps alone cost 3% over one call for a
/// 1.38 MB block, 64-byte steps 12%), and longer steps leave less writing to overlap with.
const HASH_STEP: usize = 256;

/// The checksum of a payload computed while it is written, from the steps of
/// [`Encode::encode_in_steps`](crate::Encode::encode_in_steps): each step hashes one whole
/// run of [`HASH_STEP`] bytes once that many are ready. SHA-256 is a chain of dependent
/// instructions, and the writing after each step runs alongside it instead of after it.
pub(crate) struct RunningChecksum {
    hasher: Sha256d,
    /// Where the payload starts in the buffer.
    start: usize,
    /// How far the buffer is hashed.
    hashed: usize,
}

impl RunningChecksum {
    /// A checksum of the payload that starts at `start` in the buffer being written.
    pub(crate) fn new(start: usize) -> Self {
        Self {
            hasher: Sha256d::new(),
            start,
            hashed: start,
        }
    }

    /// Hashes the next run of the payload if `written` (the whole buffer so far) holds it.
    #[inline]
    pub(crate) fn step(&mut self, written: &[u8]) {
        if let Some(run) = written.get(self.hashed..self.hashed + HASH_STEP) {
            self.hasher.update(run);
            self.hashed += HASH_STEP;
        }
    }

    /// Returns the checksum of the payload in `written`, hashing what no step did.
    pub(crate) fn finish(mut self, written: &[u8]) -> Checksum {
        let rest = written.get(self.hashed..).unwrap_or_default();
        if self.hashed == self.start {
            return Checksum::of(rest);
        }
        self.hasher.update(rest);
        Checksum::from_digest(&self.hasher.finalize())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_matches_constant() {
        let h = Sha256d::hash(&[]);
        assert_eq!(Checksum::EMPTY.0, [h[0], h[1], h[2], h[3]]);
    }

    /// Stepping anywhere (never, at every byte, at uneven points) gives the one-shot checksum
    /// of the payload after a prefix that is not part of it.
    #[test]
    fn running_matches_one_shot() {
        let buffer: alloc::vec::Vec<u8> = (0..1500u32).map(|k| (k * 7 + 3) as u8).collect();
        for len in [0, 1, 255, 256, 257, 700, 1024, 1476] {
            let written = &buffer[..24 + len];
            for every in [None, Some(1), Some(37), Some(300)] {
                let mut running = RunningChecksum::new(24);
                if let Some(every) = every {
                    (24..=written.len())
                        .step_by(every)
                        .for_each(|end| running.step(&written[..end]));
                }
                assert_eq!(
                    running.finish(written),
                    Checksum::of(&written[24..]),
                    "{len} {every:?}"
                );
            }
        }
    }
}
