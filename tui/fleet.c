/* The console's in-memory fleet (see fleet.h): compact rows built from struct device, an index
 * array sorted and filtered on demand, and the fleet-wide problem list for the Alerts screen. */
#include "tui/fleet.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "model/store.h"
#include "model/array.h"
#include "model/text.h"
#include "tui/format.h"
#include "tui/layout.h"


/* The Devices table: minimum widths fit the longest word of the column ("unreachable", "NEAR
 * FULL", "12,345,678"); priorities decide what an 80-column terminal keeps. */
static const struct layout_col columns[FLEET_COL_COUNT] = {
	[FLEET_COL_STATUS] = { "Status", 11, 11, 0, 0, false },
	[FLEET_COL_NAME] = { "Name / address", 16, 40, 0, 3, false },
	[FLEET_COL_MODEL] = { "Model", 12, 30, 4, 2, false },
	[FLEET_COL_SERIAL] = { "Serial", 12, 16, 6, 0, false },
	[FLEET_COL_TOTAL] = { "Total", 10, 11, 3, 0, true },
	[FLEET_COL_BLACK] = { "Black", 10, 11, 7, 0, true },
	[FLEET_COL_COLOR] = { "Colour", 10, 11, 8, 0, true },
	[FLEET_COL_SUPPLY] = { "Supply", 9, 9, 1, 0, false },
	[FLEET_COL_ALERTS] = { "Alerts", 6, 6, 2, 0, true },
	[FLEET_COL_POLLED] = { "Polled", 8, 8, 5, 0, false },
};

const char *fleet_col_title(enum fleet_col c)
{
	return c < FLEET_COL_COUNT ? columns[c].title : "";
}

size_t fleet_col_widths(int width, int widths[FLEET_COL_COUNT])
{
	return layout_columns(columns, FLEET_COL_COUNT, width, 1, widths);
}

bool fleet_col_numeric(enum fleet_col c)
{
	return c < FLEET_COL_COUNT && columns[c].right;
}

/* The whole fleet in sort order, kept while neither its rows nor its sort change: a filter
 * keystroke then only filters it (sorting 20,000 rows again was most of a keystroke, perf). The
 * console has one fleet; another fleet takes the cache over. Main thread only, like the fleet. */
static struct {
	const struct fleet *f;
	unsigned generation;
	enum fleet_col sort;
	bool desc;
	size_t n;
	size_t *order;
} sorted;

void fleet_init(struct fleet *f, int low_percent)
{
	if (sorted.f == f)
		sorted.f = NULL;
	memset(f, 0, sizeof *f);
	f->sort = FLEET_COL_STATUS;
	f->low_percent = low_percent;
	f->dirty = true;
}

static void row_clear(struct fleet_row *r)
{
	free(r->name);
	free(r->address);
	free(r->model);
	free(r->serial);
	free(r->haystack);
	for (size_t i = 0; i < r->n_problems; i++)
		free(r->problems[i].text);
	free(r->problems);
	memset(r, 0, sizeof *r);
}

void fleet_clear(struct fleet *f)
{
	for (size_t i = 0; i < f->n; i++)
		row_clear(&f->rows[i]);
	free(f->rows);
	free(f->view);
	int low = f->low_percent;
	fleet_init(f, low);
}

/* text_clean of a possibly NULL string; NULL only when out of memory. */
static char *clean(const char *s)
{
	return text_clean(s ? s : "");
}

static int add_problem(struct fleet_row *r, size_t *cap, enum fleet_rank rank, const char *word,
		       int64_t since, const char *fmt, ...) __attribute__((format(printf, 6, 7)));

static int add_problem(struct fleet_row *r, size_t *cap, enum fleet_rank rank, const char *word,
		       int64_t since, const char *fmt, ...)
{
	struct fleet_problem *p = array_grow(r->problems, r->n_problems, cap, sizeof *p, 4);
	if (!p)
		return -1;
	r->problems = p;
	char raw[TEXT_MAX + 64];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(raw, sizeof raw, fmt, ap);
	va_end(ap);
	char *text = text_clean(raw);
	if (!text)
		return -1;
	r->problems[r->n_problems++] = (struct fleet_problem){ rank, word, text, since };
	return 0;
}

