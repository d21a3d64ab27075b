/* E-mail alerts (see alerting.h): the rules that turn the store's state into conditions, the plan
 * of e-mails under the hourly limit, the words of each e-mail, and the run that records what was
 * sent. Device strings reach a message only cleaned and bounded, and only in the body: a subject
 * is made of our own words, digits, the device's address when it looks like one, and the site. */
#include "uplink/alerting.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "model/array.h"
#include "model/text.h"
#include "model/units.h"

#define DEVICE_TEXT_MAX 160   /* bytes of one device string in a message */
#define SITE_MAX 40           /* bytes of the site name in a subject */
#define DIGEST_FULL 50        /* conditions a digest shows in full ... */
#define DIGEST_LINES 1000     /* ... and as one line each, up to this many; the rest are counted */
#define SYNCS_LOOKED_AT 1000  /* newest syncs read to find the last success */
#define PRUNE_AFTER (90 * 86400) /* cleared conditions and old e-mail records are forgotten */
#define HOUR 3600

/* ---- small text helpers ---- */

static char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *s = NULL;
	int n = vasprintf(&s, fmt, ap);
	va_end(ap);
	return n < 0 ? NULL : s;
}

/* A device string cleaned (no controls, no line breaks) and cut to max bytes on a character
 * boundary, ended with "…" when cut. New string; NULL only when out of memory. */
static char *device_text(const char *s, size_t max)
{
	char *t = text_clean(s);
	if (!t || strlen(t) <= max)
		return t;
	size_t cut = text_cut(t, max - 3);
	memcpy(t + cut, "\xE2\x80\xA6", 4);
	return t;
}

/* The device's address for a subject when it is made only of the characters an IP address or
 * host name has; otherwise "device N". */
static void subject_address(const struct device *d, char *out, size_t len)
{
	const char *a = d->address ? d->address : "";
	size_t n = strlen(a);
	bool ok = n > 0 && n < 64 && strspn(a, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
					       "0123456789.:-_[]%") == n;
	if (ok)
		snprintf(out, len, "%s", a);
	else
		snprintf(out, len, "device %lld", (long long)d->id);
}

static void format_when(int64_t t, char *out, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;
	if (t <= 0 || !gmtime_r(&tt, &tm)) {
		snprintf(out, len, "unknown");
		return;
	}
	snprintf(out, len, "%04d-%02d-%02d %02d:%02d UTC", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
		 tm.tm_hour, tm.tm_min);
}

static void format_duration(int64_t s, char *out, size_t len)
{
	static const struct {
		int64_t unit;
		const char *name;
	} units[] = { { 86400, "day" }, { HOUR, "hour" }, { 60, "minute" } };
	if (s < 0)
		s = 0;
	for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
		if (s >= units[i].unit || i + 1 == sizeof units / sizeof units[0]) {
			long long v = (long long)(s / units[i].unit);
			snprintf(out, len, "%lld %s%s", v, units[i].name, v == 1 ? "" : "s");
			return;
		}
	}
}

static uint32_t fnv1a(const char *s)
{
	uint32_t h = 2166136261u;
	for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++)
		h = (h ^ *p) * 16777619u;
	return h;
}

/* ---- words: supplies, colours, alert codes ---- */

const char *alerting_kind_name(enum alerting_kind kind)
{
	static const char *const names[ALERTING_KIND_COUNT] = {
		[ALERTING_CRITICAL] = "critical",
		[ALERTING_UNREACHABLE] = "unreachable",
		[ALERTING_UPLOAD_FAILING] = "upload-failing",
		[ALERTING_OUTBOX] = "outbox",
		[ALERTING_SUPPLY] = "supply",
	};
	return (unsigned)kind < ALERTING_KIND_COUNT ? names[kind] : "unknown";
}

/* Titles of the e-mails, by kind. */
static const char *const kind_titles[ALERTING_KIND_COUNT] = {
	[ALERTING_CRITICAL] = "Printer fault",
	[ALERTING_UNREACHABLE] = "Printer not answering",
	[ALERTING_UPLOAD_FAILING] = "Uploads failing",
	[ALERTING_OUTBOX] = "Outbox near its limit",
	[ALERTING_SUPPLY] = "Supply",
};

/* IANA PrtMarkerSuppliesTypeTC: what to call a supply, and what to do when it runs out (%s is a
 * colour and a space, or nothing). Receptacles are emptied or replaced whatever their type. */
