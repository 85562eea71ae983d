"""The node's Ethereum answers against the execution APIs' own schemas.

`execution-apis/` holds the method and schema files of the public
ethereum/execution-apis repository (its README names the commit; CC0).
Every method those files define is either answered here, each of its
answers validated against the method's result schema, or refused with the
reason docs/ethereum.md gives; the docs' method table names every one.

WARD_RPC names a dev node (scripts/eth-clients.sh starts one),
WARD_SOLIDITY the committed Solidity artifacts.
"""

import json
import os
import re
from pathlib import Path

import pytest
import requests
import yaml
from eth_account import Account
from eth_utils import to_checksum_address
from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

RPC = os.environ["WARD_RPC"]
SOLIDITY = Path(os.environ["WARD_SOLIDITY"])
HERE = Path(__file__).parent
SPEC = HERE / "execution-apis"
DOCS = HERE.parent.parent / "docs" / "ethereum.md"
MNEMONIC = "test test test test test test test test test test test junk"
CHAIN_ID = 31337

Account.enable_unaudited_hdwallet_features()


def load_spec():
    """The schemas (components) and the methods, by name."""
    schemas, methods = {}, {}
    for path in sorted((SPEC / "schemas").glob("*.yaml")):
        schemas.update(yaml.safe_load(path.read_text()))
    for group in ["eth", "debug"]:
        for path in sorted((SPEC / group).glob("*.yaml")):
            for method in yaml.safe_load(path.read_text()):
                methods[method["name"]] = method
    return schemas, methods


SCHEMAS, METHODS = load_spec()


def result_validator(method):
    schema = dict(METHODS[method]["result"]["schema"])
    # The refs are `#/components/schemas/...`: the components ride along in
    # the root document they point into.
    schema["components"] = {"schemas": SCHEMAS}
    return Draft202012Validator(schema)


def rpc(method, params):
    reply = requests.post(RPC, json={"jsonrpc": "2.0", "id": 1, "method": method, "params": params}, timeout=120)
    reply.raise_for_status()
    return reply.json()


def answer(method, params):
    reply = rpc(method, params)
    assert "error" not in reply, f"{method} {params}: {reply['error']}"
    return reply["result"]


def account(index):
    return Account.from_mnemonic(MNEMONIC, account_path=f"m/44'/60'/0'/0/{index}")


class Chain:
    """Blocks with one transaction of every kind in them: a Token deployed
    and transferred with (a log), legacy, EIP-2930 and EIP-1559 transfers,
    and one the node signs (eth_sendTransaction)."""

    def __init__(self):
        self.sender = account(9)
        self.receipts = []
        abi_path, bin_path = SOLIDITY / "Token.abi", SOLIDITY / "Token.bin"
        self.token_abi = json.loads(abi_path.read_text())
        supply = (10**24).to_bytes(32, "big").hex()
        deployed = self.send({"data": "0x" + bin_path.read_text().strip() + supply})
        self.token = to_checksum_address(deployed["contractAddress"])
        self.to = Account.create().address
        transfer = "0xa9059cbb" + "00" * 12 + self.to[2:].lower() + (4321).to_bytes(32, "big").hex()
        self.transfer = transfer
        self.logged = self.send({"to": self.token, "data": transfer})
        for kind in ["legacy", "2930", "1559"]:
            self.send({"to": self.to, "value": 7}, kind)
        node_sent = answer("eth_sendTransaction", [{"from": account(0).address, "to": self.to, "value": "0x5"}])
        self.receipts.append(self.wait(node_sent))
        self.block = self.logged["blockNumber"]
        self.block_hash = self.logged["blockHash"]

    def send(self, tx, kind="1559"):
        tx = dict(tx, chainId=CHAIN_ID, value=tx.get("value", 0))
        tx["nonce"] = int(answer("eth_getTransactionCount", [self.sender.address, "pending"]), 16)
        price = int(answer("eth_gasPrice", []), 16)
        if kind == "1559":
            tx["maxFeePerGas"], tx["maxPriorityFeePerGas"] = 2 * price, 0
        else:
            tx["gasPrice"] = price
        if kind == "2930":
            tx["accessList"] = [{"address": self.to, "storageKeys": ["0x" + "00" * 31 + "01"]}]
        estimate = {"from": self.sender.address, "data": tx.get("data", "0x"), "value": hex(tx["value"])}
        if "to" in tx:
            estimate["to"] = tx["to"]
        if "accessList" in tx:
            # An access list costs intrinsic gas (EIP-2930): the estimate
            # must see it, as a wallet's does.
            estimate["accessList"] = tx["accessList"]
        tx["gas"] = int(answer("eth_estimateGas", [estimate]), 16)
        signed = self.sender.sign_transaction(tx)
        hash_ = answer("eth_sendRawTransaction", ["0x" + signed.raw_transaction.hex().removeprefix("0x")])
        receipt = self.wait(hash_)
        self.receipts.append(receipt)
        return receipt

    @staticmethod
    def wait(hash_):
        import time

        for _ in range(1200):
            receipt = answer("eth_getTransactionReceipt", [hash_])
            if receipt is not None:
                assert receipt["status"] == "0x1", receipt
                return receipt
            time.sleep(0.05)
        raise AssertionError(f"no receipt for {hash_}")


