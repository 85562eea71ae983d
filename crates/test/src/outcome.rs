//! What a transaction or query did, with typed and JSON views.

use std::sync::Arc;

use serde_json::Value;
use ward_chain::tx::VerifiedTx;
use ward_executor::{Executor, Payload};
use ward_primitives::Address;
use ward_sdk::codec::{Decode, decode_exact};
use ward_sdk::event::Event;
use ward_state::{MemoryStore, Receipt, Status};

use crate::{chain::Contract, render};

/// Where a transaction's trace can be replayed from: the executor, its
/// block and the transaction.
pub(crate) type TraceSource = (Arc<Executor<MemoryStore>>, u64, VerifiedTx);

/// A transaction's or query's outcome: its receipt, and what is needed to
/// decode it and to trace it when it failed.
#[derive(Clone)]
pub struct Outcome {
    receipt: Receipt,
    /// Refused before it ran: no block holds it.
    refused: bool,
    method: Option<String>,
    contract: Option<Contract>,
    trace: Option<TraceSource>,
}

impl std::fmt::Debug for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Outcome")
            .field("receipt", &self.receipt)
            .field("method", &self.method)
            .finish_non_exhaustive()
    }
}

impl Outcome {
    pub(crate) fn new(
        receipt: Receipt,
        method: Option<String>,
        contract: Option<Contract>,
        trace: Option<TraceSource>,
    ) -> Outcome {
        Outcome {
            receipt,
            refused: false,
            method,
            contract,
            trace,
        }
    }

    /// A transaction the chain refused before running it (its sender
    /// cannot pay for it, its gas limit is above the maximum): status
    /// `refused`, nothing charged, no block.
    pub(crate) fn refused(
        message: String,
        method: Option<String>,
        contract: Option<Contract>,
    ) -> Outcome {
        let receipt = Receipt {
            tx: Default::default(),
            height: 0,
            index: 0,
            status: Status::Rejected,
            exit_code: 0,
            output: Vec::new(),
            gas_used: 0,
            events: Vec::new(),
            error_kind: Some("refused".to_owned()),
            error_message: Some(message),
            address: None,
            runtime_gas: None,
            fee: 0,
        };
        Outcome {
            refused: true,
            ..Outcome::new(receipt, method, contract, None)
        }
    }

    /// The receipt (for a refused transaction, one made up here: status
    /// `refused` and the reason, which no block holds).
    pub fn receipt(&self) -> &Receipt {
        &self.receipt
    }

    /// `ok`, `reverted`, `trapped`, `out_of_gas`, `timeout`, `rejected`,
    /// or `refused` (never ran: [`Outcome::receipt`]).
    pub fn status(&self) -> &str {
        if self.refused {
            return "refused";
        }
        self.receipt.status.as_str()
    }

    /// It succeeded.
    pub fn is_ok(&self) -> bool {
        !self.refused && self.receipt.status.is_ok()
    }

    /// The gas it used.
    pub fn gas_used(&self) -> u64 {
        self.receipt.gas_used
    }

    /// Its output bytes (a revert's message, for a revert).
    pub fn output(&self) -> &[u8] {
        &self.receipt.output
    }

    /// Why it failed, decoded: a revert's message, or the error's; `None`
    /// when it succeeded.
    pub fn error(&self) -> Option<String> {
        if self.is_ok() {
            return None;
        }
        if self.receipt.status == Status::Reverted && !self.receipt.output.is_empty() {
            return Some(String::from_utf8_lossy(&self.receipt.output).into_owned());
        }
        Some(
            self.receipt
                .error_message
                .clone()
                .unwrap_or_else(|| self.status().to_owned()),
        )
    }

    /// Panics unless it succeeded, with the decoded error and the trace.
    #[track_caller]
    pub fn assert_ok(&self) -> &Self {
        if !self.is_ok() {
            panic!("{}", self.failure("expected success"));
        }
        self
    }

    /// Panics unless it reverted with a message containing `needle`.
    #[track_caller]
    pub fn assert_reverted(&self, needle: &str) -> &Self {
        let message = self.error().unwrap_or_default();
        if self.status() != "reverted" || !message.contains(needle) {
            panic!(
                "{}",
                self.failure(&format!("expected a revert containing {needle:?}"))
            );
        }
        self
    }

    /// Panics unless it ended with `status` (`out_of_gas`, `trapped`, ...).
    #[track_caller]
    pub fn assert_status(&self, status: &str) -> &Self {
        if self.status() != status {
            panic!("{}", self.failure(&format!("expected status {status}")));
        }
        self
    }

