/* The HTTPS transport (see transport.h). One easy handle per attempt: no connection is reused
 * between attempts, so every attempt verifies the server afresh. Stages come from libcurl's
 * callbacks: the socket option callback (a socket is about to connect), the SSL_CTX callback (a
 * TLS handshake is about to start), the pre-request callback (connected and verified; the request
 * goes next) and the transfer-info callback (bytes sent). */
#include "uplink/transport.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

#include "model/text.h"
#include "model/version.h"

#define RESPONSE_KEEP 4096    /* bytes of the server's answer kept for the message */
#define SERVER_WORDS_MAX 300  /* bytes of the server's words in a message */

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static CURLcode init_code = CURLE_OK;

static void global_init(void)
{
	init_code = curl_global_init(CURL_GLOBAL_DEFAULT);
}

int transport_global_init(struct fc_error *err)
{
	pthread_once(&init_once, global_init);
	if (init_code != CURLE_OK)
		return fc_error_set(err, "cannot initialise libcurl: %s", curl_easy_strerror(init_code));
	const curl_version_info_data *v = curl_version_info(CURLVERSION_NOW);
	if (!(v->features & CURL_VERSION_SSL))
		return fc_error_set(err, "this libcurl has no TLS support; uploads need HTTPS");
	return 0;
}

void transport_global_cleanup(void)
{
	curl_global_cleanup();
}

void transport_options_from_config(struct transport_options *o, const struct config *cfg)
{
	memset(o, 0, sizeof *o);
	o->url = cfg->server.url;
	o->user = cfg->server.user;
	o->password = cfg->server.password;
	o->ca_file = cfg->server.ca_file;
	o->pinned_key = cfg->server.pinned_key;
	o->proxy = cfg->server.proxy;
	o->connect_timeout = (long)cfg->server.connect_timeout;
	o->timeout = (long)cfg->server.timeout;
}

enum transport_outcome transport_classify_status(int status)
{
	if (status >= 200 && status <= 299)
		return TRANSPORT_DELIVERED;
	if (status == 408 || status == 429 || (status >= 500 && status <= 599))
		return TRANSPORT_RETRY;
	if (status == 401 || status == 403)
		return TRANSPORT_AUTH_FAILED;
	return TRANSPORT_REJECTED;
}

const char *transport_outcome_name(enum transport_outcome o)
{
	static const char *const names[] = {
		[TRANSPORT_DELIVERED] = "delivered", [TRANSPORT_RETRY] = "retry",
		[TRANSPORT_AUTH_FAILED] = "auth-failed", [TRANSPORT_REJECTED] = "rejected",
		[TRANSPORT_TLS_FAILED] = "tls-failed", [TRANSPORT_CANCELLED] = "cancelled",
	};
	return (unsigned)o < sizeof names / sizeof names[0] ? names[o] : "unknown";
}

const char *transport_stage_name(enum transport_stage s)
{
	static const char *const names[] = {
		[TRANSPORT_CONNECT] = "connect", [TRANSPORT_TLS] = "tls", [TRANSPORT_SEND] = "send",
		[TRANSPORT_WAIT] = "wait",
	};
	return (unsigned)s < sizeof names / sizeof names[0] ? names[s] : "unknown";
}

