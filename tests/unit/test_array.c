/* model/array: growing an array doubles it, starts at the size asked, and refuses a size that
 * would overflow without touching the array. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "model/array.h"

static void test_grows_by_doubling(void **state)
{
	(void)state;
	int *a = NULL;
	size_t cap = 0;
	for (size_t n = 0; n < 100; n++) {
		int *g = array_grow(a, n, &cap, sizeof *g, 4);
		assert_non_null(g);
		a = g;
		a[n] = (int)n;
		assert_true(cap > n);
	}
	assert_int_equal(cap, 128); /* 4, 8, ... 128 */
	for (size_t n = 0; n < 100; n++)
		assert_int_equal(a[n], (int)n);
	/* room left: the same array back, the capacity unchanged */
	assert_ptr_equal(array_grow(a, 100, &cap, sizeof *a, 4), a);
	assert_int_equal(cap, 128);
	free(a);
}

static void test_overflow_is_refused(void **state)
{
	(void)state;
	char *a = malloc(4);
	assert_non_null(a);
	size_t cap = SIZE_MAX / 16 + 1;
	assert_null(array_grow(a, cap, &cap, 16, 4));
	assert_int_equal(cap, SIZE_MAX / 16 + 1);
	free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_grows_by_doubling),
		cmocka_unit_test(test_overflow_is_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
