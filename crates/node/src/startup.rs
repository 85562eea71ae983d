//! Why a node could not start, or stopped badly: the error of every
//! layer that opens, checks or joins what a node runs on (its data
//! directory, its settings, its cluster).

use ward_state::StateError;

/// Why a node could not start or stopped badly.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NodeError {
    /// The data directory's state.
    #[error(transparent)]
    State(#[from] StateError),
    /// The chain's recorded settings disagree with this node.
    #[error("{0}")]
    Settings(String),
    /// The configuration is not usable.
    #[error("{0}")]
    Config(String),
    /// Listening or serving failed.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// A replica halted on a divergence (`--halt-on-divergence`).
    #[error("halted: {0}")]
    Diverged(String),
}
