/* The HTML audit report (see html.h). The page is written top to bottom straight to the stream:
 * the head and style, site facts, counts, sync state, the device table (one pass over the
 * devices), the device details (a second pass, with each device's meter history folded into
 * months as it is read), the sync history, the footer. Text from devices and the configuration
 * only ever goes through html_write_text(). */
#include "exports/html.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "collectors/sitefacts.h"
#include "exports/fields.h"
#include "model/array.h"
#include "model/clock.h"
#include "model/config.h"
#include "model/device.h"
#include "model/text.h"
#include "model/version.h"
#include "uplink/schedule.h"

#define DEFAULT_LOW_PERCENT 10

/* ---- escaping ---- */

enum byte_class { B_PLAIN, B_ENTITY, B_DROP, B_MULTI };

/* What to do with each byte; built once from the rules in html.h. */
static enum byte_class byte_class(unsigned char c)
{
	if (c >= 0x80)
		return B_MULTI;
	if (c == '&' || c == '<' || c == '>' || c == '"' || c == '\'')
		return B_ENTITY;
	if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7f)
		return B_DROP;
	return B_PLAIN;
}

static const char *entity(unsigned char c)
{
	switch (c) {
	case '&': return "&amp;";
	case '<': return "&lt;";
	case '>': return "&gt;";
	case '"': return "&quot;";
	default: return "&#39;";
	}
}

#define REPLACEMENT "\xEF\xBF\xBD" /* U+FFFD */

/* Length of the valid UTF-8 sequence at s (2-4), its code point in *cp, or 0 when invalid. */
static bool is_noncharacter(uint32_t cp)
{
	return (cp >= 0xFDD0 && cp <= 0xFDEF) || (cp & 0xFFFE) == 0xFFFE;
}

int html_write_text(FILE *f, const char *text)
{
	if (!text)
		return 0;
	const unsigned char *s = (const unsigned char *)text;
	while (*s) {
		const unsigned char *run = s;
		while (*s && byte_class(*s) == B_PLAIN)
			s++;
		if (s > run)
			fwrite_unlocked(run, 1, (size_t)(s - run), f);
		if (!*s)
			break;
		switch (byte_class(*s)) {
		case B_ENTITY:
			fputs_unlocked(entity(*s), f);
			s++;
			break;
		case B_DROP:
			s++;
			break;
		default: {
			uint32_t cp = 0;
			size_t len = text_utf8_next(s, 4, &cp); /* stops at the NUL */
			if (len == 0) {
				fputs_unlocked(REPLACEMENT, f);
				s++;
			} else if (cp >= 0x80 && cp <= 0x9F) {
				s += len; /* C1 control */
			} else if (is_noncharacter(cp)) {
				fputs_unlocked(REPLACEMENT, f);
				s += len;
			} else {
				fwrite_unlocked(s, 1, len, f);
				s += len;
			}
			break;
		}
		}
	}
	return ferror_unlocked(f) ? -1 : 0;
}

