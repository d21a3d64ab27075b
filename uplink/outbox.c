/* Delivery of the outbox (see outbox.h): the retry loop around transport_post(), the states kept
 * in settings, and the bounds. Every change of an entry is written to the store before the next
 * step, so a process killed at any point leaves an outbox that the next run delivers correctly. */
#include "uplink/outbox.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "model/clock.h"
#include "model/units.h"

/* A rejected report is tried again at the next daily sync, not every few minutes. */
#define REJECTED_RETRY_S 86400

const struct outbox_policy outbox_policy_default = {
	.attempts = 4,
	.base_delay_ms = 1000,
	.max_delay_ms = 8000,
	.max_wait_ms = 120 * 1000,
	.due_only = false,
};

const char *outbox_stage_name(enum outbox_stage st)
{
	static const char *const names[] = {
		[OUTBOX_STAGE_BUILD] = "build",
		[OUTBOX_STAGE_COMPRESS] = "compress",
		[OUTBOX_STAGE_QUEUED] = "queued",
		[OUTBOX_STAGE_CONNECT] = "connect",
		[OUTBOX_STAGE_TLS] = "tls",
		[OUTBOX_STAGE_SEND] = "send",
		[OUTBOX_STAGE_WAIT] = "wait",
		[OUTBOX_STAGE_ACKNOWLEDGED] = "acknowledged",
		[OUTBOX_STAGE_RETRY_WAIT] = "retry-wait",
		[OUTBOX_STAGE_FAILED] = "failed",
		[OUTBOX_STAGE_DROPPED] = "dropped",
	};
	return (unsigned)st < sizeof names / sizeof names[0] ? names[st] : "unknown";
}

int64_t outbox_backoff_ms(int n, int64_t base_ms, int64_t cap_ms, uint32_t rnd)
{
	if (n < 1)
		n = 1;
	int64_t d = base_ms;
	for (int i = 1; i < n && d < cap_ms; i++)
		d *= 2;
	if (d > cap_ms)
		d = cap_ms;
	if (d <= 1)
		return d < 0 ? 0 : d;
	int64_t half = d / 2;
	return half + (int64_t)(rnd % (uint64_t)(d - half + 1));
}

int64_t outbox_retry_delay(int n, uint32_t rnd)
{
	return outbox_backoff_ms(n, 60, 3600, rnd);
}

/* ---- settings ---- */

int outbox_setting_time(struct store *s, const char *key, int64_t *out, struct fc_error *err)
{
	char buf[32];
	*out = 0;
	int found = store_setting_get(s, key, buf, sizeof buf, err);
	if (found < 0)
		return -1;
	if (found) {
		char *end;
		errno = 0;
		long long v = strtoll(buf, &end, 10);
		if (errno == 0 && end != buf && *end == '\0' && v > 0)
			*out = v;
	}
	return 0;
}

static int set_time(struct store *s, const char *key, int64_t t, struct fc_error *err)
{
	char buf[32];
	snprintf(buf, sizeof buf, "%" PRId64, t);
	return store_setting_set(s, key, buf, err);
}

/* Sets key to t unless it already holds a time (keeps "since when"). */
static int set_time_once(struct store *s, const char *key, int64_t t, struct fc_error *err)
{
	int64_t cur;
	if (outbox_setting_time(s, key, &cur, err) < 0)
		return -1;
	return cur ? 0 : set_time(s, key, t, err);
}

/* ---- delivery ---- */

struct progress_ctx {
	const struct outbox_delivery *d;
	struct outbox_event ev;
};

static void emit(const struct outbox_delivery *d, const struct outbox_event *ev)
{
	if (d->on_event)
		d->on_event(d->event_ctx, ev);
}

