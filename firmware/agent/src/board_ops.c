/* The board side of the protocol core: module table, WAMR loading, job preparation. */
#include <stdio.h>
#include <string.h>

#include "wasmorch_agent.h"

#ifdef CONFIG_WASMORCH_LINK_AUTH
#include <zephyr/random/random.h>
#endif

struct wm_agent wasmorch_agent;
static struct loaded_module modules[CONFIG_WASMORCH_MAX_MODULES];

static struct loaded_module *find_module(const char *id)
{
	for (int i = 0; i < CONFIG_WASMORCH_MAX_MODULES; i++) {
		if (modules[i].in_use && strcmp(modules[i].id, id) == 0) {
			return &modules[i];
		}
	}
	return NULL;
}

static bool is_running(const char *id)
{
	bool running;

	k_mutex_lock(&runner_lock, K_FOREVER);
	running = job_active && strcmp(current_job.module->id, id) == 0;
	k_mutex_unlock(&runner_lock);
	return running;
}

static void send(void *ctx, const char *data, size_t len)
{
	ARG_UNUSED(ctx);
	link_send(data, len);
}

static uint32_t uptime_ms(void *ctx)
{
	ARG_UNUSED(ctx);
	return k_uptime_get_32();
}

/* LOAD_OK's verify_us: microseconds since boot at cycle resolution (the u32 wraps every ~71 minutes; differences stay right). */
static uint32_t uptime_us(void *ctx)
{
	ARG_UNUSED(ctx);
	/* The hardware cycle counter, not the tick count: ticks are 10 ms on some boards. */
	return (uint32_t)k_cyc_to_us_floor64(k_cycle_get_64());
}

#ifdef CONFIG_WASMORCH_LINK_AUTH
/* The AUTH challenge: unpredictable bytes from the board's entropy source. */
static void random_bytes(void *ctx, uint8_t *buf, size_t len)
{
	ARG_UNUSED(ctx);
	sys_rand_get(buf, len);
}
#endif

static void hello(void *ctx, struct wm_hello *h)
{
	ARG_UNUSED(ctx);
	h->agent = "wasmorch-zephyr/0.1";
	h->board = CONFIG_BOARD;
	h->runtime = "wamr/" WASMORCH_WAMR_VERSION;
	h->modes = "wasm,aot";
	h->aot_target = WASMORCH_AOT_TARGET;
	h->max_module = CONFIG_WASMORCH_MAX_MODULE_SIZE;
	h->max_modules = CONFIG_WASMORCH_MAX_MODULES;
	h->caps = caps_offered();
}

static void status(void *ctx, struct wm_status *st)
{
	ARG_UNUSED(ctx);
	k_mutex_lock(&runner_lock, K_FOREVER);
	st->running = job_active;
	if (job_active) {
		strcpy(st->module, current_job.module->id);
		strcpy(st->func, current_job.func_name);
		st->job = current_job.id;
	}
	k_mutex_unlock(&runner_lock);
	for (int i = 0; i < CONFIG_WASMORCH_MAX_MODULES; i++) {
		if (modules[i].in_use) {
			if (st->modules[0] != '\0') {
				strncat(st->modules, ",", sizeof(st->modules) - strlen(st->modules) - 1);
			}
			strncat(st->modules, modules[i].id, sizeof(st->modules) - strlen(st->modules) - 1);
			snprintf(st->module_crcs + strlen(st->module_crcs), sizeof(st->module_crcs) - strlen(st->module_crcs),
				 "%s%s:%08lx", st->module_crcs[0] ? "," : "", modules[i].id, (unsigned long)modules[i].crc);
		}
	}
	st->gpio = gpio_levels();
	st->gpio_writes = gpio_write_count();
	st->log_dropped = log_dropped_count();
	st->events_dropped = events_dropped_count();
	strncpy(st->pwm, pwm_status(), sizeof(st->pwm) - 1);
}

static enum wm_code load_check(void *ctx, const char *id, uint32_t size, char *msg, size_t cap)
{
	bool room = find_module(id) != NULL;

	ARG_UNUSED(ctx);
	if (size > CONFIG_WASMORCH_MAX_MODULE_SIZE) {
		snprintf(msg, cap, "module of %u bytes exceeds this board's %u", (unsigned)size,
			 (unsigned)CONFIG_WASMORCH_MAX_MODULE_SIZE);
		return WM_TOO_LARGE;
	}
	if (is_running(id)) {
		snprintf(msg, cap, "module '%s' is running; STOP it first", id);
		return WM_BUSY;
	}
	for (int i = 0; !room && i < CONFIG_WASMORCH_MAX_MODULES; i++) {
		room = !modules[i].in_use;
	}
	if (!room) {
		snprintf(msg, cap, "%d modules are loaded, the most this board holds", CONFIG_WASMORCH_MAX_MODULES);
		return WM_NO_MEMORY;
	}
	return WM_OK;
}

