//! Ward's host ABI: the one table of functions a guest may import.
//!
//! Every host function lives in the import module [`MODULE`] (`"ward"`) and
//! takes and returns only `i32` / `i64`. Pointers and lengths are `i32`
//! offsets into the guest's exported `"memory"`, read as unsigned.
//!
//! The table is written once, in [`for_each_host_function!`], with every
//! rule that is per function: its signature, whether it touches guest memory,
//! whether it reads or charges gas beyond its prepaid base (and so needs an
//! engine-metered caller's gas counter synced), whether it may suspend, and
//! its [`Cost`] formula. Everything else derives from it: the [`HostFn`] enum
//! and its rules here, the import resolution, classification and cost
//! computation in `ward-vm`, the linkers of both backends, the guest SDK's
//! `extern` block, and the function table of `docs/host-abi.md` (checked
//! against [`HostFn::doc_table`] by a test; `BLESS=1` rewrites it). Adding a
//! host function is one row here plus its implementation in `ward-vm`'s
//! `CallContext::call_abi`, whose match is exhaustive.
//!
//! ```
//! use ward_abi::{HostFn, ValType};
//!
//! let f = HostFn::from_name("input_read").unwrap();
//! assert_eq!(f.params(), &[ValType::I32, ValType::I32, ValType::I32]);
//! assert!(f.results().is_empty());
//! assert!(f.uses().memory && f.uses().gas && !f.uses().suspends);
//! assert_eq!(f.cost().to_string(), "host_call + host_per_byte * len");
//! assert_eq!(HostFn::ALL.len(), 48);
//! ```

#![no_std]

use core::fmt;

mod rules;

#[doc(hidden)]
pub use rules::param_index;
pub use rules::{Cost, Rate, Term, Unit, Use, Uses};

/// The import module every host function lives in.
pub const MODULE: &str = "ward";

/// Version of this table. Bumped on any change of name, signature or meaning.
/// Version 6 added the native asset: `call_value`, `balance`, `transfer`,
/// `call_with_value` and `create_with_value`; version 7 `origin`, the
/// transaction's sender (the EVM's `ORIGIN`); version 8 `chain_id`, the
/// chain's Ethereum chain id (the EVM's `CHAINID`); version 9
/// `transient_read` and `transient_write`, storage that lives for one
/// transaction (the EVM's `TLOAD` and `TSTORE`); version 10 the call flag
/// [`call::CALL_CODE`] (the EVM's `CALLCODE`), and a system runtime's
/// transient bookkeeping ([`TRANSIENT_WORD_BYTES`]); version 11
/// `recover_secp256k1`, the public key of a secp256k1 signature (the EVM's
/// `ecrecover`), and `bn254_add`, `bn254_mul` and `bn254_pairing` (the
/// EVM's precompiles 0x06 to 0x08); version 12 `account_nonce`, an
/// account's transaction count (what makes an EVM account without code
/// or balance exist).
pub const ABI_VERSION: u32 = 12;

/// Bytes of an amount of the native asset in guest memory: a `u128`,
/// little-endian.
pub const AMOUNT_BYTES: u32 = 16;

/// Longest storage key, in bytes.
pub const MAX_KEY_BYTES: u32 = 256;
/// Longest storage value, in bytes.
pub const MAX_VALUE_BYTES: u32 = 64 * 1024;
/// The most key and value bytes a transaction's transient storage holds at
/// once (`transient_write`): an EVM transaction of 30 000 000 gas fills at
/// most 19.2 MB with `TSTORE`s of 100 gas each.
pub const MAX_TX_TRANSIENT_BYTES: u64 = 32 * 1024 * 1024;
/// The length of the EVM's transient keys (`TSTORE`'s word). In a system
/// runtime's frame a longer transient key is the runtime's own
/// bookkeeping (`docs/runtimes.md`, "Bookkeeping"): written even in a
/// read-only call, undone with the frame as any transient write.
pub const TRANSIENT_WORD_BYTES: usize = 32;
/// The first byte of a system runtime's bookkeeping key that lives in one
/// space all the runtime's frames of a transaction share, rather than in
/// the running contract's (the EVM's accessed addresses, EIP-2929).
pub const RUNTIME_SHARED_PREFIX: u8 = 0xff;
/// The EVM runtime's bookkeeping keys (`docs/evm.md`, "Frames"): what it
/// keeps for a whole transaction across its frames, which the executor
/// seeds from an Ethereum transaction's access list (EIP-2930).
pub mod evm {
    use super::RUNTIME_SHARED_PREFIX;

