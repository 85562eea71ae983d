//! The per-function rules of the table: what a host function touches and
//! what it costs. Values live in the gas schedule (`ward-instrument`); the
//! table names them by [`Rate`].

use core::fmt;

/// One thing a host function may touch.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Use {
    /// Reads or writes guest memory: backends look the memory export up.
    Memory,
    /// Reads or charges gas beyond the prepaid `host_call`: an
    /// engine-metered caller's gas counter is brought into the call context
    /// before the call and written back after it.
    Gas,
    /// May suspend the guest until the embedder replies.
    Suspends,
    /// Runs other code above the caller's stack (another contract, a
    /// child): the caller's call depth (`__ward_stack`) is read before the
    /// call, and the code it runs starts there.
    Stack,
}

/// The set of [`Use`]s of a host function.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Uses {
    /// [`Use::Memory`].
    pub memory: bool,
    /// [`Use::Gas`].
    pub gas: bool,
    /// [`Use::Suspends`].
    pub suspends: bool,
    /// [`Use::Stack`].
    pub stack: bool,
}

impl Uses {
    /// Touches nothing but its arguments.
    pub const NONE: Uses = Uses {
        memory: false,
        gas: false,
        suspends: false,
        stack: false,
    };

    /// This set and `one` more.
    pub const fn with(self, one: Use) -> Uses {
        match one {
            Use::Memory => Uses {
                memory: true,
                ..self
            },
            Use::Gas => Uses { gas: true, ..self },
            Use::Suspends => Uses {
                suspends: true,
                ..self
            },
            Use::Stack => Uses {
                stack: true,
                ..self
            },
        }
    }
}

impl fmt::Display for Uses {
    /// `memory, gas, suspends, stack` (those that apply), or `-`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names = [
            (self.memory, "memory"),
            (self.gas, "gas"),
            (self.suspends, "suspends"),
            (self.stack, "stack"),
        ];
        let mut any = false;
        for (_, name) in names.iter().filter(|(on, _)| *on) {
            if any {
                f.write_str(", ")?;
            }
            f.write_str(name)?;
            any = true;
        }
        if !any {
            f.write_str("-")?;
        }
        Ok(())
    }
}

/// A rate of the gas schedule that host functions pay (beyond `host_call`,
/// which every call pays). Named after the schedule's field.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Rate {
    /// `host_per_byte`: bytes moved between the guest and the host.
    HostPerByte,
    /// `storage_read`: a lookup in the state store.
    StorageRead,
    /// `storage_write`: a write or removal that persists.
    StorageWrite,
    /// `storage_per_byte`: key and value bytes of a storage call.
    StoragePerByte,
    /// `event`: an event.
    Event,
    /// `event_per_byte`: topic and data bytes.
    EventPerByte,
    /// `hash_per_64_bytes`: hashing, per 64 bytes (rounded up).
    HashPer64Bytes,
    /// `verify_ed25519`: a signature check.
    VerifyEd25519,
    /// `recover_secp256k1`: a public key recovered from a signature.
    RecoverSecp256k1,
    /// `bn254_add`: a sum of two bn254 G1 points.
    Bn254Add,
    /// `bn254_mul`: a bn254 G1 point times a scalar.
    Bn254Mul,
    /// `bn254_pairing`: a bn254 pairing check, before its pairs.
    Bn254Pairing,
    /// `bn254_pairing_per_64_bytes`: a pairing check's pairs, per 64 bytes.
    Bn254PairingPer64Bytes,
    /// `deploy_base`: compiling or instantiating a module (a child's too).
    DeployBase,
    /// `deploy_per_byte`: per byte of a module compiled.
    DeployPerByte,
}

impl Rate {
    /// The schedule field's name.
    pub const fn name(self) -> &'static str {
        match self {
            Rate::HostPerByte => "host_per_byte",
            Rate::StorageRead => "storage_read",
            Rate::StorageWrite => "storage_write",
            Rate::StoragePerByte => "storage_per_byte",
            Rate::Event => "event",
            Rate::EventPerByte => "event_per_byte",
            Rate::HashPer64Bytes => "hash_per_64_bytes",
            Rate::VerifyEd25519 => "verify_ed25519",
            Rate::RecoverSecp256k1 => "recover_secp256k1",
            Rate::Bn254Add => "bn254_add",
            Rate::Bn254Mul => "bn254_mul",
            Rate::Bn254Pairing => "bn254_pairing",
            Rate::Bn254PairingPer64Bytes => "bn254_pairing_per_64_bytes",
            Rate::DeployBase => "deploy_base",
            Rate::DeployPerByte => "deploy_per_byte",
        }
    }
}

/// What a [`Term`]'s rate is paid per.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Unit {
    /// Per byte of the lengths.
    Bytes,
    /// Per 64 bytes of the lengths, rounded up.
    Words,
    /// Per byte the call actually moves or allocates, known only as it
    /// runs (an I/O vector's bytes, a file grown): charged by the
    /// implementation as it goes, not by [`Cost::evaluate`]. Rendered
    /// `rate * moved`.
    Moved,
}

