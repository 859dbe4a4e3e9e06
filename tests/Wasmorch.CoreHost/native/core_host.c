/*
 * The firmware's portable C core (firmware/agent/core) as a shared library for the host: the COMM
 * state machine as it runs on the boards, with its board operations handed to a host program
 * (tests/Wasmorch.CoreHost) through flat callbacks. The conformance suite then checks the core
 * over a real socket, where no board and no Zephyr build exist (CI).
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "wasmorch/agent.h"

#define EXPORT __attribute__((visibility("default")))

/* Strings are NUL-terminated; `msg` buffers are `cap` bytes; codes are enum wm_code values. */
struct wmh_callbacks {
	void (*send)(const char *data, size_t len);
	uint32_t (*uptime_ms)(void);
	uint32_t (*uptime_us)(void);
	/* agent, board, runtime, modes, aot_target, caps (NULL for none); the strings must outlive the agent. */
	void (*hello)(const char **strings, uint32_t *max_module, uint32_t *max_modules);
	/* numbers: running, job, gpio, gpio_writes, log_dropped, events_dropped. */
	void (*status)(uint32_t *numbers, char *module, char *func, char *modules, size_t modules_cap, char *crcs,
		       size_t crcs_cap, char *pwm, size_t pwm_cap);
	int (*load_check)(const char *id, uint32_t size, char *msg, size_t cap);
	int (*load_commit)(const char *id, const uint8_t *buf, uint32_t size, uint32_t crc, char *msg, size_t cap);
	/* args: the positional values, comma-separated. */
	int (*start_prepare)(const char *id, const char *func, const char *args, uint32_t *job, char *msg, size_t cap);
	void (*start_go)(void);
	int (*stop)(const char *id, int *pending, uint32_t *job);
	int (*unload)(const char *id);
	void (*random)(uint8_t *buf, size_t len);
};

static struct wmh_callbacks cb;
static struct wm_agent agent;

static void op_send(void *ctx, const char *data, size_t len)
{
	(void)ctx;
	cb.send(data, len);
}

static uint32_t op_uptime_ms(void *ctx)
{
	(void)ctx;
	return cb.uptime_ms();
}

static uint32_t op_uptime_us(void *ctx)
{
	(void)ctx;
	return cb.uptime_us();
}

static void op_hello(void *ctx, struct wm_hello *h)
{
	const char *s[6] = { 0 };

	(void)ctx;
	cb.hello(s, &h->max_module, &h->max_modules);
	h->agent = s[0];
	h->board = s[1];
	h->runtime = s[2];
	h->modes = s[3];
	h->aot_target = s[4];
	h->caps = s[5];
}

static void op_status(void *ctx, struct wm_status *st)
{
	uint32_t n[6] = { 0 };

	(void)ctx;
	cb.status(n, st->module, st->func, st->modules, sizeof(st->modules), st->module_crcs, sizeof(st->module_crcs), st->pwm,
		  sizeof(st->pwm));
	st->running = n[0] != 0;
	st->job = n[1];
	st->gpio = n[2];
	st->gpio_writes = n[3];
	st->log_dropped = n[4];
	st->events_dropped = n[5];
}

static enum wm_code op_load_check(void *ctx, const char *id, uint32_t size, char *msg, size_t cap)
{
	(void)ctx;
	return (enum wm_code)cb.load_check(id, size, msg, cap);
}

static uint8_t *op_load_buffer(void *ctx, uint32_t size)
{
	(void)ctx;
	return malloc(size);
}

static void op_load_abort(void *ctx, uint8_t *buf)
{
	(void)ctx;
	free(buf);
}

static enum wm_code op_load_commit(void *ctx, const char *id, uint8_t *buf, uint32_t size, uint32_t crc, char *msg,
				   size_t cap)
{
	enum wm_code code;

	(void)ctx;
	code = (enum wm_code)cb.load_commit(id, buf, size, crc, msg, cap);
	free(buf);
	return code;
}

static enum wm_code op_start_prepare(void *ctx, const char *id, const char *func, const struct wm_args *args,
				     uint32_t *job, char *msg, size_t cap)
{
	char csv[WM_MAX_ARGS * sizeof(args->text[0])];
	size_t len = 0;

	(void)ctx;
	csv[0] = '\0';
	for (int i = 0; i < args->count; i++) {
		size_t n = strlen(args->text[i]);

		if (i > 0) {
			csv[len++] = ',';
		}
		memcpy(csv + len, args->text[i], n);
		len += n;
		csv[len] = '\0';
	}
	return (enum wm_code)cb.start_prepare(id, func, csv, job, msg, cap);
}

static void op_start_go(void *ctx)
{
	(void)ctx;
	cb.start_go();
}

