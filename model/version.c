/* Version strings, set by the Makefile for this one file (see version.h). */
#include "model/version.h"

const char *fleetcon_version(void)
{
	return FLEETCON_VERSION;
}

const char *fleetcon_revision(void)
{
	return FLEETCON_REV;
}
