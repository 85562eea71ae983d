//! `cluster_transfer`: committed transfers per second through three
//! replicas on a real three-member etcd cluster, beside a single node
//! under the same load in the same run (feature `etcd`), and what each
//! spends: the replicas' CPU time per transaction beside the single
//! node's, and a follower's beside the proposer's.
//!
//! Everything runs on this machine: etcd's members, the three replicas
//! (each a process of its own, as a deployment runs them: this binary
//! started again with [`REPLICA_ENV`] set, [`serve_replica`]) and the load
//! generator (`crate::load::drive`: many accounts, each sending one
//! SDK-token transfer at a time and waiting for its acknowledgement,
//! spread over the replicas). The single node runs in this process, its
//! CPU measured as `node_cpu_per_tx`'s is.

use std::{
    io::{BufRead, BufReader},
    path::Path,
    process::{Child, Command, Stdio},
    time::Duration,
};

use ward_node::{ClusterConfig, Node, NodeConfig};
use ward_vm::BackendKind;

use crate::{
    load,
    node::{CHAIN, fund, height, setup, transfers},
    scratch::Scratch,
};

/// The variable that makes `ward-bench` serve one replica instead of
/// running the suite: `DIR<TAB>BACKEND<TAB>SENDERS<TAB>ID<TAB>ETCD,...`.
pub const REPLICA_ENV: &str = "WARD_BENCH_REPLICA";

/// What one `cluster_transfer` run measured.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ClusterFigures {
    /// Transfers committed per second through the cluster.
    pub cluster_tps: f64,
    /// The same through one node.
    pub single_tps: f64,
    /// Transfers per block the cluster built.
    pub cluster_block_txs: f64,
    /// The single node's CPU time per transaction (its process's, less
    /// the load generator's threads'), µs.
    pub single_cpu_us: f64,
    /// A replica's CPU time per transaction, the three's mean, µs.
    pub replica_cpu_us: f64,
    /// The proposer's CPU time per transaction, µs.
    pub leader_cpu_us: f64,
    /// The followers' CPU time per transaction, each, on average, µs.
    pub follower_cpu_us: f64,
    /// etcd's three members' CPU time per transaction, together, µs.
    pub etcd_cpu_us: f64,
}

fn config(dir: std::path::PathBuf, kind: BackendKind, senders: usize) -> NodeConfig {
    let mut config = NodeConfig::new(dir);
    config.listen = ([127, 0, 0, 1], 0).into();
    config.backend = kind;
    config.chain_id = CHAIN.into();
    // Every replica of the same genesis, which takes free gas (the figure
    // compares with one node, which charges none either).
    config.genesis = Some(ward_node::Genesis::dev(CHAIN));
    config.limits.mempool_size = senders * 4 + 64;
    config.limits.max_connections = senders + 16;
    config
}

/// What a load through some nodes measured.
struct Measured {
    /// Transfers committed.
    count: usize,
    /// Transfers committed per second.
    tps: f64,
    /// Transfers per block.
    block_txs: f64,
    /// The load generator's own CPU time.
    load_cpu: Duration,
    /// What each of `cpu`'s clocks moved during the load.
    spent: Vec<Duration>,
}

/// Funds the senders through the first of `urls`, then drives the load
/// over all of them, reading `cpu`'s clocks before and after it.
fn measure(
    urls: &[String],
    code: &[u8],
    load: Duration,
    senders: usize,
    cpu: &dyn Fn() -> Vec<Duration>,
) -> Measured {
    let (token, setup_txs) = setup(code, senders);
    let agent = load::agent();
    fund(&agent, &urls[0], &setup_txs);
    let requests = transfers(token, senders, load);
    let start_height = height(&agent, &urls[0]);
    let (started, before) = (ward_vm::clock::now(), cpu());
    let driven = load::drive(urls, requests, load);
    let spent = cpu()
        .into_iter()
        .zip(before)
        .map(|(after, before)| after.saturating_sub(before))
        .collect();
    let elapsed = (ward_vm::clock::now() - started).as_secs_f64();
    let count = driven.latencies.len();
    let blocks = height(&agent, &urls[0]).saturating_sub(start_height).max(1);
    Measured {
        count,
        tps: count as f64 / elapsed,
        block_txs: count as f64 / blocks as f64,
        load_cpu: driven.cpu,
        spent,
    }
}

