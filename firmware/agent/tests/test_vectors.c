/*
 * Replays docs/protocol-vectors.txt against the core and the fake board: every reply line must be
 * the vector's, byte for byte (key=* matches any value). The emulator replays the same file
 * (tests/Wasmorch.Emulator.Tests/TranscriptVectorTests.cs), so the two agents cannot drift apart.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake_board.h"

static struct fake_board board;
static struct wm_agent agent;
static int failures;
static int cases;
static char case_name[128];
static int line_no;

static void fail(const char *what, const char *expected, const char *actual)
{
	failures++;
	fprintf(stderr, "protocol-vectors.txt:%d: case %s: %s\n  expected: %s\n  actual:   %s\n", line_no, case_name, what,
		expected, actual);
}

/* Skips one value (bare or quoted) of `s`; returns the byte after it. */
static const char *skip_value(const char *s)
{
	if (*s == '"') {
		for (s++; *s != '\0' && *s != '"'; s++) {
			if (*s == '\\' && s[1] != '\0') {
				s++;
			}
		}
		return *s == '"' ? s + 1 : s;
	}
	while (*s != '\0' && *s != ' ') {
		s++;
	}
	return s;
}

/* Byte for byte, except that "=*" ending a field of `expected` matches any value of `actual`. */
static int line_matches(const char *expected, const char *actual)
{
	while (*expected != '\0') {
		if (expected[0] == '=' && expected[1] == '*' && (expected[2] == ' ' || expected[2] == '\0')) {
			if (*actual != '=') {
				return 0;
			}
			actual = skip_value(actual + 1);
			expected += 2;
			continue;
		}
		if (*expected++ != *actual++) {
			return 0;
		}
	}
	return *actual == '\0';
}

static void feed(const void *data, size_t len) { wm_agent_feed(&agent, data, len, board.now_ms); }

static int hex_digit(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* \t \r \n \\ \xHH */
static size_t unescape(const char *in, uint8_t *out)
{
	size_t n = 0;

	while (*in != '\0') {
		if (*in != '\\') {
			out[n++] = (uint8_t)*in++;
			continue;
		}
		in++;
		switch (*in) {
		case 't': out[n++] = '\t'; in++; break;
		case 'r': out[n++] = '\r'; in++; break;
		case 'n': out[n++] = '\n'; in++; break;
		case 'x': out[n++] = (uint8_t)(hex_digit(in[1]) * 16 + hex_digit(in[2])); in += 3; break;
		default: out[n++] = (uint8_t)*in++; break;
		}
	}
	return n;
}

static void end_case(void)
{
	char extra[WM_LINE_MAX + 1];

	if (case_name[0] != '\0' && fake_board_next_line(&board, extra, sizeof(extra))) {
		fail("the agent sent more than the vector says", "(nothing)", extra);
	}
	fake_board_free(&board);
}

static uint8_t link_key[64];

static void begin_case(const char *spec)
{
	struct wm_agent_config config = { .load_timeout_ms = 2000, .extensions = strstr(spec, " baseline") == NULL, .xload_window = 1024 };
	const char *key = strstr(spec, " key=");
	char boot[WM_LINE_MAX + 1];
	int has_boot;

	end_case();
	snprintf(case_name, sizeof(case_name), "%.*s", (int)strcspn(spec, " "), spec);
	cases++;
	fake_board_init(&board);
	board.max_module = 4096;
	board.now_ms = 1000;
	if (key != NULL) {
		size_t n = 0;

		for (const char *p = key + 5; n < sizeof(link_key) && hex_digit(p[0]) >= 0 && hex_digit(p[1]) >= 0; p += 2) {
			link_key[n++] = (uint8_t)(hex_digit(p[0]) * 16 + hex_digit(p[1]));
		}
		config.link_key = link_key;
		config.link_key_len = n;
	}
	wm_agent_init(&agent, &fake_board_ops, &board, &config);
	wm_agent_boot(&agent);
	has_boot = fake_board_next_line(&board, boot, sizeof(boot));
	if (config.extensions && !(has_boot && line_matches("BOOT agent=* board=*", boot))) {
		fail("a board starts with its BOOT line", "BOOT agent=* board=*", has_boot ? boot : "(nothing)");
	}
	if (!config.extensions && has_boot) {
		fail("a seed-baseline agent sends no BOOT", "(nothing)", boot);
	}
}

static void step(char *line)
{
	static uint8_t bytes[4096];
	char actual[WM_LINE_MAX + 1];

	if (strncmp(line, "case ", 5) == 0) {
		begin_case(line + 5);
	} else if (strncmp(line, ">> ", 3) == 0) {
		feed(bytes, unescape(line + 3, bytes));
	} else if (strncmp(line, ">fill ", 6) == 0) {
		char c = 0;
		int n = 0;

		sscanf(line + 6, "%d %c", &n, &c);
		memset(bytes, c, sizeof(bytes));
		for (; n > 0; n -= (int)sizeof(bytes)) {
			feed(bytes, n < (int)sizeof(bytes) ? (size_t)n : sizeof(bytes));
		}
	} else if (strncmp(line, ">payload ", 9) == 0) {
		size_t n = 0;

		for (const char *p = line + 9; p[0] != '\0' && p[1] != '\0'; p += 2) {
			bytes[n++] = (uint8_t)(hex_digit(p[0]) * 16 + hex_digit(p[1]));
		}
		feed(bytes, n);
	} else if (strncmp(line, "> ", 2) == 0 || strcmp(line, ">") == 0) {
		const char *text = line[1] == ' ' ? line + 2 : "";

		feed(text, strlen(text));
		feed("\n", 1);
	} else if (strncmp(line, "~ ", 2) == 0) {
		board.now_ms += (uint32_t)atoi(line + 2);
		wm_agent_poll(&agent, board.now_ms);
	} else if (strncmp(line, "< ", 2) == 0) {
		if (!fake_board_next_line(&board, actual, sizeof(actual))) {
			fail("no reply", line + 2, "(nothing)");
		} else if (!line_matches(line + 2, actual)) {
			fail("reply differs", line + 2, actual);
		}
	} else if (line[0] != '#' && line[0] != '\0') {
		fail("unknown vector directive", "> >> >fill >payload ~ < case #", line);
	}
}

int main(int argc, char **argv)
{
	static char line[8192];
	FILE *file = fopen(argc > 1 ? argv[1] : "docs/protocol-vectors.txt", "r");

	if (file == NULL) {
		perror("protocol-vectors.txt");
		return 1;
	}
	while (fgets(line, sizeof(line), file) != NULL) {
		line_no++;
		line[strcspn(line, "\n")] = '\0';
		step(line);
	}
	fclose(file);
	end_case();
	printf("protocol vectors: %d cases, %d mismatches\n", cases, failures);
	return failures == 0 && cases > 0 ? 0 : 1;
}
