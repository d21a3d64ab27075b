/* The SNMP engine: one event loop on one thread with many requests in flight, built on Net-SNMP's
 * single-session API (snmp_sess_*). Work comes as jobs, one per target host: a job gets a session
 * (a UDP socket) when it is admitted, sends requests through it within a per-host limit, and gives
 * the socket back when it has nothing left to do, so that the number of open descriptors stays
 * under a cap however many hosts are queued. Timeouts and retries are the engine's, per request;
 * SNMPv3 engine IDs are discovered without blocking and cached per host for later jobs.
 *
 * Everything here runs on the thread that calls snmp_engine_run(); callbacks are invoked on that
 * thread, from inside snmp_engine_run(), and must not block (no curses, no waiting on queues). */
#ifndef FLEETCON_COLLECTORS_SNMP_ENGINE_H
#define FLEETCON_COLLECTORS_SNMP_ENGINE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>

#include "collectors/decode.h"
#include "model/config.h"
#include "model/error.h"

/* Limits of one engine. Zero fields take the defaults of snmp_engine_limits_default(). */
struct engine_limits {
	int concurrency;  /* requests in flight, all hosts together ([poll] concurrency; 256) */
	int per_host;     /* requests in flight to one host ([poll] per_host; 2) */
	int timeout_ms;   /* wait for one answer before resending ([poll] timeout_ms; 1000) */
	int retries;      /* resends after a timeout ([poll] retries; 1) */
	int max_sessions; /* sessions (sockets) open at once; default: concurrency */
	int rcvbuf;       /* socket receive buffer in bytes (1 MiB; the kernel may cap it) */
};

/* Fills l with the defaults. */
void snmp_engine_limits_default(struct engine_limits *l);

/* Fills l from the configuration's [poll] timeout_ms, retries, concurrency and per_host (the rest
 * at their defaults). cfg is only read. */
void snmp_engine_limits_from_config(const struct config *cfg, struct engine_limits *l);

/* Initialises Net-SNMP once per process: no MIB files loaded (numeric OIDs only), no
 * configuration files read, nothing persisted under the user's home, nothing logged to
 * stderr. Must run before any thread that uses SNMP starts; later calls do nothing. Returns 0, or
 * -1 with err set. */
int snmp_engine_global_init(struct fc_error *err);

/* A new engine with those limits (NULL: defaults). Caller frees it with snmp_engine_free(). NULL
 * with err set when out of memory or when snmp_engine_global_init() was not called. */
struct snmp_engine *snmp_engine_new(const struct engine_limits *limits, struct fc_error *err);

/* Frees the engine with its caches and NULLs *e. Not while snmp_engine_run() is running. */
void snmp_engine_free(struct snmp_engine **e);

/* The limits in force (defaults filled in). Borrowed from e. */
const struct engine_limits *snmp_engine_limits(const struct snmp_engine *e);

/* Counters since the engine was made. */
struct snmp_engine_stats {
	uint64_t jobs;          /* jobs finished */
	uint64_t requests;      /* requests completed (a walk is several) */
	uint64_t packets;       /* datagrams sent, resends and SNMPv3 probes included */
	uint64_t responses;     /* answers received */
	uint64_t timeouts;      /* requests that got no answer after every retry */
	uint64_t engine_probes; /* SNMPv3 engine ID discoveries sent */
	int max_open_sessions;  /* the most sessions open at one time */
	int max_in_flight;      /* the most requests in flight at one time */
};
void snmp_engine_stats(const struct snmp_engine *e, struct snmp_engine_stats *out);

/* An OID as numbers. */
struct snmp_oid {
	oid id[MAX_OID_LEN];
	size_t len;
};

/* Parses "1.3.6.1..." into *o. Returns 0, or -1 when the text is not a numeric OID. */
int snmp_oid_from_text(const char *text, struct snmp_oid *o);

/* A value of a varbind as decode.h sees it (borrowed from the varbind). */
void snmp_value_of(const netsnmp_variable_list *vb, struct snmp_value *out);

/* ---- jobs ------------------------------------------------------------------------------------ */

struct snmp_job;

