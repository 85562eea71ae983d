package ward

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// ctx is the context of calls no test cancels.
var ctx = context.Background()

// contractFile is a module the tests run: from WARD_<NAME>_WASM when it
// is set; else testdata/<name>.wasm, the small modules this package keeps
// (crates/capi/tests/go.rs checks them against the text they are built
// from); else an example contract as `make contracts` builds it.
func contractFile(t testing.TB, name string) []byte {
	t.Helper()
	path := os.Getenv("WARD_" + strings.ToUpper(name) + "_WASM")
	if path == "" {
		path = filepath.Join("testdata", name+".wasm")
		if _, err := os.Stat(path); err != nil {
			path = builtContract(name)
		}
	}
	wasm, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%s: %v (run `make contracts` at the repository's root first)", path, err)
	}
	return wasm
}

// builtContract is where `make contracts` puts example contract name.
func builtContract(name string) string {
	if name == "guestbook" {
		return filepath.Join("..", "..", "target", "contracts", "wasm32-wasip1", "release", "wasi_guestbook.wasm")
	}
	return filepath.Join("..", "..", "target", "contracts", "wasm32-unknown-unknown", "release", name+".wasm")
}

// contractVM is a new ContractVM on backend; the test closes it.
func contractVM(t testing.TB, backend Backend) *ContractVM {
	t.Helper()
	vm, err := NewContractVM(backend)
	if err != nil {
		t.Fatal(err)
	}
	return vm
}

// memEnv is a chain in memory: storage by contract, events, contracts by
// address, and counts of what it was asked.
type memEnv struct {
	mu        sync.Mutex
	storage   map[string]map[string][]byte
	events    []Event
	emitters  []string
	contracts map[[32]byte]struct {
		id   string
		wasm []byte
	}
	sender string
	reads  int
	writes int
}

func newEnv(sender string) *memEnv {
	return &memEnv{
		storage: map[string]map[string][]byte{},
		contracts: map[[32]byte]struct {
			id   string
			wasm []byte
		}{},
		sender: sender,
	}
}

func (e *memEnv) Get(id string, key []byte) ([]byte, bool, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.reads++
	value, ok := e.storage[id][string(key)]
	return value, ok, nil
}

func (e *memEnv) Set(id string, key, value []byte) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.writes++
	if e.storage[id] == nil {
		e.storage[id] = map[string][]byte{}
	}
	e.storage[id][string(key)] = value
	return nil
}

func (e *memEnv) Delete(id string, key []byte) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.writes++
	delete(e.storage[id], string(key))
	return nil
}

func (e *memEnv) Emit(id string, event Event) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.events = append(e.events, event)
	e.emitters = append(e.emitters, id)
	return nil
}

func (e *memEnv) Sender() string { return e.sender }
func (e *memEnv) Height() uint64 { return 7 }
func (e *memEnv) Time() uint64   { return 1700000000000 }

func (e *memEnv) Contract(address [32]byte) (string, []byte, bool, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	c, ok := e.contracts[address]
	return c.id, c.wasm, ok, nil
}

func (e *memEnv) register(id string, wasm []byte) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.contracts[ContractAddress(id)] = struct {
		id   string
		wasm []byte
	}{id, wasm}
}

func addressJSON(a [32]byte) string { return `"0x` + hex.EncodeToString(a[:]) + `"` }

var backends = []Backend{Wasmtime, Wasmi}

// expectedGas is the Rust executor's gas for the token's steps (deploy,
// transfer, balance_of, overdraft), which crates/capi/tests/go.rs
// computes and passes in WARD_EXPECTED_GAS.
func expectedGas(t *testing.T) []uint64 {
	text := os.Getenv("WARD_EXPECTED_GAS")
	if text == "" {
		if required := os.Getenv("WARD_REQUIRE_ALL"); required != "" && required != "0" {
			t.Fatal("WARD_EXPECTED_GAS is not set: run through `cargo test -p ward-capi --test go`")
		}
		t.Skip("WARD_EXPECTED_GAS is not set: the Rust executor's figures come from `cargo test -p ward-capi --test go`")
	}
	var gas []uint64
	for _, field := range strings.Split(text, ",") {
		n, err := strconv.ParseUint(field, 10, 64)
		if err != nil {
			t.Fatalf("WARD_EXPECTED_GAS %q: %v", text, err)
		}
		gas = append(gas, n)
	}
	return gas
}