static const struct {
	int type;
	const char *noun;
	const char *replace;
} supply_words[] = {
	{ 3, "toner", "Replace the %stoner cartridge." },
	{ 4, "waste toner container", "Replace or empty the waste toner container." },
	{ 5, "ink", "Replace the %sink cartridge." },
	{ 6, "ink cartridge", "Replace the %sink cartridge." },
	{ 7, "ink ribbon", "Replace the %sink ribbon." },
	{ 8, "waste ink container", "Replace or empty the waste ink container." },
	{ 9, "drum", "Replace the %sdrum (imaging unit)." },
	{ 10, "developer", "Replace the %sdeveloper unit." },
	{ 11, "fuser oil", "Refill the fuser oil." },
	{ 12, "solid ink", "Load %ssolid ink." },
	{ 13, "ribbon wax", "Replace the %sribbon." },
	{ 14, "waste wax container", "Empty the waste wax container." },
	{ 15, "fuser", "Replace the fuser (usually a service visit)." },
	{ 16, "corona wire", "Replace the corona wire." },
	{ 17, "fuser oil wick", "Replace the fuser oil wick." },
	{ 18, "cleaner unit", "Replace the cleaner unit." },
	{ 19, "fuser cleaning pad", "Replace the fuser cleaning pad." },
	{ 20, "transfer unit", "Replace the transfer unit (belt or kit)." },
	{ 21, "toner cartridge", "Replace the %stoner cartridge." },
	{ 22, "fuser oiler", "Replace the fuser oiler." },
	{ 23, "water", "Refill the water." },
	{ 24, "waste water container", "Empty the waste water container." },
	{ 26, "waste paper container", "Empty the waste paper container." },
	{ 27, "binding supply", "Refill the binding supply." },
	{ 29, "stitching wire", "Refill the stitching wire." },
	{ 32, "staples", "Refill the staples." },
};

/* Colours we name in a subject: the device's colorant only when it is one of ours. */
static const char *const colours[] = {
	"black", "cyan", "magenta", "yellow", "light cyan", "light magenta", "photo black",
	"matte black", "gray", "grey", "light gray", "light grey", "red", "green", "blue",
	"orange", "violet", "white", "clear", "gold", "silver",
};

static const char *colour_word(const char *colorant)
{
	if (!colorant)
		return NULL;
	for (size_t i = 0; i < sizeof colours / sizeof colours[0]; i++)
		if (strcasecmp(colorant, colours[i]) == 0)
			return colours[i];
	return NULL;
}

/* IANA PrtAlertCodeTC: the common critical ones, named, with what to do. */
static const struct {
	int code;
	const char *name;
	const char *todo;
} alert_words[] = {
	{ 3, "cover open", "Close the cover the panel shows." },
	{ 5, "interlock open", "Close the door or cover the panel shows." },
	{ 8, "paper jam", "Clear the paper jam (the panel shows where)." },
	{ 9, "part missing", "Put back the part the panel names." },
	{ 11, "part worn out", "Replace the part the panel names (often a service visit)." },
	{ 13, "part empty", "Refill or replace the part the panel names." },
	{ 15, "part full", "Empty the part the panel names." },
	{ 17, "part at its limit", "Replace the part the panel names." },
	{ 22, "part offline", "Check the part the panel names; switch the printer off and on." },
	{ 30, "unrecoverable failure", "Call for service: the printer reports a failure it cannot recover from." },
	{ 32, "storage failure", "Call for service: the printer reports a storage failure." },
	{ 33, "motor failure", "Call for service: the printer reports a motor failure." },
	{ 34, "memory exhausted", "Split or simplify the job, or add memory to the printer." },
	{ 36, "over temperature", "Switch the printer off, let it cool and check its ventilation; call for "
				  "service if it happens again." },
	{ 501, "door open", "Close the door." },
	{ 801, "paper tray missing", "Put the paper tray back in." },
	{ 807, "paper low", "Load paper." },
	{ 808, "out of paper", "Load paper." },
	{ 813, "paper size not available", "Load the paper size the job asks for, or cancel the job." },
	{ 901, "output tray missing", "Put the output tray back." },
	{ 902, "output tray nearly full", "Take the prints out of the output tray." },
	{ 903, "output tray full", "Take the prints out of the output tray." },
	{ 1001, "fuser too cold", "Call for service: fuser temperature fault." },
	{ 1002, "fuser too hot", "Call for service: fuser temperature fault." },
	{ 1003, "fuser failure", "Call for service: fuser failure." },
	{ 1004, "fuser failure", "Call for service: fuser failure." },
	{ 1101, "toner empty", "Replace the toner cartridge the panel names." },
	{ 1102, "ink empty", "Replace the ink cartridge the panel names." },
	{ 1103, "ribbon empty", "Replace the ribbon." },
	{ 1104, "toner nearly empty", "Have a new toner cartridge ready; replace it when the panel asks." },
	{ 1105, "ink nearly empty", "Have a new ink cartridge ready; replace it when the panel asks." },
	{ 1106, "ribbon nearly empty", "Have a new ribbon ready." },
	{ 1107, "waste toner container nearly full", "Replace or empty the waste toner container." },
	{ 1108, "waste ink container nearly full", "Replace or empty the waste ink container." },
	{ 1109, "waste toner container full", "Replace or empty the waste toner container." },
	{ 1110, "waste ink container full", "Replace or empty the waste ink container." },
	{ 1111, "drum nearly worn out", "Have a new drum (imaging unit) ready." },
	{ 1112, "drum worn out", "Replace the drum (imaging unit)." },
	{ 1113, "developer nearly empty", "Have a new developer unit ready." },
	{ 1114, "developer empty", "Replace the developer unit." },
	{ 1115, "toner cartridge missing", "Insert the toner cartridge the panel names." },
	{ 1301, "tray missing in the paper path", "Put back the tray the panel names." },
	{ 1302, "tray nearly full in the paper path", "Empty the tray the panel names." },
	{ 1303, "tray full in the paper path", "Empty the tray the panel names." },
};

/* ---- evaluation ---- */

