//! The suite `ward-bench` runs: each Ward figure beside the same work on
//! the raw engine, measured in the same run, as a ratio.

use std::{
    hint::black_box,
    sync::{Arc, OnceLock},
    time::{Duration, Instant},
};

use ward_vm::{
    Backend, BackendKind, CacheOptions, CallContext, Config, Entry, Metering, ModuleCache, Reply,
    RunOptions, Status, SystemRuntimes,
};

use crate::{HOST_CALLS, TRIVIAL_WAT, Work, host_call_wat, scratch::Scratch, ward_backend};

mod chain;
mod raw;

#[cfg(feature = "etcd")]
use chain::cluster_plans;
#[cfg(feature = "revm")]
use chain::{erc20_plans, evm_plans};
use chain::{node_plans, parallel_plans, sdk_token_plans};
use raw::{
    raw_chain_floors, raw_cold, raw_cold_eager, raw_compile, raw_deserialize, raw_plans,
    raw_reused_call,
};

/// One line of the report.
#[derive(Clone, Debug, PartialEq)]
pub struct BenchResult {
    /// The workload.
    pub name: String,
    /// `wasmtime` or `wasmi`.
    pub backend: BackendKind,
    /// `us` or `ms`.
    pub unit: &'static str,
    /// Ward's figure.
    pub ward: f64,
    /// The raw engine's figure for the same work (its fastest
    /// configuration, where there are several).
    pub baseline: f64,
    /// What the baseline is.
    pub baseline_label: String,
}

impl BenchResult {
    /// Ward / baseline.
    pub fn ratio(&self) -> f64 {
        if self.baseline > 0.0 {
            self.ward / self.baseline
        } else {
            f64::NAN
        }
    }
}

/// How long to measure each figure.
#[derive(Clone, Copy, Debug)]
pub struct Budget {
    /// Time spent measuring one figure (after warming up).
    pub per_figure: Duration,
}

impl Default for Budget {
    fn default() -> Self {
        Budget {
            per_figure: Duration::from_millis(700),
        }
    }
}

/// Times `work` over `budget` in rounds, alternating with the other
/// sides being measured so that every side sees the same machine (drift,
/// other load): for each work, the median over rounds of the mean time of
/// one run, in seconds. Each round of each side lasts about `budget / 20`.
#[allow(clippy::disallowed_methods, reason = "a benchmark measures wall time")]
pub fn measure_interleaved(works: &mut [Work], budget: Duration) -> Vec<f64> {
    let round_target = (budget / 20).max(Duration::from_micros(200));
    // Warm up and calibrate each side.
    let per_round: Vec<u64> = works
        .iter_mut()
        .map(|work| {
            let start = Instant::now();
            work();
            let one = start.elapsed().max(Duration::from_nanos(20));
            let warm_until = Instant::now() + round_target * 2;
            while Instant::now() < warm_until {
                work();
            }
            ((round_target.as_secs_f64() / one.as_secs_f64()) as u64).clamp(1, 1 << 22)
        })
        .collect();
    let mut rounds: Vec<Vec<f64>> = vec![Vec::new(); works.len()];
    let end = Instant::now() + budget * works.len() as u32;
    while rounds[0].len() < 5 || (Instant::now() < end && rounds[0].len() < 400) {
        for (i, work) in works.iter_mut().enumerate() {
            let t = Instant::now();
            for _ in 0..per_round[i] {
                work();
            }
            rounds[i].push(t.elapsed().as_secs_f64() / per_round[i] as f64);
        }
    }
    rounds
        .into_iter()
        .map(|mut r| {
            r.sort_by(f64::total_cmp);
            r[r.len() / 2]
        })
        .collect()
}

/// A planned figure: a name, a unit, Ward's work and the raw floors.
pub struct Plan {
    /// The workload's name.
    pub name: String,
    /// The backend.
    pub backend: BackendKind,
    /// `us` or `ms`.
    pub unit: &'static str,
    /// How many items (transactions, calls) one run does: figures are per
    /// item.
    pub items: u32,
    sides: Sides,
}

