/*
 * The capability natives of modules/include/wasmorch.h (docs/protocol.md 6c) on Zephyr. The
 * peripherals come from the devicetree: the user button (alias sw0) is input pin 3, I2C bus 0 is
 * alias wasmorch-i2c0, ADC channel 0 is the first io-channels entry of /zephyr,user, PWM channel 0
 * is alias wasmorch-pwm0. A board without one neither offers its capability (CAPS_OK) nor
 * registers its natives, so LOAD refuses a module that imports them. timer, events and kv need no
 * hardware and are always offered. Every native checks its pointers through app_span/app_name and
 * returns a negative WASMORCH_E* code instead of trapping.
 */
#include <stdio.h>
#include <string.h>
#include <zephyr/drivers/gpio.h>

#include "wasmorch_agent.h"

#define E_INVAL -1
#define E_FAULT -2
#define E_NODEV -3
#define E_IO -4
#define E_TIMEDOUT -5
#define E_STOPPED -6
#define E_RATE -7
#define E_NOSPC -8
#define E_NOENT -9

#define I2C_MAX 32
#define KV_VALUE_MAX 64
#define KV_PER_MODULE 16
#define BUTTON_PIN 3
#define GPIO_PINS 16
#define EDGES_KEPT 16

#if DT_NODE_EXISTS(DT_ALIAS(wasmorch_i2c0))
#include <zephyr/drivers/i2c.h>
#define HAVE_I2C0 1
static const struct device *const i2c0 = DEVICE_DT_GET(DT_ALIAS(wasmorch_i2c0));
#else
#define HAVE_I2C0 0
#endif

#if DT_NODE_EXISTS(DT_PATH(zephyr_user)) && DT_NODE_HAS_PROP(DT_PATH(zephyr_user), io_channels)
#include <zephyr/drivers/adc.h>
#define HAVE_ADC 1
#include "wasmorch/hw.h"
static const struct adc_dt_spec adc0 = ADC_DT_SPEC_GET_BY_IDX(DT_PATH(zephyr_user), 0);

BUILD_ASSERT(IS_ENABLED(CONFIG_ADC_ASYNC), "adc_read has a deadline: the ADC is read asynchronously (CONFIG_ADC_ASYNC=y)");

/*
 * One conversion at a time, waited for at most CONFIG_WASMORCH_ADC_DEADLINE_MS (core/wm_hw.c):
 * a converter that does not answer (Renode's STM32F4 has no ADC model) ends adc_read with
 * WASMORCH_ETIMEDOUT instead of hanging the job, and one that does not answer the boot probe is
 * not offered. The signal and the sample outlive a missed deadline (static): the driver still
 * holds them. One owner at a time: main() probes at boot, then only the RUNNER's natives call.
 */
static int16_t adc_sample;
static struct k_poll_signal adc_done;
static struct adc_sequence adc_seq = { .buffer = &adc_sample, .buffer_size = sizeof(adc_sample) };
static struct wm_hw adc_hw;

static int adc_begin(void *ctx)
{
	ARG_UNUSED(ctx);
	k_poll_signal_reset(&adc_done);
	if (adc_sequence_init_dt(&adc0, &adc_seq) != 0) {
		return -EINVAL;
	}
	return adc_read_async(adc0.dev, &adc_seq, &adc_done);
}

static int adc_wait(void *ctx, uint32_t ms)
{
	struct k_poll_event event = K_POLL_EVENT_INITIALIZER(K_POLL_TYPE_SIGNAL, K_POLL_MODE_NOTIFY_ONLY, &adc_done);
	unsigned int signaled = 0;
	int result = 0;

	ARG_UNUSED(ctx);
	if (k_poll(&event, 1, K_MSEC(ms)) != 0) {
		return 1;
	}
	k_poll_signal_check(&adc_done, &signaled, &result);
	return result == 0 ? 0 : -EIO;
}
#else
#define HAVE_ADC 0
#endif

