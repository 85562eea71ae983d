"""web3.py and eth-account against a Ward dev node (scripts/eth-clients.sh).

Legacy and EIP-1559 transactions signed by eth-account, the committed
Solidity artifacts deployed and called, logs filtered by address and
topic, evm_snapshot/evm_revert, reverts decoded, a transfer to a fresh key
that the key then spends, and every balance change checked to the unit
against value + gasUsed * effectiveGasPrice.

The Rust ERC-20 (contracts/erc20) is deployed from the ABI JSON and
bytecode `ward build` writes for it, and used as any ERC-20.

WARD_RPC names the node, WARD_SOLIDITY the artifacts, WARD_RUST_ERC20 the
directory of `ward build`'s erc20.abi.json and erc20.bin.
"""

import json
import os
from pathlib import Path

import pytest
import rlp
from eth_account import Account
from web3 import Web3
from web3.exceptions import ContractCustomError, ContractLogicError, TransactionNotFound

RPC = os.environ["WARD_RPC"]
SOLIDITY = Path(os.environ["WARD_SOLIDITY"])
RUST_ERC20 = Path(os.environ["WARD_RUST_ERC20"])
MNEMONIC = "test test test test test test test test test test test junk"
CHAIN_ID = 31337

Account.enable_unaudited_hdwallet_features()
w3 = Web3(Web3.HTTPProvider(RPC, request_kwargs={"timeout": 120}))


def account(index):
    return Account.from_mnemonic(MNEMONIC, account_path=f"m/44'/60'/0'/0/{index}")


def artifact(name):
    abi = json.loads((SOLIDITY / f"{name}.abi").read_text())
    bytecode = "0x" + (SOLIDITY / f"{name}.bin").read_text().strip()
    return abi, bytecode


def send(signer, tx, legacy=False, access_list=None):
    """Signs `tx` with eth-account (EIP-1559; legacy with a gas price; EIP-2930 with
    an access list), sends it, returns its receipt."""
    tx = dict(tx)
    tx.setdefault("value", 0)
    tx["from"] = signer.address
    tx["chainId"] = CHAIN_ID
    tx["nonce"] = w3.eth.get_transaction_count(signer.address, "pending")
    if access_list is not None:
        tx["gasPrice"] = w3.eth.gas_price
        tx["accessList"] = access_list
    elif legacy:
        tx["gasPrice"] = w3.eth.gas_price
    else:
        base = w3.eth.get_block("latest")["baseFeePerGas"]
        tip = w3.eth.max_priority_fee
        tx["maxPriorityFeePerGas"] = tip
        tx["maxFeePerGas"] = 2 * base + tip
    tx["gas"] = w3.eth.estimate_gas(tx)
    signed = signer.sign_transaction(tx)
    hash_ = w3.eth.send_raw_transaction(signed.raw_transaction)
    # The hash Ward reports is the one eth-account computes.
    assert hash_ == signed.hash
    receipt = w3.eth.wait_for_transaction_receipt(hash_, timeout=120, poll_latency=0.05)
    assert receipt["status"] == 1
    assert receipt["type"] == (1 if access_list is not None else 0 if legacy else 2)
    return receipt


def fee(receipt):
    return receipt["gasUsed"] * receipt["effectiveGasPrice"]


def deploy(signer, name, *args, value=0, legacy=False, built=None):
    abi, bytecode = built or artifact(name)
    factory = w3.eth.contract(abi=abi, bytecode=bytecode)
    tx = factory.constructor(*args).build_transaction({"from": signer.address, "value": value, "gas": 0})
    del tx["gas"]
    receipt = send(signer, {"data": tx["data"], "value": value}, legacy=legacy)
    return w3.eth.contract(address=receipt["contractAddress"], abi=abi), receipt


def call(signer, function, value=0, legacy=False):
    tx = function.build_transaction({"from": signer.address, "value": value, "gas": 0})
    return send(signer, {"to": tx["to"], "data": tx["data"], "value": value}, legacy=legacy)


def test_the_chain():
    assert w3.is_connected()
    assert w3.eth.chain_id == CHAIN_ID
    assert w3.net.version == str(CHAIN_ID)
    assert w3.client_version.startswith("ward/v")
    assert [a.lower() for a in w3.eth.accounts][:2] == [account(0).address.lower(), account(1).address.lower()]
    assert w3.eth.get_block("latest")["baseFeePerGas"] == 10**9


@pytest.mark.parametrize("legacy", [True, False])
def test_a_token_with_both_kinds_of_transaction(legacy):
    owner = account(1 if legacy else 2)
    to = Account.create().address
    before = w3.eth.get_balance(owner.address)
    token, deployed = deploy(owner, "Token", 10**24, legacy=legacy)
    transferred = call(owner, token.functions.transfer(to, 4321), legacy=legacy)
    assert token.functions.balanceOf(to).call() == 4321
    assert w3.eth.get_balance(owner.address) == before - fee(deployed) - fee(transferred)

    # Logs by address and by topic: the Transfer to `to`.
    event = token.events.Transfer()
    logs = w3.eth.get_logs({
        "fromBlock": deployed["blockNumber"],
        "toBlock": "latest",
        "address": token.address,
        "topics": [event.topic, None, "0x" + "00" * 12 + to[2:].lower()],
    })
    assert len(logs) == 1
    decoded = event.process_log(logs[0])
    assert decoded["args"]["value"] == 4321
    assert logs[0]["transactionHash"] == transferred["transactionHash"]
    assert event.get_logs(from_block=deployed["blockNumber"], argument_filters={"to": to})[0]["args"]["value"] == 4321


