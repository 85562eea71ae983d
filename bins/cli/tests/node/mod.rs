//! `ward serve` as a process: the CLI as its client, a graceful stop on
//! SIGTERM, and crashes under load.

use std::{
    io::{BufRead, BufReader},
    path::PathBuf,
    process::{Child, Command, Stdio},
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use serde_json::{Value, json};

use super::{example, last_json, ward};

#[cfg(feature = "etcd")]
mod cluster;
#[cfg(feature = "etcd")]
mod joiner;
#[cfg(target_os = "linux")]
mod memory;
mod money;
#[cfg(target_os = "linux")]
mod ws;

/// A running `ward serve`, killed when dropped.
pub(crate) struct Served {
    child: Child,
    pub(crate) url: String,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A memory figure of process `pid` from `/proc/PID/status` (`field`:
/// `VmRSS:` now, `VmHWM:` its peak), in bytes.
#[cfg(target_os = "linux")]
pub(crate) fn proc_bytes(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status
        .lines()
        .find(|l| l.starts_with(field))
        .unwrap_or_else(|| panic!("{field} in /proc/PID/status"));
    let kib: u64 = line
        .split_whitespace()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap();
    kib << 10
}

pub(crate) fn node_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ward-cli-node-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// The address a starting `ward serve` prints on its `listening on` line
/// (its stdout piped), waiting at most 300 s (a bound for a hung process,
/// far past what a loaded machine takes).
fn listening_url(child: &mut Child) -> String {
    try_listening_url(child).expect("ward serve prints its address")
}

/// [`listening_url`], or why there is none: the process ended (its exit
/// status) or did not print it within 300 s.
fn try_listening_url(child: &mut Child) -> Result<String, String> {
    let stdout = child.stdout.take().unwrap();
    let (send, receive) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if let Some(url) = line.strip_prefix("listening on ") {
                let _ = send.send(url.to_owned());
            }
        }
    });
    match receive.recv_timeout(Duration::from_secs(300)) {
        Ok(url) => Ok(url),
        Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
            Err("no `listening on` line within 300 s".to_owned())
        }
        Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
            let status = child.wait().map_err(|e| e.to_string())?;
            Err(format!("it closed its stdout and ended: {status}"))
        }
    }
}

/// Starts `ward serve --dev` on `dir` and a free port; returns once it
/// printed its `listening on` line. The dev nodes of a test run share one
/// `--cache-dir`, so the EVM runtime is compiled by the first of them.
pub(crate) fn serve(dir: &std::path::Path, extra: &[&str]) -> Served {
    let cache = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("ward-cli-module-cache");
    let mut flags = vec!["--dev", "--cache-dir", cache.to_str().unwrap()];
    flags.extend(extra);
    serve_plain(dir, &flags)
}

/// [`serve`] without `--dev`: `extra` says all.
pub(crate) fn serve_plain(dir: &std::path::Path, extra: &[&str]) -> Served {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ward"))
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir)
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let url = listening_url(&mut child);
    Served { child, url }
}

/// POSTs a JSON-RPC batch to `url`'s `/rpc` with `agent`: its answers
/// (an answer may be up to 64 MiB).
pub(crate) fn post_batch(agent: &ureq::Agent, url: &str, batch: Vec<Value>) -> Vec<Value> {
    let text = agent
        .post(format!("{url}/rpc"))
        .header("content-type", "application/json")
        .send(Value::Array(batch).to_string())
        .unwrap()
        .body_mut()
        .with_config()
        .limit(64 << 20)
        .read_to_string()
        .unwrap();
    serde_json::from_str(&text).unwrap()
}

/// One call with a fresh agent that waits up to 120 s: its result, or its
/// error as text.
pub(crate) fn rpc(url: &str, method: &str, params: Value) -> Result<Value, String> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(120)))
        .build()
        .into();
    rpc_with(&agent, url, method, params).map_err(|e| e.to_string())
}

