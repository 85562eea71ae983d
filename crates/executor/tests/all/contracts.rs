//! The example contracts of `contracts/` (built with the Rust SDK),
//! deployed and exercised end to end on both backends: every receipt
//! (status, exit code, output, gas, events) and the final storage of every
//! contract must be identical between wasmtime and wasmi.

#![allow(clippy::unwrap_used, reason = "test")]

use std::sync::Arc;

use ed25519_dalek::{Signer, SigningKey};
use ward_executor::{Executor, Tx};
use ward_primitives::Address;
use ward_sdk::codec::{Decode, Encode, call_input, decode_exact, encode};
use ward_state::{MemoryStore, Receipt, StateRead};
use ward_testkit::contracts;
use ward_vm::{BackendKind, Config};

const ALICE: Address = Address([0xa1; 32]);
const BOB: Address = Address([0xb0; 32]);
const CAROL: Address = Address([0xca; 32]);
const GAS: u64 = 10_000_000;
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

    fn deploy(&mut self, sender: Address, name: &str, init: &impl Encode) -> Address {
        let receipt = self.submit(Tx::Deploy {
            value: 0,
            sender,
            code: contracts::wasm(name),
            input: encode(init),
            gas_limit: DEPLOY_GAS,
            salt: name.as_bytes().to_vec(),
            kind: Default::default(),
        });
        assert_eq!(receipt.status, "ok", "deploy {name}: {receipt:?}");
        receipt.address.unwrap()
    }

    fn call_with_gas<A: Encode>(
        &mut self,
        sender: Address,
        to: Address,
        method: &str,
        args: &A,
        gas_limit: u64,
    ) -> Receipt {
        self.submit(Tx::Call {
            value: 0,
            sender,
            to,
            input: call_input(method, args),
            gas_limit,
        })
    }

    fn call<A: Encode>(&mut self, sender: Address, to: Address, method: &str, args: &A) -> Receipt {
        self.call_with_gas(sender, to, method, args, GAS)
    }

    /// A call that must succeed, decoded.
    fn ok<A: Encode, T: Decode>(
        &mut self,
        sender: Address,
        to: Address,
        method: &str,
        args: &A,
    ) -> T {
        let receipt = self.call(sender, to, method, args);
        assert_eq!(receipt.status, "ok", "{method}: {}", message(&receipt));
        decode_exact(&receipt.output).unwrap()
    }

    /// A read-only query, decoded (also logged, so both backends' queries
    /// are compared too).
    fn query<A: Encode, T: Decode>(&mut self, to: Address, method: &str, args: &A) -> T {
        let receipt = self
            .exec
            .query(ALICE, to, call_input(method, args), GAS)
            .unwrap();
        assert_eq!(
            receipt.status,
            "ok",
            "query {method}: {}",
            message(&receipt)
        );
        self.log.push(receipt.clone());
        decode_exact(&receipt.output).unwrap()
    }

    fn storage(&self, contract: Address) -> Vec<(Vec<u8>, Vec<u8>)> {
        self.exec.store().storage_entries(&contract).unwrap()
    }
}

fn message(receipt: &Receipt) -> String {
    String::from_utf8_lossy(&receipt.output).into_owned()
}

