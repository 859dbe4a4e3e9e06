/* Shared state of the firmware agent: the link (COMM), the module table and the RUNNER. */
#ifndef WASMORCH_AGENT_PRIV_H
#define WASMORCH_AGENT_PRIV_H

#include <zephyr/kernel.h>

#include "wasm_export.h"
#include "wasmorch/agent.h"

/* link.c: UART interrupt -> ring buffer -> COMM thread; serialized transmit for every thread. */
void link_send(const char *data, size_t len);
int link_init(void);

/* The agent state machine (owned by the COMM thread). */
extern struct wm_agent wasmorch_agent;
extern const struct wm_board_ops wasmorch_board_ops;

struct loaded_module {
	char id[WM_MODULE_ID_MAX + 1];
	wasm_module_t module;
	/* The payload WAMR loaded from; it must outlive the module. */
	uint8_t *bytes;
	uint32_t size;
	uint32_t crc;
	bool in_use;
};

/* The job the RUNNER executes; written by COMM under runner_lock before start_go. */
struct job {
	uint32_t id;
	struct loaded_module *module;
	wasm_module_inst_t inst;
	wasm_function_inst_t func;
	char func_name[WM_FUNC_NAME_MAX + 1];
	wasm_val_t args[WM_MAX_ARGS];
	uint32_t arg_count;
	uint32_t result_count;
	wasm_valkind_t result_kind;
};

extern struct k_mutex runner_lock;
extern struct job current_job;
extern bool job_active;
extern atomic_t job_stop_requested;
extern struct k_sem job_stop_sem;

void runner_init(void);
void runner_start(void);
void runner_request_stop(void);

/* natives.c */
bool natives_register(void);
uint32_t gpio_levels(void);
uint32_t gpio_write_count(void);
uint32_t log_dropped_count(void);
int natives_init(void);
/* Sleeps up to ms, waking at once on STOP: true when STOP came (delay_ms, timer_wait). */
bool job_sleep_ms(int64_t ms);
/* A pin the world drives (the button) changed: its level in the register, and an edge for the job. */
void gpio_input_changed(int32_t pin, bool high);

/* caps.c: the capability natives (docs/protocol.md 6c). */
bool caps_register(void);
int caps_init(void);
/* "gpio,adc,..." as CAPS_OK lists it, set by caps_init. */
const char *caps_offered(void);
/* A new job: its event rate, timer and latched edges start afresh. */
void caps_job_begin(void);
/* A pin's level changed (a module's write or an input): latched for gpio_wait_edge. */
void caps_edge(int32_t pin, bool high);
void caps_module_unloaded(const char *id);
uint32_t events_dropped_count(void);
const char *pwm_status(void);

#endif
