/* The agent runtime (see agent.h): named workers, each a command queue served by one or more
 * threads with their own store connection; one event queue back to the console; jobs that can be
 * cancelled while queued or running; a bounded stop. */
#include "model/agent.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "model/store.h"

#define MAX_WORKERS 8
#define MAX_THREADS 16

/* A command on its way: queued, then running. Lives in the command message's data. */
struct job_entry {
	struct agent *agent;
	int64_t id;
	int kind;
	atomic_bool cancel_atomic;        /* set by anyone, read by the worker and the libraries */
	struct job_entry *prev, *next;    /* the live list, under agent->lock */
};

struct thread_slot {
	struct agent *agent;
	int worker;
	pthread_t thread;
	bool created;
	bool joined;
	struct store *store;
	void *local;                      /* agent_job_local(): kept across commands */
};

struct worker {
	char name[32];
	int nthreads;
	void (*local_free)(void *value);
	struct fc_queue *commands;
	struct thread_slot slots[MAX_THREADS];
};

struct handler {
	agent_handler_fn fn;
	void *arg;
	int worker;
};

struct agent {
	char *db_path;
	size_t command_capacity;
	struct fc_queue *events;
	struct worker workers[MAX_WORKERS];
	int nworkers;
	struct handler handlers[AGENT_CMD_COUNT];

	pthread_mutex_t lock;
	pthread_cond_t changed;     /* a thread became ready or failed to */
	struct job_entry *live;     /* queued and running jobs */
	int64_t next_job;
	size_t busy;
	bool started;
	bool stopping;
	int threads_ready;
	int threads_failed;
	char start_error[sizeof ((struct fc_error *)0)->msg];
};

/* What a handler holds while it runs (struct agent_job is opaque in the header). */
struct agent_job {
	struct job_entry *entry;
	struct store *store;
	struct thread_slot *slot;
	char summary[512];
};

static void must(int rc)
{
	if (rc != 0)
		abort();
}

static const char *const level_names[] = { "error", "warn", "info", "debug" };

const char *agent_level_name(int level)
{
	if (level < 0 || level >= (int)(sizeof level_names / sizeof level_names[0]))
		return "info";
	return level_names[level];
}

static const char *const cmd_names[AGENT_CMD_COUNT] = {
	[AGENT_CMD_POLL] = "poll",
	[AGENT_CMD_DISCOVER] = "discover",
	[AGENT_CMD_UPLOAD] = "upload",
	[AGENT_CMD_PREVIEW] = "preview",
	[AGENT_CMD_EXPORT] = "export",
	[AGENT_CMD_INCLUDE] = "include",
	[AGENT_CMD_RANGE_ADD] = "range-add",
	[AGENT_CMD_RANGE_EDIT] = "range-edit",
	[AGENT_CMD_RANGE_REMOVE] = "range-remove",
	[AGENT_CMD_SITEFACTS] = "sitefacts",
	[AGENT_CMD_CANCEL] = "cancel",
};

const char *agent_cmd_name(int kind)
{
	if (kind <= 0 || kind >= AGENT_CMD_COUNT || !cmd_names[kind])
		return "?";
	return cmd_names[kind];
}

static const char *const event_names[] = {
	[AGENT_EV_JOB_STARTED - AGENT_EV_JOB_STARTED] = "job-started",
	[AGENT_EV_PROGRESS - AGENT_EV_JOB_STARTED] = "progress",
	[AGENT_EV_JOB_DONE - AGENT_EV_JOB_STARTED] = "job-done",
	[AGENT_EV_RESULT - AGENT_EV_JOB_STARTED] = "result",
	[AGENT_EV_DEVICE_CHANGED - AGENT_EV_JOB_STARTED] = "device-changed",
	[AGENT_EV_RANGES_CHANGED - AGENT_EV_JOB_STARTED] = "ranges-changed",
	[AGENT_EV_SYNC_FINISHED - AGENT_EV_JOB_STARTED] = "sync-finished",
	[AGENT_EV_LOG - AGENT_EV_JOB_STARTED] = "log",
	[AGENT_EV_FLASH - AGENT_EV_JOB_STARTED] = "flash",
};
#define N_EVENTS (sizeof event_names / sizeof event_names[0])

const char *agent_event_name(int kind)
{
	if (kind < AGENT_EV_JOB_STARTED || kind >= AGENT_EV_JOB_STARTED + (int)N_EVENTS)
		return "?";
	return event_names[kind - AGENT_EV_JOB_STARTED];
}

