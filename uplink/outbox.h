/* Delivery of the outbox: every report waits in the store's outbox table, committed (synchronous
 * =FULL) before its first byte is sent, and leaves it only when the server answered 2xx, so
 * nothing is lost across server outages, crashes and restarts, and its idempotency key makes a
 * repeated delivery harmless. This module tries the waiting reports oldest first with retries,
 * exponential backoff and jitter, keeps the outbox within [outbox] max_age and max_size, and
 * records the states the admin and the e-mail alerts read (settings below). */
#ifndef FLEETCON_UPLINK_OUTBOX_H
#define FLEETCON_UPLINK_OUTBOX_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model/config.h"
#include "model/error.h"
#include "model/store.h"
#include "uplink/transport.h"

/* Settings (store_setting_get) this module keeps. Times are UTC seconds in decimal; "0" or a
 * missing key means never / not in that state. */
#define OUTBOX_KEY_LAST_CONTACT "uplink.last_contact"               /* last HTTP answer of any status */
#define OUTBOX_KEY_LAST_CONTACT_STATUS "uplink.last_contact_status" /* its status code */
#define OUTBOX_KEY_LAST_SUCCESS "uplink.last_success"               /* last 2xx */
#define OUTBOX_KEY_FAILING_SINCE "uplink.failing_since"             /* first failed attempt since the last 2xx */
#define OUTBOX_KEY_AUTH_FAILED "uplink.auth_failed"                 /* a 401/403 not yet followed by a 2xx */
#define OUTBOX_KEY_AUTH_FAILED_REASON "uplink.auth_failed_reason"   /* its message (one line) */
#define OUTBOX_KEY_NEAR_SINCE "uplink.outbox_near_since"           /* since when the outbox is near a bound */
#define OUTBOX_KEY_STATE "uplink.outbox_state"                      /* one line: reports, size, oldest */
/* The verdict the e-mail alerts read (docs/alerts.md): the state line in words while the outbox
 * is near its bounds, "0" when it is not. */
#define OUTBOX_KEY_NEAR_BOUND "outbox.near_bound"

/* The outbox is "near its bound" from this share of max_size or max_age on, and stays so until
 * both are under OUTBOX_CLEAR_PERCENT (so that a level going 79, 80, 79 % is not news each time). */
#define OUTBOX_NEAR_PERCENT 80
#define OUTBOX_CLEAR_PERCENT 70

/* Stages of a sync, in order, as reported to a progress callback. build/compress/queued come from
 * sync_run(); the others from the delivery of each entry. */
enum outbox_stage {
	OUTBOX_STAGE_BUILD,        /* reading the devices from the store */
	OUTBOX_STAGE_COMPRESS,     /* serializing and compressing */
	OUTBOX_STAGE_QUEUED,       /* committed to the outbox */
	OUTBOX_STAGE_CONNECT,
	OUTBOX_STAGE_TLS,
	OUTBOX_STAGE_SEND,
	OUTBOX_STAGE_WAIT,         /* sent; waiting for the answer */
	OUTBOX_STAGE_ACKNOWLEDGED, /* 2xx: delivered and removed from the outbox */
	OUTBOX_STAGE_RETRY_WAIT,   /* an attempt failed; waiting wait_ms before the next */
	OUTBOX_STAGE_FAILED,       /* the entry stays in the outbox (message says why) */
	OUTBOX_STAGE_DROPPED,      /* the entry was dropped to keep the outbox within its bounds */
};

/* "build", "compress", "queued", "connect", "tls", "send", "wait", "acknowledged", "retry-wait",
 * "failed", "dropped". Static strings. */
const char *outbox_stage_name(enum outbox_stage st);

struct outbox_event {
	enum outbox_stage stage;
	const char *key;     /* the entry's idempotency key, or NULL before there is one */
	size_t entry;        /* 1-based position among the entries of this delivery, 0 = none */
	size_t entries;
	int attempt;         /* 1-based attempt at this entry in this delivery */
	uint64_t done;       /* bytes (send, compress) */
	uint64_t total;
	int devices;
	int http_status;     /* acknowledged, failed, retry-wait: the last status (0 = none) */
	int64_t wait_ms;     /* retry-wait */
	const char *message; /* failed, retry-wait, dropped: why; borrowed for the call */
};
typedef void (*outbox_event_fn)(void *ctx, const struct outbox_event *ev);

/* How a delivery retries within one call. */
struct outbox_policy {
	int attempts;          /* per entry, at least 1 */
	int64_t base_delay_ms; /* before the second attempt; doubled each time, with jitter */
	int64_t max_delay_ms;  /* cap of that backoff */
	int64_t max_wait_ms;   /* a Retry-After longer than this ends the delivery (the entry waits
				  for the service's next retry instead) */
	bool due_only;         /* skip entries whose next attempt is still in the future */
};

