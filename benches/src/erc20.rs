//! `erc20_transfer` and `erc20_transfer_repeat` (feature `revm`): the SDK
//! token's transfer through Ward beside revm running a standard
//! solc-compiled ERC-20 (`contracts/evm/solidity/Token.sol`), in the same
//! run. `evm_erc20_transfer`: that same ERC-20 through Ward's EVM runtime
//! (`contracts/evm`, `docs/evm.md`) beside revm natively.
//!
//! Both sides run blocks of [`ERC20_TXS`] transfers from one holder, with
//! real nonces (Ward checks and advances each in its block; revm checks
//! each transaction's against the account) and state committed in memory
//! after every transaction (revm: its `CacheDB`; Ward: the block's
//! journal, then the block's commit with its state root to a
//! `MemoryStore`). Neither side checks a signature: Ward's transactions
//! are made with `SignedTx::verified_unchecked`. `erc20_transfer` sends
//! each transfer to a new recipient (a fresh storage slot each time);
//! `erc20_transfer_repeat` sends them all to one. Ward runs its blocks
//! through a `Pipeline`, as a node does: block N+1 executes while block
//! N's state root and commit run on the other core, and each iteration
//! waits for the commit before it; `erc20_transfer_serial` is the same
//! blocks one after the other on one thread, beside it in the same run.

use std::hint::black_box;

use revm::{
    ExecuteCommitEvm, ExecuteEvm, MainBuilder, MainContext,
    context::{Context, TxEnv, result::ExecutionResult},
    database::{CacheDB, EmptyDB},
    primitives::{Address as EvmAddress, Bytes, U256},
};
use ward_chain::tx::{Deploy, Payload, SignedTx, TxBody};
use ward_devkeys as devkeys;
use ward_primitives::Address;
use ward_sdk::codec::{call_input, encode};
use ward_vm::BackendKind;

use crate::Work;

/// Transfers per block on either side.
pub const ERC20_TXS: usize = 1_000;

/// The ERC-20's creation code, as solc wrote it (hex).
const TOKEN_BIN: &str = include_str!("../../contracts/evm/solidity/Token.bin");

const CHAIN: &str = "ward-bench";

/// A recipient: the `n`th, or always the same one.
fn recipient(n: u64, repeat: bool) -> [u8; 32] {
    let mut raw = [0u8; 32];
    raw[0] = 0xb0;
    if !repeat {
        raw[24..].copy_from_slice(&n.to_be_bytes());
    }
    raw
}

/// revm with the ERC-20 deployed by a holder: the EVM, the holder and the
/// token's address.
fn revm_token() -> (
    revm::MainnetEvm<revm::handler::MainnetContext<CacheDB<EmptyDB>>>,
    EvmAddress,
    EvmAddress,
) {
    let holder = EvmAddress::from([0xa1; 20]);
    let mut evm = Context::mainnet()
        .with_db(CacheDB::<EmptyDB>::default())
        .build_mainnet();
    let mut code = hex::decode(TOKEN_BIN.trim()).expect("Token.bin is hex");
    code.extend_from_slice(&U256::from(u128::MAX).to_be_bytes::<32>());
    let deployed = evm
        .transact_commit(
            TxEnv::builder()
                .caller(holder)
                .create()
                .data(Bytes::from(code))
                .gas_limit(5_000_000)
                .nonce(0)
                .build_fill(),
        )
        .expect("the ERC-20 deploys");
    let token = match deployed {
        ExecutionResult::Success { output, .. } => output.address().copied(),
        _ => None,
    }
    .expect("the ERC-20 deploy succeeds");
    (evm, holder, token)
}

/// revm: the ERC-20 deployed by one holder, then blocks of transfers
/// from it, each transaction committed.
pub fn revm_transfers(repeat: bool) -> Work {
    let (mut evm, holder, token) = revm_token();
    let mut nonce = 1u64;
    let mut sent = 0u64;
    Box::new(move || {
        for _ in 0..ERC20_TXS {
            // transfer(address,uint256): selector a9059cbb.
            let mut data = Vec::with_capacity(68);
            data.extend_from_slice(&[0xa9, 0x05, 0x9c, 0xbb]);
            let mut to = [0u8; 32];
            to[12..].copy_from_slice(&recipient(sent, repeat)[12..]);
            data.extend_from_slice(&to);
            data.extend_from_slice(&U256::from(1).to_be_bytes::<32>());
            let tx = TxEnv::builder()
                .caller(holder)
                .call(token)
                .data(Bytes::from(data))
                .gas_limit(100_000)
                .nonce(nonce)
                .build_fill();
            let result = evm.transact_commit(tx).expect("a transfer executes");
            assert!(result.is_success(), "{result:?}");
            black_box(result);
            nonce += 1;
            sent += 1;
        }
    })
}

