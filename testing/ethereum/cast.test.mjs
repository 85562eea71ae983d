// Foundry's `cast` (npm's @foundry-rs/cast, the release binary) against a
// Ward dev node (scripts/eth-clients.sh starts one for this suite alone):
// the chain read, a Solidity artifact deployed with `cast send --create`
// and called with `cast send` and `cast call` by signature, its logs
// read with `cast logs`, a revert's reason shown, a legacy transaction,
// an account the node signs for (`--unlocked`), `cast rpc` for the dev
// controls, and the sender's balance checked to the unit against
// `value + gasUsed × effectiveGasPrice`.
//
// Foundry's `forge` compiles with a solc it downloads, which this
// machine cannot: its commands are not run here (docs/ethereum.md).
//
// WARD_RPC names the node; WARD_SOLIDITY the artifacts.

import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const RPC = process.env.WARD_RPC;
const SOLIDITY = process.env.WARD_SOLIDITY;
// The release binary itself (npm's `.bin/cast` shim exits 0 whatever
// cast does), for x86-64 Linux as this machine is.
const CAST = fileURLToPath(new URL("./node_modules/@foundry-rs/cast-linux-amd64/bin/cast", import.meta.url));
// The standard test mnemonic's keys 5 and 6.
const KEY = "0x8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba";
const ADDRESS = "0x9965507D1a55bcC2695C58ba16FB37d819B0A4dc";
const OTHER = "0x976EA74026E726554dB657fA54763abd0C3a0aa9";

// `cast COMMAND --rpc-url RPC ARGS`, its output.
function cast(command, ...args) {
  return offline(command, "--rpc-url", RPC, ...args);
}

// `cast ARGS`, for a command that asks no node.
function offline(...args) {
  return execFileSync(CAST, args, { encoding: "utf8", timeout: 120_000 }).trim();
}

// `cast send ... --json`: the receipt, checked to have succeeded.
function send(...args) {
  const receipt = JSON.parse(cast("send", "--json", ...args));
  assert.equal(receipt.status, "0x1");
  return receipt;
}

const fee = (receipt) => BigInt(receipt.gasUsed) * BigInt(receipt.effectiveGasPrice);

test("cast reads the chain", { timeout: 120_000 }, () => {
  assert.equal(cast("chain-id"), "31337");
  assert.match(cast("client"), /^ward\/v/);
  assert.ok(Number(cast("block-number")) >= 0);
  assert.equal(cast("base-fee"), String(10 ** 9));
  assert.equal(cast("balance", ADDRESS), String(10n ** 22n));
  const block = JSON.parse(cast("block", "latest", "--json"));
  assert.equal(block.hash.length, 66);
});

test("cast deploys a Token, transfers, reads logs, shows a revert, to the unit", { timeout: 120_000 }, () => {
  const before = BigInt(cast("balance", ADDRESS));
  const bytecode = "0x" + readFileSync(`${SOLIDITY}/Token.bin`, "utf8").trim();
  const args = offline("abi-encode", "constructor(uint256)", String(10n ** 24n)).slice(2);
  const deployed = send("--private-key", KEY, "--create", bytecode + args);
  const token = deployed.contractAddress;
  assert.ok(token);
  assert.notEqual(cast("code", token), "0x");

  const transfer = send("--private-key", KEY, token, "transfer(address,uint256)", OTHER, "1234");
  assert.equal(transfer.type, "0x2");
  const legacy = send("--private-key", KEY, "--legacy", token, "transfer(address,uint256)", OTHER, "1");
  assert.equal(legacy.type, "0x0");
  assert.equal(cast("call", token, "balanceOf(address)(uint256)", OTHER), "1235");

  const logs = JSON.parse(
    cast("logs", "--json", "--from-block", "0", "--address", token, "Transfer(address indexed,address indexed,uint256)", ADDRESS, OTHER),
  );
  assert.equal(logs.length, 2);
  assert.equal(logs[0].transactionHash, transfer.transactionHash);

  // A revert's reason, as cast shows it: a holder of no tokens sends one.
  const stranger = "0x0000000000000000000000000000000000001234";
  const call = ["call", "--rpc-url", RPC, "--from", stranger, token, "transfer(address,uint256)", ADDRESS, "1"];
  const reverted = spawnSync(CAST, call, {
    encoding: "utf8",
    timeout: 120_000,
  });
  assert.notEqual(reverted.status, 0);
  assert.match(reverted.stderr, /insufficient balance/);

  const after = BigInt(cast("balance", ADDRESS));
  assert.equal(after, before - fee(deployed) - fee(transfer) - fee(legacy));
});

test("cast sends as an account the node signs for, and drives the dev controls", { timeout: 120_000 }, () => {
  const before = BigInt(cast("balance", OTHER));
  const payee = JSON.parse(offline("wallet", "new", "--json"))[0].address;
  const sent = send("--unlocked", "--from", OTHER, payee, "--value", "777");
  assert.equal(cast("balance", payee), "777");
  assert.equal(BigInt(cast("balance", OTHER)), before - 777n - fee(sent));

  const snapshot = JSON.parse(cast("rpc", "evm_snapshot"));
  send("--unlocked", "--from", OTHER, payee, "--value", "1");
  assert.equal(cast("balance", payee), "778");
  assert.equal(JSON.parse(cast("rpc", "evm_revert", snapshot)), true);
  assert.equal(cast("balance", payee), "777");
  cast("rpc", "anvil_setBalance", payee, "0x64");
  assert.equal(cast("balance", payee), "100");
});
