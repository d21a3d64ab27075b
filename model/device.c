/* Plain operations on the domain types: freeing, and what supply levels and status codes mean
 * (the Printer-MIB and Host Resources MIB rules written down once, see PRINTER-DATA.md). */
#include "model/device.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void meter_clear(struct meter *m)
{
	free(m->name);
	free(m->oid);
	free(m->raw);
	memset(m, 0, sizeof *m);
}

static void supply_clear(struct supply *s)
{
	free(s->description);
	free(s->colorant);
	memset(s, 0, sizeof *s);
}

static void alert_clear(struct alert *a)
{
	free(a->description);
	memset(a, 0, sizeof *a);
}

static void tray_clear(struct tray *t)
{
	free(t->name);
	free(t->description);
	free(t->media);
	memset(t, 0, sizeof *t);
}

void device_clear(struct device *d)
{
	if (!d)
		return;
	char **strings[] = {
		&d->address, &d->profile, &d->vendor, &d->model, &d->serial, &d->mac, &d->firmware,
		&d->sys_name, &d->sys_descr, &d->sys_object_id, &d->location, &d->panel_text,
		&d->poll_error, &d->poll_warnings,
	};
	for (size_t i = 0; i < sizeof strings / sizeof strings[0]; i++)
		free(*strings[i]);
	for (size_t i = 0; i < d->n_meters; i++)
		meter_clear(&d->meters[i]);
	free(d->meters);
	for (size_t i = 0; i < d->n_supplies; i++)
		supply_clear(&d->supplies[i]);
	free(d->supplies);
	for (size_t i = 0; i < d->n_alerts; i++)
		alert_clear(&d->alerts[i]);
	free(d->alerts);
	for (size_t i = 0; i < d->n_trays; i++)
		tray_clear(&d->trays[i]);
	free(d->trays);
	for (size_t i = 0; i < d->n_covers; i++)
		free(d->covers[i].description);
	free(d->covers);
	memset(d, 0, sizeof *d);
}

void device_array_free(struct device **devs, size_t n)
{
	if (!devs || !*devs)
		return;
	for (size_t i = 0; i < n; i++)
		device_clear(&(*devs)[i]);
	free(*devs);
	*devs = NULL;
}

const struct meter *device_meter(const struct device *d, const char *name)
{
	for (size_t i = 0; i < d->n_meters; i++)
		if (d->meters[i].name && strcmp(d->meters[i].name, name) == 0)
			return &d->meters[i];
	return NULL;
}

int supply_percent(const struct supply *s)
{
	if (s->level < 0 || s->max <= 0)
		return -1;
	/* Some Brother models compute levels above the maximum: that is "full", not 130 %. */
	long long pct = (long long)s->level * 100 / s->max;
	if (pct > 100)
		pct = 100;
	return (int)pct;
}

enum supply_state supply_state_of(const struct supply *s, int low_percent)
{
	switch (s->level) {
	case SUPPLY_VALUE_OTHER:
		return SUPPLY_NO_RESTRICTION;
	case SUPPLY_VALUE_UNKNOWN:
		return SUPPLY_UNKNOWN;
	case SUPPLY_VALUE_SOME_REMAINING:
		return SUPPLY_SOME_REMAINING;
	default:
		break;
	}
	if (s->level < 0)
		return SUPPLY_UNKNOWN; /* outside the MIB (Ricoh's -100 is read elsewhere) */
	int pct = supply_percent(s);
	if (s->klass == SUPPLY_CLASS_RECEPTACLE) {
		/* A receptacle's level is the room that is left: 0 means full. */
		if (s->level == 0)
			return SUPPLY_FULL;
		if (pct >= 0 && pct < low_percent)
			return SUPPLY_LOW; /* nearly full */
		return SUPPLY_OK;
	}
	if (s->level == 0)
		return SUPPLY_EMPTY;
	if (pct >= 0 && pct < low_percent)
		return SUPPLY_LOW;
	return SUPPLY_OK;
}

