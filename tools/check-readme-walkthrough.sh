#!/usr/bin/env bash
# Runs the README's curl walkthrough verbatim against `npm start`, as a newcomer would, and checks
# that each of its five API calls succeeded, that the start said where the service listens, and that
# a second start with nothing changed does not build again.
set -euo pipefail
cd "$(dirname "$0")/.."

log=$(mktemp)
pid=

start_service() {
  : >"$log"
  setsid npm start >"$log" 2>&1 &
  pid=$!
  for _ in $(seq 1 180); do
    curl -sf http://localhost:3000/health >/dev/null 2>&1 && return 0
    kill -0 "$pid" 2>/dev/null || { cat "$log"; echo "walkthrough: npm start exited"; exit 1; }
    sleep 1
  done
  cat "$log"
  echo "walkthrough: npm start did not answer within 180 s"
  exit 1
}

stop_service() {
  kill -TERM -- -"$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

trap 'stop_service; rm -f "$log"' EXIT

start_service
script=$(awk '/<!-- walkthrough:start -->/ {on = 1; next} /<!-- walkthrough:end -->/ {on = 0} on' README.md | sed '/^```/d')
output=$(bash -c "$script")
printf '%s\n' "$output"
successes=$(grep -o '"success":true' <<<"$output" | wc -l)
if [ "$successes" -ne 5 ]; then
  echo "walkthrough: expected 5 successful calls, saw $successes"
  exit 1
fi
echo "walkthrough: all 5 calls succeeded"

# npm start says, in exactly one line, where the service and its API docs are.
listening='listening on http://127.0.0.1:3000 (API docs: http://127.0.0.1:3000/docs)'
if [ "$(grep -cF "$listening" "$log")" -ne 1 ]; then
  cat "$log"
  echo "walkthrough: expected npm start to print one line: ... $listening"
  exit 1
fi
echo "walkthrough: npm start printed where it listens"

# A warm start rebuilds nothing when nothing changed.
stop_service
start_service
if ! grep -qF 'build: dist/ is up to date with src/' "$log"; then
  cat "$log"
  echo "walkthrough: the second npm start built again, with nothing changed"
  exit 1
fi
echo "walkthrough: a second npm start did not build again"
