/* The SQLite store: devices and their history, discovery ranges, syncs, the outbox, settings and
 * the agent's identity. One struct store is one connection and belongs to one thread; every
 * thread opens its own. The database runs in WAL mode with a busy timeout, synchronous=FULL and
 * foreign keys on; writes happen in BEGIN IMMEDIATE transactions; all times are UTC seconds.
 * The schema is versioned with PRAGMA user_version and migrated forward at open. */
#ifndef FLEETCON_MODEL_STORE_H
#define FLEETCON_MODEL_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model/device.h"
#include "model/error.h"
#include "model/uuid.h"

struct store;

enum store_open_flags {
	STORE_READONLY = 1 << 0, /* never write, never migrate, never create */
	STORE_NO_CHECK = 1 << 1, /* skip PRAGMA quick_check (another connection of this process did it) */
};

/* Opens (and creates, with its folder, mode 0700/0600) the database at path, checks it with
 * PRAGMA quick_check, migrates it to the current schema and makes the agent's identity on first
 * use. A damaged database is never written to: the error names the file and says what to do.
 * On success *out is a new connection the caller closes with store_close(). */
int store_open(const char *path, unsigned flags, struct store **out, struct fc_error *err);

/* Closes the connection and NULLs *s. */
void store_close(struct store **s);

/* The schema version this build creates and reads (PRAGMA user_version). */
int store_schema_version(void);

/* Opens path and migrates it to exactly `version` (0 < version <= store_schema_version()), no
 * further; for the migration tests. */
int store_open_at_version(const char *path, int version, struct store **out, struct fc_error *err);

/* The path the connection was opened with (borrowed). */
const char *store_path(const struct store *s);

/* The agent's UUID, made once at first run. */
int store_agent_uuid(struct store *s, char out[UUID_STR_LEN], struct fc_error *err);

/* Transactions: begin takes the write lock at once (BEGIN IMMEDIATE), so a batch of writes never
 * fails half-way on a busy database. Every write function below may run inside one; outside one
 * each runs in a transaction of its own. */
int store_begin(struct store *s, struct fc_error *err);
int store_commit(struct store *s, struct fc_error *err);
void store_rollback(struct store *s);

/* A read transaction (BEGIN, deferred) around a long read such as an export: every statement sees
 * the same state of the database while polls go on writing, and SQLite takes its read lock once
 * rather than for every statement. Returns 1 when it began one, 0 when s was already inside a
 * transaction (nothing to end then), -1 with err set. store_read_end() ends what it began. */
int store_read_begin(struct store *s, struct fc_error *err);
void store_read_end(struct store *s, int began);

/* Settings: small key/value pairs the agent keeps (last discovery run, last alert digests, ...).
 * store_setting_get writes into buf (len bytes) and returns 1 when found, 0 when not, -1 on error. */
int store_setting_get(struct store *s, const char *key, char *buf, size_t len, struct fc_error *err);
int store_setting_set(struct store *s, const char *key, const char *value, struct fc_error *err);

/* ---- devices ---- */

/* Saves what a poll or a discovery read from a device and returns its id in *id. The device is
 * matched by (vendor, serial) first, then by MAC, then by address when the device known there has
 * neither serial nor MAC; a read without serial and MAC of a known device (d->id set, a poll) is
 * that device; otherwise it is new (included when include_new). A device found at a
 * new address keeps its address history. Meters go to the current table and one history row per
 * meter per UTC day; supplies likewise; trays and covers replace the current ones (no history);
 * alerts are matched to the active ones (by severity, group, group index, location, code and
 * description): new ones are added, gone ones are cleared.
 * When replace_alerts is false the alerts in d are ignored (the poll did not read the table).
 * A read with a poll_error and no last_poll_ok (the device answered, but parts are missing) keeps
 * that error and leaves last_poll_ok as it was; otherwise the error is cleared. poll_warnings
 * replace the last ones.
 * A meter read below the value stored before went backwards: the store sets its back_from (the
 * highest value before the drop) and back_at, kept while later reads stay below back_from and
 * for at most 7 days after the drop (d's own back_from / back_at are not read). */
int store_device_save(struct store *s, const struct device *d, bool include_new, bool replace_alerts,
		      int64_t *id, struct fc_error *err);

/* Records a failed poll: keeps the device's data, sets poll_error and counts unreachable polls
 * when unreachable is true. */
int store_device_poll_failed(struct store *s, int64_t id, const char *why, bool unreachable,
			     int64_t when, struct fc_error *err);

