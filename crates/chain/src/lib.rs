//! The Ward chain's consensus data, as a client sees it.
//!
//! Everything a wallet or a light client needs without a node or an
//! engine: signed transactions and the addresses of the accounts that sign
//! them ([`tx`], `docs/transactions.md`), block headers and the Merkle
//! roots they commit to ([`block`]), and the state tree with its proofs
//! ([`tree`]), and contract schemas with JSON arguments ([`schema`]).
//! Encodings use [`ward_primitives::codec`].
//!
//! Two hash functions, each for one job: identifiers (transaction and
//! block hashes, addresses, code hashes) are BLAKE3, as everywhere in
//! Ward; Merkle structures (the state tree, the transaction and receipt
//! roots) are SHA-256, so that verifiers written for them elsewhere (the
//! Jellyfish Merkle tree's, ICS-23's) apply unchanged.
//!
//! ```
//! use ed25519_dalek::SigningKey;
//! use ward_chain::tx::{ChainRules, Payload, TxBody, VerifiedTx};
//! use ward_primitives::Address;
//!
//! let key = SigningKey::from_bytes(&[7; 32]);
//! let tx = TxBody {
//!     chain_id: "ward-dev".into(),
//!     public_key: key.verifying_key().to_bytes(),
//!     nonce: 0,
//!     gas_limit: 1_000_000,
//!     gas_price: 1,
//!     value: 250,
//!     payload: Payload::Call { to: Address([7; 32]), input: vec![] },
//! }
//! .sign(&key);
//! // The one way from bytes to a transaction that runs.
//! let verified = VerifiedTx::from_bytes(&tx.to_bytes(), &ChainRules::new("ward-dev")).unwrap();
//! assert_eq!(verified.sender(), ward_chain::tx::account_address(&tx.body.public_key));
//! assert_eq!(verified.value(), 250);
//! assert!(tx.verify("another-chain").is_err());
//! ```

pub mod block;
pub mod schema;
pub mod tree;
pub mod tx;

pub use ward_primitives::{Address, CodeKind, Hash32};
