/* The agent link (see link.h): a local agent with its event queue, or the service's socket with a
 * line reader, a hello each way and the events that came while a command waited for its answer. */
#include "service/link.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "model/clock.h"
#include "model/version.h"
#include "service/lock.h"
#include "service/protocol.h"
#include "service/server.h"

/* How long the service may take to greet, and to answer a command. */
#define HELLO_MS 5000
#define ACK_MS 10000

struct agent_link {
	enum link_mode mode;
	/* LINK_LOCAL */
	struct agent *agent;
	int lock_fd;
	pid_t lock_holder;
	/* LINK_SERVICE */
	int fd;
	pid_t pid;
	struct proto_reader in;
	int64_t seq;
	struct fc_msg **pending; /* events read while waiting for an answer, oldest first */
	size_t n_pending, head, cap_pending;
	bool gone;
	char gone_reason[256];
};

/* ---- the socket ---- */

static void mark_gone(struct agent_link *l, const char *why)
{
	if (!l->gone)
		snprintf(l->gone_reason, sizeof l->gone_reason, "%s", why);
	l->gone = true;
}

/* Writes a whole line, waiting for room at most a few seconds. */
static int send_all(struct agent_link *l, const char *buf, size_t len, struct fc_error *err)
{
	size_t off = 0;
	int64_t deadline = clock_mono_ms() + ACK_MS;
	while (off < len) {
		ssize_t n = send(l->fd, buf + off, len - off, MSG_NOSIGNAL);
		if (n > 0) {
			off += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			int64_t left = deadline - clock_mono_ms();
			struct pollfd p = { .fd = l->fd, .events = POLLOUT };
			if (left <= 0 || poll(&p, 1, (int)left) < 0)
				return fc_error_set(err, "the service does not read its socket");
			continue;
		}
		mark_gone(l, "the service closed the connection");
		return fc_error_set(err, "the service closed the connection");
	}
	return 0;
}

static int send_frame(struct agent_link *l, const struct proto_frame *f, struct fc_error *err)
{
	size_t len;
	char *line = proto_encode(f, &len, err);
	if (!line)
		return -1;
	int rc = send_all(l, line, len, err);
	free(line);
	return rc;
}

/* The next frame from the service, waiting up to timeout_ms. Returns 1 with *f filled, 0 when
 * none came in time, -1 when the link is gone (the reason recorded). */
static int read_frame(struct agent_link *l, struct proto_frame *f, int timeout_ms)
{
	int64_t deadline = timeout_ms < 0 ? -1 : clock_mono_ms() + timeout_ms;
	for (;;) {
		const char *line;
		size_t len;
		struct fc_error err = { "" };
		int got = proto_reader_line(&l->in, &line, &len, &err);
		if (got < 0) {
			mark_gone(l, err.msg);
			return -1;
		}
		if (got == 1) {
			if (proto_decode(line, len, f, &err) < 0) {
				char why[300];
				snprintf(why, sizeof why, "the service sent a bad line: %s", err.msg);
				mark_gone(l, why);
				return -1;
			}
			return 1;
		}
		ssize_t n = proto_reader_fill(&l->in, l->fd, &err);
		if (n > 0)
			continue;
		if (n == 0 || n == -2) {
			mark_gone(l, n == 0 ? "the service closed the connection" : err.msg);
			return -1;
		}
		int wait = deadline < 0 ? -1 : (int)(deadline - clock_mono_ms());
		if (deadline >= 0 && wait <= 0)
			return 0;
		struct pollfd p = { .fd = l->fd, .events = POLLIN };
		if (poll(&p, 1, wait) < 0 && errno != EINTR) {
			mark_gone(l, strerror(errno));
			return -1;
		}
	}
}

static void pending_push(struct agent_link *l, struct fc_msg *m)
{
	if (l->head && l->head == l->n_pending)
		l->head = l->n_pending = 0;
	if (l->n_pending == l->cap_pending) {
		size_t ncap = l->cap_pending ? l->cap_pending * 2 : 64;
		struct fc_msg **np = realloc(l->pending, ncap * sizeof *np);
		if (!np) {
			fc_msg_free(&m); /* a progress line or a log line lost; the job's end comes later */
			return;
		}
		l->pending = np;
		l->cap_pending = ncap;
	}
	l->pending[l->n_pending++] = m;
}

