# Ward's two entry points. Both are idempotent and install what they need.
#   make demo   run Ward's main job on its embedded defaults
#   make test   the whole gate: fmt, clippy (warnings are errors), all tests

CARGO ?= cargo
WARD  := target/debug/ward

.PHONY: demo test test-data setup contracts eth-clients openzeppelin evm-conformance browser wasi-c go bench-go package publish-check cluster cluster-demo parallel-long fmt clippy unit bench bench-report metering fuzz fuzz-diff fuzz-cov loops

# rustfmt and clippy ship with rustup's default profile; add them if a
# minimal toolchain lacks them (no-op when present).
setup:
	@command -v $(CARGO) >/dev/null || { echo "cargo not found: install Rust with rustup (https://rustup.rs)"; exit 1; }
	@$(CARGO) fmt --version >/dev/null 2>&1 || rustup component add rustfmt
	@$(CARGO) clippy --version >/dev/null 2>&1 || rustup component add clippy

demo: setup contracts
	$(CARGO) build --locked -p ward-cli
	scripts/demo.sh $(WARD)

# The example contracts (contracts/), built for wasm32-unknown-unknown; the
# script finds or installs a toolchain (see contracts/build.sh).
contracts: setup
	contracts/build.sh

fmt: setup
	$(CARGO) fmt --all -- --check
	cd contracts && $(CARGO) fmt --all -- --check

# The gate's one feature set, so that clippy and the tests each resolve and
# build the workspace once: ward-benches' `revm-native` (revm built natively
# for the EVM runtime's conformance test, docs/evm.md) and, when protoc is
# installed, ward-node's `etcd` (the replicated block log: etcd-client's
# build runs protoc; `cluster` installs it and etcd-server as root), so
# that `cargo build` needs Rust alone.
GATE_FEATURES = --features ward-benches/revm-native$$(command -v protoc >/dev/null && echo ,ward-node/etcd,ward-cli/etcd,ward-benches/etcd)

cluster:
	@scripts/install-cluster.sh

# Three etcd members and three replicas on loopback, failures included
# (docs/replication.md). Needs etcd-server, protoc and curl (installed by
# `cluster` as root).
cluster-demo: setup cluster
	$(CARGO) build --locked -p ward-cli --features etcd
	@scripts/cluster-demo.sh target/debug/ward target/cluster-demo

# One pass over the gate's features and ward-benches' `revm`, which is
# bench-report's build: `revm` adds ward-chain's unchecked transactions
# (a function, no code taken away), so clippy sees a superset of what the
# tests build, and the tests, built apart, never see them.
clippy: setup cluster
	$(CARGO) clippy --locked --workspace --all-targets $(GATE_FEATURES),ward-benches/revm -- -D warnings

# The explorer's browser test drives Debian's Chromium (installed here as
# root when missing; without it that test prints why and skips).
browser:
	@scripts/install-browser.sh

# The WASI C programs' test builds with Debian's clang, lld, wasi-libc and
# libclang-rt-14-dev-wasm32 (installed here as root when missing; without
# them that test prints why and skips).
wasi-c:
	@scripts/install-wasi-c.sh

# The Go package's tests (bindings/go, through ward-capi's `go` test) use
# Debian's golang-go (Go 1.19; installed here as root when missing).
go:
	@scripts/install-go.sh

# Tests that need a real component (etcd, Chromium, clang for WASI) fail
# rather than skip under WARD_REQUIRE_ALL=1, as here: the gate cannot pass
# by skipping (REQUIRE_ALL=0 to let them skip on a machine without them).
REQUIRE_ALL ?= 1

