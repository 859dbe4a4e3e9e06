//! The thermostat of modules/c/thermostat.c in Rust: reads the TMP102 on I2C bus 0 (0x48),
//! publishes each reading as topic "temp" (milli-degrees Celsius, as decimal text), and drives a
//! heater on pin 1 with a 0.5 degree hysteresis around a setpoint kept in the module's kv store.
//! Capabilities: i2c0, events, timer, kv. The sensor's code is a module of its own (tmp102.rs),
//! which the CLI sends beside this file and `watch` watches.
#![no_std]

mod tmp102;

use wasmorch::{format_i32, gpio, kv, log, publish, timer, Error};

const HEATER_PIN: i32 = 1;
const HYSTERESIS_MC: i32 = 500;
const DEFAULT_SETPOINT_MC: i32 = 21000;

fn setpoint_mc() -> i32 {
    kv::get_i32("setpoint").unwrap_or(DEFAULT_SETPOINT_MC)
}

/// The temperature now, in milli-degrees Celsius (errors are below -1000000).
#[no_mangle]
pub extern "C" fn read_temp() -> i32 {
    match tmp102::read_milli_c() {
        Ok(milli_c) => milli_c,
        Err(Error(code)) => -1_000_000 + code,
    }
}

/// Keeps the setpoint (milli-degrees Celsius) in the kv store: 0 or the store's error.
#[no_mangle]
pub extern "C" fn set_setpoint(milli_c: i32) -> i32 {
    match kv::set_i32("setpoint", milli_c) {
        Ok(()) => 0,
        Err(Error(code)) => code,
    }
}

#[no_mangle]
pub extern "C" fn get_setpoint() -> i32 {
    setpoint_mc()
}

/// Reads every period_ms, readings times (0: until STOP): publishes each, switches the heater.
/// Returns how many readings were published (an I2C error ends the run with its negative code).
#[no_mangle]
pub extern "C" fn run(period_ms: i32, readings: i32) -> i32 {
    let setpoint = setpoint_mc();
    if timer::start(period_ms).is_err() {
        return Error::INVAL.0;
    }
    let mut published = 0;
    let mut i = 0;
    while readings == 0 || i < readings {
        let milli_c = match tmp102::read_milli_c() {
            Ok(milli_c) => milli_c,
            Err(Error(code)) => {
                log("temperature sensor does not answer");
                return code;
            }
        };
        let mut text = [0u8; 12];
        if publish("temp", format_i32(milli_c, &mut text).as_bytes()).is_ok() {
            published += 1;
        }
        if milli_c < setpoint - HYSTERESIS_MC {
            gpio::write(HEATER_PIN, true);
        } else if milli_c > setpoint + HYSTERESIS_MC {
            gpio::write(HEATER_PIN, false);
        }
        if timer::wait() == Err(Error::STOPPED) {
            break;
        }
        i += 1;
    }
    published
}
