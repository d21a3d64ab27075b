/* One e-mail through libcurl's SMTP client (see mailer.h): the message text is built and checked
 * here, then handed to curl with TLS settings that cannot be weakened by the caller: peer and
 * host verification always on, TLS 1.2 at least, STARTTLS required when asked for. */
#include "uplink/mailer.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "model/text.h"
#include "model/uuid.h"

#define SUBJECT_MAX 900 /* "Subject: " and this stay under RFC 5322's 998-byte line limit */
#define QP_LINE_MAX 76
#define ENCODED_WORD_RAW 45 /* raw bytes per RFC 2047 word: 60 base64 characters, 72 in all */

/* ---- a growing buffer; an allocation failure sticks and is reported once at the end ---- */

struct buf {
	char *data;
	size_t len, cap;
	bool failed;
};

static void buf_add(struct buf *b, const char *s, size_t n)
{
	if (b->failed)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 1024;
		while (cap < b->len + n + 1)
			cap *= 2;
		char *d = realloc(b->data, cap);
		if (!d) {
			b->failed = true;
			return;
		}
		b->data = d;
		b->cap = cap;
	}
	memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
}

static void buf_str(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

/* ---- checks ---- */

/* A header value we write as it is: printable ASCII and UTF-8 bytes, nothing below 0x20, no DEL. */
static bool header_safe(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return false;
	return true;
}

/* A plain address local@domain, ASCII only: what [smtp] from/to accept. Anything that could
 * close the angle brackets of MAIL FROM or add a header is outside this set. */
static bool address_ok(const char *a, size_t n)
{
	static const char local_extra[] = "!#$%&'*+-/=?^_`{|}~.";
	const char *at = memchr(a, '@', n);
	if (!at || at == a || at == a + n - 1 || memchr(at + 1, '@', (size_t)(a + n - at - 1)))
		return false;
	for (const char *p = a; p < a + n; p++) {
		unsigned char c = (unsigned char)*p;
		bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
		if (p < at) {
			if (!alnum && !strchr(local_extra, c))
				return false;
		} else if (p > at && !alnum && c != '-' && c != '.') {
			return false;
		}
	}
	return true;
}

/* Calls fn for each address of a comma-separated list (spaces around them trimmed); stops at the
 * first that fn refuses. Returns the number of addresses, or -1 when one is not an address. */
static int each_address(const char *list, int (*fn)(void *ctx, const char *a, size_t n), void *ctx)
{
	int count = 0;
	const char *p = list;
	for (;;) {
		while (*p == ' ')
			p++;
		size_t len = strcspn(p, ",");
		size_t end = len;
		while (end && p[end - 1] == ' ')
			end--;
		if (!address_ok(p, end))
			return -1;
		if (fn && fn(ctx, p, end) < 0)
			return -1;
		count++;
		if (!p[len])
			return count;
		p += len + 1;
	}
}

/* ---- formatting ---- */

/* RFC 5322 date in UTC, with English names whatever the locale. */
static void format_date(int64_t t, char out[40])
{
	static const char *const days[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
	static const char *const months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
					      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	time_t tt = (time_t)t;
	struct tm tm;
	if (!gmtime_r(&tt, &tm))
		memset(&tm, 0, sizeof tm);
	snprintf(out, 40, "%s, %02d %s %04d %02d:%02d:%02d +0000", days[tm.tm_wday % 7], tm.tm_mday,
		 months[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

static void base64_add(struct buf *b, const unsigned char *p, size_t n)
{
	static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	for (size_t i = 0; i < n; i += 3) {
		unsigned v = (unsigned)p[i] << 16 | (i + 1 < n ? (unsigned)p[i + 1] << 8 : 0) |
			     (i + 2 < n ? p[i + 2] : 0);
		char q[4] = { tab[v >> 18 & 63], tab[v >> 12 & 63], i + 1 < n ? tab[v >> 6 & 63] : '=',
			      i + 2 < n ? tab[v & 63] : '=' };
		buf_add(b, q, 4);
	}
}

/* The subject as it is when it is printable ASCII, else as RFC 2047 encoded words (cut between
 * UTF-8 characters) on folded lines. */
static void subject_add(struct buf *b, const char *s)
{
	bool ascii = true;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p >= 0x80)
			ascii = false;
	if (ascii) {
		buf_str(b, s);
		return;
	}
	const unsigned char *p = (const unsigned char *)s;
	size_t left = strlen(s);
	bool first = true;
	while (left) {
		size_t n = left < ENCODED_WORD_RAW ? left : ENCODED_WORD_RAW;
		while (n < left && (p[n] & 0xc0) == 0x80)
			n--; /* never split a character */
		buf_str(b, first ? "=?UTF-8?B?" : "\r\n =?UTF-8?B?");
		base64_add(b, p, n);
		buf_str(b, "?=");
		p += n;
		left -= n;
		first = false;
	}
}

/* Quoted-printable (RFC 2045) of the body: lines stay under 76 characters, every byte that is not
 * printable ASCII is =XX, and a line never starts with "." or "From " as written (some relays
 * and mailboxes treat those specially). */
static void body_add(struct buf *b, const char *text)
{
	static const char hex[] = "0123456789ABCDEF";
	const char *p = text;
	while (*p) {
		size_t len = strcspn(p, "\n");
		size_t col = 0;
		for (size_t i = 0; i < len; i++) {
			unsigned char c = (unsigned char)p[i];
			bool at_end = i + 1 == len;
			bool plain = (c >= 33 && c <= 126 && c != '=') || ((c == ' ' || c == '\t') && !at_end);
			if (i == 0 && (c == '.' || (c == 'F' && strncmp(p, "From ", 5) == 0 && len >= 5)))
				plain = false;
			char enc[3] = { '=', hex[c >> 4], hex[c & 15] };
			size_t w = plain ? 1 : 3;
			/* Room for this and a soft break "=": the last character of a line may use col 76. */
			if (col + w > (at_end ? QP_LINE_MAX : QP_LINE_MAX - 1)) {
				buf_str(b, "=\r\n");
				col = 0;
			}
			if (plain)
				buf_add(b, (const char *)&c, 1);
			else
				buf_add(b, enc, 3);
			col += w;
		}
		buf_str(b, "\r\n");
		p += len;
		if (*p == '\n')
			p++;
	}
}

struct to_header {
	struct buf *b;
	int count;
};

/* One recipient per folded line, so that a long list never makes a long line. */
static int add_to_header(void *ctx, const char *a, size_t n)
{
	struct to_header *t = ctx;
	if (t->count++)
		buf_str(t->b, ",\r\n ");
	buf_add(t->b, a, n);
	return 0;
}

int mail_format(const struct mail_message *m, char **out, size_t *len, struct fc_error *err)
{
	*out = NULL;
	*len = 0;
	const char *from = m->from ? m->from : "";
	if (!address_ok(from, strlen(from)))
		return fc_error_set(err, "the sender \"%s\" is not a plain address (name@example.com)", from);
	if (!m->to || each_address(m->to, NULL, NULL) < 0)
		return fc_error_set(err, "the recipients are not plain addresses separated by commas");
	const char *subject = m->subject ? m->subject : "";
	size_t slen = strlen(subject);
	if (!slen || slen > SUBJECT_MAX || !header_safe(subject) ||
	    !text_utf8_valid((const unsigned char *)subject, slen))
		return fc_error_set(err, "refusing to send an e-mail whose subject is empty, longer than %d "
					 "bytes, not UTF-8, or holds a line break or control character",
				    SUBJECT_MAX);
	if (m->message_id && (!header_safe(m->message_id) || strpbrk(m->message_id, "<> ") ||
			      !strchr(m->message_id, '@')))
		return fc_error_set(err, "refusing a Message-ID that is not left@right");
	const char *body = m->body ? m->body : "";

	char id[UUID_STR_LEN + 256];
	if (m->message_id) {
		snprintf(id, sizeof id, "%s", m->message_id);
	} else {
		char uuid[UUID_STR_LEN];
		if (uuid_v4(uuid, err) < 0)
			return -1;
		snprintf(id, sizeof id, "%s.fleetcon%s", uuid, strchr(from, '@'));
	}
	char date[40];
	format_date(m->date, date);

	struct buf b = { 0 };
	buf_str(&b, "Date: ");
	buf_str(&b, date);
	buf_str(&b, "\r\nFrom: ");
	buf_str(&b, from);
	buf_str(&b, "\r\nTo: ");
	struct to_header th = { &b, 0 };
	each_address(m->to, add_to_header, &th);
	buf_str(&b, "\r\nSubject: ");
	subject_add(&b, subject);
	buf_str(&b, "\r\nMessage-ID: <");
	buf_str(&b, id);
	buf_str(&b, ">\r\nMIME-Version: 1.0\r\n"
		    "Content-Type: text/plain; charset=utf-8\r\n"
		    "Content-Transfer-Encoding: quoted-printable\r\n"
		    "Auto-Submitted: auto-generated\r\n"
		    "\r\n");
	body_add(&b, body);
	if (b.failed) {
		free(b.data);
		return fc_error_set(err, "out of memory building an e-mail");
	}
	*out = b.data;
	*len = b.len;
	return 0;
}

/* ---- sending ---- */

struct reader {
	const char *data;
	size_t len, pos;
};

static size_t read_cb(char *dst, size_t size, size_t nmemb, void *ctx)
{
	struct reader *r = ctx;
	size_t n = size * nmemb;
	if (n > r->len - r->pos)
		n = r->len - r->pos;
	memcpy(dst, r->data + r->pos, n);
	r->pos += n;
	return n;
}

struct rcpts {
	struct curl_slist *list;
	bool failed;
};

static int add_rcpt(void *ctx, const char *a, size_t n)
{
	struct rcpts *r = ctx;
	char addr[CONFIG_STR_MAX + 2];
	if (n > CONFIG_STR_MAX - 1) {
		r->failed = true;
		return -1;
	}
	snprintf(addr, sizeof addr, "<%.*s>", (int)n, a);
	struct curl_slist *l = curl_slist_append(r->list, addr);
	if (!l) {
		r->failed = true;
		return -1;
	}
	r->list = l;
	return 0;
}

/* "smtp://host:port" from the URL, without any user:password@ or path, for messages. */
static void server_name(const char *url, char *out, size_t len)
{
	const char *sep = strstr(url, "://");
	const char *host = sep ? sep + 3 : url;
	const char *at = strchr(host, '@');
	const char *slash = strchr(host, '/');
	if (at && (!slash || at < slash))
		host = at + 1;
	size_t hlen = strcspn(host, "/?#");
	snprintf(out, len, "%.*s://%.*s", sep ? (int)(sep - url) : 4, sep ? url : "smtp", (int)hlen, host);
}

/* What a failure means for the admin, by curl's code; %s is the server, the second %s curl's own
 * words. A code not listed gets the generic sentence. */
static const struct {
	CURLcode code;
	const char *fmt;
} failures[] = {
	{ CURLE_UNSUPPORTED_PROTOCOL, "%s is not an smtp:// or smtps:// URL (%s)" },
	{ CURLE_URL_MALFORMAT, "[smtp] url %s is not a valid URL (%s)" },
	{ CURLE_COULDNT_RESOLVE_HOST, "cannot find the mail server %s (%s): check [smtp] url and the DNS" },
	{ CURLE_COULDNT_CONNECT, "cannot connect to the mail server %s (%s): is it running, and is the "
				 "port right?" },
	{ CURLE_OPERATION_TIMEDOUT, "the mail server %s did not answer in time (%s)" },
	{ CURLE_USE_SSL_FAILED, "the mail server %s does not offer STARTTLS, which [smtp] starttls = yes "
				"requires, so nothing was sent (%s): use a server that offers it, or smtps://" },
	{ CURLE_PEER_FAILED_VERIFICATION, "the certificate of the mail server %s is not trusted or does "
					  "not match its name, so nothing was sent (%s)" },
	{ CURLE_SSL_CACERT_BADFILE, "cannot use the CA file for the mail server %s (%s)" },
	{ CURLE_SSL_CONNECT_ERROR, "TLS with the mail server %s failed, so nothing was sent (%s)" },
	{ CURLE_LOGIN_DENIED, "the mail server %s refused the login (%s): check [smtp] user and password" },
	{ CURLE_SEND_ERROR, "the mail server %s did not take the message (%s)" },
	{ CURLE_RECV_ERROR, "the mail server %s broke off the exchange (%s)" },
	{ CURLE_GOT_NOTHING, "the mail server %s closed the connection without a word (%s)" },
};

static int curl_failure(CURLcode rc, const char *server, const char *detail, long reply,
			struct fc_error *err)
{
	char words[CURL_ERROR_SIZE + 64];
	if (reply >= 400)
		snprintf(words, sizeof words, "%s; last reply %ld", *detail ? detail : curl_easy_strerror(rc),
			 reply);
	else
		snprintf(words, sizeof words, "%s", *detail ? detail : curl_easy_strerror(rc));
	for (size_t i = 0; i < sizeof failures / sizeof failures[0]; i++)
		if (failures[i].code == rc)
			return fc_error_set(err, failures[i].fmt, server, words);
	return fc_error_set(err, "sending through the mail server %s failed (%s)", server, words);
}

void mail_server_from_config(const struct config *cfg, const char *ca_file, struct mail_server *srv)
{
	memset(srv, 0, sizeof *srv);
	srv->url = cfg->smtp.url;
	srv->starttls = cfg->smtp.starttls;
	srv->user = cfg->smtp.user;
	srv->password = cfg->smtp.password;
	srv->ca_file = ca_file;
	srv->connect_timeout = (long)cfg->smtp.connect_timeout;
	srv->timeout = (long)cfg->smtp.timeout;
}

int mail_send(const struct mail_server *srv, const struct mail_message *m, struct fc_error *err)
{
	const char *url = srv->url ? srv->url : "";
	char server[CONFIG_STR_MAX + 16];
	server_name(url, server, sizeof server);
	bool implicit = strncasecmp(url, "smtps://", 8) == 0;
	if (!implicit && strncasecmp(url, "smtp://", 7) != 0)
		return fc_error_set(err, "[smtp] url must start with smtp:// or smtps://");
	bool tls = implicit || srv->starttls;
	bool login = srv->user && *srv->user;
	if (login && !tls)
		return fc_error_set(err, "refusing to send the [smtp] password to %s without encryption: set "
					 "[smtp] starttls = yes or use smtps://", server);

	char *text;
	size_t text_len;
	if (mail_format(m, &text, &text_len, err) < 0)
		return -1;
	struct rcpts rcpts = { 0 };
	each_address(m->to, add_rcpt, &rcpts);
	char from[CONFIG_STR_MAX + 2];
	snprintf(from, sizeof from, "<%s>", m->from);
	CURL *c = curl_easy_init();
	if (rcpts.failed || !rcpts.list || !c) {
		curl_easy_cleanup(c);
		curl_slist_free_all(rcpts.list);
		free(text);
		return fc_error_set(err, "out of memory preparing an e-mail");
	}

	struct reader rd = { text, text_len, 0 };
	char detail[CURL_ERROR_SIZE] = "";
	long connect = srv->connect_timeout > 0 ? srv->connect_timeout : MAIL_CONNECT_TIMEOUT;
	long total = srv->timeout > 0 ? srv->timeout : MAIL_TIMEOUT;
	/* Every setting is checked: a TLS option curl refused must never mean a weaker connection. */
	CURLcode rc = CURLE_OK;
#define SET(opt, val)                                              \
	do {                                                       \
		if (rc == CURLE_OK)                                \
			rc = curl_easy_setopt(c, opt, val);        \
	} while (0)
	SET(CURLOPT_ERRORBUFFER, detail);
	SET(CURLOPT_URL, url);
	SET(CURLOPT_PROTOCOLS_STR, "smtp,smtps");
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_CONNECTTIMEOUT, connect);
	SET(CURLOPT_TIMEOUT, total);
	SET(CURLOPT_USE_SSL, tls ? (long)CURLUSESSL_ALL : (long)CURLUSESSL_NONE);
	SET(CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	SET(CURLOPT_SSL_VERIFYPEER, 1L);
	SET(CURLOPT_SSL_VERIFYHOST, 2L);
	if (srv->ca_file && *srv->ca_file)
		SET(CURLOPT_CAINFO, srv->ca_file);
	if (login) {
		SET(CURLOPT_USERNAME, srv->user);
		SET(CURLOPT_PASSWORD, srv->password ? srv->password : "");
	}
	SET(CURLOPT_MAIL_FROM, from);
	SET(CURLOPT_MAIL_RCPT, rcpts.list);
	SET(CURLOPT_READFUNCTION, read_cb);
	SET(CURLOPT_READDATA, &rd);
	SET(CURLOPT_UPLOAD, 1L);
	SET(CURLOPT_INFILESIZE_LARGE, (curl_off_t)text_len);
#undef SET
	int result = 0;
	if (rc != CURLE_OK) {
		result = fc_error_set(err, "cannot set up the SMTP client: %s", curl_easy_strerror(rc));
	} else if ((rc = curl_easy_perform(c)) != CURLE_OK) {
		long reply = 0;
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &reply);
		result = curl_failure(rc, server, detail, reply, err);
	}
	curl_easy_cleanup(c);
	curl_slist_free_all(rcpts.list);
	free(text);
	return result;
}
