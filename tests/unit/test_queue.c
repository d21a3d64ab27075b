/* Tests of the message queues (model/queue.h): order, ownership, timeouts, close, the wake-up
 * descriptor's contract seen through poll(), coalescing, and several producers and consumers at
 * once. fleetcon-test: threaded (also run under ThreadSanitizer). */
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

#include "model/queue.h"

/* The users of a queue define the kinds; these are the tests' own. */
enum { KIND_ITEM = 1, KIND_PROGRESS, KIND_OTHER };

/* A thread blocked where it should not be shows up as a failure after this long, not a hang. */
#define STUCK_MS 10000

static int64_t now_ns(void)
{
	struct timespec ts;
	assert_int_equal(clock_gettime(CLOCK_MONOTONIC, &ts), 0);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Whether poll() says the queue's wake-up descriptor is readable right now. */
static bool wakeup_readable(struct fc_queue *q)
{
	struct pollfd pfd = { .fd = fc_queue_wakeup_fd(q), .events = POLLIN };
	int n;
	do
		n = poll(&pfd, 1, 0);
	while (n < 0 && errno == EINTR);
	assert_true(n >= 0);
	return n == 1 && (pfd.revents & POLLIN);
}

/* Waits until n threads are blocked in the queue (a thread must be waiting before we act). */
static void await_waiters(struct fc_queue *q, size_t n)
{
	int64_t give_up = now_ns() + (int64_t)STUCK_MS * 1000000;
	while (fc_queue_waiters(q) < n) {
		assert_true(now_ns() < give_up);
		struct timespec tick = { .tv_nsec = 1000000 };
		nanosleep(&tick, NULL);
	}
}

static struct fc_queue *queue_new(size_t capacity)
{
	struct fc_error err = { "" };
	struct fc_queue *q = fc_queue_new(capacity, &err);
	assert_non_null(q);
	assert_string_equal(err.msg, "");
	return q;
}

static struct fc_msg *msg_new(int kind, int64_t id, int64_t a)
{
	struct fc_msg *m = fc_msg_new(kind);
	assert_non_null(m);
	m->id = id;
	m->a = a;
	return m;
}

/* Data whose release is counted, to see who frees what and how often. */
static int data_released;

static void count_release(void *data)
{
	free(data);
	data_released++;
}

static void *counted_data(void)
{
	void *data = malloc(32);
	assert_non_null(data);
	return data;
}

static void test_msg_owns_payload(void **state)
{
	(void)state;
	data_released = 0;
	struct fc_msg *m = fc_msg_new(KIND_OTHER);
	assert_non_null(m);
	assert_int_equal(m->kind, KIND_OTHER);
	assert_int_equal(m->id, 0);
	assert_null(m->text);
	assert_null(m->data);

	assert_int_equal(fc_msg_set_text(m, "polled %d of %d", 3, 10), 0);
	assert_string_equal(m->text, "polled 3 of 10");
	assert_int_equal(fc_msg_set_text(m, "%s", "again"), 0);
	assert_string_equal(m->text, "again");

	fc_msg_set_data(m, counted_data(), count_release);
	fc_msg_set_data(m, counted_data(), count_release);
	assert_int_equal(data_released, 1); /* the first data went when the second came */

	/* Taking the text out: the message no longer frees it. */
	char *taken = m->text;
	m->text = NULL;

	fc_msg_free(&m);
	assert_null(m);
	assert_int_equal(data_released, 2);
	fc_msg_free(&m); /* NULL is harmless */
	assert_string_equal(taken, "again");
	free(taken);
}

static void test_bad_arguments(void **state)
{
	(void)state;
	struct fc_error err = { "" };
	assert_null(fc_queue_new(0, &err));
	assert_non_null(strstr(err.msg, "capacity"));

	struct fc_queue *q = queue_new(2);
	struct fc_msg *m = msg_new(KIND_ITEM, 1, 0);
	struct fc_msg *out = m;
	assert_int_equal(fc_queue_push(NULL, m, 0), FC_QUEUE_INVALID);
	assert_int_equal(fc_queue_push(q, NULL, 0), FC_QUEUE_INVALID);
	assert_int_equal(fc_queue_push_replace(q, NULL, 0), FC_QUEUE_INVALID);
	assert_int_equal(fc_queue_pop(q, NULL, 0), FC_QUEUE_INVALID);
	assert_int_equal(fc_queue_pop(NULL, &out, 0), FC_QUEUE_INVALID);
	assert_null(out);
	assert_int_equal(fc_queue_length(q), 0);
	fc_msg_free(&m);
	fc_queue_free(&q);
	assert_null(q);
	fc_queue_free(&q);
}

static void test_fifo_order(void **state)
{
	(void)state;
	struct fc_queue *q = queue_new(8);
	/* Twice round the ring, so that head wraps. */
	for (int round = 0; round < 3; round++) {
		for (int i = 0; i < 6; i++) {
			struct fc_msg *m = msg_new(KIND_ITEM, i, round);
			assert_int_equal(fc_msg_set_text(m, "item %d.%d", round, i), 0);
			assert_int_equal(fc_queue_push(q, m, 0), 0);
		}
		assert_int_equal(fc_queue_length(q), 6);
		for (int i = 0; i < 6; i++) {
			struct fc_msg *m = NULL;
			assert_int_equal(fc_queue_pop(q, &m, 0), 0);
			assert_non_null(m);
			assert_int_equal(m->id, i);
			assert_int_equal(m->a, round);
			char want[32];
			snprintf(want, sizeof want, "item %d.%d", round, i);
			assert_string_equal(m->text, want);
			fc_msg_free(&m);
		}
		assert_int_equal(fc_queue_length(q), 0);
	}
	fc_queue_free(&q);
}

/* Messages still in the queue belong to it: freeing the queue frees them (ASan sees a leak
 * otherwise), and their data is released exactly once. */
static void test_free_with_pending_messages(void **state)
{
	(void)state;
	data_released = 0;
	struct fc_queue *q = queue_new(4);
	for (int i = 0; i < 3; i++) {
		struct fc_msg *m = msg_new(KIND_ITEM, i, 0);
		assert_int_equal(fc_msg_set_text(m, "pending %d", i), 0);
		fc_msg_set_data(m, counted_data(), count_release);
		assert_int_equal(fc_queue_push(q, m, 0), 0);
	}
	struct fc_msg *m = NULL;
	assert_int_equal(fc_queue_pop(q, &m, 0), 0);
	fc_msg_free(&m);
	assert_int_equal(data_released, 1);
	fc_queue_free(&q);
	assert_null(q);
	assert_int_equal(data_released, 3);
}

static void test_full_queue(void **state)
{
	(void)state;
	struct fc_queue *q = queue_new(2);
	assert_int_equal(fc_queue_push(q, msg_new(KIND_ITEM, 1, 0), 0), 0);
	assert_int_equal(fc_queue_push(q, msg_new(KIND_ITEM, 2, 0), 0), 0);

	/* A full queue refuses at once with timeout 0, and the caller still owns the message. */
	struct fc_msg *m = msg_new(KIND_ITEM, 3, 0);
	assert_int_equal(fc_queue_push(q, m, 0), FC_QUEUE_FULL);
	assert_int_equal(m->id, 3);

	/* With a timeout it waits that long (at least) before it gives up. */
	int64_t t0 = now_ns();
	assert_int_equal(fc_queue_push(q, m, 50), FC_QUEUE_FULL);
	int64_t took = now_ns() - t0;
	assert_true(took >= 50 * 1000000LL);
	assert_true(took < 5000 * 1000000LL);
	assert_int_equal(fc_queue_length(q), 2);

	struct fc_msg *out = NULL;
	assert_int_equal(fc_queue_pop(q, &out, 0), 0);
	assert_int_equal(out->id, 1);
	fc_msg_free(&out);
	assert_int_equal(fc_queue_push(q, m, 0), 0);
	fc_queue_free(&q);
}

static void test_pop_timeout(void **state)
{
	(void)state;
	struct fc_queue *q = queue_new(2);
	struct fc_msg *m = NULL;
	assert_int_equal(fc_queue_pop(q, &m, 0), FC_QUEUE_EMPTY);
	assert_null(m);

	int64_t t0 = now_ns();
	assert_int_equal(fc_queue_pop(q, &m, 50), FC_QUEUE_EMPTY);
	int64_t took = now_ns() - t0;
	assert_null(m);
	assert_true(took >= 50 * 1000000LL);
	assert_true(took < 5000 * 1000000LL);

	/* Longer than a second: the deadline's seconds and nanoseconds both move. */
	t0 = now_ns();
	assert_int_equal(fc_queue_pop(q, &m, 1100), FC_QUEUE_EMPTY);
	took = now_ns() - t0;
	assert_true(took >= 1100 * 1000000LL);
	assert_true(took < 6000 * 1000000LL);
	fc_queue_free(&q);
}

/* The wake-up descriptor is readable exactly while messages wait or the queue is closed. */
static void test_wakeup_fd_contract(void **state)
{
	(void)state;
	struct fc_queue *q = queue_new(4);
	assert_true(fc_queue_wakeup_fd(q) >= 0);
	assert_false(wakeup_readable(q));

	struct fc_msg *m = NULL;
	assert_int_equal(fc_queue_push(q, msg_new(KIND_ITEM, 1, 0), 0), 0);
	assert_true(wakeup_readable(q));
	assert_int_equal(fc_queue_push(q, msg_new(KIND_ITEM, 2, 0), 0), 0);
	assert_true(wakeup_readable(q));
	assert_int_equal(fc_queue_pop(q, &m, 0), 0);
	fc_msg_free(&m);
	assert_true(wakeup_readable(q)); /* one still waits */
	assert_int_equal(fc_queue_pop(q, &m, 0), 0);
	fc_msg_free(&m);
	assert_false(wakeup_readable(q)); /* drained: two pushes did not leave a count behind */
	assert_int_equal(fc_queue_pop(q, &m, 0), FC_QUEUE_EMPTY);
	assert_false(wakeup_readable(q));

	/* Readable again after the next push, and so on, round after round. */
	for (int i = 0; i < 5; i++) {
		assert_int_equal(fc_queue_push(q, msg_new(KIND_ITEM, i, 0), 0), 0);
		assert_true(wakeup_readable(q));
		assert_int_equal(fc_queue_pop(q, &m, 0), 0);
		fc_msg_free(&m);
		assert_false(wakeup_readable(q));
	}

	/* Closed with messages: readable while they drain and after. */
	assert_int_equal(fc_queue_push(q, msg_new(KIND_ITEM, 9, 0), 0), 0);
	fc_queue_close(q);
	assert_true(wakeup_readable(q));
	assert_int_equal(fc_queue_pop(q, &m, 0), 0);
	assert_int_equal(m->id, 9);
	fc_msg_free(&m);
	assert_true(wakeup_readable(q));
	assert_int_equal(fc_queue_pop(q, &m, 0), FC_QUEUE_CLOSED);
	assert_true(wakeup_readable(q));
	fc_queue_free(&q);

	/* Closed while empty: readable, so that a reader in poll() learns of it. */
	q = queue_new(1);
	assert_false(wakeup_readable(q));
	fc_queue_close(q);
	assert_true(wakeup_readable(q));
	fc_queue_free(&q);
}

static void test_close(void **state)
{
	(void)state;
	struct fc_queue *q = queue_new(4);
	assert_int_equal(fc_queue_push(q, msg_new(KIND_ITEM, 1, 0), 0), 0);
	assert_int_equal(fc_queue_push(q, msg_new(KIND_ITEM, 2, 0), 0), 0);
	fc_queue_close(q);
	fc_queue_close(q); /* twice is harmless */

	struct fc_msg *m = msg_new(KIND_ITEM, 3, 0);
	assert_int_equal(fc_queue_push(q, m, FC_QUEUE_FOREVER), FC_QUEUE_CLOSED);
	assert_int_equal(fc_queue_push_replace(q, m, 0), FC_QUEUE_CLOSED);
	fc_msg_free(&m); /* still ours */

	/* What was queued before the close still comes out, in order, then "closed". */
	assert_int_equal(fc_queue_pop(q, &m, FC_QUEUE_FOREVER), 0);
	assert_int_equal(m->id, 1);
	fc_msg_free(&m);
	assert_int_equal(fc_queue_pop(q, &m, FC_QUEUE_FOREVER), 0);
	assert_int_equal(m->id, 2);
	fc_msg_free(&m);
	int64_t t0 = now_ns();
	assert_int_equal(fc_queue_pop(q, &m, FC_QUEUE_FOREVER), FC_QUEUE_CLOSED);
	assert_int_equal(fc_queue_pop(q, &m, 5000), FC_QUEUE_CLOSED);
	assert_true(now_ns() - t0 < 4000 * 1000000LL); /* at once, not after the 5 s */
	assert_null(m);
	fc_queue_free(&q);
}

struct blocked_call {
	struct fc_queue *q;
	int timeout_ms;
	struct fc_msg *msg; /* pushed, or popped */
	int rc;
};

static void *pop_thread(void *arg)
{
	struct blocked_call *c = arg;
	c->rc = fc_queue_pop(c->q, &c->msg, c->timeout_ms);
	return NULL;
}

static void *push_thread(void *arg)
{
	struct blocked_call *c = arg;
	c->rc = fc_queue_push(c->q, c->msg, c->timeout_ms);
	if (c->rc == 0)
		c->msg = NULL; /* the queue's now */
	return NULL;
}

/* Starts a thread whose push of message id waits for room in q, which holds one message and
 * has room for no more; returns once the thread waits. */
static pthread_t start_blocked_pusher(struct fc_queue *q, struct blocked_call *c, int64_t id)
{
	assert_int_equal(fc_queue_push(q, msg_new(KIND_ITEM, id - 1, 0), 0), 0);
	*c = (struct blocked_call){ .q = q, .timeout_ms = FC_QUEUE_FOREVER,
				    .msg = msg_new(KIND_ITEM, id, 0), .rc = 1 };
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, push_thread, c), 0);
	await_waiters(q, 1);
	return t;
}