struct builder {
	struct alerting_condition *v;
	size_t n, cap;
	const char **active; /* sorted copy of the input's active keys */
	size_t n_active;
};

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static bool is_active(const struct builder *b, const char *key)
{
	return b->n_active && bsearch(&key, b->active, b->n_active, sizeof *b->active, cmp_str);
}

/* A new zeroed condition at the end, or NULL when out of memory. */
static struct alerting_condition *push(struct builder *b, enum alerting_kind kind,
				       const struct device *d)
{
	struct alerting_condition *v = array_grow(b->v, b->n, &b->cap, sizeof *v, 32);
	if (!v)
		return NULL;
	b->v = v;
	struct alerting_condition *c = &b->v[b->n++];
	memset(c, 0, sizeof *c);
	c->kind = kind;
	c->device = d;
	return c;
}

static void condition_free(struct alerting_condition *c)
{
	free(c->headline);
	free(c->what);
	free(c->todo);
	c->headline = c->what = c->todo = NULL;
}

void alerting_conditions_free(struct alerting_condition **c, size_t n)
{
	if (!c || !*c)
		return;
	for (size_t i = 0; i < n; i++)
		condition_free(&(*c)[i]);
	free(*c);
	*c = NULL;
}

/* Condition strings are all set or the builder fails; each add_* returns 0 or -1 (out of
 * memory). */
static int finish(struct alerting_condition *c)
{
	return c->headline && c->what && c->todo ? 0 : -1;
}

static int add_critical(struct builder *b, const struct device *d, const struct alert *a)
{
	const char *name = NULL, *todo = NULL;
	for (size_t i = 0; i < sizeof alert_words / sizeof alert_words[0]; i++)
		if (alert_words[i].code == a->code) {
			name = alert_words[i].name;
			todo = alert_words[i].todo;
		}
	struct alerting_condition *c = push(b, ALERTING_CRITICAL, d);
	if (!c)
		return -1;
	c->alert = a;
	snprintf(c->key, sizeof c->key, "critical:%lld:%d.%d.%d.%d:%08x", (long long)d->id, a->group,
		 a->group_index, a->location, a->code, fnv1a(a->description));
	c->since = a->first_seen;
	char *desc = device_text(a->description, DEVICE_TEXT_MAX);
	if (!desc)
		return -1;
	c->headline = name ? xasprintf("critical: %s", name) : strdup("critical printer alert");
	char code[64];
	if (name)
		snprintf(code, sizeof code, "%s, alert code %d", name, a->code);
	else
		snprintf(code, sizeof code, "alert code %d", a->code);
	if (*desc)
		c->what = xasprintf("the printer reports a critical alert: \"%s\" (%s)", desc, code);
	else
		c->what = xasprintf("the printer reports a critical alert (%s)", code);
	c->todo = strdup(todo ? todo
			      : "Look at the printer's panel and deal with what it says; call for service "
				"if the alert stays.");
	free(desc);
	return finish(c);
}

static int add_unreachable(struct builder *b, const struct device *d, int threshold)
{
	struct alerting_condition *c = push(b, ALERTING_UNREACHABLE, d);
	if (!c)
		return -1;
	snprintf(c->key, sizeof c->key, "unreachable:%lld", (long long)d->id);
	c->since = d->last_seen ? d->last_seen : d->first_seen;
	char *addr = device_text(d->address, DEVICE_TEXT_MAX);
	char *why = d->poll_error && *d->poll_error ? device_text(d->poll_error, DEVICE_TEXT_MAX) : strdup("");
	if (!addr || !why) {
		free(addr);
		free(why);
		return -1;
	}
	c->headline = xasprintf("not answering (%d polls)", d->unreachable_polls);
	c->what = xasprintf("the printer has not answered %d polls in a row (the alert comes after %d)%s%s",
			    d->unreachable_polls, threshold, *why ? "; last error: " : "", why);
	c->todo = xasprintf("Check that the printer is on and connected, and the network path from this "
			    "agent to %s; if the printer is gone for good, exclude it.", addr);
	free(addr);
	free(why);
	return finish(c);
}

