//! Tier-up: a module's first calls on wasmi while wasmtime compiles it,
//! later ones on wasmtime. A switch in the middle of a block changes no
//! receipt and no state root; the disk cache gets the compiled artifact
//! once the background compile is done.

#![allow(clippy::unwrap_used, reason = "test")]

use std::{
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
        mpsc,
    },
    time::Duration,
};

use ed25519_dalek::SigningKey;
use ward_chain::tx::{ChainRules, Deploy, Payload, TxBody, VerifiedTx};
use ward_devkeys as devkeys;
use ward_executor::{Block, Executor};
use ward_primitives::Address;
use ward_sdk::codec::{call_input, encode};
use ward_state::MemoryStore;
use ward_testkit::contracts;
use ward_vm::{BackendKind, CacheOptions, CallContext, Config, ModuleCache, TieredBackend};

const CHAIN: &str = "ward-tier";

fn signed(key: &SigningKey, nonce: u64, gas_limit: u64, payload: Payload) -> VerifiedTx {
    let tx = TxBody::new(CHAIN, &key.verifying_key(), nonce, gas_limit, payload).sign(key);
    VerifiedTx::from_bytes(&tx.to_bytes(), &ChainRules::new(CHAIN)).unwrap()
}

/// Wasmi, then wasmtime, each built with `tier_up` as a node's are
/// (wasmtime compiling on one thread).
fn tiered(config: &Config, hold_until: u64) -> Arc<TieredBackend> {
    Arc::new(
        ward_backends::tiered(config)
            .unwrap()
            .hold_until(hold_until),
    )
}

/// The same two blocks (the token deployed; then transfers, approvals, a
/// transfer that reverts and one that runs out of gas) on `exec`.
fn two_blocks(exec: &Executor<MemoryStore>) -> Vec<Block> {
    let owner = devkeys::key(0);
    let deploy = signed(
        &owner,
        0,
        200_000_000,
        Payload::Deploy(Deploy::new(
            contracts::wasm("token"),
            encode(&1_000_000u128),
        )),
    );
    let first = exec.execute_signed_block(&[deploy], 10).unwrap();
    let token = first.receipts[0].address.unwrap();
    let call = |method: &str, args: &(Address, u128)| Payload::Call {
        to: token,
        input: call_input(method, args),
    };
    let mut txs = Vec::new();
    for n in 1..=30u64 {
        let to = devkeys::address(1 + n as u32 % 5);
        let payload = match n % 6 {
            0 => call("approve", &(to, u128::from(n))),
            // More than the owner holds: reverts.
            5 => call("transfer", &(to, u128::MAX)),
            _ => call("transfer", &(to, u128::from(n))),
        };
        // Every seventh runs out of gas in the contract (its limit covers
        // the intrinsic cost and the instance, not the transfer).
        let gas = if n % 7 == 0 { 20_000 } else { 2_000_000 };
        txs.push(signed(&owner, n, gas, payload));
    }
    let second = exec.execute_signed_block(&txs, 20).unwrap();
    vec![first, second]
}

#[test]
fn a_switch_in_the_middle_of_a_block_changes_no_receipt() {
    let config = Config::default();
    let plain: Vec<Vec<Block>> = BackendKind::ALL
        .into_iter()
        .map(|kind| {
            let backend = ward_testkit::backend(kind, &config);
            two_blocks(&Executor::new(
                Arc::new(MemoryStore::default()),
                backend,
                &config,
            ))
        })
        .collect();
    // The deploy's call and 10 of the second block's 30 run on wasmi, the
    // other 20 on wasmtime.
    let backend = tiered(&config, 11);
    let exec = Executor::new(Arc::new(MemoryStore::default()), backend.clone(), &config);
    let blocks = two_blocks(&exec);
    let stats = backend.stats();
    assert_eq!((stats.quick, stats.fast), (11, 20), "{stats:?}");
    assert_eq!(stats.compiled, 1);
    for other in &plain {
        for (tiered, plain) in blocks.iter().zip(other) {
            assert_eq!(tiered.receipts, plain.receipts);
            assert_eq!(tiered.record.header, plain.record.header);
        }
    }
    let statuses: Vec<&str> = blocks[1]
        .receipts
        .iter()
        .map(|r| r.status.as_str())
        .collect();
    for status in ["ok", "reverted", "out_of_gas"] {
        assert!(statuses.contains(&status), "{statuses:?}");
    }
}