static void on_transport(void *ctx, enum transport_stage st, uint64_t sent, uint64_t total)
{
	static const enum outbox_stage map[] = {
		[TRANSPORT_CONNECT] = OUTBOX_STAGE_CONNECT,
		[TRANSPORT_TLS] = OUTBOX_STAGE_TLS,
		[TRANSPORT_SEND] = OUTBOX_STAGE_SEND,
		[TRANSPORT_WAIT] = OUTBOX_STAGE_WAIT,
	};
	struct progress_ctx *p = ctx;
	struct outbox_event ev = p->ev;
	ev.stage = map[st];
	ev.done = sent;
	if (total)
		ev.total = total; /* before the transfer starts, the entry's size stands */
	emit(p->d, &ev);
}

static bool cancelled(const struct outbox_delivery *d)
{
	return d->cancel && atomic_load(d->cancel);
}

static int default_wait(const struct outbox_delivery *d, int64_t ms)
{
	while (ms > 0) {
		if (cancelled(d))
			return 1;
		int64_t step = ms > 100 ? 100 : ms;
		struct timespec ts = { step / 1000, (long)(step % 1000) * 1000000L };
		while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
			;
		ms -= step;
	}
	return cancelled(d);
}

static int do_wait(const struct outbox_delivery *d, int64_t ms)
{
	return d->wait ? d->wait(d->wait_ctx, ms) : default_wait(d, ms);
}

static int64_t now_of(const struct outbox_delivery *d)
{
	return d->now ? d->now() : clock_now();
}

/* What an entry's delivery came to, for the loop over entries. */
enum entry_end { ENTRY_NEXT, ENTRY_STOP };

/* Delivers one entry with the policy's retries. Returns ENTRY_NEXT / ENTRY_STOP, or -1 on a store
 * error. */
