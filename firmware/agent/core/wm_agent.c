/* COMM state machine (docs/protocol.md §3, §4): line mode, discard mode, payload mode. */
#include <stdio.h>
#include <string.h>

#include "wasmorch/agent.h"

const char *wm_code_str(enum wm_code code)
{
	switch (code) {
	case WM_OK: return "OK";
	case WM_BAD_ARGS: return "BAD_ARGS";
	case WM_BUSY: return "BUSY";
	case WM_TOO_LARGE: return "TOO_LARGE";
	case WM_NO_MODULE: return "NO_MODULE";
	case WM_NO_FUNC: return "NO_FUNC";
	case WM_NO_MEMORY: return "NO_MEMORY";
	case WM_CRC_MISMATCH: return "CRC_MISMATCH";
	case WM_TIMEOUT: return "TIMEOUT";
	case WM_INVALID_MODULE: return "INVALID_MODULE";
	case WM_RX_OVERRUN: return "RX_OVERRUN";
	case WM_BAD_PAYLOAD: return "BAD_PAYLOAD";
	}
	return "?";
}

static void send_line(struct wm_agent *a, struct wm_writer *w)
{
	size_t len = wm_writer_end(w);

	a->ops->send(a->ctx, w->buf, len);
}

static void send_err(struct wm_agent *a, const char *code, const char *msg)
{
	char buf[WM_LINE_MAX];
	struct wm_writer w;

	wm_writer_begin(&w, buf, sizeof(buf), "ERR");
	wm_writer_str(&w, "code", code);
	wm_writer_msg(&w, "msg", msg);
	send_line(a, &w);
}

static void send_load_err_for(struct wm_agent *a, const char *id, enum wm_code code, const char *msg)
{
	char buf[WM_LINE_MAX];
	struct wm_writer w;

	wm_writer_begin(&w, buf, sizeof(buf), "LOAD_ERR");
	wm_writer_str(&w, "module_id", id);
	wm_writer_str(&w, "code", wm_code_str(code));
	wm_writer_msg(&w, "msg", msg);
	send_line(a, &w);
}

static void send_load_err(struct wm_agent *a, enum wm_code code, const char *msg) { send_load_err_for(a, a->load_id, code, msg); }

/* Lets go of a kept XLOAD (another upload takes the board's buffer, or this one ended). */
static void drop_xload(struct wm_agent *a)
{
	if (a->xload.held && a->xload.buf != NULL) {
		a->ops->load_abort(a->ctx, a->xload.buf);
	}
	a->xload.held = false;
	a->xload.buf = NULL;
}

void wm_agent_drop_upload(struct wm_agent *agent)
{
	if (agent->mode == WM_MODE_XSTREAM) {
		agent->mode = WM_MODE_LINE;
		agent->line_len = 0;
	}
	drop_xload(agent);
}

void wm_agent_init(struct wm_agent *agent, const struct wm_board_ops *ops, void *ctx, const struct wm_agent_config *config)
{
	memset(agent, 0, sizeof(*agent));
	agent->ops = ops;
	agent->ctx = ctx;
	agent->config = *config;
	agent->mode = WM_MODE_LINE;
}

/* Ends a LOAD whose payload will not be committed; the receive path lets go of its buffer first. */
static void abort_load(struct wm_agent *a)
{
	if (a->rx != NULL) {
		wm_rx_disarm(a->rx);
	}
	a->ops->load_abort(a->ctx, a->load_buf);
	a->load_buf = NULL;
}

void wm_agent_reset_link(struct wm_agent *agent)
{
	if (agent->mode == WM_MODE_PAYLOAD && agent->load_buf != NULL) {
		abort_load(agent);
	}
	/* An XLOAD stream cut by the new link stays held: the same XLOAD on the new link resumes it. */
	agent->mode = WM_MODE_LINE;
	agent->line_len = 0;
	agent->peer_negotiated = false;
	agent->authenticated = false;
	agent->auth_nonce[0] = '\0';
}

static bool secured(const struct wm_agent *a) { return a->config.link_key != NULL && a->config.extensions; }

static void to_hex(char *out, const uint8_t *bytes, size_t len)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < len; i++) {
		out[2 * i] = digits[bytes[i] >> 4];
		out[2 * i + 1] = digits[bytes[i] & 15];
	}
	out[2 * len] = '\0';
}

static bool is_lower_hex(const char *text, size_t len)
{
	if (text == NULL || strlen(text) != len) {
		return false;
	}
	for (size_t i = 0; i < len; i++) {
		if (!((text[i] >= '0' && text[i] <= '9') || (text[i] >= 'a' && text[i] <= 'f'))) {
			return false;
		}
	}
	return true;
}

/* HMAC-SHA256(link key, "wasmorch-link-v1 <role> <first> <second>") as hex (LinkAuth.cs does the same). */
static void auth_mac(const struct wm_agent *a, const char *role, const char *first, const char *second,
		     char out[WM_AUTH_MAC_HEX + 1])
{
	char message[96];
	uint8_t mac[32];
	int len = snprintf(message, sizeof(message), "wasmorch-link-v1 %s %s %s", role, first, second);

	wm_hmac_sha256(a->config.link_key, a->config.link_key_len, (const uint8_t *)message, (size_t)len, mac);
	to_hex(out, mac, sizeof(mac));
}

