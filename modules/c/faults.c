/* Functions that fail in each way a job can fail, for tests and for trying STOP on a board. */
#include "wasmorch.h"

WASMORCH_EXPORT("unreachable") int32_t trap_unreachable(void) { __builtin_trap(); }

WASMORCH_EXPORT("div_zero") int32_t div_zero(int32_t a)
{
	volatile int32_t zero = 0; /* volatile: clang may not fold the division away */

	return a / zero;
}

WASMORCH_EXPORT("out_of_bounds") int32_t out_of_bounds(void)
{
	volatile int32_t *p = (volatile int32_t *)0x7ffffff0;

	return *p;
}

/* Non-tail recursion that exhausts the call stack. */
WASMORCH_EXPORT("recurse") int32_t recurse(int32_t n)
{
	volatile int32_t pad[4] = { n, n, n, n };

	return recurse(n + 1) + pad[n & 3];
}

/* Ignores STOP entirely: only the runtime's backstop can end it. */
WASMORCH_EXPORT("spin") int32_t spin(void)
{
	volatile int32_t x = 0;

	for (;;) {
		x++;
	}
	return x;
}

WASMORCH_EXPORT("bad_pin") int32_t bad_pin(void)
{
	gpio_write(99, 1);
	return 0;
}

/*
 * Recursion through a function pointer: no shadow-stack frame in linear memory and no way for
 * clang to turn it into a loop, so it is the runtime's call stack that runs out.
 */
static int32_t deep(int32_t n);
static int32_t (*volatile deep_ptr)(int32_t) = deep;

static int32_t deep(int32_t n) { return deep_ptr(n + 1) + 1; }

WASMORCH_EXPORT("stack_overflow") int32_t stack_overflow(void) { return deep_ptr(0); }
