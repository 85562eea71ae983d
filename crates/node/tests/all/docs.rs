//! docs/node.md and docs/transactions.md state what the code defines.

use std::path::Path;

use ward_node::{RpcLimits, mempool::MAX_NONCE_GAP};

fn doc(name: &str) -> String {
    std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../docs")
            .join(name),
    )
    .unwrap()
}

#[test]
fn the_limits_table_states_the_defaults() {
    let doc = doc("node.md");
    let limits = RpcLimits::default();
    let rows = [
        ("--max-body-bytes", limits.max_body_bytes as u64),
        ("--max-json-depth", limits.max_json_depth as u64),
        ("--max-batch", limits.max_batch as u64),
        ("--max-connections", limits.max_connections as u64),
        (
            "--request-timeout-ms",
            limits.request_timeout.as_millis() as u64,
        ),
        ("--query-gas-cap", limits.query_gas_cap),
        ("--mempool-size", limits.mempool_size as u64),
        ("--max-subscriptions", limits.max_subscriptions as u64),
        (
            "--header-timeout-ms",
            limits.header_timeout.as_millis() as u64,
        ),
        ("--read-timeout-ms", limits.read_timeout.as_millis() as u64),
        ("--max-response-bytes", limits.max_response_bytes as u64),
    ];
    for (flag, default) in rows {
        let row = format!("| `{flag}` | {default}");
        assert!(doc.contains(&row), "docs/node.md lacks {row:?}");
    }
    use ward_node::mempool::{TIMED_OUT_KEPT, TIMED_OUT_THROTTLE};
    assert!(doc.contains(&format!("the last {TIMED_OUT_KEPT}, `TIMED_OUT_KEPT`")));
    assert!(doc.contains(&format!("refused for {} s", TIMED_OUT_THROTTLE.as_secs())));
    let inline = format!(
        "an input longer than {} bytes",
        ward_node::INLINE_INPUT_BYTES
    );
    assert!(doc.contains(&inline), "{inline}");
    let reserved = format!("one of {} reserved slots", ward_node::RESERVED_CONNECTIONS);
    assert!(doc.contains(&reserved), "{reserved}");
    let queue = format!("queue of {}", limits.ws_queue);
    assert!(doc.contains(&queue), "{queue}");
    let send = format!("complete in {} s", limits.ws_send_timeout.as_secs());
    assert!(doc.contains(&send), "{send}");
    assert!(doc.contains(ward_node::DEFAULT_LISTEN));
    assert!(doc.contains(ward_node::DEFAULT_CHAIN_ID));
    assert!(doc.contains(ward_chain::tx::DEV_SEED));
    assert_eq!(ward_chain::tx::DEV_ACCOUNTS, 10, "docs/node.md says ten");
    assert!(doc.contains(&format!("{MAX_NONCE_GAP} or more past")));
    use ward_node::mempool::{GAPPED_TTL, MAX_GAPPED_PER_SENDER, PENDING_TTL};
    assert!(doc.contains(&format!("at most {MAX_GAPPED_PER_SENDER} per sender")));
    assert!(doc.contains(&format!("after {} s (`GAPPED_TTL`)", GAPPED_TTL.as_secs())));
    assert!(doc.contains(&format!(
        "after {} s\n(`PENDING_TTL`)",
        PENDING_TTL.as_secs()
    )));
}

#[test]
fn the_transaction_document_states_the_constants() {
    let doc = doc("transactions.md");
    assert!(doc.contains(&format!(
        "## Encoding (version {})",
        ward_chain::tx::TX_VERSION
    )));
    assert!(doc.contains(&format!(
        "1 to {} bytes",
        ward_chain::tx::MAX_CHAIN_ID_BYTES
    )));
    assert!(doc.contains(&format!("{MAX_NONCE_GAP} or more past")));
    let header = ward_chain::block::Header::default();
    let size = ward_primitives::codec::Encode::to_bytes(&header).len();
    assert!(doc.contains(&format!("({size} bytes)")));
    let max_tx = ward_executor::ChainLimits::default().max_tx_bytes;
    assert!(doc.contains(&format!("`max_tx_bytes` ({} MiB)", max_tx >> 20)));
}

#[test]
fn the_replication_document_states_the_constants() {
    use ward_node::replica::{
        ClusterConfig, DEFAULT_PREFIX, MAX_CLUSTER_TX_BYTES, MAX_ENTRY_BYTES, ROOTS_KEPT,
    };
    let doc = doc("replication.md");
    assert!(doc.contains(&format!("at most {MAX_CLUSTER_TX_BYTES} bytes")));
    assert!(doc.contains(&format!("an entry at most {MAX_ENTRY_BYTES} bytes")));
    assert!(doc.contains(&format!("the last {ROOTS_KEPT} blocks")));
    assert!(doc.contains(&format!("(default `{DEFAULT_PREFIX}`)")));
    let lease = ClusterConfig::new(Vec::new(), String::new()).lease_ttl;
    assert!(doc.contains(&format!("`--lease-secs` (default {}", lease.as_secs())));
    let header = ward_primitives::codec::Encode::to_bytes(&ward_chain::block::Header::default());
    assert!(doc.contains(&format!("the proposer's {}-byte header", header.len())));
}
