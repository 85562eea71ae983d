//! The chain functions of the host ABI (storage, events, block context,
//! hashing, signatures) on both backends, against a map-backed chain.

use std::collections::BTreeMap;

use ward_testkit::{MapChain, assert_agree, wasm};
use ward_vm::{
    BackendKind, CallContext, Config, Entry, ErrorKind, Execution, FaultKind, Gas, Reply, Request,
    RunOptions, Status,
};

fn run_with(kind: BackendKind, wasm: &[u8], chain: &MapChain, gas: u64) -> Execution {
    let config = Config::default();
    let backend = ward_testkit::backend(kind, &config);
    let mut no_service = |_| Reply::Trap("no services".into());
    ward_testkit::run(
        &*backend,
        &config,
        wasm,
        &Entry::Main("main".into()),
        RunOptions {
            gas_limit: Gas::new(gas),
            ..RunOptions::default()
        },
        CallContext::default().with_chain(Box::new(chain.clone())),
        &mut no_service,
    )
}

/// Runs on both backends (each with a fresh chain holding `initial`),
/// asserts they agree on the execution and on the chain afterwards.
fn run_both(
    wasm: &[u8],
    initial: &[(&[u8], &[u8])],
    read_only: bool,
    gas: u64,
) -> (Execution, MapChain) {
    let mut runs = Vec::new();
    let mut chains = Vec::new();
    for kind in BackendKind::ALL {
        let chain = MapChain {
            read_only,
            ..MapChain::default()
        };
        for (k, v) in initial {
            chain.storage.lock().unwrap().insert(k.to_vec(), v.to_vec());
        }
        runs.push(run_with(kind, wasm, &chain, gas));
        chains.push(chain);
    }
    assert_agree(&runs);
    let snapshot = |c: &MapChain| {
        (
            c.storage.lock().unwrap().clone(),
            c.events.lock().unwrap().clone(),
        )
    };
    assert_eq!(snapshot(&chains[0]), snapshot(&chains[1]));
    (runs.remove(0), chains.remove(0))
}

const IMPORTS: &str = r#"
  (import "ward" "output_write" (func $out (param i32 i32)))
  (import "ward" "storage_read" (func $read (param i32 i32 i32 i32) (result i64)))
  (import "ward" "storage_write" (func $write (param i32 i32 i32 i32)))
  (import "ward" "storage_remove" (func $remove (param i32 i32)))
  (import "ward" "emit_event" (func $emit (param i32 i32 i32 i32)))
  (import "ward" "caller" (func $caller (param i32)))
  (import "ward" "self_address" (func $self (param i32)))
  (import "ward" "block_height" (func $height (result i64)))
  (import "ward" "block_time" (func $time (result i64)))
  (import "ward" "hash_sha256" (func $sha256 (param i32 i32 i32)))
  (import "ward" "hash_keccak256" (func $keccak (param i32 i32 i32)))
  (import "ward" "hash_blake3" (func $blake3 (param i32 i32 i32)))
  (import "ward" "verify_ed25519" (func $verify (param i32 i32 i32 i32) (result i32)))
  (import "ward" "recover_secp256k1" (func $recover (param i32 i32 i32 i32) (result i32)))
  (import "ward" "bn254_add" (func $bn_add (param i32 i32) (result i32)))
  (import "ward" "bn254_mul" (func $bn_mul (param i32 i32) (result i32)))
  (import "ward" "bn254_pairing" (func $bn_pair (param i32 i32) (result i32)))
  (memory (export "memory") 1)
"#;

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn data_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("\\{b:02x}")).collect()
}