int agent_cmd_kind(const char *name)
{
	for (int k = 1; name && k < AGENT_CMD_COUNT; k++)
		if (cmd_names[k] && !strcmp(cmd_names[k], name))
			return k;
	return 0;
}

int agent_event_kind(const char *name)
{
	for (size_t i = 0; name && i < N_EVENTS; i++)
		if (!strcmp(event_names[i], name))
			return AGENT_EV_JOB_STARTED + (int)i;
	return 0;
}

struct agent *agent_new(const struct agent_options *o, struct fc_error *err)
{
	struct agent *a = calloc(1, sizeof *a);
	if (!a) {
		fc_error_set(err, "out of memory for the agent");
		return NULL;
	}
	a->command_capacity = o && o->command_capacity ? o->command_capacity : 256;
	if (o && o->db_path) {
		a->db_path = strdup(o->db_path);
		if (!a->db_path) {
			free(a);
			fc_error_set(err, "out of memory for the agent");
			return NULL;
		}
	}
	a->events = fc_queue_new(o && o->event_capacity ? o->event_capacity : 4096, err);
	if (!a->events) {
		free(a->db_path);
		free(a);
		return NULL;
	}
	must(pthread_mutex_init(&a->lock, NULL));
	must(pthread_cond_init(&a->changed, NULL));
	a->next_job = 1;
	for (int k = 0; k < AGENT_CMD_COUNT; k++)
		a->handlers[k].worker = -1;
	/* A server or SMTP peer that closes its end must give EPIPE, not kill the process. */
	signal(SIGPIPE, SIG_IGN);
	return a;
}

int agent_worker_add(struct agent *a, const char *name, int threads, struct fc_error *err)
{
	if (a->started)
		return fc_error_set(err, "workers are added before the agent starts");
	if (a->nworkers >= MAX_WORKERS)
		return fc_error_set(err, "too many workers (at most %d)", MAX_WORKERS);
	if (threads < 1 || threads > MAX_THREADS)
		return fc_error_set(err, "a worker has 1 to %d threads, not %d", MAX_THREADS, threads);
	struct worker *w = &a->workers[a->nworkers];
	w->commands = fc_queue_new(a->command_capacity, err);
	if (!w->commands)
		return -1;
	snprintf(w->name, sizeof w->name, "%s", name ? name : "worker");
	w->nthreads = threads;
	for (int i = 0; i < threads; i++) {
		w->slots[i].agent = a;
		w->slots[i].worker = a->nworkers;
	}
	return a->nworkers++;
}

int agent_worker_set_local_free(struct agent *a, int worker, void (*free_fn)(void *value),
				struct fc_error *err)
{
	if (a->started)
		return fc_error_set(err, "a worker's thread values are set up before the agent starts");
	if (worker < 0 || worker >= a->nworkers)
		return fc_error_set(err, "no worker %d", worker);
	a->workers[worker].local_free = free_fn;
	return 0;
}

int agent_register(struct agent *a, int kind, int worker, agent_handler_fn fn, void *arg,
		   struct fc_error *err)
{
	if (a->started)
		return fc_error_set(err, "handlers are registered before the agent starts");
	if (kind <= 0 || kind >= AGENT_CMD_COUNT || kind == AGENT_CMD_CANCEL)
		return fc_error_set(err, "no command kind %d to register", kind);
	if (worker < 0 || worker >= a->nworkers)
		return fc_error_set(err, "no worker %d", worker);
	if (!fn)
		return fc_error_set(err, "a handler for %s is missing", agent_cmd_name(kind));
	a->handlers[kind] = (struct handler){ .fn = fn, .arg = arg, .worker = worker };
	return 0;
}

/* ---- events ---- */

int agent_emitv(struct agent *a, int kind, int64_t id, int64_t x, int64_t y, const char *fmt,
		va_list ap)
{
	struct fc_msg *m = fc_msg_new(kind);
	if (!m)
		return -1;
	m->id = id;
	m->a = x;
	m->b = y;
	if (fmt && vasprintf(&m->text, fmt, ap) < 0) {
		m->text = NULL;
		fc_msg_free(&m);
		return -1;
	}
	int rc = kind == AGENT_EV_PROGRESS ? fc_queue_push_replace(a->events, m, FC_QUEUE_FOREVER)
					   : fc_queue_push(a->events, m, FC_QUEUE_FOREVER);
	if (rc != 0) {
		fc_msg_free(&m);
		return -1;
	}
	return 0;
}

