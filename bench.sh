#!/usr/bin/env bash
# Runs the benchmarks (Release build) and writes docs/performance.md. Installs what it needs first.
set -euo pipefail
cd "$(dirname "$0")"
./scripts/build.sh   # set-up, Release build, build/cli/wasmorch (Native AOT)
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
dotnet bench/Wasmorch.Bench/bin/Release/net10.0/Wasmorch.Bench.dll --out docs/performance.md "$@"
