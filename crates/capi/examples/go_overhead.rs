//! What a token transfer costs through the Go package against the same
//! transfer through Ward's Rust API, measured in one run (`make
//! bench-go`, release builds): the Rust API with a `Chain` (the baseline),
//! the Rust API with its storage served as requests (what the C API does
//! underneath), and Go's `Engine.Call` and `ContractVM.Call` (cgo, and
//! for the VM also JSON arguments and a journal), the latter also under a
//! cancellable context per call (a cancel flag and a watching goroutine). Each figure is the
//! median of five rounds; the ratios are against the baseline.

#![allow(clippy::unwrap_used, reason = "a benchmark's driver")]

use std::{
    collections::BTreeMap,
    path::Path,
    process::Command,
    sync::{Arc, Mutex},
    time::Instant,
};

use ward_sdk::codec::{call_input, encode};
use ward_vm::{
    BackendKind, CallContext, Chain, ChainError, Config, Entry, Gas, ModuleCache, Progress, Reply,
    Request, RunOptions,
};

/// Transfers per round.
const TRANSFERS: u32 = 2_000;
const ROUNDS: usize = 5;

#[derive(Clone, Default)]
struct MapChain(Arc<Mutex<BTreeMap<Vec<u8>, Vec<u8>>>>);

impl Chain for MapChain {
    fn storage_read(&mut self, key: &[u8]) -> Result<Option<Vec<u8>>, ChainError> {
        Ok(self.0.lock().unwrap().get(key).cloned())
    }
    fn storage_write(&mut self, key: &[u8], value: Option<&[u8]>) -> Result<(), ChainError> {
        let mut map = self.0.lock().unwrap();
        match value {
            Some(v) => map.insert(key.to_vec(), v.to_vec()),
            None => map.remove(key),
        };
        Ok(())
    }
    fn emit_event(&mut self, _: &[u8], _: &[u8]) -> Result<(), ChainError> {
        Ok(())
    }
    fn caller(&self) -> [u8; 32] {
        [0xa1; 32]
    }
    fn self_address(&self) -> [u8; 32] {
        [0x70; 32]
    }
    fn block_height(&self) -> u64 {
        1
    }
    fn block_time(&self) -> u64 {
        1
    }
}

/// Nanoseconds per transfer: the median of `ROUNDS` rounds of `run`.
#[allow(
    clippy::disallowed_methods,
    reason = "a benchmark measures time; nothing here is consensus"
)]
fn median(mut run: impl FnMut()) -> f64 {
    let mut rounds: Vec<f64> = (0..ROUNDS)
        .map(|_| {
            let started = Instant::now();
            for _ in 0..TRANSFERS {
                run();
            }
            started.elapsed().as_nanos() as f64 / f64::from(TRANSFERS)
        })
        .collect();
    rounds.sort_by(f64::total_cmp);
    rounds[ROUNDS / 2]
}

/// The Rust API: a transfer with a `Chain` (`requests`: false), or with
/// its storage and events served as requests from the same map.
fn rust(kind: BackendKind, requests: bool) -> f64 {
    let config = Config {
        chain_requests: requests,
        ..Config::default()
    };
    let cache = ModuleCache::new(
        ward_backends::new(kind, &config).unwrap(),
        &config,
        Default::default(),
    )
    .unwrap();
    let module = cache
        .get_or_compile(&ward_testkit::contracts::wasm("token"))
        .unwrap();
    let chain = MapChain::default();
    let run = |entry: &str, input: Vec<u8>| {
        let context = CallContext::default().with_chain(Box::new(chain.clone()));
        let context = if requests {
            context.with_chain_requests()
        } else {
            context
        };
        let options = RunOptions {
            input,
            gas_limit: Gas::new(10_000_000),
            ..RunOptions::default()
        };
        let mut progress = ward_vm::begin(
            &**cache.backend(),
            &module,
            &Entry::Main(entry.into()),
            options,
            context,
        );
        loop {
            progress = match progress {
                Progress::Finished(execution) => {
                    assert_eq!(execution.outcome.status.as_str(), "ok");
                    return;
                }
                Progress::Aborted(fault) => panic!("{fault}"),
                Progress::Suspended(running, request) => {
                    let mut map = chain.0.lock().unwrap();
                    let reply = match request {
                        Request::StorageRead { key } => Reply::Storage(map.get(&key).cloned()),
                        Request::StorageWrite { key, value } => {
                            match value {
                                Some(value) => map.insert(key, value),
                                None => map.remove(&key),
                            };
                            Reply::Done
                        }
                        _ => Reply::Done,
                    };
                    drop(map);
                    running.resume(reply)
                }
            };
        }
    };
    run("deploy", encode(&1_000_000_000u128));
    let transfer = call_input("transfer", &([0xb0u8; 32], 1u128));
    median(|| run("main", transfer.clone()))
}

