/* Tests of the configuration module: a file with every key, every class of error with its line,
 * the permission rule for secrets, the search order and default paths (with HOME and XDG_* pointed
 * at a temporary folder), masking in config_print(), and that fleetcon.conf.example and
 * docs/configuration.md document every key of the table. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "model/config.h"
#include "tests/unit/lib/tmpdir.h"

static char *tmp; /* a fresh folder per test, removed afterwards */

static int setup(void **state)
{
	(void)state;
	tmp = test_tmpdir_new();
	/* Nothing the developer has may leak in. */
	unsetenv("FLEETCON_CONFIG");
	unsetenv("XDG_CONFIG_HOME");
	unsetenv("XDG_DATA_HOME");
	return setenv("HOME", tmp, 1);
}

static int teardown(void **state)
{
	(void)state;
	test_tmpdir_remove(&tmp);
	return 0;
}

/* Writes text to tmp/name, making its folders, with mode; returns the path (valid until the next
 * call). */
static const char *write_file(const char *name, const char *text, mode_t mode)
{
	static char path[512];
	snprintf(path, sizeof path, "%s/%s", tmp, name);
	for (char *slash = strchr(path + strlen(tmp) + 1, '/'); slash; slash = strchr(slash + 1, '/')) {
		*slash = '\0';
		if (mkdir(path, 0700) < 0 && errno != EEXIST)
			fail_msg("mkdir %s: %s", path, strerror(errno));
		*slash = '/';
	}
	char *made = test_write_file(tmp, name, text, (int)mode);
	free(made);
	return path;
}

static char *print_to_string(const struct config *cfg)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	assert_non_null(f);
	assert_int_equal(config_print(cfg, f), 0);
	assert_int_equal(fclose(f), 0);
	return buf;
}

static char *read_source_file(const char *name)
{
	FILE *f = fopen(name, "r");
	if (!f)
		fail_msg("cannot open %s (run the tests from the top of the source tree): %s", name,
			 strerror(errno));
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);
	assert_non_null(m);
	int ch;
	while ((ch = fgetc(f)) != EOF)
		fputc(ch, m);
	fclose(f);
	assert_int_equal(fclose(m), 0);
	return buf;
}

/* Calls fn for each "key = value" line of an INI text, with its section ("profile" for any
 * profile). With commented, lines written ";key = value" (a setting switched off, as the example
 * file writes them) and ";[section]" count too; "; prose" never does. */
typedef void (*ini_line_fn)(const char *section, const char *key, const char *value, void *user);

static void scan_ini(const char *text, bool commented, ini_line_fn fn, void *user)
{
	char section[64] = "", line[512];
	while (*text) {
		size_t len = strcspn(text, "\n");
		snprintf(line, sizeof line, "%.*s", (int)len, text);
		text += len + (text[len] == '\n');
		char *p = line;
		while (*p == ' ' || *p == '\t')
			p++;
		if (commented && p[0] == ';' && p[1] != ' ' && p[1] != ';' && p[1])
			p++;
		if (*p == '[') {
			snprintf(section, sizeof section, "%.*s", (int)strcspn(p + 1, " ]"), p + 1);
			continue;
		}
		if (!(*p >= 'a' && *p <= 'z'))
			continue;
		char *eq = strchr(p, '=');
		if (!eq)
			continue;
		char *end = eq;
		while (end > p && end[-1] == ' ')
			*--end = '\0';
		*eq = '\0';
		char *value = eq + 1;
		while (*value == ' ')
			value++;
		char *semi = strstr(value, " ;");
		if (semi)
			*semi = '\0';
		size_t vlen = strlen(value);
		while (vlen && value[vlen - 1] == ' ')
			value[--vlen] = '\0';
		fn(section, p, value, user);
	}
}

/* ---- every key, set to something other than its default ---------------------------------- */

#define PIN "sha256//" "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmno+/="

static const char good_file[] =
	"; every key once, none at its default\n"
	"[site]\n"
	"name = Main office\n"
	"\n"
	"[database]\n"
	"path = data/fc.db   ; relative to this file's folder\n"
	"[server]\n"
	"url = https://collector.example.com/api\n"
	"user = agent-7\n"
	"password = CANARY-server-pw\n"
	"ca_file = ca.pem\n"
	"pinned_key = " PIN "\n"
	"proxy = http://proxy.example.com:3128\n"
	"connect_timeout = 20s\n"
	"timeout = 5m\n"
	"[sync]\n"
	"time = 23:45\n"
	"days = mon-fri\n"
	"[poll]\n"
	"interval = 1h\n"
	"timeout = 1500ms\n"
	"retries = 3\n"
	"concurrency = 512\n"
	"per_host = 4\n"
	"port = 1161\n"
	"include_new = no\n"
	"[discovery]\n"
	"interval = 0\n"
	"[profile office]\n"
	"version = 3\n"
	"user = monitor\n"
	"auth = sha-512\n"
	"auth_password = CANARY-auth-pw\n"
	"priv = AES-256\n"
	"priv_password = CANARY-priv-pw\n"
	"context = ctx1\n"
	"[profile legacy]\n"
	"version = 1\n"
	"community = CANARY-community\n"
	"[smtp]\n"
	"url = smtps://mail.example.com:465\n"
	"starttls = off\n"
	"user = alerts\n"
	"password = CANARY-smtp-pw\n"
	"ca_file = /etc/ssl/mail-ca.pem\n"
	"from = fleetcon@example.com\n"
	"to = a@example.com,b@example.com\n"
	"connect_timeout = 5s\n"
	"timeout = 1m\n"
	"[alerts]\n"
	"supply_low = 15%\n"
	"unreachable_polls = 5\n"
	"upload_failing = 12h\n"
	"max_per_hour = 25\n"
	"[outbox]\n"
	"max_age = 7d\n"
	"max_size = 1G\n"
	"[service]\n"
	"socket_group = lpadmin\n"
	"[log]\n"
	"level = debug\n";

/* The one key good_file cannot hold with password. */
static const char pwfile_file[] = "[server]\n"
				  "url = https://collector.example.com\n"
				  "user = agent-7\n"
				  "password_file = secret/pw\n";

struct seen {
	bool found[128];
};

static void mark_seen(const char *section, const char *key, const char *value, void *user)
{
	(void)value;
	struct seen *s = user;
	const struct config_key_doc *d;
	for (size_t i = 0; (d = config_key_doc(i)); i++)
		if (strcmp(d->section, section) == 0 && strcmp(d->key, key) == 0)
			s->found[i] = true;
}

static void test_good_file_has_every_key(void **state)
{
	(void)state;
	struct seen s = { { false } };
	scan_ini(good_file, false, mark_seen, &s);
	scan_ini(pwfile_file, false, mark_seen, &s);
	const struct config_key_doc *d;
	size_t i;
	for (i = 0; (d = config_key_doc(i)); i++)
		if (!s.found[i])
			fail_msg("[%s] %s is not in the test's good file", d->section, d->key);
	assert_true(i < 128);
}

