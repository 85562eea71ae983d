;; A WASI contract of the shape TinyGo's wasip1 target builds
;; (`tinygo build -target=wasip1 -buildmode=c-shared`): the imports its
;; runtime makes of wasi_snapshot_preview1, `_initialize` (which its runtime
;; needs before any export), methods as exports of [] -> [], inputs read
;; and outputs written through Ward's host functions. TinyGo cannot be
;; installed here; this module stands in for one (docs/wasi.md).
;;
;; Methods:
;;   greet    writes "hello, <input>\n" to stdout and "greeted\n" to stderr,
;;            stores the input under "greeted", outputs "hi"
;;   entropy  outputs 16 bytes of random_get
;;   now      outputs the realtime clock (8 bytes LE)
;;   whoami   outputs argv[0] (the contract's address)
;;   quit     proc_exit(the input's length): 0 is ok, more a revert
;;   spin     loops until its gas runs out (or it is cancelled)
;; Each traps (unreachable) unless `_initialize` ran in its instance.
;; `_start` writes "started\n" to stdout.
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "random_get" (func $random_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "clock_time_get" (func $clock_time_get (param i32 i64 i32) (result i32)))
  (import "wasi_snapshot_preview1" "args_sizes_get" (func $args_sizes_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "args_get" (func $args_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "environ_sizes_get" (func $environ_sizes_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "environ_get" (func $environ_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (import "ward" "input_size" (func $input_size (result i32)))
  (import "ward" "input_read" (func $input_read (param i32 i32 i32)))
  (import "ward" "output_write" (func $output_write (param i32 i32)))
  (import "ward" "storage_write" (func $storage_write (param i32 i32 i32 i32)))
  (memory (export "memory") 2)
  (global $ready (mut i32) (i32.const 0))
  (data (i32.const 16) "hello, ")
  (data (i32.const 32) "greeted\n")
  (data (i32.const 48) "greeted")
  (data (i32.const 64) "hi")
  (data (i32.const 80) "started\n")
  ;; the runtime's start: environment sizes read, as TinyGo's does
  (func (export "_initialize")
    (drop (call $environ_sizes_get (i32.const 0) (i32.const 4)))
    (global.set $ready (i32.const 1)))
  (func $check (if (i32.eqz (global.get $ready)) (then unreachable)))
  ;; writes `len` bytes at `ptr` to descriptor `fd` (iovec at 0)
  (func $write (param $fd i32) (param $ptr i32) (param $len i32)
    (i32.store (i32.const 0) (local.get $ptr))
    (i32.store (i32.const 4) (local.get $len))
    (drop (call $fd_write (local.get $fd) (i32.const 0) (i32.const 1) (i32.const 8))))
  (func (export "greet") (local $n i32)
    (call $check)
    (local.set $n (call $input_size))
    ;; "hello, " at 1024, the input after it, then "\n"
    (memory.copy (i32.const 1024) (i32.const 16) (i32.const 7))
    (call $input_read (i32.const 1031) (i32.const 0) (local.get $n))
    (i32.store8 (i32.add (i32.const 1031) (local.get $n)) (i32.const 10))
    (call $write (i32.const 1) (i32.const 1024) (i32.add (local.get $n) (i32.const 8)))
    (call $write (i32.const 2) (i32.const 32) (i32.const 8))
    (call $storage_write (i32.const 48) (i32.const 7) (i32.const 1031) (local.get $n))
    (call $output_write (i32.const 64) (i32.const 2)))
  (func (export "entropy")
    (call $check)
    (drop (call $random_get (i32.const 2048) (i32.const 16)))
    (call $output_write (i32.const 2048) (i32.const 16)))
  (func (export "now")
    (call $check)
    (drop (call $clock_time_get (i32.const 0) (i64.const 1) (i32.const 2048)))
    (call $output_write (i32.const 2048) (i32.const 8)))
  (func (export "whoami")
    (call $check)
    ;; argc at 2048, buffer size at 2052; pointers at 2056, strings at 4096
    (drop (call $args_sizes_get (i32.const 2048) (i32.const 2052)))
    (drop (call $args_get (i32.const 2056) (i32.const 4096)))
    ;; argv[0] without its NUL
    (call $output_write (i32.const 4096) (i32.sub (i32.load (i32.const 2052)) (i32.const 1))))
  (func (export "quit")
    (call $check)
    (call $proc_exit (call $input_size)))
  (func (export "spin")
    (call $check)
    (loop $forever (br $forever)))
  (func (export "_start")
    (call $write (i32.const 1) (i32.const 80) (i32.const 8))))
