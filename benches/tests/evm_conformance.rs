//! The EVM runtime's conformance with revm run natively (`docs/evm.md`):
//! the same transactions on the same solc-compiled contracts, through
//! Ward's `evm` runtime on both backends and through revm's own handler,
//! must give the same EVM gas (spent, before refunds, beyond the
//! transaction's intrinsic cost), status, return data, logs and storage.
//!
//! Contracts sit at the same 20-byte addresses on both sides: each one
//! revm deploys is moved (code and storage) to the address Ward gave it,
//! which none of these constructors reads.

#![allow(clippy::unwrap_used, reason = "test")]
#![cfg(feature = "revm-native")]

use std::sync::Arc;

use revm::{
    ExecuteCommitEvm, MainBuilder, MainContext,
    context::{Context, TxEnv, result::ExecutionResult},
    context_interface::cfg::gas::calculate_initial_tx_gas,
    database::{CacheDB, EmptyDB},
    primitives::{Address as EvmAddress, Bytes, hardfork::SpecId},
    state::AccountInfo,
};
use ward_executor::{ChainLimits, Deploy, Executor, Payload, Runtimes, Tx};
use ward_primitives::{Address, CodeKind, RuntimeName};
use ward_state::{MemoryStore, StateRead};
use ward_testkit::evm::{
    GAS_RATE, address_word, calldata, capped_caller, creation, precompile_call, precompile_inputs,
    word, word_at,
};
use ward_vm::{BackendKind, Config};

const SPEC: SpecId = SpecId::PRAGUE;

/// The Ward gas limit of a transaction running a surcharged precompile:
/// the most expensive here (a modexp of 256-byte numbers, 699 000 EVM gas
/// at 3 264 Ward gas each) costs 2.3 G.
const SURCHARGED_GAS: u64 = 3_000_000_000;

const ALICE: Address = Address([0xa1; 32]);
const BOB: Address = Address([0xb0; 32]);
const CAROL: Address = Address([0xca; 32]);

fn evm20(ward: &Address) -> EvmAddress {
    EvmAddress::from_slice(&ward.0[12..])
}

/// A contract's slots (key, value; 32 bytes each, sorted) and its nonce.
type Account = (Vec<(Vec<u8>, Vec<u8>)>, u64);

/// What one transaction did, as the EVM sees it.
#[derive(Debug, PartialEq, Eq)]
struct Seen {
    status: &'static str,
    gas: u64,
    output: Vec<u8>,
    /// (contract, topics concatenated, data)
    logs: Vec<(Vec<u8>, Vec<u8>, Vec<u8>)>,
}

struct Native {
    evm: revm::MainnetEvm<revm::handler::MainnetContext<CacheDB<EmptyDB>>>,
    nonces: std::collections::BTreeMap<EvmAddress, u64>,
    /// The value the next transactions send.
    value: u128,
}

impl Native {
    fn new() -> Native {
        let evm = Context::mainnet()
            .modify_cfg_chained(|cfg| cfg.spec = SPEC)
            // Room for Ward's largest transactions (`SURCHARGED_GAS`).
            .modify_block_chained(|block| block.gas_limit = u64::MAX)
            .with_db(CacheDB::<EmptyDB>::default())
            .build_mainnet();
        Native {
            evm,
            nonces: Default::default(),
            value: 0,
        }
    }

    /// Gives `who` a balance of `amount` (before it sends anything).
    fn fund(&mut self, who: &Address, amount: u128) {
        let db = &mut self.evm.ctx.journaled_state.database;
        db.insert_account_info(
            evm20(who),
            AccountInfo {
                balance: revm::primitives::U256::from(amount),
                ..AccountInfo::default()
            },
        );
    }

    /// `who`'s balance.
    fn balance(&self, who: EvmAddress) -> u128 {
        let accounts = &self.evm.ctx.journaled_state.database.cache.accounts;
        accounts
            .get(&who)
            .map_or(0, |a| u128::try_from(a.info.balance).unwrap())
    }

