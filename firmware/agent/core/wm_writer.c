/* Reply formatting (docs/protocol.md §2): bare values when safe, quoted otherwise, never over WM_LINE_MAX. */
#include <stdio.h>
#include <string.h>

#include "wasmorch/proto.h"

static bool is_bare(const char *value)
{
	if (*value == '\0') {
		return false;
	}
	for (; *value; value++) {
		char c = *value;

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '.' || c == ':' || c == '+' || c == ',' || c == '/' || c == '-')) {
			return false;
		}
	}
	return true;
}

/* Room kept for the LF terminator. */
static size_t limit(const struct wm_writer *w)
{
	size_t cap = w->cap < WM_LINE_MAX ? w->cap : WM_LINE_MAX;

	return cap - 1;
}

static void put(struct wm_writer *w, char c)
{
	if (w->len < limit(w)) {
		w->buf[w->len++] = c;
	} else {
		w->overflow = true;
	}
}

static void puts_raw(struct wm_writer *w, const char *s)
{
	while (*s) {
		put(w, *s++);
	}
}

void wm_writer_begin(struct wm_writer *w, char *buf, size_t cap, const char *verb)
{
	w->buf = buf;
	w->cap = cap;
	w->len = 0;
	w->msg_start = 0;
	w->overflow = false;
	puts_raw(w, verb);
}

static size_t escaped_len(const char *value)
{
	size_t n = 0;

	for (; *value; value++) {
		n += (*value == '"' || *value == '\\') ? 2 : 1;
	}
	return n;
}

/*
 * With `shorten`, a value that would overflow the line is cut to the longest prefix that, followed
 * by "...", fits (docs/protocol.md §2; AgentLineBuilder.cs does the same, byte for byte).
 */
static void put_quoted(struct wm_writer *w, const char *value, bool shorten)
{
	bool cut = shorten && w->len + 2 + escaped_len(value) > limit(w);

	put(w, '"');
	for (; *value; value++) {
		char c = *value;
		size_t need = (c == '"' || c == '\\') ? 2 : 1;

		/* Keep room for `..."` when cutting. */
		if (cut && w->len + need + 4 > limit(w)) {
			puts_raw(w, "...");
			break;
		}
		if (c == '"' || c == '\\') {
			put(w, '\\');
		}
		put(w, (c >= 0x20 && c <= 0x7e) ? c : '?');
	}
	put(w, '"');
}

void wm_writer_str(struct wm_writer *w, const char *key, const char *value)
{
	put(w, ' ');
	puts_raw(w, key);
	put(w, '=');
	if (is_bare(value)) {
		puts_raw(w, value);
	} else {
		put_quoted(w, value, false);
	}
}

void wm_writer_str_if_fits(struct wm_writer *w, const char *key, const char *value)
{
	size_t need = 2 + strlen(key) + (is_bare(value) ? strlen(value) : 2 + escaped_len(value));

	if (w->len + need <= limit(w)) {
		wm_writer_str(w, key, value);
	}
}

void wm_writer_msg(struct wm_writer *w, const char *key, const char *message)
{
	put(w, ' ');
	puts_raw(w, key);
	put(w, '=');
	w->msg_start = w->len;
	put_quoted(w, message, true);
}

void wm_writer_u32(struct wm_writer *w, const char *key, uint32_t value)
{
	char text[12];

	snprintf(text, sizeof(text), "%lu", (unsigned long)value);
	wm_writer_str(w, key, text);
}

void wm_writer_i64(struct wm_writer *w, const char *key, int64_t value)
{
	char text[24];

	snprintf(text, sizeof(text), "%lld", (long long)value);
	wm_writer_str(w, key, text);
}

void wm_writer_hex32(struct wm_writer *w, const char *key, uint32_t value)
{
	char text[12];

	snprintf(text, sizeof(text), "%08lx", (unsigned long)value);
	wm_writer_str(w, key, text);
}

size_t wm_writer_end(struct wm_writer *w)
{
	/* limit() always leaves one byte for the terminator. */
	w->buf[w->len++] = '\n';
	return w->len;
}