#if DT_NODE_EXISTS(DT_ALIAS(wasmorch_pwm0))
#include <zephyr/drivers/pwm.h>
#define HAVE_PWM 1
static const struct pwm_dt_spec pwm0 = PWM_DT_SPEC_GET(DT_ALIAS(wasmorch_pwm0));
#else
#define HAVE_PWM 0
#endif

#if DT_NODE_EXISTS(DT_ALIAS(sw0))
#define HAVE_BUTTON 1
static const struct gpio_dt_spec button = GPIO_DT_SPEC_GET(DT_ALIAS(sw0), gpios);
static struct gpio_callback button_cb;
#else
#define HAVE_BUTTON 0
#endif

static char offered[64];
static char pwm_state[24];
static atomic_t events_dropped;

/* Per job (caps_job_begin): its event rate, its timer, the GPIO edges it has not yet been told of. */
static struct wm_event_bucket bucket;
static int64_t timer_next;
static int32_t timer_period;
static struct {
	uint8_t pin;
	uint8_t high;
} edges[EDGES_KEPT];
static unsigned int edge_head, edge_count;
static struct k_spinlock edge_lock;
static K_SEM_DEFINE(edge_sem, 0, 1);

/* The kv store: RAM entries shared by all modules, at most KV_PER_MODULE each. */
struct kv_entry {
	bool used;
	char module[WM_MODULE_ID_MAX + 1];
	char key[WM_KV_KEY_MAX + 1];
	uint8_t len;
	uint8_t value[KV_VALUE_MAX];
};
static struct kv_entry kv[CONFIG_WASMORCH_KV_ENTRIES];
static K_MUTEX_DEFINE(kv_lock);

const char *caps_offered(void) { return offered; }
uint32_t events_dropped_count(void) { return (uint32_t)atomic_get(&events_dropped); }
const char *pwm_status(void) { return pwm_state; }

/* The native address of [addr, addr + len) in the job's linear memory, or NULL with *code set. */
static void *app_span(wasm_exec_env_t env, int32_t addr, int32_t len, int32_t max, int32_t *code)
{
	static uint8_t empty;
	wasm_module_inst_t inst = get_module_inst(env);
	uint64_t end;

	if (len < 0 || len > max) {
		*code = E_INVAL;
		return NULL;
	}
	if (addr < 0 || !wasm_runtime_get_app_addr_range(inst, 0, NULL, &end) || (uint64_t)addr + (uint64_t)len > end) {
		*code = E_FAULT;
		return NULL;
	}
	return len == 0 ? &empty : wasm_runtime_addr_app_to_native(inst, (uint64_t)addr);
}

/* A NUL-terminated name of 1..max characters from linear memory into out (max + 1 bytes): 0 or a code. */
static int32_t app_name(wasm_exec_env_t env, int32_t addr, size_t max, bool slash, char *out)
{
	wasm_module_inst_t inst = get_module_inst(env);
	uint64_t end;
	const char *text;
	size_t n = 0;

	if (addr < 0 || !wasm_runtime_get_app_addr_range(inst, 0, NULL, &end) || (uint64_t)addr >= end) {
		return E_FAULT;
	}
	text = wasm_runtime_addr_app_to_native(inst, (uint64_t)addr);
	while ((uint64_t)addr + n < end && n <= max && text[n] != '\0') {
		n++;
	}
	if ((uint64_t)addr + n == end) {
		return E_FAULT;
	}
	if (n > max) {
		return E_INVAL;
	}
	memcpy(out, text, n);
	out[n] = '\0';
	return wm_valid_name(out, max, slash) ? 0 : E_INVAL;
}

static bool stop_requested(void) { return atomic_get(&job_stop_requested) != 0; }

