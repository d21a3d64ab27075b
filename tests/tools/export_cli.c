/* export_cli: runs `fleetcon export` (exports/commands.h) the way fleetcon's main() would, for the
 * tests to use before and independently of the command table in fleetcon.c:
 *   export_cli [--config FILE] [--db FILE] export ARGS... */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "exports/commands.h"
#include "model/config.h"
#include "model/context.h"
#include "model/error.h"

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "db", required_argument, NULL, 'd' },
		{ NULL, 0, NULL, 0 },
	};
	const char *config_path = NULL, *db = NULL;
	int opt;
	while ((opt = getopt_long(argc, argv, "+c:", options, NULL)) != -1) {
		if (opt == 'c')
			config_path = optarg;
		else if (opt == 'd')
			db = optarg;
		else
			return EXIT_USAGE;
	}
	if (optind >= argc || strcmp(argv[optind], "export") != 0) {
		fprintf(stderr, "usage: export_cli [--config FILE] [--db FILE] export ARGS...\n");
		return EXIT_USAGE;
	}
	struct fc_error err = { { 0 } };
	struct config *cfg = config_load(config_path, &err);
	if (!cfg) {
		fprintf(stderr, "export_cli: %s\n", err.msg);
		return EXIT_USAGE;
	}
	if (db && config_set(cfg, "database", "path", db, "--db", &err) < 0) {
		fprintf(stderr, "export_cli: --db: %s\n", err.msg);
		config_free(&cfg);
		return EXIT_USAGE;
	}
	struct fc_context ctx = { .cfg = cfg, .config_path = config_path, .out = stdout, .err = stderr,
				  .argv0 = "fleetcon" };
	int rc = export_main(&ctx, argc - optind, argv + optind);
	if (fflush(stdout) != 0 && rc == EXIT_OK)
		rc = EXIT_FAILED;
	config_free(&cfg);
	return rc;
}
