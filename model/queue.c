/* Bounded message queues between threads (see queue.h): a ring of message pointers under one
 * mutex, two condition variables on the monotonic clock for blocked pushers and poppers, and an
 * eventfd whose counter is non-zero exactly while the queue holds messages or is closed. */
#include "model/queue.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

struct fc_queue {
	pthread_mutex_t lock;
	pthread_cond_t not_empty;  /* poppers wait here */
	pthread_cond_t not_full;   /* pushers wait here */
	struct fc_msg **ring;      /* capacity slots; len of them from head on are in use */
	size_t capacity;
	size_t head;
	size_t len;
	size_t waiters;            /* threads inside pthread_cond_(timed)wait */
	bool closed;
	bool fd_raised;            /* the eventfd counter is non-zero */
	int efd;
};

/* See queue.h: these calls fail only on a freed queue or corrupt memory. */
static void must(int rc)
{
	if (rc != 0)
		abort();
}

struct fc_msg *fc_msg_new(int kind)
{
	struct fc_msg *msg = calloc(1, sizeof *msg);
	if (msg)
		msg->kind = kind;
	return msg;
}

static void msg_release_data(struct fc_msg *msg)
{
	if (msg->data && msg->free_data)
		msg->free_data(msg->data);
	msg->data = NULL;
	msg->free_data = NULL;
}

void fc_msg_free(struct fc_msg **msg)
{
	if (!msg || !*msg)
		return;
	free((*msg)->text);
	msg_release_data(*msg);
	free(*msg);
	*msg = NULL;
}