/* Connects to the service; 1 when none answers (no socket, nobody listening), -1 when one
 * answered but the link could not be made (err set), 0 when connected and greeted. */
static int connect_service(struct agent_link *l, const char *db_path, struct fc_error *err)
{
	struct sockaddr_un sa;
	socklen_t salen;
	int dirfd;
	if (server_address(db_path, &sa, &salen, &dirfd, err) < 0)
		return -1;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		if (dirfd >= 0)
			close(dirfd);
		return fc_error_set(err, "socket: %s", strerror(errno));
	}
	int rc = connect(fd, (struct sockaddr *)&sa, salen);
	int e = errno;
	if (dirfd >= 0)
		close(dirfd);
	if (rc < 0) {
		close(fd);
		if (e == ENOENT || e == ECONNREFUSED || e == ENOTDIR)
			return 1;
		return fc_error_set(err, "cannot reach the service on %s%s: %s", db_path, SOCKET_SUFFIX, strerror(e));
	}
	int flags = fcntl(fd, F_GETFL);
	if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) {
		close(fd);
		return fc_error_set(err, "fcntl: %s", strerror(errno));
	}
	l->fd = fd;
	proto_reader_init(&l->in, PROTO_LINE_MAX_SERVICE);
	struct proto_frame f;
	int got = read_frame(l, &f, HELLO_MS);
	if (got <= 0)
		return fc_error_set(err, "the service on %s did not greet us: %s", db_path,
				    got == 0 ? "no answer in time" : l->gone_reason);
	if (f.type == PROTO_BYE) {
		fc_error_set(err, "the service refused us: %s", f.text);
		proto_frame_clear(&f);
		return -1;
	}
	if (f.type != PROTO_HELLO || f.version != PROTO_VERSION) {
		fc_error_set(err, "the service speaks protocol version %d, this program %d: use the same version "
				  "of fleetcon", f.type == PROTO_HELLO ? f.version : 0, PROTO_VERSION);
		proto_frame_clear(&f);
		return -1;
	}
	l->pid = (pid_t)f.pid;
	proto_frame_clear(&f);
	struct proto_frame hello = { .type = PROTO_HELLO, .version = PROTO_VERSION };
	snprintf(hello.text, sizeof hello.text, "fleetcon %s", fleetcon_version());
	if (send_frame(l, &hello, err) < 0)
		return -1;
	l->mode = LINK_SERVICE;
	return 0;
}

static void link_free(struct agent_link *l)
{
	if (l->fd >= 0)
		close(l->fd);
	proto_reader_free(&l->in);
	for (size_t i = l->head; i < l->n_pending; i++)
		fc_msg_free(&l->pending[i]);
	free(l->pending);
	lock_release(&l->lock_fd);
	free(l);
}

int link_open(const struct link_options *o, struct agent_link **out, struct fc_error *err)
{
	*out = NULL;
	struct agent_link *l = calloc(1, sizeof *l);
	if (!l)
		return fc_error_set(err, "out of memory");
	l->fd = -1;
	l->lock_fd = -1;
	int rc = connect_service(l, o->db_path, err);
	if (rc < 0) {
		link_free(l);
		return -1;
	}
	if (rc == 1) {
		if (l->fd >= 0) {
			close(l->fd);
			l->fd = -1;
		}
		if (o->take_lock) {
			int got = lock_take(o->db_path, &l->lock_fd, &l->lock_holder, err);
			if (got < 0) {
				link_free(l);
				return -1;
			}
		}
		if (!o->ac) {
			link_free(l);
			return fc_error_set(err, "no service runs on %s", o->db_path);
		}
		l->agent = actions_agent_new(o->db_path, o->ac, err);
		if (!l->agent) {
			link_free(l);
			return -1;
		}
		l->mode = LINK_LOCAL;
	}
	*out = l;
	return 0;
}

pid_t link_probe(const char *db_path)
{
	struct agent_link *l = calloc(1, sizeof *l);
	if (!l)
		return 0;
	l->fd = -1;
	l->lock_fd = -1;
	struct fc_error err = { "" };
	pid_t pid = connect_service(l, db_path, &err) == 0 ? l->pid : 0;
	link_free(l);
	return pid;
}

enum link_mode link_mode(const struct agent_link *l)
{
	return l->mode;
}

pid_t link_service_pid(const struct agent_link *l)
{
	return l->mode == LINK_SERVICE ? l->pid : 0;
}

