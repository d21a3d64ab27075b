/* seed_store: fills a fleetcon database through the public store API (model/store.h) with N
 * synthetic but realistic printers (vendors, meters with daily history, supplies with the special
 * -1/-2/-3 levels, alerts, excluded and unreachable devices, sync records), optionally carrying
 * hostile strings, for the export tests and the benchmarks. The same --seed gives the same data.
 *
 *   seed_store --db PATH --devices N [--days D] [--hostile] [--seed S] [--end YYYY-MM-DD]
 *              [--meter-history-days H]
 * --end is the last day of history (default: yesterday, UTC); --days 30 by default: that many
 * store_device_save calls per device (about 40 us each). --meter-history-days H adds meter history
 * (the daily rows the exports read) for the H days before those, written straight into the
 * meter_history table in one transaction in key order (a year of 20,000 devices is 7.3 million
 * saves through the API, 18 million rows this way): the only place this tool knows the schema.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>
#include <time.h>

#include "model/clock.h"
#include "model/device.h"
#include "model/error.h"
#include "model/store.h"
#include "model/text.h"

#define DAY 86400
/* Saves per transaction: large enough that commits (fsync) do not dominate, small enough that a
 * concurrent reader is not locked out for long. */
#define BATCH 4000

/* ---- deterministic randomness (splitmix64): one stream per device, independent of order ---- */

static uint64_t mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

struct rng {
	uint64_t state;
};

static uint64_t rng_next(struct rng *r)
{
	r->state += 0x9e3779b97f4a7c15ULL;
	return mix(r->state);
}

/* A number in [lo, hi]. */
static int64_t rng_range(struct rng *r, int64_t lo, int64_t hi)
{
	return lo + (int64_t)(rng_next(r) % (uint64_t)(hi - lo + 1));
}

static bool rng_chance(struct rng *r, int percent)
{
	return rng_range(r, 0, 99) < percent;
}

/* ---- the fleet: vendors and models are data ---- */

struct model_info {
	const char *name;
	bool color;
	int64_t daily_pages; /* typical volume */
};

static const struct vendor {
	const char *name;
	int enterprise;          /* sysObjectID's enterprise number */
	const char *oui;         /* first three MAC octets */
	const char *serial_prefix;
	const char *firmware_fmt; /* one %d */
	const char *black_oid, *color_oid;
	struct model_info models[3];
} vendors[] = {
	{ "Xerox", 253, "9c:93:4e", "XRX", "73.%d.10.1",
	  "1.3.6.1.4.1.253.8.53.13.2.1.6.1.20.34", "1.3.6.1.4.1.253.8.53.13.2.1.6.1.20.33",
	  { { "WorkCentre 7845", true, 900 }, { "VersaLink B405", false, 300 }, { "AltaLink C8135", true, 1200 } } },
	{ "HP", 11, "3c:d9:2b", "CNB", "2409%03d_000512",
	  "1.3.6.1.4.1.11.2.3.9.4.2.1.4.1.2.6.0", "1.3.6.1.4.1.11.2.3.9.4.2.1.4.1.2.7.0",
	  { { "LaserJet Pro M404dn", false, 150 }, { "Color LaserJet M554", true, 400 }, { "LaserJet E60155", false, 600 } } },
	{ "Ricoh", 367, "00:26:73", "C7", "1.%02d",
	  "1.3.6.1.4.1.367.3.2.1.2.19.5.1.9.2", "1.3.6.1.4.1.367.3.2.1.2.19.5.1.9.3",
	  { { "IM C3000", true, 700 }, { "SP 5300DN", false, 350 }, { "MP C2004ex", true, 500 } } },
	{ "Kyocera", 1347, "00:17:c8", "VCF", "2V9_S0IS.C%02d.003",
	  "1.3.6.1.4.1.1347.42.2.1.1.1.7.1", "1.3.6.1.4.1.1347.42.2.1.1.1.8.1",
	  { { "ECOSYS M2640idw", false, 120 }, { "TASKalfa 3253ci", true, 800 }, { "ECOSYS P3155dn", false, 250 } } },
	{ "Canon", 1602, "00:1e:8f", "XHK", "%d.10",
	  "1.3.6.1.4.1.1602.1.11.1.3.1.4.112", "1.3.6.1.4.1.1602.1.11.1.3.1.4.122",
	  { { "imageRUNNER ADVANCE C5535i", true, 1000 }, { "i-SENSYS LBP325x", false, 200 }, { "imageCLASS MF445dw", false, 80 } } },
	{ "Brother", 2435, "00:80:77", "E7", "Ver.%c",
	  "1.3.6.1.4.1.2435.2.3.9.4.2.1.5.5.10.0", "1.3.6.1.4.1.2435.2.3.9.4.2.1.5.5.10.0",
	  { { "HL-L6400DW", false, 150 }, { "MFC-L8900CDW", true, 200 }, { "HL-L2350DW", false, 40 } } },
	{ "Lexmark", 641, "00:21:b7", "5063", "CXTMM.%03d.024",
	  "1.3.6.1.4.1.641.6.4.2.2.1.6.1.1", "1.3.6.1.4.1.641.6.4.2.2.1.7.1.1",
	  { { "MS826de", false, 700 }, { "CX725", true, 500 }, { "MX622ade", false, 300 } } },
	{ "Konica Minolta", 18334, "00:20:6b", "A7PU", "GC7-%02d",
	  "1.3.6.1.4.1.18334.1.1.1.5.7.2.2.1.5.1.2", "1.3.6.1.4.1.18334.1.1.1.5.7.2.2.1.5.2.2",
	  { { "bizhub C300i", true, 900 }, { "bizhub 4750i", false, 400 }, { "bizhub C250i", true, 600 } } },
};
#define N_VENDORS (sizeof vendors / sizeof vendors[0])

