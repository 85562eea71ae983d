//! What [`contract!`](crate::contract) with `abi: solidity;` generates
//! calls: events as logs, reverts as Solidity's revert data, results as
//! ABI tuples.

use alloc::vec::Vec;

use super::{SolType, abi::Param, encode_params, error_message};
use crate::{Revert, env};

/// The exit code of a revert (the EVM runtime's: docs/evm.md).
pub const REVERT: u32 = 1;

/// Ends the call reverted with `data` as the revert data (the EVM's
/// `REVERT`): Solidity callers see it as the reason or the custom error.
pub fn revert_with(data: &[u8]) -> ! {
    env::set_output(data);
    env::exit(REVERT)
}

/// Reverts with `Error(message)`, as Solidity's `revert("message")` and
/// `require(cond, "message")` do.
pub fn revert(message: &str) -> ! {
    revert_with(&error_message(message))
}

/// Reverts with `Panic(code)`, as Solidity 0.8 does on a failed
/// `assert` (`0x01`), an arithmetic overflow (`0x11`) or a division by
/// zero (`0x12`).
pub fn panic_with(code: u64) -> ! {
    revert_with(&super::encode_call(
        super::PANIC_SELECTOR,
        &(super::U256::from(code),),
    ))
}

/// A custom error, or [`Revert`]: what a method's `Err` reverts with.
pub trait SolRevert {
    /// Its revert data: a selector and its fields.
    fn revert_data(&self) -> Vec<u8>;
}

/// A [`Revert`]'s message becomes `Error(string)` (its code is Ward's
/// own: a Solidity-ABI contract always reverts with [`REVERT`]).
impl SolRevert for Revert {
    fn revert_data(&self) -> Vec<u8> {
        error_message(&self.message)
    }
}

/// An event of a Solidity-ABI contract, declared in
/// [`contract!`](crate::contract) (`event NAME { #[indexed] FIELD: TYPE,
/// ... }`).
pub trait SolEvent {
    /// Its topics (the signature's hash, then each indexed field's word)
    /// and its data (the other fields as a tuple).
    fn log(&self) -> (Vec<u8>, Vec<u8>);
}

/// Emits `event` as a log: the topics, concatenated, as the event's topic
/// (the node's Ethereum RPC shows them as the log's topics), the data as
/// its data.
pub fn emit<E: SolEvent>(event: E) {
    let (topics, data) = event.log();
    crate::event::emit_raw(&topics, &data);
}

/// How a method's return value becomes the call's outcome: one value (a
/// struct's fields go as a tuple), or `Result` of one whose `Err`
/// reverts.
pub trait SolReturn {
    /// The function's results, for the ABI.
    const OUTPUTS: &'static [Param];

    /// Writes the results as a tuple, or reverts.
    fn respond(self);
}

impl<T: SolType> SolReturn for T {
    const OUTPUTS: &'static [Param] = T::RESULTS;

    fn respond(self) {
        let bytes = encode_params(&(self,));
        if !bytes.is_empty() {
            env::set_output(&bytes);
        }
    }
}

impl<T: SolType, E: SolRevert> SolReturn for Result<T, E> {
    const OUTPUTS: &'static [Param] = T::RESULTS;

    fn respond(self) {
        match self {
            Ok(value) => value.respond(),
            Err(e) => revert_with(&e.revert_data()),
        }
    }
}

#[doc(hidden)]
pub mod __private {
    pub use alloc::vec::Vec;

    use super::revert_with;
    use crate::env;
    use crate::sol::{SolEncode, SolType};

    /// Splits calldata into its selector and arguments; shorter calldata
    /// reverts with no data, as a contract without a fallback does.
    pub fn split_selector(input: &[u8]) -> ([u8; 4], &[u8]) {
        match input.split_first_chunk::<4>() {
            Some((selector, args)) => (*selector, args),
            None => revert_with(&[]),
        }
    }

    /// Arguments that do not decode revert with no data, as Solidity's.
    pub fn decode_args<T: SolType>(bytes: &[u8]) -> T {
        super::super::decode_params(bytes).unwrap_or_else(|_| revert_with(&[]))
    }

    /// Value sent to what is not payable reverts with no data.
    pub fn refuse_value(payable: bool) {
        if !payable && env::value() != 0 {
            revert_with(&[]);
        }
    }

