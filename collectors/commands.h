/* The collectors' subcommands: the fleet as the command line sees it (see model/context.h for the
 * shape every subcommand has). Each prints results to ctx->out and messages to ctx->err, and
 * returns EXIT_OK, EXIT_FAILED or EXIT_USAGE. */
#ifndef FLEETCON_COLLECTORS_COMMANDS_H
#define FLEETCON_COLLECTORS_COMMANDS_H

#include "model/context.h"

/* fleetcon devices [--json] [--included | --excluded] */
int devices_main(struct fc_context *ctx, int argc, char **argv);
/* fleetcon show DEVICE [--json] [--raw] */
int show_main(struct fc_context *ctx, int argc, char **argv);
/* fleetcon include DEVICE... / fleetcon exclude DEVICE... (argv[0] says which) */
int include_main(struct fc_context *ctx, int argc, char **argv);
/* fleetcon range add TARGET [--profile NAMES] [--port N] [--force] | list [--json] | remove ID|TARGET */
int range_main(struct fc_context *ctx, int argc, char **argv);

/* fleetcon alerts [--json] [--all]: the active prtAlertTable entries of the included devices
 * (--all: of every device), worst severity first, then by device. --json prints an array of
 * {device, address, serial, included, severity, severity_code, group, group_index, code,
 *  location, description, training, index, first_seen, age}: the alert fields as in
 * device_json(), first_seen "YYYY-MM-DDTHH:MM:SSZ" or null, age in seconds or null (the man page
 * fleetcon.1 documents them for users). */
int alerts_main(struct fc_context *ctx, int argc, char **argv);

/* fleetcon siteinfo [--json] */
int siteinfo_main(struct fc_context *ctx, int argc, char **argv);

#endif
