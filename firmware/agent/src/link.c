/*
 * The link: the console UART, interrupt-driven. The ISR only hands bytes to the core's receive
 * path (core/wm_rx.c) and wakes the COMM thread (mcumgr's pattern: ISR -> queue -> worker).
 * Command lines wait in a ring; while a LOAD payload is expected its bytes go straight into the
 * module buffer, so a payload of any accepted size survives a peer faster than the board (an
 * emulator's socket, a USB bridge, a pipelining host). When the ring is full the ISR pauses
 * (back-pressure, rx_pause) and the COMM thread resumes it as it drains; bytes a UART loses
 * anyway are counted and answered with RX_OVERRUN (docs/protocol.md §3, Lost bytes), never
 * silently lost.
 * Transmit is polled under a mutex: replies (COMM) and RESULT/LOG lines (RUNNER) never
 * interleave mid-line.
 */
#include <zephyr/device.h>
#include <zephyr/drivers/uart.h>

#include "wasmorch_agent.h"
#include "wasmorch/rx.h"

static const struct device *const uart = DEVICE_DT_GET(DT_CHOSEN(zephyr_console));

static uint8_t rx_ring[CONFIG_WASMORCH_RX_RING_SIZE];
static struct wm_rx rx;
static K_SEM_DEFINE(rx_sem, 0, 1);
static K_MUTEX_DEFINE(tx_lock);

/*
 * Single core: interrupts off is the lock between the ISR and the COMM thread. The key stays
 * with the caller (wm_rx hands it back), so no lock state is shared between the two sides.
 */
static unsigned int rx_lock(void *ctx)
{
	ARG_UNUSED(ctx);
	return irq_lock();
}

static void rx_unlock(void *ctx, unsigned int key)
{
	ARG_UNUSED(ctx);
	irq_unlock(key);
}

/*
 * Back-pressure: with the path full the ISR stops taking bytes and turns its RX interrupt off.
 * The bytes wait in the UART: QEMU's then holds the sender through its chardev, Renode's keeps
 * them in its FIFO, so a burst of any length arrives whole. A physical USART without flow
 * control overruns instead: that is reported (ORE below) as lost bytes, never hidden.
 */
static void rx_pause(void *ctx)
{
	ARG_UNUSED(ctx);
	uart_irq_rx_disable(uart);
}

static size_t uart_read(void *ctx, uint8_t *buf, size_t cap)
{
	const struct device *dev = ctx;
	int n;

	if (!uart_irq_rx_ready(dev)) {
		return 0;
	}
	n = uart_fifo_read(dev, buf, (int)cap);
	return n > 0 ? (size_t)n : 0;
}

/* The producer: report what the USART itself lost, then take what the path has room for. */
static void produce(const struct device *dev)
{
	/* The USART's own overrun (a byte came while its data register was full): at least one byte lost. */
	int err = uart_err_check(dev);

	if (err > 0 && (err & UART_ERROR_OVERRUN) != 0) {
		wm_rx_lost(&rx, 1);
	}
	(void)wm_rx_produce(&rx, uart_read, (void *)dev);
	k_sem_give(&rx_sem);
}

static void uart_isr(const struct device *dev, void *user_data)
{
	ARG_UNUSED(user_data);
	if (uart_irq_update(dev)) {
		produce(dev);
	}
}

/*
 * Called by the COMM thread once the path has room again. The byte waiting in the UART may
 * raise no interrupt when RX is enabled again (QEMU's CMSDK UART latches its RX interrupt only
 * when a byte arrives with RX enabled), so it is taken here, as the ISR would, interrupts off.
 */
static void rx_resume(void *ctx)
{
	unsigned int key = irq_lock();

	ARG_UNUSED(ctx);
	uart_irq_rx_enable(uart);
	produce(uart);
	irq_unlock(key);
}

void link_send(const char *data, size_t len)
{
	k_mutex_lock(&tx_lock, K_FOREVER);
	for (size_t i = 0; i < len; i++) {
		uart_poll_out(uart, (unsigned char)data[i]);
	}
	k_mutex_unlock(&tx_lock);
}

int link_init(void)
{
	static const struct wm_rx_ops ops = { .lock = rx_lock, .unlock = rx_unlock, .pause = rx_pause, .resume = rx_resume };

	if (!device_is_ready(uart)) {
		return -ENODEV;
	}
	wm_rx_init(&rx, rx_ring, sizeof(rx_ring), &ops);
	wm_agent_attach_rx(&wasmorch_agent, &rx);
	uart_irq_callback_user_data_set(uart, uart_isr, NULL);
	uart_irq_rx_enable(uart);
	/*
	 * A byte that arrived during boot, before the RX interrupt was enabled, raised no
	 * interrupt and holds the receiver full (QEMU's CMSDK UART then takes no more): drain it.
	 */
	{
		unsigned char c;

		while (uart_poll_in(uart, &c) == 0) {
			wm_rx_put(&rx, &c, 1);
		}
	}
	k_sem_give(&rx_sem);
	return 0;
}

/* The COMM thread: drains the receive path into the protocol state machine, polls the LOAD timeout. */
static void comm_thread(void *a, void *b, void *c)
{
	ARG_UNUSED(a);
	ARG_UNUSED(b);
	ARG_UNUSED(c);
	for (;;) {
		k_sem_take(&rx_sem, K_MSEC(50));
		wm_agent_service(&wasmorch_agent, k_uptime_get_32());
	}
}

/* Started by main() once WAMR and the agent are initialised. */
K_THREAD_DEFINE(comm_tid, CONFIG_WASMORCH_COMM_STACK_SIZE, comm_thread, NULL, NULL, NULL, 5, 0, SYS_FOREVER_MS);
