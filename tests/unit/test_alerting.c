/* Unit tests of e-mail alerts: the message text the mailer builds (headers that nothing can
 * inject into, RFC 2047 subjects, quoted-printable bodies), the alert rules, the plan under the
 * hourly limit, and whole runs against a temporary store with a fake sender that records what
 * would have been mailed (the real SMTP exchange is tested in tests/integration/mail_*.sh). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/config.h"
#include "model/store.h"
#include "tests/unit/lib/tmpdir.h"
#include "uplink/alerting.h"
#include "uplink/mailer.h"

#define NOW 1717243200 /* 2024-06-01 12:00:00 UTC */
#define DAY 86400

/* ---- helpers ---- */

/* The header block of a formatted message (up to the empty line), unfolded: one header per
 * element, "Name: value". Returns the count. */
static size_t headers_of(const char *msg, char out[][1024], size_t max)
{
	size_t n = 0;
	const char *p = msg;
	while (*p && strncmp(p, "\r\n", 2) != 0) {
		const char *eol = strstr(p, "\r\n");
		assert_non_null(eol);
		size_t len = (size_t)(eol - p);
		if (*p == ' ' || *p == '\t') {
			assert_true(n > 0);
			strncat(out[n - 1], p, len);
		} else {
			assert_true(n < max);
			snprintf(out[n++], 1024, "%.*s", (int)len, p);
		}
		p = eol + 2;
	}
	return n;
}

static const char *const allowed_headers[] = {
	"Date", "From", "To", "Subject", "Message-ID", "MIME-Version", "Content-Type",
	"Content-Transfer-Encoding", "Auto-Submitted",
};

/* Every header is one of ours, each once, every line is ASCII and shorter than 998 bytes. */
static void assert_headers_clean(const char *msg)
{
	char h[32][1024];
	size_t n = headers_of(msg, h, 32);
	assert_int_equal(n, sizeof allowed_headers / sizeof allowed_headers[0]);
	for (size_t i = 0; i < n; i++) {
		size_t name_len = strcspn(h[i], ":");
		bool known = false;
		for (size_t k = 0; k < sizeof allowed_headers / sizeof allowed_headers[0]; k++)
			if (strlen(allowed_headers[k]) == name_len && strncmp(h[i], allowed_headers[k], name_len) == 0)
				known = true;
		if (!known)
			fail_msg("unexpected header: %s", h[i]);
		for (size_t j = 0; j < i; j++)
			assert_false(strncmp(h[i], h[j], name_len + 1) == 0);
	}
	const char *end = strstr(msg, "\r\n\r\n");
	assert_non_null(end);
	for (const char *p = msg; p < end; p++) {
		assert_true((unsigned char)*p < 0x80);
		assert_true(*p != '\n' || p[-1] == '\r');
		assert_true(*p != '\r' || p[1] == '\n');
	}
}

/* Decodes a quoted-printable body (CRLF lines) back into text with "\n" lines. */
static char *qp_decode(const char *in)
{
	char *out = malloc(strlen(in) + 1);
	size_t w = 0;
	for (const char *p = in; *p;) {
		if (p[0] == '=' && p[1] == '\r' && p[2] == '\n') {
			p += 3;
		} else if (p[0] == '=') {
			unsigned v;
			assert_int_equal(sscanf(p + 1, "%2X", &v), 1);
			out[w++] = (char)v;
			p += 3;
		} else if (p[0] == '\r' && p[1] == '\n') {
			out[w++] = '\n';
			p += 2;
		} else {
			out[w++] = *p++;
		}
	}
	out[w] = '\0';
	return out;
}

static size_t base64_decode(const char *in, size_t len, char *out)
{
	static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	unsigned acc = 0;
	int bits = 0;
	size_t w = 0;
	for (size_t i = 0; i < len && in[i] != '='; i++) {
		const char *pos = strchr(tab, in[i]);
		assert_non_null(pos);
		acc = acc << 6 | (unsigned)(pos - tab);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[w++] = (char)(acc >> bits & 0xff);
		}
	}
	return w;
}

static char *body_of(const char *msg)
{
	const char *b = strstr(msg, "\r\n\r\n");
	assert_non_null(b);
	return qp_decode(b + 4);
}

static void supply_set(struct supply *s, int index, int type, int klass, int max, int level,
		       const char *desc, const char *colorant)
{
	memset(s, 0, sizeof *s);
	s->index = index;
	s->type = type;
	s->klass = klass;
	s->unit = 19;
	s->max = max;
	s->level = level;
	s->description = desc ? strdup(desc) : NULL;
	s->colorant = colorant ? strdup(colorant) : NULL;
}

static void device_set(struct device *d, int64_t id, const char *address, const char *model,
		       const char *serial)
{
	memset(d, 0, sizeof *d);
	d->id = id;
	d->address = strdup(address);
	d->port = 161;
	d->model = model ? strdup(model) : NULL;
	d->serial = serial ? strdup(serial) : NULL;
	d->included = true;
	d->first_seen = NOW - 30 * DAY;
	d->last_seen = NOW - 600;
	d->last_poll = NOW - 600;
	d->last_poll_ok = NOW - 600;
}

static void device_add_supply(struct device *d, int index, int type, int klass, int max, int level,
			      const char *desc, const char *colorant)
{
	d->supplies = realloc(d->supplies, (d->n_supplies + 1) * sizeof *d->supplies);
	supply_set(&d->supplies[d->n_supplies++], index, type, klass, max, level, desc, colorant);
}

static void device_add_alert(struct device *d, int severity, int group, int code, const char *desc,
			     int64_t first_seen)
{
	d->alerts = realloc(d->alerts, (d->n_alerts + 1) * sizeof *d->alerts);
	struct alert *a = &d->alerts[d->n_alerts++];
	memset(a, 0, sizeof *a);
	a->index = (int)d->n_alerts;
	a->severity = severity;
	a->group = group;
	a->code = code;
	a->description = desc ? strdup(desc) : NULL;
	a->first_seen = first_seen;
	a->last_seen = first_seen;
}

