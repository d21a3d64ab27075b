/* The CSV tables (see csv.h). Each table is a list of columns over a flat row struct (name, kind,
 * offset): the header, the cells and the documentation all follow that one list. Rows are written
 * straight to the stream while the store is read, so memory does not grow with the fleet. */
#include "exports/csv.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "exports/fields.h"
#include "model/clock.h"

enum col_kind {
	COL_TEXT,     /* const char *, NULL = empty; escaped and neutralised */
	COL_INT,      /* int64_t, always written */
	COL_NONNEG,   /* int64_t, empty when negative (special values are words elsewhere) */
	COL_POSITIVE, /* int64_t, empty when 0 or less (0 means "none") */
	COL_TIME,     /* int64_t UTC seconds, ISO 8601; empty when 0 */
};

struct column {
	const char *name;
	enum col_kind kind;
	size_t off;
};

/* ---- the rows and their columns ---- */

struct device_row {
	int64_t id, port, total, black, color, meters_read_at, lowest_percent, active_alerts;
	int64_t first_seen, last_seen, last_poll, last_poll_ok, unreachable_polls;
	const char *address, *vendor, *model, *serial, *mac, *firmware, *sys_name, *location;
	const char *sys_descr, *sys_object_id, *profile, *included, *status, *device_status;
	const char *printer_status, *errors, *panel_text, *lowest_supply, *poll_error;
};

#define C(row, name, kind, field) { name, kind, offsetof(struct row, field) }

static const struct column device_columns[] = {
	C(device_row, "id", COL_INT, id),
	C(device_row, "address", COL_TEXT, address),
	C(device_row, "port", COL_INT, port),
	C(device_row, "vendor", COL_TEXT, vendor),
	C(device_row, "model", COL_TEXT, model),
	C(device_row, "serial", COL_TEXT, serial),
	C(device_row, "mac", COL_TEXT, mac),
	C(device_row, "firmware", COL_TEXT, firmware),
	C(device_row, "sys_name", COL_TEXT, sys_name),
	C(device_row, "location", COL_TEXT, location),
	C(device_row, "sys_descr", COL_TEXT, sys_descr),
	C(device_row, "sys_object_id", COL_TEXT, sys_object_id),
	C(device_row, "profile", COL_TEXT, profile),
	C(device_row, "included", COL_TEXT, included),
	C(device_row, "status", COL_TEXT, status),
	C(device_row, "device_status", COL_TEXT, device_status),
	C(device_row, "printer_status", COL_TEXT, printer_status),
	C(device_row, "errors", COL_TEXT, errors),
	C(device_row, "panel_text", COL_TEXT, panel_text),
	C(device_row, "total", COL_NONNEG, total),
	C(device_row, "black", COL_NONNEG, black),
	C(device_row, "color", COL_NONNEG, color),
	C(device_row, "meters_read_at", COL_TIME, meters_read_at),
	C(device_row, "lowest_supply_percent", COL_NONNEG, lowest_percent),
	C(device_row, "lowest_supply", COL_TEXT, lowest_supply),
	C(device_row, "active_alerts", COL_INT, active_alerts),
	C(device_row, "first_seen", COL_TIME, first_seen),
	C(device_row, "last_seen", COL_TIME, last_seen),
	C(device_row, "last_poll", COL_TIME, last_poll),
	C(device_row, "last_poll_ok", COL_TIME, last_poll_ok),
	C(device_row, "poll_error", COL_TEXT, poll_error),
	C(device_row, "unreachable_polls", COL_INT, unreachable_polls),
	{ NULL, COL_INT, 0 },
};

struct meter_row {
	int64_t device_id, value;
	const char *serial, *meter, *day;
};

static const struct column meter_columns[] = {
	C(meter_row, "device_id", COL_INT, device_id),
	C(meter_row, "serial", COL_TEXT, serial),
	C(meter_row, "meter", COL_TEXT, meter),
	C(meter_row, "day", COL_TEXT, day),
	C(meter_row, "value", COL_INT, value),
	{ NULL, COL_INT, 0 },
};

struct supply_row {
	int64_t device_id, index, type, klass, unit, max, level, percent;
	const char *serial, *description, *colorant, *type_name, *class_name, *unit_name, *state;
};