/* What a job does. start runs once the job has a session: it queues the first requests. done runs
 * once nothing is queued or in flight any more (whether the job succeeded, failed or was aborted);
 * the job and its session are freed right after done returns. */
struct snmp_job_ops {
	void (*start)(struct snmp_job *job, void *arg);
	void (*done)(struct snmp_job *job, void *arg);
};

/* Queues a job for host address (IPv4, IPv6 or a host name; a name is resolved when the job is
 * admitted, which blocks this thread for as long as the resolver takes) on port, with credentials
 * cred. budget_ms bounds the job's whole life once admitted (0: none): when it runs out, every
 * request still queued or in flight completes with SNMP_ABORTED. address is copied; cred and arg
 * are borrowed and must stay valid until done has run. Returns the job (owned by the engine), or
 * NULL with err set (out of memory). May be called from any callback of the same engine. */
struct snmp_job *snmp_engine_add_job(struct snmp_engine *e, const char *address, int port,
				     const struct snmp_profile *cred, int64_t budget_ms,
				     const struct snmp_job_ops *ops, void *arg, struct fc_error *err);

/* A feeder adds jobs on demand, so that a sweep of 65,000 addresses never holds 65,000 jobs: the
 * engine calls it whenever fewer than `want` jobs wait for a session; it adds up to want jobs with
 * snmp_engine_add_job() and returns how many it added (0: it has no more, and is not called again
 * during this run). NULL removes the feeder. arg is borrowed for the run. */
typedef size_t (*snmp_feeder_fn)(struct snmp_engine *e, size_t want, void *arg);
void snmp_engine_set_feeder(struct snmp_engine *e, snmp_feeder_fn fn, void *arg);

/* Runs the loop until no job is left (and the feeder has no more), or until *cancel becomes true
 * (cancel may be NULL): then every job is aborted (its requests complete with SNMP_ABORTED and its
 * done runs) before this returns. tick (may be NULL) is called at least every tick_ms
 * milliseconds (and once at the end) for progress. Returns 0, or -1 with err set when the loop
 * itself cannot continue (poll() failing); a failing host is never an engine error. */
int snmp_engine_run(struct snmp_engine *e, const atomic_bool *cancel,
		    void (*tick)(void *arg), void *tick_arg, int tick_ms, struct fc_error *err);

/* The job's host as given, its port, credentials and opaque argument. Borrowed from the job. */
const char *snmp_job_address(const struct snmp_job *job);
int snmp_job_port(const struct snmp_job *job);
const struct snmp_profile *snmp_job_cred(const struct snmp_job *job);

/* Milliseconds since the job was admitted. */
int64_t snmp_job_elapsed_ms(const struct snmp_job *job);

/* Requests completed and datagrams sent for this job so far. */
unsigned snmp_job_requests(const struct snmp_job *job);
unsigned snmp_job_packets(const struct snmp_job *job);

/* Whether the job was aborted (budget, cancel, or a session that could not be opened), and why
 * (borrowed; "" when not aborted). */
bool snmp_job_aborted(const struct snmp_job *job);
const char *snmp_job_abort_reason(const struct snmp_job *job);

/* Switches the job to other credentials: the session is closed and a new one opened (SNMPv3: with
 * its own engine discovery) before the next queued request goes out. For trying several profiles
 * on one host. cred is borrowed like in snmp_engine_add_job(). */
void snmp_job_set_cred(struct snmp_job *job, const struct snmp_profile *cred);

/* Whether GETBULK is to be avoided on this host (SNMPv1, or an agent that mishandled it before:
 * remembered by the engine across jobs). */
bool snmp_job_no_bulk(const struct snmp_job *job);
/* Remembers that this host mishandles GETBULK. */
void snmp_job_mark_no_bulk(struct snmp_job *job);

/* ---- requests -------------------------------------------------------------------------------- */

enum snmp_status {
	SNMP_OK = 0,         /* an answer; it may carry an error-status */
	SNMP_TIMEOUT,        /* no answer after every retry (a wrong community looks the same) */
	SNMP_AUTH_FAILED,    /* SNMPv3 report: unknown user, wrong password, wrong security level */
	SNMP_REPORT,         /* another SNMPv3 report the request could not recover from */
	SNMP_SEND_FAILED,    /* the request could not be built or sent */
	SNMP_ABORTED,        /* the job's budget ran out, the run was cancelled, or no session */
};

