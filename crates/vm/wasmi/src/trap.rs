//! wasmi's traps and errors as Ward's failure kinds.

use ward_vm::{ErrorKind, Failure, HostStop, Step};
use wasmi::TrapCode;

/// A [`HostStop`] travelling through wasmi as a host error.
#[derive(Debug)]
pub(crate) struct Stop(pub(crate) HostStop);

impl std::fmt::Display for Stop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl wasmi::errors::HostError for Stop {}

/// Turns an error that ended a call into a step.
pub(crate) fn step_from_error(err: wasmi::Error) -> Step {
    if let Some(Stop(stop)) = err.downcast_ref::<Stop>() {
        return match stop {
            HostStop::Exit(code) => Step::Exited(*code),
            HostStop::Trap(failure) => Step::Failed(failure.clone()),
            HostStop::Suspend(_) => Step::Failed(Failure::new(
                ErrorKind::HostError,
                "a host function suspended outside a suspendable call",
            )),
        };
    }
    Step::Failed(trap_failure(&err))
}

pub(crate) fn trap_failure(err: &wasmi::Error) -> Failure {
    let kind = match err.as_trap_code() {
        Some(TrapCode::UnreachableCodeReached) => ErrorKind::Unreachable,
        Some(TrapCode::MemoryOutOfBounds) => ErrorKind::MemoryOutOfBounds,
        Some(TrapCode::TableOutOfBounds) => ErrorKind::TableOutOfBounds,
        Some(TrapCode::IndirectCallToNull) => ErrorKind::IndirectCallToNull,
        Some(TrapCode::IntegerDivisionByZero) => ErrorKind::IntegerDivideByZero,
        Some(TrapCode::IntegerOverflow) => ErrorKind::IntegerOverflow,
        Some(TrapCode::BadConversionToInteger) => ErrorKind::BadConversionToInteger,
        Some(TrapCode::StackOverflow) => ErrorKind::StackOverflow,
        Some(TrapCode::BadSignature) => ErrorKind::IndirectCallTypeMismatch,
        // Fuel only runs out here when a slice ends a non-resumable start
        // function: its time budget is spent.
        Some(TrapCode::OutOfFuel) => ErrorKind::Timeout,
        _ => ErrorKind::HostError,
    };
    Failure::new(kind, err.to_string())
}

pub(crate) fn instantiation_failure(err: wasmi::Error) -> Failure {
    use wasmi::errors::{ErrorKind as Kind, InstantiationError as Inst};
    if let Some(Stop(stop)) = err.downcast_ref::<Stop>() {
        return Failure::new(
            ErrorKind::InstantiationTrap,
            format!("start function: {stop}"),
        );
    }
    let message = err.to_string();
    let kind = match err.kind() {
        Kind::TrapCode(TrapCode::OutOfFuel) => ErrorKind::Timeout,
        // A data or element segment out of bounds.
        Kind::TrapCode(_) | Kind::Memory(_) | Kind::Table(_) => ErrorKind::InstantiationTrap,
        Kind::Linker(_) => ErrorKind::UnknownImport,
        Kind::Instantiation(
            Inst::ImportTypeMismatch { .. }
            | Inst::GlobalTypeMismatch { .. }
            | Inst::FuncTypeMismatch { .. }
            | Inst::TableTypeMismatch { .. }
            | Inst::MemoryTypeMismatch { .. },
        ) => ErrorKind::ImportSignatureMismatch,
        Kind::Instantiation(Inst::ElementSegmentDoesNotFit { .. }) => ErrorKind::InstantiationTrap,
        _ => ErrorKind::LimitExceeded,
    };
    Failure::new(kind, message)
}
