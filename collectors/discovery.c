/* Discovery (see discovery.h): a feeder turns targets into one probe job per address as sessions
 * free up; a probe asks a few scalars that tell a printer (hrDeviceType, Host Resources printer
 * rows, Printer-MIB), one profile after the other; printers are then polled in the same engine
 * run. Addresses that stayed silent are port-probed in batches once the SNMP sweep is over. */
#include "collectors/discovery.h"

#include <arpa/inet.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "collectors/decode.h"
#include "collectors/portprobe.h"
#include "model/clock.h"
#include "model/text.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

#define HR_PRINTER_TYPE "1.3.6.1.2.1.25.3.1.5"
#define PORTPROBE_BATCH 256 /* addresses per port-probe run: results come out batch by batch */

/* The first request: exact instances that a printer has at index 1 (most do). */
static const char *const probe_get[] = {
	"1.3.6.1.2.1.1.1.0",             /* sysDescr */
	"1.3.6.1.2.1.1.2.0",             /* sysObjectID */
	"1.3.6.1.2.1.25.3.2.1.2.1",      /* hrDeviceType.1 */
	"1.3.6.1.2.1.25.3.5.1.1.1",      /* hrPrinterStatus.1 */
	"1.3.6.1.2.1.25.3.5.1.2.1",      /* hrPrinterDetectedErrorState.1 */
	"1.3.6.1.2.1.43.5.1.1.16.1",     /* prtGeneralPrinterName.1 */
	"1.3.6.1.2.1.43.5.1.1.17.1",     /* prtGeneralSerialNumber.1 */
};
/* The second, when the first found nothing: is there a Printer-MIB or a printer row at all? */
static const char *const probe_next[] = {
	"1.3.6.1.2.1.43",
	"1.3.6.1.2.1.25.3.5.1.1",
};

/* An address that did not answer SNMP, kept small until the port probe. */
struct silent {
	struct sockaddr_storage sa;
	socklen_t len;
};

struct disc {
	struct snmp_engine *e;
	const struct discovery_target *targets;
	size_t n_targets;
	size_t ti;
	struct target_iter it;
	bool iter_open;
	const struct discovery_options *opts;
	const struct discovery_callbacks *cb;
	struct discovery_counts counts;
	int64_t started;
	uint64_t packets_at_start;
	struct silent *silent;
	size_t n_silent, cap_silent;
	bool out_of_memory;
};

enum outcome { OUT_UNKNOWN, OUT_PRINTER, OUT_NOT_PRINTER, OUT_SILENT, OUT_REFUSED, OUT_ABORTED };

struct probe {
	struct disc *d;
	const struct discovery_target *t;
	size_t profile;
	struct target_addr addr;
	enum outcome outcome;
	bool got_report;
	bool asked_next;
	char *sys_object_id, *sys_descr; /* hints for the poll */
};

/* ---- the probe ------------------------------------------------------------------------------- */

static bool is_text_oid(const netsnmp_variable_list *v, const char *text)
{
	struct snmp_oid o;
	return snmp_oid_from_text(text, &o) == 0 && v->name_length == o.len &&
	       memcmp(v->name, o.id, o.len * sizeof(oid)) == 0;
}

static bool value_is_oid(const netsnmp_variable_list *v, const char *text)
{
	struct snmp_oid o;
	return v->type == ASN_OBJECT_ID && snmp_oid_from_text(text, &o) == 0 &&
	       v->val_len == o.len * sizeof(oid) && memcmp(v->val.objid, o.id, v->val_len) == 0;
}

static bool present(const netsnmp_variable_list *v)
{
	return v->type != SNMP_NOSUCHOBJECT && v->type != SNMP_NOSUCHINSTANCE &&
	       v->type != SNMP_ENDOFMIBVIEW && v->type != ASN_NULL;
}

static void probe_send_get(struct snmp_job *job, struct probe *p);

