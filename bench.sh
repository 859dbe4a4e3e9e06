#!/usr/bin/env bash
# Runs the benchmarks (Release build) and writes docs/performance.md. Installs what it needs first.
set -euo pipefail
cd "$(dirname "$0")"
./scripts/setup.sh
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
dotnet build Wasmorch.sln -c Release --no-restore --verbosity quiet -nologo -clp:ErrorsOnly
./scripts/publish-cli.sh >/dev/null   # build/cli/wasmorch: the CLI as users run it (Native AOT)
dotnet bench/Wasmorch.Bench/bin/Release/net10.0/Wasmorch.Bench.dll --out docs/performance.md "$@"
