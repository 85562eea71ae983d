//! EVM code analysed once (`docs/runtimes.md`, "Analysis"): the executor
//! runs the EVM runtime's `analyze` once per code hash and passes its
//! output in every frame's envelope, and a frame given it runs exactly as
//! one that analyses its code itself. Both backends.

#![allow(clippy::unwrap_used, reason = "test")]

use std::{collections::BTreeMap, sync::Arc};

use ward_executor::{Executor, Runtimes, head, open_envelope};
use ward_primitives::{Gas, RuntimeName};
use ward_state::MemoryStore;
use ward_testkit::{MapChain, evm::creation};
use ward_vm::{
    BackendKind, CallContext, ChainError, Config, Entry, Metering, Reply, RunOptions, Status,
};

use crate::{
    evm::{Chain, token_and_escrow},
    on_both_backends_alike,
};

fn evm_name() -> RuntimeName {
    RuntimeName::new("evm").unwrap()
}

/// A registry of the EVM runtime on `kind`, self-metered or not, with the
/// analysis on or off.
fn registry(kind: BackendKind, metering: Metering, analysis: bool) -> Runtimes {
    let config = Config::default();
    let mut runtimes = Runtimes::new(ward_testkit::backend(kind, &config), &config);
    runtimes
        .register_metered(evm_name(), &ward_testkit::evm::runtime(), metering)
        .unwrap();
    runtimes.with_analysis(analysis)
}

/// The JUMPDESTs of `code`, found by walking it: a bit per byte, set at
/// each `0x5b` that is not push data.
fn jumpdests(code: &[u8]) -> Vec<u8> {
    let mut bits = vec![0u8; code.len().div_ceil(8)];
    let mut pc = 0;
    while pc < code.len() {
        match code[pc] {
            0x5b => bits[pc / 8] |= 1 << (pc % 8),
            op @ 0x60..=0x7f => pc += usize::from(op - 0x5f),
            _ => {}
        }
        pc += 1;
    }
    bits
}

/// How the registered runtime's `entry` ends on `input` with `gas`, in
/// `context`, outside any chain.
fn run(
    runtimes: &Runtimes,
    entry: &str,
    (input, gas): (Vec<u8>, Gas),
    context: CallContext,
) -> ward_vm::Outcome {
    let runtime = runtimes.names()[0].1;
    let options = RunOptions {
        input,
        gas_limit: gas,
        ..RunOptions::default()
    };
    let reply = &mut |_| Reply::Trap("unexpected".into());
    let execution = runtimes
        .system()
        .call(
            &runtime,
            &Entry::Main(entry.into()),
            options,
            context,
            reply,
        )
        .unwrap();
    execution.outcome
}

/// What the runtime's `analyze` outputs for `code`.
fn analyze(runtimes: &Runtimes, code: &[u8]) -> Vec<u8> {
    let context = CallContext::new(Vec::new(), Gas::MAX);
    let outcome = run(runtimes, "analyze", (code.to_vec(), Gas::MAX), context);
    assert_eq!(outcome.status, Status::Ok, "{outcome:?}");
    outcome.output
}

#[test]
fn the_analysis_marks_every_jumpdest_outside_push_data_on_both_backends() {
    on_both_backends_alike(|kind| {
        let runtimes = registry(kind, Metering::SelfMetered, true);
        let token = creation("Token");
        let samples: [&[u8]; 5] = [
            &token,
            // A JUMPDEST inside PUSH2's data, then a real one.
            &[0x61, 0x5b, 0x5b, 0x5b, 0x00],
            // A PUSH32 cut short by the end of the code.
            &[0x5b, 0x7f, 0x5b, 0x5b],
            &[0x5b],
            // An EIP-7702 designator: nothing to analyse.
            &[
                0xef, 0x01, 0x00, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa,
                0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa,
            ],
        ];
        let mut outputs = Vec::new();
        for (i, code) in samples.iter().enumerate() {
            let analysis = analyze(&runtimes, code);
            let expected = if i == 4 { Vec::new() } else { jumpdests(code) };
            assert_eq!(analysis, expected, "sample {i}");
            outputs.push(analysis);
        }
        assert!(
            outputs[0].iter().any(|&b| b != 0),
            "the token has JUMPDESTs"
        );
        outputs
    });
}

#[test]
fn an_envelope_opens_with_its_analysis_or_without() {
    let code = [0x60, 0x01, 0x5b];
    let input = b"input";
    for analysis in [None, Some(&[0b100][..])] {
        let mut envelope = head(&code, analysis);
        envelope.extend_from_slice(input);
        assert_eq!(open_envelope(&envelope), Some((&code[..], &input[..])));
    }
    assert_eq!(ward_executor::envelope(&code, input)[..4], [3, 0, 0, 0]);
    assert_eq!(head(&code, Some(&[4]))[3], 0x80, "the flag");
    assert_eq!(open_envelope(&[1, 2]), None);
    assert_eq!(open_envelope(&[9, 0, 0, 0, 1]), None, "code past the end");
}

