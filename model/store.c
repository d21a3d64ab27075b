/* The SQLite store (see store.h): opening, checking and migrating the database, and every read
 * and write the rest of the agent makes. Statements are prepared once per connection and reused. */
#include "model/store.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "model/array.h"
#include "model/clock.h"
#include "model/store_schema.h"

#define BUSY_TIMEOUT_MS 10000

enum query {
	Q_SETTING_GET,
	Q_SETTING_SET,
	Q_AGENT_GET,
	Q_DEV_BY_SERIAL,
	Q_DEV_BY_MAC,
	Q_DEV_BY_ADDRESS,
	Q_DEV_INSERT,
	Q_DEV_UPDATE,
	Q_DEV_ADDR_TOUCH,
	Q_DEV_FAILED,
	Q_DEV_FIND_ID,
	Q_DEV_FIND_SERIAL,
	Q_DEV_FIND_ADDRESS,
	Q_DEV_LOAD,
	Q_DEV_LIST_ALL,
	Q_DEV_LIST_INCLUDED,
	Q_DEV_LIST_EXCLUDED,
	Q_DEV_SET_INCLUDED,
	Q_DEV_ADDRESSES,
	Q_METER_UPSERT,
	Q_METER_HISTORY_UPSERT,
	Q_METERS_OF,
	Q_METER_HISTORY,
	Q_SUPPLY_UPSERT,
	Q_SUPPLY_HISTORY_UPSERT,
	Q_SUPPLY_DELETE_UNMARKED,
	Q_SUPPLY_ANY_UNMARKED,
	Q_SUPPLIES_OF,
	Q_TRAY_UPSERT,
	Q_TRAY_DELETE_UNMARKED,
	Q_TRAY_ANY_UNMARKED,
	Q_TRAYS_OF,
	Q_COVER_UPSERT,
	Q_COVER_DELETE_UNMARKED,
	Q_COVER_ANY_UNMARKED,
	Q_COVERS_OF,
	Q_ALERTS_ACTIVE_OF,
	Q_ALERT_INSERT,
	Q_ALERT_SEEN,
	Q_ALERT_CLEAR,
	Q_RAW_SET,
	Q_RAW_GET,
	Q_RANGE_ADD,
	Q_RANGE_REMOVE,
	Q_RANGE_UPDATE,
	Q_RANGES,
	Q_RANGE_RUN,
	Q_UNMANAGED_SET,
	Q_UNMANAGED_LIST,
	Q_SYNC_START,
	Q_SYNC_FINISH,
	Q_SYNCS,
	Q_OUTBOX_ADD,
	Q_OUTBOX_LIST,
	Q_OUTBOX_LIST_BODIES,
	Q_OUTBOX_ATTEMPTED,
	Q_OUTBOX_REMOVE,
	Q_COUNTS,
	Q_COUNT_LOW,
	Q_COUNT
};

#define DEVICE_COLUMNS                                                                           \
	"id, address, port, profile, vendor, model, serial, mac, firmware, sys_name, sys_descr, " \
	"sys_object_id, location, uptime_ticks, status_device, status_printer, error_bits, "      \
	"error_bits_known, panel_text, included, first_seen, last_seen, last_poll, last_poll_ok, " \
	"poll_error, unreachable_polls, poll_warnings"

/* How long a counter that went backwards stays flagged at most (seconds), and the SQL test for a
 * flag still standing at the new read (in the meters upsert, where meters.* is the old row). */
#define METER_BACK_KEEP "604800"
#define METER_BACK_ACTIVE "(meters.back_from > 0 AND excluded.read_at - meters.back_at < " METER_BACK_KEEP ")"

