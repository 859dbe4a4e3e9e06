/*
 * Wasmorch agent COMM state machine: takes received bytes (any fragmentation), answers command
 * lines, assembles LOAD payloads with CRC32 and a stall timeout, and delegates what only the
 * board can do (WAMR, GPIO, the runner thread) to `struct wm_board_ops`.
 * Portable C11; the firmware feeds it from its COMM thread, the host tests from a test harness.
 */
#ifndef WASMORCH_AGENT_H
#define WASMORCH_AGENT_H

#include <stdatomic.h>

#include "wasmorch/lzss.h"
#include "wasmorch/proto.h"
#include "wasmorch/rx.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Outcome codes a board returns; each maps to the protocol's code of the same name. */
enum wm_code {
	WM_OK = 0,
	WM_BAD_ARGS,
	WM_BUSY,
	WM_TOO_LARGE,
	WM_NO_MODULE,
	WM_NO_FUNC,
	WM_NO_MEMORY,
	WM_CRC_MISMATCH,
	WM_TIMEOUT,
	WM_INVALID_MODULE,
	WM_RX_OVERRUN,
	WM_BAD_PAYLOAD,
};

const char *wm_code_str(enum wm_code code);

struct wm_status {
	bool running;
	char module[WM_MODULE_ID_MAX + 1];
	char func[WM_FUNC_NAME_MAX + 1];
	uint32_t job;
	/* Comma-separated ids, or empty. */
	char modules[128];
	uint32_t gpio;
	uint32_t gpio_writes;
	uint32_t log_dropped;
	/* Events not sent: over a job's rate, the link busy, or no negotiated peer (docs/protocol.md 6c). */
	uint32_t events_dropped;
	/* "ch:period_us:pulse_us,..." of the PWM channels set, or empty. */
	char pwm[64];
	/* "id:crc32,..." of the loaded modules (lets a gateway skip re-uploading), or empty. */
	char module_crcs[160];
};

struct wm_hello {
	const char *agent;
	const char *board;
	const char *runtime;
	const char *modes;
	const char *aot_target;
	uint32_t max_module;
	uint32_t max_modules;
	const char *extensions;
	/* The capabilities offered to modules, comma-separated (docs/protocol.md 6c): "" for none; NULL offers no CAPS. */
	const char *caps;
};

struct wm_board_ops {
	/* Sends bytes to the link. Called from the COMM context only. */
	void (*send)(void *ctx, const char *data, size_t len);
	uint32_t (*uptime_ms)(void *ctx);
	/* Optional (NULL: LOAD_OK carries no verify_us): a microsecond clock, wrapping. */
	uint32_t (*uptime_us)(void *ctx);
	void (*hello)(void *ctx, struct wm_hello *hello);
	void (*status)(void *ctx, struct wm_status *status);

	/* Pre-checks a LOAD before any payload byte: BUSY, TOO_LARGE, NO_MEMORY. */
	enum wm_code (*load_check)(void *ctx, const char *id, uint32_t size, char *msg, size_t msg_cap);
	/* Where the payload goes: a buffer of `size` bytes, or NULL (NO_MEMORY). */
	uint8_t *(*load_buffer)(void *ctx, uint32_t size);
	/* Verifies and installs a complete, CRC-checked payload; the old module of `id` stays until this succeeds. */
	enum wm_code (*load_commit)(void *ctx, const char *id, uint8_t *buf, uint32_t size, uint32_t crc, char *msg,
				    size_t msg_cap);
	/* Gives back a buffer whose LOAD failed (CRC, timeout). */
	void (*load_abort)(void *ctx, uint8_t *buf);

	/*
	 * Validates a START and reserves the runner: WM_OK with *job set, or an immediate code.
	 * The core sends START_OK, then calls start_go, so START_OK always precedes RESULT.
	 */
	enum wm_code (*start_prepare)(void *ctx, const char *id, const char *func, const struct wm_args *args,
				      uint32_t *job, char *msg, size_t msg_cap);
	void (*start_go)(void *ctx);