/* libcurl errors: what they mean for the report, and what to tell the admin. */
static const struct {
	CURLcode code;
	enum transport_outcome outcome;
	const char *what;
} curl_errors[] = {
	{ CURLE_PEER_FAILED_VERIFICATION, TRANSPORT_TLS_FAILED,
	  "the server could not be verified (its certificate or host name); check [server] url and ca_file" },
	{ CURLE_SSL_PINNEDPUBKEYNOTMATCH, TRANSPORT_TLS_FAILED,
	  "the server's public key does not match [server] pinned_key" },
	{ CURLE_SSL_CONNECT_ERROR, TRANSPORT_TLS_FAILED,
	  "the TLS handshake failed (the server may not speak TLS 1.2 or later, or not TLS at all)" },
	{ CURLE_SSL_CACERT_BADFILE, TRANSPORT_TLS_FAILED, "the CA certificates cannot be read; check [server] ca_file" },
	{ CURLE_SSL_CERTPROBLEM, TRANSPORT_TLS_FAILED, "a certificate problem stopped the TLS handshake" },
	{ CURLE_SSL_CIPHER, TRANSPORT_TLS_FAILED, "no TLS cipher in common with the server" },
	{ CURLE_SSL_ISSUER_ERROR, TRANSPORT_TLS_FAILED, "the server's certificate issuer could not be verified" },
	{ CURLE_SSL_INVALIDCERTSTATUS, TRANSPORT_TLS_FAILED, "the server's certificate status is invalid" },
	{ CURLE_SSL_CRL_BADFILE, TRANSPORT_TLS_FAILED, "the certificate revocation list cannot be read" },
	{ CURLE_SSL_ENGINE_INITFAILED, TRANSPORT_TLS_FAILED, "the TLS engine could not start" },
	{ CURLE_COULDNT_RESOLVE_HOST, TRANSPORT_RETRY, "the server's name could not be resolved" },
	{ CURLE_COULDNT_RESOLVE_PROXY, TRANSPORT_RETRY, "the proxy's name could not be resolved" },
	{ CURLE_COULDNT_CONNECT, TRANSPORT_RETRY, "could not connect to the server" },
	{ CURLE_OPERATION_TIMEDOUT, TRANSPORT_RETRY, "the server did not answer in time" },
	{ CURLE_GOT_NOTHING, TRANSPORT_RETRY, "the server closed the connection without answering" },
	{ CURLE_SEND_ERROR, TRANSPORT_RETRY, "sending to the server failed" },
	{ CURLE_RECV_ERROR, TRANSPORT_RETRY, "receiving the server's answer failed" },
	{ CURLE_WEIRD_SERVER_REPLY, TRANSPORT_RETRY, "the server's answer was not HTTP" },
	{ CURLE_PARTIAL_FILE, TRANSPORT_RETRY, "the server's answer was cut short" },
	{ CURLE_HTTP2, TRANSPORT_RETRY, "an HTTP/2 error" },
	{ CURLE_HTTP2_STREAM, TRANSPORT_RETRY, "an HTTP/2 stream error" },
	{ CURLE_ABORTED_BY_CALLBACK, TRANSPORT_CANCELLED, "cancelled" },
};

struct xfer {
	const struct transport_options *o;
	bool connect_seen; /* once per attempt, though localhost may mean ::1 and then 127.0.0.1 */
	bool send_seen;
	bool wait_seen;
	curl_off_t last_sent;
	char response[RESPONSE_KEEP + 1];
	size_t response_len;
};

static void stage(struct xfer *x, enum transport_stage st, uint64_t sent, uint64_t total)
{
	if (x->o->progress)
		x->o->progress(x->o->progress_ctx, st, sent, total);
}

static int on_sockopt(void *clientp, curl_socket_t fd, curlsocktype purpose)
{
	(void)fd;
	struct xfer *x = clientp;
	if (purpose == CURLSOCKTYPE_IPCXN && !x->connect_seen) {
		x->connect_seen = true;
		stage(x, TRANSPORT_CONNECT, 0, 0);
	}
	return CURL_SOCKOPT_OK;
}

static CURLcode on_ssl_ctx(CURL *curl, void *ssl_ctx, void *clientp)
{
	(void)curl;
	(void)ssl_ctx;
	struct xfer *x = clientp;
	stage(x, TRANSPORT_TLS, 0, 0);
	return CURLE_OK;
}

