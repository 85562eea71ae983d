//! Ward's contract SDK: write contracts in Rust.
//!
//! A contract is a `#![no_std]` `cdylib` built for `wasm32-unknown-unknown`
//! (`make contracts`, or see `docs/contracts.md`). This crate gives it:
//!
//! - [`contract!`]: the entry points. Each method becomes an ordinary Rust
//!   function, and the exported `main` reads the call's input (the method
//!   name, then its arguments in the [codec]), dispatches, and writes the
//!   method's result as the output. An `init` becomes the `deploy` export.
//! - [`env`]: input and output, [`revert`](env::revert), caller, own
//!   address, block height and time, gas left, debug log;
//! - [`storage`]: raw bytes, and typed [`Item`](storage::Item)s and
//!   [`Map`](storage::Map)s;
//! - [`event::emit`], [`call::Call`] (other contracts, read-only calls,
//!   return data), [`crypto`] (SHA-256, Keccak-256, BLAKE3, Ed25519);
//! - a bump allocator and a panic handler that reverts with the panic's
//!   message (features `allocator` and `panic-handler`, on by default).
//!
//! The raw imports in [`sys`] are generated from the same table
//! (`ward_abi::for_each_host_function!`) the host links against.
//!
//! ```no_run
//! // A contract crate's lib.rs (which starts with `#![no_std]`):
//! use ward_sdk::prelude::*;
//!
//! const COUNT: Item<u64> = Item::new(b"count");
//!
//! ward_sdk::contract! {
//!     /// Runs once, when the contract is deployed.
//!     init(start: u64) {
//!         COUNT.set(&start);
//!     }
//!
//!     /// Adds `by` and returns the new count.
//!     pub fn increment(by: u64) -> u64 {
//!         let n = COUNT.get().unwrap_or(0).checked_add(by);
//!         let n = n.unwrap_or_else(|| revert(1, "overflow"));
//!         COUNT.set(&n);
//!         emit("incremented", &n);
//!         n
//!     }
//!
//!     pub fn get() -> u64 {
//!         COUNT.get().unwrap_or(0)
//!     }
//! }
//! ```
//!
//! On targets other than wasm32 the codec works as everywhere (clients and
//! tests use it to build inputs and read outputs), and every host function
//! panics: there is no Ward host outside a guest.

#![no_std]

extern crate alloc;

pub mod call;
pub mod codec;
pub mod crypto;
pub mod env;
pub mod event;
pub mod heap;
mod panic;
pub mod storage;
pub mod sys;

#[cfg(test)]
mod tests;

use alloc::string::String;

pub use ward_primitives::{Address, Hash32};

use crate::codec::{Encode, encode};

/// What contracts usually need, in one `use`.
pub mod prelude {
    pub use crate::{
        Address, Revert,
        call::{Call, CallResult, CallStatus},
        codec::{Decode, Encode},
        env::{block_height, block_time, caller, revert, self_address},
        event::emit,
        require,
        storage::{Item, Map},
    };
    pub use alloc::{string::String, vec::Vec};
}

/// A method's refusal: an exit code and a message (the call's output).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Revert {
    /// The exit code (nonzero).
    pub code: u32,
    /// Why.
    pub message: String,
}

impl Revert {
    /// A revert with [`env::REVERT_CODE`].
    pub fn new(message: impl Into<String>) -> Revert {
        Revert::with_code(env::REVERT_CODE, message)
    }

    /// A revert with its own exit code (0 is taken as [`env::REVERT_CODE`]).
    pub fn with_code(code: u32, message: impl Into<String>) -> Revert {
        Revert {
            code: if code == 0 { env::REVERT_CODE } else { code },
            message: message.into(),
        }
    }
}

/// How a method's return value becomes the call's outcome: a value is
/// encoded as the output; `Err(Revert)` reverts.
pub trait Respond {
    /// Ends the method: writes the output, or reverts.
    fn respond(self);
}

impl<T: Encode> Respond for T {
    fn respond(self) {
        let bytes = encode(&self);
        if !bytes.is_empty() {
            env::set_output(&bytes);
        }
    }
}

impl<T: Encode> Respond for Result<T, Revert> {
    fn respond(self) {
        match self {
            Ok(value) => value.respond(),
            Err(revert) => env::revert(revert.code, &revert.message),
        }
    }
}

/// Reverts with a formatted message unless `cond` holds.
///
/// ```no_run
/// # let (balance, amount) = (1u128, 2u128);
/// ward_sdk::require!(balance >= amount, "insufficient balance: {balance} < {amount}");
/// ```
#[macro_export]
macro_rules! require {
    ($cond:expr, $($message:tt)+) => {
        if !$cond {
            $crate::env::revert(
                $crate::env::REVERT_CODE,
                &$crate::__private::format!($($message)+),
            )
        }
    };
}