static const char *const locations[] = {
	"Building A, floor 2, copy room", "HQ reception", "Warehouse office", "Finance 3.14",
	"Lab 1 – Größe Halle", "Sales open space", "Floor 5 east", "",
};

/* Strings a hostile or broken device could send. Some survive text_clean() unchanged (formula
 * prefixes, quotes, markup): the exports must defend against those themselves. */
static const char *const hostile[] = {
	"=HYPERLINK(\"http://x\",\"y\")",
	"+1",
	"-2",
	"@SUM(A1)",
	"\"quoted\", with, commas",
	"line one\r\nline two",
	"\ttab first",
	"\rcarriage first",
	"<script>alert(1)</script>",
	"\" onerror=\"x",
	"javascript:alert(1)",
	"\x1b[31mred\x1b[0m\x1b]0;title\x07",
	"it's <b>bold</b> & \"more\" 'single'",
	"=1+2",
	"-cmd|' /C calc'!A0",
	"Ünïcödé ✓ 日本語 – naïve",
	"</td></tr></table><img src=x onerror=alert(1)>",
	"';!--\"<XSS>=&{()}",
};
#define N_HOSTILE (sizeof hostile / sizeof hostile[0])

/* ---- one device ---- */

struct seed_options {
	const char *db;
	long devices;
	long days;
	long history_days; /* extra meter history before the saved days */
	bool hostile;
	uint64_t seed;
	int64_t end; /* UTC midnight of the last day */
};

struct supply_plan {
	int final_level; /* level on the last day (may be -1/-2/-3) */
	int decline;     /* units per day (history goes backwards from final_level) */
};

struct device_plan {
	struct device d;
	struct supply_plan plans[8];
	int64_t total, black, color; /* counters on day 0 */
	int64_t daily;
	bool color_model;
	bool excluded, unreachable, faulty;
	int64_t poll_minute;         /* minute of the day the poll happens */
};

static char *xstrdup(const char *s)
{
	char *p = strdup(s ? s : "");
	if (!p) {
		fprintf(stderr, "seed_store: out of memory\n");
		exit(1);
	}
	return p;
}

static char *xprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *xprintf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *p = NULL;
	if (vasprintf(&p, fmt, ap) < 0) {
		fprintf(stderr, "seed_store: out of memory\n");
		exit(1);
	}
	va_end(ap);
	return p;
}

/* A hostile string for field `field` of the k-th hostile device: cleaned as the collector would
 * store it for even k, raw (still holding CR/LF/tab/ESC) for odd k, with suffix appended. */
