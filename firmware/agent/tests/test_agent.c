/* The COMM state machine against a fake board: every command, LOAD in any fragmentation, errors. */
#include <stdlib.h>

#include "check.h"
#include "fake_board.h"

static struct fake_board board;
static struct wm_agent agent;
static char reply[WM_LINE_MAX + 1];

static void reset(bool extensions)
{
	struct wm_agent_config config = { .load_timeout_ms = 2000, .extensions = extensions };

	fake_board_free(&board);
	fake_board_init(&board);
	wm_agent_init(&agent, &fake_board_ops, &board, &config);
}

static void feed(const void *data, size_t len) { wm_agent_feed(&agent, data, len, board.now_ms); }

static void feed_str(const char *text) { feed(text, strlen(text)); }

/* Sends a line and returns the first reply line (or "" if none). */
static const char *request(const char *line)
{
	feed_str(line);
	feed_str("\n");
	if (!fake_board_next_line(&board, reply, sizeof(reply))) {
		reply[0] = '\0';
	}
	return reply;
}

static int starts_with(const char *s, const char *prefix) { return strncmp(s, prefix, strlen(prefix)) == 0; }

static const uint8_t module[] = { 0x00, 'a', 's', 'm', 0x01, 0x00, 0x00, 0x00, 0x42, 0x43 };

static void load_line(char *buf, size_t cap, const char *id, const uint8_t *bytes, size_t len, uint32_t crc_xor)
{
	snprintf(buf, cap, "LOAD module_id=%s size=%zu crc32=%08lx", id, len,
		 (unsigned long)(wm_crc32_update(0, bytes, len) ^ crc_xor));
}

static void test_load_start_stop(void)
{
	char line[128];

	reset(true);
	load_line(line, sizeof(line), "m", module, sizeof(module), 0);
	CHECK(starts_with(request(line), "LOAD_READY module_id=m"));
	feed(module, sizeof(module));
	CHECK(fake_board_next_line(&board, reply, sizeof(reply)));
	CHECK(starts_with(reply, "LOAD_OK module_id=m size=10 crc32="));

	CHECK(starts_with(request("START module_id=m func=f args=\"a=1,b=2\""), "START_OK module_id=m func=f job=1"));
	CHECK(board.started);
	CHECK(strstr(request("STATUS"), "state=RUNNING") != NULL);
	CHECK(strstr(reply, "modules=m") != NULL);
	CHECK(strstr(reply, "module_crcs=m:") != NULL);
	CHECK(starts_with(request("START module_id=m func=f"), "RESULT module_id=m func=f status=BUSY"));
	CHECK(starts_with(request("LOAD module_id=m size=10 crc32=00000000"), "ERR code=BUSY"));
	CHECK(starts_with(request("STOP module_id=m"), "STOP_OK module_id=m status=PENDING job=1"));
	CHECK(board.stop_requested);
	board.running = false;
	CHECK(starts_with(request("STOP module_id=m"), "STOP_OK module_id=m status=IDLE"));
	CHECK(starts_with(request("STOP module_id=x"), "ERR code=NO_MODULE"));
	CHECK(starts_with(request("START module_id=x func=f"), "RESULT module_id=x func=f status=NO_MODULE"));
	CHECK(starts_with(request("START module_id=m func=g"), "RESULT module_id=m func=g status=NO_FUNC"));
	CHECK(strstr(reply, "job=") == NULL);
	CHECK(starts_with(request("START module_id=m func=f args=\"1,x\""), "RESULT module_id=m func=f status=BAD_ARGS"));
	CHECK(starts_with(request("UNLOAD module_id=m"), "UNLOAD_OK module_id=m"));
	CHECK(starts_with(request("UNLOAD module_id=m"), "ERR code=NO_MODULE"));
}

