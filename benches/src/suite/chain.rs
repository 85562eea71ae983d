//! The suite's chain figures: contracts through Ward's executor (the SDK
//! token, ERC-20 transfers on Wasm and on the EVM runtime, parallel
//! blocks), a node under load and a cluster on etcd, each beside its
//! baseline measured in the same run.

use std::time::Duration;

use ward_vm::BackendKind;

use super::Plan;
use crate::Work;

/// The token built with the Rust SDK (`contracts/token`) beside the
/// hand-written one ([`crate::chain::TOKEN_WAT`]), both through Ward: time
/// per transfer and gas per transfer. Left out, with a note on stderr, when
/// the contracts have not been built (`make contracts`).
pub(super) fn sdk_token_plans(plans: &mut Vec<Plan>) {
    use crate::chain::{Token, ward_token_transfers};

    let Some(sdk) = Token::sdk() else {
        eprintln!(
            "note: sdk_transfer figures skipped: contracts/token is not built (make contracts)"
        );
        return;
    };
    let label = "hand-written token.wat through Ward".to_string();
    for kind in BackendKind::ALL {
        let (timed, counted) = (sdk.clone(), sdk.clone());
        let hand_written: Box<dyn FnOnce() -> Work> =
            Box::new(move || ward_token_transfers(kind, &Token::hand_written()));
        plans.push(Plan::timed(
            "sdk_transfer",
            kind,
            ("us", crate::chain::BLOCK_TXS as u32),
            move || ward_token_transfers(kind, &timed),
            vec![(label.clone(), hand_written)],
        ));
        let gas_label = label.clone();
        plans.push(Plan::counted("sdk_transfer_gas", kind, "gas", move || {
            let ward = counted.transfer_gas(kind) as f64;
            let baseline = Token::hand_written().transfer_gas(kind) as f64;
            (ward, baseline, gas_label)
        }));
    }
}

/// `parallel_block_free` and `parallel_block_conflict`
/// ([`crate::parallel`]): a block of 10,000 SDK-token transfers in memory
/// on the machine's cores beside the same block on one thread.
pub(super) fn parallel_plans(plans: &mut Vec<Plan>) {
    if crate::sdk_contract("token").is_none() {
        eprintln!("note: parallel_block_* skipped: contracts/token is not built (make contracts)");
        return;
    }
    let threads = crate::parallel::threads();
    for kind in BackendKind::ALL {
        for (name, conflict) in [
            ("parallel_block_free", false),
            ("parallel_block_conflict", true),
        ] {
            let transfers = move |threads| {
                crate::parallel::transfers(kind, threads, conflict).expect("the token is built")
            };
            plans.push(Plan::timed(
                name,
                kind,
                ("us", crate::parallel::PARALLEL_TXS as u32),
                move || transfers(threads),
                vec![("one thread".into(), Box::new(move || transfers(1)))],
            ));
        }
    }
}

/// `erc20_transfer` and `erc20_transfer_repeat` ([`crate::erc20`]): the
/// SDK token's transfer through Ward beside revm on a solc-compiled
/// ERC-20, per transfer, in blocks of 1,000 through Ward's block pipeline
/// (`erc20_transfer_serial`: the same blocks one after the other, on one
/// thread); and `erc20_transfer_exec`:
/// one transfer executed and not committed, on each side.
#[cfg(feature = "revm")]
pub(super) fn erc20_plans(plans: &mut Vec<Plan>) {
    if crate::sdk_contract("token").is_none() {
        eprintln!("note: erc20_transfer skipped: contracts/token is not built (make contracts)");
        return;
    }
    for kind in BackendKind::ALL {
        use crate::erc20::Commit::{Pipelined, Serial};
        for (name, repeat, commit) in [
            ("erc20_transfer", false, Pipelined),
            ("erc20_transfer_serial", false, Serial),
            ("erc20_transfer_repeat", true, Pipelined),
        ] {
            plans.push(Plan::timed(
                name,
                kind,
                ("us", crate::erc20::ERC20_TXS as u32),
                move || {
                    crate::erc20::ward_transfers(kind, repeat, commit).expect("the token is built")
                },
                vec![(
                    "revm 43, solc ERC-20".into(),
                    Box::new(move || crate::erc20::revm_transfers(repeat)),
                )],
            ));
        }
        plans.push(Plan::timed(
            "erc20_transfer_exec",
            kind,
            ("us", 1),
            move || crate::erc20::ward_transfer_uncommitted(kind).expect("the token is built"),
            vec![(
                "revm 43, transact without commit".into(),
                Box::new(crate::erc20::revm_transfer_uncommitted),
            )],
        ));
    }
}