    /// Its output decoded as a `T`.
    ///
    /// # Panics
    ///
    /// When it failed (with the error and the trace), or the output is
    /// not a `T`.
    #[track_caller]
    pub fn decode<T: Decode>(&self) -> T {
        self.assert_ok();
        decode_exact(&self.receipt.output).unwrap_or_else(|e| {
            panic!(
                "ward-test: the output of {} is not a {}: {e:?} ({} bytes)",
                self.what(),
                std::any::type_name::<T>(),
                self.receipt.output.len()
            )
        })
    }

    /// Its output as JSON, through the contract's schema.
    ///
    /// # Panics
    ///
    /// When it failed, or there is no schema or method to decode by.
    #[track_caller]
    pub fn json(&self) -> Value {
        self.assert_ok();
        let (Some(contract), Some(method)) = (&self.contract, &self.method) else {
            panic!("ward-test: {} has no method to decode by", self.what());
        };
        let schema = contract
            .schema()
            .unwrap_or_else(|| panic!("ward-test: {} has no schema", contract.name()));
        schema
            .decode_output(method, &self.receipt.output)
            .unwrap_or_else(|e| panic!("ward-test: {method}'s output: {}", e.0))
    }

    /// The events of type `E` it emitted (any contract's), decoded, in
    /// order.
    ///
    /// # Panics
    ///
    /// When an event of `E`'s name does not decode as an `E`.
    pub fn events<E: Event + Decode>(&self) -> Vec<E> {
        self.receipt
            .events
            .iter()
            .filter(|event| event.topic == E::SCHEMA.name.as_bytes())
            .map(|event| {
                decode_exact(&event.data).unwrap_or_else(|e| {
                    panic!(
                        "ward-test: a {} event that does not decode: {e:?}",
                        E::SCHEMA.name
                    )
                })
            })
            .collect()
    }

    /// Its events as JSON (`{"contract", "event", "fields"}`), decoded
    /// through the schema of the contract it was sent to where the event
    /// is declared there (`fields` is `null` otherwise).
    pub fn events_json(&self) -> Vec<Value> {
        let schema = self.contract.as_ref().and_then(Contract::schema);
        self.receipt
            .events
            .iter()
            .map(|event| {
                let fields = schema
                    .and_then(|s| s.decode_event(&event.topic, &event.data))
                    .and_then(Result::ok)
                    .map_or(Value::Null, |(_, fields)| fields);
                serde_json::json!({
                    "contract": event.contract.to_string(),
                    "event": String::from_utf8_lossy(&event.topic),
                    "fields": fields,
                })
            })
            .collect()
    }

    /// The contract a deploy created.
    ///
    /// # Panics
    ///
    /// When this was not a deploy, or the deploy failed (with the error
    /// and the trace).
    #[track_caller]
    pub fn contract(&self) -> Contract {
        self.assert_ok();
        match (&self.contract, self.receipt.address) {
            (Some(contract), Some(address)) => contract.clone().deployed_at(address),
            _ => panic!("ward-test: {} is not a deploy", self.what()),
        }
    }

    /// The address a deploy created, if it did.
    pub fn address(&self) -> Option<Address> {
        self.receipt.address
    }

    /// The transaction's trace as text (frames, gas, errors, and the
    /// backtrace of a failure); `None` for a query.
    pub fn trace(&self) -> Option<String> {
        let (exec, height, tx) = self.trace.as_ref()?;
        match exec.trace_block_tx(*height, std::slice::from_ref(tx), 0) {
            Ok(trace) => Some(render::trace(&trace)),
            Err(e) => Some(format!("(no trace: {e})")),
        }
    }

    fn what(&self) -> String {
        let deploy = self
            .trace
            .as_ref()
            .is_some_and(|(_, _, tx)| matches!(tx.payload(), Payload::Deploy(_)));
        match (&self.method, &self.contract) {
            (Some(method), Some(contract)) => format!("{}.{method}", contract.name()),
            (None, Some(contract)) if deploy => format!("the deploy of {}", contract.name()),
            (None, Some(contract)) => format!("the call of {}", contract.name()),
            _ => "the transaction".to_owned(),
        }
    }

    fn failure(&self, expected: &str) -> String {
        let mut out = format!(
            "ward-test: {} {expected}, but it ended {}",
            self.what(),
            self.receipt.status
        );
        if let Some(error) = self.error() {
            out.push_str(&format!(": {error}"));
        }
        out.push_str(&format!("\n  gas used: {}", self.receipt.gas_used));
        if let Some(trace) = self.trace() {
            out.push_str("\n  trace:\n");
            for line in trace.lines() {
                out.push_str("    ");
                out.push_str(line);
                out.push('\n');
            }
        }
        out
    }
}
