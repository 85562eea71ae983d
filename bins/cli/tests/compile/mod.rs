//! `ward compile`: an artifact a node's disk cache loads without
//! compiling, counted in the node's metrics.

use std::time::Duration;

use super::{example, last_json, ward};
use crate::node::{node_dir, serve_plain};

/// A counter of the node's `/metrics` (OpenMetrics text).
fn metric(url: &str, name: &str) -> u64 {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into();
    let text = agent
        .get(format!("{url}/metrics"))
        .call()
        .unwrap()
        .body_mut()
        .read_to_string()
        .unwrap();
    text.lines()
        .find_map(|line| line.strip_prefix(&format!("{name} ")))
        .unwrap_or_else(|| panic!("no {name} in\n{text}"))
        .trim()
        .parse()
        .unwrap()
}

/// Deploys and calls the counter through the node at `url`; returns the
/// node's compiles and disk loads after.
fn deploy_and_call(url: &str) -> (u64, u64) {
    let counter = example("counter.wat");
    let deployed = last_json(&ward(&["deploy", &counter, "--node", url, "--json"]));
    assert_eq!(deployed["status"], "ok", "{deployed}");
    let address = deployed["address"].as_str().unwrap().to_owned();
    let called = last_json(&ward(&["call", &address, "--node", url, "--json"]));
    assert_eq!(called["status"], "ok", "{called}");
    (
        metric(url, "ward_module_cache_misses_total"),
        metric(url, "ward_module_cache_disk_loads_total"),
    )
}

#[test]
fn a_compiled_artifact_dropped_into_a_node_s_cache_is_loaded_without_a_compile() {
    // Without it: the node compiles the contract.
    let plain = node_dir("compile-plain");
    // Dev nodes with their own cache (`serve` would share one).
    let serve = |dir: &std::path::Path| serve_plain(dir, &["--dev"]);
    let node = serve(&plain);
    let (compiles, _) = deploy_and_call(&node.url);
    eprintln!("without: {compiles} compiles");
    assert!(compiles >= 1, "{compiles}");
    drop(node);

    // With it: compiled ahead of time into the node's cache directory.
    let dir = node_dir("compile-ahead");
    std::fs::create_dir_all(dir.join("cache")).unwrap();
    let artifact = dir.join("cache/counter.cwasm");
    let out = ward(&[
        "compile",
        &example("counter.wat"),
        "-o",
        artifact.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("code hash"));
    let node = serve(&dir);
    assert!(!artifact.exists(), "imported when the node started");
    let (compiles, loads) = deploy_and_call(&node.url);
    eprintln!("ahead of time: {compiles} compiles, {loads} disk loads");
    assert_eq!(compiles, 0, "no compile");
    assert!(loads >= 1, "{loads}");
    drop(node);

    // A module the policy refuses is refused here too, writing nothing.
    let bad = std::env::temp_dir().join(format!("ward-cli-{}-bad.wat", std::process::id()));
    std::fs::write(&bad, "(module (import \"env\" \"open\" (func)))").unwrap();
    let out_file = dir.join("bad.cwasm");
    let refused = ward(&[
        "compile",
        bad.to_str().unwrap(),
        "-o",
        out_file.to_str().unwrap(),
    ]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("unknown_import"));
    assert!(!out_file.exists());
    let _ = std::fs::remove_dir_all(&plain);
    let _ = std::fs::remove_dir_all(&dir);
}