// tokenSteps deploys the token as alice and runs a transfer to bob, his
// balance, and an overdraft; it returns each step's gas.
func tokenSteps(t *testing.T, vm *ContractVM, token []byte, env *memEnv) []uint64 {
	t.Helper()
	bob := addressJSON(AccountAddress("bob"))
	var gas []uint64
	used, err := vm.Call(ctx, "token", token, "init", []byte(`{"initial_supply": "1000"}`), 100_000_000, env)
	if err != nil {
		t.Fatalf("deploy: %v", err)
	}
	gas = append(gas, used)
	result, err := vm.Invoke(ctx, "token", token, "transfer", []byte(`{"to": `+bob+`, "amount": "250"}`), 10_000_000, env)
	if err != nil {
		t.Fatalf("transfer: %v", err)
	}
	if len(result.Events) != 1 || !strings.Contains(result.Events[0].JSON, `"name":"Transfer"`) {
		t.Fatalf("transfer's events: %+v", result.Events)
	}
	gas = append(gas, result.GasUsed)
	result, err = vm.Invoke(ctx, "token", token, "balance_of", []byte(`{"who": `+bob+`}`), 10_000_000, env)
	if err != nil || result.OutputJSON != `"250"` {
		t.Fatalf("balance_of: %v %q", err, result.OutputJSON)
	}
	gas = append(gas, result.GasUsed)
	writes := env.writes
	used, err = vm.Call(ctx, "token", token, "transfer", []byte(`{"to": `+bob+`, "amount": "5000"}`), 10_000_000, env)
	var failed *CallError
	if !errors.As(err, &failed) || failed.Status != "reverted" || !strings.Contains(failed.Message, "insufficient balance") {
		t.Fatalf("overdraft: %v", err)
	}
	if env.writes != writes {
		t.Fatalf("a reverted call wrote %d entries", env.writes-writes)
	}
	gas = append(gas, used)
	return gas
}

// The SDK token through the ContractVM on both backends, with the Rust
// executor's gas.
func TestTokenHasTheRustExecutorsGasOnBothBackends(t *testing.T) {
	token := contractFile(t, "token")
	expected := expectedGas(t)
	for _, backend := range backends {
		vm := contractVM(t, backend)
		gas := tokenSteps(t, vm, token, newEnv("alice"))
		if fmt.Sprint(gas) != fmt.Sprint(expected) {
			t.Errorf("%s: gas %v, the Rust executor's %v", backend, gas, expected)
		}
		vm.Close(ctx)
	}
}

// Calls between contracts: the escrow pulls the token with transfer_from
// and pays with transfer, each a nested call served from Go; a nested
// call the token refuses leaves nothing of itself behind.
func TestEscrowCallsTheTokenThroughNestedCalls(t *testing.T) {
	token, escrow := contractFile(t, "token"), contractFile(t, "escrow")
	for _, backend := range backends {
		vm := contractVM(t, backend)
		env := newEnv("alice")
		env.register("token", token)
		env.register("escrow", escrow)
		call := func(id string, wasm []byte, method, args string) Result {
			t.Helper()
			result, err := vm.Invoke(ctx, id, wasm, method, []byte(args), 100_000_000, env)
			if err != nil {
				t.Fatalf("%s %s.%s: %v", backend, id, method, err)
			}
			return result
		}
		tokenAt, escrowAt := addressJSON(ContractAddress("token")), addressJSON(ContractAddress("escrow"))
		alice, bob := addressJSON(AccountAddress("alice")), addressJSON(AccountAddress("bob"))
		call("token", token, "init", `{"initial_supply": "1000"}`)
		call("escrow", escrow, "init", `{}`)
		call("token", token, "approve", `{"spender": `+escrowAt+`, "amount": "300"}`)
		deposit := `{"token": ` + tokenAt + `, "beneficiary": ` + bob + `, "arbiter": ` + alice + `, "amount": "300", "refund_after": 0}`
		if got := call("escrow", escrow, "deposit", deposit).OutputJSON; got != `"0"` {
			t.Fatalf("%s deposit: %s", backend, got)
		}
		if got := call("token", token, "balance_of", `{"who": `+escrowAt+`}`).OutputJSON; got != `"300"` {
			t.Fatalf("%s escrow holds %s", backend, got)
		}
		call("escrow", escrow, "release", `{"id": 0}`)
		if got := call("token", token, "balance_of", `{"who": `+bob+`}`).OutputJSON; got != `"300"` {
			t.Fatalf("%s bob holds %s", backend, got)
		}
		// No allowance left: the token refuses the nested transfer_from,
		// and the escrow says so in an event; nothing moved.
		refused := call("escrow", escrow, "deposit", deposit)
		if refused.OutputJSON != "null" || len(refused.Events) != 1 || !strings.Contains(refused.Events[0].JSON, "DepositRefused") {
			t.Fatalf("%s refused deposit: %+v", backend, refused)
		}
		if got := call("token", token, "balance_of", `{"who": `+alice+`}`).OutputJSON; got != `"700"` {
			t.Fatalf("%s alice holds %s", backend, got)
		}
		vm.Close(ctx)
	}
}

