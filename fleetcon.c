/* fleetcon: the entry point. Global options, then a subcommand (each lives with the module it
 * drives), the console on a terminal, or a hint to use a subcommand. */
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "collectors/commands.h"
#include "collectors/discovery.h"
#include "collectors/targets.h"
#include "exports/commands.h"
#include "model/agent.h"
#include "model/config.h"
#include "model/context.h"
#include "model/error.h"
#include "model/queue.h"
#include "model/store.h"
#include "model/version.h"
#include "service/actions.h"
#include "service/link.h"
#include "service/run.h"
#include "tui/console.h"
#include "uplink/commands.h"

static int config_main(struct fc_context *ctx, int argc, char **argv);
static int discover_main(struct fc_context *ctx, int argc, char **argv);
static int poll_main(struct fc_context *ctx, int argc, char **argv);
static int linked_include_main(struct fc_context *ctx, int argc, char **argv);
static int linked_range_main(struct fc_context *ctx, int argc, char **argv);
static int linked_upload_main(struct fc_context *ctx, int argc, char **argv);

/* The subcommands that work in this build; --help lists exactly these. */
static const struct command {
	const char *name;
	fc_command_fn run;
	const char *usage;
	const char *summary;
} commands[] = {
	{ "discover", discover_main, "discover TARGET... [--profile NAMES | --community STR] [--dry-run]",
	  "find printers (TARGET: HOST[:PORT], A.B.C.D/N, A.B.C.D-A.B.C.E) and add them" },
	{ "poll", poll_main, "poll [DEVICE...]", "read meters, supplies and faults now (default: every included device)" },
	{ "devices", devices_main, "devices [--json]", "list the devices in the database" },
	{ "show", show_main, "show DEVICE [--json] [--raw]", "one device: identity, status, meters, supplies, alerts" },
	{ "alerts", alerts_main, "alerts [--json] [--all]", "the printers' active alerts, worst first (--all: every device)" },
	{ "include", linked_include_main, "include DEVICE...", "manage and report these devices" },
	{ "exclude", linked_include_main, "exclude DEVICE...", "stop managing and reporting these devices" },
	{ "range", linked_range_main, "range add|edit|list|remove", "the discovery ranges and manual addresses" },
	{ "report", report_main, "report --preview [--json]", "show exactly what the next report would send" },
	{ "upload", linked_upload_main, "upload", "build a report and send it now, with every waiting one" },
	{ "status", status_main, "status [--json] [--history N]", "sync status; exit 1 when the last sync failed or one is overdue" },
	{ "export", export_main, "export --format html|csv --output PATH", EXPORT_SUMMARY },
	{ "run", run_main, RUN_USAGE, RUN_SUMMARY },
	{ "console", console_main, "console [--readonly] [--ascii] [--no-color] [--no-mouse]", "the administration console (the default on a terminal)" },
	{ "siteinfo", siteinfo_main, "siteinfo [--json]", "facts about this site and the agent's host" },
	{ "config", config_main, "config check", "validate the configuration and print it, secrets masked" },
};

static void usage(FILE *out)
{
	fprintf(out,
		"usage: fleetcon [--config FILE] [--db FILE] COMMAND [ARGS]\n"
		"       fleetcon --help | --version\n"
		"\n"
		"fleetcon is a print-fleet agent: it finds printers over SNMP, reads their meters,\n"
		"supplies and faults, and keeps them in a local database.\n"
		"\n"
		"Options:\n"
		"  -c, --config FILE  configuration file (default: $FLEETCON_CONFIG,\n"
		"                     $XDG_CONFIG_HOME/fleetcon/fleetcon.conf, /etc/fleetcon/fleetcon.conf)\n"
		"      --db FILE      database file (overrides [database] path)\n"
		"  -h, --help         this help\n"
		"  -V, --version      print the version\n"
		"\n"
		"Commands:\n");
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		fprintf(out, "  %-28s %s\n", commands[i].usage, commands[i].summary);
	fprintf(out,
		"\n"
		"Exit codes: 0 ok, 1 the operation failed, 2 usage or configuration error.\n"
		"See fleetcon.conf.example and docs/ for the configuration.\n");
}