static void test_close_wakes_poppers(void **state)
{
	(void)state;
	struct fc_queue *q = queue_new(4);
	struct blocked_call forever = { .q = q, .timeout_ms = FC_QUEUE_FOREVER, .rc = 1 };
	struct blocked_call timed = { .q = q, .timeout_ms = 60000, .rc = 1 };
	pthread_t t1, t2;
	assert_int_equal(pthread_create(&t1, NULL, pop_thread, &forever), 0);
	assert_int_equal(pthread_create(&t2, NULL, pop_thread, &timed), 0);
	await_waiters(q, 2);

	int64_t t0 = now_ns();
	fc_queue_close(q);
	assert_int_equal(pthread_join(t1, NULL), 0);
	assert_int_equal(pthread_join(t2, NULL), 0);
	assert_true(now_ns() - t0 < 30000 * 1000000LL); /* the 60 s waiter did not sit it out */
	assert_int_equal(forever.rc, FC_QUEUE_CLOSED);
	assert_null(forever.msg);
	assert_int_equal(timed.rc, FC_QUEUE_CLOSED);
	assert_null(timed.msg);
	assert_int_equal(fc_queue_waiters(q), 0);
	fc_queue_free(&q);
}

static void test_close_wakes_pusher(void **state)
{
	(void)state;
	struct fc_queue *q = queue_new(1);
	struct blocked_call c;
	pthread_t t = start_blocked_pusher(q, &c, 2);
	fc_queue_close(q);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_int_equal(c.rc, FC_QUEUE_CLOSED);
	assert_non_null(c.msg); /* refused, so still the pusher's */
	fc_msg_free(&c.msg);

	struct fc_msg *m = NULL;
	assert_int_equal(fc_queue_pop(q, &m, 0), 0);
	assert_int_equal(m->id, 1);
	fc_msg_free(&m);
	assert_int_equal(fc_queue_pop(q, &m, 0), FC_QUEUE_CLOSED);
	fc_queue_free(&q);
}

