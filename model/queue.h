/* Bounded, thread-safe message queues between threads: the console sends commands to the workers
 * on one, the workers answer with events on another. A queue has a wake-up descriptor so that a
 * thread that waits in poll() (the console on stdin, the collector on its sockets) can wait for
 * messages too. Messages are plain data that own their payload.
 * The mutex, condition variables and eventfd of a live queue fail only when memory is corrupt or a
 * freed queue is used; the queue then abort()s rather than lose or duplicate a message. */
#ifndef FLEETCON_MODEL_QUEUE_H
#define FLEETCON_MODEL_QUEUE_H

#include <stddef.h>
#include <stdint.h>

#include "model/error.h"

/* One message. kind is defined by the users of a queue (the command and event enums live with
 * them), never by this module. id names what the message is about (a device, a job) and, with
 * kind, is the key that fc_queue_push_replace matches. a and b are numbers whose meaning kind
 * decides (done / total for progress, an exit status, ...).
 *
 * The message owns text (heap, NUL-terminated, or NULL) and data (or NULL; released with
 * free_data when that is set). Whoever holds a message may take text or data out of it by
 * copying the pointer and setting the field to NULL (and free_data to NULL for data).
 * A message that may leave the process (the headless service forwards messages over a socket)
 * carries only kind, id, a, b and text; data is for payloads that stay in the process. */
struct fc_msg {
	int kind;
	int64_t id;
	int64_t a;
	int64_t b;
	char *text;
	void *data;
	void (*free_data)(void *data);
};

/* A new message of that kind, all other fields zero / NULL. Caller owns it and frees it with
 * fc_msg_free, or hands it to a queue. NULL when out of memory. */
struct fc_msg *fc_msg_new(int kind);

/* Frees the message, its text and its data (through free_data when set), and NULLs *msg.
 * *msg may be NULL. */
void fc_msg_free(struct fc_msg **msg);

/* Sets msg->text to a new copy of the formatted text, freeing the text it had. Returns 0, or -1
 * when out of memory (the old text stays). The arguments are only read. */
int fc_msg_set_text(struct fc_msg *msg, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Gives data to the message: it will be released with free_data (which may be NULL when data
 * needs no release). The data the message held before is released first. */
void fc_msg_set_data(struct fc_msg *msg, void *data, void (*free_data)(void *data));

/* Return codes of push and pop (0 is success). */
enum {
	FC_QUEUE_FULL = -1,    /* push: the queue stayed full until the timeout */
	FC_QUEUE_EMPTY = -2,   /* pop: the queue stayed empty until the timeout */
	FC_QUEUE_CLOSED = -3,  /* push: the queue is closed; pop: closed and nothing left */
	FC_QUEUE_INVALID = -4, /* a NULL queue, message or out pointer */
};

/* Timeouts are in milliseconds: a negative value waits as long as it takes, 0 does not wait. */
#define FC_QUEUE_FOREVER (-1)

struct fc_queue;

/* A new, open, empty queue that holds at most capacity messages (at least 1). Caller owns it and
 * frees it with fc_queue_free. NULL with err set when capacity is 0 or out of resources
 * (memory, file descriptors). */
struct fc_queue *fc_queue_new(size_t capacity, struct fc_error *err);

/* Frees the queue with the messages still in it, closes its wake-up descriptor and NULLs *q.
 * No other thread may use the queue any more (join them first). *q may be NULL. */
void fc_queue_free(struct fc_queue **q);

/* Appends msg, waiting up to timeout_ms while the queue is full. Returns 0 when the queue took
 * ownership of msg; otherwise (FC_QUEUE_FULL, FC_QUEUE_CLOSED, FC_QUEUE_INVALID) the caller still
 * owns msg. */
int fc_queue_push(struct fc_queue *q, struct fc_msg *msg, int timeout_ms);

/* Like fc_queue_push, except that when a message of the same kind and id is waiting in the queue,
 * msg takes its place (and its turn; the latest such message when there are several) and the
 * older message is freed: a flood of progress events then costs one slot, and the reader sees
 * the latest. Returns 0 when the queue took ownership of msg (whether it replaced one or was
 * appended); otherwise the caller still owns msg. */
int fc_queue_push_replace(struct fc_queue *q, struct fc_msg *msg, int timeout_ms);

/* Takes the oldest message, waiting up to timeout_ms while the queue is empty and open. Returns 0
 * and puts the message in *out (caller owns it, frees it with fc_msg_free); FC_QUEUE_EMPTY when
 * the time ran out; FC_QUEUE_CLOSED when the queue is closed and has been drained (every later
 * pop says the same at once); *out is NULL then. A closed queue still hands out the messages it
 * holds. */
int fc_queue_pop(struct fc_queue *q, struct fc_msg **out, int timeout_ms);

/* Closes the queue: every thread waiting in push or pop wakes up, later pushes fail with
 * FC_QUEUE_CLOSED, pops drain what is left and then report FC_QUEUE_CLOSED. Closing twice is
 * harmless. The queue is still freed with fc_queue_free. */
void fc_queue_close(struct fc_queue *q);

/* The wake-up descriptor (an eventfd), for poll() / select() with POLLIN. Contract:
 * - it is readable exactly while the queue holds at least one message or is closed: readable
 *   after a push into an empty queue, no longer readable once a pop took the last message of an
 *   open queue, readable from fc_queue_close on for good;
 * - so a reader waits in poll(), then calls fc_queue_pop(q, &m, 0) until it returns
 *   FC_QUEUE_EMPTY (back to poll) or FC_QUEUE_CLOSED (stop polling: the descriptor stays
 *   readable). Several readers may poll the same queue; one of them may find it empty.
 * - never read, write or close it: pop and close keep its state. Borrowed; valid until
 *   fc_queue_free. */
int fc_queue_wakeup_fd(const struct fc_queue *q);

/* How many messages wait in the queue now (a snapshot: other threads may change it at once). */
size_t fc_queue_length(struct fc_queue *q);

/* How many threads are blocked in push or pop on this queue now (a snapshot). For diagnostics,
 * and for tests that must know a thread is waiting before they act. */
size_t fc_queue_waiters(struct fc_queue *q);

#endif