    fn run(
        &mut self,
        sender: &Address,
        to: Option<EvmAddress>,
        (data, limit): (Vec<u8>, u64),
    ) -> (Seen, Option<EvmAddress>) {
        let caller = evm20(sender);
        let nonce = self.nonces.entry(caller).or_default();
        // The same gas for execution as Ward's side had (what a call
        // forwards, 63/64 of what is left, depends on it).
        let intrinsic = calculate_initial_tx_gas(SPEC, &data, to.is_none(), 0, 0, 0, None);
        let builder = TxEnv::builder()
            .caller(caller)
            .data(Bytes::from(data.clone()))
            .gas_limit(intrinsic.initial_regular_gas + limit)
            .value(revm::primitives::U256::from(self.value))
            .nonce(*nonce);
        let tx = match to {
            Some(to) => builder.call(to),
            None => builder.create(),
        }
        .build_fill();
        *nonce += 1;
        let result = self.evm.transact_commit(tx).unwrap();
        let logs = |logs: &[revm::primitives::Log]| {
            logs.iter()
                .map(|l| {
                    let topics: Vec<u8> = l.data.topics().iter().flat_map(|t| t.0).collect();
                    (l.address.to_vec(), topics, l.data.data.to_vec())
                })
                .collect::<Vec<_>>()
        };
        let spent = |total: u64| total - intrinsic.initial_regular_gas;
        match result {
            ExecutionResult::Success {
                gas,
                logs: l,
                output,
                ..
            } => {
                let created = output.address().copied();
                let seen = Seen {
                    status: "ok",
                    gas: spent(gas.total_gas_spent()),
                    output: output.data().to_vec(),
                    logs: logs(&l),
                };
                // A creation's output is the code, which Ward returns.
                let seen = match created {
                    Some(address) => {
                        let code = self.evm.ctx.journaled_state.database.cache.accounts[&address]
                            .info
                            .code
                            .clone()
                            .unwrap()
                            .original_bytes()
                            .to_vec();
                        Seen {
                            output: code,
                            ..seen
                        }
                    }
                    None => seen,
                };
                (seen, created)
            }
            ExecutionResult::Revert { gas, output, .. } => (
                Seen {
                    status: "reverted",
                    gas: spent(gas.total_gas_spent()),
                    output: output.to_vec(),
                    logs: Vec::new(),
                },
                None,
            ),
            ExecutionResult::Halt { gas, .. } => (
                Seen {
                    status: "halted",
                    gas: spent(gas.total_gas_spent()),
                    output: Vec::new(),
                    logs: Vec::new(),
                },
                None,
            ),
        }
    }

    /// Moves the contract revm created at `from` to `to`.
    fn relocate(&mut self, from: EvmAddress, to: EvmAddress) {
        let db = &mut self.evm.ctx.journaled_state.database;
        let account = db.cache.accounts[&from].clone();
        let code = db.cache.contracts[&account.info.code_hash].clone();
        db.insert_account_info(
            to,
            AccountInfo {
                code: Some(code),
                ..account.info.clone()
            },
        );
        for (slot, value) in &account.storage {
            db.insert_account_storage(to, *slot, *value).unwrap();
        }
    }

    fn storage(&self, address: EvmAddress) -> Account {
        let account = &self.evm.ctx.journaled_state.database.cache.accounts[&address];
        let mut entries: Vec<_> = account
            .storage
            .iter()
            .filter(|(_, v)| !v.is_zero())
            .map(|(k, v)| {
                (
                    k.to_be_bytes::<32>().to_vec(),
                    v.to_be_bytes::<32>().to_vec(),
                )
            })
            .collect();
        entries.sort();
        (entries, account.info.nonce)
    }
}

struct Ward {
    exec: Executor<MemoryStore>,
    /// The value the next transactions send.
    value: u128,
    salt: u64,
    /// Whether a precompile that pays a surcharge may run.
    surcharged: bool,
}

