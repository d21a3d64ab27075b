/* The agent runtime: worker threads that run commands the console (or, later, the service socket)
 * sends, and the events they send back. It knows nothing about SNMP, HTTPS or exports: the top
 * layer registers a handler for each command kind, and handlers speak to the console only through
 * agent_emit() and friends. Every worker thread has its own store connection.
 *
 * Commands and events are fc_msg (model/queue.h) carrying plain data only (kind, id, a, b, text),
 * so that they can cross a Unix socket unchanged. The kinds and what their fields mean are below. */
#ifndef FLEETCON_MODEL_AGENT_H
#define FLEETCON_MODEL_AGENT_H

#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model/error.h"
#include "model/queue.h"

/* Commands, console -> workers. "job" is the number agent_submit() returns. */
enum agent_cmd {
	AGENT_CMD_POLL = 1,     /* id: device (0 = every included device) */
	AGENT_CMD_DISCOVER,     /* id: range (0 = every range); a: 1 = dry run (cost only, nothing sent) */
	AGENT_CMD_UPLOAD,       /* a sync: a 0 = now (the "manual" trigger), 1 = the daily slot, 2 = a retry
				   of the reports waiting in the outbox (nothing new is built) */
	AGENT_CMD_PREVIEW,      /* the report the next sync would send: answered by AGENT_EV_RESULT */
	AGENT_CMD_EXPORT,       /* a: 0 HTML, 1 CSV; b: 1 = replace an existing output; text: path */
	AGENT_CMD_INCLUDE,      /* id: device; a: 1 include, 0 exclude */
	AGENT_CMD_RANGE_ADD,    /* text: "TARGET\tPROFILES" (profiles may be empty); a: port (0 =
				   default); b: 1 = a manual address, 2 = a sweep, 0 = as the target
				   says (AGENT_RANGE_KIND), plus the AGENT_RANGE_* flags below */
	AGENT_CMD_RANGE_EDIT,   /* id: range; the rest as RANGE_ADD */
	AGENT_CMD_RANGE_REMOVE, /* id: range */
	AGENT_CMD_SITEFACTS,    /* the site facts: answered by AGENT_EV_RESULT, text "LABEL\tVALUE\n"... */
	AGENT_CMD_CANCEL,       /* id: the job to cancel. Handled by the runtime itself: it sets the
				   job's cancel flag (queued or running) and is never queued */
	AGENT_CMD_COUNT
};

/* The b argument of AGENT_CMD_RANGE_ADD / _EDIT: the kind in the low bits, then flags. */
enum {
	AGENT_RANGE_KIND = 3,      /* 1 manual address, 2 sweep, 0 as the target says */
	AGENT_RANGE_FORCE = 4,     /* a range bigger than the usual bound (a /16) is accepted */
	AGENT_RANGE_DISABLED = 8,  /* kept in the list but not swept by the schedule */
};

/* Events, workers -> console. */
enum agent_event {
	AGENT_EV_JOB_STARTED = 100, /* id: job; b: command kind */
	AGENT_EV_PROGRESS,          /* id: job; a: done; b: total (0 = unknown); text: one line.
				       Coalesced: the reader sees the latest of a flood */
	AGENT_EV_JOB_DONE,          /* id: job; a: enum agent_job_status; b: command kind; text: one
				       line, the result or what went wrong and what to do */
	AGENT_EV_RESULT,            /* id: job; b: command kind; text: the answer (may be long) */
	AGENT_EV_DEVICE_CHANGED,    /* id: device (0 = many changed: reload them all) */
	AGENT_EV_RANGES_CHANGED,    /* the discovery ranges changed */
	AGENT_EV_SYNC_FINISHED,     /* id: sync record (0 = none); a: 1 = everything delivered;
				       text: one line */
	AGENT_EV_LOG,               /* a: enum agent_level; text: one line */
	AGENT_EV_FLASH,             /* a: enum agent_level; text: one line for the status area */
};

