//! Stopping and resuming a call: a node fault that aborts it, and the
//! replies that complete a suspended chain, host or syscall request.

use super::{CallContext, GuestMemory, HostAnswer, HostStop, abi, aborted, host_error};
use crate::{ChainError, ErrorKind, Failure, FaultKind, NodeFault, Reply, Request, Value};

impl CallContext {
    /// Records that the node failed during this call and returns the stop
    /// that unwinds the guest. The first fault is the one reported; the
    /// guest cannot catch the trap, and every later host call traps too.
    pub fn abort(&mut self, fault: NodeFault) -> HostStop {
        if self.fault.is_none() {
            self.fault = Some(fault);
        }
        aborted()
    }

    /// Whether a node fault aborted the call.
    #[inline]
    pub fn is_aborted(&self) -> bool {
        self.fault.is_some()
    }

    /// Takes the node fault that aborted the call, if any. Whoever settles
    /// a finished call takes it, so that the fault, never the trap that
    /// unwound the guest, is what the run reports.
    pub fn take_fault(&mut self) -> Option<NodeFault> {
        self.fault.take()
    }

    /// The stop for a chain method's error: a `host_error` trap for a
    /// refusal, an abort for a fault.
    pub(super) fn chain_stop(&mut self, err: ChainError) -> HostStop {
        match err {
            ChainError::Refused(reason) => host_error(reason),
            ChainError::Fault(fault) => self.abort(fault),
        }
    }

    /// Completes a `ward.call` the embedder serviced (`None`: it resumed
    /// the guest without a reply): charges the callee's gas, keeps its
    /// return data, and gives the status the guest sees.
    ///
    /// # Errors
    ///
    /// A trap for [`Reply::Trap`]; an abort ([`FaultKind::Misuse`]) when
    /// the reply is missing or of another kind.
    pub fn complete_call(&mut self, reply: Option<Reply>) -> Result<Value, HostStop> {
        match reply {
            Some(Reply::Call {
                status,
                return_data,
                gas_used,
            }) => {
                self.return_data = return_data;
                self.charge(gas_used)?;
                Ok(Value::I32(status))
            }
            Some(Reply::Trap(message)) => Err(host_error(message)),
            other => Err(self.misuse(format!("a `ward.call` resumed with {other:?}"))),
        }
    }

    /// Completes a storage read, a write or an event that suspended as a
    /// request ([`CallContext::with_chain_requests`]) with the embedder's
    /// reply (`None`: it resumed without one): a read's value goes into
    /// `memory` where the guest asked for it, and its length (or -1) is
    /// the guest's result; a write or an event returns nothing.
    ///
    /// # Errors
    ///
    /// A trap for [`Reply::Trap`]; an abort ([`FaultKind::Misuse`]) when
    /// the reply is missing or does not answer the request.
    pub fn complete_chain(
        &mut self,
        f: ward_abi::HostFn,
        reply: Option<Reply>,
        memory: &mut GuestMemory<'_>,
    ) -> Result<Option<Value>, HostStop> {
        let pending = self.pending_read.take();
        match (f, reply) {
            (_, Some(Reply::Trap(message))) => Err(host_error(message)),
            (ward_abi::HostFn::StorageRead, Some(Reply::Storage(value))) => {
                let Some(dst) = pending.filter(|dst| dst.end <= memory.len()) else {
                    return Err(self.misuse("a storage read completed without its request".into()));
                };
                Ok(Some(abi::read_into(memory, dst, value)))
            }
            (
                ward_abi::HostFn::StorageWrite
                | ward_abi::HostFn::StorageRemove
                | ward_abi::HostFn::EmitEvent,
                Some(Reply::Done),
            ) => Ok(None),
            (f, other) => Err(self.misuse(format!("`ward.{}` resumed with {other:?}", f.name()))),
        }
    }

    /// Completes embedder host import `index` (whose results have the
    /// types `expected`) with the embedder's reply (`None`: it resumed the
    /// guest without one), returning the values the guest receives.
    ///
    /// # Errors
    ///
    /// A trap for [`Reply::Trap`]; an abort ([`FaultKind::Misuse`]) when
    /// the reply is missing, of another kind, or of other types.
    pub fn complete_host(
        &mut self,
        index: usize,
        expected: &[crate::ValType],
        reply: Option<Reply>,
    ) -> Result<Vec<Value>, HostStop> {
        match reply {
            Some(Reply::Values(values))
                if values.len() == expected.len()
                    && values.iter().zip(expected).all(|(v, t)| v.ty() == *t) =>
            {
                Ok(values)
            }
            Some(Reply::Trap(message)) => Err(host_error(message)),
            other => Err(self.misuse(format!(
                "host import {index} answered {other:?}, expected values of types {expected:?}"
            ))),
        }
    }

    /// Aborts the call for the embedder's misuse of the ABI.
    pub(super) fn misuse(&mut self, message: String) -> HostStop {
        self.abort(NodeFault::new(FaultKind::Misuse, message))
    }

    /// Runs embedder-defined host import `index`.
    ///
    /// # Errors
    ///
    /// [`HostStop::Suspend`] when the host asks to suspend, or
    /// [`HostStop::Trap`] when it fails.
    pub fn call_host(
        &mut self,
        index: usize,
        args: &[Value],
        memory: &mut GuestMemory<'_>,
    ) -> Result<Vec<Value>, HostStop> {
        if self.is_aborted() {
            return Err(aborted());
        }
        self.charge(self.unprepaid(u64::from(self.schedule.host_call)))?;
        match self.host.call(index, args, memory.all_mut()) {
            HostAnswer::Return(values) => Ok(values),
            HostAnswer::Suspend if !self.suspend_allowed => Err(HostStop::Trap(Failure::new(
                ErrorKind::HostError,
                "a start function cannot suspend",
            ))),
            HostAnswer::Suspend => Err(HostStop::Suspend(Box::new(Request::Host {
                index,
                args: args.to_vec(),
            }))),
            HostAnswer::Trap(message) => {
                Err(HostStop::Trap(Failure::new(ErrorKind::HostError, message)))
            }
            HostAnswer::Fault(fault) => Err(self.abort(fault)),
        }
    }
}

impl CallContext {
    /// A syscall: import number `index` with `args`, whose result types
    /// are `results`. Pays the host-call base, then always suspends: the
    /// embedder answers it.
    ///
    /// # Errors
    ///
    /// [`HostStop::Suspend`] with a [`Request::Syscall`]; a trap in a
    /// start function (which cannot suspend) or when out of gas.
    pub fn call_syscall(
        &mut self,
        index: usize,
        args: &[Value],
        results: &[crate::ValType],
    ) -> Result<Vec<Value>, HostStop> {
        if self.is_aborted() {
            return Err(aborted());
        }
        self.charge(self.unprepaid(u64::from(self.schedule.host_call)))?;
        if !self.suspend_allowed {
            return Err(host_error("a start function cannot make a syscall".into()));
        }
        Err(HostStop::Suspend(Box::new(Request::Syscall {
            index,
            args: args.to_vec(),
            returns: !results.is_empty(),
            gas_left: self.gas_left.get(),
        })))
    }
}
