//! Ward's contract SDK: write contracts in Rust.
//!
//! A contract is a `#![no_std]` `cdylib` built for `wasm32-unknown-unknown`
//! (`make contracts`, or see `docs/contracts.md`). This crate gives it:
//!
//! - [`contract!`]: the entry points and events. Each method becomes an
//!   ordinary Rust function, and the exported `main` reads the call's input
//!   (the method name, then its arguments in the [codec]), dispatches, and
//!   writes the method's result as the output. An `init` becomes the
//!   `deploy` export. The module carries the contract's [schema].
//! - [`mod@env`]: input and output, [`revert`](env::revert), caller, own
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
//!     /// The count changed.
//!     pub event Incremented { by: u64, count: u64 }
//!
//!     /// Adds `by` and returns the new count.
//!     pub fn increment(by: u64) -> u64 {
//!         let n = COUNT.get().unwrap_or(0).checked_add(by);
//!         let n = n.unwrap_or_else(|| revert(1, "overflow"));
//!         COUNT.set(&n);
//!         emit(Incremented { by, count: n });
//!         n
//!     }
//!
//!     #[read_only]
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
pub mod schema;
pub mod sol;
pub mod storage;
pub mod sys;
pub mod transient;
pub mod vm;

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
        env::{balance, block_height, block_time, caller, revert, self_address, transfer, value},
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
/// with `Encode` and `Decode` implemented for it (and [`schema::SchemaType`]:
/// a schema shows it as the tuple of its fields).
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

        impl $crate::schema::SchemaType for $name {
            const TYPE: $crate::schema::Ty = $crate::schema::Ty::Tuple {
                of: &[$(<$ty as $crate::schema::SchemaType>::TYPE),*],
            };
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

/// Declares a contract: its entry points, its events, and its schema.
///
/// ```text
/// ward_sdk::contract! {
///     init(ARG: TYPE, ...) { ... }                        // optional: the `deploy` export
///     migrate(ARG: TYPE, ...) { ... }                     // optional: run by an upgrade to this code
///     pub event NAME { FIELD: TYPE, ... }                 // any number
///     #[read_only]                                        // optional: the method only reads
///     #[payable]                                          // optional: it takes value
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
/// whole deploy input (no method name); `migrate`, from the whole input
/// of the upgrade that installs this code (docs/contracts.md, "Upgrades").
///
/// An `event` becomes a struct with public fields (a [`record!`]) that
/// [`event::emit`] takes; its name is its topic. `#[read_only]` declares
/// that a method does not change state (clients offer it as a query; a
/// query runs read-only whatever a method declares). `#[payable]` (on a
/// method or `init`) lets a call with value in
/// ([`env::value`] says how much); any other reverts such a call with
/// [`env::NOT_PAYABLE_CODE`], as Solidity does.
///
/// Everything declared goes into the module's schema: the
/// [`schema::SECTION`] custom section, which `ward inspect` prints and
/// clients use to call the contract with JSON (docs/contracts.md). The
/// macro recurses once per item and attribute: a very long contract may
/// need a higher `#![recursion_limit]`.
///
/// # The Solidity ABI
///
/// `abi: solidity;` first makes a contract that Solidity code and Ethereum
/// tools call as one of their own ([`sol`]):
///
/// ```text
/// ward_sdk::contract! {
///     abi: solidity;
///     init(ARG: TYPE, ...) { ... }                        // the constructor
///     pub event NAME { #[indexed] FIELD: TYPE, ... }      // a log; indexed fields are topics
///     pub error NAME { FIELD: TYPE, ... }                 // a custom error (`Err(NAME { ... })`)
///     #[view] / #[pure] / #[payable]                      // the function's mutability
///     pub fn METHOD(ARG: TYPE, ...) -> RESULT { ... }     // selector of its camelCase name
/// }
/// ```
///
/// The exported `main` dispatches on the calldata's 4-byte selector (of
/// the function's name in camelCase: `balance_of` is `balanceOf`), decodes
/// the arguments ([`sol::SolType`]) and writes the result as the ABI
/// encodes it. A method's `Err` reverts with its revert data (a
/// [`Revert`] as `Error(string)`, a declared `error` with its selector),
/// and so do [`sol::revert`] and [`sol_require!`]; an unknown selector,
/// calldata that does not decode, and value sent to what is not
/// `#[payable]` revert with no data, as Solidity's do. Events go out
/// with [`sol::emit`]. The module carries the ABI JSON in the
/// [`sol::abi::SECTION`] custom section, which `ward build` writes beside
/// the `.wasm`.
#[macro_export]
macro_rules! contract {
    (abi: solidity; $($items:tt)*) => {
        $crate::__sol_contract! {
            @next init[] fns[] events[] errors[] attrs[] mutability[NonPayable] $($items)*
        }
    };
    ($($items:tt)*) => {
        $crate::__contract! { @next init[] methods[] events[] attrs[] ro[false false] $($items)* }
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __contract {
    // `#[read_only]`: a flag on the method that follows.
    (@next init[$($init:tt)*] methods[$($m:tt)*] events[$($e:tt)*] attrs[$($a:tt)*] ro[$ro:tt $pay:tt]
        #[read_only] $($rest:tt)*
    ) => {
        $crate::__contract! {
            @next init[$($init)*] methods[$($m)*] events[$($e)*] attrs[$($a)*] ro[true $pay] $($rest)*
        }
    };
    // `#[payable]`: the method (or `init`) that follows takes value.
    (@next init[$($init:tt)*] methods[$($m:tt)*] events[$($e:tt)*] attrs[$($a:tt)*] ro[$ro:tt $pay:tt]
        #[payable] $($rest:tt)*
    ) => {
        $crate::__contract! {
            @next init[$($init)*] methods[$($m)*] events[$($e)*] attrs[$($a)*] ro[$ro true] $($rest)*
        }
    };
    // Any other attribute: kept for the item that follows.
    (@next init[$($init:tt)*] methods[$($m:tt)*] events[$($e:tt)*] attrs[$($a:tt)*] ro[$ro:tt $pay:tt]
        #[$($attr:tt)*] $($rest:tt)*
    ) => {
        $crate::__contract! {
            @next init[$($init)*] methods[$($m)*] events[$($e)*] attrs[$($a)* #[$($attr)*]] ro[$ro $pay]
            $($rest)*
        }
    };
    // `init`: the `deploy` entry point.
    (@next init[] methods[$($m:tt)*] events[$($e:tt)*] attrs[$(#[$meta:meta])*] ro[false $pay:tt]
        init ( $($arg:ident : $ty:ty),* $(,)? ) $body:block $($rest:tt)*
    ) => {
        $(#[$meta])*
        pub fn init($($arg: $ty),*) $body

        /// The deploy entry point (generated by `ward_sdk::contract!`).
        #[cfg(target_arch = "wasm32")]
        #[unsafe(no_mangle)]
        pub extern "C" fn deploy() {
            $crate::__private::refuse_value($pay, "init");
            let input = $crate::env::input();
            let ($($arg,)*): ($($ty,)*) = $crate::__private::decode_args(&input, "init");
            init($($arg),*);
        }

        $crate::__contract! {
            @next init[($($arg : $ty),*)] methods[$($m)*] events[$($e)*] attrs[] ro[false false] $($rest)*
        }
    };
    (@next init[$($init:tt)+] methods[$($m:tt)*] events[$($e:tt)*] attrs[$($a:tt)*] ro[$ro:tt $pay:tt]
        init $($rest:tt)*
    ) => {
        ::core::compile_error!("contract!: a contract has at most one `init`");
    };
    // `migrate`: the export an upgrade runs (docs/contracts.md, "Upgrades").
    (@next init[$($init:tt)*] methods[$($m:tt)*] events[$($e:tt)*] attrs[$(#[$meta:meta])*] ro[false false]
        migrate ( $($arg:ident : $ty:ty),* $(,)? ) $body:block $($rest:tt)*
    ) => {
        $(#[$meta])*
        pub fn migrate($($arg: $ty),*) $body

        /// The migrate entry point, which an upgrade to this code runs
        /// (generated by `ward_sdk::contract!`).
        #[cfg(target_arch = "wasm32")]
        #[unsafe(export_name = "migrate")]
        pub extern "C" fn __ward_migrate() {
            let input = $crate::env::input();
            let ($($arg,)*): ($($ty,)*) = $crate::__private::decode_args(&input, "migrate");
            migrate($($arg),*);
        }

        $crate::__contract! {
            @next init[$($init)*] methods[$($m)*] events[$($e)*] attrs[] ro[false false] $($rest)*
        }
    };
    // An event: a record with a name.
    (@next init[$($init:tt)*] methods[$($m:tt)*] events[$($e:tt)*] attrs[$(#[$meta:meta])*] ro[false false]
        $vis:vis event $name:ident { $($field:ident : $fty:ty),* $(,)? } $($rest:tt)*
    ) => {
        $crate::record! {
            $(#[$meta])*
            // Compared and printed by tests (`ward-test`'s typed events);
            // code a contract never uses is not in its module.
            #[derive(Clone, Debug, PartialEq)]
            $vis struct $name { $(pub $field: $fty),* }
        }

        impl $crate::event::Event for $name {
            const SCHEMA: $crate::schema::EventSchema = $crate::schema::EventSchema {
                name: ::core::stringify!($name),
                fields: &[$($crate::schema::Arg {
                    name: ::core::stringify!($field),
                    ty: <$fty as $crate::schema::SchemaType>::TYPE,
                }),*],
            };
        }

        $crate::__contract! {
            @next init[$($init)*] methods[$($m)*] events[$($e)* $name] attrs[] ro[false false] $($rest)*
        }
    };
    // A method.
    (@next init[$($init:tt)*] methods[$($m:tt)*] events[$($e:tt)*] attrs[$(#[$meta:meta])*] ro[$ro:tt $pay:tt]
        $vis:vis fn $name:ident ( $($arg:ident : $ty:ty),* $(,)? ) $(-> $ret:ty)? $body:block
        $($rest:tt)*
    ) => {
        $(#[$meta])*
        $vis fn $name($($arg: $ty),*) $(-> $ret)? $body

        $crate::__contract! {
            @next init[$($init)*]
            methods[$($m)* { $name $ro $pay ($($arg : $ty),*) ($($ret)?) }]
            events[$($e)*] attrs[] ro[false false] $($rest)*
        }
    };
    // The end: `main` and the schema.
    (@next init[$($init:tt)*]
        methods[$({ $name:ident $ro:tt $pay:tt ($($arg:ident : $ty:ty),*) ($($ret:ty)?) })*]
        events[$($event:ident)*] attrs[] ro[false false]
    ) => {
        /// The call entry point (generated by `ward_sdk::contract!`).
        #[cfg(target_arch = "wasm32")]
        #[unsafe(no_mangle)]
        pub extern "C" fn main() {
            let input = $crate::env::input();
            let (method, args) = $crate::__private::split_method(&input);
            match method {
                $(
                    ::core::stringify!($name) => {
                        $crate::__private::refuse_value($pay, ::core::stringify!($name));
                        let ($($arg,)*): ($($ty,)*) =
                            $crate::__private::decode_args(args, ::core::stringify!($name));
                        $crate::Respond::respond($name($($arg),*));
                    }
                )*
                other => $crate::__private::unknown_method(other),
            }
        }

        /// This contract's schema (generated by `ward_sdk::contract!`).
        #[doc(hidden)]
        pub const __WARD_SCHEMA: $crate::schema::Contract = $crate::schema::Contract {
            init: $crate::__contract!(@init $($init)*),
            methods: &[$($crate::schema::Method {
                name: ::core::stringify!($name),
                args: &[$($crate::schema::Arg {
                    name: ::core::stringify!($arg),
                    ty: <$ty as $crate::schema::SchemaType>::TYPE,
                }),*],
                returns: $crate::__contract!(@returns $($ret)?),
                read_only: $ro,
                payable: $pay,
            }),*],
            events: &[$(<$event as $crate::event::Event>::SCHEMA),*],
        };

        /// The schema's custom section (generated by `ward_sdk::contract!`).
        #[cfg(target_arch = "wasm32")]
        #[doc(hidden)]
        #[used]
        #[unsafe(link_section = "ward.schema")]
        static __WARD_SCHEMA_SECTION: [u8; $crate::schema::encoded_len(&__WARD_SCHEMA)] =
            $crate::schema::encode(&__WARD_SCHEMA);
    };
    (@init) => { ::core::option::Option::None };
    (@init ($($arg:ident : $ty:ty),*)) => {
        ::core::option::Option::Some(&[$($crate::schema::Arg {
            name: ::core::stringify!($arg),
            ty: <$ty as $crate::schema::SchemaType>::TYPE,
        }),*])
    };
    (@returns) => { <() as $crate::schema::SchemaType>::TYPE };
    (@returns $ret:ty) => { <$ret as $crate::schema::SchemaReturn>::TYPE };
    (@next init[$($init:tt)*] methods[$($m:tt)*] events[$($e:tt)*] attrs[$($a:tt)*] ro[true $pay:tt]
        $($rest:tt)*
    ) => {
        ::core::compile_error!("contract!: `#[read_only]` goes on a method (`fn`)");
    };
    (@next init[$($init:tt)*] methods[$($m:tt)*] events[$($e:tt)*] attrs[$($a:tt)*] ro[false true]
        $($rest:tt)*
    ) => {
        ::core::compile_error!("contract!: `#[payable]` goes on a method (`fn`) or `init`");
    };
    (@next init[$($init:tt)*] methods[$($m:tt)*] events[$($e:tt)*] attrs[$($a:tt)*] ro[$ro:tt $pay:tt]
        $($rest:tt)*
    ) => {
        ::core::compile_error!(::core::concat!(
            "contract!: expected `init(...) { ... }`, `event NAME { ... }` or `fn NAME(...) { ... }`, found `",
            ::core::stringify!($($rest)*),
            "`"
        ));
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

    /// Reverts a call with value to what is not `#[payable]`, as Solidity
    /// does; a payable one is not asked (no host call).
    pub fn refuse_value(payable: bool, method: &str) {
        if !payable && env::value() != 0 {
            env::revert(
                env::NOT_PAYABLE_CODE,
                &format!("`{method}` is not payable: it takes no value"),
            );
        }
    }
}