static int add_supply(struct builder *b, const struct device *d, const struct supply *s, int low)
{
	bool receptacle = s->klass == SUPPLY_CLASS_RECEPTACLE;
	if (!receptacle && s->klass != SUPPLY_CLASS_CONSUMED)
		return 0;
	char key[ALERTING_KEY_MAX];
	snprintf(key, sizeof key, "supply:%lld:%d", (long long)d->id, s->index);
	enum supply_state st = supply_state_of(s, low);
	int pct = supply_percent(s);
	bool holds = st == SUPPLY_LOW || st == SUPPLY_EMPTY || st == SUPPLY_FULL;
	/* Mailed already: it lasts until clearly above the threshold, or while the level is unknown. */
	if (!holds && is_active(b, key))
		holds = st == SUPPLY_UNKNOWN || (st == SUPPLY_OK && pct >= 0 && pct < low + ALERTING_SUPPLY_CLEAR);
	if (!holds)
		return 0;

	const char *noun = receptacle ? "waste container" : "supply";
	const char *replace = receptacle ? NULL : "Replace or refill the %ssupply.";
	for (size_t i = 0; i < sizeof supply_words / sizeof supply_words[0]; i++)
		if (supply_words[i].type == s->type) {
			noun = supply_words[i].noun;
			replace = supply_words[i].replace;
		}
	const char *colour = colour_word(s->colorant);
	char colour_sp[24] = "";
	if (colour)
		snprintf(colour_sp, sizeof colour_sp, "%s ", colour);

	struct alerting_condition *c = push(b, ALERTING_SUPPLY, d);
	if (!c)
		return -1;
	memcpy(c->key, key, sizeof key);
	c->supply = s;
	c->since = d->last_poll_ok ? d->last_poll_ok : d->last_seen;
	char *desc = device_text(s->description, DEVICE_TEXT_MAX);
	if (!desc)
		return -1;
	char label[DEVICE_TEXT_MAX + 64];
	if (*desc)
		snprintf(label, sizeof label, "%s%s (\"%s\")", colour_sp, noun, desc);
	else
		snprintf(label, sizeof label, "%s%s", colour_sp, noun);
	free(desc);

	switch (st) {
	case SUPPLY_EMPTY:
		c->headline = xasprintf("%s%s empty", colour_sp, noun);
		c->what = xasprintf("%s is empty", label);
		break;
	case SUPPLY_FULL:
		c->headline = xasprintf("%s%s full", colour_sp, noun);
		c->what = xasprintf("%s is full", label);
		break;
	case SUPPLY_LOW:
		c->headline = receptacle ? xasprintf("%s%s nearly full (%d %% room left)", colour_sp, noun, pct)
					 : xasprintf("%s%s low (%d %%)", colour_sp, noun, pct);
		c->what = receptacle ? xasprintf("%s is nearly full: %d %% room left (the alert comes under %d %%)",
						 label, pct, low)
				     : xasprintf("%s is low: %d %% left (the alert comes under %d %%)", label, pct, low);
		break;
	default: /* held within its band, or level unknown now */
		c->headline = xasprintf("%s%s %s", colour_sp, noun, receptacle ? "nearly full" : "low");
		c->what = pct >= 0 ? xasprintf("%s is at %d %%", label, pct)
				   : xasprintf("%s: level %s", label, supply_state_name(st));
		break;
	}
	if (receptacle)
		c->todo = xasprintf("Empty or replace the %s%s.", colour_sp, noun);
	else
		c->todo = xasprintf(replace, colour_sp);
	return finish(c);
}

static bool result_is(const struct sync_record *r, const char *result)
{
	return r->result && strcmp(r->result, result) == 0;
}

static int add_upload_failing(struct builder *b, const struct alerting_input *in)
{
	const struct sync_record *ok = NULL, *last_fail = NULL;
	int fails = 0;
	int64_t first_fail = 0;
	for (size_t i = 0; i < in->n_syncs; i++) {
		const struct sync_record *r = &in->syncs[i];
		if (result_is(r, "ok")) {
			ok = r;
			break;
		}
		/* "dropped" records an outbox entry dropped at its bound, not an upload attempt. */
		if (r->finished_at == 0 || result_is(r, "running") || result_is(r, "dropped"))
			continue;
		fails++;
		if (!last_fail)
			last_fail = r;
		first_fail = r->started_at;
	}
	if (!fails)
		return 0;
	int64_t since = ok ? (ok->finished_at ? ok->finished_at : ok->started_at) : first_fail;
	if (in->now - since < in->upload_failing)
		return 0;

	struct alerting_condition *c = push(b, ALERTING_UPLOAD_FAILING, NULL);
	if (!c)
		return -1;
	snprintf(c->key, sizeof c->key, "upload-failing");
	c->since = since;
	char dur[32], status[32] = "";
	format_duration(in->now - since, dur, sizeof dur);
	if (last_fail->http_status)
		snprintf(status, sizeof status, " (HTTP %d)", last_fail->http_status);
	char *why = device_text(last_fail->error && *last_fail->error ? last_fail->error : last_fail->result,
				DEVICE_TEXT_MAX);
	if (!why)
		return -1;
	c->headline = xasprintf("uploads failing for %s", dur);
	c->what = xasprintf("%s for %s: %d attempt%s failed; the last one: %s%s",
			    ok ? "no report has reached the server" : "no report has ever reached the server",
			    dur, fails, fails == 1 ? "" : "s", why, status);
	free(why);
	if (result_is(last_fail, "auth-failed"))
		c->todo = strdup("The server refused the agent's credentials: check [server] user and password "
				 "(reports wait in the outbox meanwhile).");
	else
		c->todo = strdup("Run `fleetcon status` to see the sync history; check the network path and "
				 "proxy to the server, and [server] url, user and password (reports wait in the "
				 "outbox meanwhile).");
	return finish(c);
}