static char *hostile_text(long k, int field, const char *suffix)
{
	const char *payload = hostile[(size_t)(k + field) % N_HOSTILE];
	char *raw = xprintf("%s%s", payload, suffix ? suffix : "");
	if (k % 2 == 1)
		return raw;
	char *clean = text_clean(raw);
	free(raw);
	if (!clean) {
		fprintf(stderr, "seed_store: out of memory\n");
		exit(1);
	}
	/* A payload that cleans to nothing still needs to be a value. */
	if (!*clean) {
		free(clean);
		return xstrdup("(empty after cleaning)");
	}
	return clean;
}

static void add_meter(struct device *d, const char *name, const char *oid)
{
	struct meter *m = &d->meters[d->n_meters++];
	memset(m, 0, sizeof *m);
	m->name = xstrdup(name);
	m->unit = 7; /* impressions */
	m->oid = xstrdup(oid);
}

struct supply_kind {
	int type, klass, unit, max;
	const char *what;     /* description after the colour */
	const char *colorant; /* NULL: none */
};

static void add_supply(struct device_plan *p, const struct supply_kind *k, const char *desc,
		       struct rng *r)
{
	struct device *d = &p->d;
	struct supply *s = &d->supplies[d->n_supplies];
	struct supply_plan *plan = &p->plans[d->n_supplies];
	d->n_supplies++;
	memset(s, 0, sizeof *s);
	s->index = (int)d->n_supplies;
	s->type = k->type;
	s->klass = k->klass;
	s->unit = k->unit;
	s->max = k->max;
	s->description = xstrdup(desc);
	s->colorant = k->colorant ? xstrdup(k->colorant) : NULL;
	/* The last day's level: mostly fine, some low or empty, some special values. */
	int roll = (int)rng_range(r, 0, 99);
	if (roll < 4)
		plan->final_level = SUPPLY_VALUE_SOME_REMAINING;
	else if (roll < 6)
		plan->final_level = SUPPLY_VALUE_UNKNOWN;
	else if (roll < 7)
		plan->final_level = SUPPLY_VALUE_OTHER;
	else if (roll < 9)
		plan->final_level = 0;
	else if (roll < 20)
		plan->final_level = (int)rng_range(r, 1, k->max / 10);
	else
		plan->final_level = (int)rng_range(r, k->max / 10, k->max);
	plan->decline = (int)rng_range(r, 0, k->max / 60 + 1);
}

/* The level on day `back` days before the last one: higher in the past, and a replacement (full)
 * when it would pass the maximum. */
static int level_on(const struct supply *s, const struct supply_plan *plan, long back)
{
	if (plan->final_level < 0 || s->max <= 0)
		return plan->final_level;
	int64_t v = plan->final_level + (int64_t)plan->decline * back;
	if (s->klass == SUPPLY_CLASS_RECEPTACLE)
		v = plan->final_level - (int64_t)plan->decline * back; /* room left grows towards the past */
	v %= (int64_t)s->max + 1;
	if (v < 0)
		v += s->max + 1;
	return (int)v;
}

static const struct supply_kind kind_toner_black = { 21, SUPPLY_CLASS_CONSUMED, 19, 100, "Toner Cartridge", "black" };
static const struct supply_kind kind_toner_cyan = { 21, SUPPLY_CLASS_CONSUMED, 19, 100, "Toner Cartridge", "cyan" };
static const struct supply_kind kind_toner_magenta = { 21, SUPPLY_CLASS_CONSUMED, 19, 100, "Toner Cartridge", "magenta" };
static const struct supply_kind kind_toner_yellow = { 21, SUPPLY_CLASS_CONSUMED, 19, 100, "Toner Cartridge", "yellow" };
static const struct supply_kind kind_drum = { 9, SUPPLY_CLASS_CONSUMED, 7, 60000, "Imaging Drum", NULL };
static const struct supply_kind kind_waste = { 4, SUPPLY_CLASS_RECEPTACLE, 19, 100, "Waste Toner Container", NULL };