/* Compares without an early exit: a wrong MAC takes as long to refuse as a nearly right one. */
static bool same(const char *x, const char *y, size_t len)
{
	unsigned diff = 0;

	for (size_t i = 0; i < len; i++) {
		diff |= (unsigned)(x[i] ^ y[i]);
	}
	return diff == 0;
}

static void do_auth(struct wm_agent *a, const struct wm_line *l)
{
	const char *nonce = wm_line_get(l, "nonce");
	const char *mac = wm_line_get(l, "mac");
	char agent_nonce[WM_AUTH_NONCE_HEX + 1];
	char expected[WM_AUTH_MAC_HEX + 1];
	char buf[WM_LINE_MAX];
	struct wm_writer w;

	/* The challenge answers one AUTH only, whatever becomes of it. */
	strcpy(agent_nonce, a->auth_nonce);
	a->auth_nonce[0] = '\0';
	if (!is_lower_hex(nonce, WM_AUTH_NONCE_HEX) || !is_lower_hex(mac, WM_AUTH_MAC_HEX)) {
		send_err(a, "BAD_ARGS", "AUTH needs nonce=<32 hex digits> mac=<64 hex digits>");
		return;
	}
	if (agent_nonce[0] == '\0') {
		send_err(a, "UNAUTHORIZED",
			 "no challenge to answer: send HELLO first (AUTH answers the auth_nonce of this link's last HELLO_OK)");
		return;
	}
	auth_mac(a, "gateway", agent_nonce, nonce, expected);
	if (!same(expected, mac, WM_AUTH_MAC_HEX)) {
		send_err(a, "UNAUTHORIZED", "link authentication failed: the peer does not hold this board's link key");
		return;
	}
	a->authenticated = true;
	auth_mac(a, "agent", nonce, agent_nonce, expected);
	wm_writer_begin(&w, buf, sizeof(buf), "AUTH_OK");
	wm_writer_str(&w, "mac", expected);
	send_line(a, &w);
}

void wm_agent_boot(struct wm_agent *a)
{
	struct wm_hello h;
	char buf[WM_LINE_MAX];
	struct wm_writer w;

	if (!a->config.extensions) {
		/* A seed-baseline agent knows no BOOT. */
		return;
	}
	memset(&h, 0, sizeof(h));
	a->ops->hello(a->ctx, &h);
	wm_writer_begin(&w, buf, sizeof(buf), "BOOT");
	wm_writer_str(&w, "agent", h.agent);
	wm_writer_str(&w, "board", h.board);
	send_line(a, &w);
}

static void do_status(struct wm_agent *a)
{
	struct wm_status st;
	char buf[WM_LINE_MAX];
	struct wm_writer w;

	memset(&st, 0, sizeof(st));
	a->ops->status(a->ctx, &st);
	wm_writer_begin(&w, buf, sizeof(buf), "STATUS");
	wm_writer_str(&w, "state", st.running ? "RUNNING" : "IDLE");
	wm_writer_str(&w, "module", st.running ? st.module : "-");
	wm_writer_str(&w, "func", st.running ? st.func : "-");
	if (st.running) {
		wm_writer_u32(&w, "job", st.job);
	} else {
		wm_writer_str(&w, "job", "-");
	}
	wm_writer_str(&w, "modules", st.modules[0] ? st.modules : "-");
	wm_writer_u32(&w, "uptime_ms", a->ops->uptime_ms(a->ctx));
	/* Optional keys (§5): each only when the line with it whole still fits, never truncated. */
	{
		char number[12];

		snprintf(number, sizeof(number), "0x%04lx", (unsigned long)st.gpio);
		wm_writer_str_if_fits(&w, "gpio", number);
		snprintf(number, sizeof(number), "%lu", (unsigned long)st.gpio_writes);
		wm_writer_str_if_fits(&w, "gpio_writes", number);
		snprintf(number, sizeof(number), "%lu", (unsigned long)st.log_dropped);
		wm_writer_str_if_fits(&w, "log_dropped", number);
		snprintf(number, sizeof(number), "%lu", (unsigned long)st.events_dropped);
		wm_writer_str_if_fits(&w, "events_dropped", number);
		if (a->rx != NULL) {
			snprintf(number, sizeof(number), "%lu", (unsigned long)wm_rx_overruns(a->rx));
			wm_writer_str_if_fits(&w, "rx_overruns", number);
		}
	}
	if (st.pwm[0] != '\0') {
		wm_writer_str_if_fits(&w, "pwm", st.pwm);
	}
	wm_writer_str_if_fits(&w, "module_crcs", st.module_crcs[0] ? st.module_crcs : "-");
	send_line(a, &w);
}