/* ---- discover and poll: the agent's own handlers, without the console ---- */

static volatile sig_atomic_t interrupted;

static void on_interrupt(int sig)
{
	(void)sig;
	interrupted = 1;
}

/* Runs jobs already submitted to a started agent until each is done, printing progress (on a
 * terminal) and warnings to ctx->err and each job's result line to ctx->out. Ctrl-C cancels them.
 * Returns EXIT_OK when every job succeeded. */
static int wait_jobs(struct fc_context *ctx, struct agent_link *l, const int64_t *jobs, size_t n)
{
	size_t left = n;
	int rc = EXIT_OK;
	bool tty = isatty(fileno(ctx->err));
	bool progress_shown = false;
	bool cancel_sent = false;
	while (left > 0) {
		if (interrupted && !cancel_sent) {
			for (size_t i = 0; i < n; i++)
				link_cancel(l, jobs[i]);
			cancel_sent = true;
			fprintf(ctx->err, "\n%s: cancelling...\n", ctx->argv0);
		}
		struct fc_msg *ev = NULL;
		int got = link_pop(l, &ev, 200);
		if (got == FC_QUEUE_CLOSED) {
			fprintf(ctx->err, "%s: the agent went away: %s\n", ctx->argv0,
				*link_gone_reason(l) ? link_gone_reason(l) : "stopped");
			rc = EXIT_FAILED;
			break;
		}
		if (got != 0)
			continue;
		switch (ev->kind) {
		case AGENT_EV_PROGRESS:
			if (tty && ev->text) {
				fprintf(ctx->err, "\r\033[K%s", ev->text);
				progress_shown = true;
			}
			break;
		case AGENT_EV_LOG:
			if (ev->a <= AGENT_WARN && ev->text) {
				if (progress_shown)
					fputc('\n', ctx->err);
				progress_shown = false;
				fprintf(ctx->err, "%s: %s: %s\n", ctx->argv0, agent_level_name((int)ev->a), ev->text);
			}
			break;
		case AGENT_EV_RESULT:
			if (ev->text)
				fprintf(ctx->out, "%s\n", ev->text);
			break;
		case AGENT_EV_JOB_DONE:
			for (size_t i = 0; i < n; i++) {
				if (jobs[i] != ev->id)
					continue;
				left--;
				if (progress_shown)
					fputc('\n', ctx->err);
				progress_shown = false;
				if (ev->a == AGENT_JOB_OK) {
					fprintf(ctx->out, "%s\n", ev->text ? ev->text : "done");
				} else {
					fprintf(ctx->err, "%s: %s\n", ctx->argv0, ev->text ? ev->text : "failed");
					rc = EXIT_FAILED;
				}
			}
			break;
		default:
			break;
		}
		fc_msg_free(&ev);
	}
	return rc;
}

/* Submits the command kind for each of ids[0..n-1] (with a, b and text) to the agent of the
 * configured database: the service's when one runs, else one started here for the command. Waits
 * until each is done, printing as wait_jobs() does. */
