// Package ward runs WebAssembly contracts and plugins on Ward from Go:
// deterministic gas from Ward's own instrumentation (the same on both
// engines, wasmtime and wasmi, and the same as Ward's Rust API), modules
// checked and compiled once, and calls whose storage, events and calls
// into other contracts come back to Go as requests instead of callbacks.
//
// It is a thin layer over Ward's C API (crates/capi/include/ward.h),
// through cgo and the standard library only; build Ward's static library
// first (`cargo build -p ward-capi`, or `make go`).
//
// An Engine is safe for use by many goroutines at once; so is a Module.
// Engine.CallContext runs one call to its end on the calling goroutine,
// asking its Host for what the guest needs; a context that is cancelled
// or expires ends the call within about a millisecond, with ctx.Err()
// wrapped in the error.
package ward

/*
#cgo CFLAGS: -I${SRCDIR}/../../crates/capi/include
#cgo LDFLAGS: -l:libward_capi.a -ldl -lm -lpthread
#include <stdlib.h>
#include "ward.h"
*/
import "C"

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"time"
	"unsafe"
)

// Backend is the engine that runs guests. Both give the same outcomes and
// gas.
type Backend int

const (
	// Wasmtime compiles with Cranelift: fast warm calls.
	Wasmtime Backend = iota
	// Wasmi interprets: modules ready in milliseconds, no JIT.
	Wasmi
)

func (b Backend) String() string {
	if b == Wasmi {
		return "wasmi"
	}
	return "wasmtime"
}

// Status says why a function of Ward's failed (WardStatus in ward.h).
type Status int

// The statuses of ward.h.
const (
	StatusInvalidArgument Status = 1
	StatusRejected        Status = 2
	StatusBadArguments    Status = 3
	StatusState           Status = 4
	StatusFault           Status = 5
	StatusInternal        Status = 6
	StatusEngine          Status = 7
)

// Error is a failure Ward reported: its status, its kind (for a refused
// module, Ward's error kind such as "invalid_wasm" or "unknown_import")
// and a message for people.
type Error struct {
	Status  Status
	Kind    string
	Message string
}

func (e *Error) Error() string {
	return fmt.Sprintf("ward: %s: %s", e.Kind, e.Message)
}

// IsRejected tells whether err is a module Ward refused.
func IsRejected(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Status == StatusRejected
}

// take turns a WardError into a Go error and frees it.
func take(err *C.struct_WardError) error {
	if err == nil {
		return &Error{Status: StatusInternal, Kind: "internal", Message: "no error was given"}
	}
	defer C.ward_error_free(err)
	return &Error{
		Status:  Status(C.ward_error_code(err)),
		Kind:    C.GoString(C.ward_error_kind(err)),
		Message: C.GoString(C.ward_error_message(err)),
	}
}

// bytesArg is a slice as a C pointer and length (Ward copies it before
// returning).
func bytesArg(b []byte) (*C.uint8_t, C.size_t) {
	if len(b) == 0 {
		return nil, 0
	}
	return (*C.uint8_t)(unsafe.Pointer(&b[0])), C.size_t(len(b))
}

func goBytes(p *C.uint8_t, n C.size_t) []byte {
	if n == 0 {
		return []byte{}
	}
	return C.GoBytes(unsafe.Pointer(p), C.int(n))
}

// EngineOptions configures an engine; the zero value is wasmtime with
// Ward's limits, no backstop and no disk cache.
type EngineOptions struct {
	Backend Backend
	// MaxMemoryPages bounds a guest's memory in 64 KiB pages (0: Ward's
	// default).
	MaxMemoryPages uint32
	// Timeout is a wall-clock backstop per call (0: none); gas bounds
	// honest work.
	Timeout time.Duration
	// CacheDir keeps compiled modules on disk between runs ("": memory
	// only).
	CacheDir string
	// WASI lets modules import wasi_snapshot_preview1 (docs/wasi.md):
	// each call of such a module gets a fresh, deterministic WASI state,
	// and what it writes to stdout and stderr becomes its Log.
	WASI bool
	// Children lets a guest run modules of its own through the vm_*
	// functions (ABI version 3, docs/host-abi.md): each call gets its own,
	// paid for from its gas and stopped by its Timeout and its context as
	// the call is. Without it every vm_* call answers "unavailable".
	Children bool
}

