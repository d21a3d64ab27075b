/* The collectors' subcommands (see commands.h): listing and showing devices, including and
 * excluding them, and keeping the list of discovery ranges. Every device string is cleaned again
 * before it reaches the terminal, whatever wrote it to the database. */
#include "collectors/commands.h"

#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "collectors/sitefacts.h"
#include "collectors/sitefacts_json.h"
#include "collectors/targets.h"
#include "model/clock.h"
#include "model/config.h"
#include "model/device.h"
#include "model/device_json.h"
#include "model/store.h"
#include "model/text.h"
#include "model/units.h"

/* ---- output helpers ---- */

/* Prints s (NULL as "-") padded and cut to width (0: as long as it is), cleaned of anything a
 * terminal would act on. */
static void put_cell(FILE *out, const char *s, int width)
{
	char *clean = NULL;
	if (!s || !*s)
		s = "-";
	else if (!text_is_clean(s))
		s = clean = text_clean(s);
	if (!s)
		s = "?";
	if (width > 0)
		fprintf(out, "%-*.*s", width, width, s);
	else
		fputs(s, out);
	free(clean);
}

static void put_text(FILE *out, const char *label, const char *s)
{
	fprintf(out, "  %-14s ", label);
	put_cell(out, s, 0);
	fputc('\n', out);
}

/* A JSON string member, cleaned; JSON null when absent. */
static json_t *json_text(const char *s)
{
	if (!s)
		return json_null();
	if (text_is_clean(s))
		return json_string(s);
	char *clean = text_clean(s);
	json_t *j = json_string(clean ? clean : "");
	free(clean);
	return j;
}

static json_t *json_meter(const struct device *d, const char *name)
{
	const struct meter *m = device_meter(d, name);
	return m ? json_integer(m->value) : json_null();
}

static void format_meter(const struct device *d, const char *name, char *buf, size_t len)
{
	const struct meter *m = device_meter(d, name);
	if (m)
		snprintf(buf, len, "%" PRId64, m->value);
	else
		snprintf(buf, len, "-");
}

static void format_time(int64_t t, char *buf, size_t len)
{
	if (!t) {
		snprintf(buf, len, "never");
		return;
	}
	clock_format_utc(t, buf, len);
}

static int print_json(struct fc_context *ctx, json_t *j)
{
	if (!j || json_dumpf(j, ctx->out, JSON_INDENT(2) | JSON_ENSURE_ASCII) < 0) {
		json_decref(j);
		fprintf(ctx->err, "%s: cannot write JSON\n", ctx->argv0);
		return EXIT_FAILED;
	}
	fputc('\n', ctx->out);
	json_decref(j);
	return EXIT_OK;
}

/* ---- devices ---- */

