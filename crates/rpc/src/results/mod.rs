//! What each method answers. A result object also carries
//! `applied_height` on the wire (the node's height when it started
//! answering, [`crate::Applied`]); the types here leave it to the
//! envelope, and read past fields they do not know, so a client keeps
//! working when a node adds one.
//!
//! One module per seam: [`transactions`] (receipts, events, a transaction
//! as shown), [`traces`] (estimates, traces, profiles), [`state`] (values
//! with proofs, contracts, accounts), [`blocks`], and [`node`] (the
//! network and a dev node's controls). Everything is re-exported here.

pub mod blocks;
pub mod node;
pub mod settings;
pub mod state;
pub mod traces;
pub mod transactions;

pub use blocks::*;
pub use node::*;
pub use settings::*;
pub use state::*;
pub use traces::*;
pub use transactions::*;
