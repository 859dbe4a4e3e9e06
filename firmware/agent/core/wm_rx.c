/* The receive path: a ring for command lines, direct landing for payloads, back-pressure, counted loss (rx.h). */
#include <string.h>

#include "wasmorch/rx.h"

/* The key stays with the caller (on its stack): nothing of the lock is shared between the two sides. */
static unsigned lock(struct wm_rx *rx) { return rx->ops.lock != NULL ? rx->ops.lock(rx->ops.ctx) : 0u; }

static void unlock(struct wm_rx *rx, unsigned key)
{
	if (rx->ops.unlock != NULL) {
		rx->ops.unlock(rx->ops.ctx, key);
	}
}

void wm_rx_init(struct wm_rx *rx, uint8_t *ring, size_t cap, const struct wm_rx_ops *ops)
{
	memset(rx, 0, sizeof(*rx));
	rx->ring = ring;
	rx->cap = cap;
	if (ops != NULL) {
		rx->ops = *ops;
	}
}

static bool flow_control(const struct wm_rx *rx) { return rx->ops.pause != NULL && rx->ops.resume != NULL; }

/* Under the lock: what put would keep now. */
static size_t room_locked(const struct wm_rx *rx)
{
	if (rx->direct != NULL && rx->direct_fill < rx->direct_len) {
		return rx->direct_len - rx->direct_fill;
	}
	return rx->gap ? 0 : rx->cap - rx->count;
}

size_t wm_rx_room(struct wm_rx *rx)
{
	unsigned key = lock(rx);
	size_t room = room_locked(rx);

	if (room == 0 && flow_control(rx) && !rx->paused) {
		rx->paused = true;
		rx->pauses++;
		rx->ops.pause(rx->ops.ctx);
	}
	unlock(rx, key);
	return room;
}

static size_t ring_put(struct wm_rx *rx, const uint8_t *data, size_t len)
{
	size_t room = rx->cap - rx->count;
	size_t n = len < room ? len : room;
	size_t end = (rx->start + rx->count) % rx->cap;

	for (size_t i = 0; i < n; i++) {
		rx->ring[end] = data[i];
		end = end + 1 == rx->cap ? 0 : end + 1;
	}
	rx->count += n;
	return n;
}

/* Under the lock: `len` bytes lost after everything kept; `last` is the last of them (-1: unknown). */
static void lose_locked(struct wm_rx *rx, size_t len, int last)
{
	if (!rx->gap) {
		rx->gap = true;
		rx->overruns++;
	}
	rx->gap_bytes += len;
	rx->gap_ends_line = last == '\n';
	rx->dropped += (uint32_t)len;
}

size_t wm_rx_put(struct wm_rx *rx, const uint8_t *data, size_t len)
{
	size_t kept = 0;
	unsigned key = lock(rx);

	if (rx->direct != NULL && rx->direct_fill < rx->direct_len) {
		size_t n = rx->direct_len - rx->direct_fill;

		if (n > len) {
			n = len;
		}
		memcpy(rx->direct + rx->direct_fill, data, n);
		rx->direct_fill += n;
		kept = n;
	}
	if (kept < len && !rx->gap) {
		kept += ring_put(rx, data + kept, len - kept);
	}
	if (kept < len) {
		lose_locked(rx, len - kept, data[len - 1]);
	}
	unlock(rx, key);
	return kept;
}

void wm_rx_lost(struct wm_rx *rx, size_t len)
{
	unsigned key;

	if (len == 0) {
		return;
	}
	key = lock(rx);
	lose_locked(rx, len, -1);
	unlock(rx, key);
}

size_t wm_rx_produce(struct wm_rx *rx, size_t (*read)(void *ctx, uint8_t *buf, size_t cap), void *ctx)
{
	uint8_t buf[32];
	size_t total = 0;

	for (;;) {
		size_t room = wm_rx_room(rx);
		size_t n;

		if (room == 0) {
			if (flow_control(rx)) {
				/* Paused: the bytes stay in the link until the consumer resumes us. */
				break;
			}
			/* No back-pressure: read on and count what the path cannot keep. */
			room = sizeof(buf);
		}
		n = read(ctx, buf, room < sizeof(buf) ? room : sizeof(buf));
		if (n == 0) {
			break;
		}
		total += wm_rx_put(rx, buf, n);
	}
	return total;
}

/* Consumer, outside the lock: a paused producer goes on once the path has room. */
static void resume_if_room(struct wm_rx *rx)
{
	bool resume = false;
	unsigned key = lock(rx);

	if (rx->paused && room_locked(rx) > 0) {
		rx->paused = false;
		resume = true;
	}
	unlock(rx, key);
	if (resume) {
		rx->ops.resume(rx->ops.ctx);
	}
}

size_t wm_rx_take(struct wm_rx *rx, uint8_t *out, size_t cap, struct wm_rx_loss *loss)
{
	size_t n;
	unsigned key = lock(rx);

	n = rx->count < cap ? rx->count : cap;
	for (size_t i = 0; i < n; i++) {
		out[i] = rx->ring[(rx->start + i) % rx->cap];
	}
	rx->start = (rx->start + n) % rx->cap;
	rx->count -= n;
	loss->bytes = 0;
	loss->ends_line = false;
	if (rx->count == 0 && rx->gap) {
		loss->bytes = rx->gap_bytes;
		loss->ends_line = rx->gap_ends_line;
		rx->gap = false;
		rx->gap_bytes = 0;
		rx->gap_ends_line = false;
	}
	unlock(rx, key);
	resume_if_room(rx);
	return n;
}

size_t wm_rx_arm(struct wm_rx *rx, uint8_t *buf, size_t len, size_t already)
{
	size_t from;
	unsigned key = lock(rx);

	from = already + rx->count;
	if (rx->gap || from >= len) {
		from = len;
	} else {
		rx->direct = buf;
		rx->direct_len = len;
		rx->direct_fill = from;
	}
	unlock(rx, key);
	resume_if_room(rx);
	return from;
}

size_t wm_rx_filled(struct wm_rx *rx)
{
	size_t fill;
	unsigned key = lock(rx);

	fill = rx->direct != NULL ? rx->direct_fill : 0;
	unlock(rx, key);
	return fill;
}

void wm_rx_disarm(struct wm_rx *rx)
{
	unsigned key = lock(rx);

	rx->direct = NULL;
	rx->direct_len = 0;
	rx->direct_fill = 0;
	unlock(rx, key);
	resume_if_room(rx);
}

uint32_t wm_rx_overruns(struct wm_rx *rx)
{
	uint32_t n;
	unsigned key = lock(rx);

	n = rx->overruns;
	unlock(rx, key);
	return n;
}

void wm_rx_clear(struct wm_rx *rx)
{
	unsigned key = lock(rx);

	rx->start = 0;
	rx->count = 0;
	rx->gap = false;
	rx->gap_bytes = 0;
	rx->gap_ends_line = false;
	unlock(rx, key);
	resume_if_room(rx);
}