static void do_hello(struct wm_agent *a)
{
	struct wm_hello h;
	char buf[WM_LINE_MAX];
	struct wm_writer w;

	char extensions[48];

	memset(&h, 0, sizeof(h));
	a->ops->hello(a->ctx, &h);
	a->peer_negotiated = true;
	/* CAPS is not listed: HELLO_OK has no room left (docs/protocol.md 6c); a peer asks it. */
	snprintf(extensions, sizeof(extensions), "%s%s%s", a->ops->unload ? "PING,UNLOAD,LOG" : "PING,LOG",
		 a->config.xload_window > 0 ? ",XLOAD" : "", secured(a) ? ",AUTH" : "");
	wm_writer_begin(&w, buf, sizeof(buf), "HELLO_OK");
	wm_writer_str(&w, "proto", "1");
	wm_writer_str(&w, "agent", h.agent);
	wm_writer_str(&w, "board", h.board);
	wm_writer_str(&w, "runtime", h.runtime);
	wm_writer_str(&w, "modes", h.modes);
	wm_writer_str(&w, "aot_target", h.aot_target ? h.aot_target : "-");
	wm_writer_u32(&w, "max_module", h.max_module);
	wm_writer_u32(&w, "max_modules", h.max_modules);
	if (secured(a)) {
		uint8_t nonce[WM_AUTH_NONCE_HEX / 2];

		a->ops->random(a->ctx, nonce, sizeof(nonce));
		to_hex(a->auth_nonce, nonce, sizeof(nonce));
		wm_writer_str(&w, "extensions", extensions);
		wm_writer_str(&w, "auth_nonce", a->auth_nonce);
	} else {
		wm_writer_str(&w, "extensions", extensions);
	}
	send_line(a, &w);
}

/* docs/protocol.md 6c: what the board offers modules. */
static bool do_caps(struct wm_agent *a)
{
	struct wm_hello h;
	char buf[WM_LINE_MAX];
	struct wm_writer w;

	memset(&h, 0, sizeof(h));
	a->ops->hello(a->ctx, &h);
	if (h.caps == NULL) {
		return false;
	}
	wm_writer_begin(&w, buf, sizeof(buf), "CAPS_OK");
	wm_writer_str(&w, "caps", h.caps[0] != '\0' ? h.caps : "-");
	send_line(a, &w);
	return true;
}

/* True if `list` (comma-separated ids) holds `id`. */
static bool list_has(const char *list, const char *id)
{
	size_t n = strlen(id);

	for (const char *p = list; *p != '\0';) {
		const char *end = strchr(p, ',');
		size_t len = end != NULL ? (size_t)(end - p) : strlen(p);

		if (len == n && strncmp(p, id, n) == 0) {
			return true;
		}
		if (end == NULL) {
			break;
		}
		p = end + 1;
	}
	return false;
}

/* STATUS must always fit a line: a new id may not push the modules= list past WM_MODULE_LIST_MAX. */
static bool module_list_has_room(struct wm_agent *a, const char *id)
{
	struct wm_status st;
	size_t len;

	memset(&st, 0, sizeof(st));
	a->ops->status(a->ctx, &st);
	if (list_has(st.modules, id)) {
		return true;
	}
	len = strlen(st.modules);
	return len + (len > 0 ? 1 : 0) + strlen(id) <= WM_MODULE_LIST_MAX;
}

static void finish_load(struct wm_agent *a);

/* Refusals of LOAD and XLOAD before any byte, in the order of §3 (sent here); true when the payload may follow. */
static bool check_load(struct wm_agent *a, const struct wm_line *l, const char **id_out, uint32_t *size_out, uint32_t *crc_out)
{
	const char *id = wm_line_get(l, "module_id");
	uint32_t size;
	uint32_t crc;
	char msg[96];
	enum wm_code code;

	if (!wm_module_id_valid(id)) {
		send_err(a, "BAD_ARGS", "LOAD needs module_id=<id> ([A-Za-z0-9_.-]{1,32})");
		return false;
	}
	if (!wm_parse_u32(wm_line_get(l, "size"), &size) || size == 0) {
		send_err(a, "BAD_ARGS", "LOAD needs size=<bytes>, a positive integer");
		return false;
	}
	if (!wm_parse_crc32(wm_line_get(l, "crc32"), &crc)) {
		send_err(a, "BAD_ARGS", "LOAD needs crc32=<8 hex digits>");
		return false;
	}
	{
		struct wm_hello h;

		memset(&h, 0, sizeof(h));
		a->ops->hello(a->ctx, &h);
		if (size > h.max_module) {
			snprintf(msg, sizeof(msg), "module of %lu bytes exceeds this board's %lu", (unsigned long)size,
				 (unsigned long)h.max_module);
			send_err(a, "TOO_LARGE", msg);
			return false;
		}
	}
	msg[0] = '\0';
	code = a->ops->load_check(a->ctx, id, size, msg, sizeof(msg));
	if (code != WM_OK) {
		send_err(a, wm_code_str(code), msg[0] ? msg : wm_code_str(code));
		return false;
	}
	if (!module_list_has_room(a, id)) {
		send_err(a, "NO_MEMORY", "the loaded module ids would exceed the 80 bytes STATUS lists; UNLOAD one or use shorter ids");
		return false;
	}
	*id_out = id;
	*size_out = size;
	*crc_out = crc;
	return true;
}

