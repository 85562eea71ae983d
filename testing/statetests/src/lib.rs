//! Ethereum's GeneralStateTests (ethereum/tests, filled for Cancun)
//! through Ward's EVM runtime, differentially against revm run natively
//! (`docs/evm.md`, "Ethereum's state tests").
//!
//! Each case (a file's test, one `post.Cancun` entry: the transaction's
//! data, gas and value by their indexes) runs three ways:
//!
//! 1. revm at Cancun, the fixture's fork: it must reproduce the fixture
//!    (its state root and logs hash, or the refusal it expects), which
//!    proves the reference. A case it does not reproduce is counted and
//!    set aside.
//! 2. revm at Prague, the revision Ward's runtime compiles
//!    ([`native`]): the outcome Ward is held to, with gas and fees as
//!    Ward's chain counts them for an Ethereum transaction
//!    ([`native::Native::as_ward_counts`]).
//! 3. Ward, on each backend ([`ward`]): status, output, logs, EVM gas,
//!    and every account's balance, nonce, code and storage must be the
//!    same as 2's, and the same on both backends.
//!
//! A case whose Ward run differs must be listed in the known-differences
//! file ([`Known`]) under its cause.

pub mod fixture;
pub mod known;
pub mod native;
pub mod post;
pub mod ward;

use std::path::{Path, PathBuf};

use fixture::Suite;
use revm::primitives::hardfork::SpecId;

pub use known::Known;
pub use ward::WardSide;

/// The fork the fixtures were filled for: its name in `post`, and its
/// revision.
pub const FIXTURE_FORK: (&str, SpecId) = ("Cancun", SpecId::CANCUN);

/// The EVM revision Ward's runtime compiles (`contracts/evm`).
pub const RUNTIME_SPEC: SpecId = SpecId::PRAGUE;

/// How one case went.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// revm at the fixture's fork does not reproduce the fixture: no
    /// reference, not compared.
    NotReproduced,
    /// Ward's runtime did what revm did, on every backend.
    Same,
    /// Ward's runtime differs from revm: where, one line each (the first
    /// backend's; both backends agree), and the likely cause.
    Differs(Vec<String>, Cause),
    /// The backends disagree with each other: never acceptable.
    BackendsDisagree(Vec<String>),
}

/// What a difference comes from, as far as the runner can tell: a
/// first sorting of the differences, which the known-differences file
/// then names case by case (`--write-known`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Cause {
    /// An account holds more wei than the native asset's range, or all of
    /// them together do.
    BalanceRange,
    /// The transaction's gas limit is more than Ward gas (a u64 at 64
    /// per EVM gas) can stand for.
    GasLimitRange,
    /// A blob transaction (EIP-4844), which a Ward chain refuses.
    Blobs,
    /// A contract created in the transaction destroys itself (EIP-6780
    /// deletes it; Ward's state deletes no contract).
    SelfDestruct,
    /// Frames nest deeper than EVM frames can on Ward.
    Depth,
    /// A log carries more data than one Ward event holds
    /// ([`ward_abi::MAX_EVENT_DATA_BYTES`]).
    EventSize,
    /// The transaction calls a precompile whose Wasm pays a surcharge
    /// ([`SURCHARGED`]).
    Surcharge,
    /// Only the gas used differs (and the sender's balance, which paid
    /// for it).
    GasOnly,
    /// The case's code reads the block or transaction environment that
    /// the runtime answers with constants, or names the block's coinbase
    /// (warm on Ethereum, EIP-3651).
    Environment,
    /// Not sorted yet.
    Other,
}

/// The precompiles whose Wasm pays a surcharge (`docs/evm.md`): modexp,
/// blake2f, KZG and BLS12-381's (ecrecover, SHA-256 and bn254's run in
/// Ward's host).
const SURCHARGED: [u8; 10] = [0x05, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x11];

/// Frames nested this deep on revm are more than Ward's stack budget
/// holds for EVM frames (about 350, docs/evm.md "Depth"), with room
/// for the frames' own shapes.
const DEEP: usize = 300;

/// The opcodes whose answers the runtime does not take from the block:
/// `BLOCKHASH`, `COINBASE`, `PREVRANDAO`, `GASLIMIT`, `BASEFEE`,
/// `BLOBHASH`, `BLOBBASEFEE`, `GASPRICE`.
const ENVIRONMENT_OPCODES: [u8; 8] = [0x40, 0x41, 0x44, 0x45, 0x48, 0x49, 0x4a, 0x3a];

