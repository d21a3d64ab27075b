/* The request log the simulator writes (sim --log FILE, switched on and off with SIGUSR2) and the
 * ceiling client replays (sim_ceiling): one record per request datagram, as it arrived. Private
 * to tests/sim/. */
#ifndef FLEETCON_TESTS_SIM_SIMLOG_H
#define FLEETCON_TESTS_SIM_SIMLOG_H

#include <stdint.h>

/* A record: this header (host byte order: the file never leaves the machine that wrote it), then
 * len bytes of the datagram. */
struct simlog_record {
	uint32_t addr; /* the printer's IPv4 address the request was sent to */
	uint16_t len;
	uint16_t pad;
};

#endif
