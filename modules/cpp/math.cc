// Arithmetic in C++: the same exports as modules/c/math_ops.c (add, fib, ...), written with a
// class and a template. Built by the gateway with clang: C++17, no exceptions, no RTTI, no C++
// library (none is needed for this; the natives come from wasmorch.h as in C).
#include "wasmorch.h"

namespace {

// One implementation for every integer width the exports use.
template <typename T>
constexpr T wrapping_add(T a, T b)
{
	return static_cast<T>(a + b);
}

// Fibonacci by iteration, as a small value type: fib(90) still fits in 64 bits.
class Fibonacci {
public:
	int64_t nth(int32_t n)
	{
		for (int32_t i = 0; i < n; i++) {
			step();
		}
		return current_;
	}

private:
	void step()
	{
		int64_t next = wrapping_add(current_, following_);
		current_ = following_;
		following_ = next;
	}

	int64_t current_ = 0;
	int64_t following_ = 1;
};

} // namespace

WASMORCH_EXPORT("add") int32_t add(int32_t a, int32_t b) { return wrapping_add(a, b); }

WASMORCH_EXPORT("add_i64") int64_t add_i64(int64_t a, int64_t b) { return wrapping_add(a, b); }

WASMORCH_EXPORT("fib") int64_t fib(int32_t n) { return Fibonacci().nth(n); }