/* A blocked pusher goes on when a pop makes room; a blocked popper when a push arrives. */
static void test_blocked_calls_resume(void **state)
{
	(void)state;
	struct fc_queue *q = queue_new(1);
	struct blocked_call pusher;
	pthread_t t = start_blocked_pusher(q, &pusher, 2);
	struct fc_msg *m = NULL;
	assert_int_equal(fc_queue_pop(q, &m, 0), 0);
	assert_int_equal(m->id, 1);
	fc_msg_free(&m);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_int_equal(pusher.rc, 0);
	assert_null(pusher.msg);
	assert_int_equal(fc_queue_pop(q, &m, 0), 0);
	assert_int_equal(m->id, 2);
	fc_msg_free(&m);

	struct blocked_call popper = { .q = q, .timeout_ms = STUCK_MS, .rc = 1 };
	assert_int_equal(pthread_create(&t, NULL, pop_thread, &popper), 0);
	await_waiters(q, 1);
	assert_int_equal(fc_queue_push(q, msg_new(KIND_ITEM, 3, 0), 0), 0);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_int_equal(popper.rc, 0);
	assert_int_equal(popper.msg->id, 3);
	fc_msg_free(&popper.msg);
	fc_queue_free(&q);
}

static void test_push_replace(void **state)
{
	(void)state;
	data_released = 0;
	struct fc_queue *q = queue_new(3);
	struct fc_msg *m = msg_new(KIND_PROGRESS, 7, 1);
	fc_msg_set_data(m, counted_data(), count_release);
	assert_int_equal(fc_queue_push_replace(q, m, 0), 0); /* nothing to replace: appended */
	assert_int_equal(fc_queue_push(q, msg_new(KIND_OTHER, 7, 0), 0), 0);
	assert_int_equal(fc_queue_push(q, msg_new(KIND_PROGRESS, 8, 0), 0), 0);
	assert_int_equal(fc_queue_length(q), 3);

	/* Same kind and id: takes the old one's place even though the queue is full. */
	assert_int_equal(fc_queue_push_replace(q, msg_new(KIND_PROGRESS, 7, 2), 0), 0);
	assert_int_equal(fc_queue_length(q), 3);
	assert_int_equal(data_released, 1); /* the replaced message was freed */

	/* No match and full: refused, still ours. */
	m = msg_new(KIND_PROGRESS, 9, 0);
	assert_int_equal(fc_queue_push_replace(q, m, 0), FC_QUEUE_FULL);
	fc_msg_free(&m);

	int64_t want_kind[] = { KIND_PROGRESS, KIND_OTHER, KIND_PROGRESS };
	int64_t want_id[] = { 7, 7, 8 };
	int64_t want_a[] = { 2, 0, 0 };
	for (int i = 0; i < 3; i++) {
		assert_int_equal(fc_queue_pop(q, &m, 0), 0);
		assert_int_equal(m->kind, want_kind[i]);
		assert_int_equal(m->id, want_id[i]);
		assert_int_equal(m->a, want_a[i]);
		fc_msg_free(&m);
	}

	/* Two plain pushes of the same key: the latest is replaced, so the order stays right. */
	assert_int_equal(fc_queue_push(q, msg_new(KIND_PROGRESS, 1, 1), 0), 0);
	assert_int_equal(fc_queue_push(q, msg_new(KIND_PROGRESS, 1, 2), 0), 0);
	assert_int_equal(fc_queue_push_replace(q, msg_new(KIND_PROGRESS, 1, 3), 0), 0);
	assert_int_equal(fc_queue_length(q), 2);
	assert_int_equal(fc_queue_pop(q, &m, 0), 0);
	assert_int_equal(m->a, 1);
	fc_msg_free(&m);
	assert_int_equal(fc_queue_pop(q, &m, 0), 0);
	assert_int_equal(m->a, 3);
	fc_msg_free(&m);
	assert_false(wakeup_readable(q));
	fc_queue_free(&q);
}

