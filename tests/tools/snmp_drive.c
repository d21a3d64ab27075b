/* A thin driver of the collectors for integration tests and measurements, until the CLI has its
 * own commands: polls addresses, runs a discovery or prints its dry-run estimate, and prints the
 * outcome as JSON (jansson) on stdout.
 *
 *   snmp_drive [OPTIONS] poll ADDR[:PORT]...
 *   snmp_drive [OPTIONS] discover TARGET...
 *   snmp_drive [OPTIONS] estimate TARGET...
 *
 * Credentials (tried in the order given): -c COMMUNITY adds a v1/v2c profile (version from the
 * last -v, default 2c); -u USER adds an SNMPv3 profile that the following -a SHA|SHA-256|SHA-512,
 * -A PASS, -x AES|AES-256, -X PASS, -n CONTEXT complete. Limits: -t TIMEOUT_MS, -r RETRIES,
 * --concurrency N, --per-host N, --max-sessions N, --budget MS. Output: --raw adds the raw
 * varbinds; --prev-alerts N and --prev-oid OID / --prev-descr TEXT pass last-poll hints;
 * --repeat N polls the addresses N times with the same engine (its caches kept);
 * --no-port-probe, --port-timeout MS and --cancel-after MS shape a discovery. */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collectors/discovery.h"
#include "collectors/poll.h"
#include "collectors/snmp_engine.h"
#include "collectors/targets.h"
#include "model/clock.h"
#include "model/device.h"

#define MAX_PROFILES 8

static struct snmp_profile profiles[MAX_PROFILES];
static size_t n_profiles;
static bool want_raw;

static void die(const char *fmt, const char *arg)
{
	fprintf(stderr, "snmp_drive: ");
	fprintf(stderr, fmt, arg);
	fputc('\n', stderr);
	exit(2);
}

static struct snmp_profile *new_profile(enum config_snmp_version v)
{
	if (n_profiles == MAX_PROFILES)
		die("%s", "too many profiles");
	struct snmp_profile *p = &profiles[n_profiles];
	memset(p, 0, sizeof *p);
	snprintf(p->name, sizeof p->name, "p%zu", n_profiles);
	p->version = v;
	n_profiles++;
	return p;
}

static struct snmp_profile *last_v3(const char *opt)
{
	if (!n_profiles || profiles[n_profiles - 1].version != CONFIG_SNMP_V3)
		die("%s needs a -u USER before it", opt);
	return &profiles[n_profiles - 1];
}

static json_t *str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

static json_t *meter_value(const struct device *d, const char *name)
{
	const struct meter *m = device_meter(d, name);
	return m ? json_integer(m->value) : json_null();
}

