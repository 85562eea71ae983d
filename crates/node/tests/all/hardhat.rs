//! What Hardhat's tests ask of a dev node beyond the execution APIs
//! (`docs/ethereum.md`): messages and typed data signed with the dev
//! accounts' keys, automine off and on with a real pending pool,
//! interval mining, the client version Hardhat's network helpers look
//! for, calls that see the block they run at, and failed sends answered
//! as errors as Hardhat's network answers them.

use std::time::Duration;

use alloy_primitives::{Address as EthAddress, B256, Bytes, Signature, U256};
use serde_json::{Value, json};
use ward_devkeys as devkeys;
use ward_node::Node;

use crate::{
    PATIENCE, both_backends, dev_node,
    eth::{eth, eth_ok, fresh_evm_node, fresh_evm_node_with, hex_of},
    eventually,
};

fn dev_address(index: u32) -> String {
    format!("0x{}", hex::encode(devkeys::eth_address(index)))
}

fn number(value: &Value) -> u64 {
    let text = value
        .as_str()
        .unwrap_or_else(|| panic!("{value} is a quantity"));
    u64::from_str_radix(text.trim_start_matches("0x"), 16).unwrap()
}

/// Who signed `signature` (65 bytes, hex) over `hash`.
fn signer(signature: &Value, hash: B256) -> EthAddress {
    let bytes: Bytes = serde_json::from_value(signature.clone()).unwrap();
    assert_eq!(bytes.len(), 65, "r, s, v");
    assert!(matches!(bytes[64], 27 | 28), "v is 27 or 28: {}", bytes[64]);
    Signature::try_from(&bytes[..])
        .unwrap()
        .recover_address_from_prehash(&hash)
        .unwrap()
}

/// The EIP-712 specification's own example (its `Example.js`): a `Mail`
/// from Cow to Bob under the "Ether Mail" domain, whose signing hash the
/// specification states.
fn eip712_mail() -> (Value, B256) {
    let typed = json!({
        "types": {
            "EIP712Domain": [
                { "name": "name", "type": "string" },
                { "name": "version", "type": "string" },
                { "name": "chainId", "type": "uint256" },
                { "name": "verifyingContract", "type": "address" }
            ],
            "Person": [
                { "name": "name", "type": "string" },
                { "name": "wallet", "type": "address" }
            ],
            "Mail": [
                { "name": "from", "type": "Person" },
                { "name": "to", "type": "Person" },
                { "name": "contents", "type": "string" }
            ]
        },
        "primaryType": "Mail",
        "domain": {
            "name": "Ether Mail",
            "version": "1",
            "chainId": 1,
            "verifyingContract": "0xCcCCccccCCCCcCCCCCCcCcCccCcCCCcCcccccccC"
        },
        "message": {
            "from": { "name": "Cow", "wallet": "0xCD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826" },
            "to": { "name": "Bob", "wallet": "0xbBbBBBBbbBBBbbbBbbBbbbbBBbBbbbbBbBbbBBbB" },
            "contents": "Hello, Bob!"
        }
    });
    let hash: B256 = "0xbe609aee343fb3c4b28e1df9e632fca64fcfaede20f02e86244efddf30957bd2"
        .parse()
        .unwrap();
    (typed, hash)
}

