package ward_test

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	ward "example.invalid/ward/bindings/go"
)

// chain is the smallest Env: one contract's storage in a map.
type chain struct{ storage map[string][]byte }

func (c *chain) Get(_ string, key []byte) ([]byte, bool, error) {
	v, ok := c.storage[string(key)]
	return v, ok, nil
}
func (c *chain) Set(_ string, key, value []byte) error { c.storage[string(key)] = value; return nil }
func (c *chain) Delete(_ string, key []byte) error     { delete(c.storage, string(key)); return nil }
func (c *chain) Emit(string, ward.Event) error         { return nil }
func (c *chain) Sender() string                        { return "alice" }
func (c *chain) Height() uint64                        { return 1 }
func (c *chain) Time() uint64                          { return 1700000000000 }
func (c *chain) Contract([32]byte) (string, []byte, bool, error) {
	return "", nil, false, nil
}

// docs/embedding.md's Go example: the SDK counter deployed at 5 and
// incremented by 2 through a ContractVM.
func Example_counter() {
	path := os.Getenv("WARD_COUNTER_WASM")
	if path == "" {
		path = filepath.Join("..", "..", "target", "contracts", "wasm32-unknown-unknown", "release", "counter.wasm")
	}
	wasm, err := os.ReadFile(path)
	if err != nil {
		fmt.Println(err)
		return
	}
	vm, err := ward.NewContractVM(ward.Wasmtime)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer vm.Close(context.Background())
	env := &chain{storage: map[string][]byte{}}
	if _, err := vm.Call(context.Background(), "counter", wasm, "init", []byte(`{"start": 5}`), 100_000_000, env); err != nil {
		fmt.Println(err)
		return
	}
	result, err := vm.Invoke(context.Background(), "counter", wasm, "increment", []byte(`{"by": 2}`), 1_000_000, env)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("count", result.OutputJSON, "events", len(result.Events))
	// Output: count "7" events 1
}

// docs/embedding.md's WASI example: the Rust guestbook, built for
// wasm32-wasip1 with the standard library (contracts/wasi-guestbook),
// signed through a ContractVM; what it prints is the call's Log.
func Example_wasi() {
	path := os.Getenv("WARD_GUESTBOOK_WASM")
	if path == "" {
		path = filepath.Join("..", "..", "target", "contracts", "wasm32-wasip1", "release", "wasi_guestbook.wasm")
	}
	wasm, err := os.ReadFile(path)
	if err != nil {
		fmt.Println(err)
		return
	}
	vm, err := ward.NewContractVM(ward.Wasmi)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer vm.Close(context.Background())
	env := &chain{storage: map[string][]byte{}}
	// A WASI contract's method is an export; the arguments are its input.
	result, err := vm.Invoke(context.Background(), "book", wasm, "sign", []byte("hello"), 10_000_000, env)
	if err != nil {
		fmt.Println(err)
		return
	}
	notes := binary.LittleEndian.Uint64(result.Output)
	fmt.Printf("notes %d log %q\n", notes, result.Log)
	// Output: notes 1 log ["0f11e07d signed: hello"]
}

// docs/embedding.md's example of a contract without a schema, the
// sentinel errors and a context: a module whose exports echo their input
// (echo) and revert (fail), as crates/capi/tests/go.rs writes it to
// testdata/raw.wasm.
func Example_schemaless() {
	wasm, err := os.ReadFile(filepath.Join("testdata", "raw.wasm"))
	if err != nil {
		fmt.Println(err)
		return
	}
	vm, err := ward.NewContractVM(ward.Wasmtime)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer vm.Close(context.Background())
	env := &chain{storage: map[string][]byte{}}
	ctx := context.Background()
	// No schema: the method is an export, the arguments its raw input.
	result, err := vm.Invoke(ctx, "raw", wasm, "echo", []byte(`{"any": "bytes"}`), 1_000_000, env)
	fmt.Println(string(result.Output), err)
	// A revert is a *CallError, and every CallError is ErrTxFailed.
	_, err = vm.Call(ctx, "raw", wasm, "fail", nil, 1_000_000, env)
	fmt.Println(errors.Is(err, ward.ErrTxFailed), errors.Is(err, ward.ErrOutOfGas))
	// Out of gas is ErrOutOfGas (and ErrTxFailed).
	_, err = vm.Call(ctx, "raw", wasm, "echo", nil, 10, env)
	fmt.Println(errors.Is(err, ward.ErrTxFailed), errors.Is(err, ward.ErrOutOfGas))
	// An ended context runs nothing: the error wraps ctx.Err(), no outcome.
	ended, cancel := context.WithCancel(ctx)
	cancel()
	_, err = vm.Call(ended, "raw", wasm, "echo", nil, 1_000_000, env)
	fmt.Println(errors.Is(err, context.Canceled), errors.Is(err, ward.ErrTxFailed))
	// Output:
	// {"any": "bytes"} <nil>
	// true false
	// true true
	// true false
}