static const char *const query_sql[Q_COUNT] = {
	[Q_SETTING_GET] = "SELECT value FROM settings WHERE key = ?1",
	[Q_SETTING_SET] = "INSERT INTO settings(key, value, updated_at) VALUES (?1, ?2, ?3) "
			  "ON CONFLICT(key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
	[Q_AGENT_GET] = "SELECT uuid FROM agent WHERE id = 1",
	[Q_DEV_BY_SERIAL] = "SELECT id FROM devices WHERE coalesce(vendor, '') = coalesce(?1, '') AND serial = ?2"
			   " AND serial IS NOT NULL AND serial <> ''", /* implies the partial index's WHERE */
	[Q_DEV_BY_MAC] = "SELECT id FROM devices WHERE mac = ?1 AND mac IS NOT NULL AND mac <> '' "
			 "AND (serial IS NULL OR serial = '' OR ?2 IS NULL) "
			 "ORDER BY last_seen DESC LIMIT 1",
	[Q_DEV_BY_ADDRESS] = "SELECT id FROM devices WHERE address = ?1 AND port = ?2 "
			     "AND coalesce(serial, '') = '' AND coalesce(mac, '') = '' ORDER BY id LIMIT 1",
	[Q_DEV_INSERT] = "INSERT INTO devices(address, port, included, first_seen) VALUES (?1, ?2, ?3, ?4)",
	/* Identity columns keep what they had when this read did not get them. */
	[Q_DEV_UPDATE] = "UPDATE devices SET address = ?2, port = ?3, profile = coalesce(?4, profile),"
			 " vendor = coalesce(?5, vendor), model = coalesce(?6, model),"
			 " serial = coalesce(?7, serial), mac = coalesce(?8, mac),"
			 " firmware = coalesce(?9, firmware), sys_name = coalesce(?10, sys_name),"
			 " sys_descr = coalesce(?11, sys_descr), sys_object_id = coalesce(?12, sys_object_id),"
			 " location = coalesce(?13, location), uptime_ticks = ?14, status_device = ?15,"
			 " status_printer = ?16, error_bits = ?17, error_bits_known = ?18, panel_text = ?19,"
			 " last_seen = ?20, last_poll = ?20,"
			 " last_poll_ok = CASE WHEN ?22 IS NULL THEN ?21 ELSE last_poll_ok END, poll_error = ?22,"
			 " poll_warnings = ?23, unreachable_polls = 0 WHERE id = ?1",
	[Q_DEV_ADDR_TOUCH] = "INSERT INTO device_addresses(device_id, address, first_seen, last_seen) "
			     "VALUES (?1, ?2, ?3, ?3) ON CONFLICT(device_id, address) DO UPDATE SET last_seen = excluded.last_seen",
	[Q_DEV_FAILED] = "UPDATE devices SET last_poll = ?2, poll_error = ?3,"
			 " unreachable_polls = CASE WHEN ?4 THEN unreachable_polls + 1 ELSE unreachable_polls END"
			 " WHERE id = ?1",
	[Q_DEV_FIND_ID] = "SELECT id FROM devices WHERE id = ?1",
	[Q_DEV_FIND_SERIAL] = "SELECT id FROM devices WHERE serial = ?1 LIMIT 2",
	[Q_DEV_FIND_ADDRESS] = "SELECT id FROM devices WHERE address = ?1 ORDER BY last_seen DESC LIMIT 2",
	[Q_DEV_LOAD] = "SELECT " DEVICE_COLUMNS " FROM devices WHERE id = ?1",
	[Q_DEV_LIST_ALL] = "SELECT " DEVICE_COLUMNS " FROM devices ORDER BY id",
	[Q_DEV_LIST_INCLUDED] = "SELECT " DEVICE_COLUMNS " FROM devices WHERE included ORDER BY id",
	[Q_DEV_LIST_EXCLUDED] = "SELECT " DEVICE_COLUMNS " FROM devices WHERE NOT included ORDER BY id",
	[Q_DEV_SET_INCLUDED] = "UPDATE devices SET included = ?2 WHERE id = ?1 AND included <> ?2",
	[Q_DEV_ADDRESSES] = "SELECT address, first_seen, last_seen FROM device_addresses WHERE device_id = ?1 "
			    "ORDER BY last_seen DESC",
	/* A counter below its last value went backwards: back_from keeps the highest value before,
	 * while the counter is below it and for at most a week (METER_BACK_KEEP) after the drop. The
	 * SET expressions see the row as it was. */
	[Q_METER_UPSERT] = "INSERT INTO meters(device_id, name, value, unit, oid, raw, read_at) "
			   "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT(device_id, name) DO UPDATE SET "
			   "back_from = CASE WHEN excluded.value < meters.value THEN"
			   "   CASE WHEN " METER_BACK_ACTIVE " THEN max(meters.value, meters.back_from) ELSE meters.value END"
			   " WHEN " METER_BACK_ACTIVE " AND excluded.value < meters.back_from THEN meters.back_from ELSE 0 END, "
			   "back_at = CASE WHEN excluded.value < meters.value THEN"
			   "   CASE WHEN " METER_BACK_ACTIVE " THEN meters.back_at ELSE excluded.read_at END"
			   " WHEN " METER_BACK_ACTIVE " AND excluded.value < meters.back_from THEN meters.back_at ELSE 0 END, "
			   "value = excluded.value, unit = excluded.unit, oid = excluded.oid, raw = excluded.raw, "
			   "read_at = excluded.read_at",
	[Q_METER_HISTORY_UPSERT] = "INSERT INTO meter_history(device_id, name, day, value, read_at) "
				   "VALUES (?1, ?2, coalesce(?5, strftime('%Y-%m-%d', ?4, 'unixepoch')), ?3, ?4) "
				   "ON CONFLICT(device_id, name, day) DO UPDATE SET value = excluded.value, "
				   "read_at = excluded.read_at",
	[Q_METERS_OF] = "SELECT name, value, unit, oid, raw, read_at, back_from, back_at FROM meters WHERE device_id = ?1 "
			"ORDER BY name",
	[Q_METER_HISTORY] = "SELECT name, day, value FROM meter_history WHERE device_id = ?1 AND read_at >= ?2 "
			    "ORDER BY name, day", /* the primary key's order: no sort */
	[Q_SUPPLY_UPSERT] = "INSERT INTO supplies(device_id, idx, type, klass, unit, max, level, description, "
			    "colorant, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) "
			    "ON CONFLICT(device_id, idx) DO UPDATE SET type = excluded.type, klass = excluded.klass, "
			    "unit = excluded.unit, max = excluded.max, level = excluded.level, "
			    "description = excluded.description, colorant = excluded.colorant, "
			    "updated_at = excluded.updated_at",
	[Q_SUPPLY_HISTORY_UPSERT] = "INSERT INTO supply_history(device_id, idx, day, level, max) "
				    "VALUES (?1, ?2, coalesce(?6, strftime('%Y-%m-%d', ?5, 'unixepoch')), ?3, ?4) "
				    "ON CONFLICT(device_id, idx, day) DO UPDATE SET level = excluded.level, max = excluded.max",
	/* Supplies the device no longer reports (a removed option) go. */
	[Q_SUPPLY_DELETE_UNMARKED] = "DELETE FROM supplies WHERE device_id = ?1 AND updated_at <> ?2",
	/* Asked first: the DELETE builds a temporary table for its foreign keys even when it finds
	 * nothing, and it nearly always finds nothing (a fifth of a poll's writes, callgrind). */
	[Q_SUPPLY_ANY_UNMARKED] = "SELECT 1 FROM supplies WHERE device_id = ?1 AND updated_at <> ?2 LIMIT 1",
	[Q_SUPPLIES_OF] = "SELECT idx, type, klass, unit, max, level, description, colorant FROM supplies "
			  "WHERE device_id = ?1 ORDER BY idx",
	[Q_TRAY_UPSERT] = "INSERT INTO trays(device_id, idx, name, description, media, unit, max, level, status, "
			  "updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) "
			  "ON CONFLICT(device_id, idx) DO UPDATE SET name = excluded.name, "
			  "description = excluded.description, media = excluded.media, unit = excluded.unit, "
			  "max = excluded.max, level = excluded.level, status = excluded.status, "
			  "updated_at = excluded.updated_at",
	[Q_TRAY_DELETE_UNMARKED] = "DELETE FROM trays WHERE device_id = ?1 AND updated_at <> ?2",
	[Q_TRAY_ANY_UNMARKED] = "SELECT 1 FROM trays WHERE device_id = ?1 AND updated_at <> ?2 LIMIT 1",
	[Q_TRAYS_OF] = "SELECT idx, name, description, media, unit, max, level, status FROM trays "
		       "WHERE device_id = ?1 ORDER BY idx",
	[Q_COVER_UPSERT] = "INSERT INTO covers(device_id, idx, description, status, updated_at) "
			   "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT(device_id, idx) DO UPDATE SET "
			   "description = excluded.description, status = excluded.status, updated_at = excluded.updated_at",
	[Q_COVER_DELETE_UNMARKED] = "DELETE FROM covers WHERE device_id = ?1 AND updated_at <> ?2",
	[Q_COVER_ANY_UNMARKED] = "SELECT 1 FROM covers WHERE device_id = ?1 AND updated_at <> ?2 LIMIT 1",
	[Q_COVERS_OF] = "SELECT idx, description, status FROM covers WHERE device_id = ?1 ORDER BY idx",
	[Q_ALERTS_ACTIVE_OF] = "SELECT id, idx, severity, training, grp, grp_index, location, code, description, "
			       "time_ticks, first_seen, last_seen, cleared_at FROM alerts "
			       "WHERE device_id = ?1 AND cleared_at = 0 ORDER BY severity = 3 DESC, first_seen, id",
	[Q_ALERT_INSERT] = "INSERT INTO alerts(device_id, idx, severity, training, grp, grp_index, location, code, "
			   "description, time_ticks, first_seen, last_seen) "
			   "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?11)",
	[Q_ALERT_SEEN] = "UPDATE alerts SET last_seen = ?2, idx = ?3, time_ticks = ?4 WHERE id = ?1",
	[Q_ALERT_CLEAR] = "UPDATE alerts SET cleared_at = ?2 WHERE id = ?1",
	[Q_RAW_SET] = "INSERT INTO device_raw(device_id, raw, taken_at) VALUES (?1, ?2, ?3) "
		      "ON CONFLICT(device_id) DO UPDATE SET raw = excluded.raw, taken_at = excluded.taken_at",
	[Q_RAW_GET] = "SELECT raw, taken_at FROM device_raw WHERE device_id = ?1",
	[Q_RANGE_ADD] = "INSERT INTO ranges(target, profiles, port, manual, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
	[Q_RANGE_REMOVE] = "DELETE FROM ranges WHERE id = ?1",
	[Q_RANGE_UPDATE] = "UPDATE ranges SET target = ?2, profiles = ?3, port = ?4, manual = ?5, enabled = ?6 WHERE id = ?1",
	[Q_RANGES] = "SELECT id, target, profiles, port, manual, created_at, last_run, enabled FROM ranges ORDER BY id",
	[Q_RANGE_RUN] = "UPDATE ranges SET last_run = ?2 WHERE id = ?1",
	[Q_UNMANAGED_SET] = "INSERT INTO unmanaged(address, ports, first_seen, last_seen) VALUES (?1, ?2, ?3, ?3) "
			    "ON CONFLICT(address) DO UPDATE SET ports = excluded.ports, last_seen = excluded.last_seen",
	[Q_UNMANAGED_LIST] = "SELECT address, ports, first_seen, last_seen FROM unmanaged ORDER BY address",
	[Q_SYNC_START] = "INSERT INTO syncs(started_at, trigger, report_key) VALUES (?1, ?2, ?3)",
	[Q_SYNC_FINISH] = "UPDATE syncs SET result = ?2, http_status = ?3, bytes = ?4, devices = ?5, error = ?6, "
			  "finished_at = ?7 WHERE id = ?1",
	[Q_SYNCS] = "SELECT id, started_at, finished_at, trigger, result, http_status, bytes, devices, report_key, "
		    "error FROM syncs ORDER BY started_at DESC, id DESC LIMIT ?1",
	[Q_OUTBOX_ADD] = "INSERT INTO outbox(key, created_at, devices, size, body) VALUES (?1, ?2, ?3, ?4, ?5)",
	[Q_OUTBOX_LIST] = "SELECT id, key, created_at, attempts, next_attempt_at, last_error, devices, size, NULL "
			  "FROM outbox ORDER BY created_at, id",
	[Q_OUTBOX_LIST_BODIES] = "SELECT id, key, created_at, attempts, next_attempt_at, last_error, devices, size, body "
				 "FROM outbox ORDER BY created_at, id",
	[Q_OUTBOX_ATTEMPTED] = "UPDATE outbox SET attempts = attempts + 1, last_error = ?2, next_attempt_at = ?3 "
			       "WHERE id = ?1",
	[Q_OUTBOX_REMOVE] = "DELETE FROM outbox WHERE id = ?1",
	[Q_COUNTS] = "SELECT count(*), coalesce(sum(included), 0), coalesce(sum(NOT included), 0),"
		     " coalesce(sum(included AND (status_device = 5 OR (error_bits & ?1) <> 0"
		     "   OR EXISTS (SELECT 1 FROM alerts a WHERE a.device_id = devices.id AND a.cleared_at = 0"
		     "              AND a.severity = 3)"
		     "   OR (NOT error_bits_known AND EXISTS (SELECT 1 FROM covers c WHERE c.device_id = devices.id"
		     "              AND c.status IN (3, 5))))), 0),"
		     " coalesce(max(last_poll_ok), 0) FROM devices",
	/* A consumable under the threshold, or a receptacle with less room than that. */
	[Q_COUNT_LOW] = "SELECT count(DISTINCT s.device_id) FROM supplies s JOIN devices d ON d.id = s.device_id "
			"WHERE d.included AND s.level >= 0 AND s.max > 0 AND s.level * 100 < ?1 * s.max",
};

struct store {
	sqlite3 *db;
	char *path;
	sqlite3_stmt *stmts[Q_COUNT];
};

/* ---- errors ---- */

static int db_fail(struct store *s, struct fc_error *err, const char *doing)
{
	int code = sqlite3_extended_errcode(s->db);
	const char *hint = "";
	/* The operating system's reason, when there is one, says more than SQLite's code: a full
	 * disk often surfaces as SQLITE_IOERR (the shared-memory file cannot grow). */
	switch (sqlite3_system_errno(s->db)) {
	case ENOSPC:
	case EDQUOT:
		code = SQLITE_FULL;
		break;
	case EMFILE:
	case ENFILE:
		hint = " Too many open files: raise the limit (ulimit -n, LimitNOFILE=) and try again; nothing "
		       "was written.";
		break;
	case EROFS:
	case EACCES:
	case EPERM:
		code = SQLITE_READONLY;
		break;
	default:
		break;
	}
	switch (*hint ? 0 : code & 0xff) {
	case SQLITE_FULL:
		hint = " The disk is full: free some space; nothing was written.";
		break;
	case SQLITE_READONLY:
		hint = " The database is read-only: check the permissions of the file and its folder.";
		break;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		hint = " Another program holds the database: is a second fleetcon or an sqlite3 shell running?";
		break;
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
		hint = " The database is damaged: restore it from a backup or move it aside.";
		break;
	case SQLITE_IOERR:
		hint = " An I/O error: check the disk.";
		break;
	case SQLITE_CANTOPEN:
		hint = " Check that the folder exists and is writable.";
		break;
	default:
		break;
	}
	return fc_error_set(err, "database %s: %s: %s.%s", s->path, doing, sqlite3_errmsg(s->db), hint);
}

/* ---- statements ---- */

/* The prepared statement for q, reset and ready for binding; NULL with err set on failure. */
static sqlite3_stmt *stmt(struct store *s, enum query q, struct fc_error *err)
{
	sqlite3_stmt *st = s->stmts[q];
	if (!st) {
		if (sqlite3_prepare_v3(s->db, query_sql[q], -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) !=
		    SQLITE_OK) {
			db_fail(s, err, "preparing a query");
			return NULL;
		}
		s->stmts[q] = st;
	} else {
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
	}
	return st;
}

/* Not copied (SQLITE_STATIC): every statement here is stepped while the caller's strings live,
 * and stmt() clears the bindings before its next use. Copying them was a tenth of a poll's
 * writes (callgrind). */
static int bind_text(sqlite3_stmt *st, int i, const char *v)
{
	return v ? sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC) : sqlite3_bind_null(st, i);
}