static void test_good_file_round_trip(void **state)
{
	(void)state;
	const char *path = write_file("conf/good.conf", good_file, 0600);
	struct fc_error err = { "" };
	struct config *cfg = config_load(path, &err);
	if (!cfg)
		fail_msg("%s", err.msg);
	char want[600];

	assert_string_equal(cfg->path, path);
	assert_int_equal(cfg->source, CONFIG_FROM_OPTION);
	assert_string_equal(cfg->site.name, "Main office");
	snprintf(want, sizeof want, "%s/conf/data/fc.db", tmp);
	assert_string_equal(cfg->database.path, want);
	assert_string_equal(cfg->server.url, "https://collector.example.com/api");
	assert_string_equal(cfg->server.user, "agent-7");
	assert_string_equal(cfg->server.password, "CANARY-server-pw");
	snprintf(want, sizeof want, "%s/conf/ca.pem", tmp);
	assert_string_equal(cfg->server.ca_file, want);
	assert_string_equal(cfg->server.pinned_key, PIN);
	assert_string_equal(cfg->server.proxy, "http://proxy.example.com:3128");
	assert_int_equal(cfg->server.connect_timeout, 20);
	assert_int_equal(cfg->server.timeout, 300);
	assert_int_equal(cfg->sync.time.hour, 23);
	assert_int_equal(cfg->sync.time.minute, 45);
	assert_int_equal(cfg->sync.days, CONFIG_DAY(1) | CONFIG_DAY(2) | CONFIG_DAY(3) | CONFIG_DAY(4) |
						 CONFIG_DAY(5));
	assert_int_equal(cfg->poll.interval, 3600);
	assert_int_equal(cfg->poll.timeout_ms, 1500);
	assert_int_equal(cfg->poll.retries, 3);
	assert_int_equal(cfg->poll.concurrency, 512);
	assert_int_equal(cfg->poll.per_host, 4);
	assert_int_equal(cfg->poll.port, 1161);
	assert_false(cfg->poll.include_new);
	assert_int_equal(cfg->discovery.interval, 0);

	assert_int_equal(cfg->profile_count, 2);
	const struct snmp_profile *p = config_profile(cfg, "office");
	assert_non_null(p);
	assert_int_equal(p->version, CONFIG_SNMP_V3);
	assert_string_equal(p->community, "");
	assert_string_equal(p->user, "monitor");
	assert_int_equal(p->auth, CONFIG_AUTH_SHA512);
	assert_string_equal(p->auth_password, "CANARY-auth-pw");
	assert_int_equal(p->priv, CONFIG_PRIV_AES256);
	assert_string_equal(p->priv_password, "CANARY-priv-pw");
	assert_string_equal(p->context, "ctx1");
	p = config_profile(cfg, "legacy");
	assert_non_null(p);
	assert_int_equal(p->version, CONFIG_SNMP_V1);
	assert_string_equal(p->community, "CANARY-community");
	assert_int_equal(p->auth, CONFIG_AUTH_NONE);
	assert_null(config_profile(cfg, "default")); /* the file has profiles: no built-in one */

	assert_string_equal(cfg->smtp.url, "smtps://mail.example.com:465");
	assert_false(cfg->smtp.starttls);
	assert_string_equal(cfg->smtp.user, "alerts");
	assert_string_equal(cfg->smtp.password, "CANARY-smtp-pw");
	assert_string_equal(cfg->smtp.from, "fleetcon@example.com");
	assert_string_equal(cfg->smtp.to, "a@example.com, b@example.com");
	assert_int_equal(cfg->alerts.supply_low, 15);
	assert_int_equal(cfg->alerts.unreachable_polls, 5);
	assert_int_equal(cfg->alerts.upload_failing, 12 * 3600);
	assert_int_equal(cfg->alerts.max_per_hour, 25);
	assert_string_equal(cfg->smtp.ca_file, "/etc/ssl/mail-ca.pem");
	assert_int_equal(cfg->outbox.max_age, 7 * 86400);
	assert_int_equal(cfg->outbox.max_size, (int64_t)1 << 30);
	assert_string_equal(cfg->service.socket_group, "lpadmin");
	assert_int_equal(cfg->log.level, CONFIG_LOG_DEBUG);
	assert_int_equal(cfg->smtp.connect_timeout, 5);
	assert_int_equal(cfg->smtp.timeout, 60);

	/* Printed: every key with its value in canonical form and the line it came from. */
	char *out = print_to_string(cfg);
	static const char *const lines[] = {
		"name = Main office", "; line 3",  "interval = 1h", "; line 20", "timeout = 1500ms",
		"; line 21", "auth = SHA-512", "days = mon-fri", "max_size = 1G", "supply_low = 15",
		"[profile office]", "[profile legacy]", "to = a@example.com, b@example.com",
		"interval = 0", "starttls = no",
	};
	for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++)
		if (!strstr(out, lines[i]))
			fail_msg("\"%s\" is not in:\n%s", lines[i], out);
	assert_non_null(strstr(out, path));
	free(out);
	config_free(&cfg);
	assert_null(cfg);
}

static void test_defaults(void **state)
{
	(void)state;
	struct fc_error err = { "" };
	struct config *cfg = config_parse_string("", "empty.conf", &err);
	if (!cfg)
		fail_msg("%s", err.msg);
	char host[256] = "";
	assert_int_equal(gethostname(host, sizeof host - 1), 0);
	assert_string_equal(cfg->site.name, host);
	assert_string_equal(cfg->path, "");
	assert_int_equal(cfg->source, CONFIG_FROM_STRING);
	assert_string_equal(cfg->server.url, "");
	assert_int_equal(cfg->server.connect_timeout, 15);
	assert_int_equal(cfg->server.timeout, 120);
	assert_int_equal(cfg->sync.time.hour, 2);
	assert_int_equal(cfg->sync.time.minute, 0);
	assert_int_equal(cfg->sync.days, CONFIG_DAYS_ALL);
	assert_int_equal(cfg->poll.interval, 900);
	assert_int_equal(cfg->poll.timeout_ms, 2000);
	assert_int_equal(cfg->poll.retries, 1);
	assert_int_equal(cfg->poll.concurrency, 256);
	assert_int_equal(cfg->poll.per_host, 2);
	assert_int_equal(cfg->poll.port, 161);
	assert_true(cfg->poll.include_new);
	assert_int_equal(cfg->discovery.interval, 86400);
	assert_int_equal(cfg->profile_count, 1);
	const struct snmp_profile *p = config_profile(cfg, "default");
	assert_non_null(p);
	assert_int_equal(p->version, CONFIG_SNMP_V2C);
	assert_string_equal(p->community, "public");
	assert_true(cfg->smtp.starttls);
	assert_int_equal(cfg->alerts.supply_low, 10);
	assert_int_equal(cfg->alerts.unreachable_polls, 3);
	assert_int_equal(cfg->alerts.upload_failing, 2 * 86400);
	assert_int_equal(cfg->alerts.max_per_hour, 10);
	assert_string_equal(cfg->smtp.ca_file, "");
	assert_int_equal(cfg->outbox.max_age, 30 * 86400);
	assert_int_equal(cfg->outbox.max_size, 256 << 20);
	assert_string_equal(cfg->service.socket_group, "");
	assert_int_equal(cfg->log.level, CONFIG_LOG_INFO);

	/* Every documented default is what the table really applies, in the form print shows. */
	char *out = print_to_string(cfg);
	const struct config_key_doc *d;
	for (size_t i = 0; (d = config_key_doc(i)); i++) {
		if (d->dynamic_default)
			continue;
		char line[200];
		snprintf(line, sizeof line, "\n%s = %s", d->key, d->default_value);
		if (strcmp(d->key, "community") == 0)
			snprintf(line, sizeof line, "\ncommunity = ********"); /* public, masked */
		if (!strstr(out, line))
			fail_msg("[%s] %s: default \"%s\" not printed as such:\n%s", d->section, d->key,
				 d->default_value, out);
	}
	assert_non_null(strstr(out, "[profile default]"));
	assert_non_null(strstr(out, "built-in"));
	free(out);
	config_free(&cfg);
	config_free(&cfg); /* NULL again: harmless */
	config_free(NULL);
}

