/* Unit tests of trays, covers and counters that go backwards, end to end below the collectors:
 * what their levels and statuses mean (model/device), the one device-state rule for them, the
 * store (schemas 3 and 4: save, load, replace, the back_from flag and its week, a v2 database
 * migrated with its data, partial polls and poll warnings), `show --json` / report keys
 * (model/device_json), and a range edited in place. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/device.h"
#include "model/device_json.h"
#include "model/store.h"
#include "tests/unit/lib/tmpdir.h"

struct fixture {
	char *dir;
	char *path;
	struct store *s;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	f->dir = test_tmpdir_new();
	if (!f->dir || asprintf(&f->path, "%s/fleetcon.db", f->dir) < 0)
		return -1;
	struct fc_error err = { { 0 } };
	if (store_open(f->path, 0, &f->s, &err) < 0) {
		fprintf(stderr, "%s\n", err.msg);
		return -1;
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	store_close(&f->s);
	test_tmpdir_remove(&f->dir);
	free(f->path);
	free(f);
	return 0;
}

/* A polled device with one meter, two trays and two covers; strings on the heap. */
static void make_device(struct device *d, int64_t when, int64_t total)
{
	memset(d, 0, sizeof *d);
	d->address = strdup("10.9.8.7");
	d->port = 161;
	d->vendor = strdup("Xerox");
	d->serial = strdup("SUB-1");
	d->last_poll = d->last_poll_ok = when;
	d->n_meters = 1;
	d->meters = calloc(1, sizeof *d->meters);
	d->meters[0] = (struct meter){ .name = strdup("total"), .value = total, .unit = 7,
				       .oid = strdup("1.3.6.1.2.1.43.10.2.1.4.1.1"), .raw = strdup("x"), .read_at = when };
	d->n_trays = 2;
	d->trays = calloc(2, sizeof *d->trays);
	d->trays[0] = (struct tray){ .index = 1, .name = strdup("Tray 1"), .description = strdup("Main tray"),
				     .media = strdup("A4"), .unit = 8, .max = 500, .level = 250, .status = 0 };
	d->trays[1] = (struct tray){ .index = 2, .name = strdup("Bypass"), .unit = 8, .max = 100, .level = 0,
				     .status = TRAY_STATUS_NONE };
	d->n_covers = 2;
	d->covers = calloc(2, sizeof *d->covers);
	d->covers[0] = (struct cover){ .index = 1, .description = strdup("Front Door"), .status = COVER_CLOSED };
	d->covers[1] = (struct cover){ .index = 2, .description = strdup("Left Door"), .status = COVER_OPEN };
}

static void test_tray_levels_and_words(void **state)
{
	(void)state;
	struct {
		int level, max;
		enum supply_state st;
		int pct;
	} cases[] = {
		{ 250, 500, SUPPLY_OK, 50 },      { 0, 500, SUPPLY_EMPTY, 0 },
		{ -1, 500, SUPPLY_NO_RESTRICTION, -1 }, { -2, -2, SUPPLY_UNKNOWN, -1 },
		{ -3, 500, SUPPLY_SOME_REMAINING, -1 }, { -7, 500, SUPPLY_UNKNOWN, -1 },
		{ 900, 500, SUPPLY_OK, 100 },     /* more than the maximum: full, never 180 % */
		{ 5, 0, SUPPLY_OK, -1 },          /* max 0: no honest percentage */
		{ 2147483647, 500, SUPPLY_OK, 100 }, { 2147483647, 2147483647, SUPPLY_OK, 100 },
		{ -2147483647 - 1, 10, SUPPLY_UNKNOWN, -1 },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct tray t = { .level = cases[i].level, .max = cases[i].max };
		assert_int_equal(tray_state_of(&t), cases[i].st);
		assert_int_equal(tray_percent(&t), cases[i].pct);
	}
	char buf[128];
	assert_string_equal(tray_status_text(0, buf, sizeof buf), "available and idle");
	assert_string_equal(tray_status_text(9, buf, sizeof buf), "unavailable on request, non-critical alerts");
	assert_string_equal(tray_status_text(4 | 16 | 32 | 64, buf, sizeof buf),
			    "available and active, critical alerts, off-line, transitioning");
	assert_string_equal(tray_status_text(TRAY_STATUS_NONE, buf, sizeof buf), "");
	assert_string_equal(tray_status_text(7, buf, sizeof buf), "");
	assert_string_equal(tray_status_text(127, buf, sizeof buf), "");
	assert_string_equal(tray_status_text(2147483647, buf, sizeof buf), "");
	char tiny[4];
	assert_int_equal(strlen(tray_status_text(9, tiny, sizeof tiny)), 3);

	assert_string_equal(cover_status_name(COVER_OPEN), "open");
	assert_string_equal(cover_status_name(COVER_INTERLOCK_CLOSED), "interlock closed");
	assert_string_equal(cover_status_name(0), "unknown");
	assert_string_equal(cover_status_name(-5), "unknown");
	struct cover c = { .status = COVER_INTERLOCK_OPEN };
	assert_true(cover_is_open(&c));
	c.status = COVER_CLOSED;
	assert_false(cover_is_open(&c));
}

