/* The device serializer (see device_json.h): one function per part of a device, each building a
 * jansson value; any allocation failure makes the whole result NULL, never a partial object. */
#include "model/device_json.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "model/clock.h"
#include "model/text.h"

/* Builders record the first failure in *ok and keep going, so that callers check once. */
static void put(json_t *obj, const char *key, json_t *value, bool *ok)
{
	if (!obj || !value) {
		json_decref(value);
		*ok = false;
	} else if (json_object_set_new(obj, key, value) < 0) { /* which releases value */
		*ok = false;
	}
}

static void append(json_t *arr, json_t *value, bool *ok)
{
	if (!arr || !value) {
		json_decref(value);
		*ok = false;
	} else if (json_array_append_new(arr, value) < 0) {
		*ok = false;
	}
}

/* A device string, or null when it was not reported. Strings in struct device are already clean
 * UTF-8; should one not be, it is cleaned again rather than dropped (jansson refuses bad UTF-8). */
static json_t *str_or_null(const char *s)
{
	if (!s || !*s)
		return json_null();
	json_t *v = json_string(s);
	if (v)
		return v;
	char *clean = text_clean(s);
	if (!clean)
		return NULL;
	v = json_string(clean);
	free(clean);
	return v;
}

static json_t *time_or_null(int64_t t)
{
	if (t <= 0)
		return json_null();
	char buf[CLOCK_ISO_LEN];
	return json_string(clock_format_utc(t, buf, sizeof buf));
}

static json_t *status_json(const struct device *d)
{
	bool ok = true;
	json_t *st = json_object();
	put(st, "device", d->status_device ? json_string(device_status_name(d->status_device)) : json_null(),
	    &ok);
	put(st, "printer",
	    d->status_printer ? json_string(printer_status_name(d->status_printer)) : json_null(), &ok);
	json_t *errors = json_array();
	if (d->error_bits_known) {
		for (int bit = 0; bit < 32; bit++) {
			if (!(d->error_bits & (UINT32_C(1) << bit)))
				continue;
			const char *name = printer_error_name(bit);
			char other[16];
			if (!name) {
				snprintf(other, sizeof other, "bit %d", bit);
				name = other;
			}
			append(errors, json_string(name), &ok);
		}
	}
	put(st, "errors", errors, &ok);
	put(st, "errors_known", json_boolean(d->error_bits_known), &ok);
	put(st, "panel", str_or_null(d->panel_text), &ok);
	if (!ok) {
		json_decref(st);
		return NULL;
	}
	return st;
}

static json_t *meters_json(const struct device *d)
{
	bool ok = true;
	json_t *m = json_object();
	static const char *const headline[] = { "total", "black", "color" };
	for (size_t i = 0; i < sizeof headline / sizeof headline[0]; i++) {
		const struct meter *x = device_meter(d, headline[i]);
		put(m, headline[i], x ? json_integer(x->value) : json_null(), &ok);
	}
	json_t *sources = json_array();
	for (size_t i = 0; i < d->n_meters; i++) {
		const struct meter *x = &d->meters[i];
		json_t *src = json_object();
		put(src, "name", str_or_null(x->name), &ok);
		put(src, "value", json_integer(x->value), &ok);
		put(src, "unit", json_integer(x->unit), &ok);
		put(src, "oid", str_or_null(x->oid), &ok);
		put(src, "raw", str_or_null(x->raw), &ok);
		put(src, "read_at", time_or_null(x->read_at), &ok);
		put(src, "back_from", x->back_from > 0 ? json_integer(x->back_from) : json_null(), &ok);
		put(src, "back_at", time_or_null(x->back_from > 0 ? x->back_at : 0), &ok);
		append(sources, src, &ok);
	}
	put(m, "sources", sources, &ok);
	if (!ok) {
		json_decref(m);
		return NULL;
	}
	return m;
}

