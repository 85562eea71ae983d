//! docs/node.md and docs/transactions.md state what the code defines.

use std::path::Path;

use serde_json::json;
use ward_devkeys as devkeys;
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
        ("--mempool-bytes", limits.mempool_bytes as u64),
        (
            "--mempool-gapped-ttl-ms",
            limits.mempool_gapped_ttl.as_millis() as u64,
        ),
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
    let queues = format!(
        "at most {} MiB for one connection (`ws_queue_bytes`) and\n{} MiB for all of them (`ws_total_bytes`)",
        limits.ws_queue_bytes >> 20,
        limits.ws_total_bytes >> 20
    );
    assert!(doc.contains(&queues), "{queues}");
    let margin = format!("a margin of {} %", ward_node::ESTIMATE_MARGIN_PERCENT);
    assert!(doc.contains(&margin), "{margin}");
    assert!(
        self::doc("debugging.md").contains(&margin),
        "debugging.md: {margin}"
    );
    let mine = format!("(default 1, at most {})", ward_node::MAX_MINE_BLOCKS);
    assert!(doc.contains(&mine), "{mine}");
    let latest = format!("`MAX_BLOCK_TIME`\n({} ms", ward_node::MAX_BLOCK_TIME);
    assert!(doc.contains(&latest), "{latest}");
    let bounds = format!(
        "bounded as\na contract's own writes are ({} and {} bytes)",
        ward_abi::MAX_KEY_BYTES,
        "65 536"
    );
    assert!(doc.contains(&bounds), "{bounds}");
    assert_eq!(
        ward_abi::MAX_VALUE_BYTES,
        65_536,
        "docs/node.md, setStorage"
    );
    let prune = format!("every {} blocks", ward_node::PRUNE_EVERY);
    assert!(doc.contains(&prune), "{prune}");
    let compact = format!("at least {} MiB long", ward_state::COMPACT_FROM_BYTES >> 20);
    assert!(doc.contains(&compact), "{compact}");
    assert!(doc.contains(ward_node::DEFAULT_LISTEN));
    assert!(doc.contains(ward_node::DEFAULT_CHAIN_ID));
    assert!(doc.contains(devkeys::SEED));
    assert_eq!(devkeys::ACCOUNTS, 10, "docs/node.md says ten");
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

/// The lines of `doc` from the one starting with `from` up to (not
/// including) the next one starting with `to`.
fn section<'a>(doc: &'a str, from: &str, to: &str) -> Vec<&'a str> {
    doc.lines()
        .skip_while(|line| !line.starts_with(from))
        .take_while({
            let mut first = true;
            move |line| std::mem::take(&mut first) || !line.starts_with(to)
        })
        .collect()
}

/// The first `NNu8` tag of each alternative of a grammar rule.
fn tags(lines: &[&str]) -> std::collections::BTreeSet<u8> {
    lines
        .iter()
        .filter_map(|line| {
            let rest = line.trim_start();
            let rest = rest.split_once('=').map_or(rest, |(_, r)| r);
            let rest = rest
                .trim_start()
                .strip_prefix('|')
                .unwrap_or(rest)
                .trim_start();
            let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
            rest[digits.len()..]
                .starts_with("u8")
                .then(|| digits.parse().unwrap())
        })
        .collect()
}

