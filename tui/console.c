/* The console's main loop: it owns the terminal, waits in poll() on stdin, the agent's event
 * queue and a one-second timer, drains the keys until ERR each time round, applies the workers'
 * events to its in-memory fleet (one device at a time), and draws the frame (header, tabs, the
 * screen, status line, hint bar) from that state. Workers never touch the screen. */
#include "tui/console.h"

#include <curses.h>
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <wchar.h>

#include "model/clock.h"
#include "model/config.h"
#include "model/store.h"
#include "model/text.h"
#include "service/actions.h"
#include "service/agenda.h"
#include "service/link.h"
#include "tui/format.h"
#include "tui/ui.h"
#include "uplink/sync.h"

/* How long a flash message stays. */
#define FLASH_MS 6000
/* Worker events alone redraw the screen at most this often (milliseconds). */
#define FRAME_MS 100
/* More changed devices than this at once: reload the fleet instead of one by one. */
#define RELOAD_ALL_OVER 2000

static const struct screen_def {
	enum screen_id id;
	const char *title;
	unsigned context;
	enum key_action key;
} screens[SCR_COUNT] = {
	{ SCR_DEVICES, "Devices", KC_DEVICES, KA_SCREEN_DEVICES },
	{ SCR_DEVICE, "Device", KC_DEVICE, KA_SCREEN_DEVICE },
	{ SCR_ALERTS, "Alerts", KC_ALERTS, KA_SCREEN_ALERTS },
	{ SCR_SYNC, "Sync", KC_SYNC, KA_SCREEN_SYNC },
	{ SCR_DISCOVERY, "Discovery", KC_DISCOVERY, KA_SCREEN_DISCOVERY },
	{ SCR_SITE, "Site", KC_SITE, KA_SCREEN_SITE },
	{ SCR_LOG, "Log", KC_LOG, KA_SCREEN_LOG },
	{ SCR_HELP, "Help", KC_HELP, KA_HELP },
};

/* ---- flash and log ---- */

static void log_add(struct console *c, int level, const char *text)
{
	char *t = text_clean(text);
	if (!t)
		return;
	size_t slot;
	if (c->log_n < CONSOLE_LOG_MAX) {
		slot = (c->log_start + c->log_n) % CONSOLE_LOG_MAX;
		c->log_n++;
	} else {
		slot = c->log_start;
		free(c->log[slot].text);
		c->log_start = (c->log_start + 1) % CONSOLE_LOG_MAX;
	}
	c->log[slot] = (struct log_line){ clock_now(), level, t };
	c->log_dirty = true;
}

void console_log(struct console *c, int level, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	log_add(c, level, buf);
}

void console_flash(struct console *c, int level, const char *fmt, ...)
{
	char buf[sizeof c->flash];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	char *t = text_clean(buf);
	snprintf(c->flash, sizeof c->flash, "%s", t ? t : "");
	free(t);
	c->flash_level = level;
	/* errors stay longer: they say what to do */
	c->flash_until_ms = clock_mono_ms() + (level == AGENT_ERROR ? 2 * FLASH_MS : FLASH_MS);
	log_add(c, level, c->flash);
}

/* ---- navigation ---- */

void console_show(struct console *c, enum screen_id s)
{
	if (s == c->screen)
		return;
	if (c->nhistory == (int)(sizeof c->history / sizeof c->history[0])) {
		memmove(c->history, c->history + 1, sizeof c->history - sizeof c->history[0]);
		c->nhistory--;
	}
	c->history[c->nhistory++] = c->screen;
	c->screen = s;
	if (s == SCR_ALERTS)
		c->alerts_built_ms = 0; /* entering it shows the current list */
	if (s == SCR_SYNC)
		c->sync_dirty = true;
	if (s == SCR_DISCOVERY)
		c->disc_dirty = true;
	if (s == SCR_SITE && !c->site_job && !c->site_text)
		c->site_job = console_submit(c, AGENT_CMD_SITEFACTS, 0, 0, 0, NULL);
}

static void go_back(struct console *c)
{
	if (c->nhistory == 0) {
		c->screen = SCR_DEVICES;
		return;
	}
	c->screen = c->history[--c->nhistory];
}

void console_open_device(struct console *c, int64_t id)
{
	if (!id)
		return;
	if (c->detail_id != id) {
		c->detail_id = id;
		c->detail_raw = false;
		c->detail.top = 0;
	}
	c->detail_dirty = true;
	console_show(c, SCR_DEVICE);
}

int64_t console_submit(struct console *c, int kind, int64_t id, int64_t a, int64_t b, const char *text)
{
	if (!c->link) {
		console_flash(c, AGENT_ERROR, "the workers are not running: %s is not available (see the Log screen)",
			      agent_cmd_name(kind));
		return 0;
	}
	struct fc_error err = { "" };
	int64_t job = 0;
	if (link_submit(c->link, kind, id, a, b, text, &job, &err) < 0) {
		console_flash(c, AGENT_ERROR, "%s", err.msg);
		return 0;
	}
	return job;
}

void console_cancel(struct console *c, int64_t job)
{
	if (c->link && job)
		link_cancel(c->link, job);
}

/* ---- the agent's events ---- */