static json_t *supply_json(const struct supply *s, int low_percent)
{
	bool ok = true;
	json_t *o = json_object();
	int pct = supply_percent(s);
	put(o, "index", json_integer(s->index), &ok);
	put(o, "description", str_or_null(s->description), &ok);
	put(o, "type", json_integer(s->type), &ok);
	put(o, "class", json_integer(s->klass), &ok);
	put(o, "colorant", str_or_null(s->colorant), &ok);
	put(o, "unit", json_integer(s->unit), &ok);
	put(o, "max", json_integer(s->max), &ok);
	put(o, "level", json_integer(s->level), &ok);
	put(o, "state", json_string(supply_state_name(supply_state_of(s, low_percent))), &ok);
	put(o, "percent", pct >= 0 ? json_integer(pct) : json_null(), &ok);
	if (!ok) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *tray_json(const struct tray *t)
{
	bool ok = true;
	json_t *o = json_object();
	int pct = tray_percent(t);
	char status[128];
	put(o, "index", json_integer(t->index), &ok);
	put(o, "name", str_or_null(t->name), &ok);
	put(o, "description", str_or_null(t->description), &ok);
	put(o, "media", str_or_null(t->media), &ok);
	put(o, "unit", json_integer(t->unit), &ok);
	put(o, "max", json_integer(t->max), &ok);
	put(o, "level", json_integer(t->level), &ok);
	put(o, "state", json_string(supply_state_name(tray_state_of(t))), &ok);
	put(o, "percent", pct >= 0 ? json_integer(pct) : json_null(), &ok);
	put(o, "status", t->status == TRAY_STATUS_NONE ? json_null() : json_integer(t->status), &ok);
	put(o, "status_text", str_or_null(tray_status_text(t->status, status, sizeof status)), &ok);
	if (!ok) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *cover_json(const struct cover *c)
{
	bool ok = true;
	json_t *o = json_object();
	put(o, "index", json_integer(c->index), &ok);
	put(o, "description", str_or_null(c->description), &ok);
	put(o, "status", c->status ? json_integer(c->status) : json_null(), &ok);
	put(o, "state", json_string(cover_status_name(c->status)), &ok);
	put(o, "open", json_boolean(cover_is_open(c)), &ok);
	if (!ok) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *alert_json(const struct alert *a)
{
	bool ok = true;
	json_t *o = json_object();
	put(o, "severity", json_string(alert_severity_name(a->severity)), &ok);
	put(o, "severity_code", json_integer(a->severity), &ok);
	put(o, "group", json_integer(a->group), &ok);
	put(o, "group_index", json_integer(a->group_index), &ok);
	put(o, "code", json_integer(a->code), &ok);
	put(o, "description", str_or_null(a->description), &ok);
	put(o, "location", json_integer(a->location), &ok);
	put(o, "training", json_integer(a->training), &ok);
	put(o, "index", json_integer(a->index), &ok);
	put(o, "time_ticks", json_integer(a->time_ticks), &ok);
	put(o, "first_seen", time_or_null(a->first_seen), &ok);
	if (!ok) {
		json_decref(o);
		return NULL;
	}
	return o;
}

json_t *device_json(const struct device *d, int low_percent)
{
	bool ok = true;
	json_t *o = json_object();
	put(o, "id", json_integer(d->id), &ok);
	put(o, "address", json_string(d->address ? d->address : ""), &ok);
	put(o, "port", json_integer(d->port), &ok);
	put(o, "vendor", str_or_null(d->vendor), &ok);
	put(o, "model", str_or_null(d->model), &ok);
	put(o, "serial", str_or_null(d->serial), &ok);
	put(o, "mac", str_or_null(d->mac), &ok);
	put(o, "firmware", str_or_null(d->firmware), &ok);
	put(o, "sys_name", str_or_null(d->sys_name), &ok);
	put(o, "sys_descr", str_or_null(d->sys_descr), &ok);
	put(o, "sys_object_id", str_or_null(d->sys_object_id), &ok);
	put(o, "location", str_or_null(d->location), &ok);
	put(o, "uptime_ticks", json_integer(d->uptime_ticks), &ok);
	put(o, "included", json_boolean(d->included), &ok);
	put(o, "first_seen", time_or_null(d->first_seen), &ok);
	put(o, "last_seen", time_or_null(d->last_seen), &ok);
	put(o, "last_poll", time_or_null(d->last_poll), &ok);
	put(o, "last_poll_ok", time_or_null(d->last_poll_ok), &ok);
	put(o, "poll_error", str_or_null(d->poll_error), &ok);
	put(o, "unreachable_polls", json_integer(d->unreachable_polls), &ok);
	put(o, "poll_warnings", str_or_null(d->poll_warnings), &ok);
	put(o, "status", status_json(d), &ok);
	put(o, "meters", meters_json(d), &ok);

	json_t *supplies = json_array();
	for (size_t i = 0; i < d->n_supplies; i++)
		append(supplies, supply_json(&d->supplies[i], low_percent), &ok);
	put(o, "supplies", supplies, &ok);

	json_t *alerts = json_array();
	for (size_t i = 0; i < d->n_alerts; i++)
		append(alerts, alert_json(&d->alerts[i]), &ok);
	put(o, "alerts", alerts, &ok);

	json_t *trays = json_array();
	for (size_t i = 0; i < d->n_trays; i++)
		append(trays, tray_json(&d->trays[i]), &ok);
	put(o, "trays", trays, &ok);

	json_t *covers = json_array();
	for (size_t i = 0; i < d->n_covers; i++)
		append(covers, cover_json(&d->covers[i]), &ok);
	put(o, "covers", covers, &ok);

	if (!ok) {
		json_decref(o);
		return NULL;
	}
	return o;
}
