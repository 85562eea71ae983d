package ward

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

// wasiEnv is a memEnv whose block time is in seconds and that chooses
// its calls' WASI random seed (WASISeeder).
type wasiEnv struct {
	*memEnv
	seed [32]byte
}

func (e *wasiEnv) Time() uint64       { return 1_700_000_000 }
func (e *wasiEnv) WASISeed() [32]byte { return e.seed }
func seeded(sender string, seed byte) *wasiEnv {
	return &wasiEnv{memEnv: newEnv(sender), seed: [32]byte{seed}}
}

// What a WASI contract's calls gave on one backend, to compare between
// backends.
type wasiRun struct {
	outputs []string
	gas     []uint64
	logs    [][]string
}

func (r *wasiRun) add(result Result) {
	r.outputs = append(r.outputs, string(result.Output))
	r.gas = append(r.gas, result.GasUsed)
	r.logs = append(r.logs, result.Log)
}

// A contract of TinyGo's wasip1 shape runs through the ContractVM:
// _initialize before each method, stdout and stderr as its Log, the
// block's time, argv[0] its address, proc_exit a revert, random bytes by
// the Env's seed, a nested call naming its method, a context that ends
// it; the same on both backends.
func TestWASIContractsOfTinyGosShape(t *testing.T) {
	wasm, relay := contractFile(t, "tinygo"), contractFile(t, "relay")
	var runs []wasiRun
	for _, backend := range backends {
		vm := contractVM(t, backend)
		var run wasiRun
		env := seeded("alice", 1)
		env.register("tinygo", wasm)
		invoke := func(method string, args []byte) Result {
			t.Helper()
			result, err := vm.Invoke(ctx, "tinygo", wasm, method, args, 10_000_000, env)
			if err != nil {
				t.Fatalf("%s: %s: %v", backend, method, err)
			}
			run.add(result)
			return result
		}
		greeted := invoke("greet", []byte("bob"))
		if string(greeted.Output) != "hi" || !reflect.DeepEqual(greeted.Log, []string{"hello, bob", "greeted"}) {
			t.Fatalf("%s: greet: %q %q", backend, greeted.Output, greeted.Log)
		}
		if value, _, _ := env.Get("tinygo", []byte("greeted")); string(value) != "bob" {
			t.Fatalf("%s: stored %q", backend, value)
		}
		now := binary.LittleEndian.Uint64(invoke("now", nil).Output)
		if now != env.Time()*1_000_000_000 {
			t.Fatalf("%s: realtime %d", backend, now)
		}
		self := ContractAddress("tinygo")
		if who := string(invoke("whoami", nil).Output); who != "0x"+hex.EncodeToString(self[:]) {
			t.Fatalf("%s: argv[0] %q", backend, who)
		}
		// The same seed draws the same bytes; another seed others.
		first, again := string(invoke("entropy", nil).Output), string(invoke("entropy", nil).Output)
		other, err := vm.Invoke(ctx, "tinygo", wasm, "entropy", nil, 10_000_000, seeded("alice", 2))
		if err != nil || len(first) != 16 || first != again || string(other.Output) == first {
			t.Fatalf("%s: entropy %x %x %x %v", backend, first, again, other.Output, err)
		}
		var failed *CallError
		_, err = vm.Call(ctx, "tinygo", wasm, "quit", []byte("abc"), 10_000_000, env)
		if !errors.As(err, &failed) || failed.Status != "reverted" || !errors.Is(err, ErrTxFailed) {
			t.Fatalf("%s: quit: %v", backend, err)
		}
		invoke("quit", nil)
		if started := invoke("_start", nil); len(started.Output) != 0 || started.OutputJSON != "null" || !reflect.DeepEqual(started.Log, []string{"started"}) {
			t.Fatalf("%s: _start: %q %q", backend, started.Output, started.Log)
		}
		for _, method := range []string{"_initialize", "missing"} {
			_, err = vm.Call(ctx, "tinygo", wasm, method, nil, 10_000_000, env)
			if !errors.As(err, &failed) || failed.Status != "rejected" {
				t.Fatalf("%s: %s: %v", backend, method, err)
			}
		}
		// A Ward contract calls a method by its name, a NUL, then its input.
		nested := append(append(self[:0:0], self[:]...), []byte("greet\x00carol")...)
		relayed, err := vm.Invoke(ctx, "relay", relay, "main", nested, 10_000_000, env)
		if err != nil || string(relayed.Output) != "hi" {
			t.Fatalf("%s: relayed: %v %q", backend, err, relayed.Output)
		}
		run.add(relayed)
		if value, _, _ := env.Get("tinygo", []byte("greeted")); string(value) != "carol" {
			t.Fatalf("%s: stored by a nested call %q", backend, value)
		}
		// A context ends a spinning WASI method as any other call.
		expiring, stop := context.WithTimeout(ctx, 20*time.Millisecond)
		_, err = vm.Call(expiring, "tinygo", wasm, "spin", nil, endless, env)
		stop()
		if !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, ErrTxFailed) {
			t.Fatalf("%s: spin: %v", backend, err)
		}
		runs = append(runs, run)
		if err := vm.Close(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if !reflect.DeepEqual(runs[0], runs[1]) {
		t.Fatalf("the backends differ:\n%+v\n%+v", runs[0], runs[1])
	}
}

// A Rust contract built for wasm32-wasip1 with the standard library
// (contracts/wasi-guestbook) runs through the ContractVM: println! is its
// Log, SystemTime the block's, std::process::exit a revert; the same on
// both backends.
func TestARustWasip1Contract(t *testing.T) {
	wasm := contractFile(t, "guestbook")
	var runs []wasiRun
	for _, backend := range backends {
		vm := contractVM(t, backend)
		var run wasiRun
		alice, bob := seeded("alice", 1), seeded("bob", 1)
		bob.storage = alice.storage // one chain, two senders
		invoke := func(env Env, method string, args []byte) Result {
			t.Helper()
			result, err := vm.Invoke(ctx, "book", wasm, method, args, 10_000_000, env)
			if err != nil {
				t.Fatalf("%s: %s: %v", backend, method, err)
			}
			run.add(result)
			return result
		}
		count := func(r Result) uint64 { return binary.LittleEndian.Uint64(r.Output) }
		if n := count(invoke(alice, "sign", []byte("first!"))); n != 1 {
			t.Fatalf("%s: count %d", backend, n)
		}
		signed := invoke(bob, "sign", []byte("hello from bob"))
		if count(signed) != 2 || len(signed.Log) != 1 || !strings.HasSuffix(signed.Log[0], " signed: hello from bob") {
			t.Fatalf("%s: sign: %d %q", backend, count(signed), signed.Log)
		}
		bobs := AccountAddress("bob")
		if note := string(invoke(alice, "read", bobs[:]).Output); note != "hello from bob" {
			t.Fatalf("%s: read %q", backend, note)
		}
		if stamp := count(invoke(alice, "stamp", nil)); stamp != alice.Time() {
			t.Fatalf("%s: stamp %d", backend, stamp)
		}
		var failed *CallError
		_, err := vm.Call(ctx, "book", wasm, "read", []byte("short"), 10_000_000, alice)
		if !errors.As(err, &failed) || failed.Status != "reverted" || len(failed.Log) != 1 ||
			!strings.Contains(failed.Log[0], "32-byte address") {
			t.Fatalf("%s: a short read: %v %q", backend, err, failed)
		}
		if !bytes.Equal(invoke(alice, "dice", []byte("x")).Output, invoke(alice, "dice", []byte("x")).Output) {
			t.Fatalf("%s: the same seed drew different dice", backend)
		}
		runs = append(runs, run)
		if err := vm.Close(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if !reflect.DeepEqual(runs[0], runs[1]) {
		t.Fatalf("the backends differ:\n%+v\n%+v", runs[0], runs[1])
	}
}
