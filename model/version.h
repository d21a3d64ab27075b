/* The agent's version, as built: reported by --version, in site facts and in every report. */
#ifndef FLEETCON_MODEL_VERSION_H
#define FLEETCON_MODEL_VERSION_H

/* "0.1.0" (static string). */
const char *fleetcon_version(void);
/* The git revision it was built from, or "unknown" (static string). */
const char *fleetcon_revision(void);

#endif
