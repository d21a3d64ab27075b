/* The ncurses administration console: the fleet, a device, its alerts, syncs, discovery, the site
 * and the agent's log, on a terminal. It hosts the agent in-process (worker threads for the
 * collectors, the uplink and the store) and talks to it only through the agent's queues. */
#ifndef FLEETCON_TUI_CONSOLE_H
#define FLEETCON_TUI_CONSOLE_H

#include "model/context.h"

/* fleetcon [console] [--ascii] [--no-color] [--no-mouse] [--readonly]
 * The shape of every subcommand (model/context.h): argv[0] is the command's name, ctx->cfg the
 * loaded configuration (its database is opened here). Needs a terminal on stdin and stdout.
 * Returns EXIT_OK when the admin quits, EXIT_USAGE for bad options or no terminal, EXIT_FAILED
 * when the database or the terminal cannot be used (the message is on ctx->err). */
int console_main(struct fc_context *ctx, int argc, char **argv);

#endif
