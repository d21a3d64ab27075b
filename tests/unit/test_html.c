/* Unit tests of the HTML export: escaping (the five characters, controls, C1, invalid UTF-8,
 * noncharacters, UTF-8 kept), the report from a real store (structure, hostile strings only as
 * text, special supply levels as words), and export_write(): atomic files and folders, --force,
 * a missing folder, standard output, a full disk. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "exports/export.h"
#include "exports/html.h"
#include "model/config.h"
#include "model/store.h"
#include "tests/unit/lib/tmpdir.h"

static void check_escape(const char *in, const char *want)
{
	char *got = html_escape(in);
	assert_non_null(got);
	assert_string_equal(got, want);
	free(got);
}

static void test_escape_markup(void **state)
{
	(void)state;
	check_escape("plain text 123", "plain text 123");
	check_escape("", "");
	check_escape(NULL, "");
	check_escape("<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;");
	check_escape("\" onerror=\"x", "&quot; onerror=&quot;x");
	check_escape("it's & <b>", "it&#39;s &amp; &lt;b&gt;");
	check_escape("&amp;", "&amp;amp;");
	check_escape("javascript:alert(1)", "javascript:alert(1)"); /* text, never a URL */
}

static void test_escape_controls_and_encoding(void **state)
{
	(void)state;
	check_escape("a\x1b[31mred", "a[31mred");        /* ESC dropped, the rest is text */
	check_escape("tab\tcr\rlf\n", "tab\tcr\rlf\n");   /* allowed whitespace stays */
	check_escape("bell\a del\x7f nul-free", "bell del nul-free");
	check_escape("c1 \xC2\x9B x", "c1  x");           /* U+009B (8-bit CSI) dropped */
	check_escape("bad \xFF byte", "bad \xEF\xBF\xBD byte");
	check_escape("cut \xE2\x80", "cut \xEF\xBF\xBD\xEF\xBF\xBD");
	check_escape("overlong \xC0\xAF", "overlong \xEF\xBF\xBD\xEF\xBF\xBD");
	check_escape("surrogate \xED\xA0\x80", "surrogate \xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
	check_escape("nonchar \xEF\xBF\xBF", "nonchar \xEF\xBF\xBD");
	check_escape("Größe – 日本語 ✓ 😀", "Größe – 日本語 ✓ 😀");
}

/* ---- the report from a real store ---- */

struct fixture {
	char *dir;
	char *path;
	struct store *s;
	struct config *cfg;
};

static char *xdup(const char *s)
{
	return strdup(s);
}

static void fill(struct store *s)
{
	struct fc_error err = { { 0 } };
	struct device d = { 0 };
	d.address = xdup("10.0.0.7");
	d.port = 161;
	d.vendor = xdup("<b>Vendor</b>");
	d.model = xdup("<script>alert(1)</script>");
	d.serial = xdup("\" onerror=\"x");
	d.location = xdup("javascript:alert(1)");
	d.firmware = xdup("</td></tr></table><img src=x onerror=alert(1)>");
	d.sys_name = xdup("it's & more");
	d.status_device = 2;
	d.status_printer = 3;
	d.error_bits_known = true;
	d.n_meters = 1;
	d.meters = calloc(1, sizeof *d.meters);
	d.meters[0].name = xdup("total");
	d.meters[0].value = 1234567;
	d.meters[0].unit = 7;
	d.meters[0].oid = xdup("1.3.6.1.2.1.43.10.2.1.4.1.1");
	d.n_supplies = 3;
	d.supplies = calloc(3, sizeof *d.supplies);
	d.supplies[0] = (struct supply){ .index = 1, .type = 21, .klass = 3, .unit = 19, .max = 100,
					 .level = -3, .description = xdup("Black <toner>") };
	d.supplies[1] = (struct supply){ .index = 2, .type = 21, .klass = 3, .unit = 19, .max = 100,
					 .level = -2, .description = xdup("Cyan toner") };
	d.supplies[2] = (struct supply){ .index = 3, .type = 9, .klass = 3, .unit = 19, .max = 100,
					 .level = 7, .description = xdup("Drum") };
	d.n_alerts = 1;
	d.alerts = calloc(1, sizeof *d.alerts);
	d.alerts[0] = (struct alert){ .index = 1, .severity = 3, .group = 13, .code = 8,
				      .description = xdup("<img src=x onerror=alert(1)>") };
	d.last_poll = 1700000000;
	assert_int_equal(store_device_save(s, &d, true, true, NULL, &err), 0);
	d.meters[0].value = 1240000;
	d.last_poll += 40 * 86400; /* a second month of history */
	assert_int_equal(store_device_save(s, &d, true, true, NULL, &err), 0);
	device_clear(&d);

	int64_t id;
	assert_int_equal(store_sync_start(s, "scheduled", "k1", 1700000100, &id, &err), 0);
	assert_int_equal(store_sync_finish(s, id, "ok", 200, 4321, 1, NULL, 1700000105, &err), 0);
	assert_int_equal(store_sync_start(s, "manual", "k2", 1700100100, &id, &err), 0);
	assert_int_equal(store_sync_finish(s, id, "rejected", 422, 0, 0, "<i>server</i> said no", 1700100105, &err), 0);
}

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
	fill(f->s);
	f->cfg = config_parse_string("[site]\nname = Site <A> & \"B\"\n[sync]\ntime = 02:30\n", "test", &err);
	if (!f->cfg) {
		fprintf(stderr, "%s\n", err.msg);
		return -1;
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	store_close(&f->s);
	config_free(&f->cfg);
	test_tmpdir_remove(&f->dir);
	free(f->path);
	free(f);
	return 0;
}

static char *report(struct fixture *f, int64_t since)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);
	assert_non_null(fp);
	struct export_options o;
	export_options_init(&o);
	o.since = since;
	o.now = 1700500000;
	struct fc_error err = { { 0 } };
	int rc = html_write_report(fp, f->s, f->cfg, &o, &err);
	assert_int_equal(fclose(fp), 0);
	if (rc != 0)
		fail_msg("%s", err.msg);
	return buf;
}

