//! The native asset over real HTTP (`docs/economics.md`): a node started
//! from a genesis refuses what its senders cannot pay for, charges fees,
//! orders its blocks by price, replaces and evicts by price, proves
//! balances, and a dev node moves value and sets balances.

use std::collections::BTreeMap;

use serde_json::{Value, json};
use ward_chain::{
    tree::{self, StateKey},
    tx::{Payload, TxBody},
};
use ward_devkeys as devkeys;
use ward_node::{
    Genesis, Node,
    genesis::{Amount, Asset, GenesisLimits},
};
use ward_primitives::Address;

use crate::{call, dev_node, error_kind, ok, post};

const CHAIN: &str = "ward-money";
const GAS: u64 = 1_000_000;
const FUNDS: u128 = 10_000_000_000_000;

/// A genesis funding dev accounts 0..3, with a minimum price of 2.
fn genesis() -> Genesis {
    Genesis {
        chain_id: CHAIN.into(),
        asset: Asset {
            name: "MNY".into(),
            decimals: 6,
        },
        balances: (0..3)
            .map(|i| (devkeys::address(i).to_string(), Amount(FUNDS)))
            .collect(),
        min_gas_price: Amount(2),
        fee_collector: None,
        eth_chain_id: None,
        limits: GenesisLimits::default(),
    }
}

fn signed(key: u32, nonce: u64, price: u128, value: u128, to: Address) -> String {
    let signer = devkeys::key(key);
    let call = Payload::Call {
        to,
        input: Vec::new(),
    };
    let tx = TxBody {
        gas_price: price,
        value,
        ..TxBody::new(CHAIN, &signer.verifying_key(), nonce, GAS, call)
    }
    .sign(&signer);
    format!("0x{}", hex::encode(tx.to_bytes()))
}

fn node(name: &str, block_time_ms: u64) -> Node {
    dev_node(name, |c| {
        c.dev = false;
        c.chain_id = CHAIN.into();
        c.genesis = Some(genesis());
        c.block_time_ms = block_time_ms;
    })
}

fn balance(node: &Node, address: Address) -> u128 {
    let answer = ok(
        node,
        "getBalance",
        json!({ "address": address.to_string() }),
    );
    answer["balance"].as_str().unwrap().parse().unwrap()
}

#[test]
fn a_chain_from_a_genesis_charges_for_gas_and_refuses_who_cannot_pay() {
    let node = node("money-genesis", 0);
    let network = ok(&node, "getNetwork", json!({}));
    assert_eq!(network["asset"], json!({ "name": "MNY", "decimals": 6 }));
    assert_eq!(network["min_gas_price"], "2");
    assert_eq!(network["fee_collector"], Value::Null);
    // Height 0 is the genesis: the balance is proven there already.
    let at0 = ok(
        &node,
        "getBalance",
        json!({ "address": devkeys::address(1).to_string(), "height": 0 }),
    );
    assert_eq!(at0["balance"], FUNDS.to_string());
    assert_eq!(at0["state_root"], network["genesis_root"]);

    // An unfunded key, a price below the minimum, more value than held.
    let carol = Address([0xca; 32]);
    let refusals = [
        (signed(7, 0, 2, 1, carol), "insufficient_funds"),
        (signed(0, 0, 1, 1, carol), "underpriced"),
        (signed(0, 0, 2, FUNDS, carol), "insufficient_funds"),
    ];
    for (tx, kind) in refusals {
        let got = error_kind(&node, "sendRawTransaction", json!({ "tx": tx }));
        assert_eq!(got, kind);
    }
    // Two transactions that each fit the balance but not together: the
    // second is refused, since the first can take its whole cost.
    let half = FUNDS / 2;
    let first = ok(
        &node,
        "sendRawTransaction",
        json!({ "tx": signed(1, 0, 2, half, carol), "wait": true }),
    );
    assert_eq!(first["status"], "ok");
    let fee: u128 = first["fee"].as_str().unwrap().parse().unwrap();
    assert_eq!(fee, 2 * u128::from(first["gas_used"].as_u64().unwrap()));
    assert_eq!(balance(&node, devkeys::address(1)), FUNDS - half - fee);
    assert_eq!(balance(&node, carol), half);
    // The balance is in the state tree: its proof holds against the root.
    let proven = ok(&node, "getBalance", json!({ "address": carol.to_string() }));
    let root = ward_primitives::Hash32(
        ward_node::json::unhex32(proven["state_root"].as_str().unwrap()).unwrap(),
    );
    let proof = hex::decode(&proven["proof"].as_str().unwrap()[2..]).unwrap();
    let key = StateKey::Balance(&carol).to_bytes();
    tree::verify(&root, &key, Some(&half.to_le_bytes()), &proof).unwrap();
    assert!(tree::verify(&root, &key, Some(&(half + 1).to_le_bytes()), &proof).is_err());

    // Key 7 holds nothing, but its inbox (where an EVM contract's value
    // to its 20-byte form waits) does: admission counts it, and key 7's
    // transaction collects it before paying its fee.
    let seven = devkeys::address(7);
    let inbox = seven.inbox().unwrap();
    let funded = ok(
        &node,
        "sendRawTransaction",
        json!({ "tx": signed(2, 0, 2, 1_000_000_000, inbox), "wait": true }),
    );
    assert_eq!(funded["status"], "ok");
    let own = ok(
        &node,
        "sendRawTransaction",
        json!({ "tx": signed(7, 0, 2, 1, carol), "wait": true }),
    );
    assert_eq!(own["status"], "ok", "{own}");
    let fee: u128 = own["fee"].as_str().unwrap().parse().unwrap();
    assert_eq!(balance(&node, inbox), 0);
    assert_eq!(balance(&node, seven), 1_000_000_000 - fee - 1);
    node.shutdown().unwrap();
}

