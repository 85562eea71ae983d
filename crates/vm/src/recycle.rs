//! What both backends share to recycle instances: a module's initial
//! memory image, the budget that bounds what recycled instances hold, and
//! the rules of handing one out and taking it back, over a backend's own
//! types ([`Recyclable`]).
//!
//! A recycled instance is a finished instance of a recyclable module
//! ([`crate::Module::recyclable`]) restored to exactly the state of a new
//! one: its memory rewritten from the image, its mutable globals set back by
//! the instrumentation's `__ward_reset`. Backends keep a few per module and
//! hand them out through [`crate::Backend::sandbox_for`].

use std::sync::{
    Arc, Mutex, OnceLock, PoisonError,
    atomic::{AtomicBool, AtomicU64, Ordering},
};

use crate::{CallContext, Module, Reply, Sandbox, Step, Value};

/// Recycled instances a module keeps: enough for the threads that run one
/// module at once on a small node, few enough that a cache of many modules
/// holds little (the backend's [`RecycleBudget`] bounds the total).
pub const PER_MODULE: usize = 2;

/// The granule of a memory image: pages of this size are either all zero
/// or copied.
const PAGE: usize = 4096;

/// The memory of a new instance, and which of its pages are all zero
/// (most of a memory).
#[derive(Debug)]
pub struct MemoryImage {
    bytes: Box<[u8]>,
    /// Whether each page is all zero: such a page is restored by reading
    /// only the memory, not the image too.
    zero: Box<[bool]>,
    /// The granule of the instrumentation's bitmap of written memory
    /// ([`ward_instrument::dirty_shift`] of the image's size).
    shift: u32,
}

impl MemoryImage {
    /// The image of `memory`, taken from a new instance before any call.
    pub fn new(memory: &[u8]) -> Self {
        MemoryImage {
            bytes: memory.into(),
            zero: memory.chunks(PAGE).map(is_zero).collect(),
            shift: ward_instrument::dirty_shift(memory.len() as u64),
        }
    }

    /// Makes `memory` equal to the image, page by page: a page that
    /// already equals its image is only read, one that differs is
    /// rewritten. A call touches a few pages of a memory (the top of the
    /// shadow stack, a little heap): reading a page costs about what
    /// writing it does, but leaves it clean in every cache, so the restore
    /// writes in proportion to what the call touched. `false`, with
    /// nothing written, when `memory` is not the image's size (it grew).
    pub fn restore(&self, memory: &mut [u8]) -> bool {
        if memory.len() != self.bytes.len() {
            return false;
        }
        self.restore_pages(memory, 0, memory.len());
        true
    }

    /// [`MemoryImage::restore`] of the granules set in `written` alone
    /// (the bitmap of [`ward_instrument::DIRTY_EXPORT`] and of the host's
    /// writes, [`crate::GuestMemory`]): nothing else can differ from the
    /// image. The full restore is the oracle: a debug build, or a process
    /// that turned [`check_restores`] on, compares the whole memory with
    /// the image afterwards; a difference is counted
    /// ([`missed_restores`]), fixed by the full restore, and fails a debug
    /// build's assertion, so that a write the marks missed fails a test
    /// instead of leaking into the next call.
    pub fn restore_written(&self, memory: &mut [u8], written: u64) -> bool {
        if memory.len() != self.bytes.len() {
            return false;
        }
        let mut bits = written;
        while bits != 0 {
            // A run of set bits: granules `first..first + run`.
            let first = bits.trailing_zeros();
            let run = (bits >> first).trailing_ones();
            bits &= u64::MAX.checked_shl(first + run).unwrap_or(0);
            let start = (first as usize) << self.shift;
            let end = ((first + run) as usize) << self.shift;
            self.restore_pages(memory, start.min(memory.len()), end.min(memory.len()));
        }
        if (cfg!(debug_assertions) || CHECK_RESTORES.load(Ordering::Relaxed))
            && *memory != *self.bytes
        {
            MISSED_RESTORES.fetch_add(1, Ordering::Relaxed);
            self.restore(memory);
            debug_assert!(
                false,
                "a recycled instance's memory differed from its image outside the granules marked written ({written:#x})"
            );
        }
        true
    }