static int submit_and_wait(struct fc_context *ctx, int kind, const int64_t *ids, size_t n, int64_t a, int64_t b,
			   const char *text)
{
	struct fc_error err = { { 0 } };
	struct agent_link *l = NULL;
	struct actions_config *ac = actions_config_new(ctx->cfg, &err);
	struct link_options lo = { .db_path = ctx->cfg->database.path, .ac = ac };
	if (!ac || link_open(&lo, &l, &err) < 0) {
		fprintf(ctx->err, "%s: %s\n", ctx->argv0, err.msg);
		actions_config_free(&ac);
		return EXIT_FAILED;
	}
	int64_t *jobs = calloc(n ? n : 1, sizeof *jobs);
	int rc = jobs ? EXIT_OK : EXIT_FAILED;
	size_t submitted = 0;
	for (size_t i = 0; i < n && rc == EXIT_OK; i++) {
		if (link_submit(l, kind, ids ? ids[i] : 0, a, b, text, &jobs[i], &err) < 0) {
			fprintf(ctx->err, "%s: %s\n", ctx->argv0, err.msg);
			rc = EXIT_FAILED;
		} else {
			submitted++;
		}
	}
	struct sigaction sa = { .sa_handler = on_interrupt }, old_int, old_term;
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	int waited = wait_jobs(ctx, l, jobs, submitted);
	if (rc == EXIT_OK)
		rc = waited;
	if (link_close(&l, 15000, &err) < 0)
		fprintf(ctx->err, "%s: %s\n", ctx->argv0, err.msg); /* its threads still use ac: not freed */
	else
		actions_config_free(&ac);
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	free(jobs);
	return interrupted && rc == EXIT_OK ? EXIT_FAILED : rc;
}

/* ---- commands that change something go through the service when one runs ---- */

/* The devices keys[0..n-1] name (id, serial or address) into ids, every one resolved before
 * anything is sent: a typo changes nothing. Returns EXIT_OK, or EXIT_USAGE / EXIT_FAILED after a
 * message. */
static int resolve_devices(struct fc_context *ctx, char **keys, size_t n, int64_t *ids)
{
	struct store *s = NULL;
	if (context_open_store(ctx, 0, &s) < 0)
		return EXIT_FAILED;
	int rc = EXIT_OK;
	for (size_t i = 0; i < n; i++) {
		int found = context_find_device(ctx, s, keys[i], &ids[i]);
		if (found != EXIT_OK && rc != EXIT_FAILED)
			rc = found;
	}
	store_close(&s);
	return rc;
}

/* include / exclude DEVICE... */
static int linked_include_main(struct fc_context *ctx, int argc, char **argv)
{
	if (argc < 2 || argv[1][0] == '-' || !link_probe(ctx->cfg->database.path))
		return include_main(ctx, argc, argv);
	int64_t *ids = calloc((size_t)argc, sizeof *ids);
	int rc = ids ? resolve_devices(ctx, argv + 1, (size_t)argc - 1, ids) : EXIT_FAILED;
	if (rc == EXIT_OK)
		rc = submit_and_wait(ctx, AGENT_CMD_INCLUDE, ids, (size_t)argc - 1, strcmp(argv[0], "include") == 0, 0, NULL);
	free(ids);
	return rc;
}

static int profiles_of(struct fc_context *ctx, const char *list, const struct snmp_profile **out);

/* The range whose id or target is key: every range into *all (the caller frees them with
 * range_array_free(all, *n)), its place in *at. Returns EXIT_OK, or EXIT_USAGE / EXIT_FAILED after
 * a message (nothing to free then). */
static int range_find(struct fc_context *ctx, const char *key, struct range **all, size_t *n, size_t *at)
{
	struct store *s = NULL;
	if (context_open_store(ctx, 0, &s) < 0)
		return EXIT_FAILED;
	struct fc_error err = { { 0 } };
	int rc = store_ranges_list(s, all, n, &err);
	store_close(&s);
	if (rc < 0) {
		fprintf(ctx->err, "%s: %s\n", ctx->argv0, err.msg);
		return EXIT_FAILED;
	}
	for (*at = 0; *at < *n; (*at)++) {
		char num[24];
		snprintf(num, sizeof num, "%" PRId64, (*all)[*at].id);
		if (!strcmp(key, num) || ((*all)[*at].target && !strcmp(key, (*all)[*at].target)))
			return EXIT_OK;
	}
	fprintf(ctx->err, "%s: no range \"%s\" (see 'fleetcon range list')\n", ctx->argv0, key);
	range_array_free(all, *n);
	return EXIT_USAGE;
}

