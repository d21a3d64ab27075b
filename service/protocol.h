/* The service's socket protocol: newline-delimited JSON (one object per line, UTF-8), versioned
 * by the hello each side sends first. It carries the agent's commands (model/agent.h) from a
 * client to the service and the agent's events back, with the command and event kinds as names.
 * Pure encoding and decoding here, plus a bounded line reader; docs/service.md describes the
 * lines. */
#ifndef FLEETCON_SERVICE_PROTOCOL_H
#define FLEETCON_SERVICE_PROTOCOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "model/error.h"
#include "model/queue.h"

#define PROTO_VERSION 1
/* The longest line each side accepts: a client sends short commands; the service sends events,
 * of which a report preview is the longest (2 MiB of text, more once escaped). */
#define PROTO_LINE_MAX_CLIENT (64u * 1024)
#define PROTO_LINE_MAX_SERVICE (16u * 1024 * 1024)

enum proto_type {
	PROTO_HELLO = 1, /* both ways, first: version; from the service also its pid and version */
	PROTO_CMD,       /* client -> service: seq and a command (msg) */
	PROTO_ACK,       /* service -> client: seq and the job number, or the error text */
	PROTO_EVENT,     /* service -> client: an event (msg) */
	PROTO_BYE,       /* service -> client: the service is stopping or refuses (text says why) */
};

struct proto_frame {
	enum proto_type type;
	int version;        /* HELLO */
	int64_t pid;        /* HELLO from the service */
	int64_t seq;        /* CMD, ACK: the client's number for the command */
	int64_t job;        /* ACK: the job (0 when refused) */
	struct fc_msg *msg; /* CMD, EVENT: owned by the frame (kind, id, a, b, text only) */
	char text[512];     /* HELLO: the program's version; ACK: the error ("" = accepted); BYE */
};

/* Frees the frame's message and zeroes it. */
void proto_frame_clear(struct proto_frame *f);

/* The frame as one line of JSON ending in "\n": a new string (caller frees) with its length in
 * *len, or NULL with err set (out of memory, an unknown command or event kind). Text that is not
 * valid UTF-8 is sent with "?" for each bad byte. */
char *proto_encode(const struct proto_frame *f, size_t *len, struct fc_error *err);

/* Reads one line (without its "\n"; len bytes, need not be NUL-terminated) into *f, which the
 * caller clears afterwards. Returns 0, or -1 with err set when the line is not a frame of this
 * protocol (bad JSON, unknown type or kind, a field of the wrong type). */
int proto_decode(const char *line, size_t len, struct proto_frame *f, struct fc_error *err);

/* A bounded line reader over a non-blocking descriptor. */
struct proto_reader {
	char *buf;
	size_t len, cap;
	size_t max;       /* the longest line accepted */
	size_t start;     /* where the unread part begins */
};

/* An empty reader for lines of at most max bytes. Nothing to free until it has read. */
void proto_reader_init(struct proto_reader *r, size_t max);
void proto_reader_free(struct proto_reader *r);

/* Reads what fd has now (it must be non-blocking). Returns the bytes read (> 0), 0 when the peer
 * closed the connection, -1 when nothing was waiting (EAGAIN), -2 with err set on an error. */
ssize_t proto_reader_fill(struct proto_reader *r, int fd, struct fc_error *err);

/* The next complete line, when one is buffered: *line points into the reader (valid until the
 * next call), *len its length without the "\n". Returns 1, 0 when no complete line is buffered,
 * or -1 with err set when a line is longer than max (the connection should be dropped). */
int proto_reader_line(struct proto_reader *r, const char **line, size_t *len, struct fc_error *err);

#endif
