/* The fleet's screens: Devices (the sortable, filterable table over the in-memory fleet, drawing
 * only the rows on screen), Device (everything the store knows about one device, read when it is
 * opened or changes) and Alerts (every problem of the managed devices, worst first). */
#include <curses.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/clock.h"
#include "model/config.h"
#include "model/text.h"
#include "model/units.h"
#include "tui/format.h"
#include "tui/ui.h"

/* ---- Devices ---- */

static void cell_text(const struct console *c, const struct fleet_row *r, enum fleet_col col, char *out, size_t len)
{
	switch (col) {
	case FLEET_COL_STATUS:
		snprintf(out, len, "%s", r->included ? r->status : "excluded");
		break;
	case FLEET_COL_NAME:
		if (strcmp(r->name, r->address) != 0)
			snprintf(out, len, "%s (%s)", r->name, r->address);
		else
			snprintf(out, len, "%s", r->name);
		break;
	case FLEET_COL_MODEL:
		snprintf(out, len, "%s", r->model);
		break;
	case FLEET_COL_SERIAL:
		snprintf(out, len, "%s", r->serial);
		break;
	case FLEET_COL_TOTAL:
		fmt_meter(r->total, out, len);
		break;
	case FLEET_COL_BLACK:
		fmt_meter(r->black, out, len);
		break;
	case FLEET_COL_COLOR:
		fmt_meter(r->color, out, len);
		break;
	case FLEET_COL_SUPPLY:
		snprintf(out, len, "%s", r->lowest[0] ? r->lowest : "-");
		break;
	case FLEET_COL_ALERTS:
		snprintf(out, len, "%d", r->alerts);
		break;
	case FLEET_COL_POLLED:
		fmt_ago_short(r->last_poll, c->now, out, len);
		break;
	default:
		out[0] = '\0';
	}
}

static int cell_role(const struct fleet_row *r, enum fleet_col col)
{
	if (!r->included)
		return RL_DIM;
	switch (col) {
	case FLEET_COL_STATUS:
		return role_for_status(r->status);
	case FLEET_COL_SUPPLY:
		return r->lowest_sev == 0 ? RL_CRIT : r->lowest_sev == 1 ? RL_WARN : RL_NORMAL;
	case FLEET_COL_ALERTS:
		return r->alerts ? RL_WARN : RL_NORMAL;
	default:
		return RL_NORMAL;
	}
}

/* Keeps the selection on the same device when the view changes under it. */
static void devices_sync_selection(struct console *c, int visible)
{
	struct fleet *f = &c->fleet;
	if (c->dev_sel_id) {
		const struct fleet_row *at = fleet_at(f, c->dev_sel);
		if (!at || at->id != c->dev_sel_id) {
			size_t i = fleet_view_index(f, c->dev_sel_id);
			if (i != (size_t)-1)
				c->dev_sel = i;
		}
	}
	layout_scroll(f->n_view, visible, &c->dev_sel, &c->dev_top);
	const struct fleet_row *row = fleet_at(f, c->dev_sel);
	c->dev_sel_id = row ? row->id : 0;
}

