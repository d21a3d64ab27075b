/* Helpers every subcommand shares (see context.h). */
#include "model/context.h"

#include <stdlib.h>
#include <string.h>

#include "model/config.h"
#include "model/store.h"
#include "model/text.h"

int context_open_store(struct fc_context *ctx, unsigned flags, struct store **out)
{
	struct fc_error err = { { 0 } };
	if (store_open(ctx->cfg->database.path, flags, out, &err) < 0) {
		fprintf(ctx->err, "%s: %s\n", ctx->argv0, err.msg);
		return -1;
	}
	return 0;
}

int context_find_device(struct fc_context *ctx, struct store *s, const char *key, int64_t *id)
{
	struct fc_error err = { { 0 } };
	int rc = store_device_find(s, key, id, &err);
	if (rc < 0) {
		fprintf(ctx->err, "%s: %s\n", ctx->argv0, err.msg);
		return EXIT_FAILED;
	}
	if (rc == 0) {
		/* what the admin typed, but never a screenful of it */
		char *clean = text_clean(key);
		size_t len = clean ? strlen(clean) : 0, cut = clean ? text_cut(clean, 64) : 0;
		fprintf(ctx->err, "%s: no device \"%.*s%s\" (give an id, serial or address; see 'fleetcon devices')\n",
			ctx->argv0, (int)cut, clean ? clean : "", cut < len ? "…" : "");
		free(clean);
		return EXIT_USAGE;
	}
	return EXIT_OK;
}