static void plan_device(struct device_plan *p, long i, const struct seed_options *o)
{
	memset(p, 0, sizeof *p);
	struct rng r = { mix(o->seed ^ mix((uint64_t)i + 1)) };
	const struct vendor *v = &vendors[(size_t)i % N_VENDORS];
	const struct model_info *m = &v->models[(size_t)(i / (long)N_VENDORS) % 3];
	struct device *d = &p->d;
	bool hostile_dev = o->hostile && i % 5 == 0;
	long k = i / 5; /* which hostile device this is */

	long host = i % 250 + 2, subnet = i / 250;
	d->address = xprintf("10.%ld.%ld.%ld", (subnet / 256) % 256, subnet % 256, host);
	d->port = 161;
	d->profile = xstrdup(i % 3 == 0 ? "v3-sha256" : "default");
	d->vendor = xstrdup(v->name);
	d->model = hostile_dev ? hostile_text(k, 0, NULL) : xstrdup(m->name);
	d->serial = hostile_dev ? hostile_text(k, 1, NULL) : NULL;
	if (d->serial) {
		/* Serials are unique per vendor: the index keeps them apart. */
		char *s = xprintf("%s-%ld", d->serial, i);
		free(d->serial);
		d->serial = s;
	} else {
		d->serial = xprintf("%s%07ld", v->serial_prefix, i + 1000);
	}
	d->mac = xprintf("%s:%02lx:%02lx:%02lx", v->oui, (i >> 16) & 0xff, (i >> 8) & 0xff, i & 0xff);
	if (hostile_dev) {
		d->firmware = hostile_text(k, 2, NULL);
	} else if (strchr(v->firmware_fmt, 'c')) {
		d->firmware = xprintf(v->firmware_fmt, (int)('A' + rng_range(&r, 0, 25)));
	} else {
		d->firmware = xprintf(v->firmware_fmt, (int)rng_range(&r, 1, 99));
	}
	d->sys_name = hostile_dev ? hostile_text(k, 3, NULL) : xprintf("PRN-%s-%05ld", v->serial_prefix, i);
	d->sys_descr = hostile_dev ? hostile_text(k, 4, NULL) : xprintf("%s %s; SN %s", v->name, m->name, d->serial);
	d->sys_object_id = xprintf("1.3.6.1.4.1.%d.1.%ld", v->enterprise, (i / (long)N_VENDORS) % 3 + 1);
	d->location = hostile_dev ? hostile_text(k, 5, NULL) : xstrdup(locations[rng_range(&r, 0, 7)]);
	d->uptime_ticks = rng_range(&r, 100, 400000000);
	d->status_device = 2;
	d->status_printer = rng_chance(&r, 20) ? 4 : 3;
	d->error_bits_known = true;

	p->color_model = m->color;
	p->daily = m->daily_pages / 2 + rng_range(&r, 0, m->daily_pages);
	p->total = rng_range(&r, 1000, 900000);
	p->color = p->color_model ? p->total / (int64_t)rng_range(&r, 2, 6) : 0;
	p->black = p->total - p->color;
	p->excluded = i % 17 == 3;
	p->unreachable = i % 23 == 5;
	p->faulty = i % 13 == 7;
	p->poll_minute = rng_range(&r, 0, 23 * 60);

	d->meters = calloc(3, sizeof *d->meters);
	d->supplies = calloc(8, sizeof *d->supplies);
	if (!d->meters || !d->supplies) {
		fprintf(stderr, "seed_store: out of memory\n");
		exit(1);
	}
	add_meter(d, "total", "1.3.6.1.2.1.43.10.2.1.4.1.1");
	add_meter(d, "black", v->black_oid);
	if (p->color_model)
		add_meter(d, "color", v->color_oid);

	const struct supply_kind *kinds[6];
	size_t nk = 0;
	kinds[nk++] = &kind_toner_black;
	if (p->color_model) {
		kinds[nk++] = &kind_toner_cyan;
		kinds[nk++] = &kind_toner_magenta;
		kinds[nk++] = &kind_toner_yellow;
	}
	kinds[nk++] = &kind_drum;
	kinds[nk++] = &kind_waste;
	for (size_t j = 0; j < nk; j++) {
		char *desc;
		if (hostile_dev)
			desc = hostile_text(k, 6 + (int)j, NULL);
		else if (kinds[j]->colorant)
			desc = xprintf("%c%s %s", kinds[j]->colorant[0] - 32, kinds[j]->colorant + 1, kinds[j]->what);
		else
			desc = xstrdup(kinds[j]->what);
		add_supply(p, kinds[j], desc, &r);
		free(desc);
	}
	if (hostile_dev && d->supplies[0].colorant) {
		free(d->supplies[0].colorant);
		d->supplies[0].colorant = hostile_text(k, 12, NULL);
	}
}