/// `eth_sign`, `personal_sign` and `eth_signTypedData_v4` sign with the
/// dev accounts' keys over EIP-191's and EIP-712's hashes (checked
/// against the hashes the standards' own examples state), refuse any
/// other address, and are refused on a node without `--dev`.
#[test]
fn a_dev_node_signs_messages_and_typed_data_as_hardhat_does() {
    let node = dev_node("hardhat-sign", |_| {});
    let alice = dev_address(0);
    let expected: EthAddress = devkeys::eth_address(0).into();
    // EIP-191: keccak256("\x19Ethereum Signed Message:\n11Hello World"),
    // as ethers' `hashMessage("Hello World")` documents it.
    let hello: B256 = "0xa1de988600a42c4b4ab089b619297c17d53cffae5d5120d82d8a92d0bb3b78f2"
        .parse()
        .unwrap();
    let data = hex_of(b"Hello World");
    let by_eth_sign = eth_ok(&node, "eth_sign", json!([alice, data]));
    assert_eq!(signer(&by_eth_sign, hello), expected);
    let by_personal = eth_ok(&node, "personal_sign", json!([data, alice]));
    assert_eq!(by_personal, by_eth_sign, "the same message, the same key");
    let with_password = eth_ok(&node, "personal_sign", json!([data, alice, "unused"]));
    assert_eq!(with_password, by_eth_sign);

    // EIP-712, given as an object and as its JSON text (ethers' way).
    let (typed, mail_hash) = eip712_mail();
    let signed = eth_ok(&node, "eth_signTypedData_v4", json!([alice, typed]));
    assert_eq!(signer(&signed, mail_hash), expected);
    let as_text = eth_ok(
        &node,
        "eth_signTypedData_v4",
        json!([alice, typed.to_string()]),
    );
    assert_eq!(as_text, signed);

    // Another account's key is not the node's; nor is bad typed data
    // signed.
    let stranger = "0x00000000000000000000000000000000000000aa";
    for (method, params) in [
        ("eth_sign", json!([stranger, data])),
        ("personal_sign", json!([data, stranger])),
        ("eth_signTypedData_v4", json!([stranger, typed])),
    ] {
        let error = eth(&node, method, params).unwrap_err();
        assert_eq!(error["code"], -32000, "{method}: {error}");
        assert!(
            error["message"]
                .as_str()
                .unwrap()
                .contains("unknown account"),
            "{method}: {error}"
        );
    }
    let error = eth(
        &node,
        "eth_signTypedData_v4",
        json!([alice, { "types": {}, "primaryType": "Mail" }]),
    )
    .unwrap_err();
    assert_eq!(error["code"], -32602, "{error}");
    node.shutdown().unwrap();

    let plain = dev_node("hardhat-sign-plain", |c| {
        c.dev = false;
        c.genesis = Some(ward_node::Genesis::dev(&c.chain_id));
    });
    for (method, params) in [
        ("eth_sign", json!([alice, data])),
        ("personal_sign", json!([data, alice])),
    ] {
        let error = eth(&plain, method, params).unwrap_err();
        assert_eq!(error["code"], -32601, "{method}: {error}");
    }
    plain.shutdown().unwrap();
}

/// Sends a value transfer from dev account `from` with
/// `eth_sendTransaction`: its hash.
fn transfer(node: &Node, from: u32) -> Value {
    let request = json!({
        "from": dev_address(from),
        "to": "0x00000000000000000000000000000000000000bb",
        "value": "0x1",
    });
    eth_ok(node, "eth_sendTransaction", json!([request]))
}

