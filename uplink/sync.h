/* One sync: build the report from the store, commit it to the outbox, deliver the outbox (oldest
 * first), record the result; and the sync status that `fleetcon status`, the console and
 * monitoring read. Syncs of one database never overlap: each holds an exclusive lock on the file
 * "<database>.uplink-lock" (flock; released by the kernel if the process dies). */
#ifndef FLEETCON_UPLINK_SYNC_H
#define FLEETCON_UPLINK_SYNC_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model/config.h"
#include "model/error.h"
#include "model/store.h"
#include "model/uuid.h"
#include "uplink/outbox.h"

enum sync_trigger {
	SYNC_SCHEDULED, /* the daily slot: build a report, deliver everything */
	SYNC_MANUAL,    /* `fleetcon upload`, the console's "upload now": the same */
	SYNC_RETRY,     /* between slots: deliver the entries that are due, one attempt each, and
			   nothing while an authentication failure stands */
};

/* "scheduled", "manual", "retry" (the trigger column of the sync history). Static strings. */
const char *sync_trigger_name(enum sync_trigger t);

struct sync_options {
	enum sync_trigger trigger;
	const atomic_bool *cancel;      /* may be NULL; true stops the sync at the next step */
	outbox_event_fn on_event;       /* may be NULL; every stage, from build to acknowledged */
	void *event_ctx;
	int (*wait)(void *ctx, int64_t ms); /* may be NULL; see struct outbox_delivery */
	void *wait_ctx;
	int64_t lock_wait_ms;           /* how long to wait for another sync to end; 0 = not at all */
};

struct sync_result {
	bool built;                 /* a new report went into the outbox */
	char key[UUID_STR_LEN];     /* its idempotency key ("" when none) */
	int devices;
	size_t json_bytes;
	size_t gzip_bytes;
	int dropped;                /* entries dropped to keep the outbox within its bounds */
	int interrupted;            /* earlier syncs found "running" and closed as interrupted */
	struct outbox_result delivery;
	struct outbox_summary outbox; /* after the sync */
};

/* Runs one sync with the store connection s (which belongs to the calling thread). Returns 0 when
 * it ran, whatever the server said (r->delivery tells: everything was delivered when
 * r->delivery.pending is 0); -1 with err set when it could not run: uploads not configured,
 * another sync of this database still running after lock_wait_ms, a store error, or a report
 * that could not be built (that failure is recorded in the history too). */
int sync_run(struct store *s, const struct config *cfg, const struct sync_options *o,
	     struct sync_result *r, struct fc_error *err);

/* ---- status ---- */

struct sync_status {
	bool configured;          /* [server] url is set */
	bool in_progress;         /* a sync of this database is running right now */
	int64_t last_data;        /* newest successful poll of any printer */
	int64_t last_contact;     /* last HTTP answer from the server, any status */
	int last_contact_status;
	int64_t last_success;     /* last report acknowledged with 2xx */
	int64_t next_sync;        /* next scheduled slot ((time_t)-1 when none) */
	int64_t failing_since;    /* first failure since the last success, 0 = not failing */
	int64_t auth_failed;      /* a 401/403 not yet followed by a success, 0 = none */
	char auth_failed_reason[512];
	int64_t outbox_near_since; /* 0 = not near its bounds */
	struct outbox_summary outbox; /* near_bound: as recorded by the last sync, or by the rule now */

	const struct sync_record *last; /* the newest sync attempt (not a drop), or NULL; points
					   into history */
	bool last_failed;         /* it failed, was rejected, refused or interrupted */
	bool overdue;             /* a slot passed SCHEDULE_OVERDUE_GRACE ago without an attempt */
	int64_t missed_slot;      /* that slot */

	struct sync_record *history; /* every sync and drop, newest first */
	size_t n_history;
};

/* Reads the status at now (UTC seconds) into *st, which the caller frees with sync_status_clear().
 * The overdue rule: see schedule_overdue(); the agent "has had something to send" since its
 * oldest sync record or its first device, whichever is older (a new agent without printers is
 * never overdue). A sync record still "running" while no sync holds the lock was interrupted
 * and counts as failed. */
int sync_status_read(struct store *s, const struct config *cfg, int64_t now, struct sync_status *st,
		     struct fc_error *err);

void sync_status_clear(struct sync_status *st);

/* What monitoring is told: false when the last sync failed or the schedule is overdue (uploads
 * configured only). */
bool sync_status_healthy(const struct sync_status *st);

#endif
