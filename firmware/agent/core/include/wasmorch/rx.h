/*
 * The receive path between the UART interrupt (producer) and the COMM thread (consumer),
 * docs/protocol.md §3, "Lost bytes". Two guarantees:
 *   - lossless payloads: while a LOAD payload is expected, the producer writes its bytes
 *     straight into the module buffer, so a payload of any accepted size arrives intact however
 *     fast its bytes come (the ring only ever holds command lines);
 *   - loud loss: when the ring is full, the bytes that do not fit are dropped, counted, and the
 *     consumer learns where (after every byte received before them), so the agent can answer
 *     ERR code=RX_OVERRUN instead of running a mangled command.
 * After a loss the producer keeps nothing more until the consumer has taken what the ring held:
 * one overrun is one gap, reported once.
 * Portable C11; every call takes the caller's lock (interrupts off on a single-core MCU, a mutex
 * in the host tests), so the producer may run in an interrupt.
 */
#ifndef WASMORCH_RX_H
#define WASMORCH_RX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct wm_rx_lock {
	void (*lock)(void *ctx);
	void (*unlock)(void *ctx);
	void *ctx;
};

struct wm_rx {
	uint8_t *ring;
	size_t cap;
	size_t start;
	size_t count;
	/* The payload target, armed by the consumer: bytes land at direct[direct_fill++]. */
	uint8_t *direct;
	size_t direct_len;
	size_t direct_fill;
	/* Bytes dropped after the ring's content, not yet reported to the consumer. */
	bool gap;
	size_t gap_bytes;
	/* Since boot: overruns (gaps) and bytes dropped. */
	uint32_t overruns;
	uint32_t dropped;
	struct wm_rx_lock lock;
};

void wm_rx_init(struct wm_rx *rx, uint8_t *ring, size_t cap, const struct wm_rx_lock *lock);

/* Producer: takes received bytes; returns how many were kept (the rest are counted as lost). */
size_t wm_rx_put(struct wm_rx *rx, const uint8_t *data, size_t len);

/*
 * Consumer: moves up to cap ring bytes to out and returns their number. When a gap follows the
 * last byte handed out, *lost is set to its size (else 0) and the gap is cleared.
 */
size_t wm_rx_take(struct wm_rx *rx, uint8_t *out, size_t cap, size_t *lost);

/*
 * Consumer: the next payload bytes belong in buf[0..len). `already` of them have been taken from
 * the ring but not yet consumed; those and the ones the ring holds reach buf through the
 * consumer, the rest through the producer. Returns the offset from which the producer fills buf
 * (len when the ring already holds the whole payload, or when a gap is pending: then the payload
 * is already broken and the consumer will learn it from wm_rx_take).
 */
size_t wm_rx_arm(struct wm_rx *rx, uint8_t *buf, size_t len, size_t already);

/* Consumer: how far the producer has filled the armed buffer (0 when none is armed). */
size_t wm_rx_filled(struct wm_rx *rx);

/* Consumer: forget the armed buffer (the LOAD ended); the producer uses the ring again. */
void wm_rx_disarm(struct wm_rx *rx);

/* Consumer: the overruns since boot, for STATUS. */
uint32_t wm_rx_overruns(struct wm_rx *rx);

#ifdef __cplusplus
}
#endif

#endif /* WASMORCH_RX_H */
