/* The service's socket (see server.h): accept, hello, commands in, events out, bounded buffers. */
#include "service/server.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <libgen.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "model/agent.h"
#include "service/lock.h"
#include "service/protocol.h"

struct client {
	int fd;
	bool greeted;              /* the client's hello came */
	bool closing;              /* drop once what waits is written (or at once) */
	struct proto_reader in;
	char *out;                 /* waiting to be written */
	size_t out_len, out_off, out_cap;
	int64_t *jobs;             /* jobs this client submitted and not yet done */
	size_t n_jobs, cap_jobs;
};

struct server {
	int listen_fd;
	char path[4200];
	char version[64];
	struct agent *agent;
	struct client clients[SERVER_MAX_CLIENTS];
	size_t n_clients;
	void (*log)(void *ctx, int level, const char *line);
	void *log_ctx;
};

static void slog(struct server *s, int level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void slog(struct server *s, int level, const char *fmt, ...)
{
	if (!s->log)
		return;
	char line[600];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	s->log(s->log_ctx, level, line);
}

int server_address(const char *db_path, struct sockaddr_un *sa, socklen_t *len, int *dirfd, struct fc_error *err)
{
	char path[4200];
	*dirfd = -1;
	if (lock_file_path(db_path, SOCKET_SUFFIX, path, sizeof path, err) < 0)
		return -1;
	memset(sa, 0, sizeof *sa);
	sa->sun_family = AF_UNIX;
	if (strlen(path) < sizeof sa->sun_path) {
		memcpy(sa->sun_path, path, strlen(path) + 1);
	} else {
		/* sun_path holds 107 bytes: reach the folder through a descriptor instead */
		char dir[4200], base[4200];
		snprintf(dir, sizeof dir, "%s", path);
		snprintf(base, sizeof base, "%s", path);
		int d = open(dirname(dir), O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (d < 0)
			return fc_error_set(err, "cannot open the folder of %s: %s", path, strerror(errno));
		int n = snprintf(sa->sun_path, sizeof sa->sun_path, "/proc/self/fd/%d/%s", d, basename(base));
		if (n < 0 || (size_t)n >= sizeof sa->sun_path) {
			close(d);
			return fc_error_set(err, "the socket's name %s is too long", basename(base));
		}
		*dirfd = d;
	}
	*len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(sa->sun_path) + 1);
	return 0;
}

int server_open(const struct server_options *o, struct server **out, struct fc_error *err)
{
	*out = NULL;
	struct server *s = calloc(1, sizeof *s);
	if (!s)
		return fc_error_set(err, "out of memory");
	s->listen_fd = -1;
	s->log = o->log;
	s->log_ctx = o->log_ctx;
	snprintf(s->version, sizeof s->version, "%s", o->version ? o->version : "");
	gid_t gid = (gid_t)-1;
	if (o->group && *o->group) {
		struct group *g = getgrnam(o->group);
		if (!g) {
			free(s);
			return fc_error_set(err, "[service] socket_group: no group \"%s\" on this host", o->group);
		}
		gid = g->gr_gid;
	}
	struct sockaddr_un sa;
	socklen_t salen;
	int dirfd;
	if (lock_file_path(o->db_path, SOCKET_SUFFIX, s->path, sizeof s->path, err) < 0 ||
	    server_address(o->db_path, &sa, &salen, &dirfd, err) < 0) {
		free(s);
		return -1;
	}
	/* a socket left by a service that died: the caller holds the lock, so nobody owns it */
	struct stat st;
	if (lstat(s->path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			if (dirfd >= 0)
				close(dirfd);
			free(s);
			return fc_error_set(err, "%s exists and is not a socket: move it away", s->path);
		}
		unlink(s->path);
	}
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		if (dirfd >= 0)
			close(dirfd);
		free(s);
		return fc_error_set(err, "socket: %s", strerror(errno));
	}
	/* created owner-only; widened to the group afterwards, never the other way round */
	mode_t old = umask(0177);
	int rc = bind(fd, (struct sockaddr *)&sa, salen);
	int e = errno;
	umask(old);
	if (dirfd >= 0)
		close(dirfd);
	if (rc < 0) {
		close(fd);
		free(s);
		return fc_error_set(err, "cannot listen on %s: %s", s->path, strerror(e));
	}
	if (gid != (gid_t)-1 && (chown(s->path, (uid_t)-1, gid) < 0 || chmod(s->path, 0660) < 0)) {
		e = errno;
		close(fd);
		unlink(s->path);
		free(s);
		return fc_error_set(err, "cannot give %s to the group %s: %s", s->path, o->group, strerror(e));
	}
	if (listen(fd, 16) < 0) {
		e = errno;
		close(fd);
		unlink(s->path);
		free(s);
		return fc_error_set(err, "listen on %s: %s", s->path, strerror(e));
	}
	s->listen_fd = fd;
	*out = s;
	return 0;
}

