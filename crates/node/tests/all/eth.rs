//! The Ethereum JSON-RPC over real HTTP (`docs/ethereum.md`), on both
//! backends: an Ethereum account funded by a Ward transfer deploys the
//! Solidity ERC-20 with a signed EIP-1559 transaction at its `CREATE`
//! address, transfers with a legacy one, reads its logs, calls and
//! estimates, and is refused as geth refuses; every balance change is
//! `value + gasUsed × effectiveGasPrice` to the unit, and the two
//! backends give the same receipts.

use alloy_consensus::{SignableTransaction, TxEip1559, TxEnvelope, TxLegacy, crypto::secp256k1};
use alloy_eips::eip2718::Encodable2718;
use alloy_primitives::{B256, Bytes, TxKind, U256, keccak256};
use serde_json::{Value, json};
use ward_chain::tx::eth::create_address;
use ward_devkeys as devkeys;
use ward_node::Node;
use ward_primitives::Address;
use ward_testkit::evm::{calldata, creation, word};

use crate::{PATIENCE, both_backends, call, dev_node, eventually, ok, post};

const CHAIN: u64 = 31_337;

/// A secp256k1 key and its address.
pub(super) use devkeys::EthKey as Key;

/// What the tests do with a key.
pub(super) trait Signer {
    /// Its address, as `0x` hex.
    fn hex(&self) -> String;
    /// `tx` signed, as `eth_sendRawTransaction` takes it.
    fn sign<T: SignableTransaction<alloy_primitives::Signature>>(&self, tx: T) -> Vec<u8>
    where
        TxEnvelope: From<alloy_consensus::Signed<T>>;
}

impl Signer for Key {
    fn hex(&self) -> String {
        hex_of(&self.address)
    }

    fn sign<T: SignableTransaction<alloy_primitives::Signature>>(&self, tx: T) -> Vec<u8>
    where
        TxEnvelope: From<alloy_consensus::Signed<T>>,
    {
        let signature =
            secp256k1::sign_message(B256::from(self.secret), tx.signature_hash()).unwrap();
        TxEnvelope::from(tx.into_signed(signature)).encoded_2718()
    }
}

/// One Ethereum call: its result, or its error object.
pub(super) fn eth(node: &Node, method: &str, params: Value) -> Result<Value, Value> {
    let body = json!({ "jsonrpc": "2.0", "id": 1, "method": method, "params": params });
    let (status, text) = post(node, &body.to_string());
    assert_eq!(status, 200, "{text}");
    let mut response: Value = serde_json::from_str(&text).unwrap();
    assert!(response.get("applied_height").is_none());
    match response.get_mut("error") {
        Some(error) => Err(error.take()),
        None => Ok(response["result"].take()),
    }
}

/// The dev node's first account (`eth_accounts`), as `0x` hex.
pub(super) fn first_account(node: &Node) -> String {
    eth_ok(node, "eth_accounts", json!([]))[0]
        .as_str()
        .unwrap()
        .to_owned()
}

/// The error `eth_sendRawTransaction` refuses `raw` with.
fn refused(node: &Node, raw: &[u8]) -> Value {
    eth(node, "eth_sendRawTransaction", json!([hex_of(raw)])).unwrap_err()
}

/// An error object's message.
fn message(error: &Value) -> &str {
    error["message"].as_str().unwrap()
}

pub(super) fn eth_ok(node: &Node, method: &str, params: Value) -> Value {
    eth(node, method, params).unwrap_or_else(|e| panic!("{method}: {e}"))
}

pub(super) fn quantity(value: &Value) -> u128 {
    let text = value
        .as_str()
        .unwrap_or_else(|| panic!("{value} is no quantity"));
    u128::from_str_radix(text.trim_start_matches("0x"), 16).unwrap()
}

pub(super) fn hex_of(bytes: &[u8]) -> String {
    format!("0x{}", hex::encode(bytes))
}

/// Sends `raw` and waits for its receipt; the receipt.
pub(super) fn send(node: &Node, raw: &[u8]) -> Value {
    let hash = eth_ok(node, "eth_sendRawTransaction", json!([hex_of(raw)]));
    let expected = keccak256(raw);
    assert_eq!(
        hash,
        json!(expected.to_string()),
        "the hash wallets compute"
    );
    let mut receipt = Value::Null;
    eventually("a receipt", PATIENCE, || {
        receipt = eth_ok(node, "eth_getTransactionReceipt", json!([hash]));
        !receipt.is_null()
    });
    receipt
}

