/* Line parsing (docs/protocol.md §2): pure, bounded, no allocation. */
#include <string.h>

#include "wasmorch/proto.h"

static bool is_upper(char c) { return c >= 'A' && c <= 'Z'; }
static bool is_digit(char c) { return c >= '0' && c <= '9'; }
static bool is_alnum(char c) { return is_upper(c) || (c >= 'a' && c <= 'z') || is_digit(c); }
static bool is_space(char c) { return c == ' ' || c == '\t'; }

const char *wm_parse_result_str(enum wm_parse_result result)
{
	switch (result) {
	case WM_PARSE_OK: return "ok";
	case WM_PARSE_EMPTY: return "empty line";
	case WM_PARSE_NOT_ASCII: return "byte is not printable ASCII";
	case WM_PARSE_BAD_VERB: return "a verb is upper-case letters, digits and '_'";
	case WM_PARSE_BAD_KEY: return "expected key=value";
	case WM_PARSE_MISSING_EQUALS: return "key has no '=value'";
	case WM_PARSE_BAD_VALUE: return "malformed value";
	case WM_PARSE_UNTERMINATED_QUOTE: return "quoted value is not closed";
	case WM_PARSE_BAD_ESCAPE: return "only \\\" and \\\\ are escapes";
	case WM_PARSE_DUPLICATE_KEY: return "a key appears twice";
	case WM_PARSE_TOO_MANY_FIELDS: return "too many fields";
	case WM_PARSE_TOO_LONG: return "lines are at most 256 bytes";
	}
	return "?";
}

enum wm_parse_result wm_line_parse(struct wm_line *line, const char *text, size_t len)
{
	size_t in = 0;
	size_t out = 0;
	char *s = line->storage;

	line->verb = NULL;
	line->field_count = 0;
	/* At most WM_LINE_MAX bytes with the LF that ended it (a CR counts as content). */
	if (len + 1 > WM_LINE_MAX) {
		return WM_PARSE_TOO_LONG;
	}
	if (len > 0 && text[len - 1] == '\r') {
		len--;
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)text[i];

		if (c > 0x7e || (c < 0x20 && c != '\t')) {
			return WM_PARSE_NOT_ASCII;
		}
	}
	while (in < len && is_space(text[in])) {
		in++;
	}
	if (in == len) {
		return WM_PARSE_EMPTY;
	}

	line->verb = &s[out];
	for (size_t start = in; in < len && !is_space(text[in]); in++) {
		char c = text[in];

		if (!(is_upper(c) || c == '_' || (in > start && is_digit(c)))) {
			return WM_PARSE_BAD_VERB;
		}
		s[out++] = c;
	}
	s[out++] = '\0';

	for (;;) {
		struct wm_field *field;

		while (in < len && is_space(text[in])) {
			in++;
		}
		if (in == len) {
			return WM_PARSE_OK;
		}
		if (line->field_count == WM_MAX_FIELDS) {
			return WM_PARSE_TOO_MANY_FIELDS;
		}
		field = &line->fields[line->field_count];
		field->key = &s[out];
		if (!(is_alnum(text[in]) || text[in] == '_')) {
			return WM_PARSE_BAD_KEY;
		}
		while (in < len && (is_alnum(text[in]) || text[in] == '_')) {
			s[out++] = text[in++];
		}
		s[out++] = '\0';
		if (in == len || text[in] != '=') {
			return WM_PARSE_MISSING_EQUALS;
		}
		in++;
		field->value = &s[out];
		if (in < len && text[in] == '"') {
			in++;
			for (;;) {
				if (in == len) {
					return WM_PARSE_UNTERMINATED_QUOTE;
				}
				if (text[in] == '"') {
					in++;
					break;
				}
				if (text[in] == '\\') {
					in++;
					if (in == len || (text[in] != '"' && text[in] != '\\')) {
						return WM_PARSE_BAD_ESCAPE;
					}
				}
				s[out++] = text[in++];
			}
			if (in < len && !is_space(text[in])) {
				return WM_PARSE_BAD_VALUE;
			}
		} else {
			size_t start = in;

			while (in < len && !is_space(text[in])) {
				if (text[in] == '"') {
					return WM_PARSE_BAD_VALUE;
				}
				s[out++] = text[in++];
			}
			if (in == start) {
				return WM_PARSE_BAD_VALUE;
			}
		}
		s[out++] = '\0';
		for (int i = 0; i < line->field_count; i++) {
			if (strcmp(line->fields[i].key, field->key) == 0) {
				return WM_PARSE_DUPLICATE_KEY;
			}
		}
		line->field_count++;
	}
}

const char *wm_line_get(const struct wm_line *line, const char *key)
{
	for (int i = 0; i < line->field_count; i++) {
		if (strcmp(line->fields[i].key, key) == 0) {
			return line->fields[i].value;
		}
	}
	return NULL;
}

bool wm_parse_u32(const char *text, uint32_t *out)
{
	uint64_t v = 0;

	if (text == NULL || *text == '\0') {
		return false;
	}
	for (; *text; text++) {
		if (!is_digit(*text)) {
			return false;
		}
		v = v * 10 + (uint64_t)(*text - '0');
		if (v > UINT32_MAX) {
			return false;
		}
	}
	*out = (uint32_t)v;
	return true;
}

bool wm_parse_i64(const char *text, int64_t *out)
{
	bool negative = false;
	uint64_t v = 0;

	if (text == NULL) {
		return false;
	}
	if (*text == '-' || *text == '+') {
		negative = *text == '-';
		text++;
	}
	if (*text == '\0') {
		return false;
	}
	for (; *text; text++) {
		if (!is_digit(*text)) {
			return false;
		}
		if (v > (UINT64_MAX - 9) / 10) {
			return false;
		}
		v = v * 10 + (uint64_t)(*text - '0');
	}
	if (v > (uint64_t)INT64_MAX + (negative ? 1u : 0u)) {
		return false;
	}
	*out = negative ? (int64_t)(0 - v) : (int64_t)v;
	return true;
}

bool wm_parse_crc32(const char *text, uint32_t *out)
{
	uint32_t v = 0;

	if (text == NULL || strlen(text) != 8) {
		return false;
	}
	for (int i = 0; i < 8; i++) {
		char c = text[i];
		uint32_t d;

		if (is_digit(c)) {
			d = (uint32_t)(c - '0');
		} else if (c >= 'a' && c <= 'f') {
			d = (uint32_t)(c - 'a' + 10);
		} else if (c >= 'A' && c <= 'F') {
			d = (uint32_t)(c - 'A' + 10);
		} else {
			return false;
		}
		v = (v << 4) | d;
	}
	*out = v;
	return true;
}

bool wm_module_id_valid(const char *id)
{
	size_t n = 0;

	if (id == NULL) {
		return false;
	}
	for (; id[n]; n++) {
		char c = id[n];

		if (!(is_alnum(c) || c == '_' || c == '.' || c == '-') || n >= WM_MODULE_ID_MAX) {
			return false;
		}
	}
	return n > 0;
}

bool wm_func_name_valid(const char *name)
{
	size_t n = 0;

	if (name == NULL || is_digit(name[0])) {
		return false;
	}
	for (; name[n]; n++) {
		if (!(is_alnum(name[n]) || name[n] == '_') || n >= WM_FUNC_NAME_MAX) {
			return false;
		}
	}
	return n > 0;
}
