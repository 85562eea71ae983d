//! `ward upgrade` and `ward set-admin`: what a contract's admin may do
//! (`docs/contracts.md`, "Upgrades").

use std::{path::PathBuf, process::ExitCode};

use anyhow::Context;
use clap::Args;
use ward_chain::tx::{AdminAction, Payload};
use ward_executor::Tx;
use ward_primitives::Address;
use ward_text::{parse, values};

use crate::chain::{
    DEFAULT_CALL_GAS, DEFAULT_DEPLOY_GAS, estimate_local, gas_choice, raw_input, submit, with_gas,
};
use crate::common::{Access, Common, Payment, Sender, address, open};

/// Arguments of `ward upgrade`.
#[derive(Args, Debug)]
pub(crate) struct UpgradeArgs {
    /// The contract's address, as hex.
    address: String,
    /// The new module: `.wasm` or `.wat`.
    file: PathBuf,
    /// An argument of the new code's `migrate`, as TYPE:VALUE
    /// (repeatable; the types of `ward call --arg`).
    #[arg(long = "arg", value_name = "TYPE:VALUE", conflicts_with = "input")]
    arg: Vec<String>,
    /// `migrate`'s whole input, as hex.
    #[arg(long, default_value = "0x")]
    input: String,
    /// Gas limit (default 100000000: the new code pays for its bytes as a
    /// deploy does, then `migrate` runs), or `auto`.
    #[arg(long, value_parser = parse::gas_or_auto)]
    gas: Option<parse::GasArg>,
    #[command(flatten)]
    from: Sender,
    #[command(flatten)]
    common: Common,
}

/// Arguments of `ward set-admin`.
#[derive(Args, Debug)]
pub(crate) struct SetAdminArgs {
    /// The contract's address, as hex.
    address: String,
    /// The new admin's address, or `none` to drop the admin (the contract
    /// is immutable from then on).
    admin: String,
    /// Gas limit (default 10000000), or `auto`.
    #[arg(long, value_parser = parse::gas_or_auto)]
    gas: Option<parse::GasArg>,
    #[command(flatten)]
    from: Sender,
    #[command(flatten)]
    common: Common,
}

pub(crate) fn upgrade(args: UpgradeArgs) -> anyhow::Result<ExitCode> {
    let contract = address(&args.address)?;
    let bytes = crate::read_file(&args.file)?;
    let code = crate::module_bytes(&args.file, &bytes)
        .map_err(|failure| anyhow::anyhow!("{}: {}", args.file.display(), failure.message))?
        .into_owned();
    let input = if args.arg.is_empty() {
        raw_input(&args.input, None)?
    } else {
        values::args_input(&args.arg)?
    };
    let action = AdminAction::Upgrade { code, input };
    let gas = gas_choice(args.gas, DEFAULT_DEPLOY_GAS);
    send(contract, action, gas, &args.from, &args.common)
}

pub(crate) fn set_admin(args: SetAdminArgs) -> anyhow::Result<ExitCode> {
    let contract = address(&args.address)?;
    let admin = match args.admin.as_str() {
        "none" => None,
        text => Some(address(text).context("the new admin: an address, or `none`")?),
    };
    let gas = gas_choice(args.gas, DEFAULT_CALL_GAS);
    send(
        contract,
        AdminAction::SetAdmin(admin),
        gas,
        &args.from,
        &args.common,
    )
}

/// Sends the admin transaction to the node, or runs it in a block of its
/// own in the data directory.
fn send(
    contract: Address,
    action: AdminAction,
    gas: Option<u64>,
    from: &Sender,
    common: &Common,
) -> anyhow::Result<ExitCode> {
    if let Some(url) = &common.node {
        let payload = Payload::Admin { contract, action };
        let signer = from.signer()?;
        let payment = Payment::default();
        return crate::remote::submit(url, (payload, gas, &payment), signer, common, (None, None))
            .map(|(code, _)| code);
    }
    let tx = Tx {
        sender: from.local()?,
        gas_limit: gas.unwrap_or(0),
        value: 0,
        payload: Payload::Admin { contract, action },
    };
    let exec = open(common, Access::Write)?;
    let tx = match gas {
        Some(_) => tx,
        None => {
            let gas = estimate_local(&exec, &tx)?;
            with_gas(tx, gas)
        }
    };
    submit(&exec, tx, common, (None, None)).map(|(code, _)| code)
}
