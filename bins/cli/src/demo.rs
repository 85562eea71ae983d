//! `ward demo`: Ward's main job on its embedded defaults.
//!
//! Starting from an empty data directory (redb), it deploys the SDK-built
//! `token` and `escrow` contracts, runs one block of transfers, an escrow
//! deposit and release, a transfer that reverts and a deposit the token
//! refuses (which the escrow handles), prints every receipt with its gas,
//! queries balances read-only; then, on the native asset the demo's
//! genesis gives alice, bob and carol, deploys the `vault` and holds a
//! payable deposit until the arbiter releases it; then closes the store,
//! re-opens the directory and shows that the state survived.

use std::{path::PathBuf, process::ExitCode};

use anyhow::{Context, bail};
use clap::Args;
use ward_executor::{Deploy, Executor, Payload, Tx};
use ward_sdk::codec::{Decode, Encode, call_input, decode_exact, encode};
use ward_state::{Address, Receipt, RedbStore, StateRead, Status};
use ward_vm::BackendKind;

/// `ward demo`.
#[derive(Args, Debug)]
pub(crate) struct DemoArgs {
    /// The data directory: must not exist yet, or be empty.
    #[arg(long, default_value = "./.ward-demo")]
    data_dir: PathBuf,
    /// Where the built contracts are (`make contracts`).
    #[arg(
        long,
        default_value = "target/contracts/wasm32-unknown-unknown/release"
    )]
    contracts: PathBuf,
    /// The engine.
    #[arg(long, default_value = "wasmtime")]
    backend: BackendKind,
}

const ALICE: Address = Address([0xa1; 32]);
const BOB: Address = Address([0xb0; 32]);
const CAROL: Address = Address([0xca; 32]);
const GAS: u64 = 10_000_000;
/// Deploys pay 1,000 gas a byte first (docs/gas.md).
const DEPLOY_GAS: u64 = 100_000_000;
const TIME: u64 = 1_700_000_000;

fn name(who: &Address) -> String {
    match *who {
        ALICE => "alice".into(),
        BOB => "bob".into(),
        CAROL => "carol".into(),
        other => other.to_string()[..10].to_string() + "…",
    }
}

fn open(args: &DemoArgs) -> anyhow::Result<Executor<RedbStore>> {
    crate::common::open_executor(&args.data_dir, args.backend, crate::common::Access::Create)
}

fn call(sender: Address, to: Address, method: &str, args: &impl Encode) -> Tx {
    Tx {
        sender,
        gas_limit: GAS,
        value: 0,
        payload: Payload::Call {
            to,
            input: call_input(method, args),
        },
    }
}

fn query<T: Decode>(
    exec: &Executor<RedbStore>,
    to: Address,
    method: &str,
    args: &impl Encode,
) -> anyhow::Result<T> {
    let receipt = exec.query(ALICE, to, call_input(method, args), GAS)?;
    if !receipt.status.is_ok() {
        bail!("query {method} ended {}", receipt.status);
    }
    decode_exact(&receipt.output).map_err(|e| anyhow::anyhow!("query {method}: {e}"))
}

fn print_receipt(label: &str, receipt: &Receipt) {
    let mut line = format!(
        "  {label:<44} {:<10} gas {:>8}",
        receipt.status, receipt.gas_used
    );
    if receipt.status == Status::Reverted {
        line += &format!("  \"{}\"", String::from_utf8_lossy(&receipt.output));
    } else if let Some(kind) = &receipt.error_kind {
        line += &format!("  {kind}");
    }
    let topics: Vec<String> = receipt
        .events
        .iter()
        .map(|e| String::from_utf8_lossy(&e.topic).into_owned())
        .collect();
    if !topics.is_empty() {
        line += &format!("  events: {}", topics.join(", "));
    }
    println!("{line}");
}

/// Token balances of everyone in the demo, read-only.
fn balances(
    exec: &Executor<RedbStore>,
    token: Address,
    escrow: Address,
) -> anyhow::Result<Vec<(String, u128)>> {
    let mut out = Vec::new();
    for who in [ALICE, BOB, CAROL, escrow] {
        let label = if who == escrow {
            "escrow".into()
        } else {
            name(&who)
        };
        out.push((label, query(exec, token, "balance_of", &who)?));
    }
    out.push((
        "total supply".into(),
        query(exec, token, "total_supply", &())?,
    ));
    Ok(out)
}