/// The token and escrow scenario (deploys, transfers, reverts, EVM-to-EVM
/// calls) on a chain whose frames are given their analysis, and on one
/// whose frames analyse their code: every receipt the same (status,
/// output, gas, EVM gas, events).
#[test]
fn frames_given_their_analysis_run_as_frames_that_make_it_on_both_backends() {
    on_both_backends_alike(|kind| {
        let mut logs = Vec::new();
        for analysis in [true, false] {
            let runtimes = registry(kind, Metering::SelfMetered, analysis);
            assert_eq!(runtimes.analyzes(&evm_name()), analysis);
            let config = Config::default();
            let exec = Executor::new(
                Arc::new(MemoryStore::default()),
                ward_testkit::backend(kind, &config),
                &config,
            )
            .with_runtimes(Arc::new(runtimes));
            let mut chain = Chain {
                exec,
                log: Vec::new(),
            };
            token_and_escrow(&mut chain);
            logs.push(chain.log);
        }
        assert_eq!(logs[0], logs[1]);
        logs.remove(0)
    });
}

#[test]
fn an_engine_metered_runtime_analyses_in_its_frames() {
    let runtimes = registry(BackendKind::Wasmi, Metering::Instrumented, true);
    assert!(!runtimes.analyzes(&evm_name()));
    let runtimes = registry(BackendKind::Wasmi, Metering::SelfMetered, true);
    assert!(runtimes.analyzes(&evm_name()));
}

/// How `main` ends for `code` in an envelope with `analysis`: the frame
/// runs by the analysis it is given (here a false one, which only the
/// executor's own could make true).
fn run_main(runtimes: &Runtimes, code: &[u8], analysis: Option<&[u8]>) -> (Status, i32) {
    let gas = Gas::new(10_000_000);
    let context = CallContext::new(Vec::new(), gas)
        .with_chain(Box::new(Transient::default()))
        .with_host_costs_waived();
    let outcome = run(runtimes, "main", (head(code, analysis), gas), context);
    (outcome.status, outcome.exit_code)
}

/// A chain with transient storage (the EVM runtime keeps its
/// bookkeeping there), over testkit's map chain.
#[derive(Default)]
struct Transient {
    chain: MapChain,
    transient: BTreeMap<Vec<u8>, Vec<u8>>,
}

impl ward_vm::Chain for Transient {
    fn storage_read(&mut self, key: &[u8]) -> Result<Option<Vec<u8>>, ChainError> {
        self.chain.storage_read(key)
    }

    fn storage_write(&mut self, key: &[u8], value: Option<&[u8]>) -> Result<(), ChainError> {
        self.chain.storage_write(key, value)
    }

    fn emit_event(&mut self, topic: &[u8], data: &[u8]) -> Result<(), ChainError> {
        self.chain.emit_event(topic, data)
    }

    fn caller(&self) -> [u8; 32] {
        self.chain.caller()
    }

    fn self_address(&self) -> [u8; 32] {
        self.chain.self_address()
    }

    fn block_height(&self) -> u64 {
        self.chain.block_height()
    }

    fn block_time(&self) -> u64 {
        self.chain.block_time()
    }

    fn transient_read(&mut self, key: &[u8]) -> Result<Option<Vec<u8>>, ChainError> {
        Ok(self.transient.get(key).cloned())
    }

    fn transient_write(&mut self, key: &[u8], value: Option<&[u8]>) -> Result<(), ChainError> {
        match value {
            Some(value) => self.transient.insert(key.to_vec(), value.to_vec()),
            None => self.transient.remove(key),
        };
        Ok(())
    }
}

#[test]
fn a_frame_jumps_by_the_analysis_it_is_given_on_both_backends() {
    on_both_backends_alike(|kind| {
        let runtimes = registry(kind, Metering::SelfMetered, true);
        // PUSH1 4, JUMP to pc 4: a 0x5b inside PUSH2's data, then STOP.
        let code = [0x60, 0x04, 0x56, 0x61, 0x5b, 0x00, 0x00];
        let analysis = analyze(&runtimes, &code);
        assert_eq!(analysis, [0]);
        let truthful = run_main(&runtimes, &code, Some(&analysis));
        assert_eq!(truthful, run_main(&runtimes, &code, None));
        assert_ne!(truthful.0, Status::Ok, "an invalid jump halts");
        // A table that calls pc 4 a JUMPDEST is obeyed: the frame is
        // given its analysis and does not make it again.
        assert_eq!(run_main(&runtimes, &code, Some(&[1 << 4])), (Status::Ok, 0));
        // One that does not fit the code is not: the frame analyses it.
        assert_eq!(run_main(&runtimes, &code, Some(&[1 << 4, 0])), truthful);
        truthful
    });
}

#[test]
fn docs_state_the_head_cache_s_bound_and_the_flag() {
    let doc = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/runtimes.md"
    ))
    .unwrap();
    let bound = format!(
        "`ward_executor::HEAD_CACHE_BYTES`, {} MiB",
        ward_executor::HEAD_CACHE_BYTES >> 20
    );
    assert!(doc.contains(&bound), "docs/runtimes.md: {bound}");
    let flag = format!(
        "code_len | 0x{:04x}_{:04x}",
        ward_executor::ANALYZED >> 16,
        ward_executor::ANALYZED & 0xffff
    );
    assert!(doc.contains(&flag), "docs/runtimes.md: {flag}");
}
