//! Compile once: the module cache.
//!
//! A [`ModuleCache`] answers "the compiled module for these bytes" from
//! memory, then from the [`DiskCache`], and compiles only when neither has
//! it. Entries are keyed by a [`CacheKey`]: the code hash *and* the
//! fingerprint of the policy the module was prepared under, the engine's
//! fingerprint and the cost-schedule version, so that a change of gas
//! schedule, limits, host imports or engine build can never reuse a stale
//! artifact.
//!
//! - Memory: bounded by bytes (each module's [`Module::footprint`]), least
//!   recently used first out, with pinning for modules that must stay.
//! - Single flight: when several threads ask for the same missing module,
//!   one compiles and the others wait for its result.
//! - Rejections are cached too (in memory): a module that failed the policy
//!   or the engine fails again at once, with the same error.
//! - [`ModuleCache::lookup`] answers by code hash alone, without the bytes.

use std::{
    collections::{BTreeMap, BTreeSet},
    path::PathBuf,
    sync::{
        Arc, Condvar, Mutex, MutexGuard, OnceLock,
        atomic::{AtomicU64, Ordering},
    },
};

use crate::{
    Backend, Config, ErrorKind, Failure, Module,
    disk::{DiskCache, Stored},
};

/// The BLAKE3 hash of a module's bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CodeHash(pub [u8; 32]);

impl CodeHash {
    /// Hashes `wasm`.
    pub fn of(wasm: &[u8]) -> Self {
        CodeHash(*blake3::hash(wasm).as_bytes())
    }

    /// Lowercase hex.
    pub fn to_hex(&self) -> String {
        hex(&self.0)
    }
}

impl std::fmt::Display for CodeHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_hex())
    }
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 15)] as char);
    }
    out
}

/// What an encoded [`CacheKey`] starts with.
const KEY_TAG: &[u8; 8] = b"ward-key";

/// Everything a compiled module depends on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CacheKey {
    /// The module's bytes.
    pub code: CodeHash,
    /// BLAKE3 of the effective policy's canonical bytes and the backend
    /// settings that change generated code ([`Config::fingerprint`]).
    pub config: [u8; 32],
    /// The engine's name, version and code-generation settings
    /// ([`Backend::fingerprint`]).
    pub engine: String,
    /// [`ward_instrument::SCHEDULE_VERSION`].
    pub schedule_version: u32,
}

impl CacheKey {
    /// The key's canonical encoding: stored beside a disk artifact and
    /// compared in full before the artifact is trusted.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(96 + self.engine.len());
        out.extend(KEY_TAG);
        out.extend(self.code.0);
        out.extend(self.config);
        out.extend(self.schedule_version.to_le_bytes());
        out.extend((self.engine.len() as u64).to_le_bytes());
        out.extend(self.engine.as_bytes());
        out
    }

    /// The code hash in an [`CacheKey::encode`]d key (`None`: too short to
    /// be one).
    fn code_in(encoded: &[u8]) -> Option<CodeHash> {
        let at = KEY_TAG.len();
        let code = encoded.get(at..at + 32)?;
        Some(CodeHash(code.try_into().ok()?))
    }

    /// A digest of [`CacheKey::encode`]: names the entry in memory and on
    /// disk.
    pub fn digest(&self) -> [u8; 32] {
        *blake3::hash(&self.encode()).as_bytes()
    }
}

/// How large the caches may grow, and where the disk cache lives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CacheOptions {
    /// Bytes of compiled modules kept in memory (pinned ones included).
    /// Default: 256 MiB.
    pub memory_bytes: usize,
    /// The directory of the disk cache, if any.
    pub disk_dir: Option<PathBuf>,
    /// Bytes of artifacts kept on disk. Default: 1 GiB.
    pub disk_bytes: u64,
    /// Read the disk cache but never write it: what is compiled stays in
    /// memory, a file that does not check is left where it is, dropped
    /// artifacts are not imported, and a missing directory is not
    /// created (a read-only command on a data directory). Default: false.
    pub disk_read_only: bool,
}

