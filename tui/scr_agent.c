/* The agent's screens: Sync (times, countdown, outbox, history, live upload), Discovery (ranges
 * and manual addresses, dry run, live progress, printers without SNMP), Site (the site facts a
 * worker collected), Log (the agent's messages) and Help (generated from the key table). */
#include <curses.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "model/clock.h"
#include "model/config.h"
#include "model/text.h"
#include "model/units.h"
#include "tui/format.h"
#include "tui/ui.h"
#include "uplink/outbox.h"

/* A progress line with a gauge when the total is known. */
static void progress_line(struct console *c, struct textview *tv, const struct job_track *t, const char *what)
{
	int64_t secs = (clock_mono_ms() - t->started_ms) / 1000;
	char span[32];
	units_span(secs, span, sizeof span);
	if (t->total > 0) {
		int pct = (int)(t->done * 100 / t->total);
		struct tline *l = tv_add(tv, RL_NORMAL, 0, "  %-14s %3d%% %22s %s (%s)", what, pct, "",
					 t->text[0] ? t->text : "starting", span);
		if (l) {
			l->gauge_x = 22;
			l->gauge_w = 20;
			l->gauge_pct = pct;
			l->gauge_role = RL_OK;
		}
	} else {
		tv_add(tv, RL_NORMAL, 0, "  %-14s %s (%s)", what, t->text[0] ? t->text : "starting", span);
	}
	(void)c;
}

/* ---- Sync ---- */

static void sync_load(struct console *c)
{
	struct fc_error err = { "" };
	if (c->sync_loaded)
		sync_status_clear(&c->sync_st);
	c->sync_loaded = false;
	outbox_array_free(&c->outbox, c->n_outbox);
	c->n_outbox = 0;
	if (sync_status_read(c->store, c->cfg, clock_now(), &c->sync_st, &err) < 0) {
		console_log(c, AGENT_ERROR, "sync status: %s", err.msg);
		return;
	}
	c->sync_loaded = true;
	c->uplink_configured = c->sync_st.configured;
	c->next_sync = c->sync_st.next_sync > 0 ? c->sync_st.next_sync : 0;
	c->last_success = c->sync_st.last_success;
	c->last_sync_failed = c->sync_st.last_failed;
	if (store_outbox_list(c->store, false, &c->outbox, &c->n_outbox, &err) < 0)
		console_log(c, AGENT_ERROR, "outbox: %s", err.msg);
}

static void when_line(struct textview *tv, int role, const char *label, int64_t t, int64_t now, const char *extra)
{
	char a[32], b[48];
	tv_add(tv, role, 0, "  %-33s %s  (%s)%s", label, clock_format_local(t, a, sizeof a), fmt_ago(t, now, b, sizeof b),
	       extra ? extra : "");
}

