/* `fleetcon export`: parses the options into struct export_options, opens the database read-only
 * and calls export_write(), the same code the console's export dialog uses. */
#include "exports/commands.h"

#include <dirent.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "exports/export.h"
#include "model/clock.h"
#include "model/config.h"
#include "model/store.h"

static void usage(FILE *out)
{
	fprintf(out,
		"usage: fleetcon " EXPORT_USAGE "\n"
		"\n"
		"  --format html|csv        html: one self-contained report file; csv: a folder with\n"
		"                           devices.csv, meters.csv, supplies.csv, alerts.csv, syncs.csv\n"
		"  --output PATH            the file (html) or folder (csv) to write; '-' writes to\n"
		"                           standard output (csv: one table, --table devices by default)\n"
		"  --since DATE             meter and sync history from DATE on (YYYY-MM-DD, UTC)\n"
		"  --devices included|all   which devices (default: included)\n"
		"  --table NAME             csv: only this table (devices, meters, supplies, alerts, syncs)\n"
		"                           into the file PATH\n"
		"  --force                  replace an existing file or export folder\n"
		"\n"
		"The output appears complete or not at all. Columns: docs/exports.md.\n");
}

/* Bytes written at path: the file's size, or the sum of a folder's files. */
static long long output_bytes(const char *path)
{
	struct stat st;
	if (stat(path, &st) != 0)
		return -1;
	if (!S_ISDIR(st.st_mode))
		return (long long)st.st_size;
	long long total = 0;
	DIR *d = opendir(path);
	if (!d)
		return -1;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		char p[4096];
		if (e->d_name[0] == '.' || snprintf(p, sizeof p, "%s/%s", path, e->d_name) >= (int)sizeof p)
			continue;
		if (stat(p, &st) == 0 && S_ISREG(st.st_mode))
			total += (long long)st.st_size;
	}
	closedir(d);
	return total;
}

int export_main(struct fc_context *ctx, int argc, char **argv)
{
	enum { OPT_FORMAT = 256, OPT_OUTPUT, OPT_SINCE, OPT_DEVICES, OPT_TABLE, OPT_FORCE, OPT_HELP };
	static const struct option options[] = {
		{ "format", required_argument, NULL, OPT_FORMAT },
		{ "output", required_argument, NULL, OPT_OUTPUT },
		{ "since", required_argument, NULL, OPT_SINCE },
		{ "devices", required_argument, NULL, OPT_DEVICES },
		{ "table", required_argument, NULL, OPT_TABLE },
		{ "force", no_argument, NULL, OPT_FORCE },
		{ "help", no_argument, NULL, OPT_HELP },
		{ NULL, 0, NULL, 0 },
	};
	struct export_options o;
	export_options_init(&o);
	bool have_format = false;
	int opt;
	optind = 0;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
		switch (opt) {
		case OPT_FORMAT:
			if (export_format_parse(optarg, &o.format) < 0) {
				fprintf(ctx->err, "%s: export: unknown format \"%s\" (html or csv)\n", ctx->argv0, optarg);
				return EXIT_USAGE;
			}
			have_format = true;
			break;
		case OPT_OUTPUT:
			o.output = optarg;
			break;
		case OPT_SINCE:
			if (clock_parse_utc(optarg, &o.since) < 0) {
				fprintf(ctx->err, "%s: export: --since wants a date YYYY-MM-DD (UTC), not \"%s\"\n",
					ctx->argv0, optarg);
				return EXIT_USAGE;
			}
			break;
		case OPT_DEVICES:
			if (strcmp(optarg, "included") == 0) {
				o.devices = STORE_DEVICES_INCLUDED;
			} else if (strcmp(optarg, "all") == 0) {
				o.devices = STORE_DEVICES_ALL;
			} else {
				fprintf(ctx->err, "%s: export: --devices wants included or all, not \"%s\"\n",
					ctx->argv0, optarg);
				return EXIT_USAGE;
			}
			break;
		case OPT_TABLE:
			if (export_table_parse(optarg, &o.table) < 0) {
				fprintf(ctx->err, "%s: export: unknown table \"%s\" (devices, meters, supplies, "
					"alerts or syncs)\n", ctx->argv0, optarg);
				return EXIT_USAGE;
			}
			o.one_table = true;
			break;
		case OPT_FORCE:
			o.force = true;
			break;
		case OPT_HELP:
			usage(ctx->out);
			return EXIT_OK;
		default:
			fprintf(ctx->err, "%s: export: unknown or incomplete option \"%s\"\n", ctx->argv0,
				argv[optind - 1]);
			fprintf(ctx->err, "usage: %s " EXPORT_USAGE "\n", ctx->argv0);
			return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(ctx->err, "%s: export: unexpected argument \"%s\"\n", ctx->argv0, argv[optind]);
		return EXIT_USAGE;
	}
	if (!have_format || !o.output || !*o.output) {
		fprintf(ctx->err, "%s: export: --format and --output are required\n", ctx->argv0);
		fprintf(ctx->err, "usage: %s " EXPORT_USAGE "\n", ctx->argv0);
		return EXIT_USAGE;
	}
	if (o.format == EXPORT_HTML && o.one_table) {
		fprintf(ctx->err, "%s: export: --table is for --format csv\n", ctx->argv0);
		return EXIT_USAGE;
	}
	bool to_stdout = strcmp(o.output, "-") == 0;
	if (to_stdout) {
		o.one_table = o.format == EXPORT_CSV;
		o.stream = ctx->out;
	}

	struct stat st;
	/* An export never makes a database: a missing one is an error, not an empty report. */
	if (stat(ctx->cfg->database.path, &st) != 0) {
		fprintf(ctx->err, "%s: export: no database at %s (%m): check [database] path or --db\n",
			ctx->argv0, ctx->cfg->database.path);
		return EXIT_FAILED;
	}
	/* Opened read-write only so that a database of an older schema is migrated as by any other
	 * command; the export itself only reads. The integrity check is left out because it reads
	 * every page (seconds on a large database); a damaged page still stops the export with an
	 * error, and then no output is written. */
	struct store *s = NULL;
	if (context_open_store(ctx, STORE_NO_CHECK, &s) < 0)
		return EXIT_FAILED;
	struct fc_error err = { { 0 } };
	int64_t t0 = clock_mono_ms();
	int rc = export_write(s, ctx->cfg, &o, &err);
	store_close(&s);
	if (rc < 0) {
		fprintf(ctx->err, "%s: export: %s\n", ctx->argv0, err.msg);
		/* an output that is there already, or of the wrong kind, is refused as asked: the
		 * command line decides (--force, another path); one that cannot be written failed */
		return rc == EXPORT_REFUSED ? EXIT_USAGE : EXIT_FAILED;
	}
	if (!to_stdout) {
		long long bytes = output_bytes(o.output);
		fprintf(ctx->err, "%s: wrote %s (%s%s%s, %.1f MB) in %.1f s\n", ctx->argv0, o.output,
			export_format_name(o.format), o.one_table ? ", table " : "",
			o.one_table ? export_table_name(o.table) : "", bytes > 0 ? (double)bytes / 1e6 : 0.0,
			(double)(clock_mono_ms() - t0) / 1000.0);
	}
	return EXIT_OK;
}