static void pending_add(struct console *c, int64_t id)
{
	if (c->reload_all)
		return;
	if (!id || c->n_pending >= RELOAD_ALL_OVER) {
		c->reload_all = true;
		return;
	}
	for (size_t i = 0; i < c->n_pending; i++)
		if (c->pending_ids[i] == id)
			return;
	if (c->n_pending == c->cap_pending) {
		size_t ncap = c->cap_pending ? c->cap_pending * 2 : 64;
		int64_t *p = realloc(c->pending_ids, ncap * sizeof *p);
		if (!p) {
			c->reload_all = true;
			return;
		}
		c->pending_ids = p;
		c->cap_pending = ncap;
	}
	c->pending_ids[c->n_pending++] = id;
}

/* Applies the devices that changed since the last time to the in-memory fleet. */
static void apply_pending(struct console *c)
{
	struct fc_error err = { "" };
	if (c->reload_all) {
		if (fleet_load(&c->fleet, c->store, &err) < 0)
			console_flash(c, AGENT_ERROR, "cannot reload the devices: %s", err.msg);
		c->reload_all = false;
		c->n_pending = 0;
		c->detail_dirty = true;
		return;
	}
	for (size_t i = 0; i < c->n_pending; i++) {
		if (fleet_reload(&c->fleet, c->store, c->pending_ids[i], &err) < 0)
			console_log(c, AGENT_ERROR, "cannot reload device %lld: %s", (long long)c->pending_ids[i], err.msg);
		if (c->pending_ids[i] == c->detail_id)
			c->detail_dirty = true;
	}
	c->n_pending = 0;
}

static struct job_track *track_of(struct console *c, int64_t job)
{
	struct job_track *all[] = { &c->poll, &c->discover, &c->upload, &c->preview, &c->exporting };
	for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
		if (all[i]->id == job && job)
			return all[i];
	return NULL;
}

static void job_done(struct console *c, const struct fc_msg *m)
{
	int kind = (int)m->b;
	int status = (int)m->a;
	const char *text = m->text ? m->text : "";
	struct job_track *t = track_of(c, m->id);
	if (t) {
		t->running = false;
		t->status = status;
		t->finished_at = clock_now();
		snprintf(t->result, sizeof t->result, "%s", text);
	}
	if (kind == AGENT_CMD_POLL && c->polls_running)
		c->polls_running--;
	if (c->schedules && agenda_job_done(&c->agenda, m->id) && kind == AGENT_CMD_POLL) {
		console_log(c, status == AGENT_JOB_OK ? AGENT_INFO : AGENT_WARN, "scheduled poll: %s", text);
		return;
	}
	dialog_job_done(c, m->id, status, text);
	if (m->id == c->site_job)
		c->site_job = 0;
	int level = status == AGENT_JOB_FAILED ? AGENT_ERROR : status == AGENT_JOB_CANCELLED ? AGENT_WARN : AGENT_INFO;
	switch (kind) {
	case AGENT_CMD_UPLOAD:
		c->sync_dirty = true;
		console_flash(c, level, "upload: %s", text);
		break;
	case AGENT_CMD_DISCOVER:
		c->disc_dirty = true;
		console_flash(c, level, "%s: %s", m->id == c->discover.id && c->discover.total < 0 ? "dry run" : "discovery",
			      text);
		break;
	case AGENT_CMD_POLL:
	case AGENT_CMD_INCLUDE:
	case AGENT_CMD_RANGE_ADD:
	case AGENT_CMD_RANGE_EDIT:
	case AGENT_CMD_RANGE_REMOVE:
		if (kind != AGENT_CMD_POLL || status != AGENT_JOB_OK || c->screen == SCR_DEVICE)
			console_flash(c, level, "%s", text);
		else
			console_log(c, level, "%s", text);
		if (kind >= AGENT_CMD_RANGE_ADD)
			c->disc_dirty = true;
		break;
	case AGENT_CMD_EXPORT:
	case AGENT_CMD_PREVIEW:
	case AGENT_CMD_SITEFACTS:
		if (status != AGENT_JOB_OK)
			console_flash(c, level, "%s", text);
		else
			console_log(c, level, "%s: %s", agent_cmd_name(kind), text);
		break;
	default:
		console_log(c, level, "%s: %s", agent_cmd_name(kind), text);
	}
}

static void handle_event(struct console *c, struct fc_msg *m)
{
	struct job_track *t;
	switch (m->kind) {
	case AGENT_EV_JOB_STARTED:
		if ((t = track_of(c, m->id))) {
			t->running = true;
			t->started_ms = clock_mono_ms();
		}
		break;
	case AGENT_EV_PROGRESS:
		if ((t = track_of(c, m->id))) {
			t->running = true;
			t->done = m->a;
			if (t->total >= 0)
				t->total = m->b;
			snprintf(t->text, sizeof t->text, "%s", m->text ? m->text : "");
		}
		if (m->id == c->upload.id)
			c->sync_dirty = true;
		break;
	case AGENT_EV_JOB_DONE:
		job_done(c, m);
		break;
	case AGENT_EV_RESULT:
		if (m->b == AGENT_CMD_PREVIEW && m->id == c->preview.id) {
			dialog_open_view(c, "Report preview: exactly what the next sync sends", m->text ? m->text : "");
		} else if (m->b == AGENT_CMD_SITEFACTS) {
			free(c->site_text);
			c->site_text = m->text;
			m->text = NULL;
			tv_clear(&c->site); /* rebuilt from the new text */
		} else if (m->b == AGENT_CMD_DISCOVER) {
			snprintf(c->dry_run, sizeof c->dry_run, "%s", m->text ? m->text : "");
			c->disc_dirty = true;
		}
		break;
	case AGENT_EV_DEVICE_CHANGED:
		pending_add(c, m->id);
		break;
	case AGENT_EV_RANGES_CHANGED:
		c->disc_dirty = true;
		break;
	case AGENT_EV_SYNC_FINISHED:
		c->sync_dirty = true;
		break;
	case AGENT_EV_LOG:
		log_add(c, (int)m->a, m->text ? m->text : "");
		break;
	case AGENT_EV_FLASH:
		console_flash(c, (int)m->a, "%s", m->text ? m->text : "");
		break;
	default:
		break;
	}
}