static int add_outbox(struct builder *b, const struct alerting_input *in)
{
	static const char key[] = "outbox";
	bool active = is_active(b, key);
	char *what = NULL;
	int64_t since = 0;
	for (size_t i = 0; i < in->n_outbox; i++)
		if (!since || in->outbox[i].created_at < since)
			since = in->outbox[i].created_at;

	if (in->outbox_near_bound) {
		/* The uploader's own verdict. */
		const char *v = in->outbox_near_bound;
		if (!*v || strcmp(v, "0") == 0 || strcasecmp(v, "no") == 0)
			return 0;
		char *reason = device_text(v, DEVICE_TEXT_MAX);
		if (!reason)
			return -1;
		what = xasprintf("the outbox holds %zu report%s that could not be delivered yet: %s",
				 in->n_outbox, in->n_outbox == 1 ? "" : "s", reason);
		free(reason);
	} else {
		int64_t total = 0;
		for (size_t i = 0; i < in->n_outbox; i++)
			total += (int64_t)in->outbox[i].size;
		int64_t size_pct = in->outbox_max_size > 0 ? total * 100 / in->outbox_max_size : 0;
		int64_t age_pct = in->outbox_max_age > 0 && since ? (in->now - since) * 100 / in->outbox_max_age : 0;
		int64_t worst = size_pct > age_pct ? size_pct : age_pct;
		if (!in->n_outbox || worst < (active ? ALERTING_OUTBOX_CLEAR : ALERTING_OUTBOX_NEAR))
			return 0;
		char used[32], max[32], age[32], max_age[32];
		units_bytes((uint64_t)total, used, sizeof used);
		units_bytes((uint64_t)in->outbox_max_size, max, sizeof max);
		format_duration(in->now - since, age, sizeof age);
		format_duration(in->outbox_max_age, max_age, sizeof max_age);
		what = xasprintf("the outbox holds %zu report%s that could not be delivered yet: %s of at most "
				 "%s (%lld %%), the oldest %s old of at most %s (%lld %%); past either limit the "
				 "oldest reports are dropped",
				 in->n_outbox, in->n_outbox == 1 ? "" : "s", used, max, (long long)size_pct, age,
				 max_age, (long long)age_pct);
	}
	struct alerting_condition *c = push(b, ALERTING_OUTBOX, NULL);
	if (!c) {
		free(what);
		return -1;
	}
	snprintf(c->key, sizeof c->key, "%s", key);
	c->since = since;
	c->what = what;
	c->headline = strdup("outbox near its limit, reports may be dropped");
	c->todo = strdup("Make the uploads work again (see `fleetcon status`) before the outbox reaches "
			 "[outbox] max_size or max_age; until then nothing is lost.");
	return finish(c);
}

static int cmp_condition(const void *pa, const void *pb)
{
	const struct alerting_condition *a = pa, *b = pb;
	if (a->kind != b->kind)
		return a->kind < b->kind ? -1 : 1;
	int64_t da = a->device ? a->device->id : 0, db = b->device ? b->device->id : 0;
	if (da != db)
		return da < db ? -1 : 1;
	int sa = a->supply ? a->supply->index : 0, sb = b->supply ? b->supply->index : 0;
	if (sa != sb)
		return sa < sb ? -1 : 1;
	return strcmp(a->key, b->key);
}

int alerting_evaluate(const struct alerting_input *in, struct alerting_condition **out, size_t *n,
		      struct fc_error *err)
{
	*out = NULL;
	*n = 0;
	struct builder b = { 0 };
	if (in->n_active) {
		b.active = malloc(in->n_active * sizeof *b.active);
		if (!b.active)
			return fc_error_set(err, "out of memory evaluating alerts");
		memcpy(b.active, in->active, in->n_active * sizeof *b.active);
		qsort(b.active, in->n_active, sizeof *b.active, cmp_str);
		b.n_active = in->n_active;
	}
	int rc = 0;
	for (size_t i = 0; i < in->n_devices && rc == 0; i++) {
		const struct device *d = &in->devices[i];
		for (size_t k = 0; k < d->n_alerts && rc == 0; k++)
			if (d->alerts[k].severity == 3 && d->alerts[k].cleared_at == 0)
				rc = add_critical(&b, d, &d->alerts[k]);
		if (rc == 0 && in->unreachable_polls > 0 && d->unreachable_polls >= in->unreachable_polls)
			rc = add_unreachable(&b, d, in->unreachable_polls);
		for (size_t k = 0; k < d->n_supplies && rc == 0; k++)
			rc = add_supply(&b, d, &d->supplies[k], in->supply_low);
	}
	if (rc == 0 && in->uploads_configured)
		rc = add_upload_failing(&b, in);
	if (rc == 0)
		rc = add_outbox(&b, in);
	if (rc < 0) {
		free(b.active);
		alerting_conditions_free(&b.v, b.n);
		return fc_error_set(err, "out of memory evaluating alerts");
	}

	if (b.n)
		qsort(b.v, b.n, sizeof *b.v, cmp_condition);
	/* Two identical alert rows on one device are one condition. */
	size_t w = 0;
	for (size_t i = 0; i < b.n; i++) {
		if (w && strcmp(b.v[w - 1].key, b.v[i].key) == 0) {
			condition_free(&b.v[i]);
			continue;
		}
		b.v[w] = b.v[i];
		b.v[w].is_new = !is_active(&b, b.v[w].key);
		w++;
	}
	free(b.active);
	*out = b.v;
	*n = w;
	return 0;
}

/* ---- the plan ---- */

void alerting_plan_free(struct alerting_plan *plan)
{
	free(plan->single);
	free(plan->digest);
	free(plan->cleared);
	memset(plan, 0, sizeof *plan);
}