#[test]
fn chain_functions_behave_identically_on_both_backends() {
    // RFC 8032, test 1: the empty message.
    let key = hex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
    let sig = hex(
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
    );
    let module = wasm(&format!(
        r#"(module {IMPORTS}
          (data (i32.const 0) "k")
          (data (i32.const 8) "value1")
          (data (i32.const 16) "gone")
          (data (i32.const 24) "missing")
          (data (i32.const 32) "topicdata")
          (data (i32.const 48) "abc")
          (data (i32.const 64) "{key}")
          (data (i32.const 96) "{sig}")
          (func (export "main")
            (call $write (i32.const 0) (i32.const 1) (i32.const 8) (i32.const 6))
            ;; out[0..8]: length of "k" read with a 3-byte buffer; out[8..11]: what was copied
            (i64.store (i32.const 1000) (call $read (i32.const 0) (i32.const 1) (i32.const 1008) (i32.const 3)))
            ;; out[16..24]: a missing key
            (i64.store (i32.const 1016) (call $read (i32.const 24) (i32.const 7) (i32.const 1100) (i32.const 8)))
            (call $remove (i32.const 16) (i32.const 4))
            (call $emit (i32.const 32) (i32.const 5) (i32.const 37) (i32.const 4))
            (call $caller (i32.const 1024))
            (call $self (i32.const 1056))
            (i64.store (i32.const 1088) (call $height))
            (i64.store (i32.const 1096) (call $time))
            (call $sha256 (i32.const 48) (i32.const 3) (i32.const 1104))
            (call $keccak (i32.const 48) (i32.const 0) (i32.const 1136))
            (call $blake3 (i32.const 48) (i32.const 3) (i32.const 1168))
            (i32.store (i32.const 1200) (call $verify (i32.const 64) (i32.const 0) (i32.const 0) (i32.const 96)))
            ;; the same signature with one bit flipped
            (i32.store8 (i32.const 96) (i32.xor (i32.load8_u (i32.const 96)) (i32.const 1)))
            (i32.store (i32.const 1204) (call $verify (i32.const 64) (i32.const 0) (i32.const 0) (i32.const 96)))
            (call $out (i32.const 1000) (i32.const 208))))"#,
        key = data_hex(&key),
        sig = data_hex(&sig),
    ));
    let (run, chain) = run_both(&module, &[(b"gone", b"x")], false, 10_000_000);
    assert_eq!(run.outcome.status, Status::Ok, "{:?}", run.outcome);
    let out = &run.outcome.output;
    assert_eq!(i64::from_le_bytes(out[0..8].try_into().unwrap()), 6);
    assert_eq!(&out[8..11], b"val");
    assert_eq!(i64::from_le_bytes(out[16..24].try_into().unwrap()), -1);
    assert_eq!(&out[24..56], &[0xca; 32]);
    assert_eq!(&out[56..88], &[0x5e; 32]);
    assert_eq!(i64::from_le_bytes(out[88..96].try_into().unwrap()), 42);
    assert_eq!(
        i64::from_le_bytes(out[96..104].try_into().unwrap()),
        1_700_000_000
    );
    assert_eq!(
        out[104..136],
        hex("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    );
    assert_eq!(
        out[136..168],
        hex("c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470")
    );
    assert_eq!(
        out[168..200],
        hex("6437b3ac38465133ffb63b75273a8db548c558465d79db03fd359c6cd5bd9d85")
    );
    assert_eq!(i32::from_le_bytes(out[200..204].try_into().unwrap()), 1);
    assert_eq!(i32::from_le_bytes(out[204..208].try_into().unwrap()), 0);
    let storage = chain.storage.lock().unwrap().clone();
    assert_eq!(
        storage,
        BTreeMap::from([(b"k".to_vec(), b"value1".to_vec())])
    );
    assert_eq!(
        *chain.events.lock().unwrap(),
        vec![(b"topic".to_vec(), b"data".to_vec())]
    );
}

/// `recover_secp256k1` recovers the signer as Ethereum's `ecrecover` does,
/// costs the schedule's rate, recovers nothing from a malformed signature
/// (no trap), and traps with `memory_out_of_bounds` on a destination
/// outside memory.
#[test]
fn secp256k1_recovery_is_ecrecover_on_both_backends() {
    // A widely quoted `ecrecover` example: digest, r and s (v = 28), and
    // the signer's address.
    let digest = hex("456e9aea5e197a1f1af7a3e85a3212fa4049a3ba34c2289b4c860fc0b0c64ef3");
    let sig = hex(concat!(
        "9242685bf161793cc25603c231bc2f568eb630ea16aa137d2664ac8038825608",
        "4f8ae3bd7535248d0bd448298cc2e2071e56992d0774dc340c368ae950852ada"
    ));
    // The calls, or (`recover` false) constants in their place.
    let module = |dst: u32, recover: bool| {
        let call = |id: u32, at: u32| {
            if recover {
                format!(
                    "(call $recover (i32.const 0) (i32.const 32) (i32.const {id}) (i32.const {at}))"
                )
            } else {
                "(i32.const 0)".to_owned()
            }
        };
        wasm(&format!(
            r#"(module {IMPORTS}
              (data (i32.const 0) "{digest}")
              (data (i32.const 32) "{sig}")
              (func (export "main")
                (i32.store (i32.const 1000) {found})
                (call $keccak (i32.const {dst}) (i32.const 64) (i32.const 1004))
                ;; recovery id 2, then r of zero: nothing recovers
                (i32.store (i32.const 1036) {bad_id})
                (memory.fill (i32.const 32) (i32.const 0) (i32.const 32))
                (i32.store (i32.const 1040) {zero_r})
                (call $out (i32.const 1000) (i32.const 44))))"#,
            digest = data_hex(&digest),
            sig = data_hex(&sig),
            found = call(1, dst),
            bad_id = call(2, 2000),
            zero_r = call(1, 2000),
        ))
    };
    let (run, _) = run_both(&module(200, true), &[], false, 1_000_000);
    assert_eq!(run.outcome.status, Status::Ok, "{:?}", run.outcome);
    let out = &run.outcome.output;
    assert_eq!(i32::from_le_bytes(out[0..4].try_into().unwrap()), 1);
    assert_eq!(out[16..36], hex("7156526fbd7a3c72969b54f64e42c10fbb768c8a"));
    assert_eq!(out[36..44], [0; 8]);
    // Each call costs the schedule's rate (and a few instructions more
    // than the constant in its place), found or not.
    let (without, _) = run_both(&module(200, false), &[], false, 1_000_000);
    let schedule = ward_vm::CostSchedule::default();
    let recoveries = 3 * u64::from(schedule.host_call + schedule.recover_secp256k1);
    let extra = run.outcome.gas_used.get() - without.outcome.gas_used.get();
    assert!(
        (recoveries..recoveries + 100).contains(&extra),
        "three recoveries cost {extra}, the schedule says {recoveries}"
    );
    // A destination past the end of memory: a trap, not a write.
    let (run, _) = run_both(&module(65_500, true), &[], false, 1_000_000);
    assert_eq!(
        run.outcome.error.map(|e| e.kind),
        Some(ErrorKind::MemoryOutOfBounds)
    );
}