/* The alerts a device reports on the last day: faults, a low or empty supply, sometimes none. */
static int set_final_alerts(struct device_plan *p, long i, const struct seed_options *o, int64_t when)
{
	struct device *d = &p->d;
	bool hostile_dev = o->hostile && i % 5 == 0;
	struct alert a[4];
	size_t n = 0;
	memset(a, 0, sizeof a);
	if (p->faulty) {
		a[n] = (struct alert){ .index = 1, .severity = 3, .training = 3, .group = 13, .group_index = 1,
				       .location = 2, .code = 8, .time_ticks = d->uptime_ticks - 5000 };
		a[n].description = hostile_dev ? hostile_text(i / 5, 13, NULL) : xstrdup("Paper jam in tray 2");
		n++;
		d->error_bits = 1u << PRINTER_ERR_JAMMED;
		d->status_device = 3;
		d->status_printer = 1;
		if (i % 2 == 0) {
			a[n] = (struct alert){ .index = 2, .severity = 3, .training = 3, .group = 6,
					       .group_index = 1, .location = 0, .code = 3,
					       .time_ticks = d->uptime_ticks - 4000 };
			a[n].description = xstrdup("Front cover open");
			n++;
			d->error_bits |= 1u << PRINTER_ERR_DOOR_OPEN;
			d->status_device = 5;
		}
	}
	for (size_t j = 0; j < d->n_supplies && n < 4; j++) {
		const struct supply *s = &d->supplies[j];
		enum supply_state st = supply_state_of(s, 10);
		if (st != SUPPLY_LOW && st != SUPPLY_EMPTY && st != SUPPLY_FULL)
			continue;
		bool bad = st != SUPPLY_LOW;
		a[n] = (struct alert){ .index = (int)n + 10, .severity = bad ? 3 : 4, .training = 4,
				       .group = 11, .group_index = s->index, .location = 0,
				       .code = s->klass == SUPPLY_CLASS_RECEPTACLE ? 1107 : bad ? 1101 : 1104,
				       .time_ticks = d->uptime_ticks - 1000 };
		a[n].description = hostile_dev && j == 0 ? hostile_text(i / 5, 14, NULL)
				   : xprintf("%s %s", s->description, bad ? (st == SUPPLY_FULL ? "full" : "empty") : "low");
		n++;
		d->error_bits |= 1u << (bad ? PRINTER_ERR_NO_TONER : PRINTER_ERR_LOW_TONER);
	}
	if (n && d->status_device == 2)
		d->status_device = 3;
	if (hostile_dev) {
		free(d->panel_text);
		d->panel_text = hostile_text(i / 5, 15, NULL);
	} else if (n) {
		free(d->panel_text);
		d->panel_text = xprintf("%s | Press OK", a[0].description);
	}
	(void)when;
	for (size_t j = 0; j < d->n_alerts; j++)
		free(d->alerts[j].description);
	free(d->alerts);
	d->alerts = NULL;
	d->n_alerts = n;
	if (n) {
		d->alerts = malloc(n * sizeof *d->alerts);
		if (!d->alerts) {
			fprintf(stderr, "seed_store: out of memory\n");
			exit(1);
		}
		memcpy(d->alerts, a, n * sizeof *a);
	}
	return 0;
}

/* A mid-history alert that the last day clears (so the store holds cleared alerts too). */
static void set_passing_alert(struct device *d)
{
	for (size_t j = 0; j < d->n_alerts; j++)
		free(d->alerts[j].description);
	free(d->alerts);
	d->alerts = malloc(sizeof *d->alerts);
	if (!d->alerts) {
		fprintf(stderr, "seed_store: out of memory\n");
		exit(1);
	}
	d->n_alerts = 1;
	d->alerts[0] = (struct alert){ .index = 1, .severity = 4, .training = 3, .group = 8,
				       .group_index = 1, .location = 0, .code = 808, .time_ticks = 1000 };
	d->alerts[0].description = xstrdup("Tray 1 empty");
}