impl Plan {
    /// A timed figure in `unit` per item of `items`: Ward's work beside
    /// its baselines, each built when the figure runs.
    fn timed(
        name: impl Into<String>,
        backend: BackendKind,
        (unit, items): (&'static str, u32),
        ward: impl FnOnce() -> Work + 'static,
        baselines: Vec<(String, Box<dyn FnOnce() -> Work>)>,
    ) -> Self {
        Plan {
            name: name.into(),
            backend,
            unit,
            items,
            sides: Sides::Timed {
                ward: Box::new(ward),
                baselines,
            },
        }
    }

    /// A figure counted once, not timed (one item of `unit`): `count`
    /// gives Ward's figure, the baseline's, and the baseline's label.
    fn counted(
        name: impl Into<String>,
        backend: BackendKind,
        unit: &'static str,
        count: impl FnOnce() -> (f64, f64, String) + 'static,
    ) -> Self {
        Plan {
            name: name.into(),
            backend,
            unit,
            items: 1,
            sides: Sides::Counted(Box::new(count)),
        }
    }
}

/// Builds a timed figure's sides.
fn build(
    ward: Box<dyn FnOnce() -> Work>,
    baselines: Vec<(String, Box<dyn FnOnce() -> Work>)>,
) -> (Work, Vec<(String, Work)>) {
    let baselines = baselines
        .into_iter()
        .map(|(label, make)| (label, make()))
        .collect();
    (ward(), baselines)
}

/// How a figure is obtained.
enum Sides {
    /// Timed: Ward's work and the raw engine's configurations, built lazily.
    Timed {
        ward: Box<dyn FnOnce() -> Work>,
        baselines: Vec<(String, Box<dyn FnOnce() -> Work>)>,
    },
    /// Counted once, not timed (gas): (ward, baseline, baseline label).
    Counted(Box<dyn FnOnce() -> (f64, f64, String)>),
}

impl Plan {
    /// Builds both sides without measuring them (for criterion); `None`
    /// for a counted figure, which has nothing to time.
    pub fn into_works(self) -> Option<(Work, Vec<(String, Work)>)> {
        match self.sides {
            Sides::Timed { ward, baselines } => Some(build(ward, baselines)),
            Sides::Counted(_) => None,
        }
    }

    /// Builds and measures both sides, interleaved (or counts a counted
    /// figure).
    pub fn run(self, budget: Budget) -> BenchResult {
        let scale = if self.unit == "ms" { 1e3 } else { 1e6 } / f64::from(self.items.max(1));
        let (name, backend, unit) = (self.name, self.backend, self.unit);
        let (ward, baselines) = match self.sides {
            Sides::Counted(count) => {
                let (ward, baseline, baseline_label) = count();
                return BenchResult {
                    name,
                    backend,
                    unit,
                    ward,
                    baseline,
                    baseline_label,
                };
            }
            Sides::Timed { ward, baselines } => build(ward, baselines),
        };
        let labels: Vec<String> = baselines.iter().map(|(l, _)| l.clone()).collect();
        let mut works: Vec<Work> = Vec::with_capacity(1 + baselines.len());
        works.push(ward);
        works.extend(baselines.into_iter().map(|(_, w)| w));
        let times = measure_interleaved(&mut works, budget.per_figure);
        let (baseline, baseline_label) = times[1..]
            .iter()
            .zip(labels)
            .min_by(|a, b| a.0.total_cmp(b.0))
            .map_or((f64::NAN, String::new()), |(t, l)| (*t * scale, l));
        BenchResult {
            name,
            backend,
            unit,
            ward: times[0] * scale,
            baseline,
            baseline_label,
        }
    }
}

fn no_service() -> impl FnMut(ward_vm::Request) -> Reply {
    |_| Reply::Trap("no host services".into())
}

/// `main`, built once: an embedder names its entry points once, not per call.
fn main_entry() -> &'static Entry {
    static MAIN: std::sync::LazyLock<Entry> =
        std::sync::LazyLock::new(|| Entry::Main("main".into()));
    &MAIN
}

/// Runs `main` of `module` in a fresh sandbox and checks it succeeded.
fn execute_ok(backend: &dyn Backend, module: &ward_vm::Module, input: &[u8]) {
    let options = RunOptions {
        input: input.to_vec(),
        ..RunOptions::default()
    };
    let run = ward_vm::execute(
        backend,
        module,
        main_entry(),
        options,
        CallContext::default(),
        &mut no_service(),
    )
    .expect("no node fault without a chain");
    assert_eq!(run.outcome.status, Status::Ok, "{:?}", run.outcome);
    black_box(run);
}

/// Ward's warm call: the module found in the cache by code hash, a fresh
/// instance, `main`, drop.
fn ward_cached_call(backend: Arc<dyn Backend>, config: &Config, wat: &str) -> Work {
    let wasm = wat::parse_str(wat).expect("parses");
    let cache =
        ModuleCache::new(backend.clone(), config, CacheOptions::default()).expect("memory cache");
    let (code, _) = cache.compile_with_id(&wasm, None).expect("compiles");
    Box::new(move || {
        let module = cache.lookup(&code).expect("cached").expect("compiled");
        execute_ok(&*backend, &module, b"abc");
    })
}

/// A module whose bytes differ per `n` (so no cache has seen it): a
/// trivial contract whose `main` drops a constant.
pub fn unique_module(n: u32) -> Vec<u8> {
    wat::parse_str(format!(
        r#"(module (memory (export "memory") 1) (func (export "main") (drop (i32.const {n}))))"#
    ))
    .expect("parses")
}