static void try_next_profile(struct snmp_job *job, struct probe *p)
{
	p->profile++;
	if (p->profile < p->t->n_profiles) {
		snmp_job_set_cred(job, p->t->profiles[p->profile]);
		p->asked_next = false;
		probe_send_get(job, p);
		return;
	}
	p->outcome = p->got_report ? OUT_REFUSED : OUT_SILENT;
}

static void keep_hints(struct probe *p, const netsnmp_variable_list *vars)
{
	for (const netsnmp_variable_list *v = vars; v; v = v->next_variable) {
		if (!present(v))
			continue;
		if (is_text_oid(v, probe_get[0]) && v->type == ASN_OCTET_STR && !p->sys_descr) {
			p->sys_descr = text_from_device(v->val.string, v->val_len);
		} else if (is_text_oid(v, probe_get[1]) && v->type == ASN_OBJECT_ID &&
			   !p->sys_object_id) {
			char buf[512];
			p->sys_object_id = strdup(decode_oid_format(v->val.objid, v->val_len / sizeof(oid),
								    buf, sizeof buf));
		}
	}
}

static void on_next(struct snmp_job *job, const struct snmp_reply *r, void *arg)
{
	(void)job;
	struct probe *p = arg;
	if (r->status != SNMP_OK) {
		/* It answered the GET: an agent that stumbles on GETNEXT is still not a printer we
		 * can read. */
		p->outcome = r->status == SNMP_ABORTED ? OUT_ABORTED : OUT_NOT_PRINTER;
		return;
	}
	p->outcome = OUT_NOT_PRINTER;
	if (r->errstat != SNMP_ERR_NOERROR)
		return; /* SNMPv1 end of MIB: nothing after */
	size_t i = 0;
	for (const netsnmp_variable_list *v = r->vars; v; v = v->next_variable, i++) {
		struct snmp_oid root;
		if (i >= N(probe_next) || !present(v) || snmp_oid_from_text(probe_next[i], &root) < 0)
			continue;
		if (decode_oid_under(v->name, v->name_length, root.id, root.len))
			p->outcome = OUT_PRINTER;
	}
}

static void on_get(struct snmp_job *job, const struct snmp_reply *r, void *arg)
{
	struct probe *p = arg;
	switch (r->status) {
	case SNMP_OK:
		break;
	case SNMP_AUTH_FAILED:
	case SNMP_REPORT:
		p->got_report = true;
		try_next_profile(job, p);
		return;
	case SNMP_ABORTED:
		p->outcome = OUT_ABORTED;
		return;
	default:
		try_next_profile(job, p);
		return;
	}
	keep_hints(p, r->vars);
	for (const netsnmp_variable_list *v = r->vars; v; v = v->next_variable) {
		if (!present(v))
			continue;
		if (is_text_oid(v, probe_get[2]) && value_is_oid(v, HR_PRINTER_TYPE))
			p->outcome = OUT_PRINTER;
		for (size_t k = 3; k < N(probe_get); k++)
			if (is_text_oid(v, probe_get[k]))
				p->outcome = OUT_PRINTER;
	}
	if (p->outcome == OUT_PRINTER)
		return;
	/* Nothing at index 1: look for the Printer-MIB and printer rows anywhere. */
	struct snmp_oid oids[N(probe_next)];
	for (size_t i = 0; i < N(probe_next); i++)
		snmp_oid_from_text(probe_next[i], &oids[i]);
	p->asked_next = true;
	if (snmp_job_getnext(job, oids, N(oids), on_next, p) < 0)
		p->outcome = OUT_ABORTED;
}

static void probe_send_get(struct snmp_job *job, struct probe *p)
{
	struct snmp_oid oids[N(probe_get)];
	for (size_t i = 0; i < N(probe_get); i++)
		snmp_oid_from_text(probe_get[i], &oids[i]);
	if (snmp_job_get(job, oids, N(oids), on_get, p) < 0)
		p->outcome = OUT_ABORTED;
}

static void probe_start(struct snmp_job *job, void *arg)
{
	probe_send_get(job, arg);
}

