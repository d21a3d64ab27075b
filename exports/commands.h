/* The exports' subcommand (see model/context.h for the shape every subcommand has): prints
 * messages to ctx->err (and a CSV table or the report to ctx->out with --output -), returns
 * EXIT_OK, EXIT_FAILED or EXIT_USAGE. */
#ifndef FLEETCON_EXPORTS_COMMANDS_H
#define FLEETCON_EXPORTS_COMMANDS_H

#include "model/context.h"

/* The usage line and one-line summary, for fleetcon --help. */
#define EXPORT_USAGE                                                                   \
	"export --format html|csv --output PATH [--since DATE] [--devices included|all] " \
	"[--table NAME] [--force]"
#define EXPORT_SUMMARY "write an audit report: one HTML file, or CSV files in a folder"

/* fleetcon export --format html|csv --output PATH [--since DATE] [--devices included|all]
 *                 [--table NAME] [--force] */
int export_main(struct fc_context *ctx, int argc, char **argv);

#endif
