/* The HTML audit report: one self-contained HTML5 file (inline CSS, no scripts, no external
 * resources) that reads on screen and on paper: site information, device counts, last and next
 * sync, a device table, per device its supplies as gauges, active alerts, meters and a monthly
 * meter history, the sync history, and when and by which agent version it was made. Every text
 * from a device or the configuration is escaped; attributes hold only our own constants and
 * numbers. The report is streamed: one device is in memory at a time. */
#ifndef FLEETCON_EXPORTS_HTML_H
#define FLEETCON_EXPORTS_HTML_H

#include <stdio.h>

#include "exports/export.h"
#include "model/error.h"
#include "model/store.h"

struct config;

/* Writes s (NULL: nothing) as HTML text: & < > " ' become entities; control characters other than
 * tab, CR and LF are dropped (C0, DEL and C1); bytes that are not UTF-8 and noncharacters become
 * U+FFFD. Safe in element content and in quoted attribute values. Returns 0, or -1 when the
 * stream failed. */
int html_write_text(FILE *f, const char *s);

/* The same escaping into a new string (caller frees); NULL only when out of memory. */
char *html_escape(const char *s);

/* Writes the whole report for the devices and history o selects (o->devices, o->since; o->now is
 * the generation time shown). cfg (may be NULL) gives the site name, the [sync] schedule and the
 * [alerts] supply_low threshold. Returns 0, or -1 with err set when the store or the stream
 * failed. Does not flush f. */
int html_write_report(FILE *f, struct store *s, const struct config *cfg,
		      const struct export_options *o, struct fc_error *err);

#endif
