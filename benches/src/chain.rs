//! Contract workloads for `ward-bench`: a token transfer (2 storage reads,
//! 2 writes, 1 event) per transaction, in memory and on redb with one
//! commit per 1000-transaction block (through a block pipeline, as a node
//! runs them: each block executed while the one before is rooted and
//! committed), and the round trip of a call between
//! contracts; each beside the same contract on raw wasmtime with a plain
//! map for storage (no metering, no journal, no receipts).

use std::{collections::BTreeMap, hint::black_box, sync::Arc};

use ward_executor::{Deploy, Executor, Payload, Tx};
use ward_state::{Address, MemoryStore, RedbStore, StateCommit, StateRead};
use ward_vm::{BackendKind, Config};

use crate::{Work, scratch::Scratch};

/// Transactions per block in the transfer figures.
pub const BLOCK_TXS: usize = 1000;

/// A fungible-token transfer: input = recipient (32 bytes) ++ amount (8).
/// Balances are keyed by address; `deploy` credits the deployer.
pub const TOKEN_WAT: &str = r#"(module
  (import "ward" "input_read" (func $input_read (param i32 i32 i32)))
  (import "ward" "caller" (func $caller (param i32)))
  (import "ward" "storage_read" (func $read (param i32 i32 i32 i32) (result i64)))
  (import "ward" "storage_write" (func $write (param i32 i32 i32 i32)))
  (import "ward" "emit_event" (func $emit (param i32 i32 i32 i32)))
  (import "ward" "exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  (data (i32.const 200) "transfer")
  (func (export "deploy")
    (call $caller (i32.const 0))
    (i64.store (i32.const 100) (i64.const 1000000000000))
    (call $write (i32.const 0) (i32.const 32) (i32.const 100) (i32.const 8)))
  (func (export "main")
    (call $caller (i32.const 0))
    (call $input_read (i32.const 32) (i32.const 0) (i32.const 40))
    (i64.store (i32.const 100) (i64.const 0))
    (i64.store (i32.const 108) (i64.const 0))
    (drop (call $read (i32.const 0) (i32.const 32) (i32.const 100) (i32.const 8)))
    (drop (call $read (i32.const 32) (i32.const 32) (i32.const 108) (i32.const 8)))
    (if (i64.lt_u (i64.load (i32.const 100)) (i64.load (i32.const 64)))
      (then (call $exit (i32.const 1))))
    (i64.store (i32.const 100) (i64.sub (i64.load (i32.const 100)) (i64.load (i32.const 64))))
    (i64.store (i32.const 108) (i64.add (i64.load (i32.const 108)) (i64.load (i32.const 64))))
    (call $write (i32.const 0) (i32.const 32) (i32.const 100) (i32.const 8))
    (call $write (i32.const 32) (i32.const 32) (i32.const 108) (i32.const 8))
    (call $emit (i32.const 200) (i32.const 8) (i32.const 32) (i32.const 40))))"#;

/// Calls the contract whose address is its input, with no input.
pub const CALLER_WAT: &str = r#"(module
  (import "ward" "input_read" (func $input_read (param i32 i32 i32)))
  (import "ward" "call" (func $call (param i32 i32 i32 i64 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "main")
    (call $input_read (i32.const 0) (i32.const 0) (i32.const 32))
    (if (call $call (i32.const 0) (i32.const 64) (i32.const 0) (i64.const 1000000) (i32.const 0))
      (then unreachable))))"#;

/// Runs the stored code whose hash is its input as a child: compile (a
/// cache hit after the first), instantiate, run `main`, destroy.
pub const CHILD_CYCLE_WAT: &str = r#"(module
  (import "ward" "input_read" (func $input_read (param i32 i32 i32)))
  (import "ward" "vm_compile_stored" (func $compile (param i32) (result i64)))
  (import "ward" "vm_instantiate" (func $inst (param i64) (result i64)))
  (import "ward" "vm_run" (func $run (param i64 i32 i32 i32 i32 i64 i32) (result i64)))
  (import "ward" "vm_destroy" (func $destroy (param i64) (result i64)))
  (memory (export "memory") 1)
  (data (i32.const 64) "main")
  (func (export "main") (local $c i64)
    (call $input_read (i32.const 0) (i32.const 0) (i32.const 32))
    (local.set $c (call $inst (call $compile (i32.const 0))))
    (if (i64.ne (call $run (local.get $c) (i32.const 64) (i32.const 4) (i32.const 128) (i32.const 0)
                  (i64.const 1000000) (i32.const 256)) (i64.const 0))
      (then unreachable))
    (if (i64.ne (call $destroy (local.get $c)) (i64.const 0))
      (then unreachable))))"#;

/// An empty contract.
pub const NOOP_WAT: &str = r#"(module (memory (export "memory") 1) (func (export "main")))"#;