impl Default for CacheOptions {
    fn default() -> Self {
        CacheOptions {
            memory_bytes: 256 << 20,
            disk_dir: None,
            disk_bytes: 1 << 30,
            disk_read_only: false,
        }
    }
}

/// Counters, for tests, benchmarks and operators.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CacheStats {
    /// Answers from memory.
    pub memory_hits: u64,
    /// Answers loaded from disk.
    pub disk_hits: u64,
    /// Disk entries refused (corrupt, truncated, foreign) and recompiled.
    pub disk_rejects: u64,
    /// Compilations (the policy pass and the engine).
    pub compiles: u64,
    /// Entries evicted from memory.
    pub evictions: u64,
    /// Entries in memory.
    pub entries: usize,
    /// Bytes accounted in memory.
    pub bytes: usize,
}

/// Bytes a cached rejection is accounted at (plus its message).
const REJECTION_BYTES: usize = 256;

struct Entry {
    result: Result<Module, Failure>,
    bytes: usize,
    /// When it was last used (the state's clock).
    last_used: u64,
    pinned: bool,
}

/// The memory side, keyed by code hash alone: one cache serves one config
/// and one engine, so the rest of the key is the same for every entry.
#[derive(Default)]
struct State {
    entries: BTreeMap<CodeHash, Entry>,
    in_flight: BTreeSet<CodeHash>,
    clock: u64,
    bytes: usize,
}

/// A thread-safe cache of compiled modules for one backend and config.
pub struct ModuleCache {
    backend: Arc<dyn Backend>,
    config: Config,
    config_digest: [u8; 32],
    engine: String,
    options: CacheOptions,
    disk: Option<Arc<DiskCache>>,
    state: Mutex<State>,
    done: Condvar,
    memory_hits: AtomicU64,
    disk_hits: AtomicU64,
    disk_rejects: AtomicU64,
    compiles: AtomicU64,
    evictions: AtomicU64,
    /// The cache of children's modules, made at the first ask.
    children: OnceLock<Result<Arc<ModuleCache>, Failure>>,
    /// The cache of profiled modules, made at the first ask.
    profiled: OnceLock<Result<Arc<ModuleCache>, Failure>>,
}

/// Bytes of compiled children's modules kept in memory.
const CHILD_CACHE_BYTES: usize = 64 << 20;
/// Bytes of compiled profiled modules kept in memory.
const PROFILED_CACHE_BYTES: usize = 64 << 20;

impl ModuleCache {
    /// A cache of modules compiled by `backend`, which must have been
    /// created with `config`.
    ///
    /// # Errors
    ///
    /// When the disk cache's directory cannot be created.
    pub fn new(
        backend: Arc<dyn Backend>,
        config: &Config,
        options: CacheOptions,
    ) -> std::io::Result<Self> {
        let disk = match &options.disk_dir {
            Some(dir) if options.disk_read_only => {
                DiskCache::existing(dir.clone(), options.disk_bytes)
            }
            Some(dir) => Some(DiskCache::open(dir.clone(), options.disk_bytes)?),
            None => None,
        };
        let cache = ModuleCache {
            engine: backend.fingerprint(),
            backend,
            config_digest: *blake3::hash(&config.fingerprint()).as_bytes(),
            config: config.clone(),
            options,
            disk: disk.map(Arc::new),
            state: Mutex::new(State::default()),
            done: Condvar::new(),
            memory_hits: AtomicU64::new(0),
            disk_hits: AtomicU64::new(0),
            disk_rejects: AtomicU64::new(0),
            compiles: AtomicU64::new(0),
            evictions: AtomicU64::new(0),
            children: OnceLock::new(),
            profiled: OnceLock::new(),
        };
        cache.import_dropped();
        Ok(cache)
    }