/// One part of a [`Cost`]: `rate` per `unit` of the sum of the lengths in
/// parameters `params` (read as unsigned 32-bit values).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Term {
    /// The rate.
    pub rate: Rate,
    /// What it is paid per.
    pub unit: Unit,
    /// Indices of the length parameters, summed.
    pub params: &'static [u8],
}

/// What a host call costs beyond `host_call`: a fixed rate, if any, plus
/// per-length terms, all computed from the requested lengths before
/// anything is checked (so a bad range is never cheaper than a good one).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Cost {
    /// A rate paid once per call.
    pub fixed: Option<Rate>,
    /// Rates paid per length.
    pub terms: &'static [Term],
    /// The function's parameter names, for rendering the terms.
    pub param_names: &'static [&'static str],
}

impl Cost {
    /// The cost given the schedule's `host_call`, its `rate`s, and the
    /// value of each length parameter (`len(i)`), saturating.
    pub fn evaluate(
        &self,
        host_call: u64,
        rate: impl Fn(Rate) -> u64,
        len: impl Fn(usize) -> u64,
    ) -> u64 {
        let fixed = self.fixed.map_or(0, &rate);
        self.terms
            .iter()
            .fold(host_call.saturating_add(fixed), |sum, term| {
                let total = term
                    .params
                    .iter()
                    .fold(0u64, |n, &i| n.saturating_add(len(usize::from(i))));
                let units = match term.unit {
                    Unit::Bytes => total,
                    Unit::Words => total.div_ceil(64),
                    Unit::Moved => 0,
                };
                sum.saturating_add(rate(term.rate).saturating_mul(units))
            })
    }

    /// Whether the cost is `host_call` alone.
    pub const fn is_base(&self) -> bool {
        self.fixed.is_none() && self.terms.is_empty()
    }
}

impl fmt::Display for Cost {
    /// `host_call + storage_read + storage_per_byte * (key_len + dst_cap)`;
    /// words as `hash_per_64_bytes * ceil(len / 64)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("host_call")?;
        if let Some(fixed) = self.fixed {
            write!(f, " + {}", fixed.name())?;
        }
        for term in self.terms {
            write!(f, " + {} * ", term.rate.name())?;
            if term.unit == Unit::Moved {
                f.write_str("moved")?;
                continue;
            }
            let open = match (term.unit, term.params.len()) {
                (Unit::Words, _) => "ceil(",
                (_, 1) => "",
                _ => "(",
            };
            f.write_str(open)?;
            for (n, &i) in term.params.iter().enumerate() {
                if n > 0 {
                    f.write_str(" + ")?;
                }
                f.write_str(self.param_names.get(usize::from(i)).unwrap_or(&"?"))?;
            }
            match (term.unit, open) {
                (Unit::Words, _) => f.write_str(" / 64)")?,
                (Unit::Bytes, "(") => f.write_str(")")?,
                _ => {}
            }
        }
        Ok(())
    }
}

/// The index of parameter `name` in `names`. Used in constant context by
/// the table's expansion, where a name that is not a parameter stops the
/// build.
#[doc(hidden)]
pub const fn param_index(names: &[&str], name: &str) -> u8 {
    let mut i = 0;
    while i < names.len() {
        let (a, b) = (names[i].as_bytes(), name.as_bytes());
        if a.len() == b.len() {
            let mut j = 0;
            while j < a.len() && a[j] == b[j] {
                j += 1;
            }
            if j == a.len() {
                return i as u8;
            }
        }
        i += 1;
    }
    panic!("a cost names a length that is not a parameter of its function")
}

/// Builds a [`Cost`] from a table entry's `cost [...]` tokens.
#[doc(hidden)]
#[macro_export]
macro_rules! __cost {
    ($params:tt [$($fixed:ident)?] [$($terms:tt)*]) => {
        $crate::Cost {
            fixed: $crate::__fixed!($($fixed)?),
            terms: &[$($terms)*],
            param_names: &$params,
        }
    };
    ($params:tt $fixed:tt [$($terms:tt)*]
        $rate:ident * $unit:ident ( $($len:ident),+ ) $(+ $($rest:tt)*)?) => {
        $crate::__cost!($params $fixed [$($terms)* $crate::Term {
            rate: $crate::Rate::$rate,
            unit: $crate::__unit!($unit),
            params: &[$($crate::param_index(&$params, stringify!($len))),+],
        },] $($($rest)*)?)
    };
    ($params:tt $fixed:tt [$($terms:tt)*] $rate:ident * moved $(+ $($rest:tt)*)?) => {
        $crate::__cost!($params $fixed [$($terms)* $crate::Term {
            rate: $crate::Rate::$rate,
            unit: $crate::Unit::Moved,
            params: &[],
        },] $($($rest)*)?)
    };
    ($params:tt [] $terms:tt $rate:ident $(+ $($rest:tt)*)?) => {
        $crate::__cost!($params [$rate] $terms $($($rest)*)?)
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __fixed {
    () => {
        None
    };
    ($rate:ident) => {
        Some($crate::Rate::$rate)
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __unit {
    (bytes) => {
        $crate::Unit::Bytes
    };
    (words) => {
        $crate::Unit::Words
    };
}
