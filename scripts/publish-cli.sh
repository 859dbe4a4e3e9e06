#!/usr/bin/env bash
# Publishes the CLI (which also runs `gateway` and `emulate`) as a Native AOT executable:
# build/cli/wasmorch, with Wasmtime's, SQLite's and libsodium's native libraries beside it.
set -euo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
dotnet publish src/Wasmorch.Cli -c Release -r linux-x64 -o build/cli -v quiet -nologo -clp:ErrorsOnly
echo "published build/cli/wasmorch"