int devices_main(struct fc_context *ctx, int argc, char **argv)
{
	static const struct option options[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "included", no_argument, NULL, 'i' },
		{ "excluded", no_argument, NULL, 'x' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool json = false;
	enum store_device_filter filter = STORE_DEVICES_ALL;
	int opt;
	optind = 0;
	while ((opt = getopt_long(argc, argv, "jixh", options, NULL)) != -1) {
		switch (opt) {
		case 'j': json = true; break;
		case 'i': filter = STORE_DEVICES_INCLUDED; break;
		case 'x': filter = STORE_DEVICES_EXCLUDED; break;
		case 'h':
			fprintf(ctx->out, "usage: fleetcon devices [--json] [--included | --excluded]\n");
			return EXIT_OK;
		default:
			fprintf(ctx->err, "usage: fleetcon devices [--json] [--included | --excluded]\n");
			return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(ctx->err, "%s: devices takes no arguments (did you mean 'fleetcon show %s'?)\n",
			ctx->argv0, argv[optind]);
		return EXIT_USAGE;
	}

	struct store *s = NULL;
	if (context_open_store(ctx, 0, &s) < 0)
		return EXIT_FAILED;
	struct fc_error err = { { 0 } };
	struct device *devs = NULL;
	size_t n = 0;
	if (store_devices_list(s, filter, STORE_LOAD_ALL, &devs, &n, &err) < 0) {
		fprintf(ctx->err, "%s: %s\n", ctx->argv0, err.msg);
		store_close(&s);
		return EXIT_FAILED;
	}
	store_close(&s);

	int rc = EXIT_OK;
	if (json) {
		json_t *arr = json_array();
		for (size_t i = 0; i < n; i++) {
			const struct device *d = &devs[i];
			int lowest = device_lowest_supply(d, NULL);
			json_t *o = json_pack("{s:I, s:o, s:o, s:o, s:o, s:b, s:s, s:o, s:o, s:o, s:o, s:I, s:o}",
					      "id", (json_int_t)d->id, "address", json_text(d->address),
					      "vendor", json_text(d->vendor), "model", json_text(d->model),
					      "serial", json_text(d->serial), "included", d->included,
					      "status", device_state_name(device_state_of(d)), "total", json_meter(d, "total"),
					      "black", json_meter(d, "black"), "color", json_meter(d, "color"),
					      "lowest_supply", lowest >= 0 ? json_integer(lowest) : json_null(),
					      "alerts", (json_int_t)d->n_alerts,
					      "last_poll", d->last_poll_ok ? json_integer(d->last_poll_ok) : json_null());
			json_array_append_new(arr, o);
		}
		rc = print_json(ctx, arr);
	} else {
		fprintf(ctx->out, "%-5s %-11s %-3s %-16s %-10s %-22s %-14s %10s %10s %10s %6s %3s  %s\n", "ID",
			"STATUS", "INC", "ADDRESS", "VENDOR", "MODEL", "SERIAL", "TOTAL", "BLACK", "COLOR",
			"LOWEST", "ALR", "LAST POLL (UTC)");
		for (size_t i = 0; i < n; i++) {
			const struct device *d = &devs[i];
			char total[24], black[24], color[24], lowest[16], when[CLOCK_ISO_LEN];
			format_meter(d, "total", total, sizeof total);
			format_meter(d, "black", black, sizeof black);
			format_meter(d, "color", color, sizeof color);
			int pct = device_lowest_supply(d, NULL);
			if (pct >= 0)
				snprintf(lowest, sizeof lowest, "%d%%", pct);
			else
				snprintf(lowest, sizeof lowest, "-");
			format_time(d->last_poll_ok, when, sizeof when);
			fprintf(ctx->out, "%-5" PRId64 " %-11s %-3s ", d->id, device_state_name(device_state_of(d)), d->included ? "yes" : "no");
			put_cell(ctx->out, d->address, 16);
			fputc(' ', ctx->out);
			put_cell(ctx->out, d->vendor, 10);
			fputc(' ', ctx->out);
			put_cell(ctx->out, d->model, 22);
			fputc(' ', ctx->out);
			put_cell(ctx->out, d->serial, 14);
			fprintf(ctx->out, " %10s %10s %10s %6s %3zu  %s\n", total, black, color, lowest, d->n_alerts, when);
		}
		if (n == 0)
			fprintf(ctx->err, "%s: no devices yet: run 'fleetcon discover TARGET' to find printers\n",
				ctx->argv0);
	}
	device_array_free(&devs, n);
	return rc;
}

/* ---- show ---- */

/* A supply's or tray's level for the table: "45%", "120 (of unknown max)", or "-" for the
 * special values (their word is in the state column). */
static const char *level_text(int pct, int level, char *buf, size_t len)
{
	if (pct >= 0)
		snprintf(buf, len, "%d%%", pct);
	else if (level >= 0)
		snprintf(buf, len, "%d (of unknown max)", level);
	else
		snprintf(buf, len, "-");
	return buf;
}

static void show_supply(FILE *out, const struct supply *p, int low)
{
	enum supply_state st = supply_state_of(p, low);
	char level[48];
	level_text(supply_percent(p), p->level, level, sizeof level);
	fprintf(out, "  %3d  %-15s %-14s %-6s ", p->index, supply_state_name(st), supply_type_word(p->type),
		level);
	put_cell(out, p->description, 0);
	if (p->colorant) {
		fputs(" (", out);
		put_cell(out, p->colorant, 0);
		fputc(')', out);
	}
	if (p->klass == SUPPLY_CLASS_RECEPTACLE)
		fputs(" [receptacle: level is room left]", out);
	fputc('\n', out);
}

static void show_tray(FILE *out, const struct tray *t)
{
	char level[48], status[96];
	level_text(tray_percent(t), t->level, level, sizeof level);
	fprintf(out, "  %3d  %-15s %-6s ", t->index, supply_state_name(tray_state_of(t)), level);
	put_cell(out, t->name ? t->name : t->description, 0);
	if (t->media) {
		fputs(" (", out);
		put_cell(out, t->media, 0);
		fputc(')', out);
	}
	if (*tray_status_text(t->status, status, sizeof status))
		fprintf(out, " [%s]", status);
	fputc('\n', out);
}

static int show_text(struct fc_context *ctx, struct store *s, const struct device *d, bool raw)
{
	FILE *out = ctx->out;
	char t1[CLOCK_ISO_LEN], t2[CLOCK_ISO_LEN], t3[CLOCK_ISO_LEN];
	fprintf(out, "Device %" PRId64 " (%s, %s)\n", d->id, device_state_name(device_state_of(d)), d->included ? "included" : "excluded");
	put_text(out, "address", d->address);
	fprintf(out, "  %-14s %d\n", "SNMP port", d->port);
	put_text(out, "profile", d->profile);
	put_text(out, "vendor", d->vendor);
	put_text(out, "model", d->model);
	put_text(out, "serial", d->serial);
	put_text(out, "MAC", d->mac);
	put_text(out, "firmware", d->firmware);
	put_text(out, "name", d->sys_name);
	put_text(out, "location", d->location);
	put_text(out, "description", d->sys_descr);
	put_text(out, "object id", d->sys_object_id);
	fprintf(out, "  %-14s %s / %s\n", "first / last", clock_format_utc(d->first_seen, t1, sizeof t1),
		d->last_seen ? clock_format_utc(d->last_seen, t2, sizeof t2) : "never");
	fprintf(out, "  %-14s %s\n", "last poll ok", d->last_poll_ok ? clock_format_utc(d->last_poll_ok, t3, sizeof t3) : "never");
	if (d->poll_error) {
		put_text(out, "poll error", d->poll_error);
		fprintf(out, "  %-14s %d\n", "unanswered", d->unreachable_polls);
	}
	if (d->poll_warnings)
		put_text(out, "poll warnings", d->poll_warnings);

	fprintf(out, "\nStatus\n");
	fprintf(out, "  %-14s %s\n", "device", d->status_device ? device_status_name(d->status_device) : "not reported");
	fprintf(out, "  %-14s %s\n", "printer", d->status_printer ? printer_status_name(d->status_printer) : "not reported");
	fprintf(out, "  %-14s ", "errors");
	if (!d->error_bits_known) {
		fputs("not reported\n", out);
	} else if (!d->error_bits) {
		fputs("none\n", out);
	} else {
		const char *sep = "";
		for (int b = 0; b < 32; b++) {
			if (!(d->error_bits & (1u << b)))
				continue;
			const char *name = printer_error_name(b);
			if (name)
				fprintf(out, "%s%s%s", sep, name, printer_error_is_critical(b) ? " (critical)" : "");
			else
				fprintf(out, "%sbit %d", sep, b);
			sep = ", ";
		}
		fputc('\n', out);
	}
	if (d->panel_text)
		put_text(out, "front panel", d->panel_text);

	fprintf(out, "\nMeters\n");
	if (!d->n_meters)
		fprintf(out, "  none read\n");
	for (size_t i = 0; i < d->n_meters; i++) {
		const struct meter *m = &d->meters[i];
		fprintf(out, "  %-14s %12" PRId64 "  from ", m->name, m->value);
		put_cell(out, m->oid, 0);
		fprintf(out, " = ");
		put_cell(out, m->raw, 0);
		if (m->back_from)
			fprintf(out, "  (went backwards from %" PRId64 ")", m->back_from);
		fputc('\n', out);
	}

	fprintf(out, "\nSupplies\n");
	if (!d->n_supplies)
		fprintf(out, "  none reported\n");
	for (size_t i = 0; i < d->n_supplies; i++)
		show_supply(out, &d->supplies[i], ctx->cfg->alerts.supply_low);

	fprintf(out, "\nTrays\n");
	if (!d->n_trays)
		fprintf(out, "  none reported\n");
	for (size_t i = 0; i < d->n_trays; i++)
		show_tray(out, &d->trays[i]);

	fprintf(out, "\nCovers\n");
	if (!d->n_covers)
		fprintf(out, "  none reported\n");
	for (size_t i = 0; i < d->n_covers; i++) {
		const struct cover *c = &d->covers[i];
		fprintf(out, "  %3d  %-15s ", c->index, c->status ? cover_status_name(c->status) : "not reported");
		put_cell(out, c->description, 0);
		fputc('\n', out);
	}

	fprintf(out, "\nActive alerts\n");
	if (!d->n_alerts)
		fprintf(out, "  none\n");
	for (size_t i = 0; i < d->n_alerts; i++) {
		const struct alert *a = &d->alerts[i];
		fprintf(out, "  %-9s code %-5d group %-3d since %s  ", alert_severity_name(a->severity), a->code,
			a->group, clock_format_utc(a->first_seen, t1, sizeof t1));
		put_cell(out, a->description, 0);
		fputc('\n', out);
	}

	if (raw) {
		struct fc_error err = { { 0 } };
		char *text = NULL;
		int64_t taken = 0;
		if (store_device_raw(s, d->id, &text, &taken, &err) < 0) {
			fprintf(ctx->err, "%s: %s\n", ctx->argv0, err.msg);
			return EXIT_FAILED;
		}
		if (taken)
			fprintf(out, "\nRaw SNMP values of the poll of %s\n", clock_format_utc(taken, t1, sizeof t1));
		else
			fprintf(out, "\nRaw SNMP values\n");
		/* Stored already cleaned line by line by the poll; cleaned again per line here. */
		if (!text || !*text) {
			fprintf(out, "  none kept: a poll of this device keeps them ('fleetcon poll %" PRId64 "'; the "
				     "fleet's scheduled polls do not)\n", d->id);
		} else {
			char *save = NULL;
			for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
				fputs("  ", out);
				put_cell(out, line, 0);
				fputc('\n', out);
			}
		}
		free(text);
	}
	return EXIT_OK;
}

int show_main(struct fc_context *ctx, int argc, char **argv)
{
	static const struct option options[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "raw", no_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *usage = "usage: fleetcon show DEVICE [--json] [--raw]   (DEVICE: id, serial or address)\n";
	bool json = false, raw = false;
	int opt;
	optind = 0;
	while ((opt = getopt_long(argc, argv, "jrh", options, NULL)) != -1) {
		switch (opt) {
		case 'j': json = true; break;
		case 'r': raw = true; break;
		case 'h': fputs(usage, ctx->out); return EXIT_OK;
		default: fputs(usage, ctx->err); return EXIT_USAGE;
		}
	}
	if (argc - optind != 1) {
		fputs(usage, ctx->err);
		return EXIT_USAGE;
	}
	struct store *s = NULL;
	if (context_open_store(ctx, 0, &s) < 0)
		return EXIT_FAILED;
	int64_t id;
	int found = context_find_device(ctx, s, argv[optind], &id);
	if (found != EXIT_OK) {
		store_close(&s);
		return found;
	}
	struct fc_error err = { { 0 } };
	struct device d;
	if (store_device_load(s, id, STORE_LOAD_ALL, &d, &err) <= 0) {
		fprintf(ctx->err, "%s: %s\n", ctx->argv0, err.msg[0] ? err.msg : "the device disappeared");
		store_close(&s);
		return EXIT_FAILED;
	}
	int rc;
	if (json)
		rc = print_json(ctx, device_json(&d, ctx->cfg->alerts.supply_low));
	else
		rc = show_text(ctx, s, &d, raw);
	device_clear(&d);
	store_close(&s);
	return rc;
}

/* ---- include / exclude ---- */

int include_main(struct fc_context *ctx, int argc, char **argv)
{
	bool include = strcmp(argv[0], "include") == 0;
	if (argc < 2 || argv[1][0] == '-') {
		fprintf(ctx->err, "usage: fleetcon %s DEVICE...   (DEVICE: id, serial or address)\n", argv[0]);
		return EXIT_USAGE;
	}
	struct store *s = NULL;
	if (context_open_store(ctx, 0, &s) < 0)
		return EXIT_FAILED;
	int64_t *ids = calloc((size_t)argc, sizeof *ids);
	if (!ids) {
		store_close(&s);
		return EXIT_FAILED;
	}
	/* Every argument is resolved before anything changes: a typo changes nothing. */
	int rc = EXIT_OK;
	for (int i = 1; i < argc; i++) {
		int found = context_find_device(ctx, s, argv[i], &ids[i]);
		if (found != EXIT_OK && rc != EXIT_FAILED)
			rc = found;
	}
	struct fc_error err = { { 0 } };
	if (rc == EXIT_OK && store_begin(s, &err) == 0) {
		for (int i = 1; i < argc && rc == EXIT_OK; i++) {
			int changed = store_device_set_included(s, ids[i], include, &err);
			if (changed < 0)
				rc = EXIT_FAILED;
			else
				fprintf(ctx->out, "device %" PRId64 " %s%s\n", ids[i], changed ? "" : "was already ",
					include ? "included" : "excluded");
		}
		if (rc == EXIT_OK && store_commit(s, &err) < 0)
			rc = EXIT_FAILED;
		if (rc != EXIT_OK)
			store_rollback(s);
	} else if (rc == EXIT_OK) {
		rc = EXIT_FAILED;
	}
	if (rc == EXIT_FAILED)
		fprintf(ctx->err, "%s: %s\n", ctx->argv0, err.msg);
	free(ids);
	store_close(&s);
	return rc;
}

/* ---- range ---- */

/* Checks a comma-separated list of profile names against the configuration. */
static int check_profiles(struct fc_context *ctx, const char *list)
{
	char *copy = strdup(list);
	if (!copy)
		return -1;
	int rc = 0;
	char *save = NULL;
	for (char *name = strtok_r(copy, ",", &save); name; name = strtok_r(NULL, ",", &save)) {
		if (!config_profile(ctx->cfg, name)) {
			fprintf(ctx->err, "%s: no profile \"%s\" in the configuration; known:", ctx->argv0, name);
			for (size_t i = 0; i < ctx->cfg->profile_count; i++)
				fprintf(ctx->err, " %s", ctx->cfg->profiles[i].name);
			fprintf(ctx->err, " (add a [profile %s] section)\n", name);
			rc = -1;
		}
	}
	free(copy);
	return rc;
}

static int range_add(struct fc_context *ctx, int argc, char **argv)
{
	static const struct option options[] = {
		{ "profile", required_argument, NULL, 'p' },
		{ "port", required_argument, NULL, 'P' },
		{ "force", no_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 },
	};
	const char *usage = "usage: fleetcon range add TARGET [--profile NAME[,NAME...]] [--port N] [--force]\n"
			    "  TARGET: HOST[:PORT], A.B.C.D/N[:PORT] or A.B.C.D-A.B.C.E[:PORT]\n";
	const char *profiles = "";
	int port = 0;
	bool force = false;
	int opt;
	optind = 0;
	while ((opt = getopt_long(argc, argv, "p:P:f", options, NULL)) != -1) {
		switch (opt) {
		case 'p':
			if (!*optarg) {
				fprintf(ctx->err, "%s: --profile needs one or more profile names (leave it out to use every profile)\n", ctx->argv0);
				return EXIT_USAGE;
			}
			profiles = optarg;
			break;
		case 'P': {
			char *end;
			long v = strtol(optarg, &end, 10);
			if (*optarg == '\0' || *end || v < 1 || v > 65535) {
				fprintf(ctx->err, "%s: --port \"%s\": give a port number from 1 to 65535\n", ctx->argv0, optarg);
				return EXIT_USAGE;
			}
			port = (int)v;
			break;
		}
		case 'f': force = true; break;
		default: fputs(usage, ctx->err); return EXIT_USAGE;
		}
	}
	if (argc - optind != 1) {
		fputs(usage, ctx->err);
		return EXIT_USAGE;
	}
	const char *text = argv[optind];
	struct target t;
	struct fc_error err = { { 0 } };
	if (target_parse(text, (uint16_t)(port ? port : ctx->cfg->poll.port), force, &t, &err) < 0) {
		fprintf(ctx->err, "%s: %s\n", ctx->argv0, err.msg);
		return EXIT_USAGE;
	}
	if (*profiles && check_profiles(ctx, profiles) < 0)
		return EXIT_USAGE;
	if (t.note[0])
		fprintf(ctx->err, "%s: note: %s\n", ctx->argv0, t.note);
	bool manual = t.kind == TARGET_IPV4 || t.kind == TARGET_IPV6 || t.kind == TARGET_NAME;
	struct store *s = NULL;
	if (context_open_store(ctx, 0, &s) < 0)
		return EXIT_FAILED;
	int64_t id;
	int rc = EXIT_OK;
	if (store_range_add(s, t.text, profiles, port, manual, &id, &err) < 0) {
		fprintf(ctx->err, "%s: %s\n", ctx->argv0, err.msg);
		rc = strstr(err.msg, "already") ? EXIT_USAGE : EXIT_FAILED;
	} else {
		fprintf(ctx->out, "range %" PRId64 " added: %s (%" PRIu64 " address%s)\n", id, t.text, target_count(&t),
			target_count(&t) == 1 ? "" : "es");
	}
	store_close(&s);
	return rc;
}

static int range_list(struct fc_context *ctx, int argc, char **argv)
{
	bool json = argc == 2 && strcmp(argv[1], "--json") == 0;
	if (argc > 1 && !json) {
		fprintf(ctx->err, "usage: fleetcon range list [--json]\n");
		return EXIT_USAGE;
	}
	struct store *s = NULL;
	if (context_open_store(ctx, 0, &s) < 0)
		return EXIT_FAILED;
	struct fc_error err = { { 0 } };
	struct range *r = NULL;
	size_t n = 0;
	int rc = store_ranges_list(s, &r, &n, &err);
	store_close(&s);
	if (rc < 0) {
		fprintf(ctx->err, "%s: %s\n", ctx->argv0, err.msg);
		return EXIT_FAILED;
	}
	if (json) {
		json_t *arr = json_array();
		for (size_t i = 0; i < n; i++)
			json_array_append_new(arr, json_pack("{s:I, s:s, s:s, s:i, s:b, s:b, s:I, s:o}", "id", (json_int_t)r[i].id,
							     "target", r[i].target, "profiles", r[i].profiles,
							     "port", r[i].port, "manual", r[i].manual, "enabled", r[i].enabled,
							     "created", (json_int_t)r[i].created_at,
							     "last_run", r[i].last_run ? json_integer(r[i].last_run) : json_null()));
		range_array_free(&r, n);
		return print_json(ctx, arr);
	}
	fprintf(ctx->out, "%-4s %-32s %-6s %-7s %-20s %s\n", "ID", "TARGET", "PORT", "KIND", "PROFILES", "LAST RUN (UTC)");
	for (size_t i = 0; i < n; i++) {
		char port[8], when[CLOCK_ISO_LEN];
		if (r[i].port)
			snprintf(port, sizeof port, "%d", r[i].port);
		else
			snprintf(port, sizeof port, "-");
		format_time(r[i].last_run, when, sizeof when);
		fprintf(ctx->out, "%-4" PRId64 " %-32s %-6s %-7s %-20s %s%s\n", r[i].id, r[i].target, port,
			r[i].manual ? "address" : "range", *r[i].profiles ? r[i].profiles : "(all)", when,
			r[i].enabled ? "" : "  (disabled: not swept by the schedule)");
	}
	if (n == 0)
		fprintf(ctx->err, "%s: no ranges yet: 'fleetcon range add 10.1.2.0/24' adds one\n", ctx->argv0);
	range_array_free(&r, n);
	return EXIT_OK;
}

static int range_remove(struct fc_context *ctx, int argc, char **argv)
{
	if (argc != 2) {
		fprintf(ctx->err, "usage: fleetcon range remove ID|TARGET\n");
		return EXIT_USAGE;
	}
	struct store *s = NULL;
	if (context_open_store(ctx, 0, &s) < 0)
		return EXIT_FAILED;
	struct fc_error err = { { 0 } };
	struct range *r = NULL;
	size_t n = 0;
	int rc = EXIT_USAGE;
	if (store_ranges_list(s, &r, &n, &err) < 0) {
		fprintf(ctx->err, "%s: %s\n", ctx->argv0, err.msg);
		rc = EXIT_FAILED;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		char id[24];
		snprintf(id, sizeof id, "%" PRId64, r[i].id);
		if (strcmp(argv[1], id) != 0 && strcmp(argv[1], r[i].target) != 0)
			continue;
		if (store_range_remove(s, r[i].id, &err) < 0) {
			fprintf(ctx->err, "%s: %s\n", ctx->argv0, err.msg);
			rc = EXIT_FAILED;
		} else {
			fprintf(ctx->out, "range %s removed: %s\n", id, r[i].target);
			rc = EXIT_OK;
		}
		goto out;
	}
	fprintf(ctx->err, "%s: no range \"%s\" (see 'fleetcon range list')\n", ctx->argv0, argv[1]);
out:
	range_array_free(&r, n);
	store_close(&s);
	return rc;
}

int range_main(struct fc_context *ctx, int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "add") == 0)
		return range_add(ctx, argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "list") == 0)
		return range_list(ctx, argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "remove") == 0)
		return range_remove(ctx, argc - 1, argv + 1);
	fprintf(ctx->err, "usage: fleetcon range add TARGET [--profile NAMES] [--port N] [--force]\n"
			  "       fleetcon range edit ID|TARGET [--target TARGET] [--profile NAMES] [--port N]\n"
			  "                           [--enable|--disable] [--force]\n"
			  "       fleetcon range list [--json]\n"
			  "       fleetcon range remove ID|TARGET\n");
	return EXIT_USAGE;
}

