/* The agent's own schedule, one implementation for both hosts (the console that hosts the agent
 * and `fleetcon run`): the poll of every included device at [poll] interval after the last one,
 * a discovery of every range at [discovery] interval (when ranges exist), the daily sync at its
 * slot ([sync] time and days; a slot missed while the host slept or was off is not run late, the
 * next one is), and retries of the reports waiting in the outbox between slots. The host calls
 * agenda_run() now and then (at the latest at agenda_next()); it submits through a callback and
 * tells the agenda when jobs end. */
#ifndef FLEETCON_SERVICE_AGENDA_H
#define FLEETCON_SERVICE_AGENDA_H

#include <stdbool.h>
#include <stdint.h>

#include "model/config.h"
#include "model/error.h"
#include "model/store.h"

/* The first poll and discovery wait at least this long after the start (opening the console or
 * starting the service is not a reason to sweep the network at once), retries of the outbox
 * this long, and then AGENDA_RETRY_EVERY between them. Seconds. */
#define AGENDA_FIRST_POLL 10
#define AGENDA_FIRST_DISCOVERY 30
#define AGENDA_FIRST_RETRY 60
#define AGENDA_RETRY_EVERY 900

struct agenda {
	bool polls_only;         /* a read-only console: polls only (they change nothing the admin decides) */
	int64_t next_poll;       /* UTC seconds; 0 = off */
	int64_t next_discovery;
	int64_t next_sync;       /* the daily slot; 0 = uploads not configured */
	int64_t next_retry;
	int64_t poll_job;        /* the agenda's own jobs while they run (0 = none) */
	int64_t discover_job;
	int64_t sync_job;        /* the slot's sync or a retry */
};

/* What the host is doing on its own that the agenda must not overlap (agenda_run's busy). */
enum { AGENDA_BUSY_UPLOAD = 1, AGENDA_BUSY_DISCOVER = 2, AGENDA_BUSY_POLL = 4 };

/* Submits a command for the agenda: kind (AGENT_CMD_POLL, _DISCOVER, _UPLOAD), its a field,
 * and a few words for the log ("scheduled poll of every included device"). Returns the job, or
 * 0 when it could not be submitted (the host says why). */
typedef int64_t (*agenda_submit_fn)(void *ctx, int kind, int64_t a, const char *what);

/* Sets the first times from the store (the newest poll, the newest discovery of a range) and the
 * configuration at now. s is the host's own connection. Returns 0, or -1 with err set when the
 * store cannot be read (the agenda is then set from the configuration alone). */
int agenda_init(struct agenda *ag, struct store *s, const struct config *cfg, bool polls_only,
		int64_t now, struct fc_error *err);

/* The configuration changed (a reload): the next times are computed again, the jobs running are
 * kept. */
void agenda_reconfigure(struct agenda *ag, struct store *s, const struct config *cfg, int64_t now);

/* Submits what is due at now, except what busy (AGENDA_BUSY_* bits) says the host does already.
 * A message for the log, when something was skipped, goes to note (may be NULL; called with
 * one line). */
void agenda_run(struct agenda *ag, struct store *s, const struct config *cfg, int64_t now, unsigned busy,
		agenda_submit_fn submit, void *ctx, void (*note)(void *ctx, const char *line));

/* A job ended: returns true when it was one of the agenda's (it may then run again). */
bool agenda_job_done(struct agenda *ag, int64_t job);

/* The earliest next time of anything (UTC seconds), 0 when nothing is scheduled. */
int64_t agenda_next(const struct agenda *ag);

#endif
