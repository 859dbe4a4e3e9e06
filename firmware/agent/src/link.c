/*
 * The link: the console UART, interrupt-driven. The ISR only moves bytes into a ring buffer and
 * wakes the COMM thread (mcumgr's pattern: ISR -> queue -> worker), so a LOAD payload at 115200
 * baud is never dropped while the RUNNER keeps the CPU busy. Transmit is polled under a mutex:
 * replies (COMM) and RESULT/LOG lines (RUNNER) never interleave mid-line.
 */
#include <zephyr/device.h>
#include <zephyr/drivers/uart.h>
#include <zephyr/sys/ring_buffer.h>

#include "wasmorch_agent.h"

static const struct device *const uart = DEVICE_DT_GET(DT_CHOSEN(zephyr_console));

RING_BUF_DECLARE(rx_ring, CONFIG_WASMORCH_RX_RING_SIZE);
static K_SEM_DEFINE(rx_sem, 0, 1);
static K_MUTEX_DEFINE(tx_lock);
static atomic_t rx_overruns;

static void uart_isr(const struct device *dev, void *user_data)
{
	uint8_t buf[32];

	ARG_UNUSED(user_data);
	while (uart_irq_update(dev) && uart_irq_rx_ready(dev)) {
		int n = uart_fifo_read(dev, buf, sizeof(buf));

		if (n <= 0) {
			break;
		}
		if (ring_buf_put(&rx_ring, buf, (uint32_t)n) < (uint32_t)n) {
			atomic_inc(&rx_overruns);
		}
		k_sem_give(&rx_sem);
	}
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
	if (!device_is_ready(uart)) {
		return -ENODEV;
	}
	uart_irq_callback_user_data_set(uart, uart_isr, NULL);
	uart_irq_rx_enable(uart);
	/*
	 * A byte that arrived during boot, before the RX interrupt was enabled, raised no
	 * interrupt and holds the receiver full (QEMU's CMSDK UART then takes no more): drain it.
	 */
	{
		unsigned int key = irq_lock();
		unsigned char c;

		while (uart_poll_in(uart, &c) == 0) {
			ring_buf_put(&rx_ring, &c, 1);
		}
		irq_unlock(key);
	}
	k_sem_give(&rx_sem);
	return 0;
}

/* The COMM thread: drains the ring into the protocol state machine, polls the LOAD timeout. */
static void comm_thread(void *a, void *b, void *c)
{
	uint8_t chunk[64];

	ARG_UNUSED(a);
	ARG_UNUSED(b);
	ARG_UNUSED(c);
	for (;;) {
		uint32_t n;

		k_sem_take(&rx_sem, K_MSEC(50));
		while ((n = ring_buf_get(&rx_ring, chunk, sizeof(chunk))) > 0) {
			wm_agent_feed(&wasmorch_agent, chunk, n, k_uptime_get_32());
		}
		wm_agent_poll(&wasmorch_agent, k_uptime_get_32());
	}
}

/* Started by main() once WAMR and the agent are initialised. */
K_THREAD_DEFINE(comm_tid, CONFIG_WASMORCH_COMM_STACK_SIZE, comm_thread, NULL, NULL, NULL, 5, 0, SYS_FOREVER_MS);