    /// An address the transaction has accessed (EIP-2929), by its 32-byte
    /// Ward address, in the space the runtime's frames share: the value
    /// is one byte.
    pub fn accessed_address_key(address: &[u8; 32]) -> [u8; 34] {
        let mut key = [0u8; 34];
        key[..2].copy_from_slice(&[RUNTIME_SHARED_PREFIX, 0x01]);
        key[2..].copy_from_slice(address);
        key
    }

    /// A slot of the running contract the transaction has accessed, in
    /// the contract's own space: the value is the slot's original value
    /// (EIP-2200: its value when the transaction began, 32 bytes
    /// big-endian).
    pub fn accessed_slot_key(slot: &[u8; 32]) -> [u8; 33] {
        let mut key = [0u8; 33];
        key[0] = 0x01;
        key[1..].copy_from_slice(slot);
        key
    }

    /// Present, in the shared space, while a frame that was not static
    /// itself waits for the `STATICCALL` it made: its callees are static.
    pub const STATIC_CONTEXT_KEY: [u8; 34] = {
        let mut key = [0u8; 34];
        key[0] = RUNTIME_SHARED_PREFIX;
        key[1] = 0x02;
        key
    };
}

/// Longest event topic, in bytes.
pub const MAX_TOPIC_BYTES: u32 = 256;
/// Longest event data, in bytes.
pub const MAX_EVENT_DATA_BYTES: u32 = 64 * 1024;
/// Longest message `verify_ed25519` accepts, in bytes.
pub const MAX_MESSAGE_BYTES: u32 = 64 * 1024;
/// Longest input `bn254_pairing` accepts, in bytes: 4 096 pairs, more
/// than any Ethereum call can pay for (34 000 gas a pair).
pub const MAX_BN254_PAIRING_BYTES: u32 = 192 * 4096;

/// The name of the memory export host functions read and write.
pub const MEMORY_EXPORT: &str = "memory";

/// What `ward.call` returns, and the flags it takes.
pub mod call {
    /// The callee finished with exit code 0.
    pub const OK: i32 = 0;
    /// The callee reverted: its writes and events are discarded, its output
    /// is the return data.
    pub const REVERTED: i32 = 1;
    /// The callee failed (trapped, ran out of gas, does not exist, too
    /// deep): no return data.
    pub const FAILED: i32 = 2;
    /// Flag: the callee and everything it calls may not write or emit.
    pub const READ_ONLY: i32 = 1;
    /// Flag: run the callee's code in the caller's own context (its
    /// address, storage, events and caller stay the caller's): the EVM's
    /// `DELEGATECALL`. Only between contracts of the same kind; otherwise
    /// the call fails.
    pub const DELEGATE: i32 = 2;
    /// Flag: run the callee's code in the caller's own context as a call
    /// from the caller to itself (its address, storage and events stay
    /// the caller's, its caller is the caller, and the value, if any,
    /// moves from the caller to itself): the EVM's `CALLCODE`. Only
    /// between contracts of the same kind; otherwise the call fails. With
    /// [`DELEGATE`] it is a `host_error`.
    pub const CALL_CODE: i32 = 4;
    /// Every flag bit; any other bit set is a `host_error`.
    pub const KNOWN_FLAGS: i32 = READ_ONLY | DELEGATE | CALL_CODE;
    /// Stack units a call to another contract adds to the transaction's
    /// one stack budget (`max_stack_units`), between the caller's depth at
    /// the call and the callee's first frame: what the host's own frames
    /// and the suspended caller hold.
    pub const STACK_UNITS: u32 = 16;
}

