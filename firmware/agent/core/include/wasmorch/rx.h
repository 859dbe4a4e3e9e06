/*
 * The receive path between the UART interrupt (producer) and the COMM thread (consumer),
 * docs/protocol.md §3, "Lost bytes". Three guarantees:
 *   - lossless payloads: while a LOAD payload is expected, the producer writes its bytes
 *     straight into the module buffer, so a payload of any accepted size arrives intact however
 *     fast its bytes come (the ring only ever holds command lines);
 *   - loud loss: when the ring is full, the bytes that do not fit are dropped, counted, and the
 *     consumer learns where (after every byte received before them), so the agent can answer
 *     ERR code=RX_OVERRUN instead of running a mangled command.
 *   - back-pressure where the link has it: with pause/resume the producer stops taking bytes when
 *     the path is full instead of dropping them (QEMU's UART then holds the sender through its
 *     chardev, Renode's keeps them in its FIFO), so nothing is lost however long the burst.
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

/*
 * How producer and consumer share the path. lock/unlock: mutual exclusion (interrupts off on a
 * single-core MCU, a mutex in the host tests); the key lock returns is handed back to unlock by
 * the same caller, so no state of the lock is shared between the two sides. pause/resume
 * (optional, both or neither): back-pressure. pause is called by the producer, under the lock,
 * when the path has no room left: the producer then takes no byte from the link (the UART keeps
 * them, or its flow control stops the sender); resume is called by the consumer, outside the
 * lock, as soon as it has made room again. Without them, bytes beyond the ring are lost, counted
 * and reported (the gap below).
 */
struct wm_rx_ops {
	unsigned (*lock)(void *ctx);
	void (*unlock)(void *ctx, unsigned key);
	void (*pause)(void *ctx);
	void (*resume)(void *ctx);
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
	/* The gap's last byte was an LF (the line it broke ended in it): what follows starts a line. */
	bool gap_ends_line;
	/* The producer is paused (pause called, resume not yet). */
	bool paused;
	/* Since boot: overruns (gaps), bytes dropped, and times the producer was paused. */
	uint32_t overruns;
	uint32_t dropped;
	uint32_t pauses;
	struct wm_rx_ops ops;
};

/* A lost-bytes report of wm_rx_take. */
struct wm_rx_loss {
	size_t bytes;
	bool ends_line;
};

void wm_rx_init(struct wm_rx *rx, uint8_t *ring, size_t cap, const struct wm_rx_ops *ops);

/*
 * Producer: how many bytes the path can keep now (payload room first, else ring room); read at
 * most that many from the link. 0 with back-pressure configured pauses the producer (pause is
 * called); the consumer resumes it once there is room. Without back-pressure it never pauses.
 */
size_t wm_rx_room(struct wm_rx *rx);

/* Producer: takes received bytes; returns how many were kept (the rest are counted as lost). */
size_t wm_rx_put(struct wm_rx *rx, const uint8_t *data, size_t len);

/* Producer: the link itself lost bytes (a UART overrun: at least `len`, their content unknown). */
void wm_rx_lost(struct wm_rx *rx, size_t len);

/*
 * Producer, the whole interrupt handler: while the link has bytes and the path room, read them
 * (read returns how many it put in buf, at most cap; 0 when the link has none) and keep them;
 * pauses when the room runs out. Returns the bytes kept.
 */
size_t wm_rx_produce(struct wm_rx *rx, size_t (*read)(void *ctx, uint8_t *buf, size_t cap), void *ctx);

/*
 * Consumer: moves up to cap ring bytes to out and returns their number. When a gap follows the
 * last byte handed out, *loss says its size and whether it ended a line (else bytes 0), and the
 * gap is cleared. Resumes a paused producer once the ring has room.
 */
size_t wm_rx_take(struct wm_rx *rx, uint8_t *out, size_t cap, struct wm_rx_loss *loss);

/*
 * Consumer: the next payload bytes belong in buf[0..len). `already` of them have been taken from
 * the ring but not yet consumed; those and the ones the ring holds reach buf through the
 * consumer, the rest through the producer. Returns the offset from which the producer fills buf
 * (len when the ring already holds the whole payload, or when a gap is pending: then the payload
 * is already broken and the consumer will learn it from wm_rx_take). Resumes a paused producer.
 */
size_t wm_rx_arm(struct wm_rx *rx, uint8_t *buf, size_t len, size_t already);

/* Consumer: how far the producer has filled the armed buffer (0 when none is armed). */
size_t wm_rx_filled(struct wm_rx *rx);

/* Consumer: forget the armed buffer (the LOAD ended); the producer uses the ring again. */
void wm_rx_disarm(struct wm_rx *rx);

/* Consumer: the overruns since boot, for STATUS. */
uint32_t wm_rx_overruns(struct wm_rx *rx);

/* Consumer: forget every byte held and any gap (a new TCP peer on a host: a new link). */
void wm_rx_clear(struct wm_rx *rx);

#ifdef __cplusplus
}
#endif

#endif /* WASMORCH_RX_H */
