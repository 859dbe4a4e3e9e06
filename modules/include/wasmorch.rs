//! Wasmorch natives for Rust modules: the `extern "C"` imports of wasmorch.h and safe wrappers.
//!
//! The gateway builds this crate beside every Rust source (`--extern wasmorch`), so a module writes
//! `use wasmorch::*;` (or `use wasmorch as _;` when it calls no native: the crate also brings the
//! panic handler). A panic logs `panicked at file:line: message` and traps: the job ends with
//! `RESULT status=TRAP` and the message is in `wasmorch logs`.
#![no_std]

pub mod sys {
    //! The natives exactly as wasmorch.h declares them (module `env`).
    #[link(wasm_import_module = "env")]
    extern "C" {
        pub fn gpio_write(pin: i32, value: i32);
        pub fn gpio_toggle(pin: i32);
        pub fn gpio_read(pin: i32) -> i32;
        pub fn delay_ms(ms: i32) -> i32;
        pub fn uptime_ms() -> i64;
        pub fn should_stop() -> i32;
        pub fn log_i32(value: i32);
        pub fn log_str(message: *const u8);
        pub fn gpio_wait_edge(pin: i32, edges: i32, timeout_ms: i32) -> i32;
        pub fn adc_read(channel: i32) -> i32;
        pub fn i2c0_write(addr: i32, data: *const u8, len: i32) -> i32;
        pub fn i2c0_read(addr: i32, data: *mut u8, len: i32) -> i32;
        pub fn i2c0_write_read(addr: i32, wdata: *const u8, wlen: i32, rdata: *mut u8, rlen: i32) -> i32;
        pub fn i2c1_write(addr: i32, data: *const u8, len: i32) -> i32;
        pub fn i2c1_read(addr: i32, data: *mut u8, len: i32) -> i32;
        pub fn i2c1_write_read(addr: i32, wdata: *const u8, wlen: i32, rdata: *mut u8, rlen: i32) -> i32;
        pub fn pwm_set(channel: i32, period_us: i32, pulse_us: i32) -> i32;
        pub fn timer_start(period_ms: i32) -> i32;
        pub fn timer_wait() -> i32;
        pub fn publish(topic: *const u8, data: *const u8, len: i32) -> i32;
        pub fn kv_get(key: *const u8, buf: *mut u8, cap: i32) -> i32;
        pub fn kv_set(key: *const u8, data: *const u8, len: i32) -> i32;
        pub fn kv_delete(key: *const u8) -> i32;
    }
}

/// A native's negative result (wasmorch.h's WASMORCH_E* codes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Error(pub i32);

impl Error {
    pub const INVAL: Error = Error(-1);
    pub const FAULT: Error = Error(-2);
    pub const NODEV: Error = Error(-3);
    pub const IO: Error = Error(-4);
    pub const TIMEDOUT: Error = Error(-5);
    pub const STOPPED: Error = Error(-6);
    pub const RATE: Error = Error(-7);
    pub const NOSPC: Error = Error(-8);
    pub const NOENT: Error = Error(-9);
}

pub type Result<T> = core::result::Result<T, Error>;

fn check(rc: i32) -> Result<i32> {
    if rc < 0 { Err(Error(rc)) } else { Ok(rc) }
}

pub const LED_PIN: i32 = 0;
pub const BUTTON_PIN: i32 = 3;
pub const EDGE_RISING: i32 = 1;
pub const EDGE_FALLING: i32 = 2;
pub const EDGE_BOTH: i32 = 3;

pub mod gpio {
    use super::*;
    /// Drives pin (0..15) high (true) or low; an invalid pin traps the job.
    pub fn write(pin: i32, high: bool) { unsafe { sys::gpio_write(pin, high as i32) } }
    pub fn toggle(pin: i32) { unsafe { sys::gpio_toggle(pin) } }
    pub fn read(pin: i32) -> bool { unsafe { sys::gpio_read(pin) != 0 } }
    /// Waits for an edge (capability "gpio"): the level after it.
    pub fn wait_edge(pin: i32, edges: i32, timeout_ms: i32) -> Result<i32> { check(unsafe { sys::gpio_wait_edge(pin, edges, timeout_ms) }) }
}

