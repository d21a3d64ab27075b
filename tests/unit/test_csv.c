/* Unit tests of the CSV export: cell encoding (RFC 4180 quoting, formula neutralising for every
 * prefix, UTF-8 kept), the stable column lists, tables written from a real store (numbers stay
 * numbers, special supply levels are words), and a full disk noticed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exports/csv.h"
#include "exports/export.h"
#include "model/store.h"
#include "tests/unit/lib/tmpdir.h"

static void check_cell(const char *in, const char *want)
{
	char *got = csv_encode(in);
	assert_non_null(got);
	assert_string_equal(got, want);
	free(got);
}

static void test_plain_cells_unchanged(void **state)
{
	(void)state;
	check_cell("HP LaserJet M404dn", "HP LaserJet M404dn");
	check_cell("10.1.2.3", "10.1.2.3");
	check_cell("", "");
	check_cell(NULL, "");
	check_cell("a=b+c-d@e", "a=b+c-d@e"); /* only the first character matters */
	check_cell(" =1+2", " =1+2");         /* a leading space makes a spreadsheet read text */
	check_cell("'already quoted", "'already quoted");
}

static void test_utf8_kept(void **state)
{
	(void)state;
	check_cell("Tóner negro – Größe 日本語 ✓", "Tóner negro – Größe 日本語 ✓");
	check_cell("Ünïcödé, comma", "\"Ünïcödé, comma\"");
}

static void test_quoting(void **state)
{
	(void)state;
	check_cell("a,b", "\"a,b\"");
	check_cell("say \"hi\"", "\"say \"\"hi\"\"\"");
	check_cell("\"", "\"\"\"\"");
	check_cell("line one\nline two", "\"line one\nline two\"");
	check_cell("line one\r\nline two", "\"line one\r\nline two\"");
	check_cell("cr\ronly", "\"cr\ronly\"");
	check_cell("\"quoted\", with, commas", "\"\"\"quoted\"\", with, commas\"");
}

static void test_every_formula_prefix_neutralised(void **state)
{
	(void)state;
	const char *prefixes[] = { "=", "+", "-", "@", "\t", "\r" };
	for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++) {
		char in[64], want[64];
		snprintf(in, sizeof in, "%sSUM(A1)", prefixes[i]);
		assert_true(csv_needs_neutralising(in));
		/* A CR inside means quoting too. */
		if (prefixes[i][0] == '\r')
			snprintf(want, sizeof want, "\"'%sSUM(A1)\"", prefixes[i]);
		else
			snprintf(want, sizeof want, "'%sSUM(A1)", prefixes[i]);
		check_cell(in, want);
	}
	check_cell("=HYPERLINK(\"http://x\",\"y\")", "\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\"");
	check_cell("+1", "'+1");
	check_cell("-2", "'-2");
	check_cell("@SUM(A1)", "'@SUM(A1)");
	check_cell("-cmd|' /C calc'!A0", "'-cmd|' /C calc'!A0");
	check_cell("\tx,y", "\"'\tx,y\"");
	assert_false(csv_needs_neutralising("1+2"));
	assert_false(csv_needs_neutralising("\nnewline first")); /* not in the OWASP list: quoted only */
	assert_false(csv_needs_neutralising(""));
	assert_false(csv_needs_neutralising(NULL));
	check_cell("\nnewline first", "\"\nnewline first\"");
}

static void test_columns_are_stable(void **state)
{
	(void)state;
	/* An interface: docs/exports.md lists these, and scripts read them by name. */
	static const char *const want[EXPORT_TABLE_COUNT][40] = {
		[EXPORT_TABLE_DEVICES] = { "id", "address", "port", "vendor", "model", "serial", "mac", "firmware",
					   "sys_name", "location", "sys_descr", "sys_object_id", "profile",
					   "included", "status", "device_status", "printer_status", "errors",
					   "panel_text", "total", "black", "color", "meters_read_at",
					   "lowest_supply_percent", "lowest_supply", "active_alerts", "first_seen",
					   "last_seen", "last_poll", "last_poll_ok", "poll_error",
					   "unreachable_polls", NULL },
		[EXPORT_TABLE_METERS] = { "device_id", "serial", "meter", "day", "value", NULL },
		[EXPORT_TABLE_SUPPLIES] = { "device_id", "serial", "index", "description", "colorant", "type",
					    "type_name", "class", "class_name", "unit", "unit_name", "max",
					    "level", "percent", "state", NULL },
		[EXPORT_TABLE_ALERTS] = { "device_id", "serial", "severity", "severity_code", "training", "group",
					  "group_name", "group_index", "location", "code", "description",
					  "first_seen", "last_seen", NULL },
		[EXPORT_TABLE_SYNCS] = { "id", "started_at", "finished_at", "trigger", "result", "http_status",
					 "bytes", "devices", "report_key", "error", NULL },
	};
	for (int t = 0; t < EXPORT_TABLE_COUNT; t++) {
		size_t i = 0;
		for (; want[t][i]; i++) {
			const char *got = csv_table_column((enum export_table)t, i);
			assert_non_null(got);
			assert_string_equal(got, want[t][i]);
		}
		assert_null(csv_table_column((enum export_table)t, i));
	}
	assert_null(csv_table_column(EXPORT_TABLE_COUNT, 0));
}

