/* Configuration (see config.h): the key table, the INI reader around inih, validation, the search
 * order and printing. inih does the tokenising; a line reader of our own feeds it so that we know
 * line numbers (Debian builds inih without INI_HANDLER_LINENO) and catch what inih lets through
 * silently: over-long lines, malformed or unknown section headers, indented continuation lines. */
#include "model/config.h"
#include "model/text.h"

#include <ctype.h>
#include <stdarg.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <ini.h>
#include <limits.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- the key table ------------------------------------------------------------------------- */

enum ktype {
	K_TEXT,      /* any printable text (min = least length) */
	K_SECRET,    /* like K_TEXT, masked when printed, needs a mode 0600 file */
	K_PATH,      /* a file; relative = from the config file's folder */
	K_URL,       /* names = accepted schemes */
	K_PIN,       /* "sha256//BASE64[;sha256//...]" or a key file (path) */
	K_EMAIL,     /* one address */
	K_EMAILS,    /* addresses separated by commas */
	K_GROUP,     /* a POSIX group name */
	K_BOOL,
	K_INT,       /* min..max */
	K_PERCENT,   /* 0..100, "%" optional */
	K_SECONDS,   /* duration stored in seconds; min..max in seconds */
	K_MILLIS,    /* duration stored in milliseconds; min..max in milliseconds */
	K_SIZE,      /* bytes, K/M/G/T suffix */
	K_TIME,      /* HH:MM */
	K_DAYS,      /* mon,tue / mon-fri / daily */
	K_ENUM,      /* names[i] is stored as i; "" entries are not accepted */
};

enum kflags {
	F_EMPTY_OK = 1 << 0, /* "key =" is accepted and means "not set" */
	F_DYNAMIC = 1 << 1,  /* the default is computed at load (host name, database path) */
	F_ZERO_OFF = 1 << 2, /* a number or duration of 0 is accepted (off) although below min */
	F_PROFILE = 1 << 3,  /* lives in struct snmp_profile, section [profile NAME] */
};

struct key {
	struct config_key_doc doc;
	enum ktype type;
	unsigned flags;
	size_t offset, size; /* in struct config, or struct snmp_profile with F_PROFILE */
	int64_t min, max;
	const char *const *names;
};

static const char *const https_only[] = { "https", NULL };
static const char *const smtp_schemes[] = { "smtp", "smtps", NULL };
static const char *const proxy_schemes[] = { "http", "https", "socks4", "socks4a", "socks5", "socks5h",
					     NULL };
static const char *const version_names[] = { "1", "2c", "3", NULL };
static const char *const auth_names[] = { "", "SHA", "SHA-256", "SHA-512", NULL };
static const char *const priv_names[] = { "", "AES", "AES-256", NULL };
static const char *const level_names[] = { "error", "warn", "info", "debug", NULL };

_Static_assert(sizeof(enum config_snmp_version) == sizeof(int), "enums are stored as int");
_Static_assert(sizeof(enum config_auth) == sizeof(int), "enums are stored as int");
_Static_assert(sizeof(enum config_priv) == sizeof(int), "enums are stored as int");
_Static_assert(sizeof(enum config_log_level) == sizeof(int), "enums are stored as int");

/* What each key type writes, checked against the field at build time (GCC takes our enums, which
 * have no negative values, for unsigned int; they are stored as int, of the same size). */
#define IS(f, T) __builtin_types_compatible_p(__typeof__(f), T)
#define FIELD_OK_K_TEXT(f) IS(f, char[])
#define FIELD_OK_K_SECRET(f) IS(f, char[])
#define FIELD_OK_K_PATH(f) IS(f, char[])
#define FIELD_OK_K_URL(f) IS(f, char[])
#define FIELD_OK_K_PIN(f) IS(f, char[])
#define FIELD_OK_K_EMAIL(f) IS(f, char[])
#define FIELD_OK_K_EMAILS(f) IS(f, char[])
#define FIELD_OK_K_GROUP(f) IS(f, char[])
#define FIELD_OK_K_BOOL(f) IS(f, bool)
#define FIELD_OK_K_INT(f) IS(f, int)
#define FIELD_OK_K_PERCENT(f) IS(f, int)
#define FIELD_OK_K_SECONDS(f) IS(f, int64_t)
#define FIELD_OK_K_MILLIS(f) IS(f, int64_t)
#define FIELD_OK_K_SIZE(f) IS(f, int64_t)
#define FIELD_OK_K_TIME(f) IS(f, struct config_tod)
#define FIELD_OK_K_DAYS(f) IS(f, unsigned)
#define FIELD_OK_K_ENUM(f) (IS(f, unsigned) || IS(f, int))

/* 0, or a build failure when the field does not have the type its key writes. */
#define TYPE_CHECK(base, fld, ty)                                                                  \
	(0 * sizeof(struct {                                                                       \
		 _Static_assert(FIELD_OK_##ty(((base *)0)->fld), #fld " does not have the type its " \
								  "key writes");                   \
		 int unused;                                                                       \
	 }))

#define ENTRY(base, fl, sec, name, ty, fld, def, lo, hi, hint, names_, text)                    \
	{                                                                                          \
		.doc = { .section = sec,                                                           \
			 .key = name,                                                              \
			 .type = hint,                                                             \
			 .default_value = def,                                                     \
			 .doc = text,                                                              \
			 .secret = (ty) == K_SECRET,                                               \
			 .dynamic_default = ((fl) & F_DYNAMIC) != 0 },                             \
		.type = ty, .flags = fl, .offset = offsetof(base, fld) + TYPE_CHECK(base, fld, ty),    \
		.size = sizeof(((base *)0)->fld), .min = lo, .max = hi, .names = names_            \
	}
#define KEY(sec, name, ty, fld, def, fl, lo, hi, hint, names_, text)                               \
	ENTRY(struct config, fl, sec, name, ty, fld, def, lo, hi, hint, names_, text)
#define PKEY(name, ty, fld, def, fl, lo, hi, hint, names_, text)                                   \
	ENTRY(struct snmp_profile, (fl) | F_PROFILE, "profile", name, ty, fld, def, lo, hi, hint,  \
	      names_, text)

#define MIN_S 60
#define HOUR_S 3600
#define DAY_S 86400

