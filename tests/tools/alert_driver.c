/* alert_driver: runs fleetcon's e-mail alerting once against a database, for the integration tests
 * of tests/integration/mail_*.sh: a seeded fleet and a clock they choose, without SNMP (the agent
 * runs the same alerting_run after every poll and sync; service_mail.sh tests that path). With
 * --seed-fixture it instead writes a small fixed fleet through the store API, some of whose
 * device strings carry raw CR/LF and "Bcc:" lines, as a hostile or broken device could send them.
 *
 *   alert_driver --db PATH --config PATH [--ca-file PEM] [--max-per-hour N] [--now UNIX]
 *   alert_driver --db PATH --seed-fixture [--now UNIX]
 *
 * A run prints one line, "conditions=N new=N mails=N mailed=N deferred=N cleared=N", and exits 0,
 * or prints the error on stderr and exits 1 (2 for a usage error). */
#include <curl/curl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/clock.h"
#include "model/config.h"
#include "model/store.h"
#include "uplink/alerting.h"

#define INJECT "\r\nBcc: victim@example.com\r\n"

struct fixture_supply {
	int type, klass, level;
	const char *description, *colorant;
};

/* The fixed fleet. Expected mails: a critical alert on .1 and on .2, the unreachable .4, a low
 * black toner on .1 and on .2; nothing for .3 (fine) or .5 (excluded). */
static const struct fixture_device {
	const char *address, *vendor, *model, *serial, *location;
	bool included;
	int unreachable_polls;
	struct fixture_supply supply;
	const char *jam; /* description of a critical jam alert, or NULL */
} fleet[] = {
	{ "10.20.0.1", "Acme", "Acme LaserJet 5000", "ACME0001", "2nd floor", true, 0,
	  { 3, SUPPLY_CLASS_CONSUMED, 5, "Black Cartridge 89A", "black" }, "Paper jam in tray 2" },
	{ "10.20.0.2", "Acme", "Evil" INJECT "Subject: pwned", "EVIL" INJECT, "Lab" INJECT "\r\n.\r\n", true, 0,
	  { 3, SUPPLY_CLASS_CONSUMED, 3, "Black" INJECT, "black" INJECT }, "Jam" INJECT "Subject: pwned" },
	{ "10.20.0.3", "Acme", "Acme Fine 1", "ACME0003", NULL, true, 0,
	  { 3, SUPPLY_CLASS_CONSUMED, 80, "Black", "black" }, NULL },
	{ "10.20.0.4" INJECT, "Acme", "Gone" INJECT, "ACME0004", NULL, true, 5,
	  { 3, SUPPLY_CLASS_CONSUMED, 50, "Black", "black" }, NULL },
	{ "10.20.0.5", "Acme", "Excluded", "ACME0005", NULL, false, 0,
	  { 3, SUPPLY_CLASS_CONSUMED, 1, "Black", "black" }, "Jam" },
};

static int seed_fixture(struct store *s, int64_t now, struct fc_error *err)
{
	for (size_t i = 0; i < sizeof fleet / sizeof fleet[0]; i++) {
		const struct fixture_device *f = &fleet[i];
		struct supply sup = {
			.index = 1, .type = f->supply.type, .klass = f->supply.klass, .unit = 19, .max = 100,
			.level = f->supply.level, .description = (char *)f->supply.description,
			.colorant = (char *)f->supply.colorant,
		};
		struct alert jam = {
			.index = 1, .severity = 3, .group = 13, .code = 8, .description = (char *)f->jam,
		};
		struct device d = {
			.address = (char *)f->address, .port = 161, .vendor = (char *)f->vendor,
			.model = (char *)f->model, .serial = (char *)f->serial, .location = (char *)f->location,
			.last_poll = now - 600, .last_poll_ok = now - 600, .first_seen = now - 30 * 86400,
			.supplies = &sup, .n_supplies = 1, .alerts = f->jam ? &jam : NULL, .n_alerts = f->jam ? 1 : 0,
		};
		int64_t id;
		if (store_device_save(s, &d, true, true, &id, err) < 0)
			return -1;
		if (!f->included && store_device_set_included(s, id, false, err) < 0)
			return -1;
		for (int k = 0; k < f->unreachable_polls; k++)
			if (store_device_poll_failed(s, id, "no answer" INJECT, true, now - 300 + k, err) < 0)
				return -1;
	}
	return 0;
}

static void usage(FILE *out)
{
	fprintf(out, "usage: alert_driver --db PATH --config PATH [--ca-file PEM] [--max-per-hour N] [--now UNIX]\n"
		     "       alert_driver --db PATH --seed-fixture [--now UNIX]\n");
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "config", required_argument, NULL, 'c' },
		{ "ca-file", required_argument, NULL, 'a' },
		{ "max-per-hour", required_argument, NULL, 'm' },
		{ "now", required_argument, NULL, 'n' },
		{ "seed-fixture", no_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *db = NULL, *config_path = NULL;
	struct alerting_options opt = { 0 };
	int64_t now = clock_now();
	bool seed = false;
	int c;
	while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		char *rest = NULL;
		switch (c) {
		case 'd': db = optarg; break;
		case 'c': config_path = optarg; break;
		case 'a': opt.ca_file = optarg; break;
		case 'm':
			opt.max_per_hour = (int)strtol(optarg, &rest, 10);
			if (*rest || opt.max_per_hour < 1) {
				fprintf(stderr, "alert_driver: --max-per-hour wants a positive number\n");
				return 2;
			}
			break;
		case 'n':
			now = strtoll(optarg, &rest, 10);
			if (*rest || now <= 0) {
				fprintf(stderr, "alert_driver: --now wants seconds since the epoch\n");
				return 2;
			}
			break;
		case 'S': seed = true; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (!db || optind != argc || (!seed && !config_path)) {
		usage(stderr);
		return 2;
	}

	struct fc_error err = { { 0 } };
	struct store *s = NULL;
	if (store_open(db, 0, &s, &err) < 0) {
		fprintf(stderr, "alert_driver: %s\n", err.msg);
		return 1;
	}
	int rc = 1;
	if (seed) {
		if (seed_fixture(s, now, &err) < 0)
			fprintf(stderr, "alert_driver: seeding: %s\n", err.msg);
		else
			rc = 0;
		store_close(&s);
		return rc;
	}

	struct config *cfg = config_load(config_path, &err);
	if (!cfg) {
		fprintf(stderr, "alert_driver: %s\n", err.msg);
		store_close(&s);
		return 1;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		fprintf(stderr, "alert_driver: curl_global_init failed\n");
	} else {
		struct alerting_result r;
		int run = alerting_run(s, cfg, &opt, now, &r, &err);
		printf("conditions=%zu new=%zu mails=%zu mailed=%zu deferred=%zu cleared=%zu%s\n", r.conditions,
		       r.fresh, r.mails, r.mailed, r.deferred, r.cleared, r.disabled ? " disabled" : "");
		if (run < 0)
			fprintf(stderr, "alert_driver: %s\n", err.msg);
		else
			rc = 0;
		curl_global_cleanup();
	}
	config_free(&cfg);
	store_close(&s);
	return rc;
}
