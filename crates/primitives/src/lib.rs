//! Consensus quantities shared by every Ward crate.
//!
//! Everything here is `no_std` (the [`codec`] needs `alloc`) and free of platform-dependent
//! behaviour: the same operations give the same values on every node.
//! Arithmetic on consensus quantities is checked or saturating, never
//! wrapping, so an attacker-chosen operand can never turn a large charge
//! into a small one.
//!
//! ```
//! use ward_primitives::Gas;
//!
//! let limit = Gas::new(1_000);
//! let used = Gas::new(400);
//! assert_eq!(limit.checked_sub(used), Some(Gas::new(600)));
//! assert_eq!(Gas::MAX.saturating_add(used), Gas::MAX);
//! ```

#![no_std]

extern crate alloc;

pub mod codec;
pub mod schema;

use core::fmt;

/// How a run or a transaction ended, at the coarsest level: what a
/// receipt records (`ward_state::Receipt::status`) and an execution's
/// outcome says (`ward_vm::Outcome`). Typed everywhere; its name
/// ([`Status::as_str`]) is what encodings and the wire carry.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Status {
    /// Finished with exit code 0 (the default, as a receipt being built
    /// starts).
    #[default]
    Ok,
    /// Finished with a nonzero exit code; output is kept.
    Reverted,
    /// A trap: the guest did something invalid. Output is discarded.
    Trapped,
    /// Gas ran out.
    OutOfGas,
    /// The call was interrupted: the wall-clock backstop fired, or the
    /// embedder cancelled it.
    Timeout,
    /// The module never ran: invalid, outside policy, or not linkable.
    Rejected,
}

impl Status {
    /// Every status, in the order of their declaration.
    pub const ALL: [Status; 6] = [
        Status::Ok,
        Status::Reverted,
        Status::Trapped,
        Status::OutOfGas,
        Status::Timeout,
        Status::Rejected,
    ];

    /// The status's name: `ok`, `reverted`, `trapped`, `out_of_gas`,
    /// `timeout` or `rejected`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Reverted => "reverted",
            Status::Trapped => "trapped",
            Status::OutOfGas => "out_of_gas",
            Status::Timeout => "timeout",
            Status::Rejected => "rejected",
        }
    }

    /// The status named `name` ([`Status::as_str`]).
    pub fn parse(name: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|s| s.as_str() == name)
    }

    /// Whether it is [`Status::Ok`].
    pub const fn is_ok(self) -> bool {
        matches!(self, Status::Ok)
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a contract's code runs as, chosen when it is deployed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CodeKind {
    /// A Ward contract: `main` for calls, `deploy` when deployed, the
    /// `ward` ABI only.
    #[default]
    Ward,
    /// A WASI preview 1 command (`docs/wasi.md`): `_start` for calls, the
    /// call's input as stdin and its output from stdout, WASI beside the
    /// `ward` ABI; nothing runs when it is deployed.
    Wasi,
    /// A WASI preview 1 reactor (`docs/wasi.md`): its exports are its
    /// methods, named by a call's input (`method`, a NUL byte, then the
    /// method's input), `_initialize` run before each when it has one;
    /// stdout and stderr go to the debug log; nothing runs when it is
    /// deployed.
    WasiReactor,
    /// Code for the system runtime the chain registered under this name
    /// (`docs/runtimes.md`): not Wasm, but the runtime's input (an EVM
    /// contract's bytecode for `evm`).
    Runtime(RuntimeName),
}

impl CodeKind {
    /// Its tag in encodings: 0 Ward, 1 WASI, 2 a system runtime (whose
    /// name follows the tag), 3 a WASI reactor.
    pub const fn tag(self) -> u8 {
        match self {
            CodeKind::Ward => 0,
            CodeKind::Wasi => 1,
            CodeKind::Runtime(_) => 2,
            CodeKind::WasiReactor => 3,
        }
    }