/* One row per key, in the order they are printed and documented. */
static const struct key keys[] = {
	KEY("site", "name", K_TEXT, site.name, "printshop-1", F_DYNAMIC, 1, 0, "text",
	    NULL, "name of this site in reports, e-mails and the console; default: the host name"),

	KEY("database", "path", K_PATH, database.path, "/var/lib/fleetcon/fleetcon.db",
	    F_DYNAMIC, 1, 0, "path", NULL,
	    "the SQLite database; default: $XDG_DATA_HOME/fleetcon/fleetcon.db, or "
	    "/var/lib/fleetcon/fleetcon.db for the system file"),

	KEY("server", "url", K_URL, server.url, "", F_EMPTY_OK, 0, 0, "https URL", https_only,
	    "communication server that receives the daily report (https:// only); empty = uploads "
	    "not configured"),
	KEY("server", "user", K_TEXT, server.user, "", 0, 1, 0, "text", NULL,
	    "user name of this agent on the server (required with url)"),
	KEY("server", "password", K_SECRET, server.password, "", 0, 1, 0, "secret", NULL,
	    "password of this agent on the server (or use password_file)"),
	KEY("server", "password_file", K_PATH, server.password_file, "", 0, 1, 0, "path", NULL,
	    "file whose first line is the password (mode 0600); instead of password"),
	KEY("server", "ca_file", K_PATH, server.ca_file, "", 0, 1, 0, "path", NULL,
	    "CA certificates (PEM) that verify the server; default: the system's CA store"),
	KEY("server", "pinned_key", K_PIN, server.pinned_key, "", 0, 1, 0,
	    "sha256//BASE64 or path", NULL,
	    "the server's public key must match: sha256//BASE64 hash(es) separated by ; or a key "
	    "file; default: no pinning"),
	KEY("server", "proxy", K_URL, server.proxy, "", F_EMPTY_OK, 0, 0, "URL", proxy_schemes,
	    "proxy for uploads (http://, https://, socks5://, socks5h://); empty = none"),
	KEY("server", "connect_timeout", K_SECONDS, server.connect_timeout, "15s", 0, 1,
	    10 * MIN_S, "duration, 1s-10m", NULL, "give up connecting to the server after this long"),
	KEY("server", "timeout", K_SECONDS, server.timeout, "2m", 0, 1, DAY_S, "duration, 1s-1d",
	    NULL, "give up on one upload (connecting and sending) after this long"),

	KEY("sync", "time", K_TIME, sync.time, "02:00", 0, 0, 0, "HH:MM", NULL,
	    "local time of the daily upload; a missed slot is taken at the next one"),
	KEY("sync", "days", K_DAYS, sync.days, "daily", F_EMPTY_OK, 0, 0, "days", NULL,
	    "days of the upload: mon,wed,fri or mon-fri; daily or empty = every day"),

	KEY("poll", "interval", K_SECONDS, poll.interval, "15m", 0, MIN_S, 7 * DAY_S,
	    "duration, 1m-7d", NULL, "how often included printers are read"),
	KEY("poll", "timeout", K_MILLIS, poll.timeout_ms, "2s", 0, 100, 60000,
	    "duration, 100ms-1m", NULL, "wait this long for each SNMP answer"),
	KEY("poll", "retries", K_INT, poll.retries, "1", 0, 0, 10, "0-10", NULL,
	    "ask again this many times when an SNMP request times out"),
	KEY("poll", "concurrency", K_INT, poll.concurrency, "256", 0, 1, 10000, "1-10000", NULL,
	    "SNMP requests in flight at once, all printers together"),
	KEY("poll", "per_host", K_INT, poll.per_host, "2", 0, 1, 64, "1-64", NULL,
	    "SNMP requests in flight at once to one printer"),
	KEY("poll", "port", K_INT, poll.port, "161", 0, 1, 65535, "1-65535", NULL,
	    "UDP port of the printers' SNMP agents (discovery ranges may set their own)"),
	KEY("poll", "include_new", K_BOOL, poll.include_new, "yes", 0, 0, 0, "yes/no", NULL,
	    "newly discovered printers are managed at once (no: the admin includes them)"),

	KEY("discovery", "interval", K_SECONDS, discovery.interval, "1d", F_ZERO_OFF,
	    10 * MIN_S, 365 * DAY_S, "duration, 0 or 10m-365d", NULL,
	    "how often the saved ranges are swept by the service; 0 = only on demand"),

	PKEY("version", K_ENUM, version, "2c", 0, 0, 0, "1, 2c or 3", version_names,
	     "SNMP version"),
	PKEY("community", K_SECRET, community, "public", 0, 1, 0, "secret", NULL,
	     "community string (versions 1 and 2c)"),
	PKEY("user", K_TEXT, user, "", 0, 1, 0, "text", NULL,
	     "USM user name (version 3, required there)"),
	PKEY("auth", K_ENUM, auth, "", 0, 0, 0, "SHA, SHA-256 or SHA-512", auth_names,
	     "authentication protocol (version 3); default: none"),
	PKEY("auth_password", K_SECRET, auth_password, "", 0, 8, 0, "secret", NULL,
	     "authentication pass phrase, 8 characters at least (with auth)"),
	PKEY("priv", K_ENUM, priv, "", 0, 0, 0, "AES or AES-256", priv_names,
	     "privacy (encryption) protocol, needs auth; AES is AES-128; default: none"),
	PKEY("priv_password", K_SECRET, priv_password, "", 0, 8, 0, "secret", NULL,
	     "privacy pass phrase, 8 characters at least (with priv)"),
	PKEY("context", K_TEXT, context, "", F_EMPTY_OK, 0, 0, "text", NULL,
	     "SNMPv3 context name; default: empty"),

	KEY("smtp", "url", K_URL, smtp.url, "", F_EMPTY_OK, 0, 0, "smtp(s) URL", smtp_schemes,
	    "mail server for alerts: smtp://host:587 or smtps://host:465; empty = no e-mail"),
	KEY("smtp", "starttls", K_BOOL, smtp.starttls, "yes", 0, 0, 0, "yes/no", NULL,
	    "smtp:// connections switch to TLS with STARTTLS and fail without it"),
	KEY("smtp", "user", K_TEXT, smtp.user, "", 0, 1, 0, "text", NULL,
	    "user name for SMTP authentication; default: none"),
	KEY("smtp", "password", K_SECRET, smtp.password, "", 0, 1, 0, "secret", NULL,
	    "password for SMTP authentication"),
	KEY("smtp", "ca_file", K_PATH, smtp.ca_file, "", 0, 1, 0, "path", NULL,
	    "CA certificates (PEM) that verify the mail server; default: the system's CA store"),
	KEY("smtp", "from", K_EMAIL, smtp.from, "", 0, 0, 0, "address", NULL,
	    "sender address of alert e-mails (required with url)"),
	KEY("smtp", "to", K_EMAILS, smtp.to, "", 0, 0, 0, "addresses", NULL,
	    "recipients, separated by commas (required with url)"),
	KEY("smtp", "connect_timeout", K_SECONDS, smtp.connect_timeout, "30s", 0, 1, 10 * MIN_S,
	    "duration, 1s-10m", NULL, "give up on a mail server that has not greeted after this long"),
	KEY("smtp", "timeout", K_SECONDS, smtp.timeout, "2m", 0, 1, HOUR_S, "duration, 1s-1h", NULL,
	    "give up on sending one e-mail after this long"),

	KEY("alerts", "supply_low", K_PERCENT, alerts.supply_low, "10", 0, 0, 100, "percent, 0-100",
	    NULL, "alert when a supply is below this level (0 = only when empty)"),
	KEY("alerts", "unreachable_polls", K_INT, alerts.unreachable_polls, "3", 0, 1, 1000,
	    "1-1000", NULL, "alert when a printer has not answered this many polls in a row"),
	KEY("alerts", "upload_failing", K_SECONDS, alerts.upload_failing, "2d", 0, HOUR_S,
	    365 * DAY_S, "duration, 1h-365d", NULL, "alert when no upload has succeeded for this long"),
	KEY("alerts", "max_per_hour", K_INT, alerts.max_per_hour, "10", 0, 1, 1000, "1-1000", NULL,
	    "at most this many alert e-mails an hour; the rest wait or go in one digest"),

	KEY("outbox", "max_age", K_SECONDS, outbox.max_age, "30d", 0, DAY_S, 3650 * DAY_S,
	    "duration, 1d-3650d", NULL, "reports not delivered after this long are dropped"),
	KEY("outbox", "max_size", K_SIZE, outbox.max_size, "256M", 0, 1 << 20,
	    (int64_t)1 << 40, "size, 1M-1T", NULL,
	    "the outbox keeps at most this many bytes; the oldest reports go first"),

	KEY("service", "socket_group", K_GROUP, service.socket_group, "", F_EMPTY_OK, 0, 0,
	    "group", NULL, "members of this group may use the console socket; empty = owner only"),

	KEY("log", "level", K_ENUM, log.level, "info", 0, 0, 0, "error, warn, info or debug",
	    level_names, "least important messages that are logged"),
};

enum { N_KEYS = sizeof keys / sizeof keys[0] };

/* Sections in the order they are printed. */
static const char *const sections[] = { "site", "database", "server", "sync", "poll", "discovery",
					"profile", "smtp", "alerts", "outbox", "service", "log" };
enum { N_SECTIONS = sizeof sections / sizeof sections[0] };

#define MAX_PROFILES 1024
#define MAX_FILE_SIZE (1 << 20)
#define MASK "********"

const struct config_key_doc *config_key_doc(size_t i)
{
	return i < N_KEYS ? &keys[i].doc : NULL;
}

/* ---- the configuration with what only this module needs ------------------------------------ */

/* Where a value came from: a line of the file, a label ("--db", "password_file"), or the
 * default when both are empty. */
struct origin {
	int line;
	char label[24];
};

struct profile_extra {
	int header_line; /* 0 = built-in */
	struct origin o[N_KEYS];
};

struct config_full {
	struct config pub; /* first: the public pointer is the whole allocation */
	char name[CONFIG_PATH_MAX]; /* the file as named in messages */
	struct origin o[N_KEYS];
	struct profile_extra *extra; /* parallel to pub.profiles */
	size_t profile_cap;
};

static struct config_full *full_of(struct config *cfg)
{
	return (struct config_full *)cfg;
}

/* The configuration holds secrets (pass phrases, passwords): its memory is whole pages of its own,
 * kept out of core dumps (MADV_DONTDUMP; gdb's gcore honours it too) and wiped when freed. */
static size_t secret_size(size_t size)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	return (size + page - 1) / page * page;
}

static void *secret_alloc(size_t size)
{
	void *p = NULL;
	size = secret_size(size);
	if (posix_memalign(&p, (size_t)sysconf(_SC_PAGESIZE), size) != 0)
		return NULL;
	memset(p, 0, size);
	(void)madvise(p, size, MADV_DONTDUMP); /* best effort: an old kernel dumps it, no worse */
	return p;
}

static void secret_free(void *p, size_t size)
{
	if (!p)
		return;
	size = secret_size(size);
	explicit_bzero(p, size);
	(void)madvise(p, size, MADV_DODUMP); /* the pages go back to malloc for anyone's use */
	free(p);
}

static const struct config_full *cfull_of(const struct config *cfg)
{
	return (const struct config_full *)cfg;
}

static bool is_set(const struct origin *o)
{
	return o->line > 0 || o->label[0];
}

static size_t key_index(const struct key *k)
{
	return (size_t)(k - keys);
}

static const struct key *key_find(const char *section, const char *name)
{
	for (size_t i = 0; i < N_KEYS; i++)
		if (strcmp(keys[i].doc.section, section) == 0 && strcmp(keys[i].doc.key, name) == 0)
			return &keys[i];
	return NULL;
}

static const struct key *key_must(const char *section, const char *name)
{
	const struct key *k = key_find(section, name);
	if (!k)
		abort(); /* a name below does not match the table: a programming error */
	return k;
}

static void *field(void *base, const struct key *k)
{
	return (char *)base + k->offset;
}

static const void *cfield(const void *base, const struct key *k)
{
	return (const char *)base + k->offset;
}

/* ---- small text helpers --------------------------------------------------------------------- */

static bool has_control(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return true;
	return false;
}

/* A value as it may appear in a message: control characters replaced, long ones cut. */
static const char *shown(const char *v, char *buf, size_t len)
{
	size_t n = 0;
	for (; *v && n + 4 < len && n < 80; v++)
		buf[n++] = ((unsigned char)*v < 0x20 || *v == 0x7f) ? '?' : *v;
	if (*v) {
		memcpy(buf + n, "...", 3);
		n += 3;
	}
	buf[n] = '\0';
	return buf;
}

static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	size_t row[64];
	if (la >= 64 || lb >= 64)
		return SIZE_MAX;
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t diag = row[0];
		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t up = row[j];
			size_t best = diag + (tolower((unsigned char)a[i - 1]) !=
					      tolower((unsigned char)b[j - 1]));
			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	return row[lb];
}

/* Keeps candidate in *best when it is closer to word than what *best holds and close enough to
 * be a typo of it. */
static void consider(const char *word, const char *candidate, const char **best, size_t *best_d)
{
	size_t d = edit_distance(word, candidate);
	if (d <= 2 && d * 3 <= strlen(candidate) + 1 && d < *best_d) {
		*best = candidate;
		*best_d = d;
	}
}

static bool valid_profile_name(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n >= CONFIG_NAME_MAX)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("._-", *s))
			return false;
	return true;
}

static int copy_text(char *dst, size_t size, const char *src)
{
	size_t n = strlen(src);
	if (n >= size)
		return -1;
	memcpy(dst, src, n + 1);
	return 0;
}

/* ---- values: parsing and formatting, one pair per key type ---------------------------------- */

