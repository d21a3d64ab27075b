/* Unit tests of uplink/schedule: the next daily slot with a fixed clock, in several time zones,
 * across spring-forward and fall-back days, with days of the week, a missed slot (never run
 * late), and the overdue rule that `fleetcon status` reports. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "model/clock.h"
#include "uplink/schedule.h"

static void set_tz(const char *tz)
{
	setenv("TZ", tz, 1);
	tzset();
}

/* "2024-03-31T01:00:00Z" as a time_t. */
static time_t utc(const char *iso)
{
	int64_t t;
	if (clock_parse_utc(iso, &t) < 0)
		fail_msg("bad date in test: %s", iso);
	return (time_t)t;
}

/* Compares as ISO text, so that a failure says which instant was expected. */
static void check_time(time_t got, const char *want)
{
	char buf[CLOCK_ISO_LEN];
	clock_format_utc(got, buf, sizeof buf);
	assert_string_equal(buf, want);
}

static const unsigned every_day = CONFIG_DAYS_ALL;

static void test_plain_day(void **state)
{
	(void)state;
	set_tz("Europe/Berlin");
	struct config_tod tod = { 2, 0 };
	/* Noon in summer: tomorrow 02:00 CEST. */
	check_time(schedule_next(&tod, every_day, utc("2024-06-10T10:00:00Z")), "2024-06-11T00:00:00Z");
	/* Just before the slot: today's. */
	check_time(schedule_next(&tod, every_day, utc("2024-06-10T23:59:59Z")), "2024-06-11T00:00:00Z");
	/* Exactly at the slot: the next one (strictly after). */
	check_time(schedule_next(&tod, every_day, utc("2024-06-11T00:00:00Z")), "2024-06-12T00:00:00Z");
	/* Winter: 02:00 CET. */
	check_time(schedule_next(&tod, every_day, utc("2024-01-15T12:00:00Z")), "2024-01-16T01:00:00Z");
	check_time(schedule_prev(&tod, every_day, utc("2024-01-15T12:00:00Z")), "2024-01-15T01:00:00Z");
}

/* Europe/Berlin, 31 March 2024: clocks go from 02:00 CET to 03:00 CEST. 02:30 does not exist;
 * the slot is the first valid time after it, 03:00 CEST (01:00Z), and the day after is normal. */
static void test_berlin_spring_forward(void **state)
{
	(void)state;
	set_tz("Europe/Berlin");
	struct config_tod t0230 = { 2, 30 };
	time_t s = schedule_next(&t0230, every_day, utc("2024-03-30T12:00:00Z"));
	check_time(s, "2024-03-31T01:00:00Z");
	check_time(schedule_next(&t0230, every_day, s), "2024-04-01T00:30:00Z");
	/* 02:00 itself is skipped too (the gap is [02:00, 03:00)). */
	struct config_tod t0200 = { 2, 0 };
	check_time(schedule_next(&t0200, every_day, utc("2024-03-30T12:00:00Z")), "2024-03-31T01:00:00Z");
	/* 01:59 and 03:00 are untouched. */
	struct config_tod t0159 = { 1, 59 }, t0300 = { 3, 0 };
	check_time(schedule_next(&t0159, every_day, utc("2024-03-30T12:00:00Z")), "2024-03-31T00:59:00Z");
	check_time(schedule_next(&t0300, every_day, utc("2024-03-30T12:00:00Z")), "2024-03-31T01:00:00Z");
	check_time(schedule_prev(&t0230, every_day, utc("2024-03-31T05:00:00Z")), "2024-03-31T01:00:00Z");
}

/* Europe/Berlin, 27 October 2024: 03:00 CEST becomes 02:00 CET, so 02:30 happens twice. It runs
 * once, at the first occurrence (00:30Z); between the two, the next slot is the next day's. */
static void test_berlin_fall_back(void **state)
{
	(void)state;
	set_tz("Europe/Berlin");
	struct config_tod tod = { 2, 30 };
	time_t first = schedule_next(&tod, every_day, utc("2024-10-26T12:00:00Z"));
	check_time(first, "2024-10-27T00:30:00Z");
	check_time(schedule_next(&tod, every_day, first), "2024-10-28T01:30:00Z");
	/* 01:15Z is 02:15 CET, after the first 02:30 and before the second. */
	check_time(schedule_next(&tod, every_day, utc("2024-10-27T01:15:00Z")), "2024-10-28T01:30:00Z");
	/* schedule_prev after the second occurrence still names the first. */
	check_time(schedule_prev(&tod, every_day, utc("2024-10-27T01:45:00Z")), "2024-10-27T00:30:00Z");
}

/* America/New_York, 10 March 2024: 02:00 EST -> 03:00 EDT; 3 November 2024: 02:00 EDT -> 01:00 EST. */
static void test_new_york(void **state)
{
	(void)state;
	set_tz("America/New_York");
	struct config_tod t0215 = { 2, 15 };
	check_time(schedule_next(&t0215, every_day, utc("2024-03-09T20:00:00Z")), "2024-03-10T07:00:00Z");
	check_time(schedule_next(&t0215, every_day, utc("2024-03-10T07:00:00Z")), "2024-03-11T06:15:00Z");
	struct config_tod t0130 = { 1, 30 };
	time_t first = schedule_next(&t0130, every_day, utc("2024-11-02T20:00:00Z"));
	check_time(first, "2024-11-03T05:30:00Z"); /* 01:30 EDT */
	check_time(schedule_next(&t0130, every_day, first), "2024-11-04T06:30:00Z"); /* not 06:30Z on the 3rd */
	/* Midnight and the last minute of the day are ordinary. */
	struct config_tod t0000 = { 0, 0 }, t2359 = { 23, 59 };
	check_time(schedule_next(&t0000, every_day, utc("2024-11-03T03:00:00Z")), "2024-11-03T04:00:00Z");
	check_time(schedule_next(&t2359, every_day, utc("2024-11-03T03:00:00Z")), "2024-11-03T03:59:00Z");
	check_time(schedule_next(&t2359, every_day, utc("2024-11-03T04:00:00Z")), "2024-11-04T04:59:00Z");
}