/// The bn254 functions compute Ethereum's precompiles `0x06` to `0x08`
/// on both backends: G1's generator doubled by addition and by
/// multiplication, a pairing check that holds and one that does not, a
/// point off the curve and an input of no whole pairs refused without a
/// trap, each call at the schedule's rate.
#[test]
fn bn254_is_ethereums_on_both_backends() {
    // G1's generator (1, 2), its negation (1, p - 2), G2's generator,
    // and twice G1's generator.
    let g1 = format!("{:064x}{:064x}", 1, 2);
    let g1_neg = format!(
        "{:064x}30644e72e131a029b85045b68181585d97816a916871ca8d3c208c16d87cfd45",
        1
    );
    let g2 = concat!(
        "198e9393920d483a7260bfb731fb5d25f1aa493335a9e71297e485b7aef312c2",
        "1800deef121f1e76426a00665e5c4479674322d4f75edadd46debd5cd992f6ed",
        "090689d0585ff075ec9e99ad690c3395bc4b313370b38ef355acdadcd122975b",
        "12c85ea5db8c6deb4aab71808dcb408fe3d1e7690c43d37b4ce6cc0166fa7daa"
    );
    let double = concat!(
        "030644e72e131a029b85045b68181585d97816a916871ca8d3c208c16d87cfd3",
        "15ed738c0e0a7c92e7845f96b2ae9c0a68a6a449e3538fc7ff3ebf7a5a18a2c4"
    );
    let off_curve = format!("{:064x}{:064x}", 1, 3);
    let module = wasm(&format!(
        r#"(module {IMPORTS}
          (data (i32.const 0) "{g1}{g1}")
          (data (i32.const 128) "{g1}{scalar}")
          (data (i32.const 256) "{g1}{g2}{g1_neg}{g2}")
          (data (i32.const 640) "{g1}{g2}{g1}{g2}")
          (data (i32.const 1024) "{off_curve}{g1}")
          (func (export "main")
            (i32.store (i32.const 2000) (call $bn_add (i32.const 0) (i32.const 2004)))
            (i32.store (i32.const 2068) (call $bn_mul (i32.const 128) (i32.const 2072)))
            (i32.store (i32.const 2136) (call $bn_pair (i32.const 256) (i32.const 384)))
            (i32.store (i32.const 2140) (call $bn_pair (i32.const 640) (i32.const 384)))
            (i32.store (i32.const 2144) (call $bn_add (i32.const 1024) (i32.const 2200)))
            (i32.store (i32.const 2148) (call $bn_pair (i32.const 256) (i32.const 100)))
            (call $out (i32.const 2000) (i32.const 152))))"#,
        g1 = data_hex(&hex(&g1)),
        g1_neg = data_hex(&hex(&g1_neg)),
        g2 = data_hex(&hex(g2)),
        scalar = data_hex(&hex(&format!("{:064x}", 2))),
        off_curve = data_hex(&hex(&off_curve)),
    ));
    let (run, _) = run_both(&module, &[], false, 100_000_000);
    assert_eq!(run.outcome.status, Status::Ok, "{:?}", run.outcome);
    let out = &run.outcome.output;
    let word = |at: usize| i32::from_le_bytes(out[at..at + 4].try_into().unwrap());
    assert_eq!(word(0), 1);
    assert_eq!(out[4..68], hex(double));
    assert_eq!(word(68), 1);
    assert_eq!(out[72..136], hex(double));
    assert_eq!([word(136), word(140), word(144), word(148)], [1, 0, 0, -1]);
    // The calls cost the schedule's rates, and little more.
    let schedule = ward_vm::CostSchedule::default();
    let call = |rate: u32| u64::from(schedule.host_call + rate);
    let pairing = |len: u64| {
        call(schedule.bn254_pairing)
            + u64::from(schedule.bn254_pairing_per_64_bytes) * len.div_ceil(64)
    };
    let rates =
        2 * call(schedule.bn254_add) + call(schedule.bn254_mul) + 2 * pairing(384) + pairing(100);
    let used = run.outcome.gas_used.get();
    assert!(
        (rates..rates + 20_000).contains(&used),
        "used {used}, the rates come to {rates}"
    );
}

