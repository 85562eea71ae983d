//! The EVM runtime's gas rate against the Wasm it runs (`docs/evm.md`):
//! the same calls on the runtime registered self-metered (what a chain
//! runs: 64 Ward gas per EVM gas) and instrumented (it also pays Ward's
//! price for every Wasm instruction). The difference is the Wasm work;
//! per EVM gas it must stay under the rate, for arithmetic, memory,
//! hashing and every precompile, so that EVM gas bounds the runtime's
//! work as Ward gas bounds a contract's.

#![allow(clippy::unwrap_used, reason = "test")]

use std::sync::Arc;

use ward_executor::{Executor, Runtimes, Tx};
use ward_primitives::{Address, CodeKind, RuntimeName};
use ward_state::MemoryStore;
use ward_testkit::evm::{GAS_RATE, calldata, creation, runtime, word};
use ward_vm::{BackendKind, Config, Metering};

const ALICE: Address = Address([0xa1; 32]);

fn chain(metering: Metering) -> (Executor<MemoryStore>, Address) {
    let config = Config::default();
    let backend = ward_testkit::backend(BackendKind::Wasmi, &config);
    let mut runtimes = Runtimes::new(backend.clone(), &config);
    let evm = RuntimeName::new("evm").unwrap();
    runtimes
        .register_metered(evm, &runtime(), metering)
        .unwrap();
    let exec = Executor::new(Arc::new(MemoryStore::default()), backend, &config)
        .with_runtimes(Arc::new(runtimes));
    let deployed = exec
        .execute_block(
            &[Tx::Deploy {
                sender: ALICE,
                code: creation("Work"),
                input: Vec::new(),
                gas_limit: 200_000_000,
                salt: Vec::new(),
                kind: CodeKind::Runtime(evm),
            }],
            1,
        )
        .unwrap()
        .remove(0);
    assert_eq!(deployed.status, "ok", "{deployed:?}");
    (exec, deployed.address.unwrap())
}

/// A named workload: the calldata of `n` units, and the `n` to measure at
/// (and twice it).
type Workload = (&'static str, Box<dyn Fn(u128) -> Vec<u8>>, u128);

/// A `precompile(address,bytes,uint256)` call.
fn precompile(at: u64, data: &[u8], n: u128) -> Vec<u8> {
    let mut input = calldata(
        "precompile(address,bytes,uint256)",
        &[word(u128::from(at)), word(96), word(n)],
    );
    input.extend(word(data.len() as u128));
    let mut padded = data.to_vec();
    padded.resize(data.len().div_ceil(32) * 32, 0);
    input.extend(padded);
    input
}

#[test]
fn the_gas_rate_covers_the_wasm_the_runtime_runs() {
    let (metered, at) = chain(Metering::SelfMetered);
    let (instrumented, same) = chain(Metering::Instrumented);
    assert_eq!(at, same);
    // Ward gas of one call on each chain (nothing committed).
    let gas = |exec: &Executor<MemoryStore>, input: &[u8]| {
        let tx = Tx::Call {
            sender: ALICE,
            to: at,
            input: input.to_vec(),
            gas_limit: 200_000_000,
        };
        let receipt = exec.simulate_unsigned(tx, 2).unwrap().receipt;
        assert_eq!(receipt.status, "ok", "{receipt:?}");
        receipt.gas_used
    };
    // Per unit of work: the difference between n and 2n units, so that the
    // call's fixed part cancels out.
    // An ecrecover that recovers (geth's test vector).
    let mut ecrecover = hex::decode(concat!(
        "456e9aea5e197a1f1af7a3e85a3212fa4049a3ba34c2289b4c860fc0b0c64ef3",
        "000000000000000000000000000000000000000000000000000000000000001c",
        "9242685bf161793cc25603c231bc2f568eb630ea16aa137d2664ac8038825608",
        "4f8ae3bd7535248d0bd448298cc2e2071e56992d0774dc340c368ae950852ada"
    ))
    .unwrap();
    ecrecover.truncate(128);
    let workloads: Vec<Workload> = vec![
        (
            "arith",
            Box::new(|n| calldata("arith(uint256)", &[word(n)])),
            400,
        ),
        (
            "memory",
            Box::new(|n| calldata("memory_(uint256)", &[word(n)])),
            400,
        ),
        (
            "bigmath",
            Box::new(|n| calldata("bigmath(uint256)", &[word(n)])),
            200,
        ),
        (
            "copying",
            Box::new(|n| calldata("copying(uint256)", &[word(n)])),
            100,
        ),
        (
            "hashing",
            Box::new(|n| calldata("hashing(uint256)", &[word(n)])),
            100,
        ),
        (
            "ecrecover",
            Box::new(move |n| precompile(1, &ecrecover, n)),
            2,
        ),
        ("sha256", Box::new(|n| precompile(2, &[7; 1024], n)), 8),
        ("ripemd160", Box::new(|n| precompile(3, &[7; 1024], n)), 8),
        ("identity", Box::new(|n| precompile(4, &[7; 1024], n)), 8),
    ];
    let mut worst = (0.0f64, "");
    for (name, input, n) in &workloads {
        let delta = |exec: &Executor<MemoryStore>| gas(exec, &input(2 * n)) - gas(exec, &input(*n));
        // What the chain charges per n units, and what the Wasm behind it
        // costs at Ward's own prices (the instrumented chain pays both).
        let charged = delta(&metered);
        let wasm = delta(&instrumented).saturating_sub(charged);
        let evm_gas = charged / GAS_RATE;
        let share = wasm as f64 / charged as f64;
        eprintln!(
            "{name:>10}: {charged} Ward gas charged per {n} units ({evm_gas} EVM gas at the rate), \
             Wasm {:.2} Ward gas per EVM gas, {share:.2} of the charge",
            wasm as f64 / evm_gas as f64
        );
        if share > worst.0 {
            worst = (share, name);
        }
    }
    eprintln!("worst: {} at {:.2} of the charge", worst.1, worst.0);
    assert!(
        worst.0 <= 1.0,
        "{}'s Wasm costs {:.2} times what it is charged",
        worst.1,
        worst.0
    );
    // docs/evm.md states the rate.
    let doc =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/evm.md")).unwrap();
    assert!(
        doc.contains(&format!("**{GAS_RATE} Ward gas per")),
        "docs/evm.md names another rate"
    );
}
