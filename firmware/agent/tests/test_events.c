/*
 * docs/protocol.md 6c: EVENT lines and the per-job event rate. The expected lines are the same as
 * the emulator's (tests/Wasmorch.Protocol.Tests/EventLineTests.cs).
 */
#include "check.h"
#include "wasmorch/agent.h"

int main(void)
{
	char buf[WM_LINE_MAX];
	uint8_t data[WM_EVENT_DATA_MAX + 1];
	struct wm_event_bucket b;
	size_t n;
	int sent = 0;

	n = wm_format_event(buf, "thermostat", 3, 1200, "temp", (const uint8_t *)"\x00\x58\xff", 3);
	buf[n] = '\0';
	CHECK_STR(buf, "EVENT module_id=thermostat job=3 uptime_ms=1200 topic=temp data=0058ff\n");
	n = wm_format_event(buf, "m", 1, 0, "button/pressed", NULL, 0);
	buf[n] = '\0';
	CHECK_STR(buf, "EVENT module_id=m job=1 uptime_ms=0 topic=button/pressed data=-\n");

	/* The longest line fits: 32-byte id, 10-digit numbers, 32-byte topic, 48 bytes of data. */
	memset(data, 0xab, sizeof(data));
	n = wm_format_event(buf, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 4294967295u, 4294967295u, "tttttttttttttttttttttttttttttttt",
			    data, WM_EVENT_DATA_MAX);
	CHECK(n > 0 && n <= WM_LINE_MAX && buf[n - 1] == '\n');
	CHECK(wm_format_event(buf, "m", 1, 0, "t", data, WM_EVENT_DATA_MAX + 1) == 0);
	CHECK(wm_format_event(buf, "m", 1, 0, "", data, 1) == 0);
	CHECK(wm_format_event(buf, "m", 1, 0, "no space", data, 1) == 0);
	CHECK(wm_format_event(buf, "m", 1, 0, "ttttttttttttttttttttttttttttttttt", data, 1) == 0);

	CHECK(wm_valid_name("a.b-c_9", WM_KV_KEY_MAX, false));
	CHECK(!wm_valid_name("a/b", WM_KV_KEY_MAX, false));
	CHECK(wm_valid_name("a/b", WM_TOPIC_MAX, true));
	CHECK(!wm_valid_name("0123456789abcdef", WM_KV_KEY_MAX, false));

	/* A burst of 5, then 10 a second: 5 at once, none more at the same instant, 1 per 100 ms. */
	wm_event_bucket_init(&b, 10, 5, 1000);
	for (int i = 0; i < 8; i++) {
		sent += wm_event_bucket_take(&b, 1000) ? 1 : 0;
	}
	CHECK(sent == 5);
	CHECK(!wm_event_bucket_take(&b, 1099));
	CHECK(wm_event_bucket_take(&b, 1100));
	CHECK(!wm_event_bucket_take(&b, 1100));
	/* A long pause refills to the burst, never beyond, also across the 32-bit clock's wrap. */
	wm_event_bucket_init(&b, 10, 2, 4294967000u);
	CHECK(wm_event_bucket_take(&b, 4294967000u) && wm_event_bucket_take(&b, 4294967000u));
	CHECK(!wm_event_bucket_take(&b, 4294967000u));
	CHECK(wm_event_bucket_take(&b, 60000u) && wm_event_bucket_take(&b, 60000u));
	CHECK(!wm_event_bucket_take(&b, 60000u));
	CHECK_DONE();
}