/* What the meter history before the saved days is extrapolated from: the first saved day. */
struct first_day {
	int64_t id;
	int64_t values[3]; /* total, black, color on the first saved day */
	int64_t daily;
	int64_t poll_minute;
	bool color;
};

struct seeder {
	struct store *st;
	const struct seed_options *o;
	long in_batch;
	long saves;
	struct first_day *first; /* per device when history_days > 0 */
};

static int batch_step(struct seeder *s, struct fc_error *err)
{
	if (++s->in_batch < BATCH)
		return 0;
	s->in_batch = 0;
	if (store_commit(s->st, err) < 0)
		return -1;
	return store_begin(s->st, err);
}

static int seed_device(struct seeder *s, long i, struct fc_error *err)
{
	const struct seed_options *o = s->o;
	struct device_plan p;
	plan_device(&p, i, o);
	struct device *d = &p.d;
	int64_t first_day = o->end - (int64_t)(o->days - 1) * DAY;
	d->first_seen = first_day + p.poll_minute * 60;
	int64_t total = p.total, black = p.black, color = p.color;
	struct rng r = { mix(o->seed ^ 0x5eedULL ^ mix((uint64_t)i)) };
	int64_t id = 0;
	int rc = -1;
	for (long day = 0; day < o->days; day++) {
		int64_t when = first_day + (int64_t)day * DAY + p.poll_minute * 60;
		long back = o->days - 1 - day;
		bool last = back == 0, middle = day == o->days / 2 && o->days > 2 && i % 7 == 1;
		/* Weekends print less. */
		int64_t wday = ((when / DAY) + 4) % 7; /* 1970-01-01 was a Thursday */
		int64_t pages = wday == 0 || wday == 6 ? p.daily / 10 : p.daily / 2 + rng_range(&r, 0, p.daily);
		int64_t c = p.color_model ? pages * (int64_t)rng_range(&r, 10, 40) / 100 : 0;
		total += pages;
		color += c;
		black += pages - c;
		int64_t values[3] = { total, black, color };
		for (size_t m = 0; m < d->n_meters; m++) {
			d->meters[m].value = values[m];
			d->meters[m].read_at = when;
			free(d->meters[m].raw);
			d->meters[m].raw = xprintf("%" PRId64, values[m]);
		}
		for (size_t j = 0; j < d->n_supplies; j++)
			d->supplies[j].level = level_on(&d->supplies[j], &p.plans[j], back);
		d->last_poll = when;
		d->last_poll_ok = when;
		d->last_seen = when;
		if (last)
			set_final_alerts(&p, i, o, when);
		else if (middle)
			set_passing_alert(d);
		if (store_device_save(s->st, d, !p.excluded, last || middle, &id, err) < 0)
			goto out;
		if (day == 0 && s->first)
			s->first[i] = (struct first_day){ id, { total, black, color }, p.daily, p.poll_minute,
							  p.color_model };
		s->saves++;
		if (batch_step(s, err) < 0)
			goto out;
	}
	if (p.unreachable &&
	    store_device_poll_failed(s->st, id, "no answer after 3 retries (timeout 1500 ms)", true,
				     o->end + p.poll_minute * 60 + 3600, err) < 0)
		goto out;
	rc = 0;
out:
	device_clear(d);
	return rc;
}

