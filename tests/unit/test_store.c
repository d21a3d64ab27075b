/* Unit tests of the SQLite store: opening and checking, migrations, identity matching, a round
 * trip of each entity, and a writer with readers on their own connections at once.
 * fleetcon-test: threaded */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

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
	if (asprintf(&f->path, "%s/sub/dir/fleetcon.db", f->dir) < 0)
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

/* One PRAGMA's value as text, read with a plain sqlite3 connection. */
static char *pragma(const char *path, const char *name)
{
	sqlite3 *db;
	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	char sql[64];
	snprintf(sql, sizeof sql, "PRAGMA %s", name);
	sqlite3_stmt *st;
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	char *v = strdup((const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

static char *slurp(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	assert_non_null(fp);
	fseek(fp, 0, SEEK_END);
	long n = ftell(fp);
	fseek(fp, 0, SEEK_SET);
	char *buf = malloc((size_t)n + 1);
	assert_int_equal(fread(buf, 1, (size_t)n, fp), (size_t)n);
	fclose(fp);
	*len = (size_t)n;
	return buf;
}

static void test_new_database_is_wal_versioned_private(void **state)
{
	struct fixture *f = *state;
	char *mode = pragma(f->path, "journal_mode");
	assert_string_equal(mode, "wal");
	free(mode);
	char *v = pragma(f->path, "user_version");
	assert_int_equal(atoi(v), store_schema_version());
	assert_true(atoi(v) > 0);
	free(v);
	struct stat st;
	assert_int_equal(stat(f->path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);

	char uuid1[UUID_STR_LEN], uuid2[UUID_STR_LEN];
	struct fc_error err;
	assert_int_equal(store_agent_uuid(f->s, uuid1, &err), 0);
	assert_int_equal(strlen(uuid1), 36);
	store_close(&f->s);
	assert_int_equal(store_open(f->path, 0, &f->s, &err), 0);
	assert_int_equal(store_agent_uuid(f->s, uuid2, &err), 0);
	assert_string_equal(uuid1, uuid2); /* made once, at first run */
}

/* A database at every earlier schema version, with data in it, migrates to the current one. */
static void test_migrations_from_every_version(void **state)
{
	struct fixture *f = *state;
	for (int v = 0; v < store_schema_version(); v++) {
		char *path = NULL;
		assert_true(asprintf(&path, "%s/v%d.db", f->dir, v) > 0);
		struct fc_error err = { { 0 } };
		struct store *s = NULL;
		if (v > 0) {
			assert_int_equal(store_open_at_version(path, v, &s, &err), 0);
			assert_int_equal(store_setting_set(s, "marker", "kept", &err), 0);
			store_close(&s);
			char *uv = pragma(path, "user_version");
			assert_int_equal(atoi(uv), v);
			free(uv);
		}
		assert_int_equal(store_open(path, 0, &s, &err), 0);
		char *uv = pragma(path, "user_version");
		assert_int_equal(atoi(uv), store_schema_version());
		free(uv);
		if (v > 0) {
			char buf[16];
			assert_int_equal(store_setting_get(s, "marker", buf, sizeof buf, &err), 1);
			assert_string_equal(buf, "kept");
		}
		store_close(&s);
		free(path);
	}
}

static void test_newer_schema_is_refused(void **state)
{
	struct fixture *f = *state;
	store_close(&f->s);
	sqlite3 *db;
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	char sql[64];
	snprintf(sql, sizeof sql, "PRAGMA user_version = %d", store_schema_version() + 1);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	struct fc_error err = { { 0 } };
	assert_int_equal(store_open(f->path, 0, &f->s, &err), -1);
	assert_non_null(strstr(err.msg, "newer than this fleetcon"));
	assert_non_null(strstr(err.msg, f->path));
}

static void test_garbage_file_is_never_written(void **state)
{
	struct fixture *f = *state;
	char *path = test_write_file(f->dir, "garbage.db", "this is not a database, but a text file\n", 0600);
	size_t len1, len2;
	char *before = slurp(path, &len1);
	struct store *s = NULL;
	struct fc_error err = { { 0 } };
	assert_int_equal(store_open(path, 0, &s, &err), -1);
	assert_null(s);
	assert_non_null(strstr(err.msg, path));
	assert_non_null(strstr(err.msg, "has not written"));
	char *after = slurp(path, &len2);
	assert_int_equal(len1, len2);
	assert_memory_equal(before, after, len1);
	free(before);
	free(after);
	free(path);
}

/* A real database with a damaged page fails quick_check and is left as it was. */
static void test_damaged_database_is_never_written(void **state)
{
	struct fixture *f = *state;
	struct fc_error err = { { 0 } };
	for (int i = 0; i < 300; i++) {
		char key[32], value[200];
		snprintf(key, sizeof key, "key-%d", i);
		memset(value, 'a' + i % 26, sizeof value - 1);
		value[sizeof value - 1] = '\0';
		assert_int_equal(store_setting_set(f->s, key, value, &err), 0);
	}
	store_close(&f->s); /* checkpoints the WAL into the file */

	/* Overwrite the root page of the settings table, wherever the schema put it. */
	char *root = NULL, *page_size = NULL;
	{
		sqlite3 *db;
		assert_int_equal(sqlite3_open_v2(f->path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
		sqlite3_stmt *st;
		assert_int_equal(sqlite3_prepare_v2(db, "SELECT rootpage FROM sqlite_master WHERE name = 'settings'",
						    -1, &st, NULL), SQLITE_OK);
		assert_int_equal(sqlite3_step(st), SQLITE_ROW);
		assert_true(asprintf(&root, "%d", sqlite3_column_int(st, 0)) > 0);
		sqlite3_finalize(st);
		sqlite3_close(db);
		page_size = pragma(f->path, "page_size");
	}
	long page = atol(root), size = atol(page_size);
	free(root);
	free(page_size);
	assert_true(page > 1 && size >= 512);
	FILE *fp = fopen(f->path, "r+b");
	assert_non_null(fp);
	fseek(fp, (page - 1) * size, SEEK_SET);
	for (long i = 0; i < size; i++)
		fputc(0xA5, fp);
	fclose(fp);
	size_t len;
	char *bytes = slurp(f->path, &len);

	assert_int_equal(store_open(f->path, 0, &f->s, &err), -1);
	assert_null(f->s);
	assert_non_null(strstr(err.msg, f->path));
	size_t len2;
	char *after = slurp(f->path, &len2);
	assert_int_equal(len, len2);
	assert_memory_equal(bytes, after, len);
	free(bytes);
	free(after);
}

static void test_readonly_open(void **state)
{
	struct fixture *f = *state;
	struct fc_error err = { { 0 } };
	assert_int_equal(store_setting_set(f->s, "a", "b", &err), 0);
	struct store *ro = NULL;
	assert_int_equal(store_open(f->path, STORE_READONLY, &ro, &err), 0);
	char buf[8];
	assert_int_equal(store_setting_get(ro, "a", buf, sizeof buf, &err), 1);
	assert_int_equal(store_setting_set(ro, "a", "c", &err), -1);
	assert_non_null(strstr(err.msg, "read-only"));
	store_close(&ro);

	char *missing = NULL;
	assert_true(asprintf(&missing, "%s/missing.db", f->dir) > 0);
	assert_int_equal(store_open(missing, STORE_READONLY, &ro, &err), -1);
	assert_non_null(strstr(err.msg, missing));
	free(missing);
}

/* A device as a collector would hand it over; strings are heap copies (device_clear frees). */
static void make_device(struct device *d, const char *address, const char *serial, const char *mac,
			int64_t when)
{
	memset(d, 0, sizeof *d);
	d->address = strdup(address);
	d->port = 161;
	d->vendor = strdup("Xerox");
	d->model = strdup("AltaLink C8145");
	d->serial = serial ? strdup(serial) : NULL;
	d->mac = mac ? strdup(mac) : NULL;
	d->firmware = strdup("103.008.000.12345");
	d->sys_descr = strdup("Xerox AltaLink C8145; SS 103.008.000.12345");
	d->status_device = 3;
	d->status_printer = 3;
	d->error_bits = 1u << PRINTER_ERR_LOW_TONER;
	d->error_bits_known = true;
	d->last_poll = when;
	d->last_poll_ok = when;

	d->n_meters = 3;
	d->meters = calloc(3, sizeof *d->meters);
	const char *names[] = { "total", "black", "color" };
	int64_t values[] = { 1000, 600, 400 };
	for (int i = 0; i < 3; i++) {
		d->meters[i].name = strdup(names[i]);
		d->meters[i].value = values[i] + when % 1000;
		d->meters[i].unit = 7;
		d->meters[i].oid = strdup("1.3.6.1.4.1.253.8.53.13.2.1.6.1.20.1");
		d->meters[i].raw = strdup("1000");
	}
	d->n_supplies = 3;
	d->supplies = calloc(3, sizeof *d->supplies);
	struct supply sup[] = {
		{ 1, 3, 3, 19, 100, 7, NULL, NULL },
		{ 2, 3, 3, 19, 100, -3, NULL, NULL },
		{ 3, 4, 4, 19, 100, -2, NULL, NULL },
	};
	const char *descr[] = { "Black Toner", "Cyan Toner", "Waste Toner Container" };
	const char *color[] = { "black", "cyan", NULL };
	for (int i = 0; i < 3; i++) {
		d->supplies[i] = sup[i];
		d->supplies[i].description = strdup(descr[i]);
		d->supplies[i].colorant = color[i] ? strdup(color[i]) : NULL;
	}
	d->n_alerts = 2;
	d->alerts = calloc(2, sizeof *d->alerts);
	d->alerts[0] = (struct alert){ .index = 1, .severity = 3, .group = 8, .group_index = 1, .code = 8,
				       .description = strdup("Paper jam in tray 2") };
	d->alerts[1] = (struct alert){ .index = 2, .severity = 4, .group = 11, .group_index = 1, .code = 1104,
				       .description = strdup("Black toner low") };
}

static int count_rows(void *ctx, const char *name, const char *day, int64_t value)
{
	(void)name;
	(void)day;
	(void)value;
	(*(int *)ctx)++;
	return 0;
}

static int count_addr(void *ctx, const char *address, int64_t first, int64_t last)
{
	(void)address;
	(void)first;
	(void)last;
	(*(int *)ctx)++;
	return 0;
}

static int count_unmanaged(void *ctx, const char *address, const char *ports, int64_t first, int64_t last)
{
	assert_string_equal(address, "10.1.2.50");
	assert_string_equal(ports, "9100,631");
	assert_int_equal(first, last);
	(*(int *)ctx)++;
	return 0;
}

static void test_device_round_trip(void **state)
{
	struct fixture *f = *state;
	struct fc_error err = { { 0 } };
	struct device d;
	make_device(&d, "10.1.2.3", "XRX123", "00:00:aa:bb:cc:dd", 1700000000);
	int64_t id = 0;
	assert_int_equal(store_device_save(f->s, &d, true, true, &id, &err), 0);
	assert_true(id > 0);

	struct device back;
	assert_int_equal(store_device_load(f->s, id, STORE_LOAD_ALL, &back, &err), 1);
	assert_string_equal(back.address, "10.1.2.3");
	assert_string_equal(back.serial, "XRX123");
	assert_string_equal(back.vendor, "Xerox");
	assert_string_equal(back.mac, "00:00:aa:bb:cc:dd");
	assert_true(back.included);
	assert_int_equal(back.status_device, 3);
	assert_int_equal(back.error_bits, 1u << PRINTER_ERR_LOW_TONER);
	assert_true(back.error_bits_known);
	assert_int_equal(back.first_seen, 1700000000);
	assert_int_equal(back.last_poll_ok, 1700000000);
	assert_int_equal(back.n_meters, 3);
	const struct meter *total = device_meter(&back, "total");
	assert_non_null(total);
	assert_int_equal(total->value, 1000);
	assert_string_equal(total->oid, "1.3.6.1.4.1.253.8.53.13.2.1.6.1.20.1");
	assert_int_equal(back.n_supplies, 3);
	assert_int_equal(back.supplies[1].level, -3);
	assert_int_equal(supply_state_of(&back.supplies[1], 10), SUPPLY_SOME_REMAINING);
	assert_int_equal(supply_state_of(&back.supplies[0], 10), SUPPLY_LOW);
	assert_null(back.supplies[2].colorant);
	assert_int_equal(back.n_alerts, 2);
	assert_int_equal(back.alerts[0].severity, 3); /* critical first */
	assert_string_equal(back.alerts[0].description, "Paper jam in tray 2");
	device_clear(&back);

	/* The next poll: the jam is gone, a new alert came, a supply was removed. */
	device_clear(&d);
	make_device(&d, "10.1.2.3", "XRX123", "00:00:aa:bb:cc:dd", 1700086400);
	free(d.alerts[0].description);
	d.alerts[0] = (struct alert){ .index = 3, .severity = 4, .group = 6, .code = 501,
				      .description = strdup("Cover open") };
	d.n_supplies = 2;
	free(d.supplies[2].description);
	int64_t id2 = 0;
	assert_int_equal(store_device_save(f->s, &d, true, true, &id2, &err), 0);
	assert_int_equal(id2, id);
	assert_int_equal(store_device_load(f->s, id, STORE_LOAD_ALL, &back, &err), 1);
	assert_int_equal(back.n_supplies, 2);
	assert_int_equal(back.n_alerts, 2);
	for (size_t i = 0; i < back.n_alerts; i++)
		assert_string_not_equal(back.alerts[i].description, "Paper jam in tray 2");
	device_clear(&back);

	/* Meter history: one row per meter per day. */
	int rows = 0;
	assert_int_equal(store_meter_history(f->s, id, 0, count_rows, &rows, &err), 0);
	assert_int_equal(rows, 6);
	device_clear(&d);
}

static void test_identity_matching(void **state)
{
	struct fixture *f = *state;
	struct fc_error err = { { 0 } };
	struct device d;
	int64_t a, b, c, e;

	/* Same serial at a new address: the same device, with its address history. */
	make_device(&d, "10.0.0.5", "SER-1", NULL, 1700000000);
	assert_int_equal(store_device_save(f->s, &d, true, true, &a, &err), 0);
	device_clear(&d);
	make_device(&d, "10.0.0.99", "SER-1", NULL, 1700001000);
	assert_int_equal(store_device_save(f->s, &d, true, true, &b, &err), 0);
	assert_int_equal(a, b);
	device_clear(&d);
	int addresses = 0;
	assert_int_equal(store_device_addresses(f->s, a, count_addr, &addresses, &err), 0);
	assert_int_equal(addresses, 2);

	/* A different serial at that address is another device. */
	make_device(&d, "10.0.0.99", "SER-2", NULL, 1700002000);
	assert_int_equal(store_device_save(f->s, &d, true, true, &c, &err), 0);
	assert_int_not_equal(c, a);
	device_clear(&d);

	/* MAC is the second key: no serial read this time, same MAC. */
	make_device(&d, "10.0.0.7", NULL, "00:11:22:33:44:55", 1700000000);
	assert_int_equal(store_device_save(f->s, &d, false, true, &e, &err), 0);
	device_clear(&d);
	int64_t e2;
	make_device(&d, "10.0.0.8", NULL, "00:11:22:33:44:55", 1700003000);
	assert_int_equal(store_device_save(f->s, &d, true, true, &e2, &err), 0);
	assert_int_equal(e, e2);
	device_clear(&d);

	/* include_new = false made it wait for the admin. */
	struct device back;
	assert_int_equal(store_device_load(f->s, e, 0, &back, &err), 1);
	assert_false(back.included);
	assert_string_equal(back.address, "10.0.0.8");
	device_clear(&back);
	assert_int_equal(store_device_set_included(f->s, e, true, &err), 1);
	assert_int_equal(store_device_set_included(f->s, e, true, &err), 0);

	/* Finding by id, serial and address. */
	int64_t id;
	char key[32];
	snprintf(key, sizeof key, "%lld", (long long)c);
	assert_int_equal(store_device_find(f->s, key, &id, &err), 1);
	assert_int_equal(id, c);
	assert_int_equal(store_device_find(f->s, "SER-1", &id, &err), 1);
	assert_int_equal(id, a);
	assert_int_equal(store_device_find(f->s, "10.0.0.8", &id, &err), 1);
	assert_int_equal(id, e);
	assert_int_equal(store_device_find(f->s, "nothing-like-it", &id, &err), 0);

	struct store_counts counts;
	assert_int_equal(store_counts(f->s, 10, &counts, &err), 0);
	assert_int_equal(counts.discovered, 3);
	assert_int_equal(counts.included, 3);
	assert_int_equal(counts.excluded, 0);
	assert_int_equal(counts.with_low_supplies, 3);
	assert_int_equal(counts.with_faults, 3); /* each has a critical alert */

	struct device *list = NULL;
	size_t n = 0;
	assert_int_equal(store_devices_list(f->s, STORE_DEVICES_ALL, STORE_LOAD_SUPPLIES, &list, &n, &err), 0);
	assert_int_equal(n, 3);
	assert_int_equal(list[0].n_supplies, 3);
	device_array_free(&list, n);
	assert_null(list);

	assert_int_equal(store_device_poll_failed(f->s, a, "timeout", true, 1700009000, &err), 0);
	assert_int_equal(store_device_load(f->s, a, 0, &back, &err), 1);
	assert_string_equal(back.poll_error, "timeout");
	assert_int_equal(back.unreachable_polls, 1);
	assert_string_equal(back.serial, "SER-1"); /* data kept */
	device_clear(&back);
}

static void test_ranges_syncs_outbox_settings(void **state)
{
	struct fixture *f = *state;
	struct fc_error err = { { 0 } };
	int64_t r1, r2;
	assert_int_equal(store_range_add(f->s, "10.1.2.0/24", "office,default", 0, false, &r1, &err), 0);
	assert_int_equal(store_range_add(f->s, "printer7.example:1161", "", 1161, true, &r2, &err), 0);
	assert_int_equal(store_range_add(f->s, "10.1.2.0/24", "", 0, false, NULL, &err), -1);
	assert_non_null(strstr(err.msg, "already"));
	struct range *ranges;
	size_t n;
	assert_int_equal(store_ranges_list(f->s, &ranges, &n, &err), 0);
	assert_int_equal(n, 2);
	assert_string_equal(ranges[0].profiles, "office,default");
	assert_true(ranges[1].manual);
	assert_int_equal(ranges[1].port, 1161);
	range_array_free(&ranges, n);
	assert_int_equal(store_range_remove(f->s, r1, &err), 1);
	assert_int_equal(store_range_remove(f->s, r1, &err), 0);

	int64_t sync;
	assert_int_equal(store_sync_start(f->s, "manual", "key-1", 1700000000, &sync, &err), 0);
	assert_int_equal(store_sync_finish(f->s, sync, "ok", 202, 1234, 7, NULL, 1700000005, &err), 0);
	struct sync_record *syncs;
	assert_int_equal(store_syncs_list(f->s, 10, &syncs, &n, &err), 0);
	assert_int_equal(n, 1);
	assert_string_equal(syncs[0].result, "ok");
	assert_int_equal(syncs[0].http_status, 202);
	assert_int_equal(syncs[0].finished_at, 1700000005);
	sync_array_free(&syncs, n);

	unsigned char body[] = { 0x1f, 0x8b, 0x08, 0x00, 0x01, 0x02 };
	char key[UUID_STR_LEN];
	int64_t ob;
	assert_int_equal(store_outbox_add(f->s, body, sizeof body, 3, 1700000000, key, &ob, &err), 0);
	assert_int_equal(strlen(key), 36);
	assert_int_equal(store_outbox_attempted(f->s, ob, "connection refused", 1700000060, &err), 0);
	struct outbox_entry *entries;
	assert_int_equal(store_outbox_list(f->s, true, &entries, &n, &err), 0);
	assert_int_equal(n, 1);
	assert_string_equal(entries[0].key, key);
	assert_int_equal(entries[0].attempts, 1);
	assert_int_equal(entries[0].size, sizeof body);
	assert_memory_equal(entries[0].body, body, sizeof body);
	assert_string_equal(entries[0].last_error, "connection refused");
	outbox_array_free(&entries, n);
	assert_int_equal(store_outbox_remove(f->s, ob, &err), 1);
	assert_int_equal(store_outbox_list(f->s, false, &entries, &n, &err), 0);
	assert_int_equal(n, 0);
	outbox_array_free(&entries, n);

	char buf[32];
	assert_int_equal(store_setting_get(f->s, "missing", buf, sizeof buf, &err), 0);
	assert_int_equal(store_setting_set(f->s, "k", "v1", &err), 0);
	assert_int_equal(store_setting_set(f->s, "k", "v2", &err), 0);
	assert_int_equal(store_setting_get(f->s, "k", buf, sizeof buf, &err), 1);
	assert_string_equal(buf, "v2");

	assert_int_equal(store_unmanaged_set(f->s, "10.1.2.50", "9100,631", 1700000000, &err), 0);
	int seen = 0;
	assert_int_equal(store_unmanaged_list(f->s, count_unmanaged, &seen, &err), 0);
	assert_int_equal(seen, 1);
}

static void test_transaction_rollback(void **state)
{
	struct fixture *f = *state;
	struct fc_error err = { { 0 } };
	assert_int_equal(store_begin(f->s, &err), 0);
	assert_int_equal(store_setting_set(f->s, "t", "inside", &err), 0);
	store_rollback(f->s);
	char buf[16];
	assert_int_equal(store_setting_get(f->s, "t", buf, sizeof buf, &err), 0);
}

/* A read transaction sees one state of the database while another connection writes. */
static void test_read_transaction_is_a_snapshot(void **state)
{
	struct fixture *f = *state;
	struct fc_error err = { { 0 } };
	struct store *other = NULL;
	assert_int_equal(store_open(f->path, STORE_NO_CHECK, &other, &err), 0);
	assert_int_equal(store_setting_set(f->s, "k", "before", &err), 0);

	int began = store_read_begin(f->s, &err);
	assert_int_equal(began, 1);
	char buf[16];
	assert_int_equal(store_setting_get(f->s, "k", buf, sizeof buf, &err), 1);
	assert_string_equal(buf, "before");
	/* the writer is not blocked by the reader (WAL), and the reader does not see it yet */
	assert_int_equal(store_setting_set(other, "k", "after", &err), 0);
	assert_int_equal(store_setting_get(f->s, "k", buf, sizeof buf, &err), 1);
	assert_string_equal(buf, "before");
	store_read_end(f->s, began);
	assert_int_equal(store_setting_get(f->s, "k", buf, sizeof buf, &err), 1);
	assert_string_equal(buf, "after");

	/* inside a write transaction it begins nothing, and ending it ends nothing */
	assert_int_equal(store_begin(f->s, &err), 0);
	assert_int_equal(store_read_begin(f->s, &err), 0);
	store_read_end(f->s, 0);
	assert_int_equal(store_setting_set(f->s, "k", "inside", &err), 0);
	assert_int_equal(store_commit(f->s, &err), 0);
	assert_int_equal(store_setting_get(other, "k", buf, sizeof buf, &err), 1);
	assert_string_equal(buf, "inside");
	store_close(&other);
}

/* ---- one writer and several readers, each on its own connection ---- */

enum { WRITER_BATCHES = 20, BATCH = 25, READERS = 3 };

struct thread_arg {
	const char *path;
	int failures;
	char msg[1024];
	volatile int *writer_done;
};

static void *writer(void *p)
{
	struct thread_arg *a = p;
	struct store *s = NULL;
	struct fc_error err = { { 0 } };
	if (store_open(a->path, STORE_NO_CHECK, &s, &err) < 0) {
		a->failures++;
		snprintf(a->msg, sizeof a->msg, "%s", err.msg);
		__atomic_store_n(a->writer_done, 1, __ATOMIC_SEQ_CST);
		return NULL;
	}
	for (int b = 0; b < WRITER_BATCHES && !a->failures; b++) {
		if (store_begin(s, &err) < 0) {
			a->failures++;
			break;
		}
		for (int i = 0; i < BATCH; i++) {
			struct device d;
			char addr[32], serial[32];
			snprintf(addr, sizeof addr, "10.9.%d.%d", b, i);
			snprintf(serial, sizeof serial, "T-%d-%d", b, i);
			make_device(&d, addr, serial, NULL, 1700000000 + b);
			if (store_device_save(s, &d, true, true, NULL, &err) < 0)
				a->failures++;
			device_clear(&d);
		}
		if (store_commit(s, &err) < 0)
			a->failures++;
	}
	if (a->failures && !a->msg[0])
		snprintf(a->msg, sizeof a->msg, "%s", err.msg);
	store_close(&s);
	__atomic_store_n(a->writer_done, 1, __ATOMIC_SEQ_CST);
	return NULL;
}

static void *reader(void *p)
{
	struct thread_arg *a = p;
	struct store *s = NULL;
	struct fc_error err = { { 0 } };
	if (store_open(a->path, STORE_NO_CHECK, &s, &err) < 0) {
		a->failures++;
		snprintf(a->msg, sizeof a->msg, "%s", err.msg);
		return NULL;
	}
	size_t last = 0;
	while (!__atomic_load_n(a->writer_done, __ATOMIC_SEQ_CST)) {
		struct device *list;
		size_t n;
		if (store_devices_list(s, STORE_DEVICES_ALL, STORE_LOAD_ALL, &list, &n, &err) < 0) {
			a->failures++;
			snprintf(a->msg, sizeof a->msg, "%s", err.msg);
			break;
		}
		/* A reader sees whole batches only, and never fewer devices than before. */
		if (n % BATCH != 0 || n < last) {
			a->failures++;
			snprintf(a->msg, sizeof a->msg, "saw %zu devices after %zu", n, last);
		}
		for (size_t i = 0; i < n; i++)
			if (list[i].n_supplies != 3 || list[i].n_meters != 3)
				a->failures++;
		last = n;
		device_array_free(&list, n);
	}
	store_close(&s);
	return NULL;
}

static void test_writer_and_readers(void **state)
{
	struct fixture *f = *state;
	volatile int done = 0;
	struct thread_arg w = { .path = f->path, .writer_done = &done };
	struct thread_arg r[READERS];
	pthread_t tw, tr[READERS];
	for (int i = 0; i < READERS; i++) {
		r[i] = (struct thread_arg){ .path = f->path, .writer_done = &done };
		assert_int_equal(pthread_create(&tr[i], NULL, reader, &r[i]), 0);
	}
	assert_int_equal(pthread_create(&tw, NULL, writer, &w), 0);
	pthread_join(tw, NULL);
	for (int i = 0; i < READERS; i++)
		pthread_join(tr[i], NULL);
	if (w.failures)
		fail_msg("writer: %s", w.msg);
	for (int i = 0; i < READERS; i++)
		if (r[i].failures)
			fail_msg("reader %d: %d failures: %s", i, r[i].failures, r[i].msg);
	struct store_counts c;
	struct fc_error err;
	assert_int_equal(store_counts(f->s, 10, &c, &err), 0);
	assert_int_equal(c.discovered, WRITER_BATCHES * BATCH);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_new_database_is_wal_versioned_private, setup, teardown),
		cmocka_unit_test_setup_teardown(test_migrations_from_every_version, setup, teardown),
		cmocka_unit_test_setup_teardown(test_newer_schema_is_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_garbage_file_is_never_written, setup, teardown),
		cmocka_unit_test_setup_teardown(test_damaged_database_is_never_written, setup, teardown),
		cmocka_unit_test_setup_teardown(test_readonly_open, setup, teardown),
		cmocka_unit_test_setup_teardown(test_device_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_identity_matching, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ranges_syncs_outbox_settings, setup, teardown),
		cmocka_unit_test_setup_teardown(test_transaction_rollback, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_transaction_is_a_snapshot, setup, teardown),
		cmocka_unit_test_setup_teardown(test_writer_and_readers, setup, teardown),
	};
	return cmocka_run_group_tests_name("store", tests, NULL, NULL);
}