static int deliver_entry(struct store *s, const struct outbox_delivery *d, const struct outbox_entry *e,
			 size_t pos, size_t count, struct outbox_result *res, struct fc_error *err)
{
	int64_t sync_id;
	if (store_sync_start(s, d->trigger, e->key, now_of(d), &sync_id, err) < 0)
		return -1;
	struct progress_ctx pctx = { .d = d };
	pctx.ev = (struct outbox_event){
		.key = e->key, .entry = pos, .entries = count, .devices = e->devices, .total = e->size,
	};
	struct transport_options t = d->transport;
	t.progress = on_transport;
	t.progress_ctx = &pctx;
	t.cancel = d->cancel;
	int attempts = d->policy.attempts > 0 ? d->policy.attempts : 1;

	for (int attempt = 1;; attempt++) {
		pctx.ev.attempt = attempt;
		struct transport_result tr;
		struct fc_error terr = { { 0 } };
		if (transport_post(&t, e->key, e->body, e->size, &tr, &terr) < 0) {
			snprintf(res->error, sizeof res->error, "%.*s", (int)sizeof res->error - 1, terr.msg);
			store_sync_finish(s, sync_id, "failed", 0, 0, e->devices, terr.msg, now_of(d), NULL);
			fc_error_set(err, "%s", terr.msg);
			return -1;
		}
		int64_t when = now_of(d);
		if (tr.http_status > 0) {
			res->http_status = tr.http_status;
			char st[16];
			snprintf(st, sizeof st, "%d", tr.http_status);
			if (set_time(s, OUTBOX_KEY_LAST_CONTACT, when, err) < 0 ||
			    store_setting_set(s, OUTBOX_KEY_LAST_CONTACT_STATUS, st, err) < 0)
				return -1;
		}
		struct outbox_event ev = pctx.ev;
		ev.http_status = tr.http_status;
		ev.message = tr.message;
		ev.done = tr.bytes_sent;
		ev.total = e->size;

		if (tr.outcome == TRANSPORT_DELIVERED) {
			/* Removal and its record in one transaction: a crash between them cannot leave a
			 * delivered report behind without its "ok". */
			if (store_begin(s, err) < 0)
				return -1;
			if (store_outbox_remove(s, e->id, err) < 0 ||
			    store_sync_finish(s, sync_id, "ok", tr.http_status, (int64_t)e->size, e->devices, NULL,
					      when, err) < 0 ||
			    set_time(s, OUTBOX_KEY_LAST_SUCCESS, when, err) < 0 ||
			    set_time(s, OUTBOX_KEY_FAILING_SINCE, 0, err) < 0 ||
			    set_time(s, OUTBOX_KEY_AUTH_FAILED, 0, err) < 0 ||
			    store_setting_set(s, OUTBOX_KEY_AUTH_FAILED_REASON, "", err) < 0 ||
			    store_commit(s, err) < 0) {
				store_rollback(s);
				return -1;
			}
			res->delivered++;
			ev.stage = OUTBOX_STAGE_ACKNOWLEDGED;
			emit(d, &ev);
			return ENTRY_NEXT;
		}

		/* Every other outcome is a failed attempt, written to the entry at once. */
		int64_t next = when + outbox_retry_delay(e->attempts + attempt, arc4random());
		if (tr.outcome == TRANSPORT_REJECTED)
			next = when + REJECTED_RETRY_S;
		if (tr.retry_after > 0 && when + tr.retry_after > next)
			next = when + tr.retry_after;
		snprintf(res->error, sizeof res->error, "%s", tr.message);
		if (store_outbox_attempted(s, e->id, tr.message, next, err) < 0 ||
		    set_time_once(s, OUTBOX_KEY_FAILING_SINCE, when, err) < 0)
			return -1;

		const char *result = "failed";
		enum entry_end end = ENTRY_STOP;
		switch (tr.outcome) {
		case TRANSPORT_AUTH_FAILED:
			if (set_time_once(s, OUTBOX_KEY_AUTH_FAILED, when, err) < 0 ||
			    store_setting_set(s, OUTBOX_KEY_AUTH_FAILED_REASON, tr.message, err) < 0)
				return -1;
			res->auth_failed = true;
			result = "auth-failed";
			break;
		case TRANSPORT_REJECTED:
			res->rejected++;
			result = "rejected";
			end = ENTRY_NEXT;
			break;
		case TRANSPORT_TLS_FAILED:
			res->tls_failed = true;
			res->failed++;
			break;
		case TRANSPORT_CANCELLED:
			res->cancelled = true;
			res->failed++;
			break;
		case TRANSPORT_DELIVERED: /* handled above */
		case TRANSPORT_RETRY:
			if (attempt < attempts && !cancelled(d)) {
				int64_t wait = outbox_backoff_ms(attempt, d->policy.base_delay_ms, d->policy.max_delay_ms,
								 arc4random());
				if (tr.retry_after > 0 && tr.retry_after * 1000 > wait)
					wait = tr.retry_after * 1000;
				if (wait <= d->policy.max_wait_ms) {
					ev.stage = OUTBOX_STAGE_RETRY_WAIT;
					ev.wait_ms = wait;
					emit(d, &ev);
					if (do_wait(d, wait) == 0)
						continue;
					res->cancelled = true;
				}
			}
			res->failed++;
			break;
		}
		if (store_sync_finish(s, sync_id, result, tr.http_status, (int64_t)tr.bytes_sent, e->devices,
				      tr.message, now_of(d), err) < 0)
			return -1;
		ev.stage = OUTBOX_STAGE_FAILED;
		emit(d, &ev);
		return end;
	}
}

static int count_entries(struct store *s, int *out, struct fc_error *err)
{
	struct outbox_entry *list;
	size_t n;
	if (store_outbox_list(s, false, &list, &n, err) < 0)
		return -1;
	outbox_array_free(&list, n);
	*out = (int)n;
	return 0;
}

