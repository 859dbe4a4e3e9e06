/* An in-memory board for the core's tests: modules are byte buffers, jobs finish when told. */
#ifndef WM_FAKE_BOARD_H
#define WM_FAKE_BOARD_H

#include "wasmorch/agent.h"

#define FAKE_MAX_MODULES 4
#define FAKE_OUT_MAX 65536

struct fake_module {
	char id[WM_MODULE_ID_MAX + 1];
	uint8_t *bytes;
	uint32_t size;
	uint32_t crc;
};

struct fake_board {
	struct fake_module modules[FAKE_MAX_MODULES];
	uint32_t max_module;
	bool running;
	char running_id[WM_MODULE_ID_MAX + 1];
	uint32_t job;
	bool started;
	bool stop_requested;
	int buffers_out;
	/* When set, every line the agent sends goes here instead of into out (tests of unbounded output). */
	void (*on_send)(const char *line, size_t len);
	char out[FAKE_OUT_MAX];
	size_t out_len;
	uint32_t now_ms;
	uint32_t us_ticks;
};

extern const struct wm_board_ops fake_board_ops;

void fake_board_init(struct fake_board *board);
/* Takes the oldest line sent by the agent (without LF) into buf; false if none. */
int fake_board_next_line(struct fake_board *board, char *buf, size_t cap);
void fake_board_free(struct fake_board *board);

#endif