/* Text that is empty counts as absent, so that it never overwrites what the store knows. */
static int bind_text_or_null(sqlite3_stmt *st, int i, const char *v)
{
	return bind_text(st, i, v && *v ? v : NULL);
}

static char *col_strdup(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);
	return t ? strdup((const char *)t) : NULL;
}

/* Room for element n of an array with *cap elements of elem bytes, doubling when it is full.
 * Returns the array (moved, perhaps), or NULL when out of memory: arr is then still valid and
 * still the caller's. */
static void *grow(void *arr, size_t n, size_t *cap, size_t elem)
{
	return array_grow(arr, n, cap, elem, 8);
}

/* Runs a statement that returns no rows. */
static int step_done(struct store *s, sqlite3_stmt *st, struct fc_error *err, const char *doing)
{
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return db_fail(s, err, doing);
	return 0;
}

static int exec(struct store *s, const char *sql, struct fc_error *err, const char *doing)
{
	if (sqlite3_exec(s->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return db_fail(s, err, doing);
	return 0;
}

/* ---- transactions ---- */

int store_begin(struct store *s, struct fc_error *err)
{
	return exec(s, "BEGIN IMMEDIATE", err, "starting a transaction");
}

int store_commit(struct store *s, struct fc_error *err)
{
	if (exec(s, "COMMIT", err, "committing") < 0) {
		store_rollback(s);
		return -1;
	}
	return 0;
}

void store_rollback(struct store *s)
{
	if (!sqlite3_get_autocommit(s->db))
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
}

int store_read_begin(struct store *s, struct fc_error *err)
{
	if (!sqlite3_get_autocommit(s->db))
		return 0;
	return exec(s, "BEGIN", err, "starting to read") < 0 ? -1 : 1;
}

void store_read_end(struct store *s, int began)
{
	/* it wrote nothing: ending it cannot lose anything */
	if (began > 0 && !sqlite3_get_autocommit(s->db))
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
}

/* A write outside a caller's transaction gets one of its own: auto_begin says whether it began
 * one, auto_end commits or rolls it back. */
static int auto_begin(struct store *s, bool *began, struct fc_error *err)
{
	*began = false;
	if (!sqlite3_get_autocommit(s->db))
		return 0;
	if (store_begin(s, err) < 0)
		return -1;
	*began = true;
	return 0;
}

static int auto_end(struct store *s, bool began, int rc, struct fc_error *err)
{
	if (!began)
		return rc;
	if (rc < 0) {
		store_rollback(s);
		return rc;
	}
	return store_commit(s, err);
}

/* ---- open, check, migrate ---- */

static int ensure_parent_dir(const char *path, struct fc_error *err)
{
	char dir[PATH_MAX];
	if (snprintf(dir, sizeof dir, "%s", path) >= (int)sizeof dir)
		return fc_error_set(err, "database path is too long: %s", path);
	char *slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return 0;
	*slash = '\0';
	/* Make each missing component, private to the agent's user. */
	for (char *p = dir + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(dir, 0700) < 0 && errno != EEXIST)
			return fc_error_set(err, "cannot create folder %s for the database: %s", dir,
					    strerror(errno));
		*p = '/';
	}
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return fc_error_set(err, "cannot create folder %s for the database: %s", dir, strerror(errno));
	return 0;
}

/* Creates the file with mode 0600 so that SQLite's default (0644 less umask) never applies; the
 * WAL and shared-memory files take the database's mode. */
static int create_private_file(const char *path, struct fc_error *err)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		if (errno == EEXIST)
			return 0;
		return fc_error_set(err, "cannot create database %s: %s", path, strerror(errno));
	}
	close(fd);
	return 0;
}

/* A database that cannot be read for want of a resource (a full disk, no file descriptor left,
 * a lock held elsewhere, a read-only folder) is not damaged: say what is missing instead. */
static bool resource_fault(struct store *s)
{
	switch (sqlite3_extended_errcode(s->db) & 0xff) {
	case SQLITE_FULL:
	case SQLITE_IOERR:
	case SQLITE_CANTOPEN:
	case SQLITE_READONLY:
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
	case SQLITE_NOMEM:
		return true;
	default:
		return false;
	}
}

static int quick_check(struct store *s, struct fc_error *err)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(s->db, "PRAGMA quick_check", -1, &st, NULL) != SQLITE_OK) {
		if (resource_fault(s))
			return db_fail(s, err, "opening");
		goto damaged;
	}
	int rc = sqlite3_step(st);
	if (rc != SQLITE_ROW && resource_fault(s)) {
		db_fail(s, err, "opening");
		sqlite3_finalize(st);
		return -1;
	}
	const unsigned char *res = rc == SQLITE_ROW ? sqlite3_column_text(st, 0) : NULL;
	if (res && strcmp((const char *)res, "ok") == 0) {
		sqlite3_finalize(st);
		return 0;
	}
	fc_error_set(err,
		     "database %s is damaged (%s); fleetcon has not written to it. Restore it from a "
		     "backup, or move it aside (mv %s %s.damaged) and start again: devices are found "
		     "again by discovery, but their history is lost",
		     s->path, res ? (const char *)res : sqlite3_errmsg(s->db), s->path, s->path);
	sqlite3_finalize(st);
	return -1;
damaged:
	return fc_error_set(err,
			    "database %s cannot be read (%s); fleetcon has not written to it. If it is "
			    "not a fleetcon database, point [database] path elsewhere; if it is, restore "
			    "it from a backup or move it aside (mv %s %s.damaged)",
			    s->path, sqlite3_errmsg(s->db), s->path, s->path);
}

static int user_version(struct store *s, int *out, struct fc_error *err)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
		return db_fail(s, err, "reading the schema version");
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_finalize(st);
		return db_fail(s, err, "reading the schema version");
	}
	*out = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return 0;
}

static int make_agent_identity(struct store *s, struct fc_error *err)
{
	char uuid[UUID_STR_LEN];
	if (uuid_v4(uuid, err) < 0)
		return -1;
	char sql[160];
	snprintf(sql, sizeof sql, "INSERT OR IGNORE INTO agent(id, uuid, created_at) VALUES (1, '%s', %lld)",
		 uuid, (long long)clock_now());
	return exec(s, sql, err, "making the agent's identity");
}

/* Brings the schema to `target`, one migration at a time, in one write transaction so that two
 * processes opening a new database at once migrate it once. */
static int migrate(struct store *s, int target, struct fc_error *err)
{
	int version;
	if (user_version(s, &version, err) < 0)
		return -1;
	if (version > STORE_SCHEMA_VERSION)
		return fc_error_set(err,
				    "database %s has schema version %d, newer than this fleetcon knows (%d): "
				    "use the fleetcon version that wrote it, or a newer one",
				    s->path, version, STORE_SCHEMA_VERSION);
	if (version >= target)
		return 0;
	if (store_begin(s, err) < 0)
		return -1;
	if (user_version(s, &version, err) < 0)
		goto fail;
	for (int v = version + 1; v <= target; v++) {
		if (exec(s, store_migrations[v], err, "migrating the schema") < 0)
			goto fail;
		char sql[64];
		snprintf(sql, sizeof sql, "PRAGMA user_version = %d", v);
		if (exec(s, sql, err, "migrating the schema") < 0)
			goto fail;
	}
	if (make_agent_identity(s, err) < 0)
		goto fail;
	return store_commit(s, err);
fail:
	fc_error_prefix(err, "migrating %s from version %d", s->path, version);
	store_rollback(s);
	return -1;
}

static int open_at(const char *path, int target, unsigned flags, struct store **out, struct fc_error *err)
{
	*out = NULL;
	bool readonly = flags & STORE_READONLY;
	if (!path || !*path)
		return fc_error_set(err, "no database path: set [database] path or use --db FILE");
	if (!readonly) {
		if (ensure_parent_dir(path, err) < 0 || create_private_file(path, err) < 0)
			return -1;
	}

	struct store *s = calloc(1, sizeof *s);
	if (!s || !(s->path = strdup(path))) {
		free(s);
		return fc_error_set(err, "out of memory opening %s", path);
	}
	int oflags = (readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE) | SQLITE_OPEN_NOMUTEX;
	if (sqlite3_open_v2(path, &s->db, oflags, NULL) != SQLITE_OK) {
		if (!s->db) {
			fc_error_set(err, "cannot open database %s: out of memory", path);
		} else {
			db_fail(s, err, "opening");
		}
		store_close(&s);
		return -1;
	}
	sqlite3_extended_result_codes(s->db, 1);
	sqlite3_busy_timeout(s->db, BUSY_TIMEOUT_MS);

	if (!(flags & STORE_NO_CHECK) && quick_check(s, err) < 0)
		goto fail;
	if (exec(s, "PRAGMA foreign_keys = ON", err, "setting up") < 0)
		goto fail;
	if (!readonly) {
		if (exec(s, "PRAGMA journal_mode = WAL", err, "switching to WAL mode") < 0 ||
		    exec(s, "PRAGMA synchronous = FULL", err, "setting up") < 0)
			goto fail;
		if (migrate(s, target, err) < 0)
			goto fail;
	} else {
		int v;
		if (user_version(s, &v, err) < 0)
			goto fail;
		if (v != STORE_SCHEMA_VERSION) {
			fc_error_set(err, "database %s has schema version %d, this fleetcon needs %d: open it "
				     "once without read-only mode to migrate it", path, v, STORE_SCHEMA_VERSION);
			goto fail;
		}
	}
	*out = s;
	return 0;
fail:
	store_close(&s);
	return -1;
}

int store_open(const char *path, unsigned flags, struct store **out, struct fc_error *err)
{
	return open_at(path, STORE_SCHEMA_VERSION, flags, out, err);
}

int store_open_at_version(const char *path, int version, struct store **out, struct fc_error *err)
{
	if (version < 1 || version > STORE_SCHEMA_VERSION)
		return fc_error_set(err, "no schema version %d (1..%d)", version, STORE_SCHEMA_VERSION);
	return open_at(path, version, 0, out, err);
}

void store_close(struct store **sp)
{
	if (!sp || !*sp)
		return;
	struct store *s = *sp;
	for (int i = 0; i < Q_COUNT; i++)
		sqlite3_finalize(s->stmts[i]);
	sqlite3_close(s->db);
	free(s->path);
	free(s);
	*sp = NULL;
}