/* Each parser stores the value at dst or writes into why what is wrong, as the end of a sentence
 * that starts with the value: "is not a duration (use e.g. 2s, 500ms, 1m)". */

static int parse_text(const struct key *k, const char *v, void *dst, char *why, size_t n)
{
	size_t len = strlen(v);
	if (len >= k->size) {
		snprintf(why, n, "is too long (at most %zu characters)", k->size - 1);
		return -1;
	}
	if ((int64_t)len < k->min) {
		snprintf(why, n, "is too short (at least %lld characters)", (long long)k->min);
		return -1;
	}
	memcpy(dst, v, len + 1);
	return 0;
}

static int parse_url(const struct key *k, const char *v, void *dst, char *why, size_t n)
{
	const char *sep = strstr(v, "://");
	size_t slen = sep ? (size_t)(sep - v) : 0;
	bool known = false;
	for (size_t i = 0; sep && k->names[i]; i++)
		if (strlen(k->names[i]) == slen && strncasecmp(v, k->names[i], slen) == 0)
			known = true;
	if (!known) {
		if (k->names == https_only && slen == 4 && strncasecmp(v, "http", 4) == 0) {
			snprintf(why, n, "is plain HTTP: HTTPS is required (use https://...)");
			return -1;
		}
		char list[128] = "";
		for (size_t i = 0; k->names[i]; i++) {
			size_t used = strlen(list);
			snprintf(list + used, sizeof list - used, "%s%s://", i ? ", " : "", k->names[i]);
		}
		snprintf(why, n, "is not a URL starting with %s", list);
		return -1;
	}
	const char *host = sep + 3;
	if (!*host || *host == '/' || *host == ':' || strpbrk(v, " \t")) {
		snprintf(why, n, "is not a URL with a host name (e.g. %s://host.example.com)",
			 k->names[0]);
		return -1;
	}
	return parse_text(k, v, dst, why, n);
}

static bool is_base64_char(char c)
{
	return isalnum((unsigned char)c) || c == '+' || c == '/';
}

static int parse_pin(const struct key *k, const char *v, void *dst, char *why, size_t n)
{
	if (strncmp(v, "sha256//", 8) == 0) {
		/* curl's form: sha256//HASH;sha256//HASH, each the base64 of 32 bytes (44 chars) */
		const char *p = v;
		for (;;) {
			if (strncmp(p, "sha256//", 8) != 0)
				goto bad;
			p += 8;
			for (int i = 0; i < 43; i++)
				if (!is_base64_char(p[i]))
					goto bad;
			if (p[43] != '=')
				goto bad;
			p += 44;
			if (!*p)
				break;
			if (*p != ';')
				goto bad;
			p++;
		}
	}
	return parse_text(k, v, dst, why, n);
bad:
	snprintf(why, n, "is not sha256// followed by a base64 SHA-256 hash (44 characters), "
			 "several separated by ;");
	return -1;
}

static bool valid_address(const char *a, size_t len)
{
	const char *at = memchr(a, '@', len);
	if (!at || at == a || at == a + len - 1 || memchr(at + 1, '@', len - (size_t)(at - a) - 1))
		return false;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)a[i] <= ' ' || (unsigned char)a[i] >= 0x7f ||
		    strchr("<>()[]\\,;:\"", a[i])) /* plain ASCII addresses only */
			return false;
	return memchr(at, '.', len - (size_t)(at - a)) != NULL;
}

static int parse_email(const struct key *k, const char *v, void *dst, char *why, size_t n)
{
	if (!valid_address(v, strlen(v))) {
		snprintf(why, n, "is not an e-mail address (name@example.com)");
		return -1;
	}
	return parse_text(k, v, dst, why, n);
}

static int parse_emails(const struct key *k, const char *v, void *dst, char *why, size_t n)
{
	char out[CONFIG_STR_MAX];
	size_t used = 0;
	const char *p = v;
	for (;;) {
		while (*p == ' ' || *p == '\t')
			p++;
		size_t len = strcspn(p, ",");
		size_t end = len;
		while (end && (p[end - 1] == ' ' || p[end - 1] == '\t'))
			end--;
		if (!valid_address(p, end)) {
			snprintf(why, n, "is not a list of e-mail addresses separated by commas "
					 "(a@example.com, b@example.com)");
			return -1;
		}
		if (used + end + 3 > sizeof out || used + end + 3 > k->size) {
			snprintf(why, n, "is too long (at most %zu characters)", k->size - 1);
			return -1;
		}
		if (used) {
			memcpy(out + used, ", ", 2);
			used += 2;
		}
		memcpy(out + used, p, end);
		used += end;
		if (!p[len])
			break;
		p += len + 1;
	}
	out[used] = '\0';
	memcpy(dst, out, used + 1);
	return 0;
}

static int parse_group(const struct key *k, const char *v, void *dst, char *why, size_t n)
{
	size_t len = strlen(v);
	bool ok = len > 0 && len <= 32 && (isalpha((unsigned char)v[0]) || v[0] == '_');
	for (size_t i = 0; ok && i < len; i++)
		ok = isalnum((unsigned char)v[i]) || strchr("_.-", v[i]) ||
		     (v[i] == '$' && i == len - 1);
	if (!ok) {
		snprintf(why, n, "is not a group name (letters, digits, _ . -; at most 32)");
		return -1;
	}
	return parse_text(k, v, dst, why, n);
}

static int parse_bool(const struct key *k, const char *v, void *dst, char *why, size_t n)
{
	static const struct {
		const char *word;
		bool value;
	} words[] = { { "yes", true }, { "no", false }, { "true", true }, { "false", false },
		      { "on", true },  { "off", false }, { "1", true },     { "0", false } };
	(void)k;
	for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
		if (strcasecmp(v, words[i].word) == 0) {
			*(bool *)dst = words[i].value;
			return 0;
		}
	snprintf(why, n, "is not yes or no (use yes/no, true/false, on/off or 1/0)");
	return -1;
}

/* Reads the digits of a non-negative whole number at *p; -1 when there are none or more than 10
 * (so that a number times any unit fits in 64 bits). */
static int64_t read_number(const char **p)
{
	int64_t v = 0;
	int digits = 0;
	while (isdigit((unsigned char)**p)) {
		if (++digits > 10)
			return -1;
		v = v * 10 + (**p - '0');
		(*p)++;
	}
	return digits ? v : -1;
}

static int out_of_range(const struct key *k, char *why, size_t n, const char *lo, const char *hi)
{
	snprintf(why, n, "is out of range (use %s%s to %s)", (k->flags & F_ZERO_OFF) ? "0 (off) or " : "",
		 lo, hi);
	return -1;
}

static int parse_int(const struct key *k, const char *v, void *dst, char *why, size_t n)
{
	const char *p = v;
	int64_t x = read_number(&p);
	if (k->type == K_PERCENT && x >= 0 && *p == '%')
		p++;
	if (x < 0 || *p) {
		snprintf(why, n, "is not a whole number%s",
			 k->type == K_PERCENT ? " of percent (0 to 100)" : "");
		return -1;
	}
	if ((x < k->min && !(x == 0 && (k->flags & F_ZERO_OFF))) || x > k->max) {
		char lo[24], hi[24];
		snprintf(lo, sizeof lo, "%lld", (long long)k->min);
		snprintf(hi, sizeof hi, "%lld", (long long)k->max);
		return out_of_range(k, why, n, lo, hi);
	}
	*(int *)dst = (int)x;
	return 0;
}

static const struct {
	const char *suffix;
	int64_t ms;
} duration_units[] = { { "d", 86400000 }, { "h", 3600000 }, { "m", 60000 },
		       { "s", 1000 },      { "ms", 1 } };

/* Writes a duration in milliseconds in the largest unit that holds it whole: 900000 -> "15m". */
static void format_ms(int64_t ms, char *out, size_t n)
{
	for (size_t i = 0; i < sizeof duration_units / sizeof duration_units[0]; i++)
		if (ms && ms % duration_units[i].ms == 0) {
			snprintf(out, n, "%lld%s", (long long)(ms / duration_units[i].ms),
				 duration_units[i].suffix);
			return;
		}
	snprintf(out, n, "%lld", (long long)ms);
}

static int parse_duration(const struct key *k, const char *v, void *dst, char *why, size_t n)
{
	bool ms_ok = k->type == K_MILLIS;
	int64_t scale = ms_ok ? 1 : 1000; /* milliseconds per stored unit */
	const char *p = v;
	int64_t x = read_number(&p);
	while (*p == ' ')
		p++;
	int64_t unit = 0;
	if (!*p)
		unit = 1000; /* plain seconds */
	for (size_t i = 0; !unit && i < sizeof duration_units / sizeof duration_units[0]; i++)
		if (strcasecmp(p, duration_units[i].suffix) == 0)
			unit = duration_units[i].ms;
	if (x < 0 || !unit) {
		snprintf(why, n, "is not a duration (use e.g. %s)",
			 ms_ok ? "2s, 500ms, 1m" : "30s, 5m, 1h, 2d");
		return -1;
	}
	if (unit < scale) {
		snprintf(why, n, "is in milliseconds, which this key does not take (use s, m, h or d)");
		return -1;
	}
	int64_t ms = x * unit; /* at most 10 digits times a day: no overflow */
	if ((ms < k->min * scale && !(ms == 0 && (k->flags & F_ZERO_OFF))) || ms > k->max * scale) {
		char lo[24], hi[24];
		format_ms(k->min * scale, lo, sizeof lo);
		format_ms(k->max * scale, hi, sizeof hi);
		return out_of_range(k, why, n, lo, hi);
	}
	*(int64_t *)dst = ms / scale;
	return 0;
}

static const struct {
	char suffix;
	int shift;
} size_units[] = { { 'T', 40 }, { 'G', 30 }, { 'M', 20 }, { 'K', 10 } };

static void format_size(int64_t b, char *out, size_t n)
{
	for (size_t i = 0; i < sizeof size_units / sizeof size_units[0]; i++)
		if (b && b % ((int64_t)1 << size_units[i].shift) == 0) {
			snprintf(out, n, "%lld%c", (long long)(b >> size_units[i].shift),
				 size_units[i].suffix);
			return;
		}
	snprintf(out, n, "%lld", (long long)b);
}

