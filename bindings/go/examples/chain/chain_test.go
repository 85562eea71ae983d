package chain

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	ward "example.invalid/ward/bindings/go"
)

var backends = []ward.Backend{ward.Wasmtime, ward.Wasmi}

// contract is an example contract's module: from WARD_<NAME>_WASM
// (crates/capi/tests/go.rs sets them), else `make contracts`'s output.
func contract(t *testing.T, name string) []byte {
	t.Helper()
	path := os.Getenv("WARD_" + strings.ToUpper(name) + "_WASM")
	if path == "" {
		built := filepath.Join("..", "..", "..", "..", "target", "contracts")
		path = filepath.Join(built, "wasm32-unknown-unknown", "release", name+".wasm")
		if name == "guestbook" {
			path = filepath.Join(built, "wasm32-wasip1", "release", "wasi_guestbook.wasm")
		}
	}
	wasm, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%s: %v (run `make contracts` at the repository's root first)", path, err)
	}
	return wasm
}

func account(name string) string {
	a := ward.AccountAddress(name)
	return `"0x` + hex.EncodeToString(a[:]) + `"`
}

// The SDK token through the chain: a deploy, a transfer, an overdraft
// and an out-of-gas call that pay their fees and keep nothing else, a
// read, a sender who cannot pay; every balance to the unit, and the state
// read back from its file.
func TestTokenTransfersPayTheirFeesToTheUnit(t *testing.T) {
	token := contract(t, "token")
	const price = 3
	for _, backend := range backends {
		vm, err := ward.NewContractVM(backend)
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(t.TempDir(), "state.json")
		genesis := map[string]uint64{"alice": 1_000_000_000, "bob": 1_000_000_000}
		chain, err := Open(vm, path, price, genesis)
		if err != nil {
			t.Fatal(err)
		}
		receipts, err := chain.ApplyBlock(context.Background(), 1_000, []Tx{
			{Kind: DeployContract, Sender: "alice", ContractID: "token", Code: token, Args: []byte(`{"initial_supply": "1000"}`), GasLimit: 100_000_000},
			{Kind: CallContract, Sender: "alice", ContractID: "token", Method: "transfer", Args: []byte(`{"to": ` + account("bob") + `, "amount": "250"}`), GasLimit: 10_000_000},
			{Kind: CallContract, Sender: "alice", ContractID: "token", Method: "transfer", Args: []byte(`{"to": ` + account("bob") + `, "amount": "5000"}`), GasLimit: 10_000_000},
			{Kind: CallContract, Sender: "bob", ContractID: "token", Method: "transfer", Args: []byte(`{"to": ` + account("alice") + `, "amount": "50"}`), GasLimit: 2_000},
			{Kind: CallContract, Sender: "alice", ContractID: "token", Method: "balance_of", Args: []byte(`{"who": ` + account("bob") + `}`), GasLimit: 10_000_000},
			{Kind: CallContract, Sender: "carol", ContractID: "token", Method: "balance_of", Args: []byte(`{"who": ` + account("bob") + `}`), GasLimit: 10_000_000},
		})
		if err != nil {
			t.Fatalf("%s: %v", backend, err)
		}
		checkReceipts(t, backend, receipts, price, "ok", "ok", "failed", "failed", "ok", "failed")
		if !strings.Contains(receipts[2].Error, "insufficient balance") || receipts[3].GasUsed != 2_000 || receipts[5].GasUsed != 0 {
			t.Fatalf("%s: %+v", backend, receipts)
		}
		if receipts[4].OutputJSON != `"250"` {
			t.Fatalf("%s: bob holds %s", backend, receipts[4].OutputJSON)
		}
		state := chain.State()
		alice := receipts[0].Fee + receipts[1].Fee + receipts[2].Fee + receipts[4].Fee
		if state.Balances["alice"] != 1_000_000_000-alice || state.Balances["bob"] != 1_000_000_000-receipts[3].Fee {
			t.Fatalf("%s: balances %v", backend, state.Balances)
		}
		if state.Height != 1 {
			t.Fatalf("%s: height %d", backend, state.Height)
		}
		reopened, err := Open(vm, path, price, nil)
		if err != nil || !reflect.DeepEqual(reopened.State(), state) {
			t.Fatalf("%s: the state read back differs: %v\n%+v\n%+v", backend, err, reopened.State(), state)
		}
		if err := vm.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
}

// A WASI contract through the chain: the Rust guestbook, built for
// wasm32-wasip1 (contracts/wasi-guestbook), deployed without a
// constructor, signed by two senders and read, its lines in the
// receipts' logs, a revert (std::process::exit) that pays its fee and
// keeps nothing else; every balance to the unit, the same on both
// backends.
func TestAWASIContractPaysItsFeesToTheUnit(t *testing.T) {
	book := contract(t, "guestbook")
	const price = 2
	var runs [][]Receipt
	for _, backend := range backends {
		vm, err := ward.NewContractVM(backend)
		if err != nil {
			t.Fatal(err)
		}
		genesis := map[string]uint64{"alice": 1_000_000_000, "bob": 1_000_000_000}
		chain, err := Open(vm, filepath.Join(t.TempDir(), "state.json"), price, genesis)
		if err != nil {
			t.Fatal(err)
		}
		bob := ward.AccountAddress("bob")
		receipts, err := chain.ApplyBlock(context.Background(), 1_700_000_000, []Tx{
			{Kind: DeployContract, Sender: "alice", ContractID: "book", Code: book, GasLimit: 200_000_000},
			{Kind: CallContract, Sender: "alice", ContractID: "book", Method: "sign", Args: []byte("first"), GasLimit: 10_000_000},
			{Kind: CallContract, Sender: "bob", ContractID: "book", Method: "sign", Args: []byte("second"), GasLimit: 10_000_000},
			{Kind: CallContract, Sender: "alice", ContractID: "book", Method: "read", Args: bob[:], GasLimit: 10_000_000},
			{Kind: CallContract, Sender: "bob", ContractID: "book", Method: "leave", Args: []byte{4}, GasLimit: 10_000_000},
			{Kind: CallContract, Sender: "bob", ContractID: "book", Method: "sign", Args: []byte("third"), GasLimit: 1_000},
		})
		if err != nil {
			t.Fatalf("%s: %v", backend, err)
		}
		checkReceipts(t, backend, receipts, price, "ok", "ok", "ok", "ok", "failed", "failed")
		if string(receipts[3].Output) != "second" || receipts[3].OutputJSON != "null" || len(receipts[2].Log) != 1 || !strings.HasSuffix(receipts[2].Log[0], " signed: second") {
			t.Fatalf("%s: %+v", backend, receipts)
		}
		if receipts[5].GasUsed != 1_000 {
			t.Fatalf("%s: out of gas used %d", backend, receipts[5].GasUsed)
		}
		state := chain.State()
		alice := receipts[0].Fee + receipts[1].Fee + receipts[3].Fee
		bobs := receipts[2].Fee + receipts[4].Fee + receipts[5].Fee
		if state.Balances["alice"] != 1_000_000_000-alice || state.Balances["bob"] != 1_000_000_000-bobs {
			t.Fatalf("%s: balances %v", backend, state.Balances)
		}
		// Two notes and the count: the failed calls kept nothing.
		if n := len(state.Storage["book"]); n != 3 {
			t.Fatalf("%s: %d storage entries: %v", backend, n, state.Storage["book"])
		}
		runs = append(runs, receipts)
		if err := vm.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if !reflect.DeepEqual(runs[0], runs[1]) {
		t.Fatalf("the backends differ:\n%+v\n%+v", runs[0], runs[1])
	}
}

// Malformed transactions among good ones (an unknown method, arguments
// that do not decode, code the policy refuses, an export a schemaless
// contract lacks) are failed receipts that pay for what they caused, and
// the block goes on: every receipt's fee is its gas times the price,
// every balance is to the unit, and the good transactions did what they
// do. Before, one such transaction abandoned the whole block.
func TestMalformedTransactionsFailAndPayWithoutHaltingTheBlock(t *testing.T) {
	token := contract(t, "token")
	const price = 3
	var runs [][]Receipt
	for _, backend := range backends {
		vm, err := ward.NewContractVM(backend)
		if err != nil {
			t.Fatal(err)
		}
		engine, err := ward.NewEngine(ward.EngineOptions{Backend: backend, WASI: true})
		if err != nil {
			t.Fatal(err)
		}
		genesis := map[string]uint64{"alice": 1_000_000_000, "bob": 1_000_000_000, "mallory": 1_000_000_000}
		chain, err := Open(vm, filepath.Join(t.TempDir(), "state.json"), price, genesis)
		if err != nil {
			t.Fatal(err)
		}
		garbage := []byte("\x00asm not really a module")
		transfer := func(amount string) []byte {
			return []byte(`{"to": ` + account("bob") + `, "amount": "` + amount + `"}`)
		}
		receipts, err := chain.ApplyBlock(context.Background(), 1_000, []Tx{
			{Kind: DeployContract, Sender: "alice", ContractID: "token", Code: token, Args: []byte(`{"initial_supply": "1000"}`), GasLimit: 100_000_000},
			{Kind: CallContract, Sender: "mallory", ContractID: "token", Method: "no_such_method", Args: []byte(`{}`), GasLimit: 10_000_000},
			{Kind: CallContract, Sender: "alice", ContractID: "token", Method: "transfer", Args: transfer("100"), GasLimit: 10_000_000},
			{Kind: CallContract, Sender: "mallory", ContractID: "token", Method: "transfer", Args: []byte(`{"to": 7, "amount": "lots"}`), GasLimit: 10_000_000},
			{Kind: CallContract, Sender: "mallory", ContractID: "token", Method: "transfer", Args: []byte(`not json`), GasLimit: 10_000_000},
			{Kind: DeployContract, Sender: "mallory", ContractID: "junk", Code: garbage, GasLimit: 100_000_000},
			{Kind: DeployContract, Sender: "mallory", ContractID: "junk2", Code: garbage, GasLimit: 1_000},
			{Kind: DeployContract, Sender: "mallory", ContractID: "spin", Code: spin, GasLimit: 100_000_000},
			{Kind: CallContract, Sender: "mallory", ContractID: "spin", Method: "no_export", GasLimit: 10_000_000},
			{Kind: CallContract, Sender: "mallory", ContractID: "token", Method: "transfer", Args: transfer("1"), GasLimit: 10},
			{Kind: CallContract, Sender: "alice", ContractID: "token", Method: "transfer", Args: transfer("50"), GasLimit: 10_000_000},
			{Kind: CallContract, Sender: "alice", ContractID: "token", Method: "balance_of", Args: []byte(`{"who": ` + account("bob") + `}`), GasLimit: 10_000_000},
		})
		if err != nil {
			t.Fatalf("%s: a malformed transaction abandoned the block: %v", backend, err)
		}
		checkReceipts(t, backend, receipts, price,
			"ok", "failed", "ok", "failed", "failed", "failed", "failed", "ok", "failed", "failed", "ok", "ok")
		if receipts[11].OutputJSON != `"150"` {
			t.Fatalf("%s: bob holds %s", backend, receipts[11].OutputJSON)
		}
		// What each refusal was charged, from Ward's own figures.
		module, err := engine.Prepare(token)
		if err != nil {
			t.Fatal(err)
		}
		spinModule, err := engine.Prepare(spin)
		if err != nil {
			t.Fatal(err)
		}
		want := map[int]uint64{
			1: module.RefusedCallGas(len(`{}`)),
			3: module.RefusedCallGas(len(`{"to": 7, "amount": "lots"}`)),
			4: module.RefusedCallGas(len(`not json`)),
			5: engine.DeployGas(len(garbage)),
			6: 1_000, // the limit: below the deploy's charge
			8: spinModule.RefusedCallGas(0),
			9: 10, // out of gas
		}
		for i, gas := range want {
			if gas == 0 || receipts[i].GasUsed != gas {
				t.Fatalf("%s: receipt %d used %d gas, want %d: %+v", backend, i, receipts[i].GasUsed, gas, receipts[i])
			}
		}
		if !strings.Contains(receipts[1].Error, "no_such_method") || !strings.Contains(receipts[5].Error, "invalid_wasm") {
			t.Fatalf("%s: %q / %q", backend, receipts[1].Error, receipts[5].Error)
		}
		if receipts[7].GasUsed < engine.DeployGas(len(spin)) {
			t.Fatalf("%s: a deploy paid %d, less than its code's charge", backend, receipts[7].GasUsed)
		}
		state := chain.State()
		var paid = map[string]uint64{}
		senders := []string{"alice", "mallory", "alice", "mallory", "mallory", "mallory", "mallory", "mallory", "mallory", "mallory", "alice", "alice"}
		for i, r := range receipts {
			paid[senders[i]] += r.Fee
		}
		for _, who := range []string{"alice", "bob", "mallory"} {
			if state.Balances[who] != 1_000_000_000-paid[who] {
				t.Fatalf("%s: %s holds %d, paid %d: %v", backend, who, state.Balances[who], paid[who], state.Balances)
			}
		}
		if _, kept := state.Contracts["junk"]; kept || len(state.Contracts) != 2 {
			t.Fatalf("%s: contracts %v", backend, state.Contracts)
		}
		module.Close()
		spinModule.Close()
		engine.Close()
		runs = append(runs, receipts)
		if err := vm.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if !reflect.DeepEqual(runs[0], runs[1]) {
		t.Fatalf("the backends differ:\n%+v\n%+v", runs[0], runs[1])
	}
}

// spin is (module (memory (export "memory") 1) (func (export "main")
// (loop (br 0)))): a contract without a schema that never returns.
var spin = []byte{
	0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x04, 0x01, 0x60, 0x00,
	0x00, 0x03, 0x02, 0x01, 0x00, 0x05, 0x03, 0x01, 0x00, 0x01, 0x07, 0x11, 0x02,
	0x06, 0x6d, 0x65, 0x6d, 0x6f, 0x72, 0x79, 0x02, 0x00, 0x04, 0x6d, 0x61, 0x69,
	0x6e, 0x00, 0x00, 0x0a, 0x09, 0x01, 0x07, 0x00, 0x03, 0x40, 0x0c, 0x00, 0x0b, 0x0b,
}

// A block the chain gives up on (its context cancelled while a contract
// spins) is abandoned: the error wraps context.Canceled, and neither the
// state nor its file changed.
func TestABlockGivenUpOnLeavesNoTrace(t *testing.T) {
	for _, backend := range backends {
		vm, err := ward.NewContractVM(backend)
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(t.TempDir(), "state.json")
		chain, err := Open(vm, path, 1, map[string]uint64{"alice": 1 << 62})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := chain.ApplyBlock(context.Background(), 1, []Tx{
			{Kind: DeployContract, Sender: "alice", ContractID: "spin", Code: spin, GasLimit: 1_000_000},
		}); err != nil {
			t.Fatal(err)
		}
		before, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		balance := chain.State().Balances["alice"]
		ctx, cancel := context.WithCancel(context.Background())
		go func() {
			time.Sleep(20 * time.Millisecond)
			cancel()
		}()
		_, err = chain.ApplyBlock(ctx, 2, []Tx{
			{Kind: CallContract, Sender: "alice", ContractID: "spin", Method: "main", GasLimit: 1 << 60},
		})
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("%s: %v", backend, err)
		}
		after, err := os.ReadFile(path)
		if err != nil || !bytes.Equal(before, after) {
			t.Fatalf("%s: the state file changed: %v", backend, err)
		}
		if chain.State().Height != 1 || chain.State().Balances["alice"] != balance {
			t.Fatalf("%s: the state changed: %+v", backend, chain.State())
		}
		if err := vm.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
}

// checkReceipts fails t unless the receipts have the statuses want and
// each fee is its gas times price.
func checkReceipts(t *testing.T, backend ward.Backend, receipts []Receipt, price uint64, want ...string) {
	t.Helper()
	statuses := []string{}
	for _, r := range receipts {
		statuses = append(statuses, r.Status)
		if r.Fee != r.GasUsed*price {
			t.Fatalf("%s: fee %d for gas %d", backend, r.Fee, r.GasUsed)
		}
	}
	if !reflect.DeepEqual(statuses, want) {
		t.Fatalf("%s: statuses %v, want %v: %+v", backend, statuses, want, receipts)
	}
}
