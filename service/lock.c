/* The agent's lock next to its database (see lock.h). */
#include "service/lock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

int lock_file_path(const char *db_path, const char *suffix, char *out, size_t len, struct fc_error *err)
{
	int n = snprintf(out, len, "%s%s", db_path, suffix);
	if (n < 0 || (size_t)n >= len)
		return fc_error_set(err, "the path of %s%s is too long", db_path, suffix);
	return 0;
}

/* The pid written in the lock file, 0 when none can be read. */
static pid_t read_pid(int fd)
{
	char buf[32];
	/* the holder writes its pid right after taking the lock: give it a moment */
	for (int tries = 0; tries < 20; tries++) {
		ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
		if (n > 0) {
			buf[n] = '\0';
			char *end;
			long pid = strtol(buf, &end, 10);
			if (end != buf && pid > 0)
				return (pid_t)pid;
		}
		usleep(10000);
	}
	return 0;
}

int lock_take(const char *db_path, int *fd, pid_t *holder, struct fc_error *err)
{
	char path[4200];
	*fd = -1;
	*holder = 0;
	if (lock_file_path(db_path, LOCK_SUFFIX, path, sizeof path, err) < 0)
		return -1;
	int f = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (f < 0)
		return fc_error_set(err, "cannot open the agent's lock %s: %s", path, strerror(errno));
	if (flock(f, LOCK_EX | LOCK_NB) < 0) {
		int e = errno;
		if (e == EWOULDBLOCK) {
			*holder = read_pid(f);
			close(f);
			return 1;
		}
		close(f);
		return fc_error_set(err, "cannot lock %s: %s", path, strerror(e));
	}
	char pid[32];
	int n = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
	if (ftruncate(f, 0) < 0 || pwrite(f, pid, (size_t)n, 0) != n) {
		int e = errno;
		close(f);
		return fc_error_set(err, "cannot write %s: %s", path, strerror(e));
	}
	*fd = f;
	return 0;
}

void lock_release(int *fd)
{
	if (!fd || *fd < 0)
		return;
	/* an empty file says "nobody" to whoever reads it next; the lock goes with the descriptor */
	if (ftruncate(*fd, 0) < 0) {
		/* nothing to do: the pid left inside is only read while the lock is held */
	}
	close(*fd);
	*fd = -1;
}