/// With automine off, transactions wait in the pool (the pending nonce
/// counts them, no block is made, no receipt exists) until a mine puts
/// them all in one block, as OpenZeppelin's `batchInBlock` expects;
/// turned on again, what waits is mined at once. Interval mining makes
/// blocks by itself, and stops when set to 0.
#[test]
fn automine_off_keeps_transactions_pending_until_a_mine() {
    let node = dev_node("hardhat-automine", |_| {});
    assert_eq!(eth_ok(&node, "hardhat_getAutomine", json!([])), true);
    // With automine on, a send is answered once its block is committed,
    // as Hardhat's is: its receipt is there at once (before, the hash
    // came back first, and OpenZeppelin's matchers found no receipt).
    for _ in 0..3 {
        let hash = transfer(&node, 4);
        let receipt = eth_ok(&node, "eth_getTransactionReceipt", json!([hash]));
        assert_eq!(receipt["status"], "0x1", "{receipt}");
    }
    // One behind a nonce gap waits for the ones before it: answered at
    // once, not mined.
    let gapped = eth_ok(
        &node,
        "eth_sendTransaction",
        json!([{ "from": dev_address(4), "to": dev_address(5), "value": "0x1", "nonce": "0x9" }]),
    );
    assert!(eth_ok(&node, "eth_getTransactionReceipt", json!([gapped])).is_null());
    assert_eq!(eth_ok(&node, "evm_setAutomine", json!([false])), true);
    assert_eq!(eth_ok(&node, "hardhat_getAutomine", json!([])), false);
    let height = number(&eth_ok(&node, "eth_blockNumber", json!([])));
    let hashes: Vec<Value> = [0, 0, 1]
        .iter()
        .map(|from| transfer(&node, *from))
        .collect();
    let pending = eth_ok(
        &node,
        "eth_getTransactionCount",
        json!([dev_address(0), "pending"]),
    );
    assert_eq!(number(&pending), 2, "both of account 0's wait");
    // Nothing is mined while automine is off (the producer is woken by
    // every admission: give it the time a block takes, then look).
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(number(&eth_ok(&node, "eth_blockNumber", json!([]))), height);
    for hash in &hashes {
        let receipt = eth_ok(&node, "eth_getTransactionReceipt", json!([hash]));
        assert!(receipt.is_null(), "{receipt}");
        // Found while it waits, with no block yet, as geth shows a
        // pending one (ethers' sendTransaction waits until it is found).
        let found = eth_ok(&node, "eth_getTransactionByHash", json!([hash]));
        assert_eq!(found["hash"], *hash, "{found}");
        assert!(found["blockNumber"].is_null(), "{found}");
        assert!(found["blockHash"].is_null(), "{found}");
        assert!(found["transactionIndex"].is_null(), "{found}");
    }
    eth_ok(&node, "hardhat_mine", json!([]));
    let blocks: Vec<u64> = hashes
        .iter()
        .map(|hash| {
            let receipt = eth_ok(&node, "eth_getTransactionReceipt", json!([hash]));
            assert_eq!(receipt["status"], "0x1", "{receipt}");
            number(&receipt["blockNumber"])
        })
        .collect();
    assert_eq!(blocks, vec![height + 1; 3], "all in the mined block");

    // Sent at once from one account (Promise.all), each takes its own
    // nonce: before, two read the same free nonce side by side and the
    // second was refused (`already known`).
    let at_once: Vec<Value> = std::thread::scope(|scope| {
        let sends: Vec<_> = (0..6).map(|_| scope.spawn(|| transfer(&node, 3))).collect();
        sends.into_iter().map(|send| send.join().unwrap()).collect()
    });
    let pending = eth_ok(
        &node,
        "eth_getTransactionCount",
        json!([dev_address(3), "pending"]),
    );
    assert_eq!(number(&pending), 6);
    eth_ok(&node, "hardhat_mine", json!([]));
    for hash in &at_once {
        let receipt = eth_ok(&node, "eth_getTransactionReceipt", json!([hash]));
        assert_eq!(receipt["status"], "0x1", "{receipt}");
        assert_eq!(number(&receipt["blockNumber"]), height + 2);
    }

    // Turned back on, what waits goes at once.
    let waiting = transfer(&node, 2);
    assert_eq!(eth_ok(&node, "evm_setAutomine", json!([true])), true);
    eventually("the waiting transaction is mined", PATIENCE, || {
        !eth_ok(&node, "eth_getTransactionReceipt", json!([waiting])).is_null()
    });

    // Interval mining: blocks come by themselves, empty or not.
    assert_eq!(eth_ok(&node, "evm_setAutomine", json!([false])), true);
    let before = number(&eth_ok(&node, "eth_blockNumber", json!([])));
    assert_eq!(eth_ok(&node, "evm_setIntervalMining", json!([100])), true);
    eventually("two interval blocks", PATIENCE, || {
        number(&eth_ok(&node, "eth_blockNumber", json!([]))) >= before + 2
    });
    assert_eq!(eth_ok(&node, "evm_setIntervalMining", json!([0])), true);
    // Off: the blocks already taken (one committing, one running) may
    // still land, then none, where a second at 100 ms would make ten.
    let stopped = number(&eth_ok(&node, "eth_blockNumber", json!([])));
    std::thread::sleep(Duration::from_secs(1));
    let after = number(&eth_ok(&node, "eth_blockNumber", json!([])));
    assert!(
        after <= stopped + 2,
        "interval mining went on: {stopped} then {after}"
    );
    for bad in [json!([[100, 200]]), json!(["soon"]), json!([86_400_001u64])] {
        let error = eth(&node, "evm_setIntervalMining", bad.clone()).unwrap_err();
        assert_eq!(error["code"], -32602, "{bad}: {error}");
    }
    node.shutdown().unwrap();
}

