/* fleetcon: the entry point. Parses the command line, then runs a subcommand, the console or
 * the headless service. */
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "--version") == 0) {
		printf("fleetcon %s (%s)\n", FLEETCON_VERSION, FLEETCON_REV);
		return 0;
	}
	fprintf(stderr, "usage: fleetcon --version\n");
	return 2;
}
