/* Unit tests of uplink/report: what the report holds (schema, agent id, time, site, counts, the
 * included devices only, each exactly as model/device_json makes it), that it never holds a
 * configured secret, that the streamed gzip inflates to the very same bytes (also when it grows
 * past its first buffer), and that decompression is bounded and refuses broken data. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "model/clock.h"
#include "model/config.h"
#include "model/device_json.h"
#include "model/store.h"
#include "tests/unit/lib/tmpdir.h"
#include "uplink/report.h"

struct fixture {
	char *dir;
	char *db;
	struct store *s;
	struct config *cfg;
};

/* Every credential field of the configuration holds a canary that must never reach a report. */
static const char config_text[] =
	"[site]\nname = unit-site\n"
	"[server]\nurl = https://collector.example.com/api\nuser = CANARY-server-user\n"
	"password = CANARY-server-password\n"
	"[profile default]\nversion = 2c\ncommunity = CANARY-community\n"
	"[profile v3]\nversion = 3\nuser = CANARY-v3-user\nauth = SHA-256\nauth_password = CANARY-auth-pw\n"
	"priv = AES\npriv_password = CANARY-priv-pw\n"
	"[smtp]\nurl = smtp://mail.example.com:587\nuser = CANARY-smtp-user\npassword = CANARY-smtp-pw\n"
	"from = a@example.com\nto = b@example.com\n"
	"[alerts]\nsupply_low = 15\n";

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	f->dir = test_tmpdir_new();
	if (asprintf(&f->db, "%s/fleetcon.db", f->dir) < 0)
		return -1;
	struct fc_error err = { { 0 } };
	char *text = NULL;
	if (asprintf(&text, "%s[database]\npath = %s\n", config_text, f->db) < 0)
		return -1;
	f->cfg = config_parse_string(text, "unit", &err);
	free(text);
	if (!f->cfg || store_open(f->db, 0, &f->s, &err) < 0) {
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
	config_free(&f->cfg);
	test_tmpdir_remove(&f->dir);
	free(f->db);
	free(f);
	return 0;
}

/* Saves a device with a meter, two supplies and an alert; returns its id. */
static int64_t save_device(struct store *s, int n, bool included, size_t text_len)
{
	struct device d = { 0 };
	char buf[64];
	snprintf(buf, sizeof buf, "10.9.%d.%d", n / 250, n % 250 + 1);
	d.address = strdup(buf);
	d.port = 161;
	d.vendor = strdup("Kyocera");
	d.model = strdup("ECOSYS M3655idn");
	snprintf(buf, sizeof buf, "KYO%07d", n);
	d.serial = strdup(buf);
	d.firmware = strdup("2S0_2F00.002.011");
	d.location = calloc(1, text_len + 1);
	uint32_t x = 2166136261u ^ (uint32_t)n;
	for (size_t i = 0; i < text_len; i++) {
		x ^= x << 13; /* xorshift: text that does not compress away */
		x ^= x >> 17;
		x ^= x << 5;
		d.location[i] = (char)('a' + x % 26);
	}
	d.status_device = 2;
	d.status_printer = 3;
	d.error_bits_known = true;
	d.last_poll_ok = d.last_seen = d.last_poll = 1700000000 + n;
	d.n_meters = 1;
	d.meters = calloc(1, sizeof *d.meters);
	d.meters[0] = (struct meter){ .name = strdup("total"), .value = 1000 + n, .unit = 7,
				      .oid = strdup("1.3.6.1.2.1.43.10.2.1.4.1.1"), .raw = strdup("1000"),
				      .read_at = 1700000000 };
	d.n_supplies = 2;
	d.supplies = calloc(2, sizeof *d.supplies);
	d.supplies[0] = (struct supply){ .index = 1, .type = 3, .klass = 3, .unit = 19, .max = 100, .level = 12,
					 .description = strdup("TK-3190"), .colorant = strdup("black") };
	d.supplies[1] = (struct supply){ .index = 2, .type = 4, .klass = 4, .unit = 19, .max = 100, .level = -3,
					 .description = strdup("Waste toner box") };
	d.n_alerts = 1;
	d.alerts = calloc(1, sizeof *d.alerts);
	d.alerts[0] = (struct alert){ .index = 1, .severity = 4, .group = 11, .code = 1104,
				      .description = strdup("Toner low") };
	int64_t id = 0;
	struct fc_error err = { { 0 } };
	assert_int_equal(store_device_save(s, &d, true, true, &id, &err), 0);
	device_clear(&d);
	if (!included)
		assert_int_equal(store_device_set_included(s, id, false, &err), 1);
	return id;
}