// Engine is one backend with one policy and a cache of the modules it
// compiled. Safe for concurrent use.
type Engine struct {
	ptr *C.struct_WardEngine
}

// NewEngine makes an engine.
func NewEngine(options EngineOptions) (*Engine, error) {
	var opts C.struct_WardEngineOptions
	C.ward_engine_options_default(&opts)
	opts.backend = C.enum_WardBackend(options.Backend)
	opts.max_memory_pages = C.uint32_t(options.MaxMemoryPages)
	opts.timeout_ms = C.uint64_t(options.Timeout / time.Millisecond)
	opts.wasi = C.bool(options.WASI)
	opts.children = C.bool(options.Children)
	if options.CacheDir != "" {
		dir := C.CString(options.CacheDir)
		defer C.free(unsafe.Pointer(dir))
		opts.cache_dir = dir
	}
	var cerr *C.struct_WardError
	ptr := C.ward_engine_new(&opts, &cerr)
	if ptr == nil {
		return nil, take(cerr)
	}
	engine := &Engine{ptr: ptr}
	runtime.SetFinalizer(engine, (*Engine).Close)
	return engine, nil
}

// DeployGas is the gas a deploy of codeLen bytes is charged before its
// module is validated, as Ward's executor charges it (deploy_base +
// deploy_per_byte × codeLen, docs/gas.md "Deploys"): validating,
// instrumenting and compiling code is work, a refused module's included.
func (e *Engine) DeployGas(codeLen int) uint64 {
	gas := uint64(C.ward_engine_deploy_gas(e.ptr, C.size_t(codeLen)))
	runtime.KeepAlive(e)
	return gas
}

// Close frees the engine; its modules must not be used after.
func (e *Engine) Close() {
	if e.ptr != nil {
		C.ward_engine_free(e.ptr)
		e.ptr = nil
	}
}

// Health is nil while the engine's helper threads run, else what does
// not (wasmtime's timeout thread, without which Timeout never fires):
// calls still run, and a host reports it.
func (e *Engine) Health() error {
	var cerr *C.struct_WardError
	if C.ward_engine_health(e.ptr, &cerr) != C.WARD_STATUS_OK {
		return take(cerr)
	}
	return nil
}

// Validate checks wasm against the engine's policy without compiling it:
// nil, or an *Error with StatusRejected. A module that cannot be
// instrumented for gas is refused: Ward never runs one unmetered.
func (e *Engine) Validate(wasm []byte) error {
	p, n := bytesArg(wasm)
	var cerr *C.struct_WardError
	status := C.ward_validate(e.ptr, p, n, &cerr)
	runtime.KeepAlive(wasm)
	if status != C.WARD_STATUS_OK {
		return take(cerr)
	}
	return nil
}

// Module is a module ready to run: checked, instrumented and compiled
// (once per code hash per engine), with its schema if it has one. Safe
// for concurrent use.
type Module struct {
	ptr    *C.struct_WardModule
	engine *Engine
}

// Prepare checks, instruments and compiles wasm, or takes it from the
// engine's cache.
func (e *Engine) Prepare(wasm []byte) (*Module, error) {
	p, n := bytesArg(wasm)
	var cerr *C.struct_WardError
	ptr := C.ward_module_new(e.ptr, p, n, &cerr)
	runtime.KeepAlive(wasm)
	if ptr == nil {
		return nil, take(cerr)
	}
	module := &Module{ptr: ptr, engine: e}
	runtime.SetFinalizer(module, (*Module).Close)
	return module, nil
}

