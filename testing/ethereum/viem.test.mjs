// viem against a Ward dev node (scripts/eth-clients.sh starts one for
// this suite alone): a chain defined as any EVM chain is, accounts of
// the standard test mnemonic, the committed Solidity artifacts deployed
// and called, EIP-1559 and legacy transactions, events read by getLogs
// and heard over a WebSocket transport (eth_subscribe logs), a revert's
// reason and a custom error decoded, an account the node signs for
// (eth_sendTransaction through a JSON-RPC account), and every balance
// change checked to the unit against `value + gasUsed × effectiveGasPrice`.
//
// WARD_RPC and WARD_WS name the node; WARD_SOLIDITY the artifacts.

import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import {
  BaseError,
  ContractFunctionRevertedError,
  createPublicClient,
  createWalletClient,
  defineChain,
  http,
  parseEther,
  webSocket,
} from "viem";
import { generatePrivateKey, mnemonicToAccount, privateKeyToAccount } from "viem/accounts";

const RPC = process.env.WARD_RPC;
const WS = process.env.WARD_WS;
const SOLIDITY = process.env.WARD_SOLIDITY;
const MNEMONIC = "test test test test test test test test test test test junk";

const ward = defineChain({
  id: 31337,
  name: "Ward dev",
  nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
  rpcUrls: { default: { http: [RPC], webSocket: [WS] } },
});

const client = createPublicClient({ chain: ward, transport: http(RPC), pollingInterval: 100 });

function wallet(index) {
  const account = mnemonicToAccount(MNEMONIC, { addressIndex: index });
  return createWalletClient({ account, chain: ward, transport: http(RPC) });
}

function artifact(name) {
  const abi = JSON.parse(readFileSync(`${SOLIDITY}/${name}.abi`, "utf8"));
  const bytecode = "0x" + readFileSync(`${SOLIDITY}/${name}.bin`, "utf8").trim();
  return { abi, bytecode };
}

// Waits for `hash`, checks it succeeded, returns its receipt.
async function mined(hash) {
  const receipt = await client.waitForTransactionReceipt({ hash, pollingInterval: 50, timeout: 120_000 });
  assert.equal(receipt.status, "success");
  return receipt;
}

const fee = (receipt) => receipt.gasUsed * receipt.effectiveGasPrice;

async function deploy(signer, name, args, value = 0n) {
  const { abi, bytecode } = artifact(name);
  const receipt = await mined(await signer.deployContract({ abi, bytecode, args, value }));
  assert.ok(receipt.contractAddress);
  return { address: receipt.contractAddress, abi, receipt };
}

test("the node is a chain viem knows: id, block, fees", { timeout: 120_000 }, async () => {
  assert.equal(await client.getChainId(), 31337);
  const block = await client.getBlock();
  assert.equal(block.baseFeePerGas, 10n ** 9n);
  const fees = await client.estimateFeesPerGas();
  assert.ok(fees.maxFeePerGas >= block.baseFeePerGas);
  assert.ok(fees.maxPriorityFeePerGas >= 0n);
  assert.ok((await client.getGasPrice()) >= 10n ** 9n);
  const history = await client.getFeeHistory({ blockCount: 2, rewardPercentiles: [50] });
  // As many blocks as asked for, or as there are, and the next one's fee.
  assert.ok(history.gasUsedRatio.length >= 1 && history.gasUsedRatio.length <= 2);
  assert.equal(history.baseFeePerGas.length, history.gasUsedRatio.length + 1);
  assert.ok(history.baseFeePerGas.every((fee) => fee === 10n ** 9n));
});

