/*
 * A thermostat: reads the TMP102 temperature sensor on I2C bus 0 (0x48), publishes each reading
 * to the host as topic "temp" (milli-degrees Celsius, as text: `wasmorch events --follow`), and
 * drives a heater on pin 1 with a 0.5 degree hysteresis around a setpoint kept in the module's
 * kv store, so that it survives restarts and new versions of the module.
 * Capabilities: i2c0, events, timer, kv.
 */
#include "wasmorch.h"

#define TMP102_ADDRESS 0x48
#define HEATER_PIN 1
#define HYSTERESIS_MC 500
#define DEFAULT_SETPOINT_MC 21000

/* The temperature in milli-degrees Celsius into *milli_c: 0, or the I2C error. */
static int32_t read_milli_c(int32_t *milli_c)
{
	uint8_t pointer = 0; /* the temperature register */
	uint8_t raw[2];
	int32_t rc = i2c0_write_read(TMP102_ADDRESS, &pointer, 1, raw, 2);

	if (rc < 0) {
		return rc;
	}
	/* 12 bits, left-aligned, two's complement, 1/16 degree per count. */
	*milli_c = ((int32_t)(int16_t)((raw[0] << 8) | raw[1]) >> 4) * 1000 / 16;
	return 0;
}

/* Writes value in decimal into text (at least 12 bytes); returns the length. */
static int32_t format_decimal(int32_t value, char *text)
{
	char digits[11];
	int32_t n = 0, length = 0;
	uint32_t magnitude = value < 0 ? 0u - (uint32_t)value : (uint32_t)value;

	do {
		digits[n++] = (char)('0' + magnitude % 10);
		magnitude /= 10;
	} while (magnitude > 0);
	if (value < 0) {
		text[length++] = '-';
	}
	while (n > 0) {
		text[length++] = digits[--n];
	}
	return length;
}

static int32_t setpoint_mc(void)
{
	int32_t value;

	return kv_get("setpoint", &value, sizeof(value)) == sizeof(value) ? value : DEFAULT_SETPOINT_MC;
}

/* The temperature now, in milli-degrees Celsius (negative values are real temperatures; errors are below -1000000). */
WASMORCH_EXPORT("read_temp") int32_t read_temp(void)
{
	int32_t milli_c;
	int32_t rc = read_milli_c(&milli_c);

	return rc < 0 ? -1000000 + rc : milli_c;
}

/* Keeps the setpoint (milli-degrees Celsius) in the kv store; returns 0 or the store's error. */
WASMORCH_EXPORT("set_setpoint") int32_t set_setpoint(int32_t milli_c)
{
	return kv_set("setpoint", &milli_c, sizeof(milli_c));
}

WASMORCH_EXPORT("get_setpoint") int32_t get_setpoint(void)
{
	return setpoint_mc();
}

/*
 * Reads every period_ms, readings times (0: until STOP): publishes each, switches the heater.
 * Returns how many readings were published (an I2C error ends the run with its negative code).
 */
WASMORCH_EXPORT("run") int32_t run(int32_t period_ms, int32_t readings)
{
	int32_t published = 0;
	int32_t setpoint = setpoint_mc();
	char text[12];

	if (timer_start(period_ms) < 0) {
		return WASMORCH_EINVAL;
	}
	for (int32_t i = 0; readings == 0 || i < readings; i++) {
		int32_t milli_c;
		int32_t rc = read_milli_c(&milli_c);

		if (rc < 0) {
			log_str("temperature sensor does not answer");
			return rc;
		}
		if (publish("temp", text, format_decimal(milli_c, text)) == 0) {
			published++;
		}
		if (milli_c < setpoint - HYSTERESIS_MC) {
			gpio_write(HEATER_PIN, 1);
		} else if (milli_c > setpoint + HYSTERESIS_MC) {
			gpio_write(HEATER_PIN, 0);
		}
		if (timer_wait() == WASMORCH_ESTOPPED) {
			break;
		}
	}
	return published;
}
