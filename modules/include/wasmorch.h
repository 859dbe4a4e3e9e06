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

#define WASMORCH_IMPORT(name) __attribute__((import_module("env"), import_name(name)))
/* Marks a function the gateway may START by name. */
#define WASMORCH_EXPORT(name) __attribute__((export_name(name)))

/* Number of GPIO pins a board exposes; pin 0 is the board's user LED. */
#define WASMORCH_GPIO_PINS 16
#define WASMORCH_LED_PIN 0

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

#endif /* WASMORCH_H */