// A module Ward cannot instrument for gas (it claims the meter's own
// name) is refused by Validate and by Call, and never runs: the chain is
// not even read.
func TestAModuleThatCannotBeInstrumentedIsRefusedNotRunRaw(t *testing.T) {
	// (module (global (export "__ward_gas") i64 (i64.const 0))
	//         (memory (export "memory") 1) (func (export "main")))
	wasm := []byte{
		0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
		0x01, 0x04, 0x01, 0x60, 0x00, 0x00,
		0x03, 0x02, 0x01, 0x00,
		0x05, 0x03, 0x01, 0x00, 0x01,
		0x06, 0x06, 0x01, 0x7e, 0x00, 0x42, 0x00, 0x0b,
		0x07, 0x1e, 0x03,
		0x0a, 0x5f, 0x5f, 0x77, 0x61, 0x72, 0x64, 0x5f, 0x67, 0x61, 0x73, 0x03, 0x00,
		0x06, 0x6d, 0x65, 0x6d, 0x6f, 0x72, 0x79, 0x02, 0x00,
		0x04, 0x6d, 0x61, 0x69, 0x6e, 0x00, 0x00,
		0x0a, 0x04, 0x01, 0x02, 0x00, 0x0b,
	}
	for _, backend := range backends {
		vm := contractVM(t, backend)
		if err := vm.Validate(ctx, wasm); !IsRejected(err) {
			t.Fatalf("%s: Validate said %v", backend, err)
		}
		env := newEnv("alice")
		_, err := vm.Call(ctx, "raw", wasm, "anything", nil, 1_000_000, env)
		if !IsRejected(err) {
			t.Fatalf("%s: Call said %v", backend, err)
		}
		if env.reads != 0 || env.writes != 0 {
			t.Fatalf("%s: a refused module touched the chain", backend)
		}
		vm.Close(ctx)
	}
}

// One VM, many goroutines, each with a chain of its own: every call
// lands, with the same gas everywhere.
func TestManyGoroutinesCallAtOnce(t *testing.T) {
	token := contractFile(t, "token")
	const workers, transfers = 16, 20
	for _, backend := range backends {
		vm := contractVM(t, backend)
		var wg sync.WaitGroup
		gas := make([][]uint64, workers)
		failures := make(chan error, workers)
		for w := 0; w < workers; w++ {
			wg.Add(1)
			go func(w int) {
				defer wg.Done()
				env := newEnv("alice")
				if _, err := vm.Call(ctx, "token", token, "init", []byte(`{"initial_supply": "1000"}`), 100_000_000, env); err != nil {
					failures <- err
					return
				}
				to := addressJSON(AccountAddress(fmt.Sprint("bob", w)))
				for i := 0; i < transfers; i++ {
					used, err := vm.Call(ctx, "token", token, "transfer", []byte(`{"to": `+to+`, "amount": "1"}`), 10_000_000, env)
					if err != nil {
						failures <- err
						return
					}
					gas[w] = append(gas[w], used)
				}
				result, err := vm.Invoke(ctx, "token", token, "balance_of", []byte(`{"who": `+to+`}`), 10_000_000, env)
				if err != nil || result.OutputJSON != fmt.Sprintf(`"%d"`, transfers) {
					failures <- fmt.Errorf("worker %d: %v %s", w, err, result.OutputJSON)
				}
			}(w)
		}
		wg.Wait()
		close(failures)
		for err := range failures {
			t.Errorf("%s: %v", backend, err)
		}
		for w := 1; w < workers; w++ {
			if fmt.Sprint(gas[w]) != fmt.Sprint(gas[0]) {
				t.Errorf("%s: worker %d's gas %v, worker 0's %v", backend, w, gas[w], gas[0])
			}
		}
		vm.Close(ctx)
	}
}

// The Engine's own API: a call suspends for its storage, a host error
// aborts it without an outcome, a Refusal traps the guest.
func TestTheEngineAsksTheHostAndTakesItsRefusals(t *testing.T) {
	token := contractFile(t, "token")
	engine, err := NewEngine(EngineOptions{Backend: Wasmi})
	if err != nil {
		t.Fatal(err)
	}
	defer engine.Close()
	if err := engine.Health(); err != nil {
		t.Fatalf("a healthy engine: %v", err)
	}
	module, err := engine.Prepare(token)
	if err != nil {
		t.Fatal(err)
	}
	defer module.Close()
	input, err := module.EncodeInit(`{"initial_supply": "5"}`)
	if err != nil {
		t.Fatal(err)
	}
	host := &mapHost{values: map[string][]byte{}}
	outcome, err := engine.Call(module, CallOptions{Entry: "deploy", Input: input, GasLimit: 10_000_000}, host)
	if err != nil || !outcome.Ok() || host.asked == 0 {
		t.Fatalf("deploy: %v %+v (asked %d)", err, outcome, host.asked)
	}
	// The host's own failure: no outcome.
	host.broken = true
	input, _ = module.EncodeCall("total_supply", "")
	if _, err := engine.Call(module, CallOptions{Input: input, GasLimit: 10_000_000}, host); err == nil || !strings.Contains(err.Error(), "disk") {
		t.Fatalf("a host failure: %v", err)
	}
	// A refusal: the guest traps.
	host.broken, host.refuse = false, true
	outcome, err = engine.Call(module, CallOptions{Input: input, GasLimit: 10_000_000}, host)
	if err != nil || outcome.Status != "trapped" || outcome.ErrorKind != "host_error" || !strings.Contains(outcome.ErrorMessage, "not today") {
		t.Fatalf("a refusal: %v %+v", err, outcome)
	}
	if IsRejected(err) || Version() == "" {
		t.Fatal("version")
	}
}

