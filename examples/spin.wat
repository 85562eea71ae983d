;; Loops forever. Gas ends it deterministically (`out_of_gas`, gas_used equal
;; to the limit, on both backends); with a large `--gas` and a small
;; `--timeout-ms`, the wall-clock backstop ends it first (`timeout`).
(module
  (func (export "main") (loop (br 0))))