/* range edit ID|TARGET [--target T] [--profile NAMES] [--port N] [--enable|--disable] [--force]:
 * the console's range editor from the command line, through the same agent command and handler
 * (the service's when one runs). What is not given stays. The new range is checked here as range
 * add checks one, so a typo is a usage error and nothing is sent. */
static int range_edit(struct fc_context *ctx, int argc, char **argv)
{
	static const struct option options[] = {
		{ "target", required_argument, NULL, 't' },
		{ "profile", required_argument, NULL, 'p' },
		{ "port", required_argument, NULL, 'P' },
		{ "enable", no_argument, NULL, 'e' },
		{ "disable", no_argument, NULL, 'd' },
		{ "force", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *usage =
		"usage: fleetcon range edit ID|TARGET [--target TARGET] [--profile NAMES] [--port N]\n"
		"                                     [--enable | --disable] [--force]\n"
		"  Changes only what is given; the range keeps the rest, its id, creation time and last run.\n"
		"  --profile \"\": every profile. --port \"\": the target's own port or [poll] port.\n"
		"  --disable: kept in the list, not swept by the schedule. --force: a new target larger than a /16.\n";
	const char *target = NULL, *profiles = NULL, *port_text = NULL;
	int enable = -1; /* -1: as it is */
	bool force = false, both = false;
	long port = 0;
	int opt;
	optind = 0;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "t:p:P:edfh", options, NULL)) != -1) {
		switch (opt) {
		case 't': target = optarg; break;
		case 'p': profiles = optarg; break;
		case 'P': port_text = optarg; break;
		case 'e':
		case 'd':
			both = both || enable == (opt == 'd'); /* the other one came before */
			enable = opt == 'e';
			break;
		case 'f': force = true; break;
		case 'h': fputs(usage, ctx->out); return EXIT_OK;
		default: fputs(usage, ctx->err); return EXIT_USAGE;
		}
	}
	if (argc - optind != 1) {
		fputs(usage, ctx->err);
		return EXIT_USAGE;
	}
	if (both) {
		fprintf(ctx->err, "%s: range edit: --enable and --disable exclude each other\n", ctx->argv0);
		return EXIT_USAGE;
	}
	if (!target && !profiles && !port_text && enable < 0) {
		fprintf(ctx->err, "%s: range edit: nothing to change: give --target, --profile, --port, --enable or "
				  "--disable\n", ctx->argv0);
		return EXIT_USAGE;
	}
	char *end;
	if (port_text && *port_text && ((port = strtol(port_text, &end, 10)) < 1 || port > 65535 || *end)) {
		fprintf(ctx->err, "%s: --port \"%s\": give a port number from 1 to 65535\n", ctx->argv0, port_text);
		return EXIT_USAGE;
	}
	const struct snmp_profile **named = calloc(ctx->cfg->profile_count, sizeof *named);
	if (!named)
		return EXIT_FAILED;
	int checked = profiles && *profiles ? profiles_of(ctx, profiles, named) : 0;
	free(named);
	if (checked < 0)
		return EXIT_USAGE;
	struct range *all = NULL;
	size_t n = 0, at = 0;
	int rc = range_find(ctx, argv[optind], &all, &n, &at);
	if (rc != EXIT_OK)
		return rc;
	const struct range *r = &all[at];
	/* an unchanged target was accepted when it was added: it needs no --force again (the
	 * handler knows it too), and keeps its kind; a new one is a manual address or a sweep as it
	 * says */
	bool kept = !target;
	int64_t b = target ? 0 : r->manual ? 1 : 2;
	if (force)
		b |= AGENT_RANGE_FORCE;
	if (enable < 0 ? !r->enabled : !enable)
		b |= AGENT_RANGE_DISABLED;
	if (!port_text)
		port = r->port;
	if (!target)
		target = r->target ? r->target : "";
	if (!profiles)
		profiles = r->profiles ? r->profiles : "";
	int64_t id = r->id;
	struct target t;
	struct fc_error err = { { 0 } };
	char *text = NULL;
	if (target_parse(target, (uint16_t)(port ? port : ctx->cfg->poll.port), force || kept, &t, &err) < 0) {
		fprintf(ctx->err, "%s: %s\n", ctx->argv0, err.msg);
		rc = EXIT_USAGE;
	} else if (asprintf(&text, "%s\t%s", target, profiles) < 0) {
		text = NULL;
		rc = EXIT_FAILED;
	}
	range_array_free(&all, n);
	if (rc == EXIT_OK)
		rc = submit_and_wait(ctx, AGENT_CMD_RANGE_EDIT, &id, 1, port, b, text);
	free(text);
	return rc;
}