static int on_prereq(void *clientp, char *primary_ip, char *local_ip, int primary_port, int local_port)
{
	(void)primary_ip;
	(void)local_ip;
	(void)primary_port;
	(void)local_port;
	struct xfer *x = clientp;
	x->send_seen = true;
	stage(x, TRANSPORT_SEND, 0, 0);
	return CURL_PREREQFUNC_OK;
}

static int on_xferinfo(void *clientp, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
		       curl_off_t ulnow)
{
	(void)dltotal;
	(void)dlnow;
	struct xfer *x = clientp;
	if (x->o->cancel && atomic_load(x->o->cancel))
		return 1;
	if (!x->send_seen || ulnow == x->last_sent)
		return 0;
	x->last_sent = ulnow;
	stage(x, TRANSPORT_SEND, (uint64_t)ulnow, (uint64_t)ultotal);
	if (ultotal > 0 && ulnow >= ultotal && !x->wait_seen) {
		x->wait_seen = true;
		stage(x, TRANSPORT_WAIT, (uint64_t)ulnow, (uint64_t)ultotal);
	}
	return 0;
}

static size_t on_write(char *data, size_t size, size_t nmemb, void *clientp)
{
	struct xfer *x = clientp;
	size_t len = size * nmemb;
	size_t room = RESPONSE_KEEP - x->response_len;
	size_t take = len < room ? len : room;
	memcpy(x->response + x->response_len, data, take);
	x->response_len += take;
	x->response[x->response_len] = '\0';
	return len; /* the rest is read and dropped */
}

/* The server's own words, safe for a terminal, a log and the database: cleaned and bounded. */
static void server_words(const char *raw, char *out, size_t len)
{
	out[0] = '\0';
	char *clean = text_from_device((const unsigned char *)raw, strlen(raw));
	if (!clean)
		return;
	size_t n = text_cut(clean, SERVER_WORDS_MAX);
	snprintf(out, len, "%.*s%s", (int)n, clean, n < strlen(clean) ? "..." : "");
	free(clean);
}

/* A JSON answer's own message ({"error": "..."} and the like) rather than the whole document. */
static void answer_words(const char *body, char *out, size_t len)
{
	static const char *const keys[] = { "error", "message", "detail", "title" };
	json_t *doc = json_loads(body, 0, NULL);
	for (size_t i = 0; json_is_object(doc) && i < sizeof keys / sizeof keys[0]; i++) {
		const char *v = json_string_value(json_object_get(doc, keys[i]));
		if (v && *v) {
			server_words(v, out, len);
			json_decref(doc);
			return;
		}
	}
	json_decref(doc);
	server_words(body, out, len);
}

static void describe_answer(struct xfer *x, CURL *h, struct transport_result *res)
{
	char words[SERVER_WORDS_MAX + 8];
	answer_words(x->response, words, sizeof words);
	const char *sep = words[0] ? ": " : "";
	switch (res->outcome) {
	case TRANSPORT_DELIVERED:
		snprintf(res->message, sizeof res->message, "HTTP %d", res->http_status);
		break;
	case TRANSPORT_AUTH_FAILED:
		snprintf(res->message, sizeof res->message,
			 "HTTP %d: the server refused this agent's credentials; check [server] user and password%s%s",
			 res->http_status, sep, words);
		break;
	case TRANSPORT_REJECTED:
		if (res->http_status >= 300 && res->http_status <= 399) {
			char *loc = NULL, where[SERVER_WORDS_MAX + 8] = "";
			if (curl_easy_getinfo(h, CURLINFO_REDIRECT_URL, &loc) == CURLE_OK && loc)
				server_words(loc, where, sizeof where);
			snprintf(res->message, sizeof res->message,
				 "HTTP %d: the server redirects to %s; uploads do not follow redirects, so set "
				 "[server] url to the final address",
				 res->http_status, where[0] ? where : "another address");
		} else {
			snprintf(res->message, sizeof res->message, "HTTP %d: the server rejected the report%s%s",
				 res->http_status, sep, words);
		}
		break;
	default:
		if (res->retry_after > 0)
			snprintf(res->message, sizeof res->message, "HTTP %d (the server asks to wait %lld s)%s%s",
				 res->http_status, (long long)res->retry_after, sep, words);
		else
			snprintf(res->message, sizeof res->message, "HTTP %d%s%s", res->http_status, sep, words);
		break;
	}
}

