/*
 * The RUNNER thread: executes one prepared job in WAMR and reports exactly one RESULT.
 * STOP is cooperative first (delay_ms returns early, should_stop() turns true); after
 * CONFIG_WASMORCH_STOP_GRACE_MS a delayable work item calls wasm_runtime_terminate, which stops
 * interpreted code and any native. AOT code that loops without a call never looks at that flag:
 * WAMR 2.4.3's AOT compiler emits its suspend checks only for modules with shared memory
 * (aot_emit_control.c, check_suspend_flags), whatever wamrc is told. So when the job is still
 * running CONFIG_WASMORCH_AOT_ABORT_MS later and the RUNNER was interrupted inside the module's
 * AOT code (it holds no lock there: no native, no runtime call), the RUNNER thread is aborted,
 * the job reported STOPPED and cleaned up from here, and a fresh RUNNER started.
 */
#include <stdio.h>
#include <string.h>

#include "wasmorch_agent.h"
#include "aot_runtime.h"

K_MUTEX_DEFINE(runner_lock);
struct job current_job;
bool job_active;
atomic_t job_stop_requested;
K_SEM_DEFINE(job_stop_sem, 0, 1);

static K_SEM_DEFINE(job_ready, 0, 1);
static atomic_t job_killed;

K_THREAD_STACK_DEFINE(runner_stack, CONFIG_WASMORCH_RUNNER_STACK_SIZE);
static struct k_thread runner_thread_obj;
static k_tid_t runner_tid;
/* The running job's execution environment and start, for a RESULT sent on the RUNNER's behalf. */
static wasm_exec_env_t job_env;
static uint64_t job_start;

static void runner_thread(void *a, void *b, void *c);

/* The PC the RUNNER was interrupted at lies in the AOT code of the job's module. */
static bool runner_in_aot_code(void)
{
	const WASMModuleCommon *m = (const WASMModuleCommon *)current_job.module->module;
	const AOTModule *aot = (const AOTModule *)m;
	/* Cortex-M: the callee-saved PSP points at the exception frame; its PC is the 7th word. */
	const uint32_t *frame = (const uint32_t *)runner_tid->callee_saved.psp;
	uintptr_t pc;

	if (m->module_type != Wasm_Module_AoT || aot->code == NULL || frame == NULL) {
		return false;
	}
	pc = (uintptr_t)frame[6];
	return pc >= (uintptr_t)aot->code && pc < (uintptr_t)aot->code + aot->code_size;
}

static void runner_spawn(void)
{
	runner_tid = k_thread_create(&runner_thread_obj, runner_stack, K_THREAD_STACK_SIZEOF(runner_stack), runner_thread,
				     NULL, NULL, NULL, 7, 0, K_NO_WAIT);
	k_thread_name_set(runner_tid, "runner");
}

/* Under runner_lock: the RUNNER is spinning in AOT code after terminate. Ends the job from here. */
static void abort_aot_job(void)
{
	char line[WM_LINE_MAX];
	uint32_t elapsed_us;

	k_thread_abort(runner_tid);
	elapsed_us = (uint32_t)k_cyc_to_us_floor64(k_cycle_get_64() - job_start);
	link_send(line, wm_format_result(line, current_job.module->id, current_job.func_name, current_job.id, "STOPPED", NULL,
					 NULL, "terminated after the STOP grace period (AOT code aborted)", elapsed_us));
	if (job_env != NULL) {
		wasm_runtime_destroy_exec_env(job_env);
		job_env = NULL;
	}
	wasm_runtime_deinstantiate(current_job.inst);
	job_active = false;
	runner_spawn();
}

static void terminate_work_handler(struct k_work *work);

static K_WORK_DELAYABLE_DEFINE(terminate_work, terminate_work_handler);

static void terminate_work_handler(struct k_work *work)
{
	ARG_UNUSED(work);
	k_mutex_lock(&runner_lock, K_FOREVER);
	if (job_active && atomic_get(&job_stop_requested)) {
		if (!atomic_get(&job_killed)) {
			atomic_set(&job_killed, 1);
			wasm_runtime_terminate(current_job.inst);
			k_work_reschedule(&terminate_work, K_MSEC(CONFIG_WASMORCH_AOT_ABORT_MS));
		} else if (runner_in_aot_code()) {
			abort_aot_job();
		} else {
			/* In a native or the runtime, which see the terminate flag: look again later. */
			k_work_reschedule(&terminate_work, K_MSEC(CONFIG_WASMORCH_AOT_ABORT_MS));
		}
	}
	k_mutex_unlock(&runner_lock);
}

