#!/usr/bin/env bash
# Every test: unit, emulator, gateway and integration (real processes, sockets, clang).
# Installs what it needs first. Ends with one summary line: "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")"
./scripts/build.sh || exit 1   # set-up, Release build, build/cli/wasmorch (Native AOT)
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
# The integration tests run the CLI, gateway and emulators as users do: the Native AOT executable.
export WASMORCH_CLI="$PWD/build/cli/wasmorch"
echo "== release matrix: scripts/publish.sh (linux-x64, linux-arm64, win-x64, osx-arm64, dotnet tool)"
./scripts/publish.sh >/dev/null || exit 1
# PublishTests run the arm64 build under qemu-user and install the tool package from here.
export WASMORCH_PUBLISH="$PWD/build/publish"

out=$(mktemp)
echo "== firmware core: host unit tests, bounded fuzzing, Cortex-M4 cross-compile"
firmware/agent/tests/run-host-tests.sh 2>&1 | tee "$out.fw"
fw_status=${PIPESTATUS[0]}
fw_passed=$(grep -Eo '[0-9]+ tests failed out of [0-9]+' "$out.fw" | awk '{print $6 - $1}')
fw_failed=$(grep -Eo '[0-9]+ tests failed out of [0-9]+' "$out.fw" | awk '{print $1}')
# The libFuzzer run of the core is one check: passed, failed, or skipped (no clang fuzzer runtime).
fw_skipped=$(grep -c '^fuzz_agent: skipped' "$out.fw")
fw_passed=$(( ${fw_passed:-0} + $(grep -c '^fuzz_agent: Done' "$out.fw") ))
[ "$fw_status" -eq 0 ] || fw_failed=$(( ${fw_failed:-0} > 0 ? ${fw_failed:-0} : 1 ))

echo "== C# fuzzing: SharpFuzz + afl-fuzz, 20 s per target (longer runs: docs/performance.md)"
scripts/fuzz.sh 20 2>&1 | tee "$out.fuzz"
fuzz_status=${PIPESTATUS[0]}
fuzz_passed=$(grep -Ec ' crashes=0 hangs=0$' "$out.fuzz")
fuzz_failed=$(( 3 - fuzz_passed ))
[ "$fuzz_status" -eq 0 ] || fuzz_failed=$(( fuzz_failed > 0 ? fuzz_failed : 1 ))
fw_passed=$(( ${fw_passed:-0} + fuzz_passed ))
fw_failed=$(( ${fw_failed:-0} + fuzz_failed ))
[ "$fuzz_status" -eq 0 ] || fw_status=1

echo "== .NET: protocol, emulator, gateway, conformance, integration (real processes)"
dotnet test Wasmorch.sln -c Release --no-build --verbosity quiet -nologo --logger "console;verbosity=minimal" 2>&1 | tee "$out"
status=${PIPESTATUS[0]}
[ "$fw_status" -eq 0 ] || status=1

passed=$(grep -Eo 'Passed: +[0-9]+' "$out" | awk -v fw="${fw_passed:-0}" '{s+=$2} END {print s+fw}')
failed=$(grep -Eo 'Failed: +[0-9]+' "$out" | awk -v fw="${fw_failed:-0}" '{s+=$2} END {print s+fw}')
skipped=$(grep -Eo 'Skipped: +[0-9]+' "$out" | awk -v fw="${fw_skipped:-0}" '{s+=$2} END {print s+fw}')
rm -f "$out" "$out.fw" "$out.fuzz"
echo "$passed passed, $failed failed, $skipped skipped"
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then
  echo "test run failed before tests could report (exit $status)" >&2
fi
exit "$status"