bool link_holds_lock(const struct agent_link *l)
{
	return l->lock_fd >= 0;
}

pid_t link_lock_holder(const struct agent_link *l)
{
	return l->lock_holder;
}

struct agent *link_agent(struct agent_link *l)
{
	return l->agent;
}

const char *link_gone_reason(const struct agent_link *l)
{
	return l->gone ? l->gone_reason : "";
}

int link_submit(struct agent_link *l, int kind, int64_t id, int64_t a, int64_t b, const char *text, int64_t *job,
		struct fc_error *err)
{
	if (job)
		*job = 0;
	if (l->mode == LINK_LOCAL)
		return agent_submit(l->agent, kind, id, a, b, text, job, err);
	if (l->gone)
		return fc_error_set(err, "the service is gone: %s", l->gone_reason);
	struct fc_msg m = { .kind = kind, .id = id, .a = a, .b = b, .text = (char *)text };
	struct proto_frame f = { .type = PROTO_CMD, .seq = ++l->seq, .msg = &m };
	if (send_frame(l, &f, err) < 0)
		return -1;
	int64_t deadline = clock_mono_ms() + ACK_MS;
	for (;;) {
		int64_t left = deadline - clock_mono_ms();
		struct proto_frame r;
		int got = left > 0 ? read_frame(l, &r, (int)left) : 0;
		if (got == 0)
			return fc_error_set(err, "the service did not answer in time");
		if (got < 0)
			return fc_error_set(err, "the service is gone: %s", l->gone_reason);
		if (r.type == PROTO_EVENT) {
			pending_push(l, r.msg);
			r.msg = NULL;
		} else if (r.type == PROTO_BYE) {
			mark_gone(l, r.text);
		} else if (r.type == PROTO_ACK && r.seq == f.seq) {
			int rc = 0;
			if (r.text[0])
				rc = fc_error_set(err, "%s", r.text);
			else if (job)
				*job = r.job;
			proto_frame_clear(&r);
			return rc;
		}
		proto_frame_clear(&r);
		if (l->gone)
			return fc_error_set(err, "the service is gone: %s", l->gone_reason);
	}
}

int link_cancel(struct agent_link *l, int64_t job)
{
	if (l->mode == LINK_LOCAL) {
		agent_cancel(l->agent, job);
		return 0;
	}
	struct fc_error err = { "" };
	return link_submit(l, AGENT_CMD_CANCEL, job, 0, 0, NULL, NULL, &err);
}

int link_wakeup_fd(const struct agent_link *l)
{
	return l->mode == LINK_LOCAL ? fc_queue_wakeup_fd(agent_events(l->agent)) : l->fd;
}

int link_pop(struct agent_link *l, struct fc_msg **out, int timeout_ms)
{
	*out = NULL;
	if (l->mode == LINK_LOCAL)
		return fc_queue_pop(agent_events(l->agent), out, timeout_ms);
	if (l->head < l->n_pending) {
		*out = l->pending[l->head++];
		return 0;
	}
	if (l->gone)
		return FC_QUEUE_CLOSED;
	int64_t deadline = timeout_ms < 0 ? -1 : clock_mono_ms() + timeout_ms;
	for (;;) {
		int wait = deadline < 0 ? -1 : (int)(deadline - clock_mono_ms());
		if (wait < 0 && deadline >= 0)
			wait = 0;
		struct proto_frame f;
		int got = read_frame(l, &f, wait);
		if (got < 0)
			return FC_QUEUE_CLOSED;
		if (got == 0)
			return FC_QUEUE_EMPTY;
		if (f.type == PROTO_EVENT) {
			*out = f.msg;
			f.msg = NULL;
			proto_frame_clear(&f);
			return 0;
		}
		if (f.type == PROTO_BYE) {
			mark_gone(l, f.text);
			proto_frame_clear(&f);
			return FC_QUEUE_CLOSED;
		}
		proto_frame_clear(&f); /* a late answer: nothing waits for it */
	}
}

int link_close(struct agent_link **lp, int64_t timeout_ms, struct fc_error *err)
{
	if (!lp || !*lp)
		return 0;
	struct agent_link *l = *lp;
	*lp = NULL;
	if (l->agent) {
		if (agent_stop(l->agent, timeout_ms, err) < 0)
			return -1; /* its threads still use the agent: leave it, the process ends */
		agent_free(&l->agent);
	}
	link_free(l);
	return 0;
}