/* The policy of `fleetcon upload` and of the scheduled sync: 4 attempts, 1 s doubling to 8 s,
 * Retry-After up to 2 minutes honoured in place. */
extern const struct outbox_policy outbox_policy_default;

struct outbox_delivery {
	const char *trigger;               /* "scheduled", "manual" or "retry": the sync records' trigger */
	struct outbox_policy policy;
	struct transport_options transport; /* from transport_options_from_config(); progress and
					       cancel are set by outbox_deliver() itself */
	const atomic_bool *cancel;         /* may be NULL; true stops between and during attempts */
	outbox_event_fn on_event;          /* may be NULL */
	void *event_ctx;
	/* Sleeps ms between attempts; returns non-zero when it was cancelled. NULL: nanosleep,
	 * checking cancel every 100 ms. */
	int (*wait)(void *ctx, int64_t ms);
	void *wait_ctx;
	int64_t (*now)(void); /* NULL: clock_now() */
};

struct outbox_result {
	int delivered;        /* entries acknowledged and removed */
	int rejected;         /* entries the server refused (they stay, retried at the next sync) */
	int failed;           /* entries that stay after a failure that stopped the delivery */
	int skipped;          /* entries not tried (not due, or after a failure that stops all) */
	int pending;          /* entries in the outbox after the delivery */
	bool auth_failed;     /* a 401/403 stopped the delivery */
	bool tls_failed;
	bool cancelled;
	int http_status;      /* of the last answer, 0 = none */
	char error[512];      /* the last failure's message, "" when none */
};

/* Delivers the waiting entries oldest first. Each entry tried gets one sync record (trigger,
 * key, result "ok", "failed", "rejected" or "auth-failed", HTTP status, bytes, devices, error);
 * every failed attempt is written to the entry (attempts, last error, next attempt time) at
 * once. A 401/403 or a TLS failure stops the whole delivery (the next entries would fail the
 * same way: no retry storm); exhausted retries stop it too; a rejected entry does not. With
 * policy.due_only, nothing is tried while an authentication failure stands: that waits for the
 * next scheduled or manual sync. Returns 0 with *res filled, or -1 with err set on a store
 * error or a configuration that cannot send at all (then nothing was sent). */
int outbox_deliver(struct store *s, const struct outbox_delivery *d, struct outbox_result *res,
		   struct fc_error *err);

/* The outbox as the admin sees it. */
struct outbox_summary {
	int64_t entries;
	int64_t bytes;
	int64_t oldest;       /* created_at of the oldest entry, 0 when empty */
	int size_percent;     /* of [outbox] max_size */
	int age_percent;      /* of [outbox] max_age */
	bool near_bound;      /* either is at OUTBOX_NEAR_PERCENT or more (outbox_summarize), or the
				 recorded verdict (outbox_record_state) */
	char state[256];      /* "3 reports, 1.2 MB of 256 MB (0 %), oldest 2 days of 30 (6 %)" */
};

/* Reads the outbox and fills *sum (no writes). */
int outbox_summarize(struct store *s, const struct config *cfg, int64_t now, struct outbox_summary *sum,
		     struct fc_error *err);

/* Summarizes the outbox and records the near-bound state (with the hysteresis above):
 * OUTBOX_KEY_NEAR_BOUND the verdict, OUTBOX_KEY_NEAR_SINCE the time it first became near (0 when
 * it is not), OUTBOX_KEY_STATE the summary line. *sum (may be NULL) gets the summary, with
 * near_bound the recorded verdict. */
int outbox_record_state(struct store *s, const struct config *cfg, int64_t now, struct outbox_summary *sum,
			struct fc_error *err);

/* Keeps the outbox within its bounds: drops the entries older than [outbox] max_age, then the
 * oldest while the total is over max_size; never the entry keep_id (the report just built; 0 =
 * none). Every drop gets a sync record with result "dropped" and the reason, and an event. Then
 * records the near-bound state (outbox_record_state). *dropped (may be NULL) is the number
 * dropped. */
int outbox_enforce(struct store *s, const struct config *cfg, int64_t now, int64_t keep_id,
		   const char *trigger, outbox_event_fn on_event, void *event_ctx, int *dropped,
		   struct fc_error *err);

/* Backoff before attempt n + 1 after n failed ones (n >= 1): base * 2^(n-1) capped at cap, of
 * which the upper half is random ("equal jitter": rnd is any 32-bit random number). */
int64_t outbox_backoff_ms(int n, int64_t base_ms, int64_t cap_ms, uint32_t rnd);

/* When an entry left in the outbox after n failed attempts is tried again by the service, in
 * seconds from now: 1 minute doubling to 1 hour, with the same jitter. */
int64_t outbox_retry_delay(int n, uint32_t rnd);

/* Reads a UTC-seconds setting ("0" or missing: 0). */
int outbox_setting_time(struct store *s, const char *key, int64_t *out, struct fc_error *err);

#endif
