/* HTTPS transport of one report to the communication server: libcurl with OpenSSL, HTTPS only,
 * TLS 1.2 at least, peer and host name always verified (optionally a pinned public key) before any
 * byte of the report leaves, HTTP basic authentication, proxy from the configuration or the
 * usual environment variables (https_proxy, all_proxy, no_proxy), connect / total / low-speed
 * timeouts, no redirects followed. One call is one attempt; retrying is the outbox's business. */
#ifndef FLEETCON_UPLINK_TRANSPORT_H
#define FLEETCON_UPLINK_TRANSPORT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model/config.h"
#include "model/error.h"

/* Initialises libcurl (curl_global_init) once for the process. Call it from main() before any
 * thread starts; later calls do nothing. Returns 0, or -1 with err set. */
int transport_global_init(struct fc_error *err);

/* Releases libcurl's global state; call once at exit, after every thread has stopped. */
void transport_global_cleanup(void);

/* What the transfer is doing, reported as it happens. */
enum transport_stage {
	TRANSPORT_CONNECT, /* opening the TCP connection (to the server or the proxy) */
	TRANSPORT_TLS,     /* TLS handshake and verification of the server */
	TRANSPORT_SEND,    /* the server is verified; the report is being sent (sent/total bytes) */
	TRANSPORT_WAIT,    /* all sent; waiting for the server's answer */
};

/* Called from inside the transfer (same thread). sent/total are report bytes (TRANSPORT_SEND). */
typedef void (*transport_progress_fn)(void *ctx, enum transport_stage stage, uint64_t sent,
				      uint64_t total);

/* What an attempt came to. */
enum transport_outcome {
	TRANSPORT_DELIVERED,   /* any 2xx: the server has the report */
	TRANSPORT_RETRY,       /* network error, timeout, 408, 429, 5xx: try again later */
	TRANSPORT_AUTH_FAILED, /* 401 or 403: the credentials are wrong; do not retry on our own */
	TRANSPORT_REJECTED,    /* another answer (4xx, 3xx): the server refused this report */
	TRANSPORT_TLS_FAILED,  /* the server could not be verified (certificate, host name, pin, TLS
				  version): nothing was sent; retrying soon will not help */
	TRANSPORT_CANCELLED,   /* the caller's cancel flag stopped it */
};

struct transport_result {
	enum transport_outcome outcome;
	int http_status;      /* the server's status code, 0 when it gave none */
	int64_t retry_after;  /* seconds the server asked to wait (Retry-After), -1 when it did not */
	uint64_t bytes_sent;  /* bytes of the report sent */
	char message[512];    /* one line: what happened; the server's own words are cleaned with
				 text_clean() and cut to 300 bytes */
};

struct transport_options {
	const char *url;        /* https:// only */
	const char *user;       /* "" or NULL: no authentication */
	const char *password;
	const char *ca_file;    /* "" or NULL: the system's CA store */
	const char *pinned_key; /* "" or NULL: no pin; else curl's form (sha256//BASE64;... or a file) */
	const char *proxy;      /* "" or NULL: from the environment */
	long connect_timeout;   /* seconds */
	long timeout;           /* seconds, the whole attempt */
	long low_speed_time;    /* seconds below 1 byte/s before giving up; 0 = min(60, timeout) */
	transport_progress_fn progress; /* may be NULL */
	void *progress_ctx;
	const atomic_bool *cancel;      /* may be NULL; true stops the transfer */
};

/* Fills o from the configuration's [server] section (borrowing its strings: cfg must outlive o).
 * progress and cancel are left NULL. */
void transport_options_from_config(struct transport_options *o, const struct config *cfg);

/* POSTs one gzip-compressed JSON report with the headers Content-Type: application/json,
 * Content-Encoding: gzip and Idempotency-Key: key. Returns 0 with *res filled whatever the
 * server said (see res->outcome), or -1 with err set when nothing could be tried: a URL that is
 * not https://, no URL, out of memory. */
int transport_post(const struct transport_options *o, const char *key, const unsigned char *body,
		   size_t size, struct transport_result *res, struct fc_error *err);

/* What an HTTP status means for a report (the rule transport_post applies). */
enum transport_outcome transport_classify_status(int http_status);

/* Stable words for logs and the sync history ("delivered", "retry", "auth-failed", ...). */
const char *transport_outcome_name(enum transport_outcome o);
const char *transport_stage_name(enum transport_stage s);

#endif