pub(crate) fn demo(args: DemoArgs) -> anyhow::Result<ExitCode> {
    if args.data_dir.exists() && args.data_dir.read_dir()?.next().is_some() {
        bail!(
            "{} is not empty: the demo starts from an empty data directory",
            args.data_dir.display()
        );
    }
    let read = |name: &str| {
        let path = args.contracts.join(format!("{name}.wasm"));
        std::fs::read(&path).with_context(|| {
            format!(
                "cannot read {} (build the contracts: make contracts)",
                path.display()
            )
        })
    };
    let (token_code, escrow_code) = (read("token")?, read("escrow")?);
    let vault_code = read("vault")?;
    println!(
        "Ward demo on {} in {}: alice = 0xa1…, bob = 0xb0…, carol = 0xca… (the arbiter)",
        args.backend,
        args.data_dir.display()
    );
    println!(
        "contracts: token.wasm {} bytes, escrow.wasm {} bytes",
        token_code.len(),
        escrow_code.len()
    );
    let exec = open(&args)?;
    // The chain's starting native balances (`docs/economics.md`).
    let funded = [ALICE, BOB, CAROL]
        .map(|who| (who, FUNDS))
        .into_iter()
        .collect();
    exec.genesis(&funded)?;
    let (token, escrow) = deploy(&exec, token_code, escrow_code)?;
    trade(&exec, token, escrow)?;
    let mut before = queries(&exec, token, escrow)?;
    before.extend(vault(&exec, vault_code)?);
    let height = exec.store().height()?;
    drop(exec);
    reopen(&args, token, escrow, &before, height)?;
    Ok(ExitCode::SUCCESS)
}

/// What the genesis gives alice, bob and carol: 10 whole units of an
/// 18-decimal asset.
const FUNDS: u128 = 10 * ONE;
/// One whole unit.
const ONE: u128 = 1_000_000_000_000_000_000;

/// Everyone's native balance (and the vault's), labelled.
fn native(exec: &Executor<RedbStore>) -> anyhow::Result<Vec<(String, u128)>> {
    let mut out = Vec::new();
    for who in [ALICE, BOB, CAROL] {
        out.push((
            format!("{} (native)", name(&who)),
            exec.store().balance(&who)?,
        ));
    }
    Ok(out)
}

/// Block 3: the native asset. Alice deploys the vault and deposits 2.5
/// units for bob with carol as the arbiter; value sent to a method that is
/// not payable is refused; carol releases the deal.
fn vault(exec: &Executor<RedbStore>, code: Vec<u8>) -> anyhow::Result<Vec<(String, u128)>> {
    println!(
        "
== block 3: the native asset: a vault holds alice's 2.5 for bob until carol releases it =="
    );
    let vault = ward_executor::contract_address(
        &ALICE,
        &ward_state::Hash32(ward_vm::CodeHash::of(&code).0),
        b"vault",
    );
    let pay = |sender: Address, input: Vec<u8>, value: u128| Tx {
        sender,
        gas_limit: GAS,
        value,
        payload: Payload::Call { to: vault, input },
    };
    let block: Vec<(String, Tx)> = vec![
        (
            "alice: deploy the vault".into(),
            Tx {
                sender: ALICE,
                gas_limit: DEPLOY_GAS,
                value: 0,
                payload: Payload::Deploy(
                    Deploy::new(code, encode(&())).with_salt(b"vault".to_vec()),
                ),
            },
        ),
        (
            "alice: vault.deposit 2.5 for bob (payable)".into(),
            pay(ALICE, call_input("deposit", &(BOB, CAROL)), ONE * 5 / 2),
        ),
        (
            "bob: vault.release with 1 unit (not payable)".into(),
            pay(BOB, call_input("release", &0u64), ONE),
        ),
        (
            "carol: vault.release deal 0".into(),
            pay(CAROL, call_input("release", &0u64), 0),
        ),
    ];
    let txs: Vec<Tx> = block.iter().map(|(_, tx)| tx.clone()).collect();
    let height = exec.store().height()?;
    let receipts = exec.execute_block(&txs, TIME + 5 * (height + 1))?;
    for ((label, _), receipt) in block.iter().zip(&receipts) {
        print_receipt(label, receipt);
    }
    let balances = native(exec)?;
    for (who, amount) in &balances {
        println!(
            "  {who:<16} {amount} ({} WARD)",
            ward_text::parse::whole_units(*amount, 18)
        );
    }
    println!("  vault holds     {}", exec.store().balance(&vault)?);
    Ok(balances)
}

