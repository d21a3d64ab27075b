/* The service's side of the socket: listens on "<database>.sock" (mode 0600, or 0660 with the
 * group [service] socket_group), greets each client with a hello, runs the commands they send on
 * the agent and answers each with its job, and sends them the agent's events: the events of a
 * client's own jobs to that client, every other event to every client. All of it runs on the
 * service's main thread, from its poll() loop; nothing blocks on a slow client (a client whose
 * backlog passes a bound is dropped). */
#ifndef FLEETCON_SERVICE_SERVER_H
#define FLEETCON_SERVICE_SERVER_H

#include <poll.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>

#include "model/agent.h"
#include "model/error.h"
#include "model/queue.h"

/* At most this many clients at once (more are told so and closed), and this much waiting to be
 * sent to one client before it counts as gone. */
#define SERVER_MAX_CLIENTS 32
#define SERVER_CLIENT_BACKLOG (64u * 1024 * 1024)

/* The address of db_path's socket. A path too long for sun_path goes through
 * "/proc/self/fd/N/NAME" with *dirfd (>= 0) open on the database's folder: the caller closes it
 * after bind() or connect(). Returns 0, or -1 with err set. */
int server_address(const char *db_path, struct sockaddr_un *sa, socklen_t *len, int *dirfd,
		   struct fc_error *err);

struct server;

struct server_options {
	const char *db_path;
	const char *group;   /* "" or NULL: owner only (0600); else 0660 with this group */
	const char *version; /* the program's version for the hello */
	/* Lines for the service's log (may be NULL). */
	void (*log)(void *ctx, int level, const char *line);
	void *log_ctx;
};

/* Removes a stale socket (the caller holds the agent's lock, so no service owns it), binds and
 * listens. The caller owns *out and frees it with server_close(). Returns 0, or -1 with err set. */
int server_open(const struct server_options *o, struct server **out, struct fc_error *err);

/* The agent that runs the clients' commands (borrowed; NULL: commands are refused). */
void server_set_agent(struct server *s, struct agent *a);

/* Stops taking new connections (the service is stopping); the clients stay until server_close. */
void server_stop_listening(struct server *s);

/* The descriptors to poll now, written to pfd (room for max; SERVER_MAX_CLIENTS + 1 is enough).
 * Returns how many. */
size_t server_pollfds(struct server *s, struct pollfd *pfd, size_t max);

/* After poll(): accepts, reads and runs commands, writes what waits, for the descriptors that
 * server_pollfds() gave (pfd as poll() returned them). */
void server_service(struct server *s, const struct pollfd *pfd, size_t n);

/* An event of the agent (borrowed): to the client whose job it is, else to every client. */
void server_event(struct server *s, const struct fc_msg *ev);

/* The clients connected now. */
size_t server_clients(const struct server *s);

/* Tells every client why it is closed (a BYE line, best effort), closes them and the socket,
 * removes the socket file, frees the server and NULLs *s. */
void server_close(struct server **s, const char *why);

#endif
