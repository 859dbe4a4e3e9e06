#!/usr/bin/env bash
# Coverage-guided fuzzing of the C# protocol code with SharpFuzz + afl-fuzz (afl++ from Debian).
#
#   scripts/fuzz.sh [seconds-per-target] [target ...]     default: 20 s, every target
#
# Targets (fuzz/Wasmorch.Fuzz): agent-lines (framing, parsing, rebuild, args), agent-session
# (the emulated agent's COMM loop: lines, LOAD handshakes and payloads), host-api (the gateway's
# JSON request reader). Seeds are in fuzz/corpus/<target>; findings go to build/fuzz/out/<target>.
# Prints one summary line per target and fails if afl-fuzz saved any crash (an input that made a
# target break a rule) or any hang (an input that took over the 10 s limit); such inputs are
# listed so they can be replayed with
#   dotnet fuzz/Wasmorch.Fuzz/bin/Release/net10.0/Wasmorch.Fuzz.dll <target> --replay <dir>
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-20}"
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(agent-lines agent-session host-api)

if ! command -v afl-fuzz >/dev/null; then
  echo "fuzz: afl-fuzz missing; run scripts/setup.sh (installs afl++)" >&2
  exit 1
fi
dotnet tool restore >/dev/null

out="${FUZZ_OUT:-build/fuzz}"
rm -rf "$out/bin"
dotnet build fuzz/Wasmorch.Fuzz -c Release -v quiet -nologo >/dev/null
mkdir -p "$out/bin"
cp -r fuzz/Wasmorch.Fuzz/bin/Release/net10.0/. "$out/bin/"
# Instrument the assemblies under test (in place, in the fuzz build's own copy only).
for dll in Wasmorch.Protocol.dll Wasmorch.Emulator.dll; do
  dotnet sharpfuzz "$out/bin/$dll" >/dev/null
done

# afl-fuzz checks meant for native binaries and a dedicated machine: not applicable here.
export AFL_SKIP_BIN_CHECK=1 AFL_NO_UI=1 AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 \
       AFL_NO_AFFINITY=1 AFL_QUIET=1 AFL_AUTORESUME=0 DOTNET_TieredPGO=0

failed=0
for target in "${targets[@]}"; do
  rm -rf "$out/out/$target"
  mkdir -p "$out/out/$target"
  afl-fuzz -i "fuzz/corpus/$target" -o "$out/out/$target" -V "$seconds" -t 10000 -m none \
    -- dotnet "$out/bin/Wasmorch.Fuzz.dll" "$target" >"$out/out/$target.log" 2>&1 || {
      echo "fuzz: afl-fuzz failed for $target; see $out/out/$target.log" >&2
      tail -20 "$out/out/$target.log" >&2
      failed=1
      continue
    }
  stats="$out/out/$target/default/fuzzer_stats"
  get() { awk -F' *: *' -v k="$1" '$1 == k { print $2 }' "$stats"; }
  crashes=$(get saved_crashes)
  hangs=$(get saved_hangs)
  echo "fuzz $target: ${seconds}s execs=$(get execs_done) execs_per_sec=$(get execs_per_sec) corpus=$(get corpus_count) edges=$(get edges_found) coverage=$(get bitmap_cvg) crashes=$crashes hangs=$hangs"
  if [ "$crashes" != "0" ]; then
    ls "$out/out/$target/default/crashes/" >&2
    failed=1
  fi
  if [ "$hangs" != "0" ]; then
    ls "$out/out/$target/default/hangs/" >&2
    failed=1
  fi
done
exit $failed
