/* Time as the store keeps it: whole seconds since the epoch, always UTC, and its ISO 8601 text.
 * Local time appears only where a person reads it (the console, the sync schedule). */
#ifndef FLEETCON_MODEL_CLOCK_H
#define FLEETCON_MODEL_CLOCK_H

#include <stdint.h>
#include <stddef.h>

/* Seconds since the epoch (UTC). */
int64_t clock_now(void);

/* Milliseconds from a monotonic clock, for timeouts and measuring; not a date. */
int64_t clock_mono_ms(void);

/* Writes "YYYY-MM-DDTHH:MM:SSZ" into buf (at least CLOCK_ISO_LEN bytes); returns buf.
 * A value of 0 gives "" (never happened). */
#define CLOCK_ISO_LEN 32
char *clock_format_utc(int64_t t, char *buf, size_t len);

/* Writes t as local time "YYYY-MM-DD HH:MM" into buf, "never" for t <= 0 (what people read on a
 * screen; files and reports use UTC). Returns buf. */
char *clock_format_local(int64_t t, char *buf, size_t len);

/* Parses "YYYY-MM-DD", "YYYY-MM-DDTHH:MM:SSZ" or "YYYY-MM-DD HH:MM:SS" (UTC) into *out.
 * Returns 0, or -1 when the text is not such a date. */
int clock_parse_utc(const char *text, int64_t *out);

#endif
