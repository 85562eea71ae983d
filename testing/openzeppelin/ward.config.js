// OpenZeppelin Contracts' own Hardhat config, unchanged, with what this
// machine and a Ward dev node need around it (scripts/openzeppelin.sh
// copies this file into the suite's directory and runs Hardhat with
// `--config ward.config.js`):
//
// - the compiler: npm's solcjs (WARD_SOLCJS, its `soljson.js`), since
//   Hardhat cannot download a native solc here;
// - compilation in chunks: solcjs runs out of WebAssembly memory on the
//   whole tree (and its exposed contracts) as one job, so the per-file
//   jobs Hardhat builds are merged into jobs of at most
//   WARD_COMPILE_CHUNK files each (a file's imports come with it);
// - the `localhost` network: the node at WARD_RPC, whose dev accounts
//   sign, and a fixed gas limit (WARD_TX_GAS, in EVM gas: the chain's
//   max_tx_gas over 64) for every transaction. Hardhat's own network sends each transaction
//   with its block's gas limit instead of an estimate, and hardhat-ethers
//   does the same on `localhost` when its `gas` is a number. OZ's
//   fixtures need it: the Governor's sends a delegation and a transfer
//   at once (Promise.all), each estimated before either is mined, so
//   whichever is mined second needs more gas than its estimate.
//
// The test files and OpenZeppelin's config are not touched.

const path = require('path');
const { subtask } = require('hardhat/config');
const {
  TASK_COMPILE_SOLIDITY_GET_SOLC_BUILD,
  TASK_COMPILE_SOLIDITY_MERGE_COMPILATION_JOBS,
} = require('hardhat/builtin-tasks/task-names');

const config = require('./hardhat.config.js');

subtask(TASK_COMPILE_SOLIDITY_GET_SOLC_BUILD, async ({ solcVersion }) => {
  const soljson = process.env.WARD_SOLCJS;
  if (!soljson) throw new Error('WARD_SOLCJS names no soljson.js');
  const solc = require(path.join(path.dirname(soljson), 'wrapper.js'))(require(soljson));
  const longVersion = solc.version().replace(/\.Emscripten.*$/, '');
  if (!longVersion.startsWith(solcVersion + '+')) {
    throw new Error(`WARD_SOLCJS is solc ${longVersion}, the suite asks for ${solcVersion}`);
  }
  return { compilerPath: soljson, isSolcJs: true, version: solcVersion, longVersion };
});

subtask(TASK_COMPILE_SOLIDITY_MERGE_COMPILATION_JOBS, async ({ compilationJobs }, _, runSuper) => {
  const chunk = Number(process.env.WARD_COMPILE_CHUNK || 40);
  const merged = [];
  for (let i = 0; i < compilationJobs.length; i += chunk) {
    merged.push(...(await runSuper({ compilationJobs: compilationJobs.slice(i, i + chunk) })));
  }
  return merged;
});

config.networks.localhost = {
  url: process.env.WARD_RPC || 'http://127.0.0.1:8645/',
  timeout: 120000,
  gas: Number(process.env.WARD_TX_GAS || 30000000),
};
config.mocha = { ...(config.mocha || {}), timeout: 120000 };
// Each test's title and outcome, for the runner to count and compare.
if (process.env.WARD_MOCHA_JSON) {
  config.mocha.reporter = 'json';
  config.mocha.reporterOption = { output: process.env.WARD_MOCHA_JSON };
}

module.exports = config;