void caps_edge(int32_t pin, bool high)
{
	k_spinlock_key_t key = k_spin_lock(&edge_lock);
	unsigned int slot = (edge_head + edge_count) % EDGES_KEPT;

	if (edge_count == EDGES_KEPT) {
		edge_head = (edge_head + 1) % EDGES_KEPT; /* the oldest goes */
	} else {
		edge_count++;
	}
	edges[slot].pin = (uint8_t)pin;
	edges[slot].high = high;
	k_spin_unlock(&edge_lock, key);
	k_sem_give(&edge_sem);
}

void caps_job_begin(void)
{
	k_spinlock_key_t key = k_spin_lock(&edge_lock);

	edge_head = 0;
	edge_count = 0;
	k_spin_unlock(&edge_lock, key);
	k_sem_reset(&edge_sem);
	wm_event_bucket_init(&bucket, CONFIG_WASMORCH_EVENT_RATE, CONFIG_WASMORCH_EVENT_BURST, k_uptime_get_32());
	timer_period = 0;
}

/* The first latched edge of pin in the mask (others of that pin are passed over): its level, or -1. */
static int32_t take_edge(int32_t pin, int32_t mask)
{
	k_spinlock_key_t key = k_spin_lock(&edge_lock);
	int32_t found = -1;

	for (unsigned int i = 0; i < edge_count && found < 0; i++) {
		unsigned int slot = (edge_head + i) % EDGES_KEPT;

		if (edges[slot].pin != pin) {
			continue;
		}
		if (mask & (edges[slot].high ? 1 : 2)) {
			found = edges[slot].high;
		}
		/* Taken (returned or passed over): close the gap. */
		for (unsigned int j = i; j + 1 < edge_count; j++) {
			edges[(edge_head + j) % EDGES_KEPT] = edges[(edge_head + j + 1) % EDGES_KEPT];
		}
		edge_count--;
		i--;
	}
	k_spin_unlock(&edge_lock, key);
	return found;
}

static int32_t n_gpio_wait_edge(wasm_exec_env_t env, int32_t pin, int32_t mask, int32_t timeout_ms)
{
	int64_t deadline = k_uptime_get() + timeout_ms;

	ARG_UNUSED(env);
	if (pin < 0 || pin >= GPIO_PINS || mask < 1 || mask > 3) {
		return E_INVAL;
	}
	for (;;) {
		int32_t level = take_edge(pin, mask);
		int64_t left = deadline - k_uptime_get();

		if (level >= 0) {
			return level;
		}
		if (stop_requested()) {
			return E_STOPPED;
		}
		if (timeout_ms >= 0 && left <= 0) {
			return E_TIMEDOUT;
		}
		/* Wake on an edge, or every 10 ms to see a STOP. */
		k_sem_take(&edge_sem, K_MSEC(timeout_ms >= 0 && left < 10 ? left : 10));
	}
}

#if HAVE_ADC
static int32_t n_adc_read(wasm_exec_env_t env, int32_t channel)
{
	int32_t code;

	ARG_UNUSED(env);
	if (channel < 0 || channel > 15) {
		return E_INVAL;
	}
	if (channel != 0) {
		return E_NODEV;
	}
	code = wm_hw_request(&adc_hw);
	if (code != WM_HW_OK) {
		return code;
	}
	return adc_sample < 0 ? 0 : adc_sample;
}
#endif

#if HAVE_I2C0
/* One direction of a transfer on bus 0: the buffer checked, then the address; any bus failure is E_IO. */
static int32_t i2c0_transfer(wasm_exec_env_t env, int32_t addr, int32_t data, int32_t len, bool read)
{
	int32_t code = 0;
	uint8_t *buf = app_span(env, data, len, I2C_MAX, &code);

	if (buf == NULL) {
		return code;
	}
	if (addr < 0 || addr > 0x7f) {
		return E_INVAL;
	}
	code = read ? i2c_read(i2c0, buf, (uint32_t)len, (uint16_t)addr) : i2c_write(i2c0, buf, (uint32_t)len, (uint16_t)addr);
	return code == 0 ? 0 : E_IO;
}