static void sync_build(struct console *c, int width)
{
	struct textview *tv = &c->sync;
	tv_clear(tv);
	const struct sync_status *st = &c->sync_st;
	char a[64], b[64];
	if (!c->sync_loaded) {
		tv_add(tv, RL_CRIT, 0, "The sync status cannot be read (see the Log screen).");
		return;
	}
	if (!st->configured) {
		tv_add(tv, RL_WARN, 0, "Uploads are not configured: set [server] url, user and password in the configuration file");
		tv_add(tv, RL_NORMAL, 0, "(fleetcon config check shows which file is used).");
	} else {
		tv_add(tv, RL_NORMAL, 0, "Reports go to %s", c->cfg->server.url);
	}
	tv_section(tv, "Times");
	when_line(tv, RL_NORMAL, "Last data received from printers", st->last_data, c->now, NULL);
	char status[32] = "";
	if (st->last_contact)
		snprintf(status, sizeof status, ", HTTP %d", st->last_contact_status);
	when_line(tv, RL_NORMAL, "Last communication", st->last_contact, c->now, status);
	when_line(tv, st->last_failed ? RL_WARN : RL_NORMAL, "Last successful sync", st->last_success, c->now, NULL);
	if (st->configured && c->next_sync)
		tv_add(tv, RL_NORMAL, 0, "  %-33s %s  (%s)", "Next scheduled transmission", clock_format_local(c->next_sync, a, sizeof a),
		       fmt_countdown(c->next_sync, c->now, b, sizeof b));
	else
		tv_add(tv, RL_NORMAL, 0, "  %-33s %s", "Next scheduled transmission", "not scheduled");
	if (st->failing_since)
		tv_add(tv, RL_CRIT, 0, "  FAILING since %s: reports wait in the outbox and are retried", clock_format_local(st->failing_since, a, sizeof a));
	if (st->auth_failed)
		tv_add(tv, RL_CRIT, 0, "  REFUSED: %s (check [server] user and password)",
		       st->auth_failed_reason[0] ? st->auth_failed_reason : "the server refused the credentials");
	if (st->overdue)
		tv_add(tv, RL_WARN, 0, "  OVERDUE: the slot of %s passed without a sync (u uploads now)",
		       clock_format_local(st->missed_slot, a, sizeof a));

	tv_section(tv, "Upload now (u)");
	if (c->upload.running)
		progress_line(c, tv, &c->upload, "uploading");
	else if (c->upload.id)
		tv_add(tv, c->upload.status == AGENT_JOB_OK ? RL_OK : RL_CRIT, 0, "  %s %s: %s",
		       c->upload.status == AGENT_JOB_OK ? "done" : c->upload.status == AGENT_JOB_CANCELLED ? "cancelled" : "FAILED",
		       clock_format_local(c->upload.finished_at, a, sizeof a), c->upload.result);
	else
		tv_add(tv, RL_NORMAL, 0, "  %s", c->readonly ? "not in read-only mode" : "press u to send a report now, v to see it first");

	tv_section(tv, "Outbox");
	tv_add(tv, st->outbox.near_bound ? RL_WARN : RL_NORMAL, 0, "  %s%s", st->outbox.state[0] ? st->outbox.state : "empty",
	       st->outbox.near_bound ? " (NEAR ITS LIMIT)" : "");
	for (size_t i = 0; i < c->n_outbox; i++) {
		const struct outbox_entry *e = &c->outbox[i];
		char size[32];
		tv_add(tv, e->last_error ? RL_WARN : RL_NORMAL, 0, "  %.8s  %s  %d devices  %s  %d attempt%s%s%s", e->key,
		       clock_format_local(e->created_at, a, sizeof a), e->devices, units_bytes(e->size, size, sizeof size), e->attempts,
		       e->attempts == 1 ? "" : "s", e->last_error ? ": " : "", e->last_error ? e->last_error : "");
	}

	tv_section(tv, "History (newest first)");
	char hdr[160];
	snprintf(hdr, sizeof hdr, "  %-16s %-9s %-11s %4s %9s %7s  %s", "Started", "Trigger", "Result", "HTTP", "Bytes",
		 "Devices", "Error");
	tv_add(tv, RL_TITLE, 0, "%s", hdr);
	for (size_t i = 0; i < st->n_history && i < 200; i++) {
		const struct sync_record *r = &st->history[i];
		bool ok = r->result && !strcmp(r->result, "ok");
		bool running = r->result && !strcmp(r->result, "running");
		char bytes[32];
		tv_add(tv, ok || running ? RL_NORMAL : RL_WARN, 0, "  %-16s %-9s %-11s %4d %9s %7d  %s",
		       clock_format_local(r->started_at, a, sizeof a), r->trigger ? r->trigger : "", r->result ? r->result : "",
		       r->http_status, units_bytes((uint64_t)(r->bytes > 0 ? r->bytes : 0), bytes, sizeof bytes), r->devices,
		       r->error ? r->error : "");
	}
	if (!st->n_history)
		tv_add(tv, RL_NORMAL, 0, "  no syncs yet");
	(void)width;
}

void sync_draw(struct console *c, struct rect r)
{
	if (c->sync_dirty || !c->sync_loaded) {
		sync_load(c);
		c->sync_dirty = false;
	}
	size_t top = c->sync.top;
	sync_build(c, r.w); /* every second: the countdown and the live stage */
	c->sync.top = top;
	tv_draw(c, &c->sync, r);
	c->cursor_y = r.y;
	c->cursor_x = r.x;
}