// WASI tells whether the module imports WASI preview 1
// (wasi_snapshot_preview1): its calls get a WASI state (CallOptions).
func (m *Module) WASI() bool {
	wasi := bool(C.ward_module_wasi(m.ptr))
	runtime.KeepAlive(m)
	return wasi
}

// RefusedCallGas is the gas a call of the module is charged when it is
// refused before its code runs (a method or arguments its schema refuses,
// an export it lacks): its instance cost, which every call of it pays, and
// host_per_byte for each of inputLen bytes read to refuse it. A host
// charges it so that a malformed call is never free.
func (m *Module) RefusedCallGas(inputLen int) uint64 {
	gas := uint64(C.ward_module_refused_call_gas(m.ptr, C.size_t(inputLen)))
	runtime.KeepAlive(m)
	return gas
}

// Close frees the module.
func (m *Module) Close() {
	if m.ptr != nil {
		C.ward_module_free(m.ptr)
		m.ptr = nil
	}
}

// Hash is the module's code hash (BLAKE3 of its bytes).
func (m *Module) Hash() [32]byte {
	var out [32]C.uint8_t
	C.ward_module_hash(m.ptr, &out)
	var hash [32]byte
	for i, b := range out {
		hash[i] = byte(b)
	}
	return hash
}

func cString(p *C.char) string {
	defer C.ward_string_free(p)
	return C.GoString(p)
}

// Schema is the module's schema as JSON ("null" without one).
func (m *Module) Schema() (string, error) {
	var out *C.char
	var cerr *C.struct_WardError
	if C.ward_module_schema(m.ptr, &out, &cerr) != C.WARD_STATUS_OK {
		return "", take(cerr)
	}
	return cString(out), nil
}

func (m *Module) encode(method string, argsJSON string) ([]byte, error) {
	var args *C.char
	if argsJSON != "" {
		args = C.CString(argsJSON)
		defer C.free(unsafe.Pointer(args))
	}
	var out C.struct_WardBytes
	var cerr *C.struct_WardError
	var status C.enum_WardStatus
	if method == "" {
		status = C.ward_module_encode_init(m.ptr, args, &out, &cerr)
	} else {
		name := C.CString(method)
		defer C.free(unsafe.Pointer(name))
		status = C.ward_module_encode_call(m.ptr, name, args, &out, &cerr)
	}
	if status != C.WARD_STATUS_OK {
		return nil, take(cerr)
	}
	defer C.ward_bytes_free(out)
	return goBytes(out.data, out.len), nil
}

// EncodeCall is a call's input for method with its arguments as a JSON
// object by name ("" for none), by the module's schema.
func (m *Module) EncodeCall(method, argsJSON string) ([]byte, error) {
	return m.encode(method, argsJSON)
}

// EncodeInit is a deploy's input: init's arguments as a JSON object.
func (m *Module) EncodeInit(argsJSON string) ([]byte, error) {
	return m.encode("", argsJSON)
}

// DecodeOutput is a call's output as JSON by the method's return type.
func (m *Module) DecodeOutput(method string, output []byte) (string, error) {
	name := C.CString(method)
	defer C.free(unsafe.Pointer(name))
	p, n := bytesArg(output)
	var out *C.char
	var cerr *C.struct_WardError
	status := C.ward_module_decode_output(m.ptr, name, p, n, &out, &cerr)
	runtime.KeepAlive(output)
	if status != C.WARD_STATUS_OK {
		return "", take(cerr)
	}
	return cString(out), nil
}

// DecodeEvent is an event as JSON, {"name", "fields"}, by the schema
// ("null" when it declares no event of this topic).
func (m *Module) DecodeEvent(topic, data []byte) (string, error) {
	tp, tn := bytesArg(topic)
	dp, dn := bytesArg(data)
	var out *C.char
	var cerr *C.struct_WardError
	status := C.ward_module_decode_event(m.ptr, tp, tn, dp, dn, &out, &cerr)
	runtime.KeepAlive(topic)
	runtime.KeepAlive(data)
	if status != C.WARD_STATUS_OK {
		return "", take(cerr)
	}
	return cString(out), nil
}