static void drain_events(struct console *c)
{
	if (!c->link || c->link_gone)
		return;
	for (;;) {
		struct fc_msg *m = NULL;
		int rc = link_pop(c->link, &m, 0);
		if (rc == FC_QUEUE_CLOSED && link_mode(c->link) == LINK_SERVICE) {
			c->link_gone = true;
			snprintf(c->mode, sizeof c->mode, "service GONE");
			console_flash(c, AGENT_ERROR, "the service stopped (%s): nothing can be sent; the screens show the "
				      "database as it is (restart the console to host the agent here)", link_gone_reason(c->link));
		}
		if (rc != 0)
			break;
		handle_event(c, m);
		fc_msg_free(&m);
	}
}

/* The sync status the header and the scheduler need (the Sync screen reads the rest itself). */
static void read_sync_summary(struct console *c)
{
	struct sync_status st;
	struct fc_error err = { "" };
	if (sync_status_read(c->store, c->cfg, clock_now(), &st, &err) < 0) {
		console_log(c, AGENT_WARN, "sync status: %s", err.msg);
		return;
	}
	c->uplink_configured = st.configured;
	c->next_sync = st.next_sync > 0 ? st.next_sync : 0;
	c->last_success = st.last_success;
	c->last_sync_failed = st.last_failed;
	sync_status_clear(&st);
}

/* ---- drawing the frame ---- */

static void draw_header(struct console *c)
{
	struct rect r = c->frame.header;
	const struct fleet_counts *n = &c->fleet.counts;
	char seg[7][CONFIG_STR_MAX + 64];
	char t1[32], t2[32];
	snprintf(seg[0], sizeof seg[0], " fleetcon %s", c->cfg->site.name);
	snprintf(seg[1], sizeof seg[1], "%zu devices, %zu excluded", n->discovered, n->excluded);
	snprintf(seg[2], sizeof seg[2], "%zu error, %zu warning, %zu unreachable, %zu low", n->errors, n->warnings,
		 n->unreachable, n->low);
	if (c->discover.running)
		snprintf(seg[3], sizeof seg[3], "collector discovering");
	else if (c->polls_running)
		snprintf(seg[3], sizeof seg[3], "collector polling");
	else
		snprintf(seg[3], sizeof seg[3], "collector %s", c->link && !c->link_gone ? "idle" : "STOPPED");
	if (c->upload.running)
		snprintf(seg[4], sizeof seg[4], "uplink sending");
	else if (!c->uplink_configured)
		snprintf(seg[4], sizeof seg[4], "uplink not configured");
	else if (c->last_sync_failed)
		snprintf(seg[4], sizeof seg[4], "uplink FAILED");
	else if (!c->last_success)
		snprintf(seg[4], sizeof seg[4], "uplink: no sync yet");
	else
		snprintf(seg[4], sizeof seg[4], "uplink ok %s", fmt_ago_short(c->last_success, c->now, t1, sizeof t1));
	if (c->uplink_configured)
		snprintf(seg[5], sizeof seg[5], "next sync %s", fmt_countdown(c->next_sync, c->now, t2, sizeof t2));
	else
		seg[5][0] = '\0';
	snprintf(seg[6], sizeof seg[6], "%s", c->mode);
	/* what fits, most important first; the separators are ASCII so any terminal shows them */
	/* the fault counts go first when short: the Alerts tab counts them too */
	static const int order[] = { 0, 1, 3, 6, 4, 5, 2 };
	bool show[7] = { false };
	int used = 0;
	for (size_t i = 0; i < 7; i++) {
		if (!seg[order[i]][0])
			continue;
		int w = fmt_width(seg[order[i]], c->utf8) + (i ? 3 : 0);
		if (used + w <= r.w) {
			show[order[i]] = true;
			used += w;
		}
	}
	char line[sizeof seg + 32] = "";
	for (int i = 0; i < 7; i++) {
		if (!show[i])
			continue;
		size_t at = strlen(line);
		snprintf(line + at, sizeof line - at, "%s%s", at ? " | " : "", seg[i]);
	}
	draw_text(c, r.y, r.x, r.w, RL_HEADER, true, line);
}

static void draw_tabs(struct console *c)
{
	struct rect r = c->frame.tabs;
	draw_text(c, r.y, r.x, r.w, RL_TAB, true, "");
	int x = r.x + 1;
	for (int i = 0; i < SCR_COUNT; i++) {
		const struct key_binding *b = keys_binding(screens[i].key);
		char label[64];
		char key[8];
		snprintf(key, sizeof key, "%.1s", b ? b->label : "");
		if (i == SCR_ALERTS && c->fleet.counts.problems)
			snprintf(label, sizeof label, "%s %s(%zu)", key, screens[i].title, c->fleet.counts.problems);
		else
			snprintf(label, sizeof label, "%s %s", key, screens[i].title);
		int w = fmt_width(label, c->utf8) + 2;
		if (x + w > r.x + r.w)
			break;
		bool active = (int)c->screen == i;
		draw_fmt(c, r.y, x, w, active ? RL_TAB_ACTIVE : RL_TAB, active ? "[%s]" : " %s ", label);
		x += w + 1;
	}
}