bool sync_key(struct console *c, enum key_action a, struct rect r)
{
	switch (a) {
	case KA_UPLOAD:
		if (c->upload.running) {
			console_flash(c, AGENT_INFO, "an upload is already running (c cancels it)");
			return true;
		}
		if (!c->uplink_configured) {
			console_flash(c, AGENT_ERROR, "uploads are not configured: set [server] url, user and password in the configuration");
			return true;
		}
		{
			int64_t job = console_submit(c, AGENT_CMD_UPLOAD, 0, 0, 0, NULL);
			if (job)
				c->upload = (struct job_track){ .id = job, .running = true, .started_ms = clock_mono_ms() };
		}
		return true;
	case KA_PREVIEW: {
		int64_t job = console_submit(c, AGENT_CMD_PREVIEW, 0, 0, 0, NULL);
		if (job) {
			c->preview = (struct job_track){ .id = job, .running = true };
			console_flash(c, AGENT_INFO, "building the report preview ...");
		}
		return true;
	}
	case KA_CANCEL:
		if (c->upload.running)
			console_cancel(c, c->upload.id);
		else
			console_flash(c, AGENT_INFO, "no upload is running");
		return true;
	default:
		return tv_key(&c->sync, a, r.h);
	}
}

/* ---- Discovery ---- */

struct unmanaged_ctx {
	struct textview *tv;
	int n;
};

static int on_unmanaged(void *arg, const char *address, const char *ports, int64_t first, int64_t last)
{
	struct unmanaged_ctx *u = arg;
	char a[32];
	(void)first;
	tv_add(u->tv, RL_NORMAL, 0, "  %-40s print port %s, seen %s", address, ports, clock_format_local(last, a, sizeof a));
	u->n++;
	return 0;
}

static void discovery_build(struct console *c)
{
	struct textview *tv = &c->disc;
	int64_t keep = tv_selected_ref(tv);
	tv_clear(tv);
	tv->selectable = true;
	struct fc_error err = { "" };
	struct range *ranges = NULL;
	size_t n = 0;
	tv_add(tv, RL_TITLE, 0, "  %-4s %-32s %-7s %-6s %-20s %s", "ID", "Target", "Kind", "Port", "Profiles", "Last run");
	if (store_ranges_list(c->store, &ranges, &n, &err) < 0) {
		tv_add(tv, RL_CRIT, 0, "  %s", err.msg);
	} else {
		for (size_t i = 0; i < n; i++) {
			const struct range *r = &ranges[i];
			char port[16], when[32];
			snprintf(port, sizeof port, r->port ? "%d" : "-", r->port);
			tv_add(tv, r->enabled ? RL_NORMAL : RL_DIM, r->id, "  %-4" PRId64 " %-32s %-7s %-6s %-20s %s%s",
			       r->id, r->target, r->manual ? "address" : "range", port,
			       r->profiles && *r->profiles ? r->profiles : "(all)", clock_format_local(r->last_run, when, sizeof when),
			       r->enabled ? "" : "  (disabled)");
		}
		if (!n)
			tv_add(tv, RL_NORMAL, 0, "  no ranges yet%s", c->readonly ? "" : ": n adds one (10.1.2.0/24, 10.1.2.10-99 or an address)");
	}
	range_array_free(&ranges, n);

	tv_section(tv, "Run");
	if (c->discover.running && c->discover.total >= 0)
		progress_line(c, tv, &c->discover, "discovering");
	else if (c->discover.id && c->discover.total >= 0)
		tv_add(tv, c->discover.status == AGENT_JOB_OK ? RL_OK : RL_WARN, 0, "  last run: %s", c->discover.result);
	else
		tv_add(tv, RL_NORMAL, 0, "  %s", c->readonly ? "t shows what a run would cost" : "g runs every range now, t shows the cost first");
	if (c->dry_run[0])
		tv_add(tv, RL_NORMAL, 0, "  dry run: %s", c->dry_run);

	tv_section(tv, "Printers without SNMP (answer on a print port only: cannot be managed)");
	struct unmanaged_ctx u = { tv, 0 };
	if (store_unmanaged_list(c->store, on_unmanaged, &u, &err) < 0)
		tv_add(tv, RL_CRIT, 0, "  %s", err.msg);
	else if (!u.n)
		tv_add(tv, RL_NORMAL, 0, "  none found");
	tv_select_ref(tv, keep);
}

