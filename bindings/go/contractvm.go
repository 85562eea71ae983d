package ward

import (
	"bytes"
	"container/list"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/maphash"
	"sync"
)

// Env is what a ContractVM's call sees of its chain: the contracts'
// storage, where events go, the block, who sent the transaction, and how
// to find a contract another one calls. The VM buffers a call's writes
// and events and hands them to Env only when the whole call succeeded.
type Env interface {
	// Get is the value of key in contract's storage.
	Get(contractID string, key []byte) (value []byte, found bool, err error)
	// Set stores value under key in contract's storage.
	Set(contractID string, key, value []byte) error
	// Delete removes key from contract's storage.
	Delete(contractID string, key []byte) error
	// Emit records an event of contract's.
	Emit(contractID string, event Event) error
	// Sender is who sent the transaction (its address is
	// AccountAddress(Sender())).
	Sender() string
	// Height and Time are the block's.
	Height() uint64
	Time() uint64
	// Contract is the contract at address (ContractAddress of its ID):
	// its ID and code, for a call from one contract to another.
	Contract(address [32]byte) (contractID string, wasm []byte, found bool, err error)
}

// WASISeeder is an Env that chooses the random seed of a call's WASI
// contracts (random_get; for example the transaction's hash). Without it
// the seed is SHA-256 of the contract ID, the sender, and the block's
// height and time. A nested call's seed derives from its top call's, the
// callee's address and the call's index, so no two frames share a stream.
type WASISeeder interface {
	WASISeed() [32]byte
}

// Event is an event a contract emitted: its topic and data, and, where
// the contract's schema declares it, {"name", "fields"} as JSON.
type Event struct {
	Topic []byte
	Data  []byte
	JSON  string
}

// ContractAddress is the 32-byte address a contract ID stands for inside
// the guest (ward.self_address, the callee of ward.call): SHA-256 of
// "ward-contract:" and the ID.
func ContractAddress(contractID string) [32]byte {
	return sha256.Sum256([]byte("ward-contract:" + contractID))
}

// AccountAddress is a transaction sender's address inside the guest
// (ward.caller of a first call): SHA-256 of "ward-account:" and the
// sender.
func AccountAddress(sender string) [32]byte {
	return sha256.Sum256([]byte("ward-account:" + sender))
}

// ErrTxFailed is what every *CallError is (errors.Is): the call ran, or
// was refused before running, and did not succeed; its gas was used all
// the same and nothing it wrote is kept.
var ErrTxFailed = errors.New("ward: the contract call failed")

// ErrOutOfGas is a *CallError whose call ran out of gas (errors.Is); it
// is ErrTxFailed too.
var ErrOutOfGas = errors.New("ward: the contract call ran out of gas")

// CallError is a call that ran and did not succeed: reverted (Message is
// the contract's revert message), trapped, out of gas, or refused before
// running (Status "rejected"). Its gas was used all the same. It is
// ErrTxFailed, and ErrOutOfGas when it ran out of gas (errors.Is). A
// call the engine stopped (a cancelled context, the engine's timeout) is
// not a CallError: it has no outcome.
type CallError struct {
	Status  string
	Kind    string
	Message string
	GasUsed uint64
	// Log is what the call logged before it failed (Outcome.Log).
	Log []string
}

func (e *CallError) Error() string {
	return fmt.Sprintf("contract call %s (%s): %s", e.Status, e.Kind, e.Message)
}

// Is makes errors.Is(err, ErrTxFailed) true of every CallError and
// errors.Is(err, ErrOutOfGas) of one that ran out of gas.
func (e *CallError) Is(target error) bool {
	return target == ErrTxFailed || (target == ErrOutOfGas && e.Status == "out_of_gas")
}

// Result is what a successful call returned: its gas, its output as it
// wrote it and, for a contract with a schema, as JSON by the method's
// return type ("null" for none, and for a contract without a schema), its
// events, and what it logged (Outcome.Log: debug_log, a WASI contract's
// stdout and stderr).
type Result struct {
	GasUsed    uint64
	Output     []byte
	OutputJSON string
	Events     []Event
	Log        []string
}

