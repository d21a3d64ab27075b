/* uplink_cli: runs the uplink's subcommands (report, upload, status) the way fleetcon's main()
 * does, for the integration tests and the benchmark when the fleetcon binary at hand does not
 * list them yet. Same global options and exit codes:
 *
 *   uplink_cli [--config FILE] [--db FILE] report|upload|status [ARGS]
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "model/config.h"
#include "model/context.h"
#include "model/error.h"
#include "uplink/commands.h"
#include "uplink/transport.h"

static const struct {
	const char *name;
	fc_command_fn run;
} commands[] = {
	{ "report", report_main },
	{ "upload", upload_main },
	{ "status", status_main },
};

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "db", required_argument, NULL, 'd' },
		{ NULL, 0, NULL, 0 },
	};
	const char *config_path = NULL, *db_path = NULL;
	int opt;
	while ((opt = getopt_long(argc, argv, "+c:", options, NULL)) != -1) {
		switch (opt) {
		case 'c': config_path = optarg; break;
		case 'd': db_path = optarg; break;
		default: return EXIT_USAGE;
		}
	}
	fc_command_fn run = NULL;
	for (size_t i = 0; optind < argc && i < sizeof commands / sizeof commands[0]; i++)
		if (strcmp(commands[i].name, argv[optind]) == 0)
			run = commands[i].run;
	if (!run) {
		fprintf(stderr, "usage: uplink_cli [--config FILE] [--db FILE] report|upload|status [ARGS]\n");
		return EXIT_USAGE;
	}
	struct fc_error err = { { 0 } };
	if (transport_global_init(&err) < 0) {
		fprintf(stderr, "uplink_cli: %s\n", err.msg);
		return EXIT_FAILED;
	}
	struct config *cfg = config_load(config_path, &err);
	if (!cfg) {
		fprintf(stderr, "fleetcon: %s\n", err.msg);
		return EXIT_USAGE;
	}
	if (db_path && config_set(cfg, "database", "path", db_path, "--db", &err) < 0) {
		fprintf(stderr, "fleetcon: --db: %s\n", err.msg);
		config_free(&cfg);
		return EXIT_USAGE;
	}
	struct fc_context ctx = {
		.cfg = cfg, .config_path = config_path, .out = stdout, .err = stderr, .argv0 = "fleetcon",
	};
	int rc = run(&ctx, argc - optind, argv + optind);
	if (fflush(stdout) != 0 && rc == EXIT_OK)
		rc = EXIT_FAILED;
	config_free(&cfg);
	transport_global_cleanup();
	return rc;
}
