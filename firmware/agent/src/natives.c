/*
 * The natives of modules/include/wasmorch.h, registered in the "env" module. GPIO pin 0 is the
 * board's user LED (devicetree alias led0); pins 1-15 are kept in a register so that modules
 * behave the same on every board.
 */
#include <string.h>
#include <zephyr/drivers/gpio.h>

#include "wasmorch_agent.h"

#define GPIO_PINS 16

#if DT_NODE_EXISTS(DT_ALIAS(led0))
static const struct gpio_dt_spec led = GPIO_DT_SPEC_GET(DT_ALIAS(led0), gpios);
#define HAVE_LED 1
#else
#define HAVE_LED 0
#endif

static atomic_t levels;
static atomic_t writes;
static atomic_t log_dropped;

uint32_t gpio_levels(void) { return (uint32_t)atomic_get(&levels); }
uint32_t gpio_write_count(void) { return (uint32_t)atomic_get(&writes); }
uint32_t log_dropped_count(void) { return (uint32_t)atomic_get(&log_dropped); }

static bool pin_ok(wasm_exec_env_t env, int32_t pin)
{
	if (pin < 0 || pin >= GPIO_PINS) {
		wasm_runtime_set_exception(get_module_inst(env), "native: gpio pin does not exist (0-15)");
		return false;
	}
	return true;
}

/* Sets the pin's bit; an edge (a changed level) is latched for gpio_wait_edge. */
static void change_level(int32_t pin, bool high)
{
	atomic_val_t before = high ? atomic_or(&levels, BIT(pin)) : atomic_and(&levels, ~BIT(pin));

	if (((before & BIT(pin)) != 0) != high) {
		caps_edge(pin, high);
	}
}

void gpio_input_changed(int32_t pin, bool high)
{
	change_level(pin, high);
}

static void set_level(int32_t pin, bool high)
{
	change_level(pin, high);
	atomic_inc(&writes);
#if HAVE_LED
	if (pin == 0) {
		gpio_pin_set_dt(&led, high);
	}
#endif
}

static void n_gpio_write(wasm_exec_env_t env, int32_t pin, int32_t value)
{
	if (pin_ok(env, pin)) {
		set_level(pin, value != 0);
	}
}

static void n_gpio_toggle(wasm_exec_env_t env, int32_t pin)
{
	if (pin_ok(env, pin)) {
		set_level(pin, (gpio_levels() & BIT(pin)) == 0);
	}
}

static int32_t n_gpio_read(wasm_exec_env_t env, int32_t pin)
{
	return pin_ok(env, pin) && (gpio_levels() & BIT(pin)) ? 1 : 0;
}

/* Sleeps on the stop semaphore, given back so that every later wait sees it: true when STOP came. */
bool job_sleep_ms(int64_t ms)
{
	if (atomic_get(&job_stop_requested)) {
		return true;
	}
	if (ms > 0 && k_sem_take(&job_stop_sem, K_MSEC(ms)) == 0) {
		k_sem_give(&job_stop_sem);
		return true;
	}
	return atomic_get(&job_stop_requested) != 0;
}

/* STOP wakes it at once and the module sees 1. */
static int32_t n_delay_ms(wasm_exec_env_t env, int32_t ms)
{
	ARG_UNUSED(env);
	return job_sleep_ms(ms) ? 1 : 0;
}

static int64_t n_uptime_ms(wasm_exec_env_t env)
{
	ARG_UNUSED(env);
	return k_uptime_get();
}

static int32_t n_should_stop(wasm_exec_env_t env)
{
	ARG_UNUSED(env);
	return atomic_get(&job_stop_requested) ? 1 : 0;
}

static void send_log(const char *msg)
{
	char line[WM_LINE_MAX];

	if (!wasmorch_agent.peer_negotiated) {
		/* A seed-baseline gateway would not expect LOG lines. */
		atomic_inc(&log_dropped);
		return;
	}
	link_send(line, wm_format_log(line, current_job.module->id, current_job.id, k_uptime_get_32(), msg));
}

static void n_log_i32(wasm_exec_env_t env, int32_t value)
{
	char text[16];

	ARG_UNUSED(env);
	snprintf(text, sizeof(text), "%ld", (long)value);
	send_log(text);
}

/* "$" makes WAMR validate the string's address and NUL within linear memory. */
static void n_log_str(wasm_exec_env_t env, const char *message)
{
	char text[121];

	ARG_UNUSED(env);
	strncpy(text, message, sizeof(text) - 1);
	text[sizeof(text) - 1] = '\0';
	send_log(text);
}

static NativeSymbol natives[] = {
	{ "gpio_write", (void *)n_gpio_write, "(ii)", NULL },
	{ "gpio_toggle", (void *)n_gpio_toggle, "(i)", NULL },
	{ "gpio_read", (void *)n_gpio_read, "(i)i", NULL },
	{ "delay_ms", (void *)n_delay_ms, "(i)i", NULL },
	{ "uptime_ms", (void *)n_uptime_ms, "()I", NULL },
	{ "should_stop", (void *)n_should_stop, "()i", NULL },
	{ "log_i32", (void *)n_log_i32, "(i)", NULL },
	{ "log_str", (void *)n_log_str, "($)", NULL },
};

bool natives_register(void)
{
	return wasm_runtime_register_natives("env", natives, ARRAY_SIZE(natives));
}

int natives_init(void)
{
#if HAVE_LED
	if (!gpio_is_ready_dt(&led)) {
		return -ENODEV;
	}
	return gpio_pin_configure_dt(&led, GPIO_OUTPUT_INACTIVE);
#else
	return 0;
#endif
}