/* The rule: covers and trays count only when the printer sends no error bits of its own. */
static void test_device_state_rule(void **state)
{
	(void)state;
	struct device d;
	make_device(&d, 1700000000, 1000);
	d.error_bits_known = false;
	assert_int_equal(device_state_of(&d), DEVICE_FAULT); /* Left Door open */
	d.covers[1].status = COVER_CLOSED;
	assert_int_equal(device_state_of(&d), DEVICE_WARNING); /* the bypass tray is empty */
	d.trays[1].level = -3;
	assert_int_equal(device_state_of(&d), DEVICE_OK);

	/* with the printer's own bits, the tables do not count again */
	d.covers[1].status = COVER_OPEN;
	d.trays[1].level = 0;
	d.error_bits_known = true;
	d.error_bits = 0;
	assert_int_equal(device_state_of(&d), DEVICE_OK);
	d.error_bits = 1u << PRINTER_ERR_DOOR_OPEN;
	assert_int_equal(device_state_of(&d), DEVICE_FAULT);
	d.error_bits = 0;

	/* a counter that went backwards is a warning */
	d.meters[0].back_from = 2000;
	assert_int_equal(device_state_of(&d), DEVICE_WARNING);
	device_clear(&d);
}

static void test_store_round_trip_and_replace(void **state)
{
	struct fixture *f = *state;
	struct fc_error err = { { 0 } };
	struct device d;
	make_device(&d, 1700000000, 1000);
	int64_t id = 0;
	assert_int_equal(store_device_save(f->s, &d, true, true, &id, &err), 0);
	device_clear(&d);

	struct device back;
	assert_int_equal(store_device_load(f->s, id, STORE_LOAD_ALL, &back, &err), 1);
	assert_int_equal(back.n_trays, 2);
	assert_int_equal(back.trays[0].index, 1);
	assert_string_equal(back.trays[0].name, "Tray 1");
	assert_string_equal(back.trays[0].description, "Main tray");
	assert_string_equal(back.trays[0].media, "A4");
	assert_int_equal(back.trays[0].max, 500);
	assert_int_equal(back.trays[0].level, 250);
	assert_int_equal(back.trays[0].status, 0);
	assert_null(back.trays[1].media);
	assert_int_equal(back.trays[1].status, TRAY_STATUS_NONE);
	assert_int_equal(back.n_covers, 2);
	assert_string_equal(back.covers[1].description, "Left Door");
	assert_int_equal(back.covers[1].status, COVER_OPEN);
	device_clear(&back);

	/* without the parts asked for, nothing is loaded */
	assert_int_equal(store_device_load(f->s, id, STORE_LOAD_METERS, &back, &err), 1);
	assert_int_equal(back.n_trays, 0);
	assert_int_equal(back.n_covers, 0);
	device_clear(&back);

	/* the next poll has one tray fewer and the door shut: the gone tray goes */
	make_device(&d, 1700003600, 1010);
	free(d.trays[1].name);
	d.n_trays = 1;
	d.covers[1].status = COVER_CLOSED;
	assert_int_equal(store_device_save(f->s, &d, true, true, &id, &err), 0);
	device_clear(&d);
	assert_int_equal(store_device_load(f->s, id, STORE_LOAD_ALL, &back, &err), 1);
	assert_int_equal(back.n_trays, 1);
	assert_int_equal(back.covers[1].status, COVER_CLOSED);
	device_clear(&back);

	/* an open cover counts as a fault in the counts only without error bits, like device_state_of */
	struct store_counts counts;
	make_device(&d, 1700007200, 1020);
	assert_int_equal(store_device_save(f->s, &d, true, true, &id, &err), 0);
	assert_int_equal(store_counts(f->s, 20, &counts, &err), 0);
	assert_int_equal(counts.with_faults, 1);
	d.error_bits_known = true;
	d.last_poll = d.last_poll_ok = 1700010800;
	assert_int_equal(store_device_save(f->s, &d, true, true, &id, &err), 0);
	assert_int_equal(store_counts(f->s, 20, &counts, &err), 0);
	assert_int_equal(counts.with_faults, 0);
	device_clear(&d);
}