int store_schema_version(void)
{
	return STORE_SCHEMA_VERSION;
}

const char *store_path(const struct store *s)
{
	return s->path;
}

int64_t store_file_size(const struct store *s)
{
	int64_t total = 0;
	struct stat st;
	if (stat(s->path, &st) == 0)
		total += st.st_size;
	char wal[PATH_MAX];
	if (snprintf(wal, sizeof wal, "%s-wal", s->path) < (int)sizeof wal && stat(wal, &st) == 0)
		total += st.st_size;
	return total;
}

int store_agent_uuid(struct store *s, char out[UUID_STR_LEN], struct fc_error *err)
{
	sqlite3_stmt *st = stmt(s, Q_AGENT_GET, err);
	if (!st)
		return -1;
	int rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		sqlite3_reset(st);
		if (rc == SQLITE_DONE)
			return fc_error_set(err, "database %s has no agent identity", s->path);
		return db_fail(s, err, "reading the agent's identity");
	}
	snprintf(out, UUID_STR_LEN, "%s", (const char *)sqlite3_column_text(st, 0));
	sqlite3_reset(st);
	return 0;
}

/* ---- settings ---- */

int store_setting_get(struct store *s, const char *key, char *buf, size_t len, struct fc_error *err)
{
	sqlite3_stmt *st = stmt(s, Q_SETTING_GET, err);
	if (!st)
		return -1;
	bind_text(st, 1, key);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		snprintf(buf, len, "%s", (const char *)sqlite3_column_text(st, 0));
		sqlite3_reset(st);
		return 1;
	}
	sqlite3_reset(st);
	if (rc == SQLITE_DONE)
		return 0;
	return db_fail(s, err, "reading a setting");
}

int store_setting_set(struct store *s, const char *key, const char *value, struct fc_error *err)
{
	sqlite3_stmt *st = stmt(s, Q_SETTING_SET, err);
	if (!st)
		return -1;
	bind_text(st, 1, key);
	bind_text(st, 2, value ? value : "");
	sqlite3_bind_int64(st, 3, clock_now());
	return step_done(s, st, err, "saving a setting");
}

/* ---- devices ---- */

/* Runs a one-column id query; 1 and *id when a row came back, 0 when none, -1 on error. */
static int query_id(struct store *s, sqlite3_stmt *st, int64_t *id, struct fc_error *err)
{
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*id = sqlite3_column_int64(st, 0);
		sqlite3_reset(st);
		return 1;
	}
	sqlite3_reset(st);
	if (rc == SQLITE_DONE)
		return 0;
	return db_fail(s, err, "looking up a device");
}

static int match_device(struct store *s, const struct device *d, int64_t *id, struct fc_error *err)
{
	sqlite3_stmt *st;
	int rc;
	bool has_serial = d->serial && *d->serial;
	bool has_mac = d->mac && *d->mac;
	if (has_serial) {
		if (!(st = stmt(s, Q_DEV_BY_SERIAL, err)))
			return -1;
		bind_text(st, 1, d->vendor);
		bind_text(st, 2, d->serial);
		if ((rc = query_id(s, st, id, err)) != 0)
			return rc;
	}
	if (has_mac) {
		/* Same MAC: the same device, unless both have serials (which then differ). */
		if (!(st = stmt(s, Q_DEV_BY_MAC, err)))
			return -1;
		bind_text(st, 1, d->mac);
		bind_text_or_null(st, 2, d->serial);
		if ((rc = query_id(s, st, id, err)) != 0)
			return rc;
	}
	/* A poll of a known device that got no serial and no MAC this time (a device answering
	 * garbage, wrong types, half a poll) is still that device, not a new one at its address. */
	if (d->id > 0 && !has_serial && !has_mac) {
		if (!(st = stmt(s, Q_DEV_FIND_ID, err)))
			return -1;
		sqlite3_bind_int64(st, 1, d->id);
		if ((rc = query_id(s, st, id, err)) != 0)
			return rc;
	}
	if (!(st = stmt(s, Q_DEV_BY_ADDRESS, err)))
		return -1;
	bind_text(st, 1, d->address);
	sqlite3_bind_int(st, 2, d->port);
	return query_id(s, st, id, err);
}

/* Deletes device id's rows of a child table not written at `when` (query del), when query any
 * finds one. */
static int delete_unmarked(struct store *s, enum query any, enum query del, int64_t id, int64_t when,
			   struct fc_error *err, const char *doing)
{
	sqlite3_stmt *st = stmt(s, any, err);
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, when);
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc == SQLITE_DONE)
		return 0;
	if (rc != SQLITE_ROW)
		return db_fail(s, err, doing);
	if (!(st = stmt(s, del, err)))
		return -1;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, when);
	return step_done(s, st, err, doing);
}

/* The day of a history row: t's UTC date as SQLite's strftime('%Y-%m-%d', t, 'unixepoch') writes
 * it (the statements fall back on that when this gives NULL, out of its range). Computed here once
 * a device rather than by SQLite for every row. */
struct day {
	bool known;     /* text is the day of t, or NULL's turn when empty */
	int64_t t;
	char text[16];
};

static const char *day_of(struct day *d, int64_t t)
{
	if (!d->known || d->t != t) {
		d->known = true;
		d->t = t;
		d->text[0] = '\0';
		time_t tt = (time_t)t;
		struct tm tm;
		if ((int64_t)tt == t && gmtime_r(&tt, &tm) && tm.tm_year >= -1900 && tm.tm_year <= 9999 - 1900)
			snprintf(d->text, sizeof d->text, "%04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1,
				 tm.tm_mday);
	}
	return d->text[0] ? d->text : NULL;
}

static int save_meters(struct store *s, int64_t id, const struct device *d, int64_t when,
		       struct fc_error *err)
{
	struct day day = { 0 };
	for (size_t i = 0; i < d->n_meters; i++) {
		const struct meter *m = &d->meters[i];
		int64_t at = m->read_at ? m->read_at : when;
		sqlite3_stmt *st = stmt(s, Q_METER_UPSERT, err);
		if (!st)
			return -1;
		sqlite3_bind_int64(st, 1, id);
		bind_text(st, 2, m->name);
		sqlite3_bind_int64(st, 3, m->value);
		sqlite3_bind_int(st, 4, m->unit);
		bind_text(st, 5, m->oid);
		bind_text(st, 6, m->raw);
		sqlite3_bind_int64(st, 7, at);
		if (step_done(s, st, err, "saving a meter read") < 0)
			return -1;
		if (!(st = stmt(s, Q_METER_HISTORY_UPSERT, err)))
			return -1;
		sqlite3_bind_int64(st, 1, id);
		bind_text(st, 2, m->name);
		sqlite3_bind_int64(st, 3, m->value);
		sqlite3_bind_int64(st, 4, at);
		bind_text(st, 5, day_of(&day, at));
		if (step_done(s, st, err, "saving meter history") < 0)
			return -1;
	}
	return 0;
}

static int save_supplies(struct store *s, int64_t id, const struct device *d, int64_t when,
			 struct fc_error *err)
{
	struct day day = { 0 };
	for (size_t i = 0; i < d->n_supplies; i++) {
		const struct supply *p = &d->supplies[i];
		sqlite3_stmt *st = stmt(s, Q_SUPPLY_UPSERT, err);
		if (!st)
			return -1;
		sqlite3_bind_int64(st, 1, id);
		sqlite3_bind_int(st, 2, p->index);
		sqlite3_bind_int(st, 3, p->type);
		sqlite3_bind_int(st, 4, p->klass);
		sqlite3_bind_int(st, 5, p->unit);
		sqlite3_bind_int(st, 6, p->max);
		sqlite3_bind_int(st, 7, p->level);
		bind_text(st, 8, p->description);
		bind_text(st, 9, p->colorant);
		sqlite3_bind_int64(st, 10, when);
		if (step_done(s, st, err, "saving a supply") < 0)
			return -1;
		if (!(st = stmt(s, Q_SUPPLY_HISTORY_UPSERT, err)))
			return -1;
		sqlite3_bind_int64(st, 1, id);
		sqlite3_bind_int(st, 2, p->index);
		sqlite3_bind_int(st, 3, p->level);
		sqlite3_bind_int(st, 4, p->max);
		sqlite3_bind_int64(st, 5, when);
		bind_text(st, 6, day_of(&day, when));
		if (step_done(s, st, err, "saving supply history") < 0)
			return -1;
	}
	/* Rows not written at `when` are supplies the device stopped reporting. */
	return delete_unmarked(s, Q_SUPPLY_ANY_UNMARKED, Q_SUPPLY_DELETE_UNMARKED, id, when, err,
			       "removing supplies the device no longer has");
}

static int save_trays_covers(struct store *s, int64_t id, const struct device *d, int64_t when,
			     struct fc_error *err)
{
	sqlite3_stmt *st;
	for (size_t i = 0; i < d->n_trays; i++) {
		const struct tray *t = &d->trays[i];
		if (!(st = stmt(s, Q_TRAY_UPSERT, err)))
			return -1;
		sqlite3_bind_int64(st, 1, id);
		sqlite3_bind_int(st, 2, t->index);
		bind_text(st, 3, t->name);
		bind_text(st, 4, t->description);
		bind_text(st, 5, t->media);
		sqlite3_bind_int(st, 6, t->unit);
		sqlite3_bind_int(st, 7, t->max);
		sqlite3_bind_int(st, 8, t->level);
		sqlite3_bind_int(st, 9, t->status);
		sqlite3_bind_int64(st, 10, when);
		if (step_done(s, st, err, "saving a tray") < 0)
			return -1;
	}
	for (size_t i = 0; i < d->n_covers; i++) {
		const struct cover *c = &d->covers[i];
		if (!(st = stmt(s, Q_COVER_UPSERT, err)))
			return -1;
		sqlite3_bind_int64(st, 1, id);
		sqlite3_bind_int(st, 2, c->index);
		bind_text(st, 3, c->description);
		sqlite3_bind_int(st, 4, c->status);
		sqlite3_bind_int64(st, 5, when);
		if (step_done(s, st, err, "saving a cover") < 0)
			return -1;
	}
	/* Like supplies: rows not written at `when` are trays or covers the device no longer has. */
	if (delete_unmarked(s, Q_TRAY_ANY_UNMARKED, Q_TRAY_DELETE_UNMARKED, id, when, err,
			    "removing trays the device no longer has") < 0)
		return -1;
	return delete_unmarked(s, Q_COVER_ANY_UNMARKED, Q_COVER_DELETE_UNMARKED, id, when, err,
			       "removing covers the device no longer has");
}

