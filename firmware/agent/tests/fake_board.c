#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake_board.h"

void fake_board_init(struct fake_board *b)
{
	memset(b, 0, sizeof(*b));
	b->max_module = 4096;
}

void fake_board_free(struct fake_board *b)
{
	for (int i = 0; i < FAKE_MAX_MODULES; i++) {
		free(b->modules[i].bytes);
		b->modules[i].bytes = NULL;
	}
}

int fake_board_next_line(struct fake_board *b, char *buf, size_t cap)
{
	char *nl = memchr(b->out, '\n', b->out_len);
	size_t len;

	if (nl == NULL) {
		return 0;
	}
	len = (size_t)(nl - b->out);
	if (len >= cap) {
		len = cap - 1;
	}
	memcpy(buf, b->out, len);
	buf[len] = '\0';
	len = (size_t)(nl - b->out) + 1;
	memmove(b->out, b->out + len, b->out_len - len);
	b->out_len -= len;
	return 1;
}

static struct fake_module *find(struct fake_board *b, const char *id)
{
	for (int i = 0; i < FAKE_MAX_MODULES; i++) {
		if (b->modules[i].bytes != NULL && strcmp(b->modules[i].id, id) == 0) {
			return &b->modules[i];
		}
	}
	return NULL;
}

static void send(void *ctx, const char *data, size_t len)
{
	struct fake_board *b = ctx;

	if (b->on_send != NULL) {
		b->on_send(data, len);
		return;
	}
	if (b->out_len + len <= FAKE_OUT_MAX) {
		memcpy(b->out + b->out_len, data, len);
		b->out_len += len;
	}
}

static uint32_t uptime(void *ctx) { return ((struct fake_board *)ctx)->now_ms; }

/* A microsecond clock that moves by 7 µs per reading: verify_us is never zero, like a real board's. */
static uint32_t uptime_us(void *ctx)
{
	struct fake_board *b = ctx;

	b->us_ticks += 7;
	return b->now_ms * 1000u + b->us_ticks;
}

static void hello(void *ctx, struct wm_hello *h)
{
	struct fake_board *b = ctx;

	h->agent = "fake/1";
	h->board = "host";
	h->runtime = "none";
	h->modes = "wasm";
	h->caps = "gpio,adc,i2c0,pwm,timer,events,kv";
	h->max_module = b->max_module;
	h->max_modules = FAKE_MAX_MODULES;
}

static void status(void *ctx, struct wm_status *st)
{
	struct fake_board *b = ctx;

	st->running = b->running;
	st->job = b->job;
	strcpy(st->module, b->running_id);
	strcpy(st->func, "f");
	for (int i = 0; i < FAKE_MAX_MODULES; i++) {
		if (b->modules[i].bytes != NULL) {
			if (st->modules[0]) {
				strcat(st->modules, ",");
			}
			strcat(st->modules, b->modules[i].id);
			snprintf(st->module_crcs + strlen(st->module_crcs), sizeof(st->module_crcs) - strlen(st->module_crcs),
				 "%s%s:%08lx", st->module_crcs[0] ? "," : "", b->modules[i].id, (unsigned long)b->modules[i].crc);
		}
	}
}

static enum wm_code load_check(void *ctx, const char *id, uint32_t size, char *msg, size_t cap)
{
	struct fake_board *b = ctx;

	if (size > b->max_module) {
		snprintf(msg, cap, "too large");
		return WM_TOO_LARGE;
	}
	if (b->running && strcmp(b->running_id, id) == 0) {
		return WM_BUSY;
	}
	return WM_OK;
}

static uint8_t *load_buffer(void *ctx, uint32_t size)
{
	struct fake_board *b = ctx;

	b->buffers_out++;
	return malloc(size);
}

static void load_abort(void *ctx, uint8_t *buf)
{
	struct fake_board *b = ctx;

	b->buffers_out--;
	free(buf);
}

/* A "valid module" here is anything starting with the wasm magic. */
static enum wm_code load_commit(void *ctx, const char *id, uint8_t *buf, uint32_t size, uint32_t crc, char *msg, size_t cap)
{
	struct fake_board *b = ctx;
	struct fake_module *slot = find(b, id);

	b->buffers_out--;
	if (size < 4 || memcmp(buf, "\0asm", 4) != 0) {
		snprintf(msg, cap, "not a wasm module");
		free(buf);
		return WM_INVALID_MODULE;
	}
	for (int i = 0; slot == NULL && i < FAKE_MAX_MODULES; i++) {
		if (b->modules[i].bytes == NULL) {
			slot = &b->modules[i];
		}
	}
	if (slot == NULL) {
		free(buf);
		return WM_NO_MEMORY;
	}
	free(slot->bytes);
	strcpy(slot->id, id);
	slot->bytes = buf;
	slot->size = size;
	slot->crc = crc;
	return WM_OK;
}

static enum wm_code start_prepare(void *ctx, const char *id, const char *func, const struct wm_args *args,
				  uint32_t *job, char *msg, size_t cap)
{
	struct fake_board *b = ctx;

	(void)args;
	if (find(b, id) == NULL) {
		return WM_NO_MODULE;
	}
	if (strcmp(func, "f") != 0) {
		snprintf(msg, cap, "exports only f");
		return WM_NO_FUNC;
	}
	if (b->running) {
		return WM_BUSY;
	}
	b->running = true;
	strcpy(b->running_id, id);
	*job = ++b->job;
	return WM_OK;
}

static void start_go(void *ctx) { ((struct fake_board *)ctx)->started = true; }

static enum wm_code stop(void *ctx, const char *id, bool *pending, uint32_t *job)
{
	struct fake_board *b = ctx;

	if (find(b, id) == NULL) {
		return WM_NO_MODULE;
	}
	*pending = b->running && strcmp(b->running_id, id) == 0;
	*job = b->job;
	b->stop_requested = *pending;
	return WM_OK;
}

static enum wm_code unload(void *ctx, const char *id)
{
	struct fake_board *b = ctx;
	struct fake_module *m = find(b, id);

	if (m == NULL) {
		return WM_NO_MODULE;
	}
	if (b->running && strcmp(b->running_id, id) == 0) {
		return WM_BUSY;
	}
	free(m->bytes);
	m->bytes = NULL;
	return WM_OK;
}

/* Predictable "random" bytes (0, 1, 2, ...): the transcript vectors know the AUTH nonce in advance. */
static void fake_random(void *ctx, uint8_t *buf, size_t len)
{
	(void)ctx;
	for (size_t i = 0; i < len; i++) {
		buf[i] = (uint8_t)i;
	}
}

const struct wm_board_ops fake_board_ops = {
	.send = send,
	.uptime_ms = uptime,
	.uptime_us = uptime_us,
	.hello = hello,
	.status = status,
	.load_check = load_check,
	.load_buffer = load_buffer,
	.load_commit = load_commit,
	.load_abort = load_abort,
	.start_prepare = start_prepare,
	.start_go = start_go,
	.stop = stop,
	.unload = unload,
	.random = fake_random,
};
