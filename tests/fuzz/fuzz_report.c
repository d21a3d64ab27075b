/* Fuzzes the report builder (uplink/report.h) and the HTML report (exports/html.h) with devices
 * made from fuzz bytes: strings cleaned as the collectors clean them, any status, error bits,
 * supply levels and maxima (the special -1/-2/-3 included), meters and alerts. Each device is
 * saved to a real store (a fresh database every few hundred inputs), then the report is built.
 * Properties: the device comes back from the store as it was saved; the report is JSON that
 * parses, holds the device with the same texts, every supply percent null or 0..100 and every
 * state a documented name, no control character in any string; gzip and gunzip give the same
 * text back; the HTML report holds only the tags the writer itself uses, whatever the texts; every
 * CSV table reads back as RFC 4180 records of as many cells as its header, and a cell that starts
 * with = + - @ tab or CR is a plain number (a numeric column), never a text. */
#include "tests/fuzz/fuzz.h"

#include <jansson.h>
#include <unistd.h>

#include "exports/csv.h"
#include "exports/export.h"
#include "exports/html.h"
#include "model/config.h"
#include "model/device.h"
#include "model/device_json.h"
#include "model/store.h"
#include "model/text.h"
#include "uplink/report.h"

static char dir[256];
static char db[300];
static struct config *cfg;
static struct store *st;
static unsigned runs;

static void reopen(void)
{
	struct fc_error err = { { 0 } };
	store_close(&st);
	static const char *const suffixes[] = { "", "-wal", "-shm", "-journal" };
	for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
		char p[320];
		snprintf(p, sizeof p, "%s%s", db, suffixes[i]);
		unlink(p);
	}
	FUZZ_CHECK(store_open(db, 0, &st, &err) == 0, "store_open: %s", err.msg);
}