    /// Whether its code runs with WASI preview 1 (a command or a reactor).
    pub const fn is_wasi(self) -> bool {
        matches!(self, CodeKind::Wasi | CodeKind::WasiReactor)
    }

    /// Writes the kind explicitly (after a Ward record or deploy, which
    /// imply Ward's): its tag, then a runtime's name as a byte string.
    pub fn encode_explicit(&self, out: &mut alloc::vec::Vec<u8>) {
        use codec::Encode;
        self.tag().encode(out);
        if let CodeKind::Runtime(name) = self {
            name.as_str().as_bytes().encode(out);
        }
    }

    /// The length of [`CodeKind::encode_explicit`]'s bytes.
    pub fn explicit_len(&self) -> u64 {
        match self {
            CodeKind::Runtime(name) => 1 + 4 + name.as_str().len() as u64,
            _ => 1,
        }
    }

    /// Reads a kind written explicitly after a Ward record or deploy
    /// (which imply Ward's): any known kind but Ward's, so that every
    /// value has one encoding.
    ///
    /// # Errors
    ///
    /// A missing byte, an unknown kind, Ward's, or a runtime name that is
    /// not one.
    pub fn decode_explicit(input: &mut &[u8]) -> Result<CodeKind, codec::CodecError> {
        use codec::Decode;
        let bad = |what: &str| codec::CodecError(alloc::format!("{what} code kind"));
        match u8::decode(input)? {
            1 => Ok(CodeKind::Wasi),
            3 => Ok(CodeKind::WasiReactor),
            2 => {
                let name = alloc::vec::Vec::<u8>::decode(input)?;
                core::str::from_utf8(&name)
                    .ok()
                    .and_then(RuntimeName::new)
                    .map(CodeKind::Runtime)
                    .ok_or_else(|| bad("a bad runtime name in a"))
            }
            _ => Err(bad("an unknown or non-canonical")),
        }
    }

    /// Writes the kind where any kind may stand, Ward's included (tag 0):
    /// in records that say the kind whatever it is.
    pub fn encode_any(&self, out: &mut alloc::vec::Vec<u8>) {
        use codec::Encode;
        match self {
            CodeKind::Ward => 0u8.encode(out),
            other => other.encode_explicit(out),
        }
    }

    /// Reads a kind written by [`CodeKind::encode_any`].
    ///
    /// # Errors
    ///
    /// As [`CodeKind::decode_explicit`], Ward's tag aside.
    pub fn decode_any(input: &mut &[u8]) -> Result<CodeKind, codec::CodecError> {
        if input.first() == Some(&0) {
            *input = &input[1..];
            return Ok(CodeKind::Ward);
        }
        CodeKind::decode_explicit(input)
    }

    /// The length of [`CodeKind::encode_any`]'s bytes.
    pub fn any_len(&self) -> u64 {
        self.explicit_len()
    }

    /// The kind a user names: `ward`, `wasi`, `wasi-reactor`, or a
    /// runtime's name.
    pub fn parse(name: &str) -> Option<CodeKind> {
        match name {
            "ward" => Some(CodeKind::Ward),
            "wasi" => Some(CodeKind::Wasi),
            "wasi-reactor" => Some(CodeKind::WasiReactor),
            name => RuntimeName::new(name).map(CodeKind::Runtime),
        }
    }

    /// Its name in results: `ward`, `wasi`, `wasi-reactor`, or the
    /// runtime's.
    pub fn as_str(&self) -> &str {
        match self {
            CodeKind::Ward => "ward",
            CodeKind::Wasi => "wasi",
            CodeKind::WasiReactor => "wasi-reactor",
            CodeKind::Runtime(name) => name.as_str(),
        }
    }

