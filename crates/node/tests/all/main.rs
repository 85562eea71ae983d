//! The node over real HTTP on loopback: every method, refusals, errors,
//! limits, subscriptions, agreement between nodes, shutdown.

#![allow(clippy::unwrap_used, reason = "test")]

#[cfg(feature = "etcd")]
mod cluster;
mod dev;
mod docs;
mod eth;
mod explorer;
mod faults;
mod fork;
mod hardhat;
mod hostile;
mod layers;
mod limits;
mod money;
mod prestate;
mod prune;
#[cfg(feature = "etcd")]
mod replicas;
#[cfg(feature = "etcd")]
mod retention;
mod rpc;
mod runtimes;
mod schema;
mod snapshots;
#[cfg(feature = "etcd")]
mod statesync;
mod time;
mod trace;
mod ws;

use std::{path::PathBuf, time::Duration};

use serde_json::{Value, json};
use ward_chain::tx::{Deploy, Payload, TxBody};
use ward_devkeys as devkeys;
use ward_node::{Node, NodeConfig};
use ward_primitives::Address;
use ward_vm::BackendKind;

/// A counter: `main` adds one to "n", stores its input under "last",
/// emits "set" with the input, and outputs the count (8 bytes); input
/// "revert" exits 7 after writing.
const COUNTER_FIELDS: &str = r#"(memory (export "memory") 4)
  (data (i32.const 0) "n")
  (data (i32.const 8) "last")
  (data (i32.const 16) "set")
  (func (export "main") (local $len i32)
    (drop (call $storage_read (i32.const 0) (i32.const 1) (i32.const 32) (i32.const 8)))
    (i64.store (i32.const 32) (i64.add (i64.load (i32.const 32)) (i64.const 1)))
    (call $storage_write (i32.const 0) (i32.const 1) (i32.const 32) (i32.const 8))
    (local.set $len (call $input_size))
    (call $input_read (i32.const 64) (i32.const 0) (local.get $len))
    (call $storage_write (i32.const 8) (i32.const 4) (i32.const 64) (local.get $len))
    (call $emit_event (i32.const 16) (i32.const 3) (i32.const 64) (local.get $len))
    (if (i32.eq (i32.load (i32.const 64)) (i32.const 0x65766572)) ;; "reve"
      (then (call $exit (i32.const 7))))
    (call $output_write (i32.const 32) (i32.const 8)))"#;

pub(crate) fn counter_code() -> Vec<u8> {
    let imports = "input_size input_read output_write exit storage_read storage_write emit_event";
    ward_testkit::wasm(&ward_testkit::module_importing(imports, COUNTER_FIELDS))
}

/// The deploy of [`counter_code`], without input or salt.
pub(crate) fn counter_deploy() -> Payload {
    Payload::Deploy(Deploy::new(counter_code(), Vec::new()))
}

/// Where [`temp_dir`] and [`dev_node`] put a test's data directory
/// `name`: in this test process's own directory, which the next run of
/// the tests removes (a test cannot remove what a node it stopped may
/// still be writing, and the harness has no end to clean up at).
pub(crate) fn data_dir(name: &str) -> PathBuf {
    static ROOT: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    ROOT.get_or_init(|| {
        let tmp = std::env::temp_dir();
        remove_dead_runs(&tmp);
        let root = tmp.join(format!("ward-node-tests-{}", std::process::id()));
        std::fs::create_dir_all(&root).unwrap();
        root
    })
    .join(name)
}

/// Removes what the test processes that are no longer running left under
/// `tmp`: their `ward-node-tests-PID` directories (and the
/// `ward-node-PID-NAME` ones of earlier versions). A process is known to
/// be gone by its `/proc` entry, so elsewhere than Linux nothing is
/// removed.
fn remove_dead_runs(tmp: &std::path::Path) {
    if !std::path::Path::new("/proc/self").exists() {
        return;
    }
    let Ok(entries) = std::fs::read_dir(tmp) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(rest) = name.to_str().and_then(|n| n.strip_prefix("ward-node-")) else {
            continue;
        };
        let rest = rest.strip_prefix("tests-").unwrap_or(rest);
        let pid: String = rest.chars().take_while(char::is_ascii_digit).collect();
        if pid.is_empty() || std::path::Path::new("/proc").join(&pid).exists() {
            continue;
        }
        let path = entry.path();
        let _ = if path.is_dir() {
            std::fs::remove_dir_all(&path)
        } else {
            std::fs::remove_file(&path)
        };
    }
}

