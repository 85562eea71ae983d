//! The EVM runtime's gas rate against the Wasm it runs (`docs/evm.md`):
//! the same calls on the runtime registered self-metered (what a chain
//! runs: 64 Ward gas per EVM gas) and instrumented (it also pays Ward's
//! price for every Wasm instruction). The difference is the Wasm work;
//! per EVM gas it must stay under the rate, for arithmetic, memory,
//! hashing and every precompile, so that EVM gas bounds the runtime's
//! work as Ward gas bounds a contract's.

#![allow(clippy::unwrap_used, reason = "test")]

use std::sync::Arc;

use crate::ALICE;
use ward_executor::{ChainLimits, Deploy, Executor, Payload, Runtimes, Tx};
use ward_primitives::{Address, CodeKind, RuntimeName};
use ward_state::MemoryStore;
use ward_testkit::evm::{
    GAS_RATE, calldata, creation, precompile_call, precompile_inputs, runtime, word,
};
use ward_vm::{BackendKind, Config, Metering};

fn chain(metering: Metering) -> (Executor<MemoryStore>, Address) {
    let config = Config::default();
    let backend = ward_testkit::backend(BackendKind::Wasmtime, &config);
    let mut runtimes = Runtimes::new(backend.clone(), &config);
    let evm = RuntimeName::new("evm").unwrap();
    runtimes
        .register_metered(evm, &runtime(), metering)
        .unwrap();
    // Room for what the instrumented runtime pays on top of the charge.
    let limits = ChainLimits {
        max_tx_gas: 20_000_000_000,
        max_block_gas: 20_000_000_000,
        ..ChainLimits::default()
    };
    let exec = Executor::new(Arc::new(MemoryStore::default()), backend, &config)
        .with_runtimes(Arc::new(runtimes))
        .with_limits(limits);
    let deployed = exec
        .execute_block(
            &[Tx {
                sender: ALICE,
                gas_limit: 200_000_000,
                value: 0,
                payload: Payload::Deploy(
                    Deploy::new(creation("Work"), Vec::new()).with_kind(CodeKind::Runtime(evm)),
                ),
            }],
            1,
        )
        .unwrap()
        .remove(0);
    assert_eq!(deployed.status.as_str(), "ok", "{deployed:?}");
    (exec, deployed.address.unwrap())
}