void discovery_draw(struct console *c, struct rect r)
{
	if (c->disc_dirty || c->discover.running) {
		size_t top = c->disc.top;
		discovery_build(c);
		c->disc.top = top;
		c->disc_dirty = false;
	}
	tv_draw(c, &c->disc, r);
	if (!tv_selected_ref(&c->disc)) {
		c->cursor_y = r.y;
		c->cursor_x = r.x;
	}
}

bool discovery_key(struct console *c, enum key_action a, struct rect r)
{
	int64_t sel = tv_selected_ref(&c->disc);
	switch (a) {
	case KA_RANGE_ADD:
		dialog_open_range(c, 0);
		return true;
	case KA_RANGE_EDIT:
		if (sel)
			dialog_open_range(c, sel);
		else
			console_flash(c, AGENT_INFO, "no range selected: n adds one");
		return true;
	case KA_RANGE_REMOVE:
		if (sel) {
			const struct tline *l = &c->disc.lines[c->disc.sel];
			dialog_open_confirm_remove(c, sel, l->text);
		} else {
			console_flash(c, AGENT_INFO, "no range selected");
		}
		return true;
	case KA_DRY_RUN:
	case KA_DISCOVER: {
		if (c->discover.running) {
			console_flash(c, AGENT_INFO, "a discovery is running (c cancels it)");
			return true;
		}
		int64_t job = console_submit(c, AGENT_CMD_DISCOVER, 0, a == KA_DRY_RUN, 0, NULL);
		if (job) {
			c->discover = (struct job_track){ .id = job, .running = a == KA_DISCOVER, .started_ms = clock_mono_ms(),
							  .total = a == KA_DRY_RUN ? -1 : 0 };
			if (a == KA_DRY_RUN)
				c->dry_run[0] = '\0';
		}
		c->disc_dirty = true;
		return true;
	}
	case KA_CANCEL:
		if (c->discover.running) {
			console_cancel(c, c->discover.id);
			console_flash(c, AGENT_INFO, "cancelling the discovery ...");
		} else {
			console_flash(c, AGENT_INFO, "no discovery is running");
		}
		return true;
	default:
		return tv_key(&c->disc, a, r.h);
	}
}

/* ---- Site ---- */

void site_draw(struct console *c, struct rect r)
{
	struct textview *tv = &c->site;
	if (!c->site_text) {
		tv_clear(tv);
		tv_add(tv, RL_NORMAL, 0, "%s", c->site_job ? "Collecting the site facts ..." : "No site facts (see the Log screen).");
	} else if (!tv->n || tv->lines[0].ref != 1) {
		tv_clear(tv);
		/* ref 1 on the first line marks "built from the current text" */
		struct tline *first = tv_add(tv, RL_TITLE, 0, "Site facts (collected by the agent; 6 or f again collects them anew)");
		if (first)
			first->ref = 1;
		char *copy = strdup(c->site_text), *save = NULL;
		for (char *line = copy ? strtok_r(copy, "\n", &save) : NULL; line; line = strtok_r(NULL, "\n", &save)) {
			if (line[0] == '#') {
				tv_section(tv, line + 1);
				continue;
			}
			char *tab = strchr(line, '\t');
			if (tab)
				*tab = '\0';
			tv_add(tv, RL_NORMAL, 0, "  %-16s %s", line, tab ? tab + 1 : "");
		}
		free(copy);
	}
	tv->selectable = false;
	tv_draw(c, tv, r);
	c->cursor_y = r.y;
	c->cursor_x = r.x;
}

bool site_key(struct console *c, enum key_action a, struct rect r)
{
	return tv_key(&c->site, a, r.h);
}

/* ---- Log ---- */

static const char *level_word(int level)
{
	return level == AGENT_ERROR ? "ERROR" : level == AGENT_WARN ? "warn" : level == AGENT_DEBUG ? "debug" : "info";
}

