/* Unit tests for collectors/portprobe against real sockets on loopback: a listening port is seen
 * open, a closed port refused, a port whose accept queue is full times out, the concurrency limit
 * holds, and a cancel stops the run. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <unistd.h>

#include "collectors/portprobe.h"
#include "model/clock.h"

static struct sockaddr_storage v4(const char *ip)
{
	struct sockaddr_storage ss;
	memset(&ss, 0, sizeof ss);
	struct sockaddr_in *s = (struct sockaddr_in *)&ss;
	s->sin_family = AF_INET;
	assert_int_equal(inet_pton(AF_INET, ip, &s->sin_addr), 1);
	return ss;
}

/* A TCP socket bound to ip on a port the kernel picks; listening when backlog >= 0. */
static int bound_socket(const char *ip, int backlog, uint16_t *port)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	struct sockaddr_storage ss = v4(ip);
	assert_int_equal(bind(fd, (struct sockaddr *)&ss, sizeof(struct sockaddr_in)), 0);
	if (backlog >= 0)
		assert_int_equal(listen(fd, backlog), 0);
	socklen_t len = sizeof ss;
	assert_int_equal(getsockname(fd, (struct sockaddr *)&ss, &len), 0);
	*port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
	return fd;
}

static void test_open_and_refused(void **state)
{
	(void)state;
	uint16_t open_port, closed_port;
	int lfd = bound_socket("127.0.0.2", 16, &open_port);
	/* Bound but not listening: connections to it are refused. */
	int cfd = bound_socket("127.0.0.2", -1, &closed_port);
	uint16_t ports[] = {closed_port, open_port};
	struct sockaddr_storage addrs[] = {v4("127.0.0.2"), v4("127.0.0.3")};
	struct portprobe_result res[2];
	struct portprobe_stats st;
	struct portprobe_opts o = {.ports = ports, .nports = 2, .timeout_ms = 2000};
	struct fc_error err = {{0}};
	assert_int_equal(portprobe_run(addrs, 2, &o, res, &st, &err), 0);
	assert_int_equal(res[0].open_mask, 2);
	assert_int_equal(res[0].refused_mask, 1);
	assert_int_equal(res[0].first_open, open_port);
	/* Nothing listens on 127.0.0.3 (the listener is bound to .2 only). */
	assert_int_equal(res[1].open_mask, 0);
	assert_int_equal(res[1].refused_mask, 3);
	assert_int_equal(res[1].first_open, 0);
	assert_int_equal(st.attempts, 4);
	assert_true(st.elapsed_ms < 2000);
	close(lfd);
	close(cfd);
}

static void test_stop_at_first(void **state)
{
	(void)state;
	uint16_t p1, p2;
	int a = bound_socket("127.0.0.4", 16, &p1);
	int b = bound_socket("127.0.0.4", 16, &p2);
	uint16_t ports[] = {p1, p2};
	struct sockaddr_storage addrs[] = {v4("127.0.0.4")};
	struct portprobe_result res[1];
	struct portprobe_stats st;
	struct portprobe_opts o = {.ports = ports, .nports = 2, .concurrency = 1, .stop_at_first = true};
	assert_int_equal(portprobe_run(addrs, 1, &o, res, &st, NULL), 0);
	assert_int_equal(res[0].open_mask, 1);
	assert_int_equal(res[0].first_open, p1);
	assert_int_equal(st.attempts, 1);
	o.stop_at_first = false;
	assert_int_equal(portprobe_run(addrs, 1, &o, res, &st, NULL), 0);
	assert_int_equal(res[0].open_mask, 3);
	assert_int_equal(st.attempts, 2);
	close(a);
	close(b);
}

/* A listener whose accept queue is full drops further SYNs, so a connect hangs like one to a
 * filtered port. Returns the listener, and the connections that fill its queue in fill[]. */