static size_t count(const char *hay, const char *needle)
{
	size_t n = 0;
	for (const char *p = hay; (p = strstr(p, needle)) != NULL; p += strlen(needle))
		n++;
	return n;
}

static void test_report_structure(void **state)
{
	struct fixture *f = *state;
	char *html = report(f, 0);
	assert_true(strncmp(html, "<!DOCTYPE html>\n<html lang=\"en\">", 32) == 0);
	assert_non_null(strstr(html, "<meta charset=\"utf-8\">"));
	assert_non_null(strstr(html, "@media print"));
	const char *sections[] = { "id=\"summary\"", "id=\"counts\"", "id=\"sync\"", "id=\"devices\"",
				   "id=\"details\"", "id=\"syncs\"", "<footer>" };
	for (size_t i = 0; i < sizeof sections / sizeof sections[0]; i++)
		assert_non_null(strstr(html, sections[i]));
	/* The site name from the configuration is escaped, in the title too. */
	assert_non_null(strstr(html, "<title>Print fleet audit report – Site &lt;A&gt; &amp; &quot;B&quot;</title>"));
	/* Numbers, history by month, sync history with the server's words escaped. */
	assert_non_null(strstr(html, "1,240,000"));
	assert_non_null(strstr(html, "<td>2023-11</td>"));
	assert_non_null(strstr(html, "<td>2023-12</td>"));
	assert_non_null(strstr(html, "&lt;i&gt;server&lt;/i&gt; said no"));
	assert_non_null(strstr(html, "02:30 local time, every day"));
	/* No external resources, no script of our own. */
	assert_null(strstr(html, "<script"));
	assert_null(strstr(html, "src=\""));
	assert_null(strstr(html, "http://"));
	assert_null(strstr(html, "https://"));
	free(html);
}