/// `evm_erc20_transfer` ([`crate::erc20`]): the solc ERC-20's transfer
/// through Ward's EVM runtime beside revm running it natively, per
/// transfer, in blocks of 1,000 to new recipients, each side committing
/// its state (Ward: with its Merkle state root); and
/// `evm_erc20_transfer_exec`: one transfer executed and not committed, on
/// each side (execution alone); and `rust_vs_solidity_erc20_gas`, the
/// Rust ERC-20's gas per transfer beside the Solidity token's on Ward.
#[cfg(feature = "revm")]
pub(super) fn evm_plans(plans: &mut Vec<Plan>) {
    if crate::sdk_contract("evm").is_none() {
        eprintln!("note: evm_erc20_transfer skipped: contracts/evm is not built (make contracts)");
        return;
    }
    for kind in BackendKind::ALL {
        plans.push(Plan::timed(
            "evm_erc20_transfer",
            kind,
            ("us", crate::erc20::ERC20_TXS as u32),
            move || {
                crate::erc20::ward_evm_transfers(kind, crate::erc20::Commit::Pipelined)
                    .expect("the EVM runtime is built")
            },
            vec![(
                "revm 43 natively, the same solc ERC-20".into(),
                Box::new(|| crate::erc20::revm_transfers(false)),
            )],
        ));
        plans.push(Plan::counted(
            "rust_vs_solidity_erc20_gas",
            kind,
            "gas",
            move || match crate::erc20::rust_vs_solidity_gas(kind) {
                Some((rust, solidity)) => (
                    rust,
                    solidity,
                    "the Solidity token on the EVM runtime, same transfer".into(),
                ),
                None => (f64::NAN, f64::NAN, "contracts/erc20 is not built".into()),
            },
        ));
        plans.push(Plan::timed(
            "evm_erc20_transfer_exec",
            kind,
            ("us", 1),
            move || {
                crate::erc20::ward_evm_transfer_uncommitted(kind).expect("the EVM runtime is built")
            },
            vec![(
                "revm 43 natively, transact without commit".into(),
                Box::new(crate::erc20::revm_transfer_uncommitted),
            )],
        ));
    }
}

/// How long a node benchmark loads the node, and with how many senders
/// (`WARD_NODE_BENCH_SECS`, `WARD_NODE_BENCH_SENDERS`); `None`, with a
/// note that `figure` is skipped, when the token it sends is not built.
fn node_load(figure: &str) -> Option<(Duration, usize)> {
    if crate::sdk_contract("token").is_none() {
        eprintln!("note: {figure} skipped: contracts/token is not built (make contracts)");
        return None;
    }
    let load = Duration::from_secs(crate::env_secs("WARD_NODE_BENCH_SECS", 5));
    let senders = crate::env_secs("WARD_NODE_BENCH_SENDERS", 64) as usize;
    Some((load, senders))
}