    /// An event's field: an indexed one appends its topic (a static
    /// value's word, a dynamic one's Keccak-256), another joins the data.
    pub fn field<'a, T: SolType>(
        value: &'a T,
        indexed: bool,
        topics: &mut Vec<u8>,
        data: &mut Vec<&'a dyn SolEncode>,
    ) {
        if !indexed {
            data.push(value);
        } else if T::DYNAMIC {
            let mut content = Vec::new();
            value.encode_to(&mut content);
            topics.extend_from_slice(&crate::crypto::keccak256(&content));
        } else {
            value.encode_to(topics);
        }
    }

    /// The tuple of `data`.
    pub fn tuple(data: &[&dyn SolEncode]) -> Vec<u8> {
        let mut out = Vec::new();
        super::super::encode_tuple(data, &mut out);
        out
    }

    /// Whether an event field's attribute is `indexed`.
    pub const fn is_indexed(attribute: &str) -> bool {
        matches!(attribute.as_bytes(), b"indexed")
    }

    /// An unknown selector reverts with no data (no fallback).
    pub fn unknown_selector() -> ! {
        revert_with(&[])
    }
}

/// Reverts with `Error(message)` (a formatted message) unless `cond`
/// holds: Solidity's `require(cond, "message")`, for contracts with the
/// Solidity ABI.
///
/// ```no_run
/// # let (balance, amount) = (1u128, 2u128);
/// ward_sdk::sol_require!(balance >= amount, "insufficient balance");
/// ```
#[macro_export]
macro_rules! sol_require {
    ($cond:expr, $($message:tt)+) => {
        if !$cond {
            $crate::sol::revert(&$crate::__private::format!($($message)+))
        }
    };
}