/// A module of about `target` bytes: many functions of straight-line
/// arithmetic, the shape of a large contract.
pub fn large_module(target: usize) -> Vec<u8> {
    let mut text = String::from("(module (memory (export \"memory\") 1)\n");
    let mut funcs = 0;
    // Each function encodes to roughly 280 bytes.
    while funcs * 280 < target {
        text.push_str(&format!(
            "(func $f{funcs} (param i64) (result i64) (local.get 0)"
        ));
        for k in 0..40 {
            text.push_str(&format!(
                " (i64.const {}) (i64.add) (i64.const {}) (i64.xor)",
                funcs * 7 + k,
                k * 13 + 1
            ));
        }
        text.push_str(")\n");
        funcs += 1;
    }
    text.push_str("(func (export \"main\") (drop (call $f0 (i64.const 1)))))");
    wat::parse_str(&text).expect("large module parses")
}

/// Builds Ward's side of a figure for a backend.
type MakeWork = fn(BackendKind) -> Work;

/// The ~1 MB module, built once when first needed.
pub(super) type Lazy = Arc<OnceLock<Vec<u8>>>;

pub(super) fn large_bytes(lazy: &OnceLock<Vec<u8>>) -> &[u8] {
    lazy.get_or_init(|| large_module(1 << 20))
}

