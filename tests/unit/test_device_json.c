/* Unit tests of model/device_json: the device object of `show --json` and the report, key by key:
 * identity, status words, meters with their sources, supply states and honest percentages (null
 * for the special levels), alerts, and nulls for what a device did not report. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "model/device_json.h"

static struct supply supply(int index, int klass, int type, int max, int level, const char *desc,
			    const char *colorant)
{
	struct supply s = {
		.index = index, .type = type, .klass = klass, .unit = 19, .max = max, .level = level,
		.description = desc ? strdup(desc) : NULL, .colorant = colorant ? strdup(colorant) : NULL,
	};
	return s;
}

/* A colour MFP with every part filled in. The caller device_clear()s it. */
static void colour_mfp(struct device *d)
{
	memset(d, 0, sizeof *d);
	d->id = 7;
	d->address = strdup("10.1.2.3");
	d->port = 161;
	d->vendor = strdup("Xerox");
	d->model = strdup("WorkCentre 7845");
	d->serial = strdup("XRX123456");
	d->mac = strdup("9c:93:4e:01:02:03");
	d->firmware = strdup("073.030.075.34540");
	d->sys_name = strdup("floor2-mfp");
	d->location = strdup("Floor 2");
	d->status_device = 3;
	d->status_printer = 3;
	d->error_bits = (1u << PRINTER_ERR_LOW_TONER) | (1u << PRINTER_ERR_DOOR_OPEN);
	d->error_bits_known = true;
	d->included = true;
	d->first_seen = 1700000000;
	d->last_poll_ok = 1700003600;
	d->last_seen = 1700003600;
	d->last_poll = 1700003600;

	d->n_meters = 3;
	d->meters = calloc(3, sizeof *d->meters);
	const char *names[] = { "total", "black", "color" };
	const char *oids[] = { "1.3.6.1.2.1.43.10.2.1.4.1.1", "1.3.6.1.4.1.253.8.53.13.2.1.6.1.20.34",
			       "1.3.6.1.4.1.253.8.53.13.2.1.6.1.20.33" };
	const int64_t values[] = { 120000, 80000, 40000 };
	for (int i = 0; i < 3; i++) {
		d->meters[i].name = strdup(names[i]);
		d->meters[i].value = values[i];
		d->meters[i].unit = 7;
		d->meters[i].oid = strdup(oids[i]);
		d->meters[i].raw = strdup(i == 0 ? "120000" : i == 1 ? "80000" : "40000");
		d->meters[i].read_at = 1700003600;
	}

	d->n_supplies = 5;
	d->supplies = calloc(5, sizeof *d->supplies);
	d->supplies[0] = supply(1, SUPPLY_CLASS_CONSUMED, 3, 100, 42, "Black Toner", "black");
	d->supplies[1] = supply(2, SUPPLY_CLASS_CONSUMED, 3, 100, 5, "Cyan Toner", "cyan");
	d->supplies[2] = supply(3, SUPPLY_CLASS_CONSUMED, 3, -2, -3, "Magenta Toner", "magenta");
	d->supplies[3] = supply(4, SUPPLY_CLASS_RECEPTACLE, 4, 100, 0, "Waste Toner", NULL);
	d->supplies[4] = supply(5, SUPPLY_CLASS_CONSUMED, 3, 100, 0, "Yellow Toner", "yellow");

	d->n_alerts = 1;
	d->alerts = calloc(1, sizeof *d->alerts);
	d->alerts[0] = (struct alert){
		.index = 12, .severity = 3, .group = 6, .group_index = 1, .code = 503,
		.description = strdup("Door open"), .first_seen = 1700001000,
	};
}