static char *report_text(struct fixture *f, int64_t now, size_t *len)
{
	struct fc_error err = { { 0 } };
	struct report *r = NULL;
	assert_int_equal(report_load(f->s, f->cfg, now, &r, &err), 0);
	char *text = NULL;
	assert_int_equal(report_json_text(r, &text, len, &err), 0);
	assert_int_equal(strlen(text), *len);
	report_free(&r);
	assert_null(r);
	return text;
}

static void test_contents(void **state)
{
	struct fixture *f = *state;
	int64_t a = save_device(f->s, 1, true, 10);
	int64_t b = save_device(f->s, 2, false, 10);
	int64_t c = save_device(f->s, 3, true, 10);
	(void)b;
	size_t len;
	char *text = report_text(f, 1700086400, &len);
	json_error_t jerr;
	json_t *doc = json_loads(text, 0, &jerr);
	assert_non_null(doc);

	assert_string_equal(json_string_value(json_object_get(doc, "schema")), REPORT_SCHEMA);
	assert_int_equal(json_integer_value(json_object_get(doc, "schema_version")), REPORT_SCHEMA_VERSION);
	assert_string_equal(json_string_value(json_object_get(doc, "generated_at")), "2023-11-15T22:13:20Z");
	char uuid[UUID_STR_LEN];
	struct fc_error err = { { 0 } };
	assert_int_equal(store_agent_uuid(f->s, uuid, &err), 0);
	assert_string_equal(json_string_value(json_object_get(json_object_get(doc, "agent"), "id")), uuid);

	json_t *site = json_object_get(doc, "site");
	assert_string_equal(json_string_value(json_object_get(site, "name")), "unit-site");
	json_t *host = json_object_get(site, "host");
	assert_non_null(json_object_get(host, "hostname"));
	assert_non_null(json_object_get(host, "os"));
	/* The database's folder may name a user's home: never in the report. */
	assert_null(json_object_get(host, "disk_path"));
	json_t *counts = json_object_get(site, "devices");
	assert_int_equal(json_integer_value(json_object_get(counts, "discovered")), 3);
	assert_int_equal(json_integer_value(json_object_get(counts, "included")), 2);
	assert_int_equal(json_integer_value(json_object_get(counts, "excluded")), 1);
	/* 12 % is under [alerts] supply_low = 15. */
	assert_int_equal(json_integer_value(json_object_get(counts, "with_low_supplies")), 2);
	assert_string_equal(json_string_value(json_object_get(site, "last_data")), "2023-11-14T22:13:23Z");

	/* The included devices, in id order, each exactly what device_json makes of the stored one. */
	json_t *devices = json_object_get(doc, "devices");
	assert_int_equal(json_array_size(devices), 2);
	int64_t ids[] = { a, c };
	for (size_t i = 0; i < 2; i++) {
		struct device d = { 0 };
		assert_int_equal(store_device_load(f->s, ids[i], STORE_LOAD_ALL, &d, &err), 1);
		json_t *want = device_json(&d, 15);
		assert_true(json_equal(want, json_array_get(devices, i)));
		json_decref(want);
		device_clear(&d);
	}
	json_t *d0 = json_array_get(devices, 0);
	json_t *src = json_array_get(json_object_get(json_object_get(d0, "meters"), "sources"), 0);
	assert_string_equal(json_string_value(json_object_get(src, "oid")), "1.3.6.1.2.1.43.10.2.1.4.1.1");
	assert_string_equal(json_string_value(json_object_get(src, "raw")), "1000");
	assert_string_equal(json_string_value(json_object_get(d0, "last_poll_ok")), "2023-11-14T22:13:21Z");
	assert_int_equal(json_array_size(json_object_get(d0, "alerts")), 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(d0, "supplies"), 0),
							       "state")),
			    "low");

	/* Nothing from the configuration's credentials, nor the profile names that carry them. */
	assert_null(strstr(text, "CANARY"));
	assert_null(strstr(text, "\"profile\""));
	json_decref(doc);
	free(text);
}