static struct alerting_input input_base(void)
{
	struct alerting_input in = {
		.supply_low = 10,
		.unreachable_polls = 3,
		.upload_failing = 2 * DAY,
		.uploads_configured = true,
		.outbox_max_size = 256 << 20,
		.outbox_max_age = 30 * DAY,
		.now = NOW,
	};
	return in;
}

static size_t evaluate(const struct alerting_input *in, struct alerting_condition **c)
{
	size_t n = 0;
	struct fc_error err = { { 0 } };
	if (alerting_evaluate(in, c, &n, &err) < 0)
		fail_msg("%s", err.msg);
	return n;
}

static const struct alerting_condition *find(const struct alerting_condition *c, size_t n, const char *key)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(c[i].key, key) == 0)
			return &c[i];
	return NULL;
}

/* ---- the mailer's message text ---- */

static void test_format_headers_and_body(void **state)
{
	(void)state;
	struct mail_message m = {
		.from = "fleetcon@example.com",
		.to = "ops@example.com, second@example.org",
		.subject = "[fleetcon Site] 10.1.2.3: black toner low (8 %)",
		.body = "Line one\nWhat: = sign\n",
		.date = NOW,
		.message_id = "abc@example.com",
	};
	char *msg;
	size_t len;
	struct fc_error err = { { 0 } };
	assert_int_equal(mail_format(&m, &msg, &len, &err), 0);
	assert_int_equal(strlen(msg), len);
	assert_headers_clean(msg);
	assert_non_null(strstr(msg, "Date: Sat, 01 Jun 2024 12:00:00 +0000\r\n"));
	assert_non_null(strstr(msg, "From: fleetcon@example.com\r\n"));
	assert_non_null(strstr(msg, "To: ops@example.com,\r\n second@example.org\r\n"));
	assert_non_null(strstr(msg, "Subject: [fleetcon Site] 10.1.2.3: black toner low (8 %)\r\n"));
	assert_non_null(strstr(msg, "Message-ID: <abc@example.com>\r\n"));
	assert_non_null(strstr(msg, "Content-Type: text/plain; charset=utf-8\r\n"));
	assert_non_null(strstr(msg, "Content-Transfer-Encoding: quoted-printable\r\n"));
	assert_non_null(strstr(msg, "What: =3D sign\r\n"));
	char *body = body_of(msg);
	assert_string_equal(body, m.body);
	free(body);
	free(msg);

	/* Without a Message-ID one is made on the sender's domain. */
	m.message_id = NULL;
	assert_int_equal(mail_format(&m, &msg, &len, &err), 0);
	const char *id = strstr(msg, "Message-ID: <");
	assert_non_null(id);
	const char *close = strstr(id, ".fleetcon@example.com>\r\n");
	assert_non_null(close);
	assert_int_equal(close - (id + 13), 36);
	free(msg);
}

static void test_format_refuses_injection(void **state)
{
	(void)state;
	struct fc_error err = { { 0 } };
	char *msg = (char *)1;
	size_t len;
	const struct mail_message good = {
		.from = "a@example.com", .to = "b@example.com", .subject = "s", .body = "", .date = NOW,
	};
	struct mail_message m = good;
	const char *bad_subjects[] = { "x\r\nBcc: victim@example.com", "x\nBcc: v@example.com", "x\rBcc: y",
				       "tab\there", "del\x7f", "", "bad utf8 \xff" };
	for (size_t i = 0; i < sizeof bad_subjects / sizeof bad_subjects[0]; i++) {
		m.subject = bad_subjects[i];
		assert_int_equal(mail_format(&m, &msg, &len, &err), -1);
		assert_null(msg);
	}
	char long_subject[1000];
	memset(long_subject, 'a', sizeof long_subject - 1);
	long_subject[sizeof long_subject - 1] = '\0';
	m.subject = long_subject;
	assert_int_equal(mail_format(&m, &msg, &len, &err), -1);

	m = good;
	const char *bad_addresses[] = { "a@example.com\r\nBcc: v@example.com", "a@example.com>", "<a@example.com",
					"a b@example.com", "noat", "@example.com", "a@", "a@b@c", "" };
	for (size_t i = 0; i < sizeof bad_addresses / sizeof bad_addresses[0]; i++) {
		m = good;
		m.from = bad_addresses[i];
		assert_int_equal(mail_format(&m, &msg, &len, &err), -1);
		m = good;
		m.to = bad_addresses[i];
		assert_int_equal(mail_format(&m, &msg, &len, &err), -1);
	}
	m = good;
	m.to = "b@example.com, c@example.com\r\nBcc: v@example.com";
	assert_int_equal(mail_format(&m, &msg, &len, &err), -1);
	m = good;
	m.message_id = "x@y>\r\nBcc: v@example.com";
	assert_int_equal(mail_format(&m, &msg, &len, &err), -1);

	/* A body line that looks like a header stays in the body. */
	m = good;
	m.body = "\r\nBcc: victim@example.com\n\nTo: x@example.com\n";
	assert_int_equal(mail_format(&m, &msg, &len, &err), 0);
	assert_headers_clean(msg);
	free(msg);
}