/* ---- tables from a real store ---- */

struct fixture {
	char *dir;
	char *path;
	struct store *s;
};

static char *xdup(const char *s)
{
	return strdup(s);
}

/* One device with hostile strings, a -3 and a low supply, a meter history of two days and an
 * alert; a second device excluded. */
static void fill(struct store *s)
{
	struct fc_error err = { { 0 } };
	struct device d = { 0 };
	d.address = xdup("10.0.0.7");
	d.port = 161;
	d.vendor = xdup("HP");
	d.model = xdup("=HYPERLINK(\"http://x\",\"y\")");
	d.serial = xdup("-2,SERIAL");
	d.location = xdup("line one\r\nline two");
	d.firmware = xdup("@SUM(A1)");
	d.status_device = 2;
	d.status_printer = 3;
	d.error_bits_known = true;
	d.n_meters = 1;
	d.meters = calloc(1, sizeof *d.meters);
	d.meters[0].name = xdup("total");
	d.meters[0].value = 1000;
	d.meters[0].unit = 7;
	d.n_supplies = 2;
	d.supplies = calloc(2, sizeof *d.supplies);
	d.supplies[0] = (struct supply){ .index = 1, .type = 21, .klass = 3, .unit = 19, .max = 100,
					 .level = -3, .description = xdup("+Black toner"), .colorant = xdup("black") };
	d.supplies[1] = (struct supply){ .index = 2, .type = 9, .klass = 3, .unit = 7, .max = 60000,
					 .level = 3000, .description = xdup("Drum, \"OPC\"") };
	d.n_alerts = 1;
	d.alerts = calloc(1, sizeof *d.alerts);
	d.alerts[0] = (struct alert){ .index = 1, .severity = 3, .group = 13, .code = 8,
				      .description = xdup("<script>alert(1)</script>") };
	d.last_poll = 1700000000;
	assert_int_equal(store_device_save(s, &d, true, true, NULL, &err), 0);
	d.meters[0].value = 1250;
	d.last_poll += 86400;
	assert_int_equal(store_device_save(s, &d, true, true, NULL, &err), 0);
	device_clear(&d);

	struct device e = { 0 };
	e.address = xdup("10.0.0.8");
	e.port = 161;
	e.serial = xdup("EXCLUDED1");
	e.last_poll = 1700000000;
	assert_int_equal(store_device_save(s, &e, false, true, NULL, &err), 0);
	device_clear(&e);

	int64_t id;
	assert_int_equal(store_sync_start(s, "manual", "k1", 1700000100, &id, &err), 0);
	assert_int_equal(store_sync_finish(s, id, "rejected", 422, 0, 0, "=cmd|' /C calc'!A0", 1700000105, &err), 0);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	f->dir = test_tmpdir_new();
	if (asprintf(&f->path, "%s/fleetcon.db", f->dir) < 0)
		return -1;
	struct fc_error err = { { 0 } };
	if (store_open(f->path, 0, &f->s, &err) < 0) {
		fprintf(stderr, "%s\n", err.msg);
		return -1;
	}
	fill(f->s);
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

/* Table t as text. */
static char *table(struct store *s, enum export_table t, enum store_device_filter which)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	assert_non_null(f);
	struct export_options o;
	export_options_init(&o);
	o.devices = which;
	struct fc_error err = { { 0 } };
	int rc = csv_write_table(f, s, t, &o, 10, &err);
	assert_int_equal(fclose(f), 0);
	if (rc != 0)
		fail_msg("%s", err.msg);
	return buf;
}

