#!/usr/bin/env bash
# The firmware's portable C core (firmware/agent/core) built for this machine as a shared library,
# build/core-host/libwm_core_host.so, with the glue of tests/Wasmorch.CoreHost/native/core_host.c.
# The CoreHost test program serves it over TCP so that `wasmorch conformance` checks the C core in
# every ./test.sh, where no board and no Zephyr build exist.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p build/core-host
gcc -shared -fPIC -O2 -std=c11 -Wall -Wextra -Wpedantic -Wshadow -Werror -fvisibility=hidden \
  -Ifirmware/agent/core/include firmware/agent/core/*.c tests/Wasmorch.CoreHost/native/core_host.c \
  -o build/core-host/libwm_core_host.so -lm -pthread
