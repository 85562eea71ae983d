//! Where gas went: estimates, traces and their frames, children's steps.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use ward_primitives::{Address, Status};

use super::transactions::{Failure, Receipt};
use crate::wire::{Amount, Bytes, present, word};

/// `estimateGas`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Estimate {
    /// `gas_needed` and the margin: the limit to send with.
    pub gas: u64,
    /// The least limit with the same outcome.
    pub gas_needed: u64,
    /// What it uses.
    pub gas_used: u64,
    /// The margin, in percent.
    pub margin_percent: u64,
    /// How many runs the search took.
    pub simulations: u64,
}

/// `traceTransaction` (and `trace` of `simulateTransaction`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Trace {
    /// The receipt the block recorded.
    pub receipt: Receipt,
    /// Gas paid outside any frame.
    pub charged: Vec<Charge>,
    /// `charged` and every frame's `self_gas`: the receipt's `gas_used`.
    pub gas_accounted: u64,
    /// The top frame (`null` for a plain transfer).
    pub root: Option<Frame>,
    /// The gas profile, when asked for (docs/debugging.md).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<Profile>,
}

/// A gas profile: every unit of a transaction's (or a run's) gas under
/// the call path that spent it (docs/debugging.md, "Gas profiles").
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Profile {
    /// The gas it accounts for: the receipt's `gas_used`.
    pub total: u64,
    /// The functions with the most gas of their own, most first (at most
    /// the node's `TOP_FUNCTIONS`; the root is left out).
    pub top: Vec<FunctionGas>,
    /// The whole profile as folded stacks, one `path;to;function gas`
    /// line per path, as flame-graph tools read them.
    pub folded: String,
}

/// A function's gas in a [`Profile`].
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FunctionGas {
    /// Its name: a Wasm function by its name section (or `func[N]`), a
    /// host function as `module.name`, a frame by contract and method.
    pub name: String,
    /// Gas spent in it, not in what it called.
    pub self_gas: u64,
    /// Gas spent in it and in everything it called, counted once where
    /// it recursed.
    pub total_gas: u64,
}

/// An entry of a [`Frame`]'s backtrace, innermost first: a host function
/// the frame was in, or a Wasm function (with its source position when
/// its module has DWARF; functions inlined there come first, marked).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BacktraceEntry {
    /// The function: `module.name` for a host function, the name
    /// section's (demangled) or `func[N]` for a Wasm one, the source's
    /// for an inlined one.
    pub function: String,
    /// A host function (`ward.call`, `ward.exit`, ...).
    #[serde(default, skip_serializing_if = "is_false")]
    pub host: bool,
    /// A function inlined into the entry after it.
    #[serde(default, skip_serializing_if = "is_false")]
    pub inlined: bool,
    /// A Wasm function's index in its module.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub func_index: Option<u32>,
    /// Where in the module its current call is, as a byte offset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offset: Option<u32>,
    /// The source file, as the compiler recorded it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// The source line (from 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    /// The source column (from 1; 0: none recorded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub column: Option<u32>,
}

impl BacktraceEntry {
    /// The entry as a line of text: `function at file:line:column`, or
    /// `function at offset 0x…` without a source position, ` (inlined)`
    /// after an inlined one.
    pub fn line(&self) -> String {
        let mut line = self.function.clone();
        if let Some(file) = &self.file {
            line += &format!(" at {file}");
            if let Some(n) = self.line {
                line += &format!(":{n}");
                if let Some(c) = self.column.filter(|&c| c > 0) {
                    line += &format!(":{c}");
                }
            }
        } else if let Some(offset) = self.offset {
            line += &format!(" at offset {offset:#x}");
        }
        if self.inlined {
            line += " (inlined)";
        }
        line
    }
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// Gas paid outside any frame.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Charge {
    /// What for (`intrinsic`, `deploy`).
    pub what: String,
    /// How much.
    pub gas: u64,
}

/// A call frame of a trace.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Frame {
    /// How it was entered (`call`, `deploy`, `inner_call`, ...).
    pub call: String,
    /// Whose state.
    #[serde(with = "word")]
    pub address: Address,
    /// Whose code.
    #[serde(with = "word")]
    pub code_address: Address,
    /// Its caller.
    #[serde(with = "word")]
    pub caller: Address,
    /// What its code runs as.
    pub kind: String,
    /// Its input.
    pub input: Bytes,
    /// The native asset it was sent.
    pub value: Amount,
    /// The gas it was given.
    pub gas_given: u64,
    /// The gas it used, its callees' included.
    pub gas_used: u64,
    /// The gas it used itself.
    pub self_gas: u64,
    /// An EVM frame's own gas.
    pub runtime_gas: Option<u64>,
    /// How it ended.
    #[serde(with = "crate::wire::status")]
    pub status: Status,
    /// Why it did not end `ok`.
    pub error: Option<Failure>,
    /// What it returned.
    pub output: Bytes,
    /// The method its input names.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// Its arguments, by the schema.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub args: Option<Value>,
    /// Its output by the schema, or a revert's message.
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub decoded: Option<Value>,
    /// Its reads, writes and events in order.
    pub accesses: Vec<Access>,
    /// The steps of the `vm_*` children it ran.
    pub children: Vec<ChildStep>,
    /// Where a frame that did not return stopped (docs/debugging.md).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backtrace: Option<Vec<BacktraceEntry>>,
    /// The frames it called.
    pub calls: Vec<Frame>,
}

/// A frame's access to its state.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Access {
    /// A read and the value found.
    Read {
        /// The key.
        key: Bytes,
        /// The value (`null`: none).
        value: Option<Bytes>,
    },
    /// A write.
    Write {
        /// The key.
        key: Bytes,
        /// The value before.
        old: Option<Bytes>,
        /// The value after (`null`: removed).
        new: Option<Bytes>,
    },
    /// An event.
    Event(TracedEvent),
}

/// An event in a frame, decoded like a receipt's.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TracedEvent {
    /// Its topic.
    pub topic: Bytes,
    /// Its data.
    pub data: Bytes,
    /// Its name in the schema.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Its fields by name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fields: Option<Value>,
}

/// A step of a `vm_*` child.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChildStep {
    /// The child instance.
    pub instance: u64,
    /// What was asked of it.
    pub call: ChildCall,
    /// How the step ended.
    pub result: ChildResult,
    /// The gas the step took.
    pub gas_used: u64,
}

/// What a step asked of a child.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChildCall {
    /// `vm_call`: an export with arguments and a budget.
    Run {
        /// The export.
        export: String,
        /// Its arguments.
        args: Vec<i64>,
        /// The budget.
        gas: u64,
    },
    /// `vm_resume`: a syscall's value.
    Resume {
        /// The value.
        value: i64,
    },
}

/// How a child's step ended.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChildResult {
    /// The export returned.
    Finished {
        /// Its result.
        result: Option<i64>,
        /// What is left of the budget.
        gas_left: u64,
    },
    /// The child called a syscall and waits.
    Syscall {
        /// The import's number.
        index: u32,
        /// Its arguments.
        args: Vec<i64>,
        /// What is left of the budget.
        gas_left: u64,
    },
    /// The step failed.
    Failed(String),
}
