// Wasmorch natives for AssemblyScript modules: the imports of wasmorch.h and wrappers that take
// AssemblyScript strings and arrays. The gateway puts this file beside every AssemblyScript source
// it builds: `import { gpio, log } from "./wasmorch";`. It also makes `abort` (a failed assert, an
// out-of-range index, `throw`) log its message and place, then trap: the job ends with
// RESULT status=TRAP and the message is in `wasmorch logs`.

@external("env", "gpio_write") declare function native_gpio_write(pin: i32, value: i32): void;
@external("env", "gpio_toggle") declare function native_gpio_toggle(pin: i32): void;
@external("env", "gpio_read") declare function native_gpio_read(pin: i32): i32;
@external("env", "gpio_wait_edge") declare function native_gpio_wait_edge(pin: i32, edges: i32, timeoutMs: i32): i32;
@external("env", "delay_ms") declare function native_delay_ms(ms: i32): i32;
@external("env", "uptime_ms") declare function native_uptime_ms(): i64;
@external("env", "should_stop") declare function native_should_stop(): i32;
@external("env", "log_i32") declare function native_log_i32(value: i32): void;
@external("env", "log_str") declare function native_log_str(message: usize): void;
@external("env", "adc_read") declare function native_adc_read(channel: i32): i32;
@external("env", "i2c0_write") declare function native_i2c0_write(addr: i32, data: usize, len: i32): i32;
@external("env", "i2c0_read") declare function native_i2c0_read(addr: i32, data: usize, len: i32): i32;
@external("env", "i2c0_write_read") declare function native_i2c0_write_read(addr: i32, wdata: usize, wlen: i32, rdata: usize, rlen: i32): i32;
@external("env", "pwm_set") declare function native_pwm_set(channel: i32, periodUs: i32, pulseUs: i32): i32;
@external("env", "timer_start") declare function native_timer_start(periodMs: i32): i32;
@external("env", "timer_wait") declare function native_timer_wait(): i32;
@external("env", "publish") declare function native_publish(topic: usize, data: usize, len: i32): i32;
@external("env", "kv_get") declare function native_kv_get(key: usize, buf: usize, cap: i32): i32;
@external("env", "kv_set") declare function native_kv_set(key: usize, data: usize, len: i32): i32;
@external("env", "kv_delete") declare function native_kv_delete(key: usize): i32;

// wasmorch.h's result codes.
export const OK: i32 = 0;
export const EINVAL: i32 = -1;
export const EFAULT: i32 = -2;
export const ENODEV: i32 = -3;
export const EIO: i32 = -4;
export const ETIMEDOUT: i32 = -5;
export const ESTOPPED: i32 = -6;
export const ERATE: i32 = -7;
export const ENOSPC: i32 = -8;
export const ENOENT: i32 = -9;

export const LED_PIN: i32 = 0;
export const BUTTON_PIN: i32 = 3;
export const EDGE_RISING: i32 = 1;
export const EDGE_FALLING: i32 = 2;
export const EDGE_BOTH: i32 = 3;

export namespace gpio {
  /** Drives pin (0..15) high or low; an invalid pin traps the job. */
  export function write(pin: i32, high: bool): void { native_gpio_write(pin, high ? 1 : 0); }
  export function toggle(pin: i32): void { native_gpio_toggle(pin); }
  export function read(pin: i32): bool { return native_gpio_read(pin) != 0; }
  /** Waits for an edge (capability "gpio"): the level after it, or a negative code. */
  export function waitEdge(pin: i32, edges: i32, timeoutMs: i32): i32 { return native_gpio_wait_edge(pin, edges, timeoutMs); }
}

/** Sleeps; true when it returned early because the job was asked to STOP. */
export function delay(ms: i32): bool { return native_delay_ms(ms) != 0; }
export function uptimeMs(): i64 { return native_uptime_ms(); }
export function shouldStop(): bool { return native_should_stop() != 0; }

/** The longest line log_str takes (wasmorch.h). */
export const LOG_MAX: i32 = 120;

// Text for the natives is written into static buffers: the stub runtime never frees, so a
// module that logs in a loop must not allocate per line.
// A line being written is (this buffer, a length passed along): no mutable module state, which
// `abort` may need before the module's globals are initialised.
const line = memory.data(LOG_MAX + 1);

function lineAppend(at: i32, text: string): i32 {
  for (let i = 0; i < text.length && at < LOG_MAX; i++) {
    const unit = text.charCodeAt(i);
    // Logs are ASCII on the wire; anything else is shown as '?'.
    store<u8>(line + <usize>at, unit < 0x80 ? <u8>unit : 0x3f);
    at++;
  }
  return at;
}

