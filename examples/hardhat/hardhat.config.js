// Hardhat 2 against a Ward node (docs/ethereum.md): `ward serve --dev`,
// then `npx hardhat test --network ward --no-compile`. WARD_RPC names
// another node. The accounts are the node's (eth_accounts; it signs
// eth_sendTransaction for them, as Hardhat's own node does).
require("@nomicfoundation/hardhat-ethers");

module.exports = {
  solidity: "0.8.28",
  networks: {
    ward: {
      url: process.env.WARD_RPC || "http://127.0.0.1:8645/",
      chainId: 31337,
      timeout: 120000,
    },
  },
  mocha: { timeout: 120000 },
};