/* Several threads at once. Each producer sends PER_PRODUCER messages: id = producer, a = its
 * sequence number, text = both as text (heap data handed between threads). */
#define PRODUCERS 4
#define PER_PRODUCER 10000

struct producer {
	struct fc_queue *q;
	int index;
	int count;
	bool replace;
	int failed_rc; /* 0, or the code of the push that failed */
};

static void *produce(void *arg)
{
	struct producer *p = arg;
	for (int seq = 0; seq < p->count; seq++) {
		struct fc_msg *m = fc_msg_new(p->replace ? KIND_PROGRESS : KIND_ITEM);
		if (!m || fc_msg_set_text(m, "%d/%d", p->index, seq) != 0) {
			fc_msg_free(&m);
			p->failed_rc = -100;
			return NULL;
		}
		/* Coalescing producers share one key; b says who sent it. */
		m->id = p->replace ? 0 : p->index;
		m->a = seq;
		m->b = p->index;
		int rc = p->replace ? fc_queue_push_replace(p->q, m, STUCK_MS)
				    : fc_queue_push(p->q, m, STUCK_MS);
		if (rc != 0) {
			fc_msg_free(&m);
			p->failed_rc = rc;
			return NULL;
		}
	}
	return NULL;
}

struct consumer {
	struct fc_queue *q;
	bool use_poll;          /* poll() the wake-up descriptor and drain, or block in pop */
	int64_t last[PRODUCERS]; /* last sequence number seen from each producer */
	unsigned char *seen;    /* [producer * PER_PRODUCER + seq]: how often it arrived */
	long received;
	char error[160];        /* first thing that went wrong, "" when none */
};

