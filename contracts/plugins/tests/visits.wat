;; A plugin (contracts/plugins): reads its input, counts its runs in its
;; own storage under "visits", emits the count, outputs "hello, INPUT" and
;; returns the count.
(module
  (import "env" "ward" (func $w (param i64 i64 i64) (result i64)))
  (memory (export "memory") 1)
  (data (i32.const 0) "visits")
  (data (i32.const 16) "hello, ")
  (func (export "run") (result i64) (local $n i64) (local $count i64)
    ;; input_read into 23.. (at most 100 bytes)
    (local.set $n (call $w (i64.const 1) (i64.const 98784247908) (i64.const 0)))
    ;; storage_read "visits" into 200..208 (nothing there reads as 0)
    (drop (call $w (i64.const 2) (i64.const 6) (i64.const 858993459208)))
    (local.set $count (i64.add (i64.load (i32.const 200)) (i64.const 1)))
    (i64.store (i32.const 200) (local.get $count))
    (drop (call $w (i64.const 3) (i64.const 6) (i64.const 858993459208)))
    (drop (call $w (i64.const 4) (i64.const 6) (i64.const 858993459208)))
    ;; output "hello, " and the input
    (drop (call $w (i64.const 5) (i64.add (i64.const 68719476736) (i64.add (i64.const 7) (local.get $n))) (i64.const 0)))
    (local.get $count)))