/// Three etcd members in a fresh directory `name`, started with `extra`
/// flags, or `None` where etcd is missing (the test skipped, saying why).
pub(crate) fn etcd_cluster(
    name: &str,
    extra: &[&str],
) -> Option<(PathBuf, ward_testkit::etcd::Etcd)> {
    if !ward_testkit::etcd_present() {
        return None;
    }
    let dir = temp_dir(name);
    let members = ward_testkit::etcd::Etcd::start_with(&dir, extra);
    Some((dir, members))
}

/// A fresh data directory under the system's temporary directory.
pub(crate) fn temp_dir(name: &str) -> PathBuf {
    let dir = data_dir(name);
    // An earlier node of this name may still be writing there after its
    // shutdown (tier-up's thread stores a finished compile in the disk
    // cache), and a removal racing it fails: try again until the
    // directory is gone, so that no test opens another's chain.
    let deadline = ward_vm::clock::now() + Duration::from_secs(30);
    loop {
        match std::fs::remove_dir_all(&dir) {
            Ok(()) => break,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => break,
            Err(e) if ward_vm::clock::passed(deadline) => {
                panic!("{} cannot be removed: {e}", dir.display())
            }
            Err(_) => std::thread::sleep(Duration::from_millis(50)),
        }
    }
    dir
}

/// Waits until `check` holds, polling, at most `limit`: a bound for a
/// stalled node, never the measure of a test (a loaded machine is slow).
pub(crate) fn eventually(what: &str, limit: Duration, mut check: impl FnMut() -> bool) {
    let deadline = ward_vm::clock::now() + limit;
    while !check() {
        assert!(!ward_vm::clock::passed(deadline), "timed out: {what}");
        std::thread::sleep(Duration::from_millis(25));
    }
}

/// How long the tests wait for what a node does in the background (a
/// snapshot, a block) before calling it stalled.
pub(crate) const PATIENCE: Duration = Duration::from_secs(120);

/// A dev node on a free loopback port. Its module cache is the one all
/// dev nodes of this test run share (`--cache-dir`): the EVM runtime,
/// seconds of wasmtime compile, is compiled by the first and loaded by
/// the others. Nodes configured from `NodeConfig::new` keep theirs in
/// their data directory and compile it themselves.
pub(crate) fn dev_node(name: &str, configure: impl FnOnce(&mut NodeConfig)) -> Node {
    let mut config = NodeConfig::new(temp_dir(name));
    config.cache_dir = Some(shared_module_cache());
    config.listen = "127.0.0.1:0".parse().unwrap();
    config.dev = true;
    configure(&mut config);
    Node::start(config).unwrap()
}

/// The module cache the dev nodes of a test run share.
pub(crate) fn shared_module_cache() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("ward-node-module-cache")
}

pub(crate) fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(60)))
        .build()
        .into()
}

/// POSTs `body` to `/rpc`: the status and the body.
pub(crate) fn post(node: &Node, body: &str) -> (u16, String) {
    let mut response = agent()
        .post(format!("{}/rpc", node.url()))
        .header("content-type", "application/json")
        .send(body)
        .unwrap();
    let status = response.status().as_u16();
    (
        status,
        response.body_mut().read_to_string().unwrap_or_default(),
    )
}

/// One call: its `result`, or its `error` as `Err`.
pub(crate) fn call(node: &Node, method: &str, params: Value) -> Result<Value, Value> {
    let body = json!({ "jsonrpc": "2.0", "id": 7, "method": method, "params": params });
    let (status, text) = post(node, &body.to_string());
    assert_eq!(status, 200, "{text}");
    let mut response: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(response["id"], 7);
    match response.get_mut("error") {
        Some(error) => {
            let error = error.take();
            let typed = serde_json::from_value::<ward_rpc::ErrorObject>(error.clone());
            assert!(
                typed.is_ok(),
                "{method}: {error} is no error object: {typed:?}"
            );
            Err(error)
        }
        None => {
            let result = response["result"].take();
            in_its_types(method, &params, &result);
            Ok(result)
        }
    }
}

/// Every answer a test gets is checked against `ward_rpc`'s types: the
/// params it was given read as the method's (it succeeded), and its
/// result, `applied_height` aside, reads as the method's result type and
/// writes back unchanged: the node writes nothing the types lack.
fn in_its_types(method: &str, params: &Value, result: &Value) {
    let Some(again) = ward_rpc::result_again(method, result.clone()) else {
        return;
    };
    let mut expected = result.clone();
    if let Some(object) = expected.as_object_mut() {
        object.remove("applied_height");
    }
    let mut again = again.unwrap_or_else(|e| panic!("{method}: {result} does not read: {e}"));
    if let Some(object) = again.as_object_mut() {
        object.remove("applied_height");
    }
    assert_eq!(
        again, expected,
        "{method}: the result type differs from the node's"
    );
    if let Some(Err(e)) = ward_rpc::params_again(method, params.clone()) {
        panic!("{method}: the node took {params}, which its params type refuses: {e}");
    }
}

