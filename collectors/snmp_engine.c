/* The SNMP engine (see snmp_engine.h): jobs admitted into a bounded set of Net-SNMP single
 * sessions, requests queued per job and sent within the per-host and global limits, one poll()
 * loop over the open sockets, timeouts and retries done here (Net-SNMP's own retries are off), and
 * SNMPv3 engine discovery sent asynchronously (Net-SNMP's probe would block the loop).
 *
 * Two Net-SNMP behaviours shape this file:
 * - a request's cb_data may be written by the library after our callback returned (for reports it
 *   treats cb_data as its synch_state and clears its first int): every struct req starts with a
 *   field reserved for that write, and a req is freed only outside the library's callbacks;
 * - a session must never be closed from inside a callback (the library still uses it): closing,
 *   reopening and freeing happen in the loop, between library calls. */
#include "collectors/snmp_engine.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <net-snmp/library/keytools.h>
#include <net-snmp/library/large_fd_set.h>
#include <net-snmp/library/snmp_logging.h>
#include <net-snmp/library/snmpusm.h>
#include <net-snmp/library/transform_oids.h>

#include "model/clock.h"

_Static_assert(sizeof(oid) == sizeof(unsigned long), "decode.h keeps OIDs as unsigned long");

/* ---- the host cache: SNMPv3 engine IDs and "mishandles GETBULK", per address:port ---------- */

#define CACHE_MAX_ENTRIES 65536 /* a bound for a long-running agent: past it the cache restarts */
#define ENGINE_ID_MAX 32

struct host_entry {
	struct host_entry *next;
	unsigned char engine_id[ENGINE_ID_MAX];
	size_t engine_id_len;
	bool no_bulk;
	char key[]; /* "address|port" */
};

struct host_cache {
	struct host_entry **buckets;
	size_t n_buckets;
	size_t count;
};

static uint64_t fnv1a(const char *s)
{
	uint64_t h = 1469598103934665603ull;
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ull;
	}
	return h;
}

static void cache_clear(struct host_cache *c)
{
	for (size_t i = 0; i < c->n_buckets; i++) {
		struct host_entry *h = c->buckets[i];
		while (h) {
			struct host_entry *next = h->next;
			free(h);
			h = next;
		}
		c->buckets[i] = NULL;
	}
	c->count = 0;
}

/* The entry for key, created when create is set (NULL when out of memory or not found). */
static struct host_entry *cache_get(struct host_cache *c, const char *key, bool create)
{
	if (!c->buckets) {
		if (!create)
			return NULL;
		c->n_buckets = 4096;
		c->buckets = calloc(c->n_buckets, sizeof *c->buckets);
		if (!c->buckets) {
			c->n_buckets = 0;
			return NULL;
		}
	}
	size_t b = fnv1a(key) % c->n_buckets;
	for (struct host_entry *h = c->buckets[b]; h; h = h->next)
		if (strcmp(h->key, key) == 0)
			return h;
	if (!create)
		return NULL;
	if (c->count >= CACHE_MAX_ENTRIES)
		cache_clear(c);
	size_t kl = strlen(key);
	struct host_entry *h = calloc(1, sizeof *h + kl + 1);
	if (!h)
		return NULL;
	memcpy(h->key, key, kl + 1);
	h->next = c->buckets[b];
	c->buckets[b] = h;
	c->count++;
	return h;
}

/* ---- data ------------------------------------------------------------------------------------ */

enum req_kind { REQ_GET, REQ_GETNEXT, REQ_GETBULK, REQ_PROBE };

/* An OID of a request: its arcs are in the block after the request's array of these (a whole
 * struct snmp_oid is 1 KB, and copying them was a twentieth of a poll's instructions). */
struct req_oid {
	const oid *id;
	size_t len;
};

struct req {
	int netsnmp_scribble; /* first: Net-SNMP may write an int here after a report (see above) */
	struct snmp_job *job;
	struct req *next;
	enum req_kind kind;
	struct req_oid *oids;  /* GET: the OIDs still to ask; others: the OIDs (one block with their arcs) */
	size_t n_oids;
	size_t chunk;          /* GET: OIDs per packet (halved on tooBig) */
	size_t sent_n;         /* GET: OIDs in the packet in flight */
	int non_rep, max_rep;
	snmp_reply_fn fn;
	void *arg;
	int attempts;          /* sends of the current packet */
	int tw_reports;        /* notInTimeWindow reports for the current packet */
	int64_t deadline;      /* when the packet in flight counts as lost (monotonic ms) */
	bool completed;
	bool sec_error;        /* Net-SNMP reported a security error for an answer to it */
	netsnmp_variable_list *accum; /* GET: varbinds gathered over several packets */
};

enum engine_state { EID_READY, EID_NEEDED, EID_PROBING };

struct snmp_job {
	struct snmp_engine *e;
	struct snmp_job *next;          /* in the waiting list */
	char *address;
	int port;
	const struct snmp_profile *cred;
	int64_t budget_ms;
	int64_t admitted_at;
	const struct snmp_job_ops *ops;
	void *arg;

	void *sessp;                    /* Net-SNMP single session, NULL when closed */
	int fd;
	enum engine_state eid;
	bool eid_from_cache;            /* the engine ID came from the cache, not a probe */
	bool reprobed;                  /* an unknown-engine-ID report already led to a new probe */
	bool reopen;                    /* close and reopen the session before the next send */

	struct req *queue, *queue_tail; /* not sent yet (or waiting to be resent) */
	struct req *inflight;           /* handed to Net-SNMP */
	int n_inflight;
	struct req *dead;               /* completed, to be freed outside callbacks */

	bool started;
	bool answered;                  /* some request got a real answer (not a report) */
	bool aborted;
	char abort_reason[160];
	unsigned requests, packets;
};

struct snmp_engine {
	struct engine_limits lim;
	struct snmp_job *wait_head, *wait_tail;
	size_t n_waiting;
	struct snmp_job **active;
	size_t n_active, cap_active;
	int inflight;
	snmp_feeder_fn feeder;
	void *feeder_arg;
	bool feeder_done;
	struct snmp_engine_stats stats;
	struct host_cache cache;
	netsnmp_large_fd_set fdset;
	int fdset_size;
	struct pollfd *pfds;
	struct snmp_job **pjobs;
	size_t cap_pfds;
	size_t rr;
	bool running;
};

static bool global_init_done;

/* ---- small helpers --------------------------------------------------------------------------- */

void snmp_engine_limits_default(struct engine_limits *l)
{
	l->concurrency = 256;
	l->per_host = 2;
	l->timeout_ms = 1000;
	l->retries = 1;
	l->max_sessions = 0;
	l->rcvbuf = 1 << 20;
}

void snmp_engine_limits_from_config(const struct config *cfg, struct engine_limits *l)
{
	snmp_engine_limits_default(l);
	if (cfg->poll.timeout_ms > 0)
		l->timeout_ms = cfg->poll.timeout_ms > INT32_MAX ? INT32_MAX : (int)cfg->poll.timeout_ms;
	if (cfg->poll.retries >= 0)
		l->retries = cfg->poll.retries;
	if (cfg->poll.concurrency > 0)
		l->concurrency = cfg->poll.concurrency;
	if (cfg->poll.per_host > 0)
		l->per_host = cfg->poll.per_host;
}

int snmp_oid_from_text(const char *text, struct snmp_oid *o)
{
	int n = decode_oid_parse(text, o->id, MAX_OID_LEN);
	if (n < 0)
		return -1;
	o->len = (size_t)n;
	return 0;
}

