;; A counter contract on Ward's host ABI.
;;
;; deploy: stores the initial count (8 bytes, little-endian; 0 without input).
;; main:   input "get" outputs the count; anything else adds one, emits an
;;         `inc` event with the new count and outputs it.
(module
  (import "ward" "input_size" (func $input_size (result i32)))
  (import "ward" "input_read" (func $input_read (param i32 i32 i32)))
  (import "ward" "output_write" (func $out (param i32 i32)))
  (import "ward" "storage_read" (func $read (param i32 i32 i32 i32) (result i64)))
  (import "ward" "storage_write" (func $write (param i32 i32 i32 i32)))
  (import "ward" "emit_event" (func $emit (param i32 i32 i32 i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "count")
  (data (i32.const 16) "inc")
  (func (export "deploy")
    (if (i32.eq (call $input_size) (i32.const 8))
      (then (call $input_read (i32.const 32) (i32.const 0) (i32.const 8))))
    (call $write (i32.const 0) (i32.const 5) (i32.const 32) (i32.const 8)))
  (func (export "main")
    (drop (call $read (i32.const 0) (i32.const 5) (i32.const 32) (i32.const 8)))
    (if (i32.eq (call $input_size) (i32.const 3))
      (then
        (call $input_read (i32.const 64) (i32.const 0) (i32.const 3))
        (if (i32.eq (i32.load (i32.const 64)) (i32.const 0x746567)) ;; "get"
          (then (call $out (i32.const 32) (i32.const 8)) (return)))))
    (i64.store (i32.const 32) (i64.add (i64.load (i32.const 32)) (i64.const 1)))
    (call $write (i32.const 0) (i32.const 5) (i32.const 32) (i32.const 8))
    (call $emit (i32.const 16) (i32.const 3) (i32.const 32) (i32.const 8))
    (call $out (i32.const 32) (i32.const 8))))