static void test_colour_mfp(void **state)
{
	(void)state;
	struct device d;
	colour_mfp(&d);
	json_t *o = device_json(&d, 10);
	assert_non_null(o);

	assert_int_equal(json_integer_value(json_object_get(o, "id")), 7);
	assert_string_equal(json_string_value(json_object_get(o, "address")), "10.1.2.3");
	assert_string_equal(json_string_value(json_object_get(o, "vendor")), "Xerox");
	assert_string_equal(json_string_value(json_object_get(o, "model")), "WorkCentre 7845");
	assert_string_equal(json_string_value(json_object_get(o, "serial")), "XRX123456");
	assert_string_equal(json_string_value(json_object_get(o, "firmware")), "073.030.075.34540");
	assert_string_equal(json_string_value(json_object_get(o, "mac")), "9c:93:4e:01:02:03");
	assert_string_equal(json_string_value(json_object_get(o, "last_poll_ok")), "2023-11-14T23:13:20Z");
	assert_true(json_is_true(json_object_get(o, "included")));

	json_t *st = json_object_get(o, "status");
	assert_string_equal(json_string_value(json_object_get(st, "device")), "warning");
	assert_string_equal(json_string_value(json_object_get(st, "printer")), "idle");
	json_t *errors = json_object_get(st, "errors");
	assert_int_equal(json_array_size(errors), 2);
	assert_string_equal(json_string_value(json_array_get(errors, 0)), "low toner");
	assert_string_equal(json_string_value(json_array_get(errors, 1)), "door open");

	json_t *m = json_object_get(o, "meters");
	assert_int_equal(json_integer_value(json_object_get(m, "total")), 120000);
	assert_int_equal(json_integer_value(json_object_get(m, "black")), 80000);
	assert_int_equal(json_integer_value(json_object_get(m, "color")), 40000);
	json_t *src = json_array_get(json_object_get(m, "sources"), 1);
	assert_string_equal(json_string_value(json_object_get(src, "name")), "black");
	assert_string_equal(json_string_value(json_object_get(src, "oid")),
			    "1.3.6.1.4.1.253.8.53.13.2.1.6.1.20.34");
	assert_string_equal(json_string_value(json_object_get(src, "raw")), "80000");

	json_t *sup = json_object_get(o, "supplies");
	assert_int_equal(json_array_size(sup), 5);
	static const struct {
		const char *state;
		int percent; /* -1 = null */
	} want[] = { { "ok", 42 }, { "low", 5 }, { "some-remaining", -1 }, { "full", 0 }, { "empty", 0 } };
	for (size_t i = 0; i < 5; i++) {
		json_t *s = json_array_get(sup, i);
		assert_string_equal(json_string_value(json_object_get(s, "state")), want[i].state);
		json_t *p = json_object_get(s, "percent");
		if (want[i].percent < 0)
			assert_true(json_is_null(p));
		else
			assert_int_equal(json_integer_value(p), want[i].percent);
		assert_non_null(json_object_get(s, "index"));
		assert_non_null(json_object_get(s, "type"));
		assert_non_null(json_object_get(s, "class"));
		assert_non_null(json_object_get(s, "unit"));
		assert_non_null(json_object_get(s, "max"));
		assert_non_null(json_object_get(s, "level"));
		assert_non_null(json_object_get(s, "description"));
		assert_non_null(json_object_get(s, "colorant"));
	}
	assert_int_equal(json_integer_value(json_object_get(json_array_get(sup, 2), "level")), -3);
	assert_true(json_is_null(json_object_get(json_array_get(sup, 3), "colorant")));
	assert_int_equal(json_integer_value(json_object_get(json_array_get(sup, 3), "class")), 4);

	json_t *a = json_array_get(json_object_get(o, "alerts"), 0);
	assert_string_equal(json_string_value(json_object_get(a, "severity")), "critical");
	assert_int_equal(json_integer_value(json_object_get(a, "group")), 6);
	assert_int_equal(json_integer_value(json_object_get(a, "code")), 503);
	assert_string_equal(json_string_value(json_object_get(a, "description")), "Door open");

	/* It dumps as valid JSON that parses back to the same value. */
	char *text = json_dumps(o, JSON_COMPACT);
	assert_non_null(text);
	json_error_t jerr;
	json_t *back = json_loads(text, 0, &jerr);
	assert_non_null(back);
	assert_true(json_equal(o, back));
	json_decref(back);
	free(text);
	json_decref(o);
	device_clear(&d);
}

