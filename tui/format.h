/* Text for the console's cells, as pure functions (no curses): display width of UTF-8 text, cutting
 * and padding on character boundaries, numbers, sizes, ages, countdowns and supply gauges. Every
 * function writes into a caller's buffer and always NUL-terminates it. The display widths come
 * from wcwidth(), so the caller must have set an LC_CTYPE (setlocale) that knows UTF-8; with
 * utf8 = false (an ASCII terminal) every character outside ASCII is shown as "?". */
#ifndef FLEETCON_TUI_FORMAT_H
#define FLEETCON_TUI_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model/device.h"

/* The display columns text takes on a terminal (utf8: by wcwidth, wide characters 2, combining
 * marks 0; ASCII: 1 per character). Invalid UTF-8 counts 1 per byte (shown as "?"). */
int fmt_width(const char *s, bool utf8);

/* Copies into out (len bytes) the longest start of s that fits in width columns, never splitting a
 * character; when s had to be cut, the last column holds "…" (utf8) or "~". With utf8 = false every
 * non-ASCII character becomes "?". Returns the columns used (<= width). */
int fmt_fit(const char *s, int width, bool utf8, char *out, size_t len);

/* fmt_fit, then padded with spaces to exactly width columns (right = aligned right). Returns
 * width (or less when out is too small to hold the padding). */
int fmt_pad(const char *s, int width, bool right, bool utf8, char *out, size_t len);

/* 1234567 -> "1,234,567"; negative -> "-" (not known). Returns out. */
char *fmt_count(int64_t v, char *out, size_t len);

/* A count in at most 6 columns: "999", "12,345", "123.4k", "12.3M", "1.2G". Negative -> "-". */
char *fmt_count_short(int64_t v, char *out, size_t len);

/* How long ago t was at now: "12s ago", "5m ago", "3h 05m ago", "never" (t = 0), "in the
 * future" for a clock that jumped back. */
char *fmt_ago(int64_t t, int64_t now, char *out, size_t len);

/* The same in at most 8 columns, for table cells: "45s ago", "12m ago", "3h ago", "2d ago",
 * "never", "future". */
char *fmt_ago_short(int64_t t, int64_t now, char *out, size_t len);

/* A countdown to t at now: "in 3h 05m", "in 12s", "due now" (t <= now), "not scheduled" (t <= 0). */
char *fmt_countdown(int64_t t, int64_t now, char *out, size_t len);

/* A gauge of width columns for a percentage 0..100: filled cells then empty ones, "█" / "░" with
 * utf8, "#" / "-" without; percent < 0 gives spaces (no honest percentage). Returns out. */
char *fmt_gauge(int percent, int width, bool utf8, char *out, size_t len);

/* The word for a supply in lists and next to a gauge, with [alerts] supply_low as low_percent.
 * Faults are words, never colour alone: "LOW 8%", "EMPTY", "75%", "unknown", "some left",
 * "no limit"; for a receptacle (waste toner) "FULL", "NEAR FULL", "room 75%". Returns out. */
char *fmt_supply(const struct supply *s, int low_percent, char *out, size_t len);

/* How bad a supply state is for sorting and colour: 0 = a fault (empty, full), 1 = low, 2 = fine
 * or unknown. */
int fmt_supply_severity(enum supply_state st);

/* A meter value for a cell: "1,234,567", or "-" when the device has none (v < 0). */
char *fmt_meter(int64_t v, char *out, size_t len);

#endif
