/* Sending one e-mail through an SMTP server with libcurl: smtp:// with STARTTLS required (or plain
 * when the admin said so), or smtps:// (TLS from the first byte); the server's certificate and
 * host name are always verified. The message text is built here (RFC 5322, UTF-8 body in
 * quoted-printable) and no header is ever written from a value holding a line break or a control
 * character: such a message is refused, not cleaned. What goes into a message is uplink/alerting's
 * business. */
#ifndef FLEETCON_UPLINK_MAILER_H
#define FLEETCON_UPLINK_MAILER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model/config.h"
#include "model/error.h"

/* Where and how to send. Every string is borrowed for the duration of the call. */
struct mail_server {
	const char *url;        /* smtp://host[:port] or smtps://host[:port] */
	bool starttls;          /* smtp:// only: switch to TLS with STARTTLS, and send nothing
				   when the server does not offer it */
	const char *user;       /* NULL or "" = no login */
	const char *password;
	const char *ca_file;    /* PEM file of the CAs to trust; NULL or "" = the system's store */
	long connect_timeout;   /* seconds; 0 = MAIL_CONNECT_TIMEOUT */
	long timeout;           /* seconds, the whole exchange; 0 = MAIL_TIMEOUT */
};

#define MAIL_CONNECT_TIMEOUT 30
#define MAIL_TIMEOUT 120

/* One message. Every string is borrowed. */
struct mail_message {
	const char *from;       /* one address: name@example.com */
	const char *to;         /* addresses separated by commas (", " or ",") */
	const char *subject;    /* UTF-8 text, no control characters (non-ASCII is RFC 2047-encoded) */
	const char *body;       /* UTF-8 text, lines ended by "\n"; sent as quoted-printable */
	int64_t date;           /* UTC seconds, for the Date header */
	const char *message_id; /* "left@right" without the angle brackets; NULL = a new one */
};

/* Fills srv from the configuration's [smtp] section (the strings stay borrowed from cfg), with
 * ca_file (borrowed; NULL = the system's store) because the configuration has no key for it yet. */
void mail_server_from_config(const struct config *cfg, const char *ca_file, struct mail_server *srv);

/* Builds the full message text (headers and body, CRLF line ends) into a new buffer *out of *len
 * bytes (NUL-terminated too); the caller frees it. Fails, with nothing allocated, when a header
 * value holds a CR, LF or other control character, when an address is not a plain
 * name@domain, or when the subject is empty or longer than 900 bytes. */
int mail_format(const struct mail_message *m, char **out, size_t *len, struct fc_error *err);

/* Sends m to every address of m->to through srv and returns 0 once the server accepted it, or -1
 * with err saying what went wrong and what to do (server not reachable, no STARTTLS offered,
 * certificate not trusted, login refused, recipient refused, ...). Blocks for at most
 * srv->timeout seconds. The caller has called curl_global_init() before any thread started.
 * Safe to call from several threads at once. */
int mail_send(const struct mail_server *srv, const struct mail_message *m, struct fc_error *err);

#endif