/// Declares a struct whose fields are encoded in order (see [`codec`]),
/// with `Encode` and `Decode` implemented for it.
///
/// ```
/// use ward_sdk::{Address, codec::{decode_exact, encode}};
///
/// ward_sdk::record! {
///     /// A deal held in escrow.
///     #[derive(Debug, PartialEq)]
///     pub struct Deal {
///         pub depositor: Address,
///         pub amount: u128,
///     }
/// }
///
/// let deal = Deal { depositor: Address([1; 32]), amount: 5 };
/// assert_eq!(encode(&deal).len(), 48);
/// assert_eq!(decode_exact::<Deal>(&encode(&deal)).unwrap(), deal);
/// ```
#[macro_export]
macro_rules! record {
    (
        $(#[$meta:meta])*
        $vis:vis struct $name:ident {
            $( $(#[$fmeta:meta])* $fvis:vis $field:ident : $ty:ty ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        $vis struct $name {
            $( $(#[$fmeta])* $fvis $field: $ty, )*
        }

        impl $crate::codec::Encode for $name {
            fn encode_to(&self, out: &mut $crate::__private::Vec<u8>) {
                $( $crate::codec::Encode::encode_to(&self.$field, out); )*
            }
        }

        impl $crate::codec::Decode for $name {
            const SIZE_HINT: usize = 0 $( + <$ty as $crate::codec::Decode>::SIZE_HINT )*;

            fn decode_from(
                input: &mut &[u8],
            ) -> ::core::result::Result<Self, $crate::codec::DecodeError> {
                ::core::result::Result::Ok($name {
                    $( $field: <$ty as $crate::codec::Decode>::decode_from(input)?, )*
                })
            }
        }
    };
}

/// Declares a contract's entry points.
///
/// ```text
/// ward_sdk::contract! {
///     init(ARG: TYPE, ...) { ... }                        // optional: the `deploy` export
///     pub fn METHOD(ARG: TYPE, ...) -> RESULT { ... }     // any number
/// }
/// ```
///
/// Each method stays an ordinary function. The exported `main` decodes
/// the input as a method name (a codec string) followed by that method's
/// arguments (each in the codec, in order, with nothing after them), calls
/// it, and writes its result's encoding as the output (nothing for `()`).
/// A result of `Result<T, Revert>` reverts on `Err`. An unknown method
/// reverts with [`env::UNKNOWN_METHOD_CODE`], arguments that do not decode
/// with [`env::BAD_ARGUMENTS_CODE`]. `init` reads its arguments from the
/// whole deploy input (no method name).
#[macro_export]
macro_rules! contract {
    (
        $(#[$imeta:meta])*
        init ( $($iarg:ident : $ity:ty),* $(,)? ) $ibody:block
        $($methods:tt)*
    ) => {
        $(#[$imeta])*
        pub fn init($($iarg: $ity),*) $ibody

        /// The deploy entry point (generated by `ward_sdk::contract!`).
        #[cfg(target_arch = "wasm32")]
        #[unsafe(no_mangle)]
        pub extern "C" fn deploy() {
            let input = $crate::env::input();
            let ($($iarg,)*): ($($ity,)*) = $crate::__private::decode_args(&input, "init");
            init($($iarg),*);
        }

        $crate::contract! { $($methods)* }
    };
    (
        $(
            $(#[$meta:meta])*
            $vis:vis fn $name:ident ( $($arg:ident : $ty:ty),* $(,)? ) $(-> $ret:ty)? $body:block
        )*
    ) => {
        $(
            $(#[$meta])*
            $vis fn $name($($arg: $ty),*) $(-> $ret)? $body
        )*

        /// The call entry point (generated by `ward_sdk::contract!`).
        #[cfg(target_arch = "wasm32")]
        #[unsafe(no_mangle)]
        pub extern "C" fn main() {
            let input = $crate::env::input();
            let (method, args) = $crate::__private::split_method(&input);
            match method {
                $(
                    stringify!($name) => {
                        let ($($arg,)*): ($($ty,)*) =
                            $crate::__private::decode_args(args, stringify!($name));
                        $crate::Respond::respond($name($($arg),*));
                    }
                )*
                other => $crate::__private::unknown_method(other),
            }
        }
    };
}

#[doc(hidden)]
pub mod __private {
    pub use alloc::{format, vec::Vec};

    use crate::{
        codec::{Decode, decode_exact, split_method as split},
        env,
    };

    pub fn split_method(input: &[u8]) -> (&str, &[u8]) {
        match split(input) {
            Ok(parts) => parts,
            Err(e) => env::revert(
                env::UNKNOWN_METHOD_CODE,
                &format!("input does not start with a method name: {e}"),
            ),
        }
    }

    pub fn decode_args<T: Decode>(bytes: &[u8], method: &str) -> T {
        match decode_exact(bytes) {
            Ok(args) => args,
            Err(e) => env::revert(
                env::BAD_ARGUMENTS_CODE,
                &format!("bad arguments for `{method}`: {e}"),
            ),
        }
    }

    pub fn unknown_method(method: &str) -> ! {
        env::revert(
            env::UNKNOWN_METHOD_CODE,
            &format!("unknown method `{method}`"),
        )
    }
}