static void do_xload(struct wm_agent *a, const struct wm_line *l)
{
	const char *codec = wm_line_get(l, "codec");
	const char *id;
	uint32_t size;
	uint32_t crc;
	uint32_t zsize;
	uint32_t most;
	bool lzss;
	char msg[WM_LINE_MAX];
	char buf[WM_LINE_MAX];
	struct wm_writer w;
	struct wm_xload *x = &a->xload;

	if (codec == NULL) {
		codec = "none";
	}
	if (strcmp(codec, "none") != 0 && strcmp(codec, "lzss1") != 0) {
		snprintf(msg, sizeof(msg), "XLOAD codec '%s' is not offered (codecs: none,lzss1)", codec);
		send_err(a, "BAD_ARGS", msg);
		return;
	}
	lzss = strcmp(codec, "lzss1") == 0;
	if (!check_load(a, l, &id, &size, &crc)) {
		return;
	}
	most = lzss ? WM_LZSS_MAX_STREAM(size) : size;
	/* codec=none: the stream is the module, byte for byte; a shorter one would leave bytes nobody sent. */
	if (!wm_parse_u32(wm_line_get(l, "zsize"), &zsize) || zsize < (lzss ? 1 : size) || zsize > most) {
		if (lzss) {
			snprintf(msg, sizeof(msg), "XLOAD needs zsize=<stream bytes>, 1 to %lu for a module of %lu bytes with codec %s",
				 (unsigned long)most, (unsigned long)size, codec);
		} else {
			snprintf(msg, sizeof(msg), "XLOAD needs zsize=<stream bytes>, exactly %lu for a module of %lu bytes with codec none",
				 (unsigned long)size, (unsigned long)size);
		}
		send_err(a, "BAD_ARGS", msg);
		return;
	}
	if (!(x->held && strcmp(x->id, id) == 0 && x->size == size && x->crc == crc && x->lzss == lzss && x->zsize == zsize &&
	      x->malformed[0] == '\0')) {
		/* Another transfer: the one kept, if any, gives its buffer back. */
		drop_xload(a);
		x->buf = a->ops->load_buffer(a->ctx, size);
		if (x->buf == NULL) {
			send_err(a, "NO_MEMORY", "no room for the payload");
			return;
		}
		x->held = true;
		strcpy(x->id, id);
		x->size = size;
		x->crc = crc;
		x->lzss = lzss;
		x->zsize = zsize;
		x->consumed = 0;
		x->malformed[0] = '\0';
		wm_lzss_init(&x->decoder);
	}
	x->acked = x->consumed;
	a->mode = WM_MODE_XSTREAM;
	wm_writer_begin(&w, buf, sizeof(buf), "XLOAD_READY");
	wm_writer_str(&w, "module_id", id);
	wm_writer_u32(&w, "offset", x->consumed);
	wm_writer_u32(&w, "window", a->config.xload_window);
	send_line(a, &w);
}

static void finish_xload(struct wm_agent *a)
{
	struct wm_xload *x = &a->xload;

	a->mode = WM_MODE_LINE;
	if (x->malformed[0] == '\0' && x->lzss) {
		char why[sizeof(x->malformed) - 16];

		if (!wm_lzss_finish(&x->decoder, x->size, why, sizeof(why))) {
			snprintf(x->malformed, sizeof(x->malformed), "lzss1 stream: %s", why);
		}
	}
	if (x->malformed[0] != '\0') {
		char id[WM_MODULE_ID_MAX + 1];

		strcpy(id, x->id);
		drop_xload(a);
		send_load_err_for(a, id, WM_BAD_PAYLOAD, x->malformed);
		return;
	}
	/* From here it is a LOAD's payload like any other: CRC, commit, LOAD_OK (finish_load owns the buffer). */
	strcpy(a->load_id, x->id);
	a->load_buf = x->buf;
	a->load_size = x->size;
	a->load_crc = x->crc;
	x->buf = NULL;
	x->held = false;
	finish_load(a);
}

static uint32_t xload_half(const struct wm_agent *a) { return a->config.xload_window >= 2u ? a->config.xload_window / 2u : 1u; }

static void feed_xload(struct wm_agent *a, const uint8_t *data, size_t len, uint32_t now_ms)
{
	struct wm_xload *x = &a->xload;

	if (x->malformed[0] == '\0') {
		if (x->lzss) {
			char why[sizeof(x->malformed) - 16];

			if (!wm_lzss_feed(&x->decoder, data, len, x->buf, x->size, why, sizeof(why))) {
				snprintf(x->malformed, sizeof(x->malformed), "lzss1 stream: %s", why);
			}
		} else {
			memcpy(x->buf + x->consumed, data, len);
		}
	}
	x->consumed += (uint32_t)len;
	x->last_ms = now_ms;
	if (x->consumed == x->zsize) {
		finish_xload(a);
		return;
	}
	/* Acknowledged at every multiple of half the window (the caller stops each piece there). */
	if (x->consumed % xload_half(a) == 0u) {
		char buf[WM_LINE_MAX];
		struct wm_writer w;

		x->acked = x->consumed;
		wm_writer_begin(&w, buf, sizeof(buf), "XACK");
		wm_writer_str(&w, "module_id", x->id);
		wm_writer_u32(&w, "offset", x->acked);
		send_line(a, &w);
	}
}