/* A device that answered nothing but its address: every key is there, unknowns are null. */
static void test_bare_device(void **state)
{
	(void)state;
	struct device d = { 0 };
	d.id = 1;
	d.address = strdup("192.0.2.9");
	d.serial = strdup(""); /* an agent that answers an empty serial: not reported */
	json_t *o = device_json(&d, 10);
	assert_non_null(o);
	static const char *const null_keys[] = { "vendor", "model", "serial", "firmware", "mac",
						 "location", "last_poll_ok", "poll_error" };
	for (size_t i = 0; i < sizeof null_keys / sizeof null_keys[0]; i++)
		assert_true(json_is_null(json_object_get(o, null_keys[i])));
	json_t *st = json_object_get(o, "status");
	assert_true(json_is_null(json_object_get(st, "device")));
	assert_true(json_is_null(json_object_get(st, "printer")));
	assert_int_equal(json_array_size(json_object_get(st, "errors")), 0);
	assert_true(json_is_false(json_object_get(st, "errors_known")));
	json_t *m = json_object_get(o, "meters");
	assert_true(json_is_null(json_object_get(m, "total")));
	assert_true(json_is_null(json_object_get(m, "black")));
	assert_true(json_is_null(json_object_get(m, "color")));
	assert_int_equal(json_array_size(json_object_get(m, "sources")), 0);
	assert_int_equal(json_array_size(json_object_get(o, "supplies")), 0);
	assert_int_equal(json_array_size(json_object_get(o, "alerts")), 0);
	json_decref(o);
	device_clear(&d);
}

/* Special levels and capacities never turn into numbers that look like percentages. */
static void test_special_levels(void **state)
{
	(void)state;
	struct device d = { 0 };
	d.address = strdup("192.0.2.10");
	d.n_supplies = 4;
	d.supplies = calloc(4, sizeof *d.supplies);
	d.supplies[0] = supply(1, SUPPLY_CLASS_CONSUMED, 3, 100, -1, "Staples", NULL);
	d.supplies[1] = supply(2, SUPPLY_CLASS_CONSUMED, 3, 100, -2, "Drum", NULL);
	d.supplies[2] = supply(3, SUPPLY_CLASS_CONSUMED, 3, -2, 50, "Fuser", NULL);
	d.supplies[3] = supply(4, SUPPLY_CLASS_CONSUMED, 3, 500, 650, "Brother", NULL);
	json_t *o = device_json(&d, 10);
	assert_non_null(o);
	json_t *sup = json_object_get(o, "supplies");
	const char *states[] = { "no-restriction", "unknown", "ok", "ok" };
	for (size_t i = 0; i < 4; i++)
		assert_string_equal(json_string_value(json_object_get(json_array_get(sup, i), "state")),
				    states[i]);
	for (size_t i = 0; i < 3; i++)
		assert_true(json_is_null(json_object_get(json_array_get(sup, i), "percent")));
	/* Above its maximum is full, not 130 %. */
	assert_int_equal(json_integer_value(json_object_get(json_array_get(sup, 3), "percent")), 100);
	json_decref(o);
	device_clear(&d);
}

/* A string that is not valid UTF-8 (which a cleaned device never holds) is cleaned, not lost:
 * jansson would refuse it and the whole device would be missing from the report. */
static void test_bad_utf8_is_cleaned(void **state)
{
	(void)state;
	struct device d = { 0 };
	d.address = strdup("192.0.2.11");
	d.location = strdup("Caf\xe9");
	json_t *o = device_json(&d, 10);
	assert_non_null(o);
	const char *loc = json_string_value(json_object_get(o, "location"));
	assert_non_null(loc);
	assert_string_equal(loc, "0x436166E9");
	json_decref(o);
	device_clear(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_colour_mfp),
		cmocka_unit_test(test_bare_device),
		cmocka_unit_test(test_special_levels),
		cmocka_unit_test(test_bad_utf8_is_cleaned),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