// CallOptions says what to run. Entry "" is "main"; a deploy runs
// "deploy", an upgrade "migrate". A WASI module's Entry is any export of
// type [] -> [] or [] -> [i32], _start included (its _initialize runs
// first when it has one); what it writes to stdout and stderr is the Log.
type CallOptions struct {
	Entry    string
	Input    []byte
	GasLimit uint64
	Caller   [32]byte
	Self     [32]byte
	Height   uint64
	Time     uint64
	// Value is the native asset moved with the call, little-endian.
	Value [16]byte
	// StackBase is 0 for a first call, else the CallRequest's.
	StackBase uint32
	// ReadOnly calls may not write or emit (their writes trap before the
	// host sees them), and what they call is read-only too.
	ReadOnly bool
	// WASISeed keys a WASI module's random_get (BLAKE3 over a counter:
	// reproducible, not secret); a chain derives it from the transaction.
	WASISeed [32]byte
}

// CallRequest is a guest's call into another contract (or, with Code
// set, the deploy of a new one), to run as a call of its own.
type CallRequest struct {
	Address   [32]byte
	Input     []byte
	Code      []byte
	Salt      [32]byte
	Gas       uint64
	StackBase uint32
	ReadOnly  bool
	Delegate  bool
	Value     [16]byte
}

// CallResult is how a requested call ended: Status 0 ok, 1 reverted, 2
// failed; its output (a deploy's: the new address); the gas it used,
// which its caller is charged.
type CallResult struct {
	Status  int32
	Output  []byte
	GasUsed uint64
}

// Host serves one call's requests. An error it returns aborts the call
// (a fault of the host's: the call has no outcome, and nothing it asked
// for may be kept); a refusal that is the guest's doing is a trap
// instead: return a *Refusal.
type Host interface {
	Read(key []byte) (value []byte, found bool, err error)
	Write(key, value []byte) error
	Remove(key []byte) error
	Emit(topic, data []byte) error
	Call(request CallRequest) (CallResult, error)
	Create(request CallRequest) (CallResult, error)
}

// Refusal makes the guest trap (host_error) with its message: the
// guest's doing, recorded in its outcome.
type Refusal struct{ Message string }

func (r *Refusal) Error() string { return r.Message }

// Outcome is how a call ended.
type Outcome struct {
	// Status is ok, reverted, trapped, out_of_gas or rejected (a call
	// that timed out or was cancelled has no outcome: it is an error).
	Status       string
	ExitCode     int32
	GasUsed      uint64
	Output       []byte
	ErrorKind    string
	ErrorMessage string
	// Log is what the guest logged, in order: its debug_log calls and the
	// lines a WASI module wrote to stdout and stderr (without their
	// newlines), at most 64 KiB (a last entry
	// says how many more were dropped).
	Log []string
}

// Ok tells whether the call succeeded.
func (o Outcome) Ok() bool { return o.Status == "ok" }

// ErrTimeout is the engine's wall-clock backstop (EngineOptions's
// timeout) ending a call: the engine's fault, never the guest's outcome
// (how far code gets in a given time differs between machines).
var ErrTimeout = errors.New("ward: the call ran past the engine's wall-clock limit")

// Call is CallContext without a context: nothing but gas and the engine's
// backstop ends the call.
func (e *Engine) Call(module *Module, opts CallOptions, host Host) (Outcome, error) {
	return e.CallContext(context.Background(), module, opts, host)
}