int transport_post(const struct transport_options *o, const char *key, const unsigned char *body,
		   size_t size, struct transport_result *res, struct fc_error *err)
{
	memset(res, 0, sizeof *res);
	res->retry_after = -1;
	/* The configuration already refuses anything but https://; a second check costs nothing. */
	if (!o->url || !*o->url)
		return fc_error_set(err, "no server is configured ([server] url)");
	if (strncasecmp(o->url, "https://", 8) != 0)
		return fc_error_set(err, "the server URL must start with https://; refusing to send a report in clear");
	if (transport_global_init(err) < 0)
		return -1;

	CURL *h = curl_easy_init();
	struct xfer *x = calloc(1, sizeof *x);
	struct curl_slist *headers = NULL;
	char key_header[128], ua[64], errbuf[CURL_ERROR_SIZE] = "";
	snprintf(key_header, sizeof key_header, "Idempotency-Key: %s", key);
	snprintf(ua, sizeof ua, "fleetcon/%s", fleetcon_version());
	static const char *const fixed_headers[] = {
		"Content-Type: application/json", "Content-Encoding: gzip", "Accept: application/json",
		"Expect:", /* no 100-continue round trip */
	};
	bool ok = h && x;
	for (size_t i = 0; ok && i < sizeof fixed_headers / sizeof fixed_headers[0]; i++) {
		struct curl_slist *n = curl_slist_append(headers, fixed_headers[i]);
		ok = n != NULL;
		if (n)
			headers = n;
	}
	if (ok) {
		struct curl_slist *n = curl_slist_append(headers, key_header);
		ok = n != NULL;
		if (n)
			headers = n;
	}
	if (!ok) {
		curl_slist_free_all(headers);
		curl_easy_cleanup(h);
		free(x);
		return fc_error_set(err, "out of memory preparing the upload");
	}
	x->o = o;
	long low_speed = o->low_speed_time > 0 ? o->low_speed_time : (o->timeout > 0 && o->timeout < 60 ? o->timeout : 60);

	/* Every option is checked: a libcurl that cannot honour one of these must not send. */
	CURLcode c = CURLE_OK;
#define SET(opt, val)                                      \
	do {                                               \
		if (c == CURLE_OK)                         \
			c = curl_easy_setopt(h, opt, val); \
	} while (0)
	SET(CURLOPT_URL, o->url);
	SET(CURLOPT_PROTOCOLS_STR, "https");
	SET(CURLOPT_REDIR_PROTOCOLS_STR, "https");
	SET(CURLOPT_FOLLOWLOCATION, 0L);
	SET(CURLOPT_UNRESTRICTED_AUTH, 0L);
	SET(CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	SET(CURLOPT_SSL_VERIFYPEER, 1L);
	SET(CURLOPT_SSL_VERIFYHOST, 2L);
	if (o->ca_file && *o->ca_file)
		SET(CURLOPT_CAINFO, o->ca_file);
	if (o->pinned_key && *o->pinned_key)
		SET(CURLOPT_PINNEDPUBLICKEY, o->pinned_key);
	if (o->user && *o->user) {
		SET(CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		SET(CURLOPT_USERNAME, o->user);
		SET(CURLOPT_PASSWORD, o->password ? o->password : "");
	}
	if (o->proxy && *o->proxy)
		SET(CURLOPT_PROXY, o->proxy); /* otherwise libcurl reads https_proxy / no_proxy itself */
	SET(CURLOPT_CONNECTTIMEOUT, o->connect_timeout > 0 ? o->connect_timeout : 15L);
	SET(CURLOPT_TIMEOUT, o->timeout > 0 ? o->timeout : 120L);
	SET(CURLOPT_LOW_SPEED_LIMIT, 1L);
	SET(CURLOPT_LOW_SPEED_TIME, low_speed);
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_USERAGENT, ua);
	SET(CURLOPT_HTTPHEADER, headers);
	SET(CURLOPT_POST, 1L);
	SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)size);
	SET(CURLOPT_POSTFIELDS, (const char *)body);
	SET(CURLOPT_ERRORBUFFER, errbuf);
	SET(CURLOPT_WRITEFUNCTION, on_write);
	SET(CURLOPT_WRITEDATA, x);
	SET(CURLOPT_SOCKOPTFUNCTION, on_sockopt);
	SET(CURLOPT_SOCKOPTDATA, x);
	SET(CURLOPT_SSL_CTX_FUNCTION, on_ssl_ctx);
	SET(CURLOPT_SSL_CTX_DATA, x);
	SET(CURLOPT_PREREQFUNCTION, on_prereq);
	SET(CURLOPT_PREREQDATA, x);
	SET(CURLOPT_XFERINFOFUNCTION, on_xferinfo);
	SET(CURLOPT_XFERINFODATA, x);
	SET(CURLOPT_NOPROGRESS, 0L);