fn balance(node: &Node, who: &str) -> u128 {
    quantity(&eth_ok(node, "eth_getBalance", json!([who, "latest"])))
}

/// `who`'s nonce at `block` (`eth_getTransactionCount`).
fn nonce(node: &Node, who: &str, block: Value) -> u128 {
    quantity(&eth_ok(
        node,
        "eth_getTransactionCount",
        json!([who, block]),
    ))
}

fn address_word(address: &[u8; 20]) -> [u8; 32] {
    let mut word = [0u8; 32];
    word[12..].copy_from_slice(address);
    word
}

/// The whole scenario on one backend; the receipts it got.
fn scenario(node: &Node) -> Vec<Value> {
    let (alice, bob) = (Key::from_secret([0xa1; 32]), Key::from_secret([0xb0; 32]));
    assert_eq!(eth_ok(node, "eth_chainId", json!([])), json!("0x7a69"));
    assert_eq!(eth_ok(node, "net_version", json!([])), json!("31337"));
    let version = eth_ok(node, "web3_clientVersion", json!([]));
    assert!(version.as_str().unwrap().starts_with("ward/v"), "{version}");
    assert_eq!(eth_ok(node, "eth_syncing", json!([])), json!(false));

    // A Ward key funds the Ethereum account: a plain transfer to its Ward
    // address.
    let funds = 10u128.pow(21);
    let funded = ok(
        node,
        "sendTransaction",
        json!({ "from": devkeys::address(0).to_string(), "wait": true, "value": funds.to_string(),
                "call": { "to": Address::from_eth(alice.address).to_string(), "input": "0x" } }),
    );
    assert_eq!(funded["status"], "ok", "{funded}");
    assert_eq!(balance(node, &alice.hex()), funds);
    assert_eq!(nonce(node, &alice.hex(), json!("latest")), 0);
    // The Ward transaction shows with its sender's last 20 bytes.
    let ward_tx = eth_ok(node, "eth_getTransactionByHash", json!([funded["tx"]]));
    assert_eq!(
        ward_tx["from"],
        json!(hex_of(&devkeys::address(0).0[12..])),
        "{ward_tx}"
    );

    // Deploy the ERC-20 with an EIP-1559 transaction, its gas estimated.
    let supply = 1_000_000u128;
    let mut init = creation("Token");
    init.extend(word(supply));
    let estimate = eth_ok(
        node,
        "eth_estimateGas",
        json!([{ "from": alice.hex(), "data": hex_of(&init) }]),
    );
    let deploy = TxEip1559 {
        chain_id: CHAIN,
        nonce: 0,
        gas_limit: quantity(&estimate) as u64,
        max_fee_per_gas: 10,
        max_priority_fee_per_gas: 2,
        to: TxKind::Create,
        value: U256::ZERO,
        access_list: Default::default(),
        input: Bytes::from(init.clone()),
    };
    let before = balance(node, &alice.hex());
    let deployed = send(node, &alice.sign(deploy));
    assert_eq!(deployed["status"], "0x1", "{deployed}");
    assert_eq!(deployed["type"], "0x2");
    let token = hex_of(&create_address(alice.address, 0));
    assert_eq!(deployed["contractAddress"], json!(token), "{deployed}");
    assert!(deployed["to"].is_null());
    let paid = quantity(&deployed["gasUsed"]) * quantity(&deployed["effectiveGasPrice"]);
    assert_eq!(
        quantity(&deployed["effectiveGasPrice"]),
        2,
        "base 0 + tip 2"
    );
    assert_eq!(before - balance(node, &alice.hex()), paid);
    let code = eth_ok(node, "eth_getCode", json!([token, "latest"]));
    assert!(code.as_str().unwrap().len() > 100, "{code}");

    // Transfer to bob with a legacy transaction; its log, in the receipt
    // and through eth_getLogs.
    let transfer = calldata(
        "transfer(address,uint256)",
        &[address_word(&bob.address), word(250)],
    );
    let legacy = TxLegacy {
        chain_id: Some(CHAIN),
        nonce: 1,
        gas_price: 3,
        gas_limit: 1_000_000,
        to: TxKind::Call(create_address(alice.address, 0).into()),
        value: U256::ZERO,
        input: Bytes::from(transfer.clone()),
    };
    let before = balance(node, &alice.hex());
    let transferred = send(node, &alice.sign(legacy.clone()));
    assert_eq!(transferred["status"], "0x1", "{transferred}");
    assert_eq!(transferred["type"], "0x0");
    assert_eq!(transferred["to"], json!(token));
    let paid = quantity(&transferred["gasUsed"]) * 3;
    assert_eq!(before - balance(node, &alice.hex()), paid);
    let logs = transferred["logs"].as_array().unwrap();
    assert_eq!(logs.len(), 1, "{transferred}");
    let topic0 = keccak256(b"Transfer(address,address,uint256)").to_string();
    assert_eq!(logs[0]["address"], json!(token));
    assert_eq!(logs[0]["topics"][0], json!(topic0));
    assert_eq!(
        logs[0]["topics"][2],
        json!(hex_of(&address_word(&bob.address)))
    );
    assert_eq!(logs[0]["data"], json!(hex_of(&word(250))));
    assert_eq!(logs[0]["transactionHash"], transferred["transactionHash"]);
    assert_eq!(logs[0]["blockHash"], transferred["blockHash"]);
    let found = eth_ok(
        node,
        "eth_getLogs",
        json!([{ "fromBlock": "earliest", "toBlock": "latest", "address": token, "topics": [topic0] }]),
    );
    assert_eq!(
        found.as_array().unwrap().len(),
        2,
        "mint and transfer: {found}"
    );
    assert_eq!(found[1], logs[0]);
    let none = eth_ok(
        node,
        "eth_getLogs",
        json!([{ "fromBlock": "earliest", "address": hex_of(&[9; 20]) }]),
    );
    assert_eq!(none, json!([]));

    // Reads: eth_call, a revert's reason as code 3 with its data.
    let balance_of = |who: &[u8; 20]| {
        let input = calldata("balanceOf(address)", &[address_word(who)]);
        let out = eth_ok(
            node,
            "eth_call",
            json!([{ "to": token, "data": hex_of(&input) }, "latest"]),
        );
        quantity(&out)
    };
    assert_eq!(balance_of(&bob.address), 250);
    assert_eq!(balance_of(&alice.address), supply - 250);
    let too_much = calldata(
        "transfer(address,uint256)",
        &[address_word(&alice.address), word(251)],
    );
    let request = json!({ "from": bob.hex(), "to": token, "data": hex_of(&too_much) });
    let reverted = eth(node, "eth_call", json!([request])).unwrap_err();
    assert_eq!(reverted["code"], 3, "{reverted}");
    assert_eq!(
        reverted["message"],
        "execution reverted: insufficient balance"
    );
    let data = reverted["data"].as_str().unwrap();
    assert!(data.starts_with("0x08c379a0"), "Error(string): {data}");
    let estimate_error = eth(node, "eth_estimateGas", json!([request])).unwrap_err();
    assert_eq!(estimate_error["code"], 3, "{estimate_error}");

    // Blocks and transactions.
    let block = eth_ok(node, "eth_getBlockByNumber", json!(["latest", true]));
    assert_eq!(block["hash"], transferred["blockHash"], "{block}");
    assert_eq!(
        block["transactions"][0]["hash"],
        transferred["transactionHash"]
    );
    assert_eq!(block["transactions"][0]["from"], json!(alice.hex()));
    assert_eq!(block["baseFeePerGas"], "0x0");
    let by_hash = eth_ok(node, "eth_getBlockByHash", json!([block["hash"], false]));
    assert_eq!(by_hash["transactions"][0], transferred["transactionHash"]);
    assert_eq!(by_hash["number"], block["number"]);
    let tx = eth_ok(
        node,
        "eth_getTransactionByHash",
        json!([transferred["transactionHash"]]),
    );
    assert_eq!(tx["nonce"], "0x1");
    assert_eq!(tx["input"], json!(hex_of(&transfer)));
    assert_eq!(
        eth_ok(
            node,
            "eth_getTransactionByHash",
            json!([B256::ZERO.to_string()])
        ),
        Value::Null
    );
    assert_eq!(nonce(node, &alice.hex(), json!("latest")), 2);
    // The nonce before the deploy, at the block of the funding transfer.
    let funded_block = eth_ok(node, "eth_getTransactionByHash", json!([funded["tx"]]));
    assert_eq!(
        nonce(node, &alice.hex(), funded_block["blockNumber"].clone()),
        0
    );

    // Refusals as geth words them.
    let again = refused(node, &alice.sign(legacy.clone()));
    assert_eq!(again["message"], "already known", "{again}");
    let mut stale = legacy.clone();
    stale.gas_price = 4;
    let low = refused(node, &alice.sign(stale));
    assert!(message(&low).starts_with("nonce too low"), "{low}");
    let mut other_chain = legacy.clone();
    other_chain.chain_id = Some(1);
    other_chain.nonce = 2;
    let wrong = refused(node, &alice.sign(other_chain));
    assert!(message(&wrong).starts_with("invalid chain id"), "{wrong}");
    let mut rich = legacy.clone();
    rich.nonce = 2;
    rich.value = U256::from(funds * 2);
    let poor = refused(node, &alice.sign(rich));
    assert!(
        message(&poor).starts_with("insufficient funds for gas * price + value"),
        "{poor}"
    );
    let blob = refused(node, &[0x03, 0xc0]);
    assert!(
        message(&blob).contains("transaction type 3 not supported"),
        "{blob}"
    );
    let unknown = eth(node, "eth_noSuchMethod", json!([])).unwrap_err();
    assert_eq!(unknown["code"], -32601);

    // The dev node's accounts are the test mnemonic's, and it signs for
    // them.
    let accounts = eth_ok(node, "eth_accounts", json!([]));
    assert_eq!(accounts.as_array().unwrap().len(), 10);
    assert_eq!(accounts[0], "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266");
    let dev0 = accounts[0].as_str().unwrap().to_owned();
    let before = balance(node, &dev0);
    let hash = eth_ok(
        node,
        "eth_sendTransaction",
        json!([{ "from": dev0, "to": bob.hex(), "value": "0xde0b6b3a7640000" }]),
    );
    let mut by_node = Value::Null;
    eventually("a receipt", PATIENCE, || {
        by_node = eth_ok(node, "eth_getTransactionReceipt", json!([hash]));
        !by_node.is_null()
    });
    assert_eq!(by_node["status"], "0x1", "{by_node}");
    assert_eq!(by_node["type"], "0x2");
    let fee = quantity(&by_node["gasUsed"]) * quantity(&by_node["effectiveGasPrice"]);
    assert_eq!(before - balance(node, &dev0), 10u128.pow(18) + fee);
    let stranger = eth(
        node,
        "eth_sendTransaction",
        json!([{ "from": alice.hex(), "to": bob.hex() }]),
    )
    .unwrap_err();
    assert!(
        message(&stranger).starts_with("unknown account"),
        "{stranger}"
    );

    // Bob, a fresh key, spends what he was sent.
    let to_bob = TxLegacy {
        chain_id: Some(CHAIN),
        nonce: 2,
        gas_price: 0,
        gas_limit: 21_000,
        to: TxKind::Call(bob.address.into()),
        value: U256::from(10u128.pow(18)),
        input: Bytes::new(),
    };
    let sent = send(node, &alice.sign(to_bob));
    assert_eq!(sent["status"], "0x1", "{sent}");
    let back = TxEip1559 {
        chain_id: CHAIN,
        nonce: 0,
        gas_limit: 21_000,
        max_fee_per_gas: 1,
        max_priority_fee_per_gas: 1,
        to: TxKind::Call(alice.address.into()),
        value: U256::from(10u128.pow(17)),
        access_list: Default::default(),
        input: Bytes::new(),
    };
    let spent = send(node, &bob.sign(back));
    assert_eq!(spent["status"], "0x1", "{spent}");
    let fee = quantity(&spent["gasUsed"]) * quantity(&spent["effectiveGasPrice"]);
    assert_eq!(balance(node, &bob.hex()), 19 * 10u128.pow(17) - fee);

    vec![funded_block, deployed, transferred, sent, spent]
}