static void test_format_encodes_non_ascii_subject(void **state)
{
	(void)state;
	/* 40 two-byte characters: several encoded words, never a character split between two. */
	char subject[256] = "[fleetcon Zürich] ";
	for (int i = 0; i < 40; i++)
		strcat(subject, "é");
	struct mail_message m = {
		.from = "a@example.com", .to = "b@example.com", .subject = subject, .body = "x\n", .date = NOW,
	};
	char *msg;
	size_t len;
	struct fc_error err = { { 0 } };
	assert_int_equal(mail_format(&m, &msg, &len, &err), 0);
	assert_headers_clean(msg);
	char h[32][1024];
	size_t n = headers_of(msg, h, 32);
	const char *subj = NULL;
	for (size_t i = 0; i < n; i++)
		if (strncmp(h[i], "Subject: ", 9) == 0)
			subj = h[i] + 9;
	assert_non_null(subj);
	/* Decode every encoded word and put them together. */
	char decoded[512] = "";
	int words = 0;
	for (const char *p = subj; (p = strstr(p, "=?UTF-8?B?")) != NULL; words++) {
		p += 10;
		const char *end = strstr(p, "?=");
		assert_non_null(end);
		assert_true(end - p <= 64);
		char chunk[128];
		size_t got = base64_decode(p, (size_t)(end - p), chunk);
		chunk[got] = '\0';
		/* Each word holds whole characters. */
		assert_true(got == 0 || ((unsigned char)chunk[0] & 0xc0) != 0x80);
		strcat(decoded, chunk);
		p = end + 2;
	}
	assert_true(words >= 2);
	assert_string_equal(decoded, subject);
	/* Folded lines stay short. */
	for (const char *p = msg; (p = strstr(p, "\r\n")) != NULL; p += 2) {
		const char *next = strstr(p + 2, "\r\n");
		if (!next)
			break;
		if (p[2] == ' ')
			assert_true(next - (p + 2) <= 78);
	}
	free(msg);
}

static void test_format_quoted_printable_body(void **state)
{
	(void)state;
	char longline[400];
	memset(longline, 'x', 300);
	strcpy(longline + 300, " ünïcödé =");
	char body[1024];
	snprintf(body, sizeof body, ".leading dot\nFrom the start\ntrailing space \n%s\n\nend\ttab\t\nlast", longline);
	struct mail_message m = {
		.from = "a@example.com", .to = "b@example.com", .subject = "s", .body = body, .date = NOW,
	};
	char *msg;
	size_t len;
	struct fc_error err = { { 0 } };
	assert_int_equal(mail_format(&m, &msg, &len, &err), 0);
	const char *b = strstr(msg, "\r\n\r\n") + 4;
	assert_true(strncmp(b, "=2Eleading dot\r\n=46rom the start\r\ntrailing space=20\r\n", 52) == 0);
	for (const char *p = b; *p;) {
		const char *eol = strstr(p, "\r\n");
		assert_non_null(eol);
		assert_true(eol - p <= 76);
		for (const char *q = p; q < eol; q++)
			assert_true((*q >= 32 && *q < 127) || *q == '\t');
		assert_true(eol == p || (eol[-1] != ' ' && eol[-1] != '\t'));
		p = eol + 2;
	}
	char *back = body_of(msg);
	char want[1100];
	snprintf(want, sizeof want, "%s\n", body); /* the last line gets its line end */
	assert_string_equal(back, want);
	free(back);
	free(msg);
}

/* ---- rules ---- */

static void test_supply_rules(void **state)
{
	(void)state;
	struct device d;
	device_set(&d, 7, "10.1.2.3", "LaserJet", "SER1");
	device_add_supply(&d, 1, 3, SUPPLY_CLASS_CONSUMED, 100, 8, "Black Cartridge 89A", "black");
	device_add_supply(&d, 2, 3, SUPPLY_CLASS_CONSUMED, 100, 10, "Cyan", "cyan");       /* at threshold: ok */
	device_add_supply(&d, 3, 3, SUPPLY_CLASS_CONSUMED, 100, 0, "Magenta", "magenta");  /* empty */
	device_add_supply(&d, 4, 4, SUPPLY_CLASS_RECEPTACLE, 100, 5, "Waste", NULL);       /* nearly full */
	device_add_supply(&d, 5, 4, SUPPLY_CLASS_RECEPTACLE, 100, 0, "Waste 2", NULL);     /* full */
	device_add_supply(&d, 6, 3, SUPPLY_CLASS_OTHER, 100, 1, "Other class", NULL);      /* not a consumable */
	device_add_supply(&d, 7, 3, SUPPLY_CLASS_CONSUMED, 100, -3, "Some left", NULL);
	device_add_supply(&d, 8, 3, SUPPLY_CLASS_CONSUMED, -2, 5, "No max", NULL);
	device_add_supply(&d, 9, 9, SUPPLY_CLASS_CONSUMED, 50000, 2000, "Drum", "\x1b]0;evil\x07yellow");
	struct alerting_input in = input_base();
	in.devices = &d;
	in.n_devices = 1;
	struct alerting_condition *c;
	size_t n = evaluate(&in, &c);
	assert_int_equal(n, 5);

	const struct alerting_condition *x = find(c, n, "supply:7:1");
	assert_non_null(x);
	assert_int_equal(x->kind, ALERTING_SUPPLY);
	assert_true(x->is_new);
	assert_string_equal(x->headline, "black toner low (8 %)");
	assert_non_null(strstr(x->what, "\"Black Cartridge 89A\""));
	assert_string_equal(x->todo, "Replace the black toner cartridge.");
	assert_int_equal(x->since, NOW - 600);

	x = find(c, n, "supply:7:3");
	assert_non_null(x);
	assert_string_equal(x->headline, "magenta toner empty");
	x = find(c, n, "supply:7:4");
	assert_non_null(x);
	assert_string_equal(x->headline, "waste toner container nearly full (5 % room left)");
	assert_string_equal(x->todo, "Empty or replace the waste toner container.");
	x = find(c, n, "supply:7:5");
	assert_non_null(x);
	assert_string_equal(x->headline, "waste toner container full");
	/* A colorant that is not one of our colour words never reaches the headline. */
	x = find(c, n, "supply:7:9");
	assert_non_null(x);
	assert_string_equal(x->headline, "drum low (4 %)");
	assert_string_equal(x->todo, "Replace the drum (imaging unit).");
	/* Priority order within a kind: by supply index. */
	assert_string_equal(c[0].key, "supply:7:1");
	alerting_conditions_free(&c, n);

	/* supply_low = 0: only empty and full. */
	in.supply_low = 0;
	n = evaluate(&in, &c);
	assert_int_equal(n, 2);
	assert_non_null(find(c, n, "supply:7:3"));
	assert_non_null(find(c, n, "supply:7:5"));
	alerting_conditions_free(&c, n);
	device_clear(&d);
}