static void draw_status(struct console *c)
{
	struct rect r = c->frame.status;
	int64_t now_ms = clock_mono_ms();
	if (c->filtering) {
		char line[600];
		snprintf(line, sizeof line, "Filter: %s", c->fleet.filter);
		draw_text(c, r.y, r.x, r.w, RL_NORMAL, true, line);
		char count[64];
		snprintf(count, sizeof count, "  %zu of %zu", c->fleet.n_view, c->fleet.n);
		if (fmt_width(line, c->utf8) + (int)strlen(count) + 2 < r.w)
			draw_text(c, r.y, r.x + r.w - (int)strlen(count) - 1, (int)strlen(count), RL_DIM, false, count);
		c->cursor_y = r.y;
		c->cursor_x = r.x + fmt_width(line, c->utf8);
		c->cursor_visible = true;
		return;
	}
	if (c->flash[0] && now_ms < c->flash_until_ms) {
		draw_text(c, r.y, r.x, r.w, c->flash_level == AGENT_ERROR ? RL_FLASH_ERR : RL_FLASH_INFO, true, c->flash);
		return;
	}
	char line[600] = "";
	int right = c->position[0] ? (int)strlen(c->position) + 1 : 0;
	if (right && right < r.w / 3)
		draw_text(c, r.y, r.x + r.w - right, right, RL_DIM, true, c->position);
	else
		right = 0;
	r.w -= right;
	if (c->discover.running)
		snprintf(line, sizeof line, "Discovery: %s", c->discover.text[0] ? c->discover.text : "starting");
	else if (c->upload.running)
		snprintf(line, sizeof line, "Upload: %s", c->upload.text[0] ? c->upload.text : "starting");
	else if (c->polls_running)
		snprintf(line, sizeof line, "Polling: %s", c->poll.text[0] ? c->poll.text : "waiting for answers");
	else if (c->fleet.filter[0] && c->screen == SCR_DEVICES)
		snprintf(line, sizeof line, "Filter: %s  (%zu of %zu; Esc clears)", c->fleet.filter, c->fleet.n_view,
			 c->fleet.n);
	draw_text(c, r.y, r.x, r.w, RL_DIM, true, line);
}

static unsigned current_context(const struct console *c)
{
	if (c->dialog.kind == DLG_VIEW)
		return KC_VIEW;
	if (c->dialog.kind != DLG_NONE || c->filtering)
		return KC_EDIT;
	return screens[c->screen].context;
}

static void draw_hints(struct console *c)
{
	struct rect r = c->frame.hints;
	draw_text(c, r.y, r.x, r.w, RL_HINT, true, "");
	const struct key_binding *items[32];
	size_t n = keys_hints(current_context(c), c->readonly, items, 32);
	int x = r.x;
	if (c->readonly)
		x += draw_text(c, r.y, x, r.w, RL_FLASH_ERR, false, "READ-ONLY") + 1;
	/* when they do not all fit, the screen's own keys give way before help and quit (the table
	 * lists those last) */
	bool keep[32];
	int need = 0;
	for (size_t i = 0; i < n; i++) {
		keep[i] = true;
		need += fmt_width(items[i]->hint_key, c->utf8) + 1 + fmt_width(items[i]->hint, c->utf8) + 2;
	}
	for (size_t i = n >= 2 ? n - 2 : 0; need > r.x + r.w - x && i-- > 0;) {
		keep[i] = false;
		need -= fmt_width(items[i]->hint_key, c->utf8) + 1 + fmt_width(items[i]->hint, c->utf8) + 2;
	}
	for (size_t i = 0; i < n; i++) {
		if (!keep[i])
			continue;
		int kw = fmt_width(items[i]->hint_key, c->utf8), hw = fmt_width(items[i]->hint, c->utf8);
		if (x + kw + 1 + hw > r.x + r.w)
			break;
		x += draw_text(c, r.y, x, kw, RL_KEY, false, items[i]->hint_key);
		x += 1;
		x += draw_text(c, r.y, x, hw, RL_HINT, false, items[i]->hint) + 2;
	}
}

static void draw_too_small(struct console *c)
{
	erase();
	const char *l1 = "terminal too small";
	char l2[96];
	snprintf(l2, sizeof l2, "%dx%d, needs %dx%d", c->cols, c->rows, LAYOUT_MIN_COLS, LAYOUT_MIN_ROWS);
	const char *l3 = "q quits";
	int y = c->rows / 2 - 1;
	const char *lines[] = { l1, l2, l3 };
	for (int i = 0; i < 3; i++) {
		int w = (int)strlen(lines[i]);
		int x = c->cols > w ? (c->cols - w) / 2 : 0;
		draw_text(c, y + i, x, c->cols, i == 0 ? RL_CRIT : RL_NORMAL, false, lines[i]);
	}
}