char *html_escape(const char *s)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (!f)
		return NULL;
	int rc = html_write_text(f, s);
	if (fclose(f) != 0 || rc < 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

/* ---- small writers ---- */

static void put(FILE *f, const char *s)
{
	fputs_unlocked(s, f);
}

static void text(FILE *f, const char *s)
{
	html_write_text(f, s);
}

/* A number with thousands separators ("1,234,567"). */
static void num(FILE *f, int64_t v)
{
	char buf[32];
	char *p = buf + sizeof buf;
	*--p = '\0';
	uint64_t u = v < 0 ? -(uint64_t)v : (uint64_t)v;
	int digits = 0;
	do {
		if (digits && digits % 3 == 0)
			*--p = ',';
		*--p = (char)('0' + u % 10);
		u /= 10;
		digits++;
	} while (u);
	if (v < 0)
		*--p = '-';
	fputs_unlocked(p, f);
}

/* A plain integer, for attributes and percentages. */
static void integer(FILE *f, int64_t v)
{
	fprintf(f, "%lld", (long long)v);
}

/* UTC time as "2026-11-20 06:13Z" (seconds too with `seconds`); `never` for 0. */
static void when_at(FILE *f, int64_t t, const char *never, bool seconds)
{
	if (!t) {
		put(f, never);
		return;
	}
	char iso[CLOCK_ISO_LEN];
	clock_format_utc(t, iso, sizeof iso);
	/* "YYYY-MM-DDTHH:MM:SSZ" -> "YYYY-MM-DD HH:MM[:SS]Z": easier to read, still unambiguous. */
	if (strlen(iso) == 20) {
		iso[10] = ' ';
		if (!seconds) {
			iso[16] = 'Z';
			iso[17] = '\0';
		}
	}
	put(f, iso);
}

static void when(FILE *f, int64_t t, const char *never)
{
	when_at(f, t, never, false);
}

/* <td>escaped text</td>, or the muted dash for nothing. */
static void td_text(FILE *f, const char *s)
{
	if (s && *s) {
		put(f, "<td>");
		text(f, s);
		put(f, "</td>");
	} else {
		put(f, "<td class=\"none\">–</td>");
	}
}

static void td_num(FILE *f, int64_t v, bool present)
{
	if (!present) {
		put(f, "<td class=\"n none\">–</td>");
		return;
	}
	put(f, "<td class=\"n\">");
	num(f, v);
	put(f, "</td>");
}

static int stream_failed(FILE *f, struct fc_error *err)
{
	if (!ferror_unlocked(f))
		return 0;
	return fc_error_set(err, "cannot write: %s", strerror(errno ? errno : EIO));
}

/* ---- the page's frame ---- */

static const char style[] =
	":root{--ok:#1a7f37;--warn:#8a5a00;--bad:#c5221f;--muted:#59636e;--line:#d1d9e0;--head:#f3f5f7}"
	"*{box-sizing:border-box}"
	"body{font:14px/1.45 system-ui,-apple-system,\"Segoe UI\",Roboto,\"Noto Sans\",\"DejaVu Sans\",Arial,sans-serif;"
	"color:#1f2328;background:#fff;margin:0 auto;max-width:1440px;padding:24px}"
	"header{border-bottom:3px solid #1f2328;padding-bottom:8px}"
	"h1{font-size:24px;margin:0 0 4px}h2{font-size:19px;border-bottom:2px solid var(--line);"
	"padding-bottom:4px;margin:32px 0 12px}h3{font-size:16px;margin:0 0 8px}"
	"h4{font-size:13px;margin:12px 0 4px;text-transform:uppercase;letter-spacing:.04em;color:var(--muted)}"
	".sub{color:var(--muted);margin:2px 0}"
	"nav ul{list-style:none;padding:0;margin:12px 0;display:flex;gap:18px;flex-wrap:wrap}"
	"a{color:#0550ae}"
	"table{border-collapse:collapse;margin:6px 0}"
	"th,td{border:1px solid var(--line);padding:3px 7px;text-align:left;vertical-align:top}"
	"th{background:var(--head);font-weight:600}"
	".n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}"
	".none{color:var(--muted)}"
	"table.list{width:100%;font-size:13px}table.list th,table.list td{padding:3px 5px}"
	"table.facts th{width:15em}"
	".cards{display:flex;flex-wrap:wrap;gap:12px;margin:8px 0}"
	".card{border:1px solid var(--line);border-radius:6px;padding:8px 16px;min-width:150px}"
	".card b{display:block;font-size:24px;font-variant-numeric:tabular-nums}"
	".st{font-weight:700;white-space:nowrap}"
	".st-ok{color:var(--ok)}.st-warning{color:var(--warn)}.st-fault,.st-unreachable{color:var(--bad)}"
	".st-unknown{color:var(--muted)}"
	"article{border:1px solid var(--line);border-radius:6px;padding:12px 14px;margin:14px 0}"
	"dl.id{display:grid;grid-template-columns:max-content 1fr max-content 1fr;gap:2px 14px;margin:0}"
	"dl.id dt{color:var(--muted)}dl.id dd{margin:0;overflow-wrap:anywhere}"
	".gauges{display:grid;grid-template-columns:repeat(auto-fill,minmax(330px,1fr));gap:4px 24px}"
	".gauge{display:grid;grid-template-columns:1fr 110px 9.5em;gap:8px;align-items:center}"
	".gauge .what{overflow-wrap:anywhere}"
	".bar{display:block;height:12px;border:1px solid #8c959f;border-radius:3px;background:#fff;overflow:hidden}"
	".bar i{display:block;height:100%;background:var(--ok)}"
	".g-low .bar i{background:var(--warn)}.g-empty .bar i,.g-full .bar i{background:var(--bad)}"
	".bar.nolevel{background:repeating-linear-gradient(135deg,#e6e9ec 0 4px,#fff 4px 8px)}"
	".gv{white-space:nowrap}.g-low .gv,.g-empty .gv,.g-full .gv{font-weight:700}"
	".g-low .gv{color:var(--warn)}.g-empty .gv,.g-full .gv{color:var(--bad)}"
	".sev-critical{color:var(--bad);font-weight:700}.sev-warning{color:var(--warn);font-weight:700}"
	"footer{margin-top:32px;border-top:1px solid var(--line);padding-top:8px;color:var(--muted)}"
	"@media print{body{max-width:none;padding:0;font-size:9.5pt}nav{display:none}"
	"section{break-before:page}section#summary{break-before:auto}"
	"article{break-inside:avoid}thead{display:table-header-group}tr{break-inside:avoid}"
	"a{color:inherit;text-decoration:none}"
	"*{-webkit-print-color-adjust:exact;print-color-adjust:exact}}";

static void page_head(FILE *f, const char *site)
{
	put(f, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
	       "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
	       "<meta name=\"generator\" content=\"fleetcon ");
	text(f, fleetcon_version());
	put(f, "\">\n<title>Print fleet audit report");
	if (site && *site) {
		put(f, " – ");
		text(f, site);
	}
	put(f, "</title>\n<style>");
	put(f, style);
	put(f, "</style>\n</head>\n<body>\n");
}

/* Meter history folded into months: per month the last value of each meter and the first total.
 * The fold does not depend on the order the store returns the rows in (by day, or by meter then
 * day): within one meter the days ascend, so "last seen" is the month's end. */
enum { H_TOTAL, H_BLACK, H_COLOR, H_COUNT };
static const char *const history_names[H_COUNT] = { "total", "black", "color" };

struct month {
	char name[8];         /* "YYYY-MM" */
	int64_t end[H_COUNT]; /* last value of the month, -1 = none */
	int64_t first_total;  /* first total of the month, -1 = none */
};

struct months {
	struct month *m; /* sorted by name; reused from device to device */
	size_t n, cap;
	bool oom;
};

struct report {
	FILE *f;
	struct store *s;
	const struct config *cfg;
	const struct export_options *o;
	int low_percent;
	struct sync_record *syncs; /* newest first */
	size_t n_syncs;
	struct months months;      /* the meter history of the device being written */
};

/* ---- summary: site, counts, sync ---- */

static void fact(FILE *f, const char *name, const char *value)
{
	put(f, "<tr><th scope=\"row\">");
	put(f, name);
	put(f, "</th><td>");
	text(f, value && *value ? value : "–");
	put(f, "</td></tr>\n");
}

static void fact_time(FILE *f, const char *name, int64_t t, const char *never)
{
	put(f, "<tr><th scope=\"row\">");
	put(f, name);
	put(f, "</th><td>");
	when(f, t, never);
	put(f, "</td></tr>\n");
}

static void fact_bytes(FILE *f, const char *name, uint64_t total, uint64_t free_bytes)
{
	char buf[96];
	if (!total)
		snprintf(buf, sizeof buf, "–");
	else if (free_bytes)
		snprintf(buf, sizeof buf, "%.1f GB, %.1f GB free", (double)total / 1e9, (double)free_bytes / 1e9);
	else
		snprintf(buf, sizeof buf, "%.1f GB", (double)total / 1e9);
	fact(f, name, buf);
}

static int site_section(struct report *r, struct fc_error *err)
{
	FILE *f = r->f;
	const struct config *cfg = r->cfg;
	struct site_facts sf;
	struct fc_error ignored;
	/* A fact that cannot be read is shown as "–"; it does not stop the report. */
	sitefacts_collect(store_path(r->s), &sf, &ignored);
	char uuid[UUID_STR_LEN] = "";
	if (store_agent_uuid(r->s, uuid, err) < 0)
		return -1;
	char buf[512];
	put(f, "<section id=\"summary\">\n<h2>Site</h2>\n<table class=\"facts\">\n");
	fact(f, "Site name", cfg ? cfg->site.name : NULL);
	fact(f, "Agent host", sf.dns_name[0] ? sf.dns_name : sf.hostname);
	size_t used = 0;
	buf[0] = '\0';
	for (int i = 0; i < sf.naddrs && used < sizeof buf; i++) {
		int n = snprintf(buf + used, sizeof buf - used, "%s%s (%s)", i ? ", " : "", sf.addrs[i].addr,
				 sf.addrs[i].ifname);
		if (n < 0 || (size_t)n >= sizeof buf - used) {
			buf[used] = '\0';
			break;
		}
		used += (size_t)n;
	}
	fact(f, "Agent addresses", buf);
	snprintf(buf, sizeof buf, "%s%s%s, %d-bit (%s)", sf.os_name, sf.os_version[0] ? " " : "",
		 sf.os_version, sf.os_bits, sf.kernel);
	fact(f, "Operating system", sf.os_name[0] ? buf : NULL);
	snprintf(buf, sizeof buf, "%s, %d CPU%s", sf.cpu_model, sf.cpu_count, sf.cpu_count == 1 ? "" : "s");
	fact(f, "CPU", sf.cpu_model[0] ? buf : NULL);
	fact_bytes(f, "Memory", sf.mem_total, sf.mem_free);
	fact_bytes(f, "Disk (database folder)", sf.disk_total, sf.disk_free);
	snprintf(buf, sizeof buf, "%s (%s, UTC%s)", sf.timezone, sf.tz_abbrev, sf.utc_offset);
	fact(f, "Time zone", sf.timezone[0] ? buf : NULL);
	snprintf(buf, sizeof buf, "fleetcon %s (%s), %d-bit", fleetcon_version(), fleetcon_revision(),
		 sf.agent_bits);
	fact(f, "Agent version", buf);
	fact(f, "Agent ID", uuid);
	fact(f, "Database", store_path(r->s));
	snprintf(buf, sizeof buf, "%.1f MB", (double)store_file_size(r->s) / 1e6);
	fact(f, "Database size", buf);
	fact(f, "Configuration file", cfg && cfg->path[0] ? cfg->path : "none (built-in defaults)");
	fact(f, "Uploads", cfg && cfg->server.url[0] ? "configured" : "not configured");
	fact(f, "Devices in this report", r->o->devices == STORE_DEVICES_ALL ? "all discovered devices"
									       : "included (managed) devices");
	if (r->o->since) {
		char iso[CLOCK_ISO_LEN];
		snprintf(buf, sizeof buf, "since %.10s", clock_format_utc(r->o->since, iso, sizeof iso));
		fact(f, "History", buf);
	} else {
		fact(f, "History", "all that is kept");
	}
	put(f, "</table>\n");
	return 0;
}

static void card(FILE *f, const char *label, int64_t v)
{
	put(f, "<div class=\"card\"><b>");
	num(f, v);
	put(f, "</b>");
	put(f, label);
	put(f, "</div>\n");
}

static int counts_section(struct report *r, struct fc_error *err)
{
	struct store_counts c;
	if (store_counts(r->s, r->low_percent, &c, err) < 0)
		return -1;
	FILE *f = r->f;
	put(f, "<h2 id=\"counts\">Devices</h2>\n<div class=\"cards\">\n");
	card(f, "discovered", c.discovered);
	card(f, "included", c.included);
	card(f, "excluded", c.excluded);
	card(f, "with faults", c.with_faults);
	card(f, "with low supplies", c.with_low_supplies);
	put(f, "</div>\n<p class=\"sub\">Faults and low supplies count included devices; a supply is low under ");
	integer(f, r->low_percent);
	put(f, " %. Last data from a printer: ");
	when(f, c.last_data, "never");
	put(f, ".</p>\n");
	return 0;
}

static const char *const day_names[7] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };

