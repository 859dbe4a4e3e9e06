/*
 * The receive path (rx.h) with the agent behind it, driven faster than the COMM loop drains it:
 * bursts that fill the ring before any service, payloads landed by the producer, and a seeded
 * random interleaving of bursts and services. Nothing may be lost silently: every overrun is
 * answered with RX_OVERRUN, and a payload sent after LOAD_READY always arrives whole.
 */
#include <stdlib.h>

#include "check.h"
#include "fake_board.h"
#include "wasmorch/rx.h"

static struct fake_board board;
static struct wm_agent agent;
static struct wm_rx rx;
static uint8_t ring[1024];
static char reply[WM_LINE_MAX + 1];

static void reset(size_t ring_size, uint32_t max_module)
{
	struct wm_agent_config config = { .load_timeout_ms = 2000, .extensions = true };

	fake_board_free(&board);
	fake_board_init(&board);
	board.max_module = max_module;
	wm_agent_init(&agent, &fake_board_ops, &board, &config);
	wm_rx_init(&rx, ring, ring_size, NULL);
	wm_agent_attach_rx(&agent, &rx);
}

static size_t put(const void *data, size_t len) { return wm_rx_put(&rx, data, len); }

static size_t put_str(const char *text) { return put(text, strlen(text)); }

static void service(void) { wm_agent_service(&agent, board.now_ms); }

static int starts_with(const char *s, const char *prefix) { return strncmp(s, prefix, strlen(prefix)) == 0; }

/* Counts the agent's reply lines by kind; returns how many there were. */
struct tally {
	int status, load_ready, load_ok, load_err_overrun, err_overrun, other;
	char load_ok_line[WM_LINE_MAX + 1];
};

static int drain(struct tally *t)
{
	int n = 0;

	while (fake_board_next_line(&board, reply, sizeof(reply))) {
		n++;
		if (starts_with(reply, "STATUS ")) {
			t->status++;
		} else if (starts_with(reply, "LOAD_READY ")) {
			t->load_ready++;
		} else if (starts_with(reply, "LOAD_OK ")) {
			t->load_ok++;
			strcpy(t->load_ok_line, reply);
		} else if (starts_with(reply, "LOAD_ERR ") && strstr(reply, "code=RX_OVERRUN") != NULL) {
			t->load_err_overrun++;
		} else if (starts_with(reply, "ERR code=RX_OVERRUN ")) {
			t->err_overrun++;
		} else {
			fprintf(stderr, "unexpected line: %s\n", reply);
			t->other++;
		}
	}
	return n;
}

static uint8_t *make_module(size_t size, unsigned seed)
{
	uint8_t *m = malloc(size);

	srand(seed);
	for (size_t i = 0; i < size; i++) {
		m[i] = (uint8_t)rand();
	}
	memcpy(m, "\0asm\x01\0\0\0", 8);
	return m;
}

static void load_line(char *buf, size_t cap, const uint8_t *bytes, size_t len)
{
	snprintf(buf, cap, "LOAD module_id=big size=%zu crc32=%08lx\n", len, (unsigned long)wm_crc32_update(0, bytes, len));
}

/* The case: 500 pipelined STATUS lines into a 1 KiB ring before the COMM loop runs. */
static void test_burst_of_lines_overruns_loudly(void)
{
	struct tally t = { 0 };
	size_t kept = 0;

	reset(1024, 4096);
	for (int i = 0; i < 500; i++) {
		kept += put_str("STATUS\n");
	}
	CHECK(kept == 1024);
	CHECK(rx.overruns == 1);
	CHECK(rx.dropped == 500 * 7 - 1024);
	service();
	drain(&t);
	/* 146 whole lines fit (1022 bytes); the 147th is broken: the loss is answered at once. */
	CHECK(t.status == 146);
	CHECK(t.err_overrun == 1);
	/* The lost bytes ended with an LF: the next line (a new peer's first command) is read whole. */
	put_str("STATUS\n");
	service();
	CHECK(fake_board_next_line(&board, reply, sizeof(reply)));
	CHECK(starts_with(reply, "STATUS "));
	CHECK(strstr(reply, " rx_overruns=1") != NULL);
	CHECK(t.other == 0);
}

