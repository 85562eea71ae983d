;; Golden gas modules: one per `;; case NAME GAS_LIMIT` header, each running
;; `main` with no input. Expected figures live in gas.golden (BLESS=1 rewrites).
;; case empty 1000000
(module (func (export "main")))
;; case arithmetic 1000000
(module (func (export "main") (result i32)
  (i32.sub (i32.mul (i32.add (i32.const 1) (i32.const 2)) (i32.const 3)) (i32.const 9))))
;; case loop_10 1000000
(module (func (export "main") (local $i i32)
  (loop $l (local.set $i (i32.add (local.get $i) (i32.const 1)))
    (br_if $l (i32.lt_u (local.get $i) (i32.const 10))))))
;; case if_else 1000000
(module (func (export "main") (result i32)
  (if (result i32) (i32.const 1) (then (i32.const 0)) (else (i32.const 5)))))
;; case call 1000000
(module (func $f (param i32) (result i32) (i32.add (local.get 0) (i32.const 1)))
  (func (export "main") (result i32) (i32.sub (call $f (i32.const 41)) (i32.const 42))))
;; case call_indirect 1000000
(module (type $t (func (result i32))) (table funcref (elem $z))
  (func $z (result i32) (i32.const 0))
  (func (export "main") (result i32) (call_indirect (type $t) (i32.const 0))))
;; case br_table 1000000
(module (func (export "main") (result i32)
  (block $a (block $b (br_table $a $b (i32.const 1)))) (i32.const 0)))
;; case memory_grow 1000000
(module (memory 1) (func (export "main") (drop (memory.grow (i32.const 2)))))
;; case memory_grow_refused 1000000
(module (memory 1) (func (export "main") (drop (memory.grow (i32.const 100000)))))
;; case memory_fill_1000 1000000
(module (memory 1) (func (export "main") (memory.fill (i32.const 0) (i32.const 7) (i32.const 1000))))
;; case memory_copy_oob 1000000
(module (memory 1) (func (export "main") (memory.copy (i32.const 0) (i32.const 65000) (i32.const 1000))))
;; case host_calls 1000000
(module (import "ward" "input_size" (func $size (result i32)))
  (import "ward" "output_write" (func $out (param i32 i32)))
  (memory (export "memory") 1)
  (func (export "main") (drop (call $size)) (call $out (i32.const 0) (i32.const 100))))
;; case start_metered 1000000
(module (global $g (mut i32) (i32.const 0))
  (func $s (global.set $g (i32.const 3))) (start $s)
  (func (export "main") (result i32) (i32.sub (global.get $g) (i32.const 3))))
;; case out_of_gas 10000
(module (func (export "main") (loop $l (br $l))))
;; case out_of_gas_in_start 10000
(module (func $s (loop $l (br $l))) (start $s) (func (export "main")))
;; case out_of_gas_in_host_call 60
(module (import "ward" "input_size" (func $size (result i32)))
  (func (export "main") (drop (call $size)) (drop (call $size))))
;; case nan_arith 1000000
(module (import "ward" "output_write" (func $out (param i32 i32)))
  (memory (export "memory") 1)
  (func (export "main")
    (f32.store (i32.const 0) (f32.div (f32.const 0) (f32.const 0)))
    (f64.store (i32.const 4) (f64.sqrt (f64.const -1)))
    (call $out (i32.const 0) (i32.const 12))))
;; case revert_keeps_refund 1000000
(module (import "ward" "exit" (func $exit (param i32)))
  (func (export "main") (call $exit (i32.const 3))))
