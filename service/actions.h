/* What the console's commands do, on the agent's worker threads: the handlers for every
 * AGENT_CMD_* kind (model/agent.h), built on the collectors, the uplink, the exports and the
 * store, and the agent that runs them. No curses here: the headless service can host the same
 * agent. Handlers report through the agent's events only. */
#ifndef FLEETCON_SERVICE_ACTIONS_H
#define FLEETCON_SERVICE_ACTIONS_H

#include "model/agent.h"
#include "model/error.h"

struct config;

struct actions_config {
	const struct config *cfg; /* borrowed: must outlive the agent's threads */
};

/* A started agent with three workers and every command kind registered:
 *   "collector" (2 threads): poll, discover (a poll can run while a discovery sweeps);
 *   "uplink" (1): upload, preview;
 *   "store" (1): include/exclude, range changes, export, site facts.
 * Each thread opens db_path itself. Initialises Net-SNMP and libcurl for the process first (their
 * global set-up must happen before any thread). ac is borrowed and must outlive the agent. The
 * caller stops and frees the agent (agent_stop, agent_free). NULL with err set on failure. */
struct agent *actions_agent_new(const char *db_path, const struct actions_config *ac, struct fc_error *err);

/* The text the report preview shows for a JSON report body: indented, cut at max_bytes with a
 * last line that says how much was left out. A new string (caller frees), or NULL when out of
 * memory or the body is not JSON (err set). */
char *actions_preview_text(const char *json, size_t len, size_t max_bytes, struct fc_error *err);

#endif
