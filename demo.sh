#!/usr/bin/env bash
# The demo: two emulated boards (nucleo, disco), the gateway, and the seed's example commands,
# all on this machine. Installs what it needs first; stops everything it started on exit.
set -euo pipefail
cd "$(dirname "$0")"
./scripts/build.sh   # set-up, Release build, build/cli/wasmorch (Native AOT)
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

cli=(build/cli/wasmorch)
wasmorch() { "${cli[@]}" "$@"; }
logs=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT

wait_for() { # file pattern
  for _ in $(seq 1 100); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
  echo "demo: '$2' did not appear in $1:" >&2; cat "$1" >&2; exit 1
}

echo "== starting emulated boards nucleo (7001) and disco (7002)"
# Started directly (not through the function) so that $! is the process itself and cleanup reaches it.
"${cli[@]}" emulate --config wasmorch.toml >"$logs/emulator.log" 2>&1 & pids+=($!)
wait_for "$logs/emulator.log" "emulator ready"
echo "== starting the gateway on 127.0.0.1:9000"
"${cli[@]}" gateway --config wasmorch.toml >"$logs/gateway.log" 2>&1 & pids+=($!)
wait_for "$logs/gateway.log" "gateway listening"

run() { echo; echo "\$ wasmorch $*"; wasmorch "$@" || echo "(exit code $?)"; }

run --device nucleo build-and-deploy --module-id math_ops --source modules/c/math_ops.c --mode wasm
run --device nucleo start --module-id math_ops --func-name add --func-args "a=10,b=15" --wait-result
run --device nucleo status
run --device disco build-and-deploy --module-id toggle_forever --source modules/c/toggle_forever.c
run --device disco start --module-id toggle_forever --func-name toggle_forever --func-args "pin=0,period_ms=50"
sleep 0.5
run --device disco status
run --device disco stop --module-id toggle_forever
run --device disco status
echo; echo "# errors are precise and leave the other board working:"
run --device nucleo start --module-id math_ops --func-name sqrt --wait-result
run --device nucleo start --module-id math_ops --func-name div --func-args "1,0" --wait-result
echo; echo "# AOT for the board's own target, and the artifact cache + idempotent deploy:"
run --device nucleo build-and-deploy --module-id math_aot --source modules/c/math_ops.c --mode aot
run --device nucleo build-and-deploy --module-id math_aot --source modules/c/math_ops.c --mode aot
run --device nucleo start --module-id math_aot --func-name mul --func-args "6,7" --wait-result
run --device nucleo --json start --module-id math_ops --func-name fib --func-args "n=50" --wait-result
echo; echo "# a sensor module (docs/peripherals.md): the emulated TMP102 on I2C, each reading published as an event"
run --device disco build-and-deploy --module-id thermostat --source modules/c/thermostat.c
run --device disco start --module-id thermostat --func-name run --func-args "period_ms=100,readings=3" --wait-result
run --device disco sim --temperature 30.25
run --device disco start --module-id thermostat --func-name run --func-args "period_ms=100,readings=2" --wait-result
run events --topic temp
echo; echo "# what the gateway remembers (its SQLite state, kept across restarts): modules held, job history"
run devices
run jobs --limit 5
echo
echo "== demo done; logs in $logs"