static void on_polled(struct poll_result *r, void *arg)
{
	struct disc *d = arg;
	if (d->cb && d->cb->printer)
		d->cb->printer(r, d->cb->arg);
}

static void remember_silent(struct disc *d, const struct target_addr *a)
{
	if (d->n_silent == d->cap_silent) {
		size_t cap = d->cap_silent ? d->cap_silent * 2 : 256;
		struct silent *s = realloc(d->silent, cap * sizeof *s);
		if (!s) {
			d->out_of_memory = true;
			return;
		}
		d->silent = s;
		d->cap_silent = cap;
	}
	d->silent[d->n_silent].sa = a->sa;
	d->silent[d->n_silent].len = a->sa_len;
	d->n_silent++;
}

static void probe_done(struct snmp_job *job, void *arg)
{
	struct probe *p = arg;
	struct disc *d = p->d;
	if (snmp_job_aborted(job) && p->outcome == OUT_UNKNOWN)
		p->outcome = OUT_ABORTED;
	if (p->outcome != OUT_ABORTED)
		d->counts.scanned++;
	switch (p->outcome) {
	case OUT_PRINTER: {
		d->counts.answered++;
		d->counts.printers++;
		struct poll_target t = {
			.address = p->addr.addr,
			.port = p->addr.port,
			.profile = p->t->profiles[p->profile],
			.sys_object_id = p->sys_object_id,
			.sys_descr = p->sys_descr,
			.alert_all_events = -1,
		};
		struct fc_error err;
		if (poll_add(d->e, &t, &d->opts->poll, on_polled, d, &err) < 0)
			d->out_of_memory = true;
		break;
	}
	case OUT_NOT_PRINTER:
		d->counts.answered++;
		d->counts.not_printers++;
		break;
	case OUT_REFUSED:
		d->counts.answered++;
		d->counts.refused++;
		break;
	case OUT_SILENT:
		d->counts.no_snmp++;
		if (d->opts->port_probe)
			remember_silent(d, &p->addr);
		break;
	default:
		break;
	}
	free(p->sys_object_id);
	free(p->sys_descr);
	free(p);
}

static const struct snmp_job_ops probe_ops = { probe_start, probe_done };

/* ---- feeding addresses ----------------------------------------------------------------------- */

static int64_t probe_budget(const struct snmp_engine *e, size_t n_profiles)
{
	const struct engine_limits *l = snmp_engine_limits(e);
	/* per profile: the engine probe or the GET, and the GETNEXT, each with its retries */
	return (int64_t)n_profiles * 2 * (l->retries + 1) * l->timeout_ms + 1000;
}

static size_t feed(struct snmp_engine *e, size_t want, void *arg)
{
	struct disc *d = arg;
	size_t added = 0;
	while (added < want && !d->out_of_memory) {
		if (!d->iter_open) {
			if (d->ti >= d->n_targets)
				return added;
			const struct discovery_target *t = &d->targets[d->ti];
			struct fc_error err;
			if (t->n_profiles == 0) {
				fc_error_set(&err, "no credential profile to try");
			} else if (target_iter_begin(&d->it, t->target, &err) == 0) {
				d->iter_open = true;
				continue;
			}
			d->counts.target_errors++;
			if (d->cb && d->cb->target_error)
				d->cb->target_error(t->target->text, err.msg, d->cb->arg);
			d->ti++;
			continue;
		}
		struct probe *p = calloc(1, sizeof *p);
		if (!p) {
			d->out_of_memory = true;
			return added;
		}
		if (!target_iter_next(&d->it, &p->addr)) {
			free(p);
			d->iter_open = false;
			d->ti++;
			continue;
		}
		p->d = d;
		p->t = &d->targets[d->ti];
		struct fc_error err;
		if (!snmp_engine_add_job(e, p->addr.addr, p->addr.port, p->t->profiles[0],
					 probe_budget(e, p->t->n_profiles), &probe_ops, p, &err)) {
			free(p);
			d->out_of_memory = true;
			return added;
		}
		added++;
	}
	return added;
}

