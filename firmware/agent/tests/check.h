/* Minimal test harness: CHECK records a failure and goes on; main returns the failure count. */
#ifndef WM_CHECK_H
#define WM_CHECK_H

#include <stdio.h>
#include <string.h>

static int check_failures;

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);   \
			check_failures++;                                                          \
		}                                                                                  \
	} while (0)

#define CHECK_STR(actual, expected)                                                                \
	do {                                                                                       \
		const char *a_ = (actual);                                                         \
		const char *e_ = (expected);                                                       \
		if (a_ == NULL || strcmp(a_, e_) != 0) {                                           \
			fprintf(stderr, "%s:%d: expected \"%s\", got \"%s\"\n", __FILE__, __LINE__, e_, \
				a_ ? a_ : "(null)");                                               \
			check_failures++;                                                          \
		}                                                                                  \
	} while (0)

#define CHECK_DONE()                                                                               \
	do {                                                                                       \
		if (check_failures == 0) {                                                         \
			printf("all checks passed\n");                                             \
		}                                                                                  \
		return check_failures == 0 ? 0 : 1;                                                \
	} while (0)

#endif