/* ---- values ------------------------------------------------------------------------------------ */

static struct config *parse_ok(const char *text)
{
	struct fc_error err = { "" };
	struct config *cfg = config_parse_string(text, "t.conf", &err);
	if (!cfg)
		fail_msg("rejected \"%s\": %s", text, err.msg);
	return cfg;
}

static void test_value_forms(void **state)
{
	(void)state;
	static const struct {
		const char *text;
		int64_t seconds;
	} durations[] = {
		{ "30s", 30 }, { "5m", 300 }, { "1h", 3600 }, { "2d", 172800 }, { "45", 45 },
		{ "90 s", 90 }, { "3H", 10800 },
	};
	char text[200];
	for (size_t i = 0; i < sizeof durations / sizeof durations[0]; i++) {
		/* [server] timeout takes 1s to 1d, [alerts] upload_failing 1h to 365d */
		bool long_one = durations[i].seconds > 86400;
		snprintf(text, sizeof text, "[%s]\n%s = %s\n", long_one ? "alerts" : "server",
			 long_one ? "upload_failing" : "timeout", durations[i].text);
		struct config *cfg = parse_ok(text);
		assert_int_equal(long_one ? cfg->alerts.upload_failing : cfg->server.timeout,
				 durations[i].seconds);
		config_free(&cfg);
	}
	struct config *cfg = parse_ok("[poll]\ntimeout = 500ms\n");
	assert_int_equal(cfg->poll.timeout_ms, 500);
	config_free(&cfg);
	cfg = parse_ok("[poll]\ntimeout = 3\n"); /* plain seconds, even where milliseconds are kept */
	assert_int_equal(cfg->poll.timeout_ms, 3000);
	config_free(&cfg);

	static const struct {
		const char *word;
		bool value;
	} bools[] = { { "yes", true }, { "no", false }, { "true", true }, { "false", false },
		      { "on", true },  { "off", false }, { "1", true },     { "0", false },
		      { "YES", true } };
	for (size_t i = 0; i < sizeof bools / sizeof bools[0]; i++) {
		snprintf(text, sizeof text, "[poll]\ninclude_new = %s\n", bools[i].word);
		cfg = parse_ok(text);
		assert_int_equal(cfg->poll.include_new, bools[i].value);
		config_free(&cfg);
	}

	const unsigned mon = CONFIG_DAY(1), tue = CONFIG_DAY(2), fri = CONFIG_DAY(5),
		       sat = CONFIG_DAY(6), sun = CONFIG_DAY(0);
	static const char *const day_texts[] = { "mon,tue", "mon-fri", "daily", "", "fri-mon",
						 "Sat, Sunday", "tue" };
	const unsigned day_masks[] = { mon | tue, CONFIG_DAYS_ALL & ~(sat | sun), CONFIG_DAYS_ALL,
				       CONFIG_DAYS_ALL, fri | sat | sun | mon, sat | sun, tue };
	for (size_t i = 0; i < sizeof day_texts / sizeof day_texts[0]; i++) {
		snprintf(text, sizeof text, "[sync]\ndays = %s\n", day_texts[i]);
		cfg = parse_ok(text);
		assert_int_equal(cfg->sync.days, day_masks[i]);
		config_free(&cfg);
	}
}

static void test_value_forms_sizes(void **state)
{
	(void)state;
	struct config *cfg = parse_ok("[outbox]\nmax_size = 2048k\n[alerts]\nsupply_low = 0\n"
				      "[sync]\ntime = 7:05\n");
	assert_int_equal(cfg->outbox.max_size, 2048 << 10);
	assert_int_equal(cfg->alerts.supply_low, 0);
	assert_int_equal(cfg->sync.time.hour, 7);
	assert_int_equal(cfg->sync.time.minute, 5);
	config_free(&cfg);
	cfg = parse_ok("[outbox]\nmax_size = 3145728\n");
	assert_int_equal(cfg->outbox.max_size, 3 << 20);
	char *out = print_to_string(cfg);
	assert_non_null(strstr(out, "max_size = 3M"));
	free(out);
	config_free(&cfg);
}

/* ---- errors ------------------------------------------------------------------------------------ */

static void expect_error(const char *text, int line, const char *needle)
{
	struct fc_error err = { "" };
	struct config *cfg = config_parse_string(text, "t.conf", &err);
	if (cfg) {
		config_free(&cfg);
		fail_msg("accepted:\n%s", text);
	}
	char prefix[32];
	snprintf(prefix, sizeof prefix, "t.conf:%d: ", line);
	if (strncmp(err.msg, prefix, strlen(prefix)) != 0 || !strstr(err.msg, needle))
		fail_msg("for:\n%s\ngot:  %s\nwant: %s...%s", text, err.msg, prefix, needle);
}

