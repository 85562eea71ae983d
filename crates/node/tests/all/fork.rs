//! A dev node forking another node's chain (`--fork URL`, docs/node.md,
//! "Forking a chain"): it reads the source's state, writes its own, and
//! never touches the source.

use serde_json::{Value, json};
use ward_devkeys as devkeys;
use ward_node::{NodeConfig, fork::ForkConfig};
use ward_primitives::Address;
use ward_vm::BackendKind;

use crate::{
    bump_with as bump, call, counter_code, counter_count as count, dev_node, error_kind, ok,
    temp_dir,
};

fn fork_of(name: &str, source: &ward_node::Node, height: Option<u64>) -> ward_node::Node {
    let mut config = NodeConfig::new(temp_dir(name));
    config.listen = "127.0.0.1:0".parse().unwrap();
    config.dev = true;
    // The other backend than the source's: the same state either way.
    config.backend = BackendKind::Wasmi;
    config.fork = Some(ForkConfig {
        url: source.url(),
        height,
    });
    ward_node::Node::start(config).unwrap()
}

fn latest(node: &ward_node::Node) -> Value {
    ok(node, "getLatestBlock", json!({}))
}

#[test]
fn a_fork_reads_the_source_s_state_and_writes_only_its_own() {
    let source = dev_node("fork-source", |c| c.backend = BackendKind::Wasmtime);
    let code = format!("0x{}", hex::encode(counter_code()));
    let counter = ok(
        &source,
        "sendTransaction",
        json!({ "from": devkeys::address(0).to_string(), "deploy": { "code": code }, "gas": 100_000_000, "wait": true }),
    )["address"]
        .clone();
    bump(&source, &counter, "0x01");
    let early = latest(&source)["height"].as_u64().unwrap();
    bump(&source, &counter, "0x02");
    bump(&source, &counter, "0x03");
    let bob = Address([0xb0; 32]).to_string();
    ok(
        &source,
        "setBalance",
        json!({ "address": bob, "balance": "500" }),
    );
    let base = latest(&source);
    let source_root = base["state_root"].clone();

    let fork = fork_of("fork", &source, None);
    // Its base is the source's latest block, its settings the source's.
    let network = ok(&fork, "getNetwork", json!({}));
    assert_eq!(network["fork"]["height"], base["height"]);
    assert_eq!(network["fork"]["hash"], base["hash"]);
    assert_eq!(
        network["settings"],
        ok(&source, "getNetwork", json!({}))["settings"]
    );
    assert_eq!(latest(&fork)["hash"], base["hash"]);
    // The source's state, read as needed: storage, a balance, the
    // contract and its code.
    assert_eq!(count(&fork, &counter), 3);
    assert_eq!(
        ok(&fork, "getBalance", json!({ "address": bob }))["balance"],
        "500"
    );
    let contract = ok(&fork, "getContract", json!({ "address": counter }));
    assert_eq!(
        contract["code_hash"],
        ok(&source, "getContract", json!({ "address": counter }))["code_hash"]
    );
    assert_eq!(
        ok(
            &fork,
            "getStorage",
            json!({ "address": counter, "key": "0x6e" })
        )["proof"],
        Value::Null
    );

    // Its own writes: the source's contract runs here, on its state.
    let receipt = bump(&fork, &counter, "0x04");
    assert_eq!(receipt["status"], "ok", "{receipt}");
    assert_eq!(
        receipt["output"],
        format!("0x{}", hex::encode(4u64.to_le_bytes()))
    );
    let first = latest(&fork);
    assert_eq!(first["parent"], base["hash"]);
    assert_eq!(count(&fork, &counter), 4);
    ok(
        &fork,
        "setBalance",
        json!({ "address": bob, "balance": "0" }),
    );
    assert_eq!(
        ok(&fork, "getBalance", json!({ "address": bob }))["balance"],
        "0"
    );
    // ... and nothing reached the source.
    assert_eq!(latest(&source)["hash"], base["hash"]);
    assert_eq!(latest(&source)["state_root"], source_root);
    assert_eq!(count(&source, &counter), 3);
    assert_eq!(
        ok(&source, "getBalance", json!({ "address": bob }))["balance"],
        "500"
    );
    // Its dev accounts are funded, whatever the source holds.
    assert_eq!(
        ok(
            &fork,
            "getBalance",
            json!({ "address": devkeys::address(3).to_string() })
        )["balance"],
        ward_node::genesis::DEV_BALANCE.to_string()
    );
    // Blocks before its base are the source's to answer.
    assert_eq!(
        error_kind(&fork, "getBlock", json!({ "height": 1 })),
        "not_found"
    );

    // A fork at an older block sees the state of then.
    let old = fork_of("fork-old", &source, Some(early));
    // A simulation reads through the fork as of the latest block.
    let simulated = ok(
        &old,
        "simulateTransaction",
        json!({ "from": devkeys::address(0).to_string(), "call": { "to": counter, "input": "0x09" } }),
    );
    assert_eq!(
        simulated["output"],
        format!("0x{}", hex::encode(2u64.to_le_bytes())),
        "{simulated}"
    );
    assert_eq!(count(&old, &counter), 1);
    assert_eq!(
        ok(&old, "getBalance", json!({ "address": bob }))["balance"],
        "0"
    );
    old.shutdown().unwrap();

    // What the fork fetched stays: with the source gone it still reads
    // it, and what it never fetched is an error, not a wrong answer.
    source.shutdown().unwrap();
    assert_eq!(count(&fork, &counter), 4);
    let contract_again = ok(&fork, "getContract", json!({ "address": counter }));
    assert_eq!(contract_again["code_hash"], contract["code_hash"]);
    assert_eq!(bump(&fork, &counter, "0x05")["status"], "ok");
    let never = Address([0x55; 32]).to_string();
    let refused = call(&fork, "getBalance", json!({ "address": never })).unwrap_err();
    assert_eq!(refused["data"]["kind"], "fault", "{refused}");
    // ... and that fault did not stop its blocks.
    assert_eq!(bump(&fork, &counter, "0x06")["status"], "ok");
    fork.shutdown().unwrap();
}

