/* Wasmorch firmware agent: WAMR + the protocol core on a UART. docs/protocol.md is the contract. */
#include <string.h>

#include "wasmorch_agent.h"

static uint8_t wamr_pool[CONFIG_WASMORCH_WAMR_POOL_SIZE] __aligned(8);

extern const k_tid_t comm_tid;

/* Derived limits, checked when the image is built rather than found on a board. */
BUILD_ASSERT(CONFIG_WASMORCH_RX_RING_SIZE > 64,
	     "the XLOAD window is CONFIG_WASMORCH_RX_RING_SIZE - 64: the ring needs more than 64 bytes");
BUILD_ASSERT(CONFIG_WASMORCH_RX_RING_SIZE >= WM_LINE_MAX,
	     "the receive ring must hold at least one whole command line (WM_LINE_MAX)");
BUILD_ASSERT(CONFIG_WASMORCH_MAX_MODULE_SIZE + CONFIG_WASMORCH_WASM_STACK_SIZE < CONFIG_WASMORCH_WAMR_POOL_SIZE,
	     "the WAMR pool must hold a module of CONFIG_WASMORCH_MAX_MODULE_SIZE and a job's wasm stack at once");

#if defined(CONFIG_PICOLIBC) && !defined(CONFIG_THREAD_LOCAL_STORAGE)
#error "picolibc's errno lives in thread-local storage: build with a toolchain that has TLS (Kconfig WASMORCH_GNUARMEMB_TLS)"
#endif

#ifdef CONFIG_WASMORCH_LINK_AUTH
static uint8_t link_key[32];

BUILD_ASSERT(sizeof(CONFIG_WASMORCH_LINK_KEY) == 2 * sizeof(link_key) + 1,
	     "CONFIG_WASMORCH_LINK_KEY must be 64 hex digits (the gateway's link key file)");

/* CONFIG_WASMORCH_LINK_KEY as bytes; false for an empty or malformed key (the board then stays open). */
static bool parse_link_key(void)
{
	const char *hex = CONFIG_WASMORCH_LINK_KEY;

	if (strlen(hex) != 2 * sizeof(link_key)) {
		return false;
	}
	for (size_t i = 0; i < 2 * sizeof(link_key); i++) {
		char c = hex[i];
		int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;

		if (d < 0) {
			return false;
		}
		link_key[i / 2] = (uint8_t)((link_key[i / 2] << 4) | d);
	}
	return true;
}
#endif

int main(void)
{
	RuntimeInitArgs init;
	struct wm_agent_config config = {
		.load_timeout_ms = CONFIG_WASMORCH_LOAD_TIMEOUT_MS,
		.extensions = IS_ENABLED(CONFIG_WASMORCH_EXTENSIONS),
		/* XLOAD streams pass through the receive ring: the window never outruns it. */
		.xload_window = IS_ENABLED(CONFIG_WASMORCH_XLOAD) ? CONFIG_WASMORCH_RX_RING_SIZE - 64 : 0,
		.overrun_quiet_ms = CONFIG_WASMORCH_OVERRUN_QUIET_MS,
	};

#ifdef CONFIG_WASMORCH_LINK_AUTH
	if (!parse_link_key()) {
		/* Fail closed: a board built to require AUTH never runs open with a broken key. */
		return -1;
	}
	config.link_key = link_key;
	config.link_key_len = sizeof(link_key);
#endif

	memset(&init, 0, sizeof(init));
	init.mem_alloc_type = Alloc_With_Pool;
	init.mem_alloc_option.pool.heap_buf = wamr_pool;
	init.mem_alloc_option.pool.heap_size = sizeof(wamr_pool);
	/* The peripherals first: only those that came up have their natives registered (caps.c). */
	(void)natives_init();
	(void)caps_init();
	if (!wasm_runtime_full_init(&init) || !natives_register() || !caps_register()) {
		return -1;
	}
	runner_init();
	wm_agent_init(&wasmorch_agent, &wasmorch_board_ops, NULL, &config);
	if (link_init() != 0) {
		return -1;
	}
	/* docs/protocol.md §6: one BOOT line, so that a gateway learns the board restarted. */
	wm_agent_boot(&wasmorch_agent);
	k_thread_start(comm_tid);
	return 0;
}
