/* Sizes and spans as people read them, the same words in every front end (the console, the
 * commands, log lines and e-mails). Pure functions. */
#ifndef FLEETCON_MODEL_UNITS_H
#define FLEETCON_MODEL_UNITS_H

#include <stddef.h>
#include <stdint.h>

/* Bytes: "512 B", "1.5 KiB", "12.0 MiB", "3.2 GiB", "1.1 TiB". Returns out. */
char *units_bytes(uint64_t v, char *out, size_t len);

/* A span of seconds: "45s", "12m", "3h 05m", "2d 04h". Negative is taken as 0. Returns out. */
char *units_span(int64_t seconds, char *out, size_t len);

#endif
