//! A real etcd cluster for tests and the cluster benchmark: three members of Debian's `etcd-server`
//! on free loopback ports, each logging to a file, all killed when the
//! [`Etcd`] is dropped.

use std::{
    collections::BTreeSet,
    net::TcpListener,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::Duration,
};

/// The etcd program Debian's `etcd-server` installs, found on `PATH`.
pub const ETCD: &str = "etcd";

/// Where `etcd` is on `PATH`, if it is.
pub fn etcd_path() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(ETCD))
        .find(|candidate| candidate.is_file())
}

/// Why a test skips without etcd, or `None` when etcd is on `PATH`.
pub fn missing() -> Option<String> {
    etcd_path().is_none().then(|| {
        format!("{ETCD} is not on PATH (Debian's etcd-server; `make test` installs it as root)")
    })
}

/// Three etcd members this test started.
pub struct Etcd {
    children: Vec<Option<Child>>,
    /// Each member's client endpoint, `127.0.0.1:PORT`.
    pub clients: Vec<String>,
    dir: PathBuf,
}

impl Drop for Etcd {
    fn drop(&mut self) {
        for child in self.children.iter_mut().flatten() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A free loopback port (free when asked; a test binds it soon after),
/// never one this process was given before: the kernel may hand a port
/// that was just released straight back, and two members of one cluster
/// on one port make etcd refuse to start ("duplicate url").
///
/// # Panics
///
/// When no port can be bound.
pub fn free_port() -> u16 {
    static GIVEN: std::sync::Mutex<BTreeSet<u16>> = std::sync::Mutex::new(BTreeSet::new());
    let mut given = GIVEN.lock().unwrap_or_else(|e| e.into_inner());
    loop {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .unwrap_or_else(|e| panic!("no free port: {e}"));
        if given.insert(port) {
            return port;
        }
    }
}

impl Etcd {
    /// Starts three members with their data and logs under `dir`, and
    /// waits (at most 90 s) until they elected a leader.
    ///
    /// # Panics
    ///
    /// When etcd cannot be started or elects no leader in time.
    pub fn start(dir: &Path) -> Etcd {
        Etcd::start_with(dir, &[])
    }

    /// [`Etcd::start`] with `extra` flags for every member (a quota,
    /// compaction settings).
    ///
    /// # Panics
    ///
    /// As [`Etcd::start`].
    pub fn start_with(dir: &Path, extra: &[&str]) -> Etcd {
        std::fs::create_dir_all(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        let peers: Vec<u16> = (0..3).map(|_| free_port()).collect();
        let clients: Vec<u16> = (0..3).map(|_| free_port()).collect();
        let cluster = (0..3)
            .map(|i| format!("e{i}=http://127.0.0.1:{}", peers[i]))
            .collect::<Vec<_>>()
            .join(",");
        let children = (0..3)
            .map(|i| {
                let log = std::fs::File::create(dir.join(format!("etcd{i}.log")))
                    .unwrap_or_else(|e| panic!("etcd log: {e}"));
                let peer = format!("http://127.0.0.1:{}", peers[i]);
                let client = format!("http://127.0.0.1:{}", clients[i]);
                let child = Command::new(etcd_path().unwrap_or_else(|| PathBuf::from(ETCD)))
                    .arg("--name")
                    .arg(format!("e{i}"))
                    .arg("--data-dir")
                    .arg(dir.join(format!("e{i}")))
                    .args(["--listen-peer-urls", &peer])
                    .args(["--initial-advertise-peer-urls", &peer])
                    .args(["--listen-client-urls", &client])
                    .args(["--advertise-client-urls", &client])
                    .args(["--initial-cluster", &cluster])
                    .args(["--initial-cluster-state", "new"])
                    .args(extra)
                    .stdout(Stdio::null())
                    .stderr(log)
                    .spawn()
                    .unwrap_or_else(|e| panic!("{ETCD}: {e}"));
                Some(child)
            })
            .collect();
        let etcd = Etcd {
            children,
            clients: clients.iter().map(|p| format!("127.0.0.1:{p}")).collect(),
            dir: dir.to_path_buf(),
        };
        let deadline = ward_vm::clock::now() + Duration::from_secs(90);
        while etcd.leader().is_none() {
            assert!(
                !ward_vm::clock::passed(deadline),
                "etcd elected no leader in 90 s (logs in {})",
                etcd.dir.display()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        etcd
    }

    /// The member etcd elected leader, as its index, asking each running
    /// member's JSON gateway (`/v3/maintenance/status`).
    pub fn leader(&self) -> Option<usize> {
        let mut ids = Vec::new();
        let mut leader = None;
        for (i, endpoint) in self.clients.iter().enumerate() {
            if self.children[i].is_none() {
                ids.push(None);
                continue;
            }
            let status = status(endpoint);
            ids.push(status.as_ref().map(|s| s.0.clone()));
            if let Some((_, l)) = status
                && l != "0"
            {
                leader = Some(l);
            }
        }
        let leader = leader?;
        ids.iter().position(|id| id.as_deref() == Some(&leader))
    }

    /// The alarms any running member reports (`NOSPACE` when a quota
    /// was reached), as etcd's JSON names them.
    pub fn alarms(&self) -> Vec<String> {
        let mut out = Vec::new();
        for endpoint in self.running() {
            let Some(body) = gateway(&endpoint, "alarm", r#"{"action": "GET"}"#) else {
                continue;
            };
            for alarm in body["alarms"].as_array().into_iter().flatten() {
                out.push(alarm["alarm"].as_str().unwrap_or("?").to_owned());
            }
        }
        out
    }

    /// Each running member's database size in bytes.
    pub fn db_sizes(&self) -> Vec<u64> {
        self.running()
            .iter()
            .filter_map(|e| gateway(e, "status", "{}"))
            .filter_map(|body| match &body["dbSize"] {
                serde_json::Value::String(s) => s.parse().ok(),
                serde_json::Value::Number(n) => n.as_u64(),
                _ => None,
            })
            .collect()
    }

    /// SIGKILLs member `index`.
    pub fn kill(&mut self, index: usize) {
        if let Some(mut child) = self.children.get_mut(index).and_then(Option::take) {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Stops member `index` where it is (SIGSTOP): its connections stay
    /// open and its answers stop coming, as from a member stalled on its
    /// disk. [`Etcd::resume`] lets it go on.
    pub fn pause(&self, index: usize) {
        self.signal(index, "-STOP");
    }

    /// Lets a paused member go on (SIGCONT).
    pub fn resume(&self, index: usize) {
        self.signal(index, "-CONT");
    }

    /// The process ids of the members still running, in order.
    pub fn pids(&self) -> Vec<u32> {
        self.children.iter().flatten().map(Child::id).collect()
    }

    fn signal(&self, index: usize, signal: &str) {
        if let Some(Some(child)) = self.children.get(index) {
            let status = Command::new("kill")
                .args([signal, &child.id().to_string()])
                .status()
                .expect("kill runs");
            assert!(status.success(), "kill {signal} member {index}: {status}");
        }
    }

    /// The client endpoints of the members still running.
    pub fn running(&self) -> Vec<String> {
        self.clients
            .iter()
            .zip(&self.children)
            .filter(|(_, c)| c.is_some())
            .map(|(e, _)| e.clone())
            .collect()
    }
}

/// A maintenance call through a member's JSON gateway.
fn gateway(endpoint: &str, call: &str, body: &str) -> Option<serde_json::Value> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(2)))
        .build()
        .into();
    let mut response = agent
        .post(format!("http://{endpoint}/v3/maintenance/{call}"))
        .send(body)
        .ok()?;
    serde_json::from_str(&response.body_mut().read_to_string().ok()?).ok()
}

/// A member's id and the leader it knows (`"0"`: none), as decimal text.
fn status(endpoint: &str) -> Option<(String, String)> {
    let body = gateway(endpoint, "status", "{}")?;
    let text = |v: &serde_json::Value| match v {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        _ => None,
    };
    Some((
        text(&body["header"]["member_id"])?,
        text(&body["leader"]).unwrap_or_else(|| "0".into()),
    ))
}