/* IANA PrtMarkerSuppliesTypeTC (RFC 3805 and its IANA updates), indexed by code. */
static const struct {
	const char *mib;
	const char *word;
} supply_types[] = {
	[1] = { "other", "other" },
	[2] = { "unknown", "unknown" },
	[3] = { "toner", "toner" },
	[4] = { "wasteToner", "waste toner" },
	[5] = { "ink", "ink" },
	[6] = { "inkCartridge", "ink cartridge" },
	[7] = { "inkRibbon", "ink ribbon" },
	[8] = { "wasteInk", "waste ink" },
	[9] = { "opc", "drum" },
	[10] = { "developer", "developer" },
	[11] = { "fuserOil", "fuser oil" },
	[12] = { "solidWax", "solid wax" },
	[13] = { "ribbonWax", "ribbon wax" },
	[14] = { "wasteWax", "waste wax" },
	[15] = { "fuser", "fuser" },
	[16] = { "coronaWire", "corona wire" },
	[17] = { "fuserOilWick", "fuser oil wick" },
	[18] = { "cleanerUnit", "cleaner unit" },
	[19] = { "fuserCleaningPad", "fuser cleaning pad" },
	[20] = { "transferUnit", "transfer unit" },
	[21] = { "tonerCartridge", "toner cartridge" },
	[22] = { "fuserOiler", "fuser oiler" },
	[23] = { "water", "water" },
	[24] = { "wasteWater", "waste water" },
	[25] = { "glueWaterAdditive", "glue water additive" },
	[26] = { "wastePaper", "waste paper" },
	[27] = { "bindingSupply", "binding supply" },
	[28] = { "bandingSupply", "banding supply" },
	[29] = { "stitchingWire", "stitching wire" },
	[30] = { "shrinkWrap", "shrink wrap" },
	[31] = { "paperWrap", "paper wrap" },
	[32] = { "staples", "staples" },
	[33] = { "inserts", "inserts" },
	[34] = { "covers", "covers" },
};

const char *supply_type_mib_name(int type)
{
	if (type > 0 && (size_t)type < sizeof supply_types / sizeof supply_types[0])
		return supply_types[type].mib;
	return "";
}

const char *supply_type_word(int type)
{
	if (type > 0 && (size_t)type < sizeof supply_types / sizeof supply_types[0])
		return supply_types[type].word;
	return "supply";
}

const char *supply_state_name(enum supply_state st)
{
	static const char *const names[SUPPLY_STATE_COUNT] = {
		[SUPPLY_OK] = "ok",
		[SUPPLY_LOW] = "low",
		[SUPPLY_EMPTY] = "empty",
		[SUPPLY_UNKNOWN] = "unknown",
		[SUPPLY_SOME_REMAINING] = "some-remaining",
		[SUPPLY_NO_RESTRICTION] = "no-restriction",
		[SUPPLY_FULL] = "full",
	};
	if ((unsigned)st >= SUPPLY_STATE_COUNT)
		return "unknown";
	return names[st];
}

int device_lowest_supply(const struct device *d, size_t *which)
{
	int lowest = -1;
	for (size_t i = 0; i < d->n_supplies; i++) {
		const struct supply *s = &d->supplies[i];
		if (s->klass == SUPPLY_CLASS_RECEPTACLE)
			continue;
		int pct = supply_percent(s);
		if (pct >= 0 && (lowest < 0 || pct < lowest)) {
			lowest = pct;
			if (which)
				*which = i;
		}
	}
	return lowest;
}

int tray_percent(const struct tray *t)
{
	struct supply s = { .level = t->level, .max = t->max };
	return supply_percent(&s);
}

enum supply_state tray_state_of(const struct tray *t)
{
	switch (t->level) {
	case SUPPLY_VALUE_OTHER:
		return SUPPLY_NO_RESTRICTION;
	case SUPPLY_VALUE_SOME_REMAINING:
		return SUPPLY_SOME_REMAINING;
	case 0:
		return SUPPLY_EMPTY;
	default:
		return t->level < 0 ? SUPPLY_UNKNOWN : SUPPLY_OK;
	}
}

char *tray_status_text(int status, char *buf, size_t len)
{
	/* PrtSubUnitStatusTC (RFC 3805): bits 0-2 availability, 3 non-critical and 4 critical
	 * alerts, 5 off-line, 6 transitioning. Availability 7 is not in the TC. */
	static const char *const availability[8] = {
		"available and idle", "unavailable on request", "available and standby",
		"unavailable because broken", "available and active", "availability unknown",
		"available and busy", NULL,
	};
	static const struct {
		int bit;
		const char *words;
	} flags[] = {
		{ 8, "non-critical alerts" }, { 16, "critical alerts" }, { 32, "off-line" },
		{ 64, "transitioning" },
	};
	if (len)
		buf[0] = '\0';
	if (status < 0 || status > 126 || !availability[status & 7] || !len)
		return buf;
	size_t at = (size_t)snprintf(buf, len, "%s", availability[status & 7]);
	for (size_t i = 0; i < sizeof flags / sizeof flags[0] && at < len; i++)
		if (status & flags[i].bit)
			at += (size_t)snprintf(buf + at, len - at, ", %s", flags[i].words);
	return buf;
}

const char *cover_status_name(int status)
{
	static const char *const names[] = { NULL, "other", "unknown", "open", "closed", "interlock open",
					     "interlock closed" };
	if (status >= COVER_OTHER && status <= COVER_INTERLOCK_CLOSED)
		return names[status];
	return "unknown";
}