void snmp_value_of(const netsnmp_variable_list *vb, struct snmp_value *out)
{
	memset(out, 0, sizeof *out);
	out->type = vb->type;
	switch (vb->type) {
	case ASN_INTEGER:
		out->integer = vb->val.integer ? *vb->val.integer : 0;
		break;
	case ASN_COUNTER:
	case ASN_GAUGE:
	case ASN_TIMETICKS:
		out->integer = vb->val.integer ? (int64_t)(uint32_t)*vb->val.integer : 0;
		break;
	case ASN_COUNTER64:
		if (vb->val.counter64) {
			uint64_t u = (uint64_t)vb->val.counter64->high << 32 | vb->val.counter64->low;
			out->integer = u > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)u;
		}
		break;
	case ASN_OCTET_STR:
	case ASN_OPAQUE:
	case ASN_IPADDRESS:
		out->bytes = vb->val.string;
		out->len = vb->val.string ? vb->val_len : 0;
		break;
	case ASN_OBJECT_ID:
		out->objid = vb->val.objid;
		out->objid_len = vb->val.objid ? vb->val_len / sizeof(oid) : 0;
		break;
	default:
		break;
	}
}

/* ---- global initialisation ------------------------------------------------------------------- */

int snmp_engine_global_init(struct fc_error *err)
{
	if (global_init_done)
		return 0;
	/* No MIB files: every OID here is numeric. MIBS="" keeps init_snmp from loading modules, an
	 * empty MIB path from even indexing the MIB folders. */
	if (setenv("MIBS", "", 1) != 0)
		return fc_error_set(err, "cannot set MIBS for Net-SNMP: %s", strerror(errno));
	netsnmp_set_mib_directory("");
	/* Nothing persisted, anywhere: Net-SNMP's TLS code would otherwise create
	 * /var/lib/snmp/cert_indexes when run as root. /dev/null is never a folder, so nothing can
	 * be made under it. */
	netsnmp_ds_set_string(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_PERSISTENT_DIR, "/dev/null");
	netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DONT_READ_CONFIGS, 1);
	netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DONT_PERSIST_STATE, 1);
	netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DISABLE_PERSISTENT_LOAD, 1);
	netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DISABLE_PERSISTENT_SAVE, 1);
	netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DONT_LOAD_HOST_FILES, 1);
	netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_NO_TOKEN_WARNINGS, 1);
	/* Library code never prints: Net-SNMP's log goes nowhere (errors come back as values). */
	snmp_disable_stderrlog();
	if (!netsnmp_register_loghandler(NETSNMP_LOGHANDLER_NONE, LOG_DEBUG))
		return fc_error_set(err, "cannot silence the Net-SNMP log");
	init_snmp("fleetcon");
	global_init_done = true;
	return 0;
}

/* ---- engine life ----------------------------------------------------------------------------- */

struct snmp_engine *snmp_engine_new(const struct engine_limits *limits, struct fc_error *err)
{
	if (!global_init_done) {
		fc_error_set(err, "snmp_engine_global_init() must run before an engine is made");
		return NULL;
	}
	struct snmp_engine *e = calloc(1, sizeof *e);
	if (!e) {
		fc_error_set(err, "out of memory");
		return NULL;
	}
	snmp_engine_limits_default(&e->lim);
	if (limits) {
		if (limits->concurrency > 0)
			e->lim.concurrency = limits->concurrency;
		if (limits->per_host > 0)
			e->lim.per_host = limits->per_host;
		if (limits->timeout_ms > 0)
			e->lim.timeout_ms = limits->timeout_ms;
		if (limits->retries >= 0)
			e->lim.retries = limits->retries;
		if (limits->max_sessions > 0)
			e->lim.max_sessions = limits->max_sessions;
		if (limits->rcvbuf > 0)
			e->lim.rcvbuf = limits->rcvbuf;
	}
	if (e->lim.max_sessions <= 0)
		e->lim.max_sessions = e->lim.concurrency;
	if (e->lim.per_host > e->lim.concurrency)
		e->lim.per_host = e->lim.concurrency;
	e->fdset_size = FD_SETSIZE;
	netsnmp_large_fd_set_init(&e->fdset, e->fdset_size);
	return e;
}

static void job_free(struct snmp_job *j);

void snmp_engine_free(struct snmp_engine **ep)
{
	if (!ep || !*ep)
		return;
	struct snmp_engine *e = *ep;
	/* Jobs left queued (a run that was never made): freed without callbacks. */
	while (e->wait_head) {
		struct snmp_job *j = e->wait_head;
		e->wait_head = j->next;
		job_free(j);
	}
	for (size_t i = 0; i < e->n_active; i++)
		job_free(e->active[i]);
	free(e->active);
	free(e->pfds);
	free(e->pjobs);
	cache_clear(&e->cache);
	free(e->cache.buckets);
	netsnmp_large_fd_set_cleanup(&e->fdset);
	free(e);
	*ep = NULL;
}

const struct engine_limits *snmp_engine_limits(const struct snmp_engine *e)
{
	return &e->lim;
}

void snmp_engine_stats(const struct snmp_engine *e, struct snmp_engine_stats *out)
{
	*out = e->stats;
}

void snmp_engine_set_feeder(struct snmp_engine *e, snmp_feeder_fn fn, void *arg)
{
	e->feeder = fn;
	e->feeder_arg = arg;
	e->feeder_done = false;
}

/* ---- jobs ------------------------------------------------------------------------------------ */

struct snmp_job *snmp_engine_add_job(struct snmp_engine *e, const char *address, int port,
				     const struct snmp_profile *cred, int64_t budget_ms,
				     const struct snmp_job_ops *ops, void *arg, struct fc_error *err)
{
	struct snmp_job *j = calloc(1, sizeof *j);
	if (!j || !(j->address = strdup(address))) {
		free(j);
		fc_error_set(err, "out of memory");
		return NULL;
	}
	j->e = e;
	j->port = port > 0 ? port : 161;
	j->cred = cred;
	j->budget_ms = budget_ms;
	j->ops = ops;
	j->arg = arg;
	j->fd = -1;
	if (e->wait_tail)
		e->wait_tail->next = j;
	else
		e->wait_head = j;
	e->wait_tail = j;
	e->n_waiting++;
	return j;
}

const char *snmp_job_address(const struct snmp_job *job) { return job->address; }
int snmp_job_port(const struct snmp_job *job) { return job->port; }
const struct snmp_profile *snmp_job_cred(const struct snmp_job *job) { return job->cred; }
unsigned snmp_job_requests(const struct snmp_job *job) { return job->requests; }
unsigned snmp_job_packets(const struct snmp_job *job) { return job->packets; }
bool snmp_job_aborted(const struct snmp_job *job) { return job->aborted; }
const char *snmp_job_abort_reason(const struct snmp_job *job) { return job->abort_reason; }

int64_t snmp_job_elapsed_ms(const struct snmp_job *job)
{
	return job->admitted_at ? clock_mono_ms() - job->admitted_at : 0;
}

static void host_key(const struct snmp_job *j, char *buf, size_t len)
{
	snprintf(buf, len, "%s|%d", j->address, j->port);
}

static struct host_entry *job_host(struct snmp_job *j, bool create)
{
	char key[320];
	host_key(j, key, sizeof key);
	return cache_get(&j->e->cache, key, create);
}

bool snmp_job_no_bulk(const struct snmp_job *job)
{
	if (job->cred->version == CONFIG_SNMP_V1)
		return true;
	struct host_entry *h = job_host((struct snmp_job *)job, false);
	return h && h->no_bulk;
}

void snmp_job_mark_no_bulk(struct snmp_job *job)
{
	struct host_entry *h = job_host(job, true);
	if (h)
		h->no_bulk = true;
}

void snmp_job_set_cred(struct snmp_job *job, const struct snmp_profile *cred)
{
	job->cred = cred;
	job->reopen = job->sessp != NULL; /* not admitted yet: it opens with cred anyway */
}

/* ---- requests -------------------------------------------------------------------------------- */

static void req_free(struct req *r)
{
	if (!r)
		return;
	snmp_free_varbind(r->accum);
	free(r->oids);
	free(r);
}

