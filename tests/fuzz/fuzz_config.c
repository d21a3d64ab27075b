/* Fuzzes the configuration parser (model/config.h config_parse_string). For every input: either
 * a configuration comes back whose every value lies in the range docs/configuration.md gives, or
 * NULL with a message. A configuration that parses prints (config_print) without showing any
 * secret, and what it prints parses again into the same configuration. */
#include "tests/fuzz/fuzz.h"

#include <strings.h>

#include "model/config.h"

#define IN_RANGE(v, lo, hi) ((v) >= (lo) && (v) <= (hi))
#define TERMINATED(field) (strnlen((field), sizeof(field)) < sizeof(field))

static bool name_ok(const char *s)
{
	size_t n = strlen(s);
	if (n < 1 || n > 40)
		return false;
	return strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") == n;
}

static void check_values(const struct config *c)
{
	FUZZ_CHECK(TERMINATED(c->site.name) && TERMINATED(c->database.path) &&
			   TERMINATED(c->server.url) && TERMINATED(c->server.password) &&
			   TERMINATED(c->smtp.to) && TERMINATED(c->service.socket_group),
		   "unterminated text field");
	FUZZ_CHECK(c->server.url[0] == '\0' || strncasecmp(c->server.url, "https://", 8) == 0, "url %s",
		   c->server.url);
	FUZZ_CHECK(c->smtp.url[0] == '\0' || strncasecmp(c->smtp.url, "smtp://", 7) == 0 ||
			   strncasecmp(c->smtp.url, "smtps://", 8) == 0,
		   "smtp url %s", c->smtp.url);
	FUZZ_CHECK(IN_RANGE(c->server.connect_timeout, 1, 600) && IN_RANGE(c->server.timeout, 1, 86400),
		   "server timeouts");
	FUZZ_CHECK(IN_RANGE(c->sync.time.hour, 0, 23) && IN_RANGE(c->sync.time.minute, 0, 59),
		   "sync time %d:%d", c->sync.time.hour, c->sync.time.minute);
	FUZZ_CHECK(c->sync.days != 0 && (c->sync.days & ~CONFIG_DAYS_ALL) == 0, "days %#x", c->sync.days);
	FUZZ_CHECK(IN_RANGE(c->poll.interval, 60, 7 * 86400), "poll interval");
	FUZZ_CHECK(IN_RANGE(c->poll.timeout_ms, 100, 60000), "poll timeout");
	FUZZ_CHECK(IN_RANGE(c->poll.retries, 0, 10) && IN_RANGE(c->poll.concurrency, 1, 10000) &&
			   IN_RANGE(c->poll.per_host, 1, 64) && IN_RANGE(c->poll.port, 1, 65535),
		   "poll limits");
	FUZZ_CHECK(c->discovery.interval == 0 || IN_RANGE(c->discovery.interval, 600, 365 * 86400),
		   "discovery interval %lld", (long long)c->discovery.interval);
	FUZZ_CHECK(IN_RANGE(c->alerts.supply_low, 0, 100), "supply_low %d", c->alerts.supply_low);
	FUZZ_CHECK(IN_RANGE(c->alerts.unreachable_polls, 1, 1000) &&
			   IN_RANGE(c->alerts.max_per_hour, 1, 1000) &&
			   IN_RANGE(c->alerts.upload_failing, 3600, 365 * 86400),
		   "alerts");
	FUZZ_CHECK(IN_RANGE(c->outbox.max_age, 86400, 3650 * 86400) &&
			   IN_RANGE(c->outbox.max_size, 1 << 20, (int64_t)1 << 40),
		   "outbox");
	FUZZ_CHECK(IN_RANGE((int)c->log.level, CONFIG_LOG_ERROR, CONFIG_LOG_DEBUG), "log level");
	FUZZ_CHECK(c->profiles && c->profile_count >= 1, "no profile");
	for (size_t i = 0; i < c->profile_count; i++) {
		const struct snmp_profile *p = &c->profiles[i];
		FUZZ_CHECK(TERMINATED(p->name) && name_ok(p->name), "profile name \"%.41s\"", p->name);
		FUZZ_CHECK(config_profile(c, p->name) == &c->profiles[i], "profile %s twice", p->name);
		FUZZ_CHECK(TERMINATED(p->community) && TERMINATED(p->user) && TERMINATED(p->auth_password) &&
				   TERMINATED(p->priv_password) && TERMINATED(p->context),
			   "profile %s: unterminated field", p->name);
		if (p->version != CONFIG_SNMP_V3)
			continue;
		FUZZ_CHECK(p->user[0] != '\0', "v3 profile %s without user", p->name);
		FUZZ_CHECK((p->auth == CONFIG_AUTH_NONE) == (p->auth_password[0] == '\0') &&
				   (p->priv == CONFIG_PRIV_NONE) == (p->priv_password[0] == '\0'),
			   "v3 profile %s: a password without its protocol or the reverse", p->name);
		FUZZ_CHECK(p->auth_password[0] == '\0' || strlen(p->auth_password) >= 8, "short auth pass");
		FUZZ_CHECK(p->priv_password[0] == '\0' || strlen(p->priv_password) >= 8, "short priv pass");
		FUZZ_CHECK(p->priv == CONFIG_PRIV_NONE || p->auth != CONFIG_AUTH_NONE, "priv without auth");
	}
}

