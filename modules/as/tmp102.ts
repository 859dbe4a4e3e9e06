// The TMP102 temperature sensor on I2C bus 0.
import { i2c0 } from "wasmorch";

const ADDRESS: i32 = 0x48;

// Readings below this are errors: SENSOR_ERROR + the I2C error code.
export const SENSOR_ERROR: i32 = -1000000;

const pointer = new Uint8Array(1);
const raw = new Uint8Array(2);

// The temperature in milli-degrees Celsius, or SENSOR_ERROR + the I2C error.
export function readMilliC(): i32 {
  pointer[0] = 0; // the temperature register
  const rc = i2c0.writeRead(ADDRESS, pointer, raw);
  if (rc < 0) return SENSOR_ERROR + rc;
  // 12 bits, left-aligned, two's complement, 1/16 degree per count.
  const counts = <i32>(<i16>((<i32>raw[0] << 8) | <i32>raw[1])) >> 4;
  return counts * 1000 / 16;
}
