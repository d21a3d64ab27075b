/* Errors as values: a function that can fail returns 0 or a negative number and, when it fails,
 * fills a caller-supplied struct fc_error with one sentence that says what went wrong and, where
 * it can, what to do. Library code never prints; the top layer (CLI, console) shows the message. */
#ifndef FLEETCON_MODEL_ERROR_H
#define FLEETCON_MODEL_ERROR_H

#include <stddef.h>

struct fc_error {
	char msg[1024];
};

/* Sets the message (printf-style). err may be NULL, then nothing happens. Always returns -1 so
 * that `return fc_error_set(err, ...);` reads naturally. */
int fc_error_set(struct fc_error *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Puts "PREFIX: " in front of the message already set (for context added on the way up).
 * Returns -1. */
int fc_error_prefix(struct fc_error *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Empties the message. */
void fc_error_clear(struct fc_error *err);

#endif