int outbox_deliver(struct store *s, const struct outbox_delivery *d, struct outbox_result *res,
		   struct fc_error *err)
{
	memset(res, 0, sizeof *res);
	if (!d->transport.url || !*d->transport.url)
		return fc_error_set(err, "uploads are not configured: set [server] url");
	if (d->policy.due_only) {
		int64_t auth_failed;
		if (outbox_setting_time(s, OUTBOX_KEY_AUTH_FAILED, &auth_failed, err) < 0)
			return -1;
		if (auth_failed) {
			/* Retrying with credentials the server refused would only lock the account:
			 * wait for the next scheduled sync or an admin's upload. */
			res->auth_failed = true;
			if (count_entries(s, &res->pending, err) < 0)
				return -1;
			res->skipped = res->pending;
			return 0;
		}
	}
	struct outbox_entry *list;
	size_t n;
	if (store_outbox_list(s, true, &list, &n, err) < 0)
		return -1;
	bool stop = false;
	int rc = 0;
	for (size_t i = 0; i < n; i++) {
		if (stop || cancelled(d) || (d->policy.due_only && list[i].next_attempt_at > now_of(d))) {
			res->skipped++;
			continue;
		}
		int r = deliver_entry(s, d, &list[i], i + 1, n, res, err);
		if (r < 0) {
			rc = -1;
			break;
		}
		stop = r == ENTRY_STOP;
	}
	outbox_array_free(&list, n);
	if (rc < 0)
		return -1;
	return count_entries(s, &res->pending, err);
}

/* ---- bounds ---- */

static int percent_of(int64_t part, int64_t whole)
{
	if (whole <= 0 || part <= 0)
		return 0;
	int64_t p = part * 100 / whole;
	return p > 1000 ? 1000 : (int)p;
}

static void summarize(const struct outbox_entry *list, size_t n, const struct config *cfg, int64_t now,
		      struct outbox_summary *sum)
{
	memset(sum, 0, sizeof *sum);
	for (size_t i = 0; i < n; i++) {
		sum->entries++;
		sum->bytes += (int64_t)list[i].size;
		if (!sum->oldest || list[i].created_at < sum->oldest)
			sum->oldest = list[i].created_at;
	}
	int64_t age = sum->oldest && now > sum->oldest ? now - sum->oldest : 0;
	sum->size_percent = percent_of(sum->bytes, cfg->outbox.max_size);
	sum->age_percent = sum->entries ? percent_of(age, cfg->outbox.max_age) : 0;
	sum->near_bound = sum->size_percent >= OUTBOX_NEAR_PERCENT || sum->age_percent >= OUTBOX_NEAR_PERCENT;
	char used[32], max[32];
	units_bytes((uint64_t)sum->bytes, used, sizeof used);
	units_bytes((uint64_t)cfg->outbox.max_size, max, sizeof max);
	if (!sum->entries) {
		snprintf(sum->state, sizeof sum->state, "empty (bounds: %s, %" PRId64 " days)", max,
			 cfg->outbox.max_age / 86400);
		return;
	}
	snprintf(sum->state, sizeof sum->state,
		 "%" PRId64 " report%s, %s of %s (%d %%), oldest %.1f days of %" PRId64 " (%d %%)", sum->entries,
		 sum->entries == 1 ? "" : "s", used, max, sum->size_percent, (double)age / 86400,
		 cfg->outbox.max_age / 86400, sum->age_percent);
}

int outbox_summarize(struct store *s, const struct config *cfg, int64_t now, struct outbox_summary *sum,
		     struct fc_error *err)
{
	struct outbox_entry *list;
	size_t n;
	if (store_outbox_list(s, false, &list, &n, err) < 0)
		return -1;
	summarize(list, n, cfg, now, sum);
	outbox_array_free(&list, n);
	return 0;
}