unit: setup contracts browser wasi-c go cluster test-data
	@if [ "$(REQUIRE_ALL)" = 1 ] && ! command -v protoc >/dev/null; then \
	  echo "make test: protoc is missing, so the replication tests (ward-node's etcd feature) cannot be built: run as root, or install protobuf-compiler (REQUIRE_ALL=0 to skip them)"; exit 1; fi
	@# The crates `ward new`'s crate builds with (contracts/Cargo.lock):
	@# the CLI's author tests build one offline, inside this cargo test.
	cd contracts && $(CARGO) fetch --locked
	. target/test-data/env && export WARD_SPEC_DIR WARD_WASI_SUITE_DIR WARD_STATE_TESTS_DIR && \
	  WARD_REQUIRE_ALL=$(REQUIRE_ALL) $(CARGO) test --locked --workspace $(GATE_FEATURES)
	@# The example contracts' own tests (contracts/*/tests, on ward-test),
	@# in their workspace; its host build shares target/ with the one above.
	@# evm has none (docs/evm.md's tests drive it), and its host build
	@# would compile revm again.
	cd contracts && $(CARGO) test --locked --workspace --exclude evm
	@# `cargo test` built the example with the workspace's features; `cargo
	@# run -p ward-backends` would rebuild wasmtime with its features alone.
	target/debug/examples/embed
	@# Real Ethereum clients against a dev node, with the `ward` that
	@# `cargo test` built (docs/ethereum.md).
	scripts/eth-clients.sh $(WARD) target/eth-clients
	@# OpenZeppelin Contracts' own Hardhat tests for ERC-20 and its
	@# extensions, access and utils/cryptography against a dev node
	@# (`make openzeppelin` runs them all, on both backends).
	scripts/openzeppelin.sh $(WARD) target/openzeppelin gate wasmtime
	@# The commands the README and docs tell a user to type, run as they
	@# would run them (bins/cli/tests/docs checks that every `make` target
	@# they name is run here or says why not): `make demo`'s steps and the
	@# cluster demo, with the same `ward`.
	scripts/demo.sh $(WARD) > target/demo-run.log 2>&1 || { cat target/demo-run.log; exit 1; }
	@if command -v protoc >/dev/null; then \
	  scripts/cluster-demo.sh $(WARD) target/cluster-demo > target/cluster-demo.log 2>&1 || { cat target/cluster-demo.log; exit 1; }; \
	elif [ "$(REQUIRE_ALL)" = 1 ]; then echo "make test: the cluster demo needs protoc and etcd (make cluster, as root)"; exit 1; fi

# The WebAssembly spec suite and the WASI test suite the tests read, from
# WARD_SPEC_DIR / WARD_WASI_SUITE_DIR, ../shared, or fetched at their
# pinned commits into target/test-data (scripts/test-data.sh).
test-data:
	@scripts/test-data.sh

# OpenZeppelin Contracts v5.1.0's own Hardhat test suite, unchanged,
# against a Ward dev node on each backend, beside the same suite on
# Hardhat's own network; passed / failed / pending, and the failures
# against testing/openzeppelin/known-failures.txt (docs/ethereum.md,
# "Conformance").
openzeppelin: setup contracts
	$(CARGO) build --locked -p ward-cli
	scripts/openzeppelin.sh $(WARD) target/openzeppelin all

# Ethereum's GeneralStateTests (ethereum/tests, filled for Cancun), every
# case, through the EVM runtime on both backends against revm run natively,
# with a progress bar; the differences against
# testing/statetests/known-differences.txt (docs/evm.md, "Ethereum's state
# tests"). `make test` runs a fixed sample of every folder.
evm-conformance: setup contracts test-data
	$(CARGO) build --locked -p ward-statetests --bin ward-statetest
	. target/test-data/env && target/debug/ward-statetest \
	  --known testing/statetests/known-differences.txt "$$WARD_STATE_TESTS_DIR"

# ethers v6, web3.py with eth-account, and Hardhat 2 (npm and PyPI, pinned,
# cached in target/eth-clients) against a `ward serve --dev` each.
eth-clients: setup contracts
	$(CARGO) build --locked -p ward-cli
	scripts/eth-clients.sh $(WARD) target/eth-clients

# The library crates published to crates.io (CHANGELOG.md, "Versioning"):
# their rustdoc must build without a warning, and each must package.
PUBLISHED = ward-primitives ward-abi ward-instrument ward-wasi ward-vm \
  ward-vm-wasmtime ward-vm-wasmi ward-backends ward-chain ward-state \
  ward-snapshot ward-executor ward-debug ward-build ward-rpc ward-test ward-node \
  ward-capi ward-sdk ward-devkeys

package: setup
	RUSTDOCFLAGS="-D warnings" $(CARGO) doc --locked --no-deps $(addprefix -p ,$(PUBLISHED))
	@for crate in $(PUBLISHED); do \
	  $(CARGO) package --locked --allow-dirty --list -p $$crate > target/package-$$crate.list || exit 1; \
	done
	@# Every one resolves and uploads in dependency order (a dry run that
	@# does not build each again: publish-check does).
	$(CARGO) publish --locked --allow-dirty --dry-run --workspace --no-verify 2> target/publish-dry-run.log || { cat target/publish-dry-run.log; exit 1; }
	@echo "package: $(words $(PUBLISHED)) crates document without warnings, package, and publish (dry run)"