static int parse_size(const struct key *k, const char *v, void *dst, char *why, size_t n)
{
	const char *p = v;
	int64_t x = read_number(&p);
	int shift = *p ? -1 : 0;
	for (size_t i = 0; *p && !p[1] && i < sizeof size_units / sizeof size_units[0]; i++)
		if (toupper((unsigned char)*p) == size_units[i].suffix)
			shift = size_units[i].shift;
	if (x < 0 || shift < 0) {
		snprintf(why, n, "is not a size (use e.g. 512K, 256M, 2G or a number of bytes)");
		return -1;
	}
	if (x > (k->max >> shift) || (x << shift) < k->min) {
		char lo[24], hi[24];
		format_size(k->min, lo, sizeof lo);
		format_size(k->max, hi, sizeof hi);
		return out_of_range(k, why, n, lo, hi);
	}
	*(int64_t *)dst = x << shift;
	return 0;
}

static int parse_time(const struct key *k, const char *v, void *dst, char *why, size_t n)
{
	(void)k;
	const char *p = v;
	int64_t h = read_number(&p);
	int64_t m = -1;
	if (h >= 0 && p - v <= 2 && *p == ':') {
		const char *q = ++p;
		m = read_number(&p);
		if (p - q != 2 || *p)
			m = -1;
	}
	if (h < 0 || h > 23 || m < 0 || m > 59) {
		snprintf(why, n, "is not a time of day (HH:MM, 00:00 to 23:59)");
		return -1;
	}
	struct config_tod *t = dst;
	t->hour = (int)h;
	t->minute = (int)m;
	return 0;
}

/* Day names in the order people list them (Monday first) with their tm_wday. */
static const struct {
	const char *abbr, *full;
	int wday;
} day_names[] = { { "mon", "monday", 1 },   { "tue", "tuesday", 2 }, { "wed", "wednesday", 3 },
		  { "thu", "thursday", 4 }, { "fri", "friday", 5 },  { "sat", "saturday", 6 },
		  { "sun", "sunday", 0 } };

/* Index into day_names of the day at s (len bytes), or -1. */
static int day_index(const char *s, size_t len)
{
	for (int i = 0; i < 7; i++)
		if ((strlen(day_names[i].abbr) == len && strncasecmp(s, day_names[i].abbr, len) == 0) ||
		    (strlen(day_names[i].full) == len && strncasecmp(s, day_names[i].full, len) == 0))
			return i;
	return -1;
}

static int parse_days(const struct key *k, const char *v, void *dst, char *why, size_t n)
{
	(void)k;
	unsigned mask = 0;
	if (!*v || strcasecmp(v, "daily") == 0) {
		*(unsigned *)dst = CONFIG_DAYS_ALL;
		return 0;
	}
	const char *p = v;
	for (;;) {
		while (*p == ' ' || *p == '\t')
			p++;
		size_t len = strcspn(p, ",");
		size_t end = len;
		while (end && (p[end - 1] == ' ' || p[end - 1] == '\t'))
			end--;
		const char *dash = memchr(p, '-', end);
		int from = day_index(p, dash ? (size_t)(dash - p) : end);
		int to = dash ? day_index(dash + 1, end - (size_t)(dash - p) - 1) : from;
		if (from < 0 || to < 0) {
			snprintf(why, n, "is not a list of days (use e.g. mon-fri, sat,sun or daily; days "
					 "are mon tue wed thu fri sat sun)");
			return -1;
		}
		for (int i = from;; i = (i + 1) % 7) { /* fri-mon wraps round the week end */
			mask |= CONFIG_DAY(day_names[i].wday);
			if (i == to)
				break;
		}
		if (!p[len])
			break;
		p += len + 1;
	}
	*(unsigned *)dst = mask;
	return 0;
}

static int parse_enum(const struct key *k, const char *v, void *dst, char *why, size_t n)
{
	char list[128] = "";
	for (int i = 0; k->names[i]; i++) {
		if (!k->names[i][0])
			continue;
		if (strcasecmp(v, k->names[i]) == 0) {
			*(int *)dst = i;
			return 0;
		}
		size_t used = strlen(list);
		snprintf(list + used, sizeof list - used, "%s%s", used ? ", " : "", k->names[i]);
	}
	snprintf(why, n, "is not one of %s", list);
	return -1;
}

/* Days Monday first, runs of three or more as a range: "mon-fri", "mon,wed,sat,sun", "daily". */
static void format_days(unsigned mask, char *out, size_t n)
{
	size_t used = 0;
	out[0] = '\0';
	if ((mask & CONFIG_DAYS_ALL) == CONFIG_DAYS_ALL) {
		snprintf(out, n, "daily");
		return;
	}
	for (int i = 0; i < 7;) {
		if (!(mask & CONFIG_DAY(day_names[i].wday))) {
			i++;
			continue;
		}
		int j = i;
		while (j + 1 < 7 && (mask & CONFIG_DAY(day_names[j + 1].wday)))
			j++;
		const char *sep = j - i >= 2 ? "-" : ",";
		int len = snprintf(out + used, n - used, "%s%s%s%s", used ? "," : "", day_names[i].abbr,
				   j > i ? sep : "", j > i ? day_names[j].abbr : "");
		if (len < 0 || (size_t)len >= n - used)
			return;
		used += (size_t)len;
		i = j + 1;
	}
}

static void format_value(const struct key *k, const void *src, char *out, size_t n)
{
	switch (k->type) {
	case K_BOOL:
		snprintf(out, n, "%s", *(const bool *)src ? "yes" : "no");
		return;
	case K_INT:
	case K_PERCENT:
		snprintf(out, n, "%d", *(const int *)src);
		return;
	case K_SECONDS:
		format_ms(*(const int64_t *)src * 1000, out, n);
		return;
	case K_MILLIS:
		format_ms(*(const int64_t *)src, out, n);
		return;
	case K_SIZE:
		format_size(*(const int64_t *)src, out, n);
		return;
	case K_TIME: {
		const struct config_tod *t = src;
		snprintf(out, n, "%02d:%02d", t->hour, t->minute);
		return;
	}
	case K_DAYS:
		format_days(*(const unsigned *)src, out, n);
		return;
	case K_ENUM:
		snprintf(out, n, "%s", k->names[*(const int *)src]);
		return;
	default:
		snprintf(out, n, "%s", (const char *)src);
		return;
	}
}

typedef int (*parse_fn)(const struct key *k, const char *v, void *dst, char *why, size_t n);

static const parse_fn parsers[] = {
	[K_TEXT] = parse_text,	      [K_SECRET] = parse_text,	   [K_PATH] = parse_text,
	[K_URL] = parse_url,	      [K_PIN] = parse_pin,	   [K_EMAIL] = parse_email,
	[K_EMAILS] = parse_emails,    [K_GROUP] = parse_group,	   [K_BOOL] = parse_bool,
	[K_INT] = parse_int,	      [K_PERCENT] = parse_int,	   [K_SECONDS] = parse_duration,
	[K_MILLIS] = parse_duration,  [K_SIZE] = parse_size,	   [K_TIME] = parse_time,
	[K_DAYS] = parse_days,	      [K_ENUM] = parse_enum,
};

static bool is_path(const struct key *k, const char *v)
{
	return k->type == K_PATH || (k->type == K_PIN && strncmp(v, "sha256//", 8) != 0);
}

/* Stores the text value of key k into base (a struct config or struct snmp_profile). A relative
 * path is joined to base_dir unless that is "". Returns 0, or -1 with why set. */
static int store_value(const struct key *k, const char *value, void *base, const char *base_dir,
		       char *why, size_t n)
{
	/* Values end up on the terminal and in reports: the rules for device text hold here too.
	 * Secrets are never shown, so only control characters (which no protocol carries) count. */
	if (k->type == K_SECRET ? has_control(value) : !text_is_clean(value)) {
		snprintf(why, n, "contains a control character%s",
			 k->type == K_SECRET ? "" : ", an invisible character or bytes that are not UTF-8");
		return -1;
	}
	if (!*value && (k->flags & F_EMPTY_OK)) {
		memset(field(base, k), 0, k->size); /* "" for text; "daily" handled by its parser */
		if (k->type == K_DAYS)
			return parse_days(k, "", field(base, k), why, n);
		return 0;
	}
	if (is_path(k, value) && value[0] != '/' && *base_dir && *value) {
		char joined[CONFIG_PATH_MAX];
		int len = snprintf(joined, sizeof joined, "%s/%s", base_dir, value);
		if (len < 0 || (size_t)len >= sizeof joined) {
			snprintf(why, n, "is too long once joined to %s", base_dir);
			return -1;
		}
		return parsers[k->type](k, joined, field(base, k), why, n);
	}
	return parsers[k->type](k, value, field(base, k), why, n);
}

/* ---- building a configuration ---------------------------------------------------------------- */

static int set_default(const struct key *k, void *base, struct fc_error *err)
{
	char why[256];
	if (k->flags & F_DYNAMIC)
		return 0;
	if (!k->doc.default_value[0]) {
		memset(field(base, k), 0, k->size);
		return 0;
	}
	if (store_value(k, k->doc.default_value, base, "", why, sizeof why) < 0)
		return fc_error_set(err, "internal error: the default of %s %s %s", k->doc.section,
				    k->doc.key, why);
	return 0;
}

static struct config_full *config_new(struct fc_error *err)
{
	struct config_full *c = secret_alloc(sizeof *c);
	if (!c) {
		fc_error_set(err, "out of memory");
		return NULL;
	}
	for (size_t i = 0; i < N_KEYS; i++)
		if (!(keys[i].flags & F_PROFILE) && set_default(&keys[i], &c->pub, err) < 0) {
			secret_free(c, sizeof *c);
			return NULL;
		}
	return c;
}

