/* Unit tests for collectors/snmp_engine against real peers on loopback: a UDP socket that never
 * answers (timeouts, retries, limits, budgets, cancel, the feeder, the bound on open sockets, an
 * SNMPv3 engine discovery that gets no answer), tests/lib/badagent.py (answers, SNMPv1 errors,
 * walks that do not increase or never end) and a small agent built on Net-SNMP's own server API
 * that mishandles GETBULK (the fallback to GETNEXT). Nothing may be printed by the library. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "collectors/snmp_engine.h"
#include "model/clock.h"
#include "tests/unit/lib/tmpdir.h"

/* ---- peers ----------------------------------------------------------------------------------- */

struct silent {
	int fd;
	int port;
};

/* A bound UDP socket on 127.0.0.1 that nobody reads until the test counts what arrived. */
static struct silent silent_open(void)
{
	struct silent s;
	s.fd = socket(AF_INET, SOCK_DGRAM, 0);
	assert_true(s.fd >= 0);
	int big = 4 << 20;
	setsockopt(s.fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7f000001) };
	assert_int_equal(bind(s.fd, (struct sockaddr *)&a, sizeof a), 0);
	socklen_t l = sizeof a;
	assert_int_equal(getsockname(s.fd, (struct sockaddr *)&a, &l), 0);
	s.port = ntohs(a.sin_port);
	return s;
}

/* Datagrams received so far (drains the socket). */
static int silent_count(struct silent *s)
{
	char buf[2048];
	int n = 0;
	while (recv(s->fd, buf, sizeof buf, MSG_DONTWAIT) >= 0)
		n++;
	return n;
}

struct agent {
	pid_t pid;
	int port;
	char *dir;
};