static void cleanup(void)
{
	store_close(&st);
	config_free(&cfg);
	char cmd[300];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "fuzz_report: could not remove %s\n", dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	/* /dev/shm when there is one: the store syncs every commit. */
	const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : (getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	snprintf(dir, sizeof dir, "%s/fleetcon-fuzz-report.XXXXXX", base);
	FUZZ_CHECK(mkdtemp(dir) != NULL, "mkdtemp %s", dir);
	snprintf(db, sizeof db, "%s/fuzz.db", dir);
	char text[512];
	snprintf(text, sizeof text, "[site]\nname = fuzz <site> & co\n[database]\npath = %s\n", db);
	struct fc_error err = { { 0 } };
	cfg = config_parse_string(text, "fuzz_report", &err);
	FUZZ_CHECK(cfg != NULL, "config: %s", err.msg);
	reopen();
	atexit(cleanup);
	return 0;
}

/* A cleaned device string from the next run of bytes, or NULL for an empty run. */
static char *dev_str(struct fuzz_in *in)
{
	size_t len;
	const uint8_t *b = fuzz_bytes(in, &len);
	if (len == 0)
		return NULL;
	char *s = text_from_device(b, len);
	FUZZ_OOM(s);
	if (!*s) {
		free(s);
		return NULL;
	}
	return s;
}

static void build_device(struct fuzz_in *in, struct device *d, int64_t now)
{
	memset(d, 0, sizeof *d);
	char addr[32];
	snprintf(addr, sizeof addr, "10.9.%u.%u", fuzz_u8(in), fuzz_u8(in));
	d->address = strdup(addr);
	d->profile = strdup("default");
	FUZZ_OOM(d->address && d->profile);
	d->port = 161;
	d->vendor = dev_str(in);
	d->model = dev_str(in);
	/* A serial of its own: a device saved is then never merged with an earlier one. */
	char *serial = dev_str(in);
	char tail[32];
	snprintf(tail, sizeof tail, "#%u", runs);
	FUZZ_CHECK(asprintf(&d->serial, "%s%s", serial ? serial : "", tail) > 0, "asprintf");
	free(serial);
	d->firmware = dev_str(in);
	d->sys_name = dev_str(in);
	d->sys_descr = dev_str(in);
	d->location = dev_str(in);
	d->panel_text = dev_str(in);
	d->poll_error = dev_str(in);
	d->uptime_ticks = fuzz_u32(in);
	d->status_device = fuzz_int(in);
	d->status_printer = fuzz_int(in);
	d->error_bits = fuzz_u32(in) & 0xFFFF;
	d->error_bits_known = fuzz_u8(in) & 1;
	d->first_seen = d->last_seen = d->last_poll = now;
	d->last_poll_ok = fuzz_u8(in) & 1 ? now : 0;
	d->unreachable_polls = fuzz_u8(in) % 5;

	static const char *const meter_names[] = { "total", "black", "color", "duplex" };
	d->n_meters = fuzz_u8(in) % 5;
	d->meters = calloc(d->n_meters ? d->n_meters : 1, sizeof *d->meters);
	FUZZ_OOM(d->meters);
	for (size_t i = 0; i < d->n_meters; i++) {
		struct meter *m = &d->meters[i];
		m->name = strdup(meter_names[i]);
		m->oid = strdup("1.3.6.1.2.1.43.10.2.1.4.1.1");
		FUZZ_OOM(m->name && m->oid);
		m->value = fuzz_i64(in) & INT64_MAX; /* what decode_counter gives: never negative */
		m->unit = fuzz_u8(in) % 9;
		m->raw = dev_str(in);
		m->read_at = now;
	}
	d->n_supplies = fuzz_u8(in) % 6;
	d->supplies = calloc(d->n_supplies ? d->n_supplies : 1, sizeof *d->supplies);
	FUZZ_OOM(d->supplies);
	for (size_t i = 0; i < d->n_supplies; i++) {
		struct supply *s = &d->supplies[i];
		s->index = (int)i + 1;
		s->type = fuzz_int(in);
		s->klass = fuzz_u8(in) & 1 ? SUPPLY_CLASS_RECEPTACLE : SUPPLY_CLASS_CONSUMED;
		s->unit = fuzz_int(in);
		s->max = fuzz_int(in);
		s->level = fuzz_int(in);
		s->description = dev_str(in);
		s->colorant = dev_str(in);
	}
	d->n_alerts = fuzz_u8(in) % 4;
	d->alerts = calloc(d->n_alerts ? d->n_alerts : 1, sizeof *d->alerts);
	FUZZ_OOM(d->alerts);
	for (size_t i = 0; i < d->n_alerts; i++) {
		struct alert *a = &d->alerts[i];
		a->index = (int)i + 1;
		a->severity = fuzz_int(in);
		a->training = fuzz_int(in);
		a->group = fuzz_int(in);
		a->group_index = fuzz_int(in);
		a->location = fuzz_int(in);
		a->code = fuzz_int(in);
		a->description = dev_str(in);
		a->time_ticks = fuzz_u32(in);
	}
}

static bool same_str(const char *a, const char *b)
{
	return (!a || !*a) ? (!b || !*b) : (b && strcmp(a, b) == 0);
}

static void no_controls(uint32_t cp, void *ctx)
{
	FUZZ_CHECK(cp >= 0x20 && cp != 0x7F && !(cp >= 0x80 && cp <= 0x9F), "control U+%04X in \"%s\"",
		   (unsigned)cp, (const char *)ctx);
}

static void walk_strings(json_t *v)
{
	size_t i;
	const char *key;
	json_t *item;
	if (json_is_string(v)) {
		const char *s = json_string_value(v);
		FUZZ_CHECK(fuzz_utf8_valid((const unsigned char *)s, json_string_length(v), no_controls,
					   (void *)s),
			   "string in the report");
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, item)
			walk_strings(item);
	} else if (json_is_object(v)) {
		json_object_foreach(v, key, item)
			walk_strings(item);
	}
}

static const char *json_str(json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);
	return json_is_string(v) ? json_string_value(v) : NULL;
}