#[test]
fn storage_costs_are_the_documented_rates() {
    let write = |len: u32| {
        wasm(&format!(
            r#"(module {IMPORTS}
              (func (export "main")
                (call $write (i32.const 0) (i32.const 4) (i32.const 100) (i32.const {len}))))"#
        ))
    };
    let (small, _) = run_both(&write(10), &[], false, 1_000_000);
    let (large, _) = run_both(&write(110), &[], false, 1_000_000);
    let schedule = ward_vm::CostSchedule::default();
    assert_eq!(
        large.outcome.gas_used.get() - small.outcome.gas_used.get(),
        100 * u64::from(schedule.storage_per_byte)
    );
    // Not enough gas for the write: out of gas, nothing written.
    let (starved, chain) = run_both(&write(10), &[], false, small.outcome.gas_used.get() - 1);
    assert_eq!(starved.outcome.status, Status::OutOfGas);
    assert!(chain.storage.lock().unwrap().is_empty());
}

#[test]
fn read_only_calls_and_oversized_keys_trap_with_host_error() {
    let module = wasm(&format!(
        r#"(module {IMPORTS}
          (func (export "main")
            (call $write (i32.const 0) (i32.const 1) (i32.const 8) (i32.const 1))))"#
    ));
    let (run, chain) = run_both(&module, &[], true, 1_000_000);
    assert_eq!(
        run.outcome.error.map(|e| e.kind),
        Some(ErrorKind::HostError)
    );
    assert!(chain.storage.lock().unwrap().is_empty());
    let event = wasm(&format!(
        r#"(module {IMPORTS}
          (func (export "main") (call $emit (i32.const 0) (i32.const 1) (i32.const 0) (i32.const 1))))"#
    ));
    let (run, _) = run_both(&event, &[], true, 1_000_000);
    assert_eq!(
        run.outcome.error.map(|e| e.kind),
        Some(ErrorKind::HostError)
    );
    let long_key = wasm(&format!(
        r#"(module {IMPORTS}
          (func (export "main") (drop (call $read (i32.const 0) (i32.const 257) (i32.const 0) (i32.const 0)))))"#
    ));
    let (run, _) = run_both(&long_key, &[], false, 1_000_000);
    assert_eq!(
        run.outcome.error.map(|e| e.kind),
        Some(ErrorKind::HostError)
    );
    // Out-of-bounds pointers are memory faults, as for every ABI function.
    let oob = wasm(&format!(
        r#"(module {IMPORTS}
          (func (export "main") (call $caller (i32.const 65530))))"#
    ));
    let (run, _) = run_both(&oob, &[], false, 1_000_000);
    assert_eq!(
        run.outcome.error.map(|e| e.kind),
        Some(ErrorKind::MemoryOutOfBounds)
    );
}