static enum fleet_rank alert_rank(int severity)
{
	return severity == 3 ? FLEET_CRITICAL : (severity == 4 || severity == 5) ? FLEET_WARNING : FLEET_NOTICE;
}

static int problems_of(struct fleet_row *r, const struct device *d, int low)
{
	size_t cap = 0;
	if (d->unreachable_polls > 0 &&
	    add_problem(r, &cap, FLEET_CRITICAL, "unreachable", d->last_poll_ok ? d->last_poll_ok : d->first_seen,
			"no answer to %d poll%s%s%s", d->unreachable_polls, d->unreachable_polls == 1 ? "" : "s",
			d->poll_error ? ": " : "", d->poll_error ? d->poll_error : "") < 0)
		return -1;
	else if (!d->unreachable_polls && d->poll_error &&
		 add_problem(r, &cap, FLEET_WARNING, "warning", 0, "last poll incomplete: %s", d->poll_error) < 0)
		return -1;
	if (d->status_device == 5 && add_problem(r, &cap, FLEET_CRITICAL, "critical", 0, "device down") < 0)
		return -1;
	for (int b = 0; b < PRINTER_ERR_COUNT; b++) {
		if (!(d->error_bits & (1u << b)))
			continue;
		bool crit = printer_error_is_critical(b);
		const char *name = printer_error_name(b);
		if (add_problem(r, &cap, crit ? FLEET_CRITICAL : FLEET_WARNING, crit ? "critical" : "warning", 0,
				"%s", name ? name : "unknown error") < 0)
			return -1;
	}
	for (size_t i = 0; i < d->n_alerts; i++) {
		const struct alert *a = &d->alerts[i];
		if (a->cleared_at)
			continue;
		if (add_problem(r, &cap, alert_rank(a->severity), alert_severity_name(a->severity), a->first_seen,
				"%s", a->description && *a->description ? a->description : "(no description)") < 0)
			return -1;
	}
	for (size_t i = 0; i < d->n_supplies; i++) {
		const struct supply *s = &d->supplies[i];
		enum supply_state st = supply_state_of(s, low);
		int sev = fmt_supply_severity(st);
		if (sev > 1)
			continue;
		char word[24];
		fmt_supply(s, low, word, sizeof word);
		const char *w = st == SUPPLY_EMPTY ? "EMPTY" : st == SUPPLY_FULL ? "FULL" : "LOW";
		if (add_problem(r, &cap, sev == 0 ? FLEET_CRITICAL : FLEET_WARNING, w, 0, "%s: %s",
				s->description && *s->description ? s->description : "supply", word) < 0)
			return -1;
	}
	return 0;
}

