;; Loops forever: `ward run` ends it with status `timeout` when given
;; `--timeout-ms` (gas metering will end it deterministically first).
(module
  (func (export "main") (loop (br 0))))
