//! CPU time, for the figures measured by what a component spends rather
//! than by the wall clock (the node's beside the executor's in process).

use std::time::Duration;

use rustix::time::{ClockId, Timespec, clock_gettime};

fn duration(time: Timespec) -> Duration {
    Duration::new(
        u64::try_from(time.tv_sec).unwrap_or(0),
        u32::try_from(time.tv_nsec).unwrap_or(0),
    )
}

/// The CPU time of every thread of this process so far, those that have
/// ended included.
pub fn process() -> Duration {
    duration(clock_gettime(ClockId::ProcessCPUTime))
}

/// The calling thread's CPU time so far.
pub fn thread() -> Duration {
    duration(clock_gettime(ClockId::ThreadCPUTime))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_thread_spending_cpu_shows_in_both_clocks() {
        let (process_before, thread_before) = (process(), thread());
        // Work until this thread's own clock has moved 20 ms: a bound on
        // work done, not on time taken.
        let mut x = 1u64;
        while thread().saturating_sub(thread_before) < Duration::from_millis(20) {
            for _ in 0..10_000 {
                x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
            }
        }
        let spent = thread() - thread_before;
        assert!(process() - process_before >= spent);
        // Another thread's work shows in the process's clock, not in ours.
        let before = (process(), thread());
        let other = std::thread::spawn(|| {
            let started = thread();
            while thread().saturating_sub(started) < Duration::from_millis(20) {
                std::hint::black_box(0u64);
            }
            thread() - started
        })
        .join()
        .unwrap();
        assert!(process() - before.0 >= other);
        assert!(thread() - before.1 < other);
    }
}