void server_set_agent(struct server *s, struct agent *a)
{
	s->agent = a;
}

void server_stop_listening(struct server *s)
{
	if (s->listen_fd >= 0) {
		close(s->listen_fd);
		s->listen_fd = -1;
		unlink(s->path);
	}
}

size_t server_clients(const struct server *s)
{
	return s->n_clients;
}

/* ---- clients ---- */

static void client_close(struct server *s, size_t i)
{
	struct client *c = &s->clients[i];
	close(c->fd);
	proto_reader_free(&c->in);
	free(c->out);
	free(c->jobs);
	s->clients[i] = s->clients[--s->n_clients];
	memset(&s->clients[s->n_clients], 0, sizeof s->clients[0]);
}

/* Writes what waits without blocking. Returns -1 when the client is gone. */
static int client_flush(struct client *c)
{
	while (c->out_off < c->out_len) {
		ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);
		if (n > 0) {
			c->out_off += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		return -1;
	}
	c->out_off = c->out_len = 0;
	return 0;
}

/* Queues a line for the client. Returns -1 when its backlog passed the bound or memory ran out. */
static int client_queue(struct client *c, const char *line, size_t len)
{
	if (c->out_off && c->out_off == c->out_len)
		c->out_off = c->out_len = 0;
	if (c->out_len - c->out_off + len > SERVER_CLIENT_BACKLOG)
		return -1;
	if (c->out_off > c->out_cap / 2) {
		memmove(c->out, c->out + c->out_off, c->out_len - c->out_off);
		c->out_len -= c->out_off;
		c->out_off = 0;
	}
	if (c->out_len + len > c->out_cap) {
		size_t ncap = c->out_cap ? c->out_cap : 4096;
		while (ncap < c->out_len + len)
			ncap *= 2;
		char *nb = realloc(c->out, ncap);
		if (!nb)
			return -1;
		c->out = nb;
		c->out_cap = ncap;
	}
	memcpy(c->out + c->out_len, line, len);
	c->out_len += len;
	return 0;
}

static int client_send(struct server *s, struct client *c, const struct proto_frame *f)
{
	struct fc_error err = { "" };
	size_t len;
	char *line = proto_encode(f, &len, &err);
	if (!line) {
		slog(s, AGENT_WARN, "socket: %s", err.msg);
		return 0;
	}
	int rc = client_queue(c, line, len);
	free(line);
	if (rc == 0)
		rc = client_flush(c);
	return rc;
}

static void client_bye(struct server *s, struct client *c, const char *why)
{
	struct proto_frame f = { .type = PROTO_BYE };
	snprintf(f.text, sizeof f.text, "%s", why);
	client_send(s, c, &f);
	c->closing = true;
}