static void sync_state_section(struct report *r)
{
	FILE *f = r->f;
	const struct sync_record *last = r->n_syncs ? &r->syncs[0] : NULL, *last_ok = NULL;
	for (size_t i = 0; i < r->n_syncs && !last_ok; i++)
		if (r->syncs[i].result && strcmp(r->syncs[i].result, "ok") == 0)
			last_ok = &r->syncs[i];
	put(f, "<h2 id=\"sync\">Synchronisation</h2>\n<table class=\"facts\">\n");
	if (last) {
		put(f, "<tr><th scope=\"row\">Last sync</th><td>");
		when(f, last->started_at, "never");
		put(f, " — ");
		text(f, last->trigger);
		put(f, ", ");
		text(f, last->result);
		put(f, "</td></tr>\n");
	} else {
		fact(f, "Last sync", "never");
	}
	fact_time(f, "Last successful sync", last_ok ? last_ok->started_at : 0, "never");
	if (r->cfg) {
		const struct config *cfg = r->cfg;
		char sched[128];
		int n = snprintf(sched, sizeof sched, "%02d:%02d local time, ", cfg->sync.time.hour,
				 cfg->sync.time.minute);
		if ((cfg->sync.days & CONFIG_DAYS_ALL) == CONFIG_DAYS_ALL) {
			snprintf(sched + n, sizeof sched - (size_t)n, "every day");
		} else {
			const char *sep = "";
			for (int d = 1; d <= 7; d++) { /* Monday first */
				if (!(cfg->sync.days & CONFIG_DAY(d % 7)))
					continue;
				n += snprintf(sched + n, sizeof sched - (size_t)n, "%s%s", sep, day_names[d % 7]);
				sep = ", ";
			}
		}
		fact(f, "Configured schedule", sched);
		time_t slot = schedule_next(&cfg->sync.time, cfg->sync.days, (time_t)r->o->now);
		int64_t next = slot == (time_t)-1 ? 0 : (int64_t)slot;
		put(f, "<tr><th scope=\"row\">Next scheduled sync</th><td>");
		if (next) {
			char local[64];
			time_t t = (time_t)next;
			struct tm tm;
			if (localtime_r(&t, &tm) && strftime(local, sizeof local, "%Y-%m-%d %H:%M %Z (%a)", &tm))
				text(f, local);
			else
				when(f, next, "–");
			if (!cfg->server.url[0])
				put(f, " <span class=\"none\">(uploads are not configured)</span>");
		} else {
			put(f, "–");
		}
		put(f, "</td></tr>\n");
	}
	put(f, "</table>\n<p class=\"sub\">Times are UTC unless marked otherwise. The next sync is the "
	       "next slot of the configured schedule; a sync missed while the agent was off is taken at "
	       "the next slot.</p>\n</section>\n");
}