/* ---- alerts ---- */

/* One active alert and the device that reports it (both borrowed from the device array). */
struct alert_row {
	const struct device *d;
	const struct alert *a;
	size_t order; /* the device's place in the list (id order) */
};

/* prtAlertSeverityLevel, worst first: critical, the two warnings, other, anything else. */
static int severity_rank(int severity)
{
	static const int rank[] = { [3] = 1, [4] = 2, [5] = 2, [1] = 3 };
	if (severity > 0 && (size_t)severity < sizeof rank / sizeof rank[0] && rank[severity])
		return rank[severity];
	return 4;
}

static int alert_row_cmp(const void *x, const void *y)
{
	const struct alert_row *p = x, *q = y;
	int rp = severity_rank(p->a->severity), rq = severity_rank(q->a->severity);
	if (rp != rq)
		return rp < rq ? -1 : 1;
	if (p->order != q->order)
		return p->order < q->order ? -1 : 1;
	if (p->a->first_seen != q->a->first_seen)
		return p->a->first_seen < q->a->first_seen ? -1 : 1;
	return (p->a->index > q->a->index) - (p->a->index < q->a->index);
}

/* "45s", "12m", "3h 5m", "2d 4h": how long ago t was; "-" when it is not known. */
static void format_age(int64_t t, int64_t now, char *buf, size_t len)
{
	static const struct {
		int64_t secs;
		const char *unit;
	} units[] = { { 86400, "d" }, { 3600, "h" }, { 60, "m" }, { 1, "s" } };
	if (!t) {
		snprintf(buf, len, "-");
		return;
	}
	int64_t age = now > t ? now - t : 0;
	size_t u = 0;
	while (u + 1 < sizeof units / sizeof units[0] && age < units[u].secs)
		u++;
	int64_t big = age / units[u].secs;
	/* Days and hours carry the next unit too: "3h 5m" says more than "3h". */
	int64_t rest = u < 2 ? age % units[u].secs / units[u + 1].secs : 0;
	if (rest)
		snprintf(buf, len, "%" PRId64 "%s %" PRId64 "%s", big, units[u].unit, rest, units[u + 1].unit);
	else
		snprintf(buf, len, "%" PRId64 "%s", big, units[u].unit);
}