static void do_load(struct wm_agent *a, const struct wm_line *l)
{
	const char *id;
	uint32_t size;
	uint32_t crc;
	char buf[WM_LINE_MAX];
	struct wm_writer w;

	if (!check_load(a, l, &id, &size, &crc)) {
		return;
	}
	/* The board's module buffer goes to this LOAD: a kept XLOAD cannot be resumed any more. */
	drop_xload(a);
	a->load_buf = a->ops->load_buffer(a->ctx, size);
	if (a->load_buf == NULL) {
		send_err(a, "NO_MEMORY", "no room for the payload");
		return;
	}
	strcpy(a->load_id, id);
	a->load_size = size;
	a->load_received = 0;
	a->load_crc = crc;
	a->load_fed_limit = size;
	a->load_direct_seen = 0;
	a->mode = WM_MODE_PAYLOAD;
	if (a->rx != NULL) {
		/* Before LOAD_READY: a peer that waits for it must find the payload's bytes expected. */
		a->load_fed_limit = (uint32_t)wm_rx_arm(a->rx, a->load_buf, size, a->feed_rest);
		a->load_direct_seen = a->load_fed_limit;
	}
	wm_writer_begin(&w, buf, sizeof(buf), "LOAD_READY");
	wm_writer_str(&w, "module_id", id);
	send_line(a, &w);
}

static void finish_load(struct wm_agent *a)
{
	uint32_t actual = wm_crc32_update(0, a->load_buf, a->load_size);
	uint32_t verify_start;
	char msg[96];
	enum wm_code code;
	char buf[WM_LINE_MAX];
	struct wm_writer w;

	a->mode = WM_MODE_LINE;
	if (a->rx != NULL) {
		wm_rx_disarm(a->rx);
	}
	if (actual != a->load_crc) {
		snprintf(msg, sizeof(msg), "expected %08lx, received %08lx", (unsigned long)a->load_crc, (unsigned long)actual);
		abort_load(a);
		send_load_err(a, WM_CRC_MISMATCH, msg);
		return;
	}
	msg[0] = '\0';
	verify_start = a->ops->uptime_us != NULL ? a->ops->uptime_us(a->ctx) : 0;
	/* load_commit owns the buffer from here, whatever it answers. */
	code = a->ops->load_commit(a->ctx, a->load_id, a->load_buf, a->load_size, actual, msg, sizeof(msg));
	a->load_buf = NULL;
	if (code != WM_OK) {
		send_load_err(a, code, msg[0] ? msg : wm_code_str(code));
		return;
	}
	wm_writer_begin(&w, buf, sizeof(buf), "LOAD_OK");
	wm_writer_str(&w, "module_id", a->load_id);
	wm_writer_u32(&w, "size", a->load_size);
	wm_writer_hex32(&w, "crc32", actual);
	if (a->ops->uptime_us != NULL) {
		/* How long the board spent checking and installing the module, apart from link time. */
		wm_writer_u32(&w, "verify_us", a->ops->uptime_us(a->ctx) - verify_start);
	}
	send_line(a, &w);
}

static void send_immediate_result(struct wm_agent *a, const char *id, const char *func, enum wm_code code, const char *msg)
{
	char buf[WM_LINE_MAX];
	struct wm_writer w;

	wm_writer_begin(&w, buf, sizeof(buf), "RESULT");
	wm_writer_str(&w, "module_id", id);
	wm_writer_str(&w, "func", func);
	wm_writer_str(&w, "status", wm_code_str(code));
	wm_writer_msg(&w, "msg", msg);
	send_line(a, &w);
}

static void do_start(struct wm_agent *a, const struct wm_line *l)
{
	const char *id = wm_line_get(l, "module_id");
	const char *func = wm_line_get(l, "func");
	char msg[128];
	uint32_t job = 0;
	enum wm_code code;
	char buf[WM_LINE_MAX];
	struct wm_writer w;

	if (!wm_module_id_valid(id) || !wm_func_name_valid(func)) {
		send_err(a, "BAD_ARGS", "START needs module_id=<id> func=<name> [args=\"a=1,b=2\"]");
		return;
	}
	if (wm_args_parse(wm_line_get(l, "args"), &a->args, msg, sizeof(msg)) != 0) {
		send_immediate_result(a, id, func, WM_BAD_ARGS, msg);
		return;
	}
	msg[0] = '\0';
	code = a->ops->start_prepare(a->ctx, id, func, &a->args, &job, msg, sizeof(msg));
	if (code != WM_OK) {
		send_immediate_result(a, id, func, code, msg[0] ? msg : wm_code_str(code));
		return;
	}
	wm_writer_begin(&w, buf, sizeof(buf), "START_OK");
	wm_writer_str(&w, "module_id", id);
	wm_writer_str(&w, "func", func);
	wm_writer_u32(&w, "job", job);
	send_line(a, &w);
	a->ops->start_go(a->ctx);
}

static void do_stop(struct wm_agent *a, const struct wm_line *l)
{
	const char *id = wm_line_get(l, "module_id");
	bool pending = false;
	uint32_t job = 0;
	char buf[WM_LINE_MAX];
	struct wm_writer w;

	if (!wm_module_id_valid(id)) {
		send_err(a, "BAD_ARGS", "STOP needs module_id=<id> ([A-Za-z0-9_.-]{1,32})");
		return;
	}
	if (a->ops->stop(a->ctx, id, &pending, &job) != WM_OK) {
		char msg[64];

		snprintf(msg, sizeof(msg), "no module '%s' is loaded", id);
		send_err(a, "NO_MODULE", msg);
		return;
	}
	wm_writer_begin(&w, buf, sizeof(buf), "STOP_OK");
	wm_writer_str(&w, "module_id", id);
	wm_writer_str(&w, "status", pending ? "PENDING" : "IDLE");
	if (pending) {
		wm_writer_u32(&w, "job", job);
	}
	send_line(a, &w);
}