/// The encoding's grammar lists exactly the payload tags and admin
/// actions the encoder writes, and every version the document names
/// other than this build's is one it says is refused: a new payload, or
/// a new version, cannot go undocumented.
#[test]
fn the_transaction_document_lists_every_payload_and_version() {
    use ward_chain::tx::{AdminAction, Deploy, Payload, TxBody};
    use ward_primitives::{Address, CodeKind, RuntimeName};
    let doc = doc("transactions.md");
    let body = |payload: Payload| TxBody {
        chain_id: "c".into(),
        public_key: [0; 32],
        nonce: 0,
        gas_limit: 0,
        gas_price: 0,
        value: 0,
        payload,
    };
    // The payload tag follows the version, the chain id, the key, the
    // nonce, the gas limit, the price and the value.
    let at = 1 + 4 + 1 + 32 + 8 + 8 + 16 + 16;
    let tag = |payload: Payload| ward_primitives::codec::Encode::to_bytes(&body(payload))[at];
    let deploy = |kind: CodeKind, admin: Option<Address>| {
        Payload::Deploy(
            Deploy::new(vec![], vec![])
                .with_kind(kind)
                .with_admin(admin),
        )
    };
    let admin = |action| Payload::Admin {
        contract: Address::default(),
        action,
    };
    let runtime = CodeKind::Runtime(RuntimeName::new("evm").unwrap());
    let written: std::collections::BTreeSet<u8> = [
        deploy(CodeKind::Ward, None),
        deploy(CodeKind::Wasi, None),
        deploy(runtime, None),
        deploy(CodeKind::Ward, Some(Address::default())),
        Payload::Call {
            to: Address::default(),
            input: vec![],
        },
        admin(AdminAction::SetAdmin(None)),
    ]
    .into_iter()
    .map(tag)
    .collect();
    assert_eq!(tags(&section(&doc, "Payload  =", "Kind     =")), written);
    let actions: std::collections::BTreeSet<u8> = [
        AdminAction::Upgrade {
            code: vec![],
            input: vec![],
        },
        AdminAction::SetAdmin(None),
    ]
    .iter()
    .map(|action| {
        let mut out = Vec::new();
        action.encode_to(&mut out);
        out[0]
    })
    .collect();
    assert_eq!(tags(&section(&doc, "Action   =", "Admin    =")), actions);
    let version = ward_chain::tx::TX_VERSION;
    assert!(doc.contains(&format!("one transaction of version {version} |")));
    for sentence in doc.split(". ") {
        for (i, _) in sentence.match_indices("version ") {
            let n: String = sentence[i + 8..]
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            if let Ok(n) = n.parse::<u8>() {
                assert!(
                    n == version || sentence.contains("refused"),
                    "docs/transactions.md names version {n} without saying it is refused: {sentence:?}"
                );
            }
        }
    }
}

