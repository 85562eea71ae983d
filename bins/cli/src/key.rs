//! `ward key new FILE` and `ward key show FILE`: Ed25519 key files for
//! signing transactions (`docs/transactions.md`).
//!
//! A key file is JSON: `{"secret_key", "public_key", "address"}`, each `0x`
//! hex; it is created with mode 0600 and never overwritten. The secret
//! comes from the operating system's random source (`/dev/urandom`).

use std::{io::Read, path::PathBuf, process::ExitCode};

use anyhow::Context;
use clap::{Args, Subcommand};
use ed25519_dalek::SigningKey;
use serde_json::json;
use ward_chain::tx::account_address;
use ward_text::parse;

/// `ward key`.
#[derive(Args, Debug)]
pub(crate) struct KeyArgs {
    #[command(subcommand)]
    command: KeyCommand,
}

#[derive(Subcommand, Debug)]
enum KeyCommand {
    /// Create a new key file (never overwrites one).
    New {
        /// Where to write it.
        file: PathBuf,
        /// Print one JSON object.
        #[arg(long)]
        json: bool,
    },
    /// Print a key file's address and public key.
    Show {
        /// The key file.
        file: PathBuf,
        /// Print one JSON object.
        #[arg(long)]
        json: bool,
    },
}

/// Reads a key file.
pub(crate) fn load(path: &std::path::Path) -> anyhow::Result<SigningKey> {
    let bytes = crate::read_file(path)?;
    let value: serde_json::Value = serde_json::from_slice(&bytes)
        .with_context(|| format!("{} is not a key file (JSON)", path.display()))?;
    let secret = value["secret_key"]
        .as_str()
        .with_context(|| format!("{} has no \"secret_key\"", path.display()))?;
    let key = SigningKey::from_bytes(&parse::bytes32(secret)?);
    if let Some(public) = value["public_key"].as_str()
        && parse::bytes32(public)? != key.verifying_key().to_bytes()
    {
        anyhow::bail!(
            "{}: the public key does not belong to the secret key",
            path.display()
        );
    }
    Ok(key)
}

fn describe(key: &SigningKey, json: bool, secret: bool) -> String {
    let public = key.verifying_key().to_bytes();
    let address = account_address(&public);
    if json {
        let mut object = json!({
            "address": address.to_string(),
            "public_key": parse::hex(&public),
        });
        if secret {
            object["secret_key"] = json!(parse::hex(&key.to_bytes()));
        }
        object.to_string()
    } else {
        format!("address:    {address}\npublic key: {}", parse::hex(&public))
    }
}

pub(crate) fn key(args: KeyArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        KeyCommand::New { file, json } => {
            let mut seed = [0u8; 32];
            std::fs::File::open("/dev/urandom")
                .and_then(|mut f| f.read_exact(&mut seed))
                .context("cannot read /dev/urandom")?;
            let key = SigningKey::from_bytes(&seed);
            let contents = format!("{}\n", describe(&key, true, true));
            write_new(&file, contents.as_bytes())?;
            if json {
                println!("{}", describe(&key, true, false));
            } else {
                println!("{}", describe(&key, false, false));
                println!("written:    {}", file.display());
            }
        }
        KeyCommand::Show { file, json } => {
            println!("{}", describe(&load(&file)?, json, false));
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Creates `path` with mode 0600; an existing file is an error.
fn write_new(path: &std::path::Path, contents: &[u8]) -> anyhow::Result<()> {
    use std::{io::Write, os::unix::fs::OpenOptionsExt};
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    file.write_all(contents)
        .and_then(|()| file.sync_all())
        .with_context(|| format!("cannot write {}", path.display()))
}