    /// The export a call runs: `main` (a Ward contract's, or the
    /// runtime's) or `_start`; none (`""`) for a WASI reactor, whose
    /// call's input names the method (see [`CodeKind::WasiReactor`]).
    pub const fn call_entry(self) -> &'static str {
        match self {
            CodeKind::Ward | CodeKind::Runtime(_) => "main",
            CodeKind::Wasi => "_start",
            CodeKind::WasiReactor => "",
        }
    }
}

impl fmt::Display for CodeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The longest name a system runtime is registered under, in bytes.
pub const MAX_RUNTIME_NAME: usize = 16;

/// The name a chain registers a system runtime under: 1 to
/// [`MAX_RUNTIME_NAME`] bytes of lowercase ASCII letters, digits and `-`,
/// starting with a letter, and neither `ward` nor `wasi`.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RuntimeName {
    len: u8,
    bytes: [u8; MAX_RUNTIME_NAME],
}

impl RuntimeName {
    /// `name`, when it is a runtime's name.
    pub fn new(name: &str) -> Option<RuntimeName> {
        let raw = name.as_bytes();
        let fits = (1..=MAX_RUNTIME_NAME).contains(&raw.len())
            && raw[0].is_ascii_lowercase()
            && raw
                .iter()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
            && name != "ward"
            && name != "wasi"
            && name != "wasi-reactor";
        if !fits {
            return None;
        }
        let mut bytes = [0u8; MAX_RUNTIME_NAME];
        bytes[..raw.len()].copy_from_slice(raw);
        Some(RuntimeName {
            len: raw.len() as u8,
            bytes,
        })
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        // Only ASCII is ever stored (checked in `new`).
        core::str::from_utf8(&self.bytes[..usize::from(self.len)]).unwrap_or_default()
    }
}

impl fmt::Display for RuntimeName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for RuntimeName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RuntimeName({:?})", self.as_str())
    }
}

/// An amount of gas: the deterministic unit every execution is metered in.
///
/// A newtype over `u64` so that gas can never be confused with a byte count,
/// a page count or a wasm value, and so that its arithmetic is explicit.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Gas(u64);

impl Gas {
    /// No gas at all.
    pub const ZERO: Gas = Gas(0);
    /// The largest amount of gas representable.
    pub const MAX: Gas = Gas(u64::MAX);
    /// The most gas a call can be given: the meter keeps gas in an `i64`
    /// global (`ward_vm::MAX_GAS`), so limits above it are refused.
    pub const MAX_LIMIT: Gas = Gas(i64::MAX as u64);

    /// Wraps a raw amount.
    pub const fn new(amount: u64) -> Self {
        Gas(amount)
    }

    /// The raw amount.
    pub const fn get(self) -> u64 {
        self.0
    }

    /// `self + rhs`, or `None` on overflow.
    pub const fn checked_add(self, rhs: Gas) -> Option<Gas> {
        match self.0.checked_add(rhs.0) {
            Some(v) => Some(Gas(v)),
            None => None,
        }
    }

    /// `self - rhs`, or `None` when `rhs` exceeds `self`.
    pub const fn checked_sub(self, rhs: Gas) -> Option<Gas> {
        match self.0.checked_sub(rhs.0) {
            Some(v) => Some(Gas(v)),
            None => None,
        }
    }

    /// `self + rhs`, clamped at [`Gas::MAX`].
    pub const fn saturating_add(self, rhs: Gas) -> Gas {
        Gas(self.0.saturating_add(rhs.0))
    }

    /// `self - rhs`, clamped at [`Gas::ZERO`].
    pub const fn saturating_sub(self, rhs: Gas) -> Gas {
        Gas(self.0.saturating_sub(rhs.0))
    }

    /// `base + per_unit * units`, clamped at [`Gas::MAX`]: the shape of every
    /// size-dependent charge (a host call's per-byte cost, a bulk operation's
    /// per-element cost).
    pub const fn linear(base: u64, per_unit: u64, units: u64) -> Gas {
        Gas(base.saturating_add(per_unit.saturating_mul(units)))
    }
}

