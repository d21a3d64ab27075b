/* Unit tests for collectors/sitefacts: the facts of this very host are plausible (a host name,
 * memory and disk sizes above zero, a CPU, the build version), the database size counts the
 * -wal file, the time zone follows TZ, and every string is clean. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <sys/socket.h>
#include <time.h>

#include "collectors/sitefacts.h"
#include "model/text.h"
#include "model/version.h"
#include "tests/unit/lib/tmpdir.h"

static void test_plausible_values(void **state)
{
	(void)state;
	struct site_facts f;
	struct fc_error err = {{0}};
	assert_int_equal(sitefacts_collect("/tmp/fleetcon-no-such.db", &f, &err), 0);
	assert_true(strlen(f.hostname) > 0);
	assert_true(strlen(f.dns_name) > 0);
	assert_true(strlen(f.os_name) > 0);
	assert_true(strlen(f.kernel) > 0);
	assert_true(strlen(f.machine) > 0);
	assert_true(f.os_bits == 32 || f.os_bits == 64 || f.os_bits == 0);
	assert_int_equal(f.agent_bits, (int)sizeof(void *) * 8);
	assert_true(strlen(f.cpu_model) > 0);
	assert_true(f.cpu_count >= 1);
	assert_true(f.mem_total > 16ull * 1024 * 1024);
	assert_true(f.mem_free > 0 && f.mem_free <= f.mem_total);
	assert_string_equal(f.disk_path, "/tmp");
	assert_true(f.disk_total > 0);
	assert_true(f.disk_free <= f.disk_total);
	assert_false(f.db_exists);
	assert_int_equal(f.db_bytes, 0);
	assert_string_equal(f.version, fleetcon_version());
	assert_string_equal(f.revision, fleetcon_revision());
	assert_true(f.collected_at > 1600000000);
	assert_int_equal(f.devices_discovered, -1);
	assert_int_equal(f.devices_included, -1);
	assert_int_equal(f.devices_excluded, -1);
	assert_true(f.naddrs >= 0 && f.naddrs <= SITEFACTS_MAX_ADDRS);
	for (int i = 0; i < f.naddrs; i++) {
		assert_true(f.addrs[i].family == AF_INET || f.addrs[i].family == AF_INET6);
		assert_true(strlen(f.addrs[i].addr) > 0);
		assert_true(strcmp(f.addrs[i].addr, "127.0.0.1") != 0);
		assert_true(strcmp(f.addrs[i].addr, "::1") != 0);
	}
	const char *strings[] = {f.hostname, f.dns_name, f.os_name, f.os_version, f.kernel,
				 f.machine, f.cpu_model, f.timezone, f.tz_abbrev, f.utc_offset};
	for (size_t i = 0; i < sizeof strings / sizeof strings[0]; i++)
		assert_true(strings[i][0] == '\0' || text_is_clean(strings[i]));
}

static void test_database_size_counts_wal(void **state)
{
	(void)state;
	char *dir = test_tmpdir_new();
	char *db = test_write_file(dir, "fleetcon.db", "0123456789", 0600);
	char *wal = test_write_file(dir, "fleetcon.db-wal", "abcde", 0600);
	char *shm = test_write_file(dir, "fleetcon.db-shm", "ignored-index", 0600);
	struct site_facts f;
	assert_int_equal(sitefacts_collect(db, &f, NULL), 0);
	assert_true(f.db_exists);
	assert_int_equal(f.db_bytes, 15);
	assert_string_equal(f.disk_path, dir);
	assert_true(f.disk_total > 0);
	free(db);
	free(wal);
	free(shm);
	test_tmpdir_remove(&dir);
}

static void test_missing_folder_is_an_error(void **state)
{
	(void)state;
	struct site_facts f;
	struct fc_error err = {{0}};
	assert_int_equal(sitefacts_collect("/nonexistent-fleetcon-dir/x.db", &f, &err), -1);
	assert_non_null(strstr(err.msg, "/nonexistent-fleetcon-dir"));
	/* The other facts are still there. */
	assert_true(strlen(f.hostname) > 0);
	assert_true(f.mem_total > 0);
	/* No database path: no disk facts, no error. */
	assert_int_equal(sitefacts_collect(NULL, &f, &err), 0);
	assert_int_equal(f.disk_total, 0);
	assert_string_equal(f.disk_path, "");
}

static void test_timezone_from_tz(void **state)
{
	(void)state;
	char *old = getenv("TZ") ? strdup(getenv("TZ")) : NULL;
	struct site_facts f;
	setenv("TZ", "UTC", 1);
	tzset();
	assert_int_equal(sitefacts_collect(NULL, &f, NULL), 0);
	assert_string_equal(f.timezone, "UTC");
	assert_string_equal(f.utc_offset, "+00:00");
	assert_int_equal(f.utc_offset_min, 0);

	/* A fixed-offset POSIX zone: five and a half hours east of UTC. */
	setenv("TZ", ":IST-5:30", 1);
	tzset();
	assert_int_equal(sitefacts_collect(NULL, &f, NULL), 0);
	assert_string_equal(f.timezone, "IST-5:30");
	assert_string_equal(f.utc_offset, "+05:30");
	assert_int_equal(f.utc_offset_min, 330);
	assert_string_equal(f.tz_abbrev, "IST");

	if (old)
		setenv("TZ", old, 1);
	else
		unsetenv("TZ");
	tzset();
	free(old);
}

static void test_clear(void **state)
{
	(void)state;
	struct site_facts f;
	memset(&f, 'x', sizeof f);
	sitefacts_clear(&f);
	assert_string_equal(f.hostname, "");
	assert_int_equal(f.naddrs, 0);
	assert_int_equal(f.devices_included, -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plausible_values),
		cmocka_unit_test(test_database_size_counts_wal),
		cmocka_unit_test(test_missing_folder_is_an_error),
		cmocka_unit_test(test_timezone_from_tz),
		cmocka_unit_test(test_clear),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