static void test_fragmentation(void)
{
	char line[128];
	char both[256];
	size_t n;

	reset(true);
	load_line(line, sizeof(line), "m", module, sizeof(module), 0);
	/* The command line itself one byte at a time, then the payload one byte at a time. */
	for (size_t i = 0; i < strlen(line); i++) {
		feed(&line[i], 1);
	}
	feed("\n", 1);
	CHECK(fake_board_next_line(&board, reply, sizeof(reply)) && starts_with(reply, "LOAD_READY"));
	for (size_t i = 0; i < sizeof(module); i++) {
		feed(&module[i], 1);
	}
	CHECK(fake_board_next_line(&board, reply, sizeof(reply)) && starts_with(reply, "LOAD_OK"));

	/* LOAD line, payload and the next command in one write. */
	n = (size_t)snprintf(both, sizeof(both), "%s\n", line);
	memcpy(both + n, module, sizeof(module));
	n += sizeof(module);
	memcpy(both + n, "STATUS\n", 7);
	n += 7;
	feed(both, n);
	CHECK(fake_board_next_line(&board, reply, sizeof(reply)) && starts_with(reply, "LOAD_READY"));
	CHECK(fake_board_next_line(&board, reply, sizeof(reply)) && starts_with(reply, "LOAD_OK"));
	CHECK(fake_board_next_line(&board, reply, sizeof(reply)) && starts_with(reply, "STATUS state=IDLE"));
	CHECK(board.buffers_out == 0);
}

static void test_load_errors(void)
{
	char line[128];
	static const uint8_t junk[] = "not wasm at all";

	reset(true);
	load_line(line, sizeof(line), "m", module, sizeof(module), 1);
	request(line);
	feed(module, sizeof(module));
	CHECK(fake_board_next_line(&board, reply, sizeof(reply)) && starts_with(reply, "LOAD_ERR module_id=m code=CRC_MISMATCH"));

	load_line(line, sizeof(line), "m", junk, sizeof(junk), 0);
	request(line);
	feed(junk, sizeof(junk));
	CHECK(fake_board_next_line(&board, reply, sizeof(reply)) && starts_with(reply, "LOAD_ERR module_id=m code=INVALID_MODULE"));

	/* A stall: half the payload, then silence past the load timeout. */
	load_line(line, sizeof(line), "m", module, sizeof(module), 0);
	board.now_ms = 1000;
	request(line);
	feed(module, 4);
	board.now_ms = 2999;
	wm_agent_poll(&agent, board.now_ms);
	CHECK(!fake_board_next_line(&board, reply, sizeof(reply)));
	board.now_ms = 3000;
	wm_agent_poll(&agent, board.now_ms);
	CHECK(fake_board_next_line(&board, reply, sizeof(reply)) && starts_with(reply, "LOAD_ERR module_id=m code=TIMEOUT"));
	CHECK(starts_with(request("STATUS"), "STATUS"));

	CHECK(starts_with(request("LOAD module_id=m size=999999 crc32=00000000"), "ERR code=TOO_LARGE"));
	CHECK(starts_with(request("LOAD module_id=m size=0 crc32=00000000"), "ERR code=BAD_ARGS"));
	CHECK(starts_with(request("LOAD module_id=m size=10 crc32=xyz"), "ERR code=BAD_ARGS"));
	CHECK(starts_with(request("LOAD module_id=../x size=10 crc32=00000000"), "ERR code=BAD_ARGS"));
	CHECK(board.buffers_out == 0);
}

static void test_bad_lines(void)
{
	char longline[600];

	reset(true);
	CHECK(starts_with(request("FLASH now=1"), "ERR code=BAD_COMMAND"));
	CHECK(starts_with(request("status"), "ERR code=BAD_COMMAND"));
	CHECK(starts_with(request("STOP module_id=a module_id=b"), "ERR code=BAD_COMMAND"));
	CHECK(starts_with(request("\x01\xff\x80"), "ERR code=BAD_COMMAND"));
	memset(longline, 'x', sizeof(longline) - 1);
	longline[sizeof(longline) - 1] = '\0';
	CHECK(starts_with(request(longline), "ERR code=LINE_TOO_LONG"));
	CHECK(!fake_board_next_line(&board, reply, sizeof(reply)));
	CHECK(starts_with(request("STATUS"), "STATUS"));
	/* Blank lines and CR LF. */
	feed_str("\r\n\nSTATUS\r\n");
	CHECK(fake_board_next_line(&board, reply, sizeof(reply)) && starts_with(reply, "STATUS"));
	CHECK(!fake_board_next_line(&board, reply, sizeof(reply)));
}

