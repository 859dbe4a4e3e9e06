/*
 * libFuzzer target for the lzss1 decoder: the first two bytes declare the module's size, the rest
 * is the stream, fed in pieces the next byte chooses. Invariants: no crash, no sanitizer report
 * (never a byte written past the declared size however much a stream claims), and the decoder
 * never takes more than WM_LZSS_MAX_STREAM(size) bytes without refusing.
 */
#include <stdlib.h>
#include <string.h>

#include "wasmorch/lzss.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wm_lzss d;
	char why[160];
	uint32_t module_size;
	uint8_t *module;
	size_t i = 2;

	if (size < 2) {
		return 0;
	}
	module_size = (uint32_t)data[0] | ((uint32_t)data[1] << 8);
	/* Exactly the declared size on the heap: ASan reports any write past it. */
	module = malloc(module_size > 0 ? module_size : 1);
	if (module == NULL) {
		return 0;
	}
	wm_lzss_init(&d);
	while (i < size) {
		size_t piece = (size_t)(data[i] % 16) + 1;

		if (piece > size - i) {
			piece = size - i;
		}
		if (!wm_lzss_feed(&d, data + i, piece, module, module_size, why, sizeof(why))) {
			break;
		}
		if (d.consumed > WM_LZSS_MAX_STREAM(module_size) && d.written < module_size) {
			abort();
		}
		i += piece;
	}
	(void)wm_lzss_finish(&d, module_size, why, sizeof(why));
	free(module);
	return 0;
}