static void test_empty_fleet(void **state)
{
	struct fixture *f = *state;
	size_t len;
	char *text = report_text(f, 1700000000, &len);
	json_error_t jerr;
	json_t *doc = json_loads(text, 0, &jerr);
	assert_non_null(doc);
	assert_int_equal(json_array_size(json_object_get(doc, "devices")), 0);
	assert_true(json_is_null(json_object_get(json_object_get(doc, "site"), "last_data")));
	json_decref(doc);
	free(text);
}

/* The gzip stream inflates to exactly the text report_write gives, for a report large enough
 * that the compressed buffer grows several times; and the same report gives the same bytes. */
static void test_gzip_round_trip(void **state)
{
	struct fixture *f = *state;
	struct fc_error err = { { 0 } };
	assert_int_equal(store_begin(f->s, &err), 0);
	for (int i = 0; i < 300; i++)
		save_device(f->s, i, true, 900); /* random-looking text compresses poorly */
	assert_int_equal(store_commit(f->s, &err), 0);
	size_t len;
	char *text = report_text(f, 1700000000, &len);
	assert_true(len > 300 * 900);

	struct report *r = NULL;
	assert_int_equal(report_load(f->s, f->cfg, 1700000000, &r, &err), 0);
	assert_int_equal(report_device_count(r), 300);
	unsigned char *gz = NULL;
	size_t gz_len = 0, json_len = 0;
	assert_int_equal(report_gzip(r, &gz, &gz_len, &json_len, &err), 0);
	assert_true(gz_len > 64 * 1024);
	assert_true(gz_len < json_len);
	assert_int_equal(gz[0], 0x1f); /* the gzip magic, as Content-Encoding: gzip says */
	assert_int_equal(gz[1], 0x8b);
	char *back = NULL;
	size_t back_len = 0;
	assert_int_equal(report_gunzip(gz, gz_len, 64 << 20, &back, &back_len, &err), 0);
	/* Site facts move (free memory, time): compare the device part, the bulk of the report. */
	const char *dev_a = strstr(text, "\"devices\":[");
	const char *dev_b = strstr(back, "\"devices\":[");
	assert_non_null(dev_a);
	assert_non_null(dev_b);
	assert_string_equal(dev_a, dev_b);

	/* The same loaded report always writes the same bytes, and those are what gzip carried. */
	char *t1 = NULL, *t2 = NULL;
	size_t l1 = 0, l2 = 0;
	assert_int_equal(report_json_text(r, &t1, &l1, &err), 0);
	assert_int_equal(report_json_text(r, &t2, &l2, &err), 0);
	assert_int_equal(l1, l2);
	assert_memory_equal(t1, t2, l1);
	assert_int_equal(l1, json_len);
	assert_int_equal(back_len, json_len);
	assert_memory_equal(t1, back, json_len);

	/* Bounded: a limit under the real size refuses. */
	char *small = NULL;
	size_t small_len = 0;
	assert_int_equal(report_gunzip(gz, gz_len, json_len / 2, &small, &small_len, &err), -1);
	assert_null(small);
	assert_non_null(strstr(err.msg, "more than"));
	/* Cut short, or not gzip at all: refused, never a partial report. */
	assert_int_equal(report_gunzip(gz, gz_len / 2, 64 << 20, &small, &small_len, &err), -1);
	assert_null(small);
	static const unsigned char junk[] = "this is not gzip at all";
	assert_int_equal(report_gunzip(junk, sizeof junk, 64 << 20, &small, &small_len, &err), -1);
	assert_null(small);

	report_free(&r);
	free(gz);
	free(back);
	free(t1);
	free(t2);
	free(text);
}

/* A sink that fails stops the writing with its message. */
static int failing_sink(void *ctx, const char *bytes, size_t len, struct fc_error *err)
{
	(void)bytes;
	size_t *budget = ctx;
	if (len > *budget)
		return fc_error_set(err, "disk full (test)");
	*budget -= len;
	return 0;
}

static void test_sink_failure(void **state)
{
	struct fixture *f = *state;
	save_device(f->s, 1, true, 10);
	struct fc_error err = { { 0 } };
	struct report *r = NULL;
	assert_int_equal(report_load(f->s, f->cfg, 1700000000, &r, &err), 0);
	size_t budget = 100;
	assert_int_equal(report_write(r, failing_sink, &budget, NULL, &err), -1);
	assert_string_equal(err.msg, "disk full (test)");
	report_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_contents, setup, teardown),
		cmocka_unit_test_setup_teardown(test_empty_fleet, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gzip_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sink_failure, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
