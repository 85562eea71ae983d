//! `ward deploy --admin`, `ward upgrade` and `ward set-admin`
//! (docs/contracts.md, "Upgrades"), on a data directory and through a
//! node.

use serde_json::{Value, json};

use super::{data_dir, last_json, temp_file, ward};

const ALICE: &str = "0xa1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1";
const BOB: &str = "0xb0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0";

/// The counter's two versions, as files.
fn versions() -> (String, String) {
    let file = |name: &str| {
        let bytes = ward_testkit::contracts::wasm(name);
        temp_file(&format!("{name}.wasm"), &bytes)
            .display()
            .to_string()
    };
    (file("counter"), file("counter2"))
}

/// Runs `ward ARGS --json`: the exit code and the JSON it printed last.
fn json(args: &[&str]) -> (i32, Value) {
    let mut all = args.to_vec();
    all.push("--json");
    let out = ward(&all);
    (out.status.code().unwrap(), last_json(&out))
}

#[test]
fn the_admin_upgrades_a_contract_in_a_data_directory() {
    let dir = data_dir("upgrade");
    let (v1, v2) = versions();
    let at = ["--data-dir", dir.as_str()];
    let with = |args: &[&str]| {
        let mut all = args.to_vec();
        all.extend(at);
        json(&all)
    };
    let (code, deployed) = with(&[
        "deploy", &v1, "--arg", "u64:5", "--admin", ALICE, "--sender", ALICE,
    ]);
    assert_eq!(code, 0, "{deployed}");
    let counter = deployed["address"].as_str().unwrap().to_owned();
    let (code, _) = with(&["call", &counter, "--method", "increment", "--arg", "u64:2"]);
    assert_eq!(code, 0);

    // Bob is not the admin: refused, nothing changes.
    let (code, refused) = with(&[
        "upgrade", &counter, &v2, "--arg", "u64:10", "--arg", "u64:3", "--sender", BOB,
    ]);
    assert_eq!(code, 1, "{refused}");
    assert_eq!(refused["error"]["kind"], "not_admin");
    // A failing migrate (a step of 0) undoes the upgrade.
    let (code, failed) = with(&[
        "upgrade", &counter, &v2, "--arg", "u64:0", "--arg", "u64:3", "--sender", ALICE,
    ]);
    assert_eq!(code, 1, "{failed}");
    assert_eq!(failed["status"], "reverted");
    let (_, state) = with(&["state", &counter]);
    assert_eq!(state["code_history"].as_array().unwrap().len(), 1);

    // Alice's upgrade: migrate(10, 3) turns 7 into 21, counting in tens.
    let (code, upgraded) = with(&[
        "upgrade", &counter, &v2, "--arg", "u64:10", "--arg", "u64:3", "--sender", ALICE,
    ]);
    assert_eq!(code, 0, "{upgraded}");
    assert_eq!(
        upgraded["events"][0]["topic"],
        format!("0x{}", hex::encode("ward.upgraded"))
    );
    let (_, got) = with(&["query", &counter, "--method", "get"]);
    assert_eq!(got["decoded"], "21");
    let (_, bumped) = with(&["call", &counter, "--method", "increment"]);
    assert_eq!(bumped["decoded"], "31", "{bumped}");
    let (_, state) = with(&["state", &counter]);
    assert_eq!(state["address"], counter);
    assert_eq!(state["admin"], ALICE);
    let history = state["code_history"].as_array().unwrap();
    assert_eq!(history.len(), 2);
    assert_eq!(history[1]["code_hash"], state["code_hash"]);
    // The new code's schema is the one `ward methods` reads.
    let methods = ward(&["methods", &counter, "--data-dir", &dir]);
    assert!(String::from_utf8_lossy(&methods.stdout).contains("step()"));

    // The admin hands on, then drops it: immutable from then on.
    let (code, _) = with(&["set-admin", &counter, BOB, "--sender", ALICE]);
    assert_eq!(code, 0);
    let (code, _) = with(&["set-admin", &counter, "none", "--sender", BOB]);
    assert_eq!(code, 0);
    let (_, state) = with(&["state", &counter]);
    assert_eq!(state["admin"], Value::Null);
    let (code, late) = with(&["upgrade", &counter, &v1, "--sender", BOB]);
    assert_eq!(code, 1);
    assert_eq!(late["status"], "rejected", "{late}");
    // A bad admin is a usage error that sends nothing.
    let out = ward(&["set-admin", &counter, "nobody", "--data-dir", &dir]);
    assert_eq!(out.status.code(), Some(2));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_node_takes_upgrades_as_transactions_of_their_own() {
    let dir = super::node::node_dir("upgrade");
    let node = super::node::serve(&dir, &[]);
    let url = node.url.as_str();
    let (v1, v2) = versions();
    let admin = super::node::rpc(url, "getNetwork", json!({})).unwrap()["dev_accounts"][0]
        .as_str()
        .unwrap()
        .to_owned();
    let remote = |args: &[&str]| {
        let mut all = args.to_vec();
        all.extend(["--node", url]);
        json(&all)
    };
    let (code, deployed) = remote(&["deploy", &v1, "--arg", "u64:5", "--admin", &admin]);
    assert_eq!(code, 0, "{deployed}");
    let counter = deployed["address"].as_str().unwrap().to_owned();
    let (code, upgraded) = remote(&["upgrade", &counter, &v2, "--arg", "u64:4", "--arg", "u64:2"]);
    assert_eq!(code, 0, "{upgraded}");
    let contract = super::node::rpc(url, "getContract", json!({ "address": counter })).unwrap();
    assert_eq!(contract["admin"], admin);
    assert_eq!(contract["code_history"].as_array().unwrap().len(), 2);
    assert!(contract["schema"]["methods"].to_string().contains("step"));
    let (_, got) = remote(&["query", &counter, "--method", "get"]);
    assert_eq!(got["decoded"], "10");
    // The stored transaction reads back as an upgrade.
    let tx = super::node::rpc(url, "getTransaction", json!({ "tx": upgraded["tx"] })).unwrap();
    assert_eq!(tx["transaction"]["admin"]["contract"], counter, "{tx}");
    let (code, _) = remote(&["set-admin", &counter, "none"]);
    assert_eq!(code, 0);
    let contract = super::node::rpc(url, "getContract", json!({ "address": counter })).unwrap();
    assert_eq!(contract["admin"], Value::Null);
    drop(node);
    let _ = std::fs::remove_dir_all(&dir);
}