/* ---- the device table ---- */

static void status_cell(FILE *f, enum device_state st)
{
	put(f, "<td class=\"st st-");
	put(f, device_state_name(st));
	put(f, "\">");
	put(f, device_state_name(st));
	put(f, "</td>");
}

static void lowest_cell(FILE *f, const struct device *d, int low_percent)
{
	size_t which = 0;
	int pct = device_lowest_supply(d, &which);
	if (pct < 0) {
		put(f, "<td class=\"none\">no level reported</td>");
		return;
	}
	const struct supply *s = &d->supplies[which];
	enum supply_state st = supply_state_of(s, low_percent);
	put(f, "<td><span class=\"n\">");
	integer(f, pct);
	put(f, " %</span>");
	if (st != SUPPLY_OK) {
		put(f, " <b>");
		put(f, supply_state_name(st));
		put(f, "</b>");
	}
	put(f, " ");
	text(f, s->description);
	put(f, "</td>");
}

static void meter_cell(FILE *f, const struct device *d, const char *name)
{
	const struct meter *m = device_meter(d, name);
	td_num(f, m ? m->value : 0, m != NULL);
}

static int device_table_row(void *ctx, const struct device *d, struct fc_error *err)
{
	struct report *r = ctx;
	FILE *f = r->f;
	put(f, "<tr>");
	status_cell(f, device_state_of(d));
	put(f, "<td><a href=\"#d");
	integer(f, d->id);
	put(f, "\">");
	text(f, d->address);
	put(f, "</a></td>");
	td_text(f, d->vendor);
	td_text(f, d->model);
	td_text(f, d->serial);
	td_text(f, d->firmware);
	meter_cell(f, d, "total");
	meter_cell(f, d, "black");
	meter_cell(f, d, "color");
	lowest_cell(f, d, r->low_percent);
	td_num(f, (int64_t)d->n_alerts, true);
	put(f, "<td class=\"n\">");
	when(f, d->last_poll, "never");
	put(f, "</td></tr>\n");
	return stream_failed(f, err);
}