static void do_unload(struct wm_agent *a, const struct wm_line *l)
{
	const char *id = wm_line_get(l, "module_id");
	enum wm_code code;
	char buf[WM_LINE_MAX];
	struct wm_writer w;

	if (!wm_module_id_valid(id)) {
		send_err(a, "BAD_ARGS", "UNLOAD needs module_id=<id> ([A-Za-z0-9_.-]{1,32})");
		return;
	}
	code = a->ops->unload(a->ctx, id);
	if (code != WM_OK) {
		char msg[80];

		snprintf(msg, sizeof(msg), code == WM_BUSY ? "module '%s' is running; STOP it first" : "no module '%s' is loaded", id);
		send_err(a, wm_code_str(code), msg);
		return;
	}
	wm_writer_begin(&w, buf, sizeof(buf), "UNLOAD_OK");
	wm_writer_str(&w, "module_id", id);
	send_line(a, &w);
}

static void handle_line(struct wm_agent *a, const char *text, size_t len)
{
	struct wm_line *l = &a->parsed;
	enum wm_parse_result r = wm_line_parse(l, text, len);
	bool ext = a->config.extensions;

	if (r == WM_PARSE_EMPTY) {
		return;
	}
	if (r != WM_PARSE_OK) {
		send_err(a, "BAD_COMMAND", wm_parse_result_str(r));
		return;
	}
	if (secured(a) && !a->authenticated && strcmp(l->verb, "HELLO") != 0 && strcmp(l->verb, "AUTH") != 0 &&
	    strcmp(l->verb, "PING") != 0) {
		char msg[WM_LINE_MAX];

		snprintf(msg, sizeof(msg),
			 "%s refused: this board requires link authentication (HELLO, then AUTH with the link key; docs/protocol.md section 6a)",
			 l->verb);
		send_err(a, "UNAUTHORIZED", msg);
		return;
	}
	if (strcmp(l->verb, "STATUS") == 0) {
		do_status(a);
	} else if (strcmp(l->verb, "LOAD") == 0) {
		do_load(a, l);
	} else if (ext && a->config.xload_window > 0 && strcmp(l->verb, "XLOAD") == 0) {
		do_xload(a, l);
	} else if (strcmp(l->verb, "START") == 0) {
		do_start(a, l);
	} else if (strcmp(l->verb, "STOP") == 0) {
		do_stop(a, l);
	} else if (ext && strcmp(l->verb, "HELLO") == 0) {
		do_hello(a);
	} else if (ext && strcmp(l->verb, "CAPS") == 0 && do_caps(a)) {
		/* answered */
	} else if (ext && strcmp(l->verb, "PING") == 0) {
		char buf[WM_LINE_MAX];
		struct wm_writer w;

		wm_writer_begin(&w, buf, sizeof(buf), "PONG");
		wm_writer_u32(&w, "uptime_ms", a->ops->uptime_ms(a->ctx));
		send_line(a, &w);
	} else if (ext && a->ops->unload != NULL && strcmp(l->verb, "UNLOAD") == 0) {
		do_unload(a, l);
	} else if (secured(a) && strcmp(l->verb, "AUTH") == 0) {
		do_auth(a, l);
	} else {
		char msg[WM_LINE_MAX];

		snprintf(msg, sizeof(msg), "unknown command '%s'", l->verb);
		send_err(a, "BAD_COMMAND", msg);
	}
}

/* The payload is whole: every byte fed, and every byte the receive path lands itself arrived. */
static bool payload_whole(struct wm_agent *a)
{
	return a->load_received == a->load_fed_limit &&
	       (a->load_fed_limit == a->load_size || wm_rx_filled(a->rx) == a->load_size);
}

void wm_agent_feed(struct wm_agent *a, const uint8_t *data, size_t len, uint32_t now_ms)
{
	size_t i = 0;

	while (i < len) {
		if (a->mode == WM_MODE_PAYLOAD) {
			size_t take = a->load_fed_limit - a->load_received;

			if (take > len - i) {
				take = len - i;
			}
			memcpy(a->load_buf + a->load_received, data + i, take);
			a->load_received += (uint32_t)take;
			a->load_last_ms = now_ms;
			i += take;
			if (a->load_received == a->load_fed_limit) {
				if (!payload_whole(a)) {
					/* Bytes behind a payload the producer is still landing: the receive path never does that. */
					return;
				}
				finish_load(a);
			}
			continue;
		}
		if (a->mode == WM_MODE_XSTREAM) {
			uint32_t half = xload_half(a);
			/* Up to the end of the stream or the next acknowledgement point, whichever comes first. */
			size_t take = a->xload.zsize - a->xload.consumed;
			size_t to_ack = half - a->xload.consumed % half;

			if (take > to_ack) {
				take = to_ack;
			}
			if (take > len - i) {
				take = len - i;
			}
			feed_xload(a, data + i, take, now_ms);
			i += take;
			continue;
		}
		if (a->mode == WM_MODE_SKIP) {
			size_t take = a->skip_left < len - i ? a->skip_left : len - i;

			a->skip_left -= (uint32_t)take;
			i += take;
			if (a->skip_left == 0) {
				a->mode = WM_MODE_LINE;
			}
			continue;
		}
		{
			uint8_t c = data[i++];

			if (c == '\n') {
				if (a->mode == WM_MODE_DISCARD) {
					a->mode = WM_MODE_LINE;
					send_err(a, "LINE_TOO_LONG", "lines are at most 256 bytes");
				} else if (a->mode == WM_MODE_OVERRUN) {
					/* The end of the line the loss broke, answered when the loss was found. */
					a->mode = WM_MODE_LINE;
				} else {
					a->feed_rest = len - i;
					handle_line(a, a->line, a->line_len);
					if (a->mode == WM_MODE_PAYLOAD) {
						a->load_last_ms = now_ms;
					}
					if (a->mode == WM_MODE_XSTREAM) {
						a->xload.last_ms = now_ms;
					}
				}
				a->line_len = 0;
			} else if (a->mode == WM_MODE_OVERRUN) {
				a->overrun_ms = now_ms;
			} else if (a->mode == WM_MODE_LINE) {
				/* Room for the LF that ends it: content is at most WM_LINE_MAX - 1 bytes. */
				if (a->line_len + 1 >= WM_LINE_MAX) {
					a->mode = WM_MODE_DISCARD;
				} else {
					a->line[a->line_len++] = (char)c;
				}
			}
		}
	}
}