static int32_t n_i2c0_write(wasm_exec_env_t env, int32_t addr, int32_t data, int32_t len)
{
	return i2c0_transfer(env, addr, data, len, false);
}

static int32_t n_i2c0_read(wasm_exec_env_t env, int32_t addr, int32_t data, int32_t len)
{
	return i2c0_transfer(env, addr, data, len, true);
}

static int32_t n_i2c0_write_read(wasm_exec_env_t env, int32_t addr, int32_t w, int32_t wlen, int32_t r, int32_t rlen)
{
	int32_t code = 0;
	void *out = app_span(env, w, wlen, I2C_MAX, &code);
	void *in = out == NULL ? NULL : app_span(env, r, rlen, I2C_MAX, &code);

	if (in == NULL) {
		return code;
	}
	if (addr < 0 || addr > 0x7f) {
		return E_INVAL;
	}
	return i2c_write_read(i2c0, (uint16_t)addr, out, (size_t)wlen, in, (size_t)rlen) == 0 ? 0 : E_IO;
}
#endif

#if HAVE_PWM
static int32_t n_pwm_set(wasm_exec_env_t env, int32_t channel, int32_t period_us, int32_t pulse_us)
{
	ARG_UNUSED(env);
	if (channel < 0 || channel > 3 || period_us < 1 || period_us > 1000000 || pulse_us < 0 || pulse_us > period_us) {
		return E_INVAL;
	}
	if (channel != 0) {
		return E_NODEV;
	}
	if (pwm_set_dt(&pwm0, PWM_USEC(period_us), PWM_USEC(pulse_us)) != 0) {
		return E_IO;
	}
	snprintf(pwm_state, sizeof(pwm_state), "0:%ld:%ld", (long)period_us, (long)pulse_us);
	return 0;
}
#endif

static int32_t n_timer_start(wasm_exec_env_t env, int32_t period_ms)
{
	ARG_UNUSED(env);
	if (period_ms < 1 || period_ms > 86400000) {
		return E_INVAL;
	}
	timer_period = period_ms;
	timer_next = k_uptime_get() + period_ms;
	return 0;
}

static int32_t n_timer_wait(wasm_exec_env_t env)
{
	int64_t now = k_uptime_get();
	int32_t missed = 0;
	int64_t tick;

	ARG_UNUSED(env);
	if (timer_period == 0) {
		return E_INVAL;
	}
	while (timer_next <= now - timer_period) {
		timer_next += timer_period;
		missed++;
	}
	tick = timer_next;
	timer_next += timer_period;
	return job_sleep_ms(tick - now) ? E_STOPPED : missed;
}

static int32_t n_publish(wasm_exec_env_t env, int32_t topic_addr, int32_t data, int32_t len)
{
	char topic[WM_TOPIC_MAX + 1];
	char line[WM_LINE_MAX];
	int32_t code = app_name(env, topic_addr, WM_TOPIC_MAX, true, topic);
	void *bytes = code < 0 ? NULL : app_span(env, data, len, WM_EVENT_DATA_MAX, &code);
	size_t n;

	if (bytes == NULL) {
		return code;
	}
	if (!wm_event_bucket_take(&bucket, k_uptime_get_32()) || !wasmorch_agent.peer_negotiated) {
		/* Over the job's rate, or a seed-baseline gateway that would not expect EVENT lines. */
		atomic_inc(&events_dropped);
		return E_RATE;
	}
	n = wm_format_event(line, current_job.module->id, current_job.id, k_uptime_get_32(), topic, bytes, (size_t)len);
	link_send(line, n);
	return 0;
}

/* The entry of (module, key), or NULL. Call under kv_lock. */
static struct kv_entry *kv_find(const char *module, const char *key)
{
	for (size_t i = 0; i < ARRAY_SIZE(kv); i++) {
		if (kv[i].used && strcmp(kv[i].module, module) == 0 && strcmp(kv[i].key, key) == 0) {
			return &kv[i];
		}
	}
	return NULL;
}

