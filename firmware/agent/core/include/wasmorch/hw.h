/*
 * A peripheral a native waits on (an ADC conversion): every wait has a deadline, and the
 * capability is offered only when the peripheral answered a probe at boot (issue 32 item 3).
 * A request that misses its deadline leaves the driver holding it (Zephyr's ADC context stays
 * locked until the conversion ends), so the peripheral is then wedged: every later call fails at
 * once, never waits again. Portable C11; the board supplies begin/wait.
 */
#ifndef WASMORCH_HW_H
#define WASMORCH_HW_H

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The outcome of a request: the natives' WASMORCH_* codes (modules/include/wasmorch.h). */
#define WM_HW_OK 0
#define WM_HW_EIO (-4)
#define WM_HW_ETIMEDOUT (-5)

struct wm_hw {
	/* Starts a request: 0, or a negative errno (the peripheral refused it). */
	int (*begin)(void *ctx);
	/* Waits for it at most ms: 0 done, 1 not done within ms, negative: it failed. */
	int (*wait)(void *ctx, uint32_t ms);
	void *ctx;
	uint32_t deadline_ms;
	/* It answered the boot probe: the capability is offered. */
	bool offered;
	/* A request missed its deadline: every later one fails at once. */
	bool wedged;
};

void wm_hw_init(struct wm_hw *hw, int (*begin)(void *ctx), int (*wait)(void *ctx, uint32_t ms), void *ctx, uint32_t deadline_ms);

/* At boot: one request, within the deadline. True (and offered) when the peripheral answered. */
bool wm_hw_probe(struct wm_hw *hw);

/* One request: WM_HW_OK, WM_HW_EIO (refused or failed), WM_HW_ETIMEDOUT (no answer within the deadline, or wedged). */
int32_t wm_hw_request(struct wm_hw *hw);

#ifdef __cplusplus
}
#endif

#endif /* WASMORCH_HW_H */
