/* fleetcon: the entry point. Parses the command line, then runs a subcommand, the console or
 * the headless service. */
#include "model/version.h"

#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "--version") == 0) {
		printf("fleetcon %s (%s)\n", fleetcon_version(), fleetcon_revision());
		return 0;
	}
	fprintf(stderr, "usage: fleetcon --version\n");
	return 2;
}