// CallContext runs module from opts.Entry to its end on this goroutine,
// asking host for its storage, events and calls. The error is Ward's or
// the host's (then there is no outcome); how the guest fared, a revert or
// a trap included, is the Outcome. When ctx is cancelled or expires the
// call ends (at the engine's next check, about a millisecond, or before
// the host's next request is served) and the error wraps ctx.Err(): the
// call has no outcome, and nothing it asked for may be kept. An engine
// timeout is ErrTimeout, not an outcome.
func (e *Engine) CallContext(ctx context.Context, module *Module, opts CallOptions, host Host) (Outcome, error) {
	if err := ctx.Err(); err != nil {
		return Outcome{}, fmt.Errorf("ward: call not started: %w", err)
	}
	var copts C.struct_WardCallOptions
	C.ward_call_options_default(&copts)
	var entry *C.char
	if opts.Entry != "" {
		entry = C.CString(opts.Entry)
		defer C.free(unsafe.Pointer(entry))
	}
	copts.entry = entry
	// The options struct is Go memory passed to C: what it points to
	// must be C memory (cgo's rule), so the input is copied there.
	if len(opts.Input) > 0 {
		input := C.CBytes(opts.Input)
		defer C.free(input)
		copts.input, copts.input_len = (*C.uint8_t)(input), C.size_t(len(opts.Input))
	}
	copts.gas_limit = C.uint64_t(opts.GasLimit)
	for i := 0; i < 32; i++ {
		copts.caller[i] = C.uint8_t(opts.Caller[i])
		copts.self_address[i] = C.uint8_t(opts.Self[i])
	}
	for i := 0; i < 16; i++ {
		copts.value[i] = C.uint8_t(opts.Value[i])
	}
	copts.block_height = C.uint64_t(opts.Height)
	copts.block_time = C.uint64_t(opts.Time)
	copts.stack_base = C.uint32_t(opts.StackBase)
	copts.read_only = C.bool(opts.ReadOnly)
	for i := range opts.WASISeed {
		copts.wasi_seed[i] = C.uint8_t(opts.WASISeed[i])
	}
	if ctx.Done() != nil {
		// A flag the context's end raises from a goroutine of its own,
		// stopped (and waited for) before the flag is freed.
		flag := C.ward_cancel_new()
		defer C.ward_cancel_free(flag)
		copts.cancel = flag
		stop := make(chan struct{})
		var watcher sync.WaitGroup
		watcher.Add(1)
		go func() {
			defer watcher.Done()
			select {
			case <-ctx.Done():
				C.ward_call_cancel(flag)
			case <-stop:
			}
		}()
		defer watcher.Wait()
		defer close(stop)
	}
	var cerr *C.struct_WardError
	call := C.ward_call_begin(e.ptr, module.ptr, &copts, &cerr)
	if call == nil {
		return Outcome{}, take(cerr)
	}
	defer C.ward_call_free(call)
	for C.ward_call_state(call) == C.WARD_CALL_STATE_SUSPENDED {
		if err := ctx.Err(); err != nil {
			return Outcome{}, fmt.Errorf("ward: call cancelled: %w", err)
		}
		if err := serve(call, host); err != nil {
			return Outcome{}, err
		}
	}
	var out C.struct_WardOutcome
	if C.ward_call_outcome(call, &out, &cerr) != C.WARD_STATUS_OK {
		return Outcome{}, take(cerr)
	}
	outcome := Outcome{
		Status:   C.GoString(out.status),
		ExitCode: int32(out.exit_code),
		GasUsed:  uint64(out.gas_used),
		Output:   goBytes(out.output, out.output_len),
	}
	if out.error_kind != nil {
		outcome.ErrorKind = C.GoString(out.error_kind)
		outcome.ErrorMessage = C.GoString(out.error_message)
	}
	if n := C.ward_call_log_count(call); n > 0 {
		outcome.Log = make([]string, 0, int(n))
		for i := C.size_t(0); i < n; i++ {
			var line *C.uint8_t
			var length C.size_t
			if C.ward_call_log_line(call, i, &line, &length, nil) == C.WARD_STATUS_OK {
				outcome.Log = append(outcome.Log, string(goBytes(line, length)))
			}
		}
	}
	switch outcome.ErrorKind {
	case "cancelled":
		if err := ctx.Err(); err != nil {
			return Outcome{}, fmt.Errorf("ward: call cancelled: %w", err)
		}
		return Outcome{}, fmt.Errorf("ward: call cancelled")
	case "timeout":
		return Outcome{}, ErrTimeout
	}
	return outcome, nil
}