/* Characters (code points) in a UTF-8 string: the columns it takes for the scripts we expect. */
static size_t text_columns(const char *s)
{
	size_t n = 0;
	for (; *s; s++)
		n += ((unsigned char)*s & 0xC0) != 0x80;
	return n;
}

/* Prints s cleaned, padded to width columns, or cut on a character boundary and ended with "…"
 * when it is longer. */
static void put_column(FILE *out, const char *s, size_t width)
{
	char *clean = text_clean(s && *s ? s : "-");
	const char *t = clean ? clean : "?";
	size_t cols = text_columns(t);
	if (cols <= width) {
		fprintf(out, "%s%*s", t, (int)(width - cols), "");
	} else {
		size_t i = 0, kept = 0;
		while (t[i] && kept < width - 1) {
			i++;
			while (((unsigned char)t[i] & 0xC0) == 0x80)
				i++;
			kept++;
		}
		fprintf(out, "%.*s…", (int)i, t);
	}
	free(clean);
}

static json_t *alert_row_json(const struct alert_row *r, int64_t now)
{
	const struct alert *a = r->a;
	char when[CLOCK_ISO_LEN];
	json_t *o = json_pack("{s:I, s:o, s:o, s:b, s:s, s:i, s:i, s:i, s:i, s:i, s:o, s:i, s:i, s:o, s:o}",
			      "device", (json_int_t)r->d->id, "address", json_text(r->d->address),
			      "serial", json_text(r->d->serial), "included", r->d->included,
			      "severity", alert_severity_name(a->severity), "severity_code", a->severity,
			      "group", a->group, "group_index", a->group_index, "code", a->code,
			      "location", a->location, "description", json_text(a->description),
			      "training", a->training, "index", a->index,
			      "first_seen", a->first_seen ? json_string(clock_format_utc(a->first_seen, when, sizeof when))
							  : json_null(),
			      "age", a->first_seen ? json_integer(now > a->first_seen ? now - a->first_seen : 0)
						   : json_null());
	return o;
}