impl Ward {
    fn new(kind: BackendKind) -> Ward {
        let config = Config::default();
        let backend = ward_testkit::backend(kind, &config);
        let mut runtimes = Runtimes::new(backend.clone(), &config);
        runtimes
            .register(
                RuntimeName::new("evm").unwrap(),
                &ward_testkit::evm::runtime(),
            )
            .unwrap();
        let limits = ChainLimits {
            max_tx_gas: SURCHARGED_GAS,
            max_block_gas: SURCHARGED_GAS,
            ..ChainLimits::default()
        };
        let exec = Executor::new(Arc::new(MemoryStore::default()), backend, &config)
            .with_runtimes(Arc::new(runtimes))
            .with_limits(limits);
        Ward {
            exec,
            value: 0,
            salt: 0,
            surcharged: false,
        }
    }

    fn run(
        &mut self,
        sender: &Address,
        to: Option<Address>,
        data: Vec<u8>,
    ) -> (Seen, Option<Address>, u64) {
        self.salt += 1;
        let gas_limit = if self.surcharged {
            SURCHARGED_GAS
        } else {
            200_000_000
        };
        let tx = match to {
            Some(to) => Tx {
                sender: *sender,
                gas_limit,
                value: self.value,
                payload: Payload::Call { to, input: data },
            },
            None => Tx {
                sender: *sender,
                gas_limit,
                value: self.value,
                payload: Payload::Deploy(
                    Deploy::new(data, Vec::new())
                        .with_salt(self.salt.to_le_bytes().to_vec())
                        .with_kind(CodeKind::Runtime(RuntimeName::new("evm").unwrap())),
                ),
            },
        };
        let intrinsic = self.exec.admit(&tx).unwrap();
        let limit = (tx.gas_limit() - intrinsic) / GAS_RATE;
        let receipt = self.exec.execute_block(&[tx], 1).unwrap().remove(0);
        // The receipt's EVM gas; Ward's is the rate times it, and more
        // only for a surcharged precompile's work (never here but in
        // `precompiles`).
        let gas = receipt.runtime_gas.unwrap();
        let ward_gas = receipt.gas_used - intrinsic;
        assert!(ward_gas >= GAS_RATE * gas, "{receipt:?}");
        if !self.surcharged {
            assert_eq!(ward_gas, GAS_RATE * gas, "{receipt:?}");
        }
        let status = match (receipt.status.as_str(), receipt.exit_code) {
            ("ok", _) => "ok",
            ("reverted", 1) => "reverted",
            _ => "halted",
        };
        let seen = Seen {
            status,
            gas,
            output: receipt.output.clone(),
            logs: receipt
                .events
                .iter()
                .map(|e| (e.contract.0[12..].to_vec(), e.topic.clone(), e.data.clone()))
                .collect(),
        };
        (seen, receipt.address, limit)
    }

    /// The contract's slots (32-byte keys) and its nonce (the runtime
    /// keeps it under `nonce`, absent until it first creates: 1).
    fn storage(&self, address: &Address) -> Account {
        let mut entries = self.exec.store().storage_entries(address).unwrap();
        let nonce = entries
            .iter()
            .find(|(k, _)| k == b"nonce")
            .map_or(1, |(_, v)| {
                u64::from_le_bytes(v.clone().try_into().unwrap())
            });
        entries.retain(|(k, _)| k.len() == 32);
        entries.sort();
        (entries, nonce)
    }
}

/// Deploys `code` on both sides; the Ward address (the native contract
/// moved there).
fn deploy(native: &mut Native, ward: &mut Ward, code: Vec<u8>) -> Address {
    let (seen_ward, address, limit) = ward.run(&ALICE, None, code.clone());
    let (seen_native, created) = native.run(&ALICE, None, (code, limit));
    let address = address.unwrap();
    native.relocate(created.unwrap(), evm20(&address));
    // Logs name the contract by address, which differs at creation.
    let strip = |s: Seen| Seen {
        logs: s
            .logs
            .into_iter()
            .map(|(_, t, d)| (Vec::new(), t, d))
            .collect(),
        ..s
    };
    assert_eq!(strip(seen_ward), strip(seen_native), "deploy");
    address
}