static int64_t save_total(struct fixture *f, int64_t when, int64_t total, struct meter *out)
{
	struct fc_error err = { { 0 } };
	struct device d;
	make_device(&d, when, total);
	d.meters[0].back_from = 42; /* a collector's value is never read */
	int64_t id = 0;
	assert_int_equal(store_device_save(f->s, &d, true, true, &id, &err), 0);
	device_clear(&d);
	assert_int_equal(store_device_load(f->s, id, STORE_LOAD_METERS, &d, &err), 1);
	assert_int_equal(d.n_meters, 1);
	*out = d.meters[0];
	out->name = out->oid = out->raw = NULL;
	device_clear(&d);
	return id;
}

static void test_counter_going_backwards(void **state)
{
	struct fixture *f = *state;
	struct meter m;
	int64_t t0 = 1700000000;
	save_total(f, t0, 1000, &m);
	assert_int_equal(m.back_from, 0);
	save_total(f, t0 + 3600, 1200, &m);
	assert_int_equal(m.back_from, 0);
	/* a drop: flagged with the value before */
	save_total(f, t0 + 7200, 50, &m);
	assert_int_equal(m.value, 50);
	assert_int_equal(m.back_from, 1200);
	assert_int_equal(m.back_at, t0 + 7200);
	/* still below: the flag and its time stay; a further drop keeps the highest value */
	save_total(f, t0 + 10800, 60, &m);
	assert_int_equal(m.back_from, 1200);
	assert_int_equal(m.back_at, t0 + 7200);
	save_total(f, t0 + 14400, 10, &m);
	assert_int_equal(m.back_from, 1200);
	assert_int_equal(m.back_at, t0 + 7200);
	/* back above the old value: cleared */
	save_total(f, t0 + 18000, 1300, &m);
	assert_int_equal(m.back_from, 0);
	assert_int_equal(m.back_at, 0);
	/* a wrap (2^32 - 1 to a small number) is a drop too; the flag ends a week later */
	save_total(f, t0 + 21600, 4294967295LL, &m);
	save_total(f, t0 + 25200, 3, &m);
	assert_int_equal(m.back_from, 4294967295LL);
	save_total(f, t0 + 25200 + 6 * 86400, 900, &m);
	assert_int_equal(m.back_from, 4294967295LL);
	save_total(f, t0 + 25200 + 7 * 86400, 1000, &m);
	assert_int_equal(m.back_from, 0);
	/* the same value again is not a drop */
	save_total(f, t0 + 25200 + 8 * 86400, 1000, &m);
	assert_int_equal(m.back_from, 0);

	/* the JSON record carries the flag, a device with it is a warning */
	struct fc_error err = { { 0 } };
	int64_t id = save_total(f, t0 + 25200 + 9 * 86400, 999, &m);
	struct device d;
	assert_int_equal(store_device_load(f->s, id, STORE_LOAD_ALL, &d, &err), 1);
	d.error_bits_known = true;
	d.error_bits = 0;
	assert_int_equal(device_state_of(&d), DEVICE_WARNING);
	json_t *j = device_json(&d, 20);
	assert_non_null(j);
	json_t *src = json_array_get(json_object_get(json_object_get(j, "meters"), "sources"), 0);
	assert_int_equal(json_integer_value(json_object_get(src, "back_from")), 1000);
	assert_string_equal(json_string_value(json_object_get(src, "back_at")), "2023-11-24T05:13:20Z");
	json_decref(j);
	device_clear(&d);
}