/// Every figure of the suite, planned (nothing is measured until
/// [`Plan::run`]).
pub fn plans(config: &Config) -> Vec<Plan> {
    let mut plans = Vec::new();
    // Built on first use: most runs filter to a few figures.
    let large: Lazy = Arc::new(OnceLock::new());
    for kind in BackendKind::ALL {
        let backend = ward_backend(kind, config);
        // Warm call: with Ward's recycled instances, then (`_new`) every
        // call instantiating anew. The second backend is only built when
        // its figure is measured.
        for (name, recycle_bytes) in [("warm_call", config.recycle_bytes), ("warm_call_new", 0)] {
            let shared = (recycle_bytes == config.recycle_bytes).then(|| backend.clone());
            let config = Config {
                recycle_bytes,
                ..config.clone()
            };
            plans.push(Plan::timed(
                name,
                kind,
                ("us", 1),
                move || {
                    let backend = shared.unwrap_or_else(|| ward_backend(kind, &config));
                    ward_cached_call(backend, &config, TRIVIAL_WAT)
                },
                raw_plans(kind, TRIVIAL_WAT),
            ));
        }
        // Host calls.
        {
            let (backend, config) = (backend.clone(), config.clone());
            let wat = host_call_wat();
            plans.push(Plan::timed(
                format!("host_call_x{HOST_CALLS}"),
                kind,
                ("us", 1),
                move || ward_cached_call(backend, &config, &host_call_wat()),
                raw_plans(kind, &wat),
            ));
        }
        // Cold first call of a module never seen.
        {
            let (backend, config) = (backend.clone(), config.clone());
            plans.push(Plan::timed(
                "cold_call",
                kind,
                ("us", 1),
                move || {
                    let cache = ModuleCache::new(backend.clone(), &config, CacheOptions::default())
                        .expect("cache");
                    let mut n = 0u32;
                    Box::new(move || {
                        n += 1;
                        let module = cache.get_or_compile(&unique_module(n)).expect("compiles");
                        execute_ok(&*backend, &module, b"");
                    })
                },
                vec![("compile+instantiate".into(), raw_cold(kind))],
            ));
        }
        // Compiling a ~1 MB module.
        {
            let (backend, config, bytes) = (backend.clone(), config.clone(), large.clone());
            let raw_bytes = large.clone();
            plans.push(Plan::timed(
                "compile_1mb",
                kind,
                ("ms", 1),
                move || {
                    Box::new(move || {
                        black_box(
                            ward_vm::compile(&*backend, &config, large_bytes(&bytes))
                                .expect("compiles"),
                        );
                    })
                },
                vec![("compile".into(), raw_compile(kind, raw_bytes))],
            ));
        }
        // The instrumentation pass alone on the ~1 MB module (validation,
        // limits, metering, NaN canonicalisation), beside wasmi's own
        // compile of the raw module (its default: every function validated,
        // translated on first call). Engine-independent: one row.
        if kind == BackendKind::Wasmi {
            let (policy, bytes) = (config.effective_policy().into_owned(), large.clone());
            let lazy_bytes = large.clone();
            plans.push(Plan::timed(
                "instrument_1mb",
                kind,
                ("ms", 1),
                move || {
                    Box::new(move || {
                        black_box(
                            ward_instrument::prepare(large_bytes(&bytes), &policy)
                                .expect("instruments"),
                        );
                    })
                },
                vec![("wasmi compile (lazy)".into(), raw_compile(kind, lazy_bytes))],
            ));
        }
        // The first call of the ~1 MB module, never compiled before:
        // instrumented, then on wasmtime with tier-up (run on wasmi while
        // wasmtime compiles it on a worker thread), or on wasmi. Baseline:
        // raw wasmi translating it eagerly (Ward validates every function)
        // and calling it.
        {
            let (config, bytes) = (config.clone(), large.clone());
            let raw_bytes = large.clone();
            plans.push(Plan::timed(
                "cold_call_1mb",
                kind,
                ("ms", 1),
                move || {
                    let config = Config {
                        tier_up: true,
                        ..config
                    };
                    // One backend for every call: its worker compiles
                    // one module at a time, as a node's would.
                    let backend = ward_backend(kind, &config);
                    Box::new(move || {
                        let module = ward_vm::compile(&*backend, &config, large_bytes(&bytes))
                            .expect("compiles");
                        execute_ok(&*backend, &module, b"");
                    })
                },
                vec![("wasmi eager compile+call".into(), raw_cold_eager(raw_bytes))],
            ));
        }
        // Loading the ~1 MB module from the disk cache (wasmtime: wasmi
        // keeps no artifacts).
        if kind == BackendKind::Wasmtime {
            let (backend, config, bytes) = (backend.clone(), config.clone(), large.clone());
            let (raw_bytes, config_for_raw) = (large.clone(), config.clone());
            plans.push(Plan::timed(
                "disk_load_1mb",
                kind,
                ("ms", 1),
                move || {
                    let dir = Scratch::new("disk");
                    let options = CacheOptions {
                        disk_dir: Some(dir.path().to_path_buf()),
                        ..CacheOptions::default()
                    };
                    let cache = ModuleCache::new(backend, &config, options).expect("cache");
                    cache.get_or_compile(large_bytes(&bytes)).expect("compiles");
                    Box::new(move || {
                        let _ = &dir;
                        cache.clear_memory();
                        black_box(cache.get_or_compile(large_bytes(&bytes)).expect("loads"));
                    })
                },
                vec![(
                    "deserialize".into(),
                    raw_deserialize(config_for_raw, raw_bytes),
                )],
            ));
        }
        // A call into a system runtime's reused instance.
        {
            let (backend, config) = (backend.clone(), config.clone());
            plans.push(Plan::timed(
                "system_call",
                kind,
                ("us", 1),
                move || {
                    let runtimes = SystemRuntimes::new(backend, &config);
                    let code = runtimes
                        .register(
                            &wat::parse_str(TRIVIAL_WAT).expect("parses"),
                            Metering::Instrumented,
                        )
                        .expect("registers");
                    let mut service = no_service();
                    Box::new(move || {
                        let run = runtimes
                            .call(
                                &code,
                                main_entry(),
                                RunOptions::default(),
                                CallContext::default(),
                                &mut service,
                            )
                            .expect("no node fault without a chain");
                        assert_eq!(run.outcome.status, Status::Ok);
                        black_box(run);
                    })
                },
                vec![("reused instance".into(), raw_reused_call(kind))],
            ));
        }
    }
    // Contracts with state, wasmtime and wasmi alike, each beside the same
    // contract on raw wasmtime with a plain map (the floor).
    for kind in BackendKind::ALL {
        let transfers: [(&str, MakeWork); 2] = [
            ("transfer_mem", crate::chain::ward_transfers_memory),
            ("transfer_redb", crate::chain::ward_transfers_redb),
        ];
        for (name, ward) in transfers {
            plans.push(Plan::timed(
                name,
                kind,
                ("us", crate::chain::BLOCK_TXS as u32),
                move || ward(kind),
                raw_chain_floors(crate::chain::raw_transfers),
            ));
        }
        plans.push(Plan::timed(
            "contract_call",
            kind,
            ("us", 100),
            move || crate::chain::ward_call_round_trip(kind),
            raw_chain_floors(crate::chain::raw_call_round_trip),
        ));
        // A child's whole life (compile from the cache, instantiate, run,
        // destroy) beside a call to another contract, both through Ward.
        plans.push(Plan::timed(
            "child_cycle",
            kind,
            ("us", 100),
            move || crate::chain::ward_child_cycle(kind),
            vec![(
                "Ward contract_call".into(),
                Box::new(move || crate::chain::ward_call_round_trip(kind)),
            )],
        ));
    }
    sdk_token_plans(&mut plans);
    parallel_plans(&mut plans);
    #[cfg(feature = "revm")]
    erc20_plans(&mut plans);
    #[cfg(feature = "revm")]
    evm_plans(&mut plans);
    node_plans(&mut plans);
    #[cfg(feature = "etcd")]
    cluster_plans(&mut plans);
    plans
}
