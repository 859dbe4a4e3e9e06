// The thermostat of modules/c/thermostat.c in AssemblyScript: reads the TMP102 on I2C bus 0
// (0x48), publishes each reading as topic "temp" (milli-degrees Celsius, as decimal text), and
// drives a heater on pin 1 with a 0.5 degree hysteresis around a setpoint kept in the kv store.
// Capabilities: i2c0, events, timer, kv. The sensor's code is imported from ./tmp102 (sent beside
// this file by the CLI and watched by `watch`).
import { gpio, kv, log, publishI32, timer, EINVAL, ESTOPPED } from "wasmorch";
import { readMilliC, SENSOR_ERROR } from "./tmp102";

const HEATER_PIN: i32 = 1;
const HYSTERESIS_MC: i32 = 500;
const DEFAULT_SETPOINT_MC: i32 = 21000;

function setpointMc(): i32 {
  return kv.getI32("setpoint", DEFAULT_SETPOINT_MC);
}

// The temperature now, in milli-degrees Celsius (errors are below -1000000).
export function read_temp(): i32 {
  return readMilliC();
}

export function set_setpoint(milliC: i32): i32 {
  return kv.setI32("setpoint", milliC);
}

export function get_setpoint(): i32 {
  return setpointMc();
}

// Reads every periodMs, readings times (0: until STOP): publishes each, switches the heater.
// Returns how many readings were published (an I2C error ends the run with its negative code).
export function run(periodMs: i32, readings: i32): i32 {
  const setpoint = setpointMc();
  if (timer.start(periodMs) < 0) return EINVAL;
  let published = 0;
  for (let i = 0; readings == 0 || i < readings; i++) {
    const milliC = readMilliC();
    if (milliC < SENSOR_ERROR) {
      log("temperature sensor does not answer");
      return milliC - SENSOR_ERROR;
    }
    if (publishI32("temp", milliC) == 0) published++;
    if (milliC < setpoint - HYSTERESIS_MC) {
      gpio.write(HEATER_PIN, true);
    } else if (milliC > setpoint + HYSTERESIS_MC) {
      gpio.write(HEATER_PIN, false);
    }
    if (timer.wait() == ESTOPPED) break;
  }
  return published;
}