/* Finds a device by id ("12"), serial or address. Returns 1 and sets *id when exactly one matches,
 * 0 when none does, -1 on error (two devices matching a serial is an error that says so). */
int store_device_find(struct store *s, const char *key, int64_t *id, struct fc_error *err);

enum store_load_parts {
	STORE_LOAD_METERS = 1 << 0,
	STORE_LOAD_SUPPLIES = 1 << 1,
	STORE_LOAD_ALERTS = 1 << 2, /* active ones only */
	STORE_LOAD_TRAYS = 1 << 3,
	STORE_LOAD_COVERS = 1 << 4,
	STORE_LOAD_ALL = 0x1f,
};

/* Loads one device with the parts asked for into *out (which the caller clears with
 * device_clear). Returns 1 when found, 0 when not, -1 on error. */
int store_device_load(struct store *s, int64_t id, unsigned parts, struct device *out,
		      struct fc_error *err);

enum store_device_filter { STORE_DEVICES_ALL, STORE_DEVICES_INCLUDED, STORE_DEVICES_EXCLUDED };

/* Loads every device matching filter, ordered by id, into a new array (*out, *n) the caller frees
 * with device_array_free(out, n). */
int store_devices_list(struct store *s, enum store_device_filter filter, unsigned parts,
		       struct device **out, size_t *n, struct fc_error *err);

/* Includes or excludes a device. Returns 1 when changed, 0 when it already was so, -1 on error. */
int store_device_set_included(struct store *s, int64_t id, bool included, struct fc_error *err);

struct store_counts {
	int64_t discovered, included, excluded, with_faults, with_low_supplies;
	int64_t last_data;      /* newest successful poll of any device, 0 if none */
};
/* with_low_supplies uses low_percent as the threshold. */
int store_counts(struct store *s, int low_percent, struct store_counts *out, struct fc_error *err);

/* Past addresses of a device, newest first: calls cb for each (address, first_seen, last_seen). */
int store_device_addresses(struct store *s, int64_t id,
			   int (*cb)(void *ctx, const char *address, int64_t first, int64_t last),
			   void *ctx, struct fc_error *err);

/* Daily meter history of a device since `since` (UTC seconds): by meter name, then oldest day
 * first (the table's own order, so no sort). */
int store_meter_history(struct store *s, int64_t id, int64_t since,
			int (*cb)(void *ctx, const char *name, const char *day, int64_t value),
			void *ctx, struct fc_error *err);

/* The raw varbinds of the last poll that kept them (a poll of that device, or its discovery; the
 * fleet's scheduled polls do not), for the technician's view: one text blob (the collector's
 * format) and when it was taken. store_device_raw sets *raw to a new string (caller frees), or
 * NULL when none was kept; *taken_at (may be NULL) to its time, 0 when none. */
int store_device_set_raw(struct store *s, int64_t id, const char *raw, struct fc_error *err);
int store_device_raw(struct store *s, int64_t id, char **raw, int64_t *taken_at, struct fc_error *err);

/* ---- discovery ranges and manual addresses ---- */

struct range {
	int64_t id;
	char *target;          /* as entered: "10.1.2.0/24", "10.1.2.10-10.1.2.99", "host:1161" */
	char *profiles;        /* credential profile names tried in order, comma-separated */
	int port;              /* 0 = the target's own or the default */
	bool manual;           /* a single address the admin entered rather than a sweep */
	int64_t created_at;
	int64_t last_run;
	bool enabled;          /* false: kept in the list, left out of discovery runs */
};
void range_array_free(struct range **ranges, size_t n);

int store_range_add(struct store *s, const char *target, const char *profiles, int port, bool manual,
		    int64_t *id, struct fc_error *err);
/* Changes range id in place (its id, created_at and last_run stay): target, profiles (NULL = ""),
 * port, manual and enabled as for store_range_add. Returns 1 when changed, 0 when there is no
 * such range, -1 on error (a target already in the list is an error that says so). */
int store_range_update(struct store *s, int64_t id, const char *target, const char *profiles, int port,
		       bool manual, bool enabled, struct fc_error *err);
/* Returns 1 when removed, 0 when there was no such range. */
int store_range_remove(struct store *s, int64_t id, struct fc_error *err);
int store_ranges_list(struct store *s, struct range **out, size_t *n, struct fc_error *err);
int store_range_mark_run(struct store *s, int64_t id, int64_t when, struct fc_error *err);

/* Addresses that answered no SNMP but accept a print port: what cannot be managed and why. */
int store_unmanaged_set(struct store *s, const char *address, const char *ports, int64_t when,
			struct fc_error *err);
