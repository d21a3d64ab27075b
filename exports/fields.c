/* The shared words of the audit exports (see fields.h). Code names are tables, written from the
 * IANA Printer MIB and RFC 3805; a code without a name here is shown as its number only. */
#include "exports/fields.h"

#include <stdio.h>
#include <string.h>

#include "model/clock.h"

struct code_name {
	int code;
	const char *name;
};

static const char *lookup(const struct code_name *table, size_t n, int code)
{
	for (size_t i = 0; i < n; i++)
		if (table[i].code == code)
			return table[i].name;
	return "";
}

#define LOOKUP(table, code) lookup(table, sizeof table / sizeof table[0], code)

static const struct code_name supply_classes[] = {
	{ SUPPLY_CLASS_OTHER, "other" },
	{ SUPPLY_CLASS_CONSUMED, "consumed" },
	{ SUPPLY_CLASS_RECEPTACLE, "receptacle" },
};

/* prtMarkerCounterUnit and prtMarkerSuppliesSupplyUnit share these values. */
static const struct code_name units[] = {
	{ 3, "tenThousandthsOfInches" }, { 4, "micrometers" }, { 7, "impressions" }, { 8, "sheets" },
	{ 11, "hours" }, { 13, "tenthsOfGrams" }, { 15, "tenthsOfMilliliters" }, { 16, "feet" },
	{ 17, "meters" }, { 18, "items" }, { 19, "percent" },
};

static const struct code_name alert_groups[] = {
	{ 1, "other" }, { 3, "hostResourcesMIBStorageTable" }, { 4, "hostResourcesMIBDeviceTable" },
	{ 5, "generalPrinter" }, { 6, "cover" }, { 7, "localization" }, { 8, "input" },
	{ 9, "output" }, { 10, "marker" }, { 11, "markerSupplies" }, { 12, "markerColorant" },
	{ 13, "mediaPath" }, { 14, "channel" }, { 15, "interpreter" }, { 16, "consoleDisplayBuffer" },
	{ 17, "consoleLights" }, { 18, "alert" },
};

const char *field_supply_class_name(int klass)
{
	return LOOKUP(supply_classes, klass);
}

const char *field_unit_name(int unit)
{
	return LOOKUP(units, unit);
}

const char *field_alert_group_name(int group)
{
	return LOOKUP(alert_groups, group);
}

char *field_errors(const struct device *d, char *buf, size_t len)
{
	if (len == 0)
		return buf;
	buf[0] = '\0';
	if (!d->error_bits_known)
		return buf;
	size_t used = 0;
	for (int b = 0; b < PRINTER_ERR_COUNT; b++) {
		if (!(d->error_bits & (1u << b)))
			continue;
		int n = snprintf(buf + used, len - used, "%s%s", used ? "; " : "", printer_error_name(b));
		if (n < 0 || (size_t)n >= len - used) {
			buf[used] = '\0'; /* a word that does not fit is left out whole */
			break;
		}
		used += (size_t)n;
	}
	return buf;
}

int field_each_device(struct store *s, enum store_device_filter filter, unsigned parts,
		      int (*fn)(void *ctx, const struct device *d, struct fc_error *err), void *ctx,
		      struct fc_error *err)
{
	struct device *list = NULL;
	size_t n = 0;
	/* Rows only: the parts are loaded one device at a time below. */
	if (store_devices_list(s, filter, 0, &list, &n, err) < 0)
		return -1;
	int rc = 0;
	for (size_t i = 0; i < n && rc == 0; i++) {
		if (!parts) {
			rc = fn(ctx, &list[i], err);
			continue;
		}
		struct device d;
		int found = store_device_load(s, list[i].id, parts, &d, err);
		if (found < 0) {
			rc = -1;
			break;
		}
		if (found == 0)
			continue; /* removed since the list was read */
		rc = fn(ctx, &d, err);
		device_clear(&d);
		device_clear(&list[i]); /* what has been exported need not stay in memory */
	}
	device_array_free(&list, n);
	return rc;
}

char *field_time(int64_t t, char *buf)
{
	return clock_format_utc(t, buf, CLOCK_ISO_LEN);
}
