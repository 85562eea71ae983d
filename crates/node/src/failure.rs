//! Why the node could not do what a request asked of its store or its
//! producer: one typed failure, which the RPC's edge gives a code.

/// Why the node could not do what a request asked of its store or its
/// producer (typed; the RPC's edge gives it a code).
#[derive(Clone, Debug, thiserror::Error)]
pub(crate) enum Failure {
    /// What was asked for is not there.
    #[error("{0}")]
    NotFound(String),
    /// The node cannot do it now (shutting down, stopped on a fault).
    #[error("{0}")]
    Unavailable(String),
    /// The node failed (its store, an executor fault): never the
    /// request's doing.
    #[error("{0}")]
    Fault(String),
}

impl From<ward_state::StateError> for Failure {
    fn from(error: ward_state::StateError) -> Self {
        Failure::Fault(error.to_string())
    }
}

impl Failure {
    /// The node is shutting down.
    pub(crate) fn shutting_down() -> Failure {
        Failure::Unavailable("the node is shutting down".into())
    }
}
