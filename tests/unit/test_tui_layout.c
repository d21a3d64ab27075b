/* The console's layout without curses (tui/layout.h, the Devices columns of tui/fleet.h): the
 * frame printed as rectangles for the design size and the limits, which columns a width keeps,
 * and scrolling that keeps the selection visible. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <setjmp.h>
#include <cmocka.h>

#include "tui/fleet.h"
#include "tui/layout.h"

static void rect_text(const char *name, struct rect r, char *out, size_t len)
{
	size_t at = strlen(out);
	snprintf(out + at, len - at, "%s %d,%d %dx%d\n", name, r.y, r.x, r.w, r.h);
}

static void frame_text(int rows, int cols, char *out, size_t len)
{
	struct frame f = layout_frame(rows, cols);
	out[0] = '\0';
	if (f.too_small) {
		snprintf(out, len, "too small\n");
		rect_text("body", f.body, out, len);
		return;
	}
	rect_text("header", f.header, out, len);
	rect_text("tabs", f.tabs, out, len);
	rect_text("body", f.body, out, len);
	rect_text("status", f.status, out, len);
	rect_text("hints", f.hints, out, len);
}

static void test_frame(void **state)
{
	(void)state;
	char out[512];
	frame_text(24, 80, out, sizeof out);
	assert_string_equal(out, "header 0,0 80x1\n"
				 "tabs 1,0 80x1\n"
				 "body 2,0 80x20\n"
				 "status 22,0 80x1\n"
				 "hints 23,0 80x1\n");
	frame_text(16, 60, out, sizeof out);
	assert_string_equal(out, "header 0,0 60x1\n"
				 "tabs 1,0 60x1\n"
				 "body 2,0 60x12\n"
				 "status 14,0 60x1\n"
				 "hints 15,0 60x1\n");
	frame_text(15, 200, out, sizeof out);
	assert_string_equal(out, "too small\nbody 0,0 200x15\n");
	frame_text(40, 59, out, sizeof out);
	assert_string_equal(out, "too small\nbody 0,0 59x40\n");
	frame_text(0, 0, out, sizeof out);
	assert_string_equal(out, "too small\nbody 0,0 0x0\n");
}

/* The Devices columns a width keeps, as "Title:width" in table order. */
static void columns_text(int width, char *out, size_t len)
{
	int w[FLEET_COL_COUNT];
	fleet_col_widths(width, w);
	out[0] = '\0';
	int total = 0, shown = 0;
	for (int c = 0; c < FLEET_COL_COUNT; c++) {
		if (!w[c])
			continue;
		size_t at = strlen(out);
		snprintf(out + at, len - at, "%s%s:%d", at ? " " : "", fleet_col_title(c), w[c]);
		total += w[c];
		shown++;
	}
	/* the shown columns and their one-space gaps always fit */
	assert_true(total + shown - 1 <= width);
}

static void test_device_columns(void **state)
{
	(void)state;
	char out[512];
	columns_text(60, out, sizeof out);
	assert_string_equal(out, "Status:11 Name / address:20 Total:10 Supply:9 Alerts:6");
	columns_text(80, out, sizeof out);
	assert_string_equal(out, "Status:11 Name / address:17 Model:13 Total:10 Supply:9 Alerts:6 Polled:8");
	columns_text(100, out, sizeof out);
	assert_string_equal(out, "Status:11 Name / address:22 Model:15 Serial:12 Total:10 Supply:9 Alerts:6 Polled:8");
	columns_text(160, out, sizeof out);
	assert_non_null(strstr(out, "Colour:10"));
	assert_non_null(strstr(out, "Black:10"));
	/* every column is shown from some width on, and never wider than its maximum */
	int w[FLEET_COL_COUNT];
	assert_int_equal(fleet_col_widths(400, w), FLEET_COL_COUNT);
	assert_int_equal(w[FLEET_COL_NAME], 40);
	assert_int_equal(w[FLEET_COL_MODEL], 30);
	assert_true(fleet_col_numeric(FLEET_COL_TOTAL));
	assert_false(fleet_col_numeric(FLEET_COL_NAME));
}

static void test_columns_generic(void **state)
{
	(void)state;
	const struct layout_col cols[] = {
		{ "a", 5, 0, 0, 1, false }, { "b", 5, 8, 1, 1, false }, { "c", 5, 0, 2, 0, false },
	};
	int w[3];
	assert_int_equal(layout_columns(cols, 3, 4, 1, w), 0); /* not even the first */
	assert_int_equal(w[0], 0);
	assert_int_equal(layout_columns(cols, 3, 11, 1, w), 2);
	assert_int_equal(w[0] + w[1], 10);
	assert_int_equal(w[2], 0);
	/* b stops at its max 8, a takes the rest */
	assert_int_equal(layout_columns(cols, 3, 40, 1, w), 3);
	assert_int_equal(w[1], 8);
	assert_int_equal(w[2], 5);
	assert_int_equal(w[0], 40 - 2 - 8 - 5);
}

static void test_scroll(void **state)
{
	(void)state;
	size_t sel = 0, top = 0;
	layout_scroll(100, 10, &sel, &top);
	assert_int_equal(top, 0);
	sel = 15;
	layout_scroll(100, 10, &sel, &top);
	assert_int_equal(top, 6); /* selection on the last visible line */
	sel = 3;
	layout_scroll(100, 10, &sel, &top);
	assert_int_equal(top, 3);
	sel = 500;
	layout_scroll(100, 10, &sel, &top);
	assert_int_equal(sel, 99);
	assert_int_equal(top, 90);
	/* the list shrank (a filter): no empty space below the end */
	sel = 4;
	top = 90;
	layout_scroll(20, 10, &sel, &top);
	assert_int_equal(top, 4);
	sel = 4;
	top = 4;
	layout_scroll(5, 10, &sel, &top);
	assert_int_equal(top, 0);
	layout_scroll(0, 10, &sel, &top);
	assert_int_equal(sel, 0);
	assert_int_equal(top, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_frame),
		cmocka_unit_test(test_device_columns),
		cmocka_unit_test(test_columns_generic),
		cmocka_unit_test(test_scroll),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