fn assert_reverted(receipt: &Receipt, code: i32, needle: &str) {
    assert_eq!(receipt.status, "reverted", "{receipt:?}");
    assert_eq!(receipt.exit_code, code, "{}", message(receipt));
    assert!(
        message(receipt).contains(needle),
        "{:?} lacks {needle:?}",
        message(receipt)
    );
    assert!(receipt.events.is_empty());
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

#[test]
fn counter_increments_reverts_on_bad_input_and_panics_into_a_revert() {
    on_both_backends(|net| {
        let counter = net.deploy(ALICE, "counter", &5u64);
        assert_eq!(net.ok::<_, u64>(BOB, counter, "increment", &3u64), 8);
        let receipt = net.log.last().unwrap().clone();
        assert_eq!(receipt.events.len(), 1);
        assert_eq!(receipt.events[0].topic, b"Incremented");
        assert_eq!(decode_exact::<u64>(&receipt.events[0].data).unwrap(), 8);
        assert_eq!(net.query::<_, u64>(counter, "get", &()), 8);

        let unknown = net.call(BOB, counter, "decrement", &1u64);
        assert_reverted(&unknown, 102, "unknown method `decrement`");
        let bad_args = net.call(BOB, counter, "increment", &1u32);
        assert_reverted(&bad_args, 103, "bad arguments for `increment`");
        let garbage = net.submit(Tx::Call {
            value: 0,
            sender: BOB,
            to: counter,
            input: vec![0xff; 3],
            gas_limit: GAS,
        });
        assert_reverted(&garbage, 102, "method name");

        // Overflow checks are on in contracts: the panic's message is the
        // revert's output, and the count is untouched.
        let overflow = net.call(BOB, counter, "increment", &u64::MAX);
        assert_reverted(&overflow, 101, "panicked: attempt to add with overflow");
        assert_eq!(net.query::<_, u64>(counter, "get", &()), 8);
        vec![counter]
    });
}

fn balance(net: &mut Net, token: Address, who: Address) -> u128 {
    net.query(token, "balance_of", &who)
}

#[test]
fn token_transfers_approvals_mints_and_events() {
    on_both_backends(|net| {
        let token = net.deploy(ALICE, "token", &1_000u128);
        assert_eq!(net.query::<_, Address>(token, "owner", &()), ALICE);
        assert_eq!(net.query::<_, u128>(token, "total_supply", &()), 1_000);

        let sent = net.call(ALICE, token, "transfer", &(BOB, 100u128));
        assert_eq!(sent.status, "ok", "{}", message(&sent));
        assert_eq!(sent.events.len(), 1);
        assert_eq!(sent.events[0].contract, token);
        assert_eq!(sent.events[0].topic, b"Transfer");
        assert_eq!(
            decode_exact::<(Address, Address, u128)>(&sent.events[0].data).unwrap(),
            (ALICE, BOB, 100)
        );
        assert_eq!(balance(net, token, ALICE), 900);
        assert_eq!(balance(net, token, BOB), 100);

        let approved = net.call(ALICE, token, "approve", &(BOB, 50u128));
        assert_eq!(approved.events[0].topic, b"Approval");
        let pulled = net.call(BOB, token, "transfer_from", &(ALICE, CAROL, 30u128));
        assert_eq!(pulled.status, "ok", "{}", message(&pulled));
        assert_eq!(net.query::<_, u128>(token, "allowance", &(ALICE, BOB)), 20);
        let over = net.call(BOB, token, "transfer_from", &(ALICE, CAROL, 21u128));
        assert_reverted(&over, 1, "insufficient allowance: 20 < 21");

        let too_much = net.call(BOB, token, "transfer", &(CAROL, 101u128));
        assert_reverted(&too_much, 1, "insufficient balance: 100 < 101");
        assert!(too_much.gas_used > 0);
        let not_owner = net.call(BOB, token, "mint", &(BOB, 1u128));
        assert_reverted(&not_owner, 1, "only the owner may mint");
        let minted = net.call(ALICE, token, "mint", &(CAROL, 70u128));
        assert_eq!(minted.status, "ok");

        let holders = [ALICE, BOB, CAROL];
        let balances: Vec<u128> = holders.iter().map(|h| balance(net, token, *h)).collect();
        assert_eq!(balances, [870, 100, 100]);
        assert_eq!(
            net.query::<_, u128>(token, "total_supply", &()),
            balances.iter().sum::<u128>()
        );
        vec![token]
    });
}

#[test]
fn a_transfer_that_runs_out_of_gas_anywhere_leaves_balances_untouched() {
    on_both_backends(|net| {
        let token = net.deploy(ALICE, "token", &1_000u128);
        // The first transfer to BOB creates his balance; from the second on,
        // every transfer of this shape costs the same.
        for _ in 0..2 {
            assert_eq!(
                net.call(ALICE, token, "transfer", &(BOB, 1u128)).status,
                "ok"
            );
        }
        let needed = net.log.last().unwrap().gas_used;
        let before = net.storage(token);
        // Every limit from half the cost to one short of it: each stops at a
        // different point of the transfer (before, between and after its
        // storage writes), and none may leave a trace.
        let mut limit = needed / 2;
        while limit < needed {
            let receipt = net.call_with_gas(ALICE, token, "transfer", &(BOB, 1u128), limit);
            assert_eq!(receipt.status, "out_of_gas", "limit {limit}: {receipt:?}");
            assert_eq!(receipt.gas_used, limit);
            assert!(receipt.events.is_empty());
            assert_eq!(net.storage(token), before, "limit {limit} left a trace");
            limit += (needed / 64).max(1);
        }
        let exact = net.call_with_gas(ALICE, token, "transfer", &(BOB, 1u128), needed);
        assert_eq!(exact.status, "ok", "the measured cost is enough: {exact:?}");
        assert_eq!(exact.gas_used, needed);
        assert_eq!(balance(net, token, BOB), 3);
        vec![token]
    });
}

#[test]
fn escrow_holds_releases_refunds_and_handles_a_refusing_token() {
    on_both_backends(|net| {
        let token = net.deploy(ALICE, "token", &1_000u128);
        let escrow = net.deploy(ALICE, "escrow", &());
        let refund_after = net.time + 100;

        // Without an allowance the token reverts the pull; the escrow
        // handles it: no deal, an event with the token's message, and the
        // transaction succeeds with the token's state untouched.
        let token_before = net.storage(token);
        let refused = net.call(
            ALICE,
            escrow,
            "deposit",
            &(token, BOB, CAROL, 200u128, refund_after),
        );
        assert_eq!(refused.status, "ok", "{}", message(&refused));
        assert_eq!(decode_exact::<Option<u64>>(&refused.output).unwrap(), None);
        assert_eq!(refused.events.len(), 1);
        assert_eq!(refused.events[0].topic, b"DepositRefused");
        let (who, why) = decode_exact::<(Address, String)>(&refused.events[0].data).unwrap();
        assert_eq!(who, ALICE);
        assert!(why.contains("insufficient allowance: 0 < 200"), "{why}");
        assert_eq!(net.storage(token), token_before);
        assert!(net.storage(escrow).is_empty());

        net.call(ALICE, token, "approve", &(escrow, 300u128));
        let id: Option<u64> = net.ok(
            ALICE,
            escrow,
            "deposit",
            &(token, BOB, CAROL, 200u128, refund_after),
        );
        assert_eq!(id, Some(0));
        let deposit = net.log.last().unwrap().clone();
        let topics: Vec<&[u8]> = deposit.events.iter().map(|e| e.topic.as_slice()).collect();
        assert_eq!(
            topics,
            [&b"Transfer"[..], b"Deposited"],
            "the token's event, then the escrow's"
        );
        assert_eq!(balance(net, token, escrow), 200);
        assert_eq!(net.query::<_, u128>(escrow, "held", &token), 200);

        let stranger = net.call(BOB, escrow, "release", &0u64);
        assert_reverted(&stranger, 1, "only the arbiter or the depositor");
        let released = net.call(CAROL, escrow, "release", &0u64);
        assert_eq!(released.status, "ok", "{}", message(&released));
        assert_eq!(balance(net, token, BOB), 200);
        assert_eq!(balance(net, token, escrow), 0);
        assert_eq!(
            net.query::<_, Option<(Address, Address, Address, Address, u128, u64)>>(
                escrow, "deal", &0u64
            ),
            None
        );
        assert_reverted(
            &net.call(CAROL, escrow, "release", &0u64),
            2,
            "no such deal",
        );

        let second: Option<u64> = net.ok(
            ALICE,
            escrow,
            "deposit",
            &(token, BOB, CAROL, 100u128, refund_after),
        );
        assert_eq!(second, Some(1));
        let early = net.call(ALICE, escrow, "refund", &1u64);
        assert_reverted(&early, 1, "refund not allowed yet");
        net.time = refund_after;
        let refunded = net.call(ALICE, escrow, "refund", &1u64);
        assert_eq!(refunded.status, "ok", "{}", message(&refunded));
        assert_eq!(balance(net, token, ALICE), 800);
        assert_eq!(
            net.query::<_, u128>(token, "allowance", &(ALICE, escrow)),
            0
        );
        vec![token, escrow]
    });
}

fn sign(key: &SigningKey, message: &impl Encode) -> [u8; 64] {
    key.sign(&encode(message)).to_bytes()
}

#[test]
fn registry_names_are_owned_by_ed25519_keys() {
    on_both_backends(|net| {
        let registry = net.deploy(ALICE, "registry", &());
        let alice_key = SigningKey::from_bytes(&[7; 32]);
        let bob_key = SigningKey::from_bytes(&[8; 32]);
        let (a_pub, b_pub) = (
            alice_key.verifying_key().to_bytes(),
            bob_key.verifying_key().to_bytes(),
        );
        let name = "alice".to_string();

        let claim = sign(&alice_key, &("register", registry, &name, a_pub));
        let forged = net.call(BOB, registry, "register", &(&name, b_pub, claim));
        assert_reverted(&forged, 1, "bad signature");
        let registered = net.call(BOB, registry, "register", &(&name, a_pub, claim));
        assert_eq!(registered.status, "ok", "{}", message(&registered));
        assert_eq!(registered.events[0].topic, b"Registered");
        assert_reverted(
            &net.call(BOB, registry, "register", &(&name, a_pub, claim)),
            1,
            "taken",
        );
        assert_reverted(
            &net.call(BOB, registry, "register", &("Bad Name", a_pub, claim)),
            1,
            "names are",
        );
        assert_eq!(
            net.query::<_, Option<([u8; 32], u64)>>(registry, "lookup", &name),
            Some((a_pub, 0))
        );

        let statement = b"alice says hi".to_vec();
        let signed = alice_key.sign(&statement).to_bytes();
        assert!(net.query::<_, bool>(registry, "verify", &(&name, &statement, signed)));
        assert!(!net.query::<_, bool>(
            registry,
            "verify",
            &(&name, b"alice says bye".to_vec(), signed)
        ));

        let rotation = sign(&alice_key, &("rotate", registry, &name, b_pub, 0u64));
        let rotated = net.call(CAROL, registry, "rotate", &(&name, b_pub, rotation));
        assert_eq!(rotated.status, "ok", "{}", message(&rotated));
        assert_eq!(
            net.query::<_, Option<([u8; 32], u64)>>(registry, "lookup", &name),
            Some((b_pub, 1))
        );
        // The same signature again: the nonce has moved on.
        let replay = net.call(CAROL, registry, "rotate", &(&name, b_pub, rotation));
        assert_reverted(&replay, 1, "bad signature");
        assert_eq!(
            net.query::<_, Option<([u8; 32], u64)>>(registry, "lookup", &"nobody".to_string()),
            None
        );
        vec![registry]
    });
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
        let receipt = net.submit(Tx::Deploy {
            value: 0,
            sender: ALICE,
            code: malformed,
            input: Vec::new(),
            gas_limit: DEPLOY_GAS,
            salt: Vec::new(),
            kind: Default::default(),
        });
        assert_eq!(receipt.status, "rejected", "{receipt:?}");
        assert_eq!(receipt.error_kind.as_deref(), Some("invalid_schema"));
        assert!(receipt.address.is_none());
        assert!(receipt.error_message.unwrap().contains("ends inside"));
        let plain = wat::parse_str(r#"(module (func (export "main")))"#).unwrap();
        let receipt = net.submit(Tx::Deploy {
            value: 0,
            sender: ALICE,
            code: plain,
            input: Vec::new(),
            gas_limit: DEPLOY_GAS,
            salt: Vec::new(),
            kind: Default::default(),
        });
        assert_eq!(receipt.status, "ok");
        vec![receipt.address.unwrap()]
    });
}