const ALICE: Address = Address([0xa1; 32]);
const BOB: Address = Address([0xb0; 32]);

fn transfer_input() -> Vec<u8> {
    let mut input = BOB.0.to_vec();
    input.extend(1u64.to_le_bytes());
    input
}

fn deploy<S: StateCommit + Send + Sync + 'static>(
    exec: &Executor<S>,
    wat: &str,
    salt: &[u8],
) -> Address {
    deploy_code(exec, wat::parse_str(wat).expect("parses"), Vec::new(), salt)
}

fn deploy_code<S: StateCommit + Send + Sync + 'static>(
    exec: &Executor<S>,
    code: Vec<u8>,
    input: Vec<u8>,
    salt: &[u8],
) -> Address {
    let receipts = exec
        .execute_block(
            &[Tx {
                sender: ALICE,
                // The most one transaction may use (ChainLimits).
                gas_limit: 200_000_000,
                value: 0,
                payload: Payload::Deploy(Deploy::new(code, input).with_salt(salt.to_vec())),
            }],
            0,
        )
        .expect("deploys");
    assert!(receipts[0].status.is_ok(), "deploy: {:?}", receipts[0]);
    receipts[0].address.expect("deployed")
}

/// A token contract and how to deploy it and make one transfer with it.
#[derive(Clone)]
pub struct Token {
    /// The module.
    pub code: Vec<u8>,
    /// The deploy input (the supply, where the contract takes one).
    pub deploy_input: Vec<u8>,
    /// The input of a transfer of 1 to BOB.
    pub transfer_input: Vec<u8>,
}

impl Token {
    /// The hand-written token, [`TOKEN_WAT`].
    pub fn hand_written() -> Token {
        Token {
            code: wat::parse_str(TOKEN_WAT).expect("parses"),
            deploy_input: Vec::new(),
            transfer_input: transfer_input(),
        }
    }

    /// `contracts/token`, built with the Rust SDK (`make contracts`), if
    /// it has been built.
    pub fn sdk() -> Option<Token> {
        use ward_sdk::codec::{call_input, encode};
        Some(Token {
            code: crate::sdk_contract("token")?,
            deploy_input: encode(&1_000_000_000_000u128),
            transfer_input: call_input("transfer", &(BOB, 1u128)),
        })
    }

    /// Deploys the token with `exec` and returns a transfer of 1 from the
    /// deployer to BOB.
    fn deploy_for_transfers<S: StateCommit + Send + Sync + 'static>(
        &self,
        exec: &Executor<S>,
    ) -> Tx {
        let to = deploy_code(exec, self.code.clone(), self.deploy_input.clone(), b"token");
        Tx {
            sender: ALICE,
            gas_limit: 1_000_000,
            value: 0,
            payload: Payload::Call {
                to,
                input: self.transfer_input.clone(),
            },
        }
    }

    /// Gas of one transfer once both balances exist (the same for every
    /// later transfer), through Ward on `kind`.
    pub fn transfer_gas(&self, kind: BackendKind) -> u64 {
        let exec = executor(Arc::new(MemoryStore::default()), kind);
        let tx = self.deploy_for_transfers(&exec);
        let receipts = exec.execute_block(&[tx.clone(), tx], 1).expect("executes");
        assert!(receipts.iter().all(|r| r.status.is_ok()), "{receipts:?}");
        receipts[1].gas_used
    }
}

fn executor<S: StateCommit + Send + Sync + 'static>(
    store: Arc<S>,
    kind: BackendKind,
) -> Executor<S> {
    let config = Config::default();
    // Blocks of 1,000 transfers at a 1,000,000 gas limit each: above the
    // default block gas maximum, which bounds a node's blocks, not these.
    let limits = ward_executor::ChainLimits {
        max_block_gas: u64::MAX,
        ..ward_executor::ChainLimits::default()
    };
    Executor::new(store, crate::ward_backend(kind, &config), &config).with_limits(limits)
}

/// One block of [`BLOCK_TXS`] transfers through Ward, committed to `store`.
fn transfer_blocks<S: StateCommit + Send + Sync + 'static>(
    store: Arc<S>,
    kind: BackendKind,
    token: &Token,
) -> Work {
    let exec = executor(store, kind);
    let tx = token.deploy_for_transfers(&exec);
    let block: Vec<Tx> = vec![tx; BLOCK_TXS];
    let mut time = 1;
    let mut pipeline = ward_executor::Pipeline::new(Arc::new(exec)).expect("a pipeline starts");
    Box::new(move || {
        time += 1;
        let pushed = pipeline.push_unsigned(&block, time);
        pushed.executed.expect("executes");
        let receipts = pushed.committed.map(|b| b.expect("commits").receipts);
        debug_assert!(receipts.iter().flatten().all(|r| r.status.is_ok()));
        black_box(receipts);
    })
}