/// A single node, then a three-replica cluster, each under `senders`
/// accounts for `load`. `None` when the SDK token is not built, etcd is
/// not installed, or this is not the `ward-bench` binary (which serves
/// the replicas).
pub fn cluster_transfer(
    kind: BackendKind,
    load: Duration,
    senders: usize,
) -> Option<ClusterFigures> {
    let code = crate::sdk_contract("token")?;
    if let Some(why) = ward_etcd::missing() {
        eprintln!("note: cluster_transfer skipped: {why}");
        return None;
    }
    let exe = std::env::current_exe().ok()?;
    if exe.file_stem().is_none_or(|stem| stem != "ward-bench") {
        eprintln!("note: cluster_transfer skipped: its replicas are ward-bench processes");
        return None;
    }

    let dir = Scratch::new("single");
    let node =
        Node::start(config(dir.path().to_path_buf(), kind, senders)).expect("the node starts");
    let url = format!("{}/rpc", node.url());
    let single = measure(
        &[url],
        &code,
        load,
        senders,
        &|| vec![crate::cpu::process()],
    );
    node.shutdown().expect("the node stops");
    drop(dir);

    let dir = Scratch::new("cluster");
    let etcd = ward_etcd::Etcd::start(&dir.path().join("etcd"));
    let mut replicas: Vec<Replica> = (0..3)
        .map(|i| {
            let spec = format!(
                "{}\t{kind}\t{senders}\tr{i}\t{}",
                dir.path().join(format!("r{i}")).display(),
                etcd.clients.join(",")
            );
            Replica::spawn(&exe, &spec).expect("a replica starts")
        })
        .collect();
    let urls: Vec<String> = replicas.iter().map(|r| format!("{}/rpc", r.url)).collect();
    // Each replica's clock, then etcd's members' together.
    let cluster = measure(&urls, &code, load, senders, &|| {
        let mut clocks: Vec<Duration> = replicas.iter().map(Replica::cpu).collect();
        let etcd_cpu = etcd.pids().into_iter().filter_map(process_cpu).sum();
        clocks.push(etcd_cpu);
        clocks
    });
    let (replica_spent, etcd_spent) = cluster.spent.split_at(replicas.len());
    let agent = load::agent();
    let leaders: Vec<bool> = replicas.iter().map(|r| r.leads(&agent)).collect();
    for replica in &mut replicas {
        replica.stop();
    }
    drop(etcd);
    drop(dir);

    let per_tx = |cpu: Duration, count: usize| cpu.as_secs_f64() * 1e6 / count.max(1) as f64;
    let mean = |leader: bool| {
        let picked: Vec<f64> = replica_spent
            .iter()
            .zip(&leaders)
            .filter(|(_, l)| **l == leader)
            .map(|(cpu, _)| per_tx(*cpu, cluster.count))
            .collect();
        picked.iter().sum::<f64>() / picked.len().max(1) as f64
    };
    if leaders.iter().filter(|l| **l).count() != 1 {
        eprintln!("note: cluster_transfer: {leaders:?} replicas said they lead at the end");
    }
    // The single node ran in this process: its CPU is the process's less
    // the load generator's threads'.
    let single_cpu = single.spent[0].saturating_sub(single.load_cpu);
    Some(ClusterFigures {
        cluster_tps: cluster.tps,
        single_tps: single.tps,
        cluster_block_txs: cluster.block_txs,
        single_cpu_us: per_tx(single_cpu, single.count),
        replica_cpu_us: per_tx(replica_spent.iter().sum(), cluster.count)
            / replica_spent.len().max(1) as f64,
        leader_cpu_us: mean(true),
        follower_cpu_us: mean(false),
        etcd_cpu_us: per_tx(etcd_spent.iter().sum(), cluster.count),
    })
}

/// One replica: a `ward-bench` process serving a node of the cluster.
struct Replica {
    child: Child,
    url: String,
}

