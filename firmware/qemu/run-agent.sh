#!/usr/bin/env bash
# Build the Wasmorch agent for the MPS2 board (mps2_an385, Cortex-M3) and run it under QEMU with
# UART0 on a TCP port, so that the gateway (tcp://127.0.0.1:PORT) and `wasmorch conformance`
# reach it as they would a board behind a serial bridge.
#
# usage: firmware/qemu/run-agent.sh [--build-only] [PORT] [MACHINE]
#   PORT     TCP port for UART0 (default 5555)
#   MACHINE  mps2-an385 (default; Cortex-M3) or mps2-an386 (the same image on a Cortex-M4)
#
# Needs a Zephyr 3.7 workspace: ZEPHYR_BASE set, WAMR 2.4.x as a Zephyr module (west.yml here
# pins both; or ZEPHYR_MODULES / WAMR_ROOT), a toolchain (ZEPHYR_TOOLCHAIN_VARIANT=zephyr or
# gnuarmemb), cmake, ninja and qemu-system-arm. Extra CMake arguments: $WASMORCH_FW_CMAKE_ARGS.
# The ELF goes to $WASMORCH_FW_BUILD (default firmware/agent/build/mps2_an385).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
app="$here/../agent"
build_only=0
if [ "${1:-}" = "--build-only" ]; then build_only=1; shift; fi
port="${1:-5555}"
machine="${2:-mps2-an385}"
build="${WASMORCH_FW_BUILD:-$app/build/mps2_an385}"

[ -n "${ZEPHYR_BASE:-}" ] && [ -f "$ZEPHYR_BASE/VERSION" ] || {
  echo "run-agent: ZEPHYR_BASE does not point at a Zephyr tree (see firmware/README.md)" >&2; exit 3; }
command -v qemu-system-arm >/dev/null || { echo "run-agent: qemu-system-arm is not installed (apt-get install qemu-system-arm)" >&2; exit 3; }

if [ ! -f "$build/zephyr/zephyr.elf" ] || [ -n "$(find "$app/src" "$app/core" "$app/prj.conf" "$app/Kconfig" "$app/CMakeLists.txt" -newer "$build/zephyr/zephyr.elf" 2>/dev/null | head -1)" ]; then
  # shellcheck disable=SC2086
  cmake -S "$app" -B "$build" -G Ninja -DBOARD=mps2/an385 ${WASMORCH_FW_CMAKE_ARGS:-} >/dev/null
  ninja -C "$build" >/dev/null
fi
echo "run-agent: $build/zephyr/zephyr.elf"
[ "$build_only" = 1 ] && exit 0

cpu=cortex-m3
[ "$machine" = "mps2-an386" ] && cpu=cortex-m4
echo "run-agent: $machine ($cpu), UART0 on tcp://127.0.0.1:$port"
# -icount shift=3: guest time advances 8 ns per instruction run (a 125 MIPS core), so the SysTick
# cycle counter behind elapsed_us and verify_us reads the job's own time, the same on every run;
# in QEMU's real-time mode the counter moves in steps of milliseconds and a short job reads 0.
exec qemu-system-arm -machine "$machine" -cpu "$cpu" -nographic -monitor none -icount shift=3 \
  -serial "tcp:127.0.0.1:$port,server=on,wait=off" -kernel "$build/zephyr/zephyr.elf"