#[test]
fn without_a_chain_storage_traps_and_context_reads_zero() {
    let module = wasm(&format!(
        r#"(module {IMPORTS}
          (func (export "main") (drop (call $read (i32.const 0) (i32.const 1) (i32.const 0) (i32.const 0)))))"#
    ));
    let run = ward_testkit::run_both(&ward_testkit::Backends::default(), &module, b"");
    assert_eq!(
        run.outcome.error.map(|e| e.kind),
        Some(ErrorKind::HostError)
    );
}

#[test]
fn a_chain_fault_aborts_the_call_instead_of_trapping_the_guest() {
    // Writes, then reads: the read meets a broken disk. The guest traps
    // at once (it cannot go on to write again), and the run reports the
    // fault, not a `host_error` outcome.
    let m = wasm(&format!(
        r#"(module {IMPORTS}
             (data (i32.const 0) "k")
             (func (export "main")
               (call $write (i32.const 0) (i32.const 1) (i32.const 0) (i32.const 1))
               (drop (call $read (i32.const 0) (i32.const 1) (i32.const 8) (i32.const 8)))
               (call $write (i32.const 0) (i32.const 1) (i32.const 1) (i32.const 1))))"#
    ));
    for kind in BackendKind::ALL {
        let config = Config::default();
        let backend = ward_testkit::backend(kind, &config);
        let module = ward_vm::compile(&*backend, &config, &m).unwrap();
        let chain = MapChain {
            broken: true,
            ..MapChain::default()
        };
        let run = ward_vm::execute(
            &*backend,
            &module,
            &Entry::Main("main".into()),
            RunOptions::default(),
            CallContext::default().with_chain(Box::new(chain.clone())),
            &mut |_| Reply::Trap("no services".into()),
        );
        let fault = run.unwrap_err();
        assert_eq!(fault.kind(), FaultKind::Storage, "{kind}: {fault}");
        assert_eq!(
            chain
                .storage
                .lock()
                .unwrap()
                .get(&b"k"[..])
                .map(Vec::as_slice),
            Some(&b"k"[..]),
            "{kind}: the write after the fault never ran"
        );
    }
}

/// The same call with its storage and events served as requests
/// (`CallContext::with_chain_requests`) instead of through `chain`: the
/// requests go to a map like `chain`'s, and a write of a read-only call is
/// refused with a trap, as `chain` refuses it.
fn run_requested(
    kind: BackendKind,
    wasm: &[u8],
    entry: &str,
    input: Vec<u8>,
    chain: &MapChain,
    gas: u64,
) -> Execution {
    let config = Config {
        chain_requests: true,
        ..Config::default()
    };
    let served = chain.clone();
    let mut service = |request: ward_vm::Request| match request {
        ward_vm::Request::StorageRead { key } => {
            Reply::Storage(served.storage.lock().unwrap().get(&key).cloned())
        }
        ward_vm::Request::StorageWrite { .. } | ward_vm::Request::Event { .. }
            if served.read_only =>
        {
            Reply::Trap("storage_write in a read-only call".into())
        }
        ward_vm::Request::StorageWrite { key, value } => {
            let mut storage = served.storage.lock().unwrap();
            match value {
                Some(value) => storage.insert(key, value),
                None => storage.remove(&key),
            };
            Reply::Done
        }
        ward_vm::Request::Event { topic, data } => {
            served.events.lock().unwrap().push((topic, data));
            Reply::Done
        }
        other => Reply::Trap(format!("unexpected {other:?}")),
    };
    // The chain answers only the block context now.
    let context_only = MapChain {
        broken: true,
        ..MapChain::default()
    };
    let context = CallContext::default()
        .with_chain(Box::new(context_only))
        .with_chain_requests();
    run_entry(
        &config,
        kind,
        (wasm, entry, input, gas),
        context,
        &mut service,
    )
}

fn run_through_chain(
    kind: BackendKind,
    wasm: &[u8],
    entry: &str,
    input: Vec<u8>,
    chain: &MapChain,
    gas: u64,
) -> Execution {
    let mut no_service = |_| Reply::Trap("no services".into());
    let context = CallContext::default().with_chain(Box::new(chain.clone()));
    run_entry(
        &Config::default(),
        kind,
        (wasm, entry, input, gas),
        context,
        &mut no_service,
    )
}

