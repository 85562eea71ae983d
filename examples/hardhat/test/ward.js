// A Hardhat test as any project writes one, run against a Ward dev node:
// Solidity contracts from their committed artifacts (Hardhat cannot
// download a compiler here: `--no-compile`), the node's accounts, and
// Hardhat's dev controls (snapshots, time, balances, impersonation).
const assert = require("node:assert/strict");
const fs = require("node:fs");
const path = require("node:path");
const { ethers, network } = require("hardhat");

const SOLIDITY =
  process.env.WARD_SOLIDITY || path.join(__dirname, "../../../contracts/evm/solidity");

async function deploy(name, signer, ...args) {
  const abi = JSON.parse(fs.readFileSync(path.join(SOLIDITY, `${name}.abi`), "utf8"));
  const bin = "0x" + fs.readFileSync(path.join(SOLIDITY, `${name}.bin`), "utf8").trim();
  const contract = await new ethers.ContractFactory(abi, bin, signer).deploy(...args);
  await contract.waitForDeployment();
  return contract;
}

describe("Ward with Hardhat", function () {
  let snapshot;
  beforeEach(async () => {
    snapshot = await network.provider.send("evm_snapshot", []);
  });
  afterEach(async () => {
    assert.equal(await network.provider.send("evm_revert", [snapshot]), true);
  });

  it("deploys a token and transfers it from the node's accounts", async () => {
    const [owner, other] = await ethers.getSigners();
    assert.equal((await ethers.provider.getNetwork()).chainId, 31337n);
    const token = await deploy("Token", owner, 1000000n);
    await expectEvent(token.transfer(other.address, 250n), token, "Transfer");
    assert.equal(await token.balanceOf(other.address), 250n);
    await assert.rejects(token.connect(other).transfer(owner.address, 251n), /insufficient balance/);
  });

  it("moves time for a time lock", async () => {
    const [owner] = await ethers.getSigners();
    const payee = ethers.Wallet.createRandom().address;
    const locker = await deploy("Locker", owner, 86400n, { value: 1000n });
    await assert.rejects(locker.release(payee));
    await network.provider.send("evm_increaseTime", [86401]);
    await network.provider.send("evm_mine", []);
    await (await locker.release(payee)).wait();
    assert.equal(await ethers.provider.getBalance(payee), 1000n);
  });

  it("sets balances and sends as an impersonated account", async () => {
    const [owner] = await ethers.getSigners();
    const stranger = ethers.Wallet.createRandom().address;
    await network.provider.send("hardhat_setBalance", [stranger, "0xde0b6b3a7640000"]);
    assert.equal(await ethers.provider.getBalance(stranger), 10n ** 18n);
    const signer = await ethers.getImpersonatedSigner(stranger);
    const receipt = await (await signer.sendTransaction({ to: owner.address, value: 5n })).wait();
    assert.equal(receipt.from, stranger);
    const fee = receipt.gasUsed * receipt.gasPrice;
    assert.equal(await ethers.provider.getBalance(stranger), 10n ** 18n - 5n - fee);
    await network.provider.send("hardhat_stopImpersonatingAccount", [stranger]);
  });

  it("mines blocks on demand", async () => {
    const before = await ethers.provider.getBlockNumber();
    await network.provider.send("hardhat_mine", ["0x3"]);
    assert.equal(await ethers.provider.getBlockNumber(), before + 3);
  });
});

async function expectEvent(sent, contract, name) {
  const receipt = await (await sent).wait();
  const names = receipt.logs.map((log) => contract.interface.parseLog(log)?.name);
  assert.ok(names.includes(name), `${name} in ${names}`);
}
