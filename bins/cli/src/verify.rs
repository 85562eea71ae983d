//! `ward verify-proof --root HEX [FILE]`: checks a node's `getStorage` or
//! `getBalance` answer against a state root, with nothing but the answer
//! and the root (what a light client does).

use std::{io::Read, path::PathBuf, process::ExitCode};

use anyhow::Context;
use clap::Args;
use serde_json::Value;
use ward_chain::tree::{self, StateKey, verify_storage};
use ward_state::{Address, Hash32};
use ward_text::parse;

/// `ward verify-proof`.
#[derive(Args, Debug)]
pub(crate) struct VerifyArgs {
    /// The state root to check against (a block's `state_root`).
    #[arg(long)]
    root: String,
    /// The `getStorage` result as JSON (its `result`, or the whole
    /// response); stdin when absent.
    file: Option<PathBuf>,
}

fn field<'a>(value: &'a Value, name: &str) -> anyhow::Result<&'a Value> {
    value
        .get(name)
        .with_context(|| format!("the proof has no {name:?}"))
}

fn text<'a>(value: &'a Value, name: &str) -> anyhow::Result<&'a str> {
    field(value, name)?
        .as_str()
        .with_context(|| format!("{name:?} is not a string"))
}

pub(crate) fn verify(args: VerifyArgs) -> anyhow::Result<ExitCode> {
    let root = Hash32(parse::bytes32(&args.root)?);
    let bytes = match &args.file {
        Some(path) => crate::read_file(path)?,
        None => {
            let mut bytes = Vec::new();
            std::io::stdin()
                .take(crate::MAX_FILE_BYTES + 1)
                .read_to_end(&mut bytes)
                .context("cannot read stdin")?;
            bytes
        }
    };
    let whole: Value = serde_json::from_slice(&bytes).context("the proof is not JSON")?;
    let proof = whole.get("result").unwrap_or(&whole);
    let address = Address(parse::bytes32(text(proof, "address")?)?);
    let value = match field(proof, "value")? {
        Value::Null => None,
        _ => Some(parse::hex_bytes(text(proof, "value")?)?),
    };
    let proof_bytes = parse::hex_bytes(text(proof, "proof")?)?;
    // A balance (`getBalance`) names no key; its value must be the balance
    // it states.
    let checked = if proof.get("balance").is_some() {
        let stated: u128 = text(proof, "balance")?
            .parse()
            .context("\"balance\" is not a decimal amount")?;
        let in_tree = match &value {
            None => 0,
            Some(bytes) => <[u8; 16]>::try_from(bytes.as_slice())
                .map(u128::from_le_bytes)
                .map_err(|_| anyhow::anyhow!("a balance's value is 16 bytes"))?,
        };
        if stated != in_tree {
            println!("invalid: the answer states {stated}, its value is {in_tree}");
            return Ok(ExitCode::from(1));
        }
        let key = StateKey::Balance(&address).to_bytes();
        tree::verify(&root, &key, value.as_deref(), &proof_bytes)
            .map(|()| format!("valid: the balance of {address} is {stated}"))
    } else {
        let key = parse::hex_bytes(text(proof, "key")?)?;
        verify_storage(&root, &address, &key, value.as_deref(), &proof_bytes).map(|()| match &value
        {
            Some(v) => format!("valid: {address} {} = {}", parse::hex(&key), parse::hex(v)),
            None => format!("valid: {address} {} is absent", parse::hex(&key)),
        })
    };
    match checked {
        Ok(valid) => {
            println!("{valid}");
            println!("under state root {root}");
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            println!("invalid: {e}");
            Ok(ExitCode::from(1))
        }
    }
}
