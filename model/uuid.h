/* Random (version 4) UUIDs: the agent's identity and the outbox's idempotency keys. */
#ifndef FLEETCON_MODEL_UUID_H
#define FLEETCON_MODEL_UUID_H

#include "model/error.h"

#define UUID_STR_LEN 37 /* 36 characters and the NUL */

/* Writes a new lower-case UUID into out. Returns 0, or -1 with err set when the kernel's random
 * source cannot be read. */
int uuid_v4(char out[UUID_STR_LEN], struct fc_error *err);

#endif