/// Runs `entry` of `wasm` with `input` and `gas` on a `kind` backend made
/// with `config`.
fn run_entry(
    config: &Config,
    kind: BackendKind,
    (wasm, entry, input, gas): (&[u8], &str, Vec<u8>, u64),
    context: CallContext,
    service: &mut dyn FnMut(ward_vm::Request) -> Reply,
) -> Execution {
    let backend = ward_testkit::backend(kind, config);
    let options = RunOptions {
        input,
        gas_limit: Gas::new(gas),
        ..RunOptions::default()
    };
    ward_testkit::run(
        &*backend,
        config,
        wasm,
        &Entry::Main(entry.into()),
        options,
        context,
        service,
    )
}

#[test]
fn storage_and_events_served_as_requests_cost_and_end_the_same() {
    use ward_sdk::codec::{call_input, encode};
    let token = ward_testkit::contracts::wasm("token");
    let bob = [0xb0u8; 32];
    let steps: [(&str, Vec<u8>); 4] = [
        ("deploy", encode(&1_000u128)),
        ("main", call_input("transfer", &(bob, 250u128))),
        ("main", call_input("balance_of", &bob)),
        // More than the caller holds: a revert, after reads.
        ("main", call_input("transfer", &(bob, 5_000u128))),
    ];
    let mut figures = Vec::new();
    for kind in BackendKind::ALL {
        let (direct, requested) = (MapChain::default(), MapChain::default());
        for (entry, input) in &steps {
            let a = run_through_chain(kind, &token, entry, input.clone(), &direct, 10_000_000);
            let b = run_requested(kind, &token, entry, input.clone(), &requested, 10_000_000);
            assert_eq!(
                (a.outcome.status, &a.outcome.output, a.outcome.gas_used),
                (b.outcome.status, &b.outcome.output, b.outcome.gas_used),
                "{kind:?} {entry}: {a:#?}\nvs\n{b:#?}"
            );
            assert!(b.suspensions > 0, "{entry}: served as requests");
            figures.push((a.outcome.status, a.outcome.gas_used));
        }
        assert_eq!(
            *direct.storage.lock().unwrap(),
            *requested.storage.lock().unwrap()
        );
        assert_eq!(
            *direct.events.lock().unwrap(),
            *requested.events.lock().unwrap()
        );
        assert_eq!(
            direct.events.lock().unwrap().len(),
            2,
            "a Transfer on deploy and one on transfer"
        );
    }
    assert_eq!(figures[..4], figures[4..], "both backends");
    assert_eq!(figures[3].0, Status::Reverted);

    // A read-only call's write is refused with a trap, at the same gas as
    // a chain's refusal.
    for kind in BackendKind::ALL {
        let direct = MapChain {
            read_only: true,
            ..MapChain::default()
        };
        let requested = MapChain {
            read_only: true,
            ..MapChain::default()
        };
        let a = run_through_chain(kind, &token, "deploy", encode(&1u128), &direct, 10_000_000);
        let b = run_requested(
            kind,
            &token,
            "deploy",
            encode(&1u128),
            &requested,
            10_000_000,
        );
        assert_eq!(a.outcome.status, Status::Trapped);
        assert_eq!(
            (a.outcome.status, a.outcome.gas_used),
            (b.outcome.status, b.outcome.gas_used)
        );
        assert!(requested.storage.lock().unwrap().is_empty());
    }
}

#[test]
fn chain_requests_answered_wrongly_or_unsupported_abort_the_call() {
    let wasm = wasm(&format!(
        r#"(module {IMPORTS}
          (data (i32.const 0) "k")
          (func (export "main")
            (drop (call $read (i32.const 0) (i32.const 1) (i32.const 16) (i32.const 8)))))"#
    ));
    for kind in BackendKind::ALL {
        // Runs `main` on a backend made with `config`, `service` answering.
        let fault_of = |config: &Config, service: &mut dyn FnMut(Request) -> Reply| {
            let backend = ward_testkit::backend(kind, config);
            let module = ward_vm::compile(&*backend, config, &wasm).unwrap();
            ward_vm::execute(
                &*backend,
                &module,
                &Entry::Main("main".into()),
                RunOptions::default(),
                CallContext::default().with_chain_requests(),
                service,
            )
            .unwrap_err()
        };
        // A read answered as if it were a write: the embedder's misuse.
        let config = Config {
            chain_requests: true,
            ..Config::default()
        };
        let fault = fault_of(&config, &mut |_| Reply::Done);
        assert_eq!(fault.kind(), FaultKind::Misuse, "{kind:?}: {fault}");

        // Asked of a backend made without Config::chain_requests.
        let fault = fault_of(&Config::default(), &mut |_| Reply::Storage(None));
        assert_eq!(fault.kind(), FaultKind::Misuse, "{kind:?}: {fault}");
    }
}
