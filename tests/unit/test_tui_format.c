/* The console's cell formatting without curses (tui/format.h): display widths with wide and
 * combining characters, cuts that never split a character, ASCII terminals, numbers, times,
 * gauges and the supply words. */
#include <locale.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <setjmp.h>
#include <cmocka.h>

#include "model/clock.h"
#include "model/device.h"
#include "model/units.h"
#include "tui/format.h"

static int setup(void **state)
{
	(void)state;
	/* wcwidth needs a UTF-8 LC_CTYPE; C.UTF-8 is on every Debian */
	if (!setlocale(LC_CTYPE, "C.UTF-8")) {
		fprintf(stderr, "no C.UTF-8 locale\n");
		return -1;
	}
	setenv("TZ", "UTC", 1);
	tzset();
	return 0;
}

static void test_width(void **state)
{
	(void)state;
	assert_int_equal(fmt_width("", true), 0);
	assert_int_equal(fmt_width(NULL, true), 0);
	assert_int_equal(fmt_width("LaserJet", true), 8);
	assert_int_equal(fmt_width("Büro 2", true), 6);          /* ü: 2 bytes, 1 column */
	assert_int_equal(fmt_width("印刷機", true), 6);           /* wide: 2 columns each */
	assert_int_equal(fmt_width("e\xCC\x81", true), 1);        /* e + combining acute */
	assert_int_equal(fmt_width("a\xFF" "b", true), 3);        /* an invalid byte counts one */
	assert_int_equal(fmt_width("Büro", false), 4);
	assert_int_equal(fmt_width("印刷機", false), 3);          /* "???" */
}

static void test_fit(void **state)
{
	(void)state;
	char out[64];
	assert_int_equal(fmt_fit("printer", 10, true, out, sizeof out), 7);
	assert_string_equal(out, "printer");
	assert_int_equal(fmt_fit("printer", 7, true, out, sizeof out), 7);
	assert_string_equal(out, "printer");
	assert_int_equal(fmt_fit("printer-floor-2", 8, true, out, sizeof out), 8);
	assert_string_equal(out, "printer\xE2\x80\xA6");
	assert_int_equal(fmt_fit("printer-floor-2", 8, false, out, sizeof out), 8);
	assert_string_equal(out, "printer~");
	/* a wide character that does not fit is left out whole, never split */
	assert_int_equal(fmt_fit("ab印刷", 4, true, out, sizeof out), 3);
	assert_string_equal(out, "ab\xE2\x80\xA6");
	assert_int_equal(fmt_width(out, true), 3);
	assert_int_equal(fmt_fit("印刷機", 5, true, out, sizeof out), 5);
	assert_string_equal(out, "印刷\xE2\x80\xA6");
	/* the combining mark stays with its letter */
	assert_int_equal(fmt_fit("e\xCC\x81tage", 10, true, out, sizeof out), 5);
	assert_string_equal(out, "e\xCC\x81tage");
	/* ASCII terminal: everything outside ASCII is "?" */
	assert_int_equal(fmt_fit("Büro 印", 10, false, out, sizeof out), 6);
	assert_string_equal(out, "B?ro ?");
	/* invalid bytes and stray controls never reach the terminal */
	fmt_fit("a\xFF\x1b[31mb", 20, true, out, sizeof out);
	assert_null(strchr(out, '\x1b'));
	assert_string_equal(out, "a?[31mb");
	/* zero and negative widths, tiny buffers */
	assert_int_equal(fmt_fit("abc", 0, true, out, sizeof out), 0);
	assert_string_equal(out, "");
	char tiny[4];
	fmt_fit("abcdef", 6, true, tiny, sizeof tiny);
	assert_true(strlen(tiny) < sizeof tiny);
	fmt_fit("éééé", 4, true, tiny, sizeof tiny); /* 2 bytes each: only one fits with its NUL */
	assert_string_equal(tiny, "é");
}

static void test_pad(void **state)
{
	(void)state;
	char out[64];
	assert_int_equal(fmt_pad("42", 6, true, true, out, sizeof out), 6);
	assert_string_equal(out, "    42");
	assert_int_equal(fmt_pad("Büro", 6, false, true, out, sizeof out), 6);
	assert_string_equal(out, "Büro  ");
	assert_int_equal(fmt_pad("印刷機", 5, false, true, out, sizeof out), 5);
	assert_int_equal(fmt_width(out, true), 5);
	assert_int_equal(fmt_pad("toolong", 4, false, false, out, sizeof out), 4);
	assert_string_equal(out, "too~");
}

static void test_numbers(void **state)
{
	(void)state;
	char out[32];
	assert_string_equal(fmt_count(0, out, sizeof out), "0");
	assert_string_equal(fmt_count(999, out, sizeof out), "999");
	assert_string_equal(fmt_count(1000, out, sizeof out), "1,000");
	assert_string_equal(fmt_count(1234567, out, sizeof out), "1,234,567");
	assert_string_equal(fmt_count(-1, out, sizeof out), "-");
	assert_string_equal(fmt_count(INT64_MAX, out, sizeof out), "9,223,372,036,854,775,807");
	assert_string_equal(fmt_count_short(12345, out, sizeof out), "12,345");
	assert_string_equal(fmt_count_short(123456, out, sizeof out), "123k");
	assert_string_equal(fmt_count_short(1234567, out, sizeof out), "1.2M");
	assert_string_equal(fmt_count_short(12345678, out, sizeof out), "12.3M");
	assert_string_equal(fmt_count_short(999960, out, sizeof out), "1.0M");
	assert_string_equal(fmt_count_short(-5, out, sizeof out), "-");
	assert_string_equal(units_bytes(512, out, sizeof out), "512 B");
	assert_string_equal(units_bytes(1536, out, sizeof out), "1.5 KiB");
	assert_string_equal(units_bytes(3ULL << 30, out, sizeof out), "3.0 GiB");
	assert_string_equal(fmt_meter(-1, out, sizeof out), "-");
}