static json_t *result_json(const struct poll_result *r)
{
	const struct device *d = &r->device;
	json_t *o = json_object();
	json_object_set_new(o, "id", json_integer(d->id));
	json_object_set_new(o, "address", str_or_null(d->address));
	json_object_set_new(o, "port", json_integer(d->port));
	json_object_set_new(o, "profile", str_or_null(d->profile));
	json_object_set_new(o, "vendor", str_or_null(d->vendor));
	json_object_set_new(o, "brand", str_or_null(r->brand));
	json_object_set_new(o, "vendor_profile", str_or_null(r->profile_name));
	json_object_set_new(o, "model", str_or_null(d->model));
	json_object_set_new(o, "serial", str_or_null(d->serial));
	json_object_set_new(o, "firmware", str_or_null(d->firmware));
	json_object_set_new(o, "mac", str_or_null(d->mac));
	json_object_set_new(o, "sys_name", str_or_null(d->sys_name));
	json_object_set_new(o, "sys_descr", str_or_null(d->sys_descr));
	json_object_set_new(o, "sys_object_id", str_or_null(d->sys_object_id));
	json_object_set_new(o, "location", str_or_null(d->location));
	json_object_set_new(o, "uptime_ticks", json_integer(d->uptime_ticks));
	json_object_set_new(o, "panel", str_or_null(d->panel_text));

	json_t *status = json_object();
	json_object_set_new(status, "device", d->status_device ? json_string(device_status_name(d->status_device)) : json_null());
	json_object_set_new(status, "device_code", json_integer(d->status_device));
	json_object_set_new(status, "printer", d->status_printer ? json_string(printer_status_name(d->status_printer)) : json_null());
	json_object_set_new(status, "printer_code", json_integer(d->status_printer));
	json_t *errors = json_array();
	for (int b = 0; b < PRINTER_ERR_COUNT; b++)
		if (d->error_bits & (1u << b))
			json_array_append_new(errors, json_string(printer_error_name(b)));
	json_object_set_new(status, "errors", errors);
	json_object_set_new(status, "error_bits", d->error_bits_known ? json_integer(d->error_bits) : json_null());
	json_object_set_new(o, "status", status);

	json_t *meters = json_object();
	json_object_set_new(meters, "total", meter_value(d, "total"));
	json_object_set_new(meters, "black", meter_value(d, "black"));
	json_object_set_new(meters, "color", meter_value(d, "color"));
	json_t *sources = json_array();
	for (size_t i = 0; i < d->n_meters; i++) {
		const struct meter *m = &d->meters[i];
		json_array_append_new(sources, json_pack("{s:s, s:I, s:i, s:s, s:s}", "name", m->name,
							 "value", (json_int_t)m->value, "unit", m->unit,
							 "oid", m->oid, "raw", m->raw));
	}
	json_object_set_new(meters, "sources", sources);
	json_object_set_new(o, "meters", meters);

	json_t *supplies = json_array();
	for (size_t i = 0; i < d->n_supplies; i++) {
		const struct supply *s = &d->supplies[i];
		int pct = supply_percent(s);
		json_t *j = json_object();
		json_object_set_new(j, "index", json_integer(s->index));
		json_object_set_new(j, "description", str_or_null(s->description));
		json_object_set_new(j, "type", json_integer(s->type));
		json_object_set_new(j, "class", json_integer(s->klass));
		json_object_set_new(j, "colorant", str_or_null(s->colorant));
		json_object_set_new(j, "unit", json_integer(s->unit));
		json_object_set_new(j, "max", json_integer(s->max));
		json_object_set_new(j, "level", json_integer(s->level));
		json_object_set_new(j, "state", json_string(supply_state_name(supply_state_of(s, 10))));
		json_object_set_new(j, "percent", pct >= 0 ? json_integer(pct) : json_null());
		json_array_append_new(supplies, j);
	}
	json_object_set_new(o, "supplies", supplies);

	json_t *alerts = json_array();
	for (size_t i = 0; i < d->n_alerts; i++) {
		const struct alert *a = &d->alerts[i];
		json_t *j = json_object();
		json_object_set_new(j, "index", json_integer(a->index));
		json_object_set_new(j, "severity", json_string(alert_severity_name(a->severity)));
		json_object_set_new(j, "severity_code", json_integer(a->severity));
		json_object_set_new(j, "group", json_integer(a->group));
		json_object_set_new(j, "group_index", json_integer(a->group_index));
		json_object_set_new(j, "location", json_integer(a->location));
		json_object_set_new(j, "code", json_integer(a->code));
		json_object_set_new(j, "description", str_or_null(a->description));
		json_object_set_new(j, "time_ticks", json_integer(a->time_ticks));
		json_array_append_new(alerts, j);
	}
	json_object_set_new(o, "alerts", alerts);
	json_object_set_new(o, "alerts_read", json_boolean(r->alerts_read));
	json_object_set_new(o, "alert_all_events", json_integer(r->alert_all_events));

	json_t *trays = json_array();
	for (size_t i = 0; i < r->device.n_trays; i++) {
		const struct tray *t = &r->device.trays[i];
		json_array_append_new(trays, json_pack("{s:i, s:o, s:o, s:i, s:i, s:i}", "index", t->index,
						       "name", str_or_null(t->name), "description",
						       str_or_null(t->description), "unit", t->unit,
						       "max", t->max, "level", t->level));
	}
	json_object_set_new(o, "trays", trays);
	json_t *covers = json_array();
	for (size_t i = 0; i < r->device.n_covers; i++)
		json_array_append_new(covers, json_pack("{s:i, s:o, s:i}", "index", r->device.covers[i].index,
							"description", str_or_null(r->device.covers[i].description),
							"status", r->device.covers[i].status));
	json_object_set_new(o, "covers", covers);

	json_object_set_new(o, "printer_index", json_integer(r->printer_index));
	json_object_set_new(o, "is_printer", json_boolean(r->is_printer));
	json_object_set_new(o, "answered", json_boolean(r->answered));
	json_object_set_new(o, "complete", json_boolean(r->complete));
	json_object_set_new(o, "poll_error", str_or_null(d->poll_error));
	json_t *warnings = json_array();
	for (size_t i = 0; i < r->n_warnings; i++)
		json_array_append_new(warnings, json_string(r->warnings[i]));
	json_object_set_new(o, "warnings", warnings);
	json_object_set_new(o, "requests", json_integer(r->requests));
	json_object_set_new(o, "packets", json_integer(r->packets));
	json_object_set_new(o, "elapsed_ms", json_integer(r->elapsed_ms));
	if (want_raw) {
		json_t *raw = json_array();
		for (size_t i = 0; i < r->n_raw; i++)
			json_array_append_new(raw, json_pack("{s:s, s:s, s:o}", "oid", r->raw[i].oid,
							     "type", r->raw[i].type, "value",
							     str_or_null(r->raw[i].value)));
		json_object_set_new(o, "raw", raw);
		json_object_set_new(o, "raw_truncated", json_boolean(r->raw_truncated));
	}
	return o;
}