static void test_negotiation(void)
{
	reset(true);
	CHECK(!agent.peer_negotiated);
	CHECK(starts_with(request("HELLO proto=1"), "HELLO_OK proto=1 agent=fake/1"));
	CHECK(strstr(reply, "extensions=PING,UNLOAD,LOG") != NULL);
	CHECK(agent.peer_negotiated);
	CHECK(starts_with(request("PING"), "PONG uptime_ms="));
	wm_agent_reset_link(&agent);
	CHECK(!agent.peer_negotiated);

	reset(false);
	CHECK(starts_with(request("HELLO proto=1"), "ERR code=BAD_COMMAND"));
	CHECK(starts_with(request("PING"), "ERR code=BAD_COMMAND"));
	CHECK(starts_with(request("UNLOAD module_id=m"), "ERR code=BAD_COMMAND"));
}

static void test_result_format(void)
{
	char buf[WM_LINE_MAX];
	static struct wm_line l;
	size_t n = wm_format_result(buf, "m", "add", 3, "OK", "25", "i32", NULL, 42);

	CHECK(memcmp(buf, "RESULT module_id=m func=add job=3 status=OK value=25 type=i32 elapsed_us=42\n", n) == 0);
	n = wm_format_result(buf, "m", "div", 4, "TRAP", NULL, NULL, "integer divide by zero", 7);
	CHECK(wm_line_parse(&l, buf, n - 1) == WM_PARSE_OK);
	CHECK_STR(wm_line_get(&l, "msg"), "integer divide by zero");
	n = wm_format_log(buf, "m", 4, 100, "hello \"x\"");
	CHECK(wm_line_parse(&l, buf, n - 1) == WM_PARSE_OK);
	CHECK_STR(wm_line_get(&l, "msg"), "hello \"x\"");
}

/* Ids whose list would overflow STATUS are refused before any byte, and STATUS always fits a line. */
static void test_module_list_limit(void)
{
	char line[128];
	char id[WM_MODULE_ID_MAX + 1];
	int loaded = 0;

	reset(true);
	for (int i = 0; i < FAKE_MAX_MODULES; i++) {
		snprintf(id, sizeof(id), "m%02dxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", i);
		load_line(line, sizeof(line), id, module, sizeof(module), 0);
		if (!starts_with(request(line), "LOAD_READY")) {
			CHECK(starts_with(reply, "ERR code=NO_MEMORY"));
			break;
		}
		feed(module, sizeof(module));
		CHECK(fake_board_next_line(&board, reply, sizeof(reply)));
		CHECK(starts_with(reply, "LOAD_OK"));
		loaded++;
		CHECK(strlen(request("STATUS")) < WM_LINE_MAX);
	}
	CHECK(loaded == 2);
	/* Replacing a module already listed is always possible. */
	load_line(line, sizeof(line), "m00xxxxxxxxxxxxxxxxxxxxxxxxxxxxx", module, sizeof(module), 0);
	CHECK(starts_with(request(line), "LOAD_READY"));
	feed(module, sizeof(module));
	CHECK(fake_board_next_line(&board, reply, sizeof(reply)));
	CHECK(starts_with(reply, "LOAD_OK"));
}

int main(void)
{
	test_load_start_stop();
	test_fragmentation();
	test_load_errors();
	test_bad_lines();
	test_negotiation();
	test_result_format();
	test_module_list_limit();
	fake_board_free(&board);
	CHECK_DONE();
}
