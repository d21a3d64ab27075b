/* The uplink's subcommands (see commands.h): report --preview, upload, status. They open the
 * store, call uplink/, and turn the results into text for people or JSON for programs. Times are
 * shown in local time here (people read them) and in UTC in JSON. */
#include "uplink/commands.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "model/clock.h"
#include "model/config.h"
#include "model/store.h"
#include "uplink/outbox.h"
#include "uplink/report.h"
#include "uplink/schedule.h"
#include "uplink/sync.h"
#include "uplink/transport.h"

/* ---- shared helpers ---- */

static void fail(struct fc_context *ctx, const char *what, const struct fc_error *err)
{
	fprintf(ctx->err, "%s: %s%s%s\n", ctx->argv0, what ? what : "", what ? ": " : "", err->msg);
}

/* "2024-06-11 02:00:03 CEST", or "never" for 0. */
static const char *local_time(int64_t t, char *buf, size_t len)
{
	if (t <= 0) {
		snprintf(buf, len, "never");
		return buf;
	}
	time_t tt = (time_t)t;
	struct tm tm;
	if (!localtime_r(&tt, &tm) || strftime(buf, len, "%Y-%m-%d %H:%M:%S %Z", &tm) == 0)
		snprintf(buf, len, "%" PRId64, t);
	return buf;
}

/* "(7 h ago)", "(in 17 h)", "" for 0. */
static const char *relative(int64_t t, int64_t now, char *buf, size_t len)
{
	if (t <= 0) {
		buf[0] = '\0';
		return buf;
	}
	int64_t d = now - t;
	bool future = d < 0;
	if (future)
		d = -d;
	const char *unit = "s";
	int64_t v = d;
	if (d >= 2 * 86400) {
		v = d / 86400;
		unit = " days";
	} else if (d >= 2 * 3600) {
		v = d / 3600;
		unit = " h";
	} else if (d >= 120) {
		v = d / 60;
		unit = " min";
	} else {
		unit = " s";
	}
	snprintf(buf, len, future ? " (in %" PRId64 "%s)" : " (%" PRId64 "%s ago)", v, unit);
	return buf;
}

static json_t *iso_or_null(int64_t t)
{
	if (t <= 0)
		return json_null();
	char buf[CLOCK_ISO_LEN];
	return json_string(clock_format_utc(t, buf, sizeof buf));
}

/* The first `width` characters of s (UTF-8), padded with spaces to width. */
static void put_cell(FILE *out, const char *s, int width)
{
	if (!s)
		s = "-";
	int chars = 0;
	const char *p = s;
	while (*p && chars < width) {
		p++;
		while (((unsigned char)*p & 0xC0) == 0x80)
			p++;
		chars++;
	}
	fprintf(out, "%.*s%*s", (int)(p - s), s, width - chars + 1, "");
}

static int write_json(struct fc_context *ctx, json_t *doc)
{
	if (!doc) {
		fprintf(ctx->err, "%s: out of memory\n", ctx->argv0);
		return EXIT_FAILED;
	}
	int rc = json_dumpf(doc, ctx->out, JSON_INDENT(2)) < 0 || fputc('\n', ctx->out) == EOF;
	json_decref(doc);
	if (rc) {
		fprintf(ctx->err, "%s: cannot write the output\n", ctx->argv0);
		return EXIT_FAILED;
	}
	return EXIT_OK;
}

static void days_text(unsigned days, char *buf, size_t len)
{
	static const char *const names[] = { "sun", "mon", "tue", "wed", "thu", "fri", "sat" };
	if ((days & CONFIG_DAYS_ALL) == CONFIG_DAYS_ALL) {
		snprintf(buf, len, "daily");
		return;
	}
	buf[0] = '\0';
	/* Monday first, as people write weeks. */
	for (int i = 1; i <= 7; i++) {
		int d = i % 7;
		if (days & CONFIG_DAY(d))
			snprintf(buf + strlen(buf), len - strlen(buf), "%s%s", buf[0] ? "," : "", names[d]);
	}
}

/* ---- report --preview ---- */

static int sink_file(void *ctx, const char *bytes, size_t len, struct fc_error *err)
{
	if (fwrite(bytes, 1, len, ctx) != len)
		return fc_error_set(err, "cannot write the output");
	return 0;
}