type mapHost struct {
	values         map[string][]byte
	asked          int
	broken, refuse bool
}

func (h *mapHost) Read(key []byte) ([]byte, bool, error) {
	h.asked++
	if h.broken {
		return nil, false, errors.New("the disk is gone")
	}
	if h.refuse {
		return nil, false, &Refusal{Message: "not today"}
	}
	v, ok := h.values[string(key)]
	return v, ok, nil
}
func (h *mapHost) Write(key, value []byte) error { h.values[string(key)] = value; return nil }
func (h *mapHost) Remove(key []byte) error       { delete(h.values, string(key)); return nil }
func (h *mapHost) Emit(topic, data []byte) error { return nil }
func (h *mapHost) Call(CallRequest) (CallResult, error) {
	return CallResult{Status: 2}, nil
}
func (h *mapHost) Create(CallRequest) (CallResult, error) {
	return CallResult{Status: 2}, nil
}

// BenchmarkTransfer is one token transfer through the ContractVM (JSON
// arguments, a journal, an in-memory chain): crates/capi/examples
// puts it beside the same transfer through Ward's Rust API.
func BenchmarkTransfer(b *testing.B) {
	benchTransfer(b, false)
}

// BenchmarkTransferCancellable is BenchmarkTransfer with each call under a
// context of its own that can be cancelled (what a chain that may give up
// on a block pays: a cancel flag and a watching goroutine per call).
func BenchmarkTransferCancellable(b *testing.B) {
	benchTransfer(b, true)
}

func benchTransfer(b *testing.B, cancellable bool) {
	token := contractFile(b, "token")
	backend := Wasmtime
	if os.Getenv("WARD_BENCH_BACKEND") == "wasmi" {
		backend = Wasmi
	}
	vm, err := NewContractVM(backend)
	if err != nil {
		b.Fatal(err)
	}
	defer vm.Close(ctx)
	env := newEnv("alice")
	if _, err := vm.Call(ctx, "token", token, "init", []byte(`{"initial_supply": "1000000000"}`), 100_000_000, env); err != nil {
		b.Fatal(err)
	}
	args := `{"to": ` + addressJSON(AccountAddress("bob")) + `, "amount": "1"}`
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		callCtx, cancel := ctx, context.CancelFunc(func() {})
		if cancellable {
			callCtx, cancel = context.WithCancel(ctx)
		}
		_, err := vm.Call(callCtx, "token", token, "transfer", []byte(args), 10_000_000, env)
		cancel()
		if err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEngineTransfer is one token transfer through Engine.Call with
// its input encoded beforehand and a map as its host: the C API and cgo
// without the ContractVM's JSON and journal.
func BenchmarkEngineTransfer(b *testing.B) {
	token := contractFile(b, "token")
	backend := Wasmtime
	if os.Getenv("WARD_BENCH_BACKEND") == "wasmi" {
		backend = Wasmi
	}
	engine, err := NewEngine(EngineOptions{Backend: backend})
	if err != nil {
		b.Fatal(err)
	}
	defer engine.Close()
	module, err := engine.Prepare(token)
	if err != nil {
		b.Fatal(err)
	}
	defer module.Close()
	host := &mapHost{values: map[string][]byte{}}
	alice := [32]byte{0xa1}
	init, _ := module.EncodeInit(`{"initial_supply": "1000000000"}`)
	deploy := CallOptions{Entry: "deploy", Input: init, GasLimit: 10_000_000, Caller: alice}
	if outcome, err := engine.Call(module, deploy, host); err != nil || !outcome.Ok() {
		b.Fatal(err, outcome)
	}
	input, err := module.EncodeCall("transfer", `{"to": `+addressJSON(AccountAddress("bob"))+`, "amount": "1"}`)
	if err != nil {
		b.Fatal(err)
	}
	transfer := CallOptions{Input: input, GasLimit: 10_000_000, Caller: alice}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if outcome, err := engine.Call(module, transfer, host); err != nil || !outcome.Ok() {
			b.Fatal(err, outcome)
		}
	}
}