/* Starts tests/lib/badagent.py in mode and waits until it listens (its ready file appears). */
static struct agent agent_start(const char *mode)
{
	struct agent a = { .dir = test_tmpdir_new() };
	char ready[512];
	snprintf(ready, sizeof ready, "%s/ready", a.dir);
	a.pid = fork();
	assert_true(a.pid >= 0);
	if (a.pid == 0) {
		int null = open("/dev/null", O_RDWR);
		dup2(null, 0);
		dup2(null, 1);
		execl("/usr/bin/python3", "python3", "tests/lib/badagent.py", "--listen",
		      "127.0.0.1:0", "--mode", mode, "--ready-file", ready, (char *)NULL);
		_exit(127);
	}
	int64_t deadline = clock_mono_ms() + 20000;
	for (;;) {
		FILE *f = fopen(ready, "r");
		if (f) {
			int port = 0;
			int got = fscanf(f, "%d", &port);
			fclose(f);
			if (got == 1 && port > 0) {
				a.port = port;
				return a;
			}
		}
		int status;
		if (waitpid(a.pid, &status, WNOHANG) == a.pid)
			fail_msg("badagent.py exited before it listened");
		if (clock_mono_ms() > deadline)
			fail_msg("badagent.py did not start within 20 s");
		struct timespec ts = { 0, 10 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
}

static void agent_stop(struct agent *a)
{
	kill(a->pid, SIGTERM);
	waitpid(a->pid, NULL, 0);
	test_tmpdir_remove(&a->dir);
}

/* An agent in a child process, on Net-SNMP's server API: sysDescr and a table of two columns of
 * five rows; GET and GETNEXT are answered, GETBULK is refused with genErr (BULK_ERROR) or
 * dropped (BULK_SILENT), as some printers do. */
enum bulk_mode { BULK_ERROR, BULK_SILENT };

static const char *const nb_oids[] = {
	"1.3.6.1.2.1.1.1.0",
	"1.3.6.1.2.1.43.11.1.1.6.1.1", "1.3.6.1.2.1.43.11.1.1.6.1.2", "1.3.6.1.2.1.43.11.1.1.6.1.3",
	"1.3.6.1.2.1.43.11.1.1.6.1.4", "1.3.6.1.2.1.43.11.1.1.6.1.5",
	"1.3.6.1.2.1.43.11.1.1.9.1.1", "1.3.6.1.2.1.43.11.1.1.9.1.2", "1.3.6.1.2.1.43.11.1.1.9.1.3",
	"1.3.6.1.2.1.43.11.1.1.9.1.4", "1.3.6.1.2.1.43.11.1.1.9.1.5",
};
#define NB_N (sizeof nb_oids / sizeof nb_oids[0])

static void nb_set_value(netsnmp_variable_list *v, size_t i)
{
	struct snmp_oid o;
	snmp_oid_from_text(nb_oids[i], &o);
	snmp_set_var_objid(v, o.id, o.len);
	if (i == 0) {
		snmp_set_var_typed_value(v, ASN_OCTET_STR, "no-bulk agent", 13);
	} else if (i <= 5) {
		char s[16];
		int n = snprintf(s, sizeof s, "Supply %zu", i);
		snmp_set_var_typed_value(v, ASN_OCTET_STR, s, (size_t)n);
	} else {
		long level = (long)(i - 5) * 10;
		snmp_set_var_typed_value(v, ASN_INTEGER, &level, sizeof level);
	}
}

static int nb_serve(int op, netsnmp_session *s, int reqid, netsnmp_pdu *pdu, void *magic)
{
	(void)reqid;
	enum bulk_mode mode = (enum bulk_mode)(intptr_t)magic;
	if (op != NETSNMP_CALLBACK_OP_RECEIVED_MESSAGE)
		return 1;
	if (pdu->command == SNMP_MSG_GETBULK && mode == BULK_SILENT)
		return 1;
	netsnmp_pdu *r = snmp_clone_pdu(pdu);
	r->command = SNMP_MSG_RESPONSE;
	r->errstat = 0;
	r->errindex = 0;
	if (pdu->command == SNMP_MSG_GETBULK) {
		r->errstat = SNMP_ERR_GENERR;
		r->errindex = 1;
	} else {
		for (netsnmp_variable_list *v = r->variables; v; v = v->next_variable) {
			size_t found = NB_N;
			for (size_t i = 0; i < NB_N && found == NB_N; i++) {
				struct snmp_oid o;
				snmp_oid_from_text(nb_oids[i], &o);
				int c = snmp_oid_compare(o.id, o.len, v->name, v->name_length);
				if (pdu->command == SNMP_MSG_GET ? c == 0 : c > 0)
					found = i;
			}
			if (found < NB_N)
				nb_set_value(v, found);
			else
				snmp_set_var_typed_value(v, pdu->command == SNMP_MSG_GET ?
							 SNMP_NOSUCHINSTANCE : SNMP_ENDOFMIBVIEW, NULL, 0);
		}
	}
	if (!snmp_send(s, r))
		snmp_free_pdu(r);
	return 1;
}

struct nobulk {
	pid_t pid;
	int port;
};

static struct nobulk nobulk_start(enum bulk_mode mode)
{
	int p[2];
	assert_int_equal(pipe(p), 0);
	struct nobulk a;
	a.pid = fork();
	assert_true(a.pid >= 0);
	if (a.pid == 0) {
		close(p[0]);
		netsnmp_transport *t = netsnmp_transport_open_server("snmp", "udp:127.0.0.1:0");
		netsnmp_session sess;
		snmp_sess_init(&sess);
		sess.version = SNMP_VERSION_2c;
		sess.callback = nb_serve;
		sess.callback_magic = (void *)(intptr_t)mode;
		struct sockaddr_in sa;
		socklen_t l = sizeof sa;
		if (!t || !snmp_add(&sess, t, NULL, NULL) ||
		    getsockname(t->sock, (struct sockaddr *)&sa, &l) != 0)
			_exit(1);
		int port = ntohs(sa.sin_port);
		if (write(p[1], &port, sizeof port) != sizeof port)
			_exit(1);
		close(p[1]);
		for (;;) {
			fd_set fds;
			FD_ZERO(&fds);
			FD_SET(t->sock, &fds);
			if (select(t->sock + 1, &fds, NULL, NULL, NULL) > 0)
				snmp_read(&fds);
		}
	}
	close(p[1]);
	assert_int_equal(read(p[0], &a.port, sizeof a.port), (ssize_t)sizeof a.port);
	close(p[0]);
	return a;
}

static void nobulk_stop(struct nobulk *a)
{
	kill(a->pid, SIGTERM);
	waitpid(a->pid, NULL, 0);
}

/* ---- helpers --------------------------------------------------------------------------------- */

static struct snmp_profile v2c(void)
{
	struct snmp_profile p;
	memset(&p, 0, sizeof p);
	snprintf(p.name, sizeof p.name, "test");
	p.version = CONFIG_SNMP_V2C;
	snprintf(p.community, sizeof p.community, "public");
	return p;
}

static struct snmp_engine *engine(int concurrency, int per_host, int timeout_ms, int retries,
				  int max_sessions)
{
	struct engine_limits l = {
		.concurrency = concurrency,
		.per_host = per_host,
		.timeout_ms = timeout_ms,
		.retries = retries,
		.max_sessions = max_sessions,
	};
	struct fc_error err;
	struct snmp_engine *e = snmp_engine_new(&l, &err);
	if (!e)
		fail_msg("%s", err.msg);
	return e;
}

static void run(struct snmp_engine *e, const atomic_bool *cancel, void (*tick)(void *), void *arg,
		int tick_ms)
{
	struct fc_error err;
	if (snmp_engine_run(e, cancel, tick, arg, tick_ms, &err) < 0)
		fail_msg("%s", err.msg);
}

struct outcome {
	int replies;
	int ok, timeouts, aborted, other;
	char message[200];
	int done;
	int aborted_jobs;
	char reason[200];
	int nvars;
	long errstat;
	int gets;          /* GETs to queue in start */
	struct snmp_oid oids[4];
	size_t n_oids;
};

static void on_reply(struct snmp_job *job, const struct snmp_reply *r, void *arg)
{
	(void)job;
	struct outcome *o = arg;
	o->replies++;
	switch (r->status) {
	case SNMP_OK: o->ok++; break;
	case SNMP_TIMEOUT: o->timeouts++; break;
	case SNMP_ABORTED: o->aborted++; break;
	default: o->other++; break;
	}
	if (r->message)
		snprintf(o->message, sizeof o->message, "%s", r->message);
	o->errstat = r->errstat;
	o->nvars = 0;
	for (const netsnmp_variable_list *v = r->vars; v; v = v->next_variable)
		o->nvars++;
}

static void start_gets(struct snmp_job *job, void *arg)
{
	struct outcome *o = arg;
	for (int i = 0; i < o->gets; i++)
		assert_int_equal(snmp_job_get(job, o->oids, o->n_oids, on_reply, o), 0);
}

static void count_done(struct snmp_job *job, void *arg)
{
	struct outcome *o = arg;
	o->done++;
	if (snmp_job_aborted(job)) {
		o->aborted_jobs++;
		snprintf(o->reason, sizeof o->reason, "%s", snmp_job_abort_reason(job));
	}
}

static const struct snmp_job_ops get_ops = { start_gets, count_done };

static void set_oid(struct outcome *o, const char *text)
{
	assert_int_equal(snmp_oid_from_text(text, &o->oids[o->n_oids]), 0);
	o->n_oids++;
}

static int open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;
	if (!d)
		return -1;
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

/* ---- tests ----------------------------------------------------------------------------------- */

static int group_setup(void **state)
{
	(void)state;
	struct fc_error err;
	return snmp_engine_global_init(&err);
}

static void test_timeout_and_retries(void **state)
{
	(void)state;
	struct silent s = silent_open();
	struct snmp_engine *e = engine(16, 2, 100, 2, 0);
	struct snmp_profile p = v2c();
	struct outcome o = { .gets = 1 };
	set_oid(&o, "1.3.6.1.2.1.1.1.0");
	assert_non_null(snmp_engine_add_job(e, "127.0.0.1", s.port, &p, 0, &get_ops, &o, NULL));
	int64_t t0 = clock_mono_ms();
	run(e, NULL, NULL, NULL, 250);
	int64_t took = clock_mono_ms() - t0;
	assert_int_equal(o.timeouts, 1);
	assert_int_equal(o.done, 1);
	assert_string_equal(o.message, "no answer after 3 attempts");
	/* One send and two resends, each after its own timeout. */
	assert_int_equal(silent_count(&s), 3);
	assert_true(took >= 290);
	assert_true(took < 2000);
	struct snmp_engine_stats st;
	snmp_engine_stats(e, &st);
	assert_int_equal(st.packets, 3);
	assert_int_equal(st.timeouts, 1);
	snmp_engine_free(&e);
	assert_null(e);
	close(s.fd);
}

static int64_t cpu_ms(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (int64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000 +
	       (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1000;
}

static void test_waiting_costs_no_cpu(void **state)
{
	(void)state;
	/* A second of waiting for answers that do not come, without a tick callback: the loop sleeps
	 * in poll() instead of spinning. */
	struct silent s = silent_open();
	struct snmp_engine *e = engine(16, 2, 500, 1, 0);
	struct snmp_profile p = v2c();
	struct outcome o = { .gets = 2 };
	set_oid(&o, "1.3.6.1.2.1.1.1.0");
	assert_non_null(snmp_engine_add_job(e, "127.0.0.1", s.port, &p, 0, &get_ops, &o, NULL));
	int64_t cpu0 = cpu_ms(), t0 = clock_mono_ms();
	run(e, NULL, NULL, NULL, 50);
	int64_t cpu = cpu_ms() - cpu0, took = clock_mono_ms() - t0;
	assert_int_equal(o.timeouts, 2);
	assert_true(took >= 990);
	assert_true(cpu < 150);
	snmp_engine_free(&e);
	close(s.fd);
}

static void test_per_host_limit(void **state)
{
	(void)state;
	struct silent s = silent_open();
	/* 10 requests to one host, 2 in flight at a time, 100 ms each: five rounds. */
	struct snmp_engine *e = engine(64, 2, 100, 0, 0);
	struct snmp_profile p = v2c();
	struct outcome o = { .gets = 10 };
	set_oid(&o, "1.3.6.1.2.1.1.1.0");
	assert_non_null(snmp_engine_add_job(e, "127.0.0.1", s.port, &p, 0, &get_ops, &o, NULL));
	int64_t t0 = clock_mono_ms();
	run(e, NULL, NULL, NULL, 250);
	int64_t took = clock_mono_ms() - t0;
	assert_int_equal(o.timeouts, 10);
	assert_true(took >= 480);
	struct snmp_engine_stats st;
	snmp_engine_stats(e, &st);
	assert_int_equal(st.max_in_flight, 2);
	snmp_engine_free(&e);
	close(s.fd);
}

struct fd_watch {
	int baseline;
	int max_seen;
};

static void watch_fds(void *arg)
{
	struct fd_watch *w = arg;
	int n = open_fds();
	if (n > w->max_seen)
		w->max_seen = n;
}

static void test_global_limits_and_sockets(void **state)
{
	(void)state;
	struct silent s = silent_open();
	/* 40 hosts (one port, 40 jobs), 3 sessions at most, 5 requests in flight at most. */
	struct snmp_engine *e = engine(5, 2, 30, 0, 3);
	struct snmp_profile p = v2c();
	struct outcome o = { .gets = 3 };
	set_oid(&o, "1.3.6.1.2.1.1.3.0");
	for (int i = 0; i < 40; i++)
		assert_non_null(snmp_engine_add_job(e, "127.0.0.1", s.port, &p, 0, &get_ops, &o, NULL));
	struct fd_watch w = { .baseline = open_fds() };
	w.max_seen = w.baseline;
	run(e, NULL, watch_fds, &w, 10);
	assert_int_equal(o.done, 40);
	assert_int_equal(o.timeouts, 120);
	struct snmp_engine_stats st;
	snmp_engine_stats(e, &st);
	assert_true(st.max_in_flight <= 5);
	assert_true(st.max_open_sessions <= 3);
	assert_int_equal(st.jobs, 40);
	/* Sockets are opened lazily and given back: never more than the session cap. */
	assert_true(w.max_seen - w.baseline <= 3);
	assert_int_equal(open_fds(), w.baseline);
	snmp_engine_free(&e);
	close(s.fd);
}

static void test_budget(void **state)
{
	(void)state;
	struct silent s = silent_open();
	struct snmp_engine *e = engine(16, 2, 1000, 3, 0);
	struct snmp_profile p = v2c();
	struct outcome o = { .gets = 3 };
	set_oid(&o, "1.3.6.1.2.1.1.1.0");
	assert_non_null(snmp_engine_add_job(e, "127.0.0.1", s.port, &p, 200, &get_ops, &o, NULL));
	int64_t t0 = clock_mono_ms();
	run(e, NULL, NULL, NULL, 250);
	int64_t took = clock_mono_ms() - t0;
	assert_int_equal(o.aborted, 3);
	assert_int_equal(o.aborted_jobs, 1);
	assert_non_null(strstr(o.reason, "budget"));
	assert_true(took >= 190);
	assert_true(took < 900);
	snmp_engine_free(&e);
	close(s.fd);
}

struct feed {
	struct snmp_profile *p;
	struct outcome *o;
	int port;
	int total, added, calls;
	int worst_backlog;
	atomic_bool *cancel;
	int ticks;
};

static size_t feeder(struct snmp_engine *e, size_t want, void *arg)
{
	struct feed *f = arg;
	f->calls++;
	int backlog = f->added - f->o->done;
	if (backlog > f->worst_backlog)
		f->worst_backlog = backlog;
	size_t n = 0;
	while (n < want && f->added < f->total) {
		assert_non_null(snmp_engine_add_job(e, "127.0.0.1", f->port, f->p, 0, &get_ops, f->o,
						    NULL));
		f->added++;
		n++;
	}
	return n;
}

static void test_feeder(void **state)
{
	(void)state;
	struct silent s = silent_open();
	struct snmp_engine *e = engine(8, 1, 10, 0, 4);
	struct snmp_profile p = v2c();
	struct outcome o = { .gets = 1 };
	set_oid(&o, "1.3.6.1.2.1.1.1.0");
	struct feed f = { .p = &p, .o = &o, .port = s.port, .total = 100 };
	snmp_engine_set_feeder(e, feeder, &f);
	run(e, NULL, NULL, NULL, 250);
	assert_int_equal(f.added, 100);
	assert_int_equal(o.done, 100);
	/* Jobs are made as sessions free up: waiting + active stays within twice the cap. */
	assert_true(f.worst_backlog <= 8);
	snmp_engine_free(&e);
	close(s.fd);
}

static void cancel_on_tick(void *arg)
{
	struct feed *f = arg;
	if (++f->ticks == 2)
		atomic_store(f->cancel, true);
}

static void test_cancel(void **state)
{
	(void)state;
	struct silent s = silent_open();
	struct snmp_engine *e = engine(32, 2, 5000, 2, 16);
	struct snmp_profile p = v2c();
	struct outcome o = { .gets = 2 };
	set_oid(&o, "1.3.6.1.2.1.1.1.0");
	atomic_bool cancel = false;
	struct feed f = { .p = &p, .o = &o, .port = s.port, .total = 1000, .cancel = &cancel };
	snmp_engine_set_feeder(e, feeder, &f);
	int64_t t0 = clock_mono_ms();
	run(e, &cancel, cancel_on_tick, &f, 50);
	int64_t took = clock_mono_ms() - t0;
	assert_true(took < 1000);
	assert_true(f.added < 1000);
	/* Every job made got its done, every request queued its (aborted) reply; jobs still
	 * waiting for a session never started, so they queued nothing. */
	assert_int_equal(o.done, f.added);
	assert_true(o.replies > 0);
	assert_true(o.replies <= 2 * f.added);
	assert_int_equal(o.aborted, o.replies);
	assert_int_equal(o.aborted_jobs, f.added);
	assert_string_equal(o.reason, "cancelled");
	snmp_engine_free(&e);
	close(s.fd);
}

static void test_v3_discovery_without_answer(void **state)
{
	(void)state;
	struct silent s = silent_open();
	struct snmp_engine *e = engine(16, 2, 100, 1, 0);
	struct snmp_profile p;
	memset(&p, 0, sizeof p);
	snprintf(p.name, sizeof p.name, "v3");
	p.version = CONFIG_SNMP_V3;
	snprintf(p.user, sizeof p.user, "fleetcon");
	p.auth = CONFIG_AUTH_SHA512;
	snprintf(p.auth_password, sizeof p.auth_password, "auth-pass-123");
	p.priv = CONFIG_PRIV_AES256;
	snprintf(p.priv_password, sizeof p.priv_password, "priv-pass-123");
	struct outcome o = { .gets = 2 };
	set_oid(&o, "1.3.6.1.2.1.1.1.0");
	assert_non_null(snmp_engine_add_job(e, "127.0.0.1", s.port, &p, 0, &get_ops, &o, NULL));
	int64_t t0 = clock_mono_ms();
	run(e, NULL, NULL, NULL, 250);
	int64_t took = clock_mono_ms() - t0;
	/* The engine discovery is asynchronous: it times out like any request (2 x 100 ms), and
	 * the queued requests fail with it without being sent. */
	assert_int_equal(o.timeouts, 2);
	assert_string_equal(o.message, "no answer to SNMPv3 engine discovery");
	assert_int_equal(silent_count(&s), 2);
	assert_true(took < 1000);
	struct snmp_engine_stats st;
	snmp_engine_stats(e, &st);
	assert_int_equal(st.engine_probes, 2);
	snmp_engine_free(&e);
	close(s.fd);
}

static void test_answers_and_v1_errors(void **state)
{
	(void)state;
	struct agent a = agent_start("fixed");
	struct snmp_engine *e = engine(16, 2, 1000, 1, 0);
	struct snmp_profile p = v2c();
	/* v2c: a missing OID comes back as noSuchObject next to the others. */
	struct outcome o = { .gets = 1 };
	set_oid(&o, "1.3.6.1.2.1.1.1.0");
	set_oid(&o, "1.3.6.1.2.1.1.9.9.0");
	set_oid(&o, "1.3.6.1.2.1.43.5.1.1.17.1");
	assert_non_null(snmp_engine_add_job(e, "127.0.0.1", a.port, &p, 0, &get_ops, &o, NULL));
	run(e, NULL, NULL, NULL, 250);
	assert_int_equal(o.ok, 1);
	assert_int_equal(o.nvars, 3);
	/* v1: the agent refuses the whole GET with noSuchName naming the missing OID; the engine
	 * asks again without it and hands over the rest. */
	struct snmp_profile p1 = v2c();
	p1.version = CONFIG_SNMP_V1;
	struct outcome o1 = { .gets = 1 };
	set_oid(&o1, "1.3.6.1.2.1.1.1.0");
	set_oid(&o1, "1.3.6.1.2.1.1.9.9.0");
	set_oid(&o1, "1.3.6.1.2.1.43.5.1.1.17.1");
	assert_non_null(snmp_engine_add_job(e, "127.0.0.1", a.port, &p1, 0, &get_ops, &o1, NULL));
	run(e, NULL, NULL, NULL, 250);
	assert_int_equal(o1.ok, 1);
	assert_int_equal(o1.errstat, 0);
	assert_int_equal(o1.nvars, 2);
	snmp_engine_free(&e);
	agent_stop(&a);
}

struct walked {
	size_t vbs;
	struct snmp_walk_result res;
	char message[200];
	bool done;
};

static void on_vb(void *arg, size_t column, const netsnmp_variable_list *vb)
{
	(void)column;
	(void)vb;
	((struct walked *)arg)->vbs++;
}

static void on_walk_done(struct snmp_job *job, const struct snmp_walk_result *r, void *arg)
{
	(void)job;
	struct walked *w = arg;
	w->res = *r;
	if (r->message)
		snprintf(w->message, sizeof w->message, "%s", r->message);
	w->res.message = NULL;
	w->done = true;
}

struct walk_job {
	struct walked w;
	struct snmp_walk_opts opts;
	const char *column;
};

static void start_walk(struct snmp_job *job, void *arg)
{
	struct walk_job *wj = arg;
	struct snmp_oid col;
	assert_int_equal(snmp_oid_from_text(wj->column, &col), 0);
	assert_int_equal(snmp_job_walk(job, &col, 1, &wj->opts, on_vb, on_walk_done, &wj->w), 0);
}

static void nothing(struct snmp_job *job, void *arg)
{
	(void)job;
	(void)arg;
}

static const struct snmp_job_ops walk_ops = { start_walk, nothing };

static void test_walk_not_increasing(void **state)
{
	(void)state;
	struct agent a = agent_start("fixed");
	struct snmp_engine *e = engine(16, 2, 1000, 1, 0);
	struct snmp_profile p = v2c();
	/* Every next OID is prtMarkerSuppliesDescription.1.1: once, then the same again. */
	struct walk_job wj = { .column = "1.3.6.1.2.1.43.11.1.1" };
	assert_non_null(snmp_engine_add_job(e, "127.0.0.1", a.port, &p, 5000, &walk_ops, &wj, NULL));
	run(e, NULL, NULL, NULL, 250);
	assert_true(wj.w.done);
	assert_int_equal(wj.w.res.status, SNMP_OK);
	assert_true(wj.w.res.non_increasing);
	assert_true(wj.w.vbs <= 1);
	assert_non_null(strstr(wj.w.message, "does not increase"));
	snmp_engine_free(&e);
	agent_stop(&a);
}

static void test_walk_endless_is_bounded(void **state)
{
	(void)state;
	struct agent a = agent_start("endless");
	struct snmp_engine *e = engine(16, 2, 1000, 1, 0);
	struct snmp_profile p = v2c();
	struct walk_job wj = { .column = "1.3.6.1.2.1.43.18.1.1.8",
			       .opts = { .max_rows = 50, .max_repetitions = 8 } };
	assert_non_null(snmp_engine_add_job(e, "127.0.0.1", a.port, &p, 5000, &walk_ops, &wj, NULL));
	run(e, NULL, NULL, NULL, 250);
	assert_true(wj.w.done);
	assert_int_equal(wj.w.res.status, SNMP_OK);
	assert_true(wj.w.res.truncated);
	assert_int_equal(wj.w.vbs, 50);
	/* 8 rows per GETBULK: 7 requests, not one per row. */
	assert_true(wj.w.res.requests <= 8);
	/* The same bound in bytes. */
	struct walk_job wb = { .column = "1.3.6.1.2.1.43.18.1.1.8",
			       .opts = { .max_bytes = 2000, .max_repetitions = 8 } };
	assert_non_null(snmp_engine_add_job(e, "127.0.0.1", a.port, &p, 5000, &walk_ops, &wb, NULL));
	run(e, NULL, NULL, NULL, 250);
	assert_true(wb.w.res.truncated);
	assert_true(wb.w.vbs < 200);
	snmp_engine_free(&e);
	agent_stop(&a);
}

/* A job that asks one GET, then walks the two table columns. */
struct bulk_job {
	struct walked w;
	bool get_first;
	bool no_bulk_after;
};

static void bulk_walk(struct snmp_job *job, const struct snmp_reply *r, void *arg)
{
	(void)r;
	struct bulk_job *b = arg;
	struct snmp_oid cols[2];
	snmp_oid_from_text("1.3.6.1.2.1.43.11.1.1.6", &cols[0]);
	snmp_oid_from_text("1.3.6.1.2.1.43.11.1.1.9", &cols[1]);
	assert_int_equal(snmp_job_walk(job, cols, 2, NULL, on_vb, on_walk_done, &b->w), 0);
}

static void bulk_start(struct snmp_job *job, void *arg)
{
	struct bulk_job *b = arg;
	if (!b->get_first) {
		bulk_walk(job, NULL, b);
		return;
	}
	struct snmp_oid o;
	snmp_oid_from_text("1.3.6.1.2.1.1.1.0", &o);
	assert_int_equal(snmp_job_get(job, &o, 1, bulk_walk, b), 0);
}

static void bulk_done(struct snmp_job *job, void *arg)
{
	((struct bulk_job *)arg)->no_bulk_after = snmp_job_no_bulk(job);
}

static const struct snmp_job_ops bulk_ops = { bulk_start, bulk_done };

static void test_getbulk_refused(void **state)
{
	(void)state;
	struct nobulk a = nobulk_start(BULK_ERROR);
	struct snmp_engine *e = engine(16, 2, 500, 1, 0);
	struct snmp_profile p = v2c();
	struct bulk_job b = { .get_first = false };
	assert_non_null(snmp_engine_add_job(e, "127.0.0.1", a.port, &p, 5000, &bulk_ops, &b, NULL));
	run(e, NULL, NULL, NULL, 250);
	/* genErr to GETBULK: the walk goes on with GETNEXT, one row a request. */
	assert_int_equal(b.w.res.status, SNMP_OK);
	assert_int_equal(b.w.vbs, 10);
	assert_int_equal(b.w.res.requests, 1 + 6);
	assert_true(b.no_bulk_after);
	/* The engine remembers the host: the next job walks with GETNEXT from the start. */
	struct bulk_job again = { .get_first = false };
	assert_non_null(snmp_engine_add_job(e, "127.0.0.1", a.port, &p, 5000, &bulk_ops, &again, NULL));
	run(e, NULL, NULL, NULL, 250);
	assert_int_equal(again.w.vbs, 10);
	assert_int_equal(again.w.res.requests, 6);
	snmp_engine_free(&e);
	nobulk_stop(&a);
}

static void test_getbulk_dropped(void **state)
{
	(void)state;
	struct nobulk a = nobulk_start(BULK_SILENT);
	struct snmp_engine *e = engine(16, 2, 200, 0, 0);
	struct snmp_profile p = v2c();
	/* The host answered a GET, then drops GETBULK: after the timeout the walk moves to GETNEXT. */
	struct bulk_job b = { .get_first = true };
	assert_non_null(snmp_engine_add_job(e, "127.0.0.1", a.port, &p, 5000, &bulk_ops, &b, NULL));
	int64_t t0 = clock_mono_ms();
	run(e, NULL, NULL, NULL, 250);
	assert_true(clock_mono_ms() - t0 >= 190);
	assert_int_equal(b.w.res.status, SNMP_OK);
	assert_int_equal(b.w.vbs, 10);
	assert_true(b.no_bulk_after);
	snmp_engine_free(&e);
	/* A host that never answered anything: a timeout is a timeout, not a reason to switch. */
	e = engine(16, 2, 200, 0, 0);
	struct bulk_job c = { .get_first = false };
	assert_non_null(snmp_engine_add_job(e, "127.0.0.1", a.port, &p, 5000, &bulk_ops, &c, NULL));
	run(e, NULL, NULL, NULL, 250);
	assert_int_equal(c.w.res.status, SNMP_TIMEOUT);
	assert_false(c.no_bulk_after);
	snmp_engine_free(&e);
	nobulk_stop(&a);
}

static void test_nothing_printed(void **state)
{
	(void)state;
	/* Errors are values: a run with timeouts, refusals and a host that does not resolve leaves
	 * stderr untouched. */
	char *dir = test_tmpdir_new();
	char path[512];
	snprintf(path, sizeof path, "%s/stderr", dir);
	fflush(stderr);
	int saved = dup(2);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(saved >= 0 && fd >= 0);
	dup2(fd, 2);
	close(fd);

	struct silent s = silent_open();
	struct snmp_engine *e = engine(16, 2, 50, 0, 0);
	struct snmp_profile p = v2c();
	struct outcome o = { .gets = 1 };
	set_oid(&o, "1.3.6.1.2.1.1.1.0");
	snmp_engine_add_job(e, "127.0.0.1", s.port, &p, 0, &get_ops, &o, NULL);
	snmp_engine_add_job(e, "no-such-host.invalid", 161, &p, 0, &get_ops, &o, NULL);
	run(e, NULL, NULL, NULL, 250);
	snmp_engine_free(&e);
	close(s.fd);

	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(o.done, 2);
	assert_int_equal(o.aborted_jobs, 1);
	assert_non_null(strstr(o.reason, "no-such-host.invalid"));
	assert_int_equal(st.st_size, 0);
	test_tmpdir_remove(&dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_timeout_and_retries),
		cmocka_unit_test(test_waiting_costs_no_cpu),
		cmocka_unit_test(test_per_host_limit),
		cmocka_unit_test(test_global_limits_and_sockets),
		cmocka_unit_test(test_budget),
		cmocka_unit_test(test_feeder),
		cmocka_unit_test(test_cancel),
		cmocka_unit_test(test_v3_discovery_without_answer),
		cmocka_unit_test(test_answers_and_v1_errors),
		cmocka_unit_test(test_walk_not_increasing),
		cmocka_unit_test(test_walk_endless_is_bounded),
		cmocka_unit_test(test_getbulk_refused),
		cmocka_unit_test(test_getbulk_dropped),
		cmocka_unit_test(test_nothing_printed),
	};
	return cmocka_run_group_tests(tests, group_setup, NULL);
}
