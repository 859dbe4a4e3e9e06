// A failed assert on a board: the job ends with RESULT status=TRAP, and `wasmorch logs` shows
// "abort: divisor is zero at faults.ts:…" (the wasmorch bindings' abort).
export function checked_div(a: i32, b: i32): i32 {
  assert(b != 0, "divisor is zero");
  return a / b;
}
