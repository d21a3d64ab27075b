/* Sizes and spans in words (see units.h). */
#include "model/units.h"

#include <stdio.h>

char *units_bytes(uint64_t v, char *out, size_t len)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB" };
	double x = (double)v;
	size_t u = 0;
	while (x >= 1024 && u + 1 < sizeof units / sizeof units[0]) {
		x /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(out, len, "%llu B", (unsigned long long)v);
	else
		snprintf(out, len, "%.1f %s", x, units[u]);
	return out;
}

char *units_span(int64_t s, char *out, size_t len)
{
	if (s < 0)
		s = 0;
	if (s < 60)
		snprintf(out, len, "%llds", (long long)s);
	else if (s < 3600)
		snprintf(out, len, "%lldm", (long long)(s / 60));
	else if (s < 86400)
		snprintf(out, len, "%lldh %02lldm", (long long)(s / 3600), (long long)(s % 3600 / 60));
	else
		snprintf(out, len, "%lldd %02lldh", (long long)(s / 86400), (long long)(s % 86400 / 3600));
	return out;
}