static struct req *req_new(struct snmp_job *j, enum req_kind kind, const struct snmp_oid *oids,
			   size_t n, snmp_reply_fn fn, void *arg)
{
	struct req *r = calloc(1, sizeof *r);
	if (!r)
		return NULL;
	if (n) {
		size_t arcs = 0;
		for (size_t i = 0; i < n; i++)
			arcs += oids[i].len;
		r->oids = malloc(n * sizeof *r->oids + arcs * sizeof(oid));
		if (!r->oids) {
			free(r);
			return NULL;
		}
		oid *at = (oid *)(r->oids + n);
		for (size_t i = 0; i < n; i++) {
			memcpy(at, oids[i].id, oids[i].len * sizeof(oid));
			r->oids[i] = (struct req_oid){ at, oids[i].len };
			at += oids[i].len;
		}
	}
	r->job = j;
	r->kind = kind;
	r->n_oids = n;
	r->chunk = n;
	r->fn = fn;
	r->arg = arg;
	return r;
}

static void queue_push(struct snmp_job *j, struct req *r, bool front)
{
	r->next = NULL;
	if (front) {
		r->next = j->queue;
		j->queue = r;
		if (!j->queue_tail)
			j->queue_tail = r;
	} else {
		if (j->queue_tail)
			j->queue_tail->next = r;
		else
			j->queue = r;
		j->queue_tail = r;
	}
}

static struct req *queue_pop(struct snmp_job *j)
{
	struct req *r = j->queue;
	if (r) {
		j->queue = r->next;
		if (!j->queue)
			j->queue_tail = NULL;
		r->next = NULL;
	}
	return r;
}

static void inflight_remove(struct snmp_job *j, struct req *r)
{
	for (struct req **p = &j->inflight; *p; p = &(*p)->next) {
		if (*p == r) {
			*p = r->next;
			r->next = NULL;
			j->n_inflight--;
			j->e->inflight--;
			return;
		}
	}
}

/* Hands the outcome to the request's owner and retires the request (freed later, outside any
 * Net-SNMP callback). The request must be in neither list any more. */
static void req_complete(struct req *r, enum snmp_status st, long errstat, long errindex,
			 const netsnmp_variable_list *vars, const char *message)
{
	struct snmp_job *j = r->job;
	r->completed = true;
	j->requests++;
	j->e->stats.requests++;
	if (st == SNMP_TIMEOUT)
		j->e->stats.timeouts++;
	if (r->fn) {
		struct snmp_reply reply = {
			.status = st,
			.errstat = errstat,
			.errindex = errindex,
			.vars = vars,
			.message = message,
		};
		r->fn(j, &reply, r->arg);
	}
	r->next = j->dead;
	j->dead = r;
}

static int job_queue(struct snmp_job *j, enum req_kind kind, const struct snmp_oid *oids, size_t n,
		     int non_rep, int max_rep, snmp_reply_fn fn, void *arg)
{
	if (j->aborted || n == 0)
		return -1;
	struct req *r = req_new(j, kind, oids, n, fn, arg);
	if (!r)
		return -1;
	r->non_rep = non_rep;
	r->max_rep = max_rep;
	queue_push(j, r, false);
	return 0;
}

int snmp_job_get(struct snmp_job *job, const struct snmp_oid *oids, size_t n, snmp_reply_fn fn,
		 void *arg)
{
	return job_queue(job, REQ_GET, oids, n, 0, 0, fn, arg);
}

int snmp_job_getnext(struct snmp_job *job, const struct snmp_oid *oids, size_t n,
		     snmp_reply_fn fn, void *arg)
{
	return job_queue(job, REQ_GETNEXT, oids, n, 0, 0, fn, arg);
}

int snmp_job_getbulk(struct snmp_job *job, const struct snmp_oid *oids, size_t n,
		     int non_repeaters, int max_repetitions, snmp_reply_fn fn, void *arg)
{
	if (job->cred->version == CONFIG_SNMP_V1)
		return job_queue(job, REQ_GETNEXT, oids, n, 0, 0, fn, arg);
	return job_queue(job, REQ_GETBULK, oids, n, non_repeaters, max_repetitions, fn, arg);
}

/* ---- SNMPv3 reports -------------------------------------------------------------------------- */

enum report_kind {
	REPORT_OTHER,
	REPORT_UNSUPPORTED_SEC_LEVEL,
	REPORT_NOT_IN_TIME_WINDOW,
	REPORT_UNKNOWN_USER,
	REPORT_UNKNOWN_ENGINE_ID,
	REPORT_WRONG_DIGEST,
	REPORT_DECRYPTION_ERROR,
};

/* Classified by the report's varbind (usmStats 1.3.6.1.6.3.15.1.1.N), which does not depend on
 * which of Net-SNMP's error numbering a version uses. */
static enum report_kind report_kind_of(const netsnmp_pdu *pdu)
{
	static const oid usm_stats[] = { 1, 3, 6, 1, 6, 3, 15, 1, 1 };
	static const enum report_kind kinds[] = {
		[1] = REPORT_UNSUPPORTED_SEC_LEVEL, [2] = REPORT_NOT_IN_TIME_WINDOW,
		[3] = REPORT_UNKNOWN_USER,          [4] = REPORT_UNKNOWN_ENGINE_ID,
		[5] = REPORT_WRONG_DIGEST,          [6] = REPORT_DECRYPTION_ERROR,
	};
	const netsnmp_variable_list *v = pdu->variables;
	size_t n = sizeof usm_stats / sizeof usm_stats[0];
	if (v && v->name_length > n && memcmp(v->name, usm_stats, sizeof usm_stats) == 0 &&
	    v->name[n] >= 1 && v->name[n] <= 6)
		return kinds[v->name[n]];
	return REPORT_OTHER;
}

static const char *report_message(enum report_kind k)
{
	switch (k) {
	case REPORT_UNSUPPORTED_SEC_LEVEL:
		return "SNMPv3: the agent does not support this security level for the user";
	case REPORT_NOT_IN_TIME_WINDOW:
		return "SNMPv3: the agent's clock did not accept the request (not in time window)";
	case REPORT_UNKNOWN_USER:
		return "SNMPv3: unknown user name";
	case REPORT_UNKNOWN_ENGINE_ID:
		return "SNMPv3: the agent does not know the engine ID used";
	case REPORT_WRONG_DIGEST:
		return "SNMPv3: authentication failure (wrong authentication password or protocol)";
	case REPORT_DECRYPTION_ERROR:
		return "SNMPv3: decryption error (wrong privacy password or protocol)";
	default:
		return "SNMPv3: the agent answered with a report";
	}
}

/* Forgets Net-SNMP's USM entry for this engine and user, so that the next session creates it
 * from its own passwords: the library only fills in an existing entry, and an entry made with a
 * wrong password (one profile tried before another) would otherwise stay. */
static void usm_forget(const unsigned char *engine_id, size_t len, const char *user)
{
	struct usmUser *u = usm_get_user(engine_id, len, user);
	if (u) {
		usm_remove_user(u);
		usm_free_user(u);
	}
}

/* The engine ID was learnt (from a probe's report): put it into the session, localise the
 * user's keys for it, and remember it for later jobs on this host. */
static int job_engine_learnt(struct snmp_job *j, const unsigned char *id, size_t len)
{
	netsnmp_session *s = snmp_sess_session(j->sessp);
	if (!s || len == 0 || len > ENGINE_ID_MAX)
		return -1;
	u_char *sec = malloc(len), *ctx = malloc(len);
	if (!sec || !ctx) {
		free(sec);
		free(ctx);
		return -1;
	}
	memcpy(sec, id, len);
	memcpy(ctx, id, len);
	free(s->securityEngineID);
	s->securityEngineID = sec;
	s->securityEngineIDLen = len;
	if (!s->contextEngineIDLen) {
		free(s->contextEngineID);
		s->contextEngineID = ctx;
		s->contextEngineIDLen = len;
	} else {
		free(ctx);
	}
	usm_forget(id, len, j->cred->user);
	if (create_user_from_session(s) != SNMPERR_SUCCESS)
		return -1;
	struct host_entry *h = job_host(j, true);
	if (h) {
		memcpy(h->engine_id, id, len);
		h->engine_id_len = len;
	}
	j->eid = EID_READY;
	return 0;
}

