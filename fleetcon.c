/* fleetcon: the entry point. Global options, then a subcommand (each lives with the module it
 * drives), the console on a terminal, or a hint to use a subcommand. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "collectors/commands.h"
#include "model/config.h"
#include "model/context.h"
#include "model/error.h"
#include "model/version.h"

static int config_main(struct fc_context *ctx, int argc, char **argv);

/* The subcommands that work in this build; --help lists exactly these. */
static const struct command {
	const char *name;
	fc_command_fn run;
	const char *usage;
	const char *summary;
} commands[] = {
	{ "devices", devices_main, "devices [--json]", "list the devices in the database" },
	{ "show", show_main, "show DEVICE [--json] [--raw]", "one device: identity, status, meters, supplies, alerts" },
	{ "include", include_main, "include DEVICE...", "manage and report these devices" },
	{ "exclude", include_main, "exclude DEVICE...", "stop managing and reporting these devices" },
	{ "range", range_main, "range add|list|remove", "the discovery ranges and manual addresses" },
	{ "siteinfo", siteinfo_main, "siteinfo [--json]", "facts about this site and the agent's host" },
	{ "config", config_main, "config check", "validate the configuration and print it, secrets masked" },
};

static void usage(FILE *out)
{
	fprintf(out,
		"usage: fleetcon [--config FILE] [--db FILE] COMMAND [ARGS]\n"
		"       fleetcon --help | --version\n"
		"\n"
		"fleetcon is a print-fleet agent: it finds printers over SNMP, reads their meters,\n"
		"supplies and faults, and keeps them in a local database.\n"
		"\n"
		"Options:\n"
		"  -c, --config FILE  configuration file (default: $FLEETCON_CONFIG,\n"
		"                     $XDG_CONFIG_HOME/fleetcon/fleetcon.conf, /etc/fleetcon/fleetcon.conf)\n"
		"      --db FILE      database file (overrides [database] path)\n"
		"  -h, --help         this help\n"
		"  -V, --version      print the version\n"
		"\n"
		"Commands:\n");
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		fprintf(out, "  %-28s %s\n", commands[i].usage, commands[i].summary);
	fprintf(out,
		"\n"
		"Exit codes: 0 ok, 1 the operation failed, 2 usage or configuration error.\n"
		"See fleetcon.conf.example and docs/ for the configuration.\n");
}

static int config_main(struct fc_context *ctx, int argc, char **argv)
{
	if (argc != 2 || strcmp(argv[1], "check") != 0) {
		fprintf(ctx->err, "usage: fleetcon [--config FILE] config check\n");
		return EXIT_USAGE;
	}
	/* Loading already validated the file (main() stops on any error); show what was found. */
	if (config_print(ctx->cfg, ctx->out) < 0 || fflush(ctx->out) != 0) {
		fprintf(ctx->err, "fleetcon: cannot write the configuration: %m\n");
		return EXIT_FAILED;
	}
	fprintf(ctx->err, "fleetcon: configuration ok%s%s\n", ctx->cfg->path[0] ? ": " : " (no file, defaults)",
		ctx->cfg->path);
	return EXIT_OK;
}

int main(int argc, char **argv)
{
	enum { OPT_DB = 256 };
	static const struct option options[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "db", required_argument, NULL, OPT_DB },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *config_path = NULL, *db_path = NULL;
	int opt;
	/* "+": stop at the subcommand; its own options are its business. */
	while ((opt = getopt_long(argc, argv, "+c:hV", options, NULL)) != -1) {
		switch (opt) {
		case 'c':
			config_path = optarg;
			break;
		case OPT_DB:
			db_path = optarg;
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		case 'V':
			printf("fleetcon %s (%s)\n", fleetcon_version(), fleetcon_revision());
			return EXIT_OK;
		default:
			fprintf(stderr, "Try 'fleetcon --help'.\n");
			return EXIT_USAGE;
		}
	}

	if (optind >= argc) {
		if (isatty(STDIN_FILENO) && isatty(STDOUT_FILENO))
			fprintf(stderr, "fleetcon: the console is not part of this build yet; use a command:\n\n");
		else
			fprintf(stderr, "fleetcon: no terminal, so no console; use a command:\n\n");
		usage(stderr);
		return EXIT_USAGE;
	}

	const char *name = argv[optind];
	const struct command *cmd = NULL;
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		if (strcmp(commands[i].name, name) == 0)
			cmd = &commands[i];
	if (!cmd) {
		fprintf(stderr, "fleetcon: unknown command \"%s\". Try 'fleetcon --help'.\n", name);
		return EXIT_USAGE;
	}

	struct fc_error err = { { 0 } };
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
		.cfg = cfg,
		.config_path = config_path,
		.out = stdout,
		.err = stderr,
		.argv0 = "fleetcon",
	};
	int rc = cmd->run(&ctx, argc - optind, argv + optind);
	if (fflush(stdout) != 0 && rc == EXIT_OK) {
		fprintf(stderr, "fleetcon: cannot write the output: %m\n");
		rc = EXIT_FAILED;
	}
	config_free(&cfg);
	return rc;
}