/// Sleeps, returning early (true) when the job is asked to STOP.
pub fn delay_ms(ms: i32) -> bool { unsafe { sys::delay_ms(ms) != 0 } }
pub fn uptime_ms() -> i64 { unsafe { sys::uptime_ms() } }
pub fn should_stop() -> bool { unsafe { sys::should_stop() != 0 } }

/// The longest line log_str takes (wasmorch.h): longer messages are cut.
pub const LOG_MAX: usize = 120;

/// Logs a message (cut at LOG_MAX bytes, at a character boundary).
pub fn log(message: &str) {
    let mut line = Line::new();
    line.push_str(message);
    line.send();
}

pub fn log_i32(value: i32) { unsafe { sys::log_i32(value) } }

pub mod adc {
    use super::*;
    /// 12-bit counts (capability "adc").
    pub fn read(channel: i32) -> Result<i32> { check(unsafe { sys::adc_read(channel) }) }
}

/// I2C bus 0 (capability "i2c0"); at most 32 bytes each way.
pub mod i2c0 {
    use super::*;
    pub fn write(addr: i32, data: &[u8]) -> Result<()> { check(unsafe { sys::i2c0_write(addr, data.as_ptr(), data.len() as i32) }).map(|_| ()) }
    pub fn read(addr: i32, buf: &mut [u8]) -> Result<()> { check(unsafe { sys::i2c0_read(addr, buf.as_mut_ptr(), buf.len() as i32) }).map(|_| ()) }
    pub fn write_read(addr: i32, w: &[u8], r: &mut [u8]) -> Result<()> {
        check(unsafe { sys::i2c0_write_read(addr, w.as_ptr(), w.len() as i32, r.as_mut_ptr(), r.len() as i32) }).map(|_| ())
    }
}

/// I2C bus 1 (capability "i2c1").
pub mod i2c1 {
    use super::*;
    pub fn write(addr: i32, data: &[u8]) -> Result<()> { check(unsafe { sys::i2c1_write(addr, data.as_ptr(), data.len() as i32) }).map(|_| ()) }
    pub fn read(addr: i32, buf: &mut [u8]) -> Result<()> { check(unsafe { sys::i2c1_read(addr, buf.as_mut_ptr(), buf.len() as i32) }).map(|_| ()) }
    pub fn write_read(addr: i32, w: &[u8], r: &mut [u8]) -> Result<()> {
        check(unsafe { sys::i2c1_write_read(addr, w.as_ptr(), w.len() as i32, r.as_mut_ptr(), r.len() as i32) }).map(|_| ())
    }
}

pub mod pwm {
    use super::*;
    pub fn set(channel: i32, period_us: i32, pulse_us: i32) -> Result<()> { check(unsafe { sys::pwm_set(channel, period_us, pulse_us) }).map(|_| ()) }
}

/// A periodic tick that does not drift (capability "timer").
pub mod timer {
    use super::*;
    pub fn start(period_ms: i32) -> Result<()> { check(unsafe { sys::timer_start(period_ms) }).map(|_| ()) }
    /// Sleeps to the next tick: the ticks missed, or Err(Error::STOPPED) on STOP.
    pub fn wait() -> Result<i32> { check(unsafe { sys::timer_wait() }) }
}

/// NUL-terminated copies of short names (topics, keys) for the natives that take C strings.
struct CName { bytes: [u8; 33] }

impl CName {
    fn new(name: &str) -> Result<CName> {
        let mut bytes = [0u8; 33];
        if name.len() > 32 || name.as_bytes().contains(&0) { return Err(Error::INVAL); }
        bytes[..name.len()].copy_from_slice(name.as_bytes());
        Ok(CName { bytes })
    }
}

