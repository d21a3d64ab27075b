/* The console's in-memory fleet (tui/fleet.h) without curses: rows from devices with hostile
 * strings cleaned, the worst supply as a word, problems ranked, sorting in both directions with
 * missing values last, filtering, counts, updates of one device, a real store, and 20,000 devices
 * sorted and filtered fast enough to follow the keyboard. */
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

#include "model/store.h"
#include "model/text.h"
#include "tests/unit/lib/tmpdir.h"
#include "tui/fleet.h"

static struct supply supplies_ok[] = {
	{ .index = 1, .type = 3, .klass = SUPPLY_CLASS_CONSUMED, .unit = 19, .max = 100, .level = 80,
	  .description = "Black Toner", .colorant = "black" },
};

static struct meter meters_of(const char *name, int64_t v)
{
	return (struct meter){ .name = (char *)name, .value = v, .unit = 7, .oid = "1.3.6.1.2.1.43.10.2.1.4.1.1" };
}

/* A device with id, name, model and total; the strings are borrowed. */
static struct device dev(int64_t id, const char *name, const char *model, int64_t total)
{
	static struct meter m[64];
	m[id % 64] = meters_of("total", total);
	struct device d = {
		.id = id, .address = "10.0.0.1", .sys_name = (char *)name, .vendor = "HP", .model = (char *)model,
		.serial = "CNB123", .included = true, .last_poll = 1000, .last_poll_ok = 1000,
		.meters = total >= 0 ? &m[id % 64] : NULL, .n_meters = total >= 0 ? 1 : 0,
		.supplies = supplies_ok, .n_supplies = 1,
	};
	return d;
}

static void test_rows(void **state)
{
	(void)state;
	struct fleet f;
	fleet_init(&f, 10);
	struct supply low[] = {
		{ .index = 1, .klass = SUPPLY_CLASS_CONSUMED, .max = 100, .level = 4, .description = "Cyan\x1b[31m Toner" },
		{ .index = 2, .klass = SUPPLY_CLASS_CONSUMED, .max = 100, .level = SUPPLY_VALUE_SOME_REMAINING,
		  .description = "Drum" },
		{ .index = 3, .klass = SUPPLY_CLASS_RECEPTACLE, .max = 100, .level = 0, .description = "Waste" },
	};
	struct alert alerts[] = {
		{ .severity = 4, .description = "Tray 2 low", .first_seen = 500 },
		{ .severity = 3, .description = "Jam in\x1b]0;pwned\x07 tray", .first_seen = 900 },
		{ .severity = 3, .description = "cleared one", .cleared_at = 950 },
	};
	struct device d = dev(5, "ev\x1b[2Jil", "LaserJet M404", 1234);
	d.supplies = low;
	d.n_supplies = 3;
	d.alerts = alerts;
	d.n_alerts = 3;
	d.error_bits = 1u << PRINTER_ERR_DOOR_OPEN;
	assert_int_equal(fleet_put(&f, &d), 0);
	const struct fleet_row *r = fleet_find(&f, 5);
	assert_non_null(r);
	assert_true(text_is_clean(r->name));
	assert_null(strchr(r->name, '\x1b'));
	assert_string_equal(r->name, "evil");
	assert_string_equal(r->model, "HP LaserJet M404");
	assert_string_equal(r->status, "fault");
	assert_int_equal(r->total, 1234);
	assert_int_equal(r->black, -1);
	/* the full waste box is a fault and wins over the low toner */
	assert_string_equal(r->lowest, "FULL");
	assert_int_equal(r->lowest_sev, 0);
	assert_int_equal(r->alerts, 2);
	/* problems: door open, two alerts, the low toner, the full waste box */
	assert_int_equal(r->n_problems, 5);
	for (size_t i = 0; i < r->n_problems; i++) {
		assert_true(text_is_clean(r->problems[i].text));
		assert_null(strchr(r->problems[i].text, '\x1b'));
		assert_null(strchr(r->problems[i].text, '\x07'));
	}
	struct fleet_alert *list;
	size_t n;
	assert_int_equal(fleet_alerts(&f, &list, &n), 0);
	assert_int_equal(n, 5);
	/* critical first, the oldest known first among them */
	assert_int_equal(list[0].problem->rank, FLEET_CRITICAL);
	assert_string_equal(list[0].problem->text, "Jam in tray");
	for (size_t i = 1; i < n; i++)
		assert_true(list[i - 1].problem->rank <= list[i].problem->rank);
	assert_int_equal(list[n - 1].problem->rank, FLEET_WARNING);
	free(list);

	/* the same device again: replaced, not added */
	d.supplies = supplies_ok;
	d.n_supplies = 1;
	d.alerts = NULL;
	d.n_alerts = 0;
	d.error_bits = 0;
	assert_int_equal(fleet_put(&f, &d), 0);
	assert_int_equal(f.n, 1);
	r = fleet_find(&f, 5);
	assert_string_equal(r->status, "ok");
	assert_string_equal(r->lowest, "80%");
	assert_int_equal(r->n_problems, 0);
	fleet_clear(&f);
	assert_int_equal(f.n, 0);
}

