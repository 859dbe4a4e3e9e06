/* hw.h: natives that wait on hardware have deadlines; a capability is offered only after a boot probe. */
#include "check.h"
#include "wasmorch/hw.h"

/* A fake converter: answers within `latency_ms`, never (-1), or fails (-2). */
struct fake_adc {
	int latency_ms;
	int begins;
	uint32_t waited_ms;
	bool busy;
};

static int begin(void *ctx)
{
	struct fake_adc *adc = ctx;

	adc->begins++;
	if (adc->busy) {
		/* A request is still held by the driver: a real one would block here; the fake says so. */
		return -16;
	}
	adc->busy = true;
	return 0;
}

static int wait(void *ctx, uint32_t ms)
{
	struct fake_adc *adc = ctx;

	if (adc->latency_ms == -2) {
		adc->busy = false;
		return -5;
	}
	if (adc->latency_ms < 0 || (uint32_t)adc->latency_ms > ms) {
		adc->waited_ms += ms;
		return 1;
	}
	adc->waited_ms += (uint32_t)adc->latency_ms;
	adc->busy = false;
	return 0;
}

/* Renode's STM32F4: no ADC model, a conversion never ends. Not offered; no wait longer than the deadline. */
static void test_silent_adc_is_not_offered(void)
{
	struct fake_adc adc = { .latency_ms = -1 };
	struct wm_hw hw;

	wm_hw_init(&hw, begin, wait, &adc, 20);
	CHECK(!wm_hw_probe(&hw));
	CHECK(!hw.offered);
	CHECK(adc.waited_ms == 20);
}

static void test_answering_adc_is_offered(void)
{
	struct fake_adc adc = { .latency_ms = 1 };
	struct wm_hw hw;

	wm_hw_init(&hw, begin, wait, &adc, 20);
	CHECK(wm_hw_probe(&hw));
	CHECK(hw.offered);
	CHECK(wm_hw_request(&hw) == WM_HW_OK);
	CHECK(adc.begins == 2);
}

/* It answered at boot, then stops: the native returns ETIMEDOUT after the deadline, later calls at once. */
static void test_adc_that_stops_answering_times_out_then_fails_fast(void)
{
	struct fake_adc adc = { .latency_ms = 1 };
	struct wm_hw hw;

	wm_hw_init(&hw, begin, wait, &adc, 20);
	CHECK(wm_hw_probe(&hw));
	adc.latency_ms = -1;
	adc.waited_ms = 0;
	CHECK(wm_hw_request(&hw) == WM_HW_ETIMEDOUT);
	CHECK(adc.waited_ms == 20);
	CHECK(hw.wedged);
	/* Never waits again, never starts another request on the wedged driver. */
	CHECK(wm_hw_request(&hw) == WM_HW_ETIMEDOUT);
	CHECK(wm_hw_request(&hw) == WM_HW_ETIMEDOUT);
	CHECK(adc.waited_ms == 20);
	CHECK(adc.begins == 2);
}

/* A slow but answering converter (within the deadline) is fine; one that fails is EIO and stays usable. */
static void test_slow_and_failing_conversions(void)
{
	struct fake_adc adc = { .latency_ms = 19 };
	struct wm_hw hw;

	wm_hw_init(&hw, begin, wait, &adc, 20);
	CHECK(wm_hw_probe(&hw));
	adc.latency_ms = -2;
	CHECK(wm_hw_request(&hw) == WM_HW_EIO);
	CHECK(!hw.wedged);
	adc.latency_ms = 20;
	CHECK(wm_hw_request(&hw) == WM_HW_OK);
	adc.latency_ms = 21;
	CHECK(wm_hw_request(&hw) == WM_HW_ETIMEDOUT);
}

int main(void)
{
	test_silent_adc_is_not_offered();
	test_answering_adc_is_offered();
	test_adc_that_stops_answering_times_out_then_fails_fast();
	test_slow_and_failing_conversions();
	CHECK_DONE();
}
