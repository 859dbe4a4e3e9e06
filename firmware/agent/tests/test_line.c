/* Line parser: the grammar of docs/protocol.md §2, and typed errors for everything else. */
#include "check.h"
#include "wasmorch/proto.h"

static enum wm_parse_result parse(struct wm_line *l, const char *text)
{
	return wm_line_parse(l, text, strlen(text));
}

int main(void)
{
	static struct wm_line l;
	uint32_t u;
	int64_t i;

	CHECK(parse(&l, "START module_id=math_ops func=add args=\"a=10,b=15\"") == WM_PARSE_OK);
	CHECK_STR(l.verb, "START");
	CHECK_STR(wm_line_get(&l, "module_id"), "math_ops");
	CHECK_STR(wm_line_get(&l, "args"), "a=10,b=15");
	CHECK(wm_line_get(&l, "job") == NULL);

	CHECK(parse(&l, "  STATUS  \r") == WM_PARSE_OK);
	CHECK_STR(l.verb, "STATUS");
	CHECK(l.field_count == 0);

	CHECK(parse(&l, "RESULT msg=\"say \\\"hi\\\" \\\\ ok\"") == WM_PARSE_OK);
	CHECK_STR(wm_line_get(&l, "msg"), "say \"hi\" \\ ok");

	CHECK(parse(&l, "") == WM_PARSE_EMPTY);
	CHECK(parse(&l, "status") == WM_PARSE_BAD_VERB);
	CHECK(parse(&l, "LOAD module_id") == WM_PARSE_MISSING_EQUALS);
	CHECK(parse(&l, "LOAD =x") == WM_PARSE_BAD_KEY);
	CHECK(parse(&l, "LOAD size=") == WM_PARSE_BAD_VALUE);
	CHECK(parse(&l, "START args=\"a=1") == WM_PARSE_UNTERMINATED_QUOTE);
	CHECK(parse(&l, "START args=\"a\\n\"") == WM_PARSE_BAD_ESCAPE);
	CHECK(parse(&l, "START a=1 a=2") == WM_PARSE_DUPLICATE_KEY);
	CHECK(parse(&l, "START a=b\"c") == WM_PARSE_BAD_VALUE);
	CHECK(parse(&l, "LOAD \xff=1") == WM_PARSE_NOT_ASCII);
	CHECK(wm_line_parse(&l, "LOAD\0x", 6) == WM_PARSE_NOT_ASCII);

	CHECK(wm_parse_u32("4294967295", &u) && u == 4294967295u);
	CHECK(!wm_parse_u32("4294967296", &u));
	CHECK(!wm_parse_u32("-1", &u));
	CHECK(!wm_parse_u32("", &u));
	CHECK(wm_parse_i64("-9223372036854775808", &i) && i == INT64_MIN);
	CHECK(!wm_parse_i64("9223372036854775808", &i));
	CHECK(wm_parse_crc32("CBF43926", &u) && u == 0xcbf43926u);
	CHECK(!wm_parse_crc32("cbf4392", &u));
	CHECK(!wm_parse_crc32("cbf4392g", &u));

	CHECK(wm_module_id_valid("math_ops"));
	CHECK(wm_module_id_valid("a.b-c_9"));
	CHECK(!wm_module_id_valid(""));
	CHECK(!wm_module_id_valid("../etc"));
	CHECK(!wm_module_id_valid("123456789012345678901234567890123"));
	CHECK(wm_func_name_valid("add"));
	CHECK(!wm_func_name_valid("9add"));

	CHECK(wm_crc32_update(0, (const uint8_t *)"123456789", 9) == 0xcbf43926u);
	/* Incremental CRC equals one-shot CRC. */
	CHECK(wm_crc32_update(wm_crc32_update(0, (const uint8_t *)"1234", 4), (const uint8_t *)"56789", 5) == 0xcbf43926u);
	CHECK_DONE();
}