static const struct column supply_columns[] = {
	C(supply_row, "device_id", COL_INT, device_id),
	C(supply_row, "serial", COL_TEXT, serial),
	C(supply_row, "index", COL_INT, index),
	C(supply_row, "description", COL_TEXT, description),
	C(supply_row, "colorant", COL_TEXT, colorant),
	C(supply_row, "type", COL_INT, type),
	C(supply_row, "type_name", COL_TEXT, type_name),
	C(supply_row, "class", COL_INT, klass),
	C(supply_row, "class_name", COL_TEXT, class_name),
	C(supply_row, "unit", COL_INT, unit),
	C(supply_row, "unit_name", COL_TEXT, unit_name),
	C(supply_row, "max", COL_NONNEG, max),
	C(supply_row, "level", COL_NONNEG, level),
	C(supply_row, "percent", COL_NONNEG, percent),
	C(supply_row, "state", COL_TEXT, state),
	{ NULL, COL_INT, 0 },
};

struct alert_row {
	int64_t device_id, severity_code, training, group, group_index, location, code;
	int64_t first_seen, last_seen;
	const char *serial, *severity, *group_name, *description;
};

static const struct column alert_columns[] = {
	C(alert_row, "device_id", COL_INT, device_id),
	C(alert_row, "serial", COL_TEXT, serial),
	C(alert_row, "severity", COL_TEXT, severity),
	C(alert_row, "severity_code", COL_INT, severity_code),
	C(alert_row, "training", COL_INT, training),
	C(alert_row, "group", COL_INT, group),
	C(alert_row, "group_name", COL_TEXT, group_name),
	C(alert_row, "group_index", COL_INT, group_index),
	C(alert_row, "location", COL_INT, location),
	C(alert_row, "code", COL_INT, code),
	C(alert_row, "description", COL_TEXT, description),
	C(alert_row, "first_seen", COL_TIME, first_seen),
	C(alert_row, "last_seen", COL_TIME, last_seen),
	{ NULL, COL_INT, 0 },
};

struct sync_row {
	int64_t id, started_at, finished_at, http_status, bytes, devices;
	const char *trigger, *result, *report_key, *error;
};

static const struct column sync_columns[] = {
	C(sync_row, "id", COL_INT, id),
	C(sync_row, "started_at", COL_TIME, started_at),
	C(sync_row, "finished_at", COL_TIME, finished_at),
	C(sync_row, "trigger", COL_TEXT, trigger),
	C(sync_row, "result", COL_TEXT, result),
	C(sync_row, "http_status", COL_POSITIVE, http_status),
	C(sync_row, "bytes", COL_INT, bytes),
	C(sync_row, "devices", COL_INT, devices),
	C(sync_row, "report_key", COL_TEXT, report_key),
	C(sync_row, "error", COL_TEXT, error),
	{ NULL, COL_INT, 0 },
};

static const struct column *const table_columns[EXPORT_TABLE_COUNT] = {
	[EXPORT_TABLE_DEVICES] = device_columns,
	[EXPORT_TABLE_METERS] = meter_columns,
	[EXPORT_TABLE_SUPPLIES] = supply_columns,
	[EXPORT_TABLE_ALERTS] = alert_columns,
	[EXPORT_TABLE_SYNCS] = sync_columns,
};

const char *csv_table_column(enum export_table t, size_t i)
{
	if ((unsigned)t >= EXPORT_TABLE_COUNT)
		return NULL;
	for (size_t j = 0; j <= i; j++)
		if (!table_columns[t][j].name)
			return NULL;
	return table_columns[t][i].name;
}

/* ---- cells ---- */

bool csv_needs_neutralising(const char *s)
{
	if (!s)
		return false;
	switch (s[0]) {
	case '=':
	case '+':
	case '-':
	case '@':
	case '\t':
	case '\r':
		return true;
	default:
		return false;
	}
}

int csv_write_text(FILE *f, const char *s)
{
	if (!s || !*s)
		return 0;
	bool quote = s[strcspn(s, ",\"\r\n")] != '\0';
	if (quote)
		putc_unlocked('"', f);
	if (csv_needs_neutralising(s))
		putc_unlocked('\'', f);
	if (!quote) {
		fputs_unlocked(s, f);
	} else {
		for (;;) {
			size_t run = strcspn(s, "\"");
			fwrite_unlocked(s, 1, run, f);
			if (!s[run])
				break;
			fputs_unlocked("\"\"", f);
			s += run + 1;
		}
		putc_unlocked('"', f);
	}
	return ferror_unlocked(f) ? -1 : 0;
}

