/* The uplink's subcommands (see model/context.h for the shape every subcommand has). Each prints
 * results to ctx->out and messages (and upload's live progress) to ctx->err, and returns
 * EXIT_OK, EXIT_FAILED or EXIT_USAGE. */
#ifndef FLEETCON_UPLINK_COMMANDS_H
#define FLEETCON_UPLINK_COMMANDS_H

#include "model/context.h"

/* fleetcon report --preview [--json]: what the next report would contain, as a summary or as the
 * exact JSON that would be compressed and sent. */
int report_main(struct fc_context *ctx, int argc, char **argv);

/* fleetcon upload: builds a report into the outbox now, then delivers every waiting report
 * oldest first, printing each stage as it happens. Exit 0 when the outbox is empty afterwards. */
int upload_main(struct fc_context *ctx, int argc, char **argv);

/* fleetcon status [--json] [--history N]: last data from printers, last contact with the server,
 * last successful sync, next scheduled sync, the outbox and the sync history. Exit 1 when the
 * last sync failed or a scheduled sync is overdue (for monitoring). */
int status_main(struct fc_context *ctx, int argc, char **argv);

#endif