bool cover_is_open(const struct cover *c)
{
	return c->status == COVER_OPEN || c->status == COVER_INTERLOCK_OPEN;
}

static const struct {
	const char *name;
	bool critical;
} printer_errors[PRINTER_ERR_COUNT] = {
	[PRINTER_ERR_LOW_PAPER] = { "low paper", false },
	[PRINTER_ERR_NO_PAPER] = { "no paper", true },
	[PRINTER_ERR_LOW_TONER] = { "low toner", false },
	[PRINTER_ERR_NO_TONER] = { "no toner", true },
	[PRINTER_ERR_DOOR_OPEN] = { "door open", true },
	[PRINTER_ERR_JAMMED] = { "jammed", true },
	[PRINTER_ERR_OFFLINE] = { "offline", true },
	[PRINTER_ERR_SERVICE_REQUESTED] = { "service requested", true },
	[PRINTER_ERR_INPUT_TRAY_MISSING] = { "input tray missing", true },
	[PRINTER_ERR_OUTPUT_TRAY_MISSING] = { "output tray missing", true },
	[PRINTER_ERR_MARKER_SUPPLY_MISSING] = { "marker supply missing", true },
	[PRINTER_ERR_OUTPUT_NEAR_FULL] = { "output near full", false },
	[PRINTER_ERR_OUTPUT_FULL] = { "output full", true },
	[PRINTER_ERR_INPUT_TRAY_EMPTY] = { "input tray empty", false },
	[PRINTER_ERR_OVERDUE_PREVENT_MAINT] = { "overdue maintenance", false },
};

const char *printer_error_name(int bit)
{
	if (bit < 0 || bit >= PRINTER_ERR_COUNT)
		return NULL;
	return printer_errors[bit].name;
}

bool printer_error_is_critical(int bit)
{
	return bit >= 0 && bit < PRINTER_ERR_COUNT && printer_errors[bit].critical;
}

const char *device_status_name(int status)
{
	static const char *const names[] = { NULL, "unknown", "running", "warning", "testing", "down" };
	if (status >= 1 && status <= 5)
		return names[status];
	return "unknown";
}

const char *printer_status_name(int status)
{
	static const char *const names[] = { NULL, "other", "unknown", "idle", "printing", "warmup" };
	if (status >= 1 && status <= 5)
		return names[status];
	return "unknown";
}

const char *alert_severity_name(int severity)
{
	switch (severity) {
	case 1: return "other";
	case 3: return "critical";
	case 4: return "warning";
	case 5: return "warning";
	default: return "unknown";
	}
}

enum device_state device_state_of(const struct device *d)
{
	if (d->unreachable_polls > 0)
		return DEVICE_UNREACHABLE;
	if (d->last_poll_ok == 0)
		return DEVICE_UNKNOWN;
	if (d->status_device == 5)
		return DEVICE_FAULT;
	bool warning = d->status_device == 3 || d->poll_error != NULL || d->poll_warnings != NULL;
	if (d->error_bits_known) {
		for (int b = 0; b < PRINTER_ERR_COUNT; b++) {
			if (!(d->error_bits & (1u << b)))
				continue;
			if (printer_error_is_critical(b))
				return DEVICE_FAULT;
			warning = true;
		}
	}
	for (size_t i = 0; i < d->n_alerts; i++) {
		if (d->alerts[i].cleared_at)
			continue;
		if (d->alerts[i].severity == 3)
			return DEVICE_FAULT;
		warning = true;
	}
	/* Without the printer's own error bits, the sub-unit tables stand in for doorOpen and
	 * inputTrayEmpty; with them, they would only say the same thing twice (or contradict the
	 * printer's summary: a bypass tray at 0 is not a problem while another tray has paper). */
	if (!d->error_bits_known) {
		for (size_t i = 0; i < d->n_covers; i++)
			if (cover_is_open(&d->covers[i]))
				return DEVICE_FAULT;
		for (size_t i = 0; i < d->n_trays && !warning; i++)
			warning = tray_state_of(&d->trays[i]) == SUPPLY_EMPTY;
	}
	for (size_t i = 0; i < d->n_meters && !warning; i++)
		warning = d->meters[i].back_from > 0;
	return warning ? DEVICE_WARNING : DEVICE_OK;
}

const char *device_state_name(enum device_state st)
{
	static const char *const names[DEVICE_STATE_COUNT] = {
		[DEVICE_FAULT] = "fault",
		[DEVICE_UNREACHABLE] = "unreachable",
		[DEVICE_WARNING] = "warning",
		[DEVICE_UNKNOWN] = "unknown",
		[DEVICE_OK] = "ok",
	};
	if ((unsigned)st >= DEVICE_STATE_COUNT)
		return "unknown";
	return names[st];
}
