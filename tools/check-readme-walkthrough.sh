#!/usr/bin/env bash
# Runs the README's curl walkthrough verbatim against `npm start`, as a newcomer would, and checks
# that each of its five API calls succeeded.
set -euo pipefail
cd "$(dirname "$0")/.."

log=$(mktemp)
setsid npm start >"$log" 2>&1 &
pid=$!
trap 'kill -TERM -- -"$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -f "$log"' EXIT

for _ in $(seq 1 180); do
  curl -sf http://localhost:3000/health >/dev/null 2>&1 && break
  kill -0 "$pid" 2>/dev/null || { cat "$log"; echo "walkthrough: npm start exited"; exit 1; }
  sleep 1
done

script=$(awk '/<!-- walkthrough:start -->/ {on = 1; next} /<!-- walkthrough:end -->/ {on = 0} on' README.md | sed '/^```/d')
output=$(bash -c "$script")
printf '%s\n' "$output"
successes=$(grep -o '"success":true' <<<"$output" | wc -l)
if [ "$successes" -ne 5 ]; then
  echo "walkthrough: expected 5 successful calls, saw $successes"
  exit 1
fi
echo "walkthrough: all 5 calls succeeded"