int fc_msg_set_text(struct fc_msg *msg, const char *fmt, ...)
{
	char *text;
	va_list ap;
	va_start(ap, fmt);
	int n = vasprintf(&text, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -1;
	free(msg->text);
	msg->text = text;
	return 0;
}

void fc_msg_set_data(struct fc_msg *msg, void *data, void (*free_data)(void *data))
{
	msg_release_data(msg);
	msg->data = data;
	msg->free_data = free_data;
}

struct fc_queue *fc_queue_new(size_t capacity, struct fc_error *err)
{
	if (capacity == 0) {
		fc_error_set(err, "a message queue needs a capacity of at least 1");
		return NULL;
	}
	struct fc_queue *q = calloc(1, sizeof *q);
	struct fc_msg **ring = calloc(capacity, sizeof *ring);
	if (!q || !ring) {
		free(q);
		free(ring);
		fc_error_set(err, "out of memory for a message queue of %zu", capacity);
		return NULL;
	}
	q->ring = ring;
	q->capacity = capacity;
	q->efd = -1;

	/* Timed waits measure against the monotonic clock: setting the date must not stretch or cut
	 * a timeout. */
	pthread_condattr_t attr;
	int rc = pthread_condattr_init(&attr);
	if (rc)
		goto fail;
	rc = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	if (rc)
		goto fail_attr;
	rc = pthread_mutex_init(&q->lock, NULL);
	if (rc)
		goto fail_attr;
	rc = pthread_cond_init(&q->not_empty, &attr);
	if (rc)
		goto fail_mutex;
	rc = pthread_cond_init(&q->not_full, &attr);
	if (rc)
		goto fail_not_empty;
	q->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (q->efd < 0) {
		rc = errno;
		goto fail_not_full;
	}
	must(pthread_condattr_destroy(&attr));
	return q;

fail_not_full:
	must(pthread_cond_destroy(&q->not_full));
fail_not_empty:
	must(pthread_cond_destroy(&q->not_empty));
fail_mutex:
	must(pthread_mutex_destroy(&q->lock));
fail_attr:
	must(pthread_condattr_destroy(&attr));
fail:
	free(q->ring);
	free(q);
	fc_error_set(err, "cannot make a message queue: %s%s", strerror(rc),
		     rc == EMFILE || rc == ENFILE ? ": raise the limit of open files (ulimit -n, LimitNOFILE=) and try again" : "");
	return NULL;
}

void fc_queue_free(struct fc_queue **qp)
{
	if (!qp || !*qp)
		return;
	struct fc_queue *q = *qp;
	for (size_t i = 0; i < q->len; i++)
		fc_msg_free(&q->ring[(q->head + i) % q->capacity]);
	free(q->ring);
	must(pthread_cond_destroy(&q->not_full));
	must(pthread_cond_destroy(&q->not_empty));
	must(pthread_mutex_destroy(&q->lock));
	/* An eventfd has nothing to flush, so a failing close loses nothing. */
	(void)close(q->efd);
	free(q);
	*qp = NULL;
}

/* Makes the eventfd readable (lock held). */
static void fd_raise(struct fc_queue *q)
{
	if (q->fd_raised)
		return;
	uint64_t one = 1;
	ssize_t n;
	do
		n = write(q->efd, &one, sizeof one);
	while (n < 0 && errno == EINTR);
	must(n != (ssize_t)sizeof one);
	q->fd_raised = true;
}

/* Makes the eventfd unreadable once the last message of an open queue is gone (lock held). */
static void fd_lower(struct fc_queue *q)
{
	if (!q->fd_raised || q->closed)
		return;
	uint64_t count;
	ssize_t n;
	do
		n = read(q->efd, &count, sizeof count);
	while (n < 0 && errno == EINTR);
	/* EAGAIN: someone read the descriptor against the contract; it is unreadable all the same. */
	must(n != (ssize_t)sizeof count && !(n < 0 && errno == EAGAIN));
	q->fd_raised = false;
}

/* Waits on cond (lock held) until woken or until the deadline (NULL: none). Returns false when
 * the time is up. */
static bool wait_on(struct fc_queue *q, pthread_cond_t *cond, const struct timespec *deadline)
{
	q->waiters++;
	int rc = deadline ? pthread_cond_timedwait(cond, &q->lock, deadline)
			  : pthread_cond_wait(cond, &q->lock);
	q->waiters--;
	if (rc == ETIMEDOUT)
		return false;
	must(rc);
	return true;
}

/* The deadline for a positive timeout, or NULL for none (waiting forever or not at all). */
static const struct timespec *deadline_for(int timeout_ms, struct timespec *ts)
{
	if (timeout_ms <= 0)
		return NULL;
	must(clock_gettime(CLOCK_MONOTONIC, ts));
	ts->tv_sec += timeout_ms / 1000;
	ts->tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
	return ts;
}

/* The slot of the latest waiting message with msg's kind and id, or -1 (lock held). */
static long find_latest(const struct fc_queue *q, const struct fc_msg *msg)
{
	for (size_t i = q->len; i-- > 0;) {
		size_t slot = (q->head + i) % q->capacity;
		if (q->ring[slot]->kind == msg->kind && q->ring[slot]->id == msg->id)
			return (long)slot;
	}
	return -1;
}

static int push(struct fc_queue *q, struct fc_msg *msg, int timeout_ms, bool replace)
{
	if (!q || !msg)
		return FC_QUEUE_INVALID;
	struct timespec ts;
	const struct timespec *deadline = deadline_for(timeout_ms, &ts);
	struct fc_msg *replaced = NULL;
	int rc;
	/* After the time is up, one more look: a timed-out wait may have raced with a pop. */
	bool last_look = timeout_ms == 0;

	must(pthread_mutex_lock(&q->lock));
	for (;;) {
		if (q->closed) {
			rc = FC_QUEUE_CLOSED;
			break;
		}
		long slot = replace ? find_latest(q, msg) : -1;
		if (slot >= 0) {
			replaced = q->ring[slot];
			q->ring[slot] = msg;
			/* This thread may have been woken for a free slot it does not use: pass the
			 * wake-up on to another pusher. */
			if (q->len < q->capacity)
				must(pthread_cond_signal(&q->not_full));
			rc = 0;
			break;
		}
		if (q->len < q->capacity) {
			q->ring[(q->head + q->len) % q->capacity] = msg;
			q->len++;
			fd_raise(q);
			must(pthread_cond_signal(&q->not_empty));
			rc = 0;
			break;
		}
		if (last_look) {
			rc = FC_QUEUE_FULL;
			break;
		}
		last_look = !wait_on(q, &q->not_full, deadline);
	}
	must(pthread_mutex_unlock(&q->lock));
	/* Outside the lock: free_data is the users' code and may take its time. */
	fc_msg_free(&replaced);
	return rc;
}

int fc_queue_push(struct fc_queue *q, struct fc_msg *msg, int timeout_ms)
{
	return push(q, msg, timeout_ms, false);
}

int fc_queue_push_replace(struct fc_queue *q, struct fc_msg *msg, int timeout_ms)
{
	return push(q, msg, timeout_ms, true);
}

int fc_queue_pop(struct fc_queue *q, struct fc_msg **out, int timeout_ms)
{
	if (!out)
		return FC_QUEUE_INVALID;
	*out = NULL;
	if (!q)
		return FC_QUEUE_INVALID;
	struct timespec ts;
	const struct timespec *deadline = deadline_for(timeout_ms, &ts);
	int rc;
	bool last_look = timeout_ms == 0;

	must(pthread_mutex_lock(&q->lock));
	for (;;) {
		if (q->len > 0) {
			*out = q->ring[q->head];
			q->ring[q->head] = NULL;
			q->head = (q->head + 1) % q->capacity;
			q->len--;
			if (q->len == 0)
				fd_lower(q);
			must(pthread_cond_signal(&q->not_full));
			rc = 0;
			break;
		}
		if (q->closed) {
			rc = FC_QUEUE_CLOSED;
			break;
		}
		if (last_look) {
			rc = FC_QUEUE_EMPTY;
			break;
		}
		last_look = !wait_on(q, &q->not_empty, deadline);
	}
	must(pthread_mutex_unlock(&q->lock));
	return rc;
}

void fc_queue_close(struct fc_queue *q)
{
	if (!q)
		return;
	must(pthread_mutex_lock(&q->lock));
	q->closed = true;
	fd_raise(q);
	must(pthread_cond_broadcast(&q->not_empty));
	must(pthread_cond_broadcast(&q->not_full));
	must(pthread_mutex_unlock(&q->lock));
}

int fc_queue_wakeup_fd(const struct fc_queue *q)
{
	return q ? q->efd : -1;
}

size_t fc_queue_length(struct fc_queue *q)
{
	if (!q)
		return 0;
	must(pthread_mutex_lock(&q->lock));
	size_t len = q->len;
	must(pthread_mutex_unlock(&q->lock));
	return len;
}

size_t fc_queue_waiters(struct fc_queue *q)
{
	if (!q)
		return 0;
	must(pthread_mutex_lock(&q->lock));
	size_t n = q->waiters;
	must(pthread_mutex_unlock(&q->lock));
	return n;
}