static void consumer_fail(struct consumer *c, const char *what, long x, long y)
{
	if (!c->error[0])
		snprintf(c->error, sizeof c->error, "%s (%ld, %ld)", what, x, y);
}

static void consumer_take(struct consumer *c, struct fc_msg *m)
{
	long p = (long)m->b, seq = (long)m->a;
	char want[32];
	if (p < 0 || p >= PRODUCERS || seq < 0 || seq >= PER_PRODUCER) {
		consumer_fail(c, "message out of range", p, seq);
	} else {
		if (seq <= c->last[p])
			consumer_fail(c, "producer order broken", p, seq);
		c->last[p] = seq;
		c->seen[p * PER_PRODUCER + seq]++;
		snprintf(want, sizeof want, "%ld/%ld", p, seq);
		if (!m->text || strcmp(m->text, want) != 0)
			consumer_fail(c, "text does not match", p, seq);
	}
	c->received++;
	fc_msg_free(&m);
}

static void *consume(void *arg)
{
	struct consumer *c = arg;
	int fd = fc_queue_wakeup_fd(c->q);
	for (;;) {
		struct fc_msg *m = NULL;
		if (!c->use_poll) {
			int rc = fc_queue_pop(c->q, &m, STUCK_MS);
			if (rc == FC_QUEUE_CLOSED)
				return NULL;
			if (rc != 0) {
				consumer_fail(c, "pop stuck or failed", rc, c->received);
				return NULL;
			}
			consumer_take(c, m);
			continue;
		}
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		int n = poll(&pfd, 1, STUCK_MS);
		if (n < 0 && errno == EINTR)
			continue;
		if (n != 1) {
			/* Messages waited and the descriptor did not say so: a lost wake-up. */
			consumer_fail(c, "poll timed out or failed", n, c->received);
			return NULL;
		}
		int rc;
		while ((rc = fc_queue_pop(c->q, &m, 0)) == 0)
			consumer_take(c, m);
		if (rc == FC_QUEUE_CLOSED)
			return NULL;
		if (rc != FC_QUEUE_EMPTY) {
			consumer_fail(c, "pop failed", rc, c->received);
			return NULL;
		}
	}
}