@pytest.fixture(scope="module")
def chain():
    return Chain()


# The named tracers this node offers; their output is tracer-specific
# (the spec checks the entries' shape around it).
TRACERS = ["callTracer", "prestateTracer"]


def calls(c):
    """Each answered method with the params its answers are checked for:
    found and not found, every block tag, hashes and whole transactions."""
    hashes = [r["transactionHash"] for r in c.receipts]
    missing = "0x" + "ab" * 32
    tags = ["latest", "earliest", "pending", "safe", "finalized", c.block]
    call = {"from": c.sender.address, "to": c.token, "data": "0x70a08231" + "00" * 12 + c.to[2:].lower()}
    log_filter = {"fromBlock": "earliest", "toBlock": "latest", "address": c.token}
    return {
        "eth_chainId": [[]],
        "net_version": [[]],
        "eth_syncing": [[]],
        "eth_coinbase": [[]],
        "eth_accounts": [[]],
        # A dev node signs for its accounts (the chain's first one).
        "eth_sign": [[answer("eth_accounts", [])[0], "0xdeadbeef"]],
        "eth_blockNumber": [[]],
        "eth_gasPrice": [[]],
        "eth_baseFee": [[]],
        "eth_maxPriorityFeePerGas": [[]],
        "eth_feeHistory": [["0x4", "latest", [25, 75]], ["0x1", "latest", []]],
        "eth_getBalance": [[c.sender.address, tag] for tag in tags],
        "eth_getTransactionCount": [[c.sender.address, tag] for tag in tags],
        "eth_getCode": [[c.token, "latest"], [c.to, "latest"]],
        "eth_getStorageAt": [[c.token, "0x0", "latest"], [c.token, "0x" + "ff" * 32, "latest"]],
        "eth_getStorageValues": [[{c.token: ["0x0", "0x1"], c.to: ["0x0"]}, "latest"]],
        "eth_call": [[call, "latest"], [call, {"blockHash": c.block_hash}]],
        "eth_estimateGas": [[call], [{"from": c.sender.address, "to": c.to, "value": "0x1"}, "latest"]],
        "eth_getBlockByNumber": [[tag, full] for tag in tags for full in [False, True]] + [["0xffffff", False]],
        "eth_getBlockByHash": [[c.block_hash, False], [c.block_hash, True], [missing, False]],
        "eth_getBlockTransactionCountByNumber": [[tag] for tag in tags],
        "eth_getBlockTransactionCountByHash": [[c.block_hash], [missing]],
        "eth_getBlockReceipts": [[tag] for tag in tags] + [[c.block_hash]],
        "eth_getTransactionByHash": [[h] for h in hashes] + [[missing]],
        "eth_getTransactionReceipt": [[h] for h in hashes] + [[missing]],
        "eth_getTransactionByBlockHashAndIndex": [[c.block_hash, "0x0"], [c.block_hash, "0x63"]],
        "eth_getTransactionByBlockNumberAndIndex": [[c.block, "0x0"], ["latest", "0x63"]],
        "eth_getLogs": [[log_filter], [{"blockHash": c.block_hash}], [dict(log_filter, address=c.to)]],
        "eth_newFilter": [[log_filter]],
        "eth_newBlockFilter": [[]],
        "eth_getFilterLogs": [[answer("eth_newFilter", [log_filter])]],
        "eth_getFilterChanges": [[answer("eth_newFilter", [log_filter])], [answer("eth_newBlockFilter", [])]],
        "eth_uninstallFilter": [[answer("eth_newBlockFilter", [])], ["0x77"]],
        "eth_sendRawTransaction": [],  # checked by Chain.send (answers validated below)
        "eth_sendTransaction": [[{"from": account(0).address, "to": c.to, "value": "0x1"}]],
        "debug_traceTransaction": [[h, {"tracer": t}] for h in hashes for t in TRACERS]
        + [[h, {"tracer": "prestateTracer", "tracerConfig": {"diffMode": True}}] for h in hashes],
        "debug_traceBlockByNumber": [[c.block, {"tracer": t}] for t in TRACERS],
        "debug_traceBlockByHash": [[c.block_hash, {"tracer": t}] for t in TRACERS],
        "debug_getRawTransaction": [[h] for h in hashes[:-1]] + [[missing]],
    }