int agent_emit(struct agent *a, int kind, int64_t id, int64_t x, int64_t y, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int rc = agent_emitv(a, kind, id, x, y, fmt, ap);
	va_end(ap);
	return rc;
}

int agent_log(struct agent *a, int level, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int rc = agent_emitv(a, AGENT_EV_LOG, 0, level, 0, fmt, ap);
	va_end(ap);
	return rc;
}

int agent_flash(struct agent *a, int level, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int rc = agent_emitv(a, AGENT_EV_FLASH, 0, level, 0, fmt, ap);
	va_end(ap);
	return rc;
}

/* ---- jobs ---- */

static void job_cancel(struct job_entry *j)
{
	atomic_store(&j->cancel_atomic, true);
}

/* free_data of a command message: the job leaves the live list. */
static void job_release(void *data)
{
	struct job_entry *j = data;
	struct agent *a = j->agent;
	must(pthread_mutex_lock(&a->lock));
	if (j->prev)
		j->prev->next = j->next;
	else
		a->live = j->next;
	if (j->next)
		j->next->prev = j->prev;
	a->busy--;
	must(pthread_mutex_unlock(&a->lock));
	free(j);
}

int agent_cancel(struct agent *a, int64_t job)
{
	int found = 0;
	must(pthread_mutex_lock(&a->lock));
	for (struct job_entry *j = a->live; j; j = j->next) {
		if (j->id == job) {
			job_cancel(j);
			found = 1;
			break;
		}
	}
	must(pthread_mutex_unlock(&a->lock));
	return found;
}

int agent_submit_msg(struct agent *a, struct fc_msg **cmdp, int64_t *job, struct fc_error *err)
{
	struct fc_msg *cmd = *cmdp;
	*cmdp = NULL;
	if (job)
		*job = 0;
	if (!cmd)
		return fc_error_set(err, "no command");
	int kind = cmd->kind;
	if (kind == AGENT_CMD_CANCEL) {
		agent_cancel(a, cmd->id);
		fc_msg_free(&cmd);
		return 0;
	}
	if (kind <= 0 || kind >= AGENT_CMD_COUNT || !a->handlers[kind].fn) {
		fc_msg_free(&cmd);
		return fc_error_set(err, "nothing in this agent runs the command \"%s\"", agent_cmd_name(kind));
	}
	struct job_entry *j = calloc(1, sizeof *j);
	if (!j) {
		fc_msg_free(&cmd);
		return fc_error_set(err, "out of memory for a command");
	}
	j->agent = a;
	j->kind = kind;
	atomic_init(&j->cancel_atomic, false);

	must(pthread_mutex_lock(&a->lock));
	bool stopping = a->stopping || !a->started;
	if (!stopping) {
		j->id = a->next_job++;
		j->next = a->live;
		if (a->live)
			a->live->prev = j;
		a->live = j;
		a->busy++;
	}
	must(pthread_mutex_unlock(&a->lock));
	if (stopping) {
		free(j);
		fc_msg_free(&cmd);
		return fc_error_set(err, "the agent is not running");
	}
	int64_t id = j->id;
	fc_msg_set_data(cmd, j, job_release);
	/* Commands come from a person or a socket: a full queue means the workers are far behind,
	 * and the caller should hear so at once rather than freeze the console. */
	int rc = fc_queue_push(a->workers[a->handlers[kind].worker].commands, cmd, 0);
	if (rc != 0) {
		fc_msg_free(&cmd); /* releases the job */
		return fc_error_set(err, rc == FC_QUEUE_FULL ? "too many commands waiting; try again when the %s worker has caught up"
							 : "the %s worker has stopped",
				    a->workers[a->handlers[kind].worker].name);
	}
	if (job)
		*job = id;
	return 0;
}

int agent_submit(struct agent *a, int kind, int64_t id, int64_t x, int64_t y, const char *text,
		 int64_t *job, struct fc_error *err)
{
	struct fc_msg *m = fc_msg_new(kind);
	if (!m)
		return fc_error_set(err, "out of memory for a command");
	m->id = id;
	m->a = x;
	m->b = y;
	if (text && !(m->text = strdup(text))) {
		fc_msg_free(&m);
		return fc_error_set(err, "out of memory for a command");
	}
	return agent_submit_msg(a, &m, job, err);
}

size_t agent_busy(struct agent *a)
{
	must(pthread_mutex_lock(&a->lock));
	size_t n = a->busy;
	must(pthread_mutex_unlock(&a->lock));
	return n;
}