static void test_errors(void **state)
{
	(void)state;
	static const struct {
		const char *text;
		int line;
		const char *needle;
	} cases[] = {
		/* unknown section, unknown key */
		{ "[site]\nname = x\n\n[pol]\n", 4, "unknown section [pol] (did you mean [poll]?)" },
		{ "[Poll]\n", 1, "(did you mean [poll]?)" },
		{ "[printers]\n", 1, "unknown section [printers] (sections: site," },
		{ "[poll]\n; note\nintervall = 5m\n", 3,
		  "unknown key \"intervall\" in [poll] (did you mean \"interval\"?)" },
		{ "[server]\ncommunity = x\n", 2,
		  "unknown key \"community\" in [server] (it belongs in [profile NAME])" },
		{ "[profile a]\ncomunity = x\n", 2,
		  "unknown key \"comunity\" in [profile a] (did you mean \"community\"?)" },
		/* bad values */
		{ "[poll]\n\n\ntimeout = fast\n", 4,
		  "[poll] timeout: \"fast\" is not a duration (use e.g. 2s, 500ms, 1m)" },
		{ "[poll]\ninterval = 5 minutes\n", 2, "is not a duration (use e.g. 30s, 5m, 1h, 2d)" },
		{ "[poll]\ninterval = 500ms\n", 2, "[poll] interval: \"500ms\" is in milliseconds" },
		{ "[poll]\ninclude_new = maybe\n", 2,
		  "[poll] include_new: \"maybe\" is not yes or no (use yes/no, true/false, on/off or 1/0)" },
		{ "[sync]\ntime = 24:00\n", 2, "[sync] time: \"24:00\" is not a time of day (HH:MM" },
		{ "[sync]\ntime = 2pm\n", 2, "is not a time of day" },
		{ "[sync]\ntime = 12:5\n", 2, "is not a time of day" },
		{ "[sync]\ndays = mon-fry\n", 2, "[sync] days: \"mon-fry\" is not a list of days" },
		{ "[profile a]\nversion = 4\n", 2, "[profile a] version: \"4\" is not one of 1, 2c, 3" },
		{ "[profile a]\nversion = 3\nuser = u\nauth = MD5\n", 4,
		  "[profile a] auth: \"MD5\" is not one of SHA, SHA-256, SHA-512" },
		{ "[profile a]\nversion = 3\nuser = u\nauth = SHA\nauth_password = 12345678\n"
		  "priv = DES\n",
		  6, "is not one of AES, AES-256" },
		{ "[log]\nlevel = loud\n", 2, "is not one of error, warn, info, debug" },
		{ "[poll]\nport = 70000\n", 2, "[poll] port: \"70000\" is out of range (use 1 to 65535)" },
		{ "[poll]\nretries = -1\n", 2, "is not a whole number" },
		{ "[poll]\nconcurrency = 99999999999999\n", 2, "is not a whole number" },
		{ "[alerts]\nsupply_low = 101%\n", 2, "is out of range (use 0 to 100)" },
		{ "[poll]\ninterval = 10s\n", 2, "is out of range (use 1m to 7d)" },
		{ "[poll]\ntimeout = 99999999999d\n", 2, "is not a duration" },
		{ "[discovery]\ninterval = 1m\n", 2, "is out of range (use 0 (off) or 10m to 365d)" },
		{ "[outbox]\nmax_size = lots\n", 2, "is not a size (use e.g. 512K, 256M, 2G" },
		{ "[outbox]\nmax_size = 512K\n", 2, "is out of range (use 1M to 1T)" },
		{ "[server]\npinned_key = sha256//abc\n", 2, "is not sha256// followed by" },
		{ "[server]\nproxy = ftp://proxy\n", 2,
		  "is not a URL starting with http://, https://, socks4://" },
		{ "[smtp]\nurl = smtp://\n", 2, "is not a URL with a host name" },
		{ "[smtp]\nfrom = nobody\n", 2, "[smtp] from: \"nobody\" is not an e-mail address" },
		{ "[smtp]\nto = a@example.com, oops\n", 2, "is not a list of e-mail addresses" },
		{ "[service]\nsocket_group = two words\n", 2, "is not a group name" },
		{ "[site]\nname = a\x1b[2Jb\n", 2, "[site] name: \"a?[2Jb\" contains a control character" },
		{ "[site]\nname = caf\xe9\n", 2, "bytes that are not UTF-8" },
		{ "[site]\nname = abc\xe2\x80\xae" "def\n", 2, "an invisible character" },
		/* empty values, duplicates */
		{ "[poll]\ninterval =\n", 2,
		  "[poll] interval: a value is required (duration, 1m-7d); leave the line out for the "
		  "default, 15m" },
		{ "[server]\nuser =\n", 2, "[server] user: a value is required (text)" },
		{ "[poll]\ninterval = 5m\nretries = 2\ninterval = 10m\n", 4,
		  "duplicate key \"interval\" in [poll] (first set on line 2)" },
		{ "[poll]\nport = 1\n[site]\nname = x\n[poll]\nport = 2\n", 6, "duplicate key \"port\"" },
		{ "[profile a]\nversion = 1\n[profile b]\nversion = 1\n[profile a]\nversion = 2c\n", 6,
		  "duplicate key \"version\" in [profile a] (first set on line 2)" },
		/* URLs, required keys, keys that need each other */
		{ "[server]\nurl = http://collector.example.com\nuser = u\npassword = p\n", 2,
		  "[server] url: \"http://collector.example.com\" is plain HTTP: HTTPS is required" },
		{ "[server]\nurl = ftp://collector.example.com\n", 2, "is not a URL starting with https://" },
		{ "[server]\n\nurl = https://c.example.com\n", 3,
		  "[server] url is set, so user is required (add user = NAME)" },
		{ "[server]\nurl = https://c.example.com\nuser = u\n", 2,
		  "[server] url is set, so password or password_file is required" },
		{ "[server]\npassword = a\npassword_file = /x\n", 3,
		  "[server] password_file: cannot be used together with password (line 2)" },
		{ "[server]\nconnect_timeout = 5m\ntimeout = 1m\n", 2,
		  "[server] connect_timeout (300s) is longer than timeout (60s)" },
		{ "[smtp]\nurl = smtp://mail.example.com\nfrom = a@example.com\n", 2,
		  "[smtp] url is set, so to is required" },
		{ "[smtp]\nuser = me\n", 2, "[smtp] user: needs password too" },
		{ "[smtp]\nconnect_timeout = 2m\ntimeout = 1m\n", 2,
		  "[smtp] connect_timeout (120s) is longer than timeout (60s)" },
		{ "[site]\nname = x\n[profile v3]\nversion = 3\n", 3,
		  "[profile v3]: version 3 needs a user (add user = NAME)" },
		{ "[profile a]\nversion = 3\nuser = u\nauth = SHA\n", 4,
		  "[profile a] auth: needs auth_password (8 characters at least)" },
		{ "[profile a]\nversion = 3\nuser = u\nauth_password = 12345678\n", 4,
		  "[profile a] auth_password: set but auth is not" },
		{ "[profile a]\nversion = 3\nuser = u\npriv = AES\npriv_password = 12345678\n", 4,
		  "[profile a] priv: needs auth too" },
		{ "[profile a]\nversion = 3\nuser = u\nauth = SHA\nauth_password = abc\n", 5,
		  "[profile a] auth_password: the value is too short (at least 8 characters)" },
		{ "[profile a]\nuser = bob\n", 2,
		  "[profile a] user: only used with version = 3 (this profile is version 2c, the default)" },
		{ "[profile a]\nversion = 3\nuser = u\ncommunity = c\n", 4,
		  "[profile a] community: not used with version = 3" },
		/* syntax */
		{ "name = x\n", 1, "\"name\" is outside any section" },
		{ "[poll]\ninterval 5m\n", 2, "expected \"key = value\" or a [section] header" },
		{ "[poll]\ninterval: 5m\n", 2, "(with \"=\", not \":\")" },
		{ "[poll]\n= 5m\n", 2, "[poll]: a key name is missing" },
		{ "[poll\n", 1, "a section header must end with \"]\"" },
		{ "[poll] x\n", 1, "unexpected text after the section header" },
		{ "[poll fast]\n", 1, "section [poll] takes no name" },
		{ "[profile]\n", 1, "a profile needs a name: [profile NAME]" },
		{ "[profile a b]\n", 1, "profile name \"a b\" may only hold" },
		/* line counting: CRLF, indentation (never a continuation line), comments, a BOM */
		{ "[poll]\r\n  ; comment\r\n\tretries = 2\r\n  retries = 3\r\n", 4, "duplicate key" },
		{ "\xEF\xBB\xBF[poll]\n# comment\n\nretries = x\n", 4, "\"x\" is not a whole number" },
		{ "[poll]\nretries = 2 ; a comment\nport = 1 # not a comment\n", 3, "not a whole number" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		expect_error(cases[i].text, cases[i].line, cases[i].needle);

	/* A line longer than inih takes is an error, not two lines. */
	char longline[400];
	snprintf(longline, sizeof longline, "[site]\nname = %0300d\n", 0);
	expect_error(longline, 2, "line is too long (307 characters; at most 199)");

	/* Indented keys are keys, comments at the end of a line go, values keep inner spaces. */
	struct config *cfg = parse_ok("[site]\n   name = Caf\xc3\xa9  office   ; where we are\n"
				      "  [poll]\n    retries = 2\n");
	assert_string_equal(cfg->site.name, "Caf\xc3\xa9  office");
	assert_int_equal(cfg->poll.retries, 2);
	config_free(&cfg);
}

static void test_errors_never_show_secrets(void **state)
{
	(void)state;
	static const char *const texts[] = {
		"[profile a]\nversion = 3\nuser = u\nauth = SHA\nauth_password = CANARY\n",
		"[profile a]\nversion = 3\nuser = u\nauth = SHA\nauth_password = 12345678\npriv = AES\n"
		"priv_password = CANARY\n",
		"[server]\npassword = CANARY\x01\n",
	};
	for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
		struct fc_error err = { "" };
		struct config *cfg = config_parse_string(texts[i], "t.conf", &err);
		assert_null(cfg);
		if (strstr(err.msg, "CANARY"))
			fail_msg("a secret in the message: %s", err.msg);
		assert_non_null(strstr(err.msg, "the value"));
	}
}

/* ---- permissions ------------------------------------------------------------------------------- */

static void test_permissions(void **state)
{
	(void)state;
	struct fc_error err = { "" };
	static const char with_secret[] = "[server]\nurl = https://c.example.com\nuser = u\n"
					  "password = hunter2\n";
	const char *path = write_file("perm/secret.conf", with_secret, 0644);
	struct config *cfg = config_load(path, &err);
	assert_null(cfg);
	char want[600];
	snprintf(want, sizeof want, "chmod 600 %s", path);
	if (!strstr(err.msg, want) || !strstr(err.msg, "[server] password on line 4") ||
	    !strstr(err.msg, "mode 0644"))
		fail_msg("%s", err.msg);

	/* Group-readable is refused too, and a profile's community counts as a secret. */
	path = write_file("perm/community.conf", "[profile p]\ncommunity = private\n", 0640);
	assert_null(config_load(path, &err));
	assert_non_null(strstr(err.msg, "[profile p] community on line 2"));
	assert_non_null(strstr(err.msg, "chmod 600"));

	/* A path the shell would split is quoted in the fix. */
	path = write_file("perm/my conf.conf", with_secret, 0604);
	assert_null(config_load(path, &err));
	snprintf(want, sizeof want, "chmod 600 '%s'", path);
	assert_non_null(strstr(err.msg, want));

	path = write_file("perm/secret.conf", with_secret, 0600);
	cfg = config_load(path, &err);
	if (!cfg)
		fail_msg("%s", err.msg);
	config_free(&cfg);

	path = write_file("perm/plain.conf", "[poll]\ninterval = 5m\n[server]\nuser = u\n", 0644);
	cfg = config_load(path, &err);
	if (!cfg)
		fail_msg("%s", err.msg);
	assert_int_equal(cfg->poll.interval, 300);
	config_free(&cfg);
}

static void test_password_file(void **state)
{
	(void)state;
	struct fc_error err = { "" };
	write_file("pw/secret/pw", "CANARY-from-file\nsecond line\n", 0644);
	const char *path = write_file("pw/fleetcon.conf", pwfile_file, 0644);
	char conf[512], pw[512], want[2048];
	snprintf(conf, sizeof conf, "%s", path);
	snprintf(pw, sizeof pw, "%s/pw/secret/pw", tmp);

	/* The config holds no secret itself (0644 is fine); the password file must be 0600. */
	assert_null(config_load(conf, &err));
	snprintf(want, sizeof want, "%s:4: [server] password_file: %s can be read by group or others "
				    "(mode 0644); fix it with: chmod 600 %s",
		 conf, pw, pw);
	assert_string_equal(err.msg, want);

	assert_int_equal(chmod(pw, 0600), 0);
	struct config *cfg = config_load(conf, &err);
	if (!cfg)
		fail_msg("%s", err.msg);
	assert_string_equal(cfg->server.password, "CANARY-from-file");
	assert_string_equal(cfg->server.password_file, pw);
	char *out = print_to_string(cfg);
	assert_null(strstr(out, "CANARY"));
	assert_non_null(strstr(out, "password = ********"));
	assert_non_null(strstr(out, "; from password_file"));
	free(out);
	config_free(&cfg);

	write_file("pw/secret/pw", "\nCANARY\n", 0600);
	assert_null(config_load(conf, &err));
	assert_non_null(strstr(err.msg, "is empty"));

	assert_int_equal(unlink(pw), 0);
	assert_null(config_load(conf, &err));
	assert_non_null(strstr(err.msg, ":4: [server] password_file: cannot open"));

	/* config_parse_string() reads nothing from disk: the path is kept as written. */
	cfg = parse_ok(pwfile_file);
	assert_string_equal(cfg->server.password_file, "secret/pw");
	assert_string_equal(cfg->server.password, "");
	config_free(&cfg);
}

/* ---- where the file and the database are ------------------------------------------------------- */

static bool system_file_exists(void)
{
	return access(CONFIG_SYSTEM_PATH, F_OK) == 0;
}

static void test_search_order(void **state)
{
	(void)state;
	struct fc_error err = { "" };
	char opt[512], env[512], user[512], home_user[512];
	snprintf(opt, sizeof opt, "%s", write_file("opt.conf", "[site]\nname = option\n", 0600));
	snprintf(env, sizeof env, "%s", write_file("env.conf", "[site]\nname = env\n", 0600));
	snprintf(user, sizeof user, "%s",
		 write_file("xdg/fleetcon/fleetcon.conf", "[site]\nname = xdg\n", 0600));
	snprintf(home_user, sizeof home_user, "%s",
		 write_file(".config/fleetcon/fleetcon.conf", "[site]\nname = home\n", 0600));
	char xdg[512];
	snprintf(xdg, sizeof xdg, "%s/xdg", tmp);

	setenv("FLEETCON_CONFIG", env, 1);
	setenv("XDG_CONFIG_HOME", xdg, 1);
	struct config *cfg = config_load(opt, &err);
	assert_non_null(cfg);
	assert_string_equal(cfg->site.name, "option");
	assert_int_equal(cfg->source, CONFIG_FROM_OPTION);
	config_free(&cfg);

	cfg = config_load(NULL, &err);
	assert_non_null(cfg);
	assert_string_equal(cfg->site.name, "env");
	assert_int_equal(cfg->source, CONFIG_FROM_ENV);
	char *out = print_to_string(cfg);
	assert_non_null(strstr(out, "from $FLEETCON_CONFIG"));
	free(out);
	config_free(&cfg);

	setenv("FLEETCON_CONFIG", "", 1); /* empty: as if unset */
	cfg = config_load("", &err);
	assert_non_null(cfg);
	assert_string_equal(cfg->site.name, "xdg");
	assert_int_equal(cfg->source, CONFIG_FROM_USER);
	assert_string_equal(cfg->path, user);
	config_free(&cfg);

	unsetenv("XDG_CONFIG_HOME"); /* ~/.config */
	cfg = config_load(NULL, &err);
	assert_non_null(cfg);
	assert_string_equal(cfg->site.name, "home");
	assert_string_equal(cfg->path, home_user);
	config_free(&cfg);

	setenv("XDG_CONFIG_HOME", "relative/dir", 1); /* not absolute: ignored, as the spec says */
	cfg = config_load(NULL, &err);
	assert_non_null(cfg);
	assert_string_equal(cfg->site.name, "home");
	config_free(&cfg);

	/* Nothing in the user's places: the system file, or built-in defaults without one. */
	assert_int_equal(unlink(home_user), 0);
	cfg = config_load(NULL, &err);
	if (system_file_exists()) {
		print_message("(%s exists here: the no-file case is not checked)\n", CONFIG_SYSTEM_PATH);
		if (cfg)
			assert_int_equal(cfg->source, CONFIG_FROM_SYSTEM);
	} else {
		assert_non_null(cfg);
		assert_int_equal(cfg->source, CONFIG_FROM_NONE);
		assert_string_equal(cfg->path, "");
		out = print_to_string(cfg);
		assert_non_null(strstr(out, "file: none found"));
		free(out);
	}
	config_free(&cfg);

	/* Named explicitly, a file must exist. */
	snprintf(opt, sizeof opt, "%s/missing.conf", tmp);
	assert_null(config_load(opt, &err));
	char want[700];
	snprintf(want, sizeof want, "config file %s (given with --config) does not exist", opt);
	assert_string_equal(err.msg, want);
	setenv("FLEETCON_CONFIG", opt, 1);
	assert_null(config_load(NULL, &err));
	snprintf(want, sizeof want, "config file %s (from $FLEETCON_CONFIG) does not exist", opt);
	assert_string_equal(err.msg, want);

	/* A folder is not a config file. */
	assert_null(config_load(tmp, &err));
	assert_non_null(strstr(err.msg, "not a regular file"));
	unsetenv("FLEETCON_CONFIG");
	unsetenv("XDG_CONFIG_HOME");
}

static void test_relative_config_path(void **state)
{
	(void)state;
	struct fc_error err = { "" };
	char cwd[512];
	assert_non_null(getcwd(cwd, sizeof cwd));
	write_file("rel/fleetcon.conf", "[database]\npath = ../db/f.db\n", 0600);
	char dir[512];
	snprintf(dir, sizeof dir, "%s/rel", tmp);
	assert_int_equal(chdir(dir), 0);
	struct config *cfg = config_load("./fleetcon.conf", &err);
	assert_int_equal(chdir(cwd), 0);
	if (!cfg)
		fail_msg("%s", err.msg);
	char want[600];
	snprintf(want, sizeof want, "%s/rel/fleetcon.conf", tmp);
	assert_string_equal(cfg->path, want);
	snprintf(want, sizeof want, "%s/rel/../db/f.db", tmp);
	assert_string_equal(cfg->database.path, want);
	config_free(&cfg);
}

static void test_default_db_path(void **state)
{
	(void)state;
	struct fc_error err = { "" };
	char out[600], want[600];

	assert_int_equal(config_default_db_path(CONFIG_SYSTEM_PATH, out, sizeof out, &err), 0);
	assert_string_equal(out, "/var/lib/fleetcon/fleetcon.db");

	assert_int_equal(config_default_db_path("", out, sizeof out, &err), 0);
	snprintf(want, sizeof want, "%s/.local/share/fleetcon/fleetcon.db", tmp);
	assert_string_equal(out, want);

	setenv("XDG_DATA_HOME", "/srv/data", 1);
	assert_int_equal(config_default_db_path("/home/x/fleetcon.conf", out, sizeof out, &err), 0);
	assert_string_equal(out, "/srv/data/fleetcon/fleetcon.db");
	setenv("XDG_DATA_HOME", "not/absolute", 1);
	assert_int_equal(config_default_db_path(NULL, out, sizeof out, &err), 0);
	assert_string_equal(out, want);

	assert_int_equal(config_default_db_path(NULL, out, 10, &err), -1);
	assert_non_null(strstr(err.msg, "too long"));

	/* What a loaded configuration uses: the user's file gets the XDG path. */
	setenv("XDG_DATA_HOME", "/srv/data", 1);
	const char *path = write_file("dbp/fleetcon.conf", "[poll]\nretries = 2\n", 0600);
	struct config *cfg = config_load(path, &err);
	assert_non_null(cfg);
	assert_string_equal(cfg->database.path, "/srv/data/fleetcon/fleetcon.db");
	char *text = print_to_string(cfg);
	assert_non_null(strstr(text, "path = /srv/data/fleetcon/fleetcon.db"));
	free(text);
	config_free(&cfg);
	unsetenv("XDG_DATA_HOME");

	/* An absolute [database] path stays as written. */
	path = write_file("dbp/abs.conf", "[database]\npath = /data/x.db\n", 0600);
	cfg = config_load(path, &err);
	assert_non_null(cfg);
	assert_string_equal(cfg->database.path, "/data/x.db");
	config_free(&cfg);
}

/* ---- printing and overrides ------------------------------------------------------------------- */

static void test_print_masks_secrets(void **state)
{
	(void)state;
	const char *path = write_file("mask/good.conf", good_file, 0600);
	struct fc_error err = { "" };
	struct config *cfg = config_load(path, &err);
	if (!cfg)
		fail_msg("%s", err.msg);
	char *out = print_to_string(cfg);
	if (strstr(out, "CANARY"))
		fail_msg("a secret was printed:\n%s", out);
	int masks = 0;
	for (const char *p = out; (p = strstr(p, "= ********")); p++)
		masks++;
	assert_int_equal(masks, 5); /* server, auth, priv, community, smtp */
	assert_non_null(strstr(out, "password = ********"));
	assert_non_null(strstr(out, "community = ********"));
	free(out);
	config_free(&cfg);
}

static void test_config_set(void **state)
{
	(void)state;
	struct fc_error err = { "" };
	struct config *cfg = parse_ok("[poll]\ninterval = 5m\n");
	char cwd[512], want[600];
	assert_non_null(getcwd(cwd, sizeof cwd));

	assert_int_equal(config_set(cfg, "database", "path", "x/y.db", "--db", &err), 0);
	snprintf(want, sizeof want, "%s/x/y.db", cwd);
	assert_string_equal(cfg->database.path, want);
	char *out = print_to_string(cfg);
	assert_non_null(strstr(out, "; from --db"));
	free(out);

	assert_int_equal(config_set(cfg, "poll", "interval", "fast", "--interval", &err), -1);
	assert_string_equal(err.msg, "--interval: [poll] interval: \"fast\" is not a duration (use "
				     "e.g. 30s, 5m, 1h, 2d)");
	assert_int_equal(cfg->poll.interval, 300);

	/* A change that breaks a rule across keys is undone. */
	assert_int_equal(config_set(cfg, "server", "url", "https://c.example.com", "--url", &err), -1);
	assert_non_null(strstr(err.msg, "--url: [server] url is set, so user is required"));
	assert_string_equal(cfg->server.url, "");

	assert_int_equal(config_set(cfg, "server", "password", "x", "--password", &err), -1);
	assert_non_null(strstr(err.msg, "can only be set in the config file"));
	assert_int_equal(config_set(cfg, "poll", "nope", "x", "--nope", &err), -1);
	assert_int_equal(config_set(cfg, "poll", "interval", "", "--interval", &err), -1);
	config_free(&cfg);
}

/* Random damage to a good file never crashes or leaks (run under ASan by `make check`). */
static void test_damaged_files(void **state)
{
	(void)state;
	size_t len = strlen(good_file);
	char *text = malloc(len + 1);
	assert_non_null(text);
	unsigned seed = 12345;
	int accepted = 0;
	for (int round = 0; round < 3000; round++) {
		memcpy(text, good_file, len + 1);
		int edits = 1 + round % 4;
		for (int e = 0; e < edits; e++) {
			seed = seed * 1103515245u + 12345u;
			size_t at = (seed >> 8) % len;
			seed = seed * 1103515245u + 12345u;
			static const char bytes[] = "=[]; \n\t#:,-0a\x01\xff";
			text[at] = bytes[(seed >> 8) % (sizeof bytes - 1)];
		}
		struct fc_error err = { "" };
		struct config *cfg = config_parse_string(text, "damaged.conf", &err);
		if (cfg) {
			accepted++;
			char *out = print_to_string(cfg);
			free(out);
			config_free(&cfg);
		} else {
			assert_true(strncmp(err.msg, "damaged.conf:", 13) == 0);
		}
	}
	free(text);
	assert_true(accepted > 0);
}

/* ---- the documentation ---------------------------------------------------------------------- */

struct doc_check {
	bool found[128];
	char unknown[200];
	char wrong_default[300];
};

static void check_example_line(const char *section, const char *key, const char *value, void *user)
{
	struct doc_check *c = user;
	const struct config_key_doc *d;
	for (size_t i = 0; (d = config_key_doc(i)); i++) {
		if (strcmp(d->section, section) != 0 || strcmp(d->key, key) != 0)
			continue;
		/* A key with a default shows it; one without shows an example value. */
		if (!c->found[i] && !d->dynamic_default && d->default_value[0] &&
		    strcmp(d->default_value, value) != 0 && !c->wrong_default[0])
			snprintf(c->wrong_default, sizeof c->wrong_default,
				 "[%s] %s: the example says \"%s\", the default is \"%s\"", section, key,
				 value, d->default_value);
		c->found[i] = true;
		return;
	}
	if (!c->unknown[0])
		snprintf(c->unknown, sizeof c->unknown, "[%s] %s", section, key);
}

static void test_example_documents_every_key(void **state)
{
	(void)state;
	char *text = read_source_file("fleetcon.conf.example");
	struct doc_check c = { { false }, "", "" };
	scan_ini(text, true, check_example_line, &c);
	const struct config_key_doc *d;
	for (size_t i = 0; (d = config_key_doc(i)); i++)
		if (!c.found[i])
			fail_msg("fleetcon.conf.example does not mention [%s] %s (as \";%s = %s\")",
				 d->section, d->key, d->key, d->default_value);
	if (c.unknown[0])
		fail_msg("fleetcon.conf.example has a key the program does not know: %s", c.unknown);
	if (c.wrong_default[0])
		fail_msg("%s", c.wrong_default);

	/* As shipped it is a valid configuration (and without secrets, fine at mode 0644). */
	struct fc_error err = { "" };
	struct config *cfg = config_parse_string(text, "fleetcon.conf.example", &err);
	if (!cfg)
		fail_msg("%s", err.msg);
	config_free(&cfg);
	const char *copy = write_file("example/fleetcon.conf", text, 0644);
	cfg = config_load(copy, &err);
	if (!cfg)
		fail_msg("%s", err.msg);
	config_free(&cfg);
	free(text);
}

/* What a key needs around it to be valid alone (url needs user, auth needs a version 3 user...). */
static const struct {
	const char *section, *context;
} contexts[] = {
	{ "server", "url = https://c.example.com\nuser = u\npassword = 12345678\n" },
	{ "smtp", "url = smtp://m.example.com\nfrom = a@example.com\nto = b@example.com\nuser = u\n"
		  "password = p\n" },
	{ "profile", "version = 3\nuser = u\nauth = SHA\nauth_password = 12345678\npriv = AES\n"
		     "priv_password = 12345678\n" },
};

/* Parses [section] key = value with the context lines that do not name the key (or one that
 * replaces it: password_file for password, community and version stand alone). */
static void check_example_value(const char *section, const char *key, const char *value, void *user)
{
	(void)user;
	char text[1024], line[200];
	snprintf(text, sizeof text, "[%s]\n", strcmp(section, "profile") ? section : "profile p");
	for (size_t i = 0; i < sizeof contexts / sizeof contexts[0]; i++) {
		if (strcmp(contexts[i].section, section) != 0 || strcmp(key, "version") == 0 ||
		    strcmp(key, "community") == 0)
			continue;
		for (const char *c = contexts[i].context; *c;) {
			size_t len = strcspn(c, "\n") + 1;
			snprintf(line, sizeof line, "%.*s", (int)len, c);
			c += len;
			size_t klen = strcspn(line, " ");
			bool replaced = strcmp(key, "password_file") == 0 &&
					strncmp(line, "password ", 9) == 0;
			if ((klen == strlen(key) && strncmp(line, key, klen) == 0) || replaced)
				continue;
			strncat(text, line, sizeof text - strlen(text) - 1);
		}
	}
	snprintf(line, sizeof line, "%s = %s\n", key, value);
	strncat(text, line, sizeof text - strlen(text) - 1);
	struct fc_error err = { "" };
	struct config *cfg = config_parse_string(text, "example-line", &err);
	if (!cfg)
		fail_msg("fleetcon.conf.example: \";%s = %s\" is not valid: %s", key, value, err.msg);
	config_free(&cfg);
}

static void test_example_values_are_valid(void **state)
{
	(void)state;
	char *text = read_source_file("fleetcon.conf.example");
	scan_ini(text, true, check_example_value, NULL);
	free(text);
}

/* The ranges the documentation states ("duration, 1m-7d") are the ones the parser applies. */
/* config check looks at what the file names: files that must be readable, the socket's group. */
static void test_check_environment(void **state)
{
	(void)state;
	static const struct {
		const char *text;
		const char *want; /* NULL: fine */
	} cases[] = {
		{ "[site]\nname = x\n", NULL },
		{ "[server]\nca_file = /etc/hostname\n", NULL },
		{ "[server]\nca_file = /nonexistent/ca.pem\n", "t.conf:2: [server] ca_file: /nonexistent/ca.pem cannot be read" },
		{ "[smtp]\n\nca_file = /nonexistent/m.pem\n", "t.conf:3: [smtp] ca_file: /nonexistent/m.pem cannot be read" },
		{ "[service]\nsocket_group = root\n", NULL },
		{ "[service]\nsocket_group = no-such-group-here\n", "t.conf:2: [service] socket_group: no such group" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct fc_error err = { { 0 } };
		struct config *cfg = config_parse_string(cases[i].text, "t.conf", &err);
		if (!cfg)
			fail_msg("case %zu does not parse: %s", i, err.msg);
		int rc = config_check_environment(cfg, &err);
		if (!cases[i].want && rc != 0)
			fail_msg("case %zu: refused: %s", i, err.msg);
		if (cases[i].want && (rc == 0 || !strstr(err.msg, cases[i].want)))
			fail_msg("case %zu: want \"%s\", got rc %d \"%s\"", i, cases[i].want, rc, err.msg);
		config_free(&cfg);
	}
}

static void test_documented_ranges(void **state)
{
	(void)state;
	const struct config_key_doc *d;
	int checked = 0;
	for (size_t i = 0; (d = config_key_doc(i)); i++) {
		const char *range = strrchr(d->type, ' ');
		range = range ? range + 1 : d->type;
		const char *dash = strchr(range, '-');
		if (!dash || !(range[0] >= '0' && range[0] <= '9'))
			continue;
		const char *unit = strncmp(d->type, "duration", 8) == 0 ? "d"
				   : strncmp(d->type, "size", 4) == 0	 ? "T"
									 : "";
		char text[200], want[100];
		snprintf(text, sizeof text, "[%s]\n%s = 9999999999%s\n",
			 strcmp(d->section, "profile") ? d->section : "profile p", d->key, unit);
		snprintf(want, sizeof want, "%s%.*s to %s)", strstr(d->type, "0 or ") ? "0 (off) or " : "",
			 (int)(dash - range), range, dash + 1);
		expect_error(text, 2, want);
		checked++;
	}
	assert_true(checked >= 10);
}

static void test_reference_documents_every_key(void **state)
{
	(void)state;
	char *text = read_source_file("docs/configuration.md");
	const struct config_key_doc *d;
	for (size_t i = 0; (d = config_key_doc(i)); i++) {
		/* Under the section's heading "### [poll]" (or "### [profile NAME]"), a table row
		 * "| `key` | type | `default` | ...". */
		char heading[64], row[64], def[80];
		snprintf(heading, sizeof heading, "\n### [%s%s]\n", d->section,
			 strcmp(d->section, "profile") == 0 ? " NAME" : "");
		const char *at = strstr(text, heading);
		if (!at)
			fail_msg("docs/configuration.md has no heading \"%s\"", heading + 1);
		const char *next = strstr(at + 1, "\n### ");
		snprintf(row, sizeof row, "\n| `%s` |", d->key);
		const char *r = strstr(at, row);
		if (!r || (next && r > next))
			fail_msg("docs/configuration.md does not document [%s] %s", d->section, d->key);
		size_t rlen = strcspn(r + 1, "\n");
		snprintf(def, sizeof def, "`%s`", d->default_value);
		if (d->default_value[0] && !d->dynamic_default && !memmem(r + 1, rlen, def, strlen(def)))
			fail_msg("docs/configuration.md: [%s] %s does not give the default %s", d->section,
				 d->key, def);
	}
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_good_file_has_every_key, setup, teardown),
		cmocka_unit_test_setup_teardown(test_good_file_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_defaults, setup, teardown),
		cmocka_unit_test_setup_teardown(test_value_forms, setup, teardown),
		cmocka_unit_test_setup_teardown(test_value_forms_sizes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_errors_never_show_secrets, setup, teardown),
		cmocka_unit_test_setup_teardown(test_permissions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_password_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_search_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_relative_config_path, setup, teardown),
		cmocka_unit_test_setup_teardown(test_default_db_path, setup, teardown),
		cmocka_unit_test_setup_teardown(test_print_masks_secrets, setup, teardown),
		cmocka_unit_test_setup_teardown(test_config_set, setup, teardown),
		cmocka_unit_test_setup_teardown(test_damaged_files, setup, teardown),
		cmocka_unit_test_setup_teardown(test_example_documents_every_key, setup, teardown),
		cmocka_unit_test_setup_teardown(test_example_values_are_valid, setup, teardown),
		cmocka_unit_test_setup_teardown(test_documented_ranges, setup, teardown),
		cmocka_unit_test(test_check_environment),
		cmocka_unit_test_setup_teardown(test_reference_documents_every_key, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