void log_draw(struct console *c, struct rect r)
{
	struct textview *tv = &c->logview;
	if (c->log_dirty) {
		bool at_end = tv->top + (size_t)r.h >= tv->n;
		tv_clear(tv);
		for (size_t i = 0; i < c->log_n; i++) {
			const struct log_line *l = &c->log[(c->log_start + i) % CONSOLE_LOG_MAX];
			char when[16];
			time_t t = (time_t)l->at;
			struct tm tm;
			if (localtime_r(&t, &tm))
				strftime(when, sizeof when, "%H:%M:%S", &tm);
			else
				snprintf(when, sizeof when, "?");
			tv_add(tv, l->level == AGENT_ERROR ? RL_CRIT : l->level == AGENT_WARN ? RL_WARN : RL_NORMAL, 0, "%s %-5s %s",
			       when, level_word(l->level), l->text);
		}
		if (!c->log_n)
			tv_add(tv, RL_NORMAL, 0, "No messages yet.");
		/* newest last, and followed while the view is at the end */
		if (at_end || c->log_follow)
			tv->top = tv->n > (size_t)r.h ? tv->n - (size_t)r.h : 0;
		c->log_follow = false;
		c->log_dirty = false;
	}
	tv_draw(c, tv, r);
	size_t last = tv->n ? tv->n - 1 : 0;
	int y = (int)(last - tv->top);
	c->cursor_y = r.y + (y >= 0 && y < r.h ? y : 0);
	c->cursor_x = r.x;
}

bool log_key(struct console *c, enum key_action a, struct rect r)
{
	return tv_key(&c->logview, a, r.h);
}

/* ---- Help ---- */

/* The places the help lists keys under, in order; a key that works in several places is listed
 * under the first of them, with the others named. */
static const unsigned help_groups[] = { KC_SCREENS, KC_DEVICES, KC_DEVICE, KC_ALERTS, KC_SYNC, KC_DISCOVERY, KC_EDIT, KC_VIEW };
#define N_GROUPS (sizeof help_groups / sizeof help_groups[0])

static unsigned help_group_of(unsigned ctx)
{
	if ((ctx & KC_SCREENS) == KC_SCREENS)
		return KC_SCREENS;
	for (size_t k = 1; k < N_GROUPS; k++)
		if (ctx & help_groups[k])
			return help_groups[k];
	return 0;
}

static void help_build(struct console *c)
{
	struct textview *tv = &c->help;
	tv_clear(tv);
	tv_add(tv, RL_TITLE, 0, "fleetcon console: keys%s", c->readonly ? " (read-only: marked keys are not available)" : "");
	size_t n;
	const struct key_binding *t = keys_table(&n);
	for (size_t g = 0; g < N_GROUPS; g++) {
		bool titled = false;
		for (size_t i = 0; i < n; i++) {
			unsigned ctx = t[i].contexts;
			if (help_group_of(ctx) != help_groups[g])
				continue;
			if (!titled) {
				tv_section(tv, help_groups[g] == KC_SCREENS ? "Everywhere" : keys_context_name(help_groups[g]));
				titled = true;
			}
			char places[128] = "";
			if (help_groups[g] != KC_SCREENS) {
				for (unsigned bit = 1; bit <= KC_HELP; bit <<= 1) {
					if (!(ctx & bit) || bit == help_groups[g])
						continue;
					size_t at = strlen(places);
					snprintf(places + at, sizeof places - at, "%s%s", at ? ", " : " (also ", keys_context_name(bit));
				}
				if (places[0]) {
					size_t at = strlen(places);
					snprintf(places + at, sizeof places - at, ")");
				}
			}
			bool off = c->readonly && (t[i].flags & KF_CHANGES);
			tv_add(tv, off ? RL_DIM : RL_NORMAL, 0, "  %-16s %s%s%s", t[i].label, t[i].help, places,
			       off ? " [not in read-only mode]" : "");
		}
	}
	tv_section(tv, "Words");
	tv_add(tv, RL_NORMAL, 0, "  Faults are written out: error, unreachable, warning; supplies LOW 8%%, EMPTY, FULL,");
	tv_add(tv, RL_NORMAL, 0, "  unknown, some left, no limit. Colour only repeats what the words say.");
	tv_add(tv, RL_NORMAL, 0, "  Ctrl-Z suspends the console (fg resumes it); the mouse selects and scrolls.");
}

void help_draw(struct console *c, struct rect r)
{
	if (!c->help.n)
		help_build(c);
	tv_draw(c, &c->help, r);
	c->cursor_y = r.y;
	c->cursor_x = r.x;
}

bool help_key(struct console *c, enum key_action a, struct rect r)
{
	return tv_key(&c->help, a, r.h);
}