/* ---- the Net-SNMP callback ------------------------------------------------------------------- */

static void fail_queued(struct snmp_job *j, enum snmp_status st, const char *message);

/* GET answered without error: keep its varbinds, move on to the OIDs not asked yet. */
static void get_progress(struct req *r, netsnmp_pdu *pdu)
{
	size_t left = r->n_oids - r->sent_n;
	if (left == 0 && !r->accum) {
		/* The common case: one packet answered everything. */
		req_complete(r, SNMP_OK, 0, 0, pdu->variables, NULL);
		return;
	}
	for (netsnmp_variable_list *v = pdu->variables; v; v = v->next_variable) {
		netsnmp_variable_list *c = snmp_clone_varbind(v);
		if (!c)
			break;
		snmp_free_varbind(c->next_variable);
		c->next_variable = r->accum;
		r->accum = c;
	}
	memmove(r->oids, r->oids + r->sent_n, left * sizeof *r->oids);
	r->n_oids = left;
	if (left == 0) {
		req_complete(r, SNMP_OK, 0, 0, r->accum, NULL);
		return;
	}
	r->attempts = 0;
	queue_push(r->job, r, true);
}

/* GET refused with an error-status: drop what the agent named, split on tooBig. */
static void get_refused(struct req *r, netsnmp_pdu *pdu)
{
	long idx = pdu->errindex;
	bool named = idx >= 1 && (size_t)idx <= r->sent_n;
	if (!named && pdu->errstat != SNMP_ERR_TOOBIG && pdu->errstat != SNMP_ERR_GENERR) {
		/* Not about one OID (authorizationError, ...): asking again would not help. */
		req_complete(r, SNMP_OK, pdu->errstat, pdu->errindex, r->accum, NULL);
		return;
	}
	if (!named) {
		if (r->sent_n > 1) {
			r->chunk = r->sent_n / 2;
		} else {
			/* One OID the agent cannot answer: give up on it. */
			memmove(r->oids, r->oids + 1, (r->n_oids - 1) * sizeof *r->oids);
			r->n_oids--;
		}
	} else {
		size_t i = (size_t)idx - 1;
		memmove(r->oids + i, r->oids + i + 1, (r->n_oids - i - 1) * sizeof *r->oids);
		r->n_oids--;
	}
	if (r->n_oids == 0) {
		req_complete(r, SNMP_OK, 0, 0, r->accum, NULL);
		return;
	}
	r->attempts = 0;
	queue_push(r->job, r, true);
}

static void on_report(struct req *r, netsnmp_pdu *pdu)
{
	struct snmp_job *j = r->job;
	enum report_kind k = report_kind_of(pdu);

	if (r->kind == REQ_PROBE) {
		if (job_engine_learnt(j, pdu->securityEngineID, pdu->securityEngineIDLen) < 0) {
			j->eid = EID_NEEDED;
			req_complete(r, SNMP_REPORT, 0, 0, NULL, NULL);
			fail_queued(j, SNMP_REPORT, "SNMPv3: no usable engine ID in the agent's answer");
			return;
		}
		req_complete(r, SNMP_OK, 0, 0, NULL, NULL);
		return;
	}
	if (k == REPORT_UNKNOWN_ENGINE_ID && j->eid_from_cache && !j->reprobed) {
		/* The cached engine ID is stale (the device was replaced or reset its engine): forget
		 * it and ask again with a new session. */
		struct host_entry *h = job_host(j, false);
		if (h)
			h->engine_id_len = 0;
		j->reprobed = true;
		j->reopen = true;
		r->attempts = 0;
		queue_push(j, r, true);
		return;
	}
	if (k == REPORT_WRONG_DIGEST || k == REPORT_UNKNOWN_USER ||
	    k == REPORT_UNSUPPORTED_SEC_LEVEL || k == REPORT_DECRYPTION_ERROR)
		req_complete(r, SNMP_AUTH_FAILED, 0, 0, NULL, report_message(k));
	else
		req_complete(r, SNMP_REPORT, 0, 0, NULL, report_message(k));
}

static int on_netsnmp(int op, netsnmp_session *sp, int reqid, netsnmp_pdu *pdu, void *magic)
{
	(void)sp;
	(void)reqid;
	struct req *r = magic;
	if (!r || r->completed)
		return 1;
	struct snmp_job *j = r->job;
	struct snmp_engine *e = j->e;

	switch (op) {
	case NETSNMP_CALLBACK_OP_RECEIVED_MESSAGE:
		e->stats.responses++;
		if (pdu->command == SNMP_MSG_REPORT && r->kind != REQ_PROBE &&
		    report_kind_of(pdu) == REPORT_NOT_IN_TIME_WINDOW && r->tw_reports == 0) {
			/* Net-SNMP resends at once with the time it just learnt (its request stays
			 * alive, this req with it). */
			r->tw_reports++;
			j->packets++;
			e->stats.packets++;
			return 1;
		}
		inflight_remove(j, r);
		if (pdu->command != SNMP_MSG_REPORT && r->kind != REQ_PROBE)
			j->answered = true;
		if (pdu->command == SNMP_MSG_REPORT) {
			on_report(r, pdu);
		} else if (r->kind == REQ_PROBE) {
			if (job_engine_learnt(j, pdu->securityEngineID, pdu->securityEngineIDLen) < 0) {
				j->eid = EID_NEEDED;
				req_complete(r, SNMP_REPORT, 0, 0, NULL, NULL);
				fail_queued(j, SNMP_REPORT, "SNMPv3: no engine ID in the agent's answer");
			} else {
				req_complete(r, SNMP_OK, 0, 0, NULL, NULL);
			}
		} else if (r->kind == REQ_GET && pdu->errstat != SNMP_ERR_NOERROR) {
			get_refused(r, pdu);
		} else if (r->kind == REQ_GET) {
			get_progress(r, pdu);
		} else {
			req_complete(r, SNMP_OK, pdu->errstat, pdu->errindex, pdu->variables, NULL);
		}
		return 1;

	case NETSNMP_CALLBACK_OP_TIMED_OUT:
		inflight_remove(j, r);
		if (r->sec_error && r->kind != REQ_PROBE) {
			req_complete(r, SNMP_AUTH_FAILED, 0, 0, NULL,
				     "SNMPv3: the answers failed the security checks (wrong password?)");
			return 1;
		}
		if (r->attempts <= e->lim.retries) {
			queue_push(j, r, true); /* resent by the loop, first in line */
			return 1;
		}
		if (r->kind == REQ_PROBE) {
			j->eid = EID_NEEDED; /* a request queued later probes again */
			req_complete(r, SNMP_TIMEOUT, 0, 0, NULL, NULL);
			fail_queued(j, SNMP_TIMEOUT, "no answer to SNMPv3 engine discovery");
			return 1;
		}
		{
			char msg[96];
			snprintf(msg, sizeof msg, "no answer after %d attempt%s", r->attempts,
				 r->attempts == 1 ? "" : "s");
			req_complete(r, SNMP_TIMEOUT, 0, 0, r->accum, msg);
		}
		return 1;

	case NETSNMP_CALLBACK_OP_SEND_FAILED:
		inflight_remove(j, r);
		req_complete(r, SNMP_SEND_FAILED, 0, 0, NULL, "the request could not be sent");
		return 1;

	case NETSNMP_CALLBACK_OP_SEC_ERROR:
		/* Net-SNMP 5.9 announces a security problem with an incoming message (a report
		 * among them) before it delivers that message: remember it; the outcome comes with
		 * the message or, if none follows, with the timeout. */
		r->sec_error = true;
		return 1;

	default:
		/* RESEND, CONNECT, DISCONNECT: nothing to do for UDP with our own retries. */
		return 1;
	}
}