	/* WM_OK with *pending true (job asked to stop) or false (idle); WM_NO_MODULE. */
	enum wm_code (*stop)(void *ctx, const char *id, bool *pending, uint32_t *job);
	/* Optional (NULL: UNLOAD is not offered). */
	enum wm_code (*unload)(void *ctx, const char *id);
	/* Fills buf with unpredictable bytes (the AUTH nonce); required when the agent has a link key. */
	void (*random)(void *ctx, uint8_t *buf, size_t len);
};

/* docs/protocol.md §6a: the AUTH nonce (16 bytes) and MAC (32 bytes), as hex. */
#define WM_AUTH_NONCE_HEX 32
#define WM_AUTH_MAC_HEX 64

struct wm_agent_config {
	uint32_t load_timeout_ms;
	/* Offer HELLO and extensions; false makes a seed-baseline agent. */
	bool extensions;
	/* The link key (docs/protocol.md §6a): NULL for an open agent; else only an authenticated peer drives it. */
	const uint8_t *link_key;
	size_t link_key_len;
	/*
	 * XLOAD (docs/protocol.md §6b): the stream bytes a peer may send beyond the last acknowledged
	 * offset, at most what the receive ring holds; 0 offers no XLOAD.
	 */
	uint32_t xload_window;
	/*
	 * After lost bytes broke a line, its rest is discarded up to its LF, or until no byte came
	 * for this long (the LF was among the lost bytes; a new peer's first command is not
	 * swallowed as the rest of the broken line). 0: up to the LF only.
	 */
	uint32_t overrun_quiet_ms;
};

enum wm_agent_mode {
	WM_MODE_LINE,
	WM_MODE_DISCARD,
	WM_MODE_PAYLOAD,
	/* Bytes were lost (§3, Lost bytes): ERR code=RX_OVERRUN is sent, the rest of the broken line discarded. */
	WM_MODE_OVERRUN,
	/* The rest of a payload whose LOAD failed on an overrun: skipped, never read as lines. */
	WM_MODE_SKIP,
	/* An XLOAD stream (§6b): through feed, decoded as it comes. */
	WM_MODE_XSTREAM,
};

/* An XLOAD being received, or kept after a stall or a new link for the same XLOAD to resume. */
struct wm_xload {
	bool held;
	char id[WM_MODULE_ID_MAX + 1];
	uint8_t *buf;
	uint32_t size;
	uint32_t crc;
	bool lzss;
	uint32_t zsize;
	uint32_t consumed;
	uint32_t acked;
	uint32_t last_ms;
	struct wm_lzss decoder;
	/* The first thing wrong with the stream (empty while it is fine); the rest is taken and dropped. */
	char malformed[160];
};

struct wm_agent {
	const struct wm_board_ops *ops;
	void *ctx;
	struct wm_agent_config config;
	enum wm_agent_mode mode;
	char line[WM_LINE_MAX];
	size_t line_len;
	/* LOAD in progress. */
	char load_id[WM_MODULE_ID_MAX + 1];
	uint8_t *load_buf;
	uint32_t load_size;
	uint32_t load_received;
	uint32_t load_crc;
	uint32_t load_last_ms;
	/* Payload bytes that come through feed; the rest the receive path lands in load_buf itself. */
	uint32_t load_fed_limit;
	size_t load_direct_seen;
	/* WM_MODE_OVERRUN: when the loss was found or the last byte of the broken line came. */
	uint32_t overrun_ms;
	/* Payload bytes still to skip in WM_MODE_SKIP. */
	uint32_t skip_left;
	/* The receive path feeding this agent (wm_agent_service), or NULL when fed by wm_agent_feed alone. */
	struct wm_rx *rx;
	/* Bytes of the chunk being fed that follow the line in hand (a LOAD's first payload bytes). */
	size_t feed_rest;
	/*
	 * The peer sent HELLO on this link: it understands extension lines (LOG). Written by the
	 * COMM side, read by the board's job thread (LOG, EVENT): atomic, so safe by construction.
	 */
	atomic_bool peer_negotiated;
	/* AUTH: the challenge of this link's last HELLO_OK (empty once used) and whether the peer answered it. */
	char auth_nonce[WM_AUTH_NONCE_HEX + 1];
	bool authenticated;
	struct wm_xload xload;
	/* Scratch for parsing (kept here, not on a small thread stack). */
	struct wm_line parsed;
	struct wm_args args;
};

