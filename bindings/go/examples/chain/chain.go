// Package chain is a small Go chain on Ward's ContractVM, as a Go chain's
// author would write one: accounts with balances; DEPLOY_CONTRACT and
// CALL_CONTRACT transactions in blocks; a fee of gasUsed × GasPrice
// debited from the sender whether the call succeeded or not, and nothing
// else of a failed call kept; state in a file, replaced whole after each
// block; and a block the chain gives up on (its context cancelled or
// expired) abandoned, leaving no trace. Nothing a transaction carries can
// make the chain abandon a block: code the policy refuses, an unknown
// method, arguments that do not decode are failed receipts that pay for
// the work they caused (ward.CallError's gas); only the chain's own
// failures (its context, its file, the engine) abandon one.
//
// Standard library and the ward package only.
package chain

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	ward "example.invalid/ward/bindings/go"
)

// The transaction kinds.
const (
	DeployContract = "DEPLOY_CONTRACT"
	CallContract   = "CALL_CONTRACT"
)

// Tx is a transaction: a deploy of Code as ContractID (its constructor
// run with Args), or a call of Method of ContractID with Args.
type Tx struct {
	Kind       string
	Sender     string
	ContractID string
	Code       []byte
	Method     string
	Args       []byte
	GasLimit   uint64
}

// Receipt is what a transaction did: "ok" or "failed" (why in Error),
// the gas it used and the fee it paid, a call's output (as the contract
// wrote it, and as JSON by its schema: "null" without one), and what it
// logged (a WASI contract's stdout and stderr lines).
type Receipt struct {
	Status     string
	GasUsed    uint64
	Fee        uint64
	Output     []byte
	OutputJSON string
	Error      string
	Log        []string
}

// State is everything the chain keeps: balances, contracts' code and
// storage, the height.
type State struct {
	Height    uint64
	Balances  map[string]uint64
	Contracts map[string][]byte
	// Storage by contract, keys in hex (JSON keeps only text keys).
	Storage map[string]map[string][]byte
}

func (s *State) clone() *State {
	c := &State{
		Height:    s.Height,
		Balances:  map[string]uint64{},
		Contracts: map[string][]byte{},
		Storage:   map[string]map[string][]byte{},
	}
	for k, v := range s.Balances {
		c.Balances[k] = v
	}
	for k, v := range s.Contracts {
		c.Contracts[k] = v
	}
	for id, entries := range s.Storage {
		c.Storage[id] = map[string][]byte{}
		for k, v := range entries {
			c.Storage[id][k] = v
		}
	}
	return c
}

// Chain runs blocks on a ContractVM over a State kept in a file.
type Chain struct {
	vm       *ward.ContractVM
	path     string
	state    *State
	GasPrice uint64
}

// Open opens the chain whose state is at path (a new one, with genesis's
// balances, when there is none yet).
func Open(vm *ward.ContractVM, path string, gasPrice uint64, genesis map[string]uint64) (*Chain, error) {
	c := &Chain{vm: vm, path: path, GasPrice: gasPrice}
	bytes, err := os.ReadFile(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		c.state = &State{Balances: genesis, Contracts: map[string][]byte{}, Storage: map[string]map[string][]byte{}}
		if c.state.Balances == nil {
			c.state.Balances = map[string]uint64{}
		}
		return c, c.save(c.state)
	case err != nil:
		return nil, err
	}
	c.state = &State{}
	if err := json.Unmarshal(bytes, c.state); err != nil {
		return nil, fmt.Errorf("chain state %s: %w", path, err)
	}
	return c, nil
}

// State is the chain's state after its last block (not to be changed).
func (c *Chain) State() *State { return c.state }

// save writes state to the chain's file, whole: to a temporary file,
// then renamed over the old one.
func (c *Chain) save(state *State) error {
	bytes, err := json.Marshal(state)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(c.path), ".state-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(bytes); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), c.path)
}

// ApplyBlock runs txs in order as the next block at time and saves the
// state. A transaction that fails (refused, reverted, trapped, out of
// gas) is a receipt: its fee is paid, nothing else is kept. When ctx ends
// first, or the engine or the file fails, the block is abandoned: the
// error says why (wrapping ctx.Err() for a context), and the chain is as
// it was.
func (c *Chain) ApplyBlock(ctx context.Context, time uint64, txs []Tx) ([]Receipt, error) {
	next := c.state.clone()
	next.Height++
	receipts := make([]Receipt, 0, len(txs))
	for index, tx := range txs {
		receipt, err := c.apply(ctx, next, time, index, tx)
		if err != nil {
			return nil, fmt.Errorf("block %d abandoned: %w", next.Height, err)
		}
		receipts = append(receipts, receipt)
	}
	if err := c.save(next); err != nil {
		return nil, fmt.Errorf("block %d abandoned: %w", next.Height, err)
	}
	c.state = next
	return receipts, nil
}

