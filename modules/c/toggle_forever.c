/* Blinks the user LED until the job is stopped: the seed's long-running example. */
#include "wasmorch.h"

/* Toggles `pin` every `period_ms` until STOP; returns how many times it toggled. */
WASMORCH_EXPORT("toggle_forever") int32_t toggle_forever(int32_t pin, int32_t period_ms)
{
	int32_t toggles = 0;

	if (period_ms <= 0) {
		period_ms = 100;
	}
	while (!should_stop()) {
		gpio_toggle(pin);
		toggles++;
		if (delay_ms(period_ms)) {
			break;
		}
	}
	return toggles;
}

/* Default entry: LED pin, 100 ms. */
WASMORCH_EXPORT("run") int32_t run(void) { return toggle_forever(WASMORCH_LED_PIN, 100); }