/// Ward: 1000 transfers in an in-memory store, one block.
pub fn ward_transfers_memory(kind: BackendKind) -> Work {
    transfer_blocks(
        Arc::new(MemoryStore::default()),
        kind,
        &Token::hand_written(),
    )
}

/// Ward: 1000 transfers of `token` in an in-memory store, one block.
pub fn ward_token_transfers(kind: BackendKind, token: &Token) -> Work {
    transfer_blocks(Arc::new(MemoryStore::default()), kind, token)
}

/// Ward: 1000 transfers on redb, one block, one durable commit.
pub fn ward_transfers_redb(kind: BackendKind) -> Work {
    let dir = Scratch::new(&format!("redb-{kind}"));
    let mut work = transfer_blocks(
        Arc::new(RedbStore::create(dir.path()).expect("opens redb")),
        kind,
        &Token::hand_written(),
    );
    // The directory goes when the figure's work is dropped.
    Box::new(move || {
        let _ = &dir;
        work()
    })
}

/// Ward: a transaction whose contract calls another (empty) one.
pub fn ward_call_round_trip(kind: BackendKind) -> Work {
    let exec = executor(Arc::new(MemoryStore::default()), kind);
    let noop = deploy(&exec, NOOP_WAT, b"noop");
    let caller = deploy(&exec, CALLER_WAT, b"caller");
    hundred_calls(exec, caller, noop.0.to_vec())
}

/// Blocks of 100 calls of `to` with `input`, all of which succeed.
fn hundred_calls(exec: Executor<MemoryStore>, to: Address, input: Vec<u8>) -> Work {
    let tx = Tx {
        sender: ALICE,
        gas_limit: 10_000_000,
        value: 0,
        payload: Payload::Call { to, input },
    };
    let block = vec![tx; 100];
    Box::new(move || {
        let receipts = exec.execute_block(&block, 1).expect("executes");
        debug_assert!(receipts.iter().all(|r| r.status.is_ok()), "{receipts:?}");
        black_box(receipts);
    })
}

/// Ward: a transaction whose contract runs the empty contract's code as a
/// child (created, run and destroyed), beside [`ward_call_round_trip`].
pub fn ward_child_cycle(kind: BackendKind) -> Work {
    let exec = executor(Arc::new(MemoryStore::default()), kind);
    let noop = deploy(&exec, NOOP_WAT, b"noop");
    let parent = deploy(&exec, CHILD_CYCLE_WAT, b"parent");
    let hash = exec
        .store()
        .contract(&noop)
        .expect("reads")
        .expect("deployed")
        .code_hash;
    hundred_calls(exec, parent, hash.0.to_vec())
}

/// Raw wasmtime's host state: a plain map, the caller, the input.
struct RawState {
    storage: BTreeMap<Vec<u8>, Vec<u8>>,
    events: Vec<(Vec<u8>, Vec<u8>)>,
    caller: [u8; 32],
    input: Vec<u8>,
}

fn memory(caller: &mut wasmtime::Caller<'_, RawState>) -> wasmtime::Memory {
    caller
        .get_export("memory")
        .and_then(wasmtime::Extern::into_memory)
        .expect("memory")
}

/// The token's host functions over a plain map, on raw wasmtime.
fn raw_token_linker(engine: &wasmtime::Engine) -> wasmtime::Linker<RawState> {
    use wasmtime::Caller;
    let mut linker = wasmtime::Linker::new(engine);
    linker
        .func_wrap(
            "ward",
            "input_read",
            |mut c: Caller<'_, RawState>, dst: i32, off: i32, len: i32| {
                let m = memory(&mut c);
                let (bytes, state) = m.data_and_store_mut(&mut c);
                let (dst, off, len) = (dst as usize, off as usize, len as usize);
                bytes[dst..dst + len].copy_from_slice(&state.input[off..off + len]);
            },
        )
        .expect("defines");
    linker
        .func_wrap("ward", "caller", |mut c: Caller<'_, RawState>, dst: i32| {
            let m = memory(&mut c);
            let (bytes, state) = m.data_and_store_mut(&mut c);
            bytes[dst as usize..dst as usize + 32].copy_from_slice(&state.caller);
        })
        .expect("defines");
    linker
        .func_wrap(
            "ward",
            "storage_read",
            |mut c: Caller<'_, RawState>, key: i32, key_len: i32, dst: i32, cap: i32| -> i64 {
                let m = memory(&mut c);
                let (bytes, state) = m.data_and_store_mut(&mut c);
                let key = &bytes[key as usize..(key + key_len) as usize];
                match state.storage.get(key) {
                    None => -1,
                    Some(v) => {
                        let v = v.clone();
                        let n = v.len().min(cap as usize);
                        bytes[dst as usize..dst as usize + n].copy_from_slice(&v[..n]);
                        v.len() as i64
                    }
                }
            },
        )
        .expect("defines");
    linker
        .func_wrap(
            "ward",
            "storage_write",
            |mut c: Caller<'_, RawState>, key: i32, key_len: i32, val: i32, val_len: i32| {
                let m = memory(&mut c);
                let (bytes, state) = m.data_and_store_mut(&mut c);
                let key = bytes[key as usize..(key + key_len) as usize].to_vec();
                let val = bytes[val as usize..(val + val_len) as usize].to_vec();
                state.storage.insert(key, val);
            },
        )
        .expect("defines");
    linker
        .func_wrap(
            "ward",
            "emit_event",
            |mut c: Caller<'_, RawState>, t: i32, t_len: i32, d: i32, d_len: i32| {
                let m = memory(&mut c);
                let (bytes, state) = m.data_and_store_mut(&mut c);
                let topic = bytes[t as usize..(t + t_len) as usize].to_vec();
                let data = bytes[d as usize..(d + d_len) as usize].to_vec();
                state.events.push((topic, data));
            },
        )
        .expect("defines");
    linker
        .func_wrap(
            "ward",
            "exit",
            |_c: Caller<'_, RawState>, code: i32| -> wasmtime::Result<()> {
                Err(wasmtime::Error::msg(format!("exit {code}")))
            },
        )
        .expect("defines");
    linker
}

