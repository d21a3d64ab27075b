/* The console's commands on the agent's worker threads (see actions.h): poll and discovery with
 * the collectors (results saved in batches, one transaction each), upload and preview with the
 * uplink, export, include / exclude, range changes and site facts. Each handler uses its thread's
 * own store connection and speaks only through agent events. */
#include "service/actions.h"

#include <inttypes.h>
#include <pthread.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "collectors/discovery.h"
#include "collectors/poll.h"
#include "collectors/sitefacts.h"
#include "collectors/snmp_engine.h"
#include "collectors/targets.h"
#include "exports/export.h"
#include "model/array.h"
#include "model/clock.h"
#include "model/config.h"
#include "model/store.h"
#include "model/text.h"
#include "model/units.h"
#include "uplink/alerting.h"
#include "uplink/outbox.h"
#include "uplink/report.h"
#include "uplink/sync.h"
#include "uplink/transport.h"

/* Results saved per transaction, and the longest a result waits to be saved. */
#define SAVE_BATCH 64
#define SAVE_EVERY_MS 500
/* How often a long command tells its progress. */
#define PROGRESS_EVERY_MS 100
/* The preview shows at most this much of the report. */
#define PREVIEW_MAX (2u << 20)

/* ---- the configuration, replaceable while commands run ---- */

/* One configuration and the commands using it (plus one for being the current one). */
struct cfg_ref {
	const struct config *cfg;
	struct config *owned; /* freed with the last reference; NULL when borrowed */
	int refs;
};

/* A command kind bound to its handler, as the agent's handler argument. */
typedef int (*action_fn)(struct agent_job *job, const struct fc_msg *cmd, const struct config *cfg,
			 struct actions_config *ac, struct fc_error *err);
struct binding {
	struct actions_config *ac;
	action_fn fn;
};

struct actions_config {
	pthread_mutex_t lock;
	struct cfg_ref *cur;
	pthread_mutex_t alerting; /* alerting_run never overlaps itself (it would mail twice) */
	struct binding bindings[AGENT_CMD_COUNT];
};

static void must(int rc)
{
	if (rc != 0)
		abort();
}

struct actions_config *actions_config_new(const struct config *cfg, struct fc_error *err)
{
	struct actions_config *ac = calloc(1, sizeof *ac);
	struct cfg_ref *r = calloc(1, sizeof *r);
	if (!ac || !r) {
		free(ac);
		free(r);
		fc_error_set(err, "out of memory");
		return NULL;
	}
	r->cfg = cfg;
	r->refs = 1;
	ac->cur = r;
	must(pthread_mutex_init(&ac->lock, NULL));
	must(pthread_mutex_init(&ac->alerting, NULL));
	return ac;
}

static void ref_drop(struct cfg_ref *r)
{
	if (--r->refs > 0)
		return;
	config_free(&r->owned);
	free(r);
}

static struct cfg_ref *ref_hold(struct actions_config *ac)
{
	must(pthread_mutex_lock(&ac->lock));
	struct cfg_ref *r = ac->cur;
	r->refs++;
	must(pthread_mutex_unlock(&ac->lock));
	return r;
}

static void ref_release(struct actions_config *ac, struct cfg_ref *r)
{
	must(pthread_mutex_lock(&ac->lock));
	ref_drop(r);
	must(pthread_mutex_unlock(&ac->lock));
}

void actions_config_replace(struct actions_config *ac, struct config *cfg)
{
	struct cfg_ref *r = calloc(1, sizeof *r);
	if (!r) {
		/* keeping the old configuration is the only safe answer; the caller logged the reload */
		config_free(&cfg);
		return;
	}
	r->cfg = cfg;
	r->owned = cfg;
	r->refs = 1;
	must(pthread_mutex_lock(&ac->lock));
	struct cfg_ref *old = ac->cur;
	ac->cur = r;
	ref_drop(old);
	must(pthread_mutex_unlock(&ac->lock));
}

const struct config *actions_config_current(struct actions_config *ac)
{
	must(pthread_mutex_lock(&ac->lock));
	const struct config *cfg = ac->cur->cfg;
	must(pthread_mutex_unlock(&ac->lock));
	return cfg;
}

void actions_config_free(struct actions_config **acp)
{
	if (!acp || !*acp)
		return;
	struct actions_config *ac = *acp;
	ref_drop(ac->cur);
	must(pthread_mutex_destroy(&ac->lock));
	must(pthread_mutex_destroy(&ac->alerting));
	free(ac);
	*acp = NULL;
}

/* Every handler runs with the configuration in place when its command started. */
static int run_bound(struct agent_job *job, const struct fc_msg *cmd, void *arg, struct fc_error *err)
{
	struct binding *b = arg;
	struct cfg_ref *r = ref_hold(b->ac);
	int rc = b->fn(job, cmd, r->cfg, b->ac, err);
	ref_release(b->ac, r);
	return rc;
}

/* ---- the e-mail alerts, after a poll and after a sync ---- */

static void run_alerts(struct agent_job *job, const struct config *cfg, struct actions_config *ac)
{
	if (!cfg->smtp.url[0])
		return;
	struct agent *a = agent_job_agent(job);
	struct alerting_result r;
	struct fc_error err = { "" };
	agent_job_progress(job, 0, 0, "checking the e-mail alerts");
	must(pthread_mutex_lock(&ac->alerting));
	int rc = alerting_run(agent_job_store(job), cfg, NULL, clock_now(), &r, &err);
	must(pthread_mutex_unlock(&ac->alerting));
	if (rc < 0)
		agent_log(a, AGENT_WARN, "e-mail alerts: %s (the rest are tried after the next poll)", err.msg);
	if (r.mails)
		agent_log(a, AGENT_INFO, "e-mail alerts: %zu e-mail%s sent for %zu condition%s", r.mails,
			  r.mails == 1 ? "" : "s", r.mailed, r.mailed == 1 ? "" : "s");
	if (r.deferred)
		agent_log(a, AGENT_INFO, "e-mail alerts: %zu condition%s wait for the next run (hourly limit)",
			  r.deferred, r.deferred == 1 ? "" : "s");
}

/* ---- what a collector thread keeps across commands ---- */

/* What the last poll of a device told: the next poll walks the alert table only when
 * prtAlertAllEvents moved, and asks the printer's own hrDeviceIndex. */
struct hint {
	int64_t id; /* 0 = a free slot */
	int printer_index;
	int64_t alert_all_events;
};