/// The Solidity-ABI contract of [`contract!`](crate::contract): `abi:
/// solidity;` first.
#[doc(hidden)]
#[macro_export]
macro_rules! __sol_contract {
    // `#[view]`, `#[pure]`, `#[payable]`: the mutability of what follows.
    (@next init[$($init:tt)*] fns[$($f:tt)*] events[$($e:tt)*] errors[$($x:tt)*] attrs[$($a:tt)*] mutability[$m:ident]
        #[view] $($rest:tt)*
    ) => {
        $crate::__sol_contract! { @next init[$($init)*] fns[$($f)*] events[$($e)*] errors[$($x)*] attrs[$($a)*] mutability[View] $($rest)* }
    };
    (@next init[$($init:tt)*] fns[$($f:tt)*] events[$($e:tt)*] errors[$($x:tt)*] attrs[$($a:tt)*] mutability[$m:ident]
        #[pure] $($rest:tt)*
    ) => {
        $crate::__sol_contract! { @next init[$($init)*] fns[$($f)*] events[$($e)*] errors[$($x)*] attrs[$($a)*] mutability[Pure] $($rest)* }
    };
    (@next init[$($init:tt)*] fns[$($f:tt)*] events[$($e:tt)*] errors[$($x:tt)*] attrs[$($a:tt)*] mutability[$m:ident]
        #[payable] $($rest:tt)*
    ) => {
        $crate::__sol_contract! { @next init[$($init)*] fns[$($f)*] events[$($e)*] errors[$($x)*] attrs[$($a)*] mutability[Payable] $($rest)* }
    };
    // Any other attribute: kept for the item that follows.
    (@next init[$($init:tt)*] fns[$($f:tt)*] events[$($e:tt)*] errors[$($x:tt)*] attrs[$($a:tt)*] mutability[$m:ident]
        #[$($attr:tt)*] $($rest:tt)*
    ) => {
        $crate::__sol_contract! { @next init[$($init)*] fns[$($f)*] events[$($e)*] errors[$($x)*] attrs[$($a)* #[$($attr)*]] mutability[$m] $($rest)* }
    };
    // `init`: the constructor, the `deploy` export.
    (@next init[] fns[$($f:tt)*] events[$($e:tt)*] errors[$($x:tt)*] attrs[$(#[$meta:meta])*] mutability[$m:ident]
        init ( $($arg:ident : $ty:ty),* $(,)? ) $body:block $($rest:tt)*
    ) => {
        $(#[$meta])*
        pub fn init($($arg: $ty),*) $body

        /// The constructor (generated by `ward_sdk::contract!`).
        #[cfg(target_arch = "wasm32")]
        #[unsafe(no_mangle)]
        pub extern "C" fn deploy() {
            $crate::sol::__private::refuse_value($crate::__sol_contract!(@payable $m));
            let input = $crate::env::input();
            let ($($arg,)*): ($($ty,)*) = $crate::sol::__private::decode_args(&input);
            init($($arg),*);
        }

        $crate::__sol_contract! {
            @next init[$m ($($arg : $ty),*)] fns[$($f)*] events[$($e)*] errors[$($x)*] attrs[] mutability[NonPayable] $($rest)*
        }
    };
    // An event: a struct whose `#[indexed]` fields are topics.
    (@next init[$($init:tt)*] fns[$($f:tt)*] events[$($e:tt)*] errors[$($x:tt)*] attrs[$(#[$meta:meta])*] mutability[NonPayable]
        $vis:vis event $name:ident { $($(#[$fattr:ident])? $field:ident : $fty:ty),* $(,)? } $($rest:tt)*
    ) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq)]
        $vis struct $name { $(pub $field: $fty),* }

        impl $name {
            /// Its first topic: the Keccak-256 of its signature.
            pub const TOPIC: [u8; 32] = $crate::sol::event_topic(
                ::core::stringify!($name),
                &[$(<$fty as $crate::sol::SolType>::NAME),*],
            );
            /// Its fields, for the ABI.
            pub const FIELDS: &'static [$crate::sol::abi::Param] = &[$($crate::sol::abi::Param {
                name: ::core::stringify!($field),
                ty: <$fty as $crate::sol::SolType>::NAME,
                indexed: $crate::sol::__private::is_indexed(::core::stringify!($($fattr)?)),
            }),*];
        }

        impl $crate::sol::SolEvent for $name {
            fn log(&self) -> ($crate::sol::__private::Vec<u8>, $crate::sol::__private::Vec<u8>) {
                let mut topics = $crate::sol::__private::Vec::from(Self::TOPIC);
                let mut data: $crate::sol::__private::Vec<&dyn $crate::sol::SolEncode> =
                    $crate::sol::__private::Vec::new();
                $(
                    $crate::sol::__private::field(
                        &self.$field,
                        $crate::sol::__private::is_indexed(::core::stringify!($($fattr)?)),
                        &mut topics,
                        &mut data,
                    );
                )*
                (topics, $crate::sol::__private::tuple(&data))
            }
        }

        $crate::__sol_contract! {
            @next init[$($init)*] fns[$($f)*] events[$($e)* $name] errors[$($x)*] attrs[] mutability[NonPayable] $($rest)*
        }
    };
    // A custom error: a struct a method's `Err` reverts with.
    (@next init[$($init:tt)*] fns[$($f:tt)*] events[$($e:tt)*] errors[$($x:tt)*] attrs[$(#[$meta:meta])*] mutability[NonPayable]
        $vis:vis error $name:ident { $($field:ident : $fty:ty),* $(,)? } $($rest:tt)*
    ) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq)]
        $vis struct $name { $(pub $field: $fty),* }

        impl $name {
            /// Its selector: of its signature.
            pub const SELECTOR: [u8; 4] = $crate::sol::selector(
                ::core::stringify!($name),
                &[$(<$fty as $crate::sol::SolType>::NAME),*],
            );
            /// Its fields, for the ABI.
            pub const FIELDS: &'static [$crate::sol::abi::Param] = &[$($crate::sol::abi::Param {
                name: ::core::stringify!($field),
                ty: <$fty as $crate::sol::SolType>::NAME,
                indexed: false,
            }),*];
        }

        impl $crate::sol::SolRevert for $name {
            fn revert_data(&self) -> $crate::sol::__private::Vec<u8> {
                let mut data = $crate::sol::__private::Vec::from(Self::SELECTOR);
                data.extend($crate::sol::__private::tuple(&[$(&self.$field as &dyn $crate::sol::SolEncode),*]));
                data
            }
        }

        $crate::__sol_contract! {
            @next init[$($init)*] fns[$($f)*] events[$($e)*] errors[$($x)* $name] attrs[] mutability[NonPayable] $($rest)*
        }
    };
    // A function.
    (@next init[$($init:tt)*] fns[$($f:tt)*] events[$($e:tt)*] errors[$($x:tt)*] attrs[$(#[$meta:meta])*] mutability[$m:ident]
        $vis:vis fn $name:ident ( $($arg:ident : $ty:ty),* $(,)? ) $(-> $ret:ty)? $body:block
        $($rest:tt)*
    ) => {
        $(#[$meta])*
        $vis fn $name($($arg: $ty),*) $(-> $ret)? $body

        $crate::__sol_contract! {
            @next init[$($init)*]
            fns[$($f)* { $name $m ($($arg : $ty),*) ($($ret)?) }]
            events[$($e)*] errors[$($x)*] attrs[] mutability[NonPayable] $($rest)*
        }
    };
    // The end: `main` and the ABI section.
    (@next init[$($init:tt)*]
        fns[$({ $name:ident $m:ident ($($arg:ident : $ty:ty),*) ($($ret:ty)?) })*]
        events[$($event:ident)*] errors[$($error:ident)*] attrs[] mutability[NonPayable]
    ) => {
        /// The call entry point (generated by `ward_sdk::contract!`):
        /// dispatches on the calldata's selector.
        #[cfg(target_arch = "wasm32")]
        #[unsafe(no_mangle)]
        pub extern "C" fn main() {
            let input = $crate::env::input();
            let (selector, args) = $crate::sol::__private::split_selector(&input);
            $({
                const SELECTOR: [u8; 4] = $crate::sol::function_selector(
                    ::core::stringify!($name),
                    &[$(<$ty as $crate::sol::SolType>::NAME),*],
                );
                if selector == SELECTOR {
                    $crate::sol::__private::refuse_value($crate::__sol_contract!(@payable $m));
                    let ($($arg,)*): ($($ty,)*) = $crate::sol::__private::decode_args(args);
                    $crate::sol::SolReturn::respond($name($($arg),*));
                    return;
                }
            })*
            $crate::sol::__private::unknown_selector()
        }

        /// This contract's interface (generated by `ward_sdk::contract!`).
        #[doc(hidden)]
        pub const __WARD_SOL_ABI: $crate::sol::abi::Abi = $crate::sol::abi::Abi {
            constructor: $crate::__sol_contract!(@constructor $($init)*),
            functions: &[$($crate::sol::abi::Function {
                name: ::core::stringify!($name),
                inputs: &[$($crate::sol::abi::Param {
                    name: ::core::stringify!($arg),
                    ty: <$ty as $crate::sol::SolType>::NAME,
                    indexed: false,
                }),*],
                outputs: $crate::__sol_contract!(@outputs $($ret)?),
                mutability: $crate::sol::abi::Mutability::$m,
            }),*],
            events: &[$($crate::sol::abi::Item {
                name: ::core::stringify!($event),
                fields: $event::FIELDS,
            }),*],
            errors: &[$($crate::sol::abi::Item {
                name: ::core::stringify!($error),
                fields: $error::FIELDS,
            }),*],
        };

        /// The ABI JSON's custom section (generated by `ward_sdk::contract!`).
        #[cfg(target_arch = "wasm32")]
        #[doc(hidden)]
        #[used]
        #[unsafe(link_section = "ward.sol-abi")]
        static __WARD_SOL_ABI_SECTION: [u8; $crate::sol::abi::json_len(&__WARD_SOL_ABI)] =
            $crate::sol::abi::json(&__WARD_SOL_ABI);
    };
    (@payable Payable) => { true };
    (@payable $m:ident) => { false };
    (@constructor) => { ::core::option::Option::None };
    (@constructor $m:ident ($($arg:ident : $ty:ty),*)) => {
        ::core::option::Option::Some($crate::sol::abi::Function {
            name: "constructor",
            inputs: &[$($crate::sol::abi::Param {
                name: ::core::stringify!($arg),
                ty: <$ty as $crate::sol::SolType>::NAME,
                indexed: false,
            }),*],
            outputs: &[],
            mutability: $crate::sol::abi::Mutability::$m,
        })
    };
    (@outputs) => { &[] };
    (@outputs $ret:ty) => { <$ret as $crate::sol::SolReturn>::OUTPUTS };
    (@next init[$($init:tt)*] fns[$($f:tt)*] events[$($e:tt)*] errors[$($x:tt)*] attrs[$($a:tt)*] mutability[$m:ident]
        $($rest:tt)*
    ) => {
        ::core::compile_error!(::core::concat!(
            "contract! (abi: solidity): expected `init(...) { ... }`, `event NAME { ... }`, ",
            "`error NAME { ... }` or `fn NAME(...) { ... }` (`#[view]`, `#[pure]` and `#[payable]` ",
            "go on a function or `init`), found `",
            ::core::stringify!($($rest)*),
            "`"
        ));
    };
}