/// Transactions of a dev account, unsigned and taken as verified
/// (`SignedTx::verified_unchecked`).
struct Signer([u8; 32]);

impl Signer {
    /// Dev account `seed`'s.
    fn new(seed: u32) -> Self {
        Signer(devkeys::key(seed).verifying_key().to_bytes())
    }

    fn tx(&self, nonce: u64, gas_limit: u64, payload: Payload) -> ward_chain::tx::VerifiedTx {
        SignedTx {
            body: TxBody {
                chain_id: CHAIN.into(),
                public_key: self.0,
                nonce,
                gas_limit,
                // Free, as in every figure: the fee is a balance read and
                // two writes, measured by none of the baselines.
                gas_price: 0,
                value: 0,
                payload,
            },
            signature: [0; 64],
        }
        .verified_unchecked()
    }
}

/// An executor in memory with a token deployed on it, the token's
/// address, and its holder (who deployed it, with nonce 0).
type Deployed = (
    ward_executor::Executor<ward_state::MemoryStore>,
    Address,
    Signer,
);

/// `exec` after `holder` deploys a token of `code` (of `kind`) with
/// `input`, as block 1.
fn deployed(
    exec: ward_executor::Executor<ward_state::MemoryStore>,
    holder: Signer,
    code: Vec<u8>,
    input: Vec<u8>,
    kind: ward_primitives::CodeKind,
) -> Deployed {
    let deploy = holder.tx(
        0,
        200_000_000,
        Payload::Deploy(Deploy::new(code, input).with_kind(kind)),
    );
    let block = exec
        .execute_signed_block(&[deploy], 1)
        .expect("the token deploys");
    let token = block.receipts[0]
        .address
        .expect("the token deploy succeeds");
    (exec, token, holder)
}

/// The SDK token deployed by a holder. `None` when the token is not
/// built.
fn ward_sdk_token(kind: BackendKind) -> Option<Deployed> {
    let code = crate::sdk_contract("token")?;
    Some(deployed(
        crate::unbounded_executor(kind),
        Signer::new(3_000),
        code,
        encode(&u128::MAX),
        ward_primitives::CodeKind::Ward,
    ))
}

/// How Ward's side commits its blocks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Commit {
    /// Each block executed, rooted and committed before the next starts.
    Serial,
    /// Through a [`ward_executor::Pipeline`]: each block executed while
    /// the one before is rooted and committed on another thread.
    Pipelined,
}

/// Ward: the SDK token deployed by one holder, then blocks of transfers
/// from it with real nonces, each block committed in memory.
pub fn ward_transfers(kind: BackendKind, repeat: bool, commit: Commit) -> Option<Work> {
    Some(transfer_blocks(
        ward_sdk_token(kind)?,
        1_000_000,
        commit,
        move |sent| {
            let to = Address(recipient(sent, repeat));
            call_input("transfer", &(to, 1u128))
        },
    ))
}

/// Blocks of [`ERC20_TXS`] transfers from the holder of a deployed token,
/// with real nonces, each committed: the `n`th transfer's input is
/// `input(n)`, its gas limit `gas`.
fn transfer_blocks(
    (exec, token, holder): Deployed,
    gas: u64,
    commit: Commit,
    input: impl Fn(u64) -> Vec<u8> + 'static,
) -> Work {
    let mut nonce = 1u64;
    let mut sent = 0u64;
    let mut time = 1;
    let exec = std::sync::Arc::new(exec);
    let mut pipeline = (commit == Commit::Pipelined)
        .then(|| ward_executor::Pipeline::new(exec.clone()).expect("a pipeline starts"));
    Box::new(move || {
        let txs: Vec<_> = (0..ERC20_TXS)
            .map(|_| {
                let call = Payload::Call {
                    to: token,
                    input: input(sent),
                };
                let signed = holder.tx(nonce, gas, call);
                nonce += 1;
                sent += 1;
                signed
            })
            .collect();
        time += 1;
        let block = match &mut pipeline {
            None => Some(exec.execute_signed_block(&txs, time).expect("executes")),
            Some(pipeline) => {
                let pushed = pipeline.push(&txs, time);
                pushed.executed.expect("executes");
                pushed.committed.map(|block| block.expect("commits"))
            }
        };
        if let Some(block) = block {
            assert!(block.receipts.iter().all(|r| r.status.is_ok()));
            black_box(block);
        }
    })
}

/// The transfer of one token unit to `to`'s EVM address: selector
/// a9059cbb, the address, the amount.
fn transfer_calldata(to: &[u8; 32]) -> Vec<u8> {
    let mut input = vec![0xa9, 0x05, 0x9c, 0xbb];
    let mut word = [0u8; 32];
    word[12..].copy_from_slice(&to[12..]);
    input.extend_from_slice(&word);
    input.extend_from_slice(&U256::from(1).to_be_bytes::<32>());
    input
}

