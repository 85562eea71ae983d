;; A plugin that misbehaves as its input's first byte says: `s` writes 999
;; under its own "visits" and returns, `w` writes then traps, `l` loops,
;; `o` asks for an unknown op, `r` names a range outside its memory, `d`
;; recurses without end.
(module
  (import "env" "ward" (func $w (param i64 i64 i64) (result i64)))
  (memory (export "memory") 1)
  (data (i32.const 0) "visits")
  (data (i32.const 200) "\e7\03\00\00\00\00\00\00")
  (func $deep (param i64) (result i64) (i64.add (i64.const 1) (call $deep (local.get 0))))
  (func (export "run") (result i64) (local $op i32)
    (drop (call $w (i64.const 1) (i64.const 4294967297) (i64.const 0)))
    (local.set $op (i32.load8_u (i32.const 1)))
    (if (i32.or (i32.eq (local.get $op) (i32.const 115)) (i32.eq (local.get $op) (i32.const 119)))
      (then (drop (call $w (i64.const 3) (i64.const 6) (i64.const 858993459208)))))
    (if (i32.eq (local.get $op) (i32.const 119)) (then unreachable))
    (if (i32.eq (local.get $op) (i32.const 108)) (then (loop $l (br $l))))
    (if (i32.eq (local.get $op) (i32.const 111)) (then (drop (call $w (i64.const 9) (i64.const 0) (i64.const 0)))))
    (if (i32.eq (local.get $op) (i32.const 114)) (then (drop (call $w (i64.const 5) (i64.const 281474976710664) (i64.const 0)))))
    (if (i32.eq (local.get $op) (i32.const 100)) (then (return (call $deep (i64.const 0)))))
    (i64.const 0)))