/* Runs producers and consumers over one queue until every producer is done, then closes it and
 * checks that every message arrived exactly once and each producer's order held. */
static void run_threads(size_t capacity, int n_consumers, bool all_poll)
{
	struct fc_queue *q = queue_new(capacity);
	struct producer prod[PRODUCERS];
	struct consumer cons[4];
	pthread_t pt[PRODUCERS], ct[4];
	assert_true(n_consumers <= 4);

	for (int i = 0; i < n_consumers; i++) {
		memset(&cons[i], 0, sizeof cons[i]);
		cons[i].q = q;
		cons[i].use_poll = all_poll || i % 2 == 0;
		for (int p = 0; p < PRODUCERS; p++)
			cons[i].last[p] = -1;
		cons[i].seen = calloc(PRODUCERS * PER_PRODUCER, 1);
		assert_non_null(cons[i].seen);
		assert_int_equal(pthread_create(&ct[i], NULL, consume, &cons[i]), 0);
	}
	for (int p = 0; p < PRODUCERS; p++) {
		prod[p] = (struct producer){ .q = q, .index = p, .count = PER_PRODUCER };
		assert_int_equal(pthread_create(&pt[p], NULL, produce, &prod[p]), 0);
	}
	for (int p = 0; p < PRODUCERS; p++)
		assert_int_equal(pthread_join(pt[p], NULL), 0);
	fc_queue_close(q);
	for (int i = 0; i < n_consumers; i++)
		assert_int_equal(pthread_join(ct[i], NULL), 0);

	for (int p = 0; p < PRODUCERS; p++)
		assert_int_equal(prod[p].failed_rc, 0);
	long total = 0;
	for (int i = 0; i < n_consumers; i++) {
		if (cons[i].error[0])
			fail_msg("consumer %d: %s", i, cons[i].error);
		total += cons[i].received;
	}
	assert_int_equal(total, PRODUCERS * PER_PRODUCER);
	for (int p = 0; p < PRODUCERS; p++) {
		for (int seq = 0; seq < PER_PRODUCER; seq++) {
			int times = 0;
			for (int i = 0; i < n_consumers; i++)
				times += cons[i].seen[p * PER_PRODUCER + seq];
			if (times != 1)
				fail_msg("message %d/%d arrived %d times", p, seq, times);
		}
	}
	for (int i = 0; i < n_consumers; i++)
		free(cons[i].seen);
	assert_int_equal(fc_queue_length(q), 0);
	fc_queue_free(&q);
}

