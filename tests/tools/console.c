/* console: opens the console (tui/console.h) the way fleetcon will, for the tmux tests until the
 * fleetcon binary calls console_main itself.
 *
 *   console [--config FILE] [--db PATH] [--ascii] [--no-color] [--no-mouse] [--readonly]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/config.h"
#include "model/context.h"
#include "model/error.h"
#include "tui/console.h"

int main(int argc, char **argv)
{
	const char *config_path = NULL, *db = NULL;
	/* our own options out, the console's passed on */
	char **rest = calloc((size_t)argc + 1, sizeof *rest);
	if (!rest)
		return EXIT_FAILED;
	int n = 0;
	rest[n++] = "console";
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--config") && i + 1 < argc)
			config_path = argv[++i];
		else if (!strcmp(argv[i], "--db") && i + 1 < argc)
			db = argv[++i];
		else
			rest[n++] = argv[i];
	}
	struct fc_error err = { { 0 } };
	struct config *cfg = config_load(config_path, &err);
	if (!cfg) {
		fprintf(stderr, "console: %s\n", err.msg);
		free(rest);
		return EXIT_USAGE;
	}
	if (db && config_set(cfg, "database", "path", db, "--db", &err) < 0) {
		fprintf(stderr, "console: --db: %s\n", err.msg);
		config_free(&cfg);
		free(rest);
		return EXIT_USAGE;
	}
	struct fc_context ctx = { .cfg = cfg, .config_path = config_path, .out = stdout, .err = stderr, .argv0 = "console" };
	int rc = console_main(&ctx, n, rest);
	config_free(&cfg);
	free(rest);
	return rc;
}
