//! wasmtime's traps and errors as Ward's failure kinds.

use ward_vm::{ErrorKind, Failure, HostStop};
use wasmtime::Trap;

/// Maps a wasmtime trap (or any other engine error) to Ward's kinds.
pub(crate) fn trap_failure(err: &wasmtime::Error) -> Failure {
    let kind = match err.downcast_ref::<Trap>() {
        Some(Trap::StackOverflow) => ErrorKind::StackOverflow,
        Some(Trap::MemoryOutOfBounds) => ErrorKind::MemoryOutOfBounds,
        Some(Trap::TableOutOfBounds) => ErrorKind::TableOutOfBounds,
        Some(Trap::IndirectCallToNull) => ErrorKind::IndirectCallToNull,
        Some(Trap::BadSignature) => ErrorKind::IndirectCallTypeMismatch,
        Some(Trap::IntegerOverflow) => ErrorKind::IntegerOverflow,
        Some(Trap::IntegerDivisionByZero) => ErrorKind::IntegerDivideByZero,
        Some(Trap::BadConversionToInteger) => ErrorKind::BadConversionToInteger,
        Some(Trap::UnreachableCodeReached) => ErrorKind::Unreachable,
        Some(Trap::Interrupt) => ErrorKind::Timeout,
        // Traps of proposals outside Ward's feature set, and engine errors
        // that are not traps (resource exhaustion): the host failed the guest.
        _ => ErrorKind::HostError,
    };
    // The trap's own description, without wasmtime's backtrace context.
    let message = match err.downcast_ref::<Trap>() {
        Some(trap) => trap.to_string(),
        None => format!("{err:#}"),
    };
    Failure::new(kind, message)
}

/// Maps an instantiation error: link type errors, traps in a start function
/// or segment initialisation, or resource limits.
pub(crate) fn instantiation_failure(err: wasmtime::Error) -> Failure {
    if let Some(HostStop::Trap(stop)) = err.downcast_ref::<HostStop>()
        && matches!(stop.kind, ErrorKind::Timeout | ErrorKind::Cancelled)
    {
        // The epoch callback interrupted the start function.
        return stop.clone();
    }
    if let Some(stop) = err.downcast_ref::<HostStop>() {
        return Failure::new(
            ErrorKind::InstantiationTrap,
            format!("start function: {stop}"),
        );
    }
    if err.downcast_ref::<Trap>().is_some() {
        let trap = trap_failure(&err);
        if trap.kind == ErrorKind::Timeout {
            return trap;
        }
        return Failure::new(ErrorKind::InstantiationTrap, trap.message);
    }
    let message = format!("{err:#}");
    if message.contains("incompatible import type") {
        Failure::new(ErrorKind::ImportSignatureMismatch, message)
    } else if err.downcast_ref::<wasmtime::UnknownImportError>().is_some() {
        Failure::new(ErrorKind::UnknownImport, message)
    } else {
        Failure::new(ErrorKind::LimitExceeded, message)
    }
}
