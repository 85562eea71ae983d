//! Blocks, their replays and the events in them.

use serde::{Deserialize, Serialize};
use ward_primitives::Hash32;

use super::transactions::Event;
use crate::wire::{word, words};

/// A block: its header, hash and transactions.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Block {
    /// Its height.
    pub height: u64,
    /// Its hash.
    #[serde(with = "word")]
    pub hash: Hash32,
    /// Its parent's hash.
    #[serde(with = "word")]
    pub parent: Hash32,
    /// Milliseconds since the Unix epoch.
    pub time: u64,
    /// The state root after it.
    #[serde(with = "word")]
    pub state_root: Hash32,
    /// The root of its transactions.
    #[serde(with = "word")]
    pub tx_root: Hash32,
    /// The root of its receipts.
    #[serde(with = "word")]
    pub receipts_root: Hash32,
    /// Its transactions' hashes, in order.
    #[serde(with = "words")]
    pub txs: Vec<Hash32>,
}

/// `replayBlock`: a committed block as stored and as its transactions
/// build it again on its parent's state.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Replay {
    /// The block as stored.
    pub stored: Block,
    /// The block as replayed.
    pub replayed: Block,
    /// Whether the two are the same block (so the same state root,
    /// receipts and hash).
    pub equal: bool,
}

/// `getEvents`: a page of events.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Events {
    /// The events, in chain order.
    pub events: Vec<Event>,
    /// `height:receipt:event` to continue from (`null`: done).
    pub cursor: Option<String>,
}