void wm_agent_lost(struct wm_agent *a, size_t lost) { wm_agent_lost_at(a, lost, false, a->ops->uptime_ms(a->ctx)); }

void wm_agent_lost_at(struct wm_agent *a, size_t lost, bool ends_line, uint32_t now_ms)
{
	if (a->mode == WM_MODE_PAYLOAD) {
		/* The payload cannot be whole: fail now rather than stall, and skip what is left of it. */
		char msg[96];
		size_t left = a->load_size - a->load_received;

		abort_load(a);
		snprintf(msg, sizeof(msg), "%lu payload bytes lost: the board's receive buffer overflowed", (unsigned long)lost);
		send_load_err(a, WM_RX_OVERRUN, msg);
		a->skip_left = lost <= left ? (uint32_t)(left - lost) : 0;
		/* A gap that ran on past the payload broke the line after it too (unless it ended that line): discarded, the LOAD_ERR said so. */
		a->mode = lost > left ? (ends_line ? WM_MODE_LINE : WM_MODE_OVERRUN) : a->skip_left > 0 ? WM_MODE_SKIP : WM_MODE_LINE;
		a->overrun_ms = now_ms;
		a->line_len = 0;
		return;
	}
	if (a->mode == WM_MODE_XSTREAM) {
		/* The stream is broken where no one can tell: not resumable; the rest of it is skipped. */
		char msg[96];
		char id[WM_MODULE_ID_MAX + 1];
		size_t left = a->xload.zsize - a->xload.consumed;

		strcpy(id, a->xload.id);
		drop_xload(a);
		snprintf(msg, sizeof(msg), "%lu payload bytes lost: the board's receive buffer overflowed", (unsigned long)lost);
		send_load_err_for(a, id, WM_RX_OVERRUN, msg);
		a->skip_left = lost <= left ? (uint32_t)(left - lost) : 0;
		a->mode = lost > left ? (ends_line ? WM_MODE_LINE : WM_MODE_OVERRUN) : a->skip_left > 0 ? WM_MODE_SKIP : WM_MODE_LINE;
		a->overrun_ms = now_ms;
		a->line_len = 0;
		return;
	}
	if (a->mode == WM_MODE_SKIP && lost <= a->skip_left) {
		a->skip_left -= (uint32_t)lost;
		a->mode = a->skip_left > 0 ? WM_MODE_SKIP : WM_MODE_LINE;
		return;
	}
	/*
	 * Said at once, not at the next LF: the bytes that would bring it may never come. When the
	 * lost bytes ended with the LF of the line they broke, the next byte starts a line (a new
	 * peer's first command is read whole); else the rest of the broken line is discarded up to
	 * its LF, or until the link has been quiet for overrun_quiet_ms (wm_agent_poll).
	 */
	a->line_len = 0;
	a->mode = ends_line ? WM_MODE_LINE : WM_MODE_OVERRUN;
	a->overrun_ms = now_ms;
	send_err(a, "RX_OVERRUN", "bytes were lost: the board's receive buffer overflowed; the line they broke is discarded");
}

void wm_agent_attach_rx(struct wm_agent *a, struct wm_rx *rx) { a->rx = rx; }

void wm_agent_service(struct wm_agent *a, uint32_t now_ms)
{
	uint8_t chunk[64];

	if (a->rx != NULL) {
		for (;;) {
			struct wm_rx_loss loss;
			size_t n = wm_rx_take(a->rx, chunk, sizeof(chunk), &loss);

			if (n > 0) {
				wm_agent_feed(a, chunk, n, now_ms);
			}
			if (loss.bytes > 0) {
				wm_agent_lost_at(a, loss.bytes, loss.ends_line, now_ms);
			}
			if (n == 0 && loss.bytes == 0) {
				break;
			}
		}
	}
	wm_agent_poll(a, now_ms);
}