static void test_device_json_trays_covers(void **state)
{
	(void)state;
	struct device d;
	make_device(&d, 1700000000, 1000);
	d.trays[1].level = -3;
	json_t *j = device_json(&d, 20);
	assert_non_null(j);
	json_t *trays = json_object_get(j, "trays"), *covers = json_object_get(j, "covers");
	assert_int_equal(json_array_size(trays), 2);
	assert_int_equal(json_array_size(covers), 2);
	json_t *t0 = json_array_get(trays, 0), *t1 = json_array_get(trays, 1);
	static const char *const tray_keys[] = { "index", "name", "description", "media", "unit", "max",
						  "level", "state", "percent", "status", "status_text" };
	for (size_t i = 0; i < sizeof tray_keys / sizeof tray_keys[0]; i++) {
		assert_non_null(json_object_get(t0, tray_keys[i]));
		assert_non_null(json_object_get(t1, tray_keys[i]));
	}
	assert_string_equal(json_string_value(json_object_get(t0, "media")), "A4");
	assert_string_equal(json_string_value(json_object_get(t0, "state")), "ok");
	assert_int_equal(json_integer_value(json_object_get(t0, "percent")), 50);
	assert_int_equal(json_integer_value(json_object_get(t0, "status")), 0);
	assert_string_equal(json_string_value(json_object_get(t0, "status_text")), "available and idle");
	assert_string_equal(json_string_value(json_object_get(t1, "state")), "some-remaining");
	assert_true(json_is_null(json_object_get(t1, "percent")));
	assert_true(json_is_null(json_object_get(t1, "media")));
	assert_true(json_is_null(json_object_get(t1, "status")));
	assert_true(json_is_null(json_object_get(t1, "status_text")));
	json_t *c1 = json_array_get(covers, 1);
	assert_string_equal(json_string_value(json_object_get(c1, "description")), "Left Door");
	assert_int_equal(json_integer_value(json_object_get(c1, "status")), 3);
	assert_string_equal(json_string_value(json_object_get(c1, "state")), "open");
	assert_true(json_is_true(json_object_get(c1, "open")));
	json_t *src = json_array_get(json_object_get(json_object_get(j, "meters"), "sources"), 0);
	assert_true(json_is_null(json_object_get(src, "back_from")));
	assert_true(json_is_null(json_object_get(src, "back_at")));
	json_decref(j);

	/* none: the keys are there, empty */
	device_clear(&d);
	memset(&d, 0, sizeof d);
	d.address = strdup("10.0.0.1");
	j = device_json(&d, 20);
	assert_int_equal(json_array_size(json_object_get(j, "trays")), 0);
	assert_int_equal(json_array_size(json_object_get(j, "covers")), 0);
	json_decref(j);
	device_clear(&d);
}

/* A version-2 database with a device, its meters and a range is migrated with its data. */
static void test_migration_from_v2_keeps_data(void **state)
{
	struct fixture *f = *state;
	char *path = NULL;
	assert_true(asprintf(&path, "%s/v2.db", f->dir) > 0);
	struct fc_error err = { { 0 } };
	struct store *s = NULL;
	assert_int_equal(store_open_at_version(path, 2, &s, &err), 0);
	store_close(&s);
	sqlite3 *db;
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db,
				      "INSERT INTO devices(id, address, first_seen) VALUES (7, '10.0.0.7', 1);"
				      "INSERT INTO meters(device_id, name, value, read_at) VALUES (7, 'total', 500, 1);"
				      "INSERT INTO ranges(id, target, created_at) VALUES (3, '10.0.0.0/24', 1);",
				      NULL, NULL, NULL),
			 SQLITE_OK);
	sqlite3_close(db);

	assert_int_equal(store_open(path, 0, &s, &err), 0);
	struct device d;
	assert_int_equal(store_device_load(s, 7, STORE_LOAD_ALL, &d, &err), 1);
	assert_int_equal(d.n_meters, 1);
	assert_int_equal(d.meters[0].value, 500);
	assert_int_equal(d.meters[0].back_from, 0);
	assert_int_equal(d.n_trays, 0);
	assert_int_equal(d.n_covers, 0);
	device_clear(&d);
	struct range *r = NULL;
	size_t n = 0;
	assert_int_equal(store_ranges_list(s, &r, &n, &err), 0);
	assert_int_equal(n, 1);
	assert_true(r[0].enabled);
	range_array_free(&r, n);
	store_close(&s);
	free(path);
}