static void draw_all(struct console *c)
{
	getmaxyx(stdscr, c->rows, c->cols);
	c->frame = layout_frame(c->rows, c->cols);
	if (c->need_clear) {
		clearok(stdscr, TRUE);
		c->need_clear = false;
	}
	c->cursor_y = 0;
	c->cursor_x = 0;
	c->cursor_visible = false;
	c->position[0] = '\0';
	if (c->frame.too_small) {
		draw_too_small(c);
		refresh();
		return;
	}
	fleet_refresh(&c->fleet);
	draw_header(c);
	draw_tabs(c);
	struct rect body = c->frame.body;
	switch (c->screen) {
	case SCR_DEVICES:
		devices_draw(c, body);
		break;
	case SCR_DEVICE:
		device_draw(c, body);
		break;
	case SCR_ALERTS:
		alerts_draw(c, body);
		break;
	case SCR_SYNC:
		sync_draw(c, body);
		break;
	case SCR_DISCOVERY:
		discovery_draw(c, body);
		break;
	case SCR_SITE:
		site_draw(c, body);
		break;
	case SCR_LOG:
		log_draw(c, body);
		break;
	case SCR_HELP:
	case SCR_COUNT:
		help_draw(c, body);
		break;
	}
	int cy = c->cursor_y, cx = c->cursor_x;
	bool cv = c->cursor_visible;
	draw_status(c);
	if (c->filtering) {
		cy = c->cursor_y;
		cx = c->cursor_x;
		cv = true;
	}
	draw_hints(c);
	if (c->dialog.kind != DLG_NONE) {
		c->cursor_y = cy;
		c->cursor_x = cx;
		c->cursor_visible = false;
		dialog_draw(c);
		cy = c->cursor_y;
		cx = c->cursor_x;
		cv = c->cursor_visible;
	}
	curs_set(cv ? 1 : 0);
	/* the hardware cursor rests on the selected row, for screen readers */
	move(cy, cx);
	refresh();
}

/* ---- keys ---- */

static void filter_key(struct console *c, int key, int wch)
{
	enum key_action a = keys_lookup(KC_EDIT, key, false, NULL);
	char f[sizeof c->fleet.filter];
	snprintf(f, sizeof f, "%s", c->fleet.filter);
	size_t len = strlen(f);
	switch (a) {
	case KA_EDIT_ACCEPT:
		c->filtering = false;
		return;
	case KA_EDIT_CANCEL:
		c->filtering = false;
		fleet_filter(&c->fleet, "");
		return;
	case KA_EDIT_ERASE:
		/* back over one whole UTF-8 character */
		while (len > 0 && ((unsigned char)f[len - 1] & 0xC0) == 0x80)
			len--;
		if (len > 0)
			len--;
		f[len] = '\0';
		break;
	case KA_EDIT_CLEAR:
		f[0] = '\0';
		break;
	default:
		if (wch >= 0x20 && wch != 0x7F) {
			char mb[8];
			mbstate_t st;
			memset(&st, 0, sizeof st);
			size_t n = wcrtomb(mb, (wchar_t)wch, &st);
			if (n != (size_t)-1 && len + n + 1 < sizeof f) {
				memcpy(f + len, mb, n);
				f[len + n] = '\0';
			}
		}
		break;
	}
	fleet_filter(&c->fleet, f);
	c->dev_sel = 0;
	c->dev_top = 0;
	c->dev_sel_id = 0;
}

static void handle_key(struct console *c, int key, int wch)
{
	/* keys typed ahead act on what the screen will show, not on the last frame: a filter typed
	 * and Enter pressed in one burst opens the device the filter found */
	fleet_refresh(&c->fleet);
	if (c->dialog.kind != DLG_NONE) {
		dialog_key(c, key, wch);
		return;
	}
	if (c->filtering) {
		filter_key(c, key, wch);
		return;
	}
	if (c->frame.too_small) {
		if (key == 'q' || key == KEY_F(10))
			c->quit = true;
		return;
	}
	bool refused = false;
	unsigned ctx = screens[c->screen].context;
	enum key_action a = keys_lookup(ctx, key, c->readonly, &refused);
	if (refused) {
		console_flash(c, AGENT_WARN, "read-only console (--readonly): changes are not available here");
		return;
	}
	for (int i = 0; i < SCR_COUNT; i++) {
		if (screens[i].key == a) {
			if (i == SCR_SITE && c->screen == SCR_SITE && !c->site_job) {
				/* the Site key on the Site screen collects the facts again */
				c->site_job = console_submit(c, AGENT_CMD_SITEFACTS, 0, 0, 0, NULL);
				return;
			}
			if (a == KA_SCREEN_DEVICE) {
				const struct fleet_row *row = fleet_at(&c->fleet, c->dev_sel);
				if (c->screen == SCR_DEVICES && row)
					console_open_device(c, row->id);
				else if (c->detail_id)
					console_show(c, SCR_DEVICE);
				else
					console_flash(c, AGENT_INFO, "no device selected: choose one on the Devices screen (1) and press Enter");
				return;
			}
			console_show(c, (enum screen_id)i);
			return;
		}
	}
	struct rect body = c->frame.body;
	switch (a) {
	case KA_QUIT:
		c->quit = true;
		return;
	case KA_NEXT_SCREEN:
	case KA_PREV_SCREEN: {
		int s = (int)c->screen;
		do
			s = (s + (a == KA_NEXT_SCREEN ? 1 : SCR_COUNT - 1)) % SCR_COUNT;
		while (s == SCR_DEVICE && !c->detail_id);
		console_show(c, (enum screen_id)s);
		return;
	}
	case KA_BACK:
		if (c->screen == SCR_DEVICES && c->fleet.filter[0]) {
			fleet_filter(&c->fleet, "");
			return;
		}
		go_back(c);
		return;
	case KA_REDRAW:
		c->need_clear = true;
		return;
	case KA_EXPORT:
		dialog_open_export(c);
		return;
	default:
		break;
	}
	bool used = false;
	switch (c->screen) {
	case SCR_DEVICES:
		used = devices_key(c, a, key, wch);
		break;
	case SCR_DEVICE:
		used = device_key(c, a);
		break;
	case SCR_ALERTS:
		used = alerts_key(c, a, body);
		break;
	case SCR_SYNC:
		used = sync_key(c, a, body);
		break;
	case SCR_DISCOVERY:
		used = discovery_key(c, a, body);
		break;
	case SCR_SITE:
		used = site_key(c, a, body);
		break;
	case SCR_LOG:
		used = log_key(c, a, body);
		break;
	default:
		used = help_key(c, a, body);
		break;
	}
	if (!used && a == KA_NONE && key > 0 && key < 0x7F && key != KEYS_ESC)
		console_flash(c, AGENT_INFO, "the key '%c' does nothing here; ? shows the keys", key);
}

