//! The example contracts of `contracts/` (built with the Rust SDK) where
//! they exercise the executor: a system runtime (`stackvm`), the schema
//! check of deploys, children (`plugins`). On both backends: every receipt
//! (status, exit code, output, gas, events) and the final storage of every
//! contract must be identical between wasmtime and wasmi. What each
//! contract itself does is tested in its crate (`contracts/*/tests`, on
//! `ward-test`).

#![allow(clippy::unwrap_used, reason = "test")]

use std::sync::Arc;

use crate::ALICE;
use ward_executor::{Deploy, Executor, Payload, Tx};
use ward_primitives::Address;
use ward_state::{MemoryStore, Receipt, StateRead};
use ward_testkit::contracts;
use ward_vm::{BackendKind, Config};

/// Deploys pay 1,000 gas a byte first (docs/gas.md).
const DEPLOY_GAS: u64 = 100_000_000;
const START_TIME: u64 = 1_700_000_000;

/// One chain on one backend, one transaction per block, and everything it
/// answered, in order.
struct Net {
    exec: Executor<MemoryStore>,
    time: u64,
    log: Vec<Receipt>,
}

impl Net {
    fn new(kind: BackendKind) -> Net {
        let config = Config::default();
        Net {
            exec: Executor::new(
                Arc::new(MemoryStore::default()),
                ward_testkit::backend(kind, &config),
                &config,
            ),
            time: START_TIME,
            log: Vec::new(),
        }
    }

    /// Runs `tx` in a block of its own, its gas estimate checked
    /// ([`crate::estimated`]).
    fn submit(&mut self, tx: Tx) -> Receipt {
        self.time += 5;
        let receipt = crate::estimated(&self.exec, tx, self.time);
        self.log.push(receipt.clone());
        receipt
    }

    fn storage(&self, contract: Address) -> Vec<(Vec<u8>, Vec<u8>)> {
        self.exec.store().storage_entries(&contract).unwrap()
    }
}

/// Runs `scenario` on both backends and insists that every receipt and
/// the final storage of the contracts it names agree.
fn on_both_backends(scenario: fn(&mut Net) -> Vec<Address>) {
    let mut runs = Vec::new();
    for kind in BackendKind::ALL {
        let mut net = Net::new(kind);
        let contracts = scenario(&mut net);
        let storage: Vec<_> = contracts.iter().map(|c| net.storage(*c)).collect();
        runs.push((kind, net.log, storage));
    }
    let (_, log_a, storage_a) = &runs[0];
    let (_, log_b, storage_b) = &runs[1];
    assert_eq!(log_a.len(), log_b.len());
    for (a, b) in log_a.iter().zip(log_b) {
        assert_eq!(a, b, "receipts differ between backends");
    }
    assert_eq!(storage_a, storage_b, "storage differs between backends");
}

/// Assembles a `stackvm` call: the program, then the arguments, in the
/// system runtimes' envelope.
fn stackvm_input(program: &[u8], args: &[i64]) -> Vec<u8> {
    let args: Vec<u8> = args.iter().flat_map(|a| a.to_le_bytes()).collect();
    ward_executor::envelope(program, &args)
}

/// `stackvm` bytecode for the sum 1 + 2 + ... + n, with n as its argument.
pub(crate) fn sum_program() -> Vec<u8> {
    let mut p = vec![0x01];
    p.extend_from_slice(&0i64.to_le_bytes()); // 0: push 0     (n acc)
    p.extend_from_slice(&[0x05]); //             9: over       (n acc n)
    p.extend_from_slice(&[0x21, 30, 0]); //     10: jz 30      (n acc)
    p.extend_from_slice(&[0x05, 0x10, 0x04]); // 13: over add swap  (acc+n n)
    p.push(0x01);
    p.extend_from_slice(&1i64.to_le_bytes()); // 16: push 1
    p.extend_from_slice(&[0x11, 0x04]); //      25: sub swap   (n-1 acc+n)
    p.extend_from_slice(&[0x20, 9, 0]); //      27: jmp 9
    p.push(0x00); //                            30: halt (the top is acc)
    assert_eq!(p.len(), 31);
    p
}