/* Every queued request of the job completes with st (the probe failed, or the job is aborted). */
static void fail_queued(struct snmp_job *j, enum snmp_status st, const char *message)
{
	struct req *r;
	while ((r = queue_pop(j)))
		req_complete(r, st, 0, 0, r->accum, message);
}

/* ---- sessions -------------------------------------------------------------------------------- */

struct proto {
	int which;
	oid *id;
	size_t len;
};

static int cred_protocols(const struct snmp_profile *c, const struct proto **auth,
			  const struct proto **priv)
{
	static const struct proto auths[] = {
		{ CONFIG_AUTH_SHA, usmHMACSHA1AuthProtocol, 10 },
		{ CONFIG_AUTH_SHA256, usmHMAC192SHA256AuthProtocol, 10 },
		{ CONFIG_AUTH_SHA512, usmHMAC384SHA512AuthProtocol, 10 },
	};
	static const struct proto privs[] = {
		{ CONFIG_PRIV_AES, usmAESPrivProtocol, 10 },
		{ CONFIG_PRIV_AES256, usmAES256PrivProtocol, 9 },
	};
	*auth = *priv = NULL;
	for (size_t i = 0; i < sizeof auths / sizeof auths[0]; i++)
		if ((int)c->auth == auths[i].which)
			*auth = &auths[i];
	for (size_t i = 0; i < sizeof privs / sizeof privs[0]; i++)
		if ((int)c->priv == privs[i].which)
			*priv = &privs[i];
	if (c->auth != CONFIG_AUTH_NONE && !*auth)
		return -1;
	if (c->priv != CONFIG_PRIV_NONE && !*priv)
		return -1;
	if (*priv && !*auth)
		return -1; /* privacy without authentication does not exist in USM */
	return 0;
}

/* Ku from a password with the authentication hash (RFC 3414 key derivation). */
static int derive_key(const struct proto *hash, const char *password, u_char *key, size_t *len)
{
	return generate_Ku(hash->id, (u_int)hash->len, (const u_char *)password, strlen(password), key,
			   len) == SNMPERR_SUCCESS ? 0 : -1;
}

static int job_open(struct snmp_job *j, char *why, size_t why_len)
{
	struct snmp_engine *e = j->e;
	const struct snmp_profile *c = j->cred;
	netsnmp_session s;
	snmp_sess_init(&s);

	char peer[320];
	if (strchr(j->address, ':'))
		snprintf(peer, sizeof peer, "udp6:[%s]:%d", j->address, j->port);
	else
		snprintf(peer, sizeof peer, "udp:%s:%d", j->address, j->port);
	s.peername = peer;
	s.timeout = (long)e->lim.timeout_ms * 1000L;
	s.retries = 0; /* the engine resends itself */
	s.flags |= SNMP_FLAGS_DONT_PROBE;

	struct host_entry *h = NULL;
	switch (c->version) {
	case CONFIG_SNMP_V1:
	case CONFIG_SNMP_V2C:
		s.version = c->version == CONFIG_SNMP_V1 ? SNMP_VERSION_1 : SNMP_VERSION_2c;
		s.community = (u_char *)c->community;
		s.community_len = strlen(c->community);
		break;
	case CONFIG_SNMP_V3: {
		const struct proto *auth, *priv;
		if (cred_protocols(c, &auth, &priv) < 0) {
			snprintf(why, why_len, "profile %s: unsupported SNMPv3 protocols", c->name);
			return -1;
		}
		s.version = SNMP_VERSION_3;
		s.securityModel = SNMP_SEC_MODEL_USM;
		s.securityName = (char *)c->user;
		s.securityNameLen = strlen(c->user);
		s.contextName = (char *)c->context;
		s.contextNameLen = strlen(c->context);
		s.securityLevel = priv ? SNMP_SEC_LEVEL_AUTHPRIV
				  : auth ? SNMP_SEC_LEVEL_AUTHNOPRIV : SNMP_SEC_LEVEL_NOAUTH;
		if (auth) {
			s.securityAuthProto = auth->id;
			s.securityAuthProtoLen = auth->len;
			s.securityAuthKeyLen = USM_AUTH_KU_LEN;
			if (derive_key(auth, c->auth_password, s.securityAuthKey,
				       &s.securityAuthKeyLen) < 0) {
				snprintf(why, why_len, "profile %s: cannot derive the authentication key",
					 c->name);
				return -1;
			}
		}
		if (priv) {
			s.securityPrivProto = priv->id;
			s.securityPrivProtoLen = priv->len;
			s.securityPrivKeyLen = USM_PRIV_KU_LEN;
			/* USM derives the privacy key with the authentication hash too. */
			if (derive_key(auth, c->priv_password, s.securityPrivKey,
				       &s.securityPrivKeyLen) < 0) {
				snprintf(why, why_len, "profile %s: cannot derive the privacy key", c->name);
				return -1;
			}
		}
		h = job_host(j, false);
		if (h && h->engine_id_len) {
			s.securityEngineID = h->engine_id;
			s.securityEngineIDLen = h->engine_id_len;
			usm_forget(h->engine_id, h->engine_id_len, c->user);
		}
		break;
	}
	default:
		snprintf(why, why_len, "profile %s: unknown SNMP version", c->name);
		return -1;
	}

	void *sessp = snmp_sess_open(&s);
	/* The keys were copied into the session; wipe the copies on our stack. */
	memset(s.securityAuthKey, 0, sizeof s.securityAuthKey);
	memset(s.securityPrivKey, 0, sizeof s.securityPrivKey);
	if (!sessp) {
		int liberr = 0, syserr = 0;
		char *msg = NULL;
		snmp_error(&s, &liberr, &syserr, &msg);
		snprintf(why, why_len, "cannot open an SNMP session to %s: %s", j->address,
			 msg ? msg : "unknown error");
		SNMP_FREE(msg);
		return -1;
	}
	netsnmp_transport *t = snmp_sess_transport(sessp);
	if (!t || t->sock < 0) {
		snmp_sess_close(sessp);
		snprintf(why, why_len, "cannot open an SNMP session to %s: no socket", j->address);
		return -1;
	}
	/* Answers must not be dropped while the loop is busy elsewhere. Best effort: the kernel
	 * caps the size at net.core.rmem_max. */
	int rcv = e->lim.rcvbuf;
	(void)setsockopt(t->sock, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof rcv);
	/* snmp_sess_open clears DONT_PROBE after opening; keep it, or the first send would run a
	 * blocking engine probe. */
	snmp_sess_session(sessp)->flags |= SNMP_FLAGS_DONT_PROBE;
	j->sessp = sessp;
	j->fd = t->sock;
	if (c->version == CONFIG_SNMP_V3) {
		j->eid = (h && h->engine_id_len) ? EID_READY : EID_NEEDED;
		j->eid_from_cache = j->eid == EID_READY;
	} else {
		j->eid = EID_READY;
		j->eid_from_cache = false;
	}
	return 0;
}

static void free_dead(struct snmp_job *j)
{
	while (j->dead) {
		struct req *r = j->dead;
		j->dead = r->next;
		req_free(r);
	}
}

/* Closes the session. Requests still in flight must be completed already: Net-SNMP reports them
 * as timed out while closing, which on_netsnmp ignores for completed requests. */
static void job_close(struct snmp_job *j)
{
	if (j->sessp) {
		snmp_sess_close(j->sessp);
		j->sessp = NULL;
		j->fd = -1;
	}
	while (j->inflight) {
		struct req *r = j->inflight;
		j->inflight = r->next;
		j->n_inflight--;
		j->e->inflight--;
		req_free(r);
	}
	free_dead(j);
}

