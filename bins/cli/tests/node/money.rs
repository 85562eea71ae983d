//! The native asset from the command line: `ward genesis`, a node started
//! from it, `ward balance` (both ways, with a proof `ward verify-proof`
//! checks), `ward transfer` in whole units signed by a key file, and
//! what an unfunded key gets.

use std::process::{Command, Stdio};

use serde_json::Value;

use super::{Served, listening_url, node_dir};
use crate::{last_json, ward};

fn run(args: &[&str]) -> (i32, String, String) {
    let out = ward(args);
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_chain_from_ward_genesis_moves_value_and_proves_balances() {
    let dir = node_dir("money");
    std::fs::create_dir_all(&dir).unwrap();
    let path = |name: &str| dir.join(name).display().to_string();
    // A key, funded by the genesis.
    let key = ward(&["key", "new", &path("me.json"), "--json"]);
    let me = last_json(&key)["address"].as_str().unwrap().to_string();
    let (code, _, stderr) = run(&[
        "genesis",
        &path("genesis.json"),
        "--chain-id",
        "ward-cli-money",
        "--fund",
        &format!("{me}=5000000000000000000"),
        "--min-gas-price",
        "2",
    ]);
    assert_eq!(code, 0, "{stderr}");
    // It is not overwritten.
    let (code, _, stderr) = run(&["genesis", &path("genesis.json")]);
    assert_ne!(code, 0);
    assert!(stderr.contains("genesis.json"), "{stderr}");

    let mut child = Command::new(env!("CARGO_BIN_EXE_ward"))
        .args(["serve", "--listen", "127.0.0.1:0", "--genesis"])
        .arg(dir.join("genesis.json"))
        .arg("--data-dir")
        .arg(dir.join("data"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let url = listening_url(&mut child);
    let node = Served { child, url };
    let url = node.url.as_str();

    let (code, stdout, _) = run(&["balance", &me, "--node", url]);
    assert_eq!(code, 0);
    assert!(stdout.contains("5000000000000000000 (5 WARD)"), "{stdout}");

    // 1.5 whole units to bob, signed by the key file.
    let bob = format!("0x{}", "b0".repeat(32));
    let out = ward(&[
        "transfer",
        &bob,
        "1.5",
        "--key",
        &path("me.json"),
        "--node",
        url,
        "--json",
    ]);
    let receipt = last_json(&out);
    assert_eq!(receipt["status"], "ok", "{receipt}");
    let fee: u128 = receipt["fee"].as_str().unwrap().parse().unwrap();
    assert_eq!(fee, 2 * u128::from(receipt["gas_used"].as_u64().unwrap()));
    let (_, stdout, _) = run(&["balance", &bob, "--node", url]);
    assert!(
        stdout.contains("1500000000000000000 (1.5 WARD)"),
        "{stdout}"
    );
    let (_, stdout, _) = run(&["balance", &me, "--node", url, "--json"]);
    let mine: Value = serde_json::from_str(stdout.trim()).unwrap();
    let left = 5_000_000_000_000_000_000u128 - 1_500_000_000_000_000_000 - fee;
    assert_eq!(mine["balance"], left.to_string());

    // The balance's proof holds against its root, and a changed balance's
    // does not.
    let (_, stdout, _) = run(&["balance", &bob, "--node", url, "--json"]);
    let proof: Value = serde_json::from_str(stdout.trim()).unwrap();
    let root = proof["state_root"].as_str().unwrap().to_string();
    std::fs::write(dir.join("proof.json"), proof.to_string()).unwrap();
    let (code, stdout, _) = run(&["verify-proof", "--root", &root, &path("proof.json")]);
    assert_eq!(code, 0, "{stdout}");
    assert!(stdout.contains("valid: the balance of"), "{stdout}");
    let mut forged = proof.clone();
    forged["balance"] = Value::from("1500000000000000001");
    std::fs::write(dir.join("forged.json"), forged.to_string()).unwrap();
    let (code, _, _) = run(&["verify-proof", "--root", &root, &path("forged.json")]);
    assert_eq!(code, 1);

    // A key the genesis did not fund is refused before any block, and a
    // price below the chain's minimum too.
    let _ = ward(&["key", "new", &path("poor.json")]);
    let (code, _, stderr) = run(&[
        "transfer",
        &bob,
        "1",
        "--key",
        &path("poor.json"),
        "--node",
        url,
    ]);
    assert_ne!(code, 0);
    assert!(
        stderr.contains("insufficient_funds") || stderr.contains("holds 0"),
        "{stderr}"
    );
    let (code, _, stderr) = run(&[
        "transfer",
        &bob,
        "1",
        "--key",
        &path("me.json"),
        "--gas-price",
        "1",
        "--node",
        url,
    ]);
    assert_ne!(code, 0);
    assert!(stderr.contains("minimum"), "{stderr}");
    // Amounts that do not parse are usage errors.
    let (code, _, stderr) = run(&["transfer", &bob, "1.5.5", "--node", url]);
    assert_eq!(code, 2, "{stderr}");
    drop(node);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_node_without_dev_or_genesis_refuses_to_start_a_chain() {
    let dir = node_dir("no-genesis");
    let (code, _, stderr) = run(&[
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--data-dir",
        &dir.display().to_string(),
    ]);
    assert_ne!(code, 0);
    assert!(stderr.contains("--genesis"), "{stderr}");
    let _ = std::fs::remove_dir_all(&dir);
}