    /// Imports the artifacts dropped into the disk directory as `*.cwasm`
    /// files (`ward compile -o DIR/NAME.cwasm`): each one that checks and
    /// was made for this cache is installed and its file removed; one
    /// that does not is left where it is, and said so in the log.
    fn import_dropped(&self) {
        let Some(disk) = self.writable_disk() else {
            return;
        };
        for path in disk.dropped() {
            let imported = std::fs::read(&path)
                .map_err(|e| e.to_string())
                .and_then(|file| self.import(&file));
            match imported {
                Ok(code) => {
                    tracing::info!(%code, file = %path.display(), "compiled artifact imported");
                    let _ = std::fs::remove_file(&path);
                }
                Err(why) => {
                    tracing::warn!(file = %path.display(), "compiled artifact not imported: {why}");
                }
            }
        }
    }

    /// `wasm` compiled under this cache's config and engine, as one
    /// self-describing file in the disk cache's format (the full cache key,
    /// a BLAKE3 checksum, the engine's artifact): `ward compile`'s output,
    /// `wasmtime compile`'s counterpart. A cache of the same config, engine
    /// and gas schedule installs it ([`ModuleCache::import`], or a
    /// `*.cwasm` file in its disk directory when it opens) and then loads
    /// the module without compiling it.
    ///
    /// # Errors
    ///
    /// The module's rejection; `host_error` for a backend that keeps no
    /// compiled artifact (wasmi translates modules lazily, in
    /// milliseconds).
    pub fn artifact(&self, wasm: &[u8]) -> Result<Vec<u8>, Failure> {
        let module = crate::compile(&*self.backend, &self.config, wasm)?;
        let artifact = self.backend.serialize(&module).ok_or_else(|| {
            Failure::new(
                ErrorKind::HostError,
                format!(
                    "the {} backend keeps no compiled artifact: there is nothing to write",
                    self.backend.kind().as_str()
                ),
            )
        })?;
        let stored = Stored {
            bytes: artifact,
            start: 0,
            metering: module.metering(),
            has_start: module.has_start(),
            recyclable: module.recyclable(),
            instance_gas: module.instance_gas(),
        };
        Ok(crate::disk::encode(
            &self.key(CodeHash::of(wasm)).encode(),
            &stored,
        ))
    }

    /// Installs `file`, an artifact [`ModuleCache::artifact`] wrote, in this
    /// cache's disk directory, once it checks: its format and checksum, and
    /// a key for this cache's config, engine and gas schedule. The module
    /// then loads without compiling. Returns its code hash.
    ///
    /// An artifact is machine code the engine will run: import only what
    /// you compiled yourself (as the disk cache trusts only its own
    /// directory).
    ///
    /// # Errors
    ///
    /// No disk directory, a file that does not check, one made for another
    /// config, engine or gas schedule, or a failed write.
    pub fn import(&self, file: &[u8]) -> Result<CodeHash, String> {
        let disk = self
            .writable_disk()
            .ok_or("this cache has no disk directory it may write to import into")?;
        let (key, _) = crate::disk::decode_any(file)?;
        let code = CacheKey::code_in(key).ok_or("not a Ward cache key")?;
        let ours = self.key(code);
        if key != ours.encode().as_slice() {
            return Err(format!(
                "made for another config, engine or gas schedule than this cache's ({})",
                ours.engine
            ));
        }
        disk.install(&ours, file).map_err(|e| e.to_string())?;
        Ok(code)
    }

    /// The cache of the modules this cache's modules run as children
    /// (`vm_*`): compiled under [`crate::child_config`] of this config, on
    /// a sibling of this backend ([`Backend::sibling`]), kept in memory
    /// only. Made at the first ask (an engine of its own is not free) and
    /// shared from then on by everything sharing this cache.
    ///
    /// # Errors
    ///
    /// When the sibling backend cannot be set up (every later ask says the
    /// same).
    pub fn children(&self) -> Result<Arc<ModuleCache>, Failure> {
        self.children
            .get_or_init(|| {
                self.sibling_cache(&crate::child_config(&self.config), CHILD_CACHE_BYTES)
            })
            .clone()
    }