/// What the `vm_*` functions return: a non-negative value or id, or one
/// of these negative errors.
pub mod vm {
    /// `vm_run` / `vm_resume`: the export returned.
    pub const FINISHED: i64 = 0;
    /// `vm_run` / `vm_resume`: the child made a syscall and waits.
    pub const SYSCALL: i64 = 1;
    /// The code was refused by the child policy or does not compile.
    pub const INVALID_MODULE: i64 = -1;
    /// No module, instance, export or stored code by that id or name.
    pub const NOT_FOUND: i64 = -2;
    /// The instance cannot do that now (running, not waiting, or dead).
    pub const INVALID_INSTANCE: i64 = -3;
    /// An argument out of range: too many arguments, an export of another
    /// shape, a memory range outside the child's memory.
    pub const BAD_ARGUMENT: i64 = -4;
    /// The child's gas budget ran out; the child is dead.
    pub const OUT_OF_GAS: i64 = -5;
    /// Too many live children or modules, or the memory budget.
    pub const LIMIT_EXCEEDED: i64 = -6;
    /// This call has no children (the embedder offers none).
    pub const UNAVAILABLE: i64 = -7;
    /// The child trapped; the child is dead. `TRAPPED - k` for trap kind
    /// `k` of [`TRAP_KINDS`] (1-based).
    pub const TRAPPED: i64 = -100;
    /// The trap kinds, in the order of their codes.
    pub const TRAP_KINDS: &[&str] = &[
        "unreachable",
        "memory_out_of_bounds",
        "integer_divide_by_zero",
        "integer_overflow",
        "bad_conversion_to_integer",
        "indirect_call_type_mismatch",
        "indirect_call_to_null",
        "table_out_of_bounds",
        "stack_overflow",
        "host_error",
    ];
    /// Most `i64` arguments `vm_run` passes, and a syscall takes.
    pub const MAX_ARGS: u32 = 4;
    /// Bytes of the step record `vm_run` and `vm_resume` write: the gas left
    /// (u64), then the result, or the syscall's import number (i64), then
    /// 1 if there is a result, or the syscall's argument count (u64), then
    /// four `i64` arguments; little-endian.
    pub const STEP_BYTES: u32 = 56;
    /// Stack units running a child adds to the transaction's one stack
    /// budget, between the parent's depth at `vm_run` and the child's
    /// first frame.
    pub const STACK_UNITS: u32 = 16;
}

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
/// Each entry reads
/// `name Variant(param: type, ...) -> result { uses [...] cost [...] }`,
/// preceded by its doc comment. Types are `i32` or `i64`; the result is
/// optional. `uses` lists what the function touches ([`Use`]: `Memory`,
/// `Gas`, `Suspends`, `Stack`); `cost` is its price beyond the `host_call` every
/// call pays: an optional fixed [`Rate`], then `+`-separated terms
/// `Rate * unit(param, ...)` ([`Unit`]: `bytes` or `words`) over the
/// lengths its parameters name. Consumers that need only the signature
/// skip the braces:
///
/// ```
/// macro_rules! count {
///     ($( $(#[doc = $doc:literal])* $name:ident $variant:ident
///        ( $($param:ident : $pty:ident),* ) $(-> $ret:ident)? { $($rules:tt)* } )*) => {
///         [$(stringify!($name)),*].len()
///     };
/// }
/// assert_eq!(ward_abi::for_each_host_function!(count), ward_abi::HostFn::ALL.len());
/// ```
#[macro_export]
macro_rules! for_each_host_function {
    ($m:ident $(, $($extra:tt)*)?) => {
        $m! {
            $($($extra)*)?
            /// Returns the length in bytes of the call's input.
            input_size InputSize() -> i32 { uses [] cost [] }
            /// Copies `len` bytes of the input, starting at `offset`, to `dst`.
            /// Traps with `memory_out_of_bounds` when either range is out of bounds.
            input_read InputRead(dst: i32, offset: i32, len: i32) { uses [Memory, Gas] cost [HostPerByte * bytes(len)] }
            /// Sets the call's output to the `len` bytes at `src`, replacing earlier output.
            output_write OutputWrite(src: i32, len: i32) { uses [Memory, Gas] cost [HostPerByte * bytes(len)] }
            /// Ends the call at once: 0 is success, anything else a revert with that code.
            /// Output written so far is kept.
            exit Exit(code: i32) { uses [] cost [] }
            /// Returns the gas left to the call.
            gas_left GasLeft() -> i64 { uses [Gas] cost [] }
            /// Logs the `len` bytes at `src` (lossy UTF-8) when the embedder enables it.
            /// Never changes status, output or gas (beyond its own documented cost).
            debug_log DebugLog(src: i32, len: i32) { uses [Memory, Gas] cost [HostPerByte * bytes(len)] }
            /// Charges `amount` gas (self-metered guests). A negative amount traps
            /// with `host_error`; more than is left ends the call with `out_of_gas`.
            charge_gas ChargeGas(amount: i64) { uses [Gas] cost [] }
            /// Reports the gas this frame spent in its own machine's units (an EVM frame's
            /// EVM gas), replacing an earlier report; a transaction's receipt carries its top
            /// frame's (`runtime_gas`). Only a system runtime's frame may report: anywhere else,
            /// and for a negative amount, it traps with `host_error`.
            report_gas ReportGas(units: i64) { uses [] cost [] }
            /// Reads the value stored under the `key_len` bytes at `key`: copies at most
            /// `dst_cap` bytes of it to `dst` and returns its full length, or -1 when absent.
            storage_read StorageRead(key: i32, key_len: i32, dst: i32, dst_cap: i32) -> i64 { uses [Memory, Gas] cost [StorageRead + StoragePerByte * bytes(key_len, dst_cap)] }
            /// Stores the `val_len` bytes at `val` under the `key_len` bytes at `key`.
            /// Traps with `host_error` in a read-only call.
            storage_write StorageWrite(key: i32, key_len: i32, val: i32, val_len: i32) { uses [Memory, Gas] cost [StorageWrite + StoragePerByte * bytes(key_len, val_len)] }
            /// Removes the value under the `key_len` bytes at `key`, if any.
            /// Traps with `host_error` in a read-only call.
            storage_remove StorageRemove(key: i32, key_len: i32) { uses [Memory, Gas] cost [StorageWrite + StoragePerByte * bytes(key_len)] }
            /// Emits an event: a topic and data. Kept only if the transaction succeeds.
            /// Traps with `host_error` in a read-only call.
            emit_event EmitEvent(topic: i32, topic_len: i32, data: i32, data_len: i32) { uses [Memory, Gas] cost [Event + EventPerByte * bytes(topic_len, data_len)] }
            /// Writes the 32-byte address of the caller (account or contract) to `dst`.
            caller Caller(dst: i32) { uses [Memory] cost [] }
            /// Writes the 32-byte address of the running contract to `dst`.
            self_address SelfAddress(dst: i32) { uses [Memory] cost [] }
            /// Writes the 32-byte address of the account that sent the transaction (a query's
            /// caller) to `dst`: the EVM's `ORIGIN`, the same in every frame of it.
            origin Origin(dst: i32) { uses [Memory] cost [] }
            /// Returns the height of the block being executed.
            block_height BlockHeight() -> i64 { uses [] cost [] }
            /// Returns the time of the block being executed (seconds).
            block_time BlockTime() -> i64 { uses [] cost [] }
            /// Returns the chain's numeric Ethereum chain id (the EVM's `CHAINID`, what
            /// Ethereum transactions are signed for), or 0 when the chain takes none.
            chain_id ChainId() -> i64 { uses [] cost [] }
            /// Writes the SHA-256 digest (32 bytes) of the `len` bytes at `src` to `dst`.
            hash_sha256 HashSha256(src: i32, len: i32, dst: i32) { uses [Memory, Gas] cost [HashPer64Bytes * words(len)] }
            /// Writes the Keccak-256 digest (32 bytes, Ethereum's) of the `len` bytes at `src` to `dst`.
            hash_keccak256 HashKeccak256(src: i32, len: i32, dst: i32) { uses [Memory, Gas] cost [HashPer64Bytes * words(len)] }
            /// Writes the BLAKE3 digest (32 bytes) of the `len` bytes at `src` to `dst`.
            hash_blake3 HashBlake3(src: i32, len: i32, dst: i32) { uses [Memory, Gas] cost [HashPer64Bytes * words(len)] }
            /// Returns 1 when the 64-byte signature at `sig` is a valid (strict) Ed25519
            /// signature of the `msg_len` bytes at `msg` by the 32-byte key at `pubkey`, else 0.
            verify_ed25519 VerifyEd25519(pubkey: i32, msg: i32, msg_len: i32, sig: i32) -> i32 { uses [Memory, Gas] cost [VerifyEd25519 + HashPer64Bytes * words(msg_len)] }
            /// Recovers the secp256k1 public key that signed the 32-byte digest at `hash`
            /// with the 64-byte signature at `sig` (r then s, big-endian) and `recovery_id`
            /// (0 or 1), as Ethereum's `ecrecover` does (an s in the group's upper half
            /// counts): writes the key's 64 bytes (x then y) to `dst` and returns 1, or
            /// returns 0 and writes nothing when no key recovers.
            recover_secp256k1 RecoverSecp256k1(hash: i32, sig: i32, recovery_id: i32, dst: i32) -> i32 { uses [Memory, Gas] cost [RecoverSecp256k1] }
            /// Adds the two bn254 (alt_bn128) G1 points in the 128 bytes at `input` (x1, y1,
            /// x2, y2: 32-byte big-endian coordinates; (0, 0) is the point at infinity), as
            /// Ethereum's precompile 0x06: writes the sum (64 bytes) to `dst` and returns 1,
            /// or returns 0 and writes nothing when a point is not on the curve.
            bn254_add Bn254Add(input: i32, dst: i32) -> i32 { uses [Memory, Gas] cost [Bn254Add] }
            /// Multiplies the bn254 G1 point in the first 64 bytes at `input` by the 32-byte
            /// big-endian scalar after it, as Ethereum's precompile 0x07: writes the product
            /// (64 bytes) to `dst` and returns 1, or returns 0 and writes nothing when the
            /// point is not on the curve.
            bn254_mul Bn254Mul(input: i32, dst: i32) -> i32 { uses [Memory, Gas] cost [Bn254Mul] }
            /// Checks the bn254 pairing of the `len` bytes at `input` (pairs of a G1 point, 64
            /// bytes, and a G2 point, 128: x and y, each as its imaginary then real part), as
            /// Ethereum's precompile 0x08: returns 1 when the product of the pairings is one
            /// (as for no pairs), 0 when not, -1 when `len` is not a multiple of 192 or a
            /// point is not on its curve or not in its subgroup. At most
            /// [`MAX_BN254_PAIRING_BYTES`].
            bn254_pairing Bn254Pairing(input: i32, len: i32) -> i32 { uses [Memory, Gas] cost [Bn254Pairing + Bn254PairingPer64Bytes * words(len)] }
            /// Calls `main` of the contract at the 32-byte address `addr` with the
            /// `input_len` bytes at `input`, forwarding at most `gas` (and at most what is
            /// left). Flags: bit 0 makes the call read-only. Suspends the caller until the
            /// callee finishes; returns 0 (ok), 1 (reverted) or 2 (failed). Its fixed cost
            /// is a state lookup's: the callee's record is read.
            call Call(addr: i32, input: i32, input_len: i32, gas: i64, flags: i32) -> i32 { uses [Memory, Gas, Suspends, Stack] cost [StorageRead + HostPerByte * bytes(input_len)] }
            /// Deploys a contract of the caller's own kind: the `code_len` bytes at `code`,
            /// with the `input_len` bytes at `input` for its deploy, forwarding at most `gas`
            /// (and at most what is left). Its address comes from the 32 bytes at `salt`
            /// (`docs/host-abi.md`). Suspends the caller until the deploy finishes; returns
            /// 0 (ok: the return data is the new address), 1 (reverted: the return data is
            /// the deploy's output) or 2 (failed). Its fixed cost is a state lookup's: the
            /// new address is looked up.
            create Create(code: i32, code_len: i32, input: i32, input_len: i32, salt: i32, gas: i64) -> i32 { uses [Memory, Gas, Suspends, Stack] cost [StorageRead + HostPerByte * bytes(code_len, input_len)] }
            /// Writes the native asset this call received (16 bytes, a little-endian `u128`)
            /// to `dst`: a transaction's value for its top frame, a `call_with_value`'s for a
            /// callee, its caller's for a delegate call's frame, 0 otherwise (`docs/economics.md`).
            call_value CallValue(dst: i32) { uses [Memory] cost [] }
            /// Writes the native-asset balance of the account or contract at the 32-byte
            /// address `addr` (16 bytes, a little-endian `u128`) to `dst`.
            balance Balance(addr: i32, dst: i32) { uses [Memory, Gas] cost [StorageRead] }
            /// Moves the amount at `amount` (16 bytes, a little-endian `u128`) from the running
            /// contract to the account or contract at the 32-byte address `addr`, without
            /// running any code there; returns 0, or 1 (and moves nothing) when the contract
            /// holds less. Undone if the frame reverts. Traps with `host_error` in a read-only call.
            transfer Transfer(addr: i32, amount: i32) -> i32 { uses [Memory, Gas] cost [StorageWrite] }
            /// As `call`, moving the amount at `value` (16 bytes, a little-endian `u128`) from
            /// the caller to the callee first: the callee's `call_value`. The move is undone with
            /// the callee's writes when it reverts or fails; a caller that holds less, a
            /// read-only or a delegate call with a nonzero value, fail (2) without running it.
            call_with_value CallWithValue(addr: i32, input: i32, input_len: i32, gas: i64, flags: i32, value: i32) -> i32 { uses [Memory, Gas, Suspends, Stack] cost [StorageRead + HostPerByte * bytes(input_len)] }
            /// As `create`, moving the amount at `value` (16 bytes, a little-endian `u128`) from
            /// the caller to the new contract before its deploy runs; a caller that holds less
            /// fails (2) without deploying.
            create_with_value CreateWithValue(code: i32, code_len: i32, input: i32, input_len: i32, salt: i32, gas: i64, value: i32) -> i32 { uses [Memory, Gas, Suspends, Stack] cost [StorageRead + HostPerByte * bytes(code_len, input_len)] }
            /// Returns the length of the last call's return data (its output).
            return_data_size ReturnDataSize() -> i32 { uses [] cost [] }
            /// Copies `len` bytes of the last call's return data, from `offset`, to `dst`.
            return_data_read ReturnDataRead(dst: i32, offset: i32, len: i32) { uses [Memory, Gas] cost [HostPerByte * bytes(len)] }
            /// Copies at most `dst_cap` bytes of the code of the contract at the 32-byte
            /// address `addr` to `dst` and returns its full length, or -1 when there is no
            /// contract there. A Wasm contract's code is its module; a system runtime's
            /// contract's is what the runtime keeps as its code (an EVM contract's bytecode).
            code_at CodeAt(addr: i32, dst: i32, dst_cap: i32) -> i64 { uses [Memory, Gas] cost [StorageRead + StoragePerByte * bytes(dst_cap)] }
            /// Returns the nonce of the account at the 32-byte address `addr`: how many
            /// transactions it has sent (0 for one that has sent none, and for a contract,
            /// whose runtime keeps any count of its own).
            account_nonce AccountNonce(addr: i32) -> i64 { uses [Memory, Gas] cost [StorageRead] }
            /// Compiles the `code_len` bytes at `code` as a child module (only `env` syscalls
            /// as imports); returns its id, or a negative [`vm`] error.
            vm_compile VmCompile(code: i32, code_len: i32) -> i64 { uses [Memory, Gas] cost [DeployBase + DeployPerByte * bytes(code_len)] }
            /// Compiles the stored code whose 32-byte hash is at `hash` as a child module;
            /// returns its id, or a negative [`vm`] error.
            vm_compile_stored VmCompileStored(hash: i32) -> i64 { uses [Memory, Gas] cost [DeployBase + DeployPerByte * moved] }
            /// Returns how many `i64` arguments export `name` of child module `module` takes,
            /// or a negative [`vm`] error (`not_found`, `bad_argument` for one a parent cannot run).
            vm_lookup VmLookup(module: i64, name: i32, name_len: i32) -> i64 { uses [Memory, Gas] cost [HostPerByte * bytes(name_len)] }
            /// Instantiates child module `module`; returns the instance's id, or a negative [`vm`] error.
            vm_instantiate VmInstantiate(module: i64) -> i64 { uses [Gas] cost [DeployBase] }
            /// Runs export `name` of child `instance` with the `nargs` `i64`s at `args` and at most
            /// `gas`, until it returns ([`vm::FINISHED`]) or makes a syscall ([`vm::SYSCALL`]); writes
            /// the step record at `out`. The child's gas is charged to the caller as it runs.
            vm_run VmRun(instance: i64, name: i32, name_len: i32, args: i32, nargs: i32, gas: i64, out: i32) -> i64 { uses [Memory, Gas, Stack] cost [HostPerByte * bytes(name_len)] }
            /// Resumes child `instance`, waiting in a syscall, with `value` as its result; as `vm_run`.
            vm_resume VmResume(instance: i64, value: i64, out: i32) -> i64 { uses [Memory, Gas, Stack] cost [] }
            /// Copies `len` bytes of child `instance`'s memory from `offset` to `dst`; 0 or a
            /// negative [`vm`] error.
            vm_read_memory VmReadMemory(instance: i64, offset: i64, dst: i32, len: i32) -> i64 { uses [Memory, Gas] cost [HostPerByte * bytes(len)] }
            /// Copies the `len` bytes at `src` into child `instance`'s memory at `offset`; 0 or a
            /// negative [`vm`] error.
            vm_write_memory VmWriteMemory(instance: i64, offset: i64, src: i32, len: i32) -> i64 { uses [Memory, Gas] cost [HostPerByte * bytes(len)] }
            /// Destroys child `instance`; 0 or a negative [`vm`] error.
            vm_destroy VmDestroy(instance: i64) -> i64 { uses [] cost [] }
            /// Reads the value under the `key_len` bytes at `key` in the running contract's
            /// transient storage, which lives for one transaction (the EVM's `TLOAD`,
            /// EIP-1153): copies at most `dst_cap` bytes of it to `dst` and returns its full
            /// length, or -1 when absent.
            transient_read TransientRead(key: i32, key_len: i32, dst: i32, dst_cap: i32) -> i64 { uses [Memory, Gas] cost [HostPerByte * bytes(key_len, dst_cap)] }
            /// Stores the `val_len` bytes at `val` under the `key_len` bytes at `key` in the
            /// running contract's transient storage; an empty value removes the key. Undone
            /// if the frame reverts, forgotten when the transaction ends. Traps with
            /// `host_error` in a read-only call, and when the transaction's transient storage
            /// would hold more than [`MAX_TX_TRANSIENT_BYTES`] of keys and values.
            transient_write TransientWrite(key: i32, key_len: i32, val: i32, val_len: i32) { uses [Memory, Gas] cost [HostPerByte * bytes(key_len, val_len)] }
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
    ($(#[doc = $tdoc:literal])* $HostFn:ident $module:ident;
     $( $(#[doc = $doc:literal])* $name:ident $variant:ident
        ( $($param:ident : $pty:ident),* ) $(-> $ret:ident)?
        { uses [$($use:ident),*] cost [$($cost:tt)*] } )*) => {
        $(#[doc = $tdoc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[repr(u8)]
        pub enum $HostFn {
            $( $(#[doc = $doc])* $variant, )*
        }

        impl $HostFn {
            /// The import module of every function of this table.
            pub const MODULE: &'static str = $module;

            /// Every host function, in table order.
            pub const ALL: &'static [$HostFn] = &[$($HostFn::$variant),*];

            /// The import name.
            pub const fn name(self) -> &'static str {
                match self {
                    $($HostFn::$variant => stringify!($name),)*
                }
            }

            /// The parameter types.
            pub const fn params(self) -> &'static [ValType] {
                match self {
                    $($HostFn::$variant => &[$($crate::__val_type!($pty)),*],)*
                }
            }

            /// The result types (zero or one).
            pub const fn results(self) -> &'static [ValType] {
                match self {
                    $($HostFn::$variant => &[$($crate::__val_type!($ret))?],)*
                }
            }

            /// The parameter names, for documentation and diagnostics.
            pub const fn param_names(self) -> &'static [&'static str] {
                match self {
                    $($HostFn::$variant => &[$(stringify!($param)),*],)*
                }
            }

            /// What the function touches: guest memory, the gas counter,
            /// the embedder (by suspending).
            pub const fn uses(self) -> Uses {
                match self {
                    $($HostFn::$variant => Uses::NONE $(.with(Use::$use))*,)*
                }
            }

            /// What a call costs, beyond the `host_call` every call pays.
            pub const fn cost(self) -> Cost {
                match self {
                    $($HostFn::$variant => const {
                        $crate::__cost!([$(stringify!($param)),*] [] [] $($cost)*)
                    },)*
                }
            }

            /// Looks a function up by its import name.
            pub fn from_name(name: &str) -> Option<$HostFn> {
                match name {
                    $(stringify!($name) => Some($HostFn::$variant),)*
                    _ => None,
                }
            }
        }
    };
}

for_each_host_function!(define_host_fn, /// One function of the host ABI (module [`MODULE`]).
    HostFn MODULE;);

impl HostFn {
    /// Whether this is one of the `vm_*` functions, which need the
    /// embedder to offer children ([`vm`]).
    pub fn runs_children(self) -> bool {
        self.name().starts_with("vm_")
    }
}

/// The `Display` form (`module.name(p: ty, ...) -> ty`) and the
/// documentation table of a generated function enum.
macro_rules! describe_table {
    ($HostFn:ident, $DocTable:ident, $doc:literal) => {
        impl fmt::Display for $HostFn {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}.{}(", Self::MODULE, self.name())?;
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

        impl $HostFn {
            #[doc = $doc]
            pub fn doc_table() -> impl fmt::Display {
                $DocTable
            }
        }

        struct $DocTable;

        impl fmt::Display for $DocTable {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                writeln!(f, "| function | signature | gas | uses |")?;
                writeln!(f, "|---|---|---|---|")?;
                for &host_fn in $HostFn::ALL {
                    writeln!(
                        f,
                        "| `{}` | `{}` | `{}` | {} |",
                        host_fn.name(),
                        host_fn,
                        host_fn.cost(),
                        host_fn.uses()
                    )?;
                }
                Ok(())
            }
        }
    };
}

describe_table!(
    HostFn,
    DocTable,
    "The function table of `docs/host-abi.md`, in Markdown: one row per function with its signature, its cost and what it touches. A test checks the document against it."
);

mod wasi;
pub use wasi::{WASI_MODULE, WasiFn};

#[cfg(test)]
mod tests;
