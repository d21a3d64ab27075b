/* One sync and the sync status (see sync.h). The order of a sync is what makes it safe: the new
 * report is committed to the outbox before anything is sent; the outbox is trimmed to its bounds
 * (never the new report); then every waiting entry is delivered oldest first. */
#include "uplink/sync.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "model/clock.h"
#include "uplink/report.h"
#include "uplink/schedule.h"
#include "uplink/transport.h"

const char *sync_trigger_name(enum sync_trigger t)
{
	static const char *const names[] = {
		[SYNC_SCHEDULED] = "scheduled", [SYNC_MANUAL] = "manual", [SYNC_RETRY] = "retry",
	};
	return (unsigned)t < sizeof names / sizeof names[0] ? names[t] : "unknown";
}

/* ---- the lock ---- */

/* Opens the lock file of the database. Returns the descriptor, or -1 with err set. */
static int lock_open(struct store *s, struct fc_error *err)
{
	char path[CONFIG_PATH_MAX + 32];
	if ((size_t)snprintf(path, sizeof path, "%s.uplink-lock", store_path(s)) >= sizeof path)
		return fc_error_set(err, "the database path is too long");
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return fc_error_set(err, "cannot open %s: %m", path); /* %m: strerror is not thread-safe */
	return fd;
}

/* Takes the lock, waiting up to wait_ms. Returns the descriptor (close it to release), or -1. */
static int lock_take(struct store *s, int64_t wait_ms, const atomic_bool *cancel, struct fc_error *err)
{
	int fd = lock_open(s, err);
	if (fd < 0)
		return -1;
	int64_t until = clock_mono_ms() + wait_ms;
	for (;;) {
		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			return fd;
		if (errno != EWOULDBLOCK && errno != EINTR) {
			fc_error_set(err, "cannot lock the uplink: %m");
			close(fd);
			return -1;
		}
		if (clock_mono_ms() >= until || (cancel && atomic_load(cancel))) {
			close(fd);
			return fc_error_set(err, "another upload of this database is still running; try again when it "
						 "has finished (`fleetcon status` shows it)");
		}
		struct timespec ts = { 0, 100 * 1000000L };
		nanosleep(&ts, NULL);
	}
}

/* Whether another sync holds the lock right now. */
static bool lock_busy(struct store *s)
{
	int fd = lock_open(s, NULL);
	if (fd < 0)
		return false; /* a reader without write access: cannot tell, say no */
	bool busy = flock(fd, LOCK_EX | LOCK_NB) < 0 && errno == EWOULDBLOCK;
	close(fd);
	return busy;
}

#define INTERRUPTED "interrupted: the agent stopped before this sync ended; its report stays in the outbox"

/* With the lock held, any sync still "running" was cut off by a crash or a kill. */
static int close_interrupted(struct store *s, int *count, struct fc_error *err)
{
	struct sync_record *list;
	size_t n;
	*count = 0;
	if (store_syncs_list(s, 50, &list, &n, err) < 0)
		return -1;
	int rc = 0;
	for (size_t i = 0; i < n && rc == 0; i++) {
		if (strcmp(list[i].result ? list[i].result : "", "running") != 0)
			continue;
		rc = store_sync_finish(s, list[i].id, "failed", 0, 0, list[i].devices, INTERRUPTED,
				       list[i].started_at, err);
		if (rc == 0)
			(*count)++;
	}
	sync_array_free(&list, n);
	return rc;
}

/* ---- a sync ---- */

static void event(const struct sync_options *o, enum outbox_stage stage, const char *key, int devices,
		  uint64_t done, uint64_t total)
{
	if (!o->on_event)
		return;
	struct outbox_event ev = { .stage = stage, .key = key, .devices = devices, .done = done, .total = total };
	o->on_event(o->event_ctx, &ev);
}

/* Builds the report and commits it to the outbox. A failure is recorded as a failed sync. */
static int build_into_outbox(struct store *s, const struct config *cfg, const struct sync_options *o,
			     struct sync_result *r, int64_t *id, struct fc_error *err)
{
	int64_t now = clock_now();
	struct report *rep = NULL;
	unsigned char *gz = NULL;
	event(o, OUTBOX_STAGE_BUILD, NULL, 0, 0, 0);
	int rc = report_load(s, cfg, now, &rep, err);
	if (rc == 0) {
		r->devices = report_device_count(rep);
		event(o, OUTBOX_STAGE_COMPRESS, NULL, r->devices, 0, 0);
		rc = report_gzip(rep, &gz, &r->gzip_bytes, &r->json_bytes, err);
	}
	report_free(&rep);
	if (rc == 0)
		rc = store_outbox_add(s, gz, r->gzip_bytes, r->devices, now, r->key, id, err);
	free(gz);
	if (rc < 0) {
		/* The history says why there was nothing to send; its own failure changes nothing. */
		int64_t sid;
		fc_error_prefix(err, "building the report");
		if (store_sync_start(s, sync_trigger_name(o->trigger), NULL, now, &sid, NULL) == 0)
			store_sync_finish(s, sid, "failed", 0, 0, 0, err->msg, clock_now(), NULL);
		return -1;
	}
	r->built = true;
	event(o, OUTBOX_STAGE_QUEUED, r->key, r->devices, r->json_bytes, r->gzip_bytes);
	return 0;
}