int alerts_main(struct fc_context *ctx, int argc, char **argv)
{
	static const struct option options[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "all", no_argument, NULL, 'a' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *usage = "usage: fleetcon alerts [--json] [--all]\n"
			    "  The active alerts of the printers' alert tables, worst first; --all: of every\n"
			    "  device, not only the included ones.\n";
	bool json = false, all = false;
	int opt;
	optind = 0;
	while ((opt = getopt_long(argc, argv, "jah", options, NULL)) != -1) {
		switch (opt) {
		case 'j': json = true; break;
		case 'a': all = true; break;
		case 'h': fputs(usage, ctx->out); return EXIT_OK;
		default: fputs(usage, ctx->err); return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(ctx->err, "%s: alerts takes no arguments (one device's alerts: 'fleetcon show %s')\n",
			ctx->argv0, argv[optind]);
		return EXIT_USAGE;
	}

	struct store *s = NULL;
	if (context_open_store(ctx, 0, &s) < 0)
		return EXIT_FAILED;
	struct fc_error err = { { 0 } };
	struct device *devs = NULL;
	size_t n = 0;
	int listed = store_devices_list(s, all ? STORE_DEVICES_ALL : STORE_DEVICES_INCLUDED, STORE_LOAD_ALERTS,
					&devs, &n, &err);
	store_close(&s);
	if (listed < 0) {
		fprintf(ctx->err, "%s: %s\n", ctx->argv0, err.msg);
		return EXIT_FAILED;
	}

	size_t count = 0;
	for (size_t i = 0; i < n; i++)
		count += devs[i].n_alerts;
	struct alert_row *rows = calloc(count ? count : 1, sizeof *rows);
	if (!rows) {
		fprintf(ctx->err, "%s: out of memory\n", ctx->argv0);
		device_array_free(&devs, n);
		return EXIT_FAILED;
	}
	size_t nrows = 0;
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < devs[i].n_alerts; j++)
			if (!devs[i].alerts[j].cleared_at)
				rows[nrows++] = (struct alert_row){ &devs[i], &devs[i].alerts[j], i };
	qsort(rows, nrows, sizeof *rows, alert_row_cmp);
	int64_t now = clock_now();

	int rc = EXIT_OK;
	if (json) {
		json_t *arr = json_array();
		for (size_t i = 0; arr && i < nrows; i++) {
			json_t *o = alert_row_json(&rows[i], now);
			if (!o || json_array_append_new(arr, o) < 0) {
				json_decref(arr);
				arr = NULL;
			}
		}
		rc = print_json(ctx, arr);
	} else {
		/* The address and description columns are as wide as their longest cell, within bounds. */
		size_t addr_w = strlen("ADDRESS"), desc_w = strlen("DESCRIPTION");
		for (size_t i = 0; i < nrows; i++) {
			char *a = text_clean(rows[i].d->address ? rows[i].d->address : "-");
			char *t = text_clean(rows[i].a->description ? rows[i].a->description : "-");
			if (a && text_columns(a) > addr_w)
				addr_w = text_columns(a);
			if (t && text_columns(t) > desc_w)
				desc_w = text_columns(t);
			free(a);
			free(t);
		}
		addr_w = addr_w > 39 ? 39 : addr_w;
		desc_w = desc_w > 60 ? 60 : desc_w;
		fprintf(ctx->out, "%-6s ", "DEVICE");
		put_column(ctx->out, "ADDRESS", addr_w);
		fprintf(ctx->out, " %-8s %5s %5s ", "SEVERITY", "GROUP", "CODE");
		put_column(ctx->out, "DESCRIPTION", desc_w);
		fprintf(ctx->out, " %s\n", "AGE");
		for (size_t i = 0; i < nrows; i++) {
			const struct alert *a = rows[i].a;
			char age[32];
			format_age(a->first_seen, now, age, sizeof age);
			fprintf(ctx->out, "%-6" PRId64 " ", rows[i].d->id);
			put_column(ctx->out, rows[i].d->address, addr_w);
			fprintf(ctx->out, " %-8s %5d %5d ", alert_severity_name(a->severity), a->group, a->code);
			put_column(ctx->out, a->description, desc_w);
			fprintf(ctx->out, " %s\n", age);
		}
		if (nrows == 0)
			fprintf(ctx->err, "%s: no active alerts on the %zu %sdevice%s\n", ctx->argv0, n,
				all ? "" : "included ", n == 1 ? "" : "s");
	}
	free(rows);
	device_array_free(&devs, n);
	return rc;
}

/* ---- siteinfo ---- */

static void put_bytes(FILE *out, const char *label, uint64_t total, uint64_t free_bytes)
{
	char t[32], f[32];
	fprintf(out, "  %-14s %s", label, units_bytes(total, t, sizeof t));
	if (free_bytes)
		fprintf(out, " (%s free)", units_bytes(free_bytes, f, sizeof f));
	fputc('\n', out);
}

int siteinfo_main(struct fc_context *ctx, int argc, char **argv)
{
	bool json = argc == 2 && strcmp(argv[1], "--json") == 0;
	if (argc > 1 && !json) {
		fprintf(ctx->err, "usage: fleetcon siteinfo [--json]\n");
		return EXIT_USAGE;
	}
	struct store *s = NULL;
	if (context_open_store(ctx, 0, &s) < 0)
		return EXIT_FAILED;
	struct fc_error err = { { 0 } };
	struct store_counts counts;
	int rc = store_counts(s, ctx->cfg->alerts.supply_low, &counts, &err);
	store_close(&s);
	if (rc < 0) {
		fprintf(ctx->err, "%s: %s\n", ctx->argv0, err.msg);
		return EXIT_FAILED;
	}
	struct site_facts f;
	if (sitefacts_collect(ctx->cfg->database.path, &f, &err) < 0)
		fprintf(ctx->err, "%s: warning: %s\n", ctx->argv0, err.msg);
	f.devices_discovered = (int)counts.discovered;
	f.devices_included = (int)counts.included;
	f.devices_excluded = (int)counts.excluded;
	if (json)
		return print_json(ctx, sitefacts_json(&f, ctx->cfg->site.name));

	FILE *out = ctx->out;
	fprintf(out, "Site\n");
	put_text(out, "name", ctx->cfg->site.name);
	fprintf(out, "\nAgent host\n");
	put_text(out, "DNS name", f.dns_name);
	for (int i = 0; i < f.naddrs; i++) {
		char label[48];
		snprintf(label, sizeof label, "IP (%s)", f.addrs[i].ifname);
		put_text(out, label, f.addrs[i].addr);
	}
	fprintf(out, "  %-14s %s%s%s (%d-bit)\n", "OS", f.os_name, f.os_version[0] ? ", version " : "",
		f.os_version, f.os_bits);
	put_text(out, "kernel", f.kernel);
	fprintf(out, "  %-14s %s x %d\n", "CPU", f.cpu_model, f.cpu_count);
	put_bytes(out, "memory", f.mem_total, f.mem_free);
	put_bytes(out, "disk", f.disk_total, f.disk_free);
	fprintf(out, "  %-14s %s (%s, UTC%s)\n", "time zone", f.timezone[0] ? f.timezone : "unknown", f.tz_abbrev,
		f.utc_offset);
	fprintf(out, "\nAgent\n");
	fprintf(out, "  %-14s %s (%s), %d-bit\n", "version", f.version, f.revision, f.agent_bits);
	put_text(out, "database", ctx->cfg->database.path);
	char dbsize[32];
	fprintf(out, "  %-14s %s\n", "database size", units_bytes(f.db_bytes, dbsize, sizeof dbsize));
	fprintf(out, "  %-14s %d discovered, %d included, %d excluded\n", "devices", f.devices_discovered,
		f.devices_included, f.devices_excluded);
	return EXIT_OK;
}
