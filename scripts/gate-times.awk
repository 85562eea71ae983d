# Where a gate's time went, from its log as .ci/run keeps it: every line
# stamped with the seconds since the start ("  123 text").
#
#   awk -f scripts/gate-times.awk target/ci.log
#
# Prints each step of `make test` (a command make echoed) with its start
# and its seconds, then the eight slowest test binaries (cargo test's
# `Running` to its `test result`), then any test still running at the end.
function text(line) { sub(/^ *[0-9]+ /, "", line); return line }
function short(s, n) { return length(s) > n ? substr(s, 1, n - 3) "..." : s }
{
  t = $1 + 0; last = t; line = text($0)
}
# A step: a command of the Makefile's recipes, as make echoes it.
line ~ /^(cargo |cd |RUSTDOCFLAGS=|scripts\/|contracts\/build\.sh|\. target\/|target\/debug\/examples\/)/ {
  if (nsteps > 0) took[nsteps] = t - at[nsteps]
  nsteps++; at[nsteps] = t; step[nsteps] = line
}
line ~ /^ +Running / {
  nbins++; bat[nbins] = t; bin[nbins] = line; sub(/^ +Running /, "", bin[nbins])
  sub(/ \(.*\)$/, "", bin[nbins]); open = nbins
}
open && first[open] == "" && line ~ /^test .* \.\.\. / {
  first[open] = line; sub(/^test /, "", first[open]); sub(/ \.\.\. .*/, "", first[open])
}
open && line ~ /^test result: / { btook[open] = t - bat[open]; open = 0 }
line ~ /^test .* has been running for over 60 seconds$/ {
  name = line; sub(/^test /, "", name); sub(/ has been running.*/, "", name); slow[name] = t
}
line ~ /^test .* \.\.\. (ok|FAILED|ignored)/ {
  name = line; sub(/^test /, "", name); sub(/ \.\.\. .*/, "", name); delete slow[name]
}
END {
  if (nsteps > 0) took[nsteps] = last - at[nsteps]
  print "ci: where the time went (seconds since the start)"
  printf "  %6s %6s  %s\n", "start", "took", "step"
  for (i = 1; i <= nsteps; i++) printf "  %6d %6d  %s\n", at[i], took[i], short(step[i], 90)
  if (open) btook[open] = last - bat[open]
  for (i = 1; i <= nbins; i++) order[i] = i
  for (i = 1; i <= nbins; i++)
    for (j = i + 1; j <= nbins; j++)
      if (btook[order[j]] > btook[order[i]]) { k = order[i]; order[i] = order[j]; order[j] = k }
  if (nbins > 0) {
    print "ci: the slowest test binaries"
    printf "  %6s %6s  %s\n", "start", "took", "binary (its first test)"
    for (i = 1; i <= nbins && i <= 8; i++) {
      b = order[i]
      printf "  %6d %6d%s %s (%s)\n", bat[b], btook[b], b == open ? "+" : " ", short(bin[b], 60), short(first[b], 60)
    }
  }
  for (name in slow) printf "ci: still running at the end, since before %d s: %s\n", slow[name] - 60, name
}