#[test]
fn a_flood_from_unfunded_keys_leaves_every_block_empty() {
    let node = node("money-flood", 0);
    // 5,000 transactions from 100 keys that hold nothing, in batches.
    let mut refused = 0;
    for batch in 0..50u64 {
        let requests: Vec<Value> = (0..100u32)
            .map(|i| {
                let tx = signed(100 + i, batch, 2, 0, Address([0xdd; 32]));
                json!({ "jsonrpc": "2.0", "id": i, "method": "sendRawTransaction", "params": { "tx": tx } })
            })
            .collect();
        let (status, text) = post(&node, &Value::Array(requests).to_string());
        assert_eq!(status, 200);
        let answers: Vec<Value> = serde_json::from_str(&text).unwrap();
        refused += answers
            .iter()
            .filter(|a| a["error"]["data"]["kind"] == "insufficient_funds")
            .count();
    }
    assert_eq!(refused, 5_000);
    assert_eq!(ok(&node, "getNetwork", json!({}))["height"], 0, "no block");
    let metrics = crate::metrics(&node);
    assert!(metrics.contains("ward_mempool_size 0"), "{metrics}");
    node.shutdown().unwrap();
}

#[test]
fn a_block_takes_the_best_price_first_and_a_replacement_must_outbid() {
    // Blocks every 1.5 s, so that transactions wait together.
    let node = node("money-order", 1_500);
    let carol = Address([0xca; 32]);
    let mut hashes = BTreeMap::new();
    for (key, price) in [(0, 3), (1, 9), (2, 5)] {
        let sent = ok(
            &node,
            "sendRawTransaction",
            json!({ "tx": signed(key, 0, price, 1, carol) }),
        );
        hashes.insert(sent["tx"].as_str().unwrap().to_string(), price);
    }
    // Key 0 replaces its transaction: 5 % more is not enough, 10 % is.
    let low = call(
        &node,
        "sendRawTransaction",
        json!({ "tx": signed(0, 0, 3, 2, carol) }),
    )
    .unwrap_err();
    assert_eq!(low["data"]["kind"], "underpriced", "{low}");
    let replacement = ok(
        &node,
        "sendRawTransaction",
        json!({ "tx": signed(0, 0, 4, 2, carol), "wait": true }),
    );
    let block = replacement["height"].as_u64().unwrap();
    let record = ok(&node, "getBlock", json!({ "height": block }));
    let order: Vec<u128> = record["txs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|tx| {
            let got = ok(&node, "getTransaction", json!({ "tx": tx }));
            got["transaction"]["gas_price"]
                .as_str()
                .unwrap()
                .parse()
                .unwrap()
        })
        .collect();
    assert_eq!(order, [9, 5, 4], "the best price first");
    // 1 + 1, and the replacement's 2 (not the replaced one's 1).
    assert_eq!(balance(&node, carol), 4);
    node.shutdown().unwrap();
}