def docs_table():
    """docs/ethereum.md's method rows: name -> whether it is refused."""
    rows, refused = {}, False
    for line in DOCS.read_text().splitlines():
        if line.startswith("| refused |"):
            refused = True
        elif line.startswith("## "):
            refused = False
        elif line.startswith("| `"):
            first = line.split("|")[1]
            for name in re.findall(r"`([a-z0-9]+_[A-Za-z0-9]+)", first):
                rows[name] = refused
    return rows


# Their result is `oneOf` logs or hashes, which `[]` is both of: the
# spec's schema cannot be met by an empty answer (the calls above give
# these methods non-empty answers too).
AMBIGUOUS_WHEN_EMPTY = {"eth_getLogs", "eth_getFilterChanges", "eth_getFilterLogs"}


def test_every_answer_matches_its_schema(chain):
    checked, failures = 0, []
    for method, param_lists in calls(chain).items():
        validator = result_validator(method)
        for params in param_lists:
            reply = rpc(method, params)
            if "error" in reply:
                failures.append(f"{method} {json.dumps(params)}: {reply['error']}")
                continue
            if reply["result"] == [] and method in AMBIGUOUS_WHEN_EMPTY:
                checked += 1
                continue
            error = best_match(validator.iter_errors(reply["result"]))
            if error is not None:
                where = error.json_path
                failures.append(f"{method} {json.dumps(params)}: at {where}: {error.message[:300]}")
            checked += 1
    assert not failures, "\n".join(failures)
    sent = result_validator("eth_sendRawTransaction")
    for receipt in chain.receipts:
        assert not list(sent.iter_errors(receipt["transactionHash"]))
    assert checked > 100


def test_every_method_of_the_spec_is_answered_or_refused_as_the_docs_say(chain):
    table = docs_table()
    answered = calls(chain)
    for method in METHODS:
        assert method in table, f"{method} is missing from docs/ethereum.md's method table"
        if table[method]:
            reply = rpc(method, [])
            assert reply.get("error", {}).get("code") == -32601, f"{method}: {reply}"
            assert "not offered" in reply["error"]["message"], reply
        else:
            assert method in answered, f"{method} is answered: check its answers against the schema here"