void wm_agent_init(struct wm_agent *agent, const struct wm_board_ops *ops, void *ctx, const struct wm_agent_config *config);

/* Sends the BOOT line (docs/protocol.md §6); call once when the board starts, before feeding bytes. */
void wm_agent_boot(struct wm_agent *agent);

/* Feeds received bytes; replies go out through ops->send. */
void wm_agent_feed(struct wm_agent *agent, const uint8_t *data, size_t len, uint32_t now_ms);

/*
 * Lets the agent take its bytes from a receive path (rx.h): payloads then land in the module
 * buffer straight from the producer, and lost bytes are answered with RX_OVERRUN.
 */
void wm_agent_attach_rx(struct wm_agent *agent, struct wm_rx *rx);

/* Drains the attached receive path into the agent and polls it; call whenever bytes arrive and periodically. */
void wm_agent_service(struct wm_agent *agent, uint32_t now_ms);

/* Bytes were lost after everything fed so far (§3, Lost bytes): a LOAD in progress fails, a broken line is answered RX_OVERRUN. */
void wm_agent_lost(struct wm_agent *agent, size_t lost);

/* The same, knowing whether the lost bytes ended with the LF of the line they broke (rx.h's loss report). */
void wm_agent_lost_at(struct wm_agent *agent, size_t lost, bool ends_line, uint32_t now_ms);

/* Call periodically (and when no byte arrives): ends a stalled LOAD with LOAD_ERR code=TIMEOUT. */
void wm_agent_poll(struct wm_agent *agent, uint32_t now_ms);

/* Gives back the buffer of an XLOAD kept for a resume (a board that needs the memory back). */
void wm_agent_drop_upload(struct wm_agent *agent);

/* A new peer connected (or the link was re-established): back to line mode, not negotiated. */
void wm_agent_reset_link(struct wm_agent *agent);

/* Formats RESULT lines for the runner (any context; buf of WM_LINE_MAX bytes). */
size_t wm_format_result(char *buf, const char *id, const char *func, uint32_t job, const char *status,
			const char *value, const char *type, const char *msg, uint32_t elapsed_us);

/* Formats a LOG line (send it only when agent->peer_negotiated). */
size_t wm_format_log(char *buf, const char *id, uint32_t job, uint32_t uptime_ms, const char *msg);

/* docs/protocol.md 6c: an event's data is at most 48 bytes, its topic 1-32 of [A-Za-z0-9_.-/]. */
#define WM_EVENT_DATA_MAX 48
#define WM_TOPIC_MAX 32
/* A kv key: 1-15 of [A-Za-z0-9_.-]. */
#define WM_KV_KEY_MAX 15

/* True for a valid topic (slash allowed) or kv key (no slash) of at most max characters. */
bool wm_valid_name(const char *name, size_t max, bool allow_slash);

/*
 * Formats an EVENT line (send it only when agent->peer_negotiated): data as lower-case hex, or
 * "-" when len is 0. Returns 0 when topic or len is out of bounds.
 */
size_t wm_format_event(char *buf, const char *id, uint32_t job, uint32_t uptime_ms, const char *topic,
		       const uint8_t *data, size_t len);

/*
 * A job's event rate (docs/protocol.md 6c): `burst` events at once, then `per_second` a second;
 * an event over it is dropped and counted. Tokens are kept in thousandths.
 */
struct wm_event_bucket {
	uint32_t per_second;
	uint32_t burst;
	uint32_t milli_tokens;
	uint32_t last_ms;
};

void wm_event_bucket_init(struct wm_event_bucket *b, uint32_t per_second, uint32_t burst, uint32_t now_ms);

/* Takes one event's token: true when the event may go. */
bool wm_event_bucket_take(struct wm_event_bucket *b, uint32_t now_ms);

#ifdef __cplusplus
}
#endif

#endif /* WASMORCH_AGENT_H */