static int full_listener(uint16_t *port, int fill[4])
{
	int lfd = bound_socket("127.0.0.5", 0, port);
	struct sockaddr_storage ss = v4("127.0.0.5");
	((struct sockaddr_in *)&ss)->sin_port = htons(*port);
	for (int i = 0; i < 4; i++) {
		fill[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		assert_true(fill[i] >= 0);
		int rc = connect(fill[i], (struct sockaddr *)&ss, sizeof(struct sockaddr_in));
		assert_true(rc == 0 || errno == EINPROGRESS);
	}
	return lfd;
}

static void test_timeout_and_concurrency(void **state)
{
	(void)state;
	uint16_t port;
	int fill[4];
	int lfd = full_listener(&port, fill);
	struct sockaddr_storage addrs[12];
	for (int i = 0; i < 12; i++)
		addrs[i] = v4("127.0.0.5");
	struct portprobe_result res[12];
	struct portprobe_stats st;
	struct portprobe_opts o = {.ports = &port, .nports = 1, .timeout_ms = 150, .concurrency = 4};
	assert_int_equal(portprobe_run(addrs, 12, &o, res, &st, NULL), 0);
	assert_int_equal(st.attempts, 12);
	assert_int_equal(st.max_in_flight, 4);
	size_t timed_out = 0;
	for (int i = 0; i < 12; i++)
		if (!res[i].open_mask && !res[i].refused_mask)
			timed_out++;
	/* The kernel may still squeeze in a connection or two; most must wait for the deadline. */
	assert_true(timed_out >= 8);
	/* 12 attempts, 4 at a time, 150 ms each: at least two full rounds of waiting. */
	assert_true(st.elapsed_ms >= 300);
	assert_true(st.elapsed_ms < 3000);
	for (int i = 0; i < 4; i++)
		close(fill[i]);
	close(lfd);
}

static void test_cancel(void **state)
{
	(void)state;
	uint16_t port;
	int fill[4];
	int lfd = full_listener(&port, fill);
	struct sockaddr_storage addrs[50];
	for (int i = 0; i < 50; i++)
		addrs[i] = v4("127.0.0.5");
	struct portprobe_result res[50];
	struct portprobe_stats st;
	atomic_bool cancel = true;
	struct portprobe_opts o = {.ports = &port, .nports = 1, .timeout_ms = 5000, .cancel = &cancel};
	assert_int_equal(portprobe_run(addrs, 50, &o, res, &st, NULL), 1);
	assert_true(st.elapsed_ms < 1000);
	for (int i = 0; i < 4; i++)
		close(fill[i]);
	close(lfd);
}

static void test_ipv6_loopback(void **state)
{
	(void)state;
	int fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		skip();
		return;
	}
	struct sockaddr_storage ss;
	memset(&ss, 0, sizeof ss);
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
	s6->sin6_family = AF_INET6;
	s6->sin6_addr = in6addr_loopback;
	if (bind(fd, (struct sockaddr *)&ss, sizeof *s6) != 0) {
		close(fd);
		skip(); /* no ::1 on this host */
		return;
	}
	assert_int_equal(listen(fd, 4), 0);
	socklen_t len = sizeof ss;
	assert_int_equal(getsockname(fd, (struct sockaddr *)&ss, &len), 0);
	uint16_t port = ntohs(s6->sin6_port);
	struct portprobe_result res[1];
	struct portprobe_opts o = {.ports = &port, .nports = 1};
	assert_int_equal(portprobe_run(&ss, 1, &o, res, NULL, NULL), 0);
	assert_int_equal(res[0].first_open, port);
	close(fd);
}

static void test_bad_options(void **state)
{
	(void)state;
	uint16_t ports[PORTPROBE_MAX_PORTS + 1] = {0};
	for (size_t i = 0; i < PORTPROBE_MAX_PORTS + 1; i++)
		ports[i] = (uint16_t)(1000 + i);
	struct sockaddr_storage addrs[] = {v4("127.0.0.2")};
	struct portprobe_result res[1];
	struct fc_error err = {{0}};
	struct portprobe_opts o = {.ports = ports, .nports = PORTPROBE_MAX_PORTS + 1};
	assert_int_equal(portprobe_run(addrs, 1, &o, res, NULL, &err), -1);
	assert_non_null(strstr(err.msg, "at most 16 ports"));
	ports[0] = 0;
	o.nports = 1;
	assert_int_equal(portprobe_run(addrs, 1, &o, res, NULL, &err), -1);
	/* No addresses: nothing to do. */
	assert_int_equal(portprobe_run(addrs, 0, NULL, res, NULL, &err), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_open_and_refused),
		cmocka_unit_test(test_stop_at_first),
		cmocka_unit_test(test_timeout_and_concurrency),
		cmocka_unit_test(test_cancel),
		cmocka_unit_test(test_ipv6_loopback),
		cmocka_unit_test(test_bad_options),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