/* A payload sent after LOAD_READY, in one burst 24 times the ring's size, lands whole. */
static void test_payload_burst_lands_whole(void)
{
	enum { SIZE = 24 * 1024 };
	uint8_t *m = make_module(SIZE, 7);
	char line[96];
	struct tally t = { 0 };

	reset(1024, SIZE);
	load_line(line, sizeof(line), m, SIZE);
	put_str(line);
	service();
	drain(&t);
	CHECK(t.load_ready == 1);
	CHECK(put(m, SIZE) == SIZE);
	CHECK(put_str("STATUS\n") == 7);
	CHECK(rx.overruns == 0);
	service();
	drain(&t);
	CHECK(t.load_ok == 1);
	CHECK(strstr(t.load_ok_line, "size=24576") != NULL);
	CHECK(t.status == 1);
	CHECK(board.modules[0].size == SIZE && memcmp(board.modules[0].bytes, m, SIZE) == 0);
	CHECK(board.buffers_out == 0);
	free(m);
}

/* Payload bytes that came with the LOAD line (a peer that does not wait) go first, in order. */
static void test_payload_split_between_ring_and_buffer(void)
{
	enum { SIZE = 3000 };
	uint8_t *m = make_module(SIZE, 11);
	char line[96];
	uint8_t burst[200];
	struct tally t = { 0 };
	size_t n;

	reset(256, SIZE);
	load_line(line, sizeof(line), m, SIZE);
	n = strlen(line);
	memcpy(burst, line, n);
	memcpy(burst + n, m, sizeof(burst) - n);
	put(burst, sizeof(burst));
	service();
	put(m + (sizeof(burst) - n), SIZE - (sizeof(burst) - n));
	CHECK(rx.overruns == 0);
	service();
	drain(&t);
	CHECK(t.load_ready == 1);
	CHECK(t.load_ok == 1);
	CHECK(board.modules[0].size == SIZE && memcmp(board.modules[0].bytes, m, SIZE) == 0);
	free(m);
}

/* A payload that overflowed the ring before LOAD was read fails at once, and its rest is skipped. */
static void test_pipelined_payload_lost_fails_at_once(void)
{
	enum { SIZE = 1000 };
	uint8_t *m = make_module(SIZE, 13);
	uint8_t burst[1200];
	char line[96];
	struct tally t = { 0 };
	size_t n;

	reset(64, SIZE);
	load_line(line, sizeof(line), m, SIZE);
	n = strlen(line);
	memcpy(burst, line, n);
	memcpy(burst + n, m, SIZE);
	put(burst, n + SIZE);
	CHECK(rx.overruns == 1);
	service();
	drain(&t);
	CHECK(t.load_ready == 1);
	CHECK(t.load_err_overrun == 1);
	CHECK(t.load_ok == 0);
	CHECK(board.buffers_out == 0);
	/* The gap ended with the payload: the next line is read as a command. */
	put_str("STATUS\n");
	service();
	drain(&t);
	CHECK(t.status == 1);
	CHECK(t.err_overrun == 0);
	CHECK(t.other == 0);
	free(m);
}

/* Bytes the producer lands keep a LOAD alive; when they stop, the stall timeout still ends it. */
static void test_landed_bytes_count_as_progress(void)
{
	enum { SIZE = 4000 };
	uint8_t *m = make_module(SIZE, 17);
	char line[96];

	reset(256, SIZE);
	load_line(line, sizeof(line), m, SIZE);
	put_str(line);
	service();
	CHECK(fake_board_next_line(&board, reply, sizeof(reply)) && starts_with(reply, "LOAD_READY "));
	board.now_ms = 1500;
	put(m, 2000);
	service();
	board.now_ms = 3000;
	service();
	CHECK(!fake_board_next_line(&board, reply, sizeof(reply)));
	board.now_ms = 3500;
	service();
	CHECK(fake_board_next_line(&board, reply, sizeof(reply)));
	CHECK(starts_with(reply, "LOAD_ERR module_id=big code=TIMEOUT "));
	CHECK(board.buffers_out == 0);
	/* The buffer is no longer armed: later bytes are lines again. */
	put_str("STATUS\n");
	service();
	CHECK(fake_board_next_line(&board, reply, sizeof(reply)) && starts_with(reply, "STATUS "));
	free(m);
}