void runner_start(void)
{
	k_sem_give(&job_ready);
}

void runner_request_stop(void)
{
	atomic_set(&job_stop_requested, 1);
	k_sem_give(&job_stop_sem);
	k_work_reschedule(&terminate_work, K_MSEC(CONFIG_WASMORCH_STOP_GRACE_MS));
}

/* The same short messages as the emulated agent (docs/protocol.md §3, Jobs). */
static const char *trap_message(const char *exception)
{
	static const struct {
		const char *wamr;
		const char *ours;
	} map[] = {
		{ "unreachable", "unreachable executed" },
		{ "divide by zero", "integer divide by zero" },
		{ "integer overflow", "integer overflow" },
		{ "out of bounds memory access", "out of bounds memory access" },
		{ "stack overflow", "call stack exhausted" },
		{ "undefined element", "undefined element in table" },
		{ "indirect call type mismatch", "indirect call type mismatch" },
		{ "invalid conversion to integer", "invalid conversion to integer" },
	};

	for (size_t i = 0; i < ARRAY_SIZE(map); i++) {
		if (exception != NULL && strstr(exception, map[i].wamr) != NULL) {
			return map[i].ours;
		}
	}
	return exception != NULL ? exception : "trap";
}

static void format_value(const wasm_val_t *v, char *text, size_t cap, const char **type)
{
	switch (v->kind) {
	case WASM_I32:
		snprintf(text, cap, "%ld", (long)v->of.i32);
		*type = "i32";
		break;
	case WASM_I64:
		snprintf(text, cap, "%lld", (long long)v->of.i64);
		*type = "i64";
		break;
	case WASM_F32:
		snprintf(text, cap, "%.9g", (double)v->of.f32);
		*type = "f32";
		break;
	default:
		snprintf(text, cap, "%.17g", v->of.f64);
		*type = "f64";
		break;
	}
}

static void run_job(void)
{
	char line[WM_LINE_MAX];
	char value[32];
	const char *type = NULL;
	const char *status;
	const char *msg = NULL;
	wasm_val_t result = { 0 };
	wasm_exec_env_t env;
	uint64_t start = k_cycle_get_64();
	uint32_t elapsed_us;
	bool ok;

	atomic_clear(&job_killed);
	env = wasm_runtime_create_exec_env(current_job.inst, CONFIG_WASMORCH_WASM_STACK_SIZE);
	k_mutex_lock(&runner_lock, K_FOREVER);
	job_env = env;
	job_start = start;
	k_mutex_unlock(&runner_lock);
	ok = env != NULL && wasm_runtime_call_wasm_a(env, current_job.func, current_job.result_count, &result,
						     current_job.arg_count, current_job.args);
	elapsed_us = (uint32_t)k_cyc_to_us_floor64(k_cycle_get_64() - start);
	k_work_cancel_delayable(&terminate_work);

	if (atomic_get(&job_stop_requested)) {
		status = "STOPPED";
		msg = atomic_get(&job_killed) ? "terminated after the STOP grace period" : NULL;
	} else if (ok) {
		status = "OK";
	} else {
		status = "TRAP";
		msg = env == NULL ? "agent: no memory for the job's execution environment" : trap_message(wasm_runtime_get_exception(current_job.inst));
	}
	if ((ok || atomic_get(&job_stop_requested)) && current_job.result_count == 1 && !atomic_get(&job_killed)) {
		result.kind = current_job.result_kind;
		format_value(&result, value, sizeof(value), &type);
	}
	link_send(line, wm_format_result(line, current_job.module->id, current_job.func_name, current_job.id, status,
					 type != NULL ? value : NULL, type, msg, elapsed_us));

	k_mutex_lock(&runner_lock, K_FOREVER);
	job_env = NULL;
	if (env != NULL) {
		wasm_runtime_destroy_exec_env(env);
	}
	wasm_runtime_deinstantiate(current_job.inst);
	job_active = false;
	k_mutex_unlock(&runner_lock);
}

static void runner_thread(void *a, void *b, void *c)
{
	ARG_UNUSED(a);
	ARG_UNUSED(b);
	ARG_UNUSED(c);
	wasm_runtime_init_thread_env();
	for (;;) {
		k_sem_take(&job_ready, K_FOREVER);
		run_job();
	}
}

/* Started by main() once WAMR is initialised. */
void runner_init(void) { runner_spawn(); }