/// `web3_clientVersion` is Ward's unless a dev node is given another
/// (Hardhat's network helpers look for `HardhatNetwork`); a node without
/// `--dev` refuses to start with one.
#[test]
fn a_dev_node_answers_the_client_version_it_is_given() {
    let node = dev_node("hardhat-version", |_| {});
    let version = eth_ok(&node, "web3_clientVersion", json!([]));
    assert!(version.as_str().unwrap().starts_with("ward/v"), "{version}");
    node.shutdown().unwrap();
    let node = dev_node("hardhat-version-set", |c| {
        c.client_version = Some("HardhatNetwork/2.22.0/ward".into());
    });
    assert_eq!(
        eth_ok(&node, "web3_clientVersion", json!([])),
        "HardhatNetwork/2.22.0/ward"
    );
    node.shutdown().unwrap();
    let mut config = ward_node::NodeConfig::new(crate::temp_dir("hardhat-version-plain"));
    config.listen = "127.0.0.1:0".parse().unwrap();
    config.client_version = Some("HardhatNetwork/2.22.0/ward".into());
    let refused = Node::start(config).err().expect("refused without --dev");
    assert!(
        refused.to_string().contains("--client-version needs --dev"),
        "{refused}"
    );
}

/// A contract whose every call returns `block.number` and
/// `block.timestamp`, as two words (hand-assembled: NUMBER, TIMESTAMP).
const CLOCK_RUNTIME: [u8; 13] = [
    0x43, 0x60, 0x00, 0x52, // NUMBER, mstore at 0
    0x42, 0x60, 0x20, 0x52, // TIMESTAMP, mstore at 32
    0x60, 0x40, 0x60, 0x00, 0xf3, // return 64 bytes
];