#[test]
fn the_replication_document_states_the_constants() {
    use ward_node::replica::{
        COMPACT_EVERY, ClusterConfig, DEFAULT_LOG_RETENTION, DEFAULT_PREFIX, MAX_CLUSTER_TX_BYTES,
        MAX_ENTRY_BYTES, ROOTS_KEPT,
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
    assert!(doc.contains(&format!(
        "Every {COMPACT_EVERY} blocks the proposer deletes"
    )));
    assert!(doc.contains(&format!(
        "`--log-retention-blocks` (default {DEFAULT_LOG_RETENTION})"
    )));
    let defaults = ClusterConfig::new(Vec::new(), String::new());
    assert_eq!(defaults.log_retention_blocks, DEFAULT_LOG_RETENTION);
    #[cfg(feature = "etcd")]
    {
        let removed = ward_node::cluster::REMOVED_WITH_APPEND;
        assert!(doc.contains(&format!(
            "(the\nfirst {removed}, `cluster::REMOVED_WITH_APPEND`: etcd takes {} operations",
            removed + 2
        )));
    }
}

/// A JSON value's shape: its kind, and for objects their keys' shapes,
/// for arrays their first element's. `null` in the documentation stands
/// for a value of any shape (a field that is null in one example and set
/// in another).
fn same_shape(doc: &serde_json::Value, real: &serde_json::Value, at: &str) -> Result<(), String> {
    use serde_json::Value;
    match (doc, real) {
        (Value::Null, _) => Ok(()),
        (Value::Object(d), Value::Object(r)) => {
            let dk: Vec<&String> = d.keys().collect();
            let rk: Vec<&String> = r.keys().collect();
            if dk != rk {
                return Err(format!(
                    "{at}: the docs show keys {dk:?}, the node answers {rk:?}"
                ));
            }
            for (key, value) in d {
                same_shape(value, &r[key], &format!("{at}.{key}"))?;
            }
            Ok(())
        }
        (Value::Array(d), Value::Array(r)) => match (d.first(), r.first()) {
            (Some(d), Some(r)) => same_shape(d, r, &format!("{at}[0]")),
            _ => Ok(()),
        },
        (Value::Number(_), Value::Number(_))
        | (Value::String(_), Value::String(_))
        | (Value::Bool(_), Value::Bool(_)) => Ok(()),
        _ => Err(format!(
            "{at}: the docs show {doc}, the node answers {real}"
        )),
    }
}

/// Every JSON-RPC example of docs/node.md (a request line, then its
/// answer) is sent, in order, to a live dev node holding what the
/// examples name (the token, the counter, a transaction), with the
/// elided values the docs show (`0x2b20bcc5d5…8469`) replaced by real
/// ones; each answer must have the documented shape: the same keys, of
/// the same kinds, or the same error kind.
#[test]
fn every_json_rpc_example_answers_in_its_documented_shape() {
    use serde_json::Value;

    use crate::{call, dev_node, ok, raw};

    let doc = doc("node.md");
    let mut examples = Vec::new();
    let mut block: Option<Vec<&str>> = None;
    for line in doc.lines() {
        match (&mut block, line) {
            (None, "```json") => block = Some(Vec::new()),
            (Some(lines), "```") => {
                if lines.len() == 2 {
                    examples.push((lines[0].to_string(), lines[1].to_string()));
                }
                block = None;
            }
            (Some(lines), line) if !line.trim().is_empty() => lines.push(line),
            _ => {}
        }
    }
    assert!(examples.len() >= 15, "found {} examples", examples.len());

    let node = dev_node("doc-examples", |c| {
        c.backup_dir = Some(crate::temp_dir("doc-backups"));
    });
    let from = devkeys::address(0).to_string();
    let counter_code = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/counter.wat"
    ))
    .unwrap();
    let deploy = |code: Vec<u8>, args: Value| {
        let mut deploy = json!({ "code": format!("0x{}", hex::encode(code)) });
        if !args.is_null() {
            deploy["args"] = args;
        }
        ok(
            &node,
            "sendTransaction",
            json!({ "from": from, "deploy": deploy, "gas": 100_000_000, "wait": true }),
        )
    };
    let counter = deploy(wat::parse_str(counter_code).unwrap(), Value::Null)["address"].clone();
    let token = deploy(
        ward_testkit::contracts::wasm("token"),
        json!({ "initial_supply": "1000000" }),
    )["address"]
        .clone();
    let committed = ok(
        &node,
        "sendTransaction",
        json!({ "from": from, "call": { "to": counter, "input": "0x" }, "wait": true }),
    );
    let counter_address =
        ward_primitives::Address(ward_node::json::unhex32(counter.as_str().unwrap()).unwrap());
    let signed = raw(
        ward_node::DEFAULT_CHAIN_ID,
        1,
        0,
        ward_chain::tx::Payload::Call {
            to: counter_address,
            input: Vec::new(),
        },
    );
    let network = ok(&node, "getNetwork", json!({}));
    let count_key = ward_chain::tree::key_hash(
        &ward_chain::tree::StateKey::Storage(&counter_address, b"count").to_bytes(),
    );
    let counter_code_hash =
        ok(&node, "getContract", json!({ "address": counter }))["code_hash"].clone();
    let real: [(&str, Value); 9] = [
        ("0x2b20bcc5d5…8469", counter),
        ("0x6b97374baf…dc20", token),
        ("0xcc8f630787…a1ec", json!(from)),
        ("0xb0b0b0b0b0…b0b0", json!(format!("0x{}", "b0".repeat(32)))),
        ("0x8db9e8a7a3…eb20", committed["tx"].clone()),
        ("0x0208000000…", json!(signed)),
        ("0x5f4c1e2a0b…e0a1", network["genesis_root"].clone()),
        ("0x5b0e9f9c4e…1d2a", json!(count_key.to_string())),
        ("0xc81217b88e…2309", counter_code_hash),
    ];
    fn substitute(value: &mut Value, real: &[(&str, Value)]) {
        match value {
            Value::String(text) => {
                if let Some((_, to)) = real.iter().find(|(elided, _)| elided == text) {
                    *value = to.clone();
                } else {
                    assert!(!text.contains('…'), "no real value for {text}");
                }
            }
            Value::Object(map) => map.values_mut().for_each(|v| substitute(v, real)),
            Value::Array(items) => items.iter_mut().for_each(|v| substitute(v, real)),
            _ => {}
        }
    }
    let methods: std::collections::BTreeSet<String> = examples
        .iter()
        .map(|(request, _)| serde_json::from_str::<Value>(request).unwrap()["method"].to_string())
        .collect();
    for method in ward_node::METHODS {
        assert!(
            methods.contains(&format!("{method:?}")),
            "docs/node.md has no example of {method}"
        );
    }
    for (request, answer) in examples {
        let mut request: Value = serde_json::from_str(&request).unwrap();
        let answer: Value = serde_json::from_str(&answer).unwrap();
        substitute(&mut request, &real);
        let method = request["method"].as_str().unwrap().to_string();
        let params = request.get("params").cloned().unwrap_or(json!({}));
        let got = call(&node, &method, params);
        match (&answer.get("result"), got) {
            (Some(result), Ok(mut got)) => {
                // Every object result carries it; the examples leave it
                // out (as docs/node.md says).
                if let Some(object) = got.as_object_mut() {
                    object.remove("applied_height");
                }
                if let Err(e) = same_shape(result, &got, &method) {
                    panic!("docs/node.md's {method} example: {e}");
                }
            }
            (None, Err(got)) => assert_eq!(
                answer["error"]["data"]["kind"], got["data"]["kind"],
                "docs/node.md's {method} example"
            ),
            (_, got) => panic!("docs/node.md's {method} example: the node answered {got:?}"),
        }
    }
    node.shutdown().unwrap();
}

