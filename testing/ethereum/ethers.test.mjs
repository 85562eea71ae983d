// ethers v6 against a Ward dev node (scripts/eth-clients.sh starts it):
// the committed Solidity artifacts deployed by wallets of the standard
// test mnemonic, receipts and events read back (over HTTP filters and a
// WebSocket subscription), reverts decoded (a reason and custom errors),
// EIP-1559 and legacy transactions, time moved with `evm_increaseTime`,
// and every balance change checked to the unit against
// `value + gasUsed × effectiveGasPrice`.
//
// The Rust ERC-20 (contracts/erc20) is deployed and used as any ERC-20,
// from the ABI JSON and bytecode `ward build` writes for it, and the
// Solidity Escrow holds it.
//
// WARD_RPC and WARD_WS name the node; WARD_SOLIDITY the artifacts;
// WARD_RUST_ERC20 the directory of `ward build`'s erc20.abi.json and
// erc20.bin.

import { after, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import {
  ContractFactory,
  Contract,
  HDNodeWallet,
  getCreateAddress,
  JsonRpcProvider,
  Wallet,
  WebSocketProvider,
  parseEther,
} from "ethers";

const RPC = process.env.WARD_RPC;
const WS = process.env.WARD_WS;
const SOLIDITY = process.env.WARD_SOLIDITY;
const RUST_ERC20 = process.env.WARD_RUST_ERC20;
const MNEMONIC = "test test test test test test test test test test test junk";
const CHAIN_ID = 31337n;

// A provider that asks the node every time (ethers caches answers for
// 250 ms by default, which a dev node that mines at once outruns).
const provider = new JsonRpcProvider(RPC, undefined, {
  cacheTimeout: -1,
  pollingInterval: 100,
});

function account(index) {
  return HDNodeWallet.fromPhrase(MNEMONIC, undefined, `m/44'/60'/0'/0/${index}`).connect(provider);
}

function artifact(name) {
  const abi = JSON.parse(readFileSync(`${SOLIDITY}/${name}.abi`, "utf8"));
  const bytecode = "0x" + readFileSync(`${SOLIDITY}/${name}.bin`, "utf8").trim();
  return { abi, bytecode };
}

async function deploy(name, signer, ...args) {
  const { abi, bytecode } = artifact(name);
  const contract = await new ContractFactory(abi, bytecode, signer).deploy(...args);
  await contract.waitForDeployment();
  return contract;
}

// What a mined transaction cost its sender: gasUsed × effectiveGasPrice.
async function fee(tx) {
  const receipt = await tx.wait();
  assert.equal(receipt.status, 1);
  assert.equal(receipt.fee, receipt.gasUsed * receipt.gasPrice);
  return receipt.fee;
}

// Runs `send` (which returns its transactions) and checks that `who`'s
// balance moved by `delta` less the fees of those it sent.
async function accounted(who, delta, send) {
  const before = await provider.getBalance(who.address);
  const txs = await send();
  let fees = 0n;
  for (const tx of txs) {
    fees += tx.from === who.address ? await fee(tx) : 0n;
  }
  const after = await provider.getBalance(who.address);
  assert.equal(after - before, delta - fees, "balance change to the unit");
}

test("the node is a chain ethers knows: id, accounts, fee data", { timeout: 120_000 }, async () => {
  const network = await provider.getNetwork();
  assert.equal(network.chainId, CHAIN_ID);
  const accounts = await provider.send("eth_accounts", []);
  assert.equal(accounts.length, 10);
  assert.equal(accounts[0].toLowerCase(), account(0).address.toLowerCase());
  assert.match(await provider.send("web3_clientVersion", []), /^ward\/v/);
  const feeData = await provider.getFeeData();
  assert.ok(feeData.gasPrice > 0n);
  assert.ok(feeData.maxFeePerGas >= feeData.gasPrice);
  assert.ok(feeData.maxPriorityFeePerGas >= 0n);
  const block = await provider.getBlock("latest");
  assert.equal(block.baseFeePerGas, 10n ** 9n);
  assert.equal(block.hash.length, 66);
});

test("a Token is deployed, transferred with EIP-1559 and legacy, its events read", { timeout: 120_000 }, async () => {
  const owner = account(1);
  const to = Wallet.createRandom().address;
  const token = await deploy("Token", owner, 10n ** 24n);
  const address = await token.getAddress();
  assert.notEqual(await provider.getCode(address), "0x");
  assert.equal(await token.balanceOf(owner.address), 10n ** 24n);

  // A listener over a WebSocket subscription (eth_subscribe logs), and
  // one over HTTP filters (eth_newFilter, eth_getFilterChanges).
  const ws = new WebSocketProvider(WS);
  const heard = new Promise((resolve) => {
    new Contract(address, token.interface, ws).on("Transfer", (from, dest, value, event) => {
      if (dest === to) resolve({ from, value, tx: event.log.transactionHash });
    });
  });
  const polled = new Promise((resolve) => {
    token.on("Transfer", (from, dest, value) => {
      if (dest === to) resolve(value);
    });
  });
  // Subscriptions are made before the transfer is sent.
  await new Promise((resolve) => setTimeout(resolve, 300));

  const tx = await token.transfer(to, 1234n, { type: 2 });
  assert.equal(tx.type, 2);
  const receipt = await tx.wait();
  assert.equal(receipt.type, 2);
  assert.equal(receipt.logs.length, 1);
  const event = token.interface.parseLog(receipt.logs[0]);
  assert.equal(event.name, "Transfer");
  assert.deepEqual([event.args.from, event.args.to, event.args.value], [owner.address, to, 1234n]);
  assert.equal(tx.hash, receipt.hash);
  assert.equal((await provider.getTransaction(tx.hash)).hash, tx.hash);

  const sub = await heard;
  assert.deepEqual([sub.from, sub.value, sub.tx], [owner.address, 1234n, tx.hash]);
  assert.equal(await polled, 1234n);
  await token.removeAllListeners();
  await ws.destroy();

  const legacy = await token.transfer(to, 1n, { type: 0, gasPrice: (await provider.getFeeData()).gasPrice });
  assert.equal((await legacy.wait()).type, 0);
  assert.equal(await token.balanceOf(to), 1235n);

  const logs = await token.queryFilter(token.filters.Transfer(owner.address, to), 0, "latest");
  assert.deepEqual(logs.map((l) => l.args.value), [1234n, 1n]);
  assert.equal(logs[0].transactionHash, tx.hash);
});

test("a revert's reason and custom errors are decoded", { timeout: 120_000 }, async () => {
  const owner = account(2);
  const stranger = account(3);
  const token = await deploy("Token", owner, 1000n);
  await assert.rejects(token.connect(stranger).transfer(owner.address, 1n), (e) => {
    assert.equal(e.code, "CALL_EXCEPTION");
    assert.equal(e.reason, "insufficient balance");
    return true;
  });

  const locker = await deploy("Locker", owner, 3600n, { value: parseEther("1") });
  // A static call decodes the custom error with the contract's ABI; a
  // transaction's estimate carries its data to decode.
  await assert.rejects(locker.connect(stranger).release.staticCall(stranger.address), (e) => {
    assert.equal(e.revert.name, "NotOwner");
    assert.equal(e.revert.args[0], stranger.address);
    return true;
  });
  const latest = BigInt((await provider.getBlock("latest")).timestamp);
  await assert.rejects(locker.release(owner.address), (e) => {
    const error = locker.interface.parseError(e.data);
    assert.equal(error.name, "TooEarly");
    const [time, unlockAt] = error.args;
    // Seconds, as Ethereum's block.timestamp and the blocks' are.
    assert.ok(time >= latest && time < latest + 3600n, `${time} is near ${latest}`);
    assert.ok(unlockAt > time && unlockAt <= time + 3600n);
    return true;
  });
  assert.equal(await locker.connect(stranger).origin(), stranger.address);
  // CHAINID is what transactions are signed for (EIP-712 domains use it).
  assert.equal(await locker.chain(), CHAIN_ID);
});

test("time moves with evm_increaseTime; the locked value is released to the unit", { timeout: 120_000 }, async () => {
  const owner = account(4);
  const payee = Wallet.createRandom().connect(provider);
  const locker = await deploy("Locker", owner, 3600n, { value: 777n });
  const snapshot = await provider.send("evm_snapshot", []);
  await provider.send("evm_increaseTime", [3601]);
  await provider.send("evm_mine", []);
  await accounted(owner, 0n, async () => [await locker.release(payee.address)]);
  assert.equal(await provider.getBalance(payee.address), 777n);
  assert.equal(await provider.getBalance(await locker.getAddress()), 0n);
  // Back to before the release: the payee has nothing again.
  assert.equal(await provider.send("evm_revert", [snapshot]), true);
  assert.equal(await provider.getBalance(payee.address), 0n);
  assert.equal(await provider.getBalance(await locker.getAddress()), 777n);
});

test("WETH9, Escrow, Auction and Factory: value and tokens to the unit", { timeout: 120_000 }, async () => {
  const alice = account(5);
  const bob = account(6);

  const weth = await deploy("WETH9", alice);
  await accounted(alice, -parseEther("2"), async () => [await weth.deposit({ value: parseEther("2") })]);
  await accounted(alice, parseEther("0.5"), async () => [await weth.withdraw(parseEther("0.5"))]);
  assert.equal(await weth.balanceOf(alice.address), parseEther("1.5"));

  const token = await deploy("Token", alice, 10n ** 6n);
  const escrow = await deploy("Escrow", alice, await token.getAddress());
  await (await token.approve(await escrow.getAddress(), 500n)).wait();
  const opened = await (await escrow.open(bob.address, 500n)).wait();
  const id = opened.logs.map((l) => escrow.interface.parseLog(l)).find((e) => e?.name === "Opened").args.id;
  await (await escrow.release(id)).wait();
  assert.equal(await token.balanceOf(bob.address), 500n);

  const auction = await deploy("Auction", alice, 3600n, alice.address);
  await accounted(bob, -300n, async () => [await auction.connect(bob).bid({ value: 300n })]);
  const carol = account(7);
  await (await auction.connect(carol).bid({ value: 400n })).wait();
  await accounted(bob, 300n, async () => [await auction.connect(bob).withdraw()]);

  const factory = await deploy("Factory", alice);
  const made = await (await factory.make(7n)).wait();
  const at = made.logs.map((l) => factory.interface.parseLog(l)).find((e) => e?.name === "Made").args[0];
  assert.notEqual(await provider.getCode(at), "0x");
});

test("value to a fresh key, which the key then spends", { timeout: 120_000 }, async () => {
  const funder = account(8);
  const fresh = Wallet.createRandom().connect(provider);
  await accounted(funder, -parseEther("1"), async () => [
    await funder.sendTransaction({ to: fresh.address, value: parseEther("1") }),
  ]);
  assert.equal(await provider.getBalance(fresh.address), parseEther("1"));
  await accounted(fresh, -12345n, async () => [
    await fresh.sendTransaction({ to: funder.address, value: 12345n }),
  ]);
  const nonce = await provider.getTransactionCount(fresh.address);
  assert.equal(nonce, 1);
});

after(() => provider.destroy());

test("the Rust ERC-20 from ward build's ABI and bytecode is an ERC-20 to ethers and Solidity", { timeout: 300_000 }, async () => {
  const owner = account(9);
  const spender = account(0);
  const to = Wallet.createRandom().address;
  const abi = JSON.parse(readFileSync(`${RUST_ERC20}/erc20.abi.json`, "utf8"));
  const bytecode = readFileSync(`${RUST_ERC20}/erc20.bin`, "utf8").trim();
  assert.match(bytecode, /^0xef5700/);
  const nonce = await provider.getTransactionCount(owner.address);
  const token = await new ContractFactory(abi, bytecode, owner).deploy(10n ** 6n);
  await token.waitForDeployment();
  // A 20-byte address, CREATE's, as for a Solidity contract.
  const address = await token.getAddress();
  assert.equal(address, getCreateAddress({ from: owner.address, nonce }));
  assert.notEqual(await provider.getCode(address), "0x");
  assert.deepEqual(
    [await token.name(), await token.symbol(), await token.decimals(), await token.totalSupply()],
    ["Ward Rust Token", "WRT", 18n, 10n ** 6n],
  );

  const receipt = await (await token.transfer(to, 250n)).wait();
  assert.equal(receipt.logs.length, 1);
  const event = token.interface.parseLog(receipt.logs[0]);
  assert.equal(event.name, "Transfer");
  assert.deepEqual([event.args.from, event.args.to, event.args.value], [owner.address, to, 250n]);
  assert.equal(await token.balanceOf(to), 250n);

  await (await token.approve(spender.address, 100n)).wait();
  assert.equal(await token.allowance(owner.address, spender.address), 100n);
  await (await token.connect(spender).transferFrom(owner.address, to, 60n)).wait();
  assert.equal(await token.balanceOf(to), 310n);
  // Solidity's reasons, which ethers decodes from the estimate.
  await assert.rejects(token.connect(spender).transferFrom(owner.address, to, 41n), (e) => {
    assert.equal(e.code, "CALL_EXCEPTION");
    assert.equal(e.reason, "insufficient allowance");
    return true;
  });
  await assert.rejects(token.connect(spender).transfer(owner.address, 1n), (e) => {
    assert.equal(e.reason, "insufficient balance");
    return true;
  });

  // The Solidity Escrow holds and moves it through IERC20, and passes
  // its reasons on.
  const escrow = await deploy("Escrow", owner, address);
  const escrowAddress = await escrow.getAddress();
  await (await token.approve(escrowAddress, 500n)).wait();
  const opened = await (await escrow.open(to, 500n)).wait();
  const names = opened.logs.map((l) => (l.address === address ? token : escrow).interface.parseLog(l).name);
  assert.deepEqual(names, ["Transfer", "Opened"]);
  assert.equal(await escrow.held(), 500n);
  await assert.rejects(escrow.open(to, 1n), (e) => {
    assert.equal(e.reason, "insufficient allowance");
    return true;
  });
  await (await escrow.release(0n)).wait();
  assert.equal(await token.balanceOf(to), 810n);
  assert.equal(await token.balanceOf(escrowAddress), 0n);
});
