//! The runtime's heap: dlmalloc (the allocator Rust's standard library
//! uses on wasm32) over pages this module hands out, made anew at the
//! start of every call.
//!
//! The SDK's bump allocator frees only the latest block, which a frame's
//! loop of calls outgrows: each call's return data stays until the
//! frame ends (ethereum/tests' 50 000-call loops ran out of memory).
//! dlmalloc reuses what is freed. A runtime instance serves many calls,
//! and what one call leaves in the heap must not change the next (a
//! block runs alike on every node, whatever its instances served
//! before): [`reset`] starts each call with a fresh allocator whose pages
//! begin where [`keep`] left them, as the bump allocator's reset did.
#![allow(unsafe_code, reason = "a global allocator is unsafe by nature")]

use core::{
    alloc::{GlobalAlloc, Layout},
    arch::wasm32,
    cell::{Cell, UnsafeCell},
    ptr,
};

use dlmalloc::{Allocator, Dlmalloc};

const PAGE: usize = 65_536;

unsafe extern "C" {
    /// The first byte after static data and the stack, set by the linker.
    static __heap_base: u8;
}

/// The next byte [`Pages`] hands out (0: the heap base), and where
/// [`reset`] moves it back to (0: the heap base).
struct Cursor {
    top: Cell<usize>,
    kept: Cell<usize>,
}

// SAFETY: a wasm32 guest without the threads feature (which Ward's policy
// rejects) has exactly one thread.
unsafe impl Sync for Cursor {}

static CURSOR: Cursor = Cursor {
    top: Cell::new(0),
    kept: Cell::new(0),
};

fn heap_base() -> usize {
    ptr::addr_of!(__heap_base) as usize
}

/// The regions dlmalloc asks for: memory from the cursor upwards, grown
/// as needed, never given back (the next [`reset`] reuses it).
struct Pages;

// SAFETY: every region handed out lies in linear memory at or above the
// heap base, below the memory's end, and after every region handed out
// since the last reset; none is handed out twice before a reset, after
// which the old allocator that used them is gone.
unsafe impl Allocator for Pages {
    fn alloc(&self, size: usize) -> (*mut u8, usize, u32) {
        let start = match CURSOR.top.get() {
            0 => heap_base(),
            top => top,
        };
        let Some(start) = start.checked_add(15).map(|p| p & !15) else {
            return (ptr::null_mut(), 0, 0);
        };
        let Some(end) = start.checked_add(size) else {
            return (ptr::null_mut(), 0, 0);
        };
        let have = wasm32::memory_size(0) * PAGE;
        if end > have && wasm32::memory_grow(0, (end - have).div_ceil(PAGE)) == usize::MAX {
            return (ptr::null_mut(), 0, 0);
        }
        CURSOR.top.set(end);
        (start as *mut u8, size, 0)
    }

    fn remap(&self, _: *mut u8, _: usize, _: usize, _: bool) -> *mut u8 {
        ptr::null_mut()
    }

    fn free_part(&self, _: *mut u8, _: usize, _: usize) -> bool {
        false
    }

    fn free(&self, _: *mut u8, _: usize) -> bool {
        false
    }

    fn can_release_part(&self, _: u32) -> bool {
        false
    }

    /// Pages reused after a reset hold what the last call wrote.
    fn allocates_zeros(&self) -> bool {
        false
    }

    fn page_size(&self) -> usize {
        PAGE
    }
}

struct Heap(UnsafeCell<Dlmalloc<Pages>>);

// SAFETY: one thread (see `Cursor`).
unsafe impl Sync for Heap {}

#[global_allocator]
static HEAP: Heap = Heap(UnsafeCell::new(Dlmalloc::new_with_allocator(Pages)));

// SAFETY: dlmalloc's own contract, with the one thread there is: no two
// calls into it overlap.
unsafe impl GlobalAlloc for Heap {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: see the impl.
        unsafe { (*self.0.get()).malloc(layout.size(), layout.align()) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: see the impl.
        unsafe { (*self.0.get()).calloc(layout.size(), layout.align()) }
    }

    unsafe fn dealloc(&self, block: *mut u8, layout: Layout) {
        // SAFETY: see the impl; `block` came from this allocator.
        unsafe { (*self.0.get()).free(block, layout.size(), layout.align()) }
    }

    unsafe fn realloc(&self, block: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: see the impl; `block` came from this allocator.
        unsafe { (*self.0.get()).realloc(block, layout.size(), layout.align(), new_size) }
    }
}

/// Keeps every allocation made so far for good: [`reset`] starts after
/// them. What is kept must never be freed (revm's tables built once per
/// instance live in statics).
pub(crate) fn keep() {
    CURSOR.kept.set(CURSOR.top.get());
}

/// Forgets every allocation made since the last [`keep`]: the next call's
/// heap is a fresh allocator over the same pages.
///
/// # Safety
///
/// Nothing allocated since the last [`keep`] may be used (or freed) after
/// this.
pub(crate) unsafe fn reset() {
    CURSOR.top.set(CURSOR.kept.get());
    // SAFETY: one thread, and no block of the old allocator is used again
    // (the caller's contract).
    unsafe { *HEAP.0.get() = Dlmalloc::new_with_allocator(Pages) };
}