// ContractVM runs contracts by ID, method name and JSON arguments, on
// Ward: the shape of a Go chain's contract VM (Validate, Call). Gas comes
// from Ward's instrumentation, which cannot be escaped: a module that
// cannot be instrumented is refused, never run unmetered. Safe for
// concurrent use by many goroutines.
type ContractVM struct {
	engine *Engine
	mu     sync.Mutex
	// Prepared modules by a hash of their code (hash/maphash, checked
	// against the code on every hit: a chain hands the code in with every
	// call, and a cryptographic hash of it would cost more than the call
	// itself), the most recently used at the front of order; past limit
	// the least recently used leaves (freed by its finalizer once no call
	// holds it).
	seed    maphash.Seed
	modules map[uint64]*list.Element
	order   *list.List
	limit   int
}

// prepared is a module a ContractVM keeps, its code, and whether it has
// a schema.
type prepared struct {
	key        uint64
	code       []byte
	module     *Module
	schemaless bool
}

// The most modules a ContractVM keeps prepared.
const maxModules = 256

// NewContractVM makes a VM on backend. Contracts may import WASI preview
// 1 (wasi_snapshot_preview1, as TinyGo's wasip1 target builds them).
func NewContractVM(backend Backend) (*ContractVM, error) {
	engine, err := NewEngine(EngineOptions{Backend: backend, WASI: true})
	if err != nil {
		return nil, err
	}
	return &ContractVM{engine: engine, seed: maphash.MakeSeed(), modules: map[uint64]*list.Element{}, order: list.New(), limit: maxModules}, nil
}

// Close frees the VM's engine and modules; calls still running must have
// ended first. It returns ctx.Err() wrapped when ctx has already ended
// (and then frees nothing).
func (vm *ContractVM) Close(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("ward: close: %w", err)
	}
	vm.mu.Lock()
	defer vm.mu.Unlock()
	for e := vm.order.Front(); e != nil; e = e.Next() {
		e.Value.(*prepared).module.Close()
	}
	vm.modules = map[uint64]*list.Element{}
	vm.order.Init()
	vm.engine.Close()
	return nil
}

// Validate checks a contract's module against Ward's policy: validation,
// features, limits, imports, a schema that reads, and that it can be
// instrumented for gas.
func (vm *ContractVM) Validate(ctx context.Context, wasm []byte) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("ward: validate: %w", err)
	}
	if err := vm.engine.Validate(wasm); err != nil {
		return err
	}
	_, err := vm.module(wasm)
	return err
}

// key is what wasm is kept under.
func (vm *ContractVM) key(wasm []byte) uint64 {
	return maphash.Bytes(vm.seed, wasm)
}

// module is wasm prepared: kept by its code's hash, least recently used
// first out.
func (vm *ContractVM) module(wasm []byte) (*prepared, error) {
	key := vm.key(wasm)
	vm.mu.Lock()
	defer vm.mu.Unlock()
	if e, ok := vm.modules[key]; ok {
		if p := e.Value.(*prepared); bytes.Equal(p.code, wasm) {
			vm.order.MoveToFront(e)
			return p, nil
		}
		// Other code under the same 64-bit hash: it makes way.
		vm.order.Remove(e)
		delete(vm.modules, key)
	}
	m, err := vm.engine.Prepare(wasm)
	if err != nil {
		return nil, err
	}
	schema, err := m.Schema()
	if err != nil {
		return nil, err
	}
	for vm.order.Len() >= vm.limit {
		// Not closed here: a call may still run it (the finalizer frees it).
		oldest := vm.order.Remove(vm.order.Back()).(*prepared)
		delete(vm.modules, oldest.key)
	}
	p := &prepared{key: key, code: append([]byte{}, wasm...), module: m, schemaless: schema == "null"}
	vm.modules[key] = vm.order.PushFront(p)
	return p, nil
}