static void on_result(struct poll_result *r, void *arg)
{
	json_array_append_new(arg, result_json(r));
}

struct disc_out {
	json_t *printers, *no_snmp, *errors;
	int64_t last_progress, max_gap;
	unsigned progress_events;
	int64_t cancel_after;
	atomic_bool *cancel;
	int64_t started;
};

static void on_printer(struct poll_result *r, void *arg)
{
	struct disc_out *o = arg;
	json_array_append_new(o->printers, result_json(r));
}

static void on_no_snmp(const char *address, uint16_t port, void *arg)
{
	struct disc_out *o = arg;
	json_array_append_new(o->no_snmp, json_pack("{s:s, s:i}", "address", address, "port", port));
}

static void on_target_error(const char *text, const char *message, void *arg)
{
	struct disc_out *o = arg;
	json_array_append_new(o->errors, json_pack("{s:s, s:s}", "target", text, "error", message));
}

static void on_progress(const struct discovery_counts *c, void *arg)
{
	(void)c;
	struct disc_out *o = arg;
	int64_t now = clock_mono_ms();
	if (o->last_progress && now - o->last_progress > o->max_gap)
		o->max_gap = now - o->last_progress;
	o->last_progress = now;
	o->progress_events++;
	if (o->cancel_after > 0 && now - o->started >= o->cancel_after)
		atomic_store(o->cancel, true);
}

static json_t *counts_json(const struct discovery_counts *c)
{
	return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
			 "addresses", (json_int_t)c->addresses, "scanned", (json_int_t)c->scanned,
			 "answered", (json_int_t)c->answered, "printers", (json_int_t)c->printers,
			 "not_printers", (json_int_t)c->not_printers, "refused", (json_int_t)c->refused,
			 "no_snmp", (json_int_t)c->no_snmp, "port_probed", (json_int_t)c->port_probed,
			 "no_snmp_printers",
			 (json_int_t)c->no_snmp_printers, "target_errors", (json_int_t)c->target_errors,
			 "packets", (json_int_t)c->packets, "elapsed_ms", (json_int_t)c->elapsed_ms);
}

static json_t *stats_json(const struct snmp_engine *e)
{
	struct snmp_engine_stats s;
	snmp_engine_stats(e, &s);
	return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:i, s:i}", "jobs", (json_int_t)s.jobs,
			 "requests", (json_int_t)s.requests, "packets", (json_int_t)s.packets,
			 "responses", (json_int_t)s.responses, "timeouts", (json_int_t)s.timeouts,
			 "engine_probes", (json_int_t)s.engine_probes, "max_open_sessions",
			 s.max_open_sessions, "max_in_flight", s.max_in_flight);
}