#[test]
fn stackvm_runs_bytecode_as_a_self_metered_system_runtime() {
    use ward_testkit::{assert_agree, system_call};
    use ward_vm::{ErrorKind, Execution, Metering, Status, SystemRuntimes};

    let config = Config::default();
    let mut transcripts: Vec<Vec<Execution>> = Vec::new();
    for kind in BackendKind::ALL {
        let runtimes = SystemRuntimes::new(ward_testkit::backend(kind, &config), &config);
        let code = runtimes
            .register(&contracts::wasm("stackvm"), Metering::SelfMetered)
            .unwrap();
        let run = |input: Vec<u8>, gas: u64| system_call(&runtimes, &code, &input, gas);
        let sum = |n: i64| {
            let execution = run(stackvm_input(&sum_program(), &[n]), 10_000_000);
            assert_eq!(
                execution.outcome.status,
                Status::Ok,
                "{kind}: {:?}",
                execution.outcome
            );
            let out = i64::from_le_bytes(execution.outcome.output.clone().try_into().unwrap());
            assert_eq!(out, n * (n + 1) / 2);
            execution
        };
        let runs: Vec<Execution> = [1, 2, 100, 200].into_iter().map(sum).collect();
        let gas: Vec<u64> = runs.iter().map(|r| r.outcome.gas_used.get()).collect();
        // Self-metered: each loop iteration (9 instructions at 25 gas, and
        // one charge_gas call at the jump) costs the same, so gas is linear
        // in n, and an iteration costs at least its instructions.
        let per_iteration = gas[1] - gas[0];
        assert!(per_iteration >= 9 * 25, "{kind}: {per_iteration}");
        assert_eq!(gas[3] - gas[2], 100 * per_iteration, "{kind}");
        assert_eq!(
            runtimes.instance_builds(),
            1,
            "{kind}: one instance, reused"
        );

        // A fault reverts with a message naming the instruction.
        let div = [
            0x01, 1, 0, 0, 0, 0, 0, 0, 0, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0x13, 0x00,
        ];
        let fault = run(stackvm_input(&div, &[]), 1_000_000);
        assert_eq!(fault.outcome.status, Status::Reverted);
        assert_eq!(fault.outcome.output, b"division by zero at pc 18");
        let bad = run(stackvm_input(&[0x99], &[]), 1_000_000);
        assert_eq!(bad.outcome.output, b"bad opcode 0x99 at pc 0");
        let underflow = run(stackvm_input(&[0x10, 0x00], &[5]), 1_000_000);
        assert_eq!(underflow.outcome.output, b"stack underflow at pc 0");
        assert_eq!(
            runtimes.instance_builds(),
            1,
            "{kind}: a revert that returns keeps the instance"
        );

        // An endless loop pays at every jump until the gas is gone; the
        // instance is then rebuilt for the next call.
        let spin = run(stackvm_input(&[0x20, 0, 0], &[]), 1_000_000);
        assert_eq!(spin.outcome.status, Status::OutOfGas, "{kind}");
        assert_eq!(spin.outcome.gas_used.get(), 1_000_000);
        assert_eq!(
            spin.outcome.error.as_ref().map(|e| e.kind),
            Some(ErrorKind::OutOfGas)
        );
        let again = sum(100);
        assert_eq!(again.outcome.gas_used, runs[2].outcome.gas_used);
        assert_eq!(
            runtimes.instance_builds(),
            2,
            "{kind}: rebuilt after running out of gas"
        );

        let mut transcript = runs;
        transcript.extend([fault, bad, underflow, spin, again]);
        transcripts.push(transcript);
    }
    for (a, b) in transcripts[0].iter().zip(&transcripts[1]) {
        assert_agree(&[a.clone(), b.clone()]);
    }
}

/// Every example contract carries the schema it declares, and a deploy
/// checks it: a module whose `ward.schema` section is malformed is
/// rejected (`invalid_schema`) at the same gas on both backends, creates
/// nothing, and one without a section deploys as before.
#[test]
fn deploys_check_the_schema_section() {
    use ward_chain::schema::Schema;
    let mut methods = Vec::new();
    for name in ["counter", "token", "escrow", "registry"] {
        let schema = Schema::from_module(&contracts::wasm(name))
            .unwrap()
            .unwrap_or_else(|| panic!("{name} has no schema"));
        methods.push((name, schema.methods.len(), schema.events.len()));
    }
    assert_eq!(
        methods,
        [
            ("counter", 2, 1),
            ("token", 8, 2),
            ("escrow", 5, 4),
            ("registry", 4, 2)
        ]
    );
    assert_eq!(Schema::from_module(&contracts::wasm("stackvm")), Ok(None));
    on_both_backends(|net| {
        let malformed = wat::parse_str(
            r#"(module (@custom "ward.schema" "\01\00\01\00\00\00") (func (export "main")))"#,
        )
        .unwrap();
        let receipt = net.submit(Tx {
            sender: ALICE,
            gas_limit: DEPLOY_GAS,
            value: 0,
            payload: Payload::Deploy(Deploy::new(malformed, Vec::new())),
        });
        assert_eq!(receipt.status.as_str(), "rejected", "{receipt:?}");
        assert_eq!(receipt.error_kind.as_deref(), Some("invalid_schema"));
        assert!(receipt.address.is_none());
        assert!(receipt.error_message.unwrap().contains("ends inside"));
        let plain = wat::parse_str(r#"(module (func (export "main")))"#).unwrap();
        let receipt = net.submit(Tx {
            sender: ALICE,
            gas_limit: DEPLOY_GAS,
            value: 0,
            payload: Payload::Deploy(Deploy::new(plain, Vec::new())),
        });
        assert_eq!(receipt.status.as_str(), "ok");
        vec![receipt.address.unwrap()]
    });
}

/// A plugin (`contracts/plugins/tests/visits.wat`, whose own tests use
/// it too).
pub(crate) const VISITS_PLUGIN: &str =
    include_str!("../../../../contracts/plugins/tests/visits.wat");