// Call runs method of the contract contractID, whose code is wasm, with
// argsJSON (its arguments as a JSON object by name; "init" is the
// contract's constructor) and at most gasLimit gas, on env. A module
// without a schema (no `ward.schema` section) is called by export:
// method names any export that takes nothing and returns nothing or an
// i32 (nonzero: a revert with that code), argsJSON reaches it as they are
// through ward.input_read (and as stdin), and "init" runs its `deploy`
// export, if any. A module importing WASI is such a module: its
// _initialize runs before each method, _start only when named, proc_exit
// ends the call with its code (nonzero: a revert), what it writes to
// stdout and stderr is the Result's Log, its clocks are the block's time
// and its random bytes are seeded as WASISeeder says. A call from one
// contract to a WASI contract names the method in its input: the
// method's name, a NUL byte, then the arguments.
//
// "init" is a deploy, charged as Ward's executor charges one: DeployGas
// of the code first (a limit below it is out of gas, the whole limit
// used), then the constructor on what is left. It returns the gas used.
// Everything that is the caller's doing is a *CallError with the gas it
// used (ErrTxFailed, and ErrOutOfGas when out of gas; its writes and
// events are dropped): a revert, a trap, running out of gas, code the
// policy refuses at a deploy (DeployGas), a method or arguments the
// schema refuses or an export that does not exist (RefusedCallGas),
// output that does not fit the method's declared type. Any other error is
// env's or Ward's, not the transaction's. A ctx that is cancelled or
// expires ends the call promptly with ctx.Err() wrapped, and nothing of
// it is kept; so does the engine's timeout, with ErrTimeout.
func (vm *ContractVM) Call(ctx context.Context, contractID string, wasm []byte, method string, argsJSON []byte, gasLimit uint64, env Env) (uint64, error) {
	result, err := vm.Invoke(ctx, contractID, wasm, method, argsJSON, gasLimit, env)
	var failed *CallError
	if errors.As(err, &failed) {
		return failed.GasUsed, err
	}
	return result.GasUsed, err
}

// refused is the *CallError of a call refused before its code ran, having
// used charge (more than gasLimit: out of gas, all of it used).
func refused(kind, message string, charge, gasLimit uint64) *CallError {
	if charge > gasLimit {
		return &CallError{Status: "out_of_gas", Kind: "out_of_gas", Message: kind + ": " + message, GasUsed: gasLimit}
	}
	return &CallError{Status: "rejected", Kind: kind, Message: message, GasUsed: charge}
}

// Invoke is Call with what the call returned: its output and its events.
func (vm *ContractVM) Invoke(ctx context.Context, contractID string, wasm []byte, method string, argsJSON []byte, gasLimit uint64, env Env) (Result, error) {
	if err := ctx.Err(); err != nil {
		// An ended context runs nothing, and charges nothing.
		return Result{}, fmt.Errorf("ward: call not started: %w", err)
	}
	// A deploy pays for its code before anything is checked.
	var deployed uint64
	if method == "init" {
		deployed = vm.engine.DeployGas(len(wasm))
		if deployed > gasLimit {
			return Result{}, refused("deploy", "the gas limit does not cover the deploy's charge for its code", deployed, gasLimit)
		}
	}
	p, err := vm.module(wasm)
	var rejection *Error
	if method == "init" && errors.As(err, &rejection) && rejection.Status == StatusRejected {
		return Result{}, refused(rejection.Kind, rejection.Message, deployed, gasLimit)
	}
	if err != nil {
		return Result{}, err
	}
	module := p.module
	entry := "main"
	var input []byte
	switch {
	case p.schemaless && method == "init":
		entry, input = "deploy", argsJSON
	case p.schemaless:
		entry, input = method, argsJSON
	case method == "init":
		entry = "deploy"
		input, err = module.EncodeInit(string(argsJSON))
	default:
		input, err = module.EncodeCall(method, string(argsJSON))
	}
	if errors.As(err, &rejection) && rejection.Status == StatusBadArguments {
		// The schema refuses the method or its arguments: the sender's
		// doing, paid for.
		charge := deployed + module.RefusedCallGas(len(argsJSON))
		return Result{}, refused(rejection.Kind, rejection.Message, charge, gasLimit)
	}
	if err != nil {
		return Result{}, err
	}
	top := &frame{env: env}
	host := &contractHost{
		ctx:     ctx,
		vm:      vm,
		frame:   top,
		module:  module,
		storage: contractID,
		self:    ContractAddress(contractID),
		seed:    seedOf(contractID, env),
		entered: new(uint64),
	}
	outcome, err := vm.engine.CallContext(ctx, module, CallOptions{
		Entry:    entry,
		Input:    input,
		GasLimit: gasLimit - deployed,
		Caller:   AccountAddress(env.Sender()),
		Self:     host.self,
		Height:   env.Height(),
		Time:     env.Time(),
		WASISeed: host.seed,
	}, host)
	if err != nil {
		return Result{}, err
	}
	if method == "init" && outcome.Status == "rejected" && outcome.ErrorKind == "entry_not_found" {
		// A contract without a constructor: nothing runs at its deploy.
		return Result{GasUsed: deployed + outcome.GasUsed, OutputJSON: "null"}, nil
	}
	if outcome.Status == "rejected" {
		// No such entry, or one of another shape: refused before it ran.
		charge := deployed + outcome.GasUsed + module.RefusedCallGas(len(input))
		return Result{}, refused(outcome.ErrorKind, outcome.ErrorMessage, charge, gasLimit)
	}
	if !outcome.Ok() {
		failed := failure(outcome)
		failed.GasUsed += deployed
		return Result{}, failed
	}
	output := "null"
	if !p.schemaless && method != "init" {
		if output, err = module.DecodeOutput(method, outcome.Output); err != nil {
			// The contract returned what its schema says it does not:
			// its failure, nothing of it kept.
			return Result{}, &CallError{Status: "trapped", Kind: "bad_output", Message: err.Error(), GasUsed: deployed + outcome.GasUsed, Log: outcome.Log}
		}
	}
	if err := top.commit(); err != nil {
		return Result{}, err
	}
	return Result{GasUsed: deployed + outcome.GasUsed, Output: outcome.Output, OutputJSON: output, Events: top.events, Log: outcome.Log}, nil
}

