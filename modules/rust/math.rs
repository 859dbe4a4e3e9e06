//! Arithmetic in Rust: the same exports as modules/c/math_ops.c (add, fib, ...).
//! Built by the gateway with rustc (no cargo): `#![no_std]`, a cdylib for wasm32.
#![no_std]

// The wasmorch crate brings the panic handler (a panic logs its message and traps), even to a
// module that calls no native (modules/rust/faults.rs panics).
use wasmorch as _;

#[no_mangle]
pub extern "C" fn add(a: i32, b: i32) -> i32 {
    a.wrapping_add(b)
}

#[no_mangle]
pub extern "C" fn add_i64(a: i64, b: i64) -> i64 {
    a.wrapping_add(b)
}

/// Fibonacci by iteration: fib(90) still fits in 64 bits.
#[no_mangle]
pub extern "C" fn fib(n: i32) -> i64 {
    let (mut a, mut b) = (0i64, 1i64);
    for _ in 0..n {
        let next = a.wrapping_add(b);
        a = b;
        b = next;
    }
    a
}