/// `eth_call` at `latest` or a number
/// runs with that block's own number and time, as geth's does; at
/// `pending` with the next block's. Before, every call ran as the next
/// block (a `clock()` of 44 when the latest block was 43), so a vote
/// checkpoint taken at the latest block was not yet in the past.
#[test]
fn calls_see_the_block_they_run_at_on_both_backends() {
    let mut init = vec![
        0x60, 0x0d, 0x60, 0x0c, 0x60, 0x00, 0x39, 0x60, 0x0d, 0x60, 0x00, 0xf3,
    ];
    init.extend(CLOCK_RUNTIME);
    let runs: Vec<Vec<(u64, u64)>> = both_backends()
        .map(|backend| {
            let node = fresh_evm_node(&format!("hardhat-clock-{backend}"), backend);
            let deploy = json!({ "from": dev_address(0), "data": hex_of(&init) });
            let hash = eth_ok(&node, "eth_sendTransaction", json!([deploy]));
            let mut receipt = Value::Null;
            eventually("the deploy's receipt", PATIENCE, || {
                receipt = eth_ok(&node, "eth_getTransactionReceipt", json!([hash]));
                !receipt.is_null()
            });
            let clock = receipt["contractAddress"].clone();
            // Three more blocks, a second apart at least.
            eth_ok(&node, "hardhat_mine", json!(["0x3"]));
            let head = number(&eth_ok(&node, "eth_blockNumber", json!([])));
            let block_at = |n: u64| {
                let block = eth_ok(
                    &node,
                    "eth_getBlockByNumber",
                    json!([format!("{n:#x}"), false]),
                );
                number(&block["timestamp"])
            };
            let call_at = |tag: Value| {
                let out = eth_ok(
                    &node,
                    "eth_call",
                    json!([{ "to": clock, "data": "0x" }, tag]),
                );
                let bytes: Bytes = serde_json::from_value(out).unwrap();
                let word = |i: usize| U256::from_be_slice(&bytes[i * 32..(i + 1) * 32]).to::<u64>();
                (word(0), word(1))
            };
            let latest = call_at(json!("latest"));
            assert_eq!(latest, (head, block_at(head)), "{backend}: latest");
            assert_eq!(
                call_at(json!(null)),
                latest,
                "{backend}: the default is latest"
            );
            let earlier = call_at(json!(format!("{:#x}", head - 1)));
            assert_eq!(
                earlier,
                (head - 1, block_at(head - 1)),
                "{backend}: a number"
            );
            let (next, time) = call_at(json!("pending"));
            assert_eq!(next, head + 1, "{backend}: pending");
            assert!(
                time > block_at(head),
                "{backend}: a pending block's second is after the head's"
            );
            node.shutdown().unwrap();
            vec![latest, earlier]
        })
        .into_iter()
        .collect();
    // Each backend's chain has its own times; the numbers agree.
    assert_eq!(
        runs[0].iter().map(|r| r.0).collect::<Vec<_>>(),
        runs[1].iter().map(|r| r.0).collect::<Vec<_>>()
    );
}

/// `evm_revert` puts the dev clock back as the snapshot found it, as
/// Hardhat's does: a test that moves time years ahead leaves the next
/// test (its fixture reverted) at the time it started from. Before, the
/// offset stayed, and OpenZeppelin's vesting tests found everything
/// vested at their first release.
#[test]
fn a_revert_takes_the_dev_clock_back_with_the_chain() {
    let node = dev_node("hardhat-clock-revert", |_| {});
    let latest_time = || {
        let block = eth_ok(&node, "eth_getBlockByNumber", json!(["latest", false]));
        number(&block["timestamp"])
    };
    eth_ok(&node, "evm_mine", json!([]));
    let before = latest_time();
    let snapshot = eth_ok(&node, "evm_snapshot", json!([]));
    let year = 365 * 24 * 3600;
    eth_ok(
        &node,
        "evm_increaseTime",
        json!([format!("{:#x}", 10 * year)]),
    );
    eth_ok(&node, "evm_mine", json!([]));
    assert!(latest_time() >= before + 10 * year, "time moved on");
    assert_eq!(eth_ok(&node, "evm_revert", json!([snapshot])), true);
    eth_ok(&node, "evm_mine", json!([]));
    let after = latest_time();
    assert!(
        after > before && after < before + year,
        "the clock went back with the chain: {before} then {after}"
    );
    node.shutdown().unwrap();
}

