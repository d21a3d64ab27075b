/* UTC timestamps and their text form (see clock.h). */
#include "model/clock.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

int64_t clock_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec;
}

int64_t clock_mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

char *clock_format_utc(int64_t t, char *buf, size_t len)
{
	if (!len)
		return buf;
	buf[0] = '\0';
	if (t == 0)
		return buf;
	time_t tt = (time_t)t;
	struct tm tm;
	if (!gmtime_r(&tt, &tm))
		return buf;
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return buf;
}

int clock_parse_utc(const char *text, int64_t *out)
{
	struct tm tm;
	memset(&tm, 0, sizeof tm);
	int n = 0;
	if (sscanf(text, "%4d-%2d-%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &n) != 3 || n != 10)
		return -1;
	const char *rest = text + n;
	if (*rest == 'T' || *rest == ' ') {
		int m = 0;
		if (sscanf(rest + 1, "%2d:%2d:%2d%n", &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &m) != 3 || m != 8)
			return -1;
		rest += 1 + m;
		if (*rest == 'Z')
			rest++;
	}
	if (*rest != '\0')
		return -1;
	if (tm.tm_year < 1970 || tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 || tm.tm_mday > 31 ||
	    tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 60)
		return -1;
	int year = tm.tm_year, mon = tm.tm_mon, mday = tm.tm_mday;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	time_t t = timegm(&tm);
	if (t == (time_t)-1)
		return -1;
	/* timegm normalises 2026-02-31 into March: such a date is not a date. */
	struct tm back;
	if (!gmtime_r(&t, &back) || back.tm_year + 1900 != year || back.tm_mon + 1 != mon ||
	    back.tm_mday != mday)
		return -1;
	*out = (int64_t)t;
	return 0;
}

char *clock_format_local(int64_t t, char *out, size_t len)
{
	if (t <= 0) {
		snprintf(out, len, "never");
		return out;
	}
	time_t tt = (time_t)t;
	struct tm tm;
	if (!localtime_r(&tt, &tm) || !strftime(out, len, "%Y-%m-%d %H:%M", &tm))
		snprintf(out, len, "%lld", (long long)t);
	return out;
}
