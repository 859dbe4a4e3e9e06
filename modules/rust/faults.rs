//! A Rust panic on a board: the job ends with RESULT status=TRAP, and `wasmorch logs` shows
//! "panicked at 'divide 7 by zero', faults.rs:…". Formatting the message brings core::fmt
//! (several KiB): a module that never panics (modules/rust/math.rs) carries none of it.
#![no_std]

use wasmorch as _;

/// Integer division that panics on a zero divisor.
#[no_mangle]
pub extern "C" fn checked_div(a: i32, b: i32) -> i32 {
    if b == 0 {
        panic!("divide {} by zero", a);
    }
    a / b
}
