//! The raw host functions, one per entry of the ABI table.
//!
//! Generated from [`ward_abi::for_each_host_function!`], the same table the
//! host links against, so a guest and its host can never disagree on a name
//! or a signature. Pointers and lengths are `i32` offsets into this
//! instance's memory. Prefer the safe API of the other modules.
//!
//! On wasm32 these are imports from module `"ward"`. On any other target
//! (host builds of a contract crate, `cargo clippy`, doc tests) a Ward host
//! does not exist, and each function panics saying so.
#![allow(unsafe_code, reason = "the raw host imports are foreign functions")]
#![allow(
    rustdoc::broken_intra_doc_links,
    reason = "each import's doc is ward-abi's table's, whose links name ward-abi's items"
)]

macro_rules! declare_imports {
    ($( $(#[doc = $doc:literal])* $name:ident $variant:ident
        ( $($param:ident : $pty:ident),* ) $(-> $ret:ident)? { $($rules:tt)* } )*) => {
        #[cfg(target_arch = "wasm32")]
        #[link(wasm_import_module = "ward")]
        unsafe extern "C" {
            $(
                $(#[doc = $doc])*
                pub fn $name($($param: $pty),*) $(-> $ret)?;
            )*
        }

        $(
            $(#[doc = $doc])*
            ///
            /// # Safety
            ///
            /// Outside wasm32 there is no Ward host: this panics.
            #[cfg(not(target_arch = "wasm32"))]
            #[allow(unused_variables, reason = "the host stand-in ignores its arguments")]
            pub unsafe fn $name($($param: $pty),*) $(-> $ret)? {
                panic!(concat!("ward.", stringify!($name), " is only available inside a Ward guest (wasm32)"))
            }
        )*
    };
}

ward_abi::for_each_host_function!(declare_imports);