static enum wm_code op_stop(void *ctx, const char *id, bool *pending, uint32_t *job)
{
	int p = 0;
	enum wm_code code;

	(void)ctx;
	code = (enum wm_code)cb.stop(id, &p, job);
	*pending = p != 0;
	return code;
}

static enum wm_code op_unload(void *ctx, const char *id)
{
	(void)ctx;
	return (enum wm_code)cb.unload(id);
}

static void op_random(void *ctx, uint8_t *buf, size_t len)
{
	(void)ctx;
	cb.random(buf, len);
}

static const struct wm_board_ops ops = {
	.send = op_send,
	.uptime_ms = op_uptime_ms,
	.uptime_us = op_uptime_us,
	.hello = op_hello,
	.status = op_status,
	.load_check = op_load_check,
	.load_buffer = op_load_buffer,
	.load_commit = op_load_commit,
	.load_abort = op_load_abort,
	.start_prepare = op_start_prepare,
	.start_go = op_start_go,
	.stop = op_stop,
	.unload = op_unload,
	.random = op_random,
};

/* link_key: NULL for an open agent; else link_key_len bytes that must outlive the agent. */
EXPORT void wmh_init(const struct wmh_callbacks *callbacks, uint32_t load_timeout_ms, int extensions, const uint8_t *link_key,
		     size_t link_key_len)
{
	struct wm_agent_config config = { .load_timeout_ms = load_timeout_ms,
					  .extensions = extensions != 0,
					  .link_key = link_key,
					  .link_key_len = link_key_len,
					  /* The firmware's default: its 1 KiB receive ring less 64 bytes. */
					  .xload_window = extensions != 0 ? 960u : 0u };

	cb = *callbacks;
	wm_agent_init(&agent, &ops, NULL, &config);
}

EXPORT void wmh_boot(void) { wm_agent_boot(&agent); }

EXPORT void wmh_feed(const uint8_t *data, size_t len, uint32_t now_ms) { wm_agent_feed(&agent, data, len, now_ms); }

EXPORT void wmh_poll(uint32_t now_ms) { wm_agent_poll(&agent, now_ms); }

/*
 * The receive path of the boards (core/wm_rx.c) in front of the core, when the host asks for it:
 * the socket reader is the producer (the UART interrupt), wmh_service the COMM loop.
 */
static struct wm_rx rx;
static int rx_on;
static pthread_mutex_t rx_mutex = PTHREAD_MUTEX_INITIALIZER;

static unsigned rx_lock(void *ctx)
{
	(void)ctx;
	pthread_mutex_lock(&rx_mutex);
	return 0;
}

static void rx_unlock(void *ctx, unsigned key)
{
	(void)ctx;
	(void)key;
	pthread_mutex_unlock(&rx_mutex);
}

EXPORT void wmh_rx_init(size_t ring_size)
{
	/* No back-pressure: bytes the ring cannot take are lost and answered RX_OVERRUN (what the suite checks). */
	static const struct wm_rx_ops rx_ops = { .lock = rx_lock, .unlock = rx_unlock };

	wm_rx_init(&rx, malloc(ring_size), ring_size, &rx_ops);
	wm_agent_attach_rx(&agent, &rx);
	rx_on = 1;
}

EXPORT size_t wmh_rx_put(const uint8_t *data, size_t len) { return wm_rx_put(&rx, data, len); }

EXPORT void wmh_service(uint32_t now_ms) { wm_agent_service(&agent, now_ms); }

EXPORT void wmh_reset_link(void)
{
	wm_agent_reset_link(&agent);
	if (rx_on) {
		/* A new TCP peer is a new link here (a UART would keep the bytes): start it empty. */
		wm_rx_clear(&rx);
	}
}

EXPORT int wmh_peer_negotiated(void) { return agent.peer_negotiated; }

/* value and type NULL for none, msg NULL for none; buf has WM_LINE_MAX bytes. */
EXPORT size_t wmh_format_result(char *buf, const char *id, const char *func, uint32_t job, const char *status,
				const char *value, const char *type, const char *msg, uint32_t elapsed_us)
{
	return wm_format_result(buf, id, func, job, status, value, type, msg, elapsed_us);
}

EXPORT size_t wmh_format_log(char *buf, const char *id, uint32_t job, uint32_t uptime_ms, const char *msg)
{
	return wm_format_log(buf, id, job, uptime_ms, msg);
}

EXPORT size_t wmh_format_event(char *buf, const char *id, uint32_t job, uint32_t uptime_ms, const char *topic,
			       const uint8_t *data, size_t len)
{
	return wm_format_event(buf, id, job, uptime_ms, topic, data, len);
}
