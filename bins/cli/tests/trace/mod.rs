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

/// The sum of a folded profile's lines.
fn folded_total(folded: &str) -> u64 {
    folded
        .lines()
        .map(|l| l.rsplit_once(' ').unwrap().1.parse::<u64>().unwrap())
        .sum()
}

/// A panic in a contract built with debug info: `ward call --trace` shows
/// its backtrace with the helper's name and the panic's line, and `ward
/// trace --profile` writes folded stacks and a flame graph whose gas is
/// the receipt's, the same on both backends.
#[test]
fn a_panic_is_traced_with_its_backtrace_and_profiled() {
    ward_testkit::contracts::build().unwrap();
    let faults = ward_testkit::contracts::out_dir()
        .join("../debug-info/faults.wasm")
        .display()
        .to_string();
    let dir = std::env::temp_dir().join(format!("ward-cli-profile-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let data = dir.join("data").display().to_string();
    let deployed = last_json(&ward(&["deploy", &faults, "--data-dir", &data, "--json"]));
    let address = deployed["address"].as_str().unwrap().to_owned();
    let call = ward(&[
        "call",
        &address,
        "--method",
        "share",
        "--json-args",
        r#"{"total": 10, "parts": 0}"#,
        "--trace",
        "--data-dir",
        &data,
    ]);
    assert_eq!(call.status.code(), Some(1), "a reverted call");
    let text = String::from_utf8_lossy(&call.stdout);
    let panic_line = ward_testkit::contracts::source_line("faults", "panic!(\"cannot split");
    assert!(
        text.contains("faults::split_evenly at ")
            && text.contains(&format!("faults/src/lib.rs:{panic_line}:")),
        "{text}"
    );
    let tx = text
        .lines()
        .find_map(|l| l.strip_prefix("tx:"))
        .and_then(|l| l.split_whitespace().next())
        .unwrap()
        .to_owned();
    let [a, b] = ["wasmtime", "wasmi"].map(|backend| {
        let prefix = dir.join(backend).display().to_string();
        let out = ward(&[
            "trace",
            &tx,
            "--profile",
            "--profile-out",
            &prefix,
            "--backend",
            backend,
            "--data-dir",
            &data,
        ]);
        assert_eq!(out.status.code(), Some(0));
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(text.contains("gas profile:"), "{text}");
        assert!(text.contains("faults::split_evenly"), "{text}");
        let folded = std::fs::read_to_string(format!("{prefix}.folded")).unwrap();
        let svg = std::fs::read_to_string(format!("{prefix}.svg")).unwrap();
        assert!(svg.starts_with("<?xml") && svg.contains("split_evenly"));
        // The same but for where the files went.
        let text: String = text
            .lines()
            .filter(|l| !l.contains(&prefix))
            .map(|l| format!("{l}\n"))
            .collect();
        (folded, text)
    });
    assert_eq!(a, b, "the backends' profiles differ");
    let gas: u64 =
        a.1.lines()
            .find_map(|l| l.strip_prefix("tx ").and_then(|l| l.split(", gas ").nth(1)))
            .and_then(|l| l.split_whitespace().next())
            .unwrap()
            .parse()
            .unwrap();
    assert_eq!(folded_total(&a.0), gas);
    let _ = std::fs::remove_dir_all(&dir);
}

/// `ward run --profile`: the profile's gas is the run's, the same on both
/// backends, its functions named by the module's exports.
#[test]
fn a_run_is_profiled_alike_on_both_backends() {
    let hello = crate::example("hello.wat");
    let dir = std::env::temp_dir().join(format!("ward-cli-run-profile-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let [a, b] = ["wasmtime", "wasmi"].map(|backend| {
        let prefix = dir.join(backend).display().to_string();
        let args = [
            "run",
            &hello,
            "--input",
            "0x77617264",
            "--profile",
            "--profile-out",
            &prefix,
        ];
        let json = ward(&[&args[..], &["--backend", backend, "--json"]].concat());
        assert_eq!(json.status.code(), Some(0));
        let text = ward(&[&args[..], &["--backend", backend]].concat());
        assert!(String::from_utf8_lossy(&text.stdout).contains("gas profile:"));
        last_json(&json)["profile"].clone()
    });
    assert_eq!(a, b);
    let folded = a["folded"].as_str().unwrap();
    assert_eq!(folded_total(folded), a["total"].as_u64().unwrap());
    assert!(
        folded.contains("hello.wat;main;ward.output_write "),
        "{folded}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