static void check_report_device(json_t *dj, const struct device *d)
{
	FUZZ_CHECK(same_str(json_str(dj, "model"), d->model) && same_str(json_str(dj, "serial"), d->serial) &&
			   same_str(json_str(dj, "sys_descr"), d->sys_descr) &&
			   same_str(json_str(dj, "location"), d->location),
		   "the report's texts differ from the device's");
	json_t *supplies = json_object_get(dj, "supplies");
	FUZZ_CHECK(json_is_array(supplies) && json_array_size(supplies) == d->n_supplies, "supplies");
	size_t i;
	json_t *s;
	json_array_foreach(supplies, i, s) {
		json_t *pct = json_object_get(s, "percent");
		FUZZ_CHECK(json_is_null(pct) ||
				   (json_is_integer(pct) && json_integer_value(pct) >= 0 &&
				    json_integer_value(pct) <= 100),
			   "supply %zu percent", i);
		const char *state = json_str(s, "state");
		bool known = false;
		for (int k = 0; k < SUPPLY_STATE_COUNT && state; k++)
			known = known || strcmp(state, supply_state_name((enum supply_state)k)) == 0;
		FUZZ_CHECK(known, "supply %zu state %s", i, state ? state : "(none)");
	}
}

static int sink_null(void *ctx, const char *bytes, size_t len, struct fc_error *err)
{
	(void)ctx;
	(void)bytes;
	(void)len;
	(void)err;
	return 0;
}

/* Every tag in html starts with one of the writer's own names. */
static void check_tags(const char *html, size_t len)
{
	static const char *const tags[] = { "!DOCTYPE", "a", "article", "b", "body", "dd", "div", "dl",
					    "dt", "footer", "h1", "h2", "h3", "h4", "head", "header",
					    "html", "i", "li", "meta", "nav", "p", "section", "span",
					    "style", "table", "tbody", "td", "th", "thead", "time",
					    "title", "tr", "ul" };
	for (const char *p = memchr(html, '<', len); p; p = memchr(p + 1, '<', len - (size_t)(p + 1 - html))) {
		const char *name = p[1] == '/' ? p + 2 : p + 1;
		size_t n = strspn(name, "!DOCTYPEabcdefghijklmnopqrstuvwxyz0123456789");
		bool known = false;
		for (size_t k = 0; k < sizeof tags / sizeof tags[0] && !known; k++)
			known = strlen(tags[k]) == n && strncmp(tags[k], name, n) == 0;
		FUZZ_CHECK(known && (name[n] == '>' || name[n] == ' ' || name[n] == '\n'),
			   "unknown markup at byte %zu: %.40s", (size_t)(p - html), p);
	}
}

/* A numeric cell: "-12", "7". */
static bool is_number(const char *s)
{
	if (*s == '-')
		s++;
	return *s && strspn(s, "0123456789") == strlen(s);
}