static int device_table(struct report *r, struct fc_error *err)
{
	FILE *f = r->f;
	put(f, "<section id=\"devices\">\n<h2>Device list</h2>\n<table class=\"list\">\n<thead><tr>"
	       "<th scope=\"col\">Status</th><th scope=\"col\">Address</th><th scope=\"col\">Vendor</th>"
	       "<th scope=\"col\">Model</th><th scope=\"col\">Serial</th><th scope=\"col\">Firmware</th>"
	       "<th scope=\"col\" class=\"n\">Total</th><th scope=\"col\" class=\"n\">Black</th>"
	       "<th scope=\"col\" class=\"n\">Colour</th><th scope=\"col\">Lowest supply</th>"
	       "<th scope=\"col\" class=\"n\">Active alerts</th><th scope=\"col\" class=\"n\">Last poll</th>"
	       "</tr></thead>\n<tbody>\n");
	if (field_each_device(r->s, r->o->devices, STORE_LOAD_ALL, device_table_row, r, err) != 0)
		return -1;
	put(f, "</tbody>\n</table>\n</section>\n");
	return stream_failed(f, err);
}

/* ---- one device in detail ---- */

static void id_pair(FILE *f, const char *name, const char *value)
{
	put(f, "<dt>");
	put(f, name);
	put(f, "</dt><dd>");
	if (value && *value)
		text(f, value);
	else
		put(f, "<span class=\"none\">–</span>");
	put(f, "</dd>");
}

static void id_time(FILE *f, const char *name, int64_t t)
{
	put(f, "<dt>");
	put(f, name);
	put(f, "</dt><dd>");
	when(f, t, "<span class=\"none\">never</span>");
	put(f, "</dd>");
}

