/* Print-port probe (see portprobe.h): a list of (address, port) attempts worked through with at
 * most `concurrency` non-blocking connects in flight, each with its own deadline, in one poll()
 * loop. Connections are closed with a reset (SO_LINGER 0) so that printers keep no half-open
 * session and we keep no TIME_WAIT. */
#include "collectors/portprobe.h"

#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "model/clock.h"

static const uint16_t default_ports[] = {9100, 515, 631};

#define CANCEL_CHECK_MS 100 /* the longest poll() wait, so that a cancel is seen soon */

struct slot {
	size_t addr, port; /* indices into addrs[] and ports[] */
	int64_t deadline;  /* clock_mono_ms() */
};

struct run {
	const struct sockaddr_storage *addrs;
	const uint16_t *ports;
	size_t nports;
	struct portprobe_result *results;
	struct slot *slots;
	struct pollfd *pfds;
	size_t active;
};

static void close_reset(int fd)
{
	struct linger l = {.l_onoff = 1, .l_linger = 0};
	(void)setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l); /* best effort: a FIN is fine too */
	close(fd);
}

static void record(struct run *r, size_t addr, size_t port, int error)
{
	struct portprobe_result *res = &r->results[addr];
	if (error == 0) {
		res->open_mask |= 1u << port;
		/* ports[] order decides "first", not the order in which answers came in */
		for (size_t j = 0; j < r->nports; j++) {
			if (res->open_mask & (1u << j)) {
				res->first_open = r->ports[j];
				break;
			}
		}
	} else if (error == ECONNREFUSED) {
		res->refused_mask |= 1u << port;
	}
}

/* Starts one attempt. Returns 1 when it is in flight, 0 when it finished at once, -1 when no
 * descriptor is left (try again after others finish). */
static int start(struct run *r, size_t addr, size_t port, int timeout_ms)
{
	struct sockaddr_storage ss = r->addrs[addr];
	socklen_t len;
	if (ss.ss_family == AF_INET) {
		((struct sockaddr_in *)&ss)->sin_port = htons(r->ports[port]);
		len = sizeof(struct sockaddr_in);
	} else if (ss.ss_family == AF_INET6) {
		((struct sockaddr_in6 *)&ss)->sin6_port = htons(r->ports[port]);
		len = sizeof(struct sockaddr_in6);
	} else {
		return 0;
	}
	int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) ? -1 : 0;
	if (connect(fd, (const struct sockaddr *)&ss, len) == 0) {
		record(r, addr, port, 0);
		close_reset(fd);
		return 0;
	}
	if (errno != EINPROGRESS) {
		record(r, addr, port, errno);
		close(fd);
		return 0;
	}
	struct slot *s = &r->slots[r->active];
	s->addr = addr;
	s->port = port;
	s->deadline = clock_mono_ms() + timeout_ms;
	r->pfds[r->active] = (struct pollfd){.fd = fd, .events = POLLOUT};
	r->active++;
	return 1;
}

/* Ends attempt k (moving the last one into its place). error: 0 open, errno otherwise. */
static void finish(struct run *r, size_t k, int error)
{
	record(r, r->slots[k].addr, r->slots[k].port, error);
	if (error == 0)
		close_reset(r->pfds[k].fd);
	else
		close(r->pfds[k].fd);
	r->active--;
	r->slots[k] = r->slots[r->active];
	r->pfds[k] = r->pfds[r->active];
}

static int max_concurrency(int wanted)
{
	struct rlimit rl;
	long cap = 4096;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
	    (long)rl.rlim_cur - 32 < cap)
		cap = (long)rl.rlim_cur - 32;
	if (cap < 1)
		cap = 1;
	return wanted > cap ? (int)cap : wanted;
}

int portprobe_run(const struct sockaddr_storage *addrs, size_t n, const struct portprobe_opts *opts,
		  struct portprobe_result *results, struct portprobe_stats *stats,
		  struct fc_error *err)
{
	static const struct portprobe_opts defaults = {0};
	if (!opts)
		opts = &defaults;
	struct run r = {.addrs = addrs, .results = results};
	r.ports = opts->ports && opts->nports ? opts->ports : default_ports;
	r.nports = opts->ports && opts->nports ? opts->nports
					       : sizeof default_ports / sizeof default_ports[0];
	if (r.nports > PORTPROBE_MAX_PORTS)
		return fc_error_set(err, "port probe: at most %d ports (got %zu)", PORTPROBE_MAX_PORTS,
				    r.nports);
	for (size_t j = 0; j < r.nports; j++)
		if (r.ports[j] == 0)
			return fc_error_set(err, "port probe: port 0 is not a port");
	int timeout_ms = opts->timeout_ms > 0 ? opts->timeout_ms : 1000;
	int conc = max_concurrency(opts->concurrency > 0 ? opts->concurrency : 64);
	memset(results, 0, n * sizeof *results);
	struct portprobe_stats st = {0};
	int64_t t0 = clock_mono_ms();

	r.slots = calloc((size_t)conc, sizeof *r.slots);
	r.pfds = calloc((size_t)conc, sizeof *r.pfds);
	if (!r.slots || !r.pfds) {
		free(r.slots);
		free(r.pfds);
		return fc_error_set(err, "port probe: out of memory");
	}

	size_t total = n * r.nports, next = 0;
	int rc = 0;
	while (next < total || r.active > 0) {
		if (opts->cancel && atomic_load(opts->cancel)) {
			rc = 1;
			break;
		}
		while (next < total && r.active < (size_t)conc) {
			size_t a = next / r.nports, p = next % r.nports;
			if (opts->stop_at_first && results[a].open_mask) {
				next++;
				continue;
			}
			int s = start(&r, a, p, timeout_ms);
			if (s < 0) {
				if (r.active == 0) {
					rc = fc_error_set(err, "port probe: no socket available: %s",
							  strerror(errno));
					goto out;
				}
				break; /* out of descriptors: wait for some to finish */
			}
			next++;
			st.attempts++;
			if (r.active > st.max_in_flight)
				st.max_in_flight = r.active;
		}
		if (r.active == 0)
			continue;
		int64_t now = clock_mono_ms(), wait = CANCEL_CHECK_MS;
		for (size_t k = 0; k < r.active; k++)
			if (r.slots[k].deadline - now < wait)
				wait = r.slots[k].deadline - now;
		if (wait < 0)
			wait = 0;
		if (poll(r.pfds, r.active, (int)wait) < 0 && errno != EINTR) {
			rc = fc_error_set(err, "port probe: poll: %s", strerror(errno));
			goto out;
		}
		now = clock_mono_ms();
		for (size_t k = r.active; k-- > 0;) {
			if (r.pfds[k].revents) {
				int soerr = 0;
				socklen_t sl = sizeof soerr;
				if (getsockopt(r.pfds[k].fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0)
					soerr = errno;
				finish(&r, k, soerr);
			} else if (now >= r.slots[k].deadline) {
				finish(&r, k, ETIMEDOUT);
			}
		}
	}
out:
	while (r.active > 0)
		finish(&r, r.active - 1, ECANCELED);
	free(r.slots);
	free(r.pfds);
	st.elapsed_ms = clock_mono_ms() - t0;
	if (stats)
		*stats = st;
	return rc;
}
