/* Wasmorch firmware agent: WAMR + the protocol core on a UART. docs/protocol.md is the contract. */
#include <string.h>

#include "wasmorch_agent.h"

static uint8_t wamr_pool[CONFIG_WASMORCH_WAMR_POOL_SIZE] __aligned(8);

extern const k_tid_t comm_tid;

int main(void)
{
	RuntimeInitArgs init;
	struct wm_agent_config config = {
		.load_timeout_ms = CONFIG_WASMORCH_LOAD_TIMEOUT_MS,
		.extensions = IS_ENABLED(CONFIG_WASMORCH_EXTENSIONS),
	};

	memset(&init, 0, sizeof(init));
	init.mem_alloc_type = Alloc_With_Pool;
	init.mem_alloc_option.pool.heap_buf = wamr_pool;
	init.mem_alloc_option.pool.heap_size = sizeof(wamr_pool);
	if (!wasm_runtime_full_init(&init) || !natives_register()) {
		return -1;
	}
	(void)natives_init();
	wm_agent_init(&wasmorch_agent, &wasmorch_board_ops, NULL, &config);
	if (link_init() != 0) {
		return -1;
	}
	/* docs/protocol.md §6: one BOOT line, so that a gateway learns the board restarted. */
	wm_agent_boot(&wasmorch_agent);
	k_thread_start(comm_tid);
	return 0;
}