// apply runs one transaction on state: a receipt, or the error that
// abandons the block.
func (c *Chain) apply(ctx context.Context, state *State, time uint64, index int, tx Tx) (Receipt, error) {
	maxFee := tx.GasLimit * c.GasPrice
	if c.GasPrice != 0 && maxFee/c.GasPrice != tx.GasLimit {
		return Receipt{Status: "failed", Error: "gas limit × price overflows"}, nil
	}
	if state.Balances[tx.Sender] < maxFee {
		return Receipt{Status: "failed", Error: "insufficient funds for gas × price"}, nil
	}
	env := &env{state: state, sender: tx.Sender, height: state.Height, time: time, index: index}
	method, code := tx.Method, state.Contracts[tx.ContractID]
	switch tx.Kind {
	case DeployContract:
		if _, taken := state.Contracts[tx.ContractID]; taken {
			return Receipt{Status: "failed", Error: "contract ID taken"}, nil
		}
		// The VM validates the code as part of the deploy, and charges
		// for it whether it is refused or not (ward.Engine.DeployGas).
		method, code = "init", tx.Code
	case CallContract:
		if code == nil {
			return Receipt{Status: "failed", Error: "no contract " + tx.ContractID}, nil
		}
	default:
		return Receipt{Status: "failed", Error: "unknown transaction kind " + tx.Kind}, nil
	}
	result, err := c.vm.Invoke(ctx, tx.ContractID, code, method, tx.Args, tx.GasLimit, env)
	var failed *ward.CallError
	switch {
	case errors.As(err, &failed):
		// Its writes were never handed to env; only its fee is kept.
		result.GasUsed = failed.GasUsed
	case err != nil:
		// The context, the engine or env: the chain's business, not the
		// transaction's.
		return Receipt{}, err
	case tx.Kind == DeployContract:
		state.Contracts[tx.ContractID] = tx.Code
	}
	fee := result.GasUsed * c.GasPrice
	state.Balances[tx.Sender] -= fee
	receipt := Receipt{Status: "ok", GasUsed: result.GasUsed, Fee: fee, Output: result.Output, OutputJSON: result.OutputJSON, Log: result.Log}
	if failed != nil {
		receipt.Status, receipt.Output, receipt.OutputJSON = "failed", nil, ""
		receipt.Error, receipt.Log = failed.Error(), failed.Log
	}
	return receipt, nil
}

// env is a transaction's view of the block's state for the ContractVM.
type env struct {
	state        *State
	sender       string
	height, time uint64
	// index is the transaction's place in its block.
	index int
}

// WASISeed keys a WASI contract's random bytes (ward.WASISeeder): the
// block's height and the transaction's index, so that no two
// transactions draw the same stream and every node draws the same.
func (e *env) WASISeed() [32]byte {
	var at [16]byte
	binary.LittleEndian.PutUint64(at[:8], e.height)
	binary.LittleEndian.PutUint64(at[8:], uint64(e.index))
	return sha256.Sum256(append([]byte("example-chain-wasi-seed:"), at[:]...))
}

func (e *env) Get(id string, key []byte) ([]byte, bool, error) {
	value, ok := e.state.Storage[id][hex.EncodeToString(key)]
	return value, ok, nil
}

func (e *env) Set(id string, key, value []byte) error {
	if e.state.Storage[id] == nil {
		e.state.Storage[id] = map[string][]byte{}
	}
	e.state.Storage[id][hex.EncodeToString(key)] = value
	return nil
}

func (e *env) Delete(id string, key []byte) error {
	delete(e.state.Storage[id], hex.EncodeToString(key))
	return nil
}

func (e *env) Emit(string, ward.Event) error { return nil }
func (e *env) Sender() string                { return e.sender }
func (e *env) Height() uint64                { return e.height }
func (e *env) Time() uint64                  { return e.time }

func (e *env) Contract(address [32]byte) (string, []byte, bool, error) {
	ids := make([]string, 0, len(e.state.Contracts))
	for id := range e.state.Contracts {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		if ward.ContractAddress(id) == address {
			return id, e.state.Contracts[id], true, nil
		}
	}
	return "", nil, false, nil
}
