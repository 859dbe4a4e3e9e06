//! The TMP102 temperature sensor on I2C bus 0.

use wasmorch::{i2c0, Result};

const ADDRESS: i32 = 0x48;
const TEMPERATURE_REGISTER: u8 = 0;

/// The temperature in milli-degrees Celsius.
pub fn read_milli_c() -> Result<i32> {
    let mut raw = [0u8; 2];
    i2c0::write_read(ADDRESS, &[TEMPERATURE_REGISTER], &mut raw)?;
    // 12 bits, left-aligned, two's complement, 1/16 degree per count.
    let counts = (i16::from_be_bytes(raw) >> 4) as i32;
    Ok(counts * 1000 / 16)
}
