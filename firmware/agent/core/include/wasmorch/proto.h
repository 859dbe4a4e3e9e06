/*
 * Wasmorch agent protocol core: line parsing, reply formatting, argument parsing, CRC32.
 * Portable C11, no Zephyr includes: built into the firmware and into the host unit tests.
 * Normative description: docs/protocol.md.
 */
#ifndef WASMORCH_PROTO_H
#define WASMORCH_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A line is at most this many bytes, terminator included (docs/protocol.md §2). */
#define WM_LINE_MAX 256
#define WM_MAX_FIELDS 24
#define WM_MODULE_ID_MAX 32
#define WM_FUNC_NAME_MAX 64
/* STATUS's modules= list: what a line leaves once the other mandatory keys take their longest values. */
#define WM_MODULE_LIST_MAX 80
#define WM_MAX_ARGS 16

enum wm_parse_result {
	WM_PARSE_OK = 0,
	WM_PARSE_EMPTY,
	WM_PARSE_NOT_ASCII,
	WM_PARSE_BAD_VERB,
	WM_PARSE_BAD_KEY,
	WM_PARSE_MISSING_EQUALS,
	WM_PARSE_BAD_VALUE,
	WM_PARSE_UNTERMINATED_QUOTE,
	WM_PARSE_BAD_ESCAPE,
	WM_PARSE_DUPLICATE_KEY,
	WM_PARSE_TOO_MANY_FIELDS,
	WM_PARSE_TOO_LONG,
};

struct wm_field {
	const char *key;
	const char *value;
};

/* A parsed line. Keys and values point into `storage` (unescaped, NUL-terminated). */
struct wm_line {
	char storage[WM_LINE_MAX + 1];
	const char *verb;
	struct wm_field fields[WM_MAX_FIELDS];
	int field_count;
};

/* Parses `len` bytes (without LF; a trailing CR is ignored). Never reads past `len`. */
enum wm_parse_result wm_line_parse(struct wm_line *line, const char *text, size_t len);

/* A human-readable reason for a parse result. */
const char *wm_parse_result_str(enum wm_parse_result result);

/* The value of `key`, or NULL when the line does not carry it. */
const char *wm_line_get(const struct wm_line *line, const char *key);

bool wm_parse_u32(const char *text, uint32_t *out);
bool wm_parse_i64(const char *text, int64_t *out);
bool wm_parse_crc32(const char *text, uint32_t *out);
bool wm_module_id_valid(const char *id);
bool wm_func_name_valid(const char *name);

/* Reply formatting into a caller's buffer of at least WM_LINE_MAX bytes. */
struct wm_writer {
	char *buf;
	size_t cap;
	size_t len;
	/* Byte offset of the last quoted value's first character, for shortening "msg". */
	size_t msg_start;
	bool overflow;
};

void wm_writer_begin(struct wm_writer *w, char *buf, size_t cap, const char *verb);
/* Adds key=value, quoting when the value is not bare. */
void wm_writer_str(struct wm_writer *w, const char *key, const char *value);
/* Adds an optional key=value only when the line with it whole still fits (never truncated). */
void wm_writer_str_if_fits(struct wm_writer *w, const char *key, const char *value);
/* Adds key="message" (always quoted), shortened with "..." if the line would overflow. */
void wm_writer_msg(struct wm_writer *w, const char *key, const char *message);
void wm_writer_u32(struct wm_writer *w, const char *key, uint32_t value);
void wm_writer_i64(struct wm_writer *w, const char *key, int64_t value);
void wm_writer_hex32(struct wm_writer *w, const char *key, uint32_t value);
/* Terminates the line with LF; returns its length (always <= WM_LINE_MAX). */
size_t wm_writer_end(struct wm_writer *w);

/* Arguments: args="a=1,b=-2.5,0x10" -> positional texts (names dropped). */
struct wm_args {
	char text[WM_MAX_ARGS][32];
	int count;
};

/* Returns 0, or -1 with `err` (err_cap bytes) saying which argument is wrong and why. */
int wm_args_parse(const char *args, struct wm_args *out, char *err, size_t err_cap);
bool wm_arg_to_i32(const char *text, int32_t *out);
bool wm_arg_to_i64(const char *text, int64_t *out);
bool wm_arg_to_f64(const char *text, double *out);

/* SHA-256 and HMAC-SHA256, for the link handshake (docs/protocol.md §6a). */
struct wm_sha256 {
	uint32_t h[8];
	uint64_t total;
	uint8_t buf[64];
	size_t used;
};

void wm_sha256_init(struct wm_sha256 *s);
void wm_sha256_update(struct wm_sha256 *s, const uint8_t *data, size_t len);
void wm_sha256_final(struct wm_sha256 *s, uint8_t out[32]);
void wm_hmac_sha256(const uint8_t *key, size_t key_len, const uint8_t *msg, size_t msg_len, uint8_t out[32]);

/* CRC32, IEEE 802.3 (zlib's). Start with crc = 0. */
uint32_t wm_crc32_update(uint32_t crc, const uint8_t *data, size_t len);

#ifdef __cplusplus
}
#endif

#endif /* WASMORCH_PROTO_H */
