#!/usr/bin/env bash
# The test data `make test` reads and this repository does not carry
# (CONTRIBUTING.md, "Test data"): the WebAssembly core spec suite, the
# official WASI test suite and Ethereum's GeneralStateTests. For each, in
# this order:
#   1. the directory its variable names (WARD_SPEC_DIR, WARD_WASI_SUITE_DIR,
#      WARD_STATE_TESTS_DIR);
#   2. the team's offline copy beside the checkout (../shared, or
#      WARD_SHARED_DIR), which this machine and CI have;
#   3. a copy fetched with git at its pinned upstream commit into
#      target/test-data (once: a finished fetch is stamped with its commit,
#      which git checked object by object), checked for the files the
#      tests read.
# Writes the three variables to target/test-data/env for `make test` to
# read, or fails with one line naming what it could not fetch and the
# variables that point at a local copy.
#
#   scripts/test-data.sh [OUT_DIR]     (default: target/test-data)
#
# WARD_SPEC_URL / WARD_WASI_SUITE_URL / WARD_STATE_TESTS_URL (and
# _COMMIT) fetch from elsewhere,
# a mirror or, in the script's own test, a local repository.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-target/test-data}
SHARED=${WARD_SHARED_DIR:-../shared}
mkdir -p "$OUT"

SPEC_URL=${WARD_SPEC_URL:-https://github.com/WebAssembly/testsuite}
SPEC_COMMIT=${WARD_SPEC_COMMIT:-a8101597d3c3c660086c3cd1eedee608ff18d3c3}
WASI_URL=${WARD_WASI_SUITE_URL:-https://github.com/WebAssembly/wasi-testsuite}
# Branch prod/testsuite-base at 9f80ca35.
WASI_COMMIT=${WARD_WASI_SUITE_COMMIT:-9f80ca35444cfd9e63100725615140a346652e6c}
STATE_URL=${WARD_STATE_TESTS_URL:-https://github.com/ethereum/tests}
# 2024-10-24, its GeneralStateTests filled for Cancun.
STATE_COMMIT=${WARD_STATE_TESTS_COMMIT:-4c87ebbf024a3e9ec842bcce90564f629a3bcd82}

# fetch NAME URL COMMIT DIR: DIR holds URL's tree at COMMIT, or this fails
# with why on stderr.
fetch() {
  local name=$1 url=$2 commit=$3 dir=$4
  if [ -f "$dir/.ward-fetched" ] && [ "$(cat "$dir/.ward-fetched")" = "$commit" ]; then
    return 0
  fi
  command -v git >/dev/null || { echo "git is not installed" >&2; return 1; }
  rm -rf "$dir"
  mkdir -p "$dir"
  git -C "$dir" init -q
  # One commit, by its id (GitHub serves any reachable commit this way).
  git -C "$dir" fetch -q --depth 1 "$url" "$commit" 2>"$dir/.fetch.log" \
    || { { grep -m1 '^fatal:' "$dir/.fetch.log" || tail -1 "$dir/.fetch.log"; } >&2; return 1; }
  git -C "$dir" -c advice.detachedHead=false checkout -q FETCH_HEAD
  local got
  got=$(git -C "$dir" rev-parse HEAD)
  if [ "$got" != "$commit" ]; then
    echo "$url gave commit $got, not $commit" >&2
    return 1
  fi
  echo "$commit" > "$dir/.ward-fetched"
}

# need NAME DIR PATTERN MIN: DIR holds at least MIN files matching PATTERN.
need() {
  local name=$1 dir=$2 pattern=$3 min=$4 count
  count=$(find "$dir" -maxdepth 1 -name "$pattern" 2>/dev/null | wc -l)
  if [ "$count" -lt "$min" ]; then
    echo "$name at $dir has $count $pattern files, fewer than the $min the tests read" >&2
    return 1
  fi
}

# resolve NAME KEY VARIABLE SHARED_PATH URL COMMIT SUBDIR PATTERN MIN: the
# suite's directory on stdout (a fetched one under OUT/KEY-COMMIT).
resolve() {
  local name=$1 key=$2 variable=$3 shared=$4 url=$5 commit=$6 subdir=$7 pattern=$8 min=$9
  local given=${!variable:-}
  if [ -n "$given" ]; then
    need "$name" "$given" "$pattern" "$min" || exit 1
    echo "$given"
    return
  fi
  if [ -d "$shared" ]; then
    need "$name" "$shared" "$pattern" "$min" || exit 1
    (cd "$shared" && pwd)
    return
  fi
  local dir="$OUT/$key-${commit:0:8}"
  local why
  if ! why=$(fetch "$name" "$url" "$commit" "$dir" 2>&1 >/dev/null); then
    echo "make test: could not fetch $name ($url at ${commit:0:8}): ${why:-unknown error}; point $variable at a local copy (CONTRIBUTING.md, \"Test data\")" >&2
    exit 1
  fi
  need "$name" "$dir/$subdir" "$pattern" "$min" || exit 1
  (cd "$dir/$subdir" && pwd)
}

spec=$(resolve "the WebAssembly spec suite" wasm-testsuite WARD_SPEC_DIR "$SHARED/wasm-testsuite" \
  "$SPEC_URL" "$SPEC_COMMIT" . '*.wast' 100)
wasi=$(resolve "the WASI test suite" wasi-testsuite WARD_WASI_SUITE_DIR "$SHARED/wasi-testsuite/rust" \
  "$WASI_URL" "$WASI_COMMIT" tests/rust/testsuite/wasm32-wasip1 '*.wasm' 40)
# Its folders (stExample, ...; the files are one level down).
state=$(resolve "Ethereum's state tests" ethereum-tests WARD_STATE_TESTS_DIR \
  "$SHARED/ethereum-tests/GeneralStateTests" "$STATE_URL" "$STATE_COMMIT" GeneralStateTests '*' 40)
{
  echo "WARD_SPEC_DIR=$spec"
  echo "WARD_WASI_SUITE_DIR=$wasi"
  echo "WARD_STATE_TESTS_DIR=$state"
} > "$OUT/env"
echo "test data: spec suite $spec; WASI suite $wasi; state tests $state"