static void test_supply_hysteresis(void **state)
{
	(void)state;
	struct device d;
	device_set(&d, 3, "10.0.0.3", "M", NULL);
	device_add_supply(&d, 1, 3, SUPPLY_CLASS_CONSUMED, 100, 15, "Black", "black");
	const char *active[] = { "supply:3:1" };
	struct alerting_input in = input_base();
	in.devices = &d;
	in.n_devices = 1;

	/* Not mailed yet: 15 % is fine. */
	struct alerting_condition *c;
	size_t n = evaluate(&in, &c);
	assert_int_equal(n, 0);
	alerting_conditions_free(&c, n);

	/* Mailed at 8 %, now 15 %: still the same condition, not new. */
	in.active = active;
	in.n_active = 1;
	n = evaluate(&in, &c);
	assert_int_equal(n, 1);
	assert_false(c[0].is_new);
	alerting_conditions_free(&c, n);

	/* Unknown level while mailed: held too. */
	d.supplies[0].level = -2;
	n = evaluate(&in, &c);
	assert_int_equal(n, 1);
	alerting_conditions_free(&c, n);

	/* Replaced (100 %): over, and the plan clears it. */
	d.supplies[0].level = 100;
	n = evaluate(&in, &c);
	assert_int_equal(n, 0);
	struct alerting_plan plan;
	struct fc_error err = { { 0 } };
	assert_int_equal(alerting_plan_make(c, n, active, 1, 10, &plan, &err), 0);
	assert_int_equal(plan.n_cleared, 1);
	assert_int_equal(plan.cleared[0], 0);
	alerting_plan_free(&plan);
	alerting_conditions_free(&c, n);
	device_clear(&d);
}

static void test_critical_and_unreachable(void **state)
{
	(void)state;
	struct device d[2];
	device_set(&d[0], 1, "10.0.0.1", "Model A", "S1");
	device_add_alert(&d[0], 3, 13, 8, "Paper jam in tray 2", NOW - 3600);
	device_add_alert(&d[0], 3, 13, 8, "Paper jam in tray 2", NOW - 3600); /* same condition twice */
	device_add_alert(&d[0], 4, 11, 1104, "Toner low", NOW - 7200);        /* a warning: not mailed */
	device_add_alert(&d[0], 3, 5, 4242, NULL, NOW - 60);                  /* unknown code */
	device_set(&d[1], 2, "10.0.0.2", "Model B", "S2");
	d[1].unreachable_polls = 3;
	d[1].last_seen = NOW - DAY;
	d[1].poll_error = strdup("timeout\r\nBcc: victim@example.com");
	struct alerting_input in = input_base();
	in.devices = d;
	in.n_devices = 2;
	struct alerting_condition *c;
	size_t n = evaluate(&in, &c);
	assert_int_equal(n, 3);
	assert_int_equal(c[0].kind, ALERTING_CRITICAL);
	assert_int_equal(c[1].kind, ALERTING_CRITICAL);
	assert_int_equal(c[2].kind, ALERTING_UNREACHABLE);

	const struct alerting_condition *jam = c[0].alert->code == 8 ? &c[0] : &c[1];
	assert_string_equal(jam->headline, "critical: paper jam");
	assert_non_null(strstr(jam->what, "\"Paper jam in tray 2\""));
	assert_string_equal(jam->todo, "Clear the paper jam (the panel shows where).");
	assert_int_equal(jam->since, NOW - 3600);
	const struct alerting_condition *other = jam == &c[0] ? &c[1] : &c[0];
	assert_string_equal(other->headline, "critical printer alert");

	assert_string_equal(c[2].key, "unreachable:2");
	assert_string_equal(c[2].headline, "not answering (3 polls)");
	assert_int_equal(c[2].since, NOW - DAY);
	assert_null(strchr(c[2].what, '\r'));
	assert_null(strchr(c[2].what, '\n'));
	assert_non_null(strstr(c[2].todo, "10.0.0.2"));
	alerting_conditions_free(&c, n);

	d[1].unreachable_polls = 2;
	n = evaluate(&in, &c);
	assert_int_equal(n, 2);
	alerting_conditions_free(&c, n);
	device_clear(&d[0]);
	device_clear(&d[1]);
}

static struct sync_record sync_rec(int64_t started, const char *result, int http, const char *error)
{
	struct sync_record r = { 0 };
	r.started_at = started;
	r.finished_at = started + 5;
	r.result = (char *)result;
	r.http_status = http;
	r.error = (char *)error;
	return r;
}

static void test_upload_failing(void **state)
{
	(void)state;
	struct alerting_input in = input_base();
	/* Newest first: failures for three days after a success. */
	struct sync_record s[] = {
		sync_rec(NOW - 3600, "failed", 503, "server said 503"),
		sync_rec(NOW - DAY, "failed", 0, "cannot connect"),
		sync_rec(NOW - 2 * DAY, "failed", 0, "cannot connect"),
		sync_rec(NOW - 3 * DAY, "ok", 200, NULL),
		sync_rec(NOW - 4 * DAY, "failed", 0, "old failure"),
	};
	in.syncs = s;
	in.n_syncs = 5;
	struct alerting_condition *c;
	size_t n = evaluate(&in, &c);
	assert_int_equal(n, 1);
	assert_string_equal(c[0].key, "upload-failing");
	assert_int_equal(c[0].since, NOW - 3 * DAY + 5);
	assert_string_equal(c[0].headline, "uploads failing for 2 days");
	assert_non_null(strstr(c[0].what, "3 attempts failed"));
	assert_non_null(strstr(c[0].what, "server said 503 (HTTP 503)"));
	alerting_conditions_free(&c, n);

	/* Not long enough yet. */
	in.upload_failing = 4 * DAY;
	n = evaluate(&in, &c);
	assert_int_equal(n, 0);
	alerting_conditions_free(&c, n);

	/* The latest attempt succeeded. */
	in.upload_failing = DAY;
	in.syncs = &s[3];
	in.n_syncs = 2;
	n = evaluate(&in, &c);
	assert_int_equal(n, 0);
	alerting_conditions_free(&c, n);

	/* Never succeeded: counted from the first failure; auth failures say so. */
	struct sync_record never[] = {
		sync_rec(NOW - 10, "auth-failed", 401, "authentication failed"),
		sync_rec(NOW - 2 * DAY, "failed", 0, "x"),
	};
	in.syncs = never;
	in.n_syncs = 2;
	n = evaluate(&in, &c);
	assert_int_equal(n, 1);
	assert_int_equal(c[0].since, NOW - 2 * DAY);
	assert_non_null(strstr(c[0].what, "has ever"));
	assert_non_null(strstr(c[0].todo, "[server] user and password"));
	alerting_conditions_free(&c, n);

	/* No uploads configured: nothing to say. */
	in.uploads_configured = false;
	n = evaluate(&in, &c);
	assert_int_equal(n, 0);
	alerting_conditions_free(&c, n);
}