pub(crate) fn ok(node: &Node, method: &str, params: Value) -> Value {
    call(node, method, params).unwrap_or_else(|e| panic!("{method}: {e}"))
}

/// The `data.kind` of a call's error.
pub(crate) fn error_kind(node: &Node, method: &str, params: Value) -> String {
    let error = call(node, method, params).unwrap_err();
    error["data"]["kind"].as_str().unwrap().to_owned()
}

/// A transaction signed by dev key `key`, as `sendRawTransaction` hex.
pub(crate) fn raw(chain: &str, key: u32, nonce: u64, payload: Payload) -> String {
    raw_with_gas(chain, key, nonce, 5_000_000, payload)
}

/// [`raw`] with a gas limit of `gas`.
pub(crate) fn raw_with_gas(
    chain: &str,
    key: u32,
    nonce: u64,
    gas: u64,
    payload: Payload,
) -> String {
    let key = devkeys::key(key);
    let tx = TxBody::new(chain, &key.verifying_key(), nonce, gas, payload).sign(&key);
    format!("0x{}", hex::encode(tx.to_bytes()))
}

/// A contract whose `main` loops until its gas runs out.
pub(crate) const SPIN: &str =
    r#"(module (memory (export "memory") 1) (func (export "main") (loop $l (br $l))))"#;

pub(crate) fn both_backends() -> [BackendKind; 2] {
    [BackendKind::Wasmtime, BackendKind::Wasmi]
}

/// A call of the test [`counter_code`] at `counter` from dev account 0 with
/// `input`, waited for: its receipt.
pub(crate) fn bump_with(node: &Node, counter: &Value, input: &str) -> Value {
    ok(
        node,
        "sendTransaction",
        json!({ "from": devkeys::address(0).to_string(), "call": { "to": counter, "input": input }, "wait": true }),
    )
}

/// Runs `scenario` to its end on a runtime of two threads; the test fails
/// when it takes longer than `limit`.
pub(crate) fn run_async<F: std::future::Future>(
    what: &str,
    limit: Duration,
    scenario: F,
) -> F::Output {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        tokio::time::timeout(limit, scenario)
            .await
            .unwrap_or_else(|_| panic!("{what} took over {limit:?}"))
    })
}

/// Dev account 0's first transaction, deploying the test [`counter_code`]:
/// its receipt.
pub(crate) fn deploy_counter(node: &Node) -> Value {
    let chain = node.settings().chain_id.clone();
    let tx = raw(&chain, 0, 0, counter_deploy());
    ok(
        node,
        "sendRawTransaction",
        json!({ "tx": tx, "wait": true }),
    )
}

/// What `getNonce` says of dev account `key`'s transaction count.
pub(crate) fn dev_nonce(node: &Node, key: u32) -> Value {
    let address = devkeys::address(key).to_string();
    ok(node, "getNonce", json!({ "address": address }))["nonce"].clone()
}

/// `GET /health`: its HTTP status and its body.
pub(crate) fn health(node: &Node) -> (u16, Value) {
    let mut response = agent()
        .get(format!("{}/health", node.url()))
        .call()
        .unwrap();
    let status = response.status().as_u16();
    let body = response.body_mut().read_to_string().unwrap();
    (status, serde_json::from_str(&body).unwrap())
}

/// The node's Prometheus page, `/metrics`.
pub(crate) fn metrics(node: &Node) -> String {
    agent()
        .get(format!("{}/metrics", node.url()))
        .call()
        .unwrap()
        .body_mut()
        .read_to_string()
        .unwrap()
}

/// The test [`counter_code`]'s count ("n", 8 bytes little-endian; 0 when
/// unset), read with `getStorage`.
pub(crate) fn counter_count(node: &Node, counter: &Value) -> u64 {
    let got = ok(
        node,
        "getStorage",
        json!({ "address": counter, "key": "0x6e" }),
    );
    got["value"].as_str().map_or(0, |hex| {
        let bytes = ward_node::json::unhex(hex).unwrap();
        u64::from_le_bytes(bytes.try_into().unwrap())
    })
}