/* America/Santiago skips midnight (00:00 -> 01:00 on 8 September 2024): a 00:00 slot runs at 01:00. */
static void test_midnight_gap(void **state)
{
	(void)state;
	set_tz("America/Santiago");
	struct config_tod tod = { 0, 0 };
	check_time(schedule_next(&tod, every_day, utc("2024-09-07T12:00:00Z")), "2024-09-08T04:00:00Z");
	check_time(schedule_next(&tod, every_day, utc("2024-09-08T04:00:00Z")), "2024-09-09T03:00:00Z");
}

/* A missed slot is not run late: the host was off from 01:00Z to 09:00Z, the 02:00 CEST slot
 * (00:00Z) passed... and the next slot is tomorrow's. */
static void test_missed_slot(void **state)
{
	(void)state;
	set_tz("Europe/Berlin");
	struct config_tod tod = { 2, 0 };
	check_time(schedule_next(&tod, every_day, utc("2024-06-11T09:00:00Z")), "2024-06-12T00:00:00Z");
	/* A service that woke a little late runs the slot; hours late, it does not. */
	time_t slot = utc("2024-06-11T00:00:00Z");
	assert_true(schedule_is_due(slot, slot));
	assert_true(schedule_is_due(slot, slot + 60));
	assert_true(schedule_is_due(slot, slot + SCHEDULE_LATE_LIMIT));
	assert_false(schedule_is_due(slot, slot + SCHEDULE_LATE_LIMIT + 1));
	assert_false(schedule_is_due(slot, slot - 1));
	assert_false(schedule_is_due((time_t)-1, slot));
}

static void test_days_of_week(void **state)
{
	(void)state;
	set_tz("UTC");
	struct config_tod tod = { 6, 45 };
	unsigned mwf = CONFIG_DAY(1) | CONFIG_DAY(3) | CONFIG_DAY(5);
	/* Saturday 8 June 2024 -> Monday 10 June. */
	check_time(schedule_next(&tod, mwf, utc("2024-06-08T07:00:00Z")), "2024-06-10T06:45:00Z");
	/* Monday after the slot -> Wednesday. */
	check_time(schedule_next(&tod, mwf, utc("2024-06-10T06:45:00Z")), "2024-06-12T06:45:00Z");
	/* Only Sundays, on a Sunday after the slot: a week later. */
	check_time(schedule_next(&tod, CONFIG_DAY(0), utc("2024-06-09T08:00:00Z")), "2024-06-16T06:45:00Z");
	check_time(schedule_prev(&tod, CONFIG_DAY(0), utc("2024-06-09T06:44:00Z")), "2024-06-02T06:45:00Z");
	/* Year boundary. */
	struct config_tod t0000 = { 0, 0 };
	check_time(schedule_next(&t0000, every_day, utc("2024-12-31T23:30:00Z")), "2025-01-01T00:00:00Z");
	/* No day at all: no slot. */
	assert_int_equal(schedule_next(&tod, 0, utc("2024-06-08T07:00:00Z")), (time_t)-1);
	assert_int_equal(schedule_prev(&tod, 0, utc("2024-06-08T07:00:00Z")), (time_t)-1);
}

static void test_overdue(void **state)
{
	(void)state;
	set_tz("UTC");
	struct config_tod tod = { 2, 0 };
	time_t slot = utc("2024-06-11T02:00:00Z");
	time_t missed = 0;
	/* Within the grace after the slot: the slot before (yesterday's) was attempted. */
	assert_false(schedule_overdue(&tod, every_day, 0, utc("2024-06-10T02:00:05Z"), slot + 1800, &missed));
	/* Two hours after the slot, last attempt yesterday: overdue, and the missed slot is named. */
	assert_true(schedule_overdue(&tod, every_day, 0, utc("2024-06-10T02:00:05Z"), slot + 7200, &missed));
	assert_int_equal(missed, slot);
	/* Attempted at the slot: fine, whatever its result. */
	assert_false(schedule_overdue(&tod, every_day, 0, slot + 3, slot + 7200, NULL));
	/* A manual upload after the slot counts as an attempt too. */
	assert_false(schedule_overdue(&tod, every_day, 0, slot + 5000, slot + 7200, NULL));
	/* Nothing to send before that slot (the agent started later): not overdue. */
	assert_false(schedule_overdue(&tod, every_day, slot + 60, 0, slot + 7200, NULL));
	/* Never synced although it had data since the day before: overdue. */
	assert_true(schedule_overdue(&tod, every_day, slot - 86400 * 2, 0, slot + 7200, NULL));
	/* No days: never overdue. */
	assert_false(schedule_overdue(&tod, 0, 0, 0, slot + 7200, NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_day),
		cmocka_unit_test(test_berlin_spring_forward),
		cmocka_unit_test(test_berlin_fall_back),
		cmocka_unit_test(test_new_york),
		cmocka_unit_test(test_midnight_gap),
		cmocka_unit_test(test_missed_slot),
		cmocka_unit_test(test_days_of_week),
		cmocka_unit_test(test_overdue),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