static void report_progress(struct disc *d)
{
	struct snmp_engine_stats st;
	snmp_engine_stats(d->e, &st);
	d->counts.packets = st.packets - d->packets_at_start;
	d->counts.elapsed_ms = clock_mono_ms() - d->started;
	if (d->cb && d->cb->progress)
		d->cb->progress(&d->counts, d->cb->arg);
}

static void on_tick(void *arg)
{
	report_progress(arg);
}

/* ---- the port probe -------------------------------------------------------------------------- */

/* portprobe_run() blocks for whole batches, so it runs on a helper thread while this thread keeps
 * the progress events coming and hands out the results as batches finish. The helper touches only
 * its own struct, the silent list (read-only while it runs) and the result array; `finished` and
 * `done` are read and written under the mutex. */
struct pp {
	const struct silent *silent;
	size_t n;
	struct portprobe_opts po;
	struct portprobe_result *res;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	size_t finished;
	bool done;
};

static void *pp_worker(void *arg)
{
	struct pp *p = arg;
	struct sockaddr_storage *addrs = malloc(PORTPROBE_BATCH * sizeof *addrs);
	size_t at = 0;
	while (addrs && at < p->n) {
		size_t k = p->n - at < PORTPROBE_BATCH ? p->n - at : PORTPROBE_BATCH;
		for (size_t i = 0; i < k; i++)
			addrs[i] = p->silent[at + i].sa;
		struct fc_error err;
		int rc = portprobe_run(addrs, k, &p->po, p->res + at, NULL, &err);
		at += k;
		pthread_mutex_lock(&p->mu);
		p->finished = at;
		pthread_cond_signal(&p->cv);
		pthread_mutex_unlock(&p->mu);
		if (rc != 0)
			break; /* cancelled or could not run: what is known so far stands */
	}
	free(addrs);
	pthread_mutex_lock(&p->mu);
	p->done = true;
	pthread_cond_signal(&p->cv);
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

static void port_probe(struct disc *d, const atomic_bool *cancel)
{
	const struct engine_limits *l = snmp_engine_limits(d->e);
	struct pp p = {
		.silent = d->silent,
		.n = d->n_silent,
		.po = {
			.timeout_ms = d->opts->port_timeout_ms > 0 ? d->opts->port_timeout_ms
								   : l->timeout_ms,
			.concurrency = l->concurrency,
			.stop_at_first = true,
			.cancel = cancel,
		},
		.res = calloc(d->n_silent, sizeof *p.res),
	};
	if (!p.res) {
		d->out_of_memory = true;
		return;
	}
	pthread_mutex_init(&p.mu, NULL);
	pthread_cond_init(&p.cv, NULL);
	pthread_t worker;
	if (pthread_create(&worker, NULL, pp_worker, &p) != 0) {
		d->out_of_memory = true;
		pthread_cond_destroy(&p.cv);
		pthread_mutex_destroy(&p.mu);
		free(p.res);
		return;
	}
	size_t emitted = 0;
	for (;;) {
		pthread_mutex_lock(&p.mu);
		if (!p.done && p.finished == emitted) {
			struct timespec until;
			clock_gettime(CLOCK_REALTIME, &until);
			until.tv_nsec += 250L * 1000 * 1000;
			if (until.tv_nsec >= 1000000000L) {
				until.tv_sec++;
				until.tv_nsec -= 1000000000L;
			}
			pthread_cond_timedwait(&p.cv, &p.mu, &until);
		}
		size_t finished = p.finished;
		bool done = p.done;
		pthread_mutex_unlock(&p.mu);
		for (; emitted < finished; emitted++) {
			if (!p.res[emitted].first_open)
				continue;
			struct target_addr a;
			if (target_addr_from_sockaddr((const struct sockaddr *)&d->silent[emitted].sa,
						      d->silent[emitted].len, &a) < 0)
				continue;
			d->counts.no_snmp_printers++;
			if (d->cb && d->cb->no_snmp_printer)
				d->cb->no_snmp_printer(a.addr, p.res[emitted].first_open, d->cb->arg);
		}
		d->counts.port_probed = emitted;
		report_progress(d);
		if (done && emitted == finished)
			break;
	}
	pthread_join(worker, NULL);
	pthread_cond_destroy(&p.cv);
	pthread_mutex_destroy(&p.mu);
	free(p.res);
}

/* ---- public ---------------------------------------------------------------------------------- */

int discovery_run(struct snmp_engine *e, const struct discovery_target *targets, size_t n,
		  const struct discovery_options *opts, const struct discovery_callbacks *cb,
		  const atomic_bool *cancel, struct discovery_counts *final, struct fc_error *err)
{
	if (n == 0)
		return fc_error_set(err, "nothing to discover: no target");
	static const struct discovery_options defaults = { .port_probe = true };
	struct disc d = {
		.e = e,
		.targets = targets,
		.n_targets = n,
		.opts = opts ? opts : &defaults,
		.cb = cb,
		.started = clock_mono_ms(),
	};
	for (size_t i = 0; i < n; i++)
		d.counts.addresses += target_count(targets[i].target);
	struct snmp_engine_stats st;
	snmp_engine_stats(e, &st);
	d.packets_at_start = st.packets;

	snmp_engine_set_feeder(e, feed, &d);
	int rc = snmp_engine_run(e, cancel, on_tick, &d, 250, err);
	snmp_engine_set_feeder(e, NULL, NULL);
	if (rc == 0 && d.n_silent && !(cancel && atomic_load(cancel)))
		port_probe(&d, cancel);
	report_progress(&d);
	if (final)
		*final = d.counts;
	free(d.silent);
	if (rc == 0 && d.out_of_memory)
		return fc_error_set(err, "out of memory during discovery (results so far were kept)");
	return rc;
}

int discovery_estimate(const struct discovery_target *targets, size_t n,
		       const struct engine_limits *limits, const struct discovery_options *opts,
		       struct discovery_estimate *out, struct fc_error *err)
{
	memset(out, 0, sizeof *out);
	if (n == 0)
		return fc_error_set(err, "nothing to discover: no target");
	struct engine_limits l;
	snmp_engine_limits_default(&l);
	if (limits) {
		if (limits->concurrency > 0)
			l.concurrency = limits->concurrency;
		if (limits->timeout_ms > 0)
			l.timeout_ms = limits->timeout_ms;
		if (limits->retries >= 0)
			l.retries = limits->retries;
		if (limits->max_sessions > 0)
			l.max_sessions = limits->max_sessions;
	}
	if (l.max_sessions <= 0 || l.max_sessions > l.concurrency)
		l.max_sessions = l.concurrency;
	bool port_probe = !opts || opts->port_probe;
	int port_timeout = opts && opts->port_timeout_ms > 0 ? opts->port_timeout_ms : l.timeout_ms;
	out->parallel = (unsigned)l.max_sessions;
	double seconds = 0;
	for (size_t i = 0; i < n; i++) {
		uint64_t a = target_count(targets[i].target);
		out->addresses += a;
		if (targets[i].n_profiles == 0)
			continue;
		/* At least one GET per address (SNMPv3: after its engine discovery). */
		bool v3 = targets[i].profiles[0]->version == CONFIG_SNMP_V3;
		out->packets_min += a * (v3 ? 2 : 1);
		/* Nobody answers: every profile times out, each attempt a packet (for SNMPv3 the
		 * engine discovery is what times out). */
		uint64_t per = (uint64_t)targets[i].n_profiles * (uint64_t)(l.retries + 1);
		out->packets_max += a * per;
		double rounds = ceil((double)a / (double)l.max_sessions);
		seconds += rounds * (double)per * l.timeout_ms / 1000.0;
		if (port_probe) {
			out->packets_max += a * 3; /* a TCP SYN to 9100, 515 and 631 */
			seconds += ceil((double)a * 3 / (double)l.concurrency) * port_timeout / 1000.0;
		}
	}
	out->seconds_max = seconds;
	return 0;
}
