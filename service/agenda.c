/* The agent's schedule (see agenda.h): when the next poll, discovery, daily sync and outbox retry
 * are due, and submitting them through the host. */
#include "service/agenda.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "model/agent.h"
#include "uplink/schedule.h"
#include "uplink/sync.h"

static int64_t later_of(int64_t a, int64_t b)
{
	return a > b ? a : b;
}

static int64_t slot_after(const struct config *cfg, int64_t now)
{
	time_t t = schedule_next(&cfg->sync.time, cfg->sync.days, (time_t)now);
	return t == (time_t)-1 ? 0 : (int64_t)t;
}

/* The newest discovery of any range (0 = never), and whether there are ranges. */
static int ranges_newest(struct store *s, int64_t *newest, size_t *count, struct fc_error *err)
{
	struct range *r = NULL;
	size_t n = 0;
	*newest = 0;
	*count = 0;
	if (store_ranges_list(s, &r, &n, err) < 0)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (r[i].last_run > *newest)
			*newest = r[i].last_run;
	*count = n;
	range_array_free(&r, n);
	return 0;
}

static void set_times(struct agenda *ag, const struct config *cfg, int64_t last_poll, int64_t last_discovery,
		      int64_t now)
{
	ag->next_poll = cfg->poll.interval > 0 ? later_of(last_poll + cfg->poll.interval, now + AGENDA_FIRST_POLL) : 0;
	ag->next_discovery = cfg->discovery.interval > 0 && !ag->polls_only
				     ? later_of(last_discovery + cfg->discovery.interval, now + AGENDA_FIRST_DISCOVERY)
				     : 0;
	bool uploads = cfg->server.url[0] && !ag->polls_only;
	ag->next_sync = uploads ? slot_after(cfg, now) : 0;
	ag->next_retry = uploads ? now + AGENDA_FIRST_RETRY : 0;
}

int agenda_init(struct agenda *ag, struct store *s, const struct config *cfg, bool polls_only, int64_t now,
		struct fc_error *err)
{
	memset(ag, 0, sizeof *ag);
	ag->polls_only = polls_only;
	struct sync_status st;
	int64_t last_poll = 0, last_discovery = 0;
	size_t nranges = 0;
	int rc = 0;
	if (sync_status_read(s, cfg, now, &st, err) == 0) {
		last_poll = st.last_data;
		sync_status_clear(&st);
	} else {
		rc = -1;
	}
	if (rc == 0 && ranges_newest(s, &last_discovery, &nranges, err) < 0)
		rc = -1;
	set_times(ag, cfg, last_poll, last_discovery, now);
	return rc;
}

void agenda_reconfigure(struct agenda *ag, struct store *s, const struct config *cfg, int64_t now)
{
	struct agenda keep = *ag;
	struct fc_error err = { "" };
	agenda_init(ag, s, cfg, keep.polls_only, now, &err);
	ag->poll_job = keep.poll_job;
	ag->discover_job = keep.discover_job;
	ag->sync_job = keep.sync_job;
	/* a poll or discovery due sooner under the old settings keeps its time if the new interval allows */
	if (keep.next_poll && ag->next_poll && keep.next_poll < ag->next_poll && cfg->poll.interval > 0)
		ag->next_poll = later_of(keep.next_poll, now);
}

static void note_line(void (*note)(void *, const char *), void *ctx, const char *fmt, const char *arg)
{
	if (!note)
		return;
	char line[256];
	snprintf(line, sizeof line, fmt, arg);
	note(ctx, line);
}

void agenda_run(struct agenda *ag, struct store *s, const struct config *cfg, int64_t now, unsigned busy,
		agenda_submit_fn submit, void *ctx, void (*note)(void *ctx, const char *line))
{
	if (ag->next_poll && now >= ag->next_poll && !ag->poll_job && !(busy & AGENDA_BUSY_POLL)) {
		ag->poll_job = submit(ctx, AGENT_CMD_POLL, 0, "scheduled poll of every included device");
		ag->next_poll = now + cfg->poll.interval;
	}
	if (ag->next_sync && now >= ag->next_sync && !ag->sync_job && !(busy & AGENDA_BUSY_UPLOAD)) {
		if (schedule_is_due((time_t)ag->next_sync, (time_t)now)) {
			ag->sync_job = submit(ctx, AGENT_CMD_UPLOAD, 1, "scheduled sync");
		} else {
			char when[64];
			struct tm tm;
			time_t t = (time_t)ag->next_sync;
			strftime(when, sizeof when, "%Y-%m-%d %H:%M", localtime_r(&t, &tm));
			note_line(note, ctx, "the sync slot of %s was missed (the agent was not running or the host slept); "
					     "the next slot sends", when);
		}
		ag->next_sync = slot_after(cfg, now);
		ag->next_retry = now + AGENDA_RETRY_EVERY;
	}
	if (ag->next_retry && now >= ag->next_retry && !ag->sync_job && !(busy & AGENDA_BUSY_UPLOAD)) {
		struct outbox_entry *e = NULL;
		size_t n = 0;
		struct fc_error err = { "" };
		if (store_outbox_list(s, false, &e, &n, &err) < 0)
			note_line(note, ctx, "outbox retry: %s", err.msg);
		outbox_array_free(&e, n);
		if (n)
			ag->sync_job = submit(ctx, AGENT_CMD_UPLOAD, 2, "retry of the reports waiting in the outbox");
		ag->next_retry = now + AGENDA_RETRY_EVERY;
	}
	if (ag->next_discovery && now >= ag->next_discovery && !ag->discover_job && !(busy & AGENDA_BUSY_DISCOVER)) {
		int64_t newest;
		size_t n = 0;
		struct fc_error err = { "" };
		if (ranges_newest(s, &newest, &n, &err) < 0)
			note_line(note, ctx, "scheduled discovery: %s", err.msg);
		if (n)
			ag->discover_job = submit(ctx, AGENT_CMD_DISCOVER, 0, "scheduled discovery of every range");
		ag->next_discovery = now + cfg->discovery.interval;
	}
}

bool agenda_job_done(struct agenda *ag, int64_t job)
{
	if (!job)
		return false;
	int64_t *mine[] = { &ag->poll_job, &ag->discover_job, &ag->sync_job };
	for (size_t i = 0; i < sizeof mine / sizeof mine[0]; i++) {
		if (*mine[i] == job) {
			*mine[i] = 0;
			return true;
		}
	}
	return false;
}

int64_t agenda_next(const struct agenda *ag)
{
	int64_t t[] = { ag->next_poll, ag->next_discovery, ag->next_sync, ag->next_retry };
	int64_t best = 0;
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
		if (t[i] && (!best || t[i] < best))
			best = t[i];
	return best;
}