static void job_free(struct snmp_job *j)
{
	if (!j)
		return;
	if (j->sessp) {
		/* Only from snmp_engine_free: complete silently what is left. */
		for (struct req *r = j->inflight; r; r = r->next)
			r->completed = true;
		job_close(j);
	}
	struct req *r;
	while ((r = queue_pop(j)))
		req_free(r);
	free_dead(j);
	free(j->address);
	free(j);
}

/* Aborts the job: every request queued or in flight completes with SNMP_ABORTED (their owners may
 * not queue new ones: the job refuses them), then the session is closed. */
static void job_abort(struct snmp_job *j, const char *why)
{
	if (j->aborted)
		return;
	j->aborted = true;
	snprintf(j->abort_reason, sizeof j->abort_reason, "%.159s", why);
	while (j->inflight) {
		struct req *r = j->inflight;
		j->inflight = r->next;
		j->n_inflight--;
		j->e->inflight--;
		req_complete(r, SNMP_ABORTED, 0, 0, r->accum, why);
	}
	fail_queued(j, SNMP_ABORTED, why);
	/* Net-SNMP still holds the completed requests; closing makes it let go of them. Their
	 * structs are on the dead list and are freed after the close. */
	if (j->sessp) {
		snmp_sess_close(j->sessp);
		j->sessp = NULL;
		j->fd = -1;
	}
	free_dead(j);
}

/* ---- sending --------------------------------------------------------------------------------- */

static netsnmp_pdu *build_pdu(struct req *r)
{
	static const int commands[] = {
		[REQ_GET] = SNMP_MSG_GET,
		[REQ_GETNEXT] = SNMP_MSG_GETNEXT,
		[REQ_GETBULK] = SNMP_MSG_GETBULK,
		[REQ_PROBE] = SNMP_MSG_GET,
	};
	netsnmp_pdu *pdu = snmp_pdu_create(commands[r->kind]);
	if (!pdu)
		return NULL;
	if (r->kind == REQ_PROBE) {
		/* RFC 3414 discovery: noAuthNoPriv, empty user, no varbinds; the agent answers with a
		 * report that carries its engine ID. */
		pdu->version = SNMP_VERSION_3;
		pdu->securityName = strdup("");
		pdu->securityNameLen = 0;
		pdu->securityLevel = SNMP_SEC_LEVEL_NOAUTH;
		pdu->securityModel = SNMP_SEC_MODEL_USM;
		if (!pdu->securityName) {
			snmp_free_pdu(pdu);
			return NULL;
		}
		return pdu;
	}
	size_t n = r->n_oids;
	if (r->kind == REQ_GET) {
		if (r->chunk == 0 || r->chunk > n)
			r->chunk = n;
		n = r->chunk;
		r->sent_n = n;
	}
	if (r->kind == REQ_GETBULK) {
		pdu->non_repeaters = r->non_rep;
		pdu->max_repetitions = r->max_rep;
	}
	for (size_t i = 0; i < n; i++) {
		if (!snmp_add_null_var(pdu, r->oids[i].id, r->oids[i].len)) {
			snmp_free_pdu(pdu);
			return NULL;
		}
	}
	return pdu;
}

/* A request that could not go out; a probe takes the requests waiting for it along. */
static void send_failed(struct snmp_job *j, struct req *r, const char *message)
{
	bool probe = r->kind == REQ_PROBE;
	req_complete(r, SNMP_SEND_FAILED, 0, 0, r->accum, message);
	if (probe) {
		j->eid = EID_NEEDED;
		fail_queued(j, SNMP_SEND_FAILED, message);
	}
}

static void job_send(struct snmp_job *j, struct req *r)
{
	struct snmp_engine *e = j->e;
	netsnmp_pdu *pdu = build_pdu(r);
	if (!pdu) {
		send_failed(j, r, "out of memory building a request");
		return;
	}
	if (snmp_sess_async_send(j->sessp, pdu, on_netsnmp, r) == 0) {
		int liberr = 0, syserr = 0;
		char *msg = NULL;
		snmp_sess_error(j->sessp, &liberr, &syserr, &msg);
		char buf[200];
		snprintf(buf, sizeof buf, "the request could not be sent: %s", msg ? msg : "error");
		SNMP_FREE(msg);
		snmp_free_pdu(pdu);
		send_failed(j, r, buf);
		return;
	}
	r->attempts++;
	r->tw_reports = 0;
	r->sec_error = false;
	r->deadline = clock_mono_ms() + e->lim.timeout_ms + 1;
	r->next = j->inflight;
	j->inflight = r;
	j->n_inflight++;
	e->inflight++;
	j->packets++;
	e->stats.packets++;
	if (r->kind == REQ_PROBE)
		e->stats.engine_probes++;
	if (e->inflight > e->stats.max_in_flight)
		e->stats.max_in_flight = e->inflight;
}

/* Sends what the job may send now. Returns false when the global limit stopped it. */
static bool job_pump(struct snmp_job *j)
{
	struct snmp_engine *e = j->e;
	if (!j->sessp || j->aborted)
		return true;
	if (j->eid == EID_NEEDED) {
		if (!j->queue)
			return true; /* nothing to ask: no probe needed yet */
		struct req *p = req_new(j, REQ_PROBE, NULL, 0, NULL, NULL);
		if (!p) {
			fail_queued(j, SNMP_SEND_FAILED, "out of memory");
			return true;
		}
		j->eid = EID_PROBING;
		queue_push(j, p, true);
	}
	if (j->eid == EID_PROBING) {
		/* Only the probe goes out (again, after a timeout) until the engine ID is known. */
		if (j->queue && j->queue->kind == REQ_PROBE && j->n_inflight == 0) {
			if (e->inflight >= e->lim.concurrency)
				return false;
			job_send(j, queue_pop(j));
		}
		return true;
	}
	while (j->queue && j->n_inflight < e->lim.per_host && !j->reopen) {
		if (e->inflight >= e->lim.concurrency)
			return false;
		job_send(j, queue_pop(j));
	}
	return true;
}

/* ---- the loop -------------------------------------------------------------------------------- */

static int admit(struct snmp_engine *e)
{
	if (e->n_active == e->cap_active) {
		size_t cap = e->cap_active ? e->cap_active * 2 : 64;
		struct snmp_job **a = realloc(e->active, cap * sizeof *a);
		if (!a)
			return -1;
		e->active = a;
		e->cap_active = cap;
	}
	struct snmp_job *j = e->wait_head;
	e->wait_head = j->next;
	if (!e->wait_head)
		e->wait_tail = NULL;
	e->n_waiting--;
	j->next = NULL;
	j->admitted_at = clock_mono_ms();
	e->active[e->n_active++] = j;
	if ((int)e->n_active > e->stats.max_open_sessions)
		e->stats.max_open_sessions = (int)e->n_active;

	char why[400];
	if (job_open(j, why, sizeof why) < 0) {
		j->aborted = true;
		snprintf(j->abort_reason, sizeof j->abort_reason, "%.159s", why);
		return 0;
	}
	j->started = true;
	if (j->ops->start)
		j->ops->start(j, j->arg);
	return 0;
}

static void reap(struct snmp_engine *e, size_t i)
{
	struct snmp_job *j = e->active[i];
	if (j->ops->done)
		j->ops->done(j, j->arg);
	/* done may have queued nothing for this job (it is finished); close and free. */
	if (j->queue)
		fail_queued(j, SNMP_ABORTED, "the job had already finished");
	job_close(j);
	e->active[i] = e->active[--e->n_active];
	e->stats.jobs++;
	job_free(j);
}

static void reopen_if_asked(struct snmp_job *j)
{
	if (!j->reopen || j->n_inflight > 0 || j->aborted)
		return;
	j->reopen = false;
	job_close(j);
	char why[400];
	if (job_open(j, why, sizeof why) < 0)
		job_abort(j, why);
}