static bool same_text(const char *a, const char *b)
{
	return strcmp(a ? a : "", b ? b : "") == 0;
}

static bool same_alert(const struct alert *a, const struct alert *b)
{
	return a->severity == b->severity && a->group == b->group && a->group_index == b->group_index &&
	       a->location == b->location && a->code == b->code && same_text(a->description, b->description);
}

static int load_alerts(struct store *s, int64_t id, struct alert **out, size_t *n, int64_t **ids,
		       struct fc_error *err);

static int save_alerts(struct store *s, int64_t id, const struct device *d, int64_t when,
		       struct fc_error *err)
{
	struct alert *active = NULL;
	int64_t *ids = NULL;
	size_t n_active = 0;
	int rc = -1;
	if (load_alerts(s, id, &active, &n_active, &ids, err) < 0)
		return -1;
	bool *matched = calloc(n_active + 1, sizeof *matched);
	if (!matched) {
		fc_error_set(err, "out of memory saving alerts");
		goto out;
	}
	for (size_t i = 0; i < d->n_alerts; i++) {
		const struct alert *a = &d->alerts[i];
		size_t j;
		for (j = 0; j < n_active; j++)
			if (!matched[j] && same_alert(a, &active[j]))
				break;
		sqlite3_stmt *st;
		if (j < n_active) {
			matched[j] = true;
			if (!(st = stmt(s, Q_ALERT_SEEN, err)))
				goto out;
			sqlite3_bind_int64(st, 1, ids[j]);
			sqlite3_bind_int64(st, 2, when);
			sqlite3_bind_int(st, 3, a->index);
			sqlite3_bind_int64(st, 4, a->time_ticks);
		} else {
			if (!(st = stmt(s, Q_ALERT_INSERT, err)))
				goto out;
			sqlite3_bind_int64(st, 1, id);
			sqlite3_bind_int(st, 2, a->index);
			sqlite3_bind_int(st, 3, a->severity);
			sqlite3_bind_int(st, 4, a->training);
			sqlite3_bind_int(st, 5, a->group);
			sqlite3_bind_int(st, 6, a->group_index);
			sqlite3_bind_int(st, 7, a->location);
			sqlite3_bind_int(st, 8, a->code);
			bind_text(st, 9, a->description);
			sqlite3_bind_int64(st, 10, a->time_ticks);
			sqlite3_bind_int64(st, 11, when);
		}
		if (step_done(s, st, err, "saving an alert") < 0)
			goto out;
	}
	for (size_t j = 0; j < n_active; j++) {
		if (matched[j])
			continue;
		sqlite3_stmt *st = stmt(s, Q_ALERT_CLEAR, err);
		if (!st)
			goto out;
		sqlite3_bind_int64(st, 1, ids[j]);
		sqlite3_bind_int64(st, 2, when);
		if (step_done(s, st, err, "clearing an alert") < 0)
			goto out;
	}
	rc = 0;
out:
	free(matched);
	free(ids);
	for (size_t j = 0; j < n_active; j++)
		free(active[j].description);
	free(active);
	return rc;
}

static int save_device_row(struct store *s, const struct device *d, bool include_new, int64_t when,
			   int64_t *id, struct fc_error *err)
{
	if (!d->address || !*d->address)
		return fc_error_set(err, "a device without an address cannot be saved");
	int found = match_device(s, d, id, err);
	if (found < 0)
		return -1;
	sqlite3_stmt *st;
	if (!found) {
		if (!(st = stmt(s, Q_DEV_INSERT, err)))
			return -1;
		bind_text(st, 1, d->address);
		sqlite3_bind_int(st, 2, d->port);
		sqlite3_bind_int(st, 3, include_new);
		sqlite3_bind_int64(st, 4, d->first_seen ? d->first_seen : when);
		if (step_done(s, st, err, "adding a device") < 0)
			return -1;
		*id = sqlite3_last_insert_rowid(s->db);
	}
	if (!(st = stmt(s, Q_DEV_UPDATE, err)))
		return -1;
	sqlite3_bind_int64(st, 1, *id);
	bind_text(st, 2, d->address);
	sqlite3_bind_int(st, 3, d->port);
	bind_text_or_null(st, 4, d->profile);
	bind_text_or_null(st, 5, d->vendor);
	bind_text_or_null(st, 6, d->model);
	bind_text_or_null(st, 7, d->serial);
	bind_text_or_null(st, 8, d->mac);
	bind_text_or_null(st, 9, d->firmware);
	bind_text_or_null(st, 10, d->sys_name);
	bind_text_or_null(st, 11, d->sys_descr);
	bind_text_or_null(st, 12, d->sys_object_id);
	bind_text_or_null(st, 13, d->location);
	sqlite3_bind_int64(st, 14, d->uptime_ticks);
	sqlite3_bind_int(st, 15, d->status_device);
	sqlite3_bind_int(st, 16, d->status_printer);
	sqlite3_bind_int64(st, 17, d->error_bits);
	sqlite3_bind_int(st, 18, d->error_bits_known);
	bind_text(st, 19, d->panel_text);
	sqlite3_bind_int64(st, 20, when);
	sqlite3_bind_int64(st, 21, d->last_poll_ok ? d->last_poll_ok : when);
	/* an answer with parts missing (a walk that timed out, the budget used up) is kept, but it
	 * is not a complete poll: its error stays and last_poll_ok does not move */
	bind_text_or_null(st, 22, d->last_poll_ok ? NULL : d->poll_error);
	bind_text_or_null(st, 23, d->poll_warnings);
	if (step_done(s, st, err, "updating a device") < 0)
		return -1;

	if (!(st = stmt(s, Q_DEV_ADDR_TOUCH, err)))
		return -1;
	sqlite3_bind_int64(st, 1, *id);
	bind_text(st, 2, d->address);
	sqlite3_bind_int64(st, 3, when);
	return step_done(s, st, err, "keeping the address history");
}

int store_device_save(struct store *s, const struct device *d, bool include_new, bool replace_alerts,
		      int64_t *id, struct fc_error *err)
{
	int64_t when = d->last_poll ? d->last_poll : clock_now();
	int64_t dev_id = 0;
	bool began;
	if (auto_begin(s, &began, err) < 0)
		return -1;
	int rc = save_device_row(s, d, include_new, when, &dev_id, err);
	if (rc == 0)
		rc = save_meters(s, dev_id, d, when, err);
	if (rc == 0)
		rc = save_supplies(s, dev_id, d, when, err);
	if (rc == 0)
		rc = save_trays_covers(s, dev_id, d, when, err);
	if (rc == 0 && replace_alerts)
		rc = save_alerts(s, dev_id, d, when, err);
	rc = auto_end(s, began, rc, err);
	if (rc == 0 && id)
		*id = dev_id;
	return rc;
}

int store_device_poll_failed(struct store *s, int64_t id, const char *why, bool unreachable,
			     int64_t when, struct fc_error *err)
{
	sqlite3_stmt *st = stmt(s, Q_DEV_FAILED, err);
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, when);
	bind_text(st, 3, why);
	sqlite3_bind_int(st, 4, unreachable);
	return step_done(s, st, err, "recording a failed poll");
}

int store_device_find(struct store *s, const char *key, int64_t *id, struct fc_error *err)
{
	sqlite3_stmt *st;
	int rc;
	char *end = NULL;
	errno = 0;
	long long n = strtoll(key, &end, 10);
	if (*key && end && *end == '\0' && errno == 0 && n > 0) {
		if (!(st = stmt(s, Q_DEV_FIND_ID, err)))
			return -1;
		sqlite3_bind_int64(st, 1, n);
		if ((rc = query_id(s, st, id, err)) != 0)
			return rc;
	}
	enum query lookups[] = { Q_DEV_FIND_SERIAL, Q_DEV_FIND_ADDRESS };
	const char *what[] = { "serial", "address" };
	for (size_t i = 0; i < 2; i++) {
		if (!(st = stmt(s, lookups[i], err)))
			return -1;
		bind_text(st, 1, key);
		int64_t first = 0, second = 0;
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW) {
			first = sqlite3_column_int64(st, 0);
			rc = sqlite3_step(st);
			if (rc == SQLITE_ROW)
				second = sqlite3_column_int64(st, 0);
		}
		sqlite3_reset(st);
		if (rc != SQLITE_ROW && rc != SQLITE_DONE)
			return db_fail(s, err, "looking up a device");
		if (second && i == 0)
			return fc_error_set(err, "%s \"%s\" belongs to more than one device (ids %lld and %lld): "
					    "use the id", what[i], key, (long long)first, (long long)second);
		if (first) {
			*id = first;
			return 1;
		}
	}
	return 0;
}

/* Reads the DEVICE_COLUMNS of the current row into d. */
static int read_device_row(sqlite3_stmt *st, struct device *d)
{
	memset(d, 0, sizeof *d);
	int c = 0;
	d->id = sqlite3_column_int64(st, c++);
	d->address = col_strdup(st, c++);
	d->port = sqlite3_column_int(st, c++);
	char **strings[] = { &d->profile, &d->vendor, &d->model, &d->serial, &d->mac, &d->firmware,
			     &d->sys_name, &d->sys_descr, &d->sys_object_id, &d->location };
	for (size_t i = 0; i < sizeof strings / sizeof strings[0]; i++) {
		if (sqlite3_column_type(st, c) != SQLITE_NULL && !(*strings[i] = col_strdup(st, c)))
			return -1;
		c++;
	}
	d->uptime_ticks = sqlite3_column_int64(st, c++);
	d->status_device = sqlite3_column_int(st, c++);
	d->status_printer = sqlite3_column_int(st, c++);
	d->error_bits = (uint32_t)sqlite3_column_int64(st, c++);
	d->error_bits_known = sqlite3_column_int(st, c++);
	d->panel_text = col_strdup(st, c++);
	d->included = sqlite3_column_int(st, c++);
	d->first_seen = sqlite3_column_int64(st, c++);
	d->last_seen = sqlite3_column_int64(st, c++);
	d->last_poll = sqlite3_column_int64(st, c++);
	d->last_poll_ok = sqlite3_column_int64(st, c++);
	d->poll_error = col_strdup(st, c++);
	d->unreachable_polls = sqlite3_column_int(st, c++);
	d->poll_warnings = col_strdup(st, c++);
	return d->address ? 0 : -1;
}

