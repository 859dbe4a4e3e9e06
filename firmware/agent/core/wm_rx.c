/* The receive path: a ring for command lines, direct landing for payloads, counted loss (rx.h). */
#include <string.h>

#include "wasmorch/rx.h"

static void lock(struct wm_rx *rx)
{
	if (rx->lock.lock != NULL) {
		rx->lock.lock(rx->lock.ctx);
	}
}

static void unlock(struct wm_rx *rx)
{
	if (rx->lock.unlock != NULL) {
		rx->lock.unlock(rx->lock.ctx);
	}
}

void wm_rx_init(struct wm_rx *rx, uint8_t *ring, size_t cap, const struct wm_rx_lock *lock_ops)
{
	memset(rx, 0, sizeof(*rx));
	rx->ring = ring;
	rx->cap = cap;
	if (lock_ops != NULL) {
		rx->lock = *lock_ops;
	}
}

static size_t ring_put(struct wm_rx *rx, const uint8_t *data, size_t len)
{
	size_t room = rx->cap - rx->count;
	size_t n = len < room ? len : room;

	for (size_t i = 0; i < n; i++) {
		rx->ring[(rx->start + rx->count + i) % rx->cap] = data[i];
	}
	rx->count += n;
	return n;
}

size_t wm_rx_put(struct wm_rx *rx, const uint8_t *data, size_t len)
{
	size_t kept = 0;

	lock(rx);
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
		if (!rx->gap) {
			rx->gap = true;
			rx->overruns++;
		}
		rx->gap_bytes += len - kept;
		rx->dropped += (uint32_t)(len - kept);
	}
	unlock(rx);
	return kept;
}

size_t wm_rx_take(struct wm_rx *rx, uint8_t *out, size_t cap, size_t *lost)
{
	size_t n;

	lock(rx);
	n = rx->count < cap ? rx->count : cap;
	for (size_t i = 0; i < n; i++) {
		out[i] = rx->ring[(rx->start + i) % rx->cap];
	}
	rx->start = (rx->start + n) % rx->cap;
	rx->count -= n;
	*lost = 0;
	if (rx->count == 0 && rx->gap) {
		*lost = rx->gap_bytes;
		rx->gap = false;
		rx->gap_bytes = 0;
	}
	unlock(rx);
	return n;
}

size_t wm_rx_arm(struct wm_rx *rx, uint8_t *buf, size_t len, size_t already)
{
	size_t from;

	lock(rx);
	from = already + rx->count;
	if (rx->gap || from >= len) {
		from = len;
	} else {
		rx->direct = buf;
		rx->direct_len = len;
		rx->direct_fill = from;
	}
	unlock(rx);
	return from;
}

size_t wm_rx_filled(struct wm_rx *rx)
{
	size_t fill;

	lock(rx);
	fill = rx->direct != NULL ? rx->direct_fill : 0;
	unlock(rx);
	return fill;
}

void wm_rx_disarm(struct wm_rx *rx)
{
	lock(rx);
	rx->direct = NULL;
	rx->direct_len = 0;
	rx->direct_fill = 0;
	unlock(rx);
}

uint32_t wm_rx_overruns(struct wm_rx *rx)
{
	uint32_t n;

	lock(rx);
	n = rx->overruns;
	unlock(rx);
	return n;
}
