//! Block headers and the Merkle roots they commit to.

use rs_merkle::{MerkleTree, algorithms::Sha256};
use ward_primitives::{
    Hash32,
    codec::{CodecError, Decode, Encode},
};

/// What a block commits to. Its hash ([`Header::hash`]) is the block's
/// hash, which the next block names as its parent.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Header {
    /// Its height: the first block is 1.
    pub height: u64,
    /// The previous block's hash (zero for the first block).
    pub parent: Hash32,
    /// Its time, as the producer gave it (a node: milliseconds since the
    /// Unix epoch, strictly increasing from block to block).
    pub time: u64,
    /// [`merkle_root`] of its transactions' hashes, in order.
    pub tx_root: Hash32,
    /// [`merkle_root`] of its receipts' consensus hashes, in order.
    pub receipts_root: Hash32,
    /// The root of the state tree ([`crate::tree`]) after the block.
    pub state_root: Hash32,
}

impl Encode for Header {
    fn encode(&self, out: &mut Vec<u8>) {
        self.height.encode(out);
        self.parent.encode(out);
        self.time.encode(out);
        self.tx_root.encode(out);
        self.receipts_root.encode(out);
        self.state_root.encode(out);
    }
}

impl Decode for Header {
    fn decode(input: &mut &[u8]) -> Result<Self, CodecError> {
        Ok(Header {
            height: u64::decode(input)?,
            parent: Hash32::decode(input)?,
            time: u64::decode(input)?,
            tx_root: Hash32::decode(input)?,
            receipts_root: Hash32::decode(input)?,
            state_root: Hash32::decode(input)?,
        })
    }
}

impl Header {
    /// The block's hash: BLAKE3 of the header's encoding (144 bytes: the
    /// fields in order, integers little-endian).
    pub fn hash(&self) -> Hash32 {
        Hash32(*blake3::hash(&self.to_bytes()).as_bytes())
    }
}

/// The binary Merkle root of `leaves` (each already a 32-byte hash):
/// SHA-256 of each pair of children, an odd node carried up unchanged, as
/// `rs_merkle` builds it; all zeros for no leaves.
pub fn merkle_root(leaves: &[Hash32]) -> Hash32 {
    let leaves: Vec<[u8; 32]> = leaves.iter().map(|h| h.0).collect();
    Hash32(
        MerkleTree::<Sha256>::from_leaves(&leaves)
            .root()
            .unwrap_or_default(),
    )
}

#[cfg(test)]
mod tests {
    use sha2::Digest;

    use super::*;

    #[test]
    fn roots_are_as_documented() {
        let a = Hash32([1; 32]);
        let b = Hash32([2; 32]);
        let c = Hash32([3; 32]);
        let pair = |l: &Hash32, r: &Hash32| {
            let mut h = sha2::Sha256::new();
            h.update(l.0);
            h.update(r.0);
            Hash32(h.finalize().into())
        };
        assert_eq!(merkle_root(&[]), Hash32([0; 32]));
        assert_eq!(merkle_root(&[a]), a);
        assert_eq!(merkle_root(&[a, b]), pair(&a, &b));
        // The odd node is carried up, not paired with itself.
        assert_eq!(merkle_root(&[a, b, c]), pair(&pair(&a, &b), &c));
    }

    #[test]
    fn a_header_round_trips_and_every_field_moves_its_hash() {
        let header = Header {
            height: 4,
            parent: Hash32([1; 32]),
            time: 1_700_000_000_000,
            tx_root: Hash32([2; 32]),
            receipts_root: Hash32([3; 32]),
            state_root: Hash32([4; 32]),
        };
        let bytes = header.to_bytes();
        assert_eq!(bytes.len(), 144);
        assert_eq!(Header::from_bytes(&bytes), Ok(header));
        let changed = [
            Header {
                height: 5,
                ..header
            },
            Header { time: 1, ..header },
            Header {
                parent: Hash32([9; 32]),
                ..header
            },
            Header {
                tx_root: Hash32([9; 32]),
                ..header
            },
            Header {
                receipts_root: Hash32([9; 32]),
                ..header
            },
            Header {
                state_root: Hash32([9; 32]),
                ..header
            },
        ];
        for other in changed {
            assert_ne!(other.hash(), header.hash());
        }
    }
}
