/* TCP connect probe of print ports (9100 raw, 515 LPD, 631 IPP) for addresses that did not answer
 * SNMP: a device that accepts one of them is a "printer without SNMP", which the admin should see.
 * Non-blocking connects, one poll() loop, a per-connection timeout and a limit on connections in
 * flight; nothing is sent (the connection is reset at once). */
#ifndef FLEETCON_COLLECTORS_PORTPROBE_H
#define FLEETCON_COLLECTORS_PORTPROBE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "model/error.h"

#define PORTPROBE_MAX_PORTS 16

struct portprobe_opts {
	const uint16_t *ports;      /* NULL or nports 0: 9100, 515, 631 */
	size_t nports;              /* at most PORTPROBE_MAX_PORTS */
	int timeout_ms;             /* per connection attempt; <= 0: 1000 */
	int concurrency;            /* attempts in flight at most; <= 0: 64 (capped by the fd limit) */
	bool stop_at_first;         /* once a port of an address accepts, skip its other ports */
	const atomic_bool *cancel;  /* optional: when it becomes true the run stops soon */
};

struct portprobe_result {
	unsigned open_mask;    /* bit j: ports[j] accepted a connection */
	unsigned refused_mask; /* bit j: ports[j] refused (the host is up, the port is closed) */
	uint16_t first_open;   /* the first port in ports[] order that accepted, 0 when none */
};

struct portprobe_stats {
	size_t attempts;      /* connections started */
	size_t max_in_flight; /* the most connections open at once */
	int64_t elapsed_ms;
};

/* Probes every address in addrs[0..n) (AF_INET or AF_INET6; their port is ignored) on the print
 * ports. results[i] (caller-owned, n entries) is filled for addrs[i]; stats may be NULL.
 * Returns 0 when done, 1 when cancelled (results hold what was learnt so far), -1 with err set
 * when the probe could not run (bad options, out of memory). An address that cannot be
 * connected to for any other reason (unreachable network, timeout) simply has no port open. */
int portprobe_run(const struct sockaddr_storage *addrs, size_t n, const struct portprobe_opts *opts,
		  struct portprobe_result *results, struct portprobe_stats *stats,
		  struct fc_error *err);

#endif