/* range add TARGET [--profile NAMES] [--port N] [--force], range edit and range remove ID|TARGET;
 * range list reads the database itself. */
static int linked_range_main(struct fc_context *ctx, int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "edit"))
		return range_edit(ctx, argc - 1, argv + 1);
	if (argc < 2 || (strcmp(argv[1], "add") != 0 && strcmp(argv[1], "remove") != 0) ||
	    !link_probe(ctx->cfg->database.path))
		return range_main(ctx, argc, argv);
	if (!strcmp(argv[1], "remove")) {
		if (argc != 3)
			return range_main(ctx, argc, argv); /* its usage message */
		struct range *r = NULL;
		size_t n = 0, at = 0;
		int rc = range_find(ctx, argv[2], &r, &n, &at);
		if (rc != EXIT_OK)
			return rc;
		int64_t id = r[at].id;
		range_array_free(&r, n);
		return submit_and_wait(ctx, AGENT_CMD_RANGE_REMOVE, &id, 1, 0, 0, NULL);
	}
	static const struct option options[] = {
		{ "profile", required_argument, NULL, 'p' },
		{ "port", required_argument, NULL, 'P' },
		{ "force", no_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 },
	};
	const char *profiles = "";
	long port = 0;
	bool force = false;
	int opt;
	optind = 0;
	opterr = 0;
	while ((opt = getopt_long(argc - 1, argv + 1, "p:P:f", options, NULL)) != -1) {
		char *end;
		switch (opt) {
		case 'p':
			if (!*optarg)
				return range_main(ctx, argc, argv); /* its message */
			profiles = optarg;
			break;
		case 'P':
			port = strtol(optarg, &end, 10);
			if (!*optarg || *end || port < 1 || port > 65535)
				return range_main(ctx, argc, argv); /* its message */
			break;
		case 'f': force = true; break;
		default: return range_main(ctx, argc, argv);
		}
	}
	if (argc - 1 - optind != 1)
		return range_main(ctx, argc, argv);
	char *text = NULL;
	if (asprintf(&text, "%s\t%s", argv[1 + optind], profiles) < 0)
		return EXIT_FAILED;
	int64_t none = 0;
	int rc = submit_and_wait(ctx, AGENT_CMD_RANGE_ADD, &none, 1, port, force ? AGENT_RANGE_FORCE : 0, text);
	free(text);
	return rc;
}

/* upload: a sync now, by the service when one runs (its outbox, its lock, its log). */
static int linked_upload_main(struct fc_context *ctx, int argc, char **argv)
{
	if (argc > 1 || !ctx->cfg->server.url[0] || !link_probe(ctx->cfg->database.path))
		return upload_main(ctx, argc, argv);
	int64_t none = 0;
	return submit_and_wait(ctx, AGENT_CMD_UPLOAD, &none, 1, 0, 0, NULL);
}