static void test_range_update_keeps_id(void **state)
{
	struct fixture *f = *state;
	struct fc_error err = { { 0 } };
	int64_t a = 0, b = 0;
	assert_int_equal(store_range_add(f->s, "10.1.2.0/24", "default", 0, false, &a, &err), 0);
	assert_int_equal(store_range_add(f->s, "printer7.example", "", 0, true, &b, &err), 0);
	assert_int_equal(store_range_mark_run(f->s, a, 1700000000, &err), 0);

	assert_int_equal(store_range_update(f->s, a, "10.1.3.0/24", "office,default", 1161, false, false, &err), 1);
	struct range *r = NULL;
	size_t n = 0;
	assert_int_equal(store_ranges_list(f->s, &r, &n, &err), 0);
	assert_int_equal(n, 2);
	assert_int_equal(r[0].id, a);
	assert_string_equal(r[0].target, "10.1.3.0/24");
	assert_string_equal(r[0].profiles, "office,default");
	assert_int_equal(r[0].port, 1161);
	assert_false(r[0].manual);
	assert_false(r[0].enabled);
	assert_int_equal(r[0].last_run, 1700000000); /* an edit is not a new range */
	assert_true(r[1].enabled);
	range_array_free(&r, n);

	/* another range's target: refused with a message, nothing changed */
	assert_int_equal(store_range_update(f->s, a, "printer7.example", "", 0, true, true, &err), -1);
	assert_non_null(strstr(err.msg, "already in the discovery list"));
	assert_int_equal(store_ranges_list(f->s, &r, &n, &err), 0);
	assert_string_equal(r[0].target, "10.1.3.0/24");
	range_array_free(&r, n);
	/* no such range */
	assert_int_equal(store_range_update(f->s, 9999, "10.9.9.9", NULL, 0, true, true, &err), 0);
	/* enabled again, profiles NULL = every profile */
	assert_int_equal(store_range_update(f->s, a, "10.1.3.0/24", NULL, 0, false, true, &err), 1);
	assert_int_equal(store_ranges_list(f->s, &r, &n, &err), 0);
	assert_true(r[0].enabled);
	assert_string_equal(r[0].profiles, "");
	range_array_free(&r, n);
}

/* A poll that got answers but not all of them keeps its error; warnings are kept and replaced;
 * a poll of a known device without serial and MAC is still that device. */
static void test_partial_poll_and_warnings(void **state)
{
	struct fixture *f = *state;
	struct fc_error err = { { 0 } };
	struct device d;
	make_device(&d, 1700000000, 1000);
	int64_t id = 0;
	assert_int_equal(store_device_save(f->s, &d, true, true, &id, &err), 0);
	device_clear(&d);

	make_device(&d, 1700003600, 1010);
	d.id = id;
	d.last_poll_ok = 0;
	d.poll_error = strdup("printer tables walk: timeout (partial data kept)");
	d.poll_warnings = strdup("supplies walk: the OID 1.3.6.1.2.1.43.11.1.1.6.1.1 does not increase");
	free(d.serial);
	d.serial = NULL; /* this time the serial came in the wrong type */
	int64_t again = 0;
	assert_int_equal(store_device_save(f->s, &d, true, true, &again, &err), 0);
	assert_int_equal(again, id);
	device_clear(&d);

	struct device back;
	assert_int_equal(store_device_load(f->s, id, STORE_LOAD_ALL, &back, &err), 1);
	assert_string_equal(back.poll_error, "printer tables walk: timeout (partial data kept)");
	assert_int_equal(back.last_poll_ok, 1700000000);
	assert_int_equal(back.last_poll, 1700003600);
	assert_string_equal(back.serial, "SUB-1");
	assert_non_null(strstr(back.poll_warnings, "does not increase"));
	back.error_bits_known = true;
	back.covers[1].status = COVER_CLOSED;
	assert_int_equal(device_state_of(&back), DEVICE_WARNING);
	json_t *j = device_json(&back, 20);
	assert_non_null(strstr(json_string_value(json_object_get(j, "poll_warnings")), "does not increase"));
	json_decref(j);
	device_clear(&back);

	/* a complete poll clears both */
	make_device(&d, 1700007200, 1020);
	assert_int_equal(store_device_save(f->s, &d, true, true, &again, &err), 0);
	device_clear(&d);
	assert_int_equal(store_device_load(f->s, id, 0, &back, &err), 1);
	assert_null(back.poll_error);
	assert_null(back.poll_warnings);
	assert_int_equal(back.last_poll_ok, 1700007200);
	device_clear(&back);
	struct device *list = NULL;
	size_t n = 0;
	assert_int_equal(store_devices_list(f->s, STORE_DEVICES_ALL, 0, &list, &n, &err), 0);
	assert_int_equal(n, 1);
	device_array_free(&list, n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tray_levels_and_words),
		cmocka_unit_test(test_device_state_rule),
		cmocka_unit_test_setup_teardown(test_store_round_trip_and_replace, setup, teardown),
		cmocka_unit_test_setup_teardown(test_counter_going_backwards, setup, teardown),
		cmocka_unit_test(test_device_json_trays_covers),
		cmocka_unit_test_setup_teardown(test_migration_from_v2_keeps_data, setup, teardown),
		cmocka_unit_test_setup_teardown(test_range_update_keeps_id, setup, teardown),
		cmocka_unit_test_setup_teardown(test_partial_poll_and_warnings, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