static void test_hostile_strings_are_text(void **state)
{
	struct fixture *f = *state;
	char *html = report(f, 0);
	assert_null(strstr(html, "<script"));
	assert_null(strstr(html, "<img"));
	assert_null(strstr(html, "onerror=\""));
	assert_null(strstr(html, "<b>Vendor"));
	assert_non_null(strstr(html, "&lt;script&gt;alert(1)&lt;/script&gt;"));
	assert_non_null(strstr(html, "&quot; onerror=&quot;x"));
	assert_non_null(strstr(html, "&lt;/td&gt;&lt;/tr&gt;&lt;/table&gt;&lt;img src=x onerror=alert(1)&gt;"));
	assert_non_null(strstr(html, "it&#39;s &amp; more"));
	/* The location is text in a <dd>, never an href. */
	assert_non_null(strstr(html, "<dd>javascript:alert(1)</dd>"));
	assert_null(strstr(html, "href=\"javascript"));
	/* Every href is an anchor in the page. */
	for (const char *p = html; (p = strstr(p, "href=\"")) != NULL; p += 6)
		assert_int_equal(p[6], '#');
	free(html);
}

static void test_special_levels_are_words(void **state)
{
	struct fixture *f = *state;
	char *html = report(f, 0);
	assert_non_null(strstr(html, "some-remaining"));
	assert_non_null(strstr(html, ">unknown<"));
	assert_non_null(strstr(html, "7 % low"));
	/* (a bare "-3" may be in the agent's UUID) */
	const char *numbers[] = { ">-3", "-3 %", "-3<", "(-3", ">-2", "-2 %", "-2<", "(-2", "-1 %" };
	for (size_t i = 0; i < sizeof numbers / sizeof numbers[0]; i++)
		assert_null(strstr(html, numbers[i]));
	/* Two gauges without a level, one with a bar. */
	assert_int_equal(count(html, "class=\"bar nolevel\""), 2);
	assert_int_equal(count(html, "style=\"width:7%\""), 1);
	free(html);
}

static void test_since_limits_history(void **state)
{
	struct fixture *f = *state;
	char *html = report(f, 1700000000 + 86400);
	assert_null(strstr(html, "<td>2023-11</td>"));
	assert_non_null(strstr(html, "<td>2023-12</td>"));
	assert_null(strstr(html, ">scheduled<"));
	assert_non_null(strstr(html, ">manual<"));
	free(html);
}

/* ---- export_write ---- */

static char *slurp(const char *path)
{
	FILE *fp = fopen(path, "rb");
	if (!fp)
		return NULL;
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);
	char chunk[4096];
	size_t n;
	while ((n = fread(chunk, 1, sizeof chunk, fp)) > 0)
		fwrite(chunk, 1, n, out);
	fclose(fp);
	fclose(out);
	return buf;
}