/// One call: its result, or its error object (a transport failure is an
/// error of kind "transport").
pub(crate) fn rpc_with(
    agent: &ureq::Agent,
    url: &str,
    method: &str,
    params: Value,
) -> Result<Value, Value> {
    let body = json!({ "jsonrpc": "2.0", "id": 1, "method": method, "params": params });
    let transport = |e: String| json!({ "data": { "kind": "transport" }, "message": e });
    let mut response = agent
        .post(format!("{url}/rpc"))
        .header("content-type", "application/json")
        .send(body.to_string())
        .map_err(|e| transport(e.to_string()))?;
    let text = response
        .body_mut()
        .read_to_string()
        .map_err(|e| transport(e.to_string()))?;
    let mut value: Value = serde_json::from_str(&text).map_err(|e| transport(e.to_string()))?;
    match value.get_mut("error") {
        Some(error) => Err(error.take()),
        None => Ok(value["result"].take()),
    }
}

fn counter_wasm() -> String {
    example("counter.wat")
}

#[test]
fn the_cli_talks_to_a_node_as_it_talks_to_a_data_directory() {
    let dir = node_dir("client");
    let node = serve(&dir, &[]);
    let url = node.url.as_str();
    let with_node = |args: &[&str]| {
        let mut all = args.to_vec();
        all.extend(["--node", url, "--json"]);
        ward(&all)
    };
    let deployed = with_node(&["deploy", &counter_wasm()]);
    assert_eq!(deployed.status.code(), Some(0), "{deployed:?}");
    let deployed = last_json(&deployed);
    let address = deployed["address"].as_str().unwrap().to_owned();
    assert_eq!(deployed["backend"], "wasmtime");

    let called = with_node(&["call", &address]);
    assert_eq!(called.status.code(), Some(0));
    let called = last_json(&called);
    assert_eq!(called["height"], 2);
    // The example's `main` writes, which a query refuses, as on a data
    // directory.
    let queried = last_json(&with_node(&["query", &address]));
    assert_eq!(queried["status"], "trapped");
    let receipt = last_json(&with_node(&["receipt", called["tx"].as_str().unwrap()]));
    assert_eq!(receipt["tx"], called["tx"]);
    let state = last_json(&with_node(&["state", &address]));
    assert_eq!(state["address"], address);

    // A key file signs; its account's nonce counts from zero.
    let key = dir.join("key.json");
    let made = ward(&["key", "new", key.to_str().unwrap(), "--json"]);
    assert_eq!(made.status.code(), Some(0));
    let account = last_json(&made)["address"].as_str().unwrap().to_owned();
    assert_eq!(
        ward(&["key", "new", key.to_str().unwrap()]).status.code(),
        Some(2),
        "never overwritten"
    );
    let signed = with_node(&["call", &address, "--key", key.to_str().unwrap()]);
    assert_eq!(signed.status.code(), Some(0), "{signed:?}");
    assert_eq!(
        rpc(url, "getNonce", json!({ "address": account })).unwrap()["nonce"],
        1
    );

    // A proof from the node verifies against its root, and no other.
    let proof = rpc(
        url,
        "getStorage",
        json!({ "address": address, "key": "0x636f756e74" }),
    )
    .unwrap();
    let file = dir.join("proof.json");
    std::fs::write(&file, proof.to_string()).unwrap();
    let root = proof["state_root"].as_str().unwrap();
    assert_eq!(
        ward(&["verify-proof", "--root", root, file.to_str().unwrap()])
            .status
            .code(),
        Some(0)
    );
    let other = format!("0x{}", "11".repeat(32));
    assert_eq!(
        ward(&["verify-proof", "--root", &other, file.to_str().unwrap()])
            .status
            .code(),
        Some(1)
    );

    // Refusals are the node's, named as such.
    let refused = with_node(&[
        "call",
        &address,
        "--sender",
        &format!("0x{}", "01".repeat(32)),
    ]);
    assert_eq!(refused.status.code(), Some(2));
    assert_eq!(last_json(&refused)["error"]["kind"], "node");
    // --key without a node has no one to send to.
    let alone = ward(&[
        "call",
        &address,
        "--key",
        key.to_str().unwrap(),
        "--data-dir",
        dir.join("none").to_str().unwrap(),
    ]);
    assert_eq!(alone.status.code(), Some(2));

    // The SDK token by schema through the node: JSON arguments encoded
    // here (signed with the key file too), decoded receipts, `methods`.
    let token_wasm = ward_testkit::contracts::build()
        .unwrap()
        .join("token.wasm")
        .display()
        .to_string();
    let token = last_json(&with_node(&[
        "deploy",
        &token_wasm,
        "--json-args",
        r#"{"initial_supply": "1000"}"#,
    ]));
    assert_eq!(token["events"][0]["fields"]["amount"], "1000", "{token}");
    let token = token["address"].as_str().unwrap().to_owned();
    let methods = last_json(&with_node(&["methods", &token]));
    assert_eq!(methods["schema"]["events"][0]["name"], "Transfer");
    let to_account = format!(r#"{{"to": "{account}", "amount": "40"}}"#);
    let sent = last_json(&with_node(&[
        "call",
        &token,
        "--method",
        "transfer",
        "--json-args",
        &to_account,
    ]));
    assert_eq!(sent["events"][0]["name"], "Transfer", "{sent}");
    let back = format!(
        r#"{{"to": "{}", "amount": "15"}}"#,
        "0x".to_owned() + &"b0".repeat(32)
    );
    let signed = last_json(&with_node(&[
        "call",
        &token,
        "--method",
        "transfer",
        "--json-args",
        &back,
        "--key",
        key.to_str().unwrap(),
    ]));
    assert_eq!(
        signed["events"][0]["fields"]["from"],
        account.as_str(),
        "{signed}"
    );
    let who = format!(r#"{{"who": "{account}"}}"#);
    let balance = last_json(&with_node(&[
        "query",
        &token,
        "--method",
        "balance_of",
        "--json-args",
        &who,
    ]));
    assert_eq!(balance["decoded"], "25");
    let bad = with_node(&["call", &token, "--method", "transfer", "--json-args", "{}"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("transfer(to: address, amount: u128)"));
}

/// Sends SIGTERM and waits for the process to end.
fn terminate(child: &mut Child) -> std::process::ExitStatus {
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let deadline = ward_vm::clock::now() + Duration::from_secs(30);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        assert!(
            !ward_vm::clock::passed(deadline),
            "ward serve did not stop on SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn sigterm_finishes_the_block_and_exits_zero() {
    let dir = node_dir("sigterm");
    let mut node = serve(&dir, &[]);
    let from = rpc(&node.url, "getNetwork", json!({})).unwrap()["dev_accounts"][0].clone();
    let code = format!("0x{}", hex(&std::fs::read(example("counter.wat")).unwrap()));
    let receipt = rpc(
        &node.url,
        "sendTransaction",
        json!({ "from": from, "deploy": { "code": code }, "wait": true }),
    );
    // The example is text: the node judges the bytes and rejects them.
    assert_eq!(receipt.unwrap()["status"], "rejected");
    let status = terminate(&mut node.child);
    assert_eq!(status.code(), Some(0));
    // It stopped cleanly: a new node opens the directory at once.
    let again = serve(&dir, &[]);
    assert_eq!(
        rpc(&again.url, "getLatestBlock", json!({})).unwrap()["height"],
        1
    );
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Rounds of the crash test (`WARD_CRASH_ROUNDS`, default 6).
fn crash_rounds() -> usize {
    std::env::var("WARD_CRASH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(6)
}

/// A counter of `url`'s `/metrics` (`name`, without `_total`).
fn counter(url: &str, name: &str) -> u64 {
    let text = ureq::get(format!("{url}/metrics"))
        .call()
        .unwrap()
        .body_mut()
        .read_to_string()
        .unwrap();
    let line = format!("{name}_total ");
    text.lines()
        .find_map(|l| l.strip_prefix(line.as_str()))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("no {name}_total in /metrics"))
}

/// Killed with SIGKILL at random moments while four senders keep its
/// block pipeline busy (each block executed while the one before
/// commits, `ward_blocks_pipelined_total` counting them), a node
/// restarts with every acknowledged transaction in exactly one block,
/// every block whole and chained, and every block replaying
/// (`replayBlock`) to the same state root on its parent's state.
#[test]
fn a_node_killed_under_load_keeps_every_acknowledged_transaction_once() {
    let dir = node_dir("crash");
    let mut pipelined = 0;
    let acknowledged: Arc<Mutex<Vec<String>>> = Arc::default();
    let mut rng = ward_testkit::Rng::new(0x2545_f491_4f6c_dd1d);
    for round in 0..crash_rounds() {
        let before = acknowledged.lock().unwrap().len();
        let mut node = serve(&dir, &[]);
        let url = node.url.clone();
        let accounts = rpc(&url, "getNetwork", json!({})).unwrap()["dev_accounts"].clone();
        let stop = Arc::new(AtomicBool::new(false));
        // Four senders, each from its own dev account: every call to a
        // missing contract is a receipt (no_contract) and moves state
        // (the nonce), which is all this test needs.
        let senders: Vec<_> = (0..4)
            .map(|i| {
                let (url, stop, acked) = (url.clone(), stop.clone(), acknowledged.clone());
                let from = accounts[i].clone();
                std::thread::spawn(move || {
                    while !stop.load(Ordering::Relaxed) {
                        let params = json!({ "from": from, "call": { "to": format!("0x{}", "ee".repeat(32)) }, "wait": true });
                        match rpc(&url, "sendTransaction", params) {
                            Ok(receipt) => acked.lock().unwrap().push(receipt["tx"].as_str().unwrap().to_owned()),
                            Err(_) => break,
                        }
                    }
                })
            })
            .collect();
        // Killed at a random moment once the load is acknowledged at
        // least once this round, however slow the machine is.
        let deadline = ward_vm::clock::now() + Duration::from_secs(120);
        while acknowledged.lock().unwrap().len() == before {
            assert!(
                !ward_vm::clock::passed(deadline),
                "round {round}: nothing acknowledged in 120 s"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        std::thread::sleep(Duration::from_millis(rng.next() % 800));
        pipelined += counter(&url, "ward_blocks_pipelined");
        node.child.kill().unwrap();
        node.child.wait().unwrap();
        stop.store(true, Ordering::Relaxed);
        for sender in senders {
            sender.join().unwrap();
        }
        drop(node);
        // Restart: every acknowledged transaction is there, in exactly one
        // block, and every block is whole.
        let node = serve(&dir, &[]);
        let acked = acknowledged.lock().unwrap().clone();
        assert!(
            acked.len() > before,
            "round {round}: the load acknowledged nothing"
        );
        let height = rpc(&node.url, "getLatestBlock", json!({})).unwrap()["height"]
            .as_u64()
            .unwrap();
        let mut seen = std::collections::BTreeMap::new();
        let mut parent = Value::String(format!("0x{}", "00".repeat(32)));
        for h in 1..=height {
            let block = rpc(&node.url, "getBlock", json!({ "height": h })).unwrap();
            assert_eq!(block["parent"], parent, "block {h}");
            parent = block["hash"].clone();
            for tx in block["txs"].as_array().unwrap() {
                let receipt = rpc(&node.url, "getTransaction", json!({ "tx": tx })).unwrap();
                assert_eq!(receipt["height"], h, "a receipt of block {h}");
                assert!(
                    seen.insert(tx.as_str().unwrap().to_owned(), h).is_none(),
                    "{tx} twice"
                );
            }
        }
        for tx in &acked {
            assert!(
                seen.contains_key(tx),
                "acknowledged {tx} is lost after round {round}"
            );
        }
        drop(node);
    }
    // Every block, whichever round built it, replays to itself.
    let node = serve(&dir, &[]);
    let height = rpc(&node.url, "getLatestBlock", json!({})).unwrap()["height"]
        .as_u64()
        .unwrap();
    for h in 1..=height {
        let replay = rpc(&node.url, "replayBlock", json!({ "height": h })).unwrap();
        assert_eq!(
            replay["replayed"], replay["stored"],
            "block {h} replays otherwise"
        );
        assert_eq!(replay["equal"], true, "block {h}");
    }
    eprintln!("{height} blocks, {pipelined} of them committed while the next one executed");
    assert!(pipelined > 0, "the load never kept the pipeline busy");
}

/// `contracts/evm/solidity/NAME.EXT`.
fn solidity(file: &str) -> String {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../contracts/evm/solidity")
        .join(file)
        .display()
        .to_string()
}

/// A Solidity ERC-20 and an escrow over a node started with `--runtime
/// evm`, through the CLI and `--abi` (docs/evm.md): constructor arguments,
/// calls, a revert's message and events decoded from the ABI JSON. The
/// chain records the runtime: a restart without it is refused, with it
/// the state is there.
#[test]
fn solidity_contracts_run_on_a_node_with_the_evm_runtime() {
    ward_testkit::contracts::build().unwrap();
    let module = ward_testkit::contracts::out_dir().join("evm.wasm");
    let runtime = format!("evm={}", module.display());
    let dir = node_dir("evm");
    let node = serve(&dir, &["--runtime", &runtime]);
    let url = node.url.clone();
    let cli = |args: &[&str]| {
        let mut all = args.to_vec();
        all.extend(["--node", &url, "--json"]);
        let out = ward(&all);
        (out.status.code().unwrap(), last_json(&out))
    };
    let (token_bin, token_abi) = (solidity("Token.bin"), solidity("Token.abi"));
    let (code, deployed) = cli(&[
        "deploy",
        "--runtime",
        "evm",
        &token_bin,
        "--abi",
        &token_abi,
        "--json-args",
        "[5000]",
    ]);
    assert_eq!(
        (code, deployed["status"].as_str()),
        (0, Some("ok")),
        "{deployed}"
    );
    let token = deployed["address"].as_str().unwrap().to_owned();
    assert!(token.starts_with("0x000000000000000000000000"), "{token}");
    assert_eq!(deployed["events"][0]["name"], "Transfer");
    assert_eq!(deployed["events"][0]["fields"]["value"], 5000);

    let bob = "0xb0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0";
    let args = format!("[\"{bob}\", 1200]");
    // `ward call` or `ward query` of the token's METHOD with JSON ARGS.
    let token_cli = |command: &str, method: &str, args: &str| {
        cli(&[
            command,
            &token,
            "--abi",
            &token_abi,
            "--method",
            method,
            "--json-args",
            args,
        ])
    };
    let (code, sent) = token_cli("call", "transfer", &args);
    assert_eq!((code, sent["decoded"].as_bool()), (0, Some(true)), "{sent}");
    assert_eq!(
        sent["events"][0]["fields"]["to"]
            .as_str()
            .unwrap()
            .to_lowercase(),
        bob
    );
    let query = format!("[\"{bob}\"]");
    let (_, balance) = token_cli("query", "balanceOf", &query);
    assert_eq!(balance["decoded"], 1200, "{balance}");
    let too_much = format!("[\"{bob}\", 99999]");
    let (code, reverted) = token_cli("call", "transfer", &too_much);
    assert_eq!((code, reverted["status"].as_str()), (1, Some("reverted")));
    assert_eq!(reverted["decoded"], "insufficient balance");
    drop(node);

    // The chain recorded the runtime: a node naming other runtimes is
    // refused (before it serves anything, so the command exits) ...
    let other = ward_testkit::contracts::out_dir().join("stackvm.wasm");
    let out = Command::new(env!("CARGO_BIN_EXE_ward"))
        .args(["serve", "--dev", "--listen", "127.0.0.1:0", "--runtime"])
        .arg(format!("stackvm={}", other.display()))
        .arg("--data-dir")
        .arg(&dir)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("system runtimes"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // ... and a dev node naming none takes those it recorded.
    let node = serve(&dir, &[]);
    let url = node.url.clone();
    let out = ward(&[
        "query",
        &token,
        "--abi",
        &token_abi,
        "--method",
        "balanceOf",
        "--json-args",
        &query,
        "--node",
        &url,
        "--json",
    ]);
    assert_eq!(last_json(&out)["decoded"], 1200);
    let _ = std::fs::remove_dir_all(&dir);
}