static uint8_t *load_buffer(void *ctx, uint32_t size)
{
	ARG_UNUSED(ctx);
	return wasm_runtime_malloc(size);
}

static void load_abort(void *ctx, uint8_t *buf)
{
	ARG_UNUSED(ctx);
	wasm_runtime_free(buf);
}

/* Every import must be one of our natives: WAMR would otherwise trap only when it is called. */
static bool imports_linked(wasm_module_t module, char *msg, size_t cap)
{
	int32_t count = wasm_runtime_get_import_count(module);

	for (int32_t i = 0; i < count; i++) {
		wasm_import_t import;

		wasm_runtime_get_import_type(module, i, &import);
		if (import.kind != WASM_IMPORT_EXPORT_KIND_FUNC || !import.linked) {
			snprintf(msg, cap, "module imports %s::%s, which this board does not offer", import.module_name,
				 import.name);
			return false;
		}
	}
	return true;
}

static enum wm_code load_commit(void *ctx, const char *id, uint8_t *buf, uint32_t size, uint32_t crc, char *msg,
				size_t cap)
{
	char err[96];
	wasm_module_t module;
	wasm_module_inst_t trial;
	struct loaded_module *slot = find_module(id);

	ARG_UNUSED(ctx);
	module = wasm_runtime_load(buf, size, err, sizeof(err));
	if (module == NULL) {
		snprintf(msg, cap, "not a valid module: %s", err);
		wasm_runtime_free(buf);
		return WM_INVALID_MODULE;
	}
	if (!imports_linked(module, msg, cap)) {
		wasm_runtime_unload(module);
		wasm_runtime_free(buf);
		return WM_INVALID_MODULE;
	}
	/* A trial instance proves the linear memory fits before the module is accepted. */
	trial = wasm_runtime_instantiate(module, CONFIG_WASMORCH_WASM_STACK_SIZE, 0, err, sizeof(err));
	if (trial == NULL) {
		snprintf(msg, cap, "cannot instantiate: %s", err);
		wasm_runtime_unload(module);
		wasm_runtime_free(buf);
		return strstr(err, "memory") != NULL ? WM_NO_MEMORY : WM_INVALID_MODULE;
	}
	wasm_runtime_deinstantiate(trial);
	if (slot == NULL) {
		for (int i = 0; slot == NULL && i < CONFIG_WASMORCH_MAX_MODULES; i++) {
			if (!modules[i].in_use) {
				slot = &modules[i];
			}
		}
	} else {
		wasm_runtime_unload(slot->module);
		wasm_runtime_free(slot->bytes);
	}
	strcpy(slot->id, id);
	slot->module = module;
	slot->bytes = buf;
	slot->size = size;
	slot->crc = crc;
	slot->in_use = true;
	return WM_OK;
}

static bool convert_arg(const char *text, wasm_valkind_t kind, wasm_val_t *out)
{
	double d;

	out->kind = kind;
	switch (kind) {
	case WASM_I32:
		return wm_arg_to_i32(text, &out->of.i32);
	case WASM_I64:
		return wm_arg_to_i64(text, &out->of.i64);
	case WASM_F32:
		if (!wm_arg_to_f64(text, &d)) {
			return false;
		}
		out->of.f32 = (float)d;
		return true;
	case WASM_F64:
		return wm_arg_to_f64(text, &out->of.f64);
	default:
		return false;
	}
}

