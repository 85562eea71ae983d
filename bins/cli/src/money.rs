//! The native asset on the command line (`docs/economics.md`): `ward
//! genesis` writes a chain's genesis, `ward balance` reads a balance (with
//! its proof, from a node), `ward transfer` moves value.

use std::{io::Write, path::PathBuf, process::ExitCode};

use anyhow::{Context, bail};
use clap::Args;
use serde_json::json;
use ward_chain::tx::Payload;
use ward_devkeys as devkeys;
use ward_executor::Tx;
use ward_node::genesis::{Amount as GenesisAmount, Asset, Genesis};
use ward_state::StateRead;
use ward_text::parse::{self, Amount, whole_units};

use ward_rpc::client::Client;

use crate::chain;
use crate::common::{self, Access, Common, Payment};

/// `ward genesis FILE`.
#[derive(Args, Debug)]
pub(crate) struct GenesisArgs {
    /// Where to write the genesis (refused if it exists).
    file: PathBuf,
    /// The chain id.
    #[arg(long, default_value = "ward-main")]
    chain_id: String,
    /// An account to fund, as ADDRESS=AMOUNT in the smallest unit
    /// (repeatable). Without any, dev account 0 is funded, whose key is
    /// public: replace it before a chain holds anything of value.
    #[arg(long, value_name = "ADDRESS=AMOUNT")]
    fund: Vec<String>,
    /// The lowest gas price a transaction may name.
    #[arg(long, default_value = "1", value_parser = parse::amount_arg)]
    min_gas_price: u128,
    /// Who receives fees (default: they are burned).
    #[arg(long, value_name = "ADDRESS")]
    fee_collector: Option<String>,
    /// The numeric chain id Ethereum transactions are signed for
    /// (default: the chain takes none; `docs/ethereum.md`).
    #[arg(long, value_name = "N")]
    eth_chain_id: Option<u64>,
    /// The asset's name.
    #[arg(long, default_value = "WARD")]
    asset: String,
    /// The asset's decimals.
    #[arg(long, default_value_t = 18)]
    decimals: u8,
}