static const char *view_names(struct fleet *f, char *out, size_t len)
{
	fleet_refresh(f);
	out[0] = '\0';
	for (size_t i = 0; i < f->n_view; i++) {
		size_t at = strlen(out);
		snprintf(out + at, len - at, "%s%s", i ? " " : "", fleet_at(f, i)->name);
	}
	return out;
}

static void test_sort_filter(void **state)
{
	(void)state;
	struct fleet f;
	fleet_init(&f, 10);
	struct device a = dev(3, "charlie", "LaserJet", 300);
	struct device b = dev(1, "alpha", "OfficeJet", -1);
	struct device c = dev(2, "bravo", "LaserJet", 100);
	c.included = false;
	struct device e = dev(4, "delta", "Color LaserJet", 200);
	e.unreachable_polls = 3;
	assert_int_equal(fleet_put(&f, &a), 0);
	assert_int_equal(fleet_put(&f, &b), 0);
	assert_int_equal(fleet_put(&f, &c), 0);
	assert_int_equal(fleet_put(&f, &e), 0);
	assert_int_equal(f.rows[0].id, 1); /* kept in id order */
	assert_int_equal(f.rows[3].id, 4);
	assert_int_equal(f.counts.discovered, 4);
	assert_int_equal(f.counts.included, 3);
	assert_int_equal(f.counts.excluded, 1);
	assert_int_equal(f.counts.unreachable, 1);

	char out[256];
	/* by status: worst first, excluded last */
	assert_string_equal(view_names(&f, out, sizeof out), "delta alpha charlie bravo");
	fleet_sort(&f, FLEET_COL_NAME, false);
	assert_string_equal(view_names(&f, out, sizeof out), "alpha bravo charlie delta");
	fleet_sort(&f, FLEET_COL_NAME, true);
	assert_string_equal(view_names(&f, out, sizeof out), "delta charlie bravo alpha");
	/* a missing total is last both ways */
	fleet_sort(&f, FLEET_COL_TOTAL, false);
	assert_string_equal(view_names(&f, out, sizeof out), "bravo delta charlie alpha");
	fleet_sort(&f, FLEET_COL_TOTAL, true);
	assert_string_equal(view_names(&f, out, sizeof out), "charlie delta bravo alpha");

	fleet_sort(&f, FLEET_COL_NAME, false);
	fleet_filter(&f, "LASERJET");
	assert_string_equal(view_names(&f, out, sizeof out), "bravo charlie delta");
	fleet_filter(&f, "color");
	assert_string_equal(view_names(&f, out, sizeof out), "delta");
	fleet_filter(&f, "unreach");
	assert_string_equal(view_names(&f, out, sizeof out), "delta");
	fleet_filter(&f, "nothing like it");
	assert_string_equal(view_names(&f, out, sizeof out), "");
	fleet_filter(&f, "");
	assert_string_equal(view_names(&f, out, sizeof out), "alpha bravo charlie delta");
	assert_int_equal(fleet_view_index(&f, 3), 2);
	assert_int_equal(fleet_view_index(&f, 99), (size_t)-1);
	assert_false(fleet_refresh(&f)); /* nothing changed since */

	fleet_remove(&f, 2);
	assert_string_equal(view_names(&f, out, sizeof out), "alpha charlie delta");
	assert_int_equal(f.counts.excluded, 0);
	fleet_remove(&f, 2); /* harmless */
	fleet_clear(&f);
}