void devices_draw(struct console *c, struct rect r)
{
	struct fleet *f = &c->fleet;
	int widths[FLEET_COL_COUNT];
	fleet_col_widths(r.w, widths);
	int visible = r.h - 1;
	devices_sync_selection(c, visible);

	/* titles, the sorted one with its direction */
	draw_text(c, r.y, r.x, r.w, RL_TITLE, true, "");
	int x = r.x;
	for (int col = 0; col < FLEET_COL_COUNT; col++) {
		if (!widths[col])
			continue;
		char title[64];
		const char *arrow = f->desc ? (c->utf8 ? "\xE2\x96\xBC" : "v") : (c->utf8 ? "\xE2\x96\xB2" : "^");
		if (f->sort == (enum fleet_col)col)
			snprintf(title, sizeof title, "%s%s", fleet_col_title(col), arrow);
		else
			snprintf(title, sizeof title, "%s", fleet_col_title(col));
		char cell[256];
		fmt_pad(title, widths[col], fleet_col_numeric(col), c->utf8, cell, sizeof cell);
		draw_text(c, r.y, x, widths[col], RL_TITLE, false, cell);
		x += widths[col] + 1;
	}

	if (f->n_view == 0) {
		draw_clear(c, (struct rect){ r.y + 1, r.x, r.h - 1, r.w }, RL_NORMAL);
		if (f->n == 0) {
			draw_text(c, r.y + 2, r.x + 2, r.w - 4, RL_NORMAL, false, "No devices yet.");
			draw_text(c, r.y + 3, r.x + 2, r.w - 4, RL_NORMAL, false,
				  c->readonly ? "Discovery is not available in read-only mode."
					      : "Press 5 for Discovery, n to add a range, g to run it.");
		} else {
			draw_fmt(c, r.y + 2, r.x + 2, r.w - 4, RL_NORMAL, "No device matches \"%s\" (Esc clears the filter).",
				 f->filter);
		}
		c->cursor_y = r.y + 1;
		c->cursor_x = r.x;
		return;
	}
	for (int i = 0; i < visible; i++) {
		int y = r.y + 1 + i;
		const struct fleet_row *row = fleet_at(f, c->dev_top + (size_t)i);
		if (!row) {
			draw_text(c, y, r.x, r.w, RL_NORMAL, true, "");
			continue;
		}
		bool sel = c->dev_top + (size_t)i == c->dev_sel;
		draw_text(c, y, r.x, r.w, sel ? RL_SELECTED : RL_NORMAL, true, "");
		x = r.x;
		for (int col = 0; col < FLEET_COL_COUNT; col++) {
			if (!widths[col])
				continue;
			char text[TEXT_MAX * 2 + 8], cell[TEXT_MAX * 2 + 64];
			cell_text(c, row, (enum fleet_col)col, text, sizeof text);
			fmt_pad(text, widths[col], fleet_col_numeric(col), c->utf8, cell, sizeof cell);
			int role = cell_role(row, (enum fleet_col)col);
			draw_text(c, y, x, widths[col], sel ? RL_SELECTED : role, false, cell);
			if (sel && role != RL_NORMAL) {
				attr_t ra = (attr_t)term_attr(c, (enum role)role);
				mvchgat(y, x, widths[col], (attr_t)term_attr(c, RL_SELECTED) | (ra & ~A_COLOR), (short)PAIR_NUMBER(ra),
					NULL);
			}
			x += widths[col] + 1;
		}
		if (sel) {
			c->cursor_y = y;
			c->cursor_x = r.x;
		}
	}
	char sorted[32] = "";
	if (!widths[f->sort])
		/* sorted by a column this width hides: say which */
		snprintf(sorted, sizeof sorted, "by %s%s ", fleet_col_title(f->sort), f->desc ? "v" : "^");
	if (f->n_view > (size_t)visible || sorted[0])
		snprintf(c->position, sizeof c->position, "%s%zu/%zu", sorted, c->dev_sel + 1, f->n_view);
}

/* The next visible column to the left or right of the sorted one. */
static enum fleet_col next_sort_col(const struct console *c, int dir)
{
	int widths[FLEET_COL_COUNT];
	fleet_col_widths(c->frame.body.w, widths);
	int col = (int)c->fleet.sort;
	for (int k = 0; k < FLEET_COL_COUNT; k++) {
		col = (col + dir + FLEET_COL_COUNT) % FLEET_COL_COUNT;
		if (widths[col])
			return (enum fleet_col)col;
	}
	return c->fleet.sort;
}