static int poll_main(struct fc_context *ctx, int argc, char **argv)
{
	if (argc > 1 && argv[1][0] == '-') {
		fprintf(ctx->err, "usage: fleetcon poll [DEVICE...]   (DEVICE: id, serial or address; "
				  "none: every included device)\n");
		return strcmp(argv[1], "--help") == 0 ? EXIT_OK : EXIT_USAGE;
	}
	size_t n = argc > 1 ? (size_t)argc - 1 : 1;
	int64_t *ids = calloc(n, sizeof *ids);
	if (!ids)
		return EXIT_FAILED;
	int rc = argc > 1 ? resolve_devices(ctx, argv + 1, n, ids) : EXIT_OK;
	if (rc == EXIT_OK)
		rc = submit_and_wait(ctx, AGENT_CMD_POLL, ids, n, 0, 0, NULL);
	free(ids);
	return rc;
}

/* The profiles named in a comma-separated list (every configured one when list is empty), in
 * order, into out (room for cfg->profile_count). Returns how many, or -1 after a message. */
static int profiles_of(struct fc_context *ctx, const char *list, const struct snmp_profile **out)
{
	size_t k = 0;
	if (!*list) {
		for (size_t i = 0; i < ctx->cfg->profile_count; i++)
			out[k++] = &ctx->cfg->profiles[i];
		return (int)k;
	}
	char *copy = strdup(list), *save = NULL;
	if (!copy)
		return -1;
	for (char *name = strtok_r(copy, ",", &save); name; name = strtok_r(NULL, ",", &save)) {
		const struct snmp_profile *p = config_profile(ctx->cfg, name);
		if (!p) {
			fprintf(ctx->err, "%s: no profile \"%s\" in the configuration (add a [profile %s] section)\n",
				ctx->argv0, name, name);
			free(copy);
			return -1;
		}
		if (k < ctx->cfg->profile_count)
			out[k++] = p;
	}
	free(copy);
	return (int)k;
}