static void check_csv(enum export_table t, int64_t now)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	FUZZ_OOM(f);
	struct export_options o;
	export_options_init(&o);
	o.now = now;
	struct fc_error err = { { 0 } };
	FUZZ_CHECK(csv_write_table(f, st, t, &o, cfg->alerts.supply_low, &err) == 0, "csv %s: %s",
		   export_table_name(t), err.msg);
	FUZZ_CHECK(fclose(f) == 0, "memstream");
	size_t columns = 0;
	while (csv_table_column(t, columns))
		columns++;
	const char *p = text;
	char *cells[64];
	for (int row = 0; *p; row++) {
		int n = fuzz_csv_record(&p, cells, 64);
		FUZZ_CHECK(n == (int)columns, "%s.csv row %d: %d cells, %zu columns:\n%s", export_table_name(t),
			   row, n, columns, text);
		for (int c = 0; c < n; c++) {
			FUZZ_CHECK(!strchr("=+-@\t\r", cells[c][0]) || cells[c][0] == '\0' ||
					   is_number(cells[c]),
				   "%s.csv row %d column %s: \"%s\" a spreadsheet would run", export_table_name(t),
				   row, csv_table_column(t, (size_t)c), cells[c]);
			free(cells[c]);
		}
	}
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	struct fc_error err = { { 0 } };
	if (++runs % 1024 == 0)
		reopen(); /* keep the database small: it only grows */
	int64_t now = 1700000000 + (int64_t)(runs % 86400);
	struct device d;
	build_device(&in, &d, now);

	/* Raw device_json first: with texts that were not cleaned it still gives an object. */
	json_t *direct = device_json(&d, cfg->alerts.supply_low);
	FUZZ_OOM(direct);
	json_decref(direct);

	int64_t id = 0;
	FUZZ_CHECK(store_device_save(st, &d, true, true, &id, &err) == 0, "save: %s", err.msg);
	struct device back;
	memset(&back, 0, sizeof back);
	FUZZ_CHECK(store_device_load(st, id, STORE_LOAD_ALL, &back, &err) == 1, "load: %s", err.msg);
	FUZZ_CHECK(same_str(back.model, d.model) && same_str(back.sys_descr, d.sys_descr) &&
			   same_str(back.location, d.location) && same_str(back.panel_text, d.panel_text) &&
			   back.n_supplies == d.n_supplies && back.n_meters == d.n_meters,
		   "the store gave back another device");
	for (size_t i = 0; i < d.n_supplies; i++)
		FUZZ_CHECK(back.supplies[i].level == d.supplies[i].level &&
				   back.supplies[i].max == d.supplies[i].max &&
				   same_str(back.supplies[i].description, d.supplies[i].description),
			   "supply %zu changed in the store", i);
	device_clear(&back);

	struct report *r = NULL;
	FUZZ_CHECK(report_load(st, cfg, now, &r, &err) == 0, "report_load: %s", err.msg);
	char *text = NULL;
	size_t len = 0;
	FUZZ_CHECK(report_json_text(r, &text, &len, &err) == 0, "report_json_text: %s", err.msg);
	size_t streamed = 0;
	FUZZ_CHECK(report_write(r, sink_null, NULL, &streamed, &err) == 0 && streamed == len,
		   "report_write gave %zu bytes, the text is %zu", streamed, len);
	json_error_t jerr;
	json_t *root = json_loadb(text, len, 0, &jerr);
	FUZZ_CHECK(root != NULL, "the report is not JSON: %s", jerr.text);
	walk_strings(root);
	json_t *devices = json_object_get(root, "devices");
	FUZZ_CHECK(json_is_array(devices) && json_array_size(devices) == (size_t)report_device_count(r),
		   "devices array");
	size_t i;
	json_t *dj;
	bool found = false;
	json_array_foreach(devices, i, dj) {
		json_t *jid = json_object_get(dj, "id");
		if (json_is_integer(jid) && json_integer_value(jid) == id) {
			check_report_device(dj, &d);
			found = true;
		}
	}
	FUZZ_CHECK(found, "device %lld missing from the report", (long long)id);
	json_decref(root);

	unsigned char *gz = NULL;
	size_t gz_len = 0, json_bytes = 0;
	FUZZ_CHECK(report_gzip(r, &gz, &gz_len, &json_bytes, &err) == 0 && json_bytes == len, "gzip: %s",
		   err.msg);
	char *plain = NULL;
	size_t plain_len = 0;
	FUZZ_CHECK(report_gunzip(gz, gz_len, len + 1, &plain, &plain_len, &err) == 0 &&
			   plain_len == len && memcmp(plain, text, len) == 0,
		   "gunzip of the report differs: %s", err.msg);
	free(plain);
	free(gz);
	free(text);
	report_free(&r);

	char *html = NULL;
	size_t html_len = 0;
	FILE *f = open_memstream(&html, &html_len);
	FUZZ_OOM(f);
	struct export_options o;
	export_options_init(&o);
	o.now = now;
	FUZZ_CHECK(html_write_report(f, st, cfg, &o, &err) == 0, "html: %s", err.msg);
	FUZZ_CHECK(fclose(f) == 0, "memstream");
	check_tags(html, html_len);
	free(html);
	for (int t = 0; t < EXPORT_TABLE_COUNT; t++)
		check_csv((enum export_table)t, now);
	/* The next input's report and HTML hold its own device only. */
	FUZZ_CHECK(store_device_set_included(st, id, false, &err) == 1, "exclude: %s", err.msg);
	device_clear(&d);
	return 0;
}