static void job_add(struct client *c, int64_t job)
{
	if (c->n_jobs == c->cap_jobs) {
		size_t ncap = c->cap_jobs ? c->cap_jobs * 2 : 8;
		int64_t *nj = realloc(c->jobs, ncap * sizeof *nj);
		if (!nj)
			return; /* its events then go to everyone: harmless */
		c->jobs = nj;
		c->cap_jobs = ncap;
	}
	c->jobs[c->n_jobs++] = job;
}

static void handle_line(struct server *s, struct client *c, const char *line, size_t len)
{
	struct proto_frame f;
	struct fc_error err = { "" };
	if (proto_decode(line, len, &f, &err) < 0) {
		slog(s, AGENT_WARN, "socket: a client sent a bad line (%s): closed", err.msg);
		client_bye(s, c, "bad line");
		return;
	}
	if (!c->greeted) {
		if (f.type != PROTO_HELLO || f.version != PROTO_VERSION) {
			char why[128];
			snprintf(why, sizeof why, "protocol version %d is not spoken here (this service speaks %d)",
				 f.type == PROTO_HELLO ? f.version : 0, PROTO_VERSION);
			client_bye(s, c, why);
		} else {
			c->greeted = true;
		}
		proto_frame_clear(&f);
		return;
	}
	if (f.type != PROTO_CMD) {
		proto_frame_clear(&f);
		return;
	}
	struct proto_frame ack = { .type = PROTO_ACK, .seq = f.seq };
	if (!s->agent) {
		snprintf(ack.text, sizeof ack.text, "the service is stopping");
		fc_msg_free(&f.msg);
	} else {
		int kind = f.msg->kind;
		int64_t job = 0;
		if (agent_submit_msg(s->agent, &f.msg, &job, &err) < 0) {
			snprintf(ack.text, sizeof ack.text, "%s", err.msg);
		} else {
			ack.job = job;
			if (job)
				job_add(c, job);
			slog(s, AGENT_DEBUG, "socket: %s submitted as job %lld", agent_cmd_name(kind), (long long)job);
		}
	}
	proto_frame_clear(&f);
	if (client_send(s, c, &ack) < 0)
		c->closing = true;
}

static void client_read(struct server *s, struct client *c)
{
	struct fc_error err = { "" };
	ssize_t n = proto_reader_fill(&c->in, c->fd, &err);
	if (n == 0 || n == -2) {
		c->closing = true;
		c->out_len = c->out_off = 0; /* the peer is gone: nothing more to write */
		return;
	}
	const char *line;
	size_t len;
	int got;
	while (!c->closing && (got = proto_reader_line(&c->in, &line, &len, &err)) == 1)
		handle_line(s, c, line, len);
	if (!c->closing && got < 0) {
		slog(s, AGENT_WARN, "socket: %s: client closed", err.msg);
		client_bye(s, c, err.msg);
	}
}

