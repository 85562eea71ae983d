// OpenZeppelin Contracts' own Hardhat config, unchanged, with what this
// machine and a Ward dev node need around it (scripts/openzeppelin.sh
// copies this file into the suite's directory and runs Hardhat with
// `--config ward.config.js`):
//
// - the compiler: npm's solcjs (WARD_SOLCJS, its `soljson.js`), since
//   Hardhat cannot download a native solc here;
// - with WARD_COMPILE_FOR (test directories, space-separated): only the
//   sources that declare a contract those tests name (a string literal
//   in a test file or a local module it requires; `$X`, hardhat-exposed's
//   mock of X, names X's file) are compile roots, their imports with
//   them, so that the gate's part compiles what it deploys and no more;
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

const fs = require('fs');
const path = require('path');
const { subtask } = require('hardhat/config');
const {
  TASK_COMPILE_SOLIDITY_GET_SOLC_BUILD,
  TASK_COMPILE_SOLIDITY_GET_SOURCE_PATHS,
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

// Every name a string literal gives in the `*.test.js` files under `dirs`
// and in the local modules they require, transitively.
function namesTestsUse(dirs) {
  const files = [];
  const walk = dir => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const file = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(file);
      else if (entry.name.endsWith('.test.js')) files.push(file);
    }
  };
  dirs.forEach(dir => walk(path.resolve(__dirname, dir)));
  const names = new Set();
  const seen = new Set();
  while (files.length > 0) {
    const file = files.pop();
    if (seen.has(file)) continue;
    seen.add(file);
    const text = fs.readFileSync(file, 'utf8');
    for (const [, name] of text.matchAll(/['"`]\$?([A-Za-z_][A-Za-z0-9_]*)['"`]/g)) names.add(name);
    for (const [, module] of text.matchAll(/require\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/g)) {
      const base = path.resolve(path.dirname(file), module);
      const found = [base, base + '.js'].find(f => fs.existsSync(f) && fs.statSync(f).isFile());
      if (found) files.push(found);
    }
  }
  return names;
}

if (process.env.WARD_COMPILE_FOR) {
  subtask(TASK_COMPILE_SOLIDITY_GET_SOURCE_PATHS, async (_, __, runSuper) => {
    const names = namesTestsUse(process.env.WARD_COMPILE_FOR.split(/\s+/).filter(Boolean));
    const declares = /^\s*(?:abstract\s+)?(?:contract|library|interface)\s+([A-Za-z_][A-Za-z0-9_]*)/gm;
    return (await runSuper()).filter(file =>
      [...fs.readFileSync(file, 'utf8').matchAll(declares)].some(([, name]) => names.has(name)),
    );
  });
}

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