static const char *jstr(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

static json_int_t jint(json_t *o, const char *key)
{
	return json_integer_value(json_object_get(o, key));
}

/* The summary is made from the JSON itself, so it shows what would be sent, not what the
 * database holds. */
static void print_summary(struct fc_context *ctx, json_t *doc, size_t json_bytes, size_t gzip_bytes)
{
	FILE *out = ctx->out;
	json_t *site = json_object_get(doc, "site");
	json_t *host = json_object_get(site, "host");
	json_t *counts = json_object_get(site, "devices");
	json_t *agent = json_object_get(doc, "agent");
	json_t *devices = json_object_get(doc, "devices");
	int64_t last_data = 0;
	if (jstr(site, "last_data"))
		clock_parse_utc(jstr(site, "last_data"), &last_data);
	char t[64];
	fprintf(out, "The next report (%s version %d), as it would be sent now:\n\n", jstr(doc, "schema"),
		(int)jint(doc, "schema_version"));
	fprintf(out, "  %-11s %s (fleetcon %s, %s)\n", "agent", jstr(agent, "id"), jstr(agent, "version"),
		jstr(agent, "revision"));
	fprintf(out, "  %-11s %s: %s, %s, %s\n", "site", jstr(site, "name"), jstr(host, "dns_name"),
		jstr(host, "os"), jstr(host, "timezone")[0] ? jstr(host, "timezone") : "time zone unknown");
	fprintf(out, "  %-11s %zu included (%" JSON_INTEGER_FORMAT " discovered, %" JSON_INTEGER_FORMAT
		     " excluded), %" JSON_INTEGER_FORMAT " with faults, %" JSON_INTEGER_FORMAT " low on supplies\n",
		"devices", json_array_size(devices), jint(counts, "discovered"), jint(counts, "excluded"),
		jint(counts, "with_faults"), jint(counts, "with_low_supplies"));
	fprintf(out, "  %-11s %s\n", "last data", local_time(last_data, t, sizeof t));
	fprintf(out, "  %-11s %zu bytes of JSON, %zu bytes compressed\n\n", "size", json_bytes, gzip_bytes);

	if (json_array_size(devices)) {
		fprintf(out, "  %6s  ", "ID");
		put_cell(out, "ADDRESS", 16);
		put_cell(out, "VENDOR / MODEL", 30);
		put_cell(out, "SERIAL", 16);
		fprintf(out, "%10s  %-8s %-6s %s\n", "TOTAL", "SUPPLIES", "ALERTS", "LAST GOOD POLL");
	}
	size_t i;
	json_t *d;
	json_array_foreach(devices, i, d) {
		char vm[256];
		snprintf(vm, sizeof vm, "%s %s", jstr(d, "vendor") ? jstr(d, "vendor") : "?",
			 jstr(d, "model") ? jstr(d, "model") : "");
		json_t *total = json_object_get(json_object_get(d, "meters"), "total");
		char tot[24] = "-";
		if (json_is_integer(total))
			snprintf(tot, sizeof tot, "%" JSON_INTEGER_FORMAT, json_integer_value(total));
		int64_t lp = 0;
		if (jstr(d, "last_poll_ok"))
			clock_parse_utc(jstr(d, "last_poll_ok"), &lp);
		fprintf(out, "  %6" JSON_INTEGER_FORMAT "  ", jint(d, "id"));
		put_cell(out, jstr(d, "address"), 16);
		put_cell(out, vm, 30);
		put_cell(out, jstr(d, "serial"), 16);
		fprintf(out, "%10s  %-8zu %-6zu %s\n", tot, json_array_size(json_object_get(d, "supplies")),
			json_array_size(json_object_get(d, "alerts")), local_time(lp, t, sizeof t));
	}
	fprintf(out,
		"\nPer device: identity, status, meters with their source OID and raw value, supplies,\n"
		"active alerts and the last good poll. Never in a report: community strings, SNMPv3 or\n"
		"server credentials, user names, print or scan data.\n"
		"Run 'fleetcon report --preview --json' for the exact JSON.\n");
}

int report_main(struct fc_context *ctx, int argc, char **argv)
{
	static const char usage[] = "usage: fleetcon report --preview [--json]\n";
	static const struct option options[] = {
		{ "preview", no_argument, NULL, 'p' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool preview = false, json = false;
	int opt;
	optind = 0;
	while ((opt = getopt_long(argc, argv, "pjh", options, NULL)) != -1) {
		switch (opt) {
		case 'p': preview = true; break;
		case 'j': json = true; break;
		case 'h': fputs(usage, ctx->out); return EXIT_OK;
		default: fputs(usage, ctx->err); return EXIT_USAGE;
		}
	}
	if (optind < argc || !preview) {
		fprintf(ctx->err, "%s%s: the report is sent by 'fleetcon upload'; --preview shows it first\n", usage,
			ctx->argv0);
		return EXIT_USAGE;
	}
	struct store *s = NULL;
	if (context_open_store(ctx, 0, &s) < 0)
		return EXIT_FAILED;
	struct fc_error err = { { 0 } };
	struct report *r = NULL;
	int rc = report_load(s, ctx->cfg, clock_now(), &r, &err);
	store_close(&s);
	if (rc < 0) {
		fail(ctx, "cannot build the report", &err);
		return EXIT_FAILED;
	}
	if (json) {
		rc = report_write(r, sink_file, ctx->out, NULL, &err);
		if (rc == 0 && fputc('\n', ctx->out) == EOF)
			rc = fc_error_set(&err, "cannot write the output");
		report_free(&r);
		if (rc < 0) {
			fail(ctx, NULL, &err);
			return EXIT_FAILED;
		}
		return EXIT_OK;
	}
	char *text = NULL;
	size_t len = 0, gz_len = 0;
	unsigned char *gz = NULL;
	rc = report_json_text(r, &text, &len, &err);
	if (rc == 0)
		rc = report_gzip(r, &gz, &gz_len, NULL, &err);
	report_free(&r);
	free(gz);
	json_error_t jerr;
	json_t *doc = rc == 0 ? json_loadb(text, len, 0, &jerr) : NULL;
	if (rc == 0 && !doc)
		rc = fc_error_set(&err, "the report is not valid JSON: %s", jerr.text);
	if (rc == 0)
		print_summary(ctx, doc, len, gz_len);
	json_decref(doc);
	free(text);
	if (rc < 0) {
		fail(ctx, "cannot build the report", &err);
		return EXIT_FAILED;
	}
	return EXIT_OK;
}

/* ---- upload ---- */

static atomic_bool upload_cancel; /* lock-free, so a signal handler may set it */

static void on_interrupt(int sig)
{
	(void)sig;
	atomic_store(&upload_cancel, true);
}

struct upload_view {
	struct fc_context *ctx;
	size_t send_entry; /* the entry whose "send" line was printed */
	int send_attempt;
};

static void on_upload_event(void *p, const struct outbox_event *ev)
{
	struct upload_view *v = p;
	FILE *e = v->ctx->err;
	char pos[32] = "";
	if (ev->entries)
		snprintf(pos, sizeof pos, "[%zu/%zu] ", ev->entry, ev->entries);
	const char *name = outbox_stage_name(ev->stage);
	switch (ev->stage) {
	case OUTBOX_STAGE_BUILD:
		fprintf(e, "%-14s reading the included devices from the database\n", name);
		break;
	case OUTBOX_STAGE_COMPRESS:
		fprintf(e, "%-14s %d device%s to JSON, gzip\n", name, ev->devices, ev->devices == 1 ? "" : "s");
		break;
	case OUTBOX_STAGE_QUEUED:
		fprintf(e, "%-14s report %s: %" PRIu64 " bytes of JSON, %" PRIu64 " compressed, in the outbox\n", name,
			ev->key, ev->done, ev->total);
		break;
	case OUTBOX_STAGE_DROPPED:
		fprintf(e, "%-14s report %s: %s\n", name, ev->key, ev->message);
		break;
	case OUTBOX_STAGE_CONNECT:
		fprintf(e, "%s%-12s report %s, attempt %d\n", pos, name, ev->key, ev->attempt);
		break;
	case OUTBOX_STAGE_TLS:
		fprintf(e, "%s%-12s verifying the server (TLS 1.2 or later)\n", pos, name);
		break;
	case OUTBOX_STAGE_SEND:
		/* Once per attempt: the byte counts come many times a second. */
		if (v->send_entry != ev->entry || v->send_attempt != ev->attempt) {
			v->send_entry = ev->entry;
			v->send_attempt = ev->attempt;
			fprintf(e, "%s%-12s %" PRIu64 " bytes\n", pos, name, ev->total);
		}
		break;
	case OUTBOX_STAGE_WAIT:
		fprintf(e, "%s%-12s for the server's answer\n", pos, name);
		break;
	case OUTBOX_STAGE_ACKNOWLEDGED:
		fprintf(e, "%s%-12s HTTP %d: report %s delivered (%d devices)\n", pos, name, ev->http_status, ev->key,
			ev->devices);
		break;
	case OUTBOX_STAGE_RETRY_WAIT:
		fprintf(e, "%s%-12s attempt %d failed: %s; next attempt in %.1f s\n", pos, "retry", ev->attempt,
			ev->message, (double)ev->wait_ms / 1000);
		break;
	case OUTBOX_STAGE_FAILED:
		fprintf(e, "%s%-12s %s\n", pos, name, ev->message ? ev->message : "");
		break;
	}
	fflush(e);
}

int upload_main(struct fc_context *ctx, int argc, char **argv)
{
	static const char usage[] = "usage: fleetcon upload\n";
	if (argc > 1) {
		bool help = strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0;
		fputs(usage, help ? ctx->out : ctx->err);
		return help ? EXIT_OK : EXIT_USAGE;
	}
	if (!ctx->cfg->server.url[0]) {
		fprintf(ctx->err, "%s: uploads are not configured: set [server] url, user and password in %s\n",
			ctx->argv0, ctx->cfg->path[0] ? ctx->cfg->path : "the configuration file");
		return EXIT_USAGE;
	}
	struct fc_error err = { { 0 } };
	if (transport_global_init(&err) < 0) {
		fail(ctx, NULL, &err);
		return EXIT_FAILED;
	}
	struct store *s = NULL;
	if (context_open_store(ctx, 0, &s) < 0)
		return EXIT_FAILED;

	/* Ctrl-C stops the transfer cleanly: the report stays in the outbox for the next run. */
	struct sigaction sa = { .sa_handler = on_interrupt }, old_int, old_term;
	sigemptyset(&sa.sa_mask);
	atomic_store(&upload_cancel, false);
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);

	struct upload_view view = { .ctx = ctx };
	struct sync_options o = {
		.trigger = SYNC_MANUAL,
		.cancel = &upload_cancel,
		.on_event = on_upload_event,
		.event_ctx = &view,
	};
	struct sync_result r;
	int rc = sync_run(s, ctx->cfg, &o, &r, &err);
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	store_close(&s);
	if (rc < 0) {
		fail(ctx, "upload failed", &err);
		return EXIT_FAILED;
	}
	const struct outbox_result *d = &r.delivery;
	if (d->pending == 0) {
		fprintf(ctx->out, "uploaded: %d report%s delivered; the outbox is empty\n", d->delivered,
			d->delivered == 1 ? "" : "s");
		return EXIT_OK;
	}
	fprintf(ctx->out, "upload failed: %s\n", d->error[0] ? d->error : "cancelled");
	fprintf(ctx->out, "%d report%s delivered; %d wait%s in the outbox (%s)%s\n", d->delivered,
		d->delivered == 1 ? "" : "s", d->pending, d->pending == 1 ? "s" : "", r.outbox.state,
		d->auth_failed ? "; fix [server] user and password, then run 'fleetcon upload' again"
			       : "; they are sent again at the next sync");
	return EXIT_FAILED;
}

/* ---- status ---- */

/* Builders that record a failure and keep going, so that one check at the end covers all. */
static void put(json_t *obj, const char *key, json_t *value, bool *ok)
{
	if (!obj || !value) {
		json_decref(value);
		*ok = false;
	} else if (json_object_set_new(obj, key, value) < 0) {
		*ok = false;
	}
}

static json_t *str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

static json_t *sync_record_json(const struct sync_record *r)
{
	bool ok = true;
	json_t *o = json_object();
	put(o, "id", json_integer(r->id), &ok);
	put(o, "started_at", iso_or_null(r->started_at), &ok);
	put(o, "finished_at", iso_or_null(r->finished_at), &ok);
	put(o, "trigger", str_or_null(r->trigger), &ok);
	put(o, "result", str_or_null(r->result), &ok);
	put(o, "http_status", r->http_status ? json_integer(r->http_status) : json_null(), &ok);
	put(o, "bytes", json_integer(r->bytes), &ok);
	put(o, "devices", json_integer(r->devices), &ok);
	put(o, "report_key", str_or_null(r->report_key), &ok);
	put(o, "error", str_or_null(r->error), &ok);
	if (!ok) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *status_json(const struct sync_status *st, const struct config *cfg, size_t limit)
{
	bool ok = true;
	json_t *o = json_object();
	char line[768], tod[8], days[64], t[CLOCK_ISO_LEN];
	put(o, "configured", json_boolean(st->configured), &ok);
	put(o, "server", cfg->server.url[0] ? json_string(cfg->server.url) : json_null(), &ok);
	put(o, "healthy", json_boolean(sync_status_healthy(st)), &ok);
	put(o, "in_progress", json_boolean(st->in_progress), &ok);
	put(o, "last_data", iso_or_null(st->last_data), &ok);
	put(o, "last_contact", iso_or_null(st->last_contact), &ok);
	put(o, "last_contact_status", st->last_contact_status ? json_integer(st->last_contact_status) : json_null(),
	    &ok);
	put(o, "last_success", iso_or_null(st->last_success), &ok);
	put(o, "next_sync", st->configured && st->next_sync > 0 ? iso_or_null(st->next_sync) : json_null(), &ok);

	snprintf(tod, sizeof tod, "%02d:%02d", cfg->sync.time.hour, cfg->sync.time.minute);
	days_text(cfg->sync.days, days, sizeof days);
	json_t *sched = json_object();
	put(sched, "time", json_string(tod), &ok);
	put(sched, "days", json_string(days), &ok);
	put(o, "schedule", sched, &ok);

	put(o, "failing_since", iso_or_null(st->failing_since), &ok);
	if (st->auth_failed) {
		json_t *auth = json_object();
		put(auth, "since", iso_or_null(st->auth_failed), &ok);
		put(auth, "reason", json_string(st->auth_failed_reason), &ok);
		put(o, "auth_failed", auth, &ok);
	} else {
		put(o, "auth_failed", json_null(), &ok);
	}

	json_t *ob = json_object();
	put(ob, "reports", json_integer(st->outbox.entries), &ok);
	put(ob, "bytes", json_integer(st->outbox.bytes), &ok);
	put(ob, "oldest", iso_or_null(st->outbox.oldest), &ok);
	put(ob, "size_percent", json_integer(st->outbox.size_percent), &ok);
	put(ob, "age_percent", json_integer(st->outbox.age_percent), &ok);
	put(ob, "near_bound", json_boolean(st->outbox.near_bound), &ok);
	put(ob, "near_bound_since", iso_or_null(st->outbox_near_since), &ok);
	put(ob, "state", json_string(st->outbox.state), &ok);
	put(o, "outbox", ob, &ok);

	put(o, "last_sync", st->last ? sync_record_json(st->last) : json_null(), &ok);
	put(o, "last_failed", json_boolean(st->last_failed), &ok);
	put(o, "overdue", json_boolean(st->overdue), &ok);
	put(o, "missed_slot", st->overdue ? iso_or_null(st->missed_slot) : json_null(), &ok);

	json_t *problems = json_array();
	if (st->last_failed && st->last) {
		snprintf(line, sizeof line, "last sync failed (%s): %s", st->last->result,
			 st->last->error ? st->last->error : "no detail");
		if (json_array_append_new(problems, json_string(line)) < 0)
			ok = false;
	}
	if (st->overdue) {
		snprintf(line, sizeof line, "overdue: the sync due at %s did not happen",
			 clock_format_utc(st->missed_slot, t, sizeof t));
		if (json_array_append_new(problems, json_string(line)) < 0)
			ok = false;
	}
	put(o, "problems", problems, &ok);

	json_t *history = json_array();
	for (size_t i = 0; i < st->n_history && (limit == 0 || i < limit); i++)
		if (!history || json_array_append_new(history, sync_record_json(&st->history[i])) < 0)
			ok = false;
	put(o, "history", history, &ok);
	if (!ok) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static void status_text(FILE *out, const struct sync_status *st, const struct config *cfg, int64_t now,
			size_t limit)
{
	char t[64], rel[48], days[64];
	if (!st->configured)
		fprintf(out, "Uploads are not configured ([server] url is empty).\n");
	else
		fprintf(out, "Uploads to %s\n", cfg->server.url);
	fprintf(out, "  %-26s %s%s\n", "last data from printers", local_time(st->last_data, t, sizeof t),
		relative(st->last_data, now, rel, sizeof rel));
	fprintf(out, "  %-26s %s%s", "last contact with server", local_time(st->last_contact, t, sizeof t),
		relative(st->last_contact, now, rel, sizeof rel));
	if (st->last_contact_status)
		fprintf(out, ", HTTP %d", st->last_contact_status);
	fputc('\n', out);
	fprintf(out, "  %-26s %s%s\n", "last successful sync", local_time(st->last_success, t, sizeof t),
		relative(st->last_success, now, rel, sizeof rel));
	days_text(cfg->sync.days, days, sizeof days);
	if (st->configured && st->next_sync > 0)
		fprintf(out, "  %-26s %s%s, %s at %02d:%02d\n", "next scheduled sync", local_time(st->next_sync, t, sizeof t),
			relative(st->next_sync, now, rel, sizeof rel), days, cfg->sync.time.hour, cfg->sync.time.minute);
	else
		fprintf(out, "  %-26s none\n", "next scheduled sync");
	fprintf(out, "  %-26s %s\n", "outbox", st->outbox.state);

	bool ok = true;
	if (st->in_progress)
		fprintf(out, "  %-26s a sync is running now\n", "state");
	if (st->auth_failed) {
		fprintf(out, "  %-26s AUTHENTICATION FAILED since %s: %s\n", "state", local_time(st->auth_failed, t, sizeof t),
			st->auth_failed_reason);
		ok = false;
	}
	if (st->last_failed && st->last) {
		fprintf(out, "  %-26s LAST SYNC FAILED (%s): %s\n", "state", st->last->result,
			st->last->error ? st->last->error : "no detail");
		ok = false;
	}
	if (st->overdue) {
		fprintf(out, "  %-26s OVERDUE: the sync due at %s did not happen\n", "state",
			local_time(st->missed_slot, t, sizeof t));
		ok = false;
	}
	if (st->outbox.near_bound) {
		fprintf(out, "  %-26s OUTBOX NEAR ITS BOUND: reports will be dropped when it is full\n", "state");
		ok = false;
	}
	if (ok && !st->in_progress)
		fprintf(out, "  %-26s ok\n", "state");

	if (!st->n_history) {
		fprintf(out, "\nNo sync yet.\n");
		return;
	}
	size_t shown = limit && limit < st->n_history ? limit : st->n_history;
	fprintf(out, "\nSync history, newest first (%zu of %zu%s):\n", shown, st->n_history,
		shown < st->n_history ? "; --history 0 shows all" : "");
	fprintf(out, "  %-24s %-10s %-12s %4s %9s %7s  %s\n", "STARTED", "TRIGGER", "RESULT", "HTTP", "BYTES",
		"DEVICES", "ERROR");
	for (size_t i = 0; i < shown; i++) {
		const struct sync_record *r = &st->history[i];
		char http[8] = "-";
		if (r->http_status)
			snprintf(http, sizeof http, "%d", r->http_status);
		fprintf(out, "  %-24s %-10s %-12s %4s %9" PRId64 " %7d  %s\n", local_time(r->started_at, t, sizeof t),
			r->trigger ? r->trigger : "", r->result ? r->result : "", http, r->bytes, r->devices,
			r->error ? r->error : "");
	}
}

int status_main(struct fc_context *ctx, int argc, char **argv)
{
	static const char usage[] = "usage: fleetcon status [--json] [--history N]\n";
	static const struct option options[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "history", required_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool json = false;
	long limit = 10;
	bool limit_given = false;
	int opt;
	optind = 0;
	while ((opt = getopt_long(argc, argv, "jn:h", options, NULL)) != -1) {
		switch (opt) {
		case 'j': json = true; break;
		case 'n': {
			char *end;
			errno = 0;
			limit = strtol(optarg, &end, 10);
			if (*optarg == '\0' || *end || limit < 0 || errno == ERANGE) {
				fprintf(ctx->err, "%s: --history needs a number (0 = all), not \"%.40s\"\n", ctx->argv0, optarg);
				return EXIT_USAGE;
			}
			limit_given = true;
			break;
		}
		case 'h': fputs(usage, ctx->out); return EXIT_OK;
		default: fputs(usage, ctx->err); return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fputs(usage, ctx->err);
		return EXIT_USAGE;
	}
	if (json && !limit_given)
		limit = 0; /* programs get the whole history unless they ask for less */
	struct store *s = NULL;
	if (context_open_store(ctx, 0, &s) < 0)
		return EXIT_FAILED;
	struct fc_error err = { { 0 } };
	struct sync_status st;
	int64_t now = clock_now();
	int rc = sync_status_read(s, ctx->cfg, now, &st, &err);
	store_close(&s);
	if (rc < 0) {
		fail(ctx, "cannot read the sync status", &err);
		return EXIT_FAILED;
	}
	bool healthy = sync_status_healthy(&st);
	int code;
	if (json) {
		code = write_json(ctx, status_json(&st, ctx->cfg, (size_t)limit));
	} else {
		status_text(ctx->out, &st, ctx->cfg, now, (size_t)limit);
		code = EXIT_OK;
	}
	sync_status_clear(&st);
	if (code != EXIT_OK)
		return code;
	return healthy ? EXIT_OK : EXIT_FAILED;
}