/*
 * Random bursts and services, seeded: a 12 KiB payload sent after LOAD_READY and 300 STATUS
 * lines behind it into a 128-byte ring. The payload always arrives whole, and the lines are
 * all answered or every loss is answered RX_OVERRUN (once per overrun the ring counted).
 */
static void test_random_bursts(unsigned seed)
{
	enum { SIZE = 12 * 1024, LINES = 300 };
	uint8_t *m = make_module(SIZE, seed);
	char line[96];
	static uint8_t stream[SIZE + LINES * 7];
	size_t len = 0, sent = 0;
	struct tally t = { 0 };
	unsigned state = seed;
	int failures_before = check_failures;

	reset(128, SIZE);
	load_line(line, sizeof(line), m, SIZE);
	put_str(line);
	service();
	drain(&t);
	CHECK(t.load_ready == 1);
	memcpy(stream, m, SIZE);
	len = SIZE;
	for (int i = 0; i < LINES; i++) {
		memcpy(stream + len, "STATUS\n", 7);
		len += 7;
	}
	while (sent < len) {
		state = state * 1103515245u + 12345u;
		if ((state >> 16) % 4 != 0) {
			size_t n = 1 + (state >> 8) % 400;

			n = n < len - sent ? n : len - sent;
			put(stream + sent, n);
			sent += n;
		} else {
			service();
		}
	}
	service();
	put_str("\n");
	service();
	drain(&t);
	CHECK(t.load_ok == 1);
	CHECK(board.modules[0].size == SIZE && memcmp(board.modules[0].bytes, m, SIZE) == 0);
	CHECK(t.err_overrun == (int)rx.overruns);
	if (rx.overruns == 0) {
		CHECK(t.status == LINES);
	} else {
		CHECK(t.status < LINES);
	}
	CHECK(t.other == 0);
	if (check_failures != failures_before) {
		fprintf(stderr, "test_random_bursts: seed %u (WM_RX_SEED=%u reproduces it)\n", seed, seed);
	}
	free(m);
}

/*
 * A UART in front of the path, and its interrupt. limit 0: a FIFO without bound (Renode's
 * STM32 USART, or QEMU's UART whose chardev holds the sender); limit 1: an STM32 USART on a
 * physical link (one data register: a byte that comes while it is full is lost, ORE).
 */
static struct fake_uart {
	uint8_t *fifo;
	size_t cap, head, count;
	size_t limit;
	bool irq_on;
	size_t hw_lost;
	int isr_depth;
} uart;

/* The lock: interrupts off. Never taken twice, and the key comes back to the one who took it. */
static int lock_held;

static unsigned test_lock(void *ctx)
{
	(void)ctx;
	CHECK(lock_held == 0);
	lock_held++;
	return 0xA5u;
}

static void test_unlock(void *ctx, unsigned key)
{
	(void)ctx;
	CHECK(lock_held == 1 && key == 0xA5u);
	lock_held--;
}

static size_t uart_read(void *ctx, uint8_t *buf, size_t cap)
{
	size_t n = 0;

	(void)ctx;
	while (n < cap && uart.count > 0) {
		buf[n++] = uart.fifo[uart.head];
		uart.head = (uart.head + 1) % uart.cap;
		uart.count--;
	}
	return n;
}

/* What link.c's uart_isr does: report what the hardware lost, then produce. */
static void uart_isr(void)
{
	if (!uart.irq_on || (uart.count == 0 && uart.hw_lost == 0)) {
		return;
	}
	CHECK(uart.isr_depth == 0);
	uart.isr_depth++;
	if (uart.hw_lost > 0) {
		wm_rx_lost(&rx, uart.hw_lost);
		uart.hw_lost = 0;
	}
	wm_rx_produce(&rx, uart_read, NULL);
	uart.isr_depth--;
}

static void uart_pause(void *ctx)
{
	(void)ctx;
	uart.irq_on = false;
}

/* Enabling the interrupt with bytes pending runs the ISR at once, in the consumer's call (outside the lock). */
static void uart_resume(void *ctx)
{
	(void)ctx;
	uart.irq_on = true;
	uart_isr();
}

