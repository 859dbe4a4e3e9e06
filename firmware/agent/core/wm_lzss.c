/* The lzss1 decoder (docs/protocol.md section 6b); messages match the C# decoder's word for word. */
#include "wasmorch/lzss.h"

#include <stdio.h>

#include "wm_lzss_dict.h"

void wm_lzss_init(struct wm_lzss *d)
{
	d->written = 0;
	d->consumed = 0;
	d->flags = 0;
	d->items_left = 0;
	d->have_first = false;
	d->first = 0;
}

bool wm_lzss_feed(struct wm_lzss *d, const uint8_t *in, size_t len, uint8_t *out, uint32_t size, char *why, size_t why_cap)
{
	for (size_t i = 0; i < len; i++) {
		uint8_t b = in[i];

		if (d->written == size && !d->have_first) {
			snprintf(why, why_cap, "the stream goes on after the module's %lu bytes (at stream byte %lu)",
				 (unsigned long)size, (unsigned long)d->consumed);
			return false;
		}
		d->consumed++;
		if (d->items_left == 0) {
			d->flags = b;
			d->items_left = 8;
			continue;
		}
		if ((d->flags & 1u) == 0) {
			out[d->written++] = b;
		} else if (!d->have_first) {
			d->first = b;
			d->have_first = true;
			continue;
		} else {
			uint32_t distance = (((uint32_t)d->first << 4) | (uint32_t)(b >> 4)) + 1u;
			uint32_t length = (uint32_t)(b & 15u) + 3u;

			d->have_first = false;
			if (distance > d->written + WM_LZSS_DICT_LEN) {
				snprintf(why, why_cap,
					 "a reference %lu bytes back from module byte %lu reaches before the dictionary (stream byte %lu)",
					 (unsigned long)distance, (unsigned long)d->written, (unsigned long)(d->consumed - 1u));
				return false;
			}
			if (length > size - d->written) {
				snprintf(why, why_cap,
					 "a reference of %lu bytes at module byte %lu runs past the module's %lu bytes (stream byte %lu)",
					 (unsigned long)length, (unsigned long)d->written, (unsigned long)size,
					 (unsigned long)(d->consumed - 1u));
				return false;
			}
			for (uint32_t k = 0; k < length; k++) {
				out[d->written] = distance <= d->written ? out[d->written - distance]
									 : wm_lzss_dict[WM_LZSS_DICT_LEN - (distance - d->written)];
				d->written++;
			}
		}
		d->flags = (uint8_t)(d->flags >> 1);
		d->items_left--;
	}
	return true;
}

bool wm_lzss_finish(const struct wm_lzss *d, uint32_t size, char *why, size_t why_cap)
{
	if (d->written == size && !d->have_first) {
		return true;
	}
	snprintf(why, why_cap, "the stream ends after %lu bytes with %lu of the module's %lu bytes written",
		 (unsigned long)d->consumed, (unsigned long)d->written, (unsigned long)size);
	return false;
}