#[test]
fn the_evm_runtime_matches_revm_run_natively() {
    for kind in BackendKind::ALL {
        let mut native = Native::new();
        let mut ward = Ward::new(kind);
        let mut token_code = creation("Token");
        token_code.extend(word(1_000_000));
        let token = deploy(&mut native, &mut ward, token_code);
        let mut escrow_code = creation("Escrow");
        escrow_code.extend(address_word(&token.0));
        let escrow = deploy(&mut native, &mut ward, escrow_code);

        let a = |x: &Address| address_word(&x.0);
        let txs: Vec<(Address, Address, Vec<u8>)> = vec![
            (
                ALICE,
                token,
                calldata("transfer(address,uint256)", &[a(&BOB), word(100)]),
            ),
            (
                BOB,
                token,
                calldata("transfer(address,uint256)", &[a(&CAROL), word(101)]),
            ),
            (
                ALICE,
                token,
                calldata("approve(address,uint256)", &[a(&BOB), word(50)]),
            ),
            (
                BOB,
                token,
                calldata(
                    "transferFrom(address,address,uint256)",
                    &[a(&ALICE), a(&CAROL), word(30)],
                ),
            ),
            (
                BOB,
                token,
                calldata(
                    "transferFrom(address,address,uint256)",
                    &[a(&ALICE), a(&CAROL), word(21)],
                ),
            ),
            (
                ALICE,
                token,
                calldata("approve(address,uint256)", &[a(&escrow), word(300)]),
            ),
            (
                ALICE,
                escrow,
                calldata("open(address,uint256)", &[a(&CAROL), word(300)]),
            ),
            (BOB, escrow, calldata("held()", &[])),
            (ALICE, escrow, calldata("release(uint256)", &[word(0)])),
            (ALICE, escrow, calldata("release(uint256)", &[word(0)])),
            (
                ALICE,
                token,
                calldata("transfer(address,uint256)", &[a(&BOB), word(0)]),
            ),
            (
                BOB,
                token,
                calldata("transfer(address,uint256)", &[a(&ALICE), word(100)]),
            ),
            (CAROL, token, calldata("balanceOf(address)", &[a(&CAROL)])),
            (CAROL, token, vec![0xde, 0xad, 0xbe, 0xef]),
        ];
        // Contracts making contracts, and a proxy delegating to a counter.
        let factory = deploy(&mut native, &mut ward, creation("Factory"));
        let mut logic_code = creation("Counter");
        logic_code.extend(word(100));
        let logic = deploy(&mut native, &mut ward, logic_code);
        let mut proxy_code = creation("Proxy");
        proxy_code.extend(address_word(&logic.0));
        let proxy = deploy(&mut native, &mut ward, proxy_code);
        let salt = word(0x5a17);
        // Transient storage shared by a transaction's frames, undone with
        // a reverted frame, a lock against reentry, gone afterwards.
        let transient = deploy(&mut native, &mut ward, creation("Transient"));
        let transient_txs = [
            (
                calldata("run(uint256)", &[word(5)]),
                [word(5), word(5)].concat(),
            ),
            (calldata("leftover()", &[]), word(0).to_vec()),
            (calldata("guarded(bool)", &[word(1)]), word(0).to_vec()),
            (calldata("guarded(bool)", &[word(0)]), word(0).to_vec()),
            (
                calldata("run(uint256)", &[word(9)]),
                [word(9), word(9)].concat(),
            ),
        ];
        for (i, (data, expected)) in transient_txs.into_iter().enumerate() {
            let (w, _, limit) = ward.run(&ALICE, Some(transient), data.clone());
            let (n, _) = native.run(&ALICE, Some(evm20(&transient)), (data, limit));
            assert_eq!(w, n, "{kind}: transient transaction {i}");
            assert_eq!(
                (w.status, w.output.clone()),
                ("ok", expected),
                "{kind}: transient transaction {i}"
            );
        }
        let mut txs = txs;
        txs.extend([
            (ALICE, factory, calldata("make(uint256)", &[word(5)])),
            (
                ALICE,
                factory,
                calldata("make2(bytes32,uint256)", &[salt, word(9)]),
            ),
            (
                ALICE,
                factory,
                calldata("make2(bytes32,uint256)", &[salt, word(9)]),
            ),
            (ALICE, factory, calldata("fail()", &[])),
            (BOB, proxy, calldata("inc()", &[])),
            (BOB, proxy, calldata("inc()", &[])),
            (BOB, proxy, calldata("proxied()", &[])),
        ]);
        let mut made = Vec::new();
        for (i, (sender, to, data)) in txs.into_iter().enumerate() {
            let (w, _, limit) = ward.run(&sender, Some(to), data.clone());
            let (n, _) = native.run(&sender, Some(evm20(&to)), (data, limit));
            assert_eq!(w, n, "{kind}: transaction {i}");
            if to == factory && w.status == "ok" {
                made.push(Address(w.output.clone().try_into().unwrap()));
            }
            assert!(w.gas > 0, "{kind}: transaction {i} ran");
            eprintln!(
                "{kind} {i}: {} {} gas, {} logs",
                w.status,
                w.gas,
                w.logs.len()
            );
        }
        assert_eq!(made.len(), 2, "{kind}: make and make2");
        precompiles(&mut native, &mut ward, kind);
        for contract in [token, escrow, factory, logic, proxy, transient]
            .into_iter()
            .chain(made)
        {
            assert_eq!(
                ward.storage(&contract),
                native.storage(evm20(&contract)),
                "{kind}: storage of {contract}"
            );
        }
    }
}