impl Cause {
    /// Its heading in the known-differences file.
    pub fn heading(self) -> &'static str {
        match self {
            Cause::BalanceRange => {
                "balance range: the pre-state's balances (one, or all together) are more than 2^128 - 1 wei, beyond the native asset's range (docs/economics.md)"
            }
            Cause::GasLimitRange => {
                "gas limit range: the transaction's gas limit is above 2^63 / 64 EVM gas, more than Ward gas (a u64, 64 per EVM gas) can stand for"
            }
            Cause::Blobs => {
                "blob transactions: the case's transaction carries blobs (EIP-4844), and a Ward chain refuses blob transactions by type, having no blobs to carry (docs/ethereum.md)"
            }
            Cause::SelfDestruct => {
                "self-destruct in the creating transaction: EIP-6780 deletes a contract created and destroyed in one transaction; Ward's state deletes no contract, so it stays, with its nonce and storage (docs/evm.md)"
            }
            Cause::Depth => {
                "call depth: revm's frames nest at least 300 deep; an EVM frame holds about 93 of a transaction's 32 768 stack units at a call, so EVM frames nest about 350 deep on Ward, short of Ethereum's 1 024 (docs/evm.md, \"Depth\")"
            }
            Cause::EventSize => {
                "event size: a LOG carries more than the 64 KiB of data one Ward event holds (ward_abi::MAX_EVENT_DATA_BYTES, docs/host-abi.md); the runtime's emit_event traps, and the frame halts where Ethereum logs it"
            }
            Cause::Surcharge => {
                "precompile surcharge: the transaction calls modexp, blake2f, KZG or BLS12-381, whose Wasm pays Ward gas beyond the rate (docs/evm.md, \"Precompile surcharges\"): a caller sees more EVM gas used, and a frame's Ward gas runs out before its EVM gas would"
            }
            Cause::GasOnly => {
                "gas only: status, output, logs and state agree; the EVM gas differs (and with it what the sender paid)"
            }
            Cause::Environment => {
                "block environment: the case's code reads COINBASE, GASPRICE, BASEFEE, PREVRANDAO, GASLIMIT, BLOCKHASH or the blob opcodes, which the runtime answers with constants, or names the block's coinbase, which EIP-3651 warms and a Ward block has none of"
            }
            Cause::Other => "not yet sorted: state, status or output differ",
        }
    }

    /// The cause of `differences` in a case of `unit` whose run by revm
    /// did what `seen` says: the first that applies of blobs,
    /// self-destruct, depth, surcharge, environment and gas only.
    fn of(unit: &fixture::Unit, differences: &[String], seen: &native::Seen) -> Cause {
        if unit.transaction.max_fee_per_blob_gas.is_some()
            || !unit.transaction.blob_versioned_hashes.is_empty()
        {
            return Cause::Blobs;
        }
        if seen.destroyed_new {
            return Cause::SelfDestruct;
        }
        if seen.depth >= DEEP {
            return Cause::Depth;
        }
        if seen.largest_log > ward_abi::MAX_EVENT_DATA_BYTES as usize {
            return Cause::EventSize;
        }
        if seen.precompiles.iter().any(|at| SURCHARGED.contains(at)) {
            return Cause::Surcharge;
        }
        // Code that reads the block environment, or names the block's
        // coinbase (in a push of any width: `PUSH2 0xba5e`, `PUSH32`), which
        // EIP-3651 warms and a Ward block has none of.
        let coinbase = unit.env.current_coinbase;
        let significant = |bytes: &[u8]| {
            let start = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len());
            bytes[start..].to_vec()
        };
        let wanted = significant(coinbase.as_slice());
        // A push of the coinbase's value, whatever its width.
        let names_coinbase = |data: &[u8]| !wanted.is_empty() && significant(data) == wanted;
        let reads_environment = unit.pre.values().any(|account| {
            instructions(&account.code)
                .any(|(op, data)| ENVIRONMENT_OPCODES.contains(&op) || names_coinbase(data))
        });
        if reads_environment {
            return Cause::Environment;
        }
        let sender = unit
            .transaction
            .sender()
            .map(|s| s.to_string())
            .unwrap_or_default();
        let gas_only = differences.iter().all(|line| {
            line.starts_with("gas used:")
                || (!sender.is_empty() && line.starts_with(&format!("{sender} balance:")))
        });
        if gas_only {
            Cause::GasOnly
        } else {
            Cause::Other
        }
    }
}

/// The instructions of EVM code: each opcode with its push's data
/// (empty for any other).
fn instructions(code: &[u8]) -> impl Iterator<Item = (u8, &[u8])> + '_ {
    let mut at = 0;
    std::iter::from_fn(move || {
        let op = *code.get(at)?;
        at += 1;
        let mut data: &[u8] = &[];
        if (0x60..=0x7f).contains(&op) {
            let end = (at + usize::from(op - 0x5f)).min(code.len());
            data = &code[at..end];
            at = end;
        }
        Some((op, data))
    })
}

