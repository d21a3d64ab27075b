/* CSV audit tables: RFC 4180 (CRLF line ends; a field holding a comma, quote, CR or LF is quoted,
 * quotes doubled), UTF-8, a header row, stable columns listed in docs/exports.md. Device strings
 * are hostile: a text cell that starts with = + - @ tab or carriage return gets a leading single
 * quote (the OWASP advice), so that a spreadsheet shows it instead of running it. Numeric columns
 * are plain numbers and never changed; special values (-1/-2/-3 levels) are words, never numbers.
 * Everything streams: rows are written as they are read from the store. */
#ifndef FLEETCON_EXPORTS_CSV_H
#define FLEETCON_EXPORTS_CSV_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "exports/export.h"
#include "model/error.h"
#include "model/store.h"

/* True when a spreadsheet could take text s as a formula: it starts with =, +, -, @, a tab or a
 * carriage return. NULL is false. */
bool csv_needs_neutralising(const char *s);

/* Writes s as one text cell (NULL: an empty cell): neutralised when it needs it, then quoted when
 * it holds a comma, quote, CR or LF. Returns 0, or -1 when the stream failed (errno set). */
int csv_write_text(FILE *f, const char *s);

/* The encoded cell for s as a new string (caller frees); NULL only when out of memory. */
char *csv_encode(const char *s);

/* The name of column i (0, 1, ...) of table t, or NULL past the last (static): the header row, and
 * what docs/exports.md documents. */
const char *csv_table_column(enum export_table t, size_t i);

/* Writes table t (header and rows) to f for the devices and history o selects (o->devices,
 * o->since); low_percent is the threshold under which a supply is "low". Returns 0, or -1 with
 * err set when the store or the stream failed. Does not flush f. */
int csv_write_table(FILE *f, struct store *s, enum export_table t, const struct export_options *o,
		    int low_percent, struct fc_error *err);

#endif