pub(crate) fn genesis(args: GenesisArgs) -> anyhow::Result<ExitCode> {
    let mut genesis = Genesis {
        chain_id: args.chain_id,
        asset: Asset {
            name: args.asset,
            decimals: args.decimals,
        },
        min_gas_price: GenesisAmount(args.min_gas_price),
        fee_collector: args
            .fee_collector
            .map(|a| common::address(&a).map(|a| a.to_string()))
            .transpose()?,
        eth_chain_id: args.eth_chain_id,
        balances: Default::default(),
        limits: Default::default(),
    };
    if args.fund.is_empty() {
        let dev = devkeys::address(0);
        genesis.balances.insert(
            dev.to_string(),
            GenesisAmount(ward_node::genesis::DEV_BALANCE),
        );
        eprintln!(
            "note: funded dev account 0 ({dev}), whose key anyone can derive: pass --fund ADDRESS=AMOUNT for a real chain"
        );
    }
    for fund in &args.fund {
        let (address, amount) = fund
            .split_once('=')
            .with_context(|| format!("--fund {fund:?}: expected ADDRESS=AMOUNT"))?;
        let address = common::address(address)?;
        let amount = parse::amount_arg(amount)?;
        genesis
            .balances
            .insert(address.to_string(), GenesisAmount(amount));
    }
    genesis.check().map_err(|e| anyhow::anyhow!("{e}"))?;
    let json = serde_json::to_string_pretty(&genesis)? + "\n";
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&args.file)
        .with_context(|| format!("cannot create {}", crate::path_hint(&args.file)))?;
    file.write_all(json.as_bytes())?;
    println!(
        "wrote {} (chain {}): start a node with `ward serve --genesis {}`",
        args.file.display(),
        genesis.chain_id,
        args.file.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// `ward balance ADDR`.
#[derive(Args, Debug)]
pub(crate) struct BalanceArgs {
    /// The account's or contract's address.
    address: String,
    /// The balance after this block (default: the latest; with --node).
    #[arg(long, value_parser = parse::u64_arg)]
    height: Option<u64>,
    #[command(flatten)]
    common: Common,
}

/// `amount` both ways: `1500000 (1.5 WARD)`.
pub(crate) fn shown(amount: u128, asset: &str, decimals: u8) -> String {
    format!("{amount} ({} {asset})", whole_units(amount, decimals))
}

pub(crate) fn balance(args: BalanceArgs) -> anyhow::Result<ExitCode> {
    let address = common::address(&args.address)?;
    let (object, asset, decimals) = match &args.common.node {
        Some(url) => {
            let client = Client::new(url)?;
            let asked = ward_rpc::params::GetBalance {
                address,
                height: args.height,
            };
            let answer = client.call::<ward_rpc::methods::GetBalance>(&asked)?;
            let (asset, decimals) = (answer.value.asset.clone(), answer.value.decimals);
            (serde_json::to_value(answer)?, asset, decimals)
        }
        None => {
            if args.height.is_some() {
                bail!("--height needs --node: a data directory answers for its latest state");
            }
            let exec = common::open(&args.common, Access::Read)?;
            let balance = exec.store().balance(&address)?;
            let asset = Asset::default();
            let object = json!({ "address": address.to_string(), "balance": balance.to_string() });
            (object, asset.name, asset.decimals)
        }
    };
    let balance: u128 = object["balance"]
        .as_str()
        .and_then(|b| b.parse().ok())
        .context("the balance is not a decimal string")?;
    let mut out = std::io::stdout().lock();
    if args.common.json {
        let mut object = object;
        object["whole"] = json!(whole_units(balance, decimals));
        writeln!(out, "{object}")?;
    } else {
        writeln!(out, "balance:   {}", shown(balance, &asset, decimals))?;
        if let Some(height) = object["height"].as_u64() {
            writeln!(out, "height:    {height}")?;
            writeln!(
                out,
                "root:      {}",
                object["state_root"].as_str().unwrap_or("")
            )?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `ward transfer TO AMOUNT`.
#[derive(Args, Debug)]
pub(crate) struct TransferArgs {
    /// Who receives it: an account (or a contract, whose `main` runs with
    /// no input).
    to: String,
    /// How much: an integer in the smallest unit, or whole units with a
    /// point (`1.5`).
    #[arg(value_parser = parse::amount)]
    amount: Amount,
    /// Gas limit (default 100000).
    #[arg(long, value_parser = parse::gas_arg)]
    gas: Option<u64>,
    /// The gas price (default: the node's minimum); needs --node.
    #[arg(long, value_parser = parse::amount_arg, value_name = "PRICE")]
    gas_price: Option<u128>,
    #[command(flatten)]
    from: common::Sender,
    #[command(flatten)]
    common: Common,
}

/// `ward transfer`'s gas limit when `--gas` is not given: a plain
/// transfer pays its intrinsic cost only.
pub(crate) const DEFAULT_TRANSFER_GAS: u64 = 100_000;

pub(crate) fn transfer(args: TransferArgs) -> anyhow::Result<ExitCode> {
    let gas = crate::gas_or_default(args.gas, DEFAULT_TRANSFER_GAS);
    let to = common::address(&args.to)?;
    let payment = Payment {
        value: Some(args.amount),
        gas_price: args.gas_price,
    };
    if let Some(url) = &args.common.node {
        let payload = Payload::Call {
            to,
            input: Vec::new(),
        };
        let signer = args.from.signer()?;
        return crate::remote::submit(
            url,
            (payload, Some(gas), &payment),
            signer,
            &args.common,
            (None, None),
        )
        .map(|(code, _)| code);
    }
    let sender = args.from.local()?;
    let exec = common::open(&args.common, Access::Write)?;
    let tx = Tx {
        sender,
        gas_limit: gas,
        value: payment.local_value()?,
        payload: Payload::Call {
            to,
            input: Vec::new(),
        },
    };
    chain::submit(&exec, tx, &args.common, (None, None)).map(|(code, _)| code)
}
