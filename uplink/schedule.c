/* The daily schedule (see schedule.h). A slot is found per calendar date: mktime() is asked for
 * HH:MM as standard and as daylight time, and whichever really shows HH:MM on that date is the
 * slot; when neither does, HH:MM fell into a spring-forward gap and the slot is the instant the
 * gap ends, found by bisection between the two answers. */
#include "uplink/schedule.h"

#include <stdint.h>

/* How far to look for a day in [sync] days: a week and a day covers "only Mondays". */
#define SEARCH_DAYS 8

struct date {
	int year, mon, mday; /* as in struct tm */
	int wday;
};

/* A local time as one comparable number: YYYYMMDDhhmmss. */
static int64_t local_key(time_t t)
{
	struct tm tm;
	if (!localtime_r(&t, &tm))
		return -1;
	return ((((int64_t)(tm.tm_year + 1900) * 100 + tm.tm_mon + 1) * 100 + tm.tm_mday) * 100 + tm.tm_hour) *
		       10000 +
	       tm.tm_min * 100 + tm.tm_sec;
}

static int64_t date_key(const struct date *d, int hour, int minute)
{
	return ((((int64_t)(d->year + 1900) * 100 + d->mon + 1) * 100 + d->mday) * 100 + hour) * 10000 +
	       minute * 100;
}

/* The date `offset` days from the local date of now. Noon is used because no time zone changes
 * its clocks at noon, so the normalised date is always the one meant. */
static int date_at(time_t now, int offset, struct date *out)
{
	struct tm tm;
	if (!localtime_r(&now, &tm))
		return -1;
	struct tm noon = {
		.tm_year = tm.tm_year, .tm_mon = tm.tm_mon, .tm_mday = tm.tm_mday + offset,
		.tm_hour = 12, .tm_isdst = -1,
	};
	if (mktime(&noon) == (time_t)-1)
		return -1;
	*out = (struct date){ noon.tm_year, noon.tm_mon, noon.tm_mday, noon.tm_wday };
	return 0;
}

/* The slot of date d: the first instant of d whose local time is hour:minute or later. */
static time_t slot_on(const struct date *d, const struct config_tod *tod)
{
	int64_t want = date_key(d, tod->hour, tod->minute);
	time_t cand[2], best = (time_t)-1;
	for (int dst = 0; dst < 2; dst++) {
		struct tm tm = {
			.tm_year = d->year, .tm_mon = d->mon, .tm_mday = d->mday,
			.tm_hour = tod->hour, .tm_min = tod->minute, .tm_isdst = dst,
		};
		cand[dst] = mktime(&tm);
		if (cand[dst] != (time_t)-1 && local_key(cand[dst]) == want &&
		    (best == (time_t)-1 || cand[dst] < best))
			best = cand[dst]; /* on a fall-back day both are valid: the first one wins */
	}
	if (best != (time_t)-1)
		return best;
	if (cand[0] == (time_t)-1 || cand[1] == (time_t)-1)
		return (time_t)-1;
	/* A gap: one answer lies before it (local time < HH:MM), the other after. */
	time_t lo = cand[0] < cand[1] ? cand[0] : cand[1];
	time_t hi = cand[0] < cand[1] ? cand[1] : cand[0];
	if (local_key(lo) >= want || local_key(hi) < want)
		return hi; /* not the shape of a gap; the later answer is the safe choice */
	while (hi - lo > 1) {
		time_t mid = lo + (hi - lo) / 2;
		if (local_key(mid) >= want)
			hi = mid;
		else
			lo = mid;
	}
	return hi;
}

/* The first slot after now (step +1: strictly after) or the last at or before it (step -1),
 * looking day by day from now's local date. */
static time_t search(const struct config_tod *tod, unsigned days, time_t now, int step)
{
	for (int k = 0; k <= SEARCH_DAYS; k++) {
		struct date d;
		if (date_at(now, k * step, &d) < 0)
			return (time_t)-1;
		if (!(days & CONFIG_DAY(d.wday)))
			continue;
		time_t s = slot_on(&d, tod);
		if (s != (time_t)-1 && (step > 0 ? s > now : s <= now))
			return s;
	}
	return (time_t)-1;
}

time_t schedule_next(const struct config_tod *tod, unsigned days, time_t now)
{
	return search(tod, days, now, 1);
}

time_t schedule_prev(const struct config_tod *tod, unsigned days, time_t now)
{
	return search(tod, days, now, -1);
}

bool schedule_is_due(time_t slot, time_t now)
{
	return slot != (time_t)-1 && now >= slot && now - slot <= SCHEDULE_LATE_LIMIT;
}

bool schedule_overdue(const struct config_tod *tod, unsigned days, time_t since, time_t last_attempt,
		      time_t now, time_t *missed)
{
	time_t slot = schedule_prev(tod, days, now - SCHEDULE_OVERDUE_GRACE);
	if (slot == (time_t)-1 || slot < since)
		return false;
	/* A sync that started a little before the slot (a clock step) still counts for it. */
	if (last_attempt > 0 && last_attempt >= slot - 60)
		return false;
	if (missed)
		*missed = slot;
	return true;
}