static int drop_entry(struct store *s, const struct outbox_entry *e, const char *trigger, const char *why,
		      int64_t now, struct fc_error *err)
{
	int64_t sync_id;
	if (store_begin(s, err) < 0)
		return -1;
	if (store_outbox_remove(s, e->id, err) < 0 || store_sync_start(s, trigger, e->key, now, &sync_id, err) < 0 ||
	    store_sync_finish(s, sync_id, "dropped", 0, (int64_t)e->size, e->devices, why, now, err) < 0 ||
	    store_commit(s, err) < 0) {
		store_rollback(s);
		return -1;
	}
	return 0;
}

int outbox_enforce(struct store *s, const struct config *cfg, int64_t now, int64_t keep_id,
		   const char *trigger, outbox_event_fn on_event, void *event_ctx, int *dropped,
		   struct fc_error *err)
{
	if (dropped)
		*dropped = 0;
	struct outbox_entry *list;
	size_t n;
	if (store_outbox_list(s, false, &list, &n, err) < 0)
		return -1;
	int64_t total = 0;
	for (size_t i = 0; i < n; i++)
		total += (int64_t)list[i].size;
	char created[CLOCK_ISO_LEN], why[256], max[32];
	units_bytes((uint64_t)cfg->outbox.max_size, max, sizeof max);
	int rc = 0;
	/* Oldest first: by age, then by size. A dropped entry is marked by size 0 in the list. */
	for (int pass = 0; pass < 2 && rc == 0; pass++) {
		for (size_t i = 0; i < n && rc == 0; i++) {
			struct outbox_entry *e = &list[i];
			if (e->id == keep_id || e->id == 0)
				continue;
			if (pass == 0 && e->created_at >= now - cfg->outbox.max_age)
				continue;
			if (pass == 1 && total <= cfg->outbox.max_size)
				break;
			clock_format_utc(e->created_at, created, sizeof created);
			if (pass == 0)
				snprintf(why, sizeof why,
					 "dropped from the outbox undelivered: made %s, older than [outbox] max_age (%" PRId64
					 " days); last error: %s",
					 created, cfg->outbox.max_age / 86400, e->last_error ? e->last_error : "none");
			else
				snprintf(why, sizeof why,
					 "dropped from the outbox undelivered: made %s, the outbox was over [outbox] "
					 "max_size (%s); last error: %s",
					 created, max, e->last_error ? e->last_error : "none");
			rc = drop_entry(s, e, trigger, why, now, err);
			if (rc < 0)
				break;
			total -= (int64_t)e->size;
			if (dropped)
				(*dropped)++;
			if (on_event) {
				struct outbox_event ev = { .stage = OUTBOX_STAGE_DROPPED, .key = e->key,
							   .devices = e->devices, .total = e->size, .message = why };
				on_event(event_ctx, &ev);
			}
			e->id = 0;
		}
	}
	outbox_array_free(&list, n);
	if (rc < 0)
		return -1;

	return outbox_record_state(s, cfg, now, NULL, err);
}

int outbox_record_state(struct store *s, const struct config *cfg, int64_t now, struct outbox_summary *out,
			struct fc_error *err)
{
	struct outbox_summary sum;
	int64_t since;
	if (outbox_summarize(s, cfg, now, &sum, err) < 0 || outbox_setting_time(s, OUTBOX_KEY_NEAR_SINCE, &since, err) < 0)
		return -1;
	if (since && !sum.near_bound)
		sum.near_bound = sum.size_percent >= OUTBOX_CLEAR_PERCENT || sum.age_percent >= OUTBOX_CLEAR_PERCENT;
	if (sum.near_bound ? set_time_once(s, OUTBOX_KEY_NEAR_SINCE, now, err) < 0
			   : set_time(s, OUTBOX_KEY_NEAR_SINCE, 0, err) < 0)
		return -1;
	if (store_setting_set(s, OUTBOX_KEY_NEAR_BOUND, sum.near_bound ? sum.state : "0", err) < 0 ||
	    store_setting_set(s, OUTBOX_KEY_STATE, sum.state, err) < 0)
		return -1;
	if (out)
		*out = sum;
	return 0;
}
