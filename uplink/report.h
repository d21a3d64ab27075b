/* The daily report: what the agent sends to the communication server, as JSON (jansson) compressed
 * with gzip (zlib). The schema is versioned and documented in docs/report-format.md. A report holds
 * the agent's identity, the site, and every included device; never a community string, an SNMPv3
 * or server credential, a user name, or anything printed or scanned.
 *
 * Two steps, so that a caller can show progress: report_load() reads everything from the store
 * (the "build" stage), then report_write() streams the JSON text to a sink, or report_gzip()
 * streams it through deflate (the "compress" stage) without ever holding the whole text. */
#ifndef FLEETCON_UPLINK_REPORT_H
#define FLEETCON_UPLINK_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include "model/config.h"
#include "model/error.h"
#include "model/store.h"

#define REPORT_SCHEMA "fleetcon.report"
#define REPORT_SCHEMA_VERSION 1

struct report;

/* Reads what the report of `now` (UTC seconds: its generation time) contains: the agent id, the
 * site facts and device counts, and the included devices with meters, supplies and active
 * alerts. cfg is borrowed for the call only (site name, [alerts] supply_low). On success *out is
 * a new report the caller frees with report_free(). */
int report_load(struct store *s, const struct config *cfg, int64_t now, struct report **out,
		struct fc_error *err);

/* Frees a report and NULLs *r. */
void report_free(struct report **r);

/* The number of devices in the report. */
int report_device_count(const struct report *r);

/* Receives consecutive pieces of the report's JSON text. Returns 0, or -1 to stop (with err set). */
typedef int (*report_sink_fn)(void *ctx, const char *bytes, size_t len, struct fc_error *err);

/* Writes the report as compact JSON (no trailing newline) to sink, one device at a time. The same
 * report always gives the same bytes. *json_bytes (may be NULL) is the length written. */
int report_write(const struct report *r, report_sink_fn sink, void *ctx, size_t *json_bytes,
		 struct fc_error *err);

/* The report's JSON (as report_write gives it) in a new NUL-terminated buffer of *len bytes that
 * the caller frees: for previews, which show the text rather than send it. */
int report_json_text(const struct report *r, char **out, size_t *len, struct fc_error *err);

/* The report's JSON, gzip-compressed (RFC 1952) as it is streamed: *out is a new buffer of *out_len
 * bytes the caller frees; *json_bytes (may be NULL) is the uncompressed length. */
int report_gzip(const struct report *r, unsigned char **out, size_t *out_len, size_t *json_bytes,
		struct fc_error *err);

/* Decompresses a gzip body into a new NUL-terminated buffer (caller frees) of *out_len bytes, at
 * most max_len (a bound against a body that inflates without end). For previews of the outbox and
 * for tests. */
int report_gunzip(const unsigned char *in, size_t len, size_t max_len, char **out, size_t *out_len,
		  struct fc_error *err);

#endif