static void read_ready(struct snmp_engine *e, struct snmp_job *j)
{
	if (!j->sessp)
		return;
	if (j->fd >= e->fdset_size) {
		if (netsnmp_large_fd_set_resize(&e->fdset, j->fd + 1) != 1)
			return;
		e->fdset_size = j->fd + 1;
	}
	NETSNMP_LARGE_FD_ZERO(&e->fdset);
	NETSNMP_LARGE_FD_SET(j->fd, &e->fdset);
	snmp_sess_read2(j->sessp, &e->fdset);
}

static int64_t next_deadline(const struct snmp_job *j)
{
	int64_t d = INT64_MAX;
	for (const struct req *r = j->inflight; r; r = r->next)
		if (r->deadline < d)
			d = r->deadline;
	return d;
}

static void expire(struct snmp_job *j, int64_t now)
{
	if (!j->sessp || !j->inflight || next_deadline(j) > now)
		return;
	snmp_sess_timeout(j->sessp);
	/* Net-SNMP compares with its own clock reading: a request it found not quite expired yet is
	 * looked at again shortly. */
	for (struct req *r = j->inflight; r; r = r->next)
		if (r->deadline <= now)
			r->deadline = now + 2;
}

static void abort_all(struct snmp_engine *e, const char *why)
{
	for (size_t i = 0; i < e->n_active; i++)
		job_abort(e->active[i], why);
	/* Waiting jobs are admitted as aborted: their done still runs, without a session. */
	while (e->wait_head) {
		struct snmp_job *j = e->wait_head;
		e->wait_head = j->next;
		if (!e->wait_head)
			e->wait_tail = NULL;
		e->n_waiting--;
		j->next = NULL;
		j->aborted = true;
		snprintf(j->abort_reason, sizeof j->abort_reason, "%.159s", why);
		if (j->ops->done)
			j->ops->done(j, j->arg);
		e->stats.jobs++;
		job_free(j);
	}
}

int snmp_engine_run(struct snmp_engine *e, const atomic_bool *cancel,
		    void (*tick)(void *arg), void *tick_arg, int tick_ms, struct fc_error *err)
{
	if (e->running)
		return fc_error_set(err, "the SNMP engine is already running");
	e->running = true;
	if (tick_ms <= 0)
		tick_ms = 250;
	int64_t next_tick = clock_mono_ms() + tick_ms;
	bool cancelled = false;
	int rc = 0;

	for (;;) {
		int64_t now = clock_mono_ms();
		if (cancelled || (cancel && atomic_load(cancel))) {
			/* Again on every turn: a done callback may have added a job since. */
			cancelled = true;
			e->feeder_done = true;
			abort_all(e, "cancelled");
		}
		/* Keep the waiting list filled from the feeder, then admit. */
		if (e->feeder && !e->feeder_done && e->n_waiting < (size_t)e->lim.max_sessions) {
			size_t want = (size_t)e->lim.max_sessions - e->n_waiting;
			if (e->feeder(e, want, e->feeder_arg) == 0)
				e->feeder_done = true;
		}
		while (e->wait_head && e->n_active < (size_t)e->lim.max_sessions) {
			if (admit(e) < 0) {
				rc = fc_error_set(err, "out of memory");
				abort_all(e, "out of memory");
				break;
			}
		}

		for (size_t i = 0; i < e->n_active; i++) {
			struct snmp_job *j = e->active[i];
			if (!j->aborted && j->budget_ms > 0 && now - j->admitted_at >= j->budget_ms) {
				char why[96];
				snprintf(why, sizeof why, "time budget of %" PRId64 " ms used up",
					 j->budget_ms);
				job_abort(j, why);
			}
			reopen_if_asked(j);
			free_dead(j);
		}
		/* Send, round-robin over the jobs so that one busy host does not starve the rest. */
		if (e->n_active) {
			size_t start = e->rr++ % e->n_active;
			for (size_t k = 0; k < e->n_active; k++)
				if (!job_pump(e->active[(start + k) % e->n_active]))
					break;
		}
		/* Finished jobs: nothing queued, nothing in flight (or never got a session). */
		for (size_t i = 0; i < e->n_active;) {
			struct snmp_job *j = e->active[i];
			bool idle = !j->queue && j->n_inflight == 0;
			if (idle && (j->started || j->aborted) && !j->reopen)
				reap(e, i);
			else
				i++;
		}
		if (e->n_active == 0 && !e->wait_head && (!e->feeder || e->feeder_done))
			break;

		/* Wait for an answer, the next timeout, a budget, or the next tick. */
		int64_t wake = next_tick;
		size_t np = 0;
		if (e->cap_pfds < e->n_active) {
			size_t cap = e->n_active * 2;
			struct pollfd *p = realloc(e->pfds, cap * sizeof *p);
			if (!p) {
				rc = fc_error_set(err, "out of memory");
				abort_all(e, "out of memory");
				continue;
			}
			e->pfds = p;
			struct snmp_job **pj = realloc(e->pjobs, cap * sizeof *pj);
			if (!pj) {
				rc = fc_error_set(err, "out of memory");
				abort_all(e, "out of memory");
				continue;
			}
			e->pjobs = pj;
			e->cap_pfds = cap;
		}
		for (size_t i = 0; i < e->n_active; i++) {
			struct snmp_job *j = e->active[i];
			if (j->budget_ms > 0 && j->admitted_at + j->budget_ms < wake)
				wake = j->admitted_at + j->budget_ms;
			if (!j->sessp)
				continue;
			int64_t d = next_deadline(j);
			if (d < wake)
				wake = d;
			e->pfds[np].fd = j->fd;
			e->pfds[np].events = POLLIN;
			e->pfds[np].revents = 0;
			e->pjobs[np] = j;
			np++;
		}
		now = clock_mono_ms();
		int timeout = wake <= now ? 0 : (int)(wake - now > 1000 ? 1000 : wake - now);
		int n = poll(e->pfds, np, timeout);
		if (n < 0 && errno != EINTR) {
			rc = fc_error_set(err, "poll() failed in the SNMP loop: %s", strerror(errno));
			abort_all(e, "the SNMP loop failed");
			cancelled = true;
			continue;
		}
		for (size_t i = 0; n > 0 && i < np; i++)
			if (e->pfds[i].revents & (POLLIN | POLLERR))
				read_ready(e, e->pjobs[i]);
		now = clock_mono_ms();
		for (size_t i = 0; i < np; i++)
			expire(e->pjobs[i], now);
		if (now >= next_tick) {
			if (tick)
				tick(tick_arg);
			next_tick = now + tick_ms;
		}
	}
	if (tick)
		tick(tick_arg);
	e->running = false;
	return rc;
}

/* ---- walks ----------------------------------------------------------------------------------- */

/* Copies the arcs in use (a struct snmp_oid is 1 KB, most OIDs a dozen arcs). */
static void oid_copy(struct snmp_oid *to, const struct snmp_oid *from)
{
	to->len = from->len;
	memcpy(to->id, from->id, from->len * sizeof from->id[0]);
}

struct walk {
	struct snmp_oid root[SNMP_WALK_MAX_COLUMNS];
	struct snmp_oid pos[SNMP_WALK_MAX_COLUMNS];
	bool active[SNMP_WALK_MAX_COLUMNS];
	size_t rows[SNMP_WALK_MAX_COLUMNS];
	size_t n;
	size_t sent[SNMP_WALK_MAX_COLUMNS]; /* columns in the request in flight, in order */
	size_t n_sent;
	struct snmp_walk_opts opts;
	bool bulk;
	bool bulk_worked;
	int max_rep;
	size_t varbinds, bytes;
	snmp_walk_vb_fn on_vb;
	snmp_walk_done_fn on_done;
	void *arg;
	struct snmp_walk_result res;
	char message[200];
};

static void walk_finish(struct snmp_job *job, struct walk *w, enum snmp_status st, const char *msg)
{
	w->res.status = st;
	if (msg && !w->message[0])
		snprintf(w->message, sizeof w->message, "%s", msg);
	w->res.message = w->message[0] ? w->message : NULL;
	w->res.varbinds = w->varbinds;
	if (w->on_done)
		w->on_done(job, &w->res, w->arg);
	free(w);
}