static void test_store(void **state)
{
	(void)state;
	char *dir = test_tmpdir_new();
	char path[512];
	snprintf(path, sizeof path, "%s/fleet.db", dir);
	struct fc_error err = { "" };
	struct store *s = NULL;
	assert_int_equal(store_open(path, 0, &s, &err), 0);
	struct device d = dev(0, "one", "LaserJet", 10);
	d.serial = "S1";
	int64_t id1, id2;
	assert_int_equal(store_device_save(s, &d, true, true, &id1, &err), 0);
	d.serial = "S2";
	d.sys_name = "two";
	d.address = "10.0.0.2";
	assert_int_equal(store_device_save(s, &d, true, true, &id2, &err), 0);

	struct fleet f;
	fleet_init(&f, 10);
	assert_int_equal(fleet_load(&f, s, &err), 0);
	assert_int_equal(f.n, 2);
	assert_string_equal(fleet_find(&f, id2)->name, "two");
	assert_int_equal(fleet_find(&f, id1)->total, 10);
	/* a change to one device reaches its row only */
	assert_int_equal(store_device_set_included(s, id2, false, &err), 1);
	unsigned gen = f.generation;
	assert_int_equal(fleet_reload(&f, s, id2, &err), 0);
	assert_false(fleet_find(&f, id2)->included);
	assert_true(f.generation != gen);
	assert_int_equal(f.counts.excluded, 1);
	/* an id the store does not know any more drops the row */
	assert_int_equal(fleet_reload(&f, s, 999, &err), 0);
	assert_int_equal(f.n, 2);
	fleet_clear(&f);
	store_close(&s);
	test_tmpdir_remove(&dir);
}

static double ms_since(const struct timespec *t0)
{
	struct timespec t1;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) * 1e3 + (double)(t1.tv_nsec - t0->tv_nsec) / 1e6;
}

static void test_twenty_thousand(void **state)
{
	(void)state;
	struct fleet f;
	fleet_init(&f, 10);
	enum { N = 20000 };
	for (int i = 1; i <= N; i++) {
		char name[32], model[32];
		snprintf(name, sizeof name, "prn-%05d", (i * 7919) % N);
		snprintf(model, sizeof model, "Model %d", i % 37);
		struct device d = dev(i, name, model, (int64_t)((i * 104729) % 1000000));
		assert_int_equal(fleet_put(&f, &d), 0);
	}
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int c = 0; c < FLEET_COL_COUNT; c++) {
		fleet_sort(&f, (enum fleet_col)c, c % 2);
		assert_true(fleet_refresh(&f));
		assert_int_equal(f.n_view, N);
	}
	double sort_ms = ms_since(&t0) / FLEET_COL_COUNT;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	const char *typed[] = { "p", "pr", "prn", "prn-1", "prn-12", "prn-123" };
	for (size_t i = 0; i < sizeof typed / sizeof typed[0]; i++) {
		fleet_filter(&f, typed[i]);
		assert_true(fleet_refresh(&f));
	}
	double filter_ms = ms_since(&t0) / 6;
	assert_int_equal(f.n_view, 100); /* prn-12300 .. prn-12399 */
	fprintf(stderr, "20000 devices: sort %.1f ms, filter keystroke %.1f ms\n", sort_ms, filter_ms);
	/* a keystroke must feel instant; generous for sanitizer builds */
	assert_true(sort_ms < 250);
	assert_true(filter_ms < 250);
	fleet_clear(&f);
}

int main(void)
{
	setlocale(LC_CTYPE, "C.UTF-8");
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rows),
		cmocka_unit_test(test_sort_filter),
		cmocka_unit_test(test_store),
		cmocka_unit_test(test_twenty_thousand),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
