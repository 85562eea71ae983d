// `make demo`'s Ethereum part: ethers v6, unchanged, deploys a Solidity
// ERC-20 on a Ward dev node and uses it, as it would on any Ethereum
// chain (scripts/eth-clients.sh starts the node; docs/ethereum.md).
import { readFileSync } from "node:fs";
import { ContractFactory, HDNodeWallet, JsonRpcProvider, formatEther } from "ethers";

const provider = new JsonRpcProvider(process.env.WARD_RPC, undefined, { cacheTimeout: -1 });
const phrase = "test test test test test test test test test test test junk";
const wallet = HDNodeWallet.fromPhrase(phrase, undefined, "m/44'/60'/0'/0/0").connect(provider);
const bob = HDNodeWallet.fromPhrase(phrase, undefined, "m/44'/60'/0'/0/1").address;
const dir = process.env.WARD_SOLIDITY;
const abi = JSON.parse(readFileSync(`${dir}/Token.abi`, "utf8"));
const bytecode = "0x" + readFileSync(`${dir}/Token.bin`, "utf8").trim();

const network = await provider.getNetwork();
console.log(`connected to ${await provider.send("web3_clientVersion", [])}, chain id ${network.chainId}`);
console.log(`wallet ${wallet.address}: ${formatEther(await provider.getBalance(wallet.address))} ETH`);
const token = await new ContractFactory(abi, bytecode, wallet).deploy(10n ** 24n);
await token.waitForDeployment();
console.log(`Token (contracts/evm/solidity/Token.sol) deployed at ${await token.getAddress()}`);
const tx = await token.transfer(bob, 10n ** 18n);
const receipt = await tx.wait();
const [event] = receipt.logs.map((log) => token.interface.parseLog(log));
console.log(`transfer ${tx.hash}: block ${receipt.blockNumber}, gas ${receipt.gasUsed} at ${receipt.gasPrice} wei`);
console.log(`  event ${event.name}(${event.args.join(", ")})`);
console.log(`bob holds ${formatEther(await token.balanceOf(bob))} ${await token.symbol()}`);
provider.destroy();