test("a Token deployed, transferred with EIP-1559 and legacy, its events read and heard", { timeout: 120_000 }, async () => {
  const owner = wallet(1);
  const me = owner.account.address;
  const to = privateKeyToAccount(generatePrivateKey()).address;
  const before = await client.getBalance({ address: me });
  const token = await deploy(owner, "Token", [10n ** 24n]);
  assert.equal(await client.readContract({ ...token, functionName: "balanceOf", args: [me] }), 10n ** 24n);

  const ws = createPublicClient({ chain: ward, transport: webSocket(WS) });
  const heard = new Promise((resolve, reject) => {
    const stop = ws.watchContractEvent({
      address: token.address,
      abi: token.abi,
      eventName: "Transfer",
      onLogs: (logs) => {
        const log = logs.find((l) => l.args.to === to);
        if (log) {
          stop();
          resolve(log);
        }
      },
      onError: reject,
    });
  });
  await new Promise((resolve) => setTimeout(resolve, 300));

  const { request } = await client.simulateContract({
    ...token,
    functionName: "transfer",
    args: [to, 1234n],
    account: owner.account,
  });
  const sent = await mined(await owner.writeContract(request));
  assert.equal(sent.type, "eip1559");
  const log = await heard;
  assert.equal(log.args.value, 1234n);
  assert.equal(log.transactionHash, sent.transactionHash);
  await ws.transport.getRpcClient().then((rpc) => rpc.close());

  const legacy = await mined(
    await owner.writeContract({
      ...token,
      functionName: "transfer",
      args: [to, 1n],
      type: "legacy",
      gasPrice: await client.getGasPrice(),
    }),
  );
  assert.equal(legacy.type, "legacy");

  const logs = await client.getContractEvents({
    ...token,
    eventName: "Transfer",
    args: { from: me, to },
    fromBlock: 0n,
  });
  assert.deepEqual(logs.map((l) => l.args.value), [1234n, 1n]);
  const after = await client.getBalance({ address: me });
  assert.equal(after, before - fee(token.receipt) - fee(sent) - fee(legacy));
});

test("reverts are decoded: a reason and a custom error", { timeout: 120_000 }, async () => {
  const owner = wallet(2);
  const stranger = wallet(3).account;
  const token = await deploy(owner, "Token", [1000n]);
  const reason = await client
    .simulateContract({ ...token, functionName: "transfer", args: [owner.account.address, 1n], account: stranger })
    .then(() => null, (e) => e);
  assert.ok(reason instanceof BaseError);
  const reverted = reason.walk((e) => e instanceof ContractFunctionRevertedError);
  assert.equal(reverted.reason, "insufficient balance");

  const locker = await deploy(owner, "Locker", [3600n], parseEther("1"));
  const custom = await client
    .simulateContract({ ...locker, functionName: "release", args: [stranger.address], account: stranger })
    .then(() => null, (e) => e);
  const error = custom.walk((e) => e instanceof ContractFunctionRevertedError);
  assert.equal(error.data.errorName, "NotOwner");
  assert.deepEqual(error.data.args, [stranger.address]);
  assert.equal(await client.readContract({ ...locker, functionName: "chain" }), 31337n);
});

test("a fresh key spends what it was sent; the node signs for its accounts", { timeout: 120_000 }, async () => {
  const funder = wallet(4);
  const key = privateKeyToAccount(generatePrivateKey());
  const before = await client.getBalance({ address: funder.account.address });
  const funded = await mined(await funder.sendTransaction({ to: key.address, value: parseEther("1") }));
  assert.equal(await client.getBalance({ address: funder.account.address }), before - parseEther("1") - fee(funded));

  const fresh = createWalletClient({ account: key, chain: ward, transport: http(RPC) });
  const spent = await mined(await fresh.sendTransaction({ to: funder.account.address, value: 12345n }));
  assert.equal(await client.getBalance({ address: key.address }), parseEther("1") - 12345n - fee(spent));
  assert.equal(await client.getTransactionCount({ address: key.address }), 1);

  // A JSON-RPC account: the node signs (eth_sendTransaction).
  const [first] = await createWalletClient({ chain: ward, transport: http(RPC) }).getAddresses();
  const node = createWalletClient({ account: first, chain: ward, transport: http(RPC) });
  const payee = privateKeyToAccount(generatePrivateKey()).address;
  const signed = await mined(await node.sendTransaction({ to: payee, value: 777n }));
  assert.equal(signed.from.toLowerCase(), first.toLowerCase());
  assert.equal(await client.getBalance({ address: payee }), 777n);
});
