/* What every subcommand gets from the command line: the configuration (loaded once, with --db
 * applied) and where to write. Subcommands live with the module they drive (collectors/commands.c,
 * uplink/commands.c, exports/commands.c) and have one shape: int NAME_main(ctx, argc, argv), with
 * argv[0] the subcommand's name, returning an exit code. */
#ifndef FLEETCON_MODEL_CONTEXT_H
#define FLEETCON_MODEL_CONTEXT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct config;

/* Exit codes of every command: an interface that scripts and monitoring rely on. */
enum {
	EXIT_OK = 0,
	EXIT_FAILED = 1, /* the operation failed (device unreachable, server down, disk full) */
	EXIT_USAGE = 2,  /* usage or configuration error: nothing was changed */
};

struct fc_context {
	struct config *cfg;      /* borrowed; loaded before the subcommand runs */
	const char *config_path; /* --config as given, or NULL */
	FILE *out;               /* results */
	FILE *err;               /* messages */
	const char *argv0;       /* for messages ("fleetcon") */
};

typedef int (*fc_command_fn)(struct fc_context *ctx, int argc, char **argv);

struct store;
/* Opens the configured database ([database] path or --db) with store_open() flags; on failure
 * prints the store's message to ctx->err and returns -1. The caller closes *out. */
int context_open_store(struct fc_context *ctx, unsigned flags, struct store **out);

/* The device key names (an id, serial or address) into *id. Returns EXIT_OK; EXIT_USAGE after a
 * message when there is no such device (the key echoed cleaned and cut); EXIT_FAILED after the
 * store's message. */
int context_find_device(struct fc_context *ctx, struct store *s, const char *key, int64_t *id);

#endif