static void test_times(void **state)
{
	(void)state;
	char out[48];
	int64_t now = 1714572000; /* 2024-05-01 14:00:00 UTC */
	assert_string_equal(units_span(45, out, sizeof out), "45s");
	assert_string_equal(units_span(12 * 60 + 5, out, sizeof out), "12m");
	assert_string_equal(units_span(3 * 3600 + 5 * 60, out, sizeof out), "3h 05m");
	assert_string_equal(units_span(2 * 86400 + 4 * 3600, out, sizeof out), "2d 04h");
	assert_string_equal(units_span(-3, out, sizeof out), "0s");
	assert_string_equal(fmt_ago(0, now, out, sizeof out), "never");
	assert_string_equal(fmt_ago(now - 300, now, out, sizeof out), "5m ago");
	assert_string_equal(fmt_ago(now + 3600, now, out, sizeof out), "in the future");
	assert_string_equal(fmt_ago_short(now - 45, now, out, sizeof out), "45s ago");
	assert_string_equal(fmt_ago_short(now - 3 * 3600 - 5, now, out, sizeof out), "3h ago");
	assert_string_equal(fmt_ago_short(now - 999 * 86400LL, now, out, sizeof out), "999d ago");
	assert_string_equal(fmt_ago_short(0, now, out, sizeof out), "never");
	assert_true(strlen(fmt_ago_short(now - 5000 * 86400LL, now, out, sizeof out)) <= 8);
	assert_string_equal(fmt_countdown(now + 3 * 3600 + 300, now, out, sizeof out), "in 3h 05m");
	assert_string_equal(fmt_countdown(now + 125, now, out, sizeof out), "in 2m 05s");
	assert_string_equal(fmt_countdown(now + 9, now, out, sizeof out), "in 9s");
	assert_string_equal(fmt_countdown(now, now, out, sizeof out), "due now");
	assert_string_equal(fmt_countdown(-1, now, out, sizeof out), "not scheduled");
	assert_string_equal(clock_format_local(now, out, sizeof out), "2024-05-01 14:00");
	assert_string_equal(clock_format_local(0, out, sizeof out), "never");
}

static void test_gauge(void **state)
{
	(void)state;
	char out[128];
	assert_string_equal(fmt_gauge(50, 10, false, out, sizeof out), "#####-----");
	assert_string_equal(fmt_gauge(0, 4, false, out, sizeof out), "----");
	assert_string_equal(fmt_gauge(100, 4, false, out, sizeof out), "####");
	assert_string_equal(fmt_gauge(1, 10, false, out, sizeof out), "#---------"); /* never nothing */
	assert_string_equal(fmt_gauge(-2, 4, false, out, sizeof out), "    ");
	fmt_gauge(75, 8, true, out, sizeof out);
	assert_int_equal(fmt_width(out, true), 8);
	assert_string_equal(out, "██████░░");
}

static void test_supply_words(void **state)
{
	(void)state;
	char out[32];
	struct supply s = { .klass = SUPPLY_CLASS_CONSUMED, .unit = 19, .max = 100, .level = 8 };
	assert_string_equal(fmt_supply(&s, 10, out, sizeof out), "LOW 8%");
	s.level = 75;
	assert_string_equal(fmt_supply(&s, 10, out, sizeof out), "75%");
	s.level = 0;
	assert_string_equal(fmt_supply(&s, 10, out, sizeof out), "EMPTY");
	s.level = SUPPLY_VALUE_UNKNOWN;
	assert_string_equal(fmt_supply(&s, 10, out, sizeof out), "unknown");
	s.level = SUPPLY_VALUE_SOME_REMAINING;
	assert_string_equal(fmt_supply(&s, 10, out, sizeof out), "some left");
	s.level = SUPPLY_VALUE_OTHER;
	assert_string_equal(fmt_supply(&s, 10, out, sizeof out), "no limit");
	struct supply waste = { .klass = SUPPLY_CLASS_RECEPTACLE, .max = 100, .level = 0 };
	assert_string_equal(fmt_supply(&waste, 10, out, sizeof out), "FULL");
	waste.level = 5;
	assert_string_equal(fmt_supply(&waste, 10, out, sizeof out), "NEAR FULL");
	waste.level = 60;
	assert_string_equal(fmt_supply(&waste, 10, out, sizeof out), "room 60%");
	assert_int_equal(fmt_supply_severity(SUPPLY_EMPTY), 0);
	assert_int_equal(fmt_supply_severity(SUPPLY_LOW), 1);
	assert_int_equal(fmt_supply_severity(SUPPLY_UNKNOWN), 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_width),      cmocka_unit_test(test_fit),
		cmocka_unit_test(test_pad),        cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_times),      cmocka_unit_test(test_gauge),
		cmocka_unit_test(test_supply_words),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