static void walk_reply(struct snmp_job *job, const struct snmp_reply *r, void *arg);

static void walk_issue(struct snmp_job *job, struct walk *w)
{
	struct snmp_oid req[SNMP_WALK_MAX_COLUMNS];
	w->n_sent = 0;
	for (size_t c = 0; c < w->n; c++) {
		if (!w->active[c])
			continue;
		w->sent[w->n_sent] = c;
		oid_copy(&req[w->n_sent++], &w->pos[c]);
	}
	if (w->n_sent == 0) {
		walk_finish(job, w, SNMP_OK, NULL);
		return;
	}
	int rc;
	if (w->bulk) {
		int reps = w->max_rep / (int)w->n_sent;
		rc = snmp_job_getbulk(job, req, w->n_sent, 0, reps < 1 ? 1 : reps, walk_reply, w);
	} else {
		rc = snmp_job_getnext(job, req, w->n_sent, walk_reply, w);
	}
	if (rc < 0)
		walk_finish(job, w, SNMP_ABORTED,
			    snmp_job_aborted(job) ? snmp_job_abort_reason(job) : "out of memory");
}

/* GETBULK did not work on this host: carry on with GETNEXT, and remember it for the host. */
static void walk_to_getnext(struct snmp_job *job, struct walk *w)
{
	w->bulk = false;
	snmp_job_mark_no_bulk(job);
}

static void walk_stop_all(struct walk *w)
{
	for (size_t c = 0; c < w->n; c++)
		w->active[c] = false;
}

static void walk_reply(struct snmp_job *job, const struct snmp_reply *r, void *arg)
{
	struct walk *w = arg;
	w->res.requests++;
	if (r->status == SNMP_TIMEOUT && w->bulk && !w->bulk_worked && job->answered) {
		/* Some agents drop GETBULK silently (they answered other requests). */
		walk_to_getnext(job, w);
		walk_issue(job, w);
		return;
	}
	if (r->status != SNMP_OK) {
		walk_finish(job, w, r->status, r->message);
		return;
	}
	if (r->errstat != SNMP_ERR_NOERROR) {
		if (!w->bulk && r->errstat == SNMP_ERR_NOSUCHNAME) {
			/* SNMPv1 end of the MIB for the column named (or for all). */
			if (r->errindex >= 1 && (size_t)r->errindex <= w->n_sent)
				w->active[w->sent[r->errindex - 1]] = false;
			else
				walk_stop_all(w);
			walk_issue(job, w);
			return;
		}
		if (w->bulk && r->errstat == SNMP_ERR_TOOBIG && w->max_rep > (int)w->n_sent) {
			w->max_rep /= 2;
			walk_issue(job, w);
			return;
		}
		if (w->bulk) {
			walk_to_getnext(job, w);
			walk_issue(job, w);
			return;
		}
		snprintf(w->message, sizeof w->message, "the agent answered a walk with error %ld (%s)",
			 r->errstat, snmp_errstring((int)r->errstat));
		walk_finish(job, w, SNMP_OK, NULL);
		return;
	}

	size_t i = 0, progressed = 0;
	for (const netsnmp_variable_list *v = r->vars; v; v = v->next_variable, i++) {
		size_t c = w->sent[i % w->n_sent];
		if (!w->active[c])
			continue;
		if (v->type == SNMP_ENDOFMIBVIEW || v->type == SNMP_NOSUCHOBJECT ||
		    v->type == SNMP_NOSUCHINSTANCE || v->name_length > MAX_OID_LEN) {
			w->active[c] = false;
			continue;
		}
		/* Not increasing, inside the column or not: an agent that loops or goes back. */
		if (snmp_oid_compare(v->name, v->name_length, w->pos[c].id, w->pos[c].len) <= 0) {
			char o[160];
			w->active[c] = false;
			w->res.non_increasing = true;
			snprintf(w->message, sizeof w->message, "the agent returned an OID that does not "
				 "increase (%s): walk stopped",
				 decode_oid_format(v->name, v->name_length, o, sizeof o));
			continue;
		}
		if (!decode_oid_under(v->name, v->name_length, w->root[c].id, w->root[c].len)) {
			w->active[c] = false; /* the end of the column */
			continue;
		}
		memcpy(w->pos[c].id, v->name, v->name_length * sizeof(oid));
		w->pos[c].len = v->name_length;
		w->rows[c]++;
		w->varbinds++;
		w->bytes += v->val_len;
		progressed++;
		if (w->on_vb)
			w->on_vb(w->arg, c, v);
		if (w->rows[c] >= w->opts.max_rows) {
			w->active[c] = false;
			w->res.truncated = true;
		}
		if (w->varbinds >= w->opts.max_varbinds || w->bytes >= w->opts.max_bytes) {
			walk_stop_all(w);
			w->res.truncated = true;
			snprintf(w->message, sizeof w->message,
				 "walk cut at %zu values / %zu bytes (bound)", w->varbinds, w->bytes);
		}
	}
	if (progressed == 0 && i == 0) {
		/* An empty answer: a broken GETBULK, or an agent with nothing to say. */
		if (w->bulk) {
			walk_to_getnext(job, w);
			walk_issue(job, w);
			return;
		}
		walk_stop_all(w);
	}
	if (progressed && w->bulk)
		w->bulk_worked = true;
	walk_issue(job, w);
}

int snmp_job_walk(struct snmp_job *job, const struct snmp_oid *columns, size_t n,
		  const struct snmp_walk_opts *opts, snmp_walk_vb_fn on_vb, snmp_walk_done_fn on_done,
		  void *arg)
{
	if (job->aborted || n == 0 || n > SNMP_WALK_MAX_COLUMNS)
		return -1;
	/* 33 KB, nearly all OID arrays: zeroing and copying them whole was 7% of a poll's
	 * instructions (callgrind), so only the fields after them are zeroed and only the arcs used
	 * are copied. */
	struct walk *w = malloc(sizeof *w);
	if (!w)
		return -1;
	memset(&w->active, 0, sizeof *w - offsetof(struct walk, active));
	w->opts.max_rows = 1000;
	w->opts.max_varbinds = 4000;
	w->opts.max_bytes = 256 * 1024;
	w->opts.max_repetitions = 32;
	if (opts) {
		if (opts->max_rows)
			w->opts.max_rows = opts->max_rows;
		if (opts->max_varbinds)
			w->opts.max_varbinds = opts->max_varbinds;
		if (opts->max_bytes)
			w->opts.max_bytes = opts->max_bytes;
		if (opts->max_repetitions > 0)
			w->opts.max_repetitions = opts->max_repetitions;
	}
	w->n = n;
	for (size_t c = 0; c < n; c++) {
		oid_copy(&w->root[c], &columns[c]);
		oid_copy(&w->pos[c], &columns[c]);
		w->active[c] = true;
	}
	w->bulk = !snmp_job_no_bulk(job);
	w->max_rep = w->opts.max_repetitions;
	w->on_vb = on_vb;
	w->on_done = on_done;
	w->arg = arg;
	struct snmp_oid req[SNMP_WALK_MAX_COLUMNS];
	for (size_t c = 0; c < n; c++)
		oid_copy(&req[c], &w->pos[c]);
	int rc;
	if (w->bulk) {
		int reps = w->max_rep / (int)n;
		w->n_sent = n;
		for (size_t c = 0; c < n; c++)
			w->sent[c] = c;
		rc = snmp_job_getbulk(job, req, n, 0, reps < 1 ? 1 : reps, walk_reply, w);
	} else {
		w->n_sent = n;
		for (size_t c = 0; c < n; c++)
			w->sent[c] = c;
		rc = snmp_job_getnext(job, req, n, walk_reply, w);
	}
	if (rc < 0) {
		free(w);
		return -1;
	}
	return 0;
}
