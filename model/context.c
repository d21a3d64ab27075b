/* Helpers every subcommand shares (see context.h). */
#include "model/context.h"

#include "model/config.h"
#include "model/store.h"

int context_open_store(struct fc_context *ctx, unsigned flags, struct store **out)
{
	struct fc_error err = { { 0 } };
	if (store_open(ctx->cfg->database.path, flags, out, &err) < 0) {
		fprintf(ctx->err, "%s: %s\n", ctx->argv0, err.msg);
		return -1;
	}
	return 0;
}