static void test_outbox_near_bound(void **state)
{
	(void)state;
	struct alerting_input in = input_base();
	in.outbox_max_size = 100 << 20;
	struct outbox_entry e[2] = { { 0 }, { 0 } };
	e[0].created_at = NOW - 2 * DAY;
	e[0].size = 50 << 20;
	e[1].created_at = NOW - DAY;
	e[1].size = 35 << 20;
	in.outbox = e;
	in.n_outbox = 2;
	struct alerting_condition *c;
	size_t n = evaluate(&in, &c);
	assert_int_equal(n, 1);
	assert_string_equal(c[0].key, "outbox");
	assert_int_equal(c[0].since, NOW - 2 * DAY);
	assert_non_null(strstr(c[0].what, "2 reports"));
	assert_non_null(strstr(c[0].what, "(85 %)"));
	alerting_conditions_free(&c, n);

	/* 75 %: not raised, but held once mailed. */
	e[1].size = 25 << 20;
	n = evaluate(&in, &c);
	assert_int_equal(n, 0);
	alerting_conditions_free(&c, n);
	const char *active[] = { "outbox" };
	in.active = active;
	in.n_active = 1;
	n = evaluate(&in, &c);
	assert_int_equal(n, 1);
	assert_false(c[0].is_new);
	alerting_conditions_free(&c, n);
	in.active = NULL;
	in.n_active = 0;

	/* By age: the oldest at 25 of 30 days. */
	e[0].created_at = NOW - 25 * DAY;
	e[0].size = 1024;
	e[1].size = 1024;
	n = evaluate(&in, &c);
	assert_int_equal(n, 1);
	alerting_conditions_free(&c, n);

	/* The uploader's own verdict wins when it keeps one. */
	in.outbox_near_bound = "0";
	n = evaluate(&in, &c);
	assert_int_equal(n, 0);
	alerting_conditions_free(&c, n);
	in.outbox_near_bound = "the next report\r\nBcc: x@example.com drops the oldest";
	n = evaluate(&in, &c);
	assert_int_equal(n, 1);
	assert_null(strpbrk(c[0].what, "\r\n"));
	assert_non_null(strstr(c[0].what, "drops the oldest"));
	alerting_conditions_free(&c, n);
}

/* ---- the plan ---- */

static void test_plan_budget(void **state)
{
	(void)state;
	struct alerting_condition c[6] = { { 0 } };
	for (int i = 0; i < 6; i++) {
		snprintf(c[i].key, sizeof c[i].key, "k%d", i);
		c[i].is_new = i != 2; /* k2 was mailed before */
	}
	const char *active[] = { "k2", "gone" };
	struct alerting_plan p;
	struct fc_error err = { { 0 } };

	assert_int_equal(alerting_plan_make(c, 6, active, 2, 10, &p, &err), 0);
	assert_int_equal(p.n_single, 5);
	assert_int_equal(p.n_digest, 0);
	assert_int_equal(p.n_deferred, 0);
	assert_int_equal(p.n_cleared, 1);
	assert_int_equal(p.cleared[0], 1);
	assert_int_equal(p.single[0], 0);
	assert_int_equal(p.single[2], 3);
	alerting_plan_free(&p);

	assert_int_equal(alerting_plan_make(c, 6, active, 2, 5, &p, &err), 0);
	assert_int_equal(p.n_single, 5);
	alerting_plan_free(&p);

	assert_int_equal(alerting_plan_make(c, 6, active, 2, 3, &p, &err), 0);
	assert_int_equal(p.n_single, 2);
	assert_int_equal(p.n_digest, 3);
	assert_int_equal(p.single[1], 1);
	assert_int_equal(p.digest[0], 3);
	alerting_plan_free(&p);

	assert_int_equal(alerting_plan_make(c, 6, active, 2, 1, &p, &err), 0);
	assert_int_equal(p.n_single, 0);
	assert_int_equal(p.n_digest, 5);
	alerting_plan_free(&p);

	assert_int_equal(alerting_plan_make(c, 6, active, 2, 0, &p, &err), 0);
	assert_int_equal(p.n_single + p.n_digest, 0);
	assert_int_equal(p.n_deferred, 5);
	assert_int_equal(p.n_cleared, 1);
	alerting_plan_free(&p);

	assert_int_equal(alerting_plan_make(c, 0, active, 2, 10, &p, &err), 0);
	assert_int_equal(p.n_cleared, 2);
	alerting_plan_free(&p);
}

/* ---- composing: device strings never reach a header ---- */

static const char *const hostile = "evil\r\nBcc: victim@example.com\r\n\r\nbody";

static void assert_message_clean(const char *subject, const char *body)
{
	struct mail_message m = {
		.from = "fleetcon@example.com", .to = "ops@example.com", .subject = subject, .body = body,
		.date = NOW,
	};
	char *msg;
	size_t len;
	struct fc_error err = { { 0 } };
	if (mail_format(&m, &msg, &len, &err) < 0)
		fail_msg("%s", err.msg);
	assert_headers_clean(msg);
	assert_null(strstr(subject, "victim"));
	assert_null(strstr(subject, "evil"));
	char *back = body_of(msg);
	/* Cleaned: the line breaks became spaces, so nothing starts a line with "Bcc:". */
	assert_null(strstr(back, "\nBcc:"));
	free(back);
	free(msg);
}

