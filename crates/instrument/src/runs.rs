//! Work over a module's bodies on several threads: consecutive runs of
//! them, the first on the calling thread, each other on a thread of its
//! own, the results taken back in order, so that what comes out never
//! depends on the number of threads.

use std::ops::Range;

/// Code bytes from which a module's bodies are validated and instrumented
/// on more than one thread: below it, a thread costs more than it saves.
pub(crate) const PARALLEL_CODE_BYTES: usize = 256 << 10;

/// Most threads that work on one module.
const MAX_THREADS: usize = 4;

/// How many threads work on `code` bytes of bodies: one for a small
/// module, else as many as the machine has cores, at most 4.
pub(crate) fn threads_for_code(code: usize) -> usize {
    if code < PARALLEL_CODE_BYTES {
        return 1;
    }
    std::thread::available_parallelism()
        .map_or(1, std::num::NonZero::get)
        .clamp(1, MAX_THREADS)
}

/// Splits `0..len` into up to `threads` consecutive runs: `first` does
/// the first here, `other` each later one on a thread named `name` (or
/// here too, if that thread cannot start). The first run's result, and
/// the later runs' in order.
pub(crate) fn in_runs<R, T: Send>(
    len: usize,
    threads: usize,
    name: &str,
    first: impl FnOnce(Range<usize>) -> R,
    other: impl Fn(Range<usize>) -> T + Sync,
) -> (R, Vec<T>) {
    let run = len.div_ceil(threads.max(1)).max(1);
    let other = &other;
    std::thread::scope(|scope| {
        let workers: Vec<_> = (run..len)
            .step_by(run)
            .map(|start| {
                let range = start..(start + run).min(len);
                let work = range.clone();
                std::thread::Builder::new()
                    .name(name.into())
                    .spawn_scoped(scope, move || other(work))
                    .map_err(|_| range)
            })
            .collect();
        let first = first(0..run.min(len));
        let rest = workers
            .into_iter()
            .map(|worker| match worker {
                Ok(handle) => handle
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
                // The thread never started: its run is done here.
                Err(range) => other(range),
            })
            .collect();
        (first, rest)
    })
}
