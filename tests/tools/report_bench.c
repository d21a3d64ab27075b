/* report_bench: times the two stages of building a report from a database (reading the store,
 * then serializing and compressing) for tests/bench/report.sh, and prints one line:
 *
 *   report_bench --db PATH
 *   devices N json_bytes X gzip_bytes Y load_ms A compress_ms B max_rss_kib C
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>

#include "model/clock.h"
#include "model/config.h"
#include "model/store.h"
#include "uplink/report.h"

int main(int argc, char **argv)
{
	static const struct option options[] = { { "db", required_argument, NULL, 'd' }, { NULL, 0, NULL, 0 } };
	const char *db = NULL;
	int opt;
	while ((opt = getopt_long(argc, argv, "d:", options, NULL)) != -1) {
		if (opt != 'd') {
			fprintf(stderr, "usage: report_bench --db PATH\n");
			return 2;
		}
		db = optarg;
	}
	if (!db) {
		fprintf(stderr, "usage: report_bench --db PATH\n");
		return 2;
	}
	struct fc_error err = { { 0 } };
	char text[8192];
	snprintf(text, sizeof text, "[site]\nname = bench\n[database]\npath = %s\n", db);
	struct config *cfg = config_parse_string(text, "report_bench", &err);
	struct store *s = NULL;
	if (!cfg || store_open(db, 0, &s, &err) < 0) {
		fprintf(stderr, "report_bench: %s\n", err.msg);
		config_free(&cfg);
		return 1;
	}
	struct report *r = NULL;
	unsigned char *gz = NULL;
	size_t gz_len = 0, json_len = 0;
	int64_t t0 = clock_mono_ms();
	int rc = report_load(s, cfg, clock_now(), &r, &err);
	int64_t t1 = clock_mono_ms();
	if (rc == 0)
		rc = report_gzip(r, &gz, &gz_len, &json_len, &err);
	int64_t t2 = clock_mono_ms();
	if (rc < 0) {
		fprintf(stderr, "report_bench: %s\n", err.msg);
	} else {
		struct rusage ru;
		getrusage(RUSAGE_SELF, &ru);
		printf("devices %d json_bytes %zu gzip_bytes %zu load_ms %" PRId64 " compress_ms %" PRId64
		       " max_rss_kib %ld\n",
		       report_device_count(r), json_len, gz_len, t1 - t0, t2 - t1, ru.ru_maxrss);
	}
	free(gz);
	report_free(&r);
	store_close(&s);
	config_free(&cfg);
	return rc < 0;
}