#[test]
fn ethereum_tools_json_rpc_deploys_calls_and_refuses_as_geth_on_both_backends() {
    let runs = both_backends().map(|backend| {
        let node = dev_node("eth-rpc", |c| {
            c.backend = backend;
            let path = ward_testkit::contracts::out_dir().join("evm.wasm");
            c.runtimes = vec![
                ward_node::runtimes::RuntimeSpec::parse(&format!("evm={}", path.display()))
                    .unwrap(),
            ];
        });
        let mut receipts = scenario(&node);
        // What differs between runs: the times and hashes of blocks.
        for receipt in &mut receipts {
            for key in ["blockHash", "blockNumber", "blockTimestamp"] {
                receipt.as_object_mut().unwrap().remove(key);
            }
            if let Some(logs) = receipt["logs"].as_array_mut() {
                for log in logs {
                    for key in ["blockHash", "blockNumber", "blockTimestamp"] {
                        log.as_object_mut().unwrap().remove(key);
                    }
                }
            }
        }
        let _ = call(&node, "getNetwork", json!({}));
        receipts
    });
    assert_eq!(runs[0], runs[1]);
}

/// Sends `data` to `to` (a deploy for `None`) from dev account 0 through
/// `eth_sendTransaction`; its receipt.
pub(super) fn dev_send(node: &Node, to: Option<&str>, data: &[u8]) -> Value {
    let from = first_account(node);
    let mut request = json!({ "from": from, "data": hex_of(data) });
    if let Some(to) = to {
        request["to"] = json!(to);
    }
    let hash = eth_ok(node, "eth_sendTransaction", json!([request]));
    let mut receipt = Value::Null;
    eventually("a receipt", PATIENCE, || {
        receipt = eth_ok(node, "eth_getTransactionReceipt", json!([hash]));
        !receipt.is_null()
    });
    receipt
}