bool devices_key(struct console *c, enum key_action a, int key, int wch)
{
	(void)key;
	(void)wch;
	struct fleet *f = &c->fleet;
	size_t page = c->frame.body.h > 2 ? (size_t)(c->frame.body.h - 1) : 1;
	const struct fleet_row *row = fleet_at(f, c->dev_sel);
	switch (a) {
	case KA_UP:
		if (c->dev_sel)
			c->dev_sel--;
		break;
	case KA_DOWN:
		if (c->dev_sel + 1 < f->n_view)
			c->dev_sel++;
		break;
	case KA_PAGE_UP:
		c->dev_sel = c->dev_sel > page ? c->dev_sel - page : 0;
		break;
	case KA_PAGE_DOWN:
		c->dev_sel = c->dev_sel + page < f->n_view ? c->dev_sel + page : (f->n_view ? f->n_view - 1 : 0);
		break;
	case KA_HOME:
		c->dev_sel = 0;
		break;
	case KA_END:
		c->dev_sel = f->n_view ? f->n_view - 1 : 0;
		break;
	case KA_OPEN:
		if (row)
			console_open_device(c, row->id);
		return true;
	case KA_FILTER:
		c->filtering = true;
		return true;
	case KA_SORT_LEFT:
	case KA_SORT_RIGHT:
		fleet_sort(f, next_sort_col(c, a == KA_SORT_LEFT ? -1 : 1), false);
		return true;
	case KA_SORT_INVERT:
		fleet_sort(f, f->sort, !f->desc);
		return true;
	case KA_INCLUDE:
		if (row)
			console_submit(c, AGENT_CMD_INCLUDE, row->id, !row->included, 0, NULL);
		return true;
	case KA_POLL:
		if (row) {
			int64_t job = console_submit(c, AGENT_CMD_POLL, row->id, 0, 0, NULL);
			if (job) {
				c->poll = (struct job_track){ .id = job, .running = true };
				c->polls_running++;
				console_flash(c, AGENT_INFO, "polling %s ...", row->name);
			}
		}
		return true;
	default:
		return false;
	}
	const struct fleet_row *now = fleet_at(f, c->dev_sel);
	c->dev_sel_id = now ? now->id : 0;
	return true;
}

void devices_mouse(struct console *c, int y, int x, bool open)
{
	(void)x;
	struct rect r = c->frame.body;
	if (y <= r.y)
		return;
	size_t i = c->dev_top + (size_t)(y - r.y - 1);
	const struct fleet_row *row = fleet_at(&c->fleet, i);
	if (!row)
		return;
	c->dev_sel = i;
	c->dev_sel_id = row->id;
	if (open)
		console_open_device(c, row->id);
}

/* ---- Device ---- */

void device_invalidate(struct console *c)
{
	c->detail_dirty = true;
}

