# Ward's two entry points. Both are idempotent and install what they need.
#   make demo   run Ward's main job on its embedded defaults
#   make test   the whole gate: fmt, clippy (warnings are errors), all tests

CARGO ?= cargo
WARD  := target/debug/ward

.PHONY: demo test setup contracts fmt clippy unit bench fuzz

# rustfmt and clippy ship with rustup's default profile; add them if a
# minimal toolchain lacks them (no-op when present).
setup:
	@command -v $(CARGO) >/dev/null || { echo "cargo not found: install Rust with rustup (https://rustup.rs)"; exit 1; }
	@$(CARGO) fmt --version >/dev/null 2>&1 || rustup component add rustfmt
	@$(CARGO) clippy --version >/dev/null 2>&1 || rustup component add clippy

demo: setup
	$(CARGO) build --locked -p ward-cli
	@echo "== examples/hello.wat with input 'ward', on both backends =="
	$(WARD) run examples/hello.wat --input 0x77617264 --debug-log --backend wasmtime
	$(WARD) run examples/hello.wat --input 0x77617264 --debug-log --backend wasmi
	@echo "== the same module, empty input: a revert that keeps its output (exit code 1 expected) =="
	$(WARD) run examples/hello.wat --json --backend wasmi || test $$? -eq 1
	@echo "== a hostile module (an infinite loop): out of gas, deterministically (exit code 1 expected) =="
	$(WARD) run examples/spin.wat --gas 1000000 --json --backend wasmtime || test $$? -eq 1
	$(WARD) run examples/spin.wat --gas 1000000 --json --backend wasmi || test $$? -eq 1
	@echo "== what the policy sees =="
	$(WARD) inspect examples/hello.wat
	@echo "== contracts with state: a counter deployed into a fresh data directory (redb) =="
	@rm -rf target/demo-data
	$(WARD) deploy examples/counter.wat --input 0x0500000000000000 --data-dir target/demo-data
	@ADDR=$$($(WARD) deploy examples/counter.wat --salt 0x01 --data-dir target/demo-data --json | tail -1 | sed 's/.*"address":"\([^"]*\)".*/\1/'); \
	  echo "== calls in new blocks, on either backend, each its own process =="; \
	  $(WARD) call $$ADDR --data-dir target/demo-data --backend wasmtime && \
	  $(WARD) call $$ADDR --data-dir target/demo-data --backend wasmi && \
	  echo "== a read-only query (commits nothing) and the persisted state ==" && \
	  $(WARD) query $$ADDR --input 0x676574 --data-dir target/demo-data && \
	  $(WARD) state $$ADDR --data-dir target/demo-data

# The example contracts (contracts/), built for wasm32-unknown-unknown; the
# script finds or installs a toolchain (see contracts/build.sh).
contracts: setup
	contracts/build.sh

fmt: setup
	$(CARGO) fmt --all -- --check
	cd contracts && $(CARGO) fmt --all -- --check

clippy: setup
	$(CARGO) clippy --locked --workspace --all-targets -- -D warnings

unit: setup contracts
	$(CARGO) test --locked --workspace

test: fmt clippy unit

bench: setup
	$(CARGO) bench --locked -p ward-benches

# The differential test (wasm-smith modules, wasmtime vs wasmi through Ward's
# metered path) for longer: FUZZ_CASES seeds from a time-based start.
FUZZ_CASES ?= 20000
fuzz: setup
	WARD_DIFF_CASES=$(FUZZ_CASES) WARD_DIFF_SEED=$$(date +%s) \
	  $(CARGO) test --locked --release -p ward-testkit --test all differential -- --nocapture
