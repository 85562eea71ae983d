//! The guest heap: a bump allocator over the instance's linear memory.
//!
//! A contract call runs in a fresh instance that lives for one call, so
//! freeing memory rarely pays: this allocator hands out memory from
//! `__heap_base` upwards, grows the memory (metered per page) when it runs
//! out, and gives back only the most recent allocation (which makes the
//! common push-then-drop and grow-in-place patterns cheap). Allocation
//! failure (the memory limit) returns null, which Rust turns into a panic,
//! so the call reverts.
//!
//! A system runtime's instance is reused across calls; its heap keeps
//! growing unless the runtime calls [`reset`] at the start of each call (or
//! does not allocate, as the `stackvm` example does).
#![allow(unsafe_code, reason = "a global allocator is unsafe by nature")]

#[cfg(all(target_arch = "wasm32", feature = "allocator"))]
mod bump {
    use core::{
        alloc::{GlobalAlloc, Layout},
        arch::wasm32,
        cell::Cell,
        ptr,
    };

    const PAGE: usize = 65_536;

    unsafe extern "C" {
        /// The first byte after static data and the stack, set by the linker.
        static __heap_base: u8;
    }

    /// The allocator's state: the next free byte and the memory's end
    /// (both 0 until the first allocation).
    pub(super) struct Bump {
        pub(super) next: Cell<usize>,
        /// Where [`super::reset`] moves `next` back to (0: the heap base).
        pub(super) kept: Cell<usize>,
        end: Cell<usize>,
    }

    // SAFETY: a wasm32 guest without the threads feature (which Ward's
    // policy rejects) has exactly one thread.
    unsafe impl Sync for Bump {}

    #[global_allocator]
    pub(super) static HEAP: Bump = Bump {
        next: Cell::new(0),
        kept: Cell::new(0),
        end: Cell::new(0),
    };

    impl Bump {
        /// Makes sure memory reaches `end`, growing it when needed.
        fn reserve(&self, end: usize) -> bool {
            if self.end.get() == 0 {
                self.end.set(wasm32::memory_size(0) * PAGE);
            }
            if end <= self.end.get() {
                return true;
            }
            let pages = (end - self.end.get()).div_ceil(PAGE);
            if wasm32::memory_grow(0, pages) == usize::MAX {
                return false;
            }
            self.end.set(wasm32::memory_size(0) * PAGE);
            true
        }

        fn start(&self) -> usize {
            match self.next.get() {
                0 => ptr::addr_of!(__heap_base) as usize,
                next => next,
            }
        }
    }

    // SAFETY: every block handed out lies in linear memory between the
    // heap base and the memory's end, is aligned as asked, and does not
    // overlap any live block (blocks are only ever taken from `next`
    // upwards, and `next` only moves back over the most recent block when
    // that block is freed).
    unsafe impl GlobalAlloc for Bump {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            let align = layout.align();
            let Some(start) = self
                .start()
                .checked_add(align - 1)
                .map(|p| p & !(align - 1))
            else {
                return ptr::null_mut();
            };
            let Some(end) = start.checked_add(layout.size()) else {
                return ptr::null_mut();
            };
            if !self.reserve(end) {
                return ptr::null_mut();
            }
            self.next.set(end);
            start as *mut u8
        }

        unsafe fn dealloc(&self, block: *mut u8, layout: Layout) {
            if block as usize + layout.size() == self.next.get() {
                self.next.set(block as usize);
            }
        }

        unsafe fn realloc(&self, block: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
            // The most recent block grows or shrinks in place.
            if block as usize + layout.size() == self.next.get() {
                if let Some(end) = (block as usize).checked_add(new_size) {
                    if self.reserve(end) {
                        self.next.set(end);
                        return block;
                    }
                }
                return ptr::null_mut();
            }
            if new_size <= layout.size() {
                return block;
            }
            // SAFETY: the caller's contract for `realloc` (a valid layout
            // and block) carries over to `alloc` and the copy.
            unsafe {
                let new_layout = Layout::from_size_align_unchecked(new_size, layout.align());
                let new = self.alloc(new_layout);
                if !new.is_null() {
                    ptr::copy_nonoverlapping(block, new, layout.size());
                }
                new
            }
        }
    }
}

/// Forgets every allocation made since the last [`keep`] (or ever, when
/// nothing was kept): the next one starts there again.
///
/// # Safety
///
/// No value allocated after the last [`keep`] may be used after the call
/// (for a system runtime: call it first thing in each call, and keep
/// nothing on the heap between calls but what was kept).
pub unsafe fn reset() {
    #[cfg(all(target_arch = "wasm32", feature = "allocator"))]
    bump::HEAP.next.set(bump::HEAP.kept.get());
}

/// Keeps every allocation made so far for good: [`reset`] no longer
/// forgets them. For a system runtime's state that lives as long as its
/// instance (lazily built tables, initialised once before the first
/// [`reset`] of a call).
pub fn keep() {
    #[cfg(all(target_arch = "wasm32", feature = "allocator"))]
    bump::HEAP.kept.set(bump::HEAP.next.get());
}
