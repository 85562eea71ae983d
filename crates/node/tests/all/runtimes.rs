//! System runtimes registered on a node, self-metered or engine-metered
//! (`--runtime NAME=PATH,metered`, docs/runtimes.md).

use serde_json::{Value, json};
use ward_devkeys as devkeys;
use ward_node::{NodeConfig, runtimes::RuntimeSpec};
use ward_primitives::RuntimeName;
use ward_vm::{BackendKind, Metering};

use crate::{ok, temp_dir};

/// stackvm bytecode summing 1..=n (n: the input's i64), as the executor's
/// tests have it.
fn sum_program() -> Vec<u8> {
    let mut p = vec![0x01];
    p.extend_from_slice(&0i64.to_le_bytes());
    p.extend_from_slice(&[0x05, 0x21, 30, 0, 0x05, 0x10, 0x04, 0x01]);
    p.extend_from_slice(&1i64.to_le_bytes());
    p.extend_from_slice(&[0x11, 0x04, 0x20, 9, 0, 0x00]);
    p
}

fn stackvm(metering: Metering) -> RuntimeSpec {
    let path = crate::data_dir("stackvm.wasm");
    std::fs::write(&path, ward_testkit::contracts::wasm("stackvm")).unwrap();
    RuntimeSpec {
        name: RuntimeName::new("stackvm").unwrap(),
        path,
        metering,
    }
}

fn config(dir: &str, backend: BackendKind, metering: Metering, fresh: bool) -> NodeConfig {
    let dir = if fresh {
        temp_dir(dir)
    } else {
        crate::data_dir(dir)
    };
    let mut config = NodeConfig::new(dir);
    config.listen = "127.0.0.1:0".parse().unwrap();
    config.dev = true;
    config.backend = backend;
    config.runtimes = vec![stackvm(metering)];
    config
}

/// Deploys the sum program and runs it on 10: the receipt of the call,
/// and the chain's record of the runtime.
fn sum(node: &ward_node::Node) -> (Value, String) {
    let from = devkeys::address(0).to_string();
    let code = format!("0x{}", hex::encode(sum_program()));
    let deployed = ok(
        node,
        "sendTransaction",
        json!({ "from": from, "deploy": { "code": code, "kind": "stackvm" }, "gas": 50_000_000, "wait": true }),
    );
    assert_eq!(deployed["status"], "ok", "{deployed}");
    let input = format!("0x{}", hex::encode(10i64.to_le_bytes()));
    let called = ok(
        node,
        "sendTransaction",
        json!({ "from": from, "call": { "to": deployed["address"], "input": input }, "gas": 5_000_000, "wait": true }),
    );
    assert_eq!(
        called["output"],
        format!("0x{}", hex::encode(55i64.to_le_bytes()))
    );
    let network = ok(node, "getNetwork", json!({}));
    let record = network["settings"]["runtimes"]["stackvm"]
        .as_str()
        .unwrap()
        .to_owned();
    (called, record)
}

#[test]
fn an_engine_metered_runtime_also_pays_for_its_instructions() {
    let self_metered = ward_node::Node::start(config(
        "runtime-self",
        BackendKind::Wasmtime,
        Metering::SelfMetered,
        true,
    ))
    .unwrap();
    let (cheap, record) = sum(&self_metered);
    assert!(!record.ends_with(",metered"), "{record}");
    self_metered.shutdown().unwrap();

    let mut metered_gas = Vec::new();
    for backend in [BackendKind::Wasmtime, BackendKind::Wasmi] {
        let name = format!("runtime-metered-{}", backend.as_str());
        let node =
            ward_node::Node::start(config(&name, backend, Metering::Instrumented, true)).unwrap();
        let (receipt, record) = sum(&node);
        assert!(record.ends_with(",metered"), "{record}");
        assert!(
            receipt["gas_used"].as_u64() > cheap["gas_used"].as_u64(),
            "{receipt} vs {cheap}"
        );
        metered_gas.push(receipt["gas_used"].clone());
        node.shutdown().unwrap();
        // The chain recorded how its runtime is metered: the same module
        // registered the other way is refused.
        let other = config(&name, backend, Metering::SelfMetered, false);
        let refused = ward_node::Node::start(other).err().expect("refused");
        assert!(refused.to_string().contains("runtimes"), "{refused}");
    }
    assert_eq!(metered_gas[0], metered_gas[1], "both backends");
    // docs/runtimes.md states both figures.
    let commas = |gas: &Value| {
        let digits = gas.as_u64().unwrap().to_string();
        let mut out = String::new();
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                out.push(',');
            }
            out.push(c);
        }
        out
    };
    let doc = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/runtimes.md"
    ))
    .unwrap()
    .replace('\n', " ");
    let stated = format!(
        "costs {} gas self-metered and {} engine-metered",
        commas(&cheap["gas_used"]),
        commas(&metered_gas[0])
    );
    assert!(doc.contains(&stated), "docs/runtimes.md: {stated}");
}