/// A plugin (`contracts/plugins`): reads its input, counts its runs in its
/// own storage under "visits", emits the count, outputs "hello, INPUT"
/// and returns the count.
pub(crate) const VISITS_PLUGIN: &str = r#"(module
  (import "env" "ward" (func $w (param i64 i64 i64) (result i64)))
  (memory (export "memory") 1)
  (data (i32.const 0) "visits")
  (data (i32.const 16) "hello, ")
  (func (export "run") (result i64) (local $n i64) (local $count i64)
    ;; input_read into 23.. (at most 100 bytes)
    (local.set $n (call $w (i64.const 1) (i64.const 98784247908) (i64.const 0)))
    ;; storage_read "visits" into 200..208 (nothing there reads as 0)
    (drop (call $w (i64.const 2) (i64.const 6) (i64.const 858993459208)))
    (local.set $count (i64.add (i64.load (i32.const 200)) (i64.const 1)))
    (i64.store (i32.const 200) (local.get $count))
    (drop (call $w (i64.const 3) (i64.const 6) (i64.const 858993459208)))
    (drop (call $w (i64.const 4) (i64.const 6) (i64.const 858993459208)))
    ;; output "hello, " and the input
    (drop (call $w (i64.const 5) (i64.add (i64.const 68719476736) (i64.add (i64.const 7) (local.get $n))) (i64.const 0)))
    (local.get $count)))"#;