static void handle_mouse(struct console *c)
{
	MEVENT ev;
	if (getmouse(&ev) != OK || c->frame.too_small || c->dialog.kind != DLG_NONE)
		return;
	if (ev.bstate & (BUTTON4_PRESSED | BUTTON5_PRESSED)) {
		enum key_action a = ev.bstate & BUTTON4_PRESSED ? KA_UP : KA_DOWN;
		for (int i = 0; i < 3; i++)
			handle_key(c, a == KA_UP ? KEY_UP : KEY_DOWN, 0);
		return;
	}
	if (ev.y == c->frame.tabs.y) {
		/* the tab under the pointer: the same widths draw_tabs uses */
		int x = c->frame.tabs.x + 1;
		for (int i = 0; i < SCR_COUNT; i++) {
			char label[64];
			snprintf(label, sizeof label, "%s", screens[i].title);
			int w = fmt_width(label, c->utf8) + 4 +
				(i == SCR_ALERTS && c->fleet.counts.problems ? snprintf(NULL, 0, "(%zu)", c->fleet.counts.problems) : 0);
			if (ev.x >= x && ev.x < x + w) {
				if (i == SCR_DEVICE && !c->detail_id)
					return;
				console_show(c, (enum screen_id)i);
				return;
			}
			x += w + 1;
		}
		return;
	}
	if (c->screen == SCR_DEVICES && ev.y >= c->frame.body.y && ev.y < c->frame.body.y + c->frame.body.h)
		devices_mouse(c, ev.y, ev.x, (ev.bstate & BUTTON1_DOUBLE_CLICKED) != 0);
}

/* Escape sequences of keys that the terminal sends but its terminfo entry does not describe
 * (a TERM that does not match the emulator, tmux's VT220 keys): recognised here rather than read
 * as Esc followed by letters, which would switch screens. */
static const struct {
	const char *seq; /* after the ESC */
	int key;
} extra_keys[] = {
	{ "[A", KEY_UP },     { "[B", KEY_DOWN },    { "[C", KEY_RIGHT },  { "[D", KEY_LEFT },
	{ "OA", KEY_UP },     { "OB", KEY_DOWN },    { "OC", KEY_RIGHT },  { "OD", KEY_LEFT },
	{ "[H", KEY_HOME },   { "[F", KEY_END },     { "OH", KEY_HOME },   { "OF", KEY_END },
	{ "[1~", KEY_HOME },  { "[4~", KEY_END },    { "[7~", KEY_HOME },  { "[8~", KEY_END },
	{ "[2~", KEY_IC },    { "[3~", KEY_DC },     { "[5~", KEY_PPAGE }, { "[6~", KEY_NPAGE },
	{ "[Z", KEY_BTAB },   { "OP", KEY_F(1) },    { "OQ", KEY_F(2) },   { "OR", KEY_F(3) },
	{ "OS", KEY_F(4) },   { "[11~", KEY_F(1) },  { "[12~", KEY_F(2) }, { "[13~", KEY_F(3) },
	{ "[14~", KEY_F(4) }, { "[15~", KEY_F(5) },  { "[17~", KEY_F(6) }, { "[18~", KEY_F(7) },
	{ "[19~", KEY_F(8) }, { "[20~", KEY_F(9) },  { "[21~", KEY_F(10) },
};

/* After an ESC that curses returned alone: when the rest of a sequence is already waiting, reads
 * it and returns the key it stands for, or -1 for an unknown sequence (dropped whole); 0 when the
 * ESC was a real Esc key. */
static int read_escape_sequence(void)
{
	wint_t wch;
	int rc = get_wch(&wch);
	if (rc == ERR)
		return 0;
	if (rc != OK || (wch != '[' && wch != 'O')) {
		unget_wch((wchar_t)wch);
		return 0;
	}
	char seq[16];
	size_t n = 0;
	seq[n++] = (char)wch;
	/* CSI: parameters and intermediates, then one final byte; SS3: one byte */
	while (n < sizeof seq - 1 && get_wch(&wch) == OK) {
		seq[n++] = (char)wch;
		if (seq[0] == 'O' || (wch >= 0x40 && wch <= 0x7E))
			break;
	}
	seq[n] = '\0';
	for (size_t i = 0; i < sizeof extra_keys / sizeof extra_keys[0]; i++)
		if (!strcmp(seq, extra_keys[i].seq))
			return extra_keys[i].key;
	return -1;
}