/* Adds a profile with every key at its default; returns its index or -1. */
static int profile_add(struct config_full *c, const char *name, int header_line,
		       struct fc_error *err)
{
	if (c->pub.profile_count >= MAX_PROFILES)
		return fc_error_set(err, "too many profiles (at most %d)", MAX_PROFILES);
	if (c->pub.profile_count == c->profile_cap) {
		size_t cap = c->profile_cap ? c->profile_cap * 2 : 4;
		struct snmp_profile *p = secret_alloc(cap * sizeof *p);
		if (!p)
			return fc_error_set(err, "out of memory");
		if (c->pub.profiles)
			memcpy(p, c->pub.profiles, c->profile_cap * sizeof *p);
		secret_free(c->pub.profiles, c->profile_cap * sizeof *p);
		c->pub.profiles = p;
		struct profile_extra *x = realloc(c->extra, cap * sizeof *x);
		if (!x)
			return fc_error_set(err, "out of memory");
		c->extra = x;
		c->profile_cap = cap;
	}
	size_t i = c->pub.profile_count;
	struct snmp_profile *p = &c->pub.profiles[i];
	memset(p, 0, sizeof *p);
	memset(&c->extra[i], 0, sizeof c->extra[i]);
	if (copy_text(p->name, sizeof p->name, name) < 0)
		return fc_error_set(err, "profile name too long");
	c->extra[i].header_line = header_line;
	for (size_t k = 0; k < N_KEYS; k++)
		if ((keys[k].flags & F_PROFILE) && set_default(&keys[k], p, err) < 0)
			return -1;
	c->pub.profile_count++;
	return (int)i;
}

static int profile_find(const struct config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->profile_count; i++)
		if (strcmp(cfg->profiles[i].name, name) == 0)
			return (int)i;
	return -1;
}

/* ---- reading the file: a line reader for inih and its handler -------------------------------- */

struct parse {
	struct config_full *c;
	const char *name;     /* for messages */
	const char *base_dir; /* for relative paths; "" = keep them */
	const char *pos;      /* rest of the text */
	int line;             /* number of the line inih is working on */
	const char *section;  /* current section ("profile" for any profile), NULL before the first */
	int profile;          /* index of the current profile */
	bool failed;
	struct fc_error *err;
};