int main(int argc, char **argv)
{
	enum config_snmp_version version = CONFIG_SNMP_V2C;
	struct engine_limits lim;
	snmp_engine_limits_default(&lim);
	struct poll_options popts = { .keep_raw = false };
	bool port_probe = true;
	int port_timeout = 0;
	int64_t prev_alerts = -1, cancel_after = 0;
	const char *prev_oid = NULL, *prev_descr = NULL;
	int repeat = 1;
	static const struct option longopts[] = {
		{ "concurrency", required_argument, NULL, 1 },
		{ "per-host", required_argument, NULL, 2 },
		{ "max-sessions", required_argument, NULL, 3 },
		{ "budget", required_argument, NULL, 4 },
		{ "raw", no_argument, NULL, 5 },
		{ "no-port-probe", no_argument, NULL, 6 },
		{ "port-timeout", required_argument, NULL, 7 },
		{ "prev-alerts", required_argument, NULL, 8 },
		{ "cancel-after", required_argument, NULL, 9 },
		{ "prev-oid", required_argument, NULL, 10 },
		{ "prev-descr", required_argument, NULL, 11 },
		{ "repeat", required_argument, NULL, 12 },
		{ NULL, 0, NULL, 0 },
	};
	int c;
	while ((c = getopt_long(argc, argv, "+v:c:u:a:A:x:X:n:t:r:", longopts, NULL)) != -1) {
		switch (c) {
		case 'v':
			version = strcmp(optarg, "1") == 0 ? CONFIG_SNMP_V1 : CONFIG_SNMP_V2C;
			break;
		case 'c':
			snprintf(new_profile(version)->community, CONFIG_STR_MAX, "%s", optarg);
			break;
		case 'u':
			snprintf(new_profile(CONFIG_SNMP_V3)->user, CONFIG_STR_MAX, "%s", optarg);
			break;
		case 'a': {
			struct snmp_profile *p = last_v3("-a");
			p->auth = strcmp(optarg, "SHA-512") == 0 ? CONFIG_AUTH_SHA512
				  : strcmp(optarg, "SHA-256") == 0 ? CONFIG_AUTH_SHA256 : CONFIG_AUTH_SHA;
			break;
		}
		case 'A':
			snprintf(last_v3("-A")->auth_password, CONFIG_STR_MAX, "%s", optarg);
			break;
		case 'x':
			last_v3("-x")->priv = strcmp(optarg, "AES-256") == 0 ? CONFIG_PRIV_AES256
										: CONFIG_PRIV_AES;
			break;
		case 'X':
			snprintf(last_v3("-X")->priv_password, CONFIG_STR_MAX, "%s", optarg);
			break;
		case 'n':
			snprintf(last_v3("-n")->context, CONFIG_STR_MAX, "%s", optarg);
			break;
		case 't': lim.timeout_ms = atoi(optarg); break;
		case 'r': lim.retries = atoi(optarg); break;
		case 1: lim.concurrency = atoi(optarg); break;
		case 2: lim.per_host = atoi(optarg); break;
		case 3: lim.max_sessions = atoi(optarg); break;
		case 4: popts.budget_ms = atoll(optarg); break;
		case 5: want_raw = popts.keep_raw = true; break;
		case 6: port_probe = false; break;
		case 7: port_timeout = atoi(optarg); break;
		case 8: prev_alerts = atoll(optarg); break;
		case 9: cancel_after = atoll(optarg); break;
		case 10: prev_oid = optarg; break;
		case 11: prev_descr = optarg; break;
		case 12: repeat = atoi(optarg); break;
		default: die("%s", "bad option (see the header of tests/tools/snmp_drive.c)");
		}
	}
	if (optind >= argc)
		die("%s", "usage: snmp_drive [OPTIONS] poll|discover|estimate TARGET...");
	const char *cmd = argv[optind++];
	if (n_profiles == 0)
		snprintf(new_profile(version)->community, CONFIG_STR_MAX, "public");

	struct fc_error err;
	if (snmp_engine_global_init(&err) < 0)
		die("%s", err.msg);
	size_t nt = (size_t)(argc - optind);
	struct target *targets = calloc(nt ? nt : 1, sizeof *targets);
	if (!targets)
		die("%s", "out of memory");
	for (size_t i = 0; i < nt; i++)
		if (target_parse(argv[optind + (int)i], 161, false, &targets[i], &err) < 0)
			die("%s", err.msg);
	const struct snmp_profile *plist[MAX_PROFILES];
	for (size_t i = 0; i < n_profiles; i++)
		plist[i] = &profiles[i];
	struct discovery_target *dt = calloc(nt ? nt : 1, sizeof *dt);
	if (!dt)
		die("%s", "out of memory");
	for (size_t i = 0; i < nt; i++)
		dt[i] = (struct discovery_target){ &targets[i], plist, n_profiles };
	struct discovery_options dopts = { .poll = popts, .port_probe = port_probe,
					   .port_timeout_ms = port_timeout };

	json_t *out = json_object();
	int rc = 0;
	if (strcmp(cmd, "estimate") == 0) {
		struct discovery_estimate est;
		if (discovery_estimate(dt, nt, &lim, &dopts, &est, &err) < 0)
			die("%s", err.msg);
		json_object_set_new(out, "addresses", json_integer((json_int_t)est.addresses));
		json_object_set_new(out, "packets_min", json_integer((json_int_t)est.packets_min));
		json_object_set_new(out, "packets_max", json_integer((json_int_t)est.packets_max));
		json_object_set_new(out, "seconds_max", json_real(est.seconds_max));
		json_object_set_new(out, "parallel", json_integer(est.parallel));
	} else {
		struct snmp_engine *e = snmp_engine_new(&lim, &err);
		if (!e)
			die("%s", err.msg);
		int64_t t0 = clock_mono_ms();
		if (strcmp(cmd, "poll") == 0) {
			/* Every address of every target, with the first profile. */
			size_t cap = 16, n = 0;
			struct poll_target *pt = calloc(cap, sizeof *pt);
			struct target_addr *addrs = calloc(cap, sizeof *addrs);
			for (size_t i = 0; i < nt && pt && addrs; i++) {
				struct target_iter it;
				if (target_iter_begin(&it, &targets[i], &err) < 0)
					die("%s", err.msg);
				struct target_addr a;
				while (target_iter_next(&it, &a)) {
					if (n == cap) {
						cap *= 2;
						pt = realloc(pt, cap * sizeof *pt);
						addrs = realloc(addrs, cap * sizeof *addrs);
						if (!pt || !addrs)
							die("%s", "out of memory");
					}
					addrs[n] = a;
					n++;
				}
			}
			for (size_t i = 0; i < n; i++)
				pt[i] = (struct poll_target){ .address = addrs[i].addr, .port = addrs[i].port,
							      .profile = plist[0], .device_id = (int64_t)i + 1,
							      .sys_object_id = prev_oid, .sys_descr = prev_descr,
							      .alert_all_events = prev_alerts };
			json_t *devices = json_array();
			for (int k = 0; k < repeat && rc == 0; k++)
				rc = poll_devices(e, pt, n, &popts, on_result, devices, NULL, &err);
			json_object_set_new(out, "devices", devices);
			free(pt);
			free(addrs);
		} else if (strcmp(cmd, "discover") == 0) {
			atomic_bool cancel = false;
			struct disc_out o = { .no_snmp = json_array(), .errors = json_array(),
					      .cancel_after = cancel_after, .cancel = &cancel,
					      .started = clock_mono_ms() };
			o.printers = json_array();
			struct discovery_callbacks cb = { .printer = on_printer, .no_snmp_printer = on_no_snmp,
							  .target_error = on_target_error,
							  .progress = on_progress, .arg = &o };
			struct discovery_counts counts;
			rc = discovery_run(e, dt, nt, &dopts, &cb, &cancel, &counts, &err);
			json_object_set_new(out, "printers", o.printers);
			json_object_set_new(out, "no_snmp_printers", o.no_snmp);
			json_object_set_new(out, "target_errors", o.errors);
			json_object_set_new(out, "counts", counts_json(&counts));
			json_object_set_new(out, "progress_events", json_integer(o.progress_events));
			json_object_set_new(out, "max_progress_gap_ms", json_integer(o.max_gap));
			json_object_set_new(out, "cancelled", json_boolean(atomic_load(&cancel)));
		} else {
			die("unknown command %s", cmd);
		}
		json_object_set_new(out, "elapsed_ms", json_integer(clock_mono_ms() - t0));
		json_object_set_new(out, "stats", stats_json(e));
		if (rc < 0)
			json_object_set_new(out, "error", json_string(err.msg));
		snmp_engine_free(&e);
	}
	json_dumpf(out, stdout, JSON_INDENT(2) | JSON_SORT_KEYS);
	fputc('\n', stdout);
	json_decref(out);
	free(targets);
	free(dt);
	return rc < 0 ? 1 : 0;
}
