//! Block time as contracts see it (seconds) against estimates: a call
//! whose gas depends on whether its block's second differs from the last
//! one it saw, estimated and then sent with that estimate just before a
//! second turns, many times, on both backends. On a dev node every
//! block's second is after its parent's (the estimate and the block see
//! the same second); on a node without `--dev`, where blocks share
//! seconds, the estimate covers both seconds the block can land in.
//! Before, such a call ran out of gas whenever the estimate ran in the
//! last block's second and the block was mined in the next.

use std::time::Duration;

use serde_json::{Value, json};
use ward_chain::tx::{Deploy, Payload};
use ward_devkeys as devkeys;
use ward_node::{Node, NodeConfig};
use ward_vm::BackendKind;

use super::{
    PATIENCE, both_backends, eth::eth_ok, eth::hex_of, eventually, ok, raw_with_gas, temp_dir,
};

/// `main` reads its stored block time "t"; when the block's differs it
/// stores the new one and 32 more entries of 64 bytes (many times the
/// gas of the same-second path, as Uniswap V2's `_update` writes its
/// price accumulators only when time has passed).
const ELAPSED_FIELDS: &str = r#"(memory (export "memory") 1)
  (data (i32.const 0) "t")
  (func (export "main") (local $i i32)
    (drop (call $storage_read (i32.const 0) (i32.const 1) (i32.const 8) (i32.const 8)))
    (if (i64.ne (i64.load (i32.const 8)) (call $block_time))
      (then
        (i64.store (i32.const 8) (call $block_time))
        (call $storage_write (i32.const 0) (i32.const 1) (i32.const 8) (i32.const 8))
        (loop $more
          (i32.store (i32.const 16) (local.get $i))
          (call $storage_write (i32.const 16) (i32.const 4) (i32.const 64) (i32.const 64))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br_if $more (i32.lt_u (local.get $i) (i32.const 32)))))))"#;

fn elapsed_code() -> Vec<u8> {
    ward_testkit::wasm(&ward_testkit::module_importing(
        "storage_read storage_write block_time",
        ELAPSED_FIELDS,
    ))
}

/// Rounds per node.
const ROUNDS: usize = 8;

#[allow(
    clippy::disallowed_methods,
    reason = "the test aims its rounds at the producer's second boundaries"
)]
fn unix_millis() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// Sleeps until a random moment in the last 60 ms before the wall clock's
/// next second (the producer times blocks by it).
fn before_a_second_turns(rng: &mut ward_testkit::Rng) {
    let now = unix_millis();
    let target = (now / 1000 + 1) * 1000 - 60 + rng.below(55) as u64;
    let target = if target <= now { target + 1000 } else { target };
    std::thread::sleep(Duration::from_millis(target - now));
}

/// A node of `kind`, `dev` or not, on a free loopback port.
fn node(name: &str, kind: BackendKind, dev: bool) -> Node {
    let mut config = NodeConfig::new(temp_dir(&format!("{name}-{kind}")));
    config.listen = "127.0.0.1:0".parse().unwrap();
    config.backend = kind;
    config.dev = dev;
    if !dev {
        // The dev genesis (funded dev accounts, gas price 0), without dev
        // mode's block times.
        config.genesis = Some(ward_node::Genesis::dev(&config.chain_id));
    }
    Node::start(config).unwrap()
}

/// On a dev node, as web3.py does it: `eth_estimateGas`, then
/// `eth_sendTransaction` with that gas. Each receipt's status.
fn dev_rounds(kind: BackendKind, seed: u64) -> Vec<String> {
    let node = node("time-dev", kind, true);
    let from = eth_ok(&node, "eth_accounts", json!([]))[0].clone();
    let deploy = ward_chain::tx::eth::wasm_creation_code(&elapsed_code());
    let sent = |request: Value| {
        let hash = eth_ok(&node, "eth_sendTransaction", json!([request]));
        let mut receipt = Value::Null;
        eventually("a receipt", PATIENCE, || {
            receipt = eth_ok(&node, "eth_getTransactionReceipt", json!([hash]));
            !receipt.is_null()
        });
        receipt
    };
    let receipt = sent(json!({ "from": from, "data": hex_of(&deploy) }));
    let contract = receipt["contractAddress"].clone();
    let mut rng = ward_testkit::Rng::new(seed);
    let mut statuses = Vec::new();
    for _ in 0..ROUNDS {
        before_a_second_turns(&mut rng);
        let request = json!({ "from": from, "to": contract });
        let gas = eth_ok(&node, "eth_estimateGas", json!([request]));
        let receipt = sent(json!({ "from": from, "to": contract, "gas": gas }));
        statuses.push(receipt["status"].as_str().unwrap_or("?").to_owned());
    }
    node.shutdown().unwrap();
    statuses
}