struct fc_queue *agent_events(struct agent *a)
{
	return a->events;
}

/* ---- for handlers ---- */

int64_t agent_job_id(const struct agent_job *job)
{
	return job->entry->id;
}

struct agent *agent_job_agent(struct agent_job *job)
{
	return job->entry->agent;
}

const char *agent_db_path(const struct agent *a)
{
	return a->db_path;
}

struct store *agent_job_store(struct agent_job *job)
{
	return job->store;
}

void *agent_job_local(struct agent_job *job)
{
	return job->slot->local;
}

void agent_job_set_local(struct agent_job *job, void *value)
{
	job->slot->local = value;
}

bool agent_job_cancelled(const struct agent_job *job)
{
	return atomic_load(&job->entry->cancel_atomic);
}

const atomic_bool *agent_job_cancel_atomic(struct agent_job *job)
{
	return &job->entry->cancel_atomic;
}

int agent_job_progress(struct agent_job *job, int64_t done, int64_t total, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int rc = agent_emitv(job->entry->agent, AGENT_EV_PROGRESS, job->entry->id, done, total, fmt, ap);
	va_end(ap);
	return rc;
}

int agent_job_result(struct agent_job *job, const char *text)
{
	struct fc_msg *m = fc_msg_new(AGENT_EV_RESULT);
	if (!m)
		return -1;
	m->id = job->entry->id;
	m->b = job->entry->kind;
	if (!(m->text = strdup(text ? text : ""))) {
		fc_msg_free(&m);
		return -1;
	}
	if (fc_queue_push(job->entry->agent->events, m, FC_QUEUE_FOREVER) != 0) {
		fc_msg_free(&m);
		return -1;
	}
	return 0;
}

void agent_job_summary(struct agent_job *job, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(job->summary, sizeof job->summary, fmt, ap);
	va_end(ap);
}

/* ---- threads ---- */

/* Runs one command and returns its AGENT_EV_JOB_DONE event (NULL when out of memory), which the
 * caller sends after the command is freed: whoever sees the event then sees the job gone too. */
static struct fc_msg *run_command(struct agent *a, struct thread_slot *slot, struct fc_msg *cmd)
{
	struct job_entry *j = cmd->data;
	struct agent_job job = { .entry = j, .store = slot->store, .slot = slot };
	struct fc_msg *done = fc_msg_new(AGENT_EV_JOB_DONE);
	if (!done)
		return NULL;
	done->id = j->id;
	done->b = j->kind;
	bool stopping;
	must(pthread_mutex_lock(&a->lock));
	stopping = a->stopping;
	must(pthread_mutex_unlock(&a->lock));
	int rc;
	if (stopping || agent_job_cancelled(&job)) {
		done->a = AGENT_JOB_CANCELLED;
		rc = fc_msg_set_text(done, "%s cancelled", agent_cmd_name(j->kind));
	} else {
		agent_emit(a, AGENT_EV_JOB_STARTED, j->id, 0, j->kind, NULL);
		struct fc_error err = { "" };
		const struct handler *h = &a->handlers[j->kind];
		if (h->fn(&job, cmd, h->arg, &err) == 0) {
			done->a = AGENT_JOB_OK;
			rc = fc_msg_set_text(done, "%s", job.summary[0] ? job.summary : "done");
		} else if (agent_job_cancelled(&job)) {
			done->a = AGENT_JOB_CANCELLED;
			rc = fc_msg_set_text(done, "%s cancelled%s%s", agent_cmd_name(j->kind),
					     err.msg[0] ? ": " : "", err.msg);
		} else {
			done->a = AGENT_JOB_FAILED;
			rc = fc_msg_set_text(done, "%s", err.msg[0] ? err.msg : "failed (no reason given)");
		}
	}
	if (rc < 0)
		fc_msg_free(&done);
	return done;
}

