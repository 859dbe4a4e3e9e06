#!/usr/bin/env bash
# Host checks of the firmware's portable protocol core:
#   1. unit tests with gcc + AddressSanitizer/UBSan (CTest)
#   2. the libFuzzer target for a bounded time (clang; an input taking over 10 s fails it as a hang),
#      when clang's fuzzer runtime is present
#   3. a cross-compile of the core for the F446RE's Cortex-M4 with -Werror (arm-none-eabi-gcc)
# Build trees go under $WM_BUILD (default: a temporary folder).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
build="${WM_BUILD:-$(mktemp -d)}"
fuzz_seconds="${WM_FUZZ_SECONDS:-15}"

cmake -S "$here" -B "$build/host" -DWM_SANITIZE=ON -DWM_FUZZ=OFF >/dev/null
cmake --build "$build/host" -j2 >/dev/null
(cd "$build/host" && ctest --output-on-failure)

if command -v clang >/dev/null 2>&1 && ls /usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a >/dev/null 2>&1; then
  CC=clang cmake -S "$here" -B "$build/fuzz" -DWM_SANITIZE=OFF -DWM_FUZZ=ON >/dev/null
  cmake --build "$build/fuzz" -j2 --target fuzz_agent >/dev/null
  mkdir -p "$build/fuzz/corpus"
  "$build/fuzz/fuzz_agent" -max_total_time="$fuzz_seconds" -max_len=2048 -rss_limit_mb=1024 -timeout=10 "$build/fuzz/corpus" 2>"$build/fuzz/log" \
    || { tail -40 "$build/fuzz/log"; echo "fuzz_agent: FAILED" >&2; exit 1; }
  echo "fuzz_agent: $(grep -Eo 'Done [0-9]+ runs in [0-9]+ second' "$build/fuzz/log" | tail -1)s, no crash"
  cmake --build "$build/fuzz" -j2 --target fuzz_lzss >/dev/null
  mkdir -p "$build/fuzz/corpus-lzss"
  "$build/fuzz/fuzz_lzss" -max_total_time="$fuzz_seconds" -max_len=4096 -rss_limit_mb=1024 -timeout=10 "$build/fuzz/corpus-lzss" 2>"$build/fuzz/log-lzss" \
    || { tail -40 "$build/fuzz/log-lzss"; echo "fuzz_lzss: FAILED" >&2; exit 1; }
  echo "fuzz_lzss: $(grep -Eo 'Done [0-9]+ runs in [0-9]+ second' "$build/fuzz/log-lzss" | tail -1)s, no crash"
else
  echo "fuzz_agent: skipped (clang's libFuzzer runtime, apt libclang-rt-14-dev, is not installed)"
fi

if command -v arm-none-eabi-gcc >/dev/null 2>&1; then
  mkdir -p "$build/arm"
  for src in "$here"/../core/*.c; do
    arm-none-eabi-gcc -mcpu=cortex-m4 -mthumb -std=c11 -Os -Wall -Wextra -Wpedantic -Wshadow -Wconversion \
      -Wno-sign-conversion -Werror --specs=picolibc.specs -I"$here/../core/include" -c "$src" -o "$build/arm/$(basename "$src").o"
  done
  echo "cross-compile (arm-none-eabi-gcc -mcpu=cortex-m4 -Werror): ok, $(arm-none-eabi-size -t "$build"/arm/*.o | awk 'END {print $1}') bytes of code"
else
  echo "cross-compile: arm-none-eabi-gcc is not installed" >&2
  exit 1
fi