/// On a node without `--dev`: `estimateGas`, then a signed transaction
/// with its `gas`. Each receipt's status.
fn ward_rounds(kind: BackendKind, seed: u64) -> Vec<String> {
    let node = node("time", kind, false);
    let chain = node.settings().chain_id.clone();
    let deploy = Payload::Deploy(Deploy::new(elapsed_code(), Vec::new()));
    let tx = raw_with_gas(&chain, 0, 0, 100_000_000, deploy);
    let receipt = ok(
        &node,
        "sendRawTransaction",
        json!({ "tx": tx, "wait": true }),
    );
    let contract = receipt["address"].clone();
    assert!(contract.is_string(), "{receipt}");
    let mut rng = ward_testkit::Rng::new(seed);
    let mut statuses = Vec::new();
    for nonce in 1..=ROUNDS as u64 {
        before_a_second_turns(&mut rng);
        let call = json!({ "to": contract, "input": "0x" });
        let from = devkeys::address(0).to_string();
        let estimate = ok(&node, "estimateGas", json!({ "from": from, "call": call }));
        let gas = estimate["gas"].as_u64().unwrap();
        let payload = Payload::Call {
            to: ward_primitives::Address::from_hex(contract.as_str().unwrap()).unwrap(),
            input: Vec::new(),
        };
        let tx = raw_with_gas(&chain, 0, nonce, gas, payload);
        let receipt = ok(
            &node,
            "sendRawTransaction",
            json!({ "tx": tx, "wait": true }),
        );
        statuses.push(receipt["status"].as_str().unwrap_or("?").to_owned());
    }
    node.shutdown().unwrap();
    statuses
}

#[test]
fn estimates_cover_the_second_a_block_lands_in_on_both_backends() {
    // The four nodes side by side: each round waits for a second to turn.
    let runs: Vec<_> = both_backends()
        .into_iter()
        .enumerate()
        .flat_map(|(i, kind)| {
            let seed = 0x5eed_0000 + i as u64;
            [
                std::thread::spawn(move || ("dev", kind, dev_rounds(kind, seed))),
                std::thread::spawn(move || ("ward", kind, ward_rounds(kind, seed + 7))),
            ]
        })
        .collect();
    for run in runs {
        let (what, kind, statuses) = run.join().unwrap();
        let ok = if what == "dev" { "0x1" } else { "ok" };
        assert!(
            statuses.iter().all(|s| s == ok),
            "{what} node, {kind}: {statuses:?}"
        );
        assert_eq!(statuses.len(), ROUNDS);
    }
}

/// On a dev node each block's second is after its parent's, however fast
/// blocks come; `setNextBlockTime` refuses a time in the last block's
/// second, and `hardhat_mine`'s blocks one second apart get one each.
#[test]
fn a_dev_node_gives_each_block_a_second_of_its_own() {
    let node = super::dev_node("time-seconds", |_| {});
    let seconds = |node: &Node| -> Vec<u64> {
        let height = ok(node, "getLatestBlock", json!({}))["height"]
            .as_u64()
            .unwrap();
        (1..=height)
            .map(|h| {
                ok(node, "getBlock", json!({ "height": h }))["time"]
                    .as_u64()
                    .unwrap()
                    / 1000
            })
            .collect()
    };
    for _ in 0..5 {
        ok(&node, "mine", json!({}));
    }
    eth_ok(&node, "hardhat_mine", json!(["0x3", "0x0"]));
    let times = seconds(&node);
    assert!(times.len() >= 8, "{times:?}");
    assert!(times.windows(2).all(|w| w[1] > w[0]), "{times:?}");
    let last = ok(&node, "getLatestBlock", json!({}))["time"]
        .as_u64()
        .unwrap();
    let same_second = last / 1000 * 1000 + 999;
    let refused = super::call(&node, "setNextBlockTime", json!({ "time": same_second }));
    assert!(refused.is_err(), "{refused:?}");
    ok(
        &node,
        "setNextBlockTime",
        json!({ "time": (last / 1000 + 1) * 1000 }),
    );
    ok(&node, "mine", json!({}));
    // Blocks faster than one a second run ahead of the clock, and the
    // chain's clock goes on from there: `evm_increaseTime` moves it that
    // far past the last block, not past the wall clock (a lock an hour
    // out was still a second early after an hour's increase).
    for _ in 0..10 {
        ok(&node, "mine", json!({}));
    }
    let latest = |node: &Node| {
        ok(node, "getLatestBlock", json!({}))["time"]
            .as_u64()
            .unwrap()
    };
    let before = latest(&node);
    eth_ok(&node, "evm_increaseTime", json!([3600]));
    ok(&node, "mine", json!({}));
    let after = latest(&node);
    assert!(after >= before + 3_600_000, "{before} -> {after}");
    node.shutdown().unwrap();
}