static void test_compose_hostile_device(void **state)
{
	(void)state;
	struct device d;
	device_set(&d, 42, hostile, hostile, hostile);
	d.location = strdup(hostile);
	d.vendor = strdup(hostile);
	d.unreachable_polls = 9;
	d.poll_error = strdup(hostile);
	device_add_supply(&d, 1, 3, SUPPLY_CLASS_CONSUMED, 100, 3, hostile, hostile);
	device_add_alert(&d, 3, 8, 8, hostile, NOW - 100);
	struct alerting_input in = input_base();
	in.devices = &d;
	in.n_devices = 1;
	struct alerting_condition *c;
	size_t n = evaluate(&in, &c);
	assert_int_equal(n, 3);
	struct fc_error err = { { 0 } };
	size_t idx[3];
	for (size_t i = 0; i < n; i++) {
		char *subject, *body;
		assert_int_equal(alerting_compose_one(&c[i], "Site\r\nBcc: x@example.com", "uuid", NOW, &subject,
						      &body, &err),
				 0);
		/* The address is not an address: the subject names the device by number. */
		assert_non_null(strstr(subject, "device 42: "));
		assert_non_null(strstr(body, "Printer:   "));
		assert_non_null(strstr(body, "To do:     "));
		assert_message_clean(subject, body);
		free(subject);
		free(body);
		idx[i] = i;
	}
	char *subject, *body;
	assert_int_equal(alerting_compose_digest(c, idx, n, hostile, "uuid", 10, NOW, &subject, &body, &err), 0);
	assert_string_equal(subject, "[fleetcon evil Bcc: victim@example.com body] 3 new alerts (digest)");
	/* That subject holds "victim" (the site name is the admin's own text, cleaned): check the
	 * header structure only. */
	struct mail_message m = {
		.from = "fleetcon@example.com", .to = "ops@example.com", .subject = subject, .body = body,
		.date = NOW,
	};
	char *msg;
	size_t len;
	assert_int_equal(mail_format(&m, &msg, &len, &err), 0);
	assert_headers_clean(msg);
	free(msg);
	free(subject);
	free(body);
	alerting_conditions_free(&c, n);
	device_clear(&d);
}

static void test_compose_one_words(void **state)
{
	(void)state;
	struct device d;
	device_set(&d, 12, "10.1.2.3", "HP LaserJet M507", "PHB123");
	d.location = strdup("2nd floor");
	device_add_supply(&d, 1, 21, SUPPLY_CLASS_CONSUMED, 100, 8, "Black Cartridge 89A", "black");
	struct alerting_input in = input_base();
	in.devices = &d;
	in.n_devices = 1;
	struct alerting_condition *c;
	size_t n = evaluate(&in, &c);
	assert_int_equal(n, 1);
	char *subject, *body;
	struct fc_error err = { { 0 } };
	assert_int_equal(alerting_compose_one(&c[0], "Main office", "0000-agent", NOW, &subject, &body, &err), 0);
	assert_string_equal(subject, "[fleetcon Main office] 10.1.2.3: black toner cartridge low (8 %)");
	assert_string_equal(body,
			    "Supply: black toner cartridge low (8 %)\n"
			    "\n"
			    "Printer:   HP LaserJet M507 at 10.1.2.3 (device 12)\n"
			    "Serial:    PHB123\n"
			    "Location:  2nd floor\n"
			    "What:      black toner cartridge (\"Black Cartridge 89A\") is low: 8 % left (the alert "
			    "comes under 10 %)\n"
			    "Since:     2024-06-01 11:50 UTC (10 minutes ago)\n"
			    "To do:     Replace the black toner cartridge.\n"
			    "\n"
			    "-- \n"
			    "Sent by fleetcon on site \"Main office\" (agent 0000-agent). Each condition is mailed "
			    "once while it lasts, and again if it clears and comes back.\n");
	free(subject);
	free(body);
	alerting_conditions_free(&c, n);
	device_clear(&d);
}

/* ---- whole runs against a store, with a fake sender ---- */

struct sent {
	char subject[1024][256];
	char *body[1024];
	size_t n;
	int fail_at;     /* 1-based call that fails; 0 = never */
	int calls;
};

static int fake_send(void *ctx, const struct mail_message *m, struct fc_error *err)
{
	struct sent *s = ctx;
	s->calls++;
	if (s->fail_at && s->calls >= s->fail_at)
		return fc_error_set(err, "cannot connect to the mail server smtp://127.0.0.1:1 (refused)");
	char *msg;
	size_t len;
	if (mail_format(m, &msg, &len, err) < 0)
		return -1;
	assert_headers_clean(msg);
	free(msg);
	assert_true(s->n < 1024);
	snprintf(s->subject[s->n], sizeof s->subject[s->n], "%s", m->subject);
	s->body[s->n] = strdup(m->body);
	s->n++;
	return 0;
}

static void sent_reset(struct sent *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->body[i]);
	memset(s, 0, sizeof *s);
}

struct fixture {
	char *dir;
	char *path;
	struct store *s;
	struct config *cfg;
	struct sent *sent;
	struct alerting_options opt;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	f->dir = test_tmpdir_new();
	if (asprintf(&f->path, "%s/fleetcon.db", f->dir) < 0)
		return -1;
	struct fc_error err = { { 0 } };
	if (store_open(f->path, 0, &f->s, &err) < 0) {
		fprintf(stderr, "%s\n", err.msg);
		return -1;
	}
	f->cfg = config_parse_string("[site]\nname = Test site\n"
				     "[smtp]\nurl = smtp://127.0.0.1:1\nfrom = fleetcon@example.com\n"
				     "to = ops@example.com\n",
				     "test", &err);
	if (!f->cfg) {
		fprintf(stderr, "%s\n", err.msg);
		return -1;
	}
	f->sent = calloc(1, sizeof *f->sent);
	f->opt.send = fake_send;
	f->opt.send_ctx = f->sent;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	sent_reset(f->sent);
	free(f->sent);
	config_free(&f->cfg);
	store_close(&f->s);
	test_tmpdir_remove(&f->dir);
	free(f->path);
	free(f);
	return 0;
}