/// A plugin that misbehaves as its input's first byte says: `s` writes
/// 999 under its own "visits" and returns, `w` writes then traps, `l`
/// loops, `o` asks for an unknown op, `r` names a range outside its
/// memory, `d` recurses without end.
const HOSTILE_PLUGIN: &str = r#"(module
  (import "env" "ward" (func $w (param i64 i64 i64) (result i64)))
  (memory (export "memory") 1)
  (data (i32.const 0) "visits")
  (data (i32.const 200) "\e7\03\00\00\00\00\00\00")
  (func $deep (param i64) (result i64) (i64.add (i64.const 1) (call $deep (local.get 0))))
  (func (export "run") (result i64) (local $op i32)
    (drop (call $w (i64.const 1) (i64.const 4294967297) (i64.const 0)))
    (local.set $op (i32.load8_u (i32.const 1)))
    (if (i32.or (i32.eq (local.get $op) (i32.const 115)) (i32.eq (local.get $op) (i32.const 119)))
      (then (drop (call $w (i64.const 3) (i64.const 6) (i64.const 858993459208)))))
    (if (i32.eq (local.get $op) (i32.const 119)) (then unreachable))
    (if (i32.eq (local.get $op) (i32.const 108)) (then (loop $l (br $l))))
    (if (i32.eq (local.get $op) (i32.const 111)) (then (drop (call $w (i64.const 9) (i64.const 0) (i64.const 0)))))
    (if (i32.eq (local.get $op) (i32.const 114)) (then (drop (call $w (i64.const 5) (i64.const 281474976710664) (i64.const 0)))))
    (if (i32.eq (local.get $op) (i32.const 100)) (then (return (call $deep (i64.const 0)))))
    (i64.const 0)))"#;