/// `node_transfer` ([`crate::node`]): one run per backend, shared by its
/// three figures. Throughput (`tx/s`, the node beside the executor in
/// process: the ratio is the node's share of the in-process rate) and the
/// latency from send to acknowledgement at the median and the 99th
/// percentile (`ms`, beside the in-process time of one block of the size
/// the node built: the floor of any acknowledgement); and
/// `node_state_root`, the state root's share of that block (`ms`, beside
/// the whole block); and `node_cpu_per_tx`, the node's CPU time per
/// committed transaction (`µs`, the load generator's own threads apart)
/// beside the executor's in process.
pub(super) fn node_plans(plans: &mut Vec<Plan>) {
    use std::sync::{Arc, OnceLock};

    use crate::node::{NodeFigures, node_transfer};

    let Some((load, senders)) = node_load("node_transfer") else {
        return;
    };
    for kind in BackendKind::ALL {
        let run: Arc<OnceLock<Option<NodeFigures>>> = Arc::default();
        let node = {
            let run = run.clone();
            move || *run.get_or_init(|| node_transfer(kind, load, senders))
        };
        let figures: [(&str, &'static str, Pick<NodeFigures>); 5] = [
            ("node_transfer", "tx/s", |f| {
                (
                    f.node_tps,
                    f.inprocess_tps,
                    format!("executor in process, redb, {:.0}-tx blocks", f.block_txs),
                )
            }),
            ("node_transfer_p50", "ms", |f| {
                (
                    f.p50_ms,
                    f.inprocess_block_ms,
                    "one block in process".into(),
                )
            }),
            ("node_transfer_p99", "ms", |f| {
                (
                    f.p99_ms,
                    f.inprocess_block_ms,
                    "one block in process".into(),
                )
            }),
            ("node_state_root", "ms", |f| {
                (
                    f.state_root_ms,
                    f.inprocess_block_ms,
                    format!("the whole block in process (commit {:.2} ms)", f.commit_ms),
                )
            }),
            ("node_cpu_per_tx", "µs", |f| {
                (
                    f.node_cpu_us,
                    f.inprocess_cpu_us,
                    format!(
                        "executor in process, CPU (load generator apart: {:.0} µs)",
                        f.load_cpu_us
                    ),
                )
            }),
        ];
        push_picked(plans, kind, node, figures);
        eth_node_plans(plans, kind, &run, load, senders);
    }
}

/// One figure of a run: (Ward's, the baseline's, the baseline's label).
type Pick<F> = fn(&F) -> (f64, f64, String);

/// A plan for each of `figures`, all read from the one run `run` makes
/// (the first plan that runs makes it; `None`: it could not run).
fn push_picked<F: 'static, const N: usize>(
    plans: &mut Vec<Plan>,
    kind: BackendKind,
    run: impl Fn() -> Option<F> + Clone + 'static,
    figures: [(&str, &'static str, Pick<F>); N],
) {
    for (name, unit, pick) in figures {
        let run = run.clone();
        plans.push(Plan::counted(name, kind, unit, move || match run() {
            Some(figures) => pick(&figures),
            None => (f64::NAN, f64::NAN, "not run".into()),
        }));
    }
}

/// `node_eth_transfer` ([`crate::eth_node`]): Ethereum-signed ERC-20
/// transfers (the Solidity token on the EVM runtime) through a node,
/// beside `node_transfer`'s rate in the same run (`run`); the same
/// transfers signed by Ed25519 keys (`node_eth_transfer_sig`: what
/// Ethereum's signatures cost through the node); and one check of each
/// kind in process (`eth_verify`, secp256k1 recovery beside Ed25519).
pub(super) fn eth_node_plans(
    plans: &mut Vec<Plan>,
    kind: BackendKind,
    node_run: &std::sync::Arc<std::sync::OnceLock<Option<crate::node::NodeFigures>>>,
    load: Duration,
    senders: usize,
) {
    use std::sync::{Arc, OnceLock};

    use crate::eth_node::{EthNodeFigures, node_eth_transfer};

    if crate::sdk_contract("evm").is_none() {
        eprintln!("note: node_eth_transfer skipped: contracts/evm is not built (make contracts)");
        return;
    }
    let run: Arc<OnceLock<Option<EthNodeFigures>>> = Arc::default();
    let eth = move || *run.get_or_init(|| node_eth_transfer(kind, load, senders));
    let (first, node_run) = (eth.clone(), node_run.clone());
    plans.push(Plan::counted(
        "node_eth_transfer",
        kind,
        "tx/s",
        move || {
            let ward = node_run.get_or_init(|| crate::node::node_transfer(kind, load, senders));
            match (first(), ward) {
                (Some(e), Some(w)) => (
                    e.eth_tps,
                    w.node_tps,
                    "node_transfer: Ward-signed SDK-token transfers, same run".into(),
                ),
                _ => (f64::NAN, f64::NAN, "not run".into()),
            }
        },
    ));
    let figures: [(&str, &'static str, Pick<EthNodeFigures>); 2] = [
        ("node_eth_transfer_sig", "tx/s", |e| {
            (
                e.eth_tps,
                e.ward_tps,
                "the same Solidity-token transfers signed by Ed25519 keys".into(),
            )
        }),
        ("eth_verify", "us", |e| {
            (
                e.eth_verify_us,
                e.ward_verify_us,
                "a Ward transaction's check (Ed25519)".into(),
            )
        }),
    ];
    push_picked(plans, kind, eth, figures);
}

/// `cluster_transfer` ([`crate::cluster`]): transfers committed per second
/// through three replicas on etcd, beside one node under the same load in
/// the same run (the ratio is what replication costs); from the same run,
/// `cluster_cpu_per_tx`, a replica's CPU time per transaction (the three
/// replicas' mean) beside the single node's, and `cluster_follower_cpu`,
/// a follower's beside the proposer's.
#[cfg(feature = "etcd")]
pub(super) fn cluster_plans(plans: &mut Vec<Plan>) {
    use std::sync::{Arc, OnceLock};

    use crate::cluster::{ClusterFigures, cluster_transfer};

    let Some((load, senders)) = node_load("cluster_transfer") else {
        return;
    };
    for kind in BackendKind::ALL {
        let run: Arc<OnceLock<Option<ClusterFigures>>> = Arc::default();
        let cluster = move || *run.get_or_init(|| cluster_transfer(kind, load, senders));
        let figures: [(&str, &'static str, Pick<ClusterFigures>); 3] = [
            ("cluster_transfer", "tx/s", |f| {
                (
                    f.cluster_tps,
                    f.single_tps,
                    format!(
                        "one node, same load ({:.0}-tx blocks in the cluster)",
                        f.cluster_block_txs
                    ),
                )
            }),
            ("cluster_cpu_per_tx", "µs", |f| {
                (
                    f.replica_cpu_us,
                    f.single_cpu_us,
                    format!(
                        "one node's CPU, same load (a replica's: the three's mean; etcd {:.0} µs)",
                        f.etcd_cpu_us
                    ),
                )
            }),
            ("cluster_follower_cpu", "µs", |f| {
                (
                    f.follower_cpu_us,
                    f.leader_cpu_us,
                    "the proposer's CPU per transaction".into(),
                )
            }),
        ];
        push_picked(plans, kind, cluster, figures);
    }
}
