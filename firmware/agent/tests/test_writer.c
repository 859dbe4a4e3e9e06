/* Reply formatting: bare or quoted values, escapes, and lines that never exceed WM_LINE_MAX. */
#include "check.h"
#include "wasmorch/proto.h"

int main(void)
{
	char buf[WM_LINE_MAX];
	char long_msg[600];
	struct wm_writer w;
	static struct wm_line l;
	size_t n;

	wm_writer_begin(&w, buf, sizeof(buf), "START_OK");
	wm_writer_str(&w, "module_id", "math_ops");
	wm_writer_u32(&w, "job", 7);
	n = wm_writer_end(&w);
	CHECK(n == strlen("START_OK module_id=math_ops job=7\n"));
	CHECK(memcmp(buf, "START_OK module_id=math_ops job=7\n", n) == 0);

	wm_writer_begin(&w, buf, sizeof(buf), "RESULT");
	wm_writer_msg(&w, "msg", "say \"hi\" \\ bye");
	wm_writer_i64(&w, "value", -25);
	n = wm_writer_end(&w);
	CHECK(wm_line_parse(&l, buf, n - 1) == WM_PARSE_OK);
	CHECK_STR(wm_line_get(&l, "msg"), "say \"hi\" \\ bye");
	CHECK_STR(wm_line_get(&l, "value"), "-25");

	memset(long_msg, 'x', sizeof(long_msg) - 1);
	long_msg[sizeof(long_msg) - 1] = '\0';
	long_msg[10] = '"';
	wm_writer_begin(&w, buf, sizeof(buf), "RESULT");
	wm_writer_str(&w, "status", "TRAP");
	wm_writer_msg(&w, "msg", long_msg);
	n = wm_writer_end(&w);
	CHECK(n <= WM_LINE_MAX);
	CHECK(buf[n - 1] == '\n');
	CHECK(wm_line_parse(&l, buf, n - 1) == WM_PARSE_OK);
	CHECK(strstr(wm_line_get(&l, "msg"), "...") != NULL);

	wm_writer_begin(&w, buf, sizeof(buf), "LOAD_OK");
	wm_writer_hex32(&w, "crc32", 0x0000abcd);
	n = wm_writer_end(&w);
	CHECK(memcmp(buf, "LOAD_OK crc32=0000abcd\n", n) == 0);
	CHECK_DONE();
}
