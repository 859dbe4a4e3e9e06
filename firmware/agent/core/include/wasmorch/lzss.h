/*
 * The lzss1 codec's decoder (docs/protocol.md section 6b): byte-aligned LZSS, a 4096-byte window,
 * a frozen preset before the module. Works a byte at a time into the module buffer with a few
 * bytes of state, so an upload can stop at any byte and resume later with the same state; never
 * writes past the declared size. The C# side is src/Wasmorch.Protocol/Modules/Lzss1.cs.
 */
#ifndef WASMORCH_LZSS_H
#define WASMORCH_LZSS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The longest stream a module of `size` bytes may take: all literals, a flag byte per 8. */
#define WM_LZSS_MAX_STREAM(size) ((size) + ((size) + 7u) / 8u)

struct wm_lzss {
	uint32_t written;
	uint32_t consumed;
	uint8_t flags;
	uint8_t items_left;
	bool have_first;
	uint8_t first;
};

void wm_lzss_init(struct wm_lzss *d);

/*
 * Decodes `len` stream bytes into `out` (the module, `size` bytes). Returns true, or false with
 * what makes the stream malformed written to `why` (nothing after it counts).
 */
bool wm_lzss_feed(struct wm_lzss *d, const uint8_t *in, size_t len, uint8_t *out, uint32_t size, char *why, size_t why_cap);

/* After the last stream byte: true when the module is whole, else false with why. */
bool wm_lzss_finish(const struct wm_lzss *d, uint32_t size, char *why, size_t why_cap);

#ifdef __cplusplus
}
#endif

#endif /* WASMORCH_LZSS_H */