impl fmt::Display for Gas {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl From<u64> for Gas {
    fn from(amount: u64) -> Self {
        Gas(amount)
    }
}

#[cfg(test)]
mod tests;

/// A 32-byte value shown as `0x` + 64 lowercase hex digits: addresses,
/// code hashes, transaction hashes.
macro_rules! bytes32 {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(pub [u8; 32]);

        impl $name {
            /// The raw bytes.
            pub const fn as_bytes(&self) -> &[u8; 32] {
                &self.0
            }

            /// Parses `0x` + 64 hex digits (the `0x` is optional).
            pub fn from_hex(text: &str) -> Option<Self> {
                let digits = text.strip_prefix("0x").unwrap_or(text).as_bytes();
                if digits.len() != 64 {
                    return None;
                }
                let mut out = [0u8; 32];
                for (i, pair) in digits.chunks_exact(2).enumerate() {
                    out[i] = (hex_digit(pair[0])? << 4) | hex_digit(pair[1])?;
                }
                Some($name(out))
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("0x")?;
                for b in self.0 {
                    write!(f, "{b:02x}")?;
                }
                Ok(())
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({self})", stringify!($name))
            }
        }
    };
}

fn hex_digit(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

bytes32! {
    /// A contract's (or an account's) address.
    Address
}

bytes32! {
    /// A 32-byte digest: a code hash, a transaction hash.
    Hash32
}

impl Address {
    /// The account of a 20-byte (Ethereum, EVM) address: 12 zero bytes,
    /// then the 20. An Ethereum account's and an EVM contract's Ward
    /// address.
    pub fn from_eth(address: [u8; 20]) -> Address {
        let mut out = [0u8; 32];
        out[12..].copy_from_slice(&address);
        Address(out)
    }

    /// The 20-byte form of an address whose first 12 bytes are zero
    /// ([`Address::from_eth`]'s), else `None`.
    pub fn eth(&self) -> Option<[u8; 20]> {
        let (zeros, tail) = self.0.split_at(12);
        let mut out = [0u8; 20];
        out.copy_from_slice(tail);
        zeros.iter().all(|b| *b == 0).then_some(out)
    }

    /// This address with its first 12 bytes zeroed: the account of its
    /// last 20 bytes read as a 20-byte address.
    pub fn eth_form(&self) -> Address {
        let mut out = self.0;
        out[..12].fill(0);
        Address(out)
    }

    /// Where value sent to this address's 20-byte EVM form waits: the
    /// address of 12 zero bytes and this one's last 20, which the EVM
    /// runtime pays when it cannot know the 32-byte account behind a
    /// 20-byte one. The account's next signed transaction collects it
    /// (`docs/economics.md`). `None` when this address is that form
    /// already.
    pub fn inbox(&self) -> Option<Address> {
        let inbox = self.eth_form();
        (inbox != *self).then_some(inbox)
    }
}

#[cfg(test)]
mod bytes32_tests {
    use super::*;

    extern crate std;
    use std::string::ToString;

    #[test]
    fn an_inbox_keeps_the_last_20_bytes() {
        let mut bytes = [0xab; 32];
        bytes[0] = 1;
        let inbox = Address(bytes).inbox().unwrap();
        assert_eq!(inbox.0[..12], [0; 12]);
        assert_eq!(inbox.0[12..], bytes[12..]);
        assert_eq!(inbox.inbox(), None);
    }

    #[test]
    fn addresses_round_trip_through_hex() {
        let a = Address([0xab; 32]);
        let text = a.to_string();
        assert_eq!(text.len(), 66);
        assert_eq!(Address::from_hex(&text), Some(a));
        assert_eq!(Address::from_hex(&text[2..]), Some(a));
        assert_eq!(Address::from_hex("0x12"), None);
        assert_eq!(Address::from_hex(&text.replace('a', "g")), None);
    }
}