def test_reverts_are_decoded():
    owner, stranger = account(3), account(4)
    token, _ = deploy(owner, "Token", 1000)
    with pytest.raises(ContractLogicError, match="insufficient balance"):
        token.functions.transfer(owner.address, 1).call({"from": stranger.address})
    locker, _ = deploy(owner, "Locker", 3600, value=10**18)
    with pytest.raises(ContractCustomError) as raised:
        locker.functions.release(stranger.address).call({"from": stranger.address})
    selector = Web3.keccak(text="NotOwner(address)")[:4].hex()
    assert raised.value.data.removeprefix("0x").startswith(selector.removeprefix("0x"))


def test_snapshot_and_revert():
    owner = account(5)
    payee = Account.create()
    snapshot = w3.provider.make_request("evm_snapshot", [])["result"]
    sent = send(owner, {"to": payee.address, "value": 5 * 10**17})
    assert w3.eth.get_balance(payee.address) == 5 * 10**17
    assert w3.provider.make_request("evm_revert", [snapshot])["result"] is True
    assert w3.eth.get_balance(payee.address) == 0
    # Its block is gone with it.
    with pytest.raises(TransactionNotFound):
        w3.eth.get_transaction_receipt(sent["transactionHash"])


def test_a_fresh_key_spends_what_it_was_sent():
    funder = account(6)
    fresh = Account.create()
    before = w3.eth.get_balance(funder.address)
    funded = send(funder, {"to": fresh.address, "value": 10**18})
    assert w3.eth.get_balance(funder.address) == before - 10**18 - fee(funded)
    spent = send(fresh, {"to": funder.address, "value": 12345}, legacy=True)
    assert w3.eth.get_balance(fresh.address) == 10**18 - 12345 - fee(spent)
    assert w3.eth.get_transaction_count(fresh.address) == 1


def test_every_transaction_type_hashes_as_eth_account_does():
    """Legacy, EIP-2930 and EIP-1559, each with random values and data: the hash the
    node answers and finds is the one eth-account computes (`send` checks it)."""
    import random

    rng = random.Random(54)
    sender = account(8)
    for kind in ["legacy", "2930", "1559"] * 3:
        to = Account.create().address
        data = "0x" + bytes(rng.randrange(256) for _ in range(rng.randrange(64))).hex()
        value = rng.randrange(1, 10**15)
        access = [{"address": to, "storageKeys": ["0x" + "%064x" % rng.randrange(2**64)]}]
        receipt = send(
            sender,
            {"to": to, "value": value, "data": data},
            legacy=kind == "legacy",
            access_list=access if kind == "2930" else None,
        )
        found = w3.eth.get_transaction(receipt["transactionHash"])
        assert found["hash"] == receipt["transactionHash"]
        assert found["value"] == value
        assert w3.eth.get_balance(to) == value


def test_weth_to_the_unit():
    alice = account(7)
    weth, _ = deploy(alice, "WETH9")
    before = w3.eth.get_balance(alice.address)
    deposited = call(alice, weth.functions.deposit(), value=2 * 10**18)
    withdrawn = call(alice, weth.functions.withdraw(5 * 10**17))
    after = w3.eth.get_balance(alice.address)
    assert after == before - 2 * 10**18 + 5 * 10**17 - fee(deposited) - fee(withdrawn)
    assert weth.functions.balanceOf(alice.address).call() == 15 * 10**17


def test_the_rust_erc20_from_ward_build():
    owner, spender = account(9), account(8)
    to = Account.create().address
    built = (
        json.loads((RUST_ERC20 / "erc20.abi.json").read_text()),
        (RUST_ERC20 / "erc20.bin").read_text().strip(),
    )
    assert built[1].startswith("0xef5700")
    nonce = w3.eth.get_transaction_count(owner.address)
    token, deployed = deploy(owner, "erc20", 10**6, built=built)
    # CREATE's address of the deployer and its nonce, as for Solidity.
    created = Web3.keccak(rlp.encode([bytes.fromhex(owner.address[2:]), nonce]))[12:]
    assert token.address == Web3.to_checksum_address(created)
    assert token.functions.name().call() == "Ward Rust Token"
    assert token.functions.decimals().call() == 18
    assert token.functions.totalSupply().call() == 10**6

    transferred = call(owner, token.functions.transfer(to, 250))
    (event,) = token.events.Transfer().process_receipt(transferred)
    assert (event["args"]["from"], event["args"]["to"], event["args"]["value"]) == (owner.address, to, 250)
    logs = token.events.Transfer().get_logs(from_block=deployed["blockNumber"], argument_filters={"to": to})
    assert [log["args"]["value"] for log in logs] == [250]

    approved = call(owner, token.functions.approve(spender.address, 100))
    (approval,) = token.events.Approval().process_receipt(approved)
    assert approval["args"]["value"] == 100
    call(spender, token.functions.transferFrom(owner.address, to, 60))
    assert token.functions.balanceOf(to).call() == 310
    assert token.functions.allowance(owner.address, spender.address).call() == 40
    with pytest.raises(ContractLogicError, match="insufficient allowance"):
        token.functions.transferFrom(owner.address, to, 41).call({"from": spender.address})
    with pytest.raises(ContractLogicError, match="insufficient balance"):
        token.functions.transfer(owner.address, 1).call({"from": Account.create().address})