/// Every precompile through a contract's `STATICCALL`: the same output
/// (its hash) and EVM gas as revm's. Ward's gas is more than the rate
/// times the EVM gas where the precompile pays a surcharge, so these
/// transactions get room for it.
fn precompiles(native: &mut Native, ward: &mut Ward, kind: BackendKind) {
    let work = deploy(native, ward, creation("Work"));
    ward.surcharged = true;
    for (name, at, data) in precompile_inputs() {
        let input = precompile_call(at, &data, 1);
        let (w, _, limit) = ward.run(&ALICE, Some(work), input.clone());
        let (n, _) = native.run(&ALICE, Some(evm20(&work)), (input, limit));
        assert_eq!(w, n, "{kind}: precompile {name}");
        assert_eq!(w.status, "ok", "{kind}: precompile {name}");
        eprintln!("{kind} {name}: {} gas", w.gas);
    }
    // Precompiles that halt after their work (a KZG proof that does not
    // verify, a G2 point outside the subgroup), forwarded just enough: the
    // same failure and EVM gas.
    let kzg_caller = deploy(native, ward, capped_caller(0x0a, 60_000));
    let pairing_caller = deploy(native, ward, capped_caller(0x08, 120_000));
    let input = |name: &str| {
        precompile_inputs()
            .into_iter()
            .find(|(n, _, _)| *n == name)
            .unwrap()
            .2
    };
    let mut bad_proof = input("kzg_point_evaluation");
    bad_proof[95] = 1;
    let mut bad_point = input("bn254_pairing_2");
    bad_point[383] ^= 1;
    for (to, data, holds) in [
        (kzg_caller, input("kzg_point_evaluation"), 1),
        (kzg_caller, bad_proof, 0),
        (pairing_caller, bad_point, 0),
    ] {
        let (w, _, limit) = ward.run(&ALICE, Some(to), data.clone());
        let (n, _) = native.run(&ALICE, Some(evm20(&to)), (data, limit));
        assert_eq!(w, n, "{kind}: capped call to {to}");
        assert_eq!(word_at(&w.output, 0), holds, "{kind}: capped call to {to}");
    }
    ward.surcharged = false;
}