/// `debug_traceTransaction` and `debug_traceCall` with `callTracer`:
/// Escrow's `open` calling Token's `transferFrom`, in geth's shape, the
/// same on both backends; a revert's reason; tracers not offered refused
/// (`prestateTracer` has its own test, prestate.rs).
#[test]
fn debug_traces_are_geths_call_tracer_on_both_backends() {
    let runs = both_backends().map(|backend| {
        let node = dev_node("eth-debug", |c| c.backend = backend);
        let me = first_account(&node);
        let mut me_word = [0u8; 32];
        me_word[12..].copy_from_slice(&hex::decode(&me[2..]).unwrap());
        let mut init = creation("Token");
        init.extend(word(1_000));
        let token = dev_send(&node, None, &init)["contractAddress"]
            .as_str()
            .unwrap()
            .to_owned();
        let mut token_word = [0u8; 32];
        token_word[12..].copy_from_slice(&hex::decode(&token[2..]).unwrap());
        let mut init = creation("Escrow");
        init.extend(token_word);
        let escrow = dev_send(&node, None, &init)["contractAddress"]
            .as_str()
            .unwrap()
            .to_owned();
        let mut escrow_word = [0u8; 32];
        escrow_word[12..].copy_from_slice(&hex::decode(&escrow[2..]).unwrap());
        let approve = calldata("approve(address,uint256)", &[escrow_word, word(300)]);
        dev_send(&node, Some(&token), &approve);
        let open = calldata("open(address,uint256)", &[me_word, word(300)]);
        let opened = dev_send(&node, Some(&escrow), &open);
        let tracer = json!({ "tracer": "callTracer", "tracerConfig": { "withLog": true } });
        let trace = eth_ok(
            &node,
            "debug_traceTransaction",
            json!([opened["transactionHash"], tracer]),
        );
        assert_eq!(trace["type"], "CALL", "{trace}");
        assert_eq!(trace["from"], json!(me), "{trace}");
        assert_eq!(trace["to"], json!(escrow), "{trace}");
        assert_eq!(trace["input"], json!(hex_of(&open)), "{trace}");
        assert_eq!(trace["gasUsed"], opened["gasUsed"], "{trace}");
        let inner = &trace["calls"][0];
        assert_eq!(inner["type"], "CALL", "{trace}");
        assert_eq!(inner["from"], json!(escrow), "{trace}");
        assert_eq!(inner["to"], json!(token), "{trace}");
        assert!(
            inner["input"]
                .as_str()
                .unwrap()
                .starts_with(&hex_of(&calldata(
                    "transferFrom(address,address,uint256)",
                    &[]
                ))),
            "{trace}"
        );
        assert_eq!(inner["logs"].as_array().unwrap().len(), 1, "{trace}");
        assert!(quantity(&inner["gasUsed"]) < quantity(&trace["gasUsed"]));
        let top_only = json!({ "tracer": "callTracer", "tracerConfig": { "onlyTopCall": true } });
        let top = eth_ok(
            &node,
            "debug_traceTransaction",
            json!([opened["transactionHash"], top_only]),
        );
        assert!(top.get("calls").is_none(), "{top}");
        // The block-indexed reads, and what a block without uncles or
        // miner answers.
        let block = opened["blockNumber"].clone();
        let receipts = eth_ok(&node, "eth_getBlockReceipts", json!([block]));
        assert_eq!(receipts[0]["transactionHash"], opened["transactionHash"]);
        let first = eth_ok(
            &node,
            "eth_getTransactionByBlockNumberAndIndex",
            json!([block, "0x0"]),
        );
        assert_eq!(first["hash"], opened["transactionHash"], "{first}");
        let by_hash = eth_ok(
            &node,
            "eth_getTransactionByBlockHashAndIndex",
            json!([opened["blockHash"], "0x0"]),
        );
        assert_eq!(by_hash, first);
        let past = json!([block, "0x1"]);
        assert!(eth_ok(&node, "eth_getTransactionByBlockNumberAndIndex", past).is_null());
        assert_eq!(
            eth_ok(&node, "eth_getUncleCountByBlockNumber", json!([block])),
            "0x0"
        );
        assert!(
            eth_ok(
                &node,
                "eth_getUncleByBlockNumberAndIndex",
                json!([block, "0x0"])
            )
            .is_null()
        );
        assert_eq!(eth_ok(&node, "eth_mining", json!([])), false);

        // A call that reverts: its reason, and no state changed.
        let too_much = calldata("transfer(address,uint256)", &[escrow_word, word(10_000)]);
        let call = json!({ "from": me, "to": token, "data": hex_of(&too_much) });
        let traced = eth_ok(&node, "debug_traceCall", json!([call, "latest", tracer]));
        assert_eq!(traced["error"], "execution reverted", "{traced}");
        assert_eq!(traced["revertReason"], "insufficient balance", "{traced}");
        for other in [json!({}), json!({ "tracer": "4byteTracer" })] {
            let refused = eth(
                &node,
                "debug_traceTransaction",
                json!([opened["transactionHash"], other]),
            )
            .unwrap_err();
            assert_eq!(refused["code"], -32602, "{refused}");
        }
        let unknown = eth(
            &node,
            "debug_traceTransaction",
            json!([format!("0x{}", "11".repeat(32)), tracer]),
        )
        .unwrap_err();
        assert!(
            unknown["message"]
                .as_str()
                .unwrap()
                .contains("no transaction"),
            "{unknown}"
        );
        // What differs between runs: nothing in a trace.
        (trace, traced)
    });
    assert_eq!(runs[0], runs[1]);
}