    /// The cache of this cache's modules prepared with the profiling hooks
    /// (`Policy::profile`, for traces and gas profiles, `docs/debugging.md`):
    /// the same config otherwise, on a sibling of this backend, kept in
    /// memory only. A profiled module charges what the module charges
    /// without hooks. Made at the first ask and shared from then on (its
    /// own children's cache included).
    ///
    /// # Errors
    ///
    /// When the sibling backend cannot be set up (every later ask says the
    /// same).
    pub fn profiled(&self) -> Result<Arc<ModuleCache>, Failure> {
        if self.config.policy.profile {
            return Err(Failure::new(
                ErrorKind::HostError,
                "this cache's modules are profiled already",
            ));
        }
        self.profiled
            .get_or_init(|| {
                let mut config = self.config.clone();
                config.policy.profile = true;
                self.sibling_cache(&config, PROFILED_CACHE_BYTES)
            })
            .clone()
    }

    /// A memory-only cache under `config` on a sibling of this backend.
    fn sibling_cache(
        &self,
        config: &Config,
        memory_bytes: usize,
    ) -> Result<Arc<ModuleCache>, Failure> {
        let backend = self.backend.sibling(config)?;
        let options = CacheOptions {
            memory_bytes,
            ..CacheOptions::default()
        };
        ModuleCache::new(backend, config, options)
            .map(Arc::new)
            .map_err(|e| Failure::new(ErrorKind::HostError, e.to_string()))
    }

    /// The backend modules are compiled for.
    pub fn backend(&self) -> &Arc<dyn Backend> {
        &self.backend
    }

    /// The config modules are compiled under.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The full key of `code` under this cache's config and engine.
    pub fn key(&self, code: CodeHash) -> CacheKey {
        CacheKey {
            code,
            config: self.config_digest,
            engine: self.engine.clone(),
            schedule_version: ward_instrument::SCHEDULE_VERSION,
        }
    }

    /// The compiled module for `wasm`: from memory, from disk, or compiled
    /// now (once, however many threads ask at the same time).
    ///
    /// # Errors
    ///
    /// The module's rejection (policy or engine), the same every time.
    pub fn get_or_compile(&self, wasm: &[u8]) -> Result<Module, Failure> {
        self.compile_with_id(wasm, None).map(|(_, m)| m)
    }

    /// Compiles `wasm` through the cache, under the identifier `id` when one
    /// is given (as Substrate's virtualization host functions take an
    /// optional cache key): the identifier is checked against the bytes, so
    /// a wrong one can never make the cache answer for other code. Returns
    /// the code hash, by which [`ModuleCache::lookup`] finds the module
    /// later without its bytes.
    ///
    /// # Errors
    ///
    /// The module's rejection; or `host_error` when `id` does not match.
    pub fn compile_with_id(
        &self,
        wasm: &[u8],
        id: Option<CodeHash>,
    ) -> Result<(CodeHash, Module), Failure> {
        let code = CodeHash::of(wasm);
        if let Some(id) = id
            && id != code
        {
            return Err(Failure::new(
                ErrorKind::HostError,
                format!("cache identifier {id} is not the hash of the code ({code})"),
            ));
        }
        self.resolve(code, Some(wasm)).map(|m| (code, m))
    }

    /// The module with this code hash, if memory or disk has it, without
    /// its bytes. `None` when neither does (the caller must supply bytes).
    pub fn lookup(&self, code: &CodeHash) -> Option<Result<Module, Failure>> {
        match self.resolve(*code, None) {
            Err(f) if f.message == NOT_CACHED => None,
            other => Some(other),
        }
    }

    /// Keeps `code`'s module in memory whatever the pressure. Returns false
    /// when it is not in memory.
    pub fn pin(&self, code: &CodeHash) -> bool {
        let mut state = self.lock();
        let Some(entry) = state.entries.get_mut(code) else {
            return false;
        };
        entry.pinned = true;
        true
    }