int alerting_plan_make(const struct alerting_condition *c, size_t n, const char *const *active,
		       size_t n_active, int budget, struct alerting_plan *plan, struct fc_error *err)
{
	memset(plan, 0, sizeof *plan);
	size_t fresh = 0;
	for (size_t i = 0; i < n; i++)
		fresh += c[i].is_new;
	plan->single = malloc((fresh ? fresh : 1) * sizeof *plan->single);
	plan->digest = malloc((fresh ? fresh : 1) * sizeof *plan->digest);
	plan->cleared = malloc((n_active ? n_active : 1) * sizeof *plan->cleared);
	const char **keys = malloc((n ? n : 1) * sizeof *keys);
	if (!plan->single || !plan->digest || !plan->cleared || !keys) {
		free(keys);
		alerting_plan_free(plan);
		return fc_error_set(err, "out of memory planning alert e-mails");
	}

	/* Each on its own while they fit the budget; else the first budget - 1 on their own and the
	 * rest in one digest. */
	size_t singles = budget <= 0 ? 0 : fresh <= (size_t)budget ? fresh : (size_t)budget - 1;
	for (size_t i = 0; i < n; i++) {
		if (!c[i].is_new)
			continue;
		if (budget <= 0)
			plan->n_deferred++;
		else if (plan->n_single < singles)
			plan->single[plan->n_single++] = i;
		else
			plan->digest[plan->n_digest++] = i;
	}

	for (size_t i = 0; i < n; i++)
		keys[i] = c[i].key;
	qsort(keys, n, sizeof *keys, cmp_str);
	for (size_t i = 0; i < n_active; i++)
		if (!n || !bsearch(&active[i], keys, n, sizeof *keys, cmp_str))
			plan->cleared[plan->n_cleared++] = i;
	free(keys);
	return 0;
}

/* ---- the words of an e-mail ---- */

/* "[fleetcon SITE] " with the site cleaned and bounded; into out. */
static int subject_prefix(const char *site, char *out, size_t len)
{
	char *s = device_text(site, SITE_MAX);
	if (!s)
		return -1;
	snprintf(out, len, *s ? "[fleetcon %s] " : "[fleetcon] ", s);
	free(s);
	return 0;
}

/* The printer's identity line ("HP LaserJet M507 at 10.1.2.3 (device 12)") and the optional
 * serial and location lines, cleaned. */
struct identity {
	char *line, *serial, *location;
};

static void identity_free(struct identity *id)
{
	free(id->line);
	free(id->serial);
	free(id->location);
}

static int identity_of(const struct device *d, struct identity *id)
{
	memset(id, 0, sizeof *id);
	const char *name = d->model && *d->model ? d->model : d->vendor && *d->vendor ? d->vendor : "printer";
	char *model = device_text(name, DEVICE_TEXT_MAX);
	char *addr = device_text(d->address, DEVICE_TEXT_MAX);
	id->serial = device_text(d->serial, DEVICE_TEXT_MAX);
	id->location = device_text(d->location, DEVICE_TEXT_MAX);
	if (model && addr)
		id->line = xasprintf("%s at %s (device %lld)", model, addr, (long long)d->id);
	free(model);
	free(addr);
	if (!id->line || !id->serial || !id->location) {
		identity_free(id);
		return -1;
	}
	return 0;
}

/* Appends to a growing string; the failure sticks. */
struct text {
	char *s;
	size_t len;
	bool failed;
};

