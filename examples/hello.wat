;; Greets its input: output = "hello, " ++ input. Reverts with code 1 when
;; the input is empty. A debug_log line shows what it received.
(module
  (import "ward" "input_size" (func $input_size (result i32)))
  (import "ward" "input_read" (func $input_read (param i32 i32 i32)))
  (import "ward" "output_write" (func $output_write (param i32 i32)))
  (import "ward" "debug_log" (func $debug_log (param i32 i32)))
  (import "ward" "exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "hello, ")
  (data (i32.const 64) "empty input")
  (func (export "main") (result i32)
    (local $n i32)
    (local.set $n (call $input_size))
    (if (i32.eqz (local.get $n))
      (then
        (call $output_write (i32.const 64) (i32.const 11))
        (call $exit (i32.const 1))))
    (call $input_read (i32.const 7) (i32.const 0) (local.get $n))
    (call $debug_log (i32.const 7) (local.get $n))
    (call $output_write (i32.const 0) (i32.add (i32.const 7) (local.get $n)))
    (i32.const 0)))