static int32_t n_kv_get(wasm_exec_env_t env, int32_t key_addr, int32_t buf, int32_t cap)
{
	char key[WM_KV_KEY_MAX + 1];
	int32_t code = app_name(env, key_addr, WM_KV_KEY_MAX, false, key);
	uint8_t *out = code < 0 ? NULL : app_span(env, buf, cap, INT32_MAX, &code);
	struct kv_entry *e;

	if (out == NULL) {
		return code;
	}
	k_mutex_lock(&kv_lock, K_FOREVER);
	e = kv_find(current_job.module->id, key);
	code = e == NULL ? E_NOENT : e->len;
	if (e != NULL) {
		memcpy(out, e->value, MIN((size_t)cap, e->len));
	}
	k_mutex_unlock(&kv_lock);
	return code;
}

static int32_t n_kv_set(wasm_exec_env_t env, int32_t key_addr, int32_t data, int32_t len)
{
	char key[WM_KV_KEY_MAX + 1];
	int32_t code = app_name(env, key_addr, WM_KV_KEY_MAX, false, key);
	uint8_t *in = code < 0 ? NULL : app_span(env, data, len, KV_VALUE_MAX, &code);
	const char *module = current_job.module->id;
	struct kv_entry *e;
	int held = 0;

	if (in == NULL) {
		return code;
	}
	k_mutex_lock(&kv_lock, K_FOREVER);
	e = kv_find(module, key);
	for (size_t i = 0; e == NULL && i < ARRAY_SIZE(kv); i++) {
		held += kv[i].used && strcmp(kv[i].module, module) == 0;
	}
	for (size_t i = 0; e == NULL && held < KV_PER_MODULE && i < ARRAY_SIZE(kv); i++) {
		if (!kv[i].used) {
			e = &kv[i];
			e->used = true;
			strcpy(e->module, module);
			strcpy(e->key, key);
		}
	}
	if (e != NULL) {
		memcpy(e->value, in, (size_t)len);
		e->len = (uint8_t)len;
	}
	k_mutex_unlock(&kv_lock);
	return e != NULL ? 0 : E_NOSPC;
}

static int32_t n_kv_delete(wasm_exec_env_t env, int32_t key_addr)
{
	char key[WM_KV_KEY_MAX + 1];
	int32_t code = app_name(env, key_addr, WM_KV_KEY_MAX, false, key);
	struct kv_entry *e;

	if (code < 0) {
		return code;
	}
	k_mutex_lock(&kv_lock, K_FOREVER);
	e = kv_find(current_job.module->id, key);
	if (e != NULL) {
		e->used = false;
	}
	k_mutex_unlock(&kv_lock);
	return e != NULL ? 0 : E_NOENT;
}

void caps_module_unloaded(const char *id)
{
	k_mutex_lock(&kv_lock, K_FOREVER);
	for (size_t i = 0; i < ARRAY_SIZE(kv); i++) {
		if (kv[i].used && strcmp(kv[i].module, id) == 0) {
			kv[i].used = false;
		}
	}
	k_mutex_unlock(&kv_lock);
}

