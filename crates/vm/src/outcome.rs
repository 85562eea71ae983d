//! Typed outcomes: the only things a run reports.
//!
//! Only these codes enter results. Engine messages are kept for humans in
//! [`Failure::message`], but nothing that decides status, output or gas ever
//! depends on them.

use std::fmt;

use ward_primitives::Gas;

/// How a run ended, at the coarsest level (`ward_primitives::Status`,
/// which receipts record too).
pub use ward_primitives::Status;

macro_rules! error_kinds {
    ($( $(#[doc = $doc:literal])* $variant:ident = $name:literal => $status:ident, )*) => {
        /// The cause of a failed run. Each kind belongs to exactly one [`Status`].
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum ErrorKind {
            $( $(#[doc = $doc])* $variant, )*
        }

        impl ErrorKind {
            /// Every kind.
            pub const ALL: &'static [ErrorKind] = &[$(ErrorKind::$variant),*];

            /// The kind's name in results (`snake_case`).
            pub fn as_str(self) -> &'static str {
                match self { $(ErrorKind::$variant => $name,)* }
            }

            /// The status this kind gives a run.
            pub fn status(self) -> Status {
                match self { $(ErrorKind::$variant => Status::$status,)* }
            }

            /// Looks a kind up by its name.
            pub fn from_name(name: &str) -> Option<ErrorKind> {
                match name { $($name => Some(ErrorKind::$variant),)* _ => None }
            }
        }
    };
}

error_kinds! {
    /// `unreachable` executed.
    Unreachable = "unreachable" => Trapped,
    /// A memory access (by the guest or a host function on its behalf) out of bounds.
    MemoryOutOfBounds = "memory_out_of_bounds" => Trapped,
    /// Integer division or remainder by zero.
    IntegerDivideByZero = "integer_divide_by_zero" => Trapped,
    /// Signed division overflow (`INT_MIN / -1`).
    IntegerOverflow = "integer_overflow" => Trapped,
    /// A trapping float-to-int conversion of NaN or an out-of-range value.
    BadConversionToInteger = "bad_conversion_to_integer" => Trapped,
    /// `call_indirect` to a function of another type.
    IndirectCallTypeMismatch = "indirect_call_type_mismatch" => Trapped,
    /// `call_indirect` to a null table element.
    IndirectCallToNull = "indirect_call_to_null" => Trapped,
    /// A table access out of bounds.
    TableOutOfBounds = "table_out_of_bounds" => Trapped,
    /// The call stack is exhausted.
    StackOverflow = "stack_overflow" => Trapped,
    /// A host function failed on the guest's behalf.
    HostError = "host_error" => Trapped,
    /// Gas ran out.
    OutOfGas = "out_of_gas" => OutOfGas,
    /// The wall-clock deadline passed.
    Timeout = "timeout" => Timeout,
    /// The embedder cancelled the call ([`crate::Cancel`]).
    Cancelled = "cancelled" => Timeout,
    /// The bytes are not a valid module.
    InvalidWasm = "invalid_wasm" => Rejected,
    /// The module uses a feature outside the configured set.
    UnsupportedFeature = "unsupported_feature" => Rejected,
    /// The module exceeds a configured limit.
    LimitExceeded = "limit_exceeded" => Rejected,
    /// The module imports something the host does not provide.
    UnknownImport = "unknown_import" => Rejected,
    /// The module imports a host item with the wrong type.
    ImportSignatureMismatch = "import_signature_mismatch" => Rejected,
    /// The entry point is not exported.
    EntryNotFound = "entry_not_found" => Rejected,
    /// The entry point has an unsupported signature.
    BadEntrySignature = "bad_entry_signature" => Rejected,
    /// Instantiation trapped (a start function, or a segment out of bounds).
    InstantiationTrap = "instantiation_trap" => Rejected,
    /// A signed transaction called an address that holds no contract.
    NoContract = "no_contract" => Rejected,
    /// A signed transaction deployed to an address that already holds a
    /// contract.
    AddressTaken = "address_taken" => Rejected,
    /// A deploy's module carries a malformed contract schema (the
    /// `ward.schema` section, docs/contracts.md).
    InvalidSchema = "invalid_schema" => Rejected,
    /// An admin transaction (an upgrade, an admin change) from someone who
    /// is not the contract's admin, or on a contract that has none.
    NotAdmin = "not_admin" => Rejected,
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A typed failure: a kind that decides the outcome, and a message for humans.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    /// What went wrong.
    pub kind: ErrorKind,
    /// A human-readable explanation. Never compared, never hashed.
    pub message: String,
}

impl Failure {
    /// A failure of `kind` explained by `message`.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Failure {
            kind,
            message: message.into(),
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind, self.message)
    }
}

impl std::error::Error for Failure {}

/// The result of running an entry point: the same on every backend.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// How the run ended.
    pub status: Status,
    /// The exit code: 0 on success, the revert code when reverted, 0 otherwise.
    pub exit_code: i32,
    /// The call's output: kept on success and revert, empty otherwise.
    pub output: Vec<u8>,
    /// Gas consumed.
    pub gas_used: Gas,
    /// The cause, for `trapped`, `out_of_gas`, `timeout` and `rejected`.
    pub error: Option<Failure>,
}

impl Outcome {
    /// An outcome for a run that ended in `failure`: no output, no exit code.
    pub fn failed(failure: Failure, gas_used: Gas) -> Self {
        Outcome {
            status: failure.kind.status(),
            exit_code: 0,
            output: Vec::new(),
            gas_used,
            error: Some(failure),
        }
    }

    /// An outcome for a run that finished with `exit_code`.
    pub fn finished(exit_code: i32, output: Vec<u8>, gas_used: Gas) -> Self {
        Outcome {
            status: if exit_code == 0 {
                Status::Ok
            } else {
                Status::Reverted
            },
            exit_code,
            output,
            gas_used,
            error: None,
        }
    }
}