static void add(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add(struct text *t, const char *fmt, ...)
{
	if (t->failed)
		return;
	va_list ap;
	va_start(ap, fmt);
	char *piece = NULL;
	int n = vasprintf(&piece, fmt, ap);
	va_end(ap);
	char *grown = n < 0 ? NULL : realloc(t->s, t->len + (size_t)n + 1);
	if (!grown) {
		free(piece);
		t->failed = true;
		return;
	}
	memcpy(grown + t->len, piece, (size_t)n + 1);
	t->s = grown;
	t->len += (size_t)n;
	free(piece);
}

/* The block that describes one condition, each line starting with indent. */
static void add_block(struct text *t, const struct alerting_condition *c, const char *indent, int64_t now)
{
	if (c->device) {
		struct identity id;
		if (identity_of(c->device, &id) < 0) {
			t->failed = true;
			return;
		}
		add(t, "%sPrinter:   %s\n", indent, id.line);
		if (*id.serial)
			add(t, "%sSerial:    %s\n", indent, id.serial);
		if (*id.location)
			add(t, "%sLocation:  %s\n", indent, id.location);
		identity_free(&id);
	}
	char when[40], ago[32];
	format_when(c->since, when, sizeof when);
	add(t, "%sWhat:      %s\n", indent, c->what);
	if (c->since > 0) {
		format_duration(now - c->since, ago, sizeof ago);
		add(t, "%sSince:     %s (%s ago)\n", indent, when, ago);
	} else {
		add(t, "%sSince:     unknown\n", indent);
	}
	add(t, "%sTo do:     %s\n", indent, c->todo);
}

static void add_footer(struct text *t, const char *site, const char *agent)
{
	char *s = device_text(site, DEVICE_TEXT_MAX);
	if (!s) {
		t->failed = true;
		return;
	}
	add(t, "\n-- \nSent by fleetcon on site \"%s\" (agent %s). Each condition is mailed once while it "
	       "lasts, and again if it clears and comes back.\n",
	    s, agent && *agent ? agent : "unknown");
	free(s);
}

static void short_line(const struct alerting_condition *c, char *out, size_t len)
{
	char where[80] = "agent";
	if (c->device)
		subject_address(c->device, where, sizeof where);
	snprintf(out, len, "%s: %s", where, c->headline);
}

int alerting_compose_one(const struct alerting_condition *c, const char *site, const char *agent,
			 int64_t now, char **subject, char **body, struct fc_error *err)
{
	*subject = *body = NULL;
	char prefix[SITE_MAX + 32], line[256];
	if (subject_prefix(site, prefix, sizeof prefix) < 0)
		return fc_error_set(err, "out of memory writing an alert e-mail");
	short_line(c, line, sizeof line);
	char *subj = c->device ? xasprintf("%s%s", prefix, line) : xasprintf("%s%s", prefix, c->headline);
	struct text t = { 0 };
	const char *title = (unsigned)c->kind < ALERTING_KIND_COUNT ? kind_titles[c->kind] : "Alert";
	add(&t, "%s: %s\n\n", title, c->headline);
	add_block(&t, c, "", now);
	add_footer(&t, site, agent);
	if (!subj || t.failed) {
		free(subj);
		free(t.s);
		return fc_error_set(err, "out of memory writing an alert e-mail");
	}
	*subject = subj;
	*body = t.s;
	return 0;
}

int alerting_compose_digest(const struct alerting_condition *c, const size_t *idx, size_t n,
			    const char *site, const char *agent, int max_per_hour, int64_t now,
			    char **subject, char **body, struct fc_error *err)
{
	*subject = *body = NULL;
	char prefix[SITE_MAX + 32];
	if (subject_prefix(site, prefix, sizeof prefix) < 0)
		return fc_error_set(err, "out of memory writing an alert digest");
	char *subj = xasprintf("%s%zu new alerts (digest)", prefix, n);
	struct text t = { 0 };
	add(&t, "%zu new alert conditions. At most %d e-mails are sent per hour, so these come together "
		"in this one message.\n",
	    n, max_per_hour);
	for (size_t i = 0; i < n && i < DIGEST_LINES; i++) {
		const struct alerting_condition *x = &c[idx[i]];
		char line[256];
		short_line(x, line, sizeof line);
		if (i < DIGEST_FULL) {
			add(&t, "\n%zu. %s\n", i + 1, line);
			add_block(&t, x, "   ", now);
		} else {
			if (i == DIGEST_FULL)
				add(&t, "\n");
			add(&t, "%zu. %s\n", i + 1, line);
		}
	}
	if (n > DIGEST_LINES)
		add(&t, "\n... and %zu more: the console and `fleetcon status` show them all.\n", n - DIGEST_LINES);
	add_footer(&t, site, agent);
	if (!subj || t.failed) {
		free(subj);
		free(t.s);
		return fc_error_set(err, "out of memory writing an alert digest");
	}
	*subject = subj;
	*body = t.s;
	return 0;
}

/* ---- the run ---- */

struct run {
	struct store *s;
	const struct config *cfg;
	struct mail_server srv;
	const struct alerting_options *opt;
	char agent[UUID_STR_LEN];
	int64_t now;
};

static int deliver(struct run *r, const char *subject, const char *body, struct fc_error *err)
{
	struct mail_message m = {
		.from = r->cfg->smtp.from,
		.to = r->cfg->smtp.to,
		.subject = subject,
		.body = body,
		.date = r->now,
	};
	if (r->opt && r->opt->send)
		return r->opt->send(r->opt->send_ctx, &m, err);
	return mail_send(&r->srv, &m, err);
}

/* Records the e-mail and its conditions at once, so that a condition is never half-recorded. */
static int record_sent(struct run *r, const struct alerting_condition *c, const size_t *idx, size_t n,
		       const char *subject, struct fc_error *err)
{
	if (store_begin(r->s, err) < 0)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (store_notification_sent(r->s, c[idx[i]].key, r->now, err) < 0)
			goto fail;
	if (store_mail_sent(r->s, r->now, (int)n, subject, err) < 0)
		goto fail;
	return store_commit(r->s, err);
fail:
	store_rollback(r->s);
	return -1;
}

/* A low supply's start from the daily history, better than "the last poll". */
static int refine_since(struct run *r, struct alerting_condition *c, struct fc_error *err)
{
	if (c->kind != ALERTING_SUPPLY || !c->supply || !c->device)
		return 0;
	int64_t since;
	if (store_supply_low_since(r->s, c->device->id, c->supply->index, r->cfg->alerts.supply_low, &since,
				   err) < 0)
		return -1;
	if (since > 0 && (c->since == 0 || since < c->since))
		c->since = since;
	return 0;
}

struct loaded {
	struct device *devices;
	size_t n_devices;
	struct sync_record *syncs;
	size_t n_syncs;
	struct outbox_entry *outbox;
	size_t n_outbox;
	struct notification *active;
	size_t n_active;
	const char **keys;
	char near[512];
	bool has_near;
};

static void loaded_free(struct loaded *l)
{
	device_array_free(&l->devices, l->n_devices);
	sync_array_free(&l->syncs, l->n_syncs);
	outbox_array_free(&l->outbox, l->n_outbox);
	notification_array_free(&l->active, l->n_active);
	free(l->keys);
}

static int load(struct store *s, struct loaded *l, struct fc_error *err)
{
	memset(l, 0, sizeof *l);
	if (store_devices_list(s, STORE_DEVICES_INCLUDED, STORE_LOAD_SUPPLIES | STORE_LOAD_ALERTS, &l->devices,
			       &l->n_devices, err) < 0 ||
	    store_syncs_list(s, SYNCS_LOOKED_AT, &l->syncs, &l->n_syncs, err) < 0 ||
	    store_outbox_list(s, false, &l->outbox, &l->n_outbox, err) < 0 ||
	    store_notifications_list(s, true, &l->active, &l->n_active, err) < 0)
		return -1;
	int found = store_setting_get(s, ALERTING_SETTING_OUTBOX, l->near, sizeof l->near, err);
	if (found < 0)
		return -1;
	l->has_near = found == 1;
	l->keys = malloc((l->n_active ? l->n_active : 1) * sizeof *l->keys);
	if (!l->keys)
		return fc_error_set(err, "out of memory reading the alerts mailed");
	for (size_t i = 0; i < l->n_active; i++)
		l->keys[i] = l->active[i].key;
	return 0;
}

int alerting_run(struct store *s, const struct config *cfg, const struct alerting_options *opt,
		 int64_t now, struct alerting_result *out, struct fc_error *err)
{
	memset(out, 0, sizeof *out);
	struct run r = { .s = s, .cfg = cfg, .opt = opt, .now = now };
	/* The options override the configuration (the tests' driver uses them). */
	const char *ca_file = opt && opt->ca_file ? opt->ca_file : cfg->smtp.ca_file[0] ? cfg->smtp.ca_file : NULL;
	mail_server_from_config(cfg, ca_file, &r.srv);
	int max_per_hour = opt && opt->max_per_hour > 0 ? opt->max_per_hour
			 : cfg->alerts.max_per_hour > 0	 ? cfg->alerts.max_per_hour
							 : ALERTING_MAX_PER_HOUR;

	struct loaded l;
	struct alerting_condition *c = NULL;
	size_t n = 0;
	struct alerting_plan plan = { 0 };
	int rc = -1;
	if (load(s, &l, err) < 0)
		goto out;
	struct alerting_input in = {
		.devices = l.devices,
		.n_devices = l.n_devices,
		.syncs = l.syncs,
		.n_syncs = l.n_syncs,
		.outbox = l.outbox,
		.n_outbox = l.n_outbox,
		.outbox_near_bound = l.has_near ? l.near : NULL,
		.active = l.keys,
		.n_active = l.n_active,
		.supply_low = cfg->alerts.supply_low,
		.unreachable_polls = cfg->alerts.unreachable_polls,
		.upload_failing = cfg->alerts.upload_failing,
		.uploads_configured = cfg->server.url[0] != '\0',
		.outbox_max_size = cfg->outbox.max_size,
		.outbox_max_age = cfg->outbox.max_age,
		.now = now,
	};
	if (alerting_evaluate(&in, &c, &n, err) < 0)
		goto out;
	out->conditions = n;
	for (size_t i = 0; i < n; i++)
		out->fresh += c[i].is_new;
	if (!cfg->smtp.url[0] && !(opt && opt->send)) {
		out->disabled = true;
		rc = 0;
		goto out;
	}

	int64_t recent;
	if (store_mails_since(s, now - HOUR + 1, &recent, err) < 0)
		goto out;
	int budget = recent >= max_per_hour ? 0 : max_per_hour - (int)recent;
	if (alerting_plan_make(c, n, l.keys, l.n_active, budget, &plan, err) < 0)
		goto out;
	for (size_t i = 0; i < plan.n_cleared; i++) {
		int changed = store_notification_clear(s, l.keys[plan.cleared[i]], now, err);
		if (changed < 0)
			goto out;
		out->cleared += (size_t)changed;
	}
	out->deferred = plan.n_deferred;
	if (store_agent_uuid(s, r.agent, err) < 0)
		goto out;

	/* Singles first, then the digest; the first failure stops the run and leaves the rest for the
	 * next one (the server is most likely down for all of them). */
	size_t total_mails = plan.n_single + (plan.n_digest ? 1 : 0);
	for (size_t m = 0; m < total_mails; m++) {
		bool digest = m == plan.n_single;
		const size_t *idx = digest ? plan.digest : &plan.single[m];
		size_t count = digest ? plan.n_digest : 1;
		char *subject = NULL, *body = NULL;
		int sent = 0;
		for (size_t i = 0; i < count && sent == 0; i++)
			sent = refine_since(&r, &c[idx[i]], err);
		if (sent == 0)
			sent = digest ? alerting_compose_digest(c, idx, count, cfg->site.name, r.agent, max_per_hour,
								now, &subject, &body, err)
				      : alerting_compose_one(&c[idx[0]], cfg->site.name, r.agent, now, &subject,
							     &body, err);
		if (sent == 0)
			sent = deliver(&r, subject, body, err);
		if (sent == 0) {
			out->mails++;
			out->mailed += count;
			sent = record_sent(&r, c, idx, count, subject, err);
		}
		free(subject);
		free(body);
		if (sent < 0) {
			/* Whatever was not recorded is still new: it goes at the next run. */
			for (size_t k = m; k < total_mails; k++)
				out->deferred += k == plan.n_single ? plan.n_digest : 1;
			goto out;
		}
	}
	rc = store_notifications_prune(s, now - PRUNE_AFTER, err);
out:
	alerting_plan_free(&plan);
	alerting_conditions_free(&c, n);
	loaded_free(&l);
	return rc;
}