#[test]
fn a_dev_node_moves_value_and_sets_balances() {
    let node = dev_node("money-dev", |_| {});
    let bob = Address([0xb0; 32]);
    let sent = ok(
        &node,
        "sendTransaction",
        json!({
            "from": devkeys::address(0).to_string(),
            "call": { "to": bob.to_string() },
            "value": "1000000000000000000",
            "gas_price": "7",
            "wait": true
        }),
    );
    assert_eq!(sent["status"], "ok", "{sent}");
    assert_eq!(balance(&node, bob), 10u128.pow(18));
    let fee: u128 = sent["fee"].as_str().unwrap().parse().unwrap();
    assert_eq!(fee, 7 * u128::from(sent["gas_used"].as_u64().unwrap()));
    assert_eq!(
        balance(&node, devkeys::address(0)),
        ward_node::genesis::DEV_BALANCE - 10u128.pow(18) - fee
    );
    let block = ok(
        &node,
        "setBalance",
        json!({ "address": bob.to_string(), "balance": "5" }),
    );
    assert_eq!(balance(&node, bob), 5);
    // The block that set it carries it in its state root.
    let proven = ok(&node, "getBalance", json!({ "address": bob.to_string() }));
    assert_eq!(proven["state_root"], block["state_root"]);
    node.shutdown().unwrap();
}

/// A committed transaction sent again, and another signed with a nonce
/// its sender used, are refused as such (`known`, `nonce`) once the
/// sender can no longer pay for them: what the chain already did is
/// checked before funds.
#[test]
fn a_resent_transaction_or_a_used_nonce_is_refused_as_such_after_funds_fell() {
    let node = node("money-resend", 0);
    let to = Address([0x99; 32]);
    // Half the funds and one more move away: the same again is more than
    // what is left.
    let first = signed(1, 0, 2, FUNDS / 2 + 1, to);
    let receipt = ok(
        &node,
        "sendRawTransaction",
        json!({ "tx": first, "wait": true }),
    );
    assert_eq!(receipt["status"], "ok", "{receipt}");
    assert!(balance(&node, devkeys::address(1)) < FUNDS / 2);
    let again = call(&node, "sendRawTransaction", json!({ "tx": first })).unwrap_err();
    assert_eq!(again["data"]["kind"], "known", "{again}");
    let reused = signed(1, 0, 2, FUNDS / 2 + 2, to);
    let refused = call(&node, "sendRawTransaction", json!({ "tx": reused })).unwrap_err();
    assert_eq!(refused["data"]["kind"], "nonce", "{refused}");
    // What it cannot pay for with a fresh nonce is still refused for funds.
    let next = signed(1, 1, 2, FUNDS / 2 + 2, to);
    let poor = call(&node, "sendRawTransaction", json!({ "tx": next })).unwrap_err();
    assert_eq!(poor["data"]["kind"], "insufficient_funds", "{poor}");
    node.shutdown().unwrap();
}

/// A transaction behind a nonce gap on a node that receives nothing else
/// expires on the mempool's clock: its waiter hears `expired`, and it is
/// no longer pending.
#[test]
fn a_gapped_transaction_expires_on_an_idle_node() {
    let node = dev_node("money-gapped", |c| {
        c.dev = false;
        c.chain_id = CHAIN.into();
        c.genesis = Some(genesis());
        c.limits.mempool_gapped_ttl = std::time::Duration::from_secs(1);
    });
    // Nonce 1 of an account whose next is 0.
    let gapped = signed(2, 1, 2, 5, Address([0x98; 32]));
    let expired = call(
        &node,
        "sendRawTransaction",
        json!({ "tx": gapped, "wait": true }),
    )
    .unwrap_err();
    assert_eq!(expired["data"]["kind"], "expired", "{expired}");
    let hash = ward_chain::tx::SignedTx::from_bytes(
        &hex::decode(gapped.trim_start_matches("0x")).unwrap(),
    )
    .unwrap()
    .hash();
    let gone = call(&node, "getTransaction", json!({ "tx": hash.to_string() })).unwrap_err();
    assert_eq!(gone["data"]["kind"], "not_found", "{gone}");
    node.shutdown().unwrap();
}

/// A node started on a chain's directory with a genesis that differs only
/// in its minimum gas price is refused with a message naming that setting
/// and both values (the genesis roots are the same: they cannot tell).
#[test]
fn a_genesis_that_differs_in_one_setting_is_refused_naming_it() {
    node("money-other-genesis", 0).shutdown().unwrap();
    let dir = crate::data_dir("money-other-genesis");
    let mut other = genesis();
    other.min_gas_price = Amount(5);
    let mut config = ward_node::NodeConfig::new(dir);
    config.listen = "127.0.0.1:0".parse().unwrap();
    config.chain_id = CHAIN.into();
    config.genesis = Some(other);
    let refused = match Node::start(config) {
        Ok(_) => panic!("a node started with another genesis"),
        Err(e) => e.to_string(),
    };
    assert!(
        refused.contains("min_gas_price is \"2\"") && refused.contains("\"5\""),
        "{refused}"
    );
    assert!(!refused.contains("genesis_root"), "{refused}");
}
