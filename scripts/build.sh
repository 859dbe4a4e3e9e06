#!/usr/bin/env bash
# What demo.sh, test.sh and bench.sh need first: the machine set up (scripts/setup.sh), the
# solution built in Release, the CLI published as users run it (Native AOT, build/cli/wasmorch),
# and the firmware's C core built for this machine (build/core-host, for the conformance tests).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
dotnet build Wasmorch.sln -c Release --no-restore --verbosity quiet -nologo -clp:ErrorsOnly
./scripts/publish-cli.sh >/dev/null
./scripts/build-core-host.sh