int sync_run(struct store *s, const struct config *cfg, const struct sync_options *o,
	     struct sync_result *r, struct fc_error *err)
{
	memset(r, 0, sizeof *r);
	if (!cfg->server.url[0])
		return fc_error_set(err, "uploads are not configured: set [server] url (and user, password)");
	int lock = lock_take(s, o->lock_wait_ms, o->cancel, err);
	if (lock < 0)
		return -1;
	int rc = close_interrupted(s, &r->interrupted, err);
	int64_t new_id = 0;
	if (rc == 0 && o->trigger != SYNC_RETRY)
		rc = build_into_outbox(s, cfg, o, r, &new_id, err);
	if (rc == 0)
		rc = outbox_enforce(s, cfg, clock_now(), new_id, sync_trigger_name(o->trigger), o->on_event,
				    o->event_ctx, &r->dropped, err);
	if (rc == 0) {
		struct outbox_delivery d = {
			.trigger = sync_trigger_name(o->trigger),
			.policy = outbox_policy_default,
			.cancel = o->cancel,
			.on_event = o->on_event,
			.event_ctx = o->event_ctx,
			.wait = o->wait,
			.wait_ctx = o->wait_ctx,
		};
		if (o->trigger == SYNC_RETRY) {
			d.policy.attempts = 1;
			d.policy.due_only = true;
		}
		transport_options_from_config(&d.transport, cfg);
		rc = outbox_deliver(s, &d, &r->delivery, err);
	}
	if (rc == 0)
		rc = outbox_record_state(s, cfg, clock_now(), &r->outbox, err);
	close(lock);
	return rc;
}

/* ---- status ---- */

void sync_status_clear(struct sync_status *st)
{
	if (!st)
		return;
	sync_array_free(&st->history, st->n_history);
	memset(st, 0, sizeof *st);
}

bool sync_status_healthy(const struct sync_status *st)
{
	return !st->configured || (!st->last_failed && !st->overdue);
}

static bool is_result(const struct sync_record *r, const char *what)
{
	return r->result && strcmp(r->result, what) == 0;
}

/* When the agent began having something to send: its oldest sync or its first device. */
static int active_since(struct store *s, const struct sync_status *st, int64_t *since, struct fc_error *err)
{
	int64_t t = 0;
	if (st->n_history)
		t = st->history[st->n_history - 1].started_at;
	struct device *devs;
	size_t n;
	if (store_devices_list(s, STORE_DEVICES_ALL, 0, &devs, &n, err) < 0)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (devs[i].first_seen > 0 && (t == 0 || devs[i].first_seen < t))
			t = devs[i].first_seen;
	device_array_free(&devs, n);
	/* No device and no sync: nothing was ever there to send. */
	*since = t ? t : INT64_MAX;
	return 0;
}

int sync_status_read(struct store *s, const struct config *cfg, int64_t now, struct sync_status *st,
		     struct fc_error *err)
{
	memset(st, 0, sizeof *st);
	st->configured = cfg->server.url[0] != '\0';
	st->in_progress = lock_busy(s);
	struct store_counts counts;
	char reason[sizeof st->auth_failed_reason], status[16];
	int got;
	if (store_counts(s, cfg->alerts.supply_low, &counts, err) < 0 ||
	    outbox_setting_time(s, OUTBOX_KEY_LAST_CONTACT, &st->last_contact, err) < 0 ||
	    outbox_setting_time(s, OUTBOX_KEY_LAST_SUCCESS, &st->last_success, err) < 0 ||
	    outbox_setting_time(s, OUTBOX_KEY_FAILING_SINCE, &st->failing_since, err) < 0 ||
	    outbox_setting_time(s, OUTBOX_KEY_AUTH_FAILED, &st->auth_failed, err) < 0 ||
	    outbox_setting_time(s, OUTBOX_KEY_NEAR_SINCE, &st->outbox_near_since, err) < 0 ||
	    outbox_summarize(s, cfg, now, &st->outbox, err) < 0)
		goto fail;
	st->last_data = counts.last_data;
	/* The recorded verdict, with its hysteresis, is what the e-mail alerts went by. */
	if (st->outbox_near_since)
		st->outbox.near_bound = true;
	if ((got = store_setting_get(s, OUTBOX_KEY_LAST_CONTACT_STATUS, status, sizeof status, err)) < 0)
		goto fail;
	st->last_contact_status = got ? atoi(status) : 0;
	if ((got = store_setting_get(s, OUTBOX_KEY_AUTH_FAILED_REASON, reason, sizeof reason, err)) < 0)
		goto fail;
	if (got && st->auth_failed)
		snprintf(st->auth_failed_reason, sizeof st->auth_failed_reason, "%s", reason);
	if (store_syncs_list(s, 0, &st->history, &st->n_history, err) < 0)
		goto fail;

	time_t next = schedule_next(&cfg->sync.time, cfg->sync.days, (time_t)now);
	st->next_sync = next;

	/* The newest attempt: drops are not attempts; the sync running right now is not over. */
	for (size_t i = 0; i < st->n_history && !st->last; i++) {
		const struct sync_record *r = &st->history[i];
		if (is_result(r, "dropped") || (is_result(r, "running") && st->in_progress))
			continue;
		st->last = r;
	}
	if (st->last)
		st->last_failed = !is_result(st->last, "ok");

	if (st->configured) {
		int64_t last_attempt = 0;
		for (size_t i = 0; i < st->n_history; i++)
			if (!is_result(&st->history[i], "dropped")) {
				last_attempt = st->history[i].started_at;
				break;
			}
		time_t missed;
		/* Cheap question first; the since-when only matters when a slot was missed. */
		if (schedule_overdue(&cfg->sync.time, cfg->sync.days, 0, (time_t)last_attempt, (time_t)now, &missed)) {
			int64_t since;
			if (active_since(s, st, &since, err) < 0)
				goto fail;
			st->overdue = schedule_overdue(&cfg->sync.time, cfg->sync.days, (time_t)since,
						       (time_t)last_attempt, (time_t)now, &missed);
			if (st->overdue)
				st->missed_slot = missed;
		}
	}
	return 0;
fail:
	sync_status_clear(st);
	return -1;
}