    /// Restores bytes `start..end` (page-aligned, or the memory's end).
    fn restore_pages(&self, memory: &mut [u8], start: usize, end: usize) {
        let (Some(to), Some(from)) = (memory.get_mut(start..end), self.bytes.get(start..end))
        else {
            return;
        };
        let zero = self.zero.get(start / PAGE..).unwrap_or_default();
        for ((page, image), &zero) in to.chunks_mut(PAGE).zip(from.chunks(PAGE)).zip(zero) {
            if zero {
                if !is_zero(page) {
                    page.fill(0);
                }
            } else if page != image {
                page.copy_from_slice(image);
            }
        }
    }
}

/// Whether tracked restores are checked against the full one in a release
/// build ([`check_restores`]).
static CHECK_RESTORES: AtomicBool = AtomicBool::new(false);
/// Tracked restores that the check found incomplete.
static MISSED_RESTORES: AtomicU64 = AtomicU64::new(0);

/// Checks every tracked restore ([`MemoryImage::restore_written`]) against
/// the image in a release build too, as a debug build always does: for
/// the differential tests and long fuzzing runs, never for a node (it
/// reads the whole memory after every call).
pub fn check_restores(on: bool) {
    CHECK_RESTORES.store(on, Ordering::Relaxed);
}

/// How many tracked restores, in this process, left a byte different
/// from the image that the full restore then fixed: a write the marks
/// missed. Counted only where restores are checked ([`check_restores`]).
pub fn missed_restores() -> u64 {
    MISSED_RESTORES.load(Ordering::Relaxed)
}

/// Whether every byte of `page` is zero: a reduction the compiler
/// vectorises (an early-exit `all` compares byte by byte).
fn is_zero(page: &[u8]) -> bool {
    let (words, rest) = page.as_chunks::<8>();
    let folded = words
        .iter()
        .fold(0u64, |acc, w| acc | u64::from_le_bytes(*w));
    folded == 0 && rest.iter().all(|&b| b == 0)
}

/// What a backend's recycled instances may hold at once: memory bytes
/// (`Config::recycle_bytes`) and instances (a share of the instance pool,
/// so recycled instances never starve new ones of slots).
#[derive(Debug)]
pub struct RecycleBudget {
    max_bytes: u64,
    max_instances: u64,
    bytes: AtomicU64,
    instances: AtomicU64,
    handed_out: AtomicU64,
}

impl RecycleBudget {
    /// A budget of `max_bytes` of memory and `max_instances` instances.
    pub fn new(max_bytes: u64, max_instances: u64) -> Self {
        RecycleBudget {
            max_bytes,
            max_instances,
            bytes: AtomicU64::new(0),
            instances: AtomicU64::new(0),
            handed_out: AtomicU64::new(0),
        }
    }

    /// Whether recycling is on at all.
    pub fn enabled(&self) -> bool {
        self.max_bytes > 0 && self.max_instances > 0
    }

