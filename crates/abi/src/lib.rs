//! Ward's host ABI: the one table of functions a guest may import.
//!
//! Every host function lives in the import module [`MODULE`] (`"ward"`) and
//! takes and returns only `i32` / `i64`. Pointers and lengths are `i32`
//! offsets into the guest's exported `"memory"`, read as unsigned.
//!
//! The table is written once, in [`for_each_host_function!`]. Everything
//! else derives from it: the [`HostFn`] enum and its signatures here, the
//! import resolution and dispatch in `ward-vm`, the linkers of both backends,
//! and (later) the guest SDK's `extern` block and `docs/host-abi.md`. A
//! function added to the table cannot be forgotten by any of them, because
//! each one is generated from or matched exhaustively against this list.
//!
//! ```
//! use ward_abi::{HostFn, ValType};
//!
//! let f = HostFn::from_name("input_read").unwrap();
//! assert_eq!(f.params(), &[ValType::I32, ValType::I32, ValType::I32]);
//! assert!(f.results().is_empty());
//! assert_eq!(HostFn::ALL.len(), 22);
//! ```

#![no_std]

use core::fmt;

/// The import module every host function lives in.
pub const MODULE: &str = "ward";

/// Version of this table. Bumped on any change of name, signature or meaning.
pub const ABI_VERSION: u32 = 2;

/// Longest storage key, in bytes.
pub const MAX_KEY_BYTES: u32 = 256;
/// Longest storage value, in bytes.
pub const MAX_VALUE_BYTES: u32 = 64 * 1024;
/// Longest event topic, in bytes.
pub const MAX_TOPIC_BYTES: u32 = 256;
/// Longest event data, in bytes.
pub const MAX_EVENT_DATA_BYTES: u32 = 64 * 1024;
/// Longest message `verify_ed25519` accepts, in bytes.
pub const MAX_MESSAGE_BYTES: u32 = 64 * 1024;

/// The name of the memory export host functions read and write.
pub const MEMORY_EXPORT: &str = "memory";

/// A value type that may cross the host boundary.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ValType {
    /// A 32-bit integer (also every pointer and length).
    I32,
    /// A 64-bit integer.
    I64,
}

impl fmt::Display for ValType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ValType::I32 => "i32",
            ValType::I64 => "i64",
        })
    }
}

