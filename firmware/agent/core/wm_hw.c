/* A peripheral behind a deadline (hw.h). */
#include "wasmorch/hw.h"

void wm_hw_init(struct wm_hw *hw, int (*begin)(void *ctx), int (*wait)(void *ctx, uint32_t ms), void *ctx, uint32_t deadline_ms)
{
	hw->begin = begin;
	hw->wait = wait;
	hw->ctx = ctx;
	hw->deadline_ms = deadline_ms;
	hw->offered = false;
	hw->wedged = false;
}

int32_t wm_hw_request(struct wm_hw *hw)
{
	int r;

	if (hw->wedged) {
		return WM_HW_ETIMEDOUT;
	}
	if (hw->begin(hw->ctx) != 0) {
		return WM_HW_EIO;
	}
	r = hw->wait(hw->ctx, hw->deadline_ms);
	if (r > 0) {
		hw->wedged = true;
		return WM_HW_ETIMEDOUT;
	}
	return r == 0 ? WM_HW_OK : WM_HW_EIO;
}

bool wm_hw_probe(struct wm_hw *hw)
{
	hw->offered = wm_hw_request(hw) == WM_HW_OK;
	return hw->offered;
}