#[test]
fn plugins_run_uploaded_modules_as_children_with_their_own_storage() {
    on_both_backends(|net| {
        let plugins = net.deploy(ALICE, "plugins", &());
        let upload = |net: &mut Net, who, wat: &str| -> u64 {
            net.ok(who, plugins, "upload", &wat::parse_str(wat).unwrap())
        };
        let visits = upload(net, BOB, VISITS_PLUGIN);
        let hostile = upload(net, CAROL, HOSTILE_PLUGIN);
        assert_eq!((visits, hostile), (0, 1));
        assert_eq!(net.log.last().unwrap().events[0].topic, b"Uploaded");
        let not_wasm = net.call(BOB, plugins, "upload", &b"not wasm".to_vec());
        assert_reverted(&not_wasm, 2, "not a plugin");
        let no_run = wat::parse_str(r#"(module (func (export "go")))"#).unwrap();
        let no_run = net.call(BOB, plugins, "upload", &no_run);
        assert_reverted(&no_run, 1, "a plugin exports `run");

        // Two runs: the count lives in the plugin's storage.
        for count in 1..=2i64 {
            let (result, output, used): (i64, Vec<u8>, u64) = net.ok(
                CAROL,
                plugins,
                "run",
                &(visits, b"world".to_vec(), 1_000_000u64),
            );
            assert_eq!((result, output.as_slice()), (count, &b"hello, world"[..]));
            let receipt = net.log.last().unwrap().clone();
            assert!(used > 0 && used < receipt.gas_used, "{used} of {receipt:?}");
            assert_eq!(receipt.events.len(), 1);
            assert_eq!(receipt.events[0].topic, b"PluginEvent");
            let (id, topic, data): (u64, Vec<u8>, Vec<u8>) =
                decode_exact(&receipt.events[0].data).unwrap();
            assert_eq!((id, topic.as_slice()), (visits, &b"visits"[..]));
            assert_eq!(data, count.to_le_bytes());
        }

        // Another plugin's "visits" is its own.
        let (result, _, _): (i64, Vec<u8>, u64) =
            net.ok(BOB, plugins, "run", &(hostile, b"s".to_vec(), 1_000_000u64));
        assert_eq!(result, 0);
        // Failures revert the call (and what the plugin wrote), whatever
        // they are, and the caller pays the plugin's gas.
        for (input, needle) in [
            ("w", "trapped: unreachable"),
            ("l", "out of gas"),
            ("o", "an unknown op"),
            ("r", "a range outside its memory"),
            ("d", "trapped: stack_overflow"),
        ] {
            let receipt = net.call(
                BOB,
                plugins,
                "run",
                &(hostile, input.as_bytes().to_vec(), 1_000_000u64),
            );
            assert_reverted(&receipt, 3, needle);
            if input == "l" {
                assert!(receipt.gas_used > 1_000_000, "{receipt:?}");
            }
        }
        let (count, _, _): (i64, Vec<u8>, u64) = net.ok(
            CAROL,
            plugins,
            "run",
            &(visits, Vec::<u8>::new(), 1_000_000u64),
        );
        assert_eq!(count, 3, "neither plugin saw the other's key");

        // Only the uploader removes a plugin.
        assert_eq!(
            net.query::<_, Option<Address>>(plugins, "owner", &visits),
            Some(BOB)
        );
        let refused = net.call(ALICE, plugins, "remove", &visits);
        assert_reverted(&refused, 1, "only the uploader");
        net.ok::<_, ()>(BOB, plugins, "remove", &visits);
        let gone = net.call(CAROL, plugins, "run", &(visits, Vec::<u8>::new(), 1_000u64));
        assert_reverted(&gone, 2, "no such plugin");
        vec![plugins]
    });
}
