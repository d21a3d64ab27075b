/* One agent per database: the agent that schedules (the service, or a console hosting its own
 * agent) holds an exclusive flock on "<database>.lock", with its pid written inside so that a
 * second one can say who runs. The kernel releases the lock when the process dies, so a stale
 * file never blocks. The service's socket is "<database>.sock", next to it. */
#ifndef FLEETCON_SERVICE_LOCK_H
#define FLEETCON_SERVICE_LOCK_H

#include <stddef.h>
#include <sys/types.h>

#include "model/error.h"

#define LOCK_SUFFIX ".lock"
#define SOCKET_SUFFIX ".sock"

/* db_path with suffix appended into out (len bytes). Returns 0, or -1 with err set when it does
 * not fit. */
int lock_file_path(const char *db_path, const char *suffix, char *out, size_t len, struct fc_error *err);

/* Takes the lock of db_path's agent without waiting. Returns 0 with *fd the open lock (keep it;
 * lock_release() gives it back), 1 when another process holds it (*holder its pid, 0 when it
 * could not be read), or -1 with err set (the folder is not writable, ...). */
int lock_take(const char *db_path, int *fd, pid_t *holder, struct fc_error *err);

/* Empties the pid and releases the lock; *fd becomes -1. Harmless on -1. */
void lock_release(int *fd);

#endif