static int seed_syncs(struct seeder *s, struct fc_error *err)
{
	const struct seed_options *o = s->o;
	long n = o->days < 30 ? o->days : 30;
	struct rng r = { mix(o->seed ^ 0x5ccULL) };
	for (long j = n - 1; j >= 0; j--) {
		int64_t when = o->end - (int64_t)j * DAY + 2 * 3600 + 5;
		char key[UUID_STR_LEN];
		snprintf(key, sizeof key, "%08" PRIx64 "-%04x-4%03x-8%03x-%012" PRIx64,
			 (uint64_t)(rng_next(&r) & 0xffffffffU), (unsigned)(rng_next(&r) & 0xffff),
			 (unsigned)(rng_next(&r) & 0xfff), (unsigned)(rng_next(&r) & 0xfff),
			 (uint64_t)(rng_next(&r) & 0xffffffffffffU));
		const char *trigger = j % 9 == 4 ? "manual" : j % 7 == 3 ? "retry" : "scheduled";
		const char *result = "ok";
		const char *error = NULL;
		int http = 200;
		char *hostile_error = NULL;
		if (j % 7 == 2) {
			result = "failed";
			http = 0;
			error = "could not connect to the server: Connection refused";
		} else if (j % 11 == 5) {
			result = "rejected";
			http = 422;
			if (o->hostile)
				error = hostile_error = hostile_text(j, 0, " (server said)");
			else
				error = "the server rejected the report: schema version";
		}
		int64_t id;
		int devices = (int)(o->devices - o->devices / 17);
		int64_t bytes = strcmp(result, "ok") == 0 ? 900 + (int64_t)devices * 310 : 0;
		int rc = store_sync_start(s->st, trigger, key, when, &id, err);
		if (rc == 0)
			rc = store_sync_finish(s->st, id, result, http, bytes, strcmp(result, "ok") ? 0 : devices,
					       error, when + 3 + (int64_t)rng_range(&r, 0, 20), err);
		free(hostile_error);
		if (rc < 0)
			return -1;
	}
	return 0;
}

/* The meter history of the history_days before the first saved day, going back from it at the
 * device's daily volume, straight into the table (rows in primary-key order: device, name, day). */