static void test_producers_one_polling_consumer(void **state)
{
	(void)state;
	run_threads(64, 1, true);
}

static void test_producers_several_consumers(void **state)
{
	(void)state;
	/* Two consumers poll and drain, two block in pop; a small queue keeps producers waiting. */
	run_threads(8, 4, false);
}

static void test_producers_tiny_queue(void **state)
{
	(void)state;
	run_threads(1, 2, true);
}

/* Coalescing under load: two producers flood one key with push_replace while a third pushes
 * plain messages into a queue of two. No push waits in vain (each gives up after STUCK_MS), the
 * plain messages all arrive in order, and what arrives of the flood is in order per sender and
 * ends with a sender's last message. */
static void test_replace_under_load(void **state)
{
	(void)state;
	struct fc_queue *q = queue_new(2);
	struct producer prod[3];
	pthread_t pt[3];
	for (int p = 0; p < 3; p++) {
		prod[p] = (struct producer){ .q = q, .index = p, .count = PER_PRODUCER,
					     .replace = p < 2 };
		assert_int_equal(pthread_create(&pt[p], NULL, produce, &prod[p]), 0);
	}

	int64_t last[3] = { -1, -1, -1 };
	int64_t last_flood_seq = -1;
	long plain = 0;
	bool closed = false;
	for (;;) {
		struct fc_msg *m = NULL;
		int rc = fc_queue_pop(q, &m, STUCK_MS);
		if (rc == FC_QUEUE_EMPTY)
			fail_msg("consumer waited %d ms for nothing", STUCK_MS);
		if (rc == FC_QUEUE_CLOSED)
			break;
		assert_int_equal(rc, 0);
		assert_true(m->b >= 0 && m->b < 3);
		assert_true(m->a > last[m->b]);
		if (m->b == 2) {
			assert_int_equal(m->kind, KIND_ITEM);
			assert_int_equal(m->a, last[2] + 1); /* plain messages: none lost */
			plain++;
		} else {
			last_flood_seq = m->a;
		}
		last[m->b] = m->a;
		fc_msg_free(&m);
		if (!closed && last[2] == PER_PRODUCER - 1) {
			for (int p = 0; p < 3; p++)
				assert_int_equal(pthread_join(pt[p], NULL), 0);
			fc_queue_close(q);
			closed = true;
		}
	}
	for (int p = 0; p < 3; p++)
		assert_int_equal(prod[p].failed_rc, 0);
	assert_int_equal(plain, PER_PRODUCER);
	/* Nothing replaces the very last flood message, so the flood ends with a final one. */
	assert_int_equal(last_flood_seq, PER_PRODUCER - 1);
	assert_true(last[0] == PER_PRODUCER - 1 || last[1] == PER_PRODUCER - 1);
	fc_queue_free(&q);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_msg_owns_payload),
		cmocka_unit_test(test_bad_arguments),
		cmocka_unit_test(test_fifo_order),
		cmocka_unit_test(test_free_with_pending_messages),
		cmocka_unit_test(test_full_queue),
		cmocka_unit_test(test_pop_timeout),
		cmocka_unit_test(test_wakeup_fd_contract),
		cmocka_unit_test(test_close),
		cmocka_unit_test(test_close_wakes_poppers),
		cmocka_unit_test(test_close_wakes_pusher),
		cmocka_unit_test(test_blocked_calls_resume),
		cmocka_unit_test(test_push_replace),
		cmocka_unit_test(test_producers_one_polling_consumer),
		cmocka_unit_test(test_producers_several_consumers),
		cmocka_unit_test(test_producers_tiny_queue),
		cmocka_unit_test(test_replace_under_load),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
