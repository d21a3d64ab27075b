/* Tests of the agent's lock (service/lock.h): taken once per database with the pid inside, refused
 * to a second taker (another process, as flock works per open file) with the holder's pid, given
 * back by lock_release and by the death of the holder; paths too long are refused. */
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <setjmp.h>
#include <cmocka.h>

#include "service/lock.h"
#include "tests/unit/lib/tmpdir.h"

static char *db_in(const char *dir)
{
	char *p = NULL;
	assert_true(asprintf(&p, "%s/fleetcon.db", dir) > 0);
	return p;
}

static void test_take_release(void **state)
{
	(void)state;
	char *dir = test_tmpdir_new();
	char *db = db_in(dir);
	struct fc_error err = { "" };
	int fd = -1;
	pid_t holder = -1;
	assert_int_equal(lock_take(db, &fd, &holder, &err), 0);
	assert_true(fd >= 0);
	assert_int_equal(holder, 0);
	/* the pid is inside, and the file is the owner's only */
	char path[4200], buf[32] = "";
	snprintf(path, sizeof path, "%s.lock", db);
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	assert_non_null(fgets(buf, sizeof buf, f));
	fclose(f);
	assert_int_equal(atol(buf), (long)getpid());
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	lock_release(&fd);
	assert_int_equal(fd, -1);
	lock_release(&fd); /* twice is harmless */
	/* given back: taken again at once */
	assert_int_equal(lock_take(db, &fd, &holder, &err), 0);
	lock_release(&fd);
	free(db);
	test_tmpdir_remove(&dir);
}

/* A child that takes the lock, tells the parent through a pipe, and waits to be killed. */
static pid_t holder_child(const char *db)
{
	int p[2];
	assert_int_equal(pipe(p), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(p[0]);
		struct fc_error err = { "" };
		int fd;
		pid_t h;
		char ok = lock_take(db, &fd, &h, &err) == 0 ? 'y' : 'n';
		if (write(p[1], &ok, 1) != 1)
			_exit(1);
		for (;;)
			pause();
	}
	close(p[1]);
	char ok = 0;
	assert_int_equal(read(p[0], &ok, 1), 1);
	close(p[0]);
	assert_int_equal(ok, 'y');
	return pid;
}

static void test_second_taker_refused(void **state)
{
	(void)state;
	char *dir = test_tmpdir_new();
	char *db = db_in(dir);
	pid_t child = holder_child(db);
	struct fc_error err = { "" };
	int fd = -1;
	pid_t holder = 0;
	assert_int_equal(lock_take(db, &fd, &holder, &err), 1);
	assert_int_equal(fd, -1);
	assert_int_equal(holder, child);
	/* the holder dies: the kernel gives the lock back, whatever the file still says */
	assert_int_equal(kill(child, SIGKILL), 0);
	assert_int_equal(waitpid(child, NULL, 0), child);
	assert_int_equal(lock_take(db, &fd, &holder, &err), 0);
	lock_release(&fd);
	free(db);
	test_tmpdir_remove(&dir);
}

static void test_errors(void **state)
{
	(void)state;
	struct fc_error err = { "" };
	int fd = -1;
	pid_t holder;
	/* a folder that does not exist */
	assert_int_equal(lock_take("/nonexistent-fleetcon/x.db", &fd, &holder, &err), -1);
	assert_non_null(strstr(err.msg, "x.db.lock"));
	/* a path that does not fit */
	char *huge = malloc(5000);
	assert_non_null(huge);
	memset(huge, 'a', 4999);
	huge[4999] = '\0';
	char out[64];
	assert_int_equal(lock_file_path(huge, LOCK_SUFFIX, out, sizeof out, &err), -1);
	assert_int_equal(lock_take(huge, &fd, &holder, &err), -1);
	free(huge);
	assert_int_equal(lock_file_path("/a/b.db", SOCKET_SUFFIX, out, sizeof out, &err), 0);
	assert_string_equal(out, "/a/b.db.sock");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_take_release),
		cmocka_unit_test(test_second_taker_refused),
		cmocka_unit_test(test_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
