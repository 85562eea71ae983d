package ward

import (
	"bytes"
	"context"
	"errors"
	"sort"
	"strings"
	"testing"
	"time"
)

// spinWasm is (module (memory (export "memory") 1)
// (func (export "main") (loop (br 0)))): it runs until something ends it.
var spinWasm = []byte{
	0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x04, 0x01, 0x60, 0x00,
	0x00, 0x03, 0x02, 0x01, 0x00, 0x05, 0x03, 0x01, 0x00, 0x01, 0x07, 0x11, 0x02,
	0x06, 0x6d, 0x65, 0x6d, 0x6f, 0x72, 0x79, 0x02, 0x00, 0x04, 0x6d, 0x61, 0x69,
	0x6e, 0x00, 0x00, 0x0a, 0x09, 0x01, 0x07, 0x00, 0x03, 0x40, 0x0c, 0x00, 0x0b, 0x0b,
}

// endless is more gas than a spin burns before any context here ends.
const endless = uint64(1) << 60

func spinModule(t testing.TB, backend Backend, options EngineOptions) (*Engine, *Module) {
	t.Helper()
	return preparedOn(t, backend, options, spinWasm)
}

// preparedOn is wasm prepared on a new engine of backend with options.
func preparedOn(t testing.TB, backend Backend, options EngineOptions, wasm []byte) (*Engine, *Module) {
	t.Helper()
	options.Backend = backend
	engine, err := NewEngine(options)
	if err != nil {
		t.Fatal(err)
	}
	module, err := engine.Prepare(wasm)
	if err != nil {
		t.Fatal(err)
	}
	return engine, module
}

// A cancelled context ends a spinning call with context.Canceled; an
// expired one with context.DeadlineExceeded; neither is an outcome.
func TestAContextEndsASpinningCall(t *testing.T) {
	for _, backend := range backends {
		engine, module := spinModule(t, backend, EngineOptions{})
		cancelled, cancel := context.WithCancel(context.Background())
		go func() {
			time.Sleep(20 * time.Millisecond)
			cancel()
		}()
		_, err := engine.CallContext(cancelled, module, CallOptions{GasLimit: endless}, nil)
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("%s: cancelled: %v", backend, err)
		}
		var failed *CallError
		if errors.As(err, &failed) || errors.Is(err, ErrTxFailed) {
			t.Fatalf("%s: a cancelled call is no failed transaction: %v", backend, err)
		}
		expiring, stop := context.WithTimeout(context.Background(), 10*time.Millisecond)
		_, err = engine.CallContext(expiring, module, CallOptions{GasLimit: endless}, nil)
		stop()
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("%s: expired: %v", backend, err)
		}
		module.Close()
		engine.Close()
	}
}

// A guest's child that spins forever with all of its call's gas
// (testdata/spin_child.wasm: a parent that compiles the child from its
// own data and runs it through vm_run) stops as its call does: the
// engine's Timeout ends it with ErrTimeout, a cancelled context with
// context.Canceled. Before, a child heeded neither.
func TestAChildSpinningUnderACallStopsWithIt(t *testing.T) {
	parent := contractFile(t, "spin_child")
	for _, backend := range backends {
		for _, timed := range []bool{true, false} {
			options := EngineOptions{Children: true}
			if timed {
				options.Timeout = 50 * time.Millisecond
			}
			engine, module := preparedOn(t, backend, options, parent)
			ctx, cancel := context.WithCancel(context.Background())
			if !timed {
				go func() {
					time.Sleep(20 * time.Millisecond)
					cancel()
				}()
			}
			_, err := engine.CallContext(ctx, module, CallOptions{GasLimit: endless}, nil)
			cancel()
			if timed && !errors.Is(err, ErrTimeout) {
				t.Fatalf("%s: timed out: %v", backend, err)
			}
			if !timed && !errors.Is(err, context.Canceled) {
				t.Fatalf("%s: cancelled: %v", backend, err)
			}
			module.Close()
			engine.Close()
		}
	}
}