/* The link delivers bytes; each_isr: the interrupt runs after every byte (a paced UART), else once at the end (Renode). */
static void uart_send(const void *data, size_t len, bool each_isr)
{
	const uint8_t *p = data;

	for (size_t i = 0; i < len; i++) {
		if (uart.limit != 0 && uart.count >= uart.limit) {
			uart.hw_lost++;
		} else {
			if (uart.count == uart.cap) {
				size_t cap = uart.cap * 2;
				uint8_t *bigger = malloc(cap);

				for (size_t k = 0; k < uart.count; k++) {
					bigger[k] = uart.fifo[(uart.head + k) % uart.cap];
				}
				free(uart.fifo);
				uart.fifo = bigger;
				uart.cap = cap;
				uart.head = 0;
			}
			uart.fifo[(uart.head + uart.count) % uart.cap] = p[i];
			uart.count++;
		}
		if (each_isr) {
			uart_isr();
		}
	}
	uart_isr();
}

/* Replies in order: STATUS for a STATUS, ERR NO_MODULE for a STOP; counts them, and RX_OVERRUN apart. */
struct order {
	size_t answered, in_order, overruns, other, status;
	char last[WM_LINE_MAX + 1];
};

static struct order got;

/* board.on_send: every reply line, however many (a 64 KiB burst gets over a megabyte of them). */
static void classify(const char *line, size_t len)
{
	struct order *o = &got;

	if (len == 0 || len > WM_LINE_MAX || line[len - 1] != '\n') {
		fprintf(stderr, "malformed reply of %zu bytes\n", len);
		o->other++;
		return;
	}
	memcpy(o->last, line, len - 1);
	o->last[len - 1] = '\0';
	if (starts_with(o->last, "ERR code=RX_OVERRUN ")) {
		o->overruns++;
		return;
	}
	if (starts_with(o->last, "STATUS ") || starts_with(o->last, "ERR code=")) {
		const char *want = o->answered % 2 == 0 ? "STATUS " : "ERR code=NO_MODULE ";

		o->in_order += starts_with(o->last, want) ? 1 : 0;
		o->status += starts_with(o->last, "STATUS ") ? 1 : 0;
		o->answered++;
	} else {
		fprintf(stderr, "unexpected line: %s\n", o->last);
		o->other++;
	}
}

static void reset_uart(size_t ring_size, size_t limit, bool flow)
{
	static const struct wm_rx_ops with_flow = { .lock = test_lock, .unlock = test_unlock, .pause = uart_pause, .resume = uart_resume };
	static const struct wm_rx_ops without_flow = { .lock = test_lock, .unlock = test_unlock };
	struct wm_agent_config config = { .load_timeout_ms = 2000, .extensions = true, .overrun_quiet_ms = 100 };

	fake_board_free(&board);
	fake_board_init(&board);
	board.max_module = 4096;
	wm_agent_init(&agent, &fake_board_ops, &board, &config);
	wm_rx_init(&rx, ring, ring_size, flow ? &with_flow : &without_flow);
	wm_agent_attach_rx(&agent, &rx);
	free(uart.fifo);
	memset(&uart, 0, sizeof(uart));
	uart.cap = 256;
	uart.fifo = malloc(uart.cap);
	uart.limit = limit;
	uart.irq_on = true;
	lock_held = 0;
	memset(&got, 0, sizeof(got));
	board.on_send = classify;
}

/* The conformance suite's burst: STATUS and STOP of a module that is not loaded, alternating. */
static const char *const mixed[2] = { "STATUS\n", "STOP module_id=conformance_none\n" };

/* The first len bytes of the mixed stream; returns how many whole lines it holds (the rest is a partial line). */
static size_t mixed_burst(uint8_t *out, size_t len)
{
	size_t n = 0, lines = 0;

	for (size_t i = 0; n < len; i++) {
		const char *l = mixed[i % 2];
		size_t k = strlen(l);

		if (k > len - n) {
			k = len - n;
		} else {
			lines++;
		}
		memcpy(out + n, l, k);
		n += k;
	}
	return lines;
}

static void read_replies(struct order *o) { *o = got; }