// seedOf is the WASI random seed of a first call of contractID on env.
func seedOf(contractID string, env Env) [32]byte {
	if seeder, ok := env.(WASISeeder); ok {
		return seeder.WASISeed()
	}
	var block [16]byte
	binary.LittleEndian.PutUint64(block[:8], env.Height())
	binary.LittleEndian.PutUint64(block[8:], env.Time())
	id, sender := sha256.Sum256([]byte(contractID)), sha256.Sum256([]byte(env.Sender()))
	return sha256.Sum256(append(append(append([]byte("ward-wasi-seed:"), id[:]...), sender[:]...), block[:]...))
}

func failure(o Outcome) *CallError {
	message := o.ErrorMessage
	if o.Status == "reverted" {
		message = string(o.Output)
	}
	kind := o.ErrorKind
	if kind == "" {
		kind = o.Status
	}
	return &CallError{Status: o.Status, Kind: kind, Message: message, GasUsed: o.GasUsed, Log: o.Log}
}

// frame is one call's writes and events, over its caller's (or, for the
// first call, over Env): kept only when the call succeeds.
type frame struct {
	parent *frame
	env    Env
	// writes[contract][key]: the value, or nil for a removal.
	writes map[string]map[string][]byte
	// order keeps the writes in the order they were made.
	order  []storageKey
	events []Event
	// emitters[i] is the contract of events[i].
	emitters []string
}

type storageKey struct{ contract, key string }

func (f *frame) child() *frame {
	return &frame{parent: f, env: f.env}
}

func (f *frame) get(contract string, key []byte) ([]byte, bool, error) {
	for at := f; at != nil; at = at.parent {
		if value, ok := at.writes[contract][string(key)]; ok {
			return value, value != nil, nil
		}
	}
	return f.env.Get(contract, key)
}

func (f *frame) put(contract string, key []byte, value []byte) {
	if f.writes == nil {
		f.writes = map[string]map[string][]byte{}
	}
	if f.writes[contract] == nil {
		f.writes[contract] = map[string][]byte{}
	}
	if _, seen := f.writes[contract][string(key)]; !seen {
		f.order = append(f.order, storageKey{contract, string(key)})
	}
	f.writes[contract][string(key)] = value
}

// merge hands a successful nested call's writes and events to its caller.
func (f *frame) merge() {
	for _, k := range f.order {
		f.parent.put(k.contract, []byte(k.key), f.writes[k.contract][k.key])
	}
	f.parent.events = append(f.parent.events, f.events...)
	f.parent.emitters = append(f.parent.emitters, f.emitters...)
}

// commit hands the first call's writes and events to Env.
func (f *frame) commit() error {
	for _, k := range f.order {
		value := f.writes[k.contract][k.key]
		var err error
		if value == nil {
			err = f.env.Delete(k.contract, []byte(k.key))
		} else {
			err = f.env.Set(k.contract, []byte(k.key), value)
		}
		if err != nil {
			return err
		}
	}
	for i, event := range f.events {
		if err := f.env.Emit(f.emitters[i], event); err != nil {
			return err
		}
	}
	return nil
}