/// The raw floor: the same token module, instantiated fresh per transfer
/// on raw wasmtime allocating as `alloc` says, storage in a plain map carried across.
pub fn raw_transfers(alloc: crate::RawAlloc) -> Work {
    let engine = crate::raw_wasmtime_engine(alloc);
    let module = wasmtime::Module::new(&engine, wat::parse_str(TOKEN_WAT).expect("parses"))
        .expect("compiles");
    let pre = raw_token_linker(&engine)
        .instantiate_pre(&module)
        .expect("links");
    let mut storage = BTreeMap::new();
    storage.insert(
        ALICE.0.to_vec(),
        1_000_000_000_000u64.to_le_bytes().to_vec(),
    );
    let mut carried = Some(storage);
    Box::new(move || {
        for _ in 0..BLOCK_TXS {
            let state = RawState {
                storage: carried.take().unwrap_or_default(),
                events: Vec::new(),
                caller: ALICE.0,
                input: transfer_input(),
            };
            let mut store = wasmtime::Store::new(&engine, state);
            let instance = pre.instantiate(&mut store).expect("instantiates");
            let main = instance
                .get_typed_func::<(), ()>(&mut store, "main")
                .expect("main");
            main.call(&mut store, ()).expect("transfers");
            let state = store.into_data();
            black_box(&state.events);
            carried = Some(state.storage);
        }
    })
}

/// The raw floor of a call between contracts: the caller instantiated on
/// pooled raw wasmtime, its `call` import instantiating the callee and
/// calling it on the native stack (no metering, no suspension).
pub fn raw_call_round_trip(alloc: crate::RawAlloc) -> Work {
    use wasmtime::{Caller, Linker, Module, Store};
    let engine = crate::raw_wasmtime_engine(alloc);
    let callee = Module::new(&engine, wat::parse_str(NOOP_WAT).expect("parses")).expect("compiles");
    let callee_pre = Linker::<()>::new(&engine)
        .instantiate_pre(&callee)
        .expect("links");
    let caller_module =
        Module::new(&engine, wat::parse_str(CALLER_WAT).expect("parses")).expect("compiles");
    let mut linker = Linker::<()>::new(&engine);
    linker
        .func_wrap(
            "ward",
            "input_read",
            |_c: Caller<'_, ()>, _d: i32, _o: i32, _l: i32| {},
        )
        .expect("defines");
    let engine_for_call = engine.clone();
    linker
        .func_wrap(
            "ward",
            "call",
            move |_c: Caller<'_, ()>, _a: i32, _i: i32, _l: i32, _g: i64, _f: i32| -> i32 {
                let mut store = Store::new(&engine_for_call, ());
                let instance = callee_pre.instantiate(&mut store).expect("instantiates");
                let main = instance
                    .get_typed_func::<(), ()>(&mut store, "main")
                    .expect("main");
                main.call(&mut store, ()).expect("runs");
                0
            },
        )
        .expect("defines");
    let pre = linker.instantiate_pre(&caller_module).expect("links");
    Box::new(move || {
        for _ in 0..100 {
            let mut store = Store::new(&engine, ());
            let instance = pre.instantiate(&mut store).expect("instantiates");
            let main = instance
                .get_typed_func::<(), ()>(&mut store, "main")
                .expect("main");
            main.call(&mut store, ()).expect("runs");
        }
    })
}