void wm_agent_poll(struct wm_agent *a, uint32_t now_ms)
{
	if (a->mode == WM_MODE_OVERRUN && a->config.overrun_quiet_ms > 0 &&
	    (uint32_t)(now_ms - a->overrun_ms) >= a->config.overrun_quiet_ms) {
		/* The broken line's end was among the lost bytes: a quiet link means the next byte starts a line. */
		a->mode = WM_MODE_LINE;
		a->line_len = 0;
	}
	if (a->mode == WM_MODE_PAYLOAD && a->load_fed_limit < a->load_size) {
		/* Bytes the receive path lands itself count as progress, and may complete the payload. */
		size_t filled = wm_rx_filled(a->rx);

		if (filled > a->load_direct_seen) {
			a->load_direct_seen = filled;
			a->load_last_ms = now_ms;
		}
		if (payload_whole(a)) {
			finish_load(a);
			return;
		}
	}
	if (a->mode == WM_MODE_XSTREAM && (uint32_t)(now_ms - a->xload.last_ms) >= a->config.load_timeout_ms) {
		char msg[128];

		/* Kept: the same XLOAD carries on from here. */
		snprintf(msg, sizeof(msg), "stream stalled at offset %lu of %lu for %lu ms; XLOAD again resumes there",
			 (unsigned long)a->xload.consumed, (unsigned long)a->xload.zsize, (unsigned long)a->config.load_timeout_ms);
		a->mode = WM_MODE_LINE;
		a->line_len = 0;
		send_load_err_for(a, a->xload.id, WM_TIMEOUT, msg);
		return;
	}
	if (a->mode == WM_MODE_PAYLOAD && (uint32_t)(now_ms - a->load_last_ms) >= a->config.load_timeout_ms) {
		char msg[64];

		snprintf(msg, sizeof(msg), "payload stalled for %lu ms; back in line mode", (unsigned long)a->config.load_timeout_ms);
		abort_load(a);
		a->mode = WM_MODE_LINE;
		a->line_len = 0;
		send_load_err(a, WM_TIMEOUT, msg);
	}
}

size_t wm_format_result(char *buf, const char *id, const char *func, uint32_t job, const char *status,
			const char *value, const char *type, const char *msg, uint32_t elapsed_us)
{
	struct wm_writer w;

	wm_writer_begin(&w, buf, WM_LINE_MAX, "RESULT");
	wm_writer_str(&w, "module_id", id);
	wm_writer_str(&w, "func", func);
	wm_writer_u32(&w, "job", job);
	wm_writer_str(&w, "status", status);
	if (value != NULL) {
		wm_writer_str(&w, "value", value);
		wm_writer_str(&w, "type", type);
	}
	wm_writer_u32(&w, "elapsed_us", elapsed_us);
	if (msg != NULL) {
		wm_writer_msg(&w, "msg", msg);
	}
	return wm_writer_end(&w);
}

size_t wm_format_log(char *buf, const char *id, uint32_t job, uint32_t uptime_ms, const char *msg)
{
	struct wm_writer w;

	wm_writer_begin(&w, buf, WM_LINE_MAX, "LOG");
	wm_writer_str(&w, "module_id", id);
	wm_writer_u32(&w, "job", job);
	wm_writer_u32(&w, "uptime_ms", uptime_ms);
	wm_writer_msg(&w, "msg", msg);
	return wm_writer_end(&w);
}

bool wm_valid_name(const char *name, size_t max, bool allow_slash)
{
	size_t n = 0;

	for (; name[n] != '\0'; n++) {
		char c = name[n];
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
			  c == '.' || c == '-' || (allow_slash && c == '/');

		if (!ok || n >= max) {
			return false;
		}
	}
	return n > 0;
}

size_t wm_format_event(char *buf, const char *id, uint32_t job, uint32_t uptime_ms, const char *topic,
		       const uint8_t *data, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	char text[2 * WM_EVENT_DATA_MAX + 1];
	struct wm_writer w;

	if (len > WM_EVENT_DATA_MAX || !wm_valid_name(topic, WM_TOPIC_MAX, true)) {
		return 0;
	}
	for (size_t i = 0; i < len; i++) {
		text[2 * i] = hex[data[i] >> 4];
		text[2 * i + 1] = hex[data[i] & 15];
	}
	text[2 * len] = '\0';
	wm_writer_begin(&w, buf, WM_LINE_MAX, "EVENT");
	wm_writer_str(&w, "module_id", id);
	wm_writer_u32(&w, "job", job);
	wm_writer_u32(&w, "uptime_ms", uptime_ms);
	wm_writer_str(&w, "topic", topic);
	wm_writer_str(&w, "data", len > 0 ? text : "-");
	return wm_writer_end(&w);
}

void wm_event_bucket_init(struct wm_event_bucket *b, uint32_t per_second, uint32_t burst, uint32_t now_ms)
{
	b->per_second = per_second;
	b->burst = burst;
	b->milli_tokens = burst * 1000u;
	b->last_ms = now_ms;
}

bool wm_event_bucket_take(struct wm_event_bucket *b, uint32_t now_ms)
{
	uint32_t cap = b->burst * 1000u;
	/* per_second tokens a second are per_second thousandths a millisecond; wrap-safe elapsed time. */
	uint64_t refill = (uint64_t)(uint32_t)(now_ms - b->last_ms) * b->per_second;

	b->last_ms = now_ms;
	b->milli_tokens = refill >= cap - b->milli_tokens ? cap : b->milli_tokens + (uint32_t)refill;
	if (b->milli_tokens < 1000u) {
		return false;
	}
	b->milli_tokens -= 1000u;
	return true;
}
