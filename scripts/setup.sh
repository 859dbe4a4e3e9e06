#!/usr/bin/env bash
# Installs what Wasmorch needs on a fresh Debian 12 machine, then restores NuGet packages.
# Idempotent: a second run installs nothing.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v clang >/dev/null 2>&1 || need_apt+=(clang)
command -v wasm-ld >/dev/null 2>&1 || need_apt+=(lld)
command -v socat >/dev/null 2>&1 || need_apt+=(socat)
# Smaller modules: builds asked for wasm_opt run binaryen's wasm-opt -Oz.
command -v wasm-opt >/dev/null 2>&1 || need_apt+=(binaryen)
command -v cmake >/dev/null 2>&1 || need_apt+=(cmake)
command -v python3 >/dev/null 2>&1 || need_apt+=(python3)
# Modules in Rust: Debian's rustc and its wasm32 standard library (the gateway runs /usr/bin/rustc, no cargo).
[ -x /usr/bin/rustc ] || need_apt+=(rustc)
[ -d /usr/lib/rustlib/wasm32-unknown-unknown ] || need_apt+=(libstd-rust-dev-wasm32)
# Modules in AssemblyScript: the pinned compiler (tools/assemblyscript, npm ci below) run by the system's Node.
command -v node >/dev/null 2>&1 || need_apt+=(nodejs)
command -v npm >/dev/null 2>&1 || need_apt+=(npm)
# The gateway compiles hosts' C inside a bubblewrap sandbox.
command -v bwrap >/dev/null 2>&1 || need_apt+=(bubblewrap)
# Firmware core: host tests (gcc, sanitizers), fuzzing (clang's libFuzzer runtime), Cortex-M cross-compile.
command -v gcc >/dev/null 2>&1 || need_apt+=(gcc)
ls /usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a >/dev/null 2>&1 || need_apt+=(libclang-rt-14-dev)
command -v arm-none-eabi-gcc >/dev/null 2>&1 || need_apt+=(gcc-arm-none-eabi)
# Native AOT publish of the CLI links with clang and needs zlib's headers.
[ -f /usr/include/zlib.h ] || need_apt+=(zlib1g-dev)
# C# fuzzing: SharpFuzz-instrumented assemblies driven by afl-fuzz.
command -v afl-fuzz >/dev/null 2>&1 || need_apt+=(afl++)
# Fleet tests: a real NATS server with JetStream (docs/fleet.md); the gateway on its own never needs it.
command -v nats-server >/dev/null 2>&1 || need_apt+=(nats-server)
# The dashboard's tests drive a real browser: Debian's chromium through its chromedriver.
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
command -v chromedriver >/dev/null 2>&1 || need_apt+=(chromium-driver)
[ -f /usr/lib/picolibc/arm-none-eabi/picolibc.specs ] || ls /usr/lib/picolibc/arm-none-eabi/*.specs >/dev/null 2>&1 || need_apt+=(picolibc-arm-none-eabi)

# The release matrix (scripts/publish.sh): linux-arm64 Native AOT links with Debian's aarch64 cross
# toolchain and arm64 zlib; its smoke test runs the binary under qemu-user on the arm64 C library.
need_arm64=0
command -v aarch64-linux-gnu-gcc >/dev/null 2>&1 || need_apt+=(gcc-aarch64-linux-gnu binutils-aarch64-linux-gnu)
command -v qemu-aarch64-static >/dev/null 2>&1 || need_apt+=(qemu-user-static)
if [ ! -f /usr/lib/aarch64-linux-gnu/libz.a ] || [ ! -f /lib/aarch64-linux-gnu/libc.so.6 ]; then
  need_apt+=(zlib1g-dev:arm64 libc6:arm64)
  need_arm64=1
fi

if [ ${#need_apt[@]} -gt 0 ]; then
  echo "setup: installing ${need_apt[*]} (apt)"
  sudo_cmd=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || { echo "setup: need root or sudo to apt-get install ${need_apt[*]}" >&2; exit 1; }
    sudo_cmd="sudo"
  fi
  if [ "$need_arm64" = 1 ] && ! dpkg --print-foreign-architectures | grep -qx arm64; then
    $sudo_cmd dpkg --add-architecture arm64
  fi
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

if ! command -v dotnet >/dev/null 2>&1; then
  echo "setup: the .NET 10 SDK is required (https://learn.microsoft.com/dotnet/core/install/linux-debian)" >&2
  exit 1
fi

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
dotnet restore Wasmorch.sln --verbosity quiet
dotnet tool restore >/dev/null   # sharpfuzz (.config/dotnet-tools.json)

# The AssemblyScript compiler, exactly as package-lock.json pins it; again only when the lock changed.
# assemblyscript 0.28 wants Node.js 20 or later (Debian 12's own nodejs is 18: say so, build the rest).
node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
[ "$node_major" -ge 20 ] || echo "setup: Node.js $(node --version 2>/dev/null || echo missing) is older than the 20 that assemblyscript 0.28 needs: AssemblyScript modules may not build" >&2
if [ ! -f tools/assemblyscript/node_modules/.package-lock.json ] || ! cmp -s tools/assemblyscript/package-lock.json tools/assemblyscript/node_modules/.wasmorch-lock; then
  (cd tools/assemblyscript && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error >/dev/null && cp package-lock.json node_modules/.wasmorch-lock)
fi