/// `eth_estimateGas` (and so `eth_sendTransaction`'s fill) never answers
/// more than a transaction may name: with its margin over the chain's
/// `max_tx_gas`, a transaction that needs nearly all of it was refused
/// ("exceeds block gas limit"; 248 of OpenZeppelin's ERC-721 and
/// ERC-1155 tests). A loop of `n` rounds needs more gas as `n` grows;
/// some `n` needs more than the maximum less the margin and still fits.
#[test]
fn an_estimate_is_at_most_what_a_transaction_may_name() {
    const MAX_TX_GAS: u64 = 20_000_000;
    let node = fresh_evm_node_with("hardhat-estimate-cap", |c| {
        let mut genesis = ward_node::Genesis::dev(&c.chain_id);
        genesis.limits.max_tx_gas = Some(MAX_TX_GAS);
        c.genesis = Some(genesis);
        // Gas is what this is about, not time: loops near the maximum
        // may run on the quick tier while the EVM runtime compiles, on a
        // loaded machine, past the 1 s read and 10 s transaction backstops.
        c.limits.read_timeout = PATIENCE;
        c.tx_timeout = PATIENCE;
    });
    // What an Ethereum transaction may name: the chain's maximum in EVM
    // gas (312 500).
    let max = MAX_TX_GAS / ward_executor::EVM_GAS_RATE;
    // Counts down from the calldata's first word: 40 EVM gas a round.
    let runtime = [
        0x60, 0x00, 0x35, // n
        0x5b, 0x80, 0x15, 0x60, 0x10, 0x57, // while n != 0
        0x60, 0x01, 0x90, 0x03, // n - 1
        0x60, 0x03, 0x56, // loop
        0x5b, 0x00,
    ];
    let mut init = vec![
        0x60,
        runtime.len() as u8,
        0x60,
        0x0c,
        0x60,
        0x00,
        0x39,
        0x60,
        runtime.len() as u8,
        0x60,
        0x00,
        0xf3,
    ];
    init.extend(runtime);
    let deploy = json!({ "from": dev_address(0), "data": hex_of(&init) });
    let hash = eth_ok(&node, "eth_sendTransaction", json!([deploy]));
    let receipt = eth_ok(&node, "eth_getTransactionReceipt", json!([hash]));
    let looper = receipt["contractAddress"].clone();
    let request = |rounds: u64| json!({ "from": dev_address(0), "to": looper, "data": format!("0x{rounds:064x}") });
    let mut clamped = None;
    for rounds in (5_000..8_000).step_by(100) {
        match eth(&node, "eth_estimateGas", json!([request(rounds)])) {
            Ok(gas) => {
                let gas = number(&gas);
                assert!(gas <= max, "{rounds} rounds: {gas}");
                if gas == max && clamped.is_none() {
                    clamped = Some(rounds);
                }
            }
            Err(error) => {
                assert!(
                    clamped.is_some(),
                    "{rounds} rounds fail before any clamp: {error}"
                );
                break;
            }
        }
    }
    let rounds = clamped.expect("some loop needs more than the maximum less the margin");
    let hash = eth_ok(&node, "eth_sendTransaction", json!([request(rounds)]));
    let receipt = eth_ok(&node, "eth_getTransactionReceipt", json!([hash]));
    assert_eq!(receipt["status"], "0x1", "{rounds} rounds: {receipt}");
    node.shutdown().unwrap();
}

/// Creation code that deploys `runtime` (at most 255 bytes) as it is.
fn deploying(runtime: &[u8]) -> Vec<u8> {
    let len = u8::try_from(runtime.len()).unwrap();
    // PUSH1 len, PUSH1 12, PUSH1 0, CODECOPY, PUSH1 len, PUSH1 0, RETURN
    let mut init = vec![
        0x60, len, 0x60, 0x0c, 0x60, 0x00, 0x39, 0x60, len, 0x60, 0x00, 0xf3,
    ];
    init.extend(runtime);
    init
}