/// The solc ERC-20 deployed for Ward's EVM runtime by a holder. `None`
/// when the runtime is not built.
fn ward_evm_token(kind: BackendKind) -> Option<Deployed> {
    let runtime = crate::sdk_contract("evm")?;
    let config = ward_vm::Config::default();
    let evm = ward_primitives::RuntimeName::new("evm")?;
    let mut runtimes = ward_executor::Runtimes::new(crate::ward_backend(kind, &config), &config);
    runtimes
        .register(evm, &runtime)
        .expect("the EVM runtime compiles");
    let exec = crate::unbounded_executor(kind).with_runtimes(std::sync::Arc::new(runtimes));
    Some(deployed(
        exec,
        Signer::new(3_001),
        hex::decode(TOKEN_BIN.trim()).expect("Token.bin is hex"),
        [0xffu8; 32].to_vec(),
        ward_primitives::CodeKind::Runtime(evm),
    ))
}

/// Ward's EVM runtime: the same solc ERC-20 deployed for `evm` by one
/// holder, then blocks of transfers from it to new recipients with real
/// nonces, each block committed in memory (its state root included).
/// `None` when the runtime is not built.
pub fn ward_evm_transfers(kind: BackendKind, commit: Commit) -> Option<Work> {
    Some(transfer_blocks(
        ward_evm_token(kind)?,
        5_000_000,
        commit,
        |sent| transfer_calldata(&recipient(sent, false)),
    ))
}

/// Ward's EVM runtime: one transfer to a new recipient executed on the
/// committed state and not committed (`Executor::simulate`), the same
/// every time: execution alone, without a block's commit and state root.
pub fn ward_evm_transfer_uncommitted(kind: BackendKind) -> Option<Work> {
    let (exec, token, holder) = ward_evm_token(kind)?;
    let input = transfer_calldata(&recipient(0, false));
    let signed = holder.tx(1, 5_000_000, Payload::Call { to: token, input });
    Some(Box::new(move || {
        let simulation = exec.simulate(&signed, 2).expect("executes");
        assert!(simulation.receipt.status.is_ok());
        black_box(simulation);
    }))
}

/// Ward: one SDK token transfer to a new recipient executed on the
/// committed state and not committed (`Executor::simulate`), the same
/// every time: execution alone, beside revm's `transact`.
pub fn ward_transfer_uncommitted(kind: BackendKind) -> Option<Work> {
    let (exec, token, holder) = ward_sdk_token(kind)?;
    let input = call_input("transfer", &(Address(recipient(0, false)), 1u128));
    let signed = holder.tx(1, 1_000_000, Payload::Call { to: token, input });
    Some(Box::new(move || {
        let simulation = exec.simulate(&signed, 2).expect("executes");
        assert!(simulation.receipt.status.is_ok());
        black_box(simulation);
    }))
}

/// revm: the same transfer executed and not committed (`transact`), the
/// same every time.
pub fn revm_transfer_uncommitted() -> Work {
    let (mut evm, holder, token) = revm_token();
    let tx = TxEnv::builder()
        .caller(holder)
        .call(token)
        .data(Bytes::from(transfer_calldata(&recipient(0, false))))
        .gas_limit(100_000)
        .nonce(1)
        .build_fill();
    Box::new(move || {
        let result = evm.transact(tx.clone()).expect("a transfer executes");
        assert!(result.result.is_success(), "{result:?}");
        black_box(result);
    })
}

/// `rust_vs_solidity_erc20_gas`: the Ward gas of one transfer of the
/// Rust ERC-20 (`contracts/erc20`, the SDK's Solidity ABI) and of the
/// same transfer of the Solidity token on Ward's EVM runtime, each to a
/// new recipient, on `kind`. `None` when either is not built.
pub fn rust_vs_solidity_gas(kind: BackendKind) -> Option<(f64, f64)> {
    let transfer = |(exec, token, holder): Deployed| {
        let input = transfer_calldata(&recipient(0, false));
        let call = holder.tx(1, 5_000_000, Payload::Call { to: token, input });
        let block = exec.execute_signed_block(&[call], 2).expect("executes");
        let receipt = &block.receipts[0];
        assert!(receipt.status.is_ok(), "{receipt:?}");
        receipt.gas_used as f64
    };
    let rust = deployed(
        crate::unbounded_executor(kind),
        Signer::new(3_002),
        crate::sdk_contract("erc20")?,
        U256::MAX.to_be_bytes::<32>().to_vec(),
        ward_primitives::CodeKind::Ward,
    );
    Some((transfer(rust), transfer(ward_evm_token(kind)?)))
}
