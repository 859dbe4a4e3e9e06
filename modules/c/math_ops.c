/* Arithmetic functions: the seed's first example (start add --func-args "a=10,b=15"). */
#include "wasmorch.h"

WASMORCH_EXPORT("add") int32_t add(int32_t a, int32_t b) { return a + b; }

WASMORCH_EXPORT("sub") int32_t sub(int32_t a, int32_t b) { return a - b; }

WASMORCH_EXPORT("mul") int32_t mul(int32_t a, int32_t b) { return a * b; }

/* Integer division: b == 0 traps (RESULT status=TRAP), as on the board's CPU. */
WASMORCH_EXPORT("div") int32_t div(int32_t a, int32_t b) { return a / b; }

WASMORCH_EXPORT("mod") int32_t mod(int32_t a, int32_t b) { return a % b; }

/* Iterative Fibonacci in 64 bits: fib(90) still fits. */
WASMORCH_EXPORT("fib") int64_t fib(int32_t n)
{
	int64_t a = 0, b = 1;

	for (int32_t i = 0; i < n; i++) {
		int64_t next = a + b;

		a = b;
		b = next;
	}
	return a;
}

WASMORCH_EXPORT("factorial") int64_t factorial(int32_t n)
{
	int64_t r = 1;

	for (int32_t i = 2; i <= n; i++) {
		r *= i;
	}
	return r;
}

WASMORCH_EXPORT("add_f64") double add_f64(double a, double b) { return a + b; }

WASMORCH_EXPORT("scale_f32") float scale_f32(float x, float k) { return x * k; }

WASMORCH_EXPORT("add_i64") int64_t add_i64(int64_t a, int64_t b) { return a + b; }