    /// Reserves room for one instance holding `bytes` of memory; `false`
    /// when it would exceed the budget. Two threads can never both take
    /// the last of it.
    pub fn claim(&self, bytes: u64) -> bool {
        let fits = |used: &AtomicU64, add: u64, max: u64| {
            used.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |held| {
                held.checked_add(add).filter(|&total| total <= max)
            })
            .is_ok()
        };
        if !fits(&self.instances, 1, self.max_instances) {
            return false;
        }
        if !fits(&self.bytes, bytes, self.max_bytes) {
            self.instances.fetch_sub(1, Ordering::Relaxed);
            return false;
        }
        true
    }

    /// Gives back what [`RecycleBudget::claim`] reserved, when the instance
    /// is handed out (`handed_out`) or dropped.
    pub fn release(&self, bytes: u64, handed_out: bool) {
        self.instances.fetch_sub(1, Ordering::Relaxed);
        self.bytes.fetch_sub(bytes, Ordering::Relaxed);
        if handed_out {
            self.handed_out.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// How many recycled instances have been handed out.
    pub fn handed_out(&self) -> u64 {
        self.handed_out.load(Ordering::Relaxed)
    }
}

/// A compiled module's recycled instances (`T`: a backend's finished
/// sandbox and what it needs to reuse it) and the image they are restored
/// to. Each entry counts against its backend's [`RecycleBudget`] until it
/// is taken or the pool (with its module) is dropped.
pub struct RecyclePool<T> {
    budget: Arc<RecycleBudget>,
    image: OnceLock<MemoryImage>,
    entries: Mutex<Vec<(T, u64)>>,
    uses: AtomicU64,
}

impl<T> RecyclePool<T> {
    /// An empty pool counting against `budget` (its backend's).
    pub fn new(budget: Arc<RecycleBudget>) -> Self {
        RecyclePool {
            budget,
            image: OnceLock::new(),
            entries: Mutex::new(Vec::new()),
            uses: AtomicU64::new(0),
        }
    }

    /// Whether a call through the backend owning `budget` takes part in
    /// recycling: recycling is on, the module is that backend's (another
    /// backend's pool holds sandboxes of its own engine and
    /// configuration), and this is not the module's first call (counted
    /// here). A module run once (a cold call) thus pays nothing for an
    /// image and a pool it will not use.
    pub fn admits(&self, budget: &Arc<RecycleBudget>) -> bool {
        Arc::ptr_eq(&self.budget, budget)
            && budget.enabled()
            && self.uses.fetch_add(1, Ordering::Relaxed) > 0
    }

    /// A recycled instance, if one is waiting, and the bytes of its
    /// memory.
    pub fn take(&self) -> Option<(T, u64)> {
        let (entry, bytes) = self.lock().pop()?;
        self.budget.release(bytes, true);
        Some((entry, bytes))
    }

    /// Makes `memory` equal to the recorded image of a new instance:
    /// the granules in `written` when the writes were tracked
    /// ([`MemoryImage::restore_written`]), else all of it
    /// ([`MemoryImage::restore`]); `false` when no image was recorded or
    /// the memory grew.
    pub fn restore_memory(&self, memory: &mut [u8], written: Option<u64>) -> bool {
        self.image.get().is_some_and(|image| match written {
            Some(written) => image.restore_written(memory, written),
            None => image.restore(memory),
        })
    }

    /// Records the memory of a new instance, before any call, as the image
    /// (the first recording wins; every new instance starts the same).
    pub fn record_image(&self, memory: &[u8]) {
        self.image.get_or_init(|| MemoryImage::new(memory));
    }

    /// Keeps `entry`, an instance whose memory is `bytes` long, for a later
    /// call: when the pool has room, the budget allows, and `restore` made
    /// it new again. Otherwise it is dropped.
    pub fn keep(&self, entry: T, bytes: u64, restore: impl FnOnce(&mut T) -> bool) {
        if self.lock().len() >= PER_MODULE || !self.budget.claim(bytes) {
            return;
        }
        let mut entry = entry;
        let restored = restore(&mut entry);
        let mut entries = self.lock();
        if !restored || entries.len() >= PER_MODULE {
            drop(entries);
            self.budget.release(bytes, false);
            return;
        }
        entries.push((entry, bytes));
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<(T, u64)>> {
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl<T> Drop for RecyclePool<T> {
    fn drop(&mut self) {
        let entries = self
            .entries
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner);
        for (_, bytes) in entries.drain(..) {
            self.budget.release(bytes, false);
        }
    }
}

/// A sandbox's tie to the module `Backend::sandbox_for` made it for: the
/// backend's compiled module (`M`), a recycled instance of it (`I`) not yet
/// claimed by `instantiate`, and whether the sandbox is still in a state a
/// restore can undo (one instance of the module, calls that returned or
/// exited, no externref created in the store).
pub struct Home<M, I> {
    module: Arc<M>,
    ready: Option<I>,
    reusable: bool,
    /// The embedder wrote into the instance's memory
    /// ([`Sandbox::write_memory`]): its writes are not marked, so the
    /// whole memory is restored.
    embedder_wrote: bool,
}

impl<M, I> Home<M, I> {
    /// A home for a sandbox made for `module`, holding `ready` when it was
    /// recycled.
    pub fn new(module: Arc<M>, ready: Option<I>) -> Self {
        Home {
            module,
            ready,
            reusable: true,
            embedder_wrote: false,
        }
    }

    /// The module the sandbox was made for.
    pub fn module(&self) -> &Arc<M> {
        &self.module
    }

    /// Called by `instantiate` for `module`: whether this is the one
    /// instantiation the home was made for (`alone`: no links, no instance
    /// in the sandbox yet). Any other instantiation rules recycling out.
    pub fn claim(&mut self, module: &M, alone: bool) -> bool {
        let mine = self.reusable && alone && std::ptr::eq(Arc::as_ptr(&self.module), module);
        self.reusable = mine;
        mine
    }

    /// The recycled instance, for the instantiation [`Home::claim`] said
    /// is the home's.
    pub fn take_ready(&mut self) -> Option<I> {
        self.ready.take()
    }

    /// Values the embedder passes in: an externref lives in the store
    /// until it drops, which no restore undoes.
    pub fn note_values(&mut self, values: &[Value]) {
        if values
            .iter()
            .any(|v| matches!(v, Value::ExternRef(Some(_))))
        {
            self.reusable = false;
        }
    }

    /// How a call ended: only instances whose calls returned or exited
    /// are recycled.
    pub fn note_step(&mut self, step: &Step) {
        if matches!(step, Step::Failed(_)) {
            self.reusable = false;
        }
    }

    /// The embedder wrote into the instance's memory: restore all of it.
    pub fn note_embedder_write(&mut self) {
        self.embedder_wrote = true;
    }

    /// At the end of the sandbox: the module to give its instance back to,
    /// when nothing ruled recycling out and the instance was claimed, and
    /// whether the granules marked written are all that changed (the
    /// embedder wrote nothing).
    pub fn into_module(self) -> Option<(Arc<M>, bool)> {
        (self.reusable && self.ready.is_none()).then_some((self.module, !self.embedder_wrote))
    }
}

/// A finished sandbox kept whole with its one instance, restored to the
/// state of a new one (nothing is allocated or moved to reuse it).
pub struct Recycled<S, I> {
    /// The sandbox that ran the instance, with its store.
    pub sandbox: Box<S>,
    /// The instance, in the sandbox's store.
    pub instance: I,
}

/// A backend's sandbox, as recycling sees it: its types and the engine
/// work. The rules (when a sandbox gets a home, what a call tells it, when
/// a finished instance is kept) are [`sandbox_for`], [`watched`] and
/// [`finish`], written once.
pub trait Recyclable: Sandbox + Sized + 'static {
    /// The backend's compiled module, holding its pool.
    type Compiled: Send + Sync + 'static;
    /// An instance in the sandbox's store.
    type Instance: Copy;

    /// The pool of `compiled`'s recycled instances.
    fn pool(compiled: &Self::Compiled) -> &RecyclePool<Recycled<Self, Self::Instance>>;

    /// The sandbox's home, when it was made for a recyclable module.
    fn home(&mut self) -> &mut Option<Home<Self::Compiled, Self::Instance>>;

    /// Gives a recycled sandbox the context of its next call.
    fn set_context(&mut self, context: CallContext);

    /// The sandbox's only instance and its memory's size in bytes, when
    /// nothing is suspended in it; `None` otherwise.
    fn only_instance(&self) -> Option<(Self::Instance, u64)>;

    /// The only instance's memory, to rewrite from the pool's image
    /// (`None` when it has none).
    fn memory_mut(&mut self) -> Option<&mut [u8]>;

    /// The memory granules the instance's calls wrote: its
    /// [`ward_instrument::DIRTY_EXPORT`] bitmap, set back to 0, with the
    /// granules its host functions wrote ([`CallContext::take_written`]).
    /// `None` when the module does not mark its writes.
    fn take_written(&mut self, instance: Self::Instance, compiled: &Self::Compiled) -> Option<u64>;

    /// Sets the instance's mutable globals back through the
    /// instrumentation's `__ward_reset`, when the module has any. `false`
    /// when that fails.
    fn reset_globals(&mut self, instance: Self::Instance, compiled: &Self::Compiled) -> bool;

    /// Forgets the finished call: its context (the embedder's chain and
    /// host end here, as they would with the store), handles, deadline and
    /// cancel flag.
    fn clear(&mut self);
}

/// [`crate::Backend::sandbox_for`]: a recycled sandbox of `module` when its
/// pool has one, else a new sandbox (from `new_sandbox`) with a home for
/// the instance to go back to; a plain new sandbox for a module that cannot
/// be recycled, or whose pool `budget` no longer admits.
pub fn sandbox_for<S: Recyclable>(
    module: &Module,
    budget: &Arc<RecycleBudget>,
    context: CallContext,
    new_sandbox: impl FnOnce(CallContext) -> S,
) -> Box<dyn Sandbox> {
    let Some(compiled) = module
        .recyclable()
        .then(|| module.downcast_arc::<S::Compiled>())
        .flatten()
        .filter(|c| S::pool(c).admits(budget))
    else {
        return Box::new(new_sandbox(context));
    };
    let Some((
        Recycled {
            mut sandbox,
            instance,
        },
        bytes,
    )) = S::pool(&compiled).take()
    else {
        let mut sandbox = new_sandbox(context);
        *sandbox.home() = Some(Home::new(compiled, None));
        return Box::new(sandbox);
    };
    // The recycled instance's memory counts against the transaction's
    // memory budget as a new instance's would (its size as it was kept:
    // the sandbox forgot its instance when it was cleared). When it does
    // not fit, a new sandbox fails to instantiate for the same reason.
    let mut context = context;
    if !context.memory_growing(0, usize::try_from(bytes).unwrap_or(usize::MAX)) {
        return Box::new(new_sandbox(context));
    }
    sandbox.set_context(context);
    *sandbox.home() = Some(Home::new(compiled, Some(instance)));
    sandbox
}

/// Runs a call or a resumption of `sandbox` with `values` going in, and
/// tells its home what it must know: externrefs passed in, and how the
/// call ended.
pub fn watched<S: Recyclable>(
    sandbox: &mut S,
    values: &[Value],
    run: impl FnOnce(&mut S) -> Step,
) -> Step {
    if let Some(home) = sandbox.home() {
        home.note_values(values);
    }
    let step = run(sandbox);
    if let Some(home) = sandbox.home() {
        home.note_step(&step);
    }
    step
}

/// The values a reply passes in.
pub fn reply_values(reply: &Reply) -> &[Value] {
    match reply {
        Reply::Values(values) => values,
        _ => &[],
    }
}

/// [`Sandbox::finish`]: gives the sandbox's instance back to its module's
/// pool, restored, when its home says it may be; else drops it.
pub fn finish<S: Recyclable>(mut sandbox: Box<S>) {
    let Some((compiled, tracked)) = sandbox.home().take().and_then(Home::into_module) else {
        return;
    };
    let Some((instance, bytes)) = sandbox.only_instance() else {
        return;
    };
    let pool = S::pool(&compiled);
    // Kept only when restored to the state of a new instance: memory from
    // the image (false when it grew), globals reset.
    pool.keep(Recycled { sandbox, instance }, bytes, |entry| {
        let sandbox = &mut entry.sandbox;
        let written = sandbox
            .take_written(entry.instance, &compiled)
            .filter(|_| tracked);
        let restored = sandbox
            .memory_mut()
            .is_none_or(|m| pool.restore_memory(m, written))
            && sandbox.reset_globals(entry.instance, &compiled);
        if restored {
            sandbox.clear();
        }
        restored
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_restore_rewrites_every_page_to_the_image() {
        let mut new = vec![0u8; 5 * PAGE + 100];
        new[10] = 1;
        new[3 * PAGE + 7] = 9;
        let image = MemoryImage::new(&new);
        assert_eq!(*image.zero, [false, true, true, false, true, true]);
        let mut memory = vec![0xAAu8; new.len()];
        assert!(image.restore(&mut memory));
        assert_eq!(memory, new);
        // One byte changed anywhere (the last, partial page's last bytes
        // too) is found, whatever else is clean.
        for at in (0..new.len()).step_by(331).chain(new.len() - 3..new.len()) {
            let mut memory = new.clone();
            memory[at] ^= 0x5a;
            assert!(image.restore(&mut memory));
            assert_eq!(memory, new, "a change at {at}");
        }
        let mut grown = vec![0u8; new.len() + PAGE];
        assert!(!image.restore(&mut grown));
        assert!(grown.iter().all(|&b| b == 0));
    }

    #[test]
    fn a_tracked_restore_rewrites_the_marked_granules() {
        // 64 KiB: 4 KiB granules, 16 of them.
        let mut new = vec![0u8; 16 * PAGE];
        new[5 * PAGE + 1] = 3;
        let image = MemoryImage::new(&new);
        let mut memory = new.clone();
        memory[PAGE] = 1;
        memory[5 * PAGE + 1] = 4;
        memory[6 * PAGE] = 9;
        assert!(image.restore_written(&mut memory, 1 << 1 | 0b11 << 5));
        assert_eq!(memory, new);
        assert!(!image.restore_written(&mut vec![0u8; 17 * PAGE], 1));
        // Every bit, and a bitmap past the memory's granules.
        memory.fill(0xff);
        assert!(image.restore_written(&mut memory, u64::MAX));
        assert_eq!(memory, new);
    }

    #[test]
    #[cfg(debug_assertions)]
    #[should_panic(expected = "outside the granules marked written")]
    fn a_write_the_marks_missed_fails_a_debug_build() {
        let new = vec![0u8; 4 * PAGE];
        let image = MemoryImage::new(&new);
        let mut memory = new.clone();
        memory[3 * PAGE] = 1;
        image.restore_written(&mut memory, 1);
    }

    #[test]
    fn the_budget_bounds_bytes_and_instances() {
        let budget = RecycleBudget::new(100, 2);
        assert!(budget.claim(60));
        assert!(!budget.claim(60), "bytes");
        assert!(budget.claim(40));
        assert!(!budget.claim(0), "instances");
        budget.release(60, true);
        assert!(budget.claim(0));
        assert_eq!(budget.handed_out(), 1);
        assert!(!RecycleBudget::new(0, 5).enabled());
    }

    #[test]
    fn a_pool_keeps_what_fits_and_gives_it_back_when_dropped() {
        let budget = Arc::new(RecycleBudget::new(1000, 10));
        let pool = RecyclePool::new(budget.clone());
        assert!(!pool.admits(&budget), "a module's first call");
        assert!(pool.admits(&budget));
        assert!(!pool.admits(&Arc::new(RecycleBudget::new(1000, 10))));
        pool.keep(1, 400, |_| false);
        pool.keep(2, 400, |_| true);
        pool.keep(3, 400, |_| true);
        pool.keep(4, 100, |_| true);
        assert_eq!(pool.take(), Some((3, 400)));
        assert!(budget.claim(600));
        budget.release(600, false);
        drop(pool);
        assert!(budget.claim(1000));
    }
}