static void kv(struct textview *tv, int role, const char *label, const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void kv(struct textview *tv, int role, const char *label, const char *fmt, ...)
{
	char value[TEXT_MAX * 2];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(value, sizeof value, fmt, ap);
	va_end(ap);
	char *clean = text_clean(value);
	tv_add(tv, role, 0, "  %-18s %s", label, clean ? clean : "");
	free(clean);
}

static const char *unit_name(int unit)
{
	/* prtMarkerSuppliesSupplyUnit / prtMarkerCounterUnit values people meet */
	switch (unit) {
	case 3: return "1/10000 in";
	case 4: return "micrometers";
	case 7: return "impressions";
	case 8: return "sheets";
	case 11: return "hours";
	case 12: return "1/1000 oz";
	case 13: return "1/10 g";
	case 14: return "1/100 g";
	case 15: return "1/10 ml";
	case 16: return "feet";
	case 17: return "meters";
	case 18: return "items";
	case 19: return "percent";
	default: return "";
	}
}

/* The daily history comes oldest first, day by day across meters: keep the last days of each. */
#define HISTORY_DAYS 7
#define HISTORY_METERS 16

struct history_ctx {
	int n;
	struct {
		char name[48];
		char day[HISTORY_DAYS][11];
		int64_t value[HISTORY_DAYS];
		int count; /* days seen; the last HISTORY_DAYS are kept in a ring */
	} m[HISTORY_METERS];
};

static int on_history(void *arg, const char *name, const char *day, int64_t value)
{
	struct history_ctx *h = arg;
	int i = 0;
	while (i < h->n && strcmp(h->m[i].name, name) != 0)
		i++;
	if (i == h->n) {
		if (h->n == HISTORY_METERS)
			return 0;
		snprintf(h->m[h->n++].name, sizeof h->m[0].name, "%s", name);
	}
	int slot = h->m[i].count % HISTORY_DAYS;
	snprintf(h->m[i].day[slot], sizeof h->m[i].day[slot], "%s", day);
	h->m[i].value[slot] = value;
	h->m[i].count++;
	return 0;
}

static void history_lines(struct textview *tv, const struct history_ctx *h)
{
	for (int i = 0; i < h->n; i++) {
		char line[512] = "";
		int count = h->m[i].count < HISTORY_DAYS ? h->m[i].count : HISTORY_DAYS;
		for (int k = 0; k < count; k++) {
			int slot = (h->m[i].count - count + k) % HISTORY_DAYS;
			char v[32];
			fmt_count_short(h->m[i].value[slot], v, sizeof v);
			size_t at = strlen(line);
			/* "11-20 295k": month-day and the value */
			snprintf(line + at, sizeof line - at, "%s%.5s %s", at ? "  " : "", h->m[i].day[slot] + 5, v);
		}
		tv_add(tv, RL_NORMAL, 0, "  %-12s %s", h->m[i].name, line);
	}
}

static int on_address(void *arg, const char *address, int64_t first, int64_t last)
{
	struct textview *tv = arg;
	char a[32], b[32];
	char *clean = text_clean(address);
	tv_add(tv, RL_NORMAL, 0, "  %-18s %s (%s to %s)", "Address seen", clean ? clean : "", clock_format_local(first, a, sizeof a),
	       clock_format_local(last, b, sizeof b));
	free(clean);
	return 0;
}

/* One tray: name and media, the level in words (a tray is never "low"), the numbers, the status.
 * Device strings are cleaned again here, like every other line of this screen. */
static void tray_line(const struct console *c, struct textview *tv, const struct tray *t, bool bits_known,
		      int name_w)
{
	char name[TEXT_MAX * 2 + 32], cell[TEXT_MAX * 2 + 64], word[32], levels[64], status[128];
	const char *label = t->name && *t->name ? t->name : t->description;
	snprintf(name, sizeof name, "%s%s%s%s", label && *label ? label : "tray", t->media && *t->media ? " (" : "",
		 t->media && *t->media ? t->media : "", t->media && *t->media ? ")" : "");
	if (!label || !*label)
		snprintf(name, sizeof name, "tray %d", t->index);
	char *clean = text_clean(name);
	fmt_pad(clean ? clean : "", name_w - 3, false, c->utf8, cell, sizeof cell);
	free(clean);
	enum supply_state st = tray_state_of(t);
	struct supply as_supply = { .level = t->level, .max = t->max, .klass = SUPPLY_CLASS_CONSUMED };
	fmt_supply(&as_supply, 0, word, sizeof word);
	if (t->level >= 0 && t->max > 0)
		snprintf(levels, sizeof levels, "%d of %d %s", t->level, t->max, unit_name(t->unit));
	else
		snprintf(levels, sizeof levels, "level %d, max %d", t->level, t->max);
	tray_status_text(t->status, status, sizeof status);
	/* an empty tray is a warning only when the printer's error bits do not tell (device.h) */
	int role = st == SUPPLY_EMPTY && !bits_known ? RL_WARN : RL_NORMAL;
	tv_add(tv, role, 0, "  %s %-10s %s%s%s", cell, word, levels, status[0] ? "; " : "", status);
}

static void device_build(struct console *c, int width)
{
	struct textview *tv = &c->detail;
	tv_clear(tv);
	struct device d = { 0 };
	struct fc_error err = { "" };
	int rc = store_device_load(c->store, c->detail_id, STORE_LOAD_ALL, &d, &err);
	if (rc <= 0) {
		tv_add(tv, rc < 0 ? RL_CRIT : RL_NORMAL, 0, "%s",
		       rc < 0 ? err.msg : "This device is no longer in the database.");
		return;
	}
	int low = c->cfg->alerts.supply_low;
	char t1[64], t2[64];
	const char *status = device_state_name(device_state_of(&d));
	const struct fleet_row *row = fleet_find(&c->fleet, d.id);
	tv_add(tv, RL_TITLE, 0, "%s  %s  %s  %s%s", d.sys_name && *d.sys_name ? d.sys_name : d.address, d.address,
	       row ? row->model : (d.model ? d.model : ""), d.included ? status : "excluded",
	       d.included ? "" : " (not polled or reported)");

	tv_section(tv, "Status");
	kv(tv, RL_NORMAL, "Summary", "%s", status);
	kv(tv, role_for_status(d.status_device == 5 ? "fault" : d.status_device == 3 ? "warning" : "ok"), "Device status",
	   "%s", d.status_device ? device_status_name(d.status_device) : "not reported");
	kv(tv, RL_NORMAL, "Printer status", "%s", d.status_printer ? printer_status_name(d.status_printer) : "not reported");
	if (!d.error_bits_known) {
		kv(tv, RL_NORMAL, "Errors", "not reported");
	} else if (!d.error_bits) {
		kv(tv, RL_OK, "Errors", "none");
	} else {
		for (int b = 0; b < PRINTER_ERR_COUNT; b++) {
			if (!(d.error_bits & (1u << b)))
				continue;
			bool crit = printer_error_is_critical(b);
			kv(tv, crit ? RL_CRIT : RL_WARN, "Error", "%s %s", crit ? "CRITICAL" : "warning",
			   printer_error_name(b) ? printer_error_name(b) : "unknown bit");
		}
	}
	if (d.unreachable_polls)
		kv(tv, RL_CRIT, "Unreachable", "no answer to the last %d poll%s", d.unreachable_polls,
		   d.unreachable_polls == 1 ? "" : "s");
	if (d.poll_error)
		kv(tv, RL_WARN, "Last poll", "%s", d.poll_error);
	if (d.poll_warnings)
		kv(tv, RL_WARN, "Poll warnings", "%s", d.poll_warnings);
	kv(tv, RL_NORMAL, "Front panel", "%s", d.panel_text && *d.panel_text ? d.panel_text : "(nothing shown)");

	tv_section(tv, "Alerts");
	size_t active = 0;
	for (size_t i = 0; i < d.n_alerts; i++) {
		const struct alert *a = &d.alerts[i];
		if (a->cleared_at)
			continue;
		active++;
		int role = a->severity == 3 ? RL_CRIT : (a->severity == 4 || a->severity == 5) ? RL_WARN : RL_NORMAL;
		tv_add(tv, role, 0, "  %-9s %s  (group %d, code %d, since %s)", alert_severity_name(a->severity),
		       a->description ? a->description : "(no description)", a->group, a->code,
		       clock_format_local(a->first_seen, t1, sizeof t1));
	}
	if (!active)
		tv_add(tv, RL_OK, 0, "  none active");

	tv_section(tv, "Supplies");
	int gauge_x = 40, gauge_w = 12;
	if (width < 70) {
		gauge_x = 30;
		gauge_w = 8;
	}
	for (size_t i = 0; i < d.n_supplies; i++) {
		const struct supply *s = &d.supplies[i];
		char word[32], desc[TEXT_MAX + 64], cell[TEXT_MAX + 64];
		fmt_supply(s, low, word, sizeof word);
		enum supply_state st = supply_state_of(s, low);
		int sev = fmt_supply_severity(st);
		snprintf(desc, sizeof desc, "%s%s%s%s", s->description ? s->description : "supply",
			 s->colorant && *s->colorant ? " (" : "", s->colorant && *s->colorant ? s->colorant : "",
			 s->colorant && *s->colorant ? ")" : "");
		fmt_pad(desc, gauge_x - 3, false, c->utf8, cell, sizeof cell);
		char levels[64];
		if (s->level >= 0 && s->max > 0)
			snprintf(levels, sizeof levels, "%d of %d %s", s->level, s->max, unit_name(s->unit));
		else
			snprintf(levels, sizeof levels, "level %d, max %d", s->level, s->max);
		struct tline *l = tv_add(tv, sev == 0 ? RL_CRIT : sev == 1 ? RL_WARN : RL_NORMAL, 0, "  %s %*s %-10s %s", cell,
					 gauge_w, "", word, levels);
		if (l && gauge_x + gauge_w < width) {
			l->gauge_x = gauge_x;
			l->gauge_w = gauge_w;
			/* what is left: toner left, or room left in a waste box, like the word next to it */
			l->gauge_pct = supply_percent(s);
			l->gauge_role = sev == 0 ? RL_CRIT : sev == 1 ? RL_WARN : RL_OK;
		}
	}
	if (!d.n_supplies)
		tv_add(tv, RL_NORMAL, 0, "  none reported");

	tv_section(tv, "Trays");
	for (size_t i = 0; i < d.n_trays; i++)
		tray_line(c, tv, &d.trays[i], d.error_bits_known, gauge_x);
	if (!d.n_trays)
		tv_add(tv, RL_NORMAL, 0, "  none reported");

	tv_section(tv, "Covers");
	for (size_t i = 0; i < d.n_covers; i++) {
		const struct cover *cv = &d.covers[i];
		char label[32], cell[TEXT_MAX * 2 + 64];
		snprintf(label, sizeof label, "cover %d", cv->index);
		char *clean = text_clean(cv->description && *cv->description ? cv->description : label);
		fmt_pad(clean ? clean : "", gauge_x - 3, false, c->utf8, cell, sizeof cell);
		free(clean);
		/* an open cover is a fault only when the printer's error bits do not say it already */
		bool open = cover_is_open(cv);
		tv_add(tv, open ? (d.error_bits_known ? RL_WARN : RL_CRIT) : RL_NORMAL, 0, "  %s %s%s", cell,
		       open ? "OPEN" : cover_status_name(cv->status), cv->status ? "" : " (not reported)");
	}
	if (!d.n_covers)
		tv_add(tv, RL_NORMAL, 0, "  none reported");

	tv_section(tv, "Meters (value, unit, where it came from)");
	for (size_t i = 0; i < d.n_meters; i++) {
		const struct meter *m = &d.meters[i];
		tv_add(tv, RL_NORMAL, 0, "  %-12s %14s %-11s %s = %s", m->name, fmt_count(m->value, t1, sizeof t1),
		       unit_name(m->unit), m->oid ? m->oid : "?", m->raw ? m->raw : "");
		if (m->back_from > 0)
			tv_add(tv, RL_WARN, 0, "  %-12s WENT BACKWARDS from %s on %s (a reset, a wrap or a new board)", "",
			       fmt_count(m->back_from, t1, sizeof t1), clock_format_local(m->back_at, t2, sizeof t2));
	}
	if (!d.n_meters)
		tv_add(tv, RL_NORMAL, 0, "  none read yet");
	tv_section(tv, "Meter history (daily, last 7 days)");
	struct history_ctx *h = calloc(1, sizeof *h);
	if (!h || store_meter_history(c->store, d.id, clock_now() - 30 * 86400, on_history, h, &err) < 0)
		tv_add(tv, RL_CRIT, 0, "  %s", h ? err.msg : "out of memory");
	else if (h->n)
		history_lines(tv, h);
	else
		tv_add(tv, RL_NORMAL, 0, "  no history in the last 30 days");
	free(h);

	tv_section(tv, "Identity");
	kv(tv, RL_NORMAL, "Vendor", "%s", d.vendor ? d.vendor : "");
	kv(tv, RL_NORMAL, "Model", "%s", d.model ? d.model : "");
	kv(tv, RL_NORMAL, "Serial", "%s", d.serial ? d.serial : "");
	kv(tv, RL_NORMAL, "MAC", "%s", d.mac ? d.mac : "");
	kv(tv, RL_NORMAL, "Firmware", "%s", d.firmware ? d.firmware : "");
	kv(tv, RL_NORMAL, "sysName", "%s", d.sys_name ? d.sys_name : "");
	kv(tv, RL_NORMAL, "sysDescr", "%s", d.sys_descr ? d.sys_descr : "");
	kv(tv, RL_NORMAL, "sysObjectID", "%s", d.sys_object_id ? d.sys_object_id : "");
	kv(tv, RL_NORMAL, "Location", "%s", d.location ? d.location : "");
	kv(tv, RL_NORMAL, "Uptime", "%s", d.uptime_ticks ? units_span(d.uptime_ticks / 100, t1, sizeof t1) : "");
	kv(tv, RL_NORMAL, "Address", "%s port %d, profile %s", d.address, d.port ? d.port : 161,
	   d.profile ? d.profile : "?");
	kv(tv, RL_NORMAL, "First seen", "%s", clock_format_local(d.first_seen, t1, sizeof t1));
	kv(tv, RL_NORMAL, "Last answer", "%s (%s)", clock_format_local(d.last_seen, t1, sizeof t1),
	   fmt_ago(d.last_seen, clock_now(), t2, sizeof t2));
	kv(tv, RL_NORMAL, "Last poll", "%s", clock_format_local(d.last_poll, t1, sizeof t1));
	kv(tv, RL_NORMAL, "Managed", "%s", d.included ? "included: polled and reported" : "excluded");
	if (store_device_addresses(c->store, d.id, on_address, tv, &err) < 0)
		tv_add(tv, RL_CRIT, 0, "  %s", err.msg);

	if (!c->detail_raw) {
		tv_section(tv, "Raw SNMP values: press w");
	} else {
		char *raw = NULL;
		int64_t taken = 0;
		int got = store_device_raw(c->store, d.id, &raw, &taken, &err);
		char title[96];
		snprintf(title, sizeof title, "Raw SNMP values of the poll of %s (w hides)", clock_format_local(taken, t1, sizeof t1));
		tv_section(tv, title);
		if (got < 0) {
			tv_add(tv, RL_CRIT, 0, "  %s", err.msg);
		} else if (!raw || !*raw) {
			tv_add(tv, RL_NORMAL, 0, "  none kept: p polls this device and keeps them (the fleet's scheduled polls do not)");
		} else {
			char *save = NULL;
			for (char *line = strtok_r(raw, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
				tv_add(tv, RL_NORMAL, 0, "  %s", line);
		}
		free(raw);
	}
	device_clear(&d);
}

void device_draw(struct console *c, struct rect r)
{
	if (!c->detail_id) {
		draw_clear(c, r, RL_NORMAL);
		draw_text(c, r.y + 1, r.x + 2, r.w - 4, RL_NORMAL, false, "No device chosen: press 1 and Enter on a device.");
		return;
	}
	if (c->detail_dirty) {
		size_t top = c->detail.top;
		device_build(c, r.w);
		c->detail.top = top;
		c->detail_dirty = false;
	}
	tv_draw(c, &c->detail, r);
	c->cursor_y = r.y;
	c->cursor_x = r.x;
}

bool device_key(struct console *c, enum key_action a)
{
	const struct fleet_row *row = fleet_find(&c->fleet, c->detail_id);
	switch (a) {
	case KA_POLL: {
		int64_t job = console_submit(c, AGENT_CMD_POLL, c->detail_id, 0, 0, NULL);
		if (job) {
			c->poll = (struct job_track){ .id = job, .running = true };
			c->polls_running++;
			console_flash(c, AGENT_INFO, "polling %s ...", row ? row->name : "the device");
		}
		return true;
	}
	case KA_RAW:
		c->detail_raw = !c->detail_raw;
		c->detail_dirty = true;
		if (c->detail_raw) {
			/* jump to the raw values */
			c->detail.top = c->detail.n ? c->detail.n - 1 : 0;
		}
		return true;
	case KA_INCLUDE:
		if (row)
			console_submit(c, AGENT_CMD_INCLUDE, row->id, !row->included, 0, NULL);
		return true;
	default:
		return tv_key(&c->detail, a, c->frame.body.h);
	}
}

/* ---- Alerts ---- */

static void alerts_build(struct console *c, int width)
{
	struct textview *tv = &c->alerts;
	int64_t keep = tv_selected_ref(tv);
	tv_clear(tv);
	tv->selectable = true;
	struct fleet_alert *list = NULL;
	size_t n = 0;
	if (fleet_alerts(&c->fleet, &list, &n) < 0) {
		tv_add(tv, RL_CRIT, 0, "out of memory");
		return;
	}
	int name_w = width >= 100 ? 28 : 20;
	char hdr[256];
	snprintf(hdr, sizeof hdr, "%-11s %-*s %s", "Severity", name_w, "Device", "Problem");
	tv_add(tv, RL_TITLE, 0, "%s", hdr);
	for (size_t i = 0; i < n; i++) {
		const struct fleet_problem *p = list[i].problem;
		const struct fleet_row *row = list[i].row;
		char name[256], since[48] = "";
		fmt_pad(row->name, name_w, false, c->utf8, name, sizeof name);
		if (p->since)
			snprintf(since, sizeof since, "  (since %s)", fmt_ago_short(p->since, c->now, hdr, sizeof hdr));
		tv_add(tv, role_for_rank(p->rank), row->id, "%-11s %s %s%s", p->word, name, p->text, since);
	}
	if (!n)
		tv_add(tv, RL_OK, 0, "No faults and no low supplies on the managed devices.");
	free(list);
	tv_select_ref(tv, keep);
}

void alerts_draw(struct console *c, struct rect r)
{
	/* A big fleet's list takes a while to build: while a poll changes devices all the time, it
	 * is rebuilt every two seconds, not at every frame */
	int64_t ms = clock_mono_ms();
	if (!c->alerts.n || (c->alerts_generation != c->fleet.generation && ms - c->alerts_built_ms >= 2000)) {
		alerts_build(c, r.w);
		c->alerts_generation = c->fleet.generation;
		c->alerts_built_ms = ms;
	}
	tv_draw(c, &c->alerts, r);
}

bool alerts_key(struct console *c, enum key_action a, struct rect r)
{
	if (a == KA_OPEN) {
		console_open_device(c, tv_selected_ref(&c->alerts));
		return true;
	}
	return tv_key(&c->alerts, a, r.h);
}
