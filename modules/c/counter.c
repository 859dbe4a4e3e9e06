/* Counts and logs each step: shows LOG lines (`wasmorch logs --follow`) while a job runs. */
#include "wasmorch.h"

/* Logs 1..n, one every period_ms, then "done"; returns the sum. Stops early on STOP. */
WASMORCH_EXPORT("count") int32_t count(int32_t n, int32_t period_ms)
{
	int32_t sum = 0;

	for (int32_t i = 1; i <= n; i++) {
		log_i32(i);
		sum += i;
		if (period_ms > 0 && delay_ms(period_ms)) {
			log_str("stopped early");
			return sum;
		}
	}
	log_str("done");
	return sum;
}
