/* store_bench: the store's side of a poll cycle, for tests/bench/store.sh. Loads every device of a
 * database (as a poll's results would carry them: meters, supplies, alerts, trays, covers), then
 * saves them all again --cycles times, each cycle a poll --step seconds later with the meters
 * moved on, in transactions of --batch devices (the agent's saver commits 64 at a time), and
 * reports the time per cycle and how much the file grew.
 *
 *   store_bench --db PATH [--cycles K] [--step SECONDS] [--batch N]
 *   devices N cycles K batch B ms_per_cycle X ms_min Y bytes_before A bytes_after C
 *
 * With --step 86400 every cycle is a new day of history: the growth per device per day. */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/clock.h"
#include "model/device.h"
#include "model/store.h"

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "db", required_argument, NULL, 'd' },    { "cycles", required_argument, NULL, 'c' },
		{ "step", required_argument, NULL, 's' },  { "batch", required_argument, NULL, 'b' },
		{ NULL, 0, NULL, 0 },
	};
	const char *db = NULL;
	long cycles = 3, step = 900, batch = 64;
	int opt;
	while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
		switch (opt) {
		case 'd': db = optarg; break;
		case 'c': cycles = atol(optarg); break;
		case 's': step = atol(optarg); break;
		case 'b': batch = atol(optarg); break;
		default:
			fprintf(stderr, "usage: store_bench --db PATH [--cycles K] [--step SECONDS] [--batch N]\n");
			return 2;
		}
	}
	if (!db || cycles < 1 || step < 1 || batch < 1) {
		fprintf(stderr, "usage: store_bench --db PATH [--cycles K] [--step SECONDS] [--batch N]\n");
		return 2;
	}
	struct fc_error err = { { 0 } };
	struct store *s = NULL;
	struct device *devs = NULL;
	size_t n = 0;
	if (store_open(db, 0, &s, &err) < 0 || store_devices_list(s, STORE_DEVICES_ALL, STORE_LOAD_ALL, &devs, &n, &err) < 0) {
		fprintf(stderr, "store_bench: %s\n", err.msg);
		store_close(&s);
		return 1;
	}
	int64_t before = store_file_size(s), best = -1, sum = 0;
	int rc = 0;
	for (long c = 1; c <= cycles && rc == 0; c++) {
		int64_t t0 = clock_mono_ms();
		for (size_t i = 0; i < n && rc == 0; i++) {
			struct device *d = &devs[i];
			if (i % (size_t)batch == 0 && (rc = store_begin(s, &err)) < 0)
				break;
			d->last_poll += step;
			d->last_poll_ok = d->last_poll;
			d->last_seen = d->last_poll;
			for (size_t m = 0; m < d->n_meters; m++) {
				d->meters[m].value += 37;
				d->meters[m].read_at = d->last_poll;
			}
			int64_t id;
			rc = store_device_save(s, d, true, true, &id, &err);
			if (rc == 0 && ((i + 1) % (size_t)batch == 0 || i + 1 == n))
				rc = store_commit(s, &err);
		}
		int64_t ms = clock_mono_ms() - t0;
		sum += ms;
		if (best < 0 || ms < best)
			best = ms;
	}
	if (rc < 0) {
		fprintf(stderr, "store_bench: %s\n", err.msg);
		store_rollback(s);
	} else {
		/* The WAL folded in, so that the file size is the database's. */
		store_close(&s);
		if (store_open(db, 0, &s, &err) < 0) {
			fprintf(stderr, "store_bench: %s\n", err.msg);
			rc = -1;
		} else {
			printf("devices %zu cycles %ld batch %ld ms_per_cycle %.1f ms_min %" PRId64 " bytes_before %" PRId64
			       " bytes_after %" PRId64 "\n",
			       n, cycles, batch, (double)sum / (double)cycles, best, before, store_file_size(s));
		}
	}
	device_array_free(&devs, n);
	store_close(&s);
	return rc < 0 ? 1 : 0;
}
