// Arithmetic in AssemblyScript: the same exports as modules/c/math_ops.c (add, fib, ...).
// Built by the gateway with the pinned asc (stub runtime, one page of memory).

export function add(a: i32, b: i32): i32 {
  return a + b;
}

export function add_i64(a: i64, b: i64): i64 {
  return a + b;
}

// Fibonacci by iteration: fib(90) still fits in 64 bits.
export function fib(n: i32): i64 {
  let a: i64 = 0;
  let b: i64 = 1;
  for (let i = 0; i < n; i++) {
    const next = a + b;
    a = b;
    b = next;
  }
  return a;
}