static void identity(FILE *f, const struct device *d)
{
	char errors[512], status[64];
	snprintf(status, sizeof status, "%s / %s", d->status_device ? device_status_name(d->status_device) : "–",
		 d->status_printer ? printer_status_name(d->status_printer) : "–");
	put(f, "<dl class=\"id\">");
	id_pair(f, "Serial", d->serial);
	id_pair(f, "MAC", d->mac);
	id_pair(f, "Firmware", d->firmware);
	id_pair(f, "System name", d->sys_name);
	id_pair(f, "Location", d->location);
	id_pair(f, "Included", d->included ? "yes" : "no");
	id_pair(f, "Device / printer", status);
	id_pair(f, "Errors", field_errors(d, errors, sizeof errors));
	id_pair(f, "Front panel", d->panel_text);
	id_pair(f, "Description", d->sys_descr);
	id_pair(f, "sysObjectID", d->sys_object_id);
	id_pair(f, "Credentials", d->profile);
	id_time(f, "First seen", d->first_seen);
	id_time(f, "Last poll", d->last_poll);
	id_time(f, "Last complete poll", d->last_poll_ok);
	id_pair(f, "Poll error", d->poll_error);
	put(f, "</dl>\n");
}

static void gauge(FILE *f, const struct supply *s, int low_percent)
{
	enum supply_state st = supply_state_of(s, low_percent);
	int pct = supply_percent(s);
	put(f, "<div class=\"gauge g-");
	put(f, supply_state_name(st));
	put(f, "\"><span class=\"what\">");
	text(f, s->description && *s->description ? s->description : "(no description)");
	if (s->colorant && *s->colorant && (!s->description || !strstr(s->description, s->colorant))) {
		put(f, " <span class=\"none\">(");
		text(f, s->colorant);
		put(f, ")</span>");
	}
	put(f, "</span>");
	if (pct >= 0) {
		put(f, "<span class=\"bar\" aria-hidden=\"true\"><i style=\"width:");
		integer(f, pct);
		put(f, "%\"></i></span><span class=\"gv\">");
		/* A receptacle's level is the room left in it: say so, so that 0 % reads as full. */
		if (s->klass == SUPPLY_CLASS_RECEPTACLE)
			put(f, "room ");
		integer(f, pct);
		put(f, " %");
		if (st != SUPPLY_OK) {
			put(f, " ");
			put(f, supply_state_name(st));
		}
		put(f, "</span>");
	} else {
		/* -1/-2/-3 and unknown maxima: a word, never a number. */
		put(f, "<span class=\"bar nolevel\" aria-hidden=\"true\"></span><span class=\"gv\">");
		put(f, supply_state_name(st));
		if (s->level >= 0) {
			put(f, " (");
			num(f, s->level);
			const char *unit = field_unit_name(s->unit);
			if (*unit) {
				put(f, " ");
				put(f, unit);
			}
			put(f, ")");
		}
		put(f, "</span>");
	}
	put(f, "</div>\n");
}

static void supplies(FILE *f, const struct device *d, int low_percent)
{
	put(f, "<h4>Supplies</h4>\n");
	if (!d->n_supplies) {
		put(f, "<p class=\"none\">No supplies reported.</p>\n");
		return;
	}
	put(f, "<div class=\"gauges\">\n");
	for (size_t i = 0; i < d->n_supplies; i++)
		gauge(f, &d->supplies[i], low_percent);
	put(f, "</div>\n");
}

static void alerts(FILE *f, const struct device *d)
{
	put(f, "<h4>Active alerts</h4>\n");
	if (!d->n_alerts) {
		put(f, "<p class=\"none\">None.</p>\n");
		return;
	}
	put(f, "<table><thead><tr><th scope=\"col\">Severity</th><th scope=\"col\">Group</th>"
	       "<th scope=\"col\" class=\"n\">Code</th><th scope=\"col\">Description</th>"
	       "<th scope=\"col\">Since</th></tr></thead><tbody>\n");
	for (size_t i = 0; i < d->n_alerts; i++) {
		const struct alert *a = &d->alerts[i];
		const char *sev = alert_severity_name(a->severity);
		put(f, "<tr><td class=\"sev-");
		put(f, sev);
		put(f, "\">");
		put(f, sev);
		put(f, "</td><td>");
		const char *group = field_alert_group_name(a->group);
		if (*group)
			put(f, group);
		else
			integer(f, a->group);
		put(f, "</td>");
		put(f, "<td class=\"n\">");
		integer(f, a->code);
		put(f, "</td>");
		td_text(f, a->description);
		put(f, "<td class=\"n\">");
		when(f, a->first_seen, "–");
		put(f, "</td></tr>\n");
	}
	put(f, "</tbody></table>\n");
}