/// Go's benchmark `name` (ns/op, the median of its `ROUNDS` counts), run
/// against the release library in `library`.
fn go(name: &str, kind: BackendKind, dir: &Path, library: &Path, token: &Path) -> f64 {
    let out = Command::new("go")
        .args(["test", "-tags", "ward_release", "-run", "^$"])
        .arg(format!("-bench=^{name}$"))
        .arg(format!("-benchtime={TRANSFERS}x"))
        .arg(format!("-count={ROUNDS}"))
        .current_dir(dir)
        .env("CGO_LDFLAGS", format!("-L{}", library.display()))
        .env("WARD_TOKEN_WASM", token)
        .env("WARD_BENCH_BACKEND", kind.as_str())
        .output()
        .expect("go runs (Debian's golang-go)");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut figures: Vec<f64> = stdout
        .lines()
        .filter(|line| line.starts_with(name))
        .filter_map(|line| {
            let mut words = line.split_whitespace();
            words.find(|w| w.parse::<f64>().is_ok() && line.contains(" ns/op"))?;
            words.next()?.parse().ok()
        })
        .collect();
    assert_eq!(figures.len(), ROUNDS, "{stdout}");
    figures.sort_by(f64::total_cmp);
    figures[ROUNDS / 2]
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    // The release static library, as cargo built it for this example
    // (every crate type of ward-capi, in target/release/deps): a separate
    // `cargo build -p ward-capi` would resolve other features and compile
    // wasmtime again.
    let exe = std::env::current_exe().unwrap();
    let library = exe.parent().unwrap().parent().unwrap().join("deps");
    assert!(
        library.join("libward_capi.a").is_file(),
        "no libward_capi.a in {}",
        library.display()
    );
    let token = std::env::temp_dir().join(format!("ward-go-overhead-{}.wasm", std::process::id()));
    std::fs::write(&token, ward_testkit::contracts::wasm("token")).unwrap();
    let dir = root.join("bindings/go");
    println!("token transfer, ns per transfer (median of {ROUNDS} rounds of {TRANSFERS}):");
    println!(
        "backend  | Rust, Chain | Rust, requests | Go Engine.Call | Go ContractVM.Call | the same, cancellable ctx"
    );
    for kind in [BackendKind::Wasmtime, BackendKind::Wasmi] {
        let base = rust(kind, false);
        let requested = rust(kind, true);
        let engine = go("BenchmarkEngineTransfer", kind, &dir, &library, &token);
        let vm = go("BenchmarkTransfer", kind, &dir, &library, &token);
        let cancellable = go("BenchmarkTransferCancellable", kind, &dir, &library, &token);
        println!(
            "{:8} | {base:>11.0} | {requested:>8.0} {:>5.2}x | {engine:>8.0} {:>5.2}x | {vm:>10.0} {:>5.2}x | {cancellable:>10.0} {:>5.2}x",
            kind.as_str(),
            requested / base,
            engine / base,
            vm / base,
            cancellable / base,
        );
    }
    let _ = std::fs::remove_file(token);
}