int store_unmanaged_list(struct store *s,
			 int (*cb)(void *ctx, const char *address, const char *ports, int64_t first,
				   int64_t last),
			 void *ctx, struct fc_error *err);

/* ---- syncs (uploads) ---- */

struct sync_record {
	int64_t id;
	int64_t started_at;
	int64_t finished_at;   /* 0 while running */
	char *trigger;         /* "scheduled", "manual", "retry" */
	char *result;          /* "running", "ok", "failed", "rejected", "auth-failed" */
	int http_status;
	int64_t bytes;
	int devices;
	char *report_key;      /* the outbox entry's idempotency key */
	char *error;
};
void sync_array_free(struct sync_record **syncs, size_t n);

int store_sync_start(struct store *s, const char *trigger, const char *report_key, int64_t when,
		     int64_t *id, struct fc_error *err);
int store_sync_finish(struct store *s, int64_t id, const char *result, int http_status,
		      int64_t bytes, int devices, const char *error, int64_t when,
		      struct fc_error *err);
/* Newest first, at most limit (0 = all). */
int store_syncs_list(struct store *s, size_t limit, struct sync_record **out, size_t *n,
		     struct fc_error *err);

/* ---- outbox ---- */

struct outbox_entry {
	int64_t id;
	char key[UUID_STR_LEN];   /* idempotency key */
	int64_t created_at;
	int attempts;
	int64_t next_attempt_at;
	char *last_error;
	int devices;
	size_t size;
	unsigned char *body;      /* gzip-compressed report; NULL when listed without bodies */
};
void outbox_array_free(struct outbox_entry **entries, size_t n);

/* Commits a report to the outbox (a durable transaction) before any byte of it is sent. The
 * entry's key is made here and returned in key_out. */
int store_outbox_add(struct store *s, const unsigned char *body, size_t size, int devices,
		     int64_t when, char key_out[UUID_STR_LEN], int64_t *id, struct fc_error *err);
/* Oldest first; with_bodies loads the compressed reports too. */
int store_outbox_list(struct store *s, bool with_bodies, struct outbox_entry **out, size_t *n,
		      struct fc_error *err);
int store_outbox_attempted(struct store *s, int64_t id, const char *error, int64_t next_attempt_at,
			   struct fc_error *err);
/* Removes an entry after the server acknowledged it. Returns 1 when removed, 0 when gone. */
int store_outbox_remove(struct store *s, int64_t id, struct fc_error *err);

/* ---- housekeeping ---- */

/* Size in bytes of the database and its WAL. */
int64_t store_file_size(const struct store *s);

/* ---- notifications (e-mail alerts) ---- */

/* A condition that was mailed. What a condition is, and its key, is uplink/alerting's business;
 * the store keeps the keys so that a condition is mailed once while it lasts. */
struct notification {
	char *key;
	int64_t first_sent;    /* the first time it was ever mailed */
	int64_t last_sent;
	int count;             /* times mailed (once per time it came) */
	int64_t cleared_at;    /* 0 while the condition lasts */
};
void notification_array_free(struct notification **list, size_t n);

/* Every notification, or only the active ones (cleared_at = 0), ordered by key, into a new array
 * the caller frees with notification_array_free(out, n). */
int store_notifications_list(struct store *s, bool active_only, struct notification **out,
			     size_t *n, struct fc_error *err);

/* Records that the condition key was mailed at `when`: a new row, or for a condition that came
 * back, count + 1, last_sent = when and active again. */
int store_notification_sent(struct store *s, const char *key, int64_t when, struct fc_error *err);

/* Marks the condition as over at `when`. Returns 1 when it was active, 0 otherwise. */
int store_notification_clear(struct store *s, const char *key, int64_t when, struct fc_error *err);

/* Records one e-mail sent at `when`, the number of conditions it carried and its subject. */
int store_mail_sent(struct store *s, int64_t when, int conditions, const char *subject,
		    struct fc_error *err);

/* The number of e-mails sent at or after `since` into *count. */
int store_mails_since(struct store *s, int64_t since, int64_t *count, struct fc_error *err);

/* Forgets the notifications cleared before `before` and the e-mails sent before it. */
int store_notifications_prune(struct store *s, int64_t before, struct fc_error *err);

/* When supply idx of a device went below low_percent, from the daily history: *since is 00:00 UTC
 * of the first day of the latest run of days on which it was below (a level of 0 is below; the
 * special levels are not), or 0 when the history has no such day. */
int store_supply_low_since(struct store *s, int64_t device_id, int idx, int low_percent,
			   int64_t *since, struct fc_error *err);

#endif