/// A named workload: the calldata of `n` units, and the `n` to measure at
/// (and twice it).
type Workload = (&'static str, Box<dyn Fn(u128) -> Vec<u8>>, u128);

#[test]
fn the_gas_rate_covers_the_wasm_the_runtime_runs() {
    let (metered, at) = chain(Metering::SelfMetered);
    let (instrumented, same) = chain(Metering::Instrumented);
    assert_eq!(at, same);
    // Ward gas and EVM gas (the receipt's runtime gas) of one call on
    // each chain (nothing committed).
    let gas = |exec: &Executor<MemoryStore>, input: &[u8]| {
        let tx = Tx::call(ALICE, at, input.to_vec(), 20_000_000_000);
        let receipt = exec.simulate(&tx.vouched(), 2).unwrap().receipt;
        assert_eq!(receipt.status.as_str(), "ok", "{receipt:?}");
        (receipt.gas_used, receipt.runtime_gas.unwrap())
    };
    // The Solidity workloads: each method takes the units of work.
    let mut workloads: Vec<Workload> = [
        ("arith", "arith(uint256)", 400),
        ("memory", "memory_(uint256)", 400),
        ("bigmath", "bigmath(uint256)", 200),
        ("copying", "copying(uint256)", 100),
        ("hashing", "hashing(uint256)", 100),
    ]
    .into_iter()
    .map(|(name, method, n)| -> Workload {
        (name, Box::new(move |n| calldata(method, &[word(n)])), n)
    })
    .collect();
    // Every precompile, a few calls each (the expensive ones once more).
    for (name, address, data) in precompile_inputs() {
        let n = if matches!(address, 2..=4 | 6 | 9) {
            8
        } else {
            1
        };
        workloads.push((
            name,
            Box::new(move |n| precompile_call(address, &data, n)),
            n,
        ));
    }
    let mut worst = (0.0f64, "");
    for (name, input, n) in &workloads {
        // Per n units of work: the difference between n and 2n units, so
        // that the call's fixed part cancels out, once a first call has
        // made what an instance makes once and keeps (the KZG check's
        // prepared points, as the runtime's own tables: uncharged, once
        // per instance), which would otherwise count against n alone.
        let delta = |exec: &Executor<MemoryStore>| {
            gas(exec, &input(*n));
            let (one, one_evm) = gas(exec, &input(*n));
            let (two, two_evm) = gas(exec, &input(2 * n));
            (two - one, two_evm - one_evm)
        };
        // What the chain charges per n units, and what the Wasm behind it
        // costs at Ward's own prices (the instrumented chain pays both).
        let (charged, evm_gas) = delta(&metered);
        let (paid, same_evm_gas) = delta(&instrumented);
        assert_eq!(evm_gas, same_evm_gas, "{name}: EVM gas differs");
        let wasm = paid.saturating_sub(charged);
        let share = wasm as f64 / charged as f64;
        eprintln!(
            "{name:>20}: {evm_gas} EVM gas per {n}, charged {:.1} Ward gas per EVM gas; \
             Wasm {:.1} per EVM gas, {share:.2} of the charge",
            charged as f64 / evm_gas as f64,
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
    // ecrecover, SHA-256 and bn254's run in Ward's host, whose calls a
    // runtime makes free of the schedule's costs: what their EVM gas pays
    // at the rate covers what the schedule charges a contract for the
    // same host calls (a recovery and the key's Keccak-256; a 64-byte
    // hash; an addition, a multiplication; a pairing check's base and
    // each pair, 192 bytes).
    let schedule = ward_vm::CostSchedule::default();
    let call = |rate: u32| u64::from(schedule.host_call) + u64::from(rate);
    let hash = |words: u64| call(0) + u64::from(schedule.hash_per_64_bytes) * words;
    for (what, host, evm_gas) in [
        (
            "ecrecover",
            call(schedule.recover_secp256k1) + hash(1),
            3_000,
        ),
        ("SHA-256 of 64 bytes", hash(1), 72),
        ("bn254 add", call(schedule.bn254_add), 150),
        ("bn254 mul", call(schedule.bn254_mul), 6_000),
        (
            "bn254 pairing, no pairs",
            call(schedule.bn254_pairing),
            45_000,
        ),
        (
            "bn254 pairing, per pair",
            3 * u64::from(schedule.bn254_pairing_per_64_bytes),
            34_000,
        ),
    ] {
        assert!(
            host <= GAS_RATE * evm_gas,
            "{what}: the host calls cost {host} Ward gas, its {evm_gas} EVM gas pay {}",
            GAS_RATE * evm_gas
        );
    }
    // docs/evm.md states the rate, and the runtime's surcharges.
    let doc =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/evm.md")).unwrap();
    assert!(
        doc.contains(&format!("**{GAS_RATE} Ward gas per")),
        "docs/evm.md names another rate"
    );
    assert_eq!(documented_surcharges(&doc), runtime_surcharges());
}

/// The surcharge table of docs/evm.md: (address, Ward gas per EVM gas).
fn documented_surcharges(doc: &str) -> Vec<(u8, u64)> {
    doc.lines()
        .filter_map(|line| {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            let at = cells.get(1)?.strip_prefix("`0x")?.strip_suffix('`')?;
            let at = u8::from_str_radix(at, 16).ok()?;
            let surcharge = cells.get(3)?.replace(' ', "").parse().ok()?;
            Some((at, surcharge))
        })
        .collect()
}

/// The nonzero surcharges of `contracts/evm/src/precompile.rs`'s `SURCHARGES`,
/// by address.
fn runtime_surcharges() -> Vec<(u8, u64)> {
    let source = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../contracts/evm/src/precompile.rs"
    ))
    .unwrap();
    let table = source
        .split("const SURCHARGES")
        .nth(1)
        .and_then(|rest| rest.split("];").next())
        .unwrap();
    let entries: Vec<&str> = table
        .lines()
        .map(|line| line.split("//").next().unwrap().trim())
        .filter(|line| line.starts_with("None") || line.starts_with("Some("))
        .collect();
    assert_eq!(entries.len(), 0x12, "one entry per address 0x00..=0x11");
    entries
        .iter()
        .enumerate()
        .filter_map(|(at, entry)| {
            let value = entry.strip_prefix("Some(")?.split(')').next()?;
            let value: u64 = value.replace('_', "").parse().unwrap();
            (value > 0).then_some((at as u8, value))
        })
        .collect()
}