/* The names in dir, joined with spaces and sorted by readdir order (for "nothing left" checks). */
static int entries(const char *dir)
{
	DIR *d = opendir(dir);
	assert_non_null(d);
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

static int write_export(struct fixture *f, enum export_format fmt, const char *out, bool force,
			struct fc_error *err)
{
	struct export_options o;
	export_options_init(&o);
	o.format = fmt;
	o.output = out;
	o.force = force;
	return export_write(f->s, f->cfg, &o, err);
}

static void test_write_file_atomically(void **state)
{
	struct fixture *f = *state;
	char *sub, *out;
	assert_true(asprintf(&sub, "%s/reports", f->dir) > 0);
	assert_int_equal(mkdir(sub, 0755), 0);
	assert_true(asprintf(&out, "%s/report.html", sub) > 0);
	struct fc_error err = { { 0 } };

	assert_int_equal(write_export(f, EXPORT_HTML, out, false, &err), 0);
	char *html = slurp(out);
	assert_non_null(html);
	assert_non_null(strstr(html, "</html>\n"));
	free(html);
	assert_int_equal(entries(sub), 1); /* no temporary file left */

	/* Existing file: refused without force, untouched. */
	FILE *fp = fopen(out, "w");
	fputs("keep me", fp);
	fclose(fp);
	assert_int_equal(write_export(f, EXPORT_HTML, out, false, &err), EXPORT_REFUSED);
	assert_non_null(strstr(err.msg, "exists; use --force to replace it"));
	html = slurp(out);
	assert_string_equal(html, "keep me");
	free(html);
	assert_int_equal(entries(sub), 1);

	/* With force: replaced. */
	assert_int_equal(write_export(f, EXPORT_HTML, out, true, &err), 0);
	html = slurp(out);
	assert_non_null(strstr(html, "<!DOCTYPE html>"));
	free(html);
	assert_int_equal(entries(sub), 1);

	/* A missing folder is a clear error and makes nothing. */
	char *missing;
	assert_true(asprintf(&missing, "%s/nope/report.html", f->dir) > 0);
	assert_int_equal(write_export(f, EXPORT_HTML, missing, true, &err), -1);
	assert_non_null(strstr(err.msg, "does not exist"));
	free(missing);
	free(out);
	free(sub);
}

static void test_write_csv_folder(void **state)
{
	struct fixture *f = *state;
	char *out;
	assert_true(asprintf(&out, "%s/csv", f->dir) > 0);
	struct fc_error err = { { 0 } };
	assert_int_equal(write_export(f, EXPORT_CSV, out, false, &err), 0);
	assert_int_equal(entries(out), 5);
	const char *names[] = { "devices", "meters", "supplies", "alerts", "syncs" };
	for (size_t i = 0; i < 5; i++) {
		char *p;
		assert_true(asprintf(&p, "%s/%s.csv", out, names[i]) > 0);
		char *csv = slurp(p);
		assert_non_null(csv);
		assert_non_null(strstr(csv, "\r\n"));
		free(csv);
		free(p);
	}
	int before = entries(f->dir);

	/* Existing folder: refused without force; replaced with it; nothing else left behind. */
	assert_int_equal(write_export(f, EXPORT_CSV, out, false, &err), EXPORT_REFUSED);
	assert_non_null(strstr(err.msg, "exists; use --force to replace it"));
	assert_int_equal(write_export(f, EXPORT_CSV, out, true, &err), 0);
	assert_int_equal(entries(out), 5);
	assert_int_equal(entries(f->dir), before);

	/* A folder holding anything else is never replaced. */
	free(test_write_file(out, "notes.txt", "mine", 0644));
	assert_int_equal(write_export(f, EXPORT_CSV, out, true, &err), -1);
	assert_non_null(strstr(err.msg, "other files"));
	assert_int_equal(entries(out), 6);
	assert_int_equal(entries(f->dir), before);
	free(out);
}

static void test_write_to_stream(void **state)
{
	struct fixture *f = *state;
	char *buf = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);
	struct export_options o;
	export_options_init(&o);
	o.format = EXPORT_CSV;
	o.output = "-";
	o.stream = fp;
	o.one_table = true;
	o.table = EXPORT_TABLE_SYNCS;
	struct fc_error err = { { 0 } };
	assert_int_equal(export_write(f->s, f->cfg, &o, &err), 0);
	fclose(fp);
	assert_true(strncmp(buf, "id,started_at,", 14) == 0);
	assert_non_null(strstr(buf, ",manual,rejected,422,"));
	free(buf);

	/* A full disk while writing the stream is an error. */
	FILE *full = fopen("/dev/full", "w");
	if (!full)
		return;
	o.stream = full;
	o.format = EXPORT_HTML;
	o.one_table = false;
	assert_int_equal(export_write(f->s, f->cfg, &o, &err), -1);
	assert_non_null(strstr(err.msg, "No space left on device"));
	fclose(full);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escape_markup),
		cmocka_unit_test(test_escape_controls_and_encoding),
		cmocka_unit_test_setup_teardown(test_report_structure, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hostile_strings_are_text, setup, teardown),
		cmocka_unit_test_setup_teardown(test_special_levels_are_words, setup, teardown),
		cmocka_unit_test_setup_teardown(test_since_limits_history, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_file_atomically, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_csv_folder, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_to_stream, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