/* Saves a printer as a poll at `when` would: one black toner at `level` %, and a jam when asked. */
static int64_t save_printer(struct store *s, int n, int level, bool jam, int64_t when)
{
	struct device d;
	char addr[32], serial[32];
	snprintf(addr, sizeof addr, "10.9.0.%d", n);
	snprintf(serial, sizeof serial, "SER%d", n);
	device_set(&d, 0, addr, "Model X", serial);
	d.vendor = strdup("Acme");
	d.last_poll = when;
	d.last_poll_ok = when;
	device_add_supply(&d, 1, 3, SUPPLY_CLASS_CONSUMED, 100, level, "Black", "black");
	if (jam)
		device_add_alert(&d, 3, 13, 8, "Jam", when);
	int64_t id;
	struct fc_error err = { { 0 } };
	if (store_device_save(s, &d, true, true, &id, &err) < 0)
		fail_msg("%s", err.msg);
	device_clear(&d);
	return id;
}

static struct alerting_result run(struct fixture *f, int64_t now, int expect_rc)
{
	struct alerting_result r;
	struct fc_error err = { { 0 } };
	int rc = alerting_run(f->s, f->cfg, &f->opt, now, &r, &err);
	if (rc != expect_rc)
		fail_msg("alerting_run returned %d: %s", rc, err.msg);
	return r;
}

static void test_run_once_each_and_again_after_clearing(void **state)
{
	struct fixture *f = *state;
	int64_t id = save_printer(f->s, 1, 5, true, NOW - 60);
	struct alerting_result r = run(f, NOW, 0);
	assert_int_equal(r.conditions, 2);
	assert_int_equal(r.fresh, 2);
	assert_int_equal(r.mails, 2);
	assert_int_equal(f->sent->n, 2);
	assert_string_equal(f->sent->subject[0], "[fleetcon Test site] 10.9.0.1: critical: paper jam");
	assert_string_equal(f->sent->subject[1], "[fleetcon Test site] 10.9.0.1: black toner low (5 %)");
	assert_non_null(strstr(f->sent->body[1], "Since:     2024-06-01 00:00 UTC")); /* from the history */

	/* Nothing new: nothing sent, however often it runs. */
	for (int i = 1; i <= 3; i++) {
		r = run(f, NOW + i * 600, 0);
		assert_int_equal(r.conditions, 2);
		assert_int_equal(r.fresh, 0);
		assert_int_equal(r.mails, 0);
	}
	assert_int_equal(f->sent->n, 2);

	/* Toner replaced, jam cleared: both end, silently. */
	save_printer(f->s, 1, 100, false, NOW + 3600);
	r = run(f, NOW + 3700, 0);
	assert_int_equal(r.conditions, 0);
	assert_int_equal(r.cleared, 2);
	assert_int_equal(f->sent->n, 2);

	/* The jam comes back: mailed once more. */
	save_printer(f->s, 1, 100, true, NOW + 7200);
	r = run(f, NOW + 7300, 0);
	assert_int_equal(r.mails, 1);
	assert_int_equal(f->sent->n, 3);
	assert_string_equal(f->sent->subject[2], "[fleetcon Test site] 10.9.0.1: critical: paper jam");

	struct notification *list;
	size_t n;
	struct fc_error err = { { 0 } };
	assert_int_equal(store_notifications_list(f->s, false, &list, &n, &err), 0);
	assert_int_equal(n, 2);
	char jam_prefix[64];
	snprintf(jam_prefix, sizeof jam_prefix, "critical:%lld:", (long long)id);
	for (size_t i = 0; i < n; i++) {
		if (strncmp(list[i].key, jam_prefix, strlen(jam_prefix)) == 0) {
			assert_int_equal(list[i].count, 2);
			assert_int_equal(list[i].cleared_at, 0);
			assert_int_equal(list[i].first_sent, NOW);
			assert_int_equal(list[i].last_sent, NOW + 7300);
		} else {
			assert_int_equal(list[i].count, 1);
			assert_int_equal(list[i].cleared_at, NOW + 3700);
		}
	}
	notification_array_free(&list, n);
}

static void test_run_rate_limit_and_digest(void **state)
{
	struct fixture *f = *state;
	f->opt.max_per_hour = 5;
	for (int i = 1; i <= 12; i++)
		save_printer(f->s, i, 3, false, NOW - 60);
	struct alerting_result r = run(f, NOW, 0);
	assert_int_equal(r.fresh, 12);
	assert_int_equal(r.mails, 5);
	assert_int_equal(r.mailed, 12);
	assert_int_equal(f->sent->n, 5);
	assert_string_equal(f->sent->subject[4], "[fleetcon Test site] 8 new alerts (digest)");
	assert_non_null(strstr(f->sent->body[4], "At most 5 e-mails are sent per hour"));
	assert_non_null(strstr(f->sent->body[4], "8. 10.9.0.12: black toner low (3 %)"));

	/* New conditions within the hour wait; then they go. */
	for (int i = 13; i <= 14; i++)
		save_printer(f->s, i, 3, false, NOW + 60);
	r = run(f, NOW + 120, 0);
	assert_int_equal(r.fresh, 2);
	assert_int_equal(r.mails, 0);
	assert_int_equal(r.deferred, 2);
	r = run(f, NOW + 3600, 0);
	assert_int_equal(r.mails, 2);
	assert_int_equal(f->sent->n, 7);
	r = run(f, NOW + 3700, 0);
	assert_int_equal(r.mails, 0);
}