;; case trap_consumes_all 1000000
(module (func (export "main") (drop (i32.div_u (i32.const 1) (i32.const 0)))))
;; case stack_overflow_consumes_all 1000000
(module (func $f (call $f)) (func (export "main") (call $f)))
;; case br_if_taken_skips_costly_fallthrough 1000000
;; The fall-through (40 gas) costs more than BR_IF_SPLIT_COST: a new segment
;; starts after the br_if, so the taken branch pays only for what ran.
(module (func (export "main")
  (block $out
    (br_if $out (i32.const 1))
      (drop (i32.const 0))
      (drop (i32.const 0))
      (drop (i32.const 0))
      (drop (i32.const 0))
      (drop (i32.const 0))
      (drop (i32.const 0))
      (drop (i32.const 0))
      (drop (i32.const 0))
      (drop (i32.const 0))
      (drop (i32.const 0))
      (drop (i32.const 0))
      (drop (i32.const 0))
      (drop (i32.const 0))
      (drop (i32.const 0))
      (drop (i32.const 0))
      (drop (i32.const 0))
      (drop (i32.const 0))
      (drop (i32.const 0))
      (drop (i32.const 0))
      (drop (i32.const 0)))))
;; case br_if_not_taken_pays_fallthrough 1000000
(module (func (export "main")
  (block $out
    (br_if $out (i32.const 0))
      (drop (i32.const 0))
      (drop (i32.const 0))
      (drop (i32.const 0))
      (drop (i32.const 0))
      (drop (i32.const 0))
      (drop (i32.const 0))
      (drop (i32.const 0))
      (drop (i32.const 0))
      (drop (i32.const 0))
      (drop (i32.const 0))
      (drop (i32.const 0))
      (drop (i32.const 0))
      (drop (i32.const 0))
      (drop (i32.const 0))
      (drop (i32.const 0))
      (drop (i32.const 0))
      (drop (i32.const 0))
      (drop (i32.const 0))
      (drop (i32.const 0))
      (drop (i32.const 0)))))
;; case br_if_taken_prepays_cheap_fallthrough 1000000
;; A fall-through of 20 gas stays in the segment: paid even when skipped.
(module (func (export "main")
  (block $out
    (br_if $out (i32.const 1))
      (drop (i32.const 0))
      (drop (i32.const 0))
      (drop (i32.const 0))
      (drop (i32.const 0))
      (drop (i32.const 0))
      (drop (i32.const 0))
      (drop (i32.const 0))
      (drop (i32.const 0))
      (drop (i32.const 0))
      (drop (i32.const 0)))))
;; case fib_if_else 1000000
(module
  (func $fib (param $n i32) (result i64)
    (if (result i64) (i32.lt_u (local.get $n) (i32.const 2))
      (then (i64.extend_i32_u (local.get $n)))
      (else (i64.add (call $fib (i32.sub (local.get $n) (i32.const 1)))
                     (call $fib (i32.sub (local.get $n) (i32.const 2)))))))
  (func (export "main") (drop (call $fib (i32.const 12)))))
;; case nested_if_else_paths 1000000
(module (func (export "main") (local $i i32) (local $acc i32)
  (loop $l
    (local.set $acc (i32.add (local.get $acc)
      (if (result i32) (i32.lt_u (i32.and (local.get $i) (i32.const 3)) (i32.const 2))
        (then (if (result i32) (i32.eqz (i32.and (local.get $i) (i32.const 1)))
          (then (i32.const 1))
          (else (i32.mul (local.get $i) (i32.const 3)))))
        (else (if (result i32) (i32.eqz (local.get $i)) (then (i32.const 7)) (else (nop) (i32.const 2)))))))
    (if (i32.gt_u (local.get $i) (i32.const 100)) (then) (else (local.set $acc (i32.xor (local.get $acc) (i32.const 5)))))
    (local.set $i (i32.add (local.get $i) (i32.const 1)))
    (br_if $l (i32.lt_u (local.get $i) (i32.const 200))))))
;; case if_else_out_of_gas_in_branch 40
(module (func (export "main") (local $i i32)
  (loop $l
    (if (i32.lt_u (local.get $i) (i32.const 3))
      (then (local.set $i (i32.add (local.get $i) (i32.const 1))))
      (else (local.set $i (i32.add (local.get $i) (i32.const 2)))))
    (br $l))))
;; case if_else_trap_in_branch 1000000
(module (func (export "main") (local $i i32)
  (if (i32.eqz (local.get $i)) (then (unreachable)) (else (nop)))))