/* The outcome of a request, valid only during the callback. vars (SNMP_OK) is the list of
 * varbinds of the answer: read it, copy what you keep; it is freed after the callback. */
struct snmp_reply {
	enum snmp_status status;
	long errstat;        /* SNMP_OK: the answer's error-status (0 = noError) */
	long errindex;
	const netsnmp_variable_list *vars;
	const char *message; /* for errors, one sentence ("no answer after 2 attempts") */
};

typedef void (*snmp_reply_fn)(struct snmp_job *job, const struct snmp_reply *reply, void *arg);

/* Queues a GET of n OIDs (copied). The engine makes it tolerant: an OID the agent refuses with an
 * error-status that names it (noSuchName in SNMPv1, genErr, ...) is left out and the rest asked
 * again; tooBig splits the request. The reply then lists what the agent gave, in any order, and
 * errstat is 0 (an error that names no OID, authorizationError say, is handed over as is). On
 * SNMP_TIMEOUT or SNMP_ABORTED, vars holds what earlier packets of the same GET brought (often
 * nothing). Returns 0, or -1 when the job is aborted or out of memory (fn is then not called). */
int snmp_job_get(struct snmp_job *job, const struct snmp_oid *oids, size_t n, snmp_reply_fn fn,
		 void *arg);

/* Queues a GETNEXT of n OIDs. Same return as snmp_job_get; the reply is the agent's answer as is. */
int snmp_job_getnext(struct snmp_job *job, const struct snmp_oid *oids, size_t n,
		     snmp_reply_fn fn, void *arg);

/* Queues a GETBULK of n OIDs, the first non_repeaters of them not repeated. */
int snmp_job_getbulk(struct snmp_job *job, const struct snmp_oid *oids, size_t n,
		     int non_repeaters, int max_repetitions, snmp_reply_fn fn, void *arg);

/* ---- walks ----------------------------------------------------------------------------------- */

/* Bounds of a walk. A walk stops a column at the end of its subtree, at an OID that does not
 * increase (some LaserJets loop), or when a bound is hit; it never loops or grows without bound. */
struct snmp_walk_opts {
	size_t max_rows;        /* rows per column (default 1000) */
	size_t max_varbinds;    /* varbinds in all (default 4000) */
	size_t max_bytes;       /* bytes of values in all (default 256 KiB) */
	int max_repetitions;    /* GETBULK repetitions, divided among the columns (default 32) */
};

struct snmp_walk_result {
	enum snmp_status status; /* SNMP_OK when every column ended normally or at a bound */
	const char *message;     /* why not, or what was cut ("non-increasing OID at ..."); may be NULL */
	bool truncated;          /* a bound was hit */
	bool non_increasing;     /* the agent returned an OID that does not increase */
	size_t varbinds;
	unsigned requests;
};

/* Called for each varbind inside column `column` (index into the columns given), in order. */
typedef void (*snmp_walk_vb_fn)(void *arg, size_t column, const netsnmp_variable_list *vb);
/* Called once at the end; the result is valid during the call. */
typedef void (*snmp_walk_done_fn)(struct snmp_job *job, const struct snmp_walk_result *res,
				  void *arg);

/* Walks up to SNMP_WALK_MAX_COLUMNS columns (subtrees) together: GETBULK with several columns per
 * request, GETNEXT in SNMPv1 or on hosts that mishandle GETBULK (an error, no progress or a timeout
 * after a GETBULK moves the walk, and the host, to GETNEXT). columns are copied; opts may be NULL.
 * Returns 0, or -1 (aborted job, out of memory, too many columns): on_done is then not called. */
#define SNMP_WALK_MAX_COLUMNS 16
int snmp_job_walk(struct snmp_job *job, const struct snmp_oid *columns, size_t n,
		  const struct snmp_walk_opts *opts, snmp_walk_vb_fn on_vb, snmp_walk_done_fn on_done,
		  void *arg);

#endif