/*
 * After any burst: an LF (ending a partial line the burst left, which gets its own reply) then
 * STATUS is answered, and STATUS is the last reply (the agent did not hang).
 */
static bool answers_status_after(bool each_isr)
{
	size_t before = got.answered;

	uart_send("\nSTATUS\n", 8, each_isr);
	service();
	board.now_ms += 200;
	service();
	return got.answered - before >= 1 && got.answered - before <= 2 && starts_with(got.last, "STATUS ");
}

static const size_t burst_sizes[] = { 1,    2,    6,    7,    8,    38,   39,   40,    63,    64,    65,    255,   256,
				      1023, 1024, 1025, 2047, 2048, 3900, 4096, 4875, 5850, 7800, 16384, 19500, 32768, 65536 };

/*
 * Issue 32 item 1: bursts of 1 byte to 64 KiB, delivered as Renode does (all in the FIFO, one
 * interrupt). With back-pressure every whole line is answered, in order, nothing lost; without
 * it the loss is answered RX_OVERRUN once per overrun; either way the agent answers afterwards.
 */
static void test_bursts_1_byte_to_64k(void)
{
	static uint8_t burst[65536];

	for (size_t i = 0; i < sizeof(burst_sizes) / sizeof(burst_sizes[0]); i++) {
		size_t len = burst_sizes[i];
		size_t lines = mixed_burst(burst, len);
		int failures_before = check_failures;

		for (int flow = 1; flow >= 0; flow--) {
			struct order o = { 0 };

			reset_uart(1024, 0, flow != 0);
			uart_send(burst, len, false);
			service();
			read_replies(&o);
			if (flow) {
				/* Lossless: every whole line answered in order, no overrun, the producer resumed. */
				CHECK(o.answered == lines && o.in_order == lines);
				CHECK(o.overruns == 0 && rx.overruns == 0 && rx.dropped == 0);
				CHECK(!rx.paused && uart.count == 0);
				CHECK(len < 1024 || rx.pauses > 0);
			} else {
				CHECK(o.overruns == rx.overruns);
				CHECK(len <= 1024 ? rx.overruns == 0 && o.answered == lines : rx.overruns == 1);
				CHECK(rx.dropped == (len > 1024 ? len - 1024 : 0));
			}
			CHECK(o.other == 0);
			CHECK(answers_status_after(false));
		}
		if (check_failures != failures_before) {
			fprintf(stderr, "test_bursts_1_byte_to_64k: burst of %zu bytes\n", len);
		}
	}
}

/* The measurement, lossless: 500 pipelined STATUS lines, 500 answers through a 1 KiB ring. */
static void test_500_pipelined_status_all_answered(void)
{
	reset_uart(1024, 0, true);
	for (int i = 0; i < 500; i++) {
		uart_send("STATUS\n", 7, false);
	}
	service();
	CHECK(got.status == 500);
	CHECK(got.overruns == 0 && rx.overruns == 0);
	CHECK(got.other == 0);
}

/* 64 KiB of random bytes (LFs among them), then a blank line and STATUS: answered. */
static void test_garbage_burst_then_status(void)
{
	static uint8_t garbage[65536];
	unsigned state = 4242;

	for (size_t i = 0; i < sizeof(garbage); i++) {
		state = state * 1103515245u + 12345u;
		garbage[i] = (uint8_t)(state >> 16);
	}
	for (int flow = 1; flow >= 0; flow--) {
		reset_uart(1024, 0, flow != 0);
		uart_send(garbage, sizeof(garbage), false);
		service();
		got.answered = 0;
		CHECK(flow == 0 || rx.overruns == 0);
		CHECK(answers_status_after(false));
	}
}

/*
 * A physical STM32 link (one data register, no flow control on the wire): while the path is
 * paused the hardware overruns. Every loss is answered RX_OVERRUN, STATUS counts them, and the
 * agent still answers afterwards.
 */
static void test_hardware_overrun_is_reported(void)
{
	static uint8_t burst[19500];
	struct order o = { 0 };

	reset_uart(1024, 1, true);
	mixed_burst(burst, sizeof(burst));
	uart_send(burst, sizeof(burst), true);
	service();
	read_replies(&o);
	CHECK(rx.overruns >= 1);
	CHECK(o.overruns == rx.overruns);
	CHECK(o.other == 0);
	CHECK(answers_status_after(true));
}