/// The native asset on both sides (`docs/economics.md`): WETH9 (deposits
/// by call and by plain transfer, an ERC-20 transfer, withdrawals back to
/// the sender) and an auction whose outbid bidders withdraw their bids and
/// whose winner's bid goes to the beneficiary, with the same EVM gas,
/// outputs, logs, storage and balances as revm run natively.
#[test]
fn weth9_and_an_auction_move_value_as_revm_does() {
    const FUNDS: u128 = 1_000_000_000_000_000_000;
    for kind in BackendKind::ALL {
        let mut native = Native::new();
        let mut ward = Ward::new(kind);
        let funded = [ALICE, BOB, CAROL];
        for who in &funded {
            native.fund(who, FUNDS);
        }
        ward.exec
            .genesis(&funded.iter().map(|w| (*w, FUNDS)).collect())
            .unwrap();
        let weth = deploy(&mut native, &mut ward, creation("WETH9"));
        let mut auction_code = creation("Auction");
        auction_code.extend(word(1_000_000));
        auction_code.extend(address_word(&CAROL.0));
        let auction = deploy(&mut native, &mut ward, auction_code);
        let a = |x: &Address| address_word(&x.0);
        let txs: Vec<(Address, Address, Vec<u8>, u128)> = vec![
            (ALICE, weth, calldata("deposit()", &[]), 5_000),
            (BOB, weth, Vec::new(), 700),
            (
                ALICE,
                weth,
                calldata("transfer(address,uint256)", &[a(&BOB), word(1_200)]),
                0,
            ),
            (BOB, weth, calldata("withdraw(uint256)", &[word(1_900)]), 0),
            (BOB, weth, calldata("withdraw(uint256)", &[word(1)]), 0),
            (ALICE, weth, calldata("withdraw(uint256)", &[word(800)]), 0),
            (CAROL, weth, calldata("totalSupply()", &[]), 0),
            (
                ALICE,
                weth,
                calldata("approve(address,uint256)", &[a(&CAROL), word(10)]),
                7,
            ),
            (ALICE, auction, calldata("bid()", &[]), 100),
            (BOB, auction, calldata("bid()", &[]), 90),
            (BOB, auction, calldata("bid()", &[]), 150),
            (ALICE, auction, calldata("bid()", &[]), 400),
            (BOB, auction, calldata("withdraw()", &[]), 0),
            (ALICE, auction, calldata("withdraw()", &[]), 0),
            (CAROL, auction, calldata("end()", &[]), 0),
            (CAROL, auction, calldata("end()", &[]), 0),
        ];
        for (i, (sender, to, data, value)) in txs.into_iter().enumerate() {
            (native.value, ward.value) = (value, value);
            let (w, _, limit) = ward.run(&sender, Some(to), data.clone());
            let (n, _) = native.run(&sender, Some(evm20(&to)), (data, limit));
            assert_eq!(w, n, "{kind}: transaction {i}");
            eprintln!("{kind} value {i}: {} {} gas", w.status, w.gas);
        }
        for contract in [weth, auction] {
            assert_eq!(
                ward.storage(&contract),
                native.storage(evm20(&contract)),
                "{kind}: storage of {contract}"
            );
        }
        for who in [ALICE, BOB, CAROL, weth, auction] {
            assert_eq!(
                ward.exec.store().balance(&who).unwrap(),
                native.balance(evm20(&who)),
                "{kind}: the balance of {who}"
            );
        }
        // What moved, in the end: WETH holds what is still wrapped (the 7
        // sent to `approve`, not payable, came back with its revert), the
        // beneficiary the winning bid.
        assert_eq!(
            ward.exec.store().balance(&weth).unwrap(),
            5_000 + 700 - 1_900 - 800
        );
        assert_eq!(ward.exec.store().balance(&CAROL).unwrap(), FUNDS + 400);
    }
}