static void test_devices_table(void **state)
{
	struct fixture *f = *state;
	char *csv = table(f->s, EXPORT_TABLE_DEVICES, STORE_DEVICES_INCLUDED);
	/* Header first, CRLF line ends, no bare LF outside a quoted cell. */
	assert_true(strncmp(csv, "id,address,port,vendor,model,serial,", 36) == 0);
	char *eol = strstr(csv, "\r\n");
	assert_non_null(eol);
	assert_null(memchr(csv, '\n', (size_t)(eol - csv)));
	assert_non_null(strstr(csv, "\r\n1,10.0.0.7,161,HP,\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\",\"'-2,SERIAL\","));
	assert_non_null(strstr(csv, ",'@SUM(A1),"));
	assert_non_null(strstr(csv, ",\"line one\r\nline two\","));
	/* The meter is a plain number; the excluded device is not there. */
	assert_non_null(strstr(csv, ",1250,"));
	assert_null(strstr(csv, "EXCLUDED1"));
	/* The critical alert makes it a fault, the jam is counted. */
	assert_non_null(strstr(csv, ",yes,fault,running,idle,"));
	free(csv);

	csv = table(f->s, EXPORT_TABLE_DEVICES, STORE_DEVICES_ALL);
	assert_non_null(strstr(csv, "EXCLUDED1"));
	assert_non_null(strstr(csv, ",no,"));
	free(csv);
}

static void test_supplies_special_levels_are_words(void **state)
{
	struct fixture *f = *state;
	char *csv = table(f->s, EXPORT_TABLE_SUPPLIES, STORE_DEVICES_INCLUDED);
	/* -3: no level, no percent, the word; the max stays a number. */
	assert_non_null(strstr(csv, "\r\n1,\"'-2,SERIAL\",1,'+Black toner,black,21,tonerCartridge,3,consumed,19,"
				    "percent,100,,,some-remaining\r\n"));
	assert_non_null(strstr(csv, ",\"Drum, \"\"OPC\"\"\",,9,opc,3,consumed,7,impressions,60000,3000,5,low\r\n"));
	assert_null(strstr(csv, "-3"));
	free(csv);
}

static void test_meters_alerts_syncs(void **state)
{
	struct fixture *f = *state;
	char *csv = table(f->s, EXPORT_TABLE_METERS, STORE_DEVICES_INCLUDED);
	assert_string_equal(csv, "device_id,serial,meter,day,value\r\n"
				 "1,\"'-2,SERIAL\",total,2023-11-14,1000\r\n"
				 "1,\"'-2,SERIAL\",total,2023-11-15,1250\r\n");
	free(csv);
	csv = table(f->s, EXPORT_TABLE_ALERTS, STORE_DEVICES_INCLUDED);
	assert_non_null(strstr(csv, "\r\n1,\"'-2,SERIAL\",critical,3,0,13,mediaPath,0,0,8,<script>alert(1)</script>,"));
	free(csv);
	csv = table(f->s, EXPORT_TABLE_SYNCS, STORE_DEVICES_INCLUDED);
	assert_string_equal(csv, "id,started_at,finished_at,trigger,result,http_status,bytes,devices,report_key,error\r\n"
				 "1,2023-11-14T22:15:00Z,2023-11-14T22:15:05Z,manual,rejected,422,0,0,k1,'=cmd|' /C calc'!A0\r\n");
	free(csv);
}

static void test_since_limits_history(void **state)
{
	struct fixture *f = *state;
	char *buf = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);
	struct export_options o;
	export_options_init(&o);
	o.since = 1700000000 + 3600; /* after the first day's read */
	struct fc_error err = { { 0 } };
	assert_int_equal(csv_write_table(fp, f->s, EXPORT_TABLE_METERS, &o, 10, &err), 0);
	assert_int_equal(csv_write_table(fp, f->s, EXPORT_TABLE_SYNCS, &o, 10, &err), 0);
	fclose(fp);
	assert_null(strstr(buf, "2023-11-14,1000"));
	assert_non_null(strstr(buf, "2023-11-15,1250"));
	assert_null(strstr(buf, "rejected"));
	free(buf);
}

static void test_full_disk_is_an_error(void **state)
{
	struct fixture *f = *state;
	FILE *full = fopen("/dev/full", "w");
	if (!full)
		skip();
	struct export_options o;
	export_options_init(&o);
	struct fc_error err = { { 0 } };
	/* A tiny buffer makes the writes reach the device during the table. */
	static char tiny[16];
	setvbuf(full, tiny, _IOFBF, sizeof tiny);
	int rc = csv_write_table(full, f->s, EXPORT_TABLE_DEVICES, &o, 10, &err);
	fclose(full);
	assert_int_equal(rc, -1);
	assert_non_null(strstr(err.msg, "No space left on device"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_cells_unchanged),
		cmocka_unit_test(test_utf8_kept),
		cmocka_unit_test(test_quoting),
		cmocka_unit_test(test_every_formula_prefix_neutralised),
		cmocka_unit_test(test_columns_are_stable),
		cmocka_unit_test_setup_teardown(test_devices_table, setup, teardown),
		cmocka_unit_test_setup_teardown(test_supplies_special_levels_are_words, setup, teardown),
		cmocka_unit_test_setup_teardown(test_meters_alerts_syncs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_since_limits_history, setup, teardown),
		cmocka_unit_test_setup_teardown(test_full_disk_is_an_error, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