#[test]
fn a_fork_is_a_dev_node_of_its_own_directory() {
    let source = dev_node("fork-rules-source", |_| {});
    ok(&source, "mine", json!({}));
    let start = |name: &str, configure: &dyn Fn(&mut NodeConfig)| {
        let mut config = NodeConfig::new(temp_dir(name));
        config.listen = "127.0.0.1:0".parse().unwrap();
        config.dev = true;
        config.fork = Some(ForkConfig {
            url: source.url(),
            height: None,
        });
        configure(&mut config);
        ward_node::Node::start(config)
    };
    for (name, configure) in [
        (
            "fork-no-dev",
            &(|c: &mut NodeConfig| c.dev = false) as &dyn Fn(&mut NodeConfig),
        ),
        ("fork-prune", &|c: &mut NodeConfig| {
            c.prune_history = Some(10)
        }),
        ("fork-snapshots", &|c: &mut NodeConfig| {
            c.snapshot_interval = Some(4)
        }),
        ("fork-far", &|c: &mut NodeConfig| {
            c.fork.as_mut().unwrap().height = Some(99);
        }),
        ("fork-nowhere", &|c: &mut NodeConfig| {
            c.fork.as_mut().unwrap().url = "http://127.0.0.1:9".into();
        }),
    ] {
        assert!(start(name, configure).is_err(), "{name}");
    }
    // A directory that holds a chain of its own is not forked over...
    let own = dev_node("fork-own", |_| {});
    ok(&own, "mine", json!({}));
    own.shutdown().unwrap();
    let mut config = NodeConfig::new(crate::data_dir("fork-own"));
    config.listen = "127.0.0.1:0".parse().unwrap();
    config.dev = true;
    config.fork = Some(ForkConfig {
        url: source.url(),
        height: None,
    });
    assert!(ward_node::Node::start(config).is_err());
    // ... and a fork's directory is not served as a chain of its own, but
    // is again as the fork it is.
    let fork = start("fork-again", &|_| {}).unwrap();
    ok(&fork, "mine", json!({}));
    let height = latest(&fork)["height"].clone();
    fork.shutdown().unwrap();
    let dir = crate::data_dir("fork-again");
    let mut plain = NodeConfig::new(dir.clone());
    plain.listen = "127.0.0.1:0".parse().unwrap();
    plain.dev = true;
    assert!(ward_node::Node::start(plain).is_err());
    let mut again = NodeConfig::new(dir);
    again.listen = "127.0.0.1:0".parse().unwrap();
    again.dev = true;
    again.fork = Some(ForkConfig {
        url: source.url(),
        height: None,
    });
    let fork = ward_node::Node::start(again).unwrap();
    assert_eq!(latest(&fork)["height"], height);
    fork.shutdown().unwrap();
    source.shutdown().unwrap();
}