/// Block 1: alice deploys the token and the escrow.
fn deploy(
    exec: &Executor<RedbStore>,
    token_code: Vec<u8>,
    escrow_code: Vec<u8>,
) -> anyhow::Result<(Address, Address)> {
    println!("\n== block 1: alice deploys the token (1,000,000 minted to her) and the escrow ==");
    let deploys = [
        Tx {
            sender: ALICE,
            gas_limit: DEPLOY_GAS,
            value: 0,
            payload: Payload::Deploy(
                Deploy::new(token_code, encode(&1_000_000u128)).with_salt(b"token".to_vec()),
            ),
        },
        Tx {
            sender: ALICE,
            gas_limit: DEPLOY_GAS,
            value: 0,
            payload: Payload::Deploy(
                Deploy::new(escrow_code, Vec::new()).with_salt(b"escrow".to_vec()),
            ),
        },
    ];
    let receipts = exec.execute_block(&deploys, TIME)?;
    for (label, receipt) in ["deploy token", "deploy escrow"].iter().zip(&receipts) {
        print_receipt(label, receipt);
    }
    let (Some(token), Some(escrow)) = (receipts[0].address, receipts[1].address) else {
        bail!("a deploy failed");
    };
    Ok((token, escrow))
}

/// Block 2: transfers, an escrow deposit and release, and transactions
/// that fail in the ways a chain sees every day.
fn trade(exec: &Executor<RedbStore>, token: Address, escrow: Address) -> anyhow::Result<()> {
    println!("\n== block 2: transfers, an escrow deposit and release, a failing transfer ==");
    let refund_after = TIME + 3600;
    let block: Vec<(String, Tx)> = vec![
        (
            "alice -> bob: transfer 1000".into(),
            call(ALICE, token, "transfer", &(BOB, 1_000u128)),
        ),
        (
            "alice -> carol: transfer 500".into(),
            call(ALICE, token, "transfer", &(CAROL, 500u128)),
        ),
        (
            "alice: approve escrow for 2000".into(),
            call(ALICE, token, "approve", &(escrow, 2_000u128)),
        ),
        (
            "alice: escrow.deposit 1500 for bob".into(),
            call(
                ALICE,
                escrow,
                "deposit",
                &(token, BOB, CAROL, 1_500u128, refund_after),
            ),
        ),
        (
            "carol: escrow.release deal 0".into(),
            call(CAROL, escrow, "release", &0u64),
        ),
        (
            "bob -> carol: transfer 10000 (too much)".into(),
            call(BOB, token, "transfer", &(CAROL, 10_000u128)),
        ),
        (
            "bob: escrow.deposit 50 (no allowance)".into(),
            call(
                BOB,
                escrow,
                "deposit",
                &(token, CAROL, CAROL, 50u128, refund_after),
            ),
        ),
        (
            "alice -> bob: transfer 1 with 10,000 gas".into(),
            Tx::call(ALICE, token, call_input("transfer", &(BOB, 1u128)), 10_000),
        ),
    ];
    let txs: Vec<Tx> = block.iter().map(|(_, tx)| tx.clone()).collect();
    let receipts = exec.execute_block(&txs, TIME + 5)?;
    for ((label, _), receipt) in block.iter().zip(&receipts) {
        print_receipt(label, receipt);
    }
    let total: u64 = receipts.iter().map(|r| r.gas_used).sum();
    println!("  {} transactions, {total} gas in all", receipts.len());
    Ok(())
}

/// Read-only queries: everyone's balance and the escrow's deal.
fn queries(
    exec: &Executor<RedbStore>,
    token: Address,
    escrow: Address,
) -> anyhow::Result<Vec<(String, u128)>> {
    println!("\n== read-only queries ==");
    let before = balances(exec, token, escrow)?;
    for (who, amount) in &before {
        println!("  {who:<13} {amount}");
    }
    let deal: Option<(Address, Address, Address, Address, u128, u64)> =
        query(exec, escrow, "deal", &0u64)?;
    println!(
        "  escrow deal 0: {}",
        if deal.is_some() {
            "held"
        } else {
            "released (gone)"
        }
    );
    Ok(before)
}

/// Re-opens the closed store and checks that height and balances survived.
fn reopen(
    args: &DemoArgs,
    token: Address,
    escrow: Address,
    before: &[(String, u128)],
    height: u64,
) -> anyhow::Result<()> {
    println!(
        "\n== closed the store; re-opened {} ==",
        args.data_dir.display()
    );
    let exec = open(args)?;
    let mut after = balances(&exec, token, escrow)?;
    after.extend(native(&exec)?);
    println!(
        "  height {} (was {height}); balances {}",
        exec.store().height()?,
        if after == before {
            "identical"
        } else {
            "DIFFERENT"
        }
    );
    println!("\ntoken contract:  {token}");
    println!("escrow contract: {escrow}");
    if after != before || exec.store().height()? != height {
        bail!("the state did not survive re-opening");
    }
    Ok(())
}