static void test_run_send_failure_is_retried(void **state)
{
	struct fixture *f = *state;
	for (int i = 1; i <= 3; i++)
		save_printer(f->s, i, 3, false, NOW - 60);
	f->sent->fail_at = 2;
	struct alerting_result r;
	struct fc_error err = { { 0 } };
	assert_int_equal(alerting_run(f->s, f->cfg, &f->opt, NOW, &r, &err), -1);
	assert_non_null(strstr(err.msg, "cannot connect"));
	assert_int_equal(r.mails, 1);
	assert_int_equal(r.deferred, 2);
	assert_int_equal(f->sent->n, 1);

	/* Server back: the two that failed go, the first is not sent again. */
	f->sent->fail_at = 0;
	r = run(f, NOW + 60, 0);
	assert_int_equal(r.mails, 2);
	assert_int_equal(f->sent->n, 3);
	assert_string_equal(f->sent->subject[0], "[fleetcon Test site] 10.9.0.1: black toner low (3 %)");
	assert_string_equal(f->sent->subject[1], "[fleetcon Test site] 10.9.0.2: black toner low (3 %)");
	assert_string_equal(f->sent->subject[2], "[fleetcon Test site] 10.9.0.3: black toner low (3 %)");
}

static void test_run_disabled_without_smtp(void **state)
{
	struct fixture *f = *state;
	save_printer(f->s, 1, 3, true, NOW - 60);
	struct fc_error err = { { 0 } };
	struct config *cfg = config_parse_string("[site]\nname = x\n", "test", &err);
	assert_non_null(cfg);
	struct alerting_result r;
	assert_int_equal(alerting_run(f->s, cfg, NULL, NOW, &r, &err), 0);
	assert_true(r.disabled);
	assert_int_equal(r.conditions, 2);
	assert_int_equal(r.mails, 0);
	struct notification *list;
	size_t n;
	assert_int_equal(store_notifications_list(f->s, false, &list, &n, &err), 0);
	assert_int_equal(n, 0);
	config_free(&cfg);
}

static void test_run_excluded_devices_are_quiet(void **state)
{
	struct fixture *f = *state;
	int64_t id = save_printer(f->s, 1, 3, false, NOW - 60);
	struct fc_error err = { { 0 } };
	assert_int_equal(store_device_set_included(f->s, id, false, &err), 1);
	struct alerting_result r = run(f, NOW, 0);
	assert_int_equal(r.conditions, 0);
	assert_int_equal(f->sent->n, 0);
}

static void test_store_supply_low_since(void **state)
{
	struct fixture *f = *state;
	int64_t id = save_printer(f->s, 1, 50, false, NOW - 5 * DAY);
	save_printer(f->s, 1, 8, false, NOW - 4 * DAY);
	save_printer(f->s, 1, 40, false, NOW - 3 * DAY); /* replaced */
	save_printer(f->s, 1, 9, false, NOW - 2 * DAY);
	save_printer(f->s, 1, 0, false, NOW - DAY);
	int64_t since;
	struct fc_error err = { { 0 } };
	assert_int_equal(store_supply_low_since(f->s, id, 1, 10, &since, &err), 0);
	assert_int_equal(since, NOW - 2 * DAY - 12 * 3600); /* 00:00 UTC of that day */
	assert_int_equal(store_supply_low_since(f->s, id, 7, 10, &since, &err), 0);
	assert_int_equal(since, 0);
	save_printer(f->s, 1, 90, false, NOW);
	assert_int_equal(store_supply_low_since(f->s, id, 1, 10, &since, &err), 0);
	assert_int_equal(since, 0);
}

static void test_store_notifications_prune(void **state)
{
	struct fixture *f = *state;
	struct fc_error err = { { 0 } };
	assert_int_equal(store_notification_sent(f->s, "a", NOW - 100 * DAY, &err), 0);
	assert_int_equal(store_notification_sent(f->s, "b", NOW - 100 * DAY, &err), 0);
	assert_int_equal(store_notification_clear(f->s, "a", NOW - 95 * DAY, &err), 1);
	assert_int_equal(store_notification_clear(f->s, "a", NOW - 95 * DAY, &err), 0);
	assert_int_equal(store_mail_sent(f->s, NOW - 100 * DAY, 2, "old", &err), 0);
	assert_int_equal(store_mail_sent(f->s, NOW - 10, 1, "new", &err), 0);
	int64_t count;
	assert_int_equal(store_mails_since(f->s, NOW - 3600, &count, &err), 0);
	assert_int_equal(count, 1);
	assert_int_equal(store_notifications_prune(f->s, NOW - 90 * DAY, &err), 0);
	struct notification *list;
	size_t n;
	assert_int_equal(store_notifications_list(f->s, false, &list, &n, &err), 0);
	assert_int_equal(n, 1);
	assert_string_equal(list[0].key, "b"); /* still active: kept however old */
	notification_array_free(&list, n);
	assert_int_equal(store_mails_since(f->s, 0, &count, &err), 0);
	assert_int_equal(count, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format_headers_and_body),
		cmocka_unit_test(test_format_refuses_injection),
		cmocka_unit_test(test_format_encodes_non_ascii_subject),
		cmocka_unit_test(test_format_quoted_printable_body),
		cmocka_unit_test(test_supply_rules),
		cmocka_unit_test(test_supply_hysteresis),
		cmocka_unit_test(test_critical_and_unreachable),
		cmocka_unit_test(test_upload_failing),
		cmocka_unit_test(test_outbox_near_bound),
		cmocka_unit_test(test_plan_budget),
		cmocka_unit_test(test_compose_hostile_device),
		cmocka_unit_test(test_compose_one_words),
		cmocka_unit_test_setup_teardown(test_run_once_each_and_again_after_clearing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_run_rate_limit_and_digest, setup, teardown),
		cmocka_unit_test_setup_teardown(test_run_send_failure_is_retried, setup, teardown),
		cmocka_unit_test_setup_teardown(test_run_disabled_without_smtp, setup, teardown),
		cmocka_unit_test_setup_teardown(test_run_excluded_devices_are_quiet, setup, teardown),
		cmocka_unit_test_setup_teardown(test_store_supply_low_since, setup, teardown),
		cmocka_unit_test_setup_teardown(test_store_notifications_prune, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