function lineAppendI32(at: i32, value: i32): i32 {
  const digits = memory.data(11);
  let magnitude: u32 = value < 0 ? <u32>(0 - value) : <u32>value;
  let n = 0;
  do {
    store<u8>(digits + <usize>n, <u8>(0x30 + magnitude % 10));
    n++;
    magnitude /= 10;
  } while (magnitude > 0);
  if (value < 0 && at < LOG_MAX) { store<u8>(line + <usize>at, 0x2d); at++; }
  while (n > 0 && at < LOG_MAX) { n--; store<u8>(line + <usize>at, load<u8>(digits + <usize>n)); at++; }
  return at;
}

function lineSend(length: i32): void {
  store<u8>(line + <usize>length, 0);
  native_log_str(line);
}

/** Logs a message (ASCII, cut at LOG_MAX bytes). */
export function log(message: string): void {
  lineSend(lineAppend(0, message));
}

export function logI32(value: i32): void { native_log_i32(value); }

export namespace adc {
  /** 12-bit counts (capability "adc"), or a negative code. */
  export function read(channel: i32): i32 { return native_adc_read(channel); }
}

/** I2C bus 0 (capability "i2c0"); at most 32 bytes each way; 0 or a negative code. */
export namespace i2c0 {
  export function write(addr: i32, data: Uint8Array): i32 { return native_i2c0_write(addr, data.dataStart, data.length); }
  export function read(addr: i32, buf: Uint8Array): i32 { return native_i2c0_read(addr, buf.dataStart, buf.length); }
  export function writeRead(addr: i32, w: Uint8Array, r: Uint8Array): i32 { return native_i2c0_write_read(addr, w.dataStart, w.length, r.dataStart, r.length); }
}

export namespace pwm {
  export function set(channel: i32, periodUs: i32, pulseUs: i32): i32 { return native_pwm_set(channel, periodUs, pulseUs); }
}

/** A periodic tick that does not drift (capability "timer"). */
export namespace timer {
  export function start(periodMs: i32): i32 { return native_timer_start(periodMs); }
  /** Sleeps to the next tick: the ticks missed, or ESTOPPED on STOP. */
  export function wait(): i32 { return native_timer_wait(); }
}

const NAME_MAX: i32 = 32;
const name = memory.data(NAME_MAX + 1);

/** A topic or key as a NUL-terminated C string in a static buffer; 0 when it does not fit. */
function cName(text: string): usize {
  if (text.length > NAME_MAX) return 0;
  for (let i = 0; i < text.length; i++) store<u8>(name + <usize>i, <u8>text.charCodeAt(i));
  store<u8>(name + <usize>text.length, 0);
  return name;
}

const text = memory.data(LOG_MAX);

/** Publishes text to the host (capability "events"): 0 or a negative code. */
export function publish(topic: string, message: string): i32 {
  const key = cName(topic);
  if (key == 0 || message.length > LOG_MAX) return EINVAL;
  for (let i = 0; i < message.length; i++) store<u8>(text + <usize>i, <u8>message.charCodeAt(i));
  return native_publish(key, text, message.length);
}

/** Publishes an integer as decimal text, as the C and Rust thermostats do. */
export function publishI32(topic: string, value: i32): i32 {
  const key = cName(topic);
  if (key == 0) return EINVAL;
  return native_publish(key, line, lineAppendI32(0, value));
}

/** The module's key-value store (capability "kv"). */
export namespace kv {
  const value = memory.data(4);
  /** The i32 under key, or fallback when there is none (or it is not 4 bytes). */
  export function getI32(key: string, fallback: i32): i32 {
    const k = cName(key);
    return k != 0 && native_kv_get(k, value, 4) == 4 ? load<i32>(value) : fallback;
  }
  export function setI32(key: string, v: i32): i32 {
    const k = cName(key);
    if (k == 0) return EINVAL;
    store<i32>(value, v);
    return native_kv_set(k, value, 4);
  }
  export function remove(key: string): i32 {
    const k = cName(key);
    return k == 0 ? EINVAL : native_kv_delete(k);
  }
}

/** What `abort` (assert, throw, a bad index) does: logs "abort: message at file:line:column" and traps. */
export function wasmorchAbort(message: string | null, file: string | null, lineNumber: u32, column: u32): void {
  let at = lineAppend(0, "abort: ");
  if (message !== null) at = lineAppend(at, message);
  if (file !== null) {
    at = lineAppend(at, " at ");
    at = lineAppend(at, file);
    at = lineAppend(at, ":");
    at = lineAppendI32(at, <i32>lineNumber);
    at = lineAppend(at, ":");
    at = lineAppendI32(at, <i32>column);
  }
  lineSend(at);
  unreachable();
}