struct collector_state {
	struct snmp_engine *engine;
	struct engine_limits limits; /* what the engine was made with */
	struct hint *hints;          /* open addressing on the device id */
	size_t n_hints, cap_hints;   /* cap: a power of two */
};

static void collector_state_free(void *value)
{
	struct collector_state *st = value;
	snmp_engine_free(&st->engine);
	free(st->hints);
	free(st);
}

static size_t hint_slot(const struct collector_state *st, int64_t id)
{
	size_t mask = st->cap_hints - 1;
	size_t i = (size_t)((uint64_t)id * 0x9E3779B97F4A7C15ull >> 17) & mask;
	while (st->hints[i].id && st->hints[i].id != id)
		i = (i + 1) & mask;
	return i;
}

static const struct hint *hint_find(const struct collector_state *st, int64_t id)
{
	if (!st->cap_hints || !id)
		return NULL;
	const struct hint *h = &st->hints[hint_slot(st, id)];
	return h->id ? h : NULL;
}

/* Remembers what a poll learned; a hint that cannot be kept (out of memory) only costs a walk. */
static void hint_put(struct collector_state *st, int64_t id, int printer_index, int64_t alert_all_events)
{
	if (!id)
		return;
	if ((st->n_hints + 1) * 2 > st->cap_hints) {
		size_t ncap = st->cap_hints ? st->cap_hints * 2 : 1024;
		struct hint *old = st->hints;
		size_t oldcap = st->cap_hints;
		struct hint *nh = calloc(ncap, sizeof *nh);
		if (!nh)
			return;
		st->hints = nh;
		st->cap_hints = ncap;
		for (size_t i = 0; i < oldcap; i++)
			if (old[i].id)
				st->hints[hint_slot(st, old[i].id)] = old[i];
		free(old);
	}
	struct hint *h = &st->hints[hint_slot(st, id)];
	if (!h->id)
		st->n_hints++;
	*h = (struct hint){ id, printer_index, alert_all_events };
}

/* The thread's engine, made again when the configuration's limits changed (a reload). */
static struct collector_state *collector_state_of(struct agent_job *job, const struct config *cfg,
						  struct fc_error *err)
{
	struct collector_state *st = agent_job_local(job);
	if (!st) {
		if (!(st = calloc(1, sizeof *st))) {
			fc_error_set(err, "out of memory");
			return NULL;
		}
		agent_job_set_local(job, st);
	}
	struct engine_limits l;
	snmp_engine_limits_from_config(cfg, &l);
	if (st->engine && memcmp(&l, &st->limits, sizeof l) != 0)
		snmp_engine_free(&st->engine);
	if (!st->engine) {
		if (!(st->engine = snmp_engine_new(&l, err)))
			return NULL;
		st->limits = l;
	}
	return st;
}

/* ---- saving what the collectors read ---- */