static int fail(struct parse *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(struct parse *p, const char *fmt, ...)
{
	char msg[sizeof p->err->msg];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	p->failed = true;
	return fc_error_set(p->err, "%s:%d: %s", p->name, p->line, msg);
}

/* Checks a "[...]" line and makes it the current section. */
static int section_line(struct parse *p, char *text)
{
	char *end = strchr(text, ']');
	if (!end)
		return fail(p, "a section header must end with \"]\"");
	char *after = end + 1;
	while (*after == ' ' || *after == '\t')
		after++;
	if (*after && *after != ';' && *after != '#')
		return fail(p, "unexpected text after the section header");
	*end = '\0';
	char *word = text + 1;
	while (*word == ' ' || *word == '\t')
		word++;
	char *rest = word + strcspn(word, " \t");
	if (*rest)
		*rest++ = '\0';
	while (*rest == ' ' || *rest == '\t')
		rest++;
	size_t rlen = strlen(rest);
	while (rlen && (rest[rlen - 1] == ' ' || rest[rlen - 1] == '\t'))
		rest[--rlen] = '\0';

	const char *found = NULL, *best = NULL;
	size_t best_d = SIZE_MAX;
	for (size_t i = 0; i < N_SECTIONS; i++) {
		if (strcmp(word, sections[i]) == 0)
			found = sections[i];
		consider(word, sections[i], &best, &best_d);
	}
	char buf[100];
	if (!found) {
		if (best)
			return fail(p, "unknown section [%s] (did you mean [%s]?)", shown(word, buf, sizeof buf),
				    strcmp(best, "profile") == 0 ? "profile NAME" : best);
		return fail(p, "unknown section [%s] (sections: site, database, server, sync, poll, "
			       "discovery, profile NAME, smtp, alerts, outbox, service, log)",
			    shown(word, buf, sizeof buf));
	}
	if (strcmp(found, "profile") != 0) {
		if (*rest)
			return fail(p, "section [%s] takes no name", found);
		p->section = found;
		return 0;
	}
	if (!*rest)
		return fail(p, "a profile needs a name: [profile NAME]");
	if (!valid_profile_name(rest))
		return fail(p, "profile name \"%s\" may only hold letters, digits, \".\", \"_\" and \"-\" "
			       "(at most %d)",
			    shown(rest, buf, sizeof buf), CONFIG_NAME_MAX - 1);
	p->profile = profile_find(&p->c->pub, rest);
	if (p->profile < 0) {
		struct fc_error e;
		p->profile = profile_add(p->c, rest, p->line, &e);
		if (p->profile < 0)
			return fail(p, "%s", e.msg);
	}
	p->section = found;
	return 0;
}

/* inih's reader: hands over one line at a time, counting them, without the leading blanks (so
 * that inih never takes an indented line for the continuation of the previous value). */
static char *read_line(char *buf, int size, void *stream)
{
	struct parse *p = stream;
	if (p->failed || !*p->pos)
		return NULL;
	const char *start = p->pos;
	size_t len = strcspn(start, "\n");
	p->pos = start[len] ? start + len + 1 : start + len;
	p->line++;
	if (p->line == 1 && strncmp(start, "\xEF\xBB\xBF", 3) == 0 && len >= 3) {
		start += 3; /* a UTF-8 byte order mark */
		len -= 3;
	}
	while (len && (*start == ' ' || *start == '\t')) {
		start++;
		len--;
	}
	while (len && (start[len - 1] == ' ' || start[len - 1] == '\t' || start[len - 1] == '\r'))
		len--;
	if (size < 1 || len >= (size_t)size) {
		fail(p, "line is too long (%zu characters; at most %d)", len, size - 1);
		return NULL;
	}
	memcpy(buf, start, len);
	buf[len] = '\0';

	if (!len || buf[0] == ';' || buf[0] == '#')
		return buf;
	if (buf[0] == '[') {
		char copy[len + 1];
		memcpy(copy, buf, len + 1);
		return section_line(p, copy) < 0 ? NULL : buf;
	}
	size_t sep = strcspn(buf, "=:");
	if (!buf[sep]) {
		fail(p, "expected \"key = value\" or a [section] header");
		return NULL;
	}
	if (buf[sep] == ':') {
		fail(p, "expected \"key = value\" (with \"=\", not \":\")");
		return NULL;
	}
	return buf;
}

static void section_label(const struct parse *p, char *out, size_t n)
{
	if (p->section && strcmp(p->section, "profile") == 0)
		snprintf(out, n, "[profile %s]", p->c->pub.profiles[p->profile].name);
	else
		snprintf(out, n, "[%s]", p->section ? p->section : "");
}

/* Puts into hint the " (did you mean ...?)" for an unknown key, or "". */
static void key_hint(const char *section, const char *name, char *hint, size_t n)
{
	const char *best = NULL, *elsewhere = NULL;
	size_t best_d = SIZE_MAX;
	int others = 0;
	for (size_t i = 0; i < N_KEYS; i++) {
		if (strcmp(keys[i].doc.section, section) == 0)
			consider(name, keys[i].doc.key, &best, &best_d);
		else if (strcmp(keys[i].doc.key, name) == 0) {
			elsewhere = keys[i].doc.section;
			others++;
		}
	}
	hint[0] = '\0';
	if (best)
		snprintf(hint, n, " (did you mean \"%s\"?)", best);
	else if (others == 1)
		snprintf(hint, n, " (it belongs in [%s])",
			 strcmp(elsewhere, "profile") == 0 ? "profile NAME" : elsewhere);
}

static int value_error(struct fc_error *err, const char *where, const char *sec,
		       const struct key *k, const char *value, const char *why)
{
	char buf[100];
	if (k->type == K_SECRET)
		return fc_error_set(err, "%s: %s %s: the value %s", where, sec, k->doc.key, why);
	return fc_error_set(err, "%s: %s %s: \"%s\" %s", where, sec, k->doc.key,
			    shown(value, buf, sizeof buf), why);
}

static int empty_error(struct fc_error *err, const char *where, const char *sec, const struct key *k)
{
	if (k->doc.default_value[0] && !(k->flags & F_DYNAMIC))
		return fc_error_set(err, "%s: %s %s: a value is required (%s); leave the line out "
					 "for the default, %s",
				    where, sec, k->doc.key, k->doc.type, k->doc.default_value);
	return fc_error_set(err, "%s: %s %s: a value is required (%s); leave the line out if "
				 "there is none",
			    where, sec, k->doc.key, k->doc.type);
}

/* inih's handler: one "key = value" of the current section. Returns 1, or 0 after an error (which
 * also makes the reader stop). */
static int on_key(void *user, const char *inih_section, const char *name, const char *value)
{
	struct parse *p = user;
	(void)inih_section; /* ours is p->section: inih cuts long names and keeps malformed ones */
	char buf[100], sec[80], hint[80], why[256], where[CONFIG_PATH_MAX + 16];
	if (p->failed)
		return 0;
	if (!p->section) {
		fail(p, "\"%s\" is outside any section (put it under a [section] header)",
		     shown(name, buf, sizeof buf));
		return 0;
	}
	section_label(p, sec, sizeof sec);
	if (!*name) {
		fail(p, "%s: a key name is missing before \"=\"", sec);
		return 0;
	}
	const struct key *k = key_find(p->section, name);
	if (!k) {
		key_hint(p->section, name, hint, sizeof hint);
		fail(p, "unknown key \"%s\" in %s%s", shown(name, buf, sizeof buf), sec, hint);
		return 0;
	}
	bool in_profile = k->flags & F_PROFILE;
	struct origin *o = in_profile ? &p->c->extra[p->profile].o[key_index(k)]
				      : &p->c->o[key_index(k)];
	void *base = in_profile ? (void *)&p->c->pub.profiles[p->profile] : (void *)&p->c->pub;
	if (o->line > 0) {
		fail(p, "duplicate key \"%s\" in %s (first set on line %d)", k->doc.key, sec, o->line);
		return 0;
	}
	snprintf(where, sizeof where, "%s:%d", p->name, p->line);
	p->failed = true; /* until the value is stored */
	if (!*value && !(k->flags & F_EMPTY_OK)) {
		empty_error(p->err, where, sec, k);
		return 0;
	}
	if (store_value(k, value, base, p->base_dir, why, sizeof why) < 0) {
		value_error(p->err, where, sec, k, value, why);
		return 0;
	}
	p->failed = false;
	o->line = p->line;
	return 1;
}

static int parse_text_into(struct config_full *c, const char *text, const char *name,
			   const char *base_dir, struct fc_error *err)
{
	struct parse p = { .c = c, .name = name, .base_dir = base_dir, .pos = text, .err = err };
	int rc = ini_parse_stream(read_line, &p, on_key, &p);
	if (p.failed)
		return -1;
	if (rc > 0)
		return fc_error_set(err, "%s:%d: expected \"key = value\" or a [section] header", name, rc);
	if (rc < 0)
		return fc_error_set(err, "%s: out of memory", name);
	return 0;
}

/* ---- checks across keys ---------------------------------------------------------------------- */

/* "FILE:LINE", or the label of a value set another way, or "FILE". */
static void where_of(const struct config_full *c, const struct origin *o, char *out, size_t n)
{
	if (o->line > 0)
		snprintf(out, n, "%s:%d", c->name, o->line);
	else if (o->label[0])
		snprintf(out, n, "%s", o->label);
	else
		snprintf(out, n, "%s", c->name);
}

static const struct origin *gorigin(const struct config_full *c, const char *section, const char *name)
{
	return &c->o[key_index(key_must(section, name))];
}

static const struct origin *porigin(const struct config_full *c, size_t i, const char *name)
{
	return &c->extra[i].o[key_index(key_must("profile", name))];
}

static int check_profile(const struct config_full *c, size_t i, struct fc_error *err)
{
	static const char *const v3_only[] = { "user", "auth", "auth_password", "priv",
					       "priv_password", "context" };
	const struct snmp_profile *p = &c->pub.profiles[i];
	char w[CONFIG_PATH_MAX + 16];
	if (p->version != CONFIG_SNMP_V3) {
		for (size_t j = 0; j < sizeof v3_only / sizeof v3_only[0]; j++) {
			const struct origin *o = porigin(c, i, v3_only[j]);
			if (is_set(o)) {
				where_of(c, o, w, sizeof w);
				return fc_error_set(err, "%s: [profile %s] %s: only used with version = 3 "
							 "(this profile is version %s%s)",
						    w, p->name, v3_only[j], version_names[p->version],
						    is_set(porigin(c, i, "version")) ? "" : ", the default");
			}
		}
		return 0;
	}
	const struct origin *o = porigin(c, i, "community");
	if (is_set(o)) {
		where_of(c, o, w, sizeof w);
		return fc_error_set(err, "%s: [profile %s] community: not used with version = 3 (SNMPv3 "
					 "uses user, auth_password and priv_password)",
				    w, p->name);
	}
	if (!p->user[0]) {
		snprintf(w, sizeof w, "%s:%d", c->name, c->extra[i].header_line);
		return fc_error_set(err, "%s: [profile %s]: version 3 needs a user (add user = NAME)", w,
				    p->name);
	}
	static const struct {
		const char *proto, *password;
	} pairs[] = { { "auth", "auth_password" }, { "priv", "priv_password" } };
	int protos[] = { (int)p->auth, (int)p->priv };
	const char *passwords[] = { p->auth_password, p->priv_password };
	for (size_t j = 0; j < 2; j++) {
		const struct origin *po = porigin(c, i, pairs[j].proto);
		const struct origin *wo = porigin(c, i, pairs[j].password);
		if (protos[j] && !passwords[j][0]) {
			where_of(c, po, w, sizeof w);
			return fc_error_set(err, "%s: [profile %s] %s: needs %s (8 characters at least)", w,
					    p->name, pairs[j].proto, pairs[j].password);
		}
		if (!protos[j] && is_set(wo)) {
			where_of(c, wo, w, sizeof w);
			return fc_error_set(err, "%s: [profile %s] %s: set but %s is not (add %s = %s)", w,
					    p->name, pairs[j].password, pairs[j].proto, pairs[j].proto,
					    j ? "AES" : "SHA-256");
		}
	}
	if (p->priv && !p->auth) {
		where_of(c, porigin(c, i, "priv"), w, sizeof w);
		return fc_error_set(err, "%s: [profile %s] priv: needs auth too (SNMPv3 has no privacy "
					 "without authentication)",
				    w, p->name);
	}
	return 0;
}

/* Returns 0 when none of names[] is empty in the configuration, else the index + 1 of the first
 * empty one. */
static int first_missing(const struct config *cfg, const char *section, const char *const *names,
			 size_t count)
{
	for (size_t i = 0; i < count; i++)
		if (!*(const char *)cfield(cfg, key_must(section, names[i])))
			return (int)i + 1;
	return 0;
}

static int check_all(const struct config_full *c, struct fc_error *err)
{
	const struct config *cfg = &c->pub;
	char w[CONFIG_PATH_MAX + 16];
	for (size_t i = 0; i < cfg->profile_count; i++)
		if (check_profile(c, i, err) < 0)
			return -1;

	const struct origin *pw = gorigin(c, "server", "password");
	const struct origin *pwf = gorigin(c, "server", "password_file");
	if (is_set(pw) && is_set(pwf) && strcmp(pw->label, "password_file") != 0) {
		bool file_later = pwf->line > pw->line;
		where_of(c, file_later ? pwf : pw, w, sizeof w);
		return fc_error_set(err, "%s: [server] %s: cannot be used together with %s (line %d); "
					 "keep one of them",
				    w, file_later ? "password_file" : "password",
				    file_later ? "password" : "password_file",
				    file_later ? pw->line : pwf->line);
	}
	if (cfg->server.url[0]) {
		where_of(c, gorigin(c, "server", "url"), w, sizeof w);
		if (!cfg->server.user[0])
			return fc_error_set(err, "%s: [server] url is set, so user is required (add "
						 "user = NAME)",
					    w);
		if (!cfg->server.password[0] && !cfg->server.password_file[0])
			return fc_error_set(err, "%s: [server] url is set, so password or password_file "
						 "is required",
					    w);
	}
	if (cfg->server.connect_timeout > cfg->server.timeout) {
		const struct origin *o = gorigin(c, "server", "connect_timeout");
		where_of(c, is_set(o) ? o : gorigin(c, "server", "timeout"), w, sizeof w);
		return fc_error_set(err, "%s: [server] connect_timeout (%llds) is longer than timeout "
					 "(%llds), which covers the whole upload",
				    w, (long long)cfg->server.connect_timeout,
				    (long long)cfg->server.timeout);
	}

	if (cfg->smtp.connect_timeout > cfg->smtp.timeout) {
		const struct origin *o = gorigin(c, "smtp", "connect_timeout");
		where_of(c, is_set(o) ? o : gorigin(c, "smtp", "timeout"), w, sizeof w);
		return fc_error_set(err, "%s: [smtp] connect_timeout (%llds) is longer than timeout "
					 "(%llds), which covers the whole message",
				    w, (long long)cfg->smtp.connect_timeout, (long long)cfg->smtp.timeout);
	}

	static const char *const smtp_needs[] = { "from", "to" };
	int missing = first_missing(cfg, "smtp", smtp_needs, 2);
	if (cfg->smtp.url[0] && missing) {
		where_of(c, gorigin(c, "smtp", "url"), w, sizeof w);
		return fc_error_set(err, "%s: [smtp] url is set, so %s is required", w,
				    smtp_needs[missing - 1]);
	}
	bool has_user = cfg->smtp.user[0] != '\0', has_password = cfg->smtp.password[0] != '\0';
	if (has_user != has_password) {
		where_of(c, gorigin(c, "smtp", has_user ? "user" : "password"), w, sizeof w);
		return fc_error_set(err, "%s: [smtp] %s: needs %s too", w, has_user ? "user" : "password",
				    has_user ? "password" : "user");
	}
	return 0;
}

/* Before checking: the built-in profile when the file has none, no community for version 3. */
static int complete(struct config_full *c, struct fc_error *err)
{
	if (c->pub.profile_count == 0 && profile_add(c, "default", 0, err) < 0)
		return -1;
	const struct key *community = key_must("profile", "community");
	for (size_t i = 0; i < c->pub.profile_count; i++)
		if (c->pub.profiles[i].version == CONFIG_SNMP_V3 &&
		    !is_set(&c->extra[i].o[key_index(community)]))
			c->pub.profiles[i].community[0] = '\0';
	return 0;
}

static int home_dir(char *out, size_t n)
{
	const char *home = getenv("HOME");
	char buf[4096];
	struct passwd pw, *res = NULL;
	if ((!home || !*home) && getpwuid_r(getuid(), &pw, buf, sizeof buf, &res) == 0 && res)
		home = res->pw_dir;
	if (!home || home[0] != '/')
		return -1;
	return copy_text(out, n, home);
}

/* $VAR when it is an absolute path (as the XDG spec asks), else ~/fallback; -1 without a home. */
static int xdg_dir(const char *var, const char *fallback, char *out, size_t n)
{
	const char *v = getenv(var);
	if (v && v[0] == '/')
		return copy_text(out, n, v);
	char home[CONFIG_PATH_MAX];
	if (home_dir(home, sizeof home) < 0)
		return -1;
	int len = snprintf(out, n, "%s/%s", home, fallback);
	return len < 0 || (size_t)len >= n ? -1 : 0;
}

static bool is_system_file(const char *path)
{
	struct stat a, b;
	if (strcmp(path, CONFIG_SYSTEM_PATH) == 0)
		return true;
	return stat(path, &a) == 0 && stat(CONFIG_SYSTEM_PATH, &b) == 0 && a.st_dev == b.st_dev &&
	       a.st_ino == b.st_ino;
}

int config_default_db_path(const char *config_path, char *out, size_t len, struct fc_error *err)
{
	if (config_path && *config_path && is_system_file(config_path)) {
		if (copy_text(out, len, CONFIG_SYSTEM_DB_PATH) < 0)
			return fc_error_set(err, "no room for the database path");
		return 0;
	}
	char dir[CONFIG_PATH_MAX];
	if (xdg_dir("XDG_DATA_HOME", ".local/share", dir, sizeof dir) < 0)
		return fc_error_set(err, "cannot work out the default database path: neither "
					 "XDG_DATA_HOME nor HOME is set; set [database] path");
	int n = snprintf(out, len, "%s/fleetcon/fleetcon.db", dir);
	if (n < 0 || (size_t)n >= len)
		return fc_error_set(err, "the default database path under %s is too long", dir);
	return 0;
}

/* The defaults that depend on the host: the site name and the database path. */
static int dynamic_defaults(struct config_full *c, struct fc_error *err)
{
	struct config *cfg = &c->pub;
	if (!is_set(gorigin(c, "site", "name"))) {
		char host[256] = "";
		if (gethostname(host, sizeof host - 1) < 0 || !host[0] || has_control(host))
			snprintf(host, sizeof host, "fleetcon");
		if (copy_text(cfg->site.name, sizeof cfg->site.name, host) < 0)
			return fc_error_set(err, "the host name is too long for [site] name; set it");
	}
	if (!is_set(gorigin(c, "database", "path")) &&
	    config_default_db_path(cfg->path, cfg->database.path, sizeof cfg->database.path, err) < 0)
		return -1;
	return 0;
}

/* ---- files ----------------------------------------------------------------------------------- */

/* The path as the shell needs it: single-quoted unless it is plain. */
static void shell_quote(const char *path, char *out, size_t n)
{
	if (path[strspn(path, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._-+,")] ==
	    '\0') {
		snprintf(out, n, "%s", path);
		return;
	}
	size_t used = 0;
	if (n < 3) {
		if (n)
			out[0] = '\0';
		return;
	}
	out[used++] = '\'';
	for (; *path && used + 6 < n; path++) {
		if (*path == '\'') {
			memcpy(out + used, "'\\''", 4);
			used += 4;
		} else {
			out[used++] = *path;
		}
	}
	out[used++] = '\'';
	out[used] = '\0';
}

static bool group_or_other_readable(mode_t mode)
{
	return (mode & (S_IRGRP | S_IROTH)) != 0;
}

/* The first secret the file sets, as "[section] key, line N" in out; false when there is none. */
static bool first_secret(const struct config_full *c, char *out, size_t n)
{
	for (size_t i = 0; i < N_KEYS; i++) {
		if (keys[i].type != K_SECRET)
			continue;
		if (!(keys[i].flags & F_PROFILE)) {
			if (c->o[i].line > 0 && *(const char *)cfield(&c->pub, &keys[i])) {
				snprintf(out, n, "[%s] %s on line %d", keys[i].doc.section, keys[i].doc.key,
					 c->o[i].line);
				return true;
			}
			continue;
		}
		for (size_t p = 0; p < c->pub.profile_count; p++)
			if (c->extra[p].o[i].line > 0 && *(const char *)cfield(&c->pub.profiles[p], &keys[i])) {
				snprintf(out, n, "[profile %s] %s on line %d", c->pub.profiles[p].name,
					 keys[i].doc.key, c->extra[p].o[i].line);
				return true;
			}
	}
	return false;
}

/* Reads a small file into a new NUL-terminated buffer (caller frees); st gets its status. */
static char *read_small_file(int fd, const char *name, struct stat *st, struct fc_error *err)
{
	if (fstat(fd, st) < 0) {
		fc_error_set(err, "%s: %s", name, strerror(errno));
		return NULL;
	}
	if (!S_ISREG(st->st_mode)) {
		fc_error_set(err, "%s: not a regular file", name);
		return NULL;
	}
	if (st->st_size > MAX_FILE_SIZE) {
		fc_error_set(err, "%s: too large for a configuration file (%lld bytes; at most %d)", name,
			     (long long)st->st_size, MAX_FILE_SIZE);
		return NULL;
	}
	char *buf = malloc(MAX_FILE_SIZE + 1);
	if (!buf) {
		fc_error_set(err, "out of memory");
		return NULL;
	}
	size_t used = 0;
	for (;;) {
		ssize_t got = read(fd, buf + used, MAX_FILE_SIZE + 1 - used);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			fc_error_set(err, "cannot read %s: %s", name, strerror(errno));
			free(buf);
			return NULL;
		}
		if (got == 0)
			break;
		used += (size_t)got;
		if (used > MAX_FILE_SIZE) {
			fc_error_set(err, "%s: too large for a configuration file (at most %d bytes)", name,
				     MAX_FILE_SIZE);
			free(buf);
			return NULL;
		}
	}
	buf[used] = '\0';
	const char *nul = memchr(buf, '\0', used);
	if (nul) {
		int line = 1;
		for (const char *q = buf; q < nul; q++)
			line += *q == '\n';
		fc_error_set(err, "%s:%d: contains a NUL byte (not a text file?)", name, line);
		free(buf);
		return NULL;
	}
	return buf;
}

/* Reads [server] password_file's first line into [server] password. */
static int read_password_file(struct config_full *c, struct fc_error *err)
{
	struct config *cfg = &c->pub;
	const struct origin *o = gorigin(c, "server", "password_file");
	char w[CONFIG_PATH_MAX + 16], q[CONFIG_PATH_MAX * 2];
	where_of(c, o, w, sizeof w);
	const char *path = cfg->server.password_file;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return fc_error_set(err, "%s: [server] password_file: cannot open %s: %s", w, path,
				    strerror(errno));
	struct stat st;
	struct fc_error e;
	char *text = read_small_file(fd, path, &st, &e);
	close(fd);
	if (!text)
		return fc_error_set(err, "%s: [server] password_file: %s", w, e.msg);
	int rc = 0;
	size_t len = strcspn(text, "\r\n");
	text[len] = '\0';
	shell_quote(path, q, sizeof q);
	if (group_or_other_readable(st.st_mode))
		rc = fc_error_set(err, "%s: [server] password_file: %s can be read by group or others "
				       "(mode %04o); fix it with: chmod 600 %s",
				  w, path, (unsigned)(st.st_mode & 07777), q);
	else if (!len)
		rc = fc_error_set(err, "%s: [server] password_file: the first line of %s is empty", w, path);
	else if (has_control(text))
		rc = fc_error_set(err, "%s: [server] password_file: the password in %s contains a "
				       "control character",
				  w, path);
	else if (copy_text(cfg->server.password, sizeof cfg->server.password, text) < 0)
		rc = fc_error_set(err, "%s: [server] password_file: the password in %s is too long (at "
				       "most %zu characters)",
				  w, path, sizeof cfg->server.password - 1);
	explicit_bzero(text, MAX_FILE_SIZE + 1);
	free(text);
	if (rc == 0)
		snprintf(c->o[key_index(key_must("server", "password"))].label,
			 sizeof c->o[0].label, "password_file");
	return rc;
}

static void wipe(struct config_full *c)
{
	secret_free(c->pub.profiles, c->profile_cap * sizeof *c->pub.profiles);
	free(c->extra);
	secret_free(c, sizeof *c);
}

void config_free(struct config **cfg)
{
	if (!cfg || !*cfg)
		return;
	wipe(full_of(*cfg));
	*cfg = NULL;
}

/* Absolute form of path (not resolving links, so that messages show what the user knows). */
static int absolute(const char *path, char *out, size_t n)
{
	while (strncmp(path, "./", 2) == 0)
		path += 2;
	if (path[0] == '/')
		return copy_text(out, n, path);
	char cwd[CONFIG_PATH_MAX];
	if (!getcwd(cwd, sizeof cwd))
		return -1;
	int len = snprintf(out, n, "%s%s%s", cwd, strcmp(cwd, "/") ? "/" : "", path);
	return len < 0 || (size_t)len >= n ? -1 : 0;
}

static struct config *load_file(const char *path, enum config_source source, struct fc_error *err)
{
	static const char *const given[] = { [CONFIG_FROM_OPTION] = " (given with --config)",
					     [CONFIG_FROM_ENV] = " (from $FLEETCON_CONFIG)" };
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		if (errno == ENOENT)
			fc_error_set(err, "config file %s%s does not exist", path,
				     source < sizeof given / sizeof given[0] && given[source] ? given[source]
											: "");
		else
			fc_error_set(err, "cannot open config file %s: %s", path, strerror(errno));
		return NULL;
	}
	struct stat st;
	char *text = read_small_file(fd, path, &st, err);
	close(fd);
	if (!text)
		return NULL;

	struct config_full *c = config_new(err);
	if (!c) {
		free(text);
		return NULL;
	}
	char dir[CONFIG_PATH_MAX];
	int rc = -1;
	if (absolute(path, c->pub.path, sizeof c->pub.path) < 0 ||
	    copy_text(c->name, sizeof c->name, path) < 0) {
		fc_error_set(err, "config file path too long: %s", path);
		goto out;
	}
	c->pub.source = source;
	snprintf(dir, sizeof dir, "%s", c->pub.path);
	*strrchr(dir, '/') = '\0';
	if (!dir[0])
		snprintf(dir, sizeof dir, "/");
	if (parse_text_into(c, text, path, dir, err) < 0)
		goto out;

	char secret[128], q[CONFIG_PATH_MAX * 2];
	if (group_or_other_readable(st.st_mode) && first_secret(c, secret, sizeof secret)) {
		shell_quote(path, q, sizeof q);
		fc_error_set(err, "%s: holds a secret (%s) but can be read by group or others (mode "
				  "%04o); fix it with: chmod 600 %s",
			     path, secret, (unsigned)(st.st_mode & 07777), q);
		goto out;
	}
	if (complete(c, err) < 0 || check_all(c, err) < 0)
		goto out;
	if (c->pub.server.password_file[0] && read_password_file(c, err) < 0)
		goto out;
	if (dynamic_defaults(c, err) < 0)
		goto out;
	rc = 0;
out:
	explicit_bzero(text, strlen(text));
	free(text);
	if (rc < 0) {
		wipe(c);
		return NULL;
	}
	return &c->pub;
}

/* Finds the file to read: 1 with out set, 0 when there is none (defaults), -1 on error. */
static int find_file(const char *explicit_path, char *out, size_t n, enum config_source *source,
		     struct fc_error *err)
{
	const char *env = getenv("FLEETCON_CONFIG");
	char user[CONFIG_PATH_MAX] = "";
	if (explicit_path && *explicit_path) {
		*source = CONFIG_FROM_OPTION;
		return copy_text(out, n, explicit_path) < 0 ? fc_error_set(err, "path too long") : 1;
	}
	if (env && *env) {
		*source = CONFIG_FROM_ENV;
		return copy_text(out, n, env) < 0 ? fc_error_set(err, "$FLEETCON_CONFIG too long") : 1;
	}
	char dir[CONFIG_PATH_MAX];
	if (xdg_dir("XDG_CONFIG_HOME", ".config", dir, sizeof dir) == 0) {
		int len = snprintf(user, sizeof user, "%s/fleetcon/fleetcon.conf", dir);
		if (len < 0 || (size_t)len >= sizeof user)
			user[0] = '\0';
	}
	const struct {
		const char *path;
		enum config_source source;
	} defaults[] = { { user, CONFIG_FROM_USER }, { CONFIG_SYSTEM_PATH, CONFIG_FROM_SYSTEM } };
	for (size_t i = 0; i < 2; i++) {
		struct stat st;
		if (!defaults[i].path[0])
			continue;
		if (stat(defaults[i].path, &st) < 0) {
			if (errno == ENOENT || errno == ENOTDIR)
				continue;
			return fc_error_set(err, "cannot look at %s: %s", defaults[i].path, strerror(errno));
		}
		*source = defaults[i].source;
		return copy_text(out, n, defaults[i].path) < 0 ? fc_error_set(err, "path too long") : 1;
	}
	*source = CONFIG_FROM_NONE;
	return 0;
}

static struct config *from_text(const char *text, const char *name, enum config_source source,
				struct fc_error *err)
{
	struct config_full *c = config_new(err);
	if (!c)
		return NULL;
	c->pub.source = source;
	snprintf(c->name, sizeof c->name, "%s", name ? name : "(text)");
	if (parse_text_into(c, text ? text : "", c->name, "", err) < 0 || complete(c, err) < 0 ||
	    check_all(c, err) < 0 || dynamic_defaults(c, err) < 0) {
		wipe(c);
		return NULL;
	}
	return &c->pub;
}

struct config *config_load(const char *explicit_path, struct fc_error *err)
{
	char path[CONFIG_PATH_MAX];
	enum config_source source = CONFIG_FROM_NONE;
	int found = find_file(explicit_path, path, sizeof path, &source, err);
	if (found < 0)
		return NULL;
	if (found == 0)
		return from_text("", "(built-in defaults)", CONFIG_FROM_NONE, err);
	return load_file(path, source, err);
}

struct config *config_parse_string(const char *text, const char *name_for_messages,
				   struct fc_error *err)
{
	return from_text(text, name_for_messages, CONFIG_FROM_STRING, err);
}

/* ---- after loading --------------------------------------------------------------------------- */

int config_set(struct config *cfg, const char *section, const char *key, const char *value,
	       const char *origin, struct fc_error *err)
{
	struct config_full *c = full_of(cfg);
	const struct key *k = key_find(section, key);
	if (!k)
		return fc_error_set(err, "%s: no key [%s] %s", origin, section, key);
	if (k->type == K_SECRET || (k->flags & F_PROFILE) || strcmp(key, "password_file") == 0)
		return fc_error_set(err, "%s: [%s] %s can only be set in the config file", origin,
				    section, key);
	char sec[64], why[256], cwd[CONFIG_PATH_MAX];
	snprintf(sec, sizeof sec, "[%s]", section);
	if (!*value && !(k->flags & F_EMPTY_OK))
		return empty_error(err, origin, sec, k);
	if (!getcwd(cwd, sizeof cwd))
		return fc_error_set(err, "%s: cannot tell the current folder: %s", origin, strerror(errno));

	char saved[CONFIG_PATH_MAX];
	struct origin saved_o = c->o[key_index(k)];
	memcpy(saved, field(cfg, k), k->size);
	if (store_value(k, value, cfg, cwd, why, sizeof why) < 0) {
		memcpy(field(cfg, k), saved, k->size);
		return value_error(err, origin, sec, k, value, why);
	}
	struct origin *o = &c->o[key_index(k)];
	o->line = 0;
	snprintf(o->label, sizeof o->label, "%s", origin);
	if (check_all(c, err) < 0) {
		memcpy(field(cfg, k), saved, k->size);
		*o = saved_o;
		return -1;
	}
	return 0;
}

const struct snmp_profile *config_profile(const struct config *cfg, const char *name)
{
	int i = profile_find(cfg, name);
	return i < 0 ? NULL : &cfg->profiles[i];
}

static void print_origin(const struct origin *o, bool builtin_profile, const struct key *k,
			 char *out, size_t n)
{
	if (o->line > 0)
		snprintf(out, n, "line %d", o->line);
	else if (o->label[0])
		snprintf(out, n, "from %s", o->label);
	else if (builtin_profile)
		snprintf(out, n, "built-in");
	else if (strcmp(k->doc.key, "name") == 0 && strcmp(k->doc.section, "site") == 0)
		snprintf(out, n, "default (host name)");
	else
		snprintf(out, n, "default");
}

/* "key = value" (or a header when value is NULL), then "; from" in a column. */
static void print_line(FILE *out, const char *key, const char *value, const char *from)
{
	int len = value ? fprintf(out, "%s = %s", key, value) : fprintf(out, "%s", key);
	fprintf(out, "%*s; %s\n", len >= 0 && len < 38 ? 38 - len : 1, "", from);
}

static void print_key(FILE *out, const struct key *k, const void *base,
		      const struct origin *o, bool builtin_profile)
{
	char value[CONFIG_PATH_MAX], from[64];
	format_value(k, cfield(base, k), value, sizeof value);
	if (k->type == K_SECRET && value[0])
		snprintf(value, sizeof value, MASK);
	print_origin(o, builtin_profile, k, from, sizeof from);
	print_line(out, k->doc.key, value, from);
}

static int check_readable(const struct config_full *c, const char *section, const char *key,
			  const char *path, struct fc_error *err)
{
	if (!path[0] || access(path, R_OK) == 0)
		return 0;
	int e = errno;
	char w[CONFIG_PATH_MAX + 16];
	where_of(c, gorigin(c, section, key), w, sizeof w);
	return fc_error_set(err, "%s: [%s] %s: %s cannot be read (%s)", w, section, key, path, strerror(e));
}

int config_check_environment(const struct config *cfg, struct fc_error *err)
{
	const struct config_full *c = cfull_of(cfg);
	if (check_readable(c, "server", "ca_file", cfg->server.ca_file, err) < 0 ||
	    check_readable(c, "smtp", "ca_file", cfg->smtp.ca_file, err) < 0)
		return -1;
	if (cfg->service.socket_group[0]) {
		struct group gr, *found = NULL;
		char buf[4096];
		int rc = getgrnam_r(cfg->service.socket_group, &gr, buf, sizeof buf, &found);
		if (rc != 0 || !found) {
			char w[CONFIG_PATH_MAX + 16];
			where_of(c, gorigin(c, "service", "socket_group"), w, sizeof w);
			return fc_error_set(err, "%s: [service] socket_group: %s", w,
					    rc ? strerror(rc) : "no such group on this system (create it with groupadd, "
								"or leave the key out for an owner-only socket)");
		}
	}
	return 0;
}

int config_print(const struct config *cfg, FILE *out)
{
	const struct config_full *c = cfull_of(cfg);
	static const char *const found[] = {
		[CONFIG_FROM_NONE] = "",
		[CONFIG_FROM_OPTION] = "given with --config",
		[CONFIG_FROM_ENV] = "from $FLEETCON_CONFIG",
		[CONFIG_FROM_USER] = "the user's file",
		[CONFIG_FROM_SYSTEM] = "the system file",
		[CONFIG_FROM_STRING] = "",
	};
	fprintf(out, "; fleetcon configuration\n");
	if (cfg->source == CONFIG_FROM_NONE)
		fprintf(out, "; file: none found ($XDG_CONFIG_HOME/fleetcon/fleetcon.conf, %s); "
			     "built-in defaults\n",
			CONFIG_SYSTEM_PATH);
	else if (cfg->source == CONFIG_FROM_STRING)
		fprintf(out, "; text: %s\n", c->name);
	else
		fprintf(out, "; file: %s (%s)\n", cfg->path, found[cfg->source]);
	fprintf(out, "; secrets are shown as %s\n", MASK);

	for (size_t s = 0; s < N_SECTIONS; s++) {
		bool profile = strcmp(sections[s], "profile") == 0;
		size_t rounds = profile ? cfg->profile_count : 1;
		for (size_t r = 0; r < rounds; r++) {
			if (profile) {
				int hl = c->extra[r].header_line;
				char name[64], from[32];
				snprintf(name, sizeof name, "[profile %s]", cfg->profiles[r].name);
				snprintf(from, sizeof from, hl > 0 ? "line %d" : "built-in", hl);
				fputc('\n', out);
				print_line(out, name, NULL, from);
			} else {
				fprintf(out, "\n[%s]\n", sections[s]);
			}
			for (size_t i = 0; i < N_KEYS; i++) {
				if (strcmp(keys[i].doc.section, sections[s]) != 0)
					continue;
				if (profile)
					print_key(out, &keys[i], &cfg->profiles[r], &c->extra[r].o[i],
						  c->extra[r].header_line == 0);
				else
					print_key(out, &keys[i], cfg, &c->o[i], false);
			}
		}
	}
	if (fflush(out) != 0 || ferror(out))
		return -1;
	return 0;
}