// serve answers the suspended call's request.
func serve(call *C.struct_WardCall, host Host) error {
	var req C.struct_WardRequest
	C.ward_call_request(call, &req)
	var cerr *C.struct_WardError
	var status C.enum_WardStatus
	refuse := func(err error) (C.enum_WardStatus, error) {
		var refusal *Refusal
		if !errors.As(err, &refusal) {
			return C.WARD_STATUS_OK, err
		}
		message := C.CString(refusal.Message)
		defer C.free(unsafe.Pointer(message))
		return C.ward_call_reply_trap(call, message, &cerr), nil
	}
	var err error
	switch req.kind {
	case C.WARD_REQUEST_KIND_STORAGE_READ:
		value, found, rerr := host.Read(goBytes(req.key, req.key_len))
		if rerr != nil {
			status, err = refuse(rerr)
			break
		}
		p, n := bytesArg(value)
		status = C.ward_call_reply_read(call, C.bool(found), p, n, &cerr)
		runtime.KeepAlive(value)
	case C.WARD_REQUEST_KIND_STORAGE_WRITE, C.WARD_REQUEST_KIND_STORAGE_REMOVE, C.WARD_REQUEST_KIND_EVENT:
		var herr error
		switch req.kind {
		case C.WARD_REQUEST_KIND_STORAGE_WRITE:
			herr = host.Write(goBytes(req.key, req.key_len), goBytes(req.value, req.value_len))
		case C.WARD_REQUEST_KIND_STORAGE_REMOVE:
			herr = host.Remove(goBytes(req.key, req.key_len))
		default:
			herr = host.Emit(goBytes(req.topic, req.topic_len), goBytes(req.value, req.value_len))
		}
		if herr != nil {
			status, err = refuse(herr)
			break
		}
		status = C.ward_call_reply_done(call, &cerr)
	case C.WARD_REQUEST_KIND_CALL, C.WARD_REQUEST_KIND_CREATE:
		request := CallRequest{
			Input:     goBytes(req.input, req.input_len),
			Gas:       uint64(req.gas),
			StackBase: uint32(req.stack_base),
			ReadOnly:  bool(req.read_only),
			Delegate:  bool(req.delegate),
		}
		for i := 0; i < 32; i++ {
			request.Address[i] = byte(req.address[i])
			request.Salt[i] = byte(req.salt[i])
		}
		for i := 0; i < 16; i++ {
			request.Value[i] = byte(req.amount[i])
		}
		var result CallResult
		var herr error
		if req.kind == C.WARD_REQUEST_KIND_CREATE {
			request.Code = goBytes(req.code, req.code_len)
			result, herr = host.Create(request)
		} else {
			result, herr = host.Call(request)
		}
		if herr != nil {
			status, err = refuse(herr)
			break
		}
		p, n := bytesArg(result.Output)
		status = C.ward_call_reply_call(call, C.int32_t(result.Status), p, n, C.uint64_t(result.GasUsed), &cerr)
		runtime.KeepAlive(result.Output)
	default:
		message := C.CString("this host serves no such request")
		defer C.free(unsafe.Pointer(message))
		status = C.ward_call_reply_trap(call, message, &cerr)
	}
	if err != nil {
		return err
	}
	if status != C.WARD_STATUS_OK {
		return take(cerr)
	}
	return nil
}

// Version is the C API's version line ("ward-capi VERSION; abi N;
// schedule N").
func Version() string {
	return C.GoString(C.ward_version())
}