#[test]
fn without_a_hold_later_calls_reach_wasmtime() {
    let config = Config::default();
    let backend = tiered(&config, 0);
    let exec = Executor::new(Arc::new(MemoryStore::default()), backend.clone(), &config);
    two_blocks(&exec);
    // The worker finishes the compile in its own time; every sandbox
    // after that is on wasmtime.
    for _ in 0..600 {
        if backend.stats().compiled == 1 {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(backend.stats().compiled, 1);
    let before = backend.stats();
    let owner = devkeys::key(0);
    let deploy = signed(
        &owner,
        31,
        200_000_000,
        Payload::Deploy(Deploy::new(contracts::wasm("token"), encode(&5u128)).with_salt(vec![1])),
    );
    let block = exec.execute_signed_block(&[deploy], 30).unwrap();
    assert_eq!(block.receipts[0].status.as_str(), "ok");
    let after = backend.stats();
    assert_eq!(after.quick, before.quick);
    assert_eq!(after.fast, before.fast + 1);
}

#[test]
fn the_disk_cache_gets_the_compiled_artifact_once_it_is_made() {
    let config = Config::default();
    let dir = std::env::temp_dir().join(format!("ward-tier-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let options = || CacheOptions {
        disk_dir: Some(dir.clone()),
        ..CacheOptions::default()
    };
    let wasm = contracts::wasm("token");
    // Held: the first compile returns at once, on wasmi.
    let backend = tiered(&config, 1);
    let cache = ModuleCache::new(backend.clone(), &config, options()).unwrap();
    cache.get_or_compile(&wasm).unwrap();
    // The worker counts the compile, then publishes it, and only then is
    // the artifact written (atomically, by a rename): wait for the file,
    // which is what this test is about, not for the count.
    let stored = || {
        std::fs::read_dir(&dir).is_ok_and(|entries| {
            entries
                .flatten()
                .any(|e| e.path().extension().is_some_and(|x| x == "wmod"))
        })
    };
    for _ in 0..1200 {
        if stored() {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(stored(), "no artifact written in 120 s");
    assert_eq!(backend.stats().compiled, 1);
    // A plain wasmtime node finds the artifact and compiles nothing.
    let plain = ward_testkit::backend(BackendKind::Wasmtime, &config);
    let again = ModuleCache::new(plain, &config, options()).unwrap();
    again.get_or_compile(&wasm).unwrap();
    let stats = again.stats();
    assert_eq!((stats.disk_hits, stats.compiles), (1, 0), "{stats:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// A system runtime's first instance is built on the quick tier, so a
/// fresh node's first call of a large runtime (the EVM's) does not wait
/// for the fast tier's compile; once that compile is done, the pooled
/// quick instance is dropped and the next call builds one on the fast
/// tier. Outcome and gas are wasmtime's on both. Before, the first call
/// waited for the compile, which on a loaded machine outlasted a
/// request's timeout.
#[test]
fn a_system_runtime_starts_on_the_quick_tier_and_moves_up() {
    use crate::{
        contracts::sum_program,
        runtimes::{args, call, deploy, stackvm, stackvm_executor},
    };
    let config = Config::default();
    let run = |exec: &Executor<MemoryStore>, tx| exec.execute_block(&[tx], 1).unwrap().remove(0);
    let outcome = |r: &ward_state::Receipt| (r.status, r.output.clone(), r.gas_used);
    let plain = stackvm_executor(ward_testkit::backend(BackendKind::Wasmtime, &config));
    let sum = run(&plain, deploy(sum_program(), "sum", stackvm()));
    let sum = sum.address.unwrap();
    let expected = run(&plain, call(sum, args(&[100]), 1_000_000));
    assert_eq!(expected.status.as_str(), "ok", "{expected:?}");
    let expected = outcome(&expected);

    // Held: the first sandbox handed out is on the quick tier.
    let backend = tiered(&config, 1);
    let exec = stackvm_executor(backend.clone());
    let builds = || exec.runtimes().system().instance_builds();
    assert_eq!(
        run(&exec, deploy(sum_program(), "sum", stackvm())).address,
        Some(sum)
    );
    let first = run(&exec, call(sum, args(&[100]), 1_000_000));
    assert_eq!(outcome(&first), expected);
    assert_eq!(builds(), 1);
    assert_eq!((backend.stats().quick, backend.stats().fast), (1, 0));
    for _ in 0..1200 {
        if backend.stats().compiled == 1 {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(backend.stats().compiled, 1, "no compile in 120 s");
    let second = run(&exec, call(sum, args(&[100]), 1_000_000));
    assert_eq!(outcome(&second), expected);
    assert_eq!(builds(), 2, "the quick instance was superseded");
    assert_eq!((backend.stats().quick, backend.stats().fast), (1, 1));
    let third = run(&exec, call(sum, args(&[100]), 1_000_000));
    assert_eq!(outcome(&third), expected);
    assert_eq!(builds(), 2, "the fast instance is kept");
}

/// Wasmtime, whose compiles on tier-up's worker thread wait until the
/// test lets them go (at most two minutes): a worker that does not
/// finish while the test runs.
struct StalledWorker {
    inner: Arc<dyn ward_vm::Backend>,
    release: Mutex<mpsc::Receiver<()>>,
    /// Whether a worker's compile got past the stall.
    worker_went_on: AtomicBool,
}

impl ward_vm::Backend for StalledWorker {
    fn kind(&self) -> BackendKind {
        self.inner.kind()
    }

    fn compile(&self, wasm: &[u8]) -> Result<ward_vm::EngineModule, ward_vm::Failure> {
        if std::thread::current().name() == Some("ward-tier-up") {
            let _ = self
                .release
                .lock()
                .unwrap()
                .recv_timeout(Duration::from_secs(120));
            self.worker_went_on.store(true, Ordering::SeqCst);
        }
        self.inner.compile(wasm)
    }

    fn fingerprint(&self) -> String {
        self.inner.fingerprint()
    }

    fn sandbox(&self, context: CallContext) -> Box<dyn ward_vm::Sandbox> {
        self.inner.sandbox(context)
    }

    fn sibling(&self, config: &Config) -> Result<Arc<dyn ward_vm::Backend>, ward_vm::Failure> {
        self.inner.sibling(config)
    }
}

/// Nobody waits for the worker (whose queue may hold other modules
/// first): a sandbox on the fast tier instantiating a module still
/// compiling, and a test's switch point, compile it on their own thread. Here the
/// worker is stalled until the end, and both get the module on wasmtime
/// with the worker still stalled; the compile is counted once.
#[test]
fn a_thread_that_needs_the_compiled_code_makes_it_rather_than_wait() {
    let config = Config {
        tier_up: true,
        ..Config::default()
    };
    let wasmtime = ward_testkit::backend(BackendKind::Wasmtime, &config);
    let wasmi = ward_testkit::backend(BackendKind::Wasmi, &config);
    for hold in [0u64, 2] {
        let (release, stalled) = mpsc::channel();
        let fast = Arc::new(StalledWorker {
            inner: wasmtime.clone(),
            release: Mutex::new(stalled),
            worker_went_on: AtomicBool::new(false),
        });
        let backend = TieredBackend::new(wasmi.clone(), fast.clone()).hold_until(hold);
        let module = ward_vm::compile(&backend, &config, &contracts::wasm("counter")).unwrap();
        if hold == 0 {
            // Any module's sandbox is on the fast tier: instantiating one
            // still compiling needs its code now.
            let mut sandbox = ward_vm::Backend::sandbox(&backend, CallContext::default());
            sandbox.instantiate(&module, &[]).unwrap();
        } else {
            // The switch point: the sandboxes past the hold are fast.
            for _ in 0..=hold {
                drop(ward_vm::Backend::sandbox_for(
                    &backend,
                    &module,
                    CallContext::default(),
                ));
            }
        }
        let stats = backend.stats();
        assert!(
            !fast.worker_went_on.load(Ordering::SeqCst),
            "hold {hold}: the thread waited for the worker"
        );
        assert_eq!(stats.compiled, 1, "hold {hold}: {stats:?}");
        assert!(stats.fast >= 1, "hold {hold}: {stats:?}");
        drop(release);
    }
}