/* Fills r (zeroed) from d. Returns 0, or -1 when out of memory (r is cleared). */
static int row_build(struct fleet_row *r, const struct device *d, int low)
{
	r->id = d->id;
	r->status_rank = (int)device_state_of(d);
	r->status = device_state_name((enum device_state)r->status_rank);
	r->address = clean(d->address);
	r->name = clean(d->sys_name && *d->sys_name ? d->sys_name : d->address);
	char model[2 * TEXT_MAX];
	const char *vendor = d->vendor ? d->vendor : "", *m = d->model ? d->model : "";
	/* models often repeat the vendor ("HP LaserJet"): show it once */
	if (*vendor && strncasecmp(m, vendor, strlen(vendor)) != 0)
		snprintf(model, sizeof model, "%s %s", vendor, m);
	else
		snprintf(model, sizeof model, "%s", *m ? m : vendor);
	r->model = clean(model);
	r->serial = clean(d->serial);
	const struct meter *mt;
	r->total = (mt = device_meter(d, "total")) ? mt->value : -1;
	r->black = (mt = device_meter(d, "black")) ? mt->value : -1;
	r->color = (mt = device_meter(d, "color")) ? mt->value : -1;

	/* the worst supply: a fault first, then the lowest percentage */
	r->lowest_sev = 2;
	r->lowest_pct = -1;
	r->lowest[0] = '\0';
	const struct supply *worst = NULL;
	for (size_t i = 0; i < d->n_supplies; i++) {
		const struct supply *s = &d->supplies[i];
		int sev = fmt_supply_severity(supply_state_of(s, low));
		int pct = supply_percent(s);
		if (s->klass == SUPPLY_CLASS_RECEPTACLE && sev == 2)
			continue; /* a waste box with room is nobody's "lowest supply" */
		if (!worst || sev < r->lowest_sev ||
		    (sev == r->lowest_sev && pct >= 0 && (r->lowest_pct < 0 || pct < r->lowest_pct))) {
			worst = s;
			r->lowest_sev = sev;
			r->lowest_pct = pct;
		}
	}
	if (worst)
		fmt_supply(worst, low, r->lowest, sizeof r->lowest);
	for (size_t i = 0; i < d->n_alerts; i++)
		if (!d->alerts[i].cleared_at)
			r->alerts++;
	r->last_poll = d->last_poll;
	r->included = d->included;

	if (!r->address || !r->name || !r->model || !r->serial)
		goto fail;
	size_t hl = strlen(r->status) + strlen(r->name) + strlen(r->address) + strlen(r->model) +
		    strlen(r->serial) + strlen(r->lowest) + 8;
	r->haystack = malloc(hl);
	if (!r->haystack)
		goto fail;
	snprintf(r->haystack, hl, "%s\x1f%s\x1f%s\x1f%s\x1f%s\x1f%s", r->status, r->name, r->address, r->model,
		 r->serial, r->lowest);
	for (char *p = r->haystack; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	if (problems_of(r, d, low) < 0)
		goto fail;
	return 0;
fail:
	row_clear(r);
	return -1;
}

static void counts_update(struct fleet *f)
{
	struct fleet_counts c = { .discovered = f->n };
	for (size_t i = 0; i < f->n; i++) {
		const struct fleet_row *r = &f->rows[i];
		if (!r->included) {
			c.excluded++;
			continue;
		}
		c.included++;
		if (r->status_rank == DEVICE_FAULT)
			c.errors++;
		else if (r->status_rank == DEVICE_UNREACHABLE)
			c.unreachable++;
		else if (r->status_rank == DEVICE_WARNING)
			c.warnings++;
		if (r->lowest_sev < 2)
			c.low++;
		c.problems += r->n_problems;
	}
	f->counts = c;
}

static void changed(struct fleet *f)
{
	f->dirty = true;
	f->generation++;
	counts_update(f);
}

int fleet_load(struct fleet *f, struct store *s, struct fc_error *err)
{
	struct device *devs = NULL;
	size_t n = 0;
	if (store_devices_list(s, STORE_DEVICES_ALL, STORE_LOAD_ALL, &devs, &n, err) < 0)
		return -1;
	struct fleet_row *rows = calloc(n ? n : 1, sizeof *rows);
	if (!rows) {
		device_array_free(&devs, n);
		return fc_error_set(err, "out of memory for %zu devices", n);
	}
	for (size_t i = 0; i < n; i++) {
		if (row_build(&rows[i], &devs[i], f->low_percent) < 0) {
			for (size_t j = 0; j < i; j++)
				row_clear(&rows[j]);
			free(rows);
			device_array_free(&devs, n);
			return fc_error_set(err, "out of memory for %zu devices", n);
		}
	}
	device_array_free(&devs, n);
	/* the store lists by id already; the rows keep that order for fleet_find's binary search */
	for (size_t i = 0; i < f->n; i++)
		row_clear(&f->rows[i]);
	free(f->rows);
	f->rows = rows;
	f->n = n;
	f->cap = n ? n : 1;
	free(f->view);
	f->view = NULL;
	f->n_view = 0;
	changed(f);
	return 0;
}

/* Position of id in rows, or where it would go (*found false). */
static size_t find_pos(const struct fleet *f, int64_t id, bool *found)
{
	size_t lo = 0, hi = f->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (f->rows[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = lo < f->n && f->rows[lo].id == id;
	return lo;
}

const struct fleet_row *fleet_find(const struct fleet *f, int64_t id)
{
	bool found;
	size_t pos = find_pos(f, id, &found);
	return found ? &f->rows[pos] : NULL;
}

int fleet_put(struct fleet *f, const struct device *d)
{
	struct fleet_row row = { 0 };
	if (row_build(&row, d, f->low_percent) < 0)
		return -1;
	bool found;
	size_t pos = find_pos(f, d->id, &found);
	if (found) {
		row_clear(&f->rows[pos]);
		f->rows[pos] = row;
	} else {
		struct fleet_row *rows = array_grow(f->rows, f->n, &f->cap, sizeof *rows, 64);
		if (!rows) {
			row_clear(&row);
			return -1;
		}
		f->rows = rows;
		memmove(&f->rows[pos + 1], &f->rows[pos], (f->n - pos) * sizeof *f->rows);
		f->rows[pos] = row;
		f->n++;
	}
	changed(f);
	return 0;
}

void fleet_remove(struct fleet *f, int64_t id)
{
	bool found;
	size_t pos = find_pos(f, id, &found);
	if (!found)
		return;
	row_clear(&f->rows[pos]);
	memmove(&f->rows[pos], &f->rows[pos + 1], (f->n - pos - 1) * sizeof *f->rows);
	f->n--;
	changed(f);
}

int fleet_reload(struct fleet *f, struct store *s, int64_t id, struct fc_error *err)
{
	struct device d = { 0 };
	int rc = store_device_load(s, id, STORE_LOAD_ALL, &d, err);
	if (rc < 0)
		return -1;
	if (rc == 0) {
		fleet_remove(f, id);
		return 0;
	}
	rc = fleet_put(f, &d);
	device_clear(&d);
	if (rc < 0)
		return fc_error_set(err, "out of memory for device %lld", (long long)id);
	return 0;
}

void fleet_sort(struct fleet *f, enum fleet_col col, bool desc)
{
	if (col >= FLEET_COL_COUNT)
		return;
	if (f->sort != col || f->desc != desc)
		f->dirty = true;
	f->sort = col;
	f->desc = desc;
}

void fleet_filter(struct fleet *f, const char *text)
{
	if (strcmp(f->filter, text ? text : "") == 0)
		return;
	snprintf(f->filter, sizeof f->filter, "%s", text ? text : "");
	f->dirty = true;
}

static int cmp_i64(int64_t a, int64_t b)
{
	return a < b ? -1 : a > b;
}

/* A missing value (-1) sorts after every real one, whichever the direction. */
static int cmp_known(int64_t a, int64_t b, bool desc)
{
	if ((a < 0) != (b < 0))
		return a < 0 ? (desc ? -1 : 1) : (desc ? 1 : -1);
	return cmp_i64(a, b);
}

static int cmp_rows(const struct fleet_row *a, const struct fleet_row *b, enum fleet_col col, bool desc)
{
	switch (col) {
	case FLEET_COL_STATUS:
		/* excluded devices are not managed: after every managed one */
		if (a->included != b->included)
			return a->included ? -1 : 1;
		return a->status_rank != b->status_rank ? cmp_i64(a->status_rank, b->status_rank)
							: strcasecmp(a->name, b->name);
	case FLEET_COL_NAME:
		return strcasecmp(a->name, b->name);
	case FLEET_COL_MODEL:
		return strcasecmp(a->model, b->model);
	case FLEET_COL_SERIAL:
		return strcasecmp(a->serial, b->serial);
	case FLEET_COL_TOTAL:
		return cmp_known(a->total, b->total, desc);
	case FLEET_COL_BLACK:
		return cmp_known(a->black, b->black, desc);
	case FLEET_COL_COLOR:
		return cmp_known(a->color, b->color, desc);
	case FLEET_COL_SUPPLY:
		if (a->lowest_sev != b->lowest_sev)
			return cmp_i64(a->lowest_sev, b->lowest_sev);
		return cmp_known(a->lowest_pct, b->lowest_pct, desc);
	case FLEET_COL_ALERTS:
		return cmp_i64(a->alerts, b->alerts);
	case FLEET_COL_POLLED:
		return cmp_i64(a->last_poll, b->last_poll);
	default:
		return 0;
	}
}

struct sort_ctx {
	const struct fleet_row *rows;
	enum fleet_col col;
	bool desc;
};

static int cmp_view(const void *pa, const void *pb, void *arg)
{
	const struct sort_ctx *c = arg;
	const struct fleet_row *a = &c->rows[*(const size_t *)pa], *b = &c->rows[*(const size_t *)pb];
	int r = cmp_rows(a, b, c->col, c->desc);
	if (c->desc)
		r = -r;
	/* the same order every time for equal keys: by id */
	return r ? r : cmp_i64(a->id, b->id);
}

bool fleet_refresh(struct fleet *f)
{
	if (!f->dirty)
		return false;
	size_t *view = realloc(f->view, (f->n ? f->n : 1) * sizeof *view);
	if (!view)
		return false;
	f->view = view;
	char needle[sizeof f->filter];
	size_t k = 0;
	for (; f->filter[k] && k + 1 < sizeof needle; k++)
		needle[k] = (char)tolower((unsigned char)f->filter[k]);
	needle[k] = '\0';
	if (sorted.f != f || sorted.generation != f->generation || sorted.sort != f->sort ||
	    sorted.desc != f->desc || sorted.n != f->n) {
		size_t *order = realloc(sorted.order, (f->n ? f->n : 1) * sizeof *order);
		if (!order)
			return false;
		sorted.order = order;
		for (size_t i = 0; i < f->n; i++)
			order[i] = i;
		struct sort_ctx ctx = { f->rows, f->sort, f->desc };
		qsort_r(order, f->n, sizeof *order, cmp_view, &ctx);
		sorted.f = f;
		sorted.generation = f->generation;
		sorted.sort = f->sort;
		sorted.desc = f->desc;
		sorted.n = f->n;
	}
	size_t n = 0;
	for (size_t j = 0; j < f->n; j++) {
		size_t i = sorted.order[j];
		if (!needle[0] || strstr(f->rows[i].haystack, needle))
			view[n++] = i;
	}
	f->n_view = n;
	f->dirty = false;
	return true;
}

const struct fleet_row *fleet_at(const struct fleet *f, size_t i)
{
	return i < f->n_view ? &f->rows[f->view[i]] : NULL;
}

size_t fleet_view_index(const struct fleet *f, int64_t id)
{
	for (size_t i = 0; i < f->n_view; i++)
		if (f->rows[f->view[i]].id == id)
			return i;
	return (size_t)-1;
}

static int cmp_alerts(const void *pa, const void *pb)
{
	const struct fleet_alert *a = pa, *b = pb;
	if (a->problem->rank != b->problem->rank)
		return cmp_i64(a->problem->rank, b->problem->rank);
	/* the oldest first: what has waited longest; unknown times after known ones */
	int64_t sa = a->problem->since ? a->problem->since : INT64_MAX;
	int64_t sb = b->problem->since ? b->problem->since : INT64_MAX;
	if (sa != sb)
		return cmp_i64(sa, sb);
	int c = strcasecmp(a->row->name, b->row->name);
	return c ? c : cmp_i64(a->row->id, b->row->id);
}

int fleet_alerts(const struct fleet *f, struct fleet_alert **out, size_t *n)
{
	size_t total = 0;
	for (size_t i = 0; i < f->n; i++)
		if (f->rows[i].included)
			total += f->rows[i].n_problems;
	struct fleet_alert *list = calloc(total ? total : 1, sizeof *list);
	if (!list)
		return -1;
	size_t k = 0;
	for (size_t i = 0; i < f->n; i++) {
		if (!f->rows[i].included)
			continue;
		for (size_t j = 0; j < f->rows[i].n_problems; j++)
			list[k++] = (struct fleet_alert){ &f->rows[i], &f->rows[i].problems[j] };
	}
	qsort(list, k, sizeof *list, cmp_alerts);
	*out = list;
	*n = k;
	return 0;
}
