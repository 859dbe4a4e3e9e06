#!/usr/bin/env bash
# Every test: unit, emulator, gateway and integration (real processes, sockets, clang).
# Installs what it needs first. Ends with one summary line: "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")"
./scripts/setup.sh || exit 1
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
dotnet build Wasmorch.sln -c Release --no-restore --verbosity quiet -nologo -clp:ErrorsOnly || exit 1

out=$(mktemp)
dotnet test Wasmorch.sln -c Release --no-build --verbosity quiet -nologo 2>&1 | tee "$out"
status=${PIPESTATUS[0]}

passed=$(grep -Eo 'Passed: +[0-9]+' "$out" | awk '{s+=$2} END {print s+0}')
failed=$(grep -Eo 'Failed: +[0-9]+' "$out" | awk '{s+=$2} END {print s+0}')
skipped=$(grep -Eo 'Skipped: +[0-9]+' "$out" | awk '{s+=$2} END {print s+0}')
rm -f "$out"
echo "$passed passed, $failed failed, $skipped skipped"
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then
  echo "test run failed before tests could report (exit $status)" >&2
fi
exit "$status"