enum agent_job_status { AGENT_JOB_OK = 0, AGENT_JOB_FAILED = 1, AGENT_JOB_CANCELLED = 2 };

enum agent_level { AGENT_ERROR, AGENT_WARN, AGENT_INFO, AGENT_DEBUG };

/* "error", "warn", "info", "debug". Static strings. */
const char *agent_level_name(int level);

/* "poll", "discover", "upload", ... ("?" for an unknown kind). Static strings. */
const char *agent_cmd_name(int kind);

/* "job-started", "progress", "job-done", "result", "device-changed", "ranges-changed",
 * "sync-finished", "log", "flash" ("?" for an unknown kind). Static strings. */
const char *agent_event_name(int kind);

/* The kind of a command or event name (what the two above return), or 0 when unknown. These
 * names, not the numbers, cross the service's socket. */
int agent_cmd_kind(const char *name);
int agent_event_kind(const char *name);

struct agent;
struct agent_job;
struct store;

/* A handler runs one command on a worker thread. cmd is borrowed for the call. It returns 0 when
 * the command did what it was asked (agent_job_summary() may give the line shown), or -1 with
 * err set; a handler that saw agent_job_cancelled() returns -1 too and the job counts as
 * cancelled. It reports through agent_job_progress() / agent_emit(). */
typedef int (*agent_handler_fn)(struct agent_job *job, const struct fc_msg *cmd, void *arg,
				struct fc_error *err);

struct agent_options {
	const char *db_path;      /* each worker thread opens it with STORE_NO_CHECK; NULL = no store
				     (agent_job_store() returns NULL) */
	size_t command_capacity;  /* per worker; 0 = 256 */
	size_t event_capacity;    /* 0 = 4096 */
};

/* A new agent, not started. Caller frees it with agent_free(). NULL with err set when out of
 * resources. o is copied (db_path too). Ignores SIGPIPE for the whole process: a peer that goes
 * away must give an error, not end the program. */
struct agent *agent_new(const struct agent_options *o, struct fc_error *err);

/* Adds a worker: `threads` threads (1..16) that share one command queue and run its commands in
 * order of arrival, each with its own store connection. name is for messages ("collector",
 * "uplink"; copied). Returns the worker's number (>= 0), or -1 with err set. Before agent_start. */
int agent_worker_add(struct agent *a, const char *name, int threads, struct fc_error *err);

/* Gives the worker's threads a value each keeps across the commands it runs (an SNMP engine, what
 * the last poll learned): handlers read it with agent_job_local() and set it with
 * agent_job_set_local(); when the thread ends, free_fn(value) runs on it (when the value is not
 * NULL). Before agent_start. Returns 0, or -1 with err set. */
int agent_worker_set_local_free(struct agent *a, int worker, void (*free_fn)(void *value),
				struct fc_error *err);

/* Sends commands of `kind` to `worker`, to be run by fn(job, cmd, arg, err). arg is borrowed and
 * must outlive the agent's threads. Before agent_start. Returns 0, or -1 with err set. */
int agent_register(struct agent *a, int kind, int worker, agent_handler_fn fn, void *arg,
		   struct fc_error *err);

/* Starts every worker's threads and waits until each has opened its store. Signals SIGINT,
 * SIGTERM, SIGHUP, SIGQUIT, SIGWINCH, SIGTSTP and SIGCONT are blocked in them (the main thread
 * handles those). Returns 0, or -1 with err set (nothing left running). */
int agent_start(struct agent *a, struct fc_error *err);

/* Queues a command: kind with its fields (text copied; may be NULL). Returns the new job's
 * number (> 0) in *job (may be NULL) and 0, or -1 with err set: unknown kind, no handler, queue
 * full or agent stopped. AGENT_CMD_CANCEL is done at once (its *job is 0). Any thread. */
int agent_submit(struct agent *a, int kind, int64_t id, int64_t x, int64_t y, const char *text,
		 int64_t *job, struct fc_error *err);

