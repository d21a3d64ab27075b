/* The agent link: how the console and the command line reach the agent of a database, whichever
 * hosts it. When a service runs on that database, the link is its socket (service/protocol.h);
 * otherwise the link starts the agent in this process (service/actions.h). Either way the caller
 * submits commands and pops the agent's events the same way, and the screens and commands behave
 * the same. One thread uses a link. */
#ifndef FLEETCON_SERVICE_LINK_H
#define FLEETCON_SERVICE_LINK_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "model/agent.h"
#include "model/error.h"
#include "model/queue.h"
#include "service/actions.h"

enum link_mode {
	LINK_LOCAL = 1, /* the agent runs in this process */
	LINK_SERVICE,   /* the agent is the service's, reached over its socket */
};

struct link_options {
	const char *db_path;
	struct actions_config *ac; /* for a local agent; borrowed, must outlive the link */
	/* A local agent takes the agent's lock (service/lock.h), as a console that schedules does;
	 * when another process holds it the link still starts (link_lock_holder() says who). */
	bool take_lock;
};

struct agent_link;

/* Connects to the service of o->db_path when one answers, else starts a local agent. The caller
 * frees *out with link_close(). Returns 0, or -1 with err set (the service refused us, or the
 * local agent could not start). */
int link_open(const struct link_options *o, struct agent_link **out, struct fc_error *err);

/* The pid of the service running on db_path (from its hello), or 0 when none answers. */
pid_t link_probe(const char *db_path);

enum link_mode link_mode(const struct agent_link *l);

/* LINK_SERVICE: the service's pid. LINK_LOCAL: 0. */
pid_t link_service_pid(const struct agent_link *l);

/* LINK_LOCAL with take_lock: whether this process holds the lock (so it schedules), and when not
 * the pid of the one that does (0 = unknown). */
bool link_holds_lock(const struct agent_link *l);
pid_t link_lock_holder(const struct agent_link *l);

/* The local agent (LINK_LOCAL), NULL over a socket. Borrowed. */
struct agent *link_agent(struct agent_link *l);

/* Submits a command, as agent_submit() (text copied, may be NULL): the job in *job (0 for a
 * cancel). Over a socket this waits (a few seconds at most) for the service's answer; events that
 * come meanwhile are kept for link_pop(). Returns 0, or -1 with err set. */
int link_submit(struct agent_link *l, int kind, int64_t id, int64_t a, int64_t b, const char *text,
		int64_t *job, struct fc_error *err);

/* Asks the job to stop (AGENT_CMD_CANCEL). Returns 0, or -1 when it could not be sent. */
int link_cancel(struct agent_link *l, int64_t job);

/* A descriptor to poll() for POLLIN: readable when events may wait. After it woke, and after every
 * link_submit(), pop until FC_QUEUE_EMPTY. Borrowed. */
int link_wakeup_fd(const struct agent_link *l);

/* The next event (the caller owns it, frees it with fc_msg_free), waiting up to timeout_ms (0 =
 * not at all, negative = as long as it takes). Returns 0, FC_QUEUE_EMPTY, or FC_QUEUE_CLOSED when
 * the agent has gone (the service stopped: link_gone_reason() says why). */
int link_pop(struct agent_link *l, struct fc_msg **out, int timeout_ms);

/* Why the service's link ended ("" while it is up). Borrowed. */
const char *link_gone_reason(const struct agent_link *l);

/* Closes the link: a local agent is stopped (its jobs cancelled; at most timeout_ms) and freed,
 * and the lock released; a socket is closed (the service and its jobs go on). NULLs *l. Returns
 * 0, or -1 with err set when the local agent did not stop in time (it is then left running: the
 * process should exit). */
int link_close(struct agent_link **l, int64_t timeout_ms, struct fc_error *err);

#endif