/* Reads the rows of a per-device query into a growing array: *items holds *n items of elem bytes,
 * each zeroed and then filled by fill from the statement's columns (fill returns -1 when out of
 * memory). On failure *items and *n still describe what was read, for the caller to free. "what"
 * names the rows in messages ("meters"). */
static int load_rows(struct store *s, enum query q, int64_t id, void **items, size_t *n, size_t elem,
		     int (*fill)(sqlite3_stmt *st, void *item), const char *what, struct fc_error *err)
{
	sqlite3_stmt *st = stmt(s, q, err);
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	size_t cap = 0;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		char *grown = grow(*items, *n, &cap, elem);
		if (!grown) {
			sqlite3_reset(st);
			return fc_error_set(err, "out of memory reading %s", what);
		}
		*items = grown;
		void *item = grown + *n * elem;
		memset(item, 0, elem);
		(*n)++;
		if (fill(st, item) < 0) {
			sqlite3_reset(st);
			return fc_error_set(err, "out of memory reading %s", what);
		}
	}
	sqlite3_reset(st);
	if (rc == SQLITE_DONE)
		return 0;
	char doing[64];
	snprintf(doing, sizeof doing, "reading %s", what);
	return db_fail(s, err, doing);
}

static int fill_meter(sqlite3_stmt *st, void *item)
{
	struct meter *m = item;
	m->name = col_strdup(st, 0);
	m->value = sqlite3_column_int64(st, 1);
	m->unit = sqlite3_column_int(st, 2);
	m->oid = col_strdup(st, 3);
	m->raw = col_strdup(st, 4);
	m->read_at = sqlite3_column_int64(st, 5);
	m->back_from = sqlite3_column_int64(st, 6);
	m->back_at = sqlite3_column_int64(st, 7);
	return m->name ? 0 : -1;
}

static int fill_supply(sqlite3_stmt *st, void *item)
{
	struct supply *p = item;
	p->index = sqlite3_column_int(st, 0);
	p->type = sqlite3_column_int(st, 1);
	p->klass = sqlite3_column_int(st, 2);
	p->unit = sqlite3_column_int(st, 3);
	p->max = sqlite3_column_int(st, 4);
	p->level = sqlite3_column_int(st, 5);
	p->description = col_strdup(st, 6);
	p->colorant = col_strdup(st, 7);
	return 0;
}

static int fill_tray(sqlite3_stmt *st, void *item)
{
	struct tray *t = item;
	t->index = sqlite3_column_int(st, 0);
	t->name = col_strdup(st, 1);
	t->description = col_strdup(st, 2);
	t->media = col_strdup(st, 3);
	t->unit = sqlite3_column_int(st, 4);
	t->max = sqlite3_column_int(st, 5);
	t->level = sqlite3_column_int(st, 6);
	t->status = sqlite3_column_int(st, 7);
	return 0;
}

static int fill_cover(sqlite3_stmt *st, void *item)
{
	struct cover *c = item;
	c->index = sqlite3_column_int(st, 0);
	c->description = col_strdup(st, 1);
	c->status = sqlite3_column_int(st, 2);
	return 0;
}

/* Active alerts of device id into a new array; ids (may be NULL) gets their row ids. */
static int load_alerts(struct store *s, int64_t id, struct alert **out, size_t *n, int64_t **ids,
		       struct fc_error *err)
{
	*out = NULL;
	*n = 0;
	if (ids)
		*ids = NULL;
	sqlite3_stmt *st = stmt(s, Q_ALERTS_ACTIVE_OF, err);
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	size_t cap = 0, ids_cap = 0;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct alert *grown = grow(*out, *n, &cap, sizeof *grown);
		if (!grown)
			goto oom;
		*out = grown;
		if (ids) {
			int64_t *grown_ids = grow(*ids, *n, &ids_cap, sizeof *grown_ids);
			if (!grown_ids)
				goto oom;
			*ids = grown_ids;
		}
		struct alert *a = &(*out)[*n];
		memset(a, 0, sizeof *a);
		if (ids)
			(*ids)[*n] = sqlite3_column_int64(st, 0);
		a->index = sqlite3_column_int(st, 1);
		a->severity = sqlite3_column_int(st, 2);
		a->training = sqlite3_column_int(st, 3);
		a->group = sqlite3_column_int(st, 4);
		a->group_index = sqlite3_column_int(st, 5);
		a->location = sqlite3_column_int(st, 6);
		a->code = sqlite3_column_int(st, 7);
		a->description = col_strdup(st, 8);
		a->time_ticks = sqlite3_column_int64(st, 9);
		a->first_seen = sqlite3_column_int64(st, 10);
		a->last_seen = sqlite3_column_int64(st, 11);
		a->cleared_at = sqlite3_column_int64(st, 12);
		(*n)++;
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : db_fail(s, err, "reading alerts");
oom:
	sqlite3_reset(st);
	return fc_error_set(err, "out of memory reading alerts");
}

/* One child table of d through load_rows (a void * in between: the array's own type differs). */
#define LOAD_CHILDREN(flag, q, field, count, fill, what)                                          \
	do {                                                                                      \
		if (parts & (flag)) {                                                             \
			void *rows = d->field;                                                    \
			int r = load_rows(s, q, d->id, &rows, &d->count, sizeof *d->field, fill, what, \
					  err);                                                   \
			d->field = rows;                                                          \
			if (r < 0)                                                                \
				return -1;                                                        \
		}                                                                                 \
	} while (0)

static int load_parts(struct store *s, struct device *d, unsigned parts, struct fc_error *err)
{
	LOAD_CHILDREN(STORE_LOAD_METERS, Q_METERS_OF, meters, n_meters, fill_meter, "meters");
	LOAD_CHILDREN(STORE_LOAD_SUPPLIES, Q_SUPPLIES_OF, supplies, n_supplies, fill_supply, "supplies");
	if ((parts & STORE_LOAD_ALERTS) && load_alerts(s, d->id, &d->alerts, &d->n_alerts, NULL, err) < 0)
		return -1;
	LOAD_CHILDREN(STORE_LOAD_TRAYS, Q_TRAYS_OF, trays, n_trays, fill_tray, "trays");
	LOAD_CHILDREN(STORE_LOAD_COVERS, Q_COVERS_OF, covers, n_covers, fill_cover, "covers");
	return 0;
}
#undef LOAD_CHILDREN

int store_device_load(struct store *s, int64_t id, unsigned parts, struct device *out,
		      struct fc_error *err)
{
	memset(out, 0, sizeof *out);
	sqlite3_stmt *st = stmt(s, Q_DEV_LOAD, err);
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	int rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		sqlite3_reset(st);
		return rc == SQLITE_DONE ? 0 : db_fail(s, err, "reading a device");
	}
	rc = read_device_row(st, out);
	sqlite3_reset(st);
	if (rc < 0) {
		device_clear(out);
		return fc_error_set(err, "out of memory reading a device");
	}
	if (load_parts(s, out, parts, err) < 0) {
		device_clear(out);
		return -1;
	}
	return 1;
}

int store_devices_list(struct store *s, enum store_device_filter filter, unsigned parts,
		       struct device **out, size_t *n, struct fc_error *err)
{
	*out = NULL;
	*n = 0;
	enum query q = filter == STORE_DEVICES_INCLUDED ? Q_DEV_LIST_INCLUDED
		     : filter == STORE_DEVICES_EXCLUDED ? Q_DEV_LIST_EXCLUDED
							 : Q_DEV_LIST_ALL;
	sqlite3_stmt *st = stmt(s, q, err);
	if (!st)
		return -1;
	struct device *devs = NULL;
	size_t count = 0, cap = 0;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct device *grown = grow(devs, count, &cap, sizeof *grown);
		if (!grown)
			goto oom;
		devs = grown;
		if (read_device_row(st, &devs[count]) < 0) {
			count++;
			goto oom;
		}
		count++;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		db_fail(s, err, "listing devices");
		goto fail;
	}
	for (size_t i = 0; i < count; i++)
		if (load_parts(s, &devs[i], parts, err) < 0)
			goto fail;
	*out = devs;
	*n = count;
	return 0;
oom:
	sqlite3_reset(st);
	fc_error_set(err, "out of memory listing devices");
fail:
	device_array_free(&devs, count);
	return -1;
}

int store_device_set_included(struct store *s, int64_t id, bool included, struct fc_error *err)
{
	sqlite3_stmt *st = stmt(s, Q_DEV_SET_INCLUDED, err);
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int(st, 2, included);
	if (step_done(s, st, err, included ? "including a device" : "excluding a device") < 0)
		return -1;
	return sqlite3_changes(s->db) > 0;
}

/* Bits of hrPrinterDetectedErrorState that stop a printer (device.c says which). */
static int64_t critical_error_mask(void)
{
	int64_t mask = 0;
	for (int b = 0; b < PRINTER_ERR_COUNT; b++)
		if (printer_error_is_critical(b))
			mask |= (int64_t)1 << b;
	return mask;
}

int store_counts(struct store *s, int low_percent, struct store_counts *out, struct fc_error *err)
{
	memset(out, 0, sizeof *out);
	sqlite3_stmt *st = stmt(s, Q_COUNTS, err);
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, critical_error_mask());
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_reset(st);
		return db_fail(s, err, "counting devices");
	}
	out->discovered = sqlite3_column_int64(st, 0);
	out->included = sqlite3_column_int64(st, 1);
	out->excluded = sqlite3_column_int64(st, 2);
	out->with_faults = sqlite3_column_int64(st, 3);
	out->last_data = sqlite3_column_int64(st, 4);
	sqlite3_reset(st);
	if (!(st = stmt(s, Q_COUNT_LOW, err)))
		return -1;
	sqlite3_bind_int(st, 1, low_percent);
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_reset(st);
		return db_fail(s, err, "counting low supplies");
	}
	out->with_low_supplies = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return 0;
}

