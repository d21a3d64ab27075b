/* Audit exports: what to export (format, which devices, history since when, one CSV table or all)
 * and writing it safely: a report file or CSV folder appears complete or not at all (temporary
 * name in the same folder, fsync, rename), an existing one is replaced only when asked, and a full
 * disk leaves nothing behind. `fleetcon export` (exports/commands.h) and the console's export
 * dialog both call export_write(). Formats and columns: docs/exports.md. */
#ifndef FLEETCON_EXPORTS_EXPORT_H
#define FLEETCON_EXPORTS_EXPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "model/error.h"
#include "model/store.h"

struct config;

enum export_format { EXPORT_HTML, EXPORT_CSV };

/* The CSV tables, in the order of the files in a folder. */
enum export_table {
	EXPORT_TABLE_DEVICES,
	EXPORT_TABLE_METERS,
	EXPORT_TABLE_SUPPLIES,
	EXPORT_TABLE_ALERTS,
	EXPORT_TABLE_SYNCS,
	EXPORT_TABLE_COUNT
};

struct export_options {
	enum export_format format;
	/* Where: a file (html; csv with one_table), a folder (csv, all tables: devices.csv,
	 * meters.csv, supplies.csv, alerts.csv, syncs.csv), or "-" for `stream`. Borrowed. */
	const char *output;
	FILE *stream;            /* for output "-"; NULL = stdout */
	bool one_table;          /* csv: only `table` (always so when output is "-") */
	enum export_table table; /* csv with one_table */
	enum store_device_filter devices; /* STORE_DEVICES_INCLUDED (the default) or STORE_DEVICES_ALL */
	int64_t since;           /* meter and sync history from this UTC time; 0 = all of it */
	bool force;              /* replace an existing file or export folder */
	/* How the caller's user asks for force, for the message that refuses an existing output:
	 * "use --force" (the default), "set Replace existing to yes" (the console). Borrowed. */
	const char *force_hint;
	int64_t now;             /* the generation time shown in the report; 0 = clock_now() */
};

/* Options as the command starts from: HTML, included devices, all history, no --force. */
#define EXPORT_REFUSED (-2)
void export_options_init(struct export_options *o);

/* Writes the export o describes from s (read only) and cfg (site name, [sync] schedule,
 * [alerts] supply_low threshold). Files are made in the output's folder under a temporary name,
 * flushed to disk and renamed into place; a CSV folder is renamed as a whole. On any failure
 * (missing folder, existing output without force, disk full) the temporary files are removed,
 * the existing output is untouched, and err says what happened. Returns 0; EXPORT_REFUSED when
 * the destination is refused as asked (it exists and force is off, or it is a file where a folder
 * goes or the other way round: the caller's request is what to change); -1 for every other
 * failure. */
int export_write(struct store *s, const struct config *cfg, const struct export_options *o,
		 struct fc_error *err);

/* "html" / "csv" and back. parse returns 0, or -1 for an unknown name. Static strings. */
const char *export_format_name(enum export_format f);
int export_format_parse(const char *name, enum export_format *out);

/* "devices", "meters", "supplies", "alerts", "syncs" and back; file names add ".csv". */
const char *export_table_name(enum export_table t);
int export_table_parse(const char *name, enum export_table *out);

#endif
