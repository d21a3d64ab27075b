/* Tests of the agent runtime (model/agent.h): commands routed to the workers that registered them,
 * events back in order with their payloads, a store connection per thread, cancelling queued and
 * running jobs, and a stop that is clean, bounded and says when a thread would not end.
 * fleetcon-test: threaded (also run under ThreadSanitizer). */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <setjmp.h>
#include <cmocka.h>

#include "model/agent.h"
#include "model/store.h"
#include "tests/unit/lib/tmpdir.h"

#define STUCK_MS 10000

static int64_t now_ms(void)
{
	struct timespec ts;
	assert_int_equal(clock_gettime(CLOCK_MONOTONIC, &ts), 0);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void nap(void)
{
	struct timespec tick = { .tv_nsec = 1000000 };
	nanosleep(&tick, NULL);
}

/* Pops the next event the way the console does: poll() on the wake-up descriptor, then pop. */
static struct fc_msg *next_event(struct agent *a)
{
	struct fc_queue *q = agent_events(a);
	int64_t give_up = now_ms() + STUCK_MS;
	for (;;) {
		struct fc_msg *m = NULL;
		int rc = fc_queue_pop(q, &m, 0);
		if (rc == 0)
			return m;
		assert_int_equal(rc, FC_QUEUE_EMPTY);
		struct pollfd pfd = { .fd = fc_queue_wakeup_fd(q), .events = POLLIN };
		int left = (int)(give_up - now_ms());
		assert_true(left > 0);
		int n = poll(&pfd, 1, left);
		assert_true(n >= 0 || errno == EINTR);
	}
}

/* Skips events until one of kind for job arrives; returns it (caller frees). */
static struct fc_msg *await_event(struct agent *a, int kind, int64_t job)
{
	for (;;) {
		struct fc_msg *m = next_event(a);
		if (m->kind == kind && (job == 0 || m->id == job))
			return m;
		fc_msg_free(&m);
	}
}

static struct agent *agent_make(const char *db)
{
	struct fc_error err = { "" };
	struct agent_options o = { .db_path = db };
	struct agent *a = agent_new(&o, &err);
	assert_non_null(a);
	return a;
}

/* ---- handlers ---- */

/* Echo: reports two progress steps, a log line and a result, then sums the fields. */
static int echo_handler(struct agent_job *job, const struct fc_msg *cmd, void *arg, struct fc_error *err)
{
	(void)arg;
	(void)err;
	agent_job_progress(job, 1, 2, "half of %s", cmd->text ? cmd->text : "");
	agent_job_progress(job, 2, 2, "all of %s", cmd->text ? cmd->text : "");
	agent_log(agent_job_agent(job), AGENT_INFO, "echo %lld", (long long)cmd->id);
	agent_job_result(job, cmd->text);
	agent_emit(agent_job_agent(job), AGENT_EV_DEVICE_CHANGED, cmd->id, 0, 0, NULL);
	agent_job_summary(job, "sum %lld", (long long)(cmd->id + cmd->a + cmd->b));
	return 0;
}

static int failing_handler(struct agent_job *job, const struct fc_msg *cmd, void *arg, struct fc_error *err)
{
	(void)job;
	(void)cmd;
	(void)arg;
	return fc_error_set(err, "the printer said no; check its address");
}

/* Blocks until its job is cancelled (or a gate opens), counting the threads inside. */
struct gate {
	pthread_mutex_t lock;
	int inside;
	bool open;
	bool ignore_cancel;
	struct store *stores[4];
	int nstores;
};

static int gate_handler(struct agent_job *job, const struct fc_msg *cmd, void *arg, struct fc_error *err)
{
	(void)cmd;
	struct gate *g = arg;
	pthread_mutex_lock(&g->lock);
	g->inside++;
	if (g->nstores < 4)
		g->stores[g->nstores++] = agent_job_store(job);
	pthread_mutex_unlock(&g->lock);
	for (;;) {
		pthread_mutex_lock(&g->lock);
		bool open = g->open, ignore = g->ignore_cancel;
		pthread_mutex_unlock(&g->lock);
		if (open)
			break;
		if (!ignore && agent_job_cancelled(job)) {
			/* the int form sees the same flag */
			assert_true(atomic_load(agent_job_cancel_atomic(job)));
			assert_true(atomic_load(agent_job_cancel_atomic(job)));
			return fc_error_set(err, "stopped half-way");
		}
		nap();
	}
	return 0;
}

static int gate_inside(struct gate *g)
{
	pthread_mutex_lock(&g->lock);
	int n = g->inside;
	pthread_mutex_unlock(&g->lock);
	return n;
}

static void gate_await(struct gate *g, int n)
{
	int64_t give_up = now_ms() + STUCK_MS;
	while (gate_inside(g) < n) {
		assert_true(now_ms() < give_up);
		nap();
	}
}

/* ---- tests ---- */

static void test_events_in_order(void **state)
{
	(void)state;
	struct fc_error err = { "" };
	struct agent *a = agent_make(NULL);
	int w = agent_worker_add(a, "collector", 1, &err);
	assert_true(w >= 0);
	assert_int_equal(agent_register(a, AGENT_CMD_POLL, w, echo_handler, NULL, &err), 0);
	assert_int_equal(agent_register(a, AGENT_CMD_EXPORT, w, failing_handler, NULL, &err), 0);
	/* not before start */
	int64_t job = 0;
	assert_int_equal(agent_submit(a, AGENT_CMD_POLL, 1, 0, 0, NULL, &job, &err), -1);
	assert_int_equal(agent_start(a, &err), 0);

	assert_int_equal(agent_submit(a, AGENT_CMD_POLL, 7, 10, 100, "printer 7", &job, &err), 0);
	assert_true(job > 0);
	struct fc_msg *m = next_event(a);
	assert_int_equal(m->kind, AGENT_EV_JOB_STARTED);
	assert_int_equal(m->id, job);
	assert_int_equal(m->b, AGENT_CMD_POLL);
	fc_msg_free(&m);
	/* progress may be coalesced: the latest always arrives */
	m = next_event(a);
	assert_int_equal(m->kind, AGENT_EV_PROGRESS);
	if (m->a == 1) {
		assert_string_equal(m->text, "half of printer 7");
		fc_msg_free(&m);
		m = next_event(a);
	}
	assert_int_equal(m->kind, AGENT_EV_PROGRESS);
	assert_int_equal(m->a, 2);
	assert_int_equal(m->b, 2);
	assert_string_equal(m->text, "all of printer 7");
	fc_msg_free(&m);
	m = next_event(a);
	assert_int_equal(m->kind, AGENT_EV_LOG);
	assert_int_equal(m->a, AGENT_INFO);
	assert_string_equal(m->text, "echo 7");
	fc_msg_free(&m);
	m = next_event(a);
	assert_int_equal(m->kind, AGENT_EV_RESULT);
	assert_string_equal(m->text, "printer 7");
	fc_msg_free(&m);
	m = next_event(a);
	assert_int_equal(m->kind, AGENT_EV_DEVICE_CHANGED);
	assert_int_equal(m->id, 7);
	fc_msg_free(&m);
	m = next_event(a);
	assert_int_equal(m->kind, AGENT_EV_JOB_DONE);
	assert_int_equal(m->a, AGENT_JOB_OK);
	assert_string_equal(m->text, "sum 117");
	fc_msg_free(&m);

	/* a failure carries the handler's message */
	assert_int_equal(agent_submit(a, AGENT_CMD_EXPORT, 0, 0, 0, "/nowhere", &job, &err), 0);
	m = await_event(a, AGENT_EV_JOB_DONE, job);
	assert_int_equal(m->a, AGENT_JOB_FAILED);
	assert_int_equal(m->b, AGENT_CMD_EXPORT);
	assert_string_equal(m->text, "the printer said no; check its address");
	fc_msg_free(&m);

	/* unknown and unregistered kinds are refused at once */
	assert_int_equal(agent_submit(a, AGENT_CMD_UPLOAD, 0, 0, 0, NULL, &job, &err), -1);
	assert_non_null(strstr(err.msg, "upload"));
	assert_int_equal(agent_submit(a, 999, 0, 0, 0, NULL, &job, &err), -1);
	assert_int_equal(agent_busy(a), 0);

	assert_int_equal(agent_stop(a, 5000, &err), 0);
	assert_int_equal(agent_stop(a, 5000, &err), 0);
	assert_int_equal(agent_submit(a, AGENT_CMD_POLL, 1, 0, 0, NULL, &job, &err), -1);
	agent_free(&a);
	assert_null(a);
}

/* Many commands from several submitting threads over two workers: every job ends exactly once. */
struct submitter {
	struct agent *a;
	int count;
	int kind;
};

static void *submit_many(void *arg)
{
	struct submitter *s = arg;
	for (int i = 0; i < s->count; i++) {
		struct fc_error err = { "" };
		int64_t job;
		while (agent_submit(s->a, s->kind, i, 0, 0, "x", &job, &err) != 0)
			nap(); /* queue full: the workers catch up */
	}
	return NULL;
}

static void test_many_commands(void **state)
{
	(void)state;
	struct fc_error err = { "" };
	struct agent_options o = { .command_capacity = 8, .event_capacity = 16 };
	struct agent *a = agent_new(&o, &err);
	assert_non_null(a);
	int w1 = agent_worker_add(a, "collector", 2, &err);
	int w2 = agent_worker_add(a, "uplink", 1, &err);
	assert_true(w1 >= 0 && w2 >= 0);
	assert_int_equal(agent_register(a, AGENT_CMD_POLL, w1, echo_handler, NULL, &err), 0);
	assert_int_equal(agent_register(a, AGENT_CMD_UPLOAD, w2, echo_handler, NULL, &err), 0);
	assert_int_equal(agent_start(a, &err), 0);

	enum { PER = 150 };
	struct submitter s1 = { a, PER, AGENT_CMD_POLL }, s2 = { a, PER, AGENT_CMD_UPLOAD };
	pthread_t t1, t2;
	assert_int_equal(pthread_create(&t1, NULL, submit_many, &s1), 0);
	assert_int_equal(pthread_create(&t2, NULL, submit_many, &s2), 0);
	int done_poll = 0, done_upload = 0, changed = 0;
	/* the small event queue fills up: workers block until this thread reads */
	while (done_poll + done_upload < 2 * PER) {
		struct fc_msg *m = next_event(a);
		if (m->kind == AGENT_EV_JOB_DONE) {
			assert_int_equal(m->a, AGENT_JOB_OK);
			if (m->b == AGENT_CMD_POLL)
				done_poll++;
			else
				done_upload++;
		} else if (m->kind == AGENT_EV_DEVICE_CHANGED) {
			changed++;
		}
		fc_msg_free(&m);
	}
	assert_int_equal(pthread_join(t1, NULL), 0);
	assert_int_equal(pthread_join(t2, NULL), 0);
	assert_int_equal(done_poll, PER);
	assert_int_equal(done_upload, PER);
	assert_int_equal(changed, 2 * PER);
	assert_int_equal(agent_busy(a), 0);
	assert_int_equal(agent_stop(a, 5000, &err), 0);
	agent_free(&a);
}

static void test_cancel(void **state)
{
	(void)state;
	struct fc_error err = { "" };
	struct agent *a = agent_make(NULL);
	struct gate g = { .lock = PTHREAD_MUTEX_INITIALIZER };
	int w = agent_worker_add(a, "collector", 1, &err);
	assert_int_equal(agent_register(a, AGENT_CMD_DISCOVER, w, gate_handler, &g, &err), 0);
	assert_int_equal(agent_start(a, &err), 0);

	int64_t running, queued, none;
	assert_int_equal(agent_submit(a, AGENT_CMD_DISCOVER, 0, 0, 0, NULL, &running, &err), 0);
	gate_await(&g, 1);
	assert_int_equal(agent_submit(a, AGENT_CMD_DISCOVER, 0, 0, 0, NULL, &queued, &err), 0);
	assert_int_equal(agent_busy(a), 2);
	/* the queued one first: it must never start */
	assert_int_equal(agent_cancel(a, queued), 1);
	/* a cancel command works the same way and is not a job */
	assert_int_equal(agent_submit(a, AGENT_CMD_CANCEL, running, 0, 0, NULL, &none, &err), 0);
	assert_int_equal(none, 0);

	struct fc_msg *m = await_event(a, AGENT_EV_JOB_DONE, running);
	assert_int_equal(m->a, AGENT_JOB_CANCELLED);
	assert_non_null(strstr(m->text, "stopped half-way"));
	fc_msg_free(&m);
	m = next_event(a);
	assert_int_equal(m->kind, AGENT_EV_JOB_DONE);
	assert_int_equal(m->id, queued);
	assert_int_equal(m->a, AGENT_JOB_CANCELLED);
	fc_msg_free(&m);
	assert_int_equal(gate_inside(&g), 1);
	assert_int_equal(agent_cancel(a, queued), 0);
	assert_int_equal(agent_busy(a), 0);
	assert_int_equal(agent_stop(a, 5000, &err), 0);
	agent_free(&a);
}

/* Stop cancels what runs and drops what waits; a handler that ignores the flag makes stop say so
 * within its bound, and a later stop finishes the job. */
static void test_stop_bounded(void **state)
{
	(void)state;
	struct fc_error err = { "" };
	struct agent *a = agent_make(NULL);
	struct gate g = { .lock = PTHREAD_MUTEX_INITIALIZER, .ignore_cancel = true };
	int w = agent_worker_add(a, "uplink", 1, &err);
	assert_int_equal(agent_register(a, AGENT_CMD_UPLOAD, w, gate_handler, &g, &err), 0);
	assert_int_equal(agent_start(a, &err), 0);
	int64_t job;
	assert_int_equal(agent_submit(a, AGENT_CMD_UPLOAD, 0, 0, 0, NULL, &job, &err), 0);
	gate_await(&g, 1);
	for (int i = 0; i < 5; i++)
		assert_int_equal(agent_submit(a, AGENT_CMD_UPLOAD, 0, 0, 0, NULL, &job, &err), 0);

	int64_t t0 = now_ms();
	assert_int_equal(agent_stop(a, 200, &err), -1);
	int64_t took = now_ms() - t0;
	assert_true(took >= 150 && took < 5000);
	assert_non_null(strstr(err.msg, "uplink"));

	pthread_mutex_lock(&g.lock);
	g.open = true;
	pthread_mutex_unlock(&g.lock);
	assert_int_equal(agent_stop(a, 5000, &err), 0);
	/* the five queued uploads never ran */
	assert_int_equal(gate_inside(&g), 1);
	agent_free(&a);
}

/* Each thread has a store connection of its own. */
static void test_store_per_thread(void **state)
{
	(void)state;
	char *dir = test_tmpdir_new();
	char db[512];
	snprintf(db, sizeof db, "%s/agent.db", dir);
	struct fc_error err = { "" };
	struct store *s = NULL;
	assert_int_equal(store_open(db, 0, &s, &err), 0); /* creates and checks it once */
	store_close(&s);

	struct agent *a = agent_make(db);
	struct gate g = { .lock = PTHREAD_MUTEX_INITIALIZER };
	int w = agent_worker_add(a, "collector", 2, &err);
	assert_int_equal(agent_register(a, AGENT_CMD_POLL, w, gate_handler, &g, &err), 0);
	assert_int_equal(agent_start(a, &err), 0);
	int64_t j1, j2;
	assert_int_equal(agent_submit(a, AGENT_CMD_POLL, 1, 0, 0, NULL, &j1, &err), 0);
	assert_int_equal(agent_submit(a, AGENT_CMD_POLL, 2, 0, 0, NULL, &j2, &err), 0);
	gate_await(&g, 2); /* both threads inside at once */
	pthread_mutex_lock(&g.lock);
	assert_non_null(g.stores[0]);
	assert_non_null(g.stores[1]);
	assert_ptr_not_equal(g.stores[0], g.stores[1]);
	assert_string_equal(store_path(g.stores[0]), db);
	g.open = true;
	pthread_mutex_unlock(&g.lock);
	struct fc_msg *m = await_event(a, AGENT_EV_JOB_DONE, 0);
	fc_msg_free(&m);
	m = await_event(a, AGENT_EV_JOB_DONE, 0);
	fc_msg_free(&m);
	assert_int_equal(agent_stop(a, 5000, &err), 0);
	agent_free(&a);

	/* a database that cannot be opened: start fails with its message and leaves nothing running */
	snprintf(db, sizeof db, "%s/broken.db", dir);
	FILE *f = fopen(db, "w");
	assert_non_null(f);
	fputs("not a database, just text that is long enough to be looked at", f);
	fclose(f);
	a = agent_make(db);
	w = agent_worker_add(a, "collector", 2, &err);
	assert_int_equal(agent_register(a, AGENT_CMD_POLL, w, gate_handler, &g, &err), 0);
	assert_int_equal(agent_start(a, &err), -1);
	assert_non_null(strstr(err.msg, "collector"));
	agent_free(&a);
	test_tmpdir_remove(&dir);
}

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(agent_cmd_name(AGENT_CMD_DISCOVER), "discover");
	assert_string_equal(agent_cmd_name(0), "?");
	assert_string_equal(agent_cmd_name(AGENT_CMD_COUNT), "?");
	for (int k = 1; k < AGENT_CMD_COUNT; k++)
		assert_string_not_equal(agent_cmd_name(k), "?");
	assert_string_equal(agent_level_name(AGENT_WARN), "warn");
	struct fc_error err = { "" };
	struct agent *a = agent_make(NULL);
	assert_int_equal(agent_worker_add(a, "x", 0, &err), -1);
	assert_int_equal(agent_register(a, AGENT_CMD_POLL, 0, echo_handler, NULL, &err), -1);
	int w = agent_worker_add(a, "x", 1, &err);
	assert_int_equal(agent_register(a, AGENT_CMD_CANCEL, w, echo_handler, NULL, &err), -1);
	agent_free(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_events_in_order),
		cmocka_unit_test(test_many_commands),
		cmocka_unit_test(test_cancel),
		cmocka_unit_test(test_stop_bounded),
		cmocka_unit_test(test_store_per_thread),
		cmocka_unit_test(test_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