// Without Children, a guest's vm_* calls answer "unavailable" (-1): the
// parent returns 1, a revert, having compiled nothing.
func TestChildrenAreOfferedOnlyWhenAsked(t *testing.T) {
	parent := contractFile(t, "spin_child")
	for _, backend := range backends {
		engine, module := preparedOn(t, backend, EngineOptions{}, parent)
		outcome, err := engine.CallContext(context.Background(), module, CallOptions{GasLimit: 10_000_000}, nil)
		if err != nil || outcome.Status != "reverted" || outcome.ExitCode != 1 {
			t.Fatalf("%s: %+v %v", backend, outcome, err)
		}
		module.Close()
		engine.Close()
	}
}

// A context already ended runs nothing: the chain is not touched.
func TestAnEndedContextRunsNothing(t *testing.T) {
	token := contractFile(t, "token")
	for _, backend := range backends {
		vm := contractVM(t, backend)
		ended, cancel := context.WithCancel(context.Background())
		cancel()
		env := newEnv("alice")
		if _, err := vm.Call(ended, "token", token, "init", []byte(`{"initial_supply": "1"}`), 100_000_000, env); !errors.Is(err, context.Canceled) {
			t.Fatalf("%s: %v", backend, err)
		}
		if env.reads != 0 || env.writes != 0 {
			t.Fatalf("%s: a call with an ended context touched the chain", backend)
		}
		if err := vm.Validate(ended, token); !errors.Is(err, context.Canceled) {
			t.Fatalf("%s: Validate: %v", backend, err)
		}
		if err := vm.Close(ended); !errors.Is(err, context.Canceled) {
			t.Fatalf("%s: Close: %v", backend, err)
		}
		if err := vm.Close(ctx); err != nil {
			t.Fatal(err)
		}
	}
}

// Out of gas and a revert are sentinel errors; the engine's timeout is
// its own fault, not a failed transaction.
func TestSentinelErrors(t *testing.T) {
	token := contractFile(t, "token")
	for _, backend := range backends {
		vm := contractVM(t, backend)
		env := newEnv("alice")
		if _, err := vm.Call(ctx, "token", token, "init", []byte(`{"initial_supply": "1000"}`), 100_000_000, env); err != nil {
			t.Fatal(err)
		}
		bob := addressJSON(AccountAddress("bob"))
		_, err := vm.Call(ctx, "token", token, "transfer", []byte(`{"to": `+bob+`, "amount": "5000"}`), 10_000_000, env)
		if !errors.Is(err, ErrTxFailed) || errors.Is(err, ErrOutOfGas) {
			t.Fatalf("%s: a revert: %v", backend, err)
		}
		used, err := vm.Call(ctx, "token", token, "transfer", []byte(`{"to": `+bob+`, "amount": "1"}`), 2_000, env)
		if !errors.Is(err, ErrOutOfGas) || !errors.Is(err, ErrTxFailed) || used != 2_000 {
			t.Fatalf("%s: out of gas: %v (gas %d)", backend, err, used)
		}
		if err := vm.Close(ctx); err != nil {
			t.Fatal(err)
		}

		engine, module := spinModule(t, backend, EngineOptions{Timeout: 5 * time.Millisecond})
		_, err = engine.Call(module, CallOptions{GasLimit: endless}, nil)
		if !errors.Is(err, ErrTimeout) || errors.Is(err, ErrTxFailed) {
			t.Fatalf("%s: the engine's timeout: %v", backend, err)
		}
		module.Close()
		engine.Close()
	}
}

// BenchmarkCancelLatency reports how long after cancel() a spinning call
// returns, p50 and p99 over the runs (`go test -bench CancelLatency`).
func BenchmarkCancelLatency(b *testing.B) {
	for _, backend := range backends {
		b.Run(backend.String(), func(b *testing.B) {
			engine, module := spinModule(b, backend, EngineOptions{})
			defer engine.Close()
			defer module.Close()
			latencies := make([]time.Duration, 0, b.N)
			for i := 0; i < b.N; i++ {
				running, cancel := context.WithCancel(context.Background())
				cancelledAt := make(chan time.Time, 1)
				go func() {
					time.Sleep(5 * time.Millisecond)
					cancelledAt <- time.Now()
					cancel()
				}()
				if _, err := engine.CallContext(running, module, CallOptions{GasLimit: endless}, nil); !errors.Is(err, context.Canceled) {
					b.Fatal(err)
				}
				latencies = append(latencies, time.Since(<-cancelledAt))
			}
			sort.Slice(latencies, func(i, j int) bool { return latencies[i] < latencies[j] })
			b.ReportMetric(float64(latencies[len(latencies)/2].Microseconds()), "p50-µs")
			b.ReportMetric(float64(latencies[len(latencies)*99/100].Microseconds()), "p99-µs")
		})
	}
}

