/*
 * wasmorch.h - the natives a Wasmorch board offers to a WebAssembly module.
 *
 * Every agent (the Zephyr/WAMR firmware and the emulated board) provides exactly these
 * functions in the "env" import module, with these signatures. A module that imports
 * anything else is refused at LOAD time with LOAD_ERR code=INVALID_MODULE.
 *
 * Build a module with the gateway (wasmorch build-and-deploy) or by hand:
 *   clang --target=wasm32-unknown-unknown -O3 -nostdlib -Wl,--no-entry \
 *     -Wl,--initial-memory=65536 -Wl,--max-memory=65536 -Wl,--stack-first \
 *     -Wl,-z,stack-size=2048 -I modules/include f.c -o f.wasm
 */
#ifndef WASMORCH_H
#define WASMORCH_H

#include <stdint.h>

/* C++ modules (the gateway builds .cc/.cpp/.cxx with clang++ flags) see the natives with C linkage. */
#ifdef __cplusplus
extern "C" {
#endif

#define WASMORCH_IMPORT(name) __attribute__((import_module("env"), import_name(name)))
/* Marks a function the gateway may START by name. */
#define WASMORCH_EXPORT(name) __attribute__((export_name(name)))

/* Number of GPIO pins a board exposes; pin 0 is the board's user LED. */
#define WASMORCH_GPIO_PINS 16
#define WASMORCH_LED_PIN 0
/* The board's user button as an input (devicetree sw0 on the firmware; any pin is an input on the emulator). */
#define WASMORCH_BUTTON_PIN 3

/* Drive pin (0..15) low (0) or high (non-zero). An invalid pin traps the job. */
WASMORCH_IMPORT("gpio_write") void gpio_write(int32_t pin, int32_t value);

/* Invert pin (0..15). */
WASMORCH_IMPORT("gpio_toggle") void gpio_toggle(int32_t pin);

/* Current level of pin (0..15): 0 or 1. */
WASMORCH_IMPORT("gpio_read") int32_t gpio_read(int32_t pin);

/*
 * Sleep for ms milliseconds. Returns 0 after the full delay, or 1 early when the job was
 * asked to STOP: a long-running loop should return when it sees 1.
 */
WASMORCH_IMPORT("delay_ms") int32_t delay_ms(int32_t ms);

/* Milliseconds since the agent booted. */
WASMORCH_IMPORT("uptime_ms") int64_t uptime_ms(void);

/* 1 once STOP was received for the running job, else 0. */
WASMORCH_IMPORT("should_stop") int32_t should_stop(void);

/* Log an integer (shown in the agent's log and, where negotiated, as a LOG line). */
WASMORCH_IMPORT("log_i32") void log_i32(int32_t value);

/* Log a NUL-terminated string of at most 120 bytes from linear memory. */
WASMORCH_IMPORT("log_str") void log_str(const char *message);

/*
 * Capability natives (docs/protocol.md 6c). A board offers some of these capabilities (CAPS_OK
 * caps=...); the gateway derives what a module needs from the natives it imports and refuses a
 * deploy that needs one the board does not offer, or its configuration does not grant the module
 * ([devices.x] grants), before a byte is uploaded. Every one of them checks its arguments
 * (pointers and lengths inside linear memory, numbers in range) and returns a negative code
 * below instead of trapping.
 */
#define WASMORCH_OK 0
#define WASMORCH_EINVAL -1    /* an argument out of range: pin, channel, address, length, period */
#define WASMORCH_EFAULT -2    /* a pointer and length outside the module's linear memory */
#define WASMORCH_ENODEV -3    /* nothing there: no such channel on this board, an I2C address without ACK */
#define WASMORCH_EIO -4       /* the peripheral failed (a bus error) */
#define WASMORCH_ETIMEDOUT -5 /* the wait ended without the awaited edge */
#define WASMORCH_ESTOPPED -6  /* the job was asked to STOP while it waited: return */
#define WASMORCH_ERATE -7     /* publish: over the job's event rate (or no host listens); dropped and counted */
#define WASMORCH_ENOSPC -8    /* kv_set: no room for another key */
#define WASMORCH_ENOENT -9    /* kv_get, kv_delete: no such key */

/* --- capability "gpio": inputs and edges ---------------------------------------------------- */
#define WASMORCH_EDGE_RISING 1
#define WASMORCH_EDGE_FALLING 2
#define WASMORCH_EDGE_BOTH 3

/*
 * Wait for the next edge of pin (0..15) in edges (a WASMORCH_EDGE_* mask) after the call: the
 * level after it (0 or 1), WASMORCH_ETIMEDOUT after timeout_ms (negative: no timeout), or
 * WASMORCH_ESTOPPED on STOP. On the emulator, `wasmorch gpio set --pin N 0|1` drives the input.
 */
WASMORCH_IMPORT("gpio_wait_edge") int32_t gpio_wait_edge(int32_t pin, int32_t edges, int32_t timeout_ms);

/* --- capability "adc" ---------------------------------------------------------------------- */
/* Sample ADC channel (0..15): 12-bit counts (0..4095), or WASMORCH_ENODEV for a channel the board lacks. */
WASMORCH_IMPORT("adc_read") int32_t adc_read(int32_t channel);

/* --- capabilities "i2c0" and "i2c1": the bus is in the name, so the need is known before upload */
/* 7-bit address; at most 32 bytes each way. 0, or a negative code (WASMORCH_ENODEV: no ACK). */
WASMORCH_IMPORT("i2c0_write") int32_t i2c0_write(int32_t addr, const void *data, int32_t len);
WASMORCH_IMPORT("i2c0_read") int32_t i2c0_read(int32_t addr, void *data, int32_t len);
/* Write then read with a repeated start (a register pointer, then its value). */
WASMORCH_IMPORT("i2c0_write_read") int32_t i2c0_write_read(int32_t addr, const void *wdata, int32_t wlen, void *rdata, int32_t rlen);
WASMORCH_IMPORT("i2c1_write") int32_t i2c1_write(int32_t addr, const void *data, int32_t len);
WASMORCH_IMPORT("i2c1_read") int32_t i2c1_read(int32_t addr, void *data, int32_t len);
WASMORCH_IMPORT("i2c1_write_read") int32_t i2c1_write_read(int32_t addr, const void *wdata, int32_t wlen, void *rdata, int32_t rlen);

/* --- capability "pwm" ---------------------------------------------------------------------- */
/* Set channel (0..3) to a period of 1..1000000 us with a pulse of 0..period us; STATUS shows pwm=ch:period:pulse. */
WASMORCH_IMPORT("pwm_set") int32_t pwm_set(int32_t channel, int32_t period_us, int32_t pulse_us);

/* --- capability "timer": a periodic tick that does not drift ----------------------------------- */
/* Start (or restart) this job's timer with a period of 1..86400000 ms. */
WASMORCH_IMPORT("timer_start") int32_t timer_start(int32_t period_ms);
/* Sleep to the next tick: the ticks missed since the last wait (0 when on time), WASMORCH_ESTOPPED on STOP. */
WASMORCH_IMPORT("timer_wait") int32_t timer_wait(void);

/* --- capability "events": small events to the host ------------------------------------------ */
/*
 * Publish len (0..48) bytes under topic (1..32 of [A-Za-z0-9_.-/], NUL-terminated) as an EVENT
 * line; `wasmorch events --follow` shows them. 0, or WASMORCH_ERATE when the job is over its rate
 * (a burst, then a steady rate per second; the board counts drops in STATUS events_dropped).
 */
WASMORCH_IMPORT("publish") int32_t publish(const char *topic, const void *data, int32_t len);

/* --- capability "kv": a small store per module that outlives its jobs ------------------------ */
/*
 * Keys are 1..15 of [A-Za-z0-9_.-], NUL-terminated; values 0..64 bytes; 16 keys per module. The
 * store survives a job's end and a new version of the module (same module id); UNLOAD clears it.
 */
/* Copy up to cap bytes of the value into buf: the value's full length, or WASMORCH_ENOENT. */
WASMORCH_IMPORT("kv_get") int32_t kv_get(const char *key, void *buf, int32_t cap);
WASMORCH_IMPORT("kv_set") int32_t kv_set(const char *key, const void *data, int32_t len);
WASMORCH_IMPORT("kv_delete") int32_t kv_delete(const char *key);

#ifdef __cplusplus
}
#endif

#endif /* WASMORCH_H */
