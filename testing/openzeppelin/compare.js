// Counts and compares the runs of OpenZeppelin's suite that
// scripts/openzeppelin.sh made (mocha's JSON reports), against the
// known-failures file:
//
//   node compare.js KNOWN_FAILURES [hardhat=FILE] BACKEND=FILE...
//
// Prints passed / failed / pending for each run (mocha's counts), and,
// for each Ward run, the share of the tests that pass on Hardhat's
// network which pass on Ward, tests matched by file and title (some
// titles repeat, some hold random numbers: see `shape`). Fails (exit 1) when a Ward run fails a test the known-failures
// file does not list, or the file lists one twice or without a cause;
// names listed tests that passed, so the list shrinks.

const fs = require('fs');

// `path :: full title` of a mocha test.
const key = (test, root) => `${test.file.slice(test.file.indexOf(root) + root.length)} :: ${test.fullTitle}`;

// A test's key with its long numbers made one placeholder: some titles
// hold values drawn at random on each run (Math's "invMod ... trying to
// inverse 3517...", 77 digits), so two runs of one test differ there.
const shape = k => k.replace(/0x[0-9a-fA-F]{8,}/g, '0x#').replace(/[0-9]{10,}/g, '#');

// How many tests of each shape passed.
function countShapes(keys) {
  const counts = new Map();
  for (const k of keys) counts.set(shape(k), (counts.get(shape(k)) || 0) + 1);
  return counts;
}

function readRun(file) {
  const report = JSON.parse(fs.readFileSync(file, 'utf8'));
  const root = '/test/';
  const passed = new Set(report.passes.map(t => key(t, root)));
  const shapes = countShapes(report.passes.map(t => key(t, root)));
  const failed = new Map(report.failures.map(t => [key(t, root), (t.err && t.err.message) || '']));
  const pending = new Set(report.pending.map(t => key(t, root)));
  // A hook's failure ("before each" hook ...) stands for the tests under it.
  // Mocha's own counts: a title may stand for several tests.
  const counts = { passed: report.passes.length, failed: report.failures.length, pending: report.pending.length };
  return { passed, shapes, failed, pending, counts };
}

// The known failures: `## cause` lines, each followed by the tests it
// explains (`test/... :: title`); `#` comments and blank lines aside.
function readKnown(file) {
  const known = new Map();
  let cause = null;
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  lines.forEach((line, i) => {
    if (line.startsWith('## ')) {
      cause = line.slice(3).trim();
    } else if (line.trim() === '' || line.startsWith('#')) {
      // nothing
    } else {
      if (!cause) throw new Error(`${file}:${i + 1}: a failure listed before any "## cause" line`);
      const test = line.trim().replace(/^test\//, '');
      if (known.has(test)) throw new Error(`${file}:${i + 1}: listed twice: ${test}`);
      known.set(test, cause);
    }
  });
  return known;
}

const [knownFile, ...runArgs] = process.argv.slice(2);
const known = readKnown(knownFile);
const runs = runArgs.map(arg => {
  const at = arg.indexOf('=');
  return { name: arg.slice(0, at), ...readRun(arg.slice(at + 1)) };
});
const hardhat = runs.find(run => run.name === 'hardhat');

let unexpected = 0;
for (const run of runs) {
  const { passed, failed, pending } = run.counts;
  let line = `${run.name}: ${passed} passed, ${failed} failed, ${pending} pending (${passed + failed + pending})`;
  if (hardhat && run !== hardhat) {
    // Matched by shape, as many times as both runs passed it.
    let both = 0;
    let base = 0;
    for (const [s, count] of hardhat.shapes) {
      base += count;
      both += Math.min(count, run.shapes.get(s) || 0);
    }
    line += `; ${both} of the ${base} that pass on Hardhat's network pass here (${((100 * both) / Math.max(base, 1)).toFixed(2)} %)`;
  }
  console.log(line);
  if (run === hardhat) continue;
  const causes = new Map();
  for (const [test, message] of run.failed) {
    const cause = known.get(test);
    if (cause) {
      causes.set(cause, (causes.get(cause) || 0) + 1);
    } else {
      unexpected += 1;
      console.log(`  not a known failure: ${test}\n    ${message.split('\n')[0].slice(0, 300)}`);
    }
  }
  for (const [cause, count] of causes) console.log(`  known (${count}): ${cause}`);
  const nowPassing = [...known.keys()].filter(t => run.passed.has(t));
  for (const test of nowPassing) console.log(`  listed as failing, passed: ${test}`);
}
console.log(`known failures listed: ${known.size}`);
if (unexpected > 0) {
  console.log(`${unexpected} failure(s) not in ${knownFile}: fix them, or list each with its cause`);
  process.exit(1);
}