static char *print_config(const struct config *c)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	FUZZ_OOM(f);
	FUZZ_CHECK(config_print(c, f) == 0, "config_print failed");
	FUZZ_CHECK(fclose(f) == 0, "memstream");
	return buf;
}

/* The secrets of c, so that they can be looked for and then wiped. */
static size_t secrets_of(struct config *c, char **out, size_t max)
{
	size_t n = 0;
	out[n++] = c->server.password;
	out[n++] = c->smtp.password;
	for (size_t i = 0; i < c->profile_count && n + 3 <= max; i++) {
		out[n++] = c->profiles[i].community;
		out[n++] = c->profiles[i].auth_password;
		out[n++] = c->profiles[i].priv_password;
	}
	return n;
}

/* The printed text without the lines of keys that have no value (a file leaves them out: an
 * empty value is refused where one is required), as a file to parse again. */
static char *without_empty(const char *text)
{
	char *out = malloc(strlen(text) + 1);
	FUZZ_OOM(out);
	char *w = out;
	for (const char *line = text; *line;) {
		const char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) : strlen(line);
		const char *eq = memchr(line, '=', len);
		const char *v = eq ? eq + 1 : NULL;
		while (v && v < line + len && *v == ' ')
			v++;
		if (!(line[0] != '[' && eq && v == line + len)) {
			memcpy(w, line, len);
			w += len;
			*w++ = '\n';
		}
		line += len + (end ? 1 : 0);
	}
	*w = '\0';
	return out;
}

/* The printed text without its "; line N" / "; default" remarks and the file header: what a
 * second parse must reproduce. */
static void strip_remarks(char *text)
{
	char *w = text;
	for (char *line = text; *line;) {
		char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) : strlen(line);
		if (line[0] != ';') {
			char *semi = NULL;
			for (size_t i = 0; i + 1 < len; i++)
				if (line[i] == ' ' && line[i + 1] == ';')
					semi = line + i;
			size_t keep = semi ? (size_t)(semi - line) : len;
			while (keep > 0 && line[keep - 1] == ' ')
				keep--;
			memmove(w, line, keep);
			w += keep;
			*w++ = '\n';
		}
		line += len + (end ? 1 : 0);
	}
	*w = '\0';
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_cstr(data, size);
	struct fc_error err = { { 0 } };
	struct config *c = config_parse_string(text, "fuzz.conf", &err);
	free(text);
	if (!c) {
		FUZZ_CHECK(err.msg[0] != '\0', "NULL without a message");
		return 0;
	}
	FUZZ_CHECK(c->source == CONFIG_FROM_STRING, "source %d", (int)c->source);
	check_values(c);

	/* Printed: every secret masked. A secret may still show up as part of some other value
	 * (a password "public" and the community "public"): it must then show up just the same once
	 * the secrets are wiped. */
	char *printed = print_config(c);
	char *secrets[3 + 3 * 64];
	size_t n = secrets_of(c, secrets, sizeof secrets / sizeof secrets[0]);
	char *copies[sizeof secrets / sizeof secrets[0]];
	for (size_t i = 0; i < n; i++) {
		copies[i] = strdup(secrets[i]);
		FUZZ_OOM(copies[i]);
		secrets[i][0] = '\0';
	}
	char *wiped = print_config(c);
	for (size_t i = 0; i < n; i++) {
		if (copies[i][0] && strstr(printed, copies[i]))
			FUZZ_CHECK(strstr(wiped, copies[i]) != NULL, "secret \"%s\" printed:\n%s", copies[i],
				   printed);
		strcpy(secrets[i], copies[i]);
		free(copies[i]);
	}
	free(wiped);

	/* What config check prints, without its empty keys, is a configuration file: parsed again it
	 * gives the same text. */
	/* What config check prints, without its remarks and empty keys, is a configuration file:
	 * parsed again it prints the same. Not for a value that starts with ';' ("name =;x" gives
	 * "; x", printed "name = ; x", which reads back as a comment: inih's rule), nor for a line
	 * that the printed spaces make longer than a file may have: config check does not promise a
	 * loadable file for those. */
	bool comparable = strstr(printed, "= ;") == NULL;
	strip_remarks(printed);
	for (const char *line = printed; comparable && *line;) {
		const char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) : strlen(line);
		comparable = len < 199;
		line += len + (end ? 1 : 0);
	}
	if (!comparable) {
		free(printed);
		config_free(&c);
		return 0;
	}
	char *file = without_empty(printed);
	struct config *again = config_parse_string(file, "printed.conf", &err);
	FUZZ_CHECK(again != NULL, "the printed configuration does not parse: %s\n%s", err.msg, file);
	free(file);
	check_values(again);
	char *printed2 = print_config(again);
	strip_remarks(printed2);
	FUZZ_CHECK(strcmp(printed, printed2) == 0, "printed twice differs:\n%s\n----\n%s", printed,
		   printed2);
	free(printed2);
	config_free(&again);
	free(printed);
	config_free(&c);
	FUZZ_CHECK(c == NULL, "config_free did not NULL the pointer");
	return 0;
}