// A module without a schema is called by export, its arguments reaching
// it as they are; value in a nested call is refused (the VM keeps no
// balances); an export that takes parameters is no method.
func TestContractsWithoutASchema(t *testing.T) {
	raw := contractFile(t, "raw")
	for _, backend := range backends {
		vm := contractVM(t, backend)
		env := newEnv("alice")
		args := []byte(`{"any": ["bytes", 1]}`)
		result, err := vm.Invoke(ctx, "raw", raw, "echo", args, 1_000_000, env)
		if err != nil || string(result.Output) != string(args) || result.OutputJSON != "null" {
			t.Fatalf("%s: echo: %v %q %s", backend, err, result.Output, result.OutputJSON)
		}
		if _, err := vm.Call(ctx, "raw", raw, "store", []byte("kept"), 1_000_000, env); err != nil {
			t.Fatalf("%s: store: %v", backend, err)
		}
		if value, found, _ := env.Get("raw", []byte("k")); !found || string(value) != "kept" {
			t.Fatalf("%s: stored %q %v", backend, value, found)
		}
		var failed *CallError
		_, err = vm.Call(ctx, "raw", raw, "fail", nil, 1_000_000, env)
		if !errors.As(err, &failed) || failed.Status != "reverted" || !errors.Is(err, ErrTxFailed) {
			t.Fatalf("%s: fail: %v", backend, err)
		}
		writes := env.writes
		_, err = vm.Call(ctx, "raw", raw, "pay", nil, 1_000_000, env)
		if !errors.As(err, &failed) || failed.Kind != "host_error" || !strings.Contains(failed.Message, "native asset") {
			t.Fatalf("%s: pay: %v", backend, err)
		}
		if env.writes != writes {
			t.Fatalf("%s: a refused payment wrote", backend)
		}
		_, err = vm.Call(ctx, "raw", raw, "add", nil, 1_000_000, env)
		if !errors.As(err, &failed) || failed.Status != "rejected" || failed.Kind != "bad_entry_signature" {
			t.Fatalf("%s: add: %v", backend, err)
		}
		if err := vm.Close(ctx); err != nil {
			t.Fatal(err)
		}
	}
}

// Prepared modules are kept by their code's hash; past the limit the
// least recently used leaves first.
func TestPreparedModulesLeaveLeastRecentlyUsedFirst(t *testing.T) {
	vm, err := NewContractVM(Wasmtime)
	if err != nil {
		t.Fatal(err)
	}
	defer vm.Close(ctx)
	vm.limit = 2
	a, b, c := spinWasm, contractFile(t, "raw"), contractFile(t, "counter")
	for _, wasm := range [][]byte{a, b, a, c} {
		if _, err := vm.module(wasm); err != nil {
			t.Fatal(err)
		}
	}
	kept := func(wasm []byte) bool {
		_, ok := vm.modules[vm.key(wasm)]
		return ok
	}
	if !kept(a) || kept(b) || !kept(c) || vm.order.Len() != 2 {
		t.Fatalf("kept a %v, b %v, c %v (%d)", kept(a), kept(b), kept(c), vm.order.Len())
	}
	// The same bytes again are the same module.
	first, _ := vm.module(c)
	again, _ := vm.module(append([]byte{}, c...))
	if first != again {
		t.Fatal("the same code prepared twice")
	}
	// Other code found under a module's hash (forced here) never runs as
	// it: the code is compared, and the module prepared again.
	first.code = a
	replaced, err := vm.module(c)
	if err != nil || replaced == first || !bytes.Equal(replaced.code, c) || vm.order.Len() != 2 {
		t.Fatalf("a hash collision: %v %v", err, replaced == first)
	}
}