/* Reads every key waiting (until ERR). Returns true when any came. */
static bool drain_keys(struct console *c)
{
	bool any = false;
	for (int guard = 0; guard < 4096 && !c->quit; guard++) {
		wint_t wch;
		int rc = get_wch(&wch);
		if (rc == ERR)
			break;
		any = true;
		if (rc == KEY_CODE_YES) {
			if (wch == KEY_RESIZE) {
				c->need_clear = true;
				continue;
			}
			if (wch == KEY_MOUSE) {
				handle_mouse(c);
				continue;
			}
			handle_key(c, (int)wch, 0);
		} else {
			int key = wch < 0x80 ? (int)wch : 0;
			if (key == KEYS_ESC) {
				int k = read_escape_sequence();
				if (k < 0)
					continue;
				if (k > 0)
					key = k;
			}
			handle_key(c, key, key == (int)wch ? (int)wch : 0);
		}
	}
	return any;
}

/* ---- the agent's schedule (service/agenda.h: the same as the service's) ---- */

static int64_t agenda_submit(void *arg, int kind, int64_t a, const char *what)
{
	struct console *c = arg;
	int64_t job = console_submit(c, kind, 0, a, 0, NULL);
	if (!job)
		return 0;
	struct job_track t = { .id = job, .running = true, .started_ms = clock_mono_ms() };
	if (kind == AGENT_CMD_POLL) {
		c->polls_running++;
		c->poll = t;
	} else if (kind == AGENT_CMD_UPLOAD) {
		c->upload = t;
	} else if (kind == AGENT_CMD_DISCOVER) {
		c->discover = t;
	}
	console_log(c, AGENT_INFO, "%s", what);
	return job;
}

static void agenda_note(void *arg, const char *line)
{
	console_log(arg, AGENT_INFO, "%s", line);
}

static void schedule_init(struct console *c)
{
	if (!c->schedules)
		return;
	struct fc_error err = { "" };
	if (agenda_init(&c->agenda, c->store, c->cfg, c->readonly, clock_now(), &err) < 0)
		console_log(c, AGENT_WARN, "schedule: %s", err.msg);
}

static void schedule_run(struct console *c)
{
	if (!c->schedules || !c->link)
		return;
	unsigned busy = (c->upload.running ? AGENDA_BUSY_UPLOAD : 0) | (c->discover.running ? AGENDA_BUSY_DISCOVER : 0);
	agenda_run(&c->agenda, c->store, c->cfg, c->now, busy, agenda_submit, c, agenda_note);
}

/* ---- the loop ---- */

static int run(struct console *c)
{
	read_sync_summary(c);
	schedule_init(c);
	c->need_clear = true;
	/* A key is answered at once; a stream of worker events (a poll of 20,000 devices) redraws at
	 * most every FRAME_MS, so the console keeps up with the keyboard whatever the workers do. */
	bool urgent = true;
	int64_t last_draw = 0;
	while (!c->quit) {
		c->now = clock_now();
		if (c->n_pending || c->reload_all)
			apply_pending(c);
		if (c->sync_dirty && c->screen != SCR_SYNC) {
			read_sync_summary(c);
			c->sync_dirty = false;
		}
		schedule_run(c);
		int64_t ms = clock_mono_ms();
		bool drawn = false;
		if (urgent || ms - last_draw >= FRAME_MS) {
			draw_all(c);
			last_draw = ms;
			urgent = false;
			drawn = true;
		}

		struct pollfd pfd[3] = {
			{ .fd = STDIN_FILENO, .events = POLLIN },
			{ .fd = c->link && !c->link_gone ? link_wakeup_fd(c->link) : -1, .events = POLLIN },
			{ .fd = term_signal_fd(), .events = POLLIN },
		};
		/* wake at the next whole second for the clock and the countdown, sooner for a flash or a
		 * frame that waits */
		ms = clock_mono_ms();
		int timeout = 1000 - (int)(ms % 1000);
		if (c->flash[0] && c->flash_until_ms > ms && c->flash_until_ms - ms < timeout)
			timeout = (int)(c->flash_until_ms - ms) + 1;
		if (!drawn) {
			int wait = (int)(FRAME_MS - (ms - last_draw));
			if (wait < timeout)
				timeout = wait > 0 ? wait : 0;
			/* the events can wait for the frame: only keys and signals wake us before it */
			pfd[1].fd = -1;
		}
		int n = poll(pfd, 3, timeout);
		if (n < 0 && errno != EINTR) {
			console_log(c, AGENT_ERROR, "poll: %s", strerror(errno));
			return -1;
		}
		if (n == 0)
			urgent = true; /* the clock, a flash ending, or the frame that waited */
		if (pfd[2].revents & POLLIN) {
			int sig = term_signals();
			if (sig & TERM_SIG_QUIT)
				c->quit = true;
			if (sig & TERM_SIG_SUSPEND)
				term_suspend();
			if (sig & TERM_SIG_RESIZE)
				term_resize();
			if (sig & (TERM_SIG_REPAINT | TERM_SIG_SUSPEND | TERM_SIG_RESIZE))
				c->need_clear = true;
			urgent = true;
		}
		if (drain_keys(c))
			urgent = true;
		drain_events(c);
		if (pfd[0].revents & (POLLHUP | POLLERR | POLLNVAL))
			c->quit = true; /* the terminal went away (SSH dropped) */
	}
	return 0;
}

