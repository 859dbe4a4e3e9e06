/* The args grammar (docs/protocol.md §3): positional numbers, optional names. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wasmorch/proto.h"

static bool is_name_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

static bool is_name(const char *p, size_t len)
{
	if (len == 0 || len > WM_FUNC_NAME_MAX || (p[0] >= '0' && p[0] <= '9')) {
		return false;
	}
	for (size_t i = 0; i < len; i++) {
		if (!is_name_char(p[i])) {
			return false;
		}
	}
	return true;
}

static void trim(const char **p, size_t *len)
{
	while (*len > 0 && **p == ' ') {
		(*p)++;
		(*len)--;
	}
	while (*len > 0 && (*p)[*len - 1] == ' ') {
		(*len)--;
	}
}

/* The messages are the emulator's (FuncArgs.cs) word for word: docs/protocol-vectors.txt checks both. */
int wm_args_parse(const char *args, struct wm_args *out, char *err, size_t err_cap)
{
	int parts = 1;

	out->count = 0;
	if (args == NULL) {
		return 0;
	}
	while (*args == ' ') {
		args++;
	}
	if (*args == '\0') {
		return 0;
	}
	for (const char *p = args; *p != '\0'; p++) {
		parts += *p == ',';
	}
	if (parts > WM_MAX_ARGS) {
		snprintf(err, err_cap, "%d arguments; at most %d", parts, WM_MAX_ARGS);
		return -1;
	}
	for (;;) {
		const char *end = strchr(args, ',');
		size_t len = end ? (size_t)(end - args) : strlen(args);
		const char *eq = memchr(args, '=', len);
		const char *name = NULL;
		size_t name_len = 0;
		const char *value = args;
		size_t value_len = len;
		double ignored;
		int64_t as_int;
		int n = out->count + 1;

		if (eq != NULL) {
			name = args;
			name_len = (size_t)(eq - args);
			trim(&name, &name_len);
			if (!is_name(name, name_len)) {
				snprintf(err, err_cap, "argument %d: '%.*s' is not a name", n, (int)name_len, name);
				return -1;
			}
			value = eq + 1;
			value_len = len - (size_t)(value - args);
		}
		trim(&value, &value_len);
		if (value_len >= sizeof(out->text[0])) {
			snprintf(err, err_cap, "argument %d: longer than %d characters", n, (int)sizeof(out->text[0]) - 1);
			return -1;
		}
		memcpy(out->text[out->count], value, value_len);
		out->text[out->count][value_len] = '\0';
		if (!wm_arg_to_f64(out->text[out->count], &ignored) && !wm_arg_to_i64(out->text[out->count], &as_int)) {
			if (name != NULL) {
				snprintf(err, err_cap, "argument %d (%.*s): '%s' is not a number", n, (int)name_len, name,
					 out->text[out->count]);
			} else {
				snprintf(err, err_cap, "argument %d: '%s' is not a number", n, out->text[out->count]);
			}
			return -1;
		}
		out->count++;
		if (end == NULL) {
			return 0;
		}
		args = end + 1;
	}
}

bool wm_arg_to_i64(const char *text, int64_t *out)
{
	bool negative = false;
	const char *p = text;

	if (*p == '-' || *p == '+') {
		negative = *p == '-';
		p++;
	}
	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		uint64_t v = 0;

		p += 2;
		if (*p == '\0') {
			return false;
		}
		for (; *p; p++) {
			char c = *p;
			unsigned d;

			if (c >= '0' && c <= '9') {
				d = (unsigned)(c - '0');
			} else if (c >= 'a' && c <= 'f') {
				d = (unsigned)(c - 'a' + 10);
			} else if (c >= 'A' && c <= 'F') {
				d = (unsigned)(c - 'A' + 10);
			} else {
				return false;
			}
			if (v >> 60) {
				return false;
			}
			v = (v << 4) | d;
		}
		*out = negative ? (int64_t)(0 - v) : (int64_t)v;
		return true;
	}
	return wm_parse_i64(text, out);
}

bool wm_arg_to_i32(const char *text, int32_t *out)
{
	int64_t v;

	/* i32 takes -2^31 .. 2^32-1: the upper half wraps, as an unsigned C value would. */
	if (!wm_arg_to_i64(text, &v) || v < INT32_MIN || v > (int64_t)UINT32_MAX) {
		return false;
	}
	*out = (int32_t)(uint32_t)v;
	return true;
}

bool wm_arg_to_f64(const char *text, double *out)
{
	char *end;
	double v;

	if (strcmp(text, "inf") == 0 || strcmp(text, "+inf") == 0) {
		*out = INFINITY;
		return true;
	}
	if (strcmp(text, "-inf") == 0) {
		*out = -INFINITY;
		return true;
	}
	if (strcmp(text, "nan") == 0) {
		*out = NAN;
		return true;
	}
	if (text[0] == '\0' || (text[0] == '0' && (text[1] == 'x' || text[1] == 'X'))) {
		return false;
	}
	errno = 0;
	v = strtod(text, &end);
	if (*end != '\0' || errno == ERANGE || end == text || isinf(v) || isnan(v)) {
		return false;
	}
	*out = v;
	return true;
}