static int seed_history(const struct seeder *s)
{
	const struct seed_options *o = s->o;
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_open_v2(o->db, &db, SQLITE_OPEN_READWRITE, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(db, "PRAGMA synchronous = OFF; PRAGMA cache_size = -65536; BEGIN", NULL, NULL, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(db, "INSERT OR IGNORE INTO meter_history(device_id, name, day, value, read_at) "
					"VALUES (?1, ?2, ?3, ?4, ?5)", -1, &st, NULL);
	int64_t first_day = o->end - (int64_t)(o->days - 1) * DAY;
	/* names in key order, with the index of their value in first_day.values */
	static const char *const names[3] = { "black", "color", "total" };
	static const int which[3] = { 1, 2, 0 };
	for (long i = 0; rc == SQLITE_OK && i < o->devices; i++) {
		const struct first_day *f = &s->first[i];
		for (int m = 0; rc == SQLITE_OK && m < 3; m++) {
			if (m == 1 && !f->color)
				continue;
			int64_t v0 = f->values[which[m]];
			int64_t per_day = which[m] == 0 ? f->daily : which[m] == 2 ? f->daily / 4 : f->daily - f->daily / 4;
			if (!f->color && which[m] == 1)
				per_day = f->daily;
			for (long back = o->history_days; rc == SQLITE_OK && back >= 1; back--) {
				int64_t when = first_day - (int64_t)back * DAY + f->poll_minute * 60;
				time_t t = (time_t)when;
				struct tm tm;
				char day[16];
				gmtime_r(&t, &tm);
				strftime(day, sizeof day, "%Y-%m-%d", &tm);
				int64_t v = v0 - per_day * back;
				sqlite3_bind_int64(st, 1, f->id);
				sqlite3_bind_text(st, 2, names[m], -1, SQLITE_STATIC);
				sqlite3_bind_text(st, 3, day, -1, SQLITE_TRANSIENT);
				sqlite3_bind_int64(st, 4, v > 0 ? v : 0);
				sqlite3_bind_int64(st, 5, when);
				rc = sqlite3_step(st);
				if (rc == SQLITE_DONE)
					rc = SQLITE_OK;
				sqlite3_reset(st);
			}
		}
	}
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	if (rc != SQLITE_OK)
		fprintf(stderr, "seed_store: meter history: %s\n", db ? sqlite3_errmsg(db) : "out of memory");
	sqlite3_finalize(st);
	sqlite3_close(db);
	return rc == SQLITE_OK ? 0 : -1;
}

static void usage(FILE *out)
{
	fprintf(out, "usage: seed_store --db PATH --devices N [--days D] [--hostile] [--seed S] "
		     "[--end YYYY-MM-DD] [--meter-history-days H]\n");
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "devices", required_argument, NULL, 'n' },
		{ "days", required_argument, NULL, 'D' },
		{ "hostile", no_argument, NULL, 'H' },
		{ "seed", required_argument, NULL, 's' },
		{ "end", required_argument, NULL, 'e' },
		{ "meter-history-days", required_argument, NULL, 'M' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct seed_options o = { .days = 30, .seed = 1, .devices = -1 };
	const char *end_text = NULL;
	int opt;
	while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		char *rest = NULL;
		switch (opt) {
		case 'd':
			o.db = optarg;
			break;
		case 'n':
			o.devices = strtol(optarg, &rest, 10);
			if (*rest || o.devices < 0 || o.devices > 1000000) {
				fprintf(stderr, "seed_store: --devices wants 0..1000000\n");
				return 2;
			}
			break;
		case 'D':
			o.days = strtol(optarg, &rest, 10);
			if (*rest || o.days < 1 || o.days > 3660) {
				fprintf(stderr, "seed_store: --days wants 1..3660\n");
				return 2;
			}
			break;
		case 'M':
			o.history_days = strtol(optarg, &rest, 10);
			if (*rest || o.history_days < 0 || o.history_days > 3660) {
				fprintf(stderr, "seed_store: --meter-history-days wants 0..3660\n");
				return 2;
			}
			break;
		case 'H':
			o.hostile = true;
			break;
		case 's':
			o.seed = strtoull(optarg, &rest, 10);
			if (*rest) {
				fprintf(stderr, "seed_store: --seed wants a number\n");
				return 2;
			}
			break;
		case 'e':
			end_text = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (!o.db || o.devices < 0 || optind != argc) {
		usage(stderr);
		return 2;
	}
	if (end_text) {
		if (clock_parse_utc(end_text, &o.end) < 0) {
			fprintf(stderr, "seed_store: --end wants YYYY-MM-DD\n");
			return 2;
		}
	} else {
		o.end = clock_now() - DAY; /* yesterday: every poll of the last day is in the past */
	}
	o.end -= o.end % DAY;

	struct fc_error err = { { 0 } };
	struct seeder s = { .o = &o };
	if (store_open(o.db, 0, &s.st, &err) < 0) {
		fprintf(stderr, "seed_store: %s\n", err.msg);
		return 1;
	}
	int64_t t0 = clock_mono_ms();
	if (o.history_days && !(s.first = calloc((size_t)o.devices + 1, sizeof *s.first))) {
		fprintf(stderr, "seed_store: out of memory\n");
		store_close(&s.st);
		return 1;
	}
	int rc = store_begin(s.st, &err);
	for (long i = 0; rc == 0 && i < o.devices; i++)
		rc = seed_device(&s, i, &err);
	if (rc == 0)
		rc = seed_syncs(&s, &err);
	if (rc == 0)
		rc = store_commit(s.st, &err);
	else
		store_rollback(s.st);
	if (rc < 0) {
		fprintf(stderr, "seed_store: %s\n", err.msg);
		store_close(&s.st);
		free(s.first);
		return 1;
	}
	long history_rows = 0;
	if (o.history_days) {
		store_close(&s.st);
		if (seed_history(&s) < 0 || store_open(o.db, 0, &s.st, &err) < 0) {
			if (err.msg[0])
				fprintf(stderr, "seed_store: %s\n", err.msg);
			free(s.first);
			return 1;
		}
		for (long i = 0; i < o.devices; i++)
			history_rows += (s.first[i].color ? 3 : 2) * o.history_days;
		free(s.first);
	}
	int64_t ms = clock_mono_ms() - t0;
	printf("seeded %ld devices x %ld days (%ld saves, %ld more meter history rows) into %s in %.1f s "
	       "(%.0f saves/s), %.1f MB\n",
	       o.devices, o.days, s.saves, history_rows, o.db, ms / 1000.0, ms ? s.saves * 1000.0 / ms : 0.0,
	       store_file_size(s.st) / 1e6);
	store_close(&s.st);
	return 0;
}
