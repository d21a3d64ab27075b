/* Error messages carried up as values (see error.h). */
#include "model/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int fc_error_set(struct fc_error *err, const char *fmt, ...)
{
	if (!err)
		return -1;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof err->msg, fmt, ap);
	va_end(ap);
	return -1;
}

int fc_error_prefix(struct fc_error *err, const char *fmt, ...)
{
	if (!err)
		return -1;
	char old[sizeof err->msg];
	memcpy(old, err->msg, sizeof old);

	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(err->msg, sizeof err->msg, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof err->msg - 2)
		return -1;
	size_t used = (size_t)n;
	memcpy(err->msg + used, ": ", 2);
	used += 2;
	size_t room = sizeof err->msg - used - 1;
	size_t oldlen = strnlen(old, sizeof old);
	if (oldlen > room)
		oldlen = room;
	memcpy(err->msg + used, old, oldlen);
	err->msg[used + oldlen] = '\0';
	return -1;
}

void fc_error_clear(struct fc_error *err)
{
	if (err)
		err->msg[0] = '\0';
}