/*
 * After an overrun whose lost bytes did not end the line they broke (a hardware overrun: their
 * content is unknown), the rest of that line is discarded up to its LF, or until the link has
 * been quiet for overrun_quiet_ms: then a new peer's first command is read whole.
 */
static void test_new_peer_after_overrun_not_swallowed(void)
{
	reset_uart(1024, 1, true);
	uart_send("STAT", 4, true);
	wm_rx_lost(&rx, 3);
	service();
	CHECK(got.overruns == 1 && starts_with(got.last, "ERR code=RX_OVERRUN "));
	/* Within the quiet time the bytes still belong to the broken line. */
	board.now_ms += 50;
	uart_send("US\n", 3, true);
	service();
	CHECK(got.answered == 0);
	/* A second loss; the link then stays quiet: the next peer's STATUS is answered. */
	wm_rx_lost(&rx, 5);
	service();
	CHECK(got.overruns == 2);
	board.now_ms += 100;
	service();
	uart_send("STATUS\n", 7, true);
	service();
	CHECK(got.answered == 1 && starts_with(got.last, "STATUS "));
	CHECK(strstr(got.last, " rx_overruns=2") != NULL);
}

/*
 * Seeded random interleavings of the link delivering chunks (1 byte to 8 KiB, paced or all at
 * once), the COMM loop servicing, and time passing, through a 1 KiB ring with back-pressure:
 * every command of the stream is answered, in order, nothing lost.
 */
static void test_random_interleavings(unsigned seed)
{
	enum { LEN = 120000 };
	static uint8_t stream[LEN];
	size_t lines = mixed_burst(stream, LEN - 40);
	size_t len = LEN - 40, sent = 0;
	struct order o = { 0 };
	unsigned state = seed;
	int failures_before = check_failures;

	/* End on a whole line. */
	while (stream[len - 1] != '\n') {
		len--;
	}
	lines = 0;
	for (size_t i = 0; i < len; i++) {
		lines += stream[i] == '\n';
	}
	reset_uart(1024, 0, true);
	while (sent < len) {
		unsigned r;

		state = state * 1103515245u + 12345u;
		r = state >> 16;
		if (r % 3 != 0) {
			size_t n = 1 + (state >> 4) % 8192;

			n = n < len - sent ? n : len - sent;
			uart_send(stream + sent, n, (r & 8) != 0);
			sent += n;
		} else {
			service();
			read_replies(&o);
		}
		if ((r & 0x30) == 0) {
			board.now_ms += 1 + r % 200;
		}
	}
	service();
	read_replies(&o);
	CHECK(o.answered == lines && o.in_order == lines);
	CHECK(o.overruns == 0 && rx.overruns == 0);
	CHECK(o.other == 0);
	CHECK(lock_held == 0);
	if (check_failures != failures_before) {
		fprintf(stderr, "test_random_interleavings: seed %u (WM_RX_SEED=%u reproduces it)\n", seed, seed);
	}
}

int main(void)
{
	const char *env = getenv("WM_RX_SEED");
	unsigned seed = env != NULL ? (unsigned)strtoul(env, NULL, 10) : 12345u;

	test_burst_of_lines_overruns_loudly();
	test_payload_burst_lands_whole();
	test_payload_split_between_ring_and_buffer();
	test_pipelined_payload_lost_fails_at_once();
	test_landed_bytes_count_as_progress();
	printf("test_rx: random bursts, seed %u\n", seed);
	for (unsigned i = 0; i < 50; i++) {
		test_random_bursts(seed + i);
	}
	test_bursts_1_byte_to_64k();
	test_500_pipelined_status_all_answered();
	test_garbage_burst_then_status();
	test_hardware_overrun_is_reported();
	test_new_peer_after_overrun_not_swallowed();
	printf("test_rx: random interleavings with back-pressure, seed %u\n", seed);
	for (unsigned i = 0; i < 20; i++) {
		test_random_interleavings(seed + i);
	}
	free(uart.fifo);
	fake_board_free(&board);
	CHECK_DONE();
}