static enum wm_code start_prepare(void *ctx, const char *id, const char *func, const struct wm_args *args,
				  uint32_t *job, char *msg, size_t cap)
{
	static uint32_t last_job;
	struct loaded_module *m = find_module(id);
	wasm_valkind_t kinds[WM_MAX_ARGS];
	char err[96];
	wasm_module_inst_t inst;
	wasm_function_inst_t fn;
	uint32_t params;

	ARG_UNUSED(ctx);
	if (m == NULL) {
		snprintf(msg, cap, "no module '%s' is loaded", id);
		return WM_NO_MODULE;
	}
	k_mutex_lock(&runner_lock, K_FOREVER);
	if (job_active) {
		snprintf(msg, cap, "job %u (%s.%s) is running", (unsigned)current_job.id, current_job.module->id,
			 current_job.func_name);
		k_mutex_unlock(&runner_lock);
		return WM_BUSY;
	}
	k_mutex_unlock(&runner_lock);

	inst = wasm_runtime_instantiate(m->module, CONFIG_WASMORCH_WASM_STACK_SIZE, 0, err, sizeof(err));
	if (inst == NULL) {
		snprintf(msg, cap, "cannot instantiate: %s", err);
		return WM_NO_MEMORY;
	}
	{
		/* The job's stack comes from the pool too: refuse now rather than trap after START_OK. */
		void *room = wasm_runtime_malloc(CONFIG_WASMORCH_WASM_STACK_SIZE + 2048);

		if (room == NULL) {
			snprintf(msg, cap, "no room for the job's %u-byte stack", (unsigned)CONFIG_WASMORCH_WASM_STACK_SIZE);
			wasm_runtime_deinstantiate(inst);
			return WM_NO_MEMORY;
		}
		wasm_runtime_free(room);
	}
	fn = wasm_runtime_lookup_function(inst, func);
	if (fn == NULL) {
		snprintf(msg, cap, "module '%s' exports no function '%s'", id, func);
		wasm_runtime_deinstantiate(inst);
		return WM_NO_FUNC;
	}
	params = wasm_func_get_param_count(fn, inst);
	if (params != (uint32_t)args->count || params > WM_MAX_ARGS || wasm_func_get_result_count(fn, inst) > 1) {
		snprintf(msg, cap, "function takes %u argument(s), got %d", (unsigned)params, args->count);
		wasm_runtime_deinstantiate(inst);
		return WM_BAD_ARGS;
	}
	wasm_func_get_param_types(fn, inst, kinds);
	for (uint32_t i = 0; i < params; i++) {
		if (!convert_arg(args->text[i], kinds[i], &current_job.args[i])) {
			snprintf(msg, cap, "argument %u: '%s' does not fit its type", (unsigned)(i + 1), args->text[i]);
			wasm_runtime_deinstantiate(inst);
			return WM_BAD_ARGS;
		}
	}
	k_mutex_lock(&runner_lock, K_FOREVER);
	current_job.id = ++last_job;
	current_job.module = m;
	current_job.inst = inst;
	current_job.func = fn;
	strcpy(current_job.func_name, func);
	current_job.arg_count = params;
	current_job.result_count = wasm_func_get_result_count(fn, inst);
	if (current_job.result_count == 1) {
		wasm_func_get_result_types(fn, inst, &current_job.result_kind);
	}
	atomic_clear(&job_stop_requested);
	k_sem_reset(&job_stop_sem);
	/* Edges are latched from here (before START_OK), as the emulator latches them. */
	caps_job_begin();
	job_active = true;
	k_mutex_unlock(&runner_lock);
	*job = current_job.id;
	return WM_OK;
}

static void start_go(void *ctx)
{
	ARG_UNUSED(ctx);
	runner_start();
}

static enum wm_code stop(void *ctx, const char *id, bool *pending, uint32_t *job)
{
	ARG_UNUSED(ctx);
	if (find_module(id) == NULL) {
		return WM_NO_MODULE;
	}
	k_mutex_lock(&runner_lock, K_FOREVER);
	*pending = job_active && strcmp(current_job.module->id, id) == 0;
	*job = current_job.id;
	k_mutex_unlock(&runner_lock);
	if (*pending) {
		runner_request_stop();
	}
	return WM_OK;
}

static enum wm_code unload(void *ctx, const char *id)
{
	struct loaded_module *m = find_module(id);

	ARG_UNUSED(ctx);
	if (m == NULL) {
		return WM_NO_MODULE;
	}
	if (is_running(id)) {
		return WM_BUSY;
	}
	wasm_runtime_unload(m->module);
	wasm_runtime_free(m->bytes);
	m->in_use = false;
	/* The module's kv store goes with it (docs/protocol.md 6c). */
	caps_module_unloaded(id);
	return WM_OK;
}

const struct wm_board_ops wasmorch_board_ops = {
	.send = send,
	.uptime_ms = uptime_ms,
	.uptime_us = uptime_us,
#ifdef CONFIG_WASMORCH_LINK_AUTH
	.random = random_bytes,
#endif
	.hello = hello,
	.status = status,
	.load_check = load_check,
	.load_buffer = load_buffer,
	.load_commit = load_commit,
	.load_abort = load_abort,
	.start_prepare = start_prepare,
	.start_go = start_go,
	.stop = stop,
	.unload = unload,
};
