/* SHA-256 (FIPS 180-4 examples) and HMAC-SHA256 (RFC 4231 test cases 1, 2 and 6). */
#include "check.h"
#include "wasmorch/proto.h"

static void hex(const uint8_t *bytes, size_t len, char *out)
{
	for (size_t i = 0; i < len; i++) {
		snprintf(out + 2 * i, 3, "%02x", bytes[i]);
	}
}

static const char *sha(const char *text)
{
	static char out[65];
	uint8_t digest[32];
	struct wm_sha256 s;

	wm_sha256_init(&s);
	wm_sha256_update(&s, (const uint8_t *)text, strlen(text));
	wm_sha256_final(&s, digest);
	hex(digest, 32, out);
	return out;
}

static const char *hmac(const uint8_t *key, size_t key_len, const char *msg)
{
	static char out[65];
	uint8_t mac[32];

	wm_hmac_sha256(key, key_len, (const uint8_t *)msg, strlen(msg), mac);
	hex(mac, 32, out);
	return out;
}

int main(void)
{
	uint8_t key[131];

	CHECK_STR(sha(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	CHECK_STR(sha("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	CHECK_STR(sha("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
		  "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
	memset(key, 0x0b, 20);
	CHECK_STR(hmac(key, 20, "Hi There"), "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
	CHECK_STR(hmac((const uint8_t *)"Jefe", 4, "what do ya want for nothing?"),
		  "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
	memset(key, 0xaa, sizeof(key));
	CHECK_STR(hmac(key, sizeof(key), "Test Using Larger Than Block-Size Key - Hash Key First"),
		  "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
	CHECK_DONE();
}
