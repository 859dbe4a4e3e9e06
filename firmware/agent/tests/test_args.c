/* The args grammar and conversions to wasm types. */
#include <math.h>

#include "check.h"
#include "wasmorch/proto.h"

int main(void)
{
	struct wm_args a;
	char err[96];
	int32_t i32;
	int64_t i64;
	double f;

	CHECK(wm_args_parse("a=10, b=-15,2.5,0x1F", &a, err, sizeof(err)) == 0);
	CHECK(a.count == 4);
	CHECK_STR(a.text[0], "10");
	CHECK_STR(a.text[1], "-15");
	CHECK_STR(a.text[2], "2.5");
	CHECK_STR(a.text[3], "0x1F");
	CHECK(wm_arg_to_i32(a.text[3], &i32) && i32 == 31);
	CHECK(wm_args_parse(NULL, &a, err, sizeof(err)) == 0 && a.count == 0);
	CHECK(wm_args_parse("", &a, err, sizeof(err)) == 0 && a.count == 0);
	CHECK(wm_args_parse("a=ten", &a, err, sizeof(err)) != 0);
	CHECK(wm_args_parse("1 2", &a, err, sizeof(err)) != 0);
	CHECK(wm_args_parse("1,,2", &a, err, sizeof(err)) != 0);
	CHECK(wm_args_parse("1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17", &a, err, sizeof(err)) != 0);
	CHECK_STR(err, "17 arguments; at most 16");
	CHECK(wm_args_parse("a=1, b=x", &a, err, sizeof(err)) != 0);
	CHECK_STR(err, "argument 2 (b): 'x' is not a number");
	CHECK(wm_args_parse("1, 9a=2", &a, err, sizeof(err)) != 0);
	CHECK_STR(err, "argument 2: '9a' is not a name");

	CHECK(wm_arg_to_i32("-2147483648", &i32) && i32 == INT32_MIN);
	CHECK(wm_arg_to_i32("4294967295", &i32) && i32 == -1);
	CHECK(!wm_arg_to_i32("4294967296", &i32));
	CHECK(!wm_arg_to_i32("1.5", &i32));
	CHECK(wm_arg_to_i64("9000000000", &i64) && i64 == 9000000000LL);
	CHECK(wm_arg_to_f64("2.5", &f) && f == 2.5);
	CHECK(wm_arg_to_f64("-1e3", &f) && f == -1000.0);
	CHECK(wm_arg_to_f64("inf", &f) && isinf(f));
	CHECK(!wm_arg_to_f64("1e999", &f));
	CHECK(!wm_arg_to_f64("abc", &f));
	CHECK_DONE();
}
