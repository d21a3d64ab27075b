/* `fleetcon run`: the agent as a service, in the foreground and without a terminal (systemd runs
 * it): the agent's own schedule (service/agenda.h), the socket consoles and commands attach to
 * (service/server.h), one agent per database (service/lock.h), logs on stderr. docs/service.md
 * tells the whole story. */
#ifndef FLEETCON_SERVICE_RUN_H
#define FLEETCON_SERVICE_RUN_H

#include "model/context.h"

#define RUN_USAGE "run [--log-level error|warn|info|debug]"
#define RUN_SUMMARY "the agent as a service: schedule, uplink, alerts; consoles attach to it"

/* How long a stop (SIGTERM, SIGINT) lets the jobs in flight finish before they are cancelled, and
 * how long the cancelled ones then get to end. Milliseconds. */
#define RUN_STOP_GRACE_MS 5000
#define RUN_STOP_CANCEL_MS 10000

/* The subcommand. Returns EXIT_OK after a stop by signal, EXIT_FAILED when it could not start
 * (another agent holds the database: the message names its pid), EXIT_USAGE on a bad option. */
int run_main(struct fc_context *ctx, int argc, char **argv);

#endif