static int discover_main(struct fc_context *ctx, int argc, char **argv)
{
	static const struct option options[] = {
		{ "profile", required_argument, NULL, 'p' },
		{ "community", required_argument, NULL, 'C' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "force", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *usage = "usage: fleetcon discover TARGET... [--profile NAME[,NAME...] | --community STR] [--dry-run] [--force]\n"
			    "  TARGET: HOST[:PORT], A.B.C.D/N[:PORT], A.B.C.D-A.B.C.E[:PORT] or an IPv6 address.\n"
			    "  Each target joins the discovery list (see 'fleetcon range list') and is swept now;\n"
			    "  printers found are added. --community sweeps with an SNMPv2c community given here\n"
			    "  instead of the configured profiles. --dry-run prints the cost and sends nothing.\n";
	const char *profile_list = "", *community = NULL;
	struct snmp_profile adhoc = { .name = ACTIONS_COMMUNITY_PROFILE, .version = CONFIG_SNMP_V2C };
	bool dry_run = false, force = false;
	int opt;
	optind = 0;
	while ((opt = getopt_long(argc, argv, "p:nfh", options, NULL)) != -1) {
		switch (opt) {
		case 'p':
			if (!*optarg) {
				fprintf(ctx->err, "%s: --profile needs one or more profile names (leave it out to use every profile)\n", ctx->argv0);
				return EXIT_USAGE;
			}
			profile_list = optarg;
			break;
		case 'C': community = optarg; break;
		case 'n': dry_run = true; break;
		case 'f': force = true; break;
		case 'h': fputs(usage, ctx->out); return EXIT_OK;
		default: fputs(usage, ctx->err); return EXIT_USAGE;
		}
	}
	size_t n = (size_t)(argc - optind);
	if (n == 0) {
		fputs(usage, ctx->err);
		return EXIT_USAGE;
	}
	if (community && *profile_list) {
		fprintf(ctx->err, "%s: discover: --profile and --community exclude each other\n", ctx->argv0);
		return EXIT_USAGE;
	}
	if (community && (!*community || strlen(community) >= sizeof adhoc.community)) {
		fprintf(ctx->err, "%s: discover: --community takes 1 to %zu characters\n", ctx->argv0,
			sizeof adhoc.community - 1);
		return EXIT_USAGE;
	}
	struct target *targets = calloc(n, sizeof *targets);
	const struct snmp_profile **profiles = calloc(ctx->cfg->profile_count, sizeof *profiles);
	struct discovery_target *dt = calloc(n, sizeof *dt);
	int64_t *ranges = calloc(n, sizeof *ranges);
	int rc = targets && profiles && dt && ranges ? EXIT_OK : EXIT_FAILED;
	int np = -1;
	if (rc == EXIT_OK && community) {
		snprintf(adhoc.community, sizeof adhoc.community, "%s", community);
		profiles[0] = &adhoc;
		np = 1;
	} else if (rc == EXIT_OK) {
		np = profiles_of(ctx, profile_list, profiles);
	}
	if (np <= 0)
		rc = EXIT_USAGE;
	/* Every target is checked before anything is sent or saved. */
	for (size_t i = 0; i < n && rc == EXIT_OK; i++) {
		struct fc_error err = { { 0 } };
		if (target_parse(argv[optind + (int)i], (uint16_t)ctx->cfg->poll.port, force, &targets[i], &err) < 0) {
			fprintf(ctx->err, "%s: %s\n", ctx->argv0, err.msg);
			rc = EXIT_USAGE;
		} else if (targets[i].note[0]) {
			fprintf(ctx->err, "%s: note: %s\n", ctx->argv0, targets[i].note);
		}
		dt[i] = (struct discovery_target){ &targets[i], profiles, (size_t)np };
	}
	if (rc == EXIT_OK && dry_run) {
		struct engine_limits l;
		snmp_engine_limits_from_config(ctx->cfg, &l);
		struct discovery_options o = { .port_probe = true };
		struct discovery_estimate est;
		struct fc_error err = { { 0 } };
		if (discovery_estimate(dt, n, &l, &o, &est, &err) < 0) {
			fprintf(ctx->err, "%s: %s\n", ctx->argv0, err.msg);
			rc = EXIT_FAILED;
		} else {
			fprintf(ctx->out,
				"%" PRIu64 " addresses, %" PRIu64 " to %" PRIu64 " SNMP packets, at worst %.0f s "
				"(%u addresses at once, %d profile%s); nothing was sent\n",
				est.addresses, est.packets_min, est.packets_max, est.seconds_max, est.parallel, np,
				np == 1 ? "" : "s");
		}
	} else if (rc == EXIT_OK) {
		struct store *s = NULL;
		if (context_open_store(ctx, 0, &s) < 0) {
			rc = EXIT_FAILED;
		} else {
			struct range *known = NULL;
			size_t nknown = 0;
			struct fc_error err = { { 0 } };
			if (store_ranges_list(s, &known, &nknown, &err) < 0)
				rc = EXIT_FAILED;
			for (size_t i = 0; i < n && rc == EXIT_OK; i++) {
				for (size_t j = 0; j < nknown && !ranges[i]; j++)
					if (strcmp(known[j].target, targets[i].text) == 0)
						ranges[i] = known[j].id;
				bool manual = targets[i].kind == TARGET_IPV4 || targets[i].kind == TARGET_IPV6 ||
					      targets[i].kind == TARGET_NAME;
				if (!ranges[i] && store_range_add(s, targets[i].text, profile_list, 0, manual, &ranges[i], &err) < 0)
					rc = EXIT_FAILED;
			}
			if (rc != EXIT_OK)
				fprintf(ctx->err, "%s: %s\n", ctx->argv0, err.msg);
			range_array_free(&known, nknown);
			store_close(&s);
		}
		if (rc == EXIT_OK)
			rc = submit_and_wait(ctx, AGENT_CMD_DISCOVER, ranges, n, 0, 0, community);
	}
	free(targets);
	free(profiles);
	free(dt);
	free(ranges);
	explicit_bzero(adhoc.community, sizeof adhoc.community);
	return rc;
}

static int config_main(struct fc_context *ctx, int argc, char **argv)
{
	if (argc != 2 || strcmp(argv[1], "check") != 0) {
		fprintf(ctx->err, "usage: fleetcon [--config FILE] config check\n");
		return EXIT_USAGE;
	}
	/* Loading already validated the file (main() stops on any error); the files and the group it
	 * names are looked at here; then show what was found. */
	struct fc_error err = { { 0 } };
	if (config_check_environment(ctx->cfg, &err) < 0) {
		fprintf(ctx->err, "fleetcon: %s\n", err.msg);
		return EXIT_USAGE;
	}
	if (config_print(ctx->cfg, ctx->out) < 0 || fflush(ctx->out) != 0) {
		fprintf(ctx->err, "fleetcon: cannot write the configuration: %m\n");
		return EXIT_FAILED;
	}
	fprintf(ctx->err, "fleetcon: configuration ok%s%s\n", ctx->cfg->path[0] ? ": " : " (no file, defaults)",
		ctx->cfg->path);
	return EXIT_OK;
}

int main(int argc, char **argv)
{
	enum { OPT_DB = 256 };
	static const struct option options[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "db", required_argument, NULL, OPT_DB },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *config_path = NULL, *db_path = NULL;
	int opt;
	/* "+": stop at the subcommand; its own options are its business. */
	while ((opt = getopt_long(argc, argv, "+c:hV", options, NULL)) != -1) {
		switch (opt) {
		case 'c':
			config_path = optarg;
			break;
		case OPT_DB:
			db_path = optarg;
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		case 'V':
			printf("fleetcon %s (%s)\n", fleetcon_version(), fleetcon_revision());
			return EXIT_OK;
		default:
			fprintf(stderr, "Try 'fleetcon --help'.\n");
			return EXIT_USAGE;
		}
	}

	/* No command: the console on a terminal, a hint otherwise. */
	static char console_arg[] = "console";
	char *console_argv[] = { console_arg, NULL };
	if (optind >= argc && !(isatty(STDIN_FILENO) && isatty(STDOUT_FILENO))) {
		fprintf(stderr, "fleetcon: no terminal, so no console; use a command:\n\n");
		usage(stderr);
		return EXIT_USAGE;
	}
	if (optind >= argc) {
		argv = console_argv;
		argc = 1;
		optind = 0;
	}

	const char *name = argv[optind];
	const struct command *cmd = NULL;
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		if (strcmp(commands[i].name, name) == 0)
			cmd = &commands[i];
	if (!cmd) {
		fprintf(stderr, "fleetcon: unknown command \"%s\". Try 'fleetcon --help'.\n", name);
		return EXIT_USAGE;
	}

	struct fc_error err = { { 0 } };
	struct config *cfg = config_load(config_path, &err);
	if (!cfg) {
		fprintf(stderr, "fleetcon: %s\n", err.msg);
		return EXIT_USAGE;
	}
	if (db_path && !*db_path) {
		fprintf(stderr, "fleetcon: --db needs a database file name\n");
		config_free(&cfg);
		return EXIT_USAGE;
	}
	if (db_path && config_set(cfg, "database", "path", db_path, "--db", &err) < 0) {
		fprintf(stderr, "fleetcon: %s\n", err.msg); /* the message names --db already */
		config_free(&cfg);
		return EXIT_USAGE;
	}

	struct fc_context ctx = {
		.cfg = cfg,
		.config_path = config_path,
		.out = stdout,
		.err = stderr,
		.argv0 = "fleetcon",
	};
	int rc = cmd->run(&ctx, argc - optind, argv + optind);
	if (fflush(stdout) != 0 && rc == EXIT_OK) {
		fprintf(stderr, "fleetcon: cannot write the output: %m\n");
		rc = EXIT_FAILED;
	}
	config_free(&cfg);
	return rc;
}