int store_device_addresses(struct store *s, int64_t id,
			   int (*cb)(void *ctx, const char *address, int64_t first, int64_t last),
			   void *ctx, struct fc_error *err)
{
	sqlite3_stmt *st = stmt(s, Q_DEV_ADDRESSES, err);
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (cb(ctx, (const char *)sqlite3_column_text(st, 0), sqlite3_column_int64(st, 1),
		       sqlite3_column_int64(st, 2)) != 0)
			break;
	}
	sqlite3_reset(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : db_fail(s, err, "reading address history");
}

int store_meter_history(struct store *s, int64_t id, int64_t since,
			int (*cb)(void *ctx, const char *name, const char *day, int64_t value),
			void *ctx, struct fc_error *err)
{
	sqlite3_stmt *st = stmt(s, Q_METER_HISTORY, err);
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, since);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (cb(ctx, (const char *)sqlite3_column_text(st, 0), (const char *)sqlite3_column_text(st, 1),
		       sqlite3_column_int64(st, 2)) != 0)
			break;
	}
	sqlite3_reset(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : db_fail(s, err, "reading meter history");
}

int store_device_set_raw(struct store *s, int64_t id, const char *raw, struct fc_error *err)
{
	sqlite3_stmt *st = stmt(s, Q_RAW_SET, err);
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	bind_text(st, 2, raw ? raw : "");
	sqlite3_bind_int64(st, 3, clock_now());
	return step_done(s, st, err, "saving the raw SNMP values");
}

int store_device_raw(struct store *s, int64_t id, char **raw, int64_t *taken_at, struct fc_error *err)
{
	*raw = NULL;
	if (taken_at)
		*taken_at = 0;
	sqlite3_stmt *st = stmt(s, Q_RAW_GET, err);
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*raw = col_strdup(st, 0);
		if (taken_at)
			*taken_at = sqlite3_column_int64(st, 1);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return db_fail(s, err, "reading the raw SNMP values");
	return 0;
}

/* ---- ranges ---- */

void range_array_free(struct range **ranges, size_t n)
{
	if (!ranges || !*ranges)
		return;
	for (size_t i = 0; i < n; i++) {
		free((*ranges)[i].target);
		free((*ranges)[i].profiles);
	}
	free(*ranges);
	*ranges = NULL;
}

int store_range_add(struct store *s, const char *target, const char *profiles, int port, bool manual,
		    int64_t *id, struct fc_error *err)
{
	sqlite3_stmt *st = stmt(s, Q_RANGE_ADD, err);
	if (!st)
		return -1;
	bind_text(st, 1, target);
	bind_text(st, 2, profiles ? profiles : "");
	sqlite3_bind_int(st, 3, port);
	sqlite3_bind_int(st, 4, manual);
	sqlite3_bind_int64(st, 5, clock_now());
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc == SQLITE_CONSTRAINT_UNIQUE)
		return fc_error_set(err, "%s is already in the discovery list", target);
	if (rc != SQLITE_DONE)
		return db_fail(s, err, "adding a discovery range");
	if (id)
		*id = sqlite3_last_insert_rowid(s->db);
	return 0;
}

int store_range_remove(struct store *s, int64_t id, struct fc_error *err)
{
	sqlite3_stmt *st = stmt(s, Q_RANGE_REMOVE, err);
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	if (step_done(s, st, err, "removing a discovery range") < 0)
		return -1;
	return sqlite3_changes(s->db) > 0;
}

int store_range_update(struct store *s, int64_t id, const char *target, const char *profiles, int port,
		       bool manual, bool enabled, struct fc_error *err)
{
	sqlite3_stmt *st = stmt(s, Q_RANGE_UPDATE, err);
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	bind_text(st, 2, target);
	bind_text(st, 3, profiles ? profiles : "");
	sqlite3_bind_int(st, 4, port);
	sqlite3_bind_int(st, 5, manual);
	sqlite3_bind_int(st, 6, enabled);
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc == SQLITE_CONSTRAINT_UNIQUE)
		return fc_error_set(err, "%s is already in the discovery list", target);
	if (rc != SQLITE_DONE)
		return db_fail(s, err, "changing a discovery range");
	return sqlite3_changes(s->db) > 0;
}

int store_ranges_list(struct store *s, struct range **out, size_t *n, struct fc_error *err)
{
	*out = NULL;
	*n = 0;
	sqlite3_stmt *st = stmt(s, Q_RANGES, err);
	if (!st)
		return -1;
	struct range *r = NULL;
	size_t count = 0, cap = 0;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct range *grown = grow(r, count, &cap, sizeof *grown);
		if (!grown) {
			sqlite3_reset(st);
			range_array_free(&r, count);
			return fc_error_set(err, "out of memory listing ranges");
		}
		r = grown;
		struct range *x = &r[count++];
		x->id = sqlite3_column_int64(st, 0);
		x->target = col_strdup(st, 1);
		x->profiles = col_strdup(st, 2);
		x->port = sqlite3_column_int(st, 3);
		x->manual = sqlite3_column_int(st, 4);
		x->created_at = sqlite3_column_int64(st, 5);
		x->last_run = sqlite3_column_int64(st, 6);
		x->enabled = sqlite3_column_int(st, 7);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		range_array_free(&r, count);
		return db_fail(s, err, "listing discovery ranges");
	}
	*out = r;
	*n = count;
	return 0;
}

int store_range_mark_run(struct store *s, int64_t id, int64_t when, struct fc_error *err)
{
	sqlite3_stmt *st = stmt(s, Q_RANGE_RUN, err);
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, when);
	return step_done(s, st, err, "recording a discovery run");
}

int store_unmanaged_set(struct store *s, const char *address, const char *ports, int64_t when,
			struct fc_error *err)
{
	sqlite3_stmt *st = stmt(s, Q_UNMANAGED_SET, err);
	if (!st)
		return -1;
	bind_text(st, 1, address);
	bind_text(st, 2, ports ? ports : "");
	sqlite3_bind_int64(st, 3, when);
	return step_done(s, st, err, "recording a printer without SNMP");
}

int store_unmanaged_list(struct store *s,
			 int (*cb)(void *ctx, const char *address, const char *ports, int64_t first,
				   int64_t last),
			 void *ctx, struct fc_error *err)
{
	sqlite3_stmt *st = stmt(s, Q_UNMANAGED_LIST, err);
	if (!st)
		return -1;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (cb(ctx, (const char *)sqlite3_column_text(st, 0), (const char *)sqlite3_column_text(st, 1),
		       sqlite3_column_int64(st, 2), sqlite3_column_int64(st, 3)) != 0)
			break;
	}
	sqlite3_reset(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : db_fail(s, err, "listing printers without SNMP");
}

/* ---- syncs ---- */

void sync_array_free(struct sync_record **syncs, size_t n)
{
	if (!syncs || !*syncs)
		return;
	for (size_t i = 0; i < n; i++) {
		free((*syncs)[i].trigger);
		free((*syncs)[i].result);
		free((*syncs)[i].report_key);
		free((*syncs)[i].error);
	}
	free(*syncs);
	*syncs = NULL;
}

int store_sync_start(struct store *s, const char *trigger, const char *report_key, int64_t when,
		     int64_t *id, struct fc_error *err)
{
	sqlite3_stmt *st = stmt(s, Q_SYNC_START, err);
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, when);
	bind_text(st, 2, trigger);
	bind_text(st, 3, report_key);
	if (step_done(s, st, err, "recording a sync") < 0)
		return -1;
	if (id)
		*id = sqlite3_last_insert_rowid(s->db);
	return 0;
}

int store_sync_finish(struct store *s, int64_t id, const char *result, int http_status,
		      int64_t bytes, int devices, const char *error, int64_t when,
		      struct fc_error *err)
{
	sqlite3_stmt *st = stmt(s, Q_SYNC_FINISH, err);
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	bind_text(st, 2, result);
	sqlite3_bind_int(st, 3, http_status);
	sqlite3_bind_int64(st, 4, bytes);
	sqlite3_bind_int(st, 5, devices);
	bind_text(st, 6, error);
	sqlite3_bind_int64(st, 7, when);
	return step_done(s, st, err, "recording a sync result");
}

int store_syncs_list(struct store *s, size_t limit, struct sync_record **out, size_t *n,
		     struct fc_error *err)
{
	*out = NULL;
	*n = 0;
	sqlite3_stmt *st = stmt(s, Q_SYNCS, err);
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, limit ? (int64_t)limit : -1);
	struct sync_record *r = NULL;
	size_t count = 0, cap = 0;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct sync_record *grown = grow(r, count, &cap, sizeof *grown);
		if (!grown) {
			sqlite3_reset(st);
			sync_array_free(&r, count);
			return fc_error_set(err, "out of memory listing syncs");
		}
		r = grown;
		struct sync_record *x = &r[count++];
		x->id = sqlite3_column_int64(st, 0);
		x->started_at = sqlite3_column_int64(st, 1);
		x->finished_at = sqlite3_column_int64(st, 2);
		x->trigger = col_strdup(st, 3);
		x->result = col_strdup(st, 4);
		x->http_status = sqlite3_column_int(st, 5);
		x->bytes = sqlite3_column_int64(st, 6);
		x->devices = sqlite3_column_int(st, 7);
		x->report_key = col_strdup(st, 8);
		x->error = col_strdup(st, 9);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		sync_array_free(&r, count);
		return db_fail(s, err, "listing syncs");
	}
	*out = r;
	*n = count;
	return 0;
}

/* ---- outbox ---- */

void outbox_array_free(struct outbox_entry **entries, size_t n)
{
	if (!entries || !*entries)
		return;
	for (size_t i = 0; i < n; i++) {
		free((*entries)[i].last_error);
		free((*entries)[i].body);
	}
	free(*entries);
	*entries = NULL;
}

