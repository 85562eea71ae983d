//! `ward trace`, `ward call --trace` and `--gas auto` on a data
//! directory: the token's transfer deployed and called with estimated gas,
//! its trace printed as JSON and as a tree, the same on both backends.

use crate::{last_json, ward};

#[test]
fn a_transfer_with_estimated_gas_is_traced_alike_on_both_backends() {
    let contracts = ward_testkit::contracts::build().unwrap();
    let token_wasm = contracts.join("token.wasm").display().to_string();
    let dir = std::env::temp_dir()
        .join(format!("ward-cli-trace-{}", std::process::id()))
        .display()
        .to_string();
    let _ = std::fs::remove_dir_all(&dir);
    let alice = format!("0x{}", "a1".repeat(32));
    let bob = format!("0x{}", "b0".repeat(32));
    let deploy = ward(&[
        "deploy",
        &token_wasm,
        "--json-args",
        r#"{"initial_supply": "1000"}"#,
        "--sender",
        &alice,
        "--gas",
        "auto",
        "--data-dir",
        &dir,
        "--json",
    ]);
    let deployed = last_json(&deploy);
    assert_eq!(deployed["status"], "ok", "{deployed}");
    assert!(String::from_utf8_lossy(&deploy.stderr).contains("gas: auto"));
    let token = deployed["address"].as_str().unwrap().to_owned();
    let args = format!(r#"{{"to": "{bob}", "amount": "100"}}"#);
    let call = ward(&[
        "call",
        &token,
        "--method",
        "transfer",
        "--json-args",
        &args,
        "--sender",
        &alice,
        "--gas",
        "auto",
        "--trace",
        "--data-dir",
        &dir,
        "--json",
    ]);
    assert_eq!(
        call.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&call.stderr)
    );
    // The receipt, then the trace on the last line.
    let trace = last_json(&call);
    let receipt = &trace["receipt"];
    assert_eq!(receipt["status"], "ok", "{trace}");
    assert_eq!(trace["gas_accounted"], receipt["gas_used"]);
    assert_eq!(trace["root"]["method"], "transfer");
    assert_eq!(trace["root"]["args"]["amount"], "100");
    let tx = receipt["tx"].as_str().unwrap();
    for backend in ["wasmtime", "wasmi"] {
        let again = last_json(&ward(&[
            "trace",
            tx,
            "--data-dir",
            &dir,
            "--backend",
            backend,
            "--json",
        ]));
        assert_eq!(again, trace, "{backend}");
    }
    let text = ward(&["trace", tx, "--data-dir", &dir]);
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("transfer({"), "{text}");
    assert!(text.contains("event Transfer"), "{text}");
    assert!(!text.contains('\x1b'), "no colour off a terminal");
    let unknown = ward(&[
        "trace",
        &format!("0x{}", "11".repeat(32)),
        "--data-dir",
        &dir,
    ]);
    assert_ne!(unknown.status.code(), Some(0));
    let _ = std::fs::remove_dir_all(&dir);
}

/// `ward run --trace`: the module's one frame, the same on both backends,
/// its gas the run's.
#[test]
fn a_run_is_traced_alike_on_both_backends() {
    let counter = crate::example("counter.wat");
    let [a, b] = ["wasmtime", "wasmi"].map(|backend| {
        let out = ward(&["run", &counter, "--trace", "--backend", backend, "--json"]);
        assert_eq!(out.status.code(), Some(0));
        last_json(&out)
    });
    assert_eq!(a, b);
    let accesses = a["root"]["accesses"].as_array().unwrap();
    assert_eq!(accesses.len(), 3, "{a}");
    assert_eq!(a["gas_accounted"], a["receipt"]["gas_used"]);
    assert_eq!(a["root"]["kind"], "ward");
}