#[test]
fn the_economics_document_states_the_constants_and_a_genesis_that_reads() {
    use ward_node::genesis::{DEV_BALANCE, MAX_DECIMALS};
    let doc = doc("economics.md");
    let rows = [
        format!(
            "| replacement price | {} % |",
            ward_node::mempool::REPLACE_PERCENT
        ),
        format!(
            "| dev account balance | 10^{} (10^9 × 10^18) |",
            DEV_BALANCE.ilog10()
        ),
        format!("| most decimals | {MAX_DECIMALS} |"),
    ];
    for row in rows {
        assert!(doc.contains(&row), "docs/economics.md lacks {row:?}");
    }
    assert_eq!(DEV_BALANCE, 10u128.pow(27));
    assert!(doc.contains(&format!(
        "at most {} transactions pending (`MAX_NONCE_GAP`)",
        ward_node::mempool::MAX_NONCE_GAP
    )));
    // The genesis example reads, with a real address for the elided one.
    let start = doc.find("```json\n").unwrap() + 8;
    let end = start + doc[start..].find("```").unwrap();
    let example = doc[start..end].replace("0x…", &format!("0x{}", "ab".repeat(32)));
    let genesis = ward_node::Genesis::from_json(example.as_bytes()).unwrap();
    assert_eq!(genesis.chain_limits().max_block_gas, 200_000_000);
    assert_eq!(genesis.fees().unwrap().collector, None);
}

