/* The words and numbers both audit exports (CSV and HTML) show for a device: its overall status,
 * its error bits as words, and names for the Printer-MIB codes (supply classes, units,
 * alert groups). One place, so that the two formats always agree. */
#ifndef FLEETCON_EXPORTS_FIELDS_H
#define FLEETCON_EXPORTS_FIELDS_H

#include <stddef.h>
#include <stdint.h>

#include "model/device.h"
#include "model/error.h"
#include "model/store.h"

/* The error bits of d as words joined by "; " ("jammed; door open") into buf (len bytes, always
 * NUL-terminated; "" when there are none or they are not known). Returns buf. */
char *field_errors(const struct device *d, char *buf, size_t len);

/* Names of Printer-MIB codes, or "" for a code that has no name here (the number is shown next
 * to it). Static strings. */
const char *field_supply_class_name(int klass); /* "consumed", "receptacle", "other" */
const char *field_unit_name(int unit);          /* "impressions", "sheets", "percent" */
const char *field_alert_group_name(int group);  /* PrtAlertGroupTC: "markerSupplies" */

/* Calls fn for every device matching filter, in id order, loaded with `parts` (STORE_LOAD_*; the
 * device is borrowed for the call). One device is in memory at a time besides the id list, so a
 * fleet of any size streams. Stops at the first fn that returns non-zero and returns that; returns
 * -1 with err set when the store fails, 0 when every device was seen. */
int field_each_device(struct store *s, enum store_device_filter filter, unsigned parts,
		      int (*fn)(void *ctx, const struct device *d, struct fc_error *err), void *ctx,
		      struct fc_error *err);

/* Writes t as "YYYY-MM-DDTHH:MM:SSZ" into buf (CLOCK_ISO_LEN bytes), "" for 0. Returns buf. */
char *field_time(int64_t t, char *buf);

#endif