# What `cargo publish` would do for every published crate, in dependency
# order, each verified by building it from its packaged sources (long: a
# build of each; not part of `make test`).
publish-check: setup
	$(CARGO) publish --locked --allow-dirty --dry-run --workspace

test: fmt clippy unit package

bench: setup
	$(CARGO) bench --locked -p ward-benches

# A token transfer through the Go package (bindings/go) against the same
# transfer through the Rust API, in one run, release builds (needs Go).
bench-go: setup contracts go
	$(CARGO) run --locked --release -p ward-capi --example go_overhead

# Every `ward-bench` figure with every baseline: revm on a solc-compiled
# ERC-20 (erc20_transfer, feature `revm`) and, with protoc and etcd-server
# (installed by `cluster` as root), the replicated cluster. The table goes
# to stderr, the JSON to stdout's last line.
bench-report: setup contracts cluster
	$(CARGO) build --locked --release -p ward-benches --bin ward-bench --features revm$$(command -v protoc >/dev/null && echo ,etcd)
	target/release/ward-bench --json

# Parallel blocks against sequential ones, long: many random chains up to
# 10,000 accounts on both backends at 1, 2 and 4 threads (make test runs 6).
parallel-long: setup contracts
	WARD_PARALLEL_CASES=60 WARD_PARALLEL_ACCOUNTS=10000 $(CARGO) test --locked --release -p ward-executor --test all parallel -- --nocapture

# Issue 3's metering table: every kernel on both engines, one layout
# (metering_probe), then the wasmtime columns averaged over 16 code layouts
# per side (metering_layouts). About 10 minutes.
metering: setup
	$(CARGO) run --locked --release -p ward-benches --example metering_probe -- 3
	$(CARGO) run --locked --release -p ward-benches --example metering_layouts -- 1 16

# Counted loops prepaid vs checked every iteration, for longer: LOOP_CASES
# generated loop shapes from a time-based seed.
LOOP_CASES ?= 4000
loops: setup
	WARD_LOOP_CASES=$(LOOP_CASES) WARD_LOOP_SEED=$$(date +%s) \
	  $(CARGO) test --locked --release -p ward-testkit --test all loops::prepaid -- --nocapture

# Long fuzzing: the differential test and the coverage-guided targets.
fuzz: fuzz-diff fuzz-cov

# The differential test (wasm-smith modules, wasmtime vs wasmi through Ward's
# metered path) for longer: FUZZ_CASES seeds from a time-based start.
FUZZ_CASES ?= 20000
fuzz-diff: setup
	WARD_DIFF_CASES=$(FUZZ_CASES) WARD_DIFF_SEED=$$(date +%s) \
	  $(CARGO) test --locked --release -p ward-testkit --test all differential -- --nocapture

# Coverage-guided fuzzing (cargo-fuzz, libFuzzer) of every target in fuzz/
# for FUZZ_SECONDS each, on rustup's stable Rust (no sanitizer, so no -Z
# flags), then each corpus minimised in place: commit what changed in
# fuzz/corpus. `make test` replays that corpus (testing/fuzz). The fuzz
# crate's lock starts from the workspace's, so it fuzzes the versions Ward
# ships. The RSS limit leaves room for redb's transient allocations on
# damaged files (up to 4 GiB: fuzz/known/README.md).
FUZZ_SECONDS ?= 600
FUZZ_TARGETS ?= module values records journal store chain schema wasi rpc eth
fuzz-cov: setup
	@command -v cargo-fuzz >/dev/null || $(CARGO) install cargo-fuzz --locked
	cp Cargo.lock fuzz/Cargo.lock
	cd fuzz && for t in $(FUZZ_TARGETS); do \
	  $(CARGO) fuzz run -s none --release $$t corpus/$$t -- \
	    -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=8192 -timeout=60 || exit 1; \
	  $(CARGO) fuzz cmin -s none --release $$t corpus/$$t || exit 1; \
	done
	WARD_CORPUS_STRIDE=1 $(CARGO) test --locked --release -p ward-fuzz