/* The raw varbinds as the technician's view keeps them: "OID = TYPE: value" per line. */
static char *raw_text(const struct poll_result *r)
{
	if (!r->n_raw)
		return NULL;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (!f)
		return NULL;
	for (size_t i = 0; i < r->n_raw; i++)
		fprintf(f, "%s = %s: %s\n", r->raw[i].oid, r->raw[i].type, r->raw[i].value ? r->raw[i].value : "");
	if (r->raw_truncated)
		fprintf(f, "(cut here: the device sent more than the raw view keeps)\n");
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

/* One result waiting to be saved: what the store needs of a poll_result. */
struct pending {
	struct device device;   /* taken from the result */
	int64_t id;             /* the device polled (0 in a discovery) */
	bool answered;
	bool alerts_read;
	char *raw;
};

/* Results waiting to be saved. */
struct batch {
	struct pending *items;
	size_t n, cap;
};

struct saver {
	struct agent_job *job;
	const struct config *cfg;
	struct batch fill;       /* filled on the engine's thread */
	int64_t last_flush_ms;
	/* A poll saves on a thread of its own, with its own connection, so that the store's writes
	 * (a third of a poll's work) run on the other core while the engine goes on. A discovery
	 * saves on the engine's thread, with the job's connection. */
	bool threaded;
	struct store *store;     /* where batches go: the writer's, or the job's */
	pthread_t writer;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct batch handed;     /* the writer's while writing is set */
	bool writing, stop;
	size_t lost;             /* results dropped for want of memory (the engine's thread) */
	char error[sizeof ((struct fc_error *)0)->msg]; /* the first store error: final after saver_finish */
};

static void pending_clear(struct pending *p)
{
	device_clear(&p->device);
	free(p->raw);
	memset(p, 0, sizeof *p);
}

/* Empties b, keeping its array. On the thread that filled it: memory goes back to the allocator
 * of the thread that took it (freeing it on the writer made the two threads contend for the
 * allocator's lock, perf). */
static void batch_clear(struct batch *b)
{
	for (size_t i = 0; i < b->n; i++)
		pending_clear(&b->items[i]);
	b->n = 0;
}

/* Saves b in one transaction (b is then cleared by its owner). */
static void save_batch(struct saver *sv, struct batch *b)
{
	struct store *s = sv->store;
	struct agent *a = agent_job_agent(sv->job);
	struct fc_error err = { "" };
	int64_t *ids = calloc(b->n, sizeof *ids);
	bool ok = ids && store_begin(s, &err) == 0;
	int64_t now = clock_now();
	for (size_t i = 0; ok && i < b->n; i++) {
		struct pending *p = &b->items[i];
		if (!p->answered) {
			if (p->id && store_device_poll_failed(s, p->id, p->device.poll_error ? p->device.poll_error : "no answer",
							      true, now, &err) < 0)
				ok = false;
			ids[i] = p->id;
			continue;
		}
		int64_t id = 0;
		if (store_device_save(s, &p->device, sv->cfg->poll.include_new, p->alerts_read, &id, &err) < 0 ||
		    (p->raw && store_device_set_raw(s, id, p->raw, &err) < 0))
			ok = false;
		ids[i] = id;
	}
	if (ok && store_commit(s, &err) < 0)
		ok = false;
	if (!ok) {
		if (ids)
			store_rollback(s);
		if (!sv->error[0])
			snprintf(sv->error, sizeof sv->error, "%s", ids ? err.msg : "out of memory");
		agent_log(a, AGENT_ERROR, "could not save %zu poll results: %s", b->n, ids ? err.msg : "out of memory");
	} else {
		/* many devices at once: one event says "reload them all" */
		if (b->n > 256)
			agent_emit(a, AGENT_EV_DEVICE_CHANGED, 0, 0, 0, NULL);
		else
			for (size_t i = 0; i < b->n; i++)
				if (ids[i])
					agent_emit(a, AGENT_EV_DEVICE_CHANGED, ids[i], 0, 0, NULL);
	}
	free(ids);
}

static void *writer_main(void *arg)
{
	struct saver *sv = arg;
	pthread_mutex_lock(&sv->mu);
	for (;;) {
		while (!sv->writing && !sv->stop)
			pthread_cond_wait(&sv->cv, &sv->mu);
		if (!sv->writing)
			break;
		pthread_mutex_unlock(&sv->mu);
		save_batch(sv, &sv->handed);
		pthread_mutex_lock(&sv->mu);
		sv->writing = false;
		pthread_cond_broadcast(&sv->cv);
	}
	pthread_mutex_unlock(&sv->mu);
	return NULL;
}

/* Starts the writer thread when threaded is asked; without one (no thread could be made), the
 * batches are saved on the caller's thread. */
static void saver_start(struct saver *sv, bool threaded)
{
	struct agent *a = agent_job_agent(sv->job);
	sv->last_flush_ms = clock_mono_ms();
	sv->threaded = false;
	sv->store = agent_job_store(sv->job);
	const char *path = agent_db_path(a);
	if (!threaded || !sv->store || !path)
		return;
	struct fc_error err = { "" };
	struct store *own = NULL;
	if (store_open(path, STORE_NO_CHECK, &own, &err) < 0) {
		agent_log(a, AGENT_WARN, "no second connection for saving (%s): the poll saves as it goes", err.msg);
		return;
	}
	if (pthread_mutex_init(&sv->mu, NULL) != 0) {
		store_close(&own);
		return;
	}
	if (pthread_cond_init(&sv->cv, NULL) != 0) {
		pthread_mutex_destroy(&sv->mu);
		store_close(&own);
		return;
	}
	sv->store = own;
	if (pthread_create(&sv->writer, NULL, writer_main, sv) != 0) {
		agent_log(a, AGENT_WARN, "no thread for saving: the poll saves as it goes");
		pthread_cond_destroy(&sv->cv);
		pthread_mutex_destroy(&sv->mu);
		sv->store = agent_job_store(sv->job);
		store_close(&own);
		return;
	}
	sv->threaded = true;
}

/* Hands the filled batch to the writer (waiting while it still writes the one before), or saves
 * it here. */
static void saver_flush(struct saver *sv)
{
	if (!sv->fill.n)
		return;
	if (!sv->threaded) {
		save_batch(sv, &sv->fill);
		batch_clear(&sv->fill);
	} else {
		pthread_mutex_lock(&sv->mu);
		while (sv->writing)
			pthread_cond_wait(&sv->cv, &sv->mu);
		struct batch empty = sv->handed; /* saved: cleared here, its array reused */
		batch_clear(&empty);
		sv->handed = sv->fill;
		sv->fill = empty;
		sv->writing = true;
		pthread_cond_broadcast(&sv->cv);
		pthread_mutex_unlock(&sv->mu);
	}
	sv->last_flush_ms = clock_mono_ms();
}

/* Takes what it keeps out of the result (the poll frees the rest). */
static void saver_add(struct saver *sv, struct poll_result *r)
{
	struct batch *b = &sv->fill;
	struct pending *grown = array_grow(b->items, b->n, &b->cap, sizeof *grown, SAVE_BATCH);
	if (!grown) {
		sv->lost++;
		return;
	}
	b->items = grown;
	struct pending *p = &b->items[b->n++];
	memset(p, 0, sizeof *p);
	p->id = r->device.id;
	p->answered = r->answered;
	p->alerts_read = r->alerts_read;
	p->raw = raw_text(r);
	p->device = r->device;
	memset(&r->device, 0, sizeof r->device);
	/* Without the writer, saving blocks the engine's loop for one transaction; batches keep
	 * that rare and short. */
	if (b->n >= SAVE_BATCH || clock_mono_ms() - sv->last_flush_ms >= SAVE_EVERY_MS)
		saver_flush(sv);
}

static void batch_free(struct batch *b)
{
	batch_clear(b);
	free(b->items);
	memset(b, 0, sizeof *b);
}

/* Saves what is left, ends the writer and frees everything; error is then final. */
static void saver_finish(struct saver *sv)
{
	saver_flush(sv);
	if (sv->threaded) {
		pthread_mutex_lock(&sv->mu);
		sv->stop = true;
		pthread_cond_broadcast(&sv->cv);
		pthread_mutex_unlock(&sv->mu);
		pthread_join(sv->writer, NULL);
		pthread_cond_destroy(&sv->cv);
		pthread_mutex_destroy(&sv->mu);
		store_close(&sv->store);
		sv->threaded = false;
	}
	batch_free(&sv->fill);
	batch_free(&sv->handed);
	if (sv->lost && !sv->error[0])
		snprintf(sv->error, sizeof sv->error, "out of memory: %zu results were not saved", sv->lost);
}

/* ---- poll ---- */

struct poll_run {
	struct saver sv;
	struct collector_state *st;
	size_t total, done, answered;
	int64_t progress_ms; /* when progress was last told */
};

static void on_poll_result(struct poll_result *r, void *arg)
{
	struct poll_run *pr = arg;
	pr->done++;
	if (r->answered) {
		pr->answered++;
		hint_put(pr->st, r->device.id, r->printer_index, r->alert_all_events);
	}
	/* A few times a second is what a person reads; one event a device woke the console (or
	 * the command) 20,000 times a poll. */
	int64_t now = clock_mono_ms();
	if (pr->done == pr->total || now - pr->progress_ms >= PROGRESS_EVERY_MS) {
		pr->progress_ms = now;
		agent_job_progress(pr->sv.job, (int64_t)pr->done, (int64_t)pr->total,
				   "%zu of %zu polled, %zu answered", pr->done, pr->total, pr->answered);
	}
	saver_add(&pr->sv, r);
}

static int handle_poll(struct agent_job *job, const struct fc_msg *cmd, const struct config *cfg,
			 struct actions_config *ac, struct fc_error *err)
{
	struct store *s = agent_job_store(job);
	struct device *devs = NULL;
	size_t n = 0;
	if (cmd->id) {
		devs = calloc(1, sizeof *devs);
		if (!devs)
			return fc_error_set(err, "out of memory");
		int rc = store_device_load(s, cmd->id, 0, devs, err);
		if (rc <= 0) {
			free(devs);
			return rc < 0 ? -1 : fc_error_set(err, "device %lld is gone from the database", (long long)cmd->id);
		}
		n = 1;
	} else if (store_devices_list(s, STORE_DEVICES_INCLUDED, 0, &devs, &n, err) < 0) {
		return -1;
	}
	if (n == 0) {
		free(devs);
		agent_job_summary(job, "nothing to poll: no included devices (run a discovery on screen 5)");
		return 0;
	}
	struct poll_target *targets = calloc(n, sizeof *targets);
	if (!targets) {
		device_array_free(&devs, n);
		return fc_error_set(err, "out of memory for %zu devices", n);
	}
	struct collector_state *st = collector_state_of(job, cfg, err);
	if (!st) {
		free(targets);
		device_array_free(&devs, n);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		const struct snmp_profile *p = devs[i].profile ? config_profile(cfg, devs[i].profile) : NULL;
		const struct hint *h = hint_find(st, devs[i].id);
		targets[i] = (struct poll_target){
			.address = devs[i].address,
			.port = devs[i].port,
			.profile = p ? p : &cfg->profiles[0],
			.device_id = devs[i].id,
			.sys_object_id = devs[i].sys_object_id,
			.sys_descr = devs[i].sys_descr,
			.printer_index = h ? h->printer_index : 0,
			.alert_all_events = h ? h->alert_all_events : -1,
		};
	}
	int rc;
	{
		struct poll_run pr = { .sv = { .job = job, .cfg = cfg }, .st = st, .total = n };
		saver_start(&pr.sv, true);
		/* the raw view is for a technician looking at one device: the fleet's polls skip it (it
		 * was a fifth of a full poll's work) */
		struct poll_options po = { .keep_raw = cmd->id != 0, .low_percent = cfg->alerts.supply_low };
		agent_job_progress(job, 0, (int64_t)n, "polling %zu device%s", n, n == 1 ? "" : "s");
		rc = poll_devices(st->engine, targets, n, &po, on_poll_result, &pr, agent_job_cancel_atomic(job), err);
		saver_finish(&pr.sv);
		if (rc < 0)
			snmp_engine_free(&st->engine); /* a loop that failed: the next command starts afresh */
		if (rc == 0 && !pr.sv.error[0] && !agent_job_cancelled(job))
			run_alerts(job, cfg, ac);
		if (rc == 0 && pr.sv.error[0])
			rc = fc_error_set(err, "the poll ran but saving failed: %s", pr.sv.error);
		else if (rc == 0 && agent_job_cancelled(job))
			rc = fc_error_set(err, "%zu of %zu polled before the cancel", pr.done, n);
		else if (rc == 0 && n == 1)
			agent_job_summary(job, "%s: %s", devs[0].address,
					  pr.answered ? "polled" : "no answer (check the address, the profile and that SNMP is on)");
		else if (rc == 0)
			agent_job_summary(job, "%zu devices polled, %zu answered", n, pr.answered);
	}
	free(targets);
	device_array_free(&devs, n);
	return rc;
}

/* ---- discovery ---- */

struct disc_run {
	struct saver sv;
	uint64_t printers, no_snmp;
	char first_error[256];
};

static void on_disc_printer(struct poll_result *r, void *arg)
{
	struct disc_run *d = arg;
	d->printers++;
	r->device.id = 0; /* the store matches it by identity */
	saver_add(&d->sv, r);
}

static void on_disc_no_snmp(const char *address, uint16_t port, void *arg)
{
	struct disc_run *d = arg;
	d->no_snmp++;
	char ports[8];
	snprintf(ports, sizeof ports, "%u", (unsigned)port);
	struct fc_error err = { "" };
	if (store_unmanaged_set(agent_job_store(d->sv.job), address, ports, clock_now(), &err) < 0)
		agent_log(agent_job_agent(d->sv.job), AGENT_WARN, "%s", err.msg);
	else
		agent_log(agent_job_agent(d->sv.job), AGENT_INFO, "%s answers no SNMP but accepts print port %u: a printer "
				 "that cannot be managed", address, (unsigned)port);
}

static void on_disc_target_error(const char *text, const char *message, void *arg)
{
	struct disc_run *d = arg;
	if (!d->first_error[0])
		snprintf(d->first_error, sizeof d->first_error, "%s: %s", text, message);
	agent_log(agent_job_agent(d->sv.job), AGENT_WARN, "discovery target %s: %s", text, message);
}

static void on_disc_progress(const struct discovery_counts *c, void *arg)
{
	struct disc_run *d = arg;
	agent_job_progress(d->sv.job, (int64_t)c->scanned, (int64_t)c->addresses,
			   "%" PRIu64 " of %" PRIu64 " addresses scanned, %" PRIu64 " answered, %" PRIu64 " printers",
			   c->scanned, c->addresses, c->answered, c->printers);
}

/* The ranges as discovery targets, with their profiles (an empty list: every profile). */
struct disc_targets {
	struct range *ranges;
	size_t n_ranges;
	struct target *targets;
	const struct snmp_profile **profiles; /* n_ranges x profile_count slots */
	struct discovery_target *dt;
	size_t n;
};

static void disc_targets_free(struct disc_targets *t)
{
	range_array_free(&t->ranges, t->n_ranges);
	free(t->targets);
	free(t->profiles);
	free(t->dt);
	memset(t, 0, sizeof *t);
}

static int disc_targets_load(struct store *s, const struct config *cfg, int64_t only,
			     const struct snmp_profile *adhoc, struct disc_targets *t, struct agent *a,
			     struct fc_error *err)
{
	memset(t, 0, sizeof *t);
	if (store_ranges_list(s, &t->ranges, &t->n_ranges, err) < 0)
		return -1;
	size_t np = cfg->profile_count;
	t->targets = calloc(t->n_ranges ? t->n_ranges : 1, sizeof *t->targets);
	t->profiles = calloc((t->n_ranges ? t->n_ranges : 1) * np, sizeof *t->profiles);
	t->dt = calloc(t->n_ranges ? t->n_ranges : 1, sizeof *t->dt);
	if (!t->targets || !t->profiles || !t->dt) {
		disc_targets_free(t);
		return fc_error_set(err, "out of memory");
	}
	for (size_t i = 0; i < t->n_ranges; i++) {
		const struct range *r = &t->ranges[i];
		if (only && r->id != only)
			continue;
		if (!only && !r->enabled)
			continue; /* disabled by the admin: kept in the list, swept only when asked by name */
		struct fc_error terr = { "" };
		/* it was accepted when added (with --force for a big one): take it as it is */
		if (target_parse(r->target, (uint16_t)(r->port ? r->port : cfg->poll.port), true, &t->targets[t->n], &terr) < 0) {
			agent_log(a, AGENT_WARN, "range %s skipped: %s", r->target, terr.msg);
			continue;
		}
		const struct snmp_profile **slots = &t->profiles[i * np];
		size_t k = 0;
		if (adhoc) {
			slots[k++] = adhoc;
		} else if (r->profiles && *r->profiles) {
			char *copy = strdup(r->profiles), *save = NULL;
			for (char *name = copy ? strtok_r(copy, ",", &save) : NULL; name; name = strtok_r(NULL, ",", &save)) {
				const struct snmp_profile *p = config_profile(cfg, name);
				if (p && k < np)
					slots[k++] = p;
				else if (!p)
					agent_log(a, AGENT_WARN, "range %s: no profile \"%s\" in the configuration", r->target, name);
			}
			free(copy);
		} else {
			for (size_t j = 0; j < np; j++)
				slots[k++] = &cfg->profiles[j];
		}
		if (!k) {
			agent_log(a, AGENT_WARN, "range %s skipped: none of its profiles exists", r->target);
			continue;
		}
		t->dt[t->n] = (struct discovery_target){ &t->targets[t->n], slots, k };
		t->n++;
	}
	return 0;
}

static int handle_discover(struct agent_job *job, const struct fc_msg *cmd, const struct config *cfg,
			 struct actions_config *ac, struct fc_error *err)
{
	(void)ac;
	struct store *s = agent_job_store(job);
	struct agent *a = agent_job_agent(job);
	/* a community given on the spot: the configured profile that has it, or one made now */
	struct snmp_profile adhoc_profile = { .name = ACTIONS_COMMUNITY_PROFILE, .version = CONFIG_SNMP_V2C };
	const struct snmp_profile *adhoc = NULL;
	if (cmd->text && *cmd->text) {
		for (size_t i = 0; i < cfg->profile_count && !adhoc; i++)
			if (cfg->profiles[i].version != CONFIG_SNMP_V3 && !strcmp(cfg->profiles[i].community, cmd->text))
				adhoc = &cfg->profiles[i];
		if (!adhoc) {
			snprintf(adhoc_profile.community, sizeof adhoc_profile.community, "%s", cmd->text);
			adhoc = &adhoc_profile;
			agent_log(a, AGENT_WARN, "a community given on the spot is not kept: later polls of the printers "
				  "it finds use the configured profiles (add a [profile] with it to keep polling them)");
		}
	}
	struct disc_targets t;
	int rc = disc_targets_load(s, cfg, cmd->id, adhoc, &t, a, err);
	if (rc < 0)
		goto out;
	if (t.n == 0) {
		rc = fc_error_set(err, t.n_ranges ? "no range could be used (see the Log screen)"
						 : "no ranges yet: press n on the Discovery screen to add one");
		goto out;
	}
	struct discovery_options o = { .port_probe = true };
	o.poll.keep_raw = true;
	o.poll.low_percent = cfg->alerts.supply_low;
	if (cmd->a) {
		struct engine_limits l;
		snmp_engine_limits_from_config(cfg, &l);
		struct discovery_estimate est;
		if ((rc = discovery_estimate(t.dt, t.n, &l, &o, &est, err)) < 0)
			goto out;
		char span[32], text[512];
		units_span((int64_t)(est.seconds_max + 0.5), span, sizeof span);
		snprintf(text, sizeof text,
			 "%zu range%s, %" PRIu64 " addresses: %" PRIu64 " to %" PRIu64 " packets, at worst %s "
			 "(%u addresses at once); nothing was sent",
			 t.n, t.n == 1 ? "" : "s", est.addresses, est.packets_min, est.packets_max, span, est.parallel);
		agent_job_result(job, text);
		agent_job_summary(job, "%s", text);
		goto out;
	}
	struct collector_state *st = collector_state_of(job, cfg, err);
	if (!st) {
		rc = -1;
		goto out;
	}
	struct disc_run d = { .sv = { .job = job, .cfg = cfg } };
	saver_start(&d.sv, false);
	struct discovery_callbacks cb = {
		.printer = on_disc_printer,
		.no_snmp_printer = on_disc_no_snmp,
		.target_error = on_disc_target_error,
		.progress = on_disc_progress,
		.arg = &d,
	};
	struct discovery_counts final = { 0 };
	rc = discovery_run(st->engine, t.dt, t.n, &o, &cb, agent_job_cancel_atomic(job), &final, err);
	saver_finish(&d.sv);
	if (rc < 0)
		snmp_engine_free(&st->engine);
	if (rc == 0) {
		int64_t now = clock_now();
		struct fc_error merr = { "" };
		for (size_t i = 0; i < t.n_ranges; i++)
			if ((!cmd->id || t.ranges[i].id == cmd->id) && store_range_mark_run(s, t.ranges[i].id, now, &merr) < 0)
				agent_log(a, AGENT_WARN, "%s", merr.msg);
		agent_emit(a, AGENT_EV_RANGES_CHANGED, 0, 0, 0, NULL);
		char span[32];
		units_span(final.elapsed_ms / 1000, span, sizeof span);
		if (d.sv.error[0])
			rc = fc_error_set(err, "found %" PRIu64 " printers but saving failed: %s", final.printers, d.sv.error);
		else if (agent_job_cancelled(job))
			rc = fc_error_set(err, "%" PRIu64 " of %" PRIu64 " addresses scanned, %" PRIu64 " printers found",
					  final.scanned, final.addresses, final.printers);
		else
			agent_job_summary(job,
					  "%" PRIu64 " addresses in %s: %" PRIu64 " answered, %" PRIu64 " printers, %" PRIu64
					  " other devices, %" PRIu64 " printers without SNMP%s%s",
					  final.addresses, span, final.answered, final.printers, final.not_printers,
					  final.no_snmp_printers, d.first_error[0] ? "; " : "", d.first_error);
	}
out:
	disc_targets_free(&t);
	explicit_bzero(adhoc_profile.community, sizeof adhoc_profile.community);
	return rc;
}

/* ---- uplink ---- */

struct upload_run {
	struct agent_job *job;
};

static void on_outbox_event(void *ctx, const struct outbox_event *ev)
{
	struct upload_run *u = ctx;
	char done[32], total[32], entry[48] = "";
	if (ev->entries > 1)
		snprintf(entry, sizeof entry, " (report %zu of %zu)", ev->entry, ev->entries);
	switch (ev->stage) {
	case OUTBOX_STAGE_SEND:
	case OUTBOX_STAGE_COMPRESS:
		agent_job_progress(u->job, (int64_t)ev->done, (int64_t)ev->total, "%s %s of %s%s", outbox_stage_name(ev->stage),
				   units_bytes(ev->done, done, sizeof done), units_bytes(ev->total, total, sizeof total), entry);
		break;
	case OUTBOX_STAGE_RETRY_WAIT:
		agent_job_progress(u->job, 0, 0, "attempt %d failed (%s); next in %llds%s", ev->attempt,
				   ev->message ? ev->message : "no reason", (long long)(ev->wait_ms / 1000), entry);
		break;
	case OUTBOX_STAGE_FAILED:
	case OUTBOX_STAGE_DROPPED:
		agent_job_progress(u->job, 0, 0, "%s: %s%s", outbox_stage_name(ev->stage), ev->message ? ev->message : "",
				   entry);
		agent_log(agent_job_agent(u->job), AGENT_WARN, "upload %s: %s", outbox_stage_name(ev->stage),
			  ev->message ? ev->message : "");
		break;
	default:
		agent_job_progress(u->job, 0, 0, "%s%s", outbox_stage_name(ev->stage), entry);
		break;
	}
}

static int handle_upload(struct agent_job *job, const struct fc_msg *cmd, const struct config *cfg,
			 struct actions_config *ac, struct fc_error *err)
{
	struct agent *a = agent_job_agent(job);
	if (!cfg->server.url[0])
		return fc_error_set(err, "uploads are not configured: set [server] url, user and password in the "
					 "configuration file");
	struct upload_run u = { job };
	struct sync_options o = {
		.trigger = cmd->a == 2 ? SYNC_RETRY : cmd->a == 1 ? SYNC_SCHEDULED : SYNC_MANUAL,
		.cancel = agent_job_cancel_atomic(job),
		.on_event = on_outbox_event,
		.event_ctx = &u,
		.lock_wait_ms = 2000,
	};
	struct sync_result r;
	memset(&r, 0, sizeof r);
	int rc = sync_run(agent_job_store(job), cfg, &o, &r, err);
	agent_emit(a, AGENT_EV_SYNC_FINISHED, 0, rc == 0 && r.delivery.pending == 0, 0, NULL);
	/* failing uploads and a filling outbox are alerts too */
	if (!agent_job_cancelled(job))
		run_alerts(job, cfg, ac);
	if (rc < 0)
		return -1;
	char size[32];
	units_bytes(r.gzip_bytes, size, sizeof size);
	if (r.delivery.cancelled)
		return fc_error_set(err, "cancelled; %d report%s wait in the outbox", r.delivery.pending,
				    r.delivery.pending == 1 ? "" : "s");
	if (r.delivery.pending == 0) {
		agent_job_summary(job, "delivered: %d report%s, %d devices, %s (HTTP %d)", r.delivery.delivered,
				  r.delivery.delivered == 1 ? "" : "s", r.devices, size, r.delivery.http_status);
		return 0;
	}
	if (r.delivery.auth_failed)
		return fc_error_set(err, "the server refused the agent's credentials (HTTP %d): check [server] user and "
					 "password; the report waits in the outbox", r.delivery.http_status);
	if (r.delivery.tls_failed)
		return fc_error_set(err, "the server could not be verified: %s; check [server] url and ca_file",
				    r.delivery.error);
	return fc_error_set(err, "%d report%s still in the outbox: %s (retried automatically)", r.delivery.pending,
			    r.delivery.pending == 1 ? "" : "s", r.delivery.error[0] ? r.delivery.error : "not delivered");
}

char *actions_preview_text(const char *json, size_t len, size_t max_bytes, struct fc_error *err)
{
	json_error_t jerr;
	json_t *doc = json_loadb(json, len, 0, &jerr);
	if (!doc) {
		fc_error_set(err, "the report is not valid JSON: %s", jerr.text);
		return NULL;
	}
	char *pretty = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(doc);
	if (!pretty) {
		fc_error_set(err, "out of memory for the preview");
		return NULL;
	}
	size_t plen = strlen(pretty);
	if (plen <= max_bytes)
		return pretty;
	/* cut at a line end so that no line (or character) is split */
	size_t cut = max_bytes;
	while (cut > 0 && pretty[cut - 1] != '\n')
		cut--;
	char tail[160];
	snprintf(tail, sizeof tail, "... %zu more bytes not shown; 'fleetcon report --preview --json' prints it all\n",
		 plen - cut);
	char *out = malloc(cut + strlen(tail) + 1);
	if (!out) {
		free(pretty);
		fc_error_set(err, "out of memory for the preview");
		return NULL;
	}
	memcpy(out, pretty, cut);
	strcpy(out + cut, tail);
	free(pretty);
	return out;
}

static int handle_preview(struct agent_job *job, const struct fc_msg *cmd, const struct config *cfg,
			 struct actions_config *ac, struct fc_error *err)
{
	(void)ac;
	(void)cmd;
	struct report *r = NULL;
	agent_job_progress(job, 0, 0, "reading the devices");
	if (report_load(agent_job_store(job), cfg, clock_now(), &r, err) < 0)
		return -1;
	char *json = NULL;
	size_t len = 0;
	int devices = report_device_count(r);
	int rc = report_json_text(r, &json, &len, err);
	report_free(&r);
	if (rc == 0) {
		char *text = actions_preview_text(json, len, PREVIEW_MAX, err);
		if (!text) {
			rc = -1;
		} else {
			agent_job_result(job, text);
			char size[32];
			agent_job_summary(job, "the next report: %d devices, %s of JSON before compression", devices,
					  units_bytes(len, size, sizeof size));
			free(text);
		}
	}
	free(json);
	return rc;
}

/* ---- store work ---- */

static int handle_include(struct agent_job *job, const struct fc_msg *cmd, const struct config *cfg,
			 struct actions_config *ac, struct fc_error *err)
{
	(void)cfg;
	(void)ac;
	struct store *s = agent_job_store(job);
	struct device d = { 0 };
	int rc = store_device_load(s, cmd->id, 0, &d, err);
	if (rc <= 0)
		return rc < 0 ? -1 : fc_error_set(err, "device %lld is gone from the database", (long long)cmd->id);
	char *name = text_clean(d.sys_name && *d.sys_name ? d.sys_name : d.address);
	device_clear(&d);
	rc = store_device_set_included(s, cmd->id, cmd->a != 0, err);
	if (rc >= 0) {
		agent_emit(agent_job_agent(job), AGENT_EV_DEVICE_CHANGED, cmd->id, 0, 0, NULL);
		agent_job_summary(job, cmd->a ? "%s included: polled and reported again"
					      : "%s excluded: no longer polled or reported (Space includes it again)",
				  name ? name : "device");
	}
	free(name);
	return rc < 0 ? -1 : 0;
}

/* Whether range id's target is text: an edit that keeps the target passes the size check that
 * the range passed (or was forced past) when it was added, whoever edits it. */
static bool range_keeps_target(struct store *s, int64_t id, const char *text)
{
	struct range *ranges = NULL;
	size_t n = 0;
	struct fc_error ignored = { "" };
	bool same = false;
	if (store_ranges_list(s, &ranges, &n, &ignored) == 0)
		for (size_t i = 0; i < n && !same; i++)
			same = ranges[i].id == id && strcmp(ranges[i].target, text) == 0;
	range_array_free(&ranges, n);
	return same;
}

/* Splits "TARGET\tPROFILES" and checks both. */
static int range_check(struct store *s, const struct config *cfg, const struct fc_msg *cmd, struct target *t,
		       char *profiles, size_t plen, struct fc_error *err)
{
	const char *text = cmd->text ? cmd->text : "";
	const char *tab = strchr(text, '\t');
	char target[TARGET_TEXT_MAX];
	snprintf(target, sizeof target, "%.*s", (int)(tab ? (size_t)(tab - text) : strlen(text)), text);
	snprintf(profiles, plen, "%s", tab ? tab + 1 : "");
	if (cmd->a < 0 || cmd->a > 65535)
		return fc_error_set(err, "the port must be a number from 1 to 65535");
	bool force = (cmd->b & AGENT_RANGE_FORCE) ||
		     (cmd->kind == AGENT_CMD_RANGE_EDIT && range_keeps_target(s, cmd->id, target));
	if (target_parse(target, (uint16_t)(cmd->a ? cmd->a : cfg->poll.port), force, t, err) < 0)
		return -1;
	/* profile names: spaces after commas are forgiven */
	char clean[512] = "";
	char *copy = strdup(profiles), *save = NULL;
	if (!copy)
		return fc_error_set(err, "out of memory");
	for (char *name = strtok_r(copy, ", ", &save); name; name = strtok_r(NULL, ", ", &save)) {
		if (!config_profile(cfg, name)) {
			char known[256] = "";
			for (size_t i = 0; i < cfg->profile_count; i++) {
				size_t at = strlen(known);
				snprintf(known + at, sizeof known - at, "%s%s", i ? ", " : "", cfg->profiles[i].name);
			}
			fc_error_set(err, "no profile \"%s\" in the configuration (known: %s)", name, known);
			free(copy);
			return -1;
		}
		size_t at = strlen(clean);
		snprintf(clean + at, sizeof clean - at, "%s%s", at ? "," : "", name);
	}
	free(copy);
	snprintf(profiles, plen, "%s", clean);
	return 0;
}

static int handle_range(struct agent_job *job, const struct fc_msg *cmd, const struct config *cfg,
			 struct actions_config *ac, struct fc_error *err)
{
	(void)ac;
	struct store *s = agent_job_store(job);
	struct agent *a = agent_job_agent(job);
	if (cmd->kind == AGENT_CMD_RANGE_REMOVE) {
		int rc = store_range_remove(s, cmd->id, err);
		if (rc < 0)
			return -1;
		agent_emit(a, AGENT_EV_RANGES_CHANGED, 0, 0, 0, NULL);
		agent_job_summary(job, rc ? "range removed (its devices stay)" : "that range was already gone");
		return 0;
	}
	struct target t;
	char profiles[512];
	if (range_check(s, cfg, cmd, &t, profiles, sizeof profiles, err) < 0)
		return -1;
	/* a single address is a manual entry; the admin's choice wins when given */
	int64_t how = cmd->b & AGENT_RANGE_KIND;
	bool enabled = !(cmd->b & AGENT_RANGE_DISABLED);
	bool manual = how == 1 || (how == 0 && (t.kind == TARGET_IPV4 || t.kind == TARGET_IPV6 || t.kind == TARGET_NAME));
	int64_t id = cmd->id;
	if (store_begin(s, err) < 0)
		return -1;
	if (cmd->kind == AGENT_CMD_RANGE_EDIT) {
		/* in place: the range keeps its id, creation time and last run */
		int rc = store_range_update(s, id, t.text, profiles, (int)cmd->a, manual, enabled, err);
		if (rc == 0)
			fc_error_set(err, "that range was removed meanwhile; add it again");
		if (rc <= 0)
			goto fail;
	} else {
		if (store_range_add(s, t.text, profiles, (int)cmd->a, manual, &id, err) < 0)
			goto fail;
		if (!enabled && store_range_update(s, id, t.text, profiles, (int)cmd->a, manual, false, err) < 0)
			goto fail;
	}
	if (store_commit(s, err) < 0)
		goto fail;
	agent_emit(a, AGENT_EV_RANGES_CHANGED, id, 0, 0, NULL);
	uint64_t count = target_count(&t);
	if (cmd->kind == AGENT_CMD_RANGE_EDIT) /* the whole range as it is now: the edit may change any part */
		agent_job_summary(job, "range %" PRId64 ": %s port %u %s%s, %s (%" PRIu64 " address%s)%s%s", id, t.text,
				  (unsigned)t.port, *profiles ? "profiles " : "every profile", profiles,
				  enabled ? "enabled" : "disabled", count, count == 1 ? "" : "es", t.note[0] ? "; " : "", t.note);
	else
		agent_job_summary(job, "added %s: %" PRIu64 " address%s%s%s", t.text, count, count == 1 ? "" : "es",
				  t.note[0] ? "; " : "", t.note);
	return 0;
fail:
	store_rollback(s);
	return -1;
}

static int handle_export(struct agent_job *job, const struct fc_msg *cmd, const struct config *cfg,
			 struct actions_config *ac, struct fc_error *err)
{
	(void)ac;
	if (!cmd->text || !*cmd->text)
		return fc_error_set(err, "give a path to write to");
	struct export_options o;
	export_options_init(&o);
	o.format = cmd->a ? EXPORT_CSV : EXPORT_HTML;
	o.output = cmd->text;
	o.force = cmd->b != 0;
	o.force_hint = "set Replace existing to yes"; /* the words of the dialog that sent it */
	agent_job_progress(job, 0, 0, "writing %s", cmd->text);
	if (export_write(agent_job_store(job), cfg, &o, err) < 0)
		return -1;
	char size[32] = "";
	struct stat st;
	if (stat(cmd->text, &st) == 0 && S_ISREG(st.st_mode))
		units_bytes((uint64_t)st.st_size, size, sizeof size);
	agent_job_summary(job, "wrote %s%s%s%s", cmd->text, size[0] ? " (" : "", size, size[0] ? ")" : "");
	return 0;
}

static void fact(FILE *f, const char *label, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void fact(FILE *f, const char *label, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	fprintf(f, "%s\t%s\n", label, buf);
}

static int handle_sitefacts(struct agent_job *job, const struct fc_msg *cmd, const struct config *cfg,
			 struct actions_config *ac, struct fc_error *err)
{
	(void)ac;
	(void)cmd;
	struct store *s = agent_job_store(job);
	struct store_counts counts;
	if (store_counts(s, cfg->alerts.supply_low, &counts, err) < 0)
		return -1;
	char uuid[UUID_STR_LEN] = "";
	if (store_agent_uuid(s, uuid, err) < 0)
		return -1;
	struct site_facts sf;
	struct fc_error ferr = { "" };
	if (sitefacts_collect(store_path(s), &sf, &ferr) < 0)
		agent_log(agent_job_agent(job), AGENT_WARN, "site facts: %s", ferr.msg);
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (!f)
		return fc_error_set(err, "out of memory");
	char b1[32], b2[32];
	fprintf(f, "#Site\n");
	fact(f, "Site name", "%s", cfg->site.name);
	fact(f, "Agent id", "%s", uuid);
	fact(f, "Devices", "%" PRId64 " discovered, %" PRId64 " included, %" PRId64 " excluded", counts.discovered,
	     counts.included, counts.excluded);
	fact(f, "Attention", "%" PRId64 " with faults, %" PRId64 " with low supplies", counts.with_faults,
	     counts.with_low_supplies);
	fprintf(f, "#Agent host\n");
	fact(f, "Host name", "%s", sf.hostname);
	fact(f, "DNS name", "%s", sf.dns_name);
	for (int i = 0; i < sf.naddrs; i++)
		fact(f, "Address", "%s (%s)", sf.addrs[i].addr, sf.addrs[i].ifname);
	fact(f, "OS", "%s%s%s, %d-bit", sf.os_name, sf.os_version[0] ? " " : "", sf.os_version, sf.os_bits);
	fact(f, "Kernel", "%s (%s)", sf.kernel, sf.machine);
	fact(f, "CPU", "%s x %d", sf.cpu_model, sf.cpu_count);
	fact(f, "Memory", "%s, %s free", units_bytes(sf.mem_total, b1, sizeof b1), units_bytes(sf.mem_free, b2, sizeof b2));
	fact(f, "Disk", "%s, %s free (%s)", units_bytes(sf.disk_total, b1, sizeof b1), units_bytes(sf.disk_free, b2, sizeof b2),
	     sf.disk_path);
	fact(f, "Time zone", "%s (%s, UTC%s)", sf.timezone[0] ? sf.timezone : "unknown", sf.tz_abbrev, sf.utc_offset);
	fprintf(f, "#Agent\n");
	fact(f, "Version", "%s (%s), %d-bit", sf.version, sf.revision, sf.agent_bits);
	fact(f, "Database", "%s", store_path(s));
	fact(f, "Database size", "%s", units_bytes(sf.db_bytes, b1, sizeof b1));
	fact(f, "Uplink", "%s", cfg->server.url[0] ? cfg->server.url : "not configured");
	fact(f, "Collected", "%s", clock_format_local(sf.collected_at, b1, sizeof b1));
	if (fclose(f) != 0) {
		free(buf);
		return fc_error_set(err, "out of memory");
	}
	agent_job_result(job, buf);
	free(buf);
	agent_job_summary(job, "site facts collected");
	return 0;
}

struct agent *actions_agent_new(const char *db_path, struct actions_config *ac, struct fc_error *err)
{
	if (snmp_engine_global_init(err) < 0 || transport_global_init(err) < 0)
		return NULL;
	struct agent_options o = { .db_path = db_path };
	struct agent *a = agent_new(&o, err);
	if (!a)
		return NULL;
	int collector = agent_worker_add(a, "collector", 2, err);
	int uplink = collector < 0 ? -1 : agent_worker_add(a, "uplink", 1, err);
	int store = uplink < 0 ? -1 : agent_worker_add(a, "store", 1, err);
	static const struct {
		int kind;
		int which; /* 0 collector, 1 uplink, 2 store */
		action_fn fn;
	} table[] = {
		{ AGENT_CMD_POLL, 0, handle_poll },
		{ AGENT_CMD_DISCOVER, 0, handle_discover },
		{ AGENT_CMD_UPLOAD, 1, handle_upload },
		{ AGENT_CMD_PREVIEW, 1, handle_preview },
		{ AGENT_CMD_EXPORT, 2, handle_export },
		{ AGENT_CMD_INCLUDE, 2, handle_include },
		{ AGENT_CMD_RANGE_ADD, 2, handle_range },
		{ AGENT_CMD_RANGE_EDIT, 2, handle_range },
		{ AGENT_CMD_RANGE_REMOVE, 2, handle_range },
		{ AGENT_CMD_SITEFACTS, 2, handle_sitefacts },
	};
	int workers[3] = { collector, uplink, store };
	bool ok = store >= 0 && agent_worker_set_local_free(a, collector, collector_state_free, err) == 0;
	for (size_t i = 0; ok && i < sizeof table / sizeof table[0]; i++) {
		struct binding *b = &ac->bindings[table[i].kind];
		*b = (struct binding){ ac, table[i].fn };
		ok = agent_register(a, table[i].kind, workers[table[i].which], run_bound, b, err) == 0;
	}
	if (!ok || agent_start(a, err) < 0) {
		agent_free(&a);
		return NULL;
	}
	return a;
}