static void console_free(struct console *c)
{
	fleet_clear(&c->fleet);
	for (size_t i = 0; i < c->log_n; i++)
		free(c->log[(c->log_start + i) % CONSOLE_LOG_MAX].text);
	struct textview *tvs[] = { &c->detail, &c->alerts, &c->sync, &c->disc, &c->site, &c->logview, &c->help,
				   &c->dialog.view };
	for (size_t i = 0; i < sizeof tvs / sizeof tvs[0]; i++) {
		tv_clear(tvs[i]);
		free(tvs[i]->lines);
	}
	free(c->site_text);
	free(c->pending_ids);
	if (c->sync_loaded)
		sync_status_clear(&c->sync_st);
	outbox_array_free(&c->outbox, c->n_outbox);
}

static void usage(FILE *out)
{
	fprintf(out, "usage: fleetcon [--config FILE] [--db FILE] [console] [--ascii] [--no-color] [--no-mouse] [--readonly]\n"
		     "  --ascii     ASCII line drawing and text only\n"
		     "  --no-color  attributes only (also when NO_COLOR is set)\n"
		     "  --no-mouse  leave the mouse to the terminal\n"
		     "  --readonly  technician mode: no upload, export, include/exclude or discovery changes\n");
}

int console_main(struct fc_context *ctx, int argc, char **argv)
{
	static const struct option options[] = {
		{ "ascii", no_argument, NULL, 'a' },     { "no-color", no_argument, NULL, 'C' },
		{ "no-colour", no_argument, NULL, 'C' }, { "no-mouse", no_argument, NULL, 'M' },
		{ "readonly", no_argument, NULL, 'r' },  { "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct term_options to = { 0 };
	bool readonly = false;
	int opt;
	optind = 0; /* glibc: start over, argv[0] is the command */
	opterr = 0; /* our own message names the program */
	while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (opt) {
		case 'a':
			to.ascii = true;
			break;
		case 'C':
			to.no_color = true;
			break;
		case 'M':
			to.no_mouse = true;
			break;
		case 'r':
			readonly = true;
			break;
		case 'h':
			usage(ctx->out);
			return EXIT_OK;
		default:
			fprintf(ctx->err, "%s: console: unknown option \"%s\"\n", ctx->argv0, argv[optind - 1]);
			usage(ctx->err);
			return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(ctx->err, "%s: the console takes no arguments (\"%s\")\n", ctx->argv0, argv[optind]);
		usage(ctx->err);
		return EXIT_USAGE;
	}
	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
		fprintf(ctx->err, "%s: the console needs a terminal; use a command instead (%s --help)\n", ctx->argv0,
			ctx->argv0);
		return EXIT_USAGE;
	}

	struct console *c = calloc(1, sizeof *c);
	if (!c) {
		fprintf(ctx->err, "%s: out of memory\n", ctx->argv0);
		return EXIT_FAILED;
	}
	c->cfg = ctx->cfg;
	c->readonly = readonly;
	c->no_color = to.no_color;
	c->no_mouse = to.no_mouse;
	c->log_follow = true;
	c->log_dirty = true;
	c->screen = SCR_DEVICES;
	fleet_init(&c->fleet, ctx->cfg->alerts.supply_low);
	if (context_open_store(ctx, 0, &c->store) < 0) {
		console_free(c);
		free(c);
		return EXIT_FAILED;
	}

	/* the service's agent when one runs on this database, else one of our own */
	struct fc_error err = { "" };
	struct actions_config *acfg = actions_config_new(ctx->cfg, &err);
	struct link_options lo = { .db_path = store_path(c->store), .ac = acfg, .take_lock = true };
	if (!acfg || link_open(&lo, &c->link, &err) < 0)
		console_log(c, AGENT_ERROR, "the workers could not start: %s", err.msg);
	if (c->link && link_mode(c->link) == LINK_SERVICE) {
		snprintf(c->mode, sizeof c->mode, "service pid %ld", (long)link_service_pid(c->link));
	} else if (c->link) {
		c->schedules = link_holds_lock(c->link);
		if (c->schedules)
			snprintf(c->mode, sizeof c->mode, "local agent");
		else
			snprintf(c->mode, sizeof c->mode, "local agent (pid %ld schedules)", (long)link_lock_holder(c->link));
	}

	int rc = EXIT_OK;
	if (term_start(c, &to, &err) < 0) {
		fprintf(ctx->err, "%s: %s\n", ctx->argv0, err.msg);
		rc = EXIT_FAILED;
		goto out;
	}
	/* a first frame while the fleet loads, so a big database never looks like a hang */
	erase();
	mvaddstr(0, 0, "fleetcon: loading the devices...");
	refresh();
	if (fleet_load(&c->fleet, c->store, &err) < 0)
		console_flash(c, AGENT_ERROR, "cannot load the devices: %s", err.msg);
	if (!c->link)
		console_flash(c, AGENT_ERROR, "the workers could not start, so nothing can be polled or sent (Log screen says why)");
	else
		console_log(c, AGENT_INFO, "console started on %s: %s", store_path(c->store), c->mode);
	if (run(c) < 0)
		rc = EXIT_FAILED;
	term_stop();
out:
	/* a local agent stops with the console; a service goes on */
	if (link_close(&c->link, 5000, &err) < 0)
		/* a worker stuck in a library call: its thread still uses the agent and the
		 * configuration, so neither is freed; the process is about to exit anyway */
		fprintf(ctx->err, "%s: %s\n", ctx->argv0, err.msg);
	else
		actions_config_free(&acfg);
	store_close(&c->store);
	console_free(c);
	free(c);
	return rc;
}