static void accept_clients(struct server *s)
{
	for (;;) {
		int fd = accept4(s->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return;
		if (s->n_clients >= SERVER_MAX_CLIENTS) {
			static const char full[] = "{\"t\":\"bye\",\"text\":\"too many clients\"}\n";
			if (send(fd, full, sizeof full - 1, MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
				/* it is closed anyway */
			}
			close(fd);
			slog(s, AGENT_WARN, "socket: a client was refused: %d are connected already", SERVER_MAX_CLIENTS);
			continue;
		}
		struct client *c = &s->clients[s->n_clients++];
		memset(c, 0, sizeof *c);
		c->fd = fd;
		proto_reader_init(&c->in, PROTO_LINE_MAX_CLIENT);
		struct proto_frame hello = { .type = PROTO_HELLO, .version = PROTO_VERSION, .pid = (int64_t)getpid() };
		snprintf(hello.text, sizeof hello.text, "%s", s->version);
		if (client_send(s, c, &hello) < 0)
			c->closing = true;
		slog(s, AGENT_DEBUG, "socket: a client connected (%zu now)", s->n_clients);
	}
}

size_t server_pollfds(struct server *s, struct pollfd *pfd, size_t max)
{
	size_t n = 0;
	if (s->listen_fd >= 0 && n < max)
		pfd[n++] = (struct pollfd){ .fd = s->listen_fd, .events = POLLIN };
	for (size_t i = 0; i < s->n_clients && n < max; i++) {
		struct client *c = &s->clients[i];
		pfd[n++] = (struct pollfd){ .fd = c->fd, .events = (short)(POLLIN | (c->out_len > c->out_off ? POLLOUT : 0)) };
	}
	return n;
}

void server_service(struct server *s, const struct pollfd *pfd, size_t n)
{
	for (size_t k = 0; k < n; k++) {
		if (!pfd[k].revents)
			continue;
		if (pfd[k].fd == s->listen_fd) {
			accept_clients(s);
			continue;
		}
		for (size_t i = 0; i < s->n_clients; i++) {
			struct client *c = &s->clients[i];
			if (c->fd != pfd[k].fd)
				continue;
			if (pfd[k].revents & (POLLIN | POLLHUP | POLLERR))
				client_read(s, c);
			if (!c->closing && (pfd[k].revents & POLLOUT) && client_flush(c) < 0)
				c->closing = true;
			break;
		}
	}
	/* drop the clients that are done: those closing once what they were told is written */
	for (size_t i = s->n_clients; i-- > 0;) {
		struct client *c = &s->clients[i];
		if (c->closing && (c->out_len == c->out_off || client_flush(c) < 0 || c->out_len == c->out_off)) {
			client_close(s, i);
			slog(s, AGENT_DEBUG, "socket: a client left (%zu now)", s->n_clients);
		}
	}
}

/* The client that submitted job (its index), or -1. Forgets the job when done. */
static int owner_of(struct server *s, int64_t job, bool done)
{
	for (size_t i = 0; i < s->n_clients; i++) {
		struct client *c = &s->clients[i];
		for (size_t j = 0; j < c->n_jobs; j++) {
			if (c->jobs[j] != job)
				continue;
			if (done)
				c->jobs[j] = c->jobs[--c->n_jobs];
			return (int)i;
		}
	}
	return -1;
}

void server_event(struct server *s, const struct fc_msg *ev)
{
	if (!s->n_clients)
		return;
	int owner = -1;
	if (ev->kind == AGENT_EV_JOB_STARTED || ev->kind == AGENT_EV_PROGRESS || ev->kind == AGENT_EV_JOB_DONE ||
	    ev->kind == AGENT_EV_RESULT)
		owner = owner_of(s, ev->id, ev->kind == AGENT_EV_JOB_DONE);
	struct fc_msg copy = { .kind = ev->kind, .id = ev->id, .a = ev->a, .b = ev->b, .text = ev->text };
	struct proto_frame f = { .type = PROTO_EVENT, .msg = &copy };
	struct fc_error err = { "" };
	size_t len;
	char *line = proto_encode(&f, &len, &err);
	if (!line) {
		slog(s, AGENT_WARN, "socket: an event could not be sent: %s", err.msg);
		return;
	}
	for (size_t i = 0; i < s->n_clients; i++) {
		struct client *c = &s->clients[i];
		if ((owner >= 0 && (int)i != owner) || !c->greeted || c->closing)
			continue;
		if (client_queue(c, line, len) < 0 || client_flush(c) < 0) {
			slog(s, AGENT_WARN, "socket: a client does not keep up with the events: closed");
			c->closing = true;
			c->out_len = c->out_off = 0;
		}
	}
	free(line);
}

void server_close(struct server **sp, const char *why)
{
	if (!sp || !*sp)
		return;
	struct server *s = *sp;
	for (size_t i = 0; i < s->n_clients; i++) {
		struct client *c = &s->clients[i];
		if (c->greeted && !c->closing)
			client_bye(s, c, why ? why : "the service is stopping");
	}
	while (s->n_clients)
		client_close(s, s->n_clients - 1);
	server_stop_listening(s);
	free(s);
	*sp = NULL;
}