// contractHost serves one contract call's requests from its frame.
type contractHost struct {
	// ctx ends the whole call, nested calls included.
	ctx    context.Context
	vm     *ContractVM
	frame  *frame
	module *Module
	// storage is whose storage the code runs on (the caller's, for a
	// delegated call); self is the address it runs as.
	storage string
	self    [32]byte
	// seed is the frame's WASI random seed; entered counts the frames of
	// the whole call, shared by its nested hosts.
	seed    [32]byte
	entered *uint64
}

func (h *contractHost) Read(key []byte) ([]byte, bool, error) {
	return h.frame.get(h.storage, key)
}

func (h *contractHost) Write(key, value []byte) error {
	h.frame.put(h.storage, key, append([]byte{}, value...))
	return nil
}

func (h *contractHost) Remove(key []byte) error {
	h.frame.put(h.storage, key, nil)
	return nil
}

func (h *contractHost) Emit(topic, data []byte) error {
	decoded, err := h.module.DecodeEvent(topic, data)
	if err != nil || decoded == "null" {
		decoded = ""
	}
	h.frame.events = append(h.frame.events, Event{Topic: topic, Data: data, JSON: decoded})
	h.frame.emitters = append(h.frame.emitters, h.storage)
	return nil
}

// Call runs the callee as a call of its own in a nested frame: kept if it
// succeeds, dropped if not; its gas is charged to the caller.
func (h *contractHost) Call(request CallRequest) (CallResult, error) {
	if request.Value != [16]byte{} {
		// The VM keeps no balances, so value could only be made from
		// nothing: the guest that asks traps.
		return CallResult{}, &Refusal{Message: "a ContractVM moves no native asset: call without value"}
	}
	id, wasm, found, err := h.frame.env.Contract(request.Address)
	if err != nil {
		return CallResult{}, err
	}
	if !found {
		return CallResult{Status: 2}, nil
	}
	p, err := h.vm.module(wasm)
	if err != nil {
		// A callee that does not prepare fails as a call, not the caller.
		return CallResult{Status: 2}, nil
	}
	module := p.module
	nested := h.frame.child()
	*h.entered++
	var index [8]byte
	binary.LittleEndian.PutUint64(index[:], *h.entered)
	callee := &contractHost{
		ctx:     h.ctx,
		vm:      h.vm,
		frame:   nested,
		module:  module,
		storage: id,
		self:    request.Address,
		seed:    sha256.Sum256(append(append(append([]byte{}, h.seed[:]...), request.Address[:]...), index[:]...)),
		entered: h.entered,
	}
	entry, input := "", request.Input
	if module.WASI() {
		// A WASI contract's method is named: "method\x00arguments".
		name, args, _ := bytes.Cut(request.Input, []byte{0})
		entry, input = string(name), args
		if entry == "" || entry == "_initialize" {
			return CallResult{Status: 2}, nil
		}
	}
	if request.Delegate {
		// The callee's code on the caller's storage, as the caller.
		callee.storage, callee.self = h.storage, h.self
	}
	outcome, err := h.vm.engine.CallContext(h.ctx, module, CallOptions{
		Entry:     entry,
		Input:     input,
		GasLimit:  request.Gas,
		Caller:    h.self,
		Self:      callee.self,
		Height:    h.frame.env.Height(),
		Time:      h.frame.env.Time(),
		Value:     request.Value,
		StackBase: request.StackBase,
		ReadOnly:  request.ReadOnly,
		WASISeed:  callee.seed,
	}, callee)
	if err != nil {
		return CallResult{}, err
	}
	switch outcome.Status {
	case "ok":
		nested.merge()
		return CallResult{Status: 0, Output: outcome.Output, GasUsed: outcome.GasUsed}, nil
	case "reverted":
		return CallResult{Status: 1, Output: outcome.Output, GasUsed: outcome.GasUsed}, nil
	default:
		return CallResult{Status: 2, GasUsed: outcome.GasUsed}, nil
	}
}

// Create is refused: contracts are deployed by the chain (Call with
// "init").
func (h *contractHost) Create(CallRequest) (CallResult, error) {
	return CallResult{}, &Refusal{Message: "this chain deploys contracts itself: ward.create is not offered"}
}
