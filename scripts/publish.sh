#!/usr/bin/env bash
# The release matrix (README "Install"): one `wasmorch` (CLI, gateway and emulator in one program)
# per platform, and a dotnet tool package, in build/publish/ with SIZES and SHA256SUMS.
#
#   linux-x64, linux-arm64   Native AOT (arm64 cross-linked with Debian's aarch64 toolchain)
#   win-x64, osx-arm64       self-contained single file (Native AOT cannot cross-compile to
#                            another OS); Wasmtime ships natives for both, so `emulate` works there
#   wasmorch.<v>.nupkg       `dotnet tool install -g wasmorch --add-source build/publish`
#
# usage: scripts/publish.sh [TARGET...]   (default: all; targets: linux-x64 linux-arm64 win-x64 osx-arm64 tool)
set -euo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
out=build/publish
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(linux-x64 linux-arm64 win-x64 osx-arm64 tool)
mkdir -p "$out"
quiet=(-v quiet -nologo -clp:ErrorsOnly)

for target in "${targets[@]}"; do
  dir="$out/$target"
  rm -rf "$dir"
  case "$target" in
    linux-x64|linux-arm64)
      dotnet publish src/Wasmorch.Cli -c Release -r "$target" -o "$dir" "${quiet[@]}"
      rm -f "$dir"/*.pdb "$dir"/*.dbg ;;
    win-x64|osx-arm64)
      dotnet publish src/Wasmorch.Cli -c Release -r "$target" -o "$dir" --self-contained \
        -p:PublishAot=false -p:PublishSingleFile=true -p:IncludeNativeLibrariesForSelfExtract=true \
        -p:PublishTrimmed=true -p:EnableCompressionInSingleFile=true \
        -p:DebugType=none "${quiet[@]}" ;;
    tool)
      # Framework-dependent: runs on any machine with the .NET 10 runtime, natives for every RID.
      dotnet pack src/Wasmorch.Cli -c Release -o "$dir" -p:PackAsTool=true -p:PublishAot=false "${quiet[@]}" ;;
    *)
      echo "publish: unknown target '$target' (linux-x64 linux-arm64 win-x64 osx-arm64 tool)" >&2; exit 2 ;;
  esac
  echo "publish: $target -> $dir"
done

# What was made, by size and hash: the files a user downloads (programs, natives, the package).
list=$(mktemp)
(
  cd "$out"
  find . -type f ! -name SIZES ! -name SHA256SUMS | sed 's|^\./||' | sort > "$list"
  xargs -a "$list" -d '\n' sha256sum > SHA256SUMS
  xargs -a "$list" -d '\n' stat -c '%s %n' | awk '{ printf "%12d  %s\n", $1, $2 }' > SIZES
)
rm -f "$list"
cat "$out/SIZES"