/* Every capability native with the capability it belongs to; caps_register keeps the offered ones. */
static const struct {
	const char *cap;
	NativeSymbol symbol;
} all_natives[] = {
#if HAVE_BUTTON
	{ "gpio", { "gpio_wait_edge", (void *)n_gpio_wait_edge, "(iii)i", NULL } },
#endif
#if HAVE_ADC
	{ "adc", { "adc_read", (void *)n_adc_read, "(i)i", NULL } },
#endif
#if HAVE_I2C0
	{ "i2c0", { "i2c0_write", (void *)n_i2c0_write, "(iii)i", NULL } },
	{ "i2c0", { "i2c0_read", (void *)n_i2c0_read, "(iii)i", NULL } },
	{ "i2c0", { "i2c0_write_read", (void *)n_i2c0_write_read, "(iiiii)i", NULL } },
#endif
#if HAVE_PWM
	{ "pwm", { "pwm_set", (void *)n_pwm_set, "(iii)i", NULL } },
#endif
	{ "timer", { "timer_start", (void *)n_timer_start, "(i)i", NULL } },
	{ "timer", { "timer_wait", (void *)n_timer_wait, "()i", NULL } },
	{ "events", { "publish", (void *)n_publish, "(iii)i", NULL } },
	{ "kv", { "kv_get", (void *)n_kv_get, "(iii)i", NULL } },
	{ "kv", { "kv_set", (void *)n_kv_set, "(iii)i", NULL } },
	{ "kv", { "kv_delete", (void *)n_kv_delete, "(i)i", NULL } },
};

/* WAMR keeps the array registered: only offered natives go in, so LOAD refuses the others' imports. */
static NativeSymbol natives[ARRAY_SIZE(all_natives)];

/* True if `cap` is in the comma-separated `list`. */
static bool listed(const char *list, const char *cap)
{
	size_t n = strlen(cap);

	for (const char *p = strstr(list, cap); p != NULL; p = strstr(p + 1, cap)) {
		if ((p == list || p[-1] == ',') && (p[n] == ',' || p[n] == '\0')) {
			return true;
		}
	}
	return false;
}

/* After caps_init: registers the natives of the capabilities that came up. */
bool caps_register(void)
{
	uint32_t count = 0;

	for (size_t i = 0; i < ARRAY_SIZE(all_natives); i++) {
		if (listed(offered, all_natives[i].cap)) {
			natives[count++] = all_natives[i].symbol;
		}
	}
	return wasm_runtime_register_natives("env", natives, count);
}

#if HAVE_BUTTON
static void button_changed(const struct device *dev, struct gpio_callback *cb, uint32_t pins)
{
	ARG_UNUSED(dev);
	ARG_UNUSED(cb);
	ARG_UNUSED(pins);
	gpio_input_changed(BUTTON_PIN, gpio_pin_get_dt(&button) > 0);
}
#endif

/* Brings up what the devicetree has; a part that fails is neither offered nor registered. */
int caps_init(void)
{
	bool button_ok = false, adc_ok = false, i2c_ok = false, pwm_ok = false;

#if HAVE_BUTTON
	button_ok = gpio_is_ready_dt(&button) && gpio_pin_configure_dt(&button, GPIO_INPUT) == 0 &&
		    gpio_pin_interrupt_configure_dt(&button, GPIO_INT_EDGE_BOTH) == 0;
	if (button_ok) {
		gpio_init_callback(&button_cb, button_changed, BIT(button.pin));
		button_ok = gpio_add_callback(button.port, &button_cb) == 0;
		gpio_input_changed(BUTTON_PIN, gpio_pin_get_dt(&button) > 0);
	}
#endif
#if HAVE_ADC
	k_poll_signal_init(&adc_done);
	wm_hw_init(&adc_hw, adc_begin, adc_wait, NULL, CONFIG_WASMORCH_ADC_DEADLINE_MS);
	/* Offered only when a conversion at boot answered within its deadline. */
	adc_ok = adc_is_ready_dt(&adc0) && adc_channel_setup_dt(&adc0) == 0 && wm_hw_probe(&adc_hw);
#endif
#if HAVE_I2C0
	i2c_ok = device_is_ready(i2c0);
#endif
#if HAVE_PWM
	pwm_ok = pwm_is_ready_dt(&pwm0);
#endif
	snprintf(offered, sizeof(offered), "%s%s%s%stimer,events,kv", button_ok ? "gpio," : "", adc_ok ? "adc," : "",
		 i2c_ok ? "i2c0," : "", pwm_ok ? "pwm," : "");
	return 0;
}