/// A dev node runs `eth_call`, `eth_estimateGas` and `debug_traceCall`
/// as if the sender could pay for them, as Hardhat's network and anvil
/// do (OpenZeppelin's forwarder tests estimate a value call from a
/// contract that holds nothing), and changes no balance; a node that is
/// not a dev node refuses them, as geth does.
#[test]
fn a_dev_node_runs_calls_from_senders_that_cannot_pay() {
    // Returns CALLVALUE as a word.
    let echo = deploying(&[0x34, 0x5f, 0x52, 0x60, 0x20, 0x5f, 0xf3]);
    let poor = "0x00000000000000000000000000000000000000aa";
    let deploy = |node: &Node| {
        let hash = eth_ok(
            node,
            "eth_sendTransaction",
            json!([{ "from": dev_address(0), "data": hex_of(&echo) }]),
        );
        let receipt = eth_ok(node, "eth_getTransactionReceipt", json!([hash]));
        receipt["contractAddress"].clone()
    };
    let node = fresh_evm_node_with("hardhat-poor-calls", |_| {});
    let request = json!({ "from": poor, "to": deploy(&node), "value": "0xa" });
    let output = eth_ok(&node, "eth_call", json!([request, "latest"]));
    assert_eq!(output, json!(format!("0x{:064x}", 10)));
    let gas = number(&eth_ok(&node, "eth_estimateGas", json!([request])));
    assert!(gas > 21_000, "{gas}");
    let traced = eth_ok(
        &node,
        "debug_traceCall",
        json!([request, "latest", { "tracer": "callTracer" }]),
    );
    assert_eq!(traced["value"], "0xa", "{traced}");
    assert!(traced.get("error").is_none(), "{traced}");
    let balance = eth_ok(&node, "eth_getBalance", json!([poor, "latest"]));
    assert_eq!(balance, "0x0");
    node.shutdown().unwrap();

    let plain = dev_node("hardhat-poor-calls-plain", |c| {
        c.dev = false;
        c.genesis = Some(ward_node::Genesis::dev(&c.chain_id));
        let path = ward_testkit::contracts::out_dir().join("evm.wasm");
        c.runtimes = vec![
            ward_node::runtimes::RuntimeSpec::parse(&format!("evm={}", path.display())).unwrap(),
        ];
    });
    let request =
        json!({ "from": poor, "to": "0x00000000000000000000000000000000000000bb", "value": "0xa" });
    for method in ["eth_call", "eth_estimateGas"] {
        let error = eth(&plain, method, json!([request, "latest"])).unwrap_err();
        assert!(
            error["message"]
                .as_str()
                .is_some_and(|m| m.contains("the sender holds 0")),
            "{method}: {error}"
        );
    }
    plain.shutdown().unwrap();
}

/// Deploys, from dev account 0, a contract whose every call reverts with
/// one word of data (42); its address.
fn deploy_reverter(node: &Node) -> Value {
    // PUSH1 42, PUSH1 0, MSTORE, PUSH1 32, PUSH1 0, REVERT.
    let runtime = [0x60, 0x2a, 0x60, 0x00, 0x52, 0x60, 0x20, 0x60, 0x00, 0xfd];
    let mut init = vec![
        0x60, 0x0a, 0x60, 0x0c, 0x60, 0x00, 0x39, 0x60, 0x0a, 0x60, 0x00, 0xf3,
    ];
    init.extend(runtime);
    let deploy = json!({ "from": dev_address(0), "data": hex_of(&init) });
    let hash = eth_ok(node, "eth_sendTransaction", json!([deploy]));
    let receipt = eth_ok(node, "eth_getTransactionReceipt", json!([hash]));
    assert_eq!(receipt["status"], "0x1", "{receipt}");
    receipt["contractAddress"].clone()
}