char *csv_encode(const char *s)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (!f)
		return NULL;
	int rc = csv_write_text(f, s);
	if (fclose(f) != 0 || rc < 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

/* Decimal digits without printf: the meters table has a row per meter per device per day. */
static void put_int(FILE *f, int64_t v)
{
	char buf[24];
	char *p = buf + sizeof buf;
	uint64_t u = v < 0 ? -(uint64_t)v : (uint64_t)v;
	do {
		*--p = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (v < 0)
		*--p = '-';
	fwrite_unlocked(p, 1, (size_t)(buf + sizeof buf - p), f);
}

static void put_row(FILE *f, const struct column *cols, const void *row)
{
	const char *base = row;
	for (size_t i = 0; cols[i].name; i++) {
		if (i)
			putc_unlocked(',', f);
		const void *field = base + cols[i].off;
		int64_t v = 0;
		if (cols[i].kind != COL_TEXT)
			memcpy(&v, field, sizeof v);
		switch (cols[i].kind) {
		case COL_TEXT: {
			const char *s;
			memcpy(&s, field, sizeof s);
			csv_write_text(f, s);
			break;
		}
		case COL_INT:
			put_int(f, v);
			break;
		case COL_NONNEG:
			if (v >= 0)
				put_int(f, v);
			break;
		case COL_POSITIVE:
			if (v > 0)
				put_int(f, v);
			break;
		case COL_TIME:
			if (v) {
				char iso[CLOCK_ISO_LEN];
				fputs_unlocked(field_time(v, iso), f);
			}
			break;
		}
	}
	fputs_unlocked("\r\n", f);
}

static void put_header(FILE *f, const struct column *cols)
{
	for (size_t i = 0; cols[i].name; i++) {
		if (i)
			putc_unlocked(',', f);
		fputs_unlocked(cols[i].name, f);
	}
	fputs_unlocked("\r\n", f);
}

/* ---- tables ---- */

struct table_ctx {
	FILE *f;
	struct store *s;
	const struct export_options *o;
	int low_percent;
};

static int stream_failed(FILE *f, struct fc_error *err)
{
	if (!ferror_unlocked(f))
		return 0;
	return fc_error_set(err, "cannot write: %s", strerror(errno ? errno : EIO));
}

static int device_rows(void *vctx, const struct device *d, struct fc_error *err)
{
	struct table_ctx *c = vctx;
	char errors[512];
	struct device_row r = {
		.id = d->id, .port = d->port, .address = d->address, .vendor = d->vendor, .model = d->model,
		.serial = d->serial, .mac = d->mac, .firmware = d->firmware, .sys_name = d->sys_name,
		.location = d->location, .sys_descr = d->sys_descr, .sys_object_id = d->sys_object_id,
		.profile = d->profile, .included = d->included ? "yes" : "no",
		.status = device_state_name(device_state_of(d)),
		.device_status = d->status_device ? device_status_name(d->status_device) : NULL,
		.printer_status = d->status_printer ? printer_status_name(d->status_printer) : NULL,
		.errors = field_errors(d, errors, sizeof errors), .panel_text = d->panel_text,
		.total = -1, .black = -1, .color = -1, .active_alerts = (int64_t)d->n_alerts,
		.first_seen = d->first_seen, .last_seen = d->last_seen, .last_poll = d->last_poll,
		.last_poll_ok = d->last_poll_ok, .poll_error = d->poll_error,
		.unreachable_polls = d->unreachable_polls,
	};
	int64_t *values[] = { &r.total, &r.black, &r.color };
	const char *names[] = { "total", "black", "color" };
	for (size_t i = 0; i < 3; i++) {
		const struct meter *m = device_meter(d, names[i]);
		if (!m)
			continue;
		*values[i] = m->value;
		if (m->read_at > r.meters_read_at)
			r.meters_read_at = m->read_at;
	}
	size_t which = 0;
	r.lowest_percent = device_lowest_supply(d, &which);
	if (r.lowest_percent >= 0)
		r.lowest_supply = d->supplies[which].description;
	put_row(c->f, device_columns, &r);
	return stream_failed(c->f, err);
}

struct meter_ctx {
	FILE *f;
	struct meter_row row;
	size_t rows;
};

static int meter_history_row(void *vctx, const char *name, const char *day, int64_t value)
{
	struct meter_ctx *m = vctx;
	m->row.meter = name;
	m->row.day = day;
	m->row.value = value;
	put_row(m->f, meter_columns, &m->row);
	/* A failing stream stops the walk early; the caller reports it. */
	return ferror_unlocked(m->f) ? 1 : 0;
}

static int meter_rows(void *vctx, const struct device *d, struct fc_error *err)
{
	struct table_ctx *c = vctx;
	struct meter_ctx m = { .f = c->f, .row = { .device_id = d->id, .serial = d->serial } };
	if (store_meter_history(c->s, d->id, c->o->since, meter_history_row, &m, err) < 0)
		return -1;
	return stream_failed(c->f, err);
}

static int supply_rows(void *vctx, const struct device *d, struct fc_error *err)
{
	struct table_ctx *c = vctx;
	for (size_t i = 0; i < d->n_supplies; i++) {
		const struct supply *p = &d->supplies[i];
		struct supply_row r = {
			.device_id = d->id, .serial = d->serial, .index = p->index,
			.description = p->description, .colorant = p->colorant, .type = p->type,
			.type_name = supply_type_mib_name(p->type), .klass = p->klass,
			.class_name = field_supply_class_name(p->klass), .unit = p->unit,
			.unit_name = field_unit_name(p->unit), .max = p->max, .level = p->level,
			.percent = supply_percent(p),
			.state = supply_state_name(supply_state_of(p, c->low_percent)),
		};
		put_row(c->f, supply_columns, &r);
	}
	return stream_failed(c->f, err);
}

static int alert_rows(void *vctx, const struct device *d, struct fc_error *err)
{
	struct table_ctx *c = vctx;
	for (size_t i = 0; i < d->n_alerts; i++) {
		const struct alert *a = &d->alerts[i];
		struct alert_row r = {
			.device_id = d->id, .serial = d->serial, .severity = alert_severity_name(a->severity),
			.severity_code = a->severity, .training = a->training, .group = a->group,
			.group_name = field_alert_group_name(a->group), .group_index = a->group_index,
			.location = a->location, .code = a->code, .description = a->description,
			.first_seen = a->first_seen, .last_seen = a->last_seen,
		};
		put_row(c->f, alert_columns, &r);
	}
	return stream_failed(c->f, err);
}

static int sync_rows(struct table_ctx *c, struct fc_error *err)
{
	struct sync_record *syncs = NULL;
	size_t n = 0;
	if (store_syncs_list(c->s, 0, &syncs, &n, err) < 0)
		return -1;
	/* The store lists newest first; the file reads oldest first, like a log. */
	for (size_t i = n; i-- > 0;) {
		const struct sync_record *y = &syncs[i];
		if (y->started_at < c->o->since)
			continue;
		struct sync_row r = {
			.id = y->id, .started_at = y->started_at, .finished_at = y->finished_at,
			.trigger = y->trigger, .result = y->result, .http_status = y->http_status,
			.bytes = y->bytes, .devices = y->devices, .report_key = y->report_key,
			.error = y->error,
		};
		put_row(c->f, sync_columns, &r);
	}
	sync_array_free(&syncs, n);
	return stream_failed(c->f, err);
}

/* What each device table reads from the store, and how it writes a device's rows. */
static const struct {
	unsigned parts;
	int (*rows)(void *ctx, const struct device *d, struct fc_error *err);
} device_tables[EXPORT_TABLE_COUNT] = {
	[EXPORT_TABLE_DEVICES] = { STORE_LOAD_ALL, device_rows },
	[EXPORT_TABLE_METERS] = { 0, meter_rows },
	[EXPORT_TABLE_SUPPLIES] = { STORE_LOAD_SUPPLIES, supply_rows },
	[EXPORT_TABLE_ALERTS] = { STORE_LOAD_ALERTS, alert_rows },
};

int csv_write_table(FILE *f, struct store *s, enum export_table t, const struct export_options *o,
		    int low_percent, struct fc_error *err)
{
	if ((unsigned)t >= EXPORT_TABLE_COUNT)
		return fc_error_set(err, "no such CSV table");
	struct table_ctx c = { .f = f, .s = s, .o = o, .low_percent = low_percent };
	errno = 0;
	put_header(f, table_columns[t]);
	if (stream_failed(f, err) < 0)
		return -1;
	if (t == EXPORT_TABLE_SYNCS)
		return sync_rows(&c, err);
	int rc = field_each_device(s, o->devices, device_tables[t].parts, device_tables[t].rows, &c, err);
	return rc == 0 ? 0 : -1;
}
