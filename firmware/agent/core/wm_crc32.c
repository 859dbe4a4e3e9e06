/* CRC32 (IEEE 802.3, reflected 0xEDB88320), nibble table: 64 bytes of flash instead of 1 KiB. */
#include "wasmorch/proto.h"

static const uint32_t crc_nibble[16] = {
	0x00000000, 0x1db71064, 0x3b6e20c8, 0x26d930ac, 0x76dc4190, 0x6b6b51f4, 0x4db26158, 0x5005713c,
	0xedb88320, 0xf00f9344, 0xd6d6a3e8, 0xcb61b38c, 0x9b64c2b0, 0x86d3d2d4, 0xa00ae278, 0xbdbdf21c,
};

uint32_t wm_crc32_update(uint32_t crc, const uint8_t *data, size_t len)
{
	crc = ~crc;
	while (len--) {
		crc ^= *data++;
		crc = (crc >> 4) ^ crc_nibble[crc & 0x0f];
		crc = (crc >> 4) ^ crc_nibble[crc & 0x0f];
	}
	return ~crc;
}