/// One case's result.
#[derive(Clone, Debug)]
pub struct CaseResult {
    /// `FILE::TEST[d,g,v]`, the file relative to the suite's root.
    pub id: String,
    /// How it went.
    pub verdict: Verdict,
}

/// Every fixture file under `root`, sorted.
pub fn files(root: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut dirs = vec![root.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir)? {
            let path = entry?.path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "json") {
                out.push(path);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// How many cases of each sample file `make test` runs.
pub const SAMPLE_CASES_PER_FILE: usize = 8;

/// The fixed sample `make test` runs (`sample.txt`): one file of every
/// folder under `root`, the one whose largest gas limit is least.
///
/// # Errors
///
/// When a listed file is not under `root`.
pub fn sample(root: &Path) -> std::io::Result<Vec<PathBuf>> {
    include_str!("../sample.txt")
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(|line| {
            let path = root.join(line);
            if path.is_file() {
                Ok(path)
            } else {
                Err(std::io::Error::new(
                    std::io::ErrorKind::NotFound,
                    format!(
                        "sample.txt names {line}, which {} does not hold",
                        root.display()
                    ),
                ))
            }
        })
        .collect()
}

/// The folders under `root` that hold fixture files, relative to it.
///
/// # Errors
///
/// When `root` cannot be read.
pub fn folders(root: &Path) -> std::io::Result<std::collections::BTreeSet<PathBuf>> {
    Ok(files(root)?
        .iter()
        .filter_map(|f| f.parent()?.strip_prefix(root).ok().map(Path::to_path_buf))
        .collect())
}

/// Runs the cases of `file` (a path under `root`) on `sides`: every one,
/// or the first `limit`.
///
/// # Errors
///
/// When the file cannot be read or is not a fixture.
pub fn run_file(
    root: &Path,
    file: &Path,
    sides: &[WardSide],
    limit: Option<usize>,
) -> anyhow::Result<Vec<CaseResult>> {
    let text = std::fs::read_to_string(file)?;
    let suite: Suite =
        serde_json::from_str(&text).map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
    let relative = file
        .strip_prefix(root)
        .unwrap_or(file)
        .display()
        .to_string();
    let mut out = Vec::new();
    for (name, unit) in &suite.0 {
        let Some(tests) = unit.post.get(FIXTURE_FORK.0) else {
            continue;
        };
        for test in tests {
            if limit.is_some_and(|limit| out.len() >= limit) {
                break;
            }
            let i = &test.indexes;
            let id = format!("{relative}::{name}[{},{},{}]", i.data, i.gas, i.value);
            let verdict = run_case(unit, test, sides);
            out.push(CaseResult { id, verdict });
        }
    }
    Ok(out)
}

fn run_case(unit: &fixture::Unit, test: &fixture::Case, sides: &[WardSide]) -> Verdict {
    match native::run(unit, test, FIXTURE_FORK.1) {
        Ok(native) if native.reproduces(test) => {}
        // revm cannot build the transaction: the fixture must expect it
        // refused, and Ward must refuse it too (below).
        Err(_) if test.expect_exception.is_some() => {}
        _ => return Verdict::NotReproduced,
    }
    let (expected, seen) = match native::run(unit, test, RUNTIME_SPEC) {
        Ok(native) => (native.as_ward_counts(), native.seen),
        Err(_) => (native::refused(unit), native::Seen::default()),
    };
    let mut first: Option<Result<post::Outcome, ward::Unrepresentable>> = None;
    for side in sides {
        let got = side.run(unit, test);
        match &first {
            None => first = Some(got),
            Some(seen) if *seen != got => {
                return Verdict::BackendsDisagree(vec![format!(
                    "{}: {:?}; the first backend: {:?}",
                    side.kind(),
                    got.map(|o| (o.status, o.gas)),
                    seen.as_ref().map(|o| (o.status, o.gas))
                )]);
            }
            Some(_) => {}
        }
    }
    match first {
        None => Verdict::Same,
        Some(Err(ward::Unrepresentable(cause, why))) => Verdict::Differs(vec![why], cause),
        Some(Ok(got)) => {
            let differences = expected.differences(&got);
            if differences.is_empty() {
                Verdict::Same
            } else {
                let cause = Cause::of(unit, &differences, &seen);
                Verdict::Differs(differences, cause)
            }
        }
    }
}