/// Calls `$m!` with the whole host-function table.
///
/// Each entry reads `name Variant(param: type, ...) -> result;` where the
/// types are `i32` or `i64` and the result is optional, preceded by its doc
/// comment. Consumers write a `macro_rules!` that matches this shape:
///
/// ```
/// macro_rules! count {
///     ($( $(#[doc = $doc:literal])* $name:ident $variant:ident
///        ( $($param:ident : $pty:ident),* ) $(-> $ret:ident)? ; )*) => {
///         [$(stringify!($name)),*].len()
///     };
/// }
/// assert_eq!(ward_abi::for_each_host_function!(count), ward_abi::HostFn::ALL.len());
/// ```
#[macro_export]
macro_rules! for_each_host_function {
    ($m:ident) => {
        $m! {
            /// Returns the length in bytes of the call's input.
            input_size InputSize() -> i32;
            /// Copies `len` bytes of the input, starting at `offset`, to `dst`.
            /// Traps with `memory_out_of_bounds` when either range is out of bounds.
            input_read InputRead(dst: i32, offset: i32, len: i32);
            /// Sets the call's output to the `len` bytes at `src`, replacing earlier output.
            output_write OutputWrite(src: i32, len: i32);
            /// Ends the call at once: 0 is success, anything else a revert with that code.
            /// Output written so far is kept.
            exit Exit(code: i32);
            /// Returns the gas left to the call.
            gas_left GasLeft() -> i64;
            /// Logs the `len` bytes at `src` (lossy UTF-8) when the embedder enables it.
            /// Never changes status, output or gas (beyond its own documented cost).
            debug_log DebugLog(src: i32, len: i32);
            /// Charges `amount` gas (self-metered guests). A negative amount traps
            /// with `host_error`; more than is left ends the call with `out_of_gas`.
            charge_gas ChargeGas(amount: i64);
            /// Reads the value stored under the `key_len` bytes at `key`: copies at most
            /// `dst_cap` bytes of it to `dst` and returns its full length, or -1 when absent.
            storage_read StorageRead(key: i32, key_len: i32, dst: i32, dst_cap: i32) -> i64;
            /// Stores the `val_len` bytes at `val` under the `key_len` bytes at `key`.
            /// Traps with `host_error` in a read-only call.
            storage_write StorageWrite(key: i32, key_len: i32, val: i32, val_len: i32);
            /// Removes the value under the `key_len` bytes at `key`, if any.
            /// Traps with `host_error` in a read-only call.
            storage_remove StorageRemove(key: i32, key_len: i32);
            /// Emits an event: a topic and data. Kept only if the transaction succeeds.
            /// Traps with `host_error` in a read-only call.
            emit_event EmitEvent(topic: i32, topic_len: i32, data: i32, data_len: i32);
            /// Writes the 32-byte address of the caller (account or contract) to `dst`.
            caller Caller(dst: i32);
            /// Writes the 32-byte address of the running contract to `dst`.
            self_address SelfAddress(dst: i32);
            /// Returns the height of the block being executed.
            block_height BlockHeight() -> i64;
            /// Returns the time of the block being executed (seconds).
            block_time BlockTime() -> i64;
            /// Writes the SHA-256 digest (32 bytes) of the `len` bytes at `src` to `dst`.
            hash_sha256 HashSha256(src: i32, len: i32, dst: i32);
            /// Writes the Keccak-256 digest (32 bytes, Ethereum's) of the `len` bytes at `src` to `dst`.
            hash_keccak256 HashKeccak256(src: i32, len: i32, dst: i32);
            /// Writes the BLAKE3 digest (32 bytes) of the `len` bytes at `src` to `dst`.
            hash_blake3 HashBlake3(src: i32, len: i32, dst: i32);
            /// Returns 1 when the 64-byte signature at `sig` is a valid (strict) Ed25519
            /// signature of the `msg_len` bytes at `msg` by the 32-byte key at `pubkey`, else 0.
            verify_ed25519 VerifyEd25519(pubkey: i32, msg: i32, msg_len: i32, sig: i32) -> i32;
            /// Calls `main` of the contract at the 32-byte address `addr` with the
            /// `input_len` bytes at `input`, forwarding at most `gas` (and at most what is
            /// left). Flags: bit 0 makes the call read-only. Suspends the caller until the
            /// callee finishes; returns 0 (ok), 1 (reverted) or 2 (failed).
            call Call(addr: i32, input: i32, input_len: i32, gas: i64, flags: i32) -> i32;
            /// Returns the length of the last call's return data (its output).
            return_data_size ReturnDataSize() -> i32;
            /// Copies `len` bytes of the last call's return data, from `offset`, to `dst`.
            return_data_read ReturnDataRead(dst: i32, offset: i32, len: i32);
        }
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __val_type {
    (i32) => {
        $crate::ValType::I32
    };
    (i64) => {
        $crate::ValType::I64
    };
}

macro_rules! define_host_fn {
    ($( $(#[doc = $doc:literal])* $name:ident $variant:ident
        ( $($param:ident : $pty:ident),* ) $(-> $ret:ident)? ; )*) => {
        /// One function of the host ABI.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[repr(u8)]
        pub enum HostFn {
            $( $(#[doc = $doc])* $variant, )*
        }

        impl HostFn {
            /// Every host function, in table order.
            pub const ALL: &'static [HostFn] = &[$(HostFn::$variant),*];

            /// The import name.
            pub const fn name(self) -> &'static str {
                match self {
                    $(HostFn::$variant => stringify!($name),)*
                }
            }

            /// The parameter types.
            pub const fn params(self) -> &'static [ValType] {
                match self {
                    $(HostFn::$variant => &[$($crate::__val_type!($pty)),*],)*
                }
            }

            /// The result types (zero or one).
            pub const fn results(self) -> &'static [ValType] {
                match self {
                    $(HostFn::$variant => &[$($crate::__val_type!($ret))?],)*
                }
            }

            /// The parameter names, for documentation and diagnostics.
            pub const fn param_names(self) -> &'static [&'static str] {
                match self {
                    $(HostFn::$variant => &[$(stringify!($param)),*],)*
                }
            }

            /// Looks a function up by its import name.
            pub fn from_name(name: &str) -> Option<HostFn> {
                match name {
                    $(stringify!($name) => Some(HostFn::$variant),)*
                    _ => None,
                }
            }
        }
    };
}

for_each_host_function!(define_host_fn);

impl fmt::Display for HostFn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}(", MODULE, self.name())?;
        for (i, (name, ty)) in self.param_names().iter().zip(self.params()).enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{name}: {ty}")?;
        }
        f.write_str(")")?;
        if let [ret] = self.results() {
            write!(f, " -> {ret}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
