#!/usr/bin/env bash
# Runs the calendar-sensitive suites as if today were other days (the portal's one clock reads
# OPKALLA_TODAY), two days at a time. Expected values come from the same clock, so every day
# must pass. Usage: tests/on_other_days.sh PYTHON DAY... -- SUITE...
set -uo pipefail
python=$1; shift
days=(); while [ "$1" != "--" ]; do days+=("$1"); shift; done; shift
logs=$(mktemp -d)
run_day() {
  OPKALLA_TODAY=$1 "$python" -m pytest "${@:2}" -q -p no:cacheprovider >"$logs/$1.log" 2>&1
  status=$?
  echo "== as if today were $1: $(tail -n 1 "$logs/$1.log")"
  [ $status -eq 0 ] || cat "$logs/$1.log"
  return $status
}
export -f run_day; export python logs
printf '%s\n' "${days[@]}" | xargs -P 2 -I{} bash -c 'run_day "$@"' _ {} "$@"
