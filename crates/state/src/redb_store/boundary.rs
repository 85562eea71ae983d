//! Where redb's panics stop.
//!
//! redb trusts the bytes of its file: on a damaged file its b-tree,
//! allocator and region code can reach `unreachable!` or an index out of
//! bounds. Every call into redb runs inside [`contain`], which turns such a
//! panic into its message, so the store reports damage as an error and no
//! panic crosses the store's API. A contained panic is not printed (its
//! message goes into the error instead); panics elsewhere print as before.

use std::{
    any::Any,
    cell::{Cell, RefCell},
    panic::{self, AssertUnwindSafe},
    sync::Once,
};

thread_local! {
    /// How many [`contain`] calls this thread is inside.
    static DEPTH: Cell<u32> = const { Cell::new(0) };
    /// The last contained panic's report: its message and where.
    static REPORT: RefCell<Option<String>> = const { RefCell::new(None) };
}

static HOOK: Once = Once::new();

/// Installs, once per process, a panic hook that records a contained panic
/// instead of printing it, and hands every other panic to the hook that
/// was there before.
fn install_hook() {
    HOOK.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if DEPTH.with(Cell::get) > 0 {
                let message = info.payload_as_str().unwrap_or("no message");
                let report = match info.location() {
                    Some(at) => format!("{message} (at {}:{})", at.file(), at.line()),
                    None => message.to_owned(),
                };
                REPORT.with(|r| *r.borrow_mut() = Some(report));
            } else {
                previous(info);
            }
        }));
    });
}

/// Runs `f`; if it panics, returns the panic's report instead of
/// unwinding past the caller.
///
/// `f` must not be used again after it panicked: the store that called it
/// marks itself damaged, so nothing redb left half-done is touched.
pub(super) fn contain<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    install_hook();
    DEPTH.with(|d| d.set(d.get() + 1));
    let result = panic::catch_unwind(AssertUnwindSafe(f));
    DEPTH.with(|d| d.set(d.get() - 1));
    result.map_err(|payload| {
        REPORT
            .with(|r| r.borrow_mut().take())
            .unwrap_or_else(|| message(payload.as_ref()))
    })
}

/// A panic payload's message.
fn message(payload: &(dyn Any + Send)) -> String {
    if let Some(text) = payload.downcast_ref::<&str>() {
        (*text).to_owned()
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text.clone()
    } else {
        "a panic without a message".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::contain;

    #[test]
    fn a_panic_becomes_its_report_and_a_value_passes_through() {
        assert_eq!(contain(|| 7), Ok(7));
        let report = contain(|| -> u32 { panic!("page {} is not a branch", 12) }).unwrap_err();
        assert!(report.contains("page 12 is not a branch"), "{report}");
        assert!(report.contains("boundary.rs"), "{report}");
        // Nested: the inner one is contained, the outer one goes on.
        assert_eq!(contain(|| contain(|| panic!("inner")).is_err()), Ok(true));
    }
}