static void meters(FILE *f, const struct device *d)
{
	put(f, "<h4>Meters</h4>\n");
	if (!d->n_meters) {
		put(f, "<p class=\"none\">No meters read.</p>\n");
		return;
	}
	put(f, "<table><thead><tr><th scope=\"col\">Meter</th><th scope=\"col\" class=\"n\">Value</th>"
	       "<th scope=\"col\">Unit</th><th scope=\"col\">OID</th><th scope=\"col\">Read</th>"
	       "</tr></thead><tbody>\n");
	for (size_t i = 0; i < d->n_meters; i++) {
		const struct meter *m = &d->meters[i];
		put(f, "<tr>");
		td_text(f, m->name);
		td_num(f, m->value, true);
		td_text(f, field_unit_name(m->unit));
		td_text(f, m->oid);
		put(f, "<td class=\"n\">");
		when(f, m->read_at, "–");
		put(f, "</td></tr>\n");
	}
	put(f, "</tbody></table>\n");
}

static struct month *month_of(struct months *h, const char *day)
{
	size_t lo = 0, hi = h->n;
	/* Rows mostly come in order: try the last month first. */
	if (h->n && strncmp(h->m[h->n - 1].name, day, 7) == 0)
		return &h->m[h->n - 1];
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strncmp(h->m[mid].name, day, 7);
		if (c == 0)
			return &h->m[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	struct month *nm = array_grow(h->m, h->n, &h->cap, sizeof *nm, 16);
	if (!nm)
		return NULL;
	h->m = nm;
	memmove(&h->m[lo + 1], &h->m[lo], (h->n - lo) * sizeof *h->m);
	h->n++;
	struct month *m = &h->m[lo];
	memcpy(m->name, day, 7);
	m->name[7] = '\0';
	for (int i = 0; i < H_COUNT; i++)
		m->end[i] = -1;
	m->first_total = -1;
	return m;
}

static int history_row(void *ctx, const char *name, const char *day, int64_t value)
{
	struct months *h = ctx;
	int which = -1;
	for (int i = 0; i < H_COUNT; i++)
		if (strcmp(name, history_names[i]) == 0)
			which = i;
	if (which < 0 || !day || strlen(day) < 7)
		return 0;
	struct month *m = month_of(h, day);
	if (!m) {
		h->oom = true;
		return 1;
	}
	m->end[which] = value;
	if (which == H_TOTAL && m->first_total < 0)
		m->first_total = value;
	return 0;
}

static int history(struct report *r, const struct device *d, struct fc_error *err)
{
	FILE *f = r->f;
	struct months *h = &r->months;
	h->n = 0;
	h->oom = false;
	put(f, "<h4>Meter history</h4>\n");
	if (store_meter_history(r->s, d->id, r->o->since, history_row, h, err) < 0)
		return -1;
	if (h->oom)
		return fc_error_set(err, "out of memory reading the meter history of device %lld",
				    (long long)d->id);
	if (!h->n) {
		put(f, "<p class=\"none\">No history in this period.</p>\n");
		return 0;
	}
	put(f, "<table><thead><tr><th scope=\"col\">Month</th><th scope=\"col\" class=\"n\">Total</th>"
	       "<th scope=\"col\" class=\"n\">Black</th><th scope=\"col\" class=\"n\">Colour</th>"
	       "<th scope=\"col\" class=\"n\">Pages in month</th></tr></thead><tbody>\n");
	int64_t before = -1; /* the total at the end of the month before */
	for (size_t i = 0; i < h->n; i++) {
		const struct month *m = &h->m[i];
		put(f, "<tr><td>");
		put(f, m->name);
		put(f, "</td>");
		for (int k = 0; k < H_COUNT; k++)
			td_num(f, m->end[k], m->end[k] >= 0);
		int64_t from = before >= 0 ? before : m->first_total;
		bool have = m->end[H_TOTAL] >= 0 && from >= 0 && m->end[H_TOTAL] >= from;
		td_num(f, have ? m->end[H_TOTAL] - from : 0, have);
		put(f, "</tr>\n");
		if (m->end[H_TOTAL] >= 0)
			before = m->end[H_TOTAL];
	}
	put(f, "</tbody></table>\n");
	return 0;
}

static int device_detail(void *ctx, const struct device *d, struct fc_error *err)
{
	struct report *r = ctx;
	FILE *f = r->f;
	enum device_state st = device_state_of(d);
	put(f, "<article id=\"d");
	integer(f, d->id);
	put(f, "\">\n<h3><span class=\"st st-");
	put(f, device_state_name(st));
	put(f, "\">");
	put(f, device_state_name(st));
	put(f, "</span> ");
	text(f, d->address);
	put(f, " — ");
	text(f, d->vendor && *d->vendor ? d->vendor : "unknown vendor");
	put(f, " ");
	text(f, d->model);
	put(f, "</h3>\n");
	identity(f, d);
	supplies(f, d, r->low_percent);
	alerts(f, d);
	meters(f, d);
	if (history(r, d, err) < 0)
		return -1;
	put(f, "</article>\n");
	return stream_failed(f, err);
}

static int details_section(struct report *r, struct fc_error *err)
{
	put(r->f, "<section id=\"details\">\n<h2>Device details</h2>\n");
	if (field_each_device(r->s, r->o->devices, STORE_LOAD_ALL, device_detail, r, err) != 0)
		return -1;
	put(r->f, "</section>\n");
	return stream_failed(r->f, err);
}

/* ---- sync history and footer ---- */

static void sync_history(struct report *r)
{
	FILE *f = r->f;
	put(f, "<section id=\"syncs\">\n<h2>Sync history</h2>\n");
	size_t shown = 0;
	for (size_t i = 0; i < r->n_syncs; i++) {
		const struct sync_record *y = &r->syncs[i];
		if (y->started_at < r->o->since)
			continue;
		if (!shown++)
			put(f, "<table class=\"list\"><thead><tr><th scope=\"col\">When</th>"
			       "<th scope=\"col\">Trigger</th><th scope=\"col\">Result</th>"
			       "<th scope=\"col\" class=\"n\">HTTP</th><th scope=\"col\" class=\"n\">Bytes</th>"
			       "<th scope=\"col\" class=\"n\">Devices</th><th scope=\"col\">Message</th>"
			       "</tr></thead><tbody>\n");
		put(f, "<tr><td class=\"n\">");
		when(f, y->started_at, "–");
		put(f, "</td>");
		td_text(f, y->trigger);
		bool ok = y->result && strcmp(y->result, "ok") == 0;
		bool running = y->result && strcmp(y->result, "running") == 0;
		put(f, ok ? "<td class=\"st st-ok\">" : running ? "<td class=\"st\">" : "<td class=\"st st-fault\">");
		text(f, y->result);
		put(f, "</td>");
		td_num(f, y->http_status, y->http_status > 0);
		td_num(f, y->bytes, true);
		td_num(f, y->devices, true);
		td_text(f, y->error);
		put(f, "</tr>\n");
	}
	if (shown)
		put(f, "</tbody></table>\n");
	else
		put(f, "<p class=\"none\">No syncs in this period.</p>\n");
	put(f, "</section>\n");
}

static void footer(struct report *r)
{
	FILE *f = r->f;
	put(f, "<footer><p>Generated ");
	when_at(f, r->o->now, "–", true);
	put(f, " by fleetcon ");
	text(f, fleetcon_version());
	put(f, " (");
	text(f, fleetcon_revision());
	put(f, "). Device texts are shown as the devices report them.</p></footer>\n</body>\n</html>\n");
}

int html_write_report(FILE *f, struct store *s, const struct config *cfg,
		      const struct export_options *o, struct fc_error *err)
{
	struct report r = {
		.f = f,
		.s = s,
		.cfg = cfg,
		.o = o,
		.low_percent = cfg ? cfg->alerts.supply_low : DEFAULT_LOW_PERCENT,
	};
	errno = 0;
	if (store_syncs_list(s, 0, &r.syncs, &r.n_syncs, err) < 0)
		return -1;
	const char *site = cfg ? cfg->site.name : NULL;
	int64_t now = o->now ? o->now : clock_now();
	struct export_options with_now = *o;
	with_now.now = now;
	r.o = &with_now;

	page_head(f, site);
	put(f, "<header><h1>Print fleet audit report</h1><p class=\"sub\">");
	if (site && *site) {
		text(f, site);
		put(f, " · ");
	}
	put(f, "generated ");
	when_at(f, now, "–", true);
	put(f, " by fleetcon ");
	text(f, fleetcon_version());
	put(f, "</p>\n<nav><ul><li><a href=\"#summary\">Site</a></li><li><a href=\"#counts\">Counts</a></li>"
	       "<li><a href=\"#sync\">Synchronisation</a></li><li><a href=\"#devices\">Device list</a></li>"
	       "<li><a href=\"#details\">Device details</a></li><li><a href=\"#syncs\">Sync history</a></li>"
	       "</ul></nav></header>\n");
	int rc = site_section(&r, err);
	if (rc == 0)
		rc = counts_section(&r, err);
	if (rc == 0) {
		sync_state_section(&r);
		rc = stream_failed(f, err);
	}
	if (rc == 0)
		rc = device_table(&r, err);
	if (rc == 0)
		rc = details_section(&r, err);
	if (rc == 0) {
		sync_history(&r);
		footer(&r);
		rc = stream_failed(f, err);
	}
	sync_array_free(&r.syncs, r.n_syncs);
	free(r.months.m);
	return rc;
}