/// Publishes an event to the host (capability "events").
pub fn publish(topic: &str, data: &[u8]) -> Result<()> {
    let topic = CName::new(topic)?;
    check(unsafe { sys::publish(topic.bytes.as_ptr(), data.as_ptr(), data.len() as i32) }).map(|_| ())
}

/// The module's key-value store (capability "kv").
pub mod kv {
    use super::*;
    /// Copies the value into buf: its full length.
    pub fn get(key: &str, buf: &mut [u8]) -> Result<usize> {
        let key = CName::new(key)?;
        check(unsafe { sys::kv_get(key.bytes.as_ptr(), buf.as_mut_ptr(), buf.len() as i32) }).map(|n| n as usize)
    }
    pub fn set(key: &str, data: &[u8]) -> Result<()> {
        let key = CName::new(key)?;
        check(unsafe { sys::kv_set(key.bytes.as_ptr(), data.as_ptr(), data.len() as i32) }).map(|_| ())
    }
    pub fn delete(key: &str) -> Result<()> {
        let key = CName::new(key)?;
        check(unsafe { sys::kv_delete(key.bytes.as_ptr()) }).map(|_| ())
    }
    pub fn get_i32(key: &str) -> Result<i32> {
        let mut buf = [0u8; 4];
        match get(key, &mut buf)? { 4 => Ok(i32::from_le_bytes(buf)), _ => Err(Error::INVAL) }
    }
    pub fn set_i32(key: &str, value: i32) -> Result<()> { set(key, &value.to_le_bytes()) }
}

/// A log line being written: text and numbers, without an allocator, cut at LOG_MAX bytes.
pub struct Line { bytes: [u8; LOG_MAX + 1], len: usize }

impl Line {
    pub fn new() -> Line { Line { bytes: [0; LOG_MAX + 1], len: 0 } }

    pub fn push_str(&mut self, text: &str) -> &mut Line {
        for c in text.chars() {
            let mut utf8 = [0u8; 4];
            let encoded = c.encode_utf8(&mut utf8).as_bytes();
            if self.len + encoded.len() > LOG_MAX || c == '\0' { break; }
            self.bytes[self.len..self.len + encoded.len()].copy_from_slice(encoded);
            self.len += encoded.len();
        }
        self
    }

    pub fn as_str(&self) -> &str { unsafe { core::str::from_utf8_unchecked(&self.bytes[..self.len]) } }

    pub fn send(&mut self) {
        self.bytes[self.len] = 0;
        unsafe { sys::log_str(self.bytes.as_ptr()) }
    }
}

impl core::fmt::Write for Line {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        self.push_str(s);
        Ok(())
    }
}

/// Writes value in decimal into text: the digits written (at most 11).
pub fn format_i32(value: i32, text: &mut [u8; 12]) -> &str {
    let mut digits = [0u8; 11];
    let mut n = 0;
    let mut magnitude = value.unsigned_abs();
    loop {
        digits[n] = b'0' + (magnitude % 10) as u8;
        n += 1;
        magnitude /= 10;
        if magnitude == 0 { break; }
    }
    let mut len = 0;
    if value < 0 { text[0] = b'-'; len = 1; }
    while n > 0 { n -= 1; text[len] = digits[n]; len += 1; }
    unsafe { core::str::from_utf8_unchecked(&text[..len]) }
}

/// A panic logs where and why, then traps: the job ends with RESULT status=TRAP.
#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    use core::fmt::Write;
    let mut line = Line::new();
    // Rust 1.63's PanicInfo reads "panicked at 'message', file.rs:line:column".
    let _ = write!(line, "{}", info);
    line.send();
    core::arch::wasm32::unreachable()
}

/// Keeps the module's data above its stack (the gateway's layout rule, BuildOptions.LayoutHeader):
/// WAMR's AOT runtime refuses a module whose __data_end equals its stack top.
#[no_mangle]
#[used]
pub static wasmorch_layout_pad: [u8; 16] = [1; 16];
