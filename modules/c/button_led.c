/*
 * Button to LED, driven by edge events: each press (a rising edge of the button's pin) toggles
 * the LED (pin 0) and publishes the press count as topic "button" (text). The count is kept in
 * the module's kv store, so it goes on from where a previous job stopped. On an emulated board,
 * `wasmorch gpio set --pin 3 1` then `... 0` is one press.
 * Capabilities: gpio, events, kv.
 */
#include "wasmorch.h"

static int32_t presses(void)
{
	int32_t count;

	return kv_get("presses", &count, sizeof(count)) == sizeof(count) ? count : 0;
}

/* Writes a non-negative value in decimal into text (at least 11 bytes); returns the length. */
static int32_t format_count(int32_t value, char *text)
{
	char digits[10];
	int32_t n = 0, length = 0;

	do {
		digits[n++] = (char)('0' + value % 10);
		value /= 10;
	} while (value > 0);
	while (n > 0) {
		text[length++] = digits[--n];
	}
	return length;
}

/*
 * Waits for presses of button_pin until STOP (or max_presses of them, when positive); returns
 * the press count so far (kept across jobs), or a negative code when the pin cannot be watched.
 */
WASMORCH_EXPORT("run") int32_t run(int32_t button_pin, int32_t max_presses)
{
	int32_t count = presses();
	int32_t seen = 0;
	char text[11];

	while (max_presses <= 0 || seen < max_presses) {
		int32_t level = gpio_wait_edge(button_pin, WASMORCH_EDGE_RISING, -1);

		if (level == WASMORCH_ESTOPPED) {
			break;
		}
		if (level < 0) {
			return level;
		}
		count++;
		seen++;
		kv_set("presses", &count, sizeof(count));
		gpio_toggle(WASMORCH_LED_PIN);
		publish("button", text, format_count(count, text));
	}
	return count;
}

/* The press count kept in the kv store. */
WASMORCH_EXPORT("count") int32_t count(void)
{
	return presses();
}

/* Forgets the count. */
WASMORCH_EXPORT("reset") int32_t reset(void)
{
	int32_t rc = kv_delete("presses");

	return rc == WASMORCH_ENOENT ? 0 : rc;
}