/* The same for a message that arrived whole (from a socket): takes ownership of *cmd (and NULLs
 * it) whatever the result. */
int agent_submit_msg(struct agent *a, struct fc_msg **cmd, int64_t *job, struct fc_error *err);

/* Asks the job to stop: a queued job is dropped when its turn comes (AGENT_EV_JOB_DONE says
 * cancelled), a running one sees agent_job_cancelled(). Returns 1 when the job was queued or
 * running, 0 when it is unknown or over. Any thread. */
int agent_cancel(struct agent *a, int64_t job);

/* The event queue: the console polls fc_queue_wakeup_fd() on it and pops the events (which it
 * then owns). Borrowed; valid until agent_free(). */
struct fc_queue *agent_events(struct agent *a);

/* Jobs queued or running now (a snapshot), so that tests can wait for the agent to be idle. */
size_t agent_busy(struct agent *a);

/* Stops the agent: cancels every job, drops the queued ones, closes the queues (so that a worker
 * blocked on a full event queue wakes) and joins the threads, waiting at most timeout_ms for them
 * all. Returns 0, or -1 with err set when some thread did not end in time (the agent must then not
 * be freed: those threads still use it; the process should exit). Stopping twice is harmless. */
int agent_stop(struct agent *a, int64_t timeout_ms, struct fc_error *err);

/* Frees a stopped (or never started) agent with the events left in its queue, and NULLs *a. */
void agent_free(struct agent **a);

/* ---- for handlers, on a worker thread ---- */

/* The job's number, its agent, and the worker thread's own store connection (NULL when the agent
 * has no database). Borrowed: valid during the handler's call. */
int64_t agent_job_id(const struct agent_job *job);
struct agent *agent_job_agent(struct agent_job *job);
struct store *agent_job_store(struct agent_job *job);

/* The agent's database path (NULL when it has none), for a helper thread of a handler that opens
 * its own connection. Borrowed: valid while the agent lives. Any thread. */
const char *agent_db_path(const struct agent *a);

/* The value this worker thread keeps across commands (NULL until set), and setting it (the old
 * value is the caller's business: free or keep it first). Borrowed: owned by the thread. */
void *agent_job_local(struct agent_job *job);
void agent_job_set_local(struct agent_job *job, void *value);

/* Whether the job was asked to stop (agent_cancel, agent_stop). */
bool agent_job_cancelled(const struct agent_job *job);

/* The same flag in the form the libraries poll (collectors, uplink: `const atomic_bool *cancel`,
 * true = stop). Borrowed: valid during the handler's call. */
const atomic_bool *agent_job_cancel_atomic(struct agent_job *job);

/* Sends AGENT_EV_PROGRESS for this job: done of total (0 = unknown) and one line of text. The
 * console sees the latest when they come faster than it reads. Returns 0, or -1 when the event
 * could not be queued (agent stopping): the handler may go on; nothing is waiting for it. */
int agent_job_progress(struct agent_job *job, int64_t done, int64_t total, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Sends AGENT_EV_RESULT with text (copied) for this job. Returns 0 or -1 as above. */
int agent_job_result(struct agent_job *job, const char *text);

/* The line AGENT_EV_JOB_DONE carries when the handler returns 0 ("12 printers found"). */
void agent_job_summary(struct agent_job *job, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Sends an event (kind from enum agent_event) with a formatted text (fmt may be NULL: no text).
 * Blocks while the event queue is full (the console drains it); returns 0, or -1 when the queue
 * is closed or out of memory (the event is dropped). Any thread. */
int agent_emit(struct agent *a, int kind, int64_t id, int64_t x, int64_t y, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));
int agent_emitv(struct agent *a, int kind, int64_t id, int64_t x, int64_t y, const char *fmt,
		va_list ap) __attribute__((format(printf, 6, 0)));

/* Shorthands: AGENT_EV_LOG / AGENT_EV_FLASH with a level. */
int agent_log(struct agent *a, int level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int agent_flash(struct agent *a, int level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