    /// Makes `code`'s module evictable again.
    pub fn unpin(&self, code: &CodeHash) {
        let mut state = self.lock();
        state.clock += 1;
        let clock = state.clock;
        if let Some(entry) = state.entries.get_mut(code) {
            entry.pinned = false;
            entry.last_used = clock;
        }
        self.evict(&mut state);
    }

    /// Drops `code`'s entry from memory (the disk keeps its artifact): for
    /// a deployment that failed, which must leave nothing behind.
    pub fn forget(&self, code: &CodeHash) {
        let mut state = self.lock();
        if let Some(entry) = state.entries.remove(code) {
            state.bytes -= entry.bytes;
        }
    }

    /// Current counters.
    pub fn stats(&self) -> CacheStats {
        let state = self.lock();
        CacheStats {
            memory_hits: self.memory_hits.load(Ordering::Relaxed),
            disk_hits: self.disk_hits.load(Ordering::Relaxed),
            disk_rejects: self.disk_rejects.load(Ordering::Relaxed),
            compiles: self.compiles.load(Ordering::Relaxed),
            evictions: self.evictions.load(Ordering::Relaxed),
            entries: state.entries.len(),
            bytes: state.bytes,
        }
    }

    /// Drops every entry from memory (pinned ones too); the disk keeps its.
    pub fn clear_memory(&self) {
        let mut state = self.lock();
        state.entries.clear();
        state.bytes = 0;
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock leaves consistent maps (every
        // update is a few inserts and removes): keep serving.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Memory, then (one flight per key) disk, then compiling `wasm` if
    /// given.
    fn resolve(&self, code: CodeHash, wasm: Option<&[u8]>) -> Result<Module, Failure> {
        let digest = code;
        let mut state = self.lock();
        loop {
            // A hit costs one counter update: the order is only worked out
            // when something must be evicted.
            let State { entries, clock, .. } = &mut *state;
            if let Some(entry) = entries.get_mut(&digest) {
                *clock += 1;
                entry.last_used = *clock;
                self.memory_hits.fetch_add(1, Ordering::Relaxed);
                return entry.result.clone();
            }
            if !state.in_flight.contains(&digest) {
                break;
            }
            state = self.done.wait(state).unwrap_or_else(|e| e.into_inner());
        }
        state.in_flight.insert(digest);
        drop(state);
        let flight = Flight {
            cache: self,
            digest,
        };
        let key = self.key(code);
        let result = match self.load_from_disk(&key) {
            Some(module) => Ok(module),
            None => match wasm {
                Some(wasm) => self.compile_and_store(&key, wasm),
                None => return Err(Failure::new(ErrorKind::HostError, NOT_CACHED)),
            },
        };
        flight.land(&result);
        result
    }

    fn load_from_disk(&self, key: &CacheKey) -> Option<Module> {
        let disk = self.disk.as_ref()?;
        let stored = match disk.load(key) {
            Ok(found) => found?,
            Err(reason) => {
                self.reject_disk_entry(disk, key, &reason);
                return None;
            }
        };
        // SAFETY: `DiskCache::load` returned these bytes only after checking
        // the file's checksum over header and artifact and comparing the
        // full key it stores with ours, which includes this backend's
        // fingerprint: they are exactly what `serialize` wrote for this
        // code, config and engine. This is the one place Ward deserializes.
        #[allow(unsafe_code)]
        let module = unsafe { self.backend.deserialize(stored.artifact()) };
        match module {
            Ok(module) => {
                self.disk_hits.fetch_add(1, Ordering::Relaxed);
                Some(Module::prepared(
                    module,
                    stored.metering,
                    stored.has_start,
                    stored.recyclable,
                    stored.instance_gas,
                ))
            }
            Err(err) => {
                self.reject_disk_entry(disk, key, &err.message);
                None
            }
        }
    }

    fn reject_disk_entry(&self, disk: &DiskCache, key: &CacheKey, reason: &str) {
        self.disk_rejects.fetch_add(1, Ordering::Relaxed);
        tracing::warn!(
            code = %key.code,
            "disk cache entry refused ({reason}); recompiling"
        );
        if !self.options.disk_read_only {
            disk.remove(key);
        }
    }

    /// The disk cache, if there is one and it may be written.
    fn writable_disk(&self) -> Option<&Arc<DiskCache>> {
        self.disk.as_ref().filter(|_| !self.options.disk_read_only)
    }

    fn compile_and_store(&self, key: &CacheKey, wasm: &[u8]) -> Result<Module, Failure> {
        self.compiles.fetch_add(1, Ordering::Relaxed);
        let result = crate::compile(&*self.backend, &self.config, wasm);
        if let (Ok(module), Some(disk)) = (&result, self.writable_disk()) {
            let (metering, has_start, recyclable, instance_gas) = (
                module.metering(),
                module.has_start(),
                module.recyclable(),
                module.instance_gas(),
            );
            let (disk, key) = (disk.clone(), key.clone());
            let store = move |artifact| {
                let stored = Stored {
                    bytes: artifact,
                    start: 0,
                    metering,
                    has_start,
                    recyclable,
                    instance_gas,
                };
                if let Err(err) = disk.store(&key, &stored) {
                    tracing::warn!(code = %key.code, "disk cache write failed: {err}");
                }
            };
            match self.backend.serialize(module) {
                Some(artifact) => store(artifact),
                // A tiered backend's artifact, written once it is compiled.
                None => {
                    self.backend.serialize_when_ready(module, Box::new(store));
                }
            }
        }
        result
    }

    fn insert(&self, state: &mut State, digest: CodeHash, result: Result<Module, Failure>) {
        let bytes = match &result {
            Ok(module) => module.footprint().max(1),
            Err(failure) => REJECTION_BYTES + failure.message.len(),
        };
        if let Some(old) = state.entries.remove(&digest) {
            state.bytes -= old.bytes;
        }
        state.clock += 1;
        let tick = state.clock;
        state.bytes += bytes;
        state.entries.insert(
            digest,
            Entry {
                result,
                bytes,
                last_used: tick,
                pinned: false,
            },
        );
        self.evict(state);
    }

    /// Drops least recently used, unpinned entries until within budget.
    fn evict(&self, state: &mut State) {
        if state.bytes <= self.options.memory_bytes {
            return;
        }
        let mut order: Vec<(u64, CodeHash)> = state
            .entries
            .iter()
            .filter(|(_, e)| !e.pinned)
            .map(|(code, e)| (e.last_used, *code))
            .collect();
        order.sort_unstable();
        for (_, code) in order {
            if state.bytes <= self.options.memory_bytes {
                break;
            }
            if let Some(entry) = state.entries.remove(&code) {
                state.bytes -= entry.bytes;
                self.evictions.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}

/// The message of the internal "not cached" answer to a lookup.
const NOT_CACHED: &str = "not cached";

/// One thread's claim on compiling a key. Landing records the result and
/// wakes the waiters; dropping without landing (a panic) only wakes them,
/// so one of them takes over.
struct Flight<'c> {
    cache: &'c ModuleCache,
    digest: CodeHash,
}

impl Flight<'_> {
    fn land(self, result: &Result<Module, Failure>) {
        let cacheable = !matches!(result, Err(f) if f.message == NOT_CACHED);
        if cacheable {
            let mut state = self.cache.lock();
            self.cache.insert(&mut state, self.digest, result.clone());
        }
        // `drop` clears the flight and notifies.
    }
}

impl Drop for Flight<'_> {
    fn drop(&mut self) {
        let mut state = self.cache.lock();
        state.in_flight.remove(&self.digest);
        drop(state);
        self.cache.done.notify_all();
    }
}
