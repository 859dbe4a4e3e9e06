/*
 * libFuzzer target for the COMM state machine: arbitrary bytes, split at arbitrary points, with
 * time moving on. Invariants: no crash, no sanitizer report, every reply line <= WM_LINE_MAX,
 * and no payload buffer leaked.
 */
#include <stdlib.h>
#include <string.h>

#include "fake_board.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fake_board board;
	static struct wm_agent agent;
	struct wm_agent_config config = { .load_timeout_ms = 50, .extensions = true, .xload_window = 256 };
	char line[FAKE_OUT_MAX];
	size_t i = 0;

	fake_board_init(&board);
	wm_agent_init(&agent, &fake_board_ops, &board, &config);
	while (i < size) {
		/* The first byte of each chunk chooses its length and how much time passes. */
		size_t chunk = (size_t)(data[i] % 64) + 1;

		board.now_ms += data[i] >> 4;
		i++;
		if (chunk > size - i) {
			chunk = size - i;
		}
		wm_agent_feed(&agent, data + i, chunk, board.now_ms);
		wm_agent_poll(&agent, board.now_ms);
		i += chunk;
		if (board.running && (board.now_ms & 3) == 0) {
			board.running = false;
		}
		while (fake_board_next_line(&board, line, sizeof(line))) {
			if (strlen(line) + 1 > WM_LINE_MAX) {
				abort();
			}
		}
		board.out_len = 0;
	}
	wm_agent_reset_link(&agent);
	/* An XLOAD outlives its link (it is kept for a resume); nothing else does. */
	if (board.buffers_out != (agent.xload.held ? 1 : 0)) {
		abort();
	}
	wm_agent_drop_upload(&agent);
	if (board.buffers_out != 0) {
		abort();
	}
	fake_board_free(&board);
	return 0;
}