static void *thread_main(void *arg)
{
	struct thread_slot *slot = arg;
	struct agent *a = slot->agent;
	struct worker *w = &a->workers[slot->worker];
	struct fc_error err = { "" };
	int rc = 0;
	if (a->db_path) {
		rc = store_open(a->db_path, STORE_NO_CHECK, &slot->store, &err);
		if (rc < 0)
			fc_error_prefix(&err, "the %s worker", w->name);
	}
	must(pthread_mutex_lock(&a->lock));
	if (rc < 0) {
		if (!a->threads_failed)
			snprintf(a->start_error, sizeof a->start_error, "%s", err.msg);
		a->threads_failed++;
	} else {
		a->threads_ready++;
	}
	must(pthread_cond_broadcast(&a->changed));
	must(pthread_mutex_unlock(&a->lock));
	if (rc < 0)
		return NULL;

	for (;;) {
		struct fc_msg *cmd = NULL;
		if (fc_queue_pop(w->commands, &cmd, FC_QUEUE_FOREVER) != 0)
			break;
		struct fc_msg *done = run_command(a, slot, cmd);
		fc_msg_free(&cmd);
		if (done && fc_queue_push(a->events, done, FC_QUEUE_FOREVER) != 0)
			fc_msg_free(&done);
	}
	if (slot->local && w->local_free)
		w->local_free(slot->local);
	slot->local = NULL;
	store_close(&slot->store);
	return NULL;
}

int agent_start(struct agent *a, struct fc_error *err)
{
	if (a->started)
		return fc_error_set(err, "the agent has started already");
	/* Threads inherit the mask: block the console's signals around pthread_create so that no
	 * worker ever takes SIGWINCH or SIGINT in the main thread's place. */
	sigset_t block, old;
	sigemptyset(&block);
	const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGWINCH, SIGTSTP, SIGCONT };
	for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
		sigaddset(&block, sigs[i]);
	must(pthread_sigmask(SIG_BLOCK, &block, &old));

	a->started = true;
	int created = 0, rc = 0;
	for (int wi = 0; wi < a->nworkers && rc == 0; wi++) {
		struct worker *w = &a->workers[wi];
		for (int i = 0; i < w->nthreads; i++) {
			rc = pthread_create(&w->slots[i].thread, NULL, thread_main, &w->slots[i]);
			if (rc != 0) {
				fc_error_set(err, "cannot start a %s thread: %s", w->name, strerror(rc));
				rc = -1;
				break;
			}
			w->slots[i].created = true;
			created++;
		}
	}
	must(pthread_sigmask(SIG_SETMASK, &old, NULL));

	must(pthread_mutex_lock(&a->lock));
	while (a->threads_ready + a->threads_failed < created)
		must(pthread_cond_wait(&a->changed, &a->lock));
	if (rc == 0 && a->threads_failed) {
		fc_error_set(err, "%s", a->start_error);
		rc = -1;
	}
	must(pthread_mutex_unlock(&a->lock));
	if (rc != 0) {
		/* The threads that did start are idle on their queues: they end at once. */
		agent_stop(a, 10000, NULL);
		return -1;
	}
	return 0;
}

int agent_stop(struct agent *a, int64_t timeout_ms, struct fc_error *err)
{
	must(pthread_mutex_lock(&a->lock));
	a->stopping = true;
	for (struct job_entry *j = a->live; j; j = j->next)
		job_cancel(j);
	must(pthread_mutex_unlock(&a->lock));
	for (int wi = 0; wi < a->nworkers; wi++)
		fc_queue_close(a->workers[wi].commands);
	fc_queue_close(a->events);

	struct timespec deadline;
	must(clock_gettime(CLOCK_REALTIME, &deadline));
	deadline.tv_sec += (time_t)(timeout_ms / 1000);
	deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (deadline.tv_nsec >= 1000000000L) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000L;
	}
	int stuck = 0;
	const char *stuck_name = "";
	for (int wi = 0; wi < a->nworkers; wi++) {
		struct worker *w = &a->workers[wi];
		for (int i = 0; i < w->nthreads; i++) {
			struct thread_slot *s = &w->slots[i];
			if (!s->created || s->joined)
				continue;
			int rc = pthread_timedjoin_np(s->thread, NULL, &deadline);
			if (rc == 0) {
				s->joined = true;
			} else {
				stuck++;
				stuck_name = w->name;
			}
		}
	}
	if (stuck)
		return fc_error_set(err, "%d worker thread%s (%s) did not stop within %lld ms", stuck,
				    stuck == 1 ? "" : "s", stuck_name, (long long)timeout_ms);
	return 0;
}

void agent_free(struct agent **ap)
{
	if (!ap || !*ap)
		return;
	struct agent *a = *ap;
	/* Queued commands release their jobs, which touches a->lock: free them first. */
	for (int wi = 0; wi < a->nworkers; wi++)
		fc_queue_free(&a->workers[wi].commands);
	fc_queue_free(&a->events);
	must(pthread_cond_destroy(&a->changed));
	must(pthread_mutex_destroy(&a->lock));
	free(a->db_path);
	free(a);
	*ap = NULL;
}