/// docs/ethereum.md's method table lists exactly the Ethereum methods the
/// node answers, and its numbers are the code's.
#[test]
fn the_ethereum_document_lists_every_method_and_states_the_constants() {
    let text = doc("ethereum.md");
    let table = section(
        &text,
        "| method | status |",
        "The execution APIs' other methods",
    );
    let mut listed = std::collections::BTreeSet::new();
    for row in table.iter().filter(|l| l.starts_with("| `")) {
        let first = row.split('|').nth(1).unwrap_or_default();
        for name in first.split('`').skip(1).step_by(2) {
            listed.insert(name.to_owned());
        }
    }
    let answered: std::collections::BTreeSet<String> = ward_node::eth::ETH_METHODS
        .iter()
        .map(|m| m.name.to_owned())
        .collect();
    assert_eq!(
        listed, answered,
        "docs/ethereum.md's table against ETH_METHODS"
    );
    // The refused ones are the code's, and none of those answered.
    let refused = section(&text, "| refused | why |", "Any other");
    let mut listed_refused = std::collections::BTreeSet::new();
    for row in refused.iter().filter(|l| l.starts_with("| `")) {
        let first = row.split('|').nth(1).unwrap_or_default();
        for name in first.split('`').skip(1).step_by(2) {
            assert!(!answered.contains(name), "{name} is answered, not refused");
            listed_refused.insert(name.to_owned());
        }
    }
    let code_refused: std::collections::BTreeSet<String> = ward_node::eth::REFUSED
        .iter()
        .map(|(name, _)| (*name).to_owned())
        .collect();
    assert_eq!(
        listed_refused, code_refused,
        "docs/ethereum.md's refused table against REFUSED"
    );
    for (number, phrase) in [
        (ward_node::eth::MAX_LOG_BLOCKS, "at most 10 000 blocks"),
        (
            ward_executor::EVM_GAS_RATE,
            "`(gasLimit - intrinsic) × 64` Ward gas",
        ),
        (ward_node::genesis::DEV_ETH_CHAIN_ID, "is **31337**"),
        (ward_node::ESTIMATE_MARGIN_PERCENT, "and 10 %"),
        (
            ward_node::eth::MAX_STORAGE_VALUES as u64,
            "at most 1024 slots (`MAX_STORAGE_VALUES`)",
        ),
        (
            ward_node::dev::MAX_INTERVAL_MS,
            "at most 86400000, a day: `MAX_INTERVAL_MS`",
        ),
    ] {
        assert!(
            text.contains(phrase),
            "docs/ethereum.md should say {phrase:?}"
        );
        assert!(
            phrase.replace(' ', "").contains(&number.to_string()),
            "{phrase:?} is not {number}"
        );
    }
    assert!(text.contains(devkeys::MNEMONIC));
    // The Hardhat and anvil names: the dev table lists exactly those
    // answered; the filter bounds are the code's.
    let dev = section(&text, "| method | Ward's | answers |", "Automine");
    let mut aliases = std::collections::BTreeSet::new();
    for row in dev.iter().filter(|l| l.starts_with("| `")) {
        let first = row.split('|').nth(1).unwrap_or_default();
        for name in first.split('`').skip(1).step_by(2) {
            aliases.insert(name.split(' ').next().unwrap_or_default().to_owned());
        }
    }
    let answered: std::collections::BTreeSet<String> = ward_node::dev::DEV_ALIASES
        .iter()
        .map(|m| m.name.to_owned())
        .collect();
    assert_eq!(aliases, answered, "docs/ethereum.md's dev table");
    assert!(text.contains(&format!(
        "at most {} filters (`MAX_FILTERS`)",
        ward_node::eth::filters::MAX_FILTERS
    )));
    assert!(text.contains(&format!(
        "{} seconds (`FILTER_IDLE`",
        ward_node::eth::filters::FILTER_IDLE.as_secs()
    )));
    for (stated, constant) in [
        (
            "at most {} logs (`MAX_LOGS`",
            ward_node::eth::logs::MAX_LOGS,
        ),
        (
            "at most {} reward percentiles (`MAX_REWARD_PERCENTILES`)",
            ward_node::eth::MAX_REWARD_PERCENTILES,
        ),
    ] {
        let grouped = constant
            .to_string()
            .as_bytes()
            .rchunks(3)
            .rev()
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect::<Vec<_>>()
            .join(" ");
        let line = stated.replace("{}", &grouped);
        assert!(text.contains(&line), "docs/ethereum.md: {line}");
    }
}

/// Every series a node exports on `/metrics` is named in docs/node.md as
/// a scraper sees it (a counter with its `_total`).
#[test]
fn every_metric_is_documented() {
    let doc = doc("node.md");
    let node = crate::dev_node("metric-names", |_| {});
    let page = crate::metrics(&node);
    let mut named = 0;
    for line in page.lines() {
        let Some(rest) = line.strip_prefix("# TYPE ") else {
            continue;
        };
        let mut words = rest.split_whitespace();
        let (Some(name), Some(kind)) = (words.next(), words.next()) else {
            panic!("a TYPE line without a name and a kind: {line}");
        };
        let series = match kind {
            "counter" => format!("`{name}_total"),
            _ => format!("`{name}"),
        };
        assert!(
            doc.contains(&series),
            "docs/node.md does not name {series}`"
        );
        named += 1;
    }
    assert!(named >= 10, "only {named} series on /metrics:\n{page}");
    node.shutdown().unwrap();
}