/// A dev node with the EVM runtime, started fresh.
pub(super) fn fresh_evm_node(name: &str, backend: ward_vm::BackendKind) -> Node {
    fresh_evm_node_with(name, |c| c.backend = backend)
}

/// [`fresh_evm_node`] configured by `configure` too.
pub(super) fn fresh_evm_node_with(
    name: &str,
    configure: impl FnOnce(&mut ward_node::NodeConfig),
) -> Node {
    dev_node(name, |c| {
        configure(c);
        let path = ward_testkit::contracts::out_dir().join("evm.wasm");
        c.runtimes = vec![
            ward_node::runtimes::RuntimeSpec::parse(&format!("evm={}", path.display())).unwrap(),
        ];
    })
}

/// The first read of every kind on a fresh node answers, on both
/// backends: an estimate of the ERC-20's deploy, a call of its creation
/// code, a trace of one. Before, wasmi charged the lazy translation of
/// the EVM runtime's largest function to what was left of a fuel slice,
/// and the first read on a fresh node ended at once with the read
/// timeout (a shortfall there is not resumable); the same read again
/// answered, its functions translated by then.
#[test]
fn the_first_read_of_every_kind_on_a_fresh_node_answers_on_both_backends() {
    let mut init = creation("Token");
    init.extend(word(1_000_000));
    let request =
        || json!({ "from": "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266", "data": hex_of(&init) });
    for backend in both_backends() {
        for read in ["eth_estimateGas", "eth_call", "debug_traceCall"] {
            let node = fresh_evm_node(&format!("first-{read}"), backend);
            let params = match read {
                "debug_traceCall" => json!([request(), "latest", { "tracer": "callTracer" }]),
                _ => json!([request()]),
            };
            let answer = eth(&node, read, params);
            assert!(
                answer.is_ok(),
                "{backend}: {read} on a fresh node: {answer:?}"
            );
            node.shutdown().unwrap();
        }
    }
}
