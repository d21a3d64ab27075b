/* Discovery: probe every address of a set of targets with SNMP (each target with its credential
 * profiles, tried in order), tell printers from other devices, poll the printers fully, and list
 * the addresses that do not answer SNMP but accept a print port (9100, 515, 631) as "printers
 * without SNMP". In memory only: the caller stores what it is handed. Addresses are generated as
 * sessions free up, so a /16 costs no more memory than a /24 (the silent addresses are kept, 136
 * bytes each, for the port probe at the end). The port probe runs on a helper thread of its own
 * (it touches no Net-SNMP state); callbacks all come from the calling thread. */
#ifndef FLEETCON_COLLECTORS_DISCOVERY_H
#define FLEETCON_COLLECTORS_DISCOVERY_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "collectors/poll.h"
#include "collectors/snmp_engine.h"
#include "collectors/targets.h"
#include "model/config.h"
#include "model/error.h"

/* One target (from target_parse) and the profiles to try on each of its addresses, in order; the
 * SNMP port is the target's. Everything is borrowed for the call. */
struct discovery_target {
	const struct target *target;
	const struct snmp_profile *const *profiles;
	size_t n_profiles;
};

struct discovery_options {
	struct poll_options poll;   /* for the poll of every printer found */
	bool port_probe;            /* probe the print ports of addresses without SNMP */
	int port_timeout_ms;        /* per connection attempt; 0: the engine's timeout */
};

/* Counts, as progress and at the end. */
struct discovery_counts {
	uint64_t addresses;       /* addresses in all targets (a host name counts as one) */
	uint64_t scanned;         /* addresses whose SNMP probe is finished */
	uint64_t answered;        /* ... that answered SNMP (a refused SNMPv3 user included) */
	uint64_t printers;        /* printers found and polled */
	uint64_t not_printers;    /* answered, but not a printer (counted, not returned) */
	uint64_t refused;         /* answered only with SNMPv3 reports to every profile */
	uint64_t no_snmp;         /* no SNMP answer (before the port probe) */
	uint64_t port_probed;     /* addresses without SNMP whose print ports were probed */
	uint64_t no_snmp_printers;/* no SNMP, but a print port accepted a connection */
	uint64_t target_errors;   /* targets that could not be iterated (a name that does not
				     resolve) */
	uint64_t packets;         /* SNMP datagrams sent */
	int64_t elapsed_ms;
};

/* Callbacks, all on the engine's thread; arg is callbacks.arg. None may block. */
struct discovery_callbacks {
	/* A printer, fully polled. Same ownership as poll_result_fn: take what you keep. */
	void (*printer)(struct poll_result *r, void *arg);
	/* An address without SNMP that accepted a connection on port (9100, 515 or 631). */
	void (*no_snmp_printer)(const char *address, uint16_t port, void *arg);
	/* A target that could not be iterated, and why. */
	void (*target_error)(const char *target_text, const char *message, void *arg);
	/* At least every 250 ms while running, and once at the end. The counts are borrowed. */
	void (*progress)(const struct discovery_counts *c, void *arg);
	void *arg;
};

/* Runs a discovery. Stops early, cleanly, when *cancel becomes true (cancel may be NULL): what was
 * found so far has been handed out, the counts say how far it got. final (may be NULL) gets the
 * last counts. Returns 0 (also when cancelled), or -1 with err set when it could not run (no
 * target, no profile, the engine loop failed). */
int discovery_run(struct snmp_engine *e, const struct discovery_target *targets, size_t n,
		  const struct discovery_options *opts, const struct discovery_callbacks *cb,
		  const atomic_bool *cancel, struct discovery_counts *final, struct fc_error *err);

/* What a discovery would cost, computed before anything is sent (`discover --dry-run`). */
struct discovery_estimate {
	uint64_t addresses;
	uint64_t packets_min;     /* one probe per address, first profile answers */
	uint64_t packets_max;     /* nobody answers: every profile, every retry (SNMPv3: with
				     its engine discovery), plus the port probes */
	double seconds_max;       /* worst case: every address times out on every profile */
	unsigned parallel;        /* addresses probed at once */
};

/* Fills *out for these targets with the engine limits l and opts (may be NULL). Returns 0, or -1
 * with err set (no target). Sends nothing. */
int discovery_estimate(const struct discovery_target *targets, size_t n,
		       const struct engine_limits *l, const struct discovery_options *opts,
		       struct discovery_estimate *out, struct fc_error *err);

#endif