impl Replica {
    /// Starts one by `spec` (see [`REPLICA_ENV`]) and reads its URL.
    fn spawn(exe: &Path, spec: &str) -> Result<Replica, String> {
        let mut child = Command::new(exe)
            .env(REPLICA_ENV, spec)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| format!("starting {}: {e}", exe.display()))?;
        let stdout = child.stdout.take().ok_or("no stdout")?;
        let (sender, receiver) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = sender.send(line);
        });
        let mut replica = Replica {
            child,
            url: String::new(),
        };
        match receiver.recv_timeout(Duration::from_secs(120)) {
            Ok(line) if line.starts_with("http://") => {
                replica.url = line.trim().to_owned();
                Ok(replica)
            }
            Ok(line) => Err(format!("a replica said {line:?} instead of its URL")),
            Err(_) => Err("a replica did not say its URL in 120 s".into()),
        }
    }

    /// Its process's CPU time so far, every thread's.
    fn cpu(&self) -> Duration {
        process_cpu(self.child.id()).unwrap_or_default()
    }

    /// Whether it says it is the proposer.
    fn leads(&self, agent: &ureq::Agent) -> bool {
        let health = agent
            .get(format!("{}/health", self.url))
            .call()
            .ok()
            .and_then(|mut r| r.body_mut().read_to_string().ok())
            .and_then(|text| serde_json::from_str::<serde_json::Value>(&text).ok());
        health.is_some_and(|h| h["replica"]["role"] == "leader")
    }

    /// Closes its stdin (it shuts its node down and exits); kills it if
    /// it has not exited within a minute.
    fn stop(&mut self) {
        drop(self.child.stdin.take());
        let deadline = ward_vm::clock::now() + Duration::from_secs(60);
        while !ward_vm::clock::passed(deadline) {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Process `pid`'s CPU time (user and system, every thread's, those that
/// ended included), from `/proc/PID/stat`.
fn process_cpu(pid: u32) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The fields after the command's closing parenthesis, from the state
    // (field 3): utime and stime are fields 14 and 15.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    let per_second = rustix::param::clock_ticks_per_second().max(1);
    Some(Duration::from_nanos(ticks * 1_000_000_000 / per_second))
}

/// Serves one replica by `spec` (see [`REPLICA_ENV`]): prints its URL on a
/// line of its own, then runs until standard input closes.
///
/// # Errors
///
/// A spec that does not read, or a node that does not start.
pub fn serve_replica(spec: &str) -> Result<(), String> {
    let parts: Vec<&str> = spec.split('\t').collect();
    let [dir, kind, senders, id, clients] = parts[..] else {
        return Err(format!(
            "{REPLICA_ENV} is not DIR, BACKEND, SENDERS, ID, ETCD: {spec:?}"
        ));
    };
    let kind: BackendKind = kind.parse().map_err(|e: String| format!("backend: {e}"))?;
    let senders: usize = senders.parse().map_err(|e| format!("senders: {e}"))?;
    let mut config = config(dir.into(), kind, senders);
    let clients = clients.split(',').map(str::to_owned).collect();
    let mut cluster = ClusterConfig::new(clients, id.to_owned());
    cluster.prefix = "/ward-bench/".into();
    config.cluster = Some(cluster);
    let node = Node::start(config).map_err(|e| e.to_string())?;
    println!("{}", node.url());
    // Until the parent closes our stdin (or goes away).
    let mut rest = String::new();
    while std::io::stdin().read_line(&mut rest).is_ok_and(|n| n > 0) {
        rest.clear();
    }
    node.shutdown().map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_process_cpu_time_reads_from_proc() {
        let before = process_cpu(std::process::id()).expect("this process's stat reads");
        let started = crate::cpu::thread();
        while crate::cpu::thread().saturating_sub(started) < Duration::from_millis(100) {
            std::hint::black_box(0u64);
        }
        let after = process_cpu(std::process::id()).unwrap();
        // The kernel reports it in ticks (10 ms here), scaled to the
        // precise runtime: 100 ms of work shows as at least 50.
        assert!(
            after.saturating_sub(before) >= Duration::from_millis(50),
            "{before:?} {after:?}"
        );
    }
}