#undef SET
	if (c != CURLE_OK) {
		curl_slist_free_all(headers);
		curl_easy_cleanup(h);
		free(x);
		return fc_error_set(err, "libcurl refused an upload setting: %s", curl_easy_strerror(c));
	}

	c = curl_easy_perform(h);
	long status = 0;
	curl_off_t sent = 0, retry_after = 0;
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_getinfo(h, CURLINFO_SIZE_UPLOAD_T, &sent);
	res->http_status = (int)status;
	res->bytes_sent = sent > 0 ? (uint64_t)sent : 0;

	if (c == CURLE_OK) {
		res->outcome = transport_classify_status(res->http_status);
		if (res->outcome == TRANSPORT_RETRY &&
		    curl_easy_getinfo(h, CURLINFO_RETRY_AFTER, &retry_after) == CURLE_OK && retry_after > 0)
			res->retry_after = (int64_t)retry_after;
		describe_answer(x, h, res);
	} else {
		res->outcome = TRANSPORT_RETRY;
		const char *what = curl_easy_strerror(c);
		for (size_t i = 0; i < sizeof curl_errors / sizeof curl_errors[0]; i++) {
			if (curl_errors[i].code == c) {
				res->outcome = curl_errors[i].outcome;
				what = curl_errors[i].what;
				break;
			}
		}
		char detail[CURL_ERROR_SIZE + 8];
		server_words(errbuf, detail, sizeof detail);
		snprintf(res->message, sizeof res->message, "%s%s%s", what, detail[0] ? " (" : "", detail);
		if (detail[0])
			strncat(res->message, ")", sizeof res->message - strlen(res->message) - 1);
		/* Out of descriptors, "could not connect" would send the admin to the network. */
		long os_errno = 0;
		if (curl_easy_getinfo(h, CURLINFO_OS_ERRNO, &os_errno) != CURLE_OK)
			os_errno = 0;
		if (os_errno == 0) {
			/* libcurl does not always keep the system's errno (socket(), the CA file): ask the
			 * system directly whether a descriptor is left. */
			int probe = open("/dev/null", O_RDONLY | O_CLOEXEC);
			if (probe < 0)
				os_errno = errno;
			else
				close(probe);
		}
		if (os_errno == EMFILE || os_errno == ENFILE)
			strncat(res->message, ": too many open files in fleetcon; raise the limit (ulimit -n, LimitNOFILE=)",
				sizeof res->message - strlen(res->message) - 1);
	}
	curl_slist_free_all(headers);
	curl_easy_cleanup(h);
	free(x);
	return 0;
}
