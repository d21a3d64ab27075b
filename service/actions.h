/* What the agent's commands do, on its worker threads: the handlers for every AGENT_CMD_* kind
 * (model/agent.h), built on the collectors, the uplink, the exports and the store, and the agent
 * that runs them. No curses here: the console, the command line and the headless service host the
 * same agent. Handlers report through the agent's events only. */
#ifndef FLEETCON_SERVICE_ACTIONS_H
#define FLEETCON_SERVICE_ACTIONS_H

#include "model/agent.h"
#include "model/error.h"

struct config;

/* The configuration the handlers read, replaceable while the agent runs (the service's SIGHUP):
 * a command reads the configuration that was in place when it started, to its end. */
struct actions_config;

/* A new holder of cfg (borrowed: the caller keeps it alive until actions_config_free). Caller
 * frees it with actions_config_free() after the agent has stopped. NULL with err set when out of
 * memory. */
struct actions_config *actions_config_new(const struct config *cfg, struct fc_error *err);

/* Puts cfg in place for the commands that start from now on; takes ownership of cfg. The one it
 * replaces is freed (when it was owned) once the last command using it has ended. */
void actions_config_replace(struct actions_config *ac, struct config *cfg);

/* The configuration in place now. Borrowed: valid until the next actions_config_replace() or
 * actions_config_free(), so only the thread that replaces it may keep it. */
const struct config *actions_config_current(struct actions_config *ac);

/* Frees the holder and the configuration it owns, and NULLs *ac. The agent must be stopped. */
void actions_config_free(struct actions_config **ac);

/* A started agent with three workers and every command kind registered:
 *   "collector" (2 threads): poll, discover (a poll can run while a discovery sweeps); each thread
 *     keeps one SNMP engine across commands (SNMPv3 engine IDs and "no GETBULK" hosts stay
 *     known) and what the last poll of each device learned (prtAlertAllEvents and the printer's
 *     index, so an unchanged alert table is not walked again);
 *   "uplink" (1): upload, preview;
 *   "store" (1): include/exclude, range changes, export, site facts.
 * A poll and a sync end with the e-mail alerts (alerting_run) when [smtp] url is set; runs of the
 * alerts never overlap within the process.
 * Each thread opens db_path itself. Initialises Net-SNMP and libcurl for the process first (their
 * global set-up must happen before any thread). ac is borrowed and must outlive the agent. The
 * caller stops and frees the agent (agent_stop, agent_free). NULL with err set on failure. */
struct agent *actions_agent_new(const char *db_path, struct actions_config *ac, struct fc_error *err);

/* AGENT_CMD_DISCOVER's text, when set, is a community: the sweep uses only an SNMPv2c profile
 * with it (the configured profile of that community when there is one, so that later polls find
 * it by name). This is the name such a profile made on the spot gets. */
#define ACTIONS_COMMUNITY_PROFILE "(--community)"

/* The text the report preview shows for a JSON report body: indented, cut at max_bytes with a
 * last line that says how much was left out. A new string (caller frees), or NULL when out of
 * memory or the body is not JSON (err set). */
char *actions_preview_text(const char *json, size_t len, size_t max_bytes, struct fc_error *err);

#endif