/// With `--throw-on-tx-failures`, a send whose transaction fails in its
/// automined block is answered as Hardhat's network answers it: -32603,
/// and as data the message, the transaction's hash and the revert data
/// (where hardhat-chai-matchers finds a custom error); the transaction
/// is mined all the same. Without it the send answers the hash, as geth
/// does. OpenZeppelin's suite sends with a fixed gas limit, as on
/// Hardhat's network, and reads its reverts so.
#[test]
fn a_failed_send_is_an_error_with_its_revert_data_when_asked() {
    let word = format!("0x{:064x}", 42);
    let errors: Vec<Value> = both_backends()
        .map(|backend| {
            let node = fresh_evm_node_with(&format!("hardhat-throw-{backend}"), |c| {
                c.backend = backend;
                c.throw_on_tx_failures = true;
            });
            let reverter = deploy_reverter(&node);
            let send = json!({ "from": dev_address(1), "to": reverter, "gas": "0x1e8480" });
            let error = eth(&node, "eth_sendTransaction", json!([send])).unwrap_err();
            assert_eq!(error["code"], -32603, "{error}");
            assert_eq!(error["data"]["data"], word.as_str(), "{error}");
            let message = error["message"].as_str().unwrap();
            assert!(message.starts_with("VM Exception while processing transaction: reverted"));
            assert_eq!(error["data"]["message"], message);
            let receipt = eth_ok(
                &node,
                "eth_getTransactionReceipt",
                json!([error["data"]["txHash"]]),
            );
            assert_eq!(receipt["status"], "0x0", "mined all the same: {receipt}");
            let nonce = eth_ok(
                &node,
                "eth_getTransactionCount",
                json!([dev_address(1), "latest"]),
            );
            assert_eq!(nonce, "0x1");
            node.shutdown().unwrap();
            error
        })
        .into_iter()
        .collect();
    assert_eq!(errors[0], errors[1], "the backends agree");

    let node = fresh_evm_node("hardhat-throw-off", ward_vm::BackendKind::Wasmi);
    let reverter = deploy_reverter(&node);
    let send = json!({ "from": dev_address(1), "to": reverter, "gas": "0x1e8480" });
    let hash = eth_ok(&node, "eth_sendTransaction", json!([send]));
    let receipt = eth_ok(&node, "eth_getTransactionReceipt", json!([hash]));
    assert_eq!(receipt["status"], "0x0", "{receipt}");
    node.shutdown().unwrap();

    let mut config = ward_node::NodeConfig::new(crate::temp_dir("hardhat-throw-plain"));
    config.listen = "127.0.0.1:0".parse().unwrap();
    config.throw_on_tx_failures = true;
    let refused = Node::start(config).err().expect("refused without --dev");
    assert!(
        refused
            .to_string()
            .contains("--throw-on-tx-failures needs --dev"),
        "{refused}"
    );
}

/// Many sends at once from one account, each in a block of its own (a
/// block holds one transaction's gas), as OpenZeppelin's MerkleTree test
/// sends them with Hardhat's fixed gas limit: every one is mined and
/// answered. Before, a block's acknowledgement read its senders' nonces
/// from the store, which the pipeline may already have moved on by the
/// next block, and evicted that block's transactions as stale ("nonce N
/// was used by another transaction").
#[test]
fn sends_at_once_in_blocks_of_one_are_all_mined() {
    let gas = 100_000u64;
    // A block holds one transaction's gas: its EVM gas in Ward gas.
    let node = dev_node("hardhat-one-per-block", |c| {
        c.max_block_gas = Some(ward_executor::ward_gas(
            ward_chain::tx::GasUnit::Ethereum(Default::default()),
            gas,
        ));
    });
    let sends = 48;
    let answers: Vec<Result<Value, Value>> = std::thread::scope(|scope| {
        let sends: Vec<_> = (0..sends)
            .map(|_| {
                scope.spawn(|| {
                    let request = json!({
                        "from": dev_address(4),
                        "to": "0x00000000000000000000000000000000000000bb",
                        "value": "0x1",
                        "gas": format!("{gas:#x}"),
                    });
                    eth(&node, "eth_sendTransaction", json!([request]))
                })
            })
            .collect();
        sends.into_iter().map(|s| s.join().unwrap()).collect()
    });
    for answer in &answers {
        assert!(answer.is_ok(), "{answer:?}");
    }
    let nonce = eth_ok(
        &node,
        "eth_getTransactionCount",
        json!([dev_address(4), "latest"]),
    );
    assert_eq!(number(&nonce), sends);
    node.shutdown().unwrap();
}