int store_outbox_add(struct store *s, const unsigned char *body, size_t size, int devices,
		     int64_t when, char key_out[UUID_STR_LEN], int64_t *id, struct fc_error *err)
{
	char key[UUID_STR_LEN];
	if (uuid_v4(key, err) < 0)
		return -1;
	bool began;
	if (auto_begin(s, &began, err) < 0)
		return -1;
	sqlite3_stmt *st = stmt(s, Q_OUTBOX_ADD, err);
	int rc = -1;
	if (st) {
		bind_text(st, 1, key);
		sqlite3_bind_int64(st, 2, when);
		sqlite3_bind_int(st, 3, devices);
		sqlite3_bind_int64(st, 4, (int64_t)size);
		sqlite3_bind_blob64(st, 5, body, size, SQLITE_TRANSIENT);
		rc = step_done(s, st, err, "putting a report in the outbox");
	}
	int64_t new_id = sqlite3_last_insert_rowid(s->db);
	if (auto_end(s, began, rc, err) < 0)
		return -1;
	if (id)
		*id = new_id;
	if (key_out)
		memcpy(key_out, key, UUID_STR_LEN);
	return 0;
}

int store_outbox_list(struct store *s, bool with_bodies, struct outbox_entry **out, size_t *n,
		      struct fc_error *err)
{
	*out = NULL;
	*n = 0;
	sqlite3_stmt *st = stmt(s, with_bodies ? Q_OUTBOX_LIST_BODIES : Q_OUTBOX_LIST, err);
	if (!st)
		return -1;
	struct outbox_entry *r = NULL;
	size_t count = 0, cap = 0;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct outbox_entry *grown = grow(r, count, &cap, sizeof *grown);
		if (!grown)
			goto oom;
		r = grown;
		struct outbox_entry *x = &r[count++];
		memset(x, 0, sizeof *x);
		x->id = sqlite3_column_int64(st, 0);
		snprintf(x->key, sizeof x->key, "%s", (const char *)sqlite3_column_text(st, 1));
		x->created_at = sqlite3_column_int64(st, 2);
		x->attempts = sqlite3_column_int(st, 3);
		x->next_attempt_at = sqlite3_column_int64(st, 4);
		x->last_error = col_strdup(st, 5);
		x->devices = sqlite3_column_int(st, 6);
		x->size = (size_t)sqlite3_column_int64(st, 7);
		if (with_bodies) {
			const void *b = sqlite3_column_blob(st, 8);
			int len = sqlite3_column_bytes(st, 8);
			x->size = (size_t)len;
			x->body = malloc(len > 0 ? (size_t)len : 1);
			if (!x->body)
				goto oom;
			if (len > 0)
				memcpy(x->body, b, (size_t)len);
		}
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		outbox_array_free(&r, count);
		return db_fail(s, err, "reading the outbox");
	}
	*out = r;
	*n = count;
	return 0;
oom:
	sqlite3_reset(st);
	outbox_array_free(&r, count);
	return fc_error_set(err, "out of memory reading the outbox");
}

int store_outbox_attempted(struct store *s, int64_t id, const char *error, int64_t next_attempt_at,
			   struct fc_error *err)
{
	sqlite3_stmt *st = stmt(s, Q_OUTBOX_ATTEMPTED, err);
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	bind_text(st, 2, error);
	sqlite3_bind_int64(st, 3, next_attempt_at);
	return step_done(s, st, err, "recording an upload attempt");
}

int store_outbox_remove(struct store *s, int64_t id, struct fc_error *err)
{
	sqlite3_stmt *st = stmt(s, Q_OUTBOX_REMOVE, err);
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	if (step_done(s, st, err, "removing a delivered report from the outbox") < 0)
		return -1;
	return sqlite3_changes(s->db) > 0;
}

/* ---- notifications (e-mail alerts) ---- */

/* These run a few times per poll cycle, so they prepare their statement each time rather than
 * join the cached table above. */
static sqlite3_stmt *prepare_once(struct store *s, const char *sql, struct fc_error *err, const char *doing)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) {
		db_fail(s, err, doing);
		return NULL;
	}
	return st;
}

/* Runs a prepared statement that returns no rows and finalizes it. */
static int run_once(struct store *s, sqlite3_stmt *st, struct fc_error *err, const char *doing)
{
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : db_fail(s, err, doing);
}

void notification_array_free(struct notification **list, size_t n)
{
	if (!list || !*list)
		return;
	for (size_t i = 0; i < n; i++)
		free((*list)[i].key);
	free(*list);
	*list = NULL;
}

int store_notifications_list(struct store *s, bool active_only, struct notification **out,
			     size_t *n, struct fc_error *err)
{
	static const char *const doing = "listing the alerts mailed";
	*out = NULL;
	*n = 0;
	sqlite3_stmt *st = prepare_once(s,
					"SELECT key, first_sent, last_sent, count, cleared_at FROM notifications "
					"WHERE NOT ?1 OR cleared_at = 0 ORDER BY key",
					err, doing);
	if (!st)
		return -1;
	sqlite3_bind_int(st, 1, active_only);
	struct notification *r = NULL;
	size_t count = 0, cap = 0;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct notification *grown = grow(r, count, &cap, sizeof *grown);
		if (!grown)
			goto oom;
		r = grown;
		struct notification *x = &r[count];
		x->key = col_strdup(st, 0);
		if (!x->key)
			goto oom;
		count++;
		x->first_sent = sqlite3_column_int64(st, 1);
		x->last_sent = sqlite3_column_int64(st, 2);
		x->count = sqlite3_column_int(st, 3);
		x->cleared_at = sqlite3_column_int64(st, 4);
	}
	if (rc != SQLITE_DONE) {
		db_fail(s, err, doing);
		sqlite3_finalize(st);
		notification_array_free(&r, count);
		return -1;
	}
	sqlite3_finalize(st);
	*out = r;
	*n = count;
	return 0;
oom:
	sqlite3_finalize(st);
	notification_array_free(&r, count);
	return fc_error_set(err, "out of memory listing the alerts mailed");
}

int store_notification_sent(struct store *s, const char *key, int64_t when, struct fc_error *err)
{
	static const char *const doing = "recording an alert mailed";
	sqlite3_stmt *st = prepare_once(s,
					"INSERT INTO notifications(key, first_sent, last_sent) VALUES (?1, ?2, ?2) "
					"ON CONFLICT(key) DO UPDATE SET last_sent = excluded.last_sent, "
					"count = count + 1, cleared_at = 0",
					err, doing);
	if (!st)
		return -1;
	bind_text(st, 1, key);
	sqlite3_bind_int64(st, 2, when);
	return run_once(s, st, err, doing);
}

int store_notification_clear(struct store *s, const char *key, int64_t when, struct fc_error *err)
{
	static const char *const doing = "recording an alert that cleared";
	sqlite3_stmt *st = prepare_once(s, "UPDATE notifications SET cleared_at = ?2 WHERE key = ?1 AND cleared_at = 0",
					err, doing);
	if (!st)
		return -1;
	bind_text(st, 1, key);
	sqlite3_bind_int64(st, 2, when > 0 ? when : 1); /* 0 would mean "still active" */
	if (run_once(s, st, err, doing) < 0)
		return -1;
	return sqlite3_changes(s->db) > 0;
}

int store_mail_sent(struct store *s, int64_t when, int conditions, const char *subject,
		    struct fc_error *err)
{
	static const char *const doing = "recording an e-mail sent";
	sqlite3_stmt *st = prepare_once(s, "INSERT INTO mails_sent(sent_at, conditions, subject) VALUES (?1, ?2, ?3)",
					err, doing);
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, when);
	sqlite3_bind_int(st, 2, conditions);
	bind_text(st, 3, subject ? subject : "");
	return run_once(s, st, err, doing);
}

int store_mails_since(struct store *s, int64_t since, int64_t *count, struct fc_error *err)
{
	static const char *const doing = "counting the e-mails sent";
	sqlite3_stmt *st = prepare_once(s, "SELECT count(*) FROM mails_sent WHERE sent_at >= ?1", err, doing);
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, since);
	if (sqlite3_step(st) != SQLITE_ROW) {
		db_fail(s, err, doing);
		sqlite3_finalize(st);
		return -1;
	}
	*count = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return 0;
}

int store_notifications_prune(struct store *s, int64_t before, struct fc_error *err)
{
	static const char *const doing = "forgetting old alerts mailed";
	bool began;
	if (auto_begin(s, &began, err) < 0)
		return -1;
	int rc = -1;
	sqlite3_stmt *st = prepare_once(s, "DELETE FROM notifications WHERE cleared_at <> 0 AND cleared_at < ?1",
					err, doing);
	if (st) {
		sqlite3_bind_int64(st, 1, before);
		rc = run_once(s, st, err, doing);
	}
	if (rc == 0) {
		rc = -1;
		st = prepare_once(s, "DELETE FROM mails_sent WHERE sent_at < ?1", err, doing);
		if (st) {
			sqlite3_bind_int64(st, 1, before);
			rc = run_once(s, st, err, doing);
		}
	}
	return auto_end(s, began, rc, err);
}

int store_supply_low_since(struct store *s, int64_t device_id, int idx, int low_percent,
			   int64_t *since, struct fc_error *err)
{
	static const char *const doing = "reading a supply's history";
	*since = 0;
	/* The first day after the last day that was not low. */
	sqlite3_stmt *st = prepare_once(
		s,
		"SELECT min(day) FROM supply_history WHERE device_id = ?1 AND idx = ?2 AND day > "
		" coalesce((SELECT max(day) FROM supply_history WHERE device_id = ?1 AND idx = ?2"
		"           AND NOT (level >= 0 AND max > 0 AND level * 100 < ?3 * max)), '')",
		err, doing);
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, device_id);
	sqlite3_bind_int(st, 2, idx);
	sqlite3_bind_int(st, 3, low_percent);
	if (sqlite3_step(st) != SQLITE_ROW) {
		db_fail(s, err, doing);
		sqlite3_finalize(st);
		return -1;
	}
	const unsigned char *day = sqlite3_column_text(st, 0);
	int64_t t = 0;
	if (day && clock_parse_utc((const char *)day, &t) == 0)
		*since = t;
	sqlite3_finalize(st);
	return 0;
}
