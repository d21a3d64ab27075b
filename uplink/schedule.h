/* When the daily upload runs: [sync] time (local HH:MM) on [sync] days, in the local time zone
 * (TZ), correct across daylight-saving changes. Pure functions: the clock is passed in, so the
 * unit tests run them on fixed dates in several zones. The rules are in docs/report-format.md
 * ("Schedule"). */
#ifndef FLEETCON_UPLINK_SCHEDULE_H
#define FLEETCON_UPLINK_SCHEDULE_H

#include <stdbool.h>
#include <time.h>

#include "model/config.h"

/* A wake-up this many seconds after its slot still runs it (a busy host); later, the slot counts
 * as missed (the host was suspended or off) and the agent waits for the next one. */
#define SCHEDULE_LATE_LIMIT (15 * 60)

/* The schedule is overdue when a slot passed more than this long ago and no sync was attempted
 * since it (what `fleetcon status` reports to monitoring). */
#define SCHEDULE_OVERDUE_GRACE 3600

/* The first slot strictly after now, or (time_t)-1 when days has no day set.
 * The slot of a date D is the first instant of D whose local time is HH:MM or later:
 * - a time skipped by a spring-forward change (02:30 on the day clocks go from 02:00 to 03:00)
 *   gives the first valid time after it, the instant of the change (03:00);
 * - a time repeated by a fall-back change runs once, at its first occurrence.
 * A slot that passed while the agent was not running is never returned: the next one is.
 * days holds CONFIG_DAY(tm_wday) bits. Uses the process's time zone (TZ, tzset). */
time_t schedule_next(const struct config_tod *tod, unsigned days, time_t now);

/* The last slot at or before now (same rules), or (time_t)-1 when days has no day set. */
time_t schedule_prev(const struct config_tod *tod, unsigned days, time_t now);

/* Whether a service that slept until slot and woke at now should run it now: true from the slot
 * until SCHEDULE_LATE_LIMIT seconds after it. */
bool schedule_is_due(time_t slot, time_t now);

/* Whether the schedule is overdue at now: the last slot at least SCHEDULE_OVERDUE_GRACE seconds
 * old is not before since (when the agent began having something to send; 0 = always) and no
 * sync was attempted at or after it (last_attempt: start of the newest sync, 0 = never). When
 * overdue, *missed (may be NULL) is that slot. */
bool schedule_overdue(const struct config_tod *tod, unsigned days, time_t since, time_t last_attempt,
		      time_t now, time_t *missed);

#endif
