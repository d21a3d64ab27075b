/* `fleetcon run` (see run.h): one poll() loop on the main thread over the signals (signalfd), the
 * agent's events and the socket's clients; the agent's workers do the work. Every event becomes a
 * log line on stderr at its level and goes on to the clients. */
#include "service/run.h"

#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "model/agent.h"
#include "model/clock.h"
#include "model/config.h"
#include "model/store.h"
#include "model/version.h"
#include "service/actions.h"
#include "service/agenda.h"
#include "service/lock.h"
#include "service/server.h"

/* ---- the log: one line per message on stderr ---- */

static const char *const level_words[] = { "error", "warn", "info", "debug" };
/* sd-daemon(3) priorities, which journald reads at the start of a line */
static const int level_priority[] = { 3, 4, 6, 7 };

struct log_state {
	int level;    /* the highest level written */
	bool journal; /* stderr goes to journald: "<N>" prefixes instead of a time stamp */
	FILE *out;
};

static void log_write(struct log_state *lg, int level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void log_write(struct log_state *lg, int level, const char *fmt, ...)
{
	if (level < AGENT_ERROR)
		level = AGENT_ERROR;
	if (level > AGENT_DEBUG)
		level = AGENT_DEBUG;
	if (level > lg->level)
		return;
	char text[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	/* one line per message, whatever a device put in its strings */
	for (char *p = text; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7F)
			*p = ' ';
	if (lg->journal) {
		fprintf(lg->out, "<%d>%s\n", level_priority[level], text);
	} else {
		char when[CLOCK_ISO_LEN];
		clock_format_utc(clock_now(), when, sizeof when);
		fprintf(lg->out, "%s fleetcon[%ld] %s: %s\n", when, (long)getpid(), level_words[level], text);
	}
	fflush(lg->out);
}

static void log_from_server(void *ctx, int level, const char *line)
{
	log_write(ctx, level, "%s", line);
}

static int level_of(const char *name)
{
	for (int i = 0; i < (int)(sizeof level_words / sizeof level_words[0]); i++)
		if (!strcmp(name, level_words[i]))
			return i;
	return -1;
}

/* ---- the service's state ---- */

struct started {
	int64_t job;
	int kind;
};

struct service {
	struct fc_context *ctx;
	struct log_state log;
	bool level_fixed;           /* --log-level given: a reload keeps it */
	char db_path[CONFIG_PATH_MAX];
	struct actions_config *ac;
	const struct config *cfg;   /* the current one (the main thread replaces it) */
	struct store *store;        /* the main thread's connection */
	struct agent *agent;
	struct server *server;
	struct agenda agenda;
	struct started *running;    /* jobs started and not done, with their kinds */
	size_t n_running, cap_running;
	int sigfd;
	bool stopping;
};

static int64_t submit_scheduled(void *arg, int kind, int64_t a, const char *what)
{
	struct service *sv = arg;
	struct fc_error err = { "" };
	int64_t job = 0;
	if (agent_submit(sv->agent, kind, 0, a, 0, NULL, &job, &err) < 0) {
		log_write(&sv->log, AGENT_WARN, "%s: not started: %s", what, err.msg);
		return 0;
	}
	log_write(&sv->log, AGENT_INFO, "%s (job %lld)", what, (long long)job);
	return job;
}

static void agenda_note(void *arg, const char *line)
{
	struct service *sv = arg;
	log_write(&sv->log, AGENT_INFO, "%s", line);
}

static unsigned busy_bits(const struct service *sv)
{
	unsigned busy = 0;
	for (size_t i = 0; i < sv->n_running; i++) {
		if (sv->running[i].kind == AGENT_CMD_UPLOAD)
			busy |= AGENDA_BUSY_UPLOAD;
		else if (sv->running[i].kind == AGENT_CMD_DISCOVER)
			busy |= AGENDA_BUSY_DISCOVER;
	}
	return busy;
}

static void running_add(struct service *sv, int64_t job, int kind)
{
	if (sv->n_running == sv->cap_running) {
		size_t ncap = sv->cap_running ? sv->cap_running * 2 : 16;
		struct started *n = realloc(sv->running, ncap * sizeof *n);
		if (!n)
			return; /* only the agenda's "busy" is less exact */
		sv->running = n;
		sv->cap_running = ncap;
	}
	sv->running[sv->n_running++] = (struct started){ job, kind };
}

static void running_remove(struct service *sv, int64_t job)
{
	for (size_t i = 0; i < sv->n_running; i++)
		if (sv->running[i].job == job) {
			sv->running[i] = sv->running[--sv->n_running];
			return;
		}
}

/* One event: the log, the agenda, the clients. */
static void on_event(struct service *sv, const struct fc_msg *m)
{
	const char *text = m->text ? m->text : "";
	switch (m->kind) {
	case AGENT_EV_JOB_STARTED:
		running_add(sv, m->id, (int)m->b);
		log_write(&sv->log, AGENT_DEBUG, "job %lld (%s) started", (long long)m->id, agent_cmd_name((int)m->b));
		break;
	case AGENT_EV_PROGRESS:
		log_write(&sv->log, AGENT_DEBUG, "job %lld: %s", (long long)m->id, text);
		break;
	case AGENT_EV_JOB_DONE: {
		running_remove(sv, m->id);
		agenda_job_done(&sv->agenda, m->id);
		int level = m->a == AGENT_JOB_FAILED ? AGENT_ERROR : m->a == AGENT_JOB_CANCELLED ? AGENT_WARN : AGENT_INFO;
		log_write(&sv->log, level, "%s (job %lld): %s", agent_cmd_name((int)m->b), (long long)m->id, text);
		break;
	}
	case AGENT_EV_LOG:
	case AGENT_EV_FLASH:
		log_write(&sv->log, (int)m->a, "%s", text);
		break;
	case AGENT_EV_SYNC_FINISHED:
		log_write(&sv->log, AGENT_DEBUG, "sync finished (%s)", m->a ? "everything delivered" : "reports wait in the outbox");
		break;
	default:
		break;
	}
	if (sv->server)
		server_event(sv->server, m);
}

static void drain_events(struct service *sv)
{
	for (;;) {
		struct fc_msg *m = NULL;
		if (fc_queue_pop(agent_events(sv->agent), &m, 0) != 0)
			return;
		on_event(sv, m);
		fc_msg_free(&m);
	}
}

/* SIGHUP: the configuration again, the old one kept when the new one has a mistake. */
static void reload(struct service *sv)
{
	struct fc_error err = { "" };
	struct config *cfg = config_load(sv->ctx->config_path, &err);
	if (!cfg) {
		log_write(&sv->log, AGENT_ERROR, "reload refused, the configuration in use stays: %s", err.msg);
		return;
	}
	if (strcmp(cfg->database.path, sv->db_path) != 0) {
		if (strcmp(cfg->database.path, sv->cfg->database.path) != 0)
			log_write(&sv->log, AGENT_WARN, "reload: [database] path changed to %s; the service keeps %s "
							"until it is restarted", cfg->database.path, sv->db_path);
		if (config_set(cfg, "database", "path", sv->db_path, "--db", &err) < 0) {
			log_write(&sv->log, AGENT_ERROR, "reload refused, the configuration in use stays: %s", err.msg);
			config_free(&cfg);
			return;
		}
	}
	if (strcmp(cfg->service.socket_group, sv->cfg->service.socket_group) != 0)
		log_write(&sv->log, AGENT_WARN, "reload: [service] socket_group takes effect at the next start");
	actions_config_replace(sv->ac, cfg);
	sv->cfg = cfg;
	if (!sv->level_fixed)
		sv->log.level = (int)cfg->log.level;
	agenda_reconfigure(&sv->agenda, sv->store, cfg, clock_now());
	log_write(&sv->log, AGENT_INFO, "configuration reloaded from %s", cfg->path[0] ? cfg->path : "(defaults)");
}

static void on_signals(struct service *sv)
{
	struct signalfd_siginfo si;
	while (read(sv->sigfd, &si, sizeof si) == (ssize_t)sizeof si) {
		if (si.ssi_signo == SIGHUP) {
			log_write(&sv->log, AGENT_INFO, "SIGHUP: reloading the configuration");
			reload(sv);
		} else if (!sv->stopping) {
			log_write(&sv->log, AGENT_INFO, "%s: stopping; jobs in flight get %d s to finish",
				  si.ssi_signo == SIGINT ? "SIGINT" : "SIGTERM", RUN_STOP_GRACE_MS / 1000);
			sv->stopping = true;
		}
	}
}

/* One round of the loop: wait at most timeout_ms, then handle what came. */
static void round_once(struct service *sv, int timeout_ms)
{
	struct pollfd pfd[SERVER_MAX_CLIENTS + 3];
	pfd[0] = (struct pollfd){ .fd = sv->sigfd, .events = POLLIN };
	pfd[1] = (struct pollfd){ .fd = fc_queue_wakeup_fd(agent_events(sv->agent)), .events = POLLIN };
	size_t n = 2 + (sv->server ? server_pollfds(sv->server, pfd + 2, SERVER_MAX_CLIENTS + 1) : 0);
	int got = poll(pfd, n, timeout_ms);
	if (got < 0 && errno != EINTR) {
		log_write(&sv->log, AGENT_ERROR, "poll: %s", strerror(errno));
		sv->stopping = true;
		return;
	}
	if (got <= 0)
		return;
	if (pfd[0].revents & POLLIN)
		on_signals(sv);
	drain_events(sv);
	if (sv->server)
		server_service(sv->server, pfd + 2, n - 2);
}

static int loop(struct service *sv)
{
	while (!sv->stopping) {
		int64_t now = clock_now();
		agenda_run(&sv->agenda, sv->store, sv->cfg, now, busy_bits(sv), submit_scheduled, sv, agenda_note);
		/* wake at the next whole second at the latest: the agenda counts in seconds */
		int64_t ms = clock_mono_ms();
		round_once(sv, 1000 - (int)(ms % 1000));
	}
	/* the stop: no new commands, the jobs in flight get their grace, then they are cancelled */
	server_set_agent(sv->server, NULL);
	server_stop_listening(sv->server);
	int64_t deadline = clock_mono_ms() + RUN_STOP_GRACE_MS;
	while (agent_busy(sv->agent) > 0 && clock_mono_ms() < deadline)
		round_once(sv, 100);
	size_t left = agent_busy(sv->agent);
	if (left)
		log_write(&sv->log, AGENT_WARN, "%zu job%s still running: cancelled (what was not sent stays in the outbox)",
			  left, left == 1 ? "" : "s");
	struct fc_error err = { "" };
	int rc = agent_stop(sv->agent, RUN_STOP_CANCEL_MS, &err);
	drain_events(sv);
	server_close(&sv->server, "the service is stopping");
	if (rc < 0) {
		/* a worker stuck in a library call still uses the agent: leave without freeing anything */
		log_write(&sv->log, AGENT_ERROR, "%s; exiting anyway", err.msg);
		fflush(NULL);
		_exit(EXIT_FAILED);
	}
	agent_free(&sv->agent);
	log_write(&sv->log, AGENT_INFO, "stopped");
	return EXIT_OK;
}

static void usage(FILE *out)
{
	fprintf(out, "usage: fleetcon [--config FILE] [--db FILE] " RUN_USAGE "\n"
		     "  The agent in the foreground, without a terminal: polls, discovery, the daily sync and the\n"
		     "  e-mail alerts on their schedule; consoles and commands attach through <database>.sock.\n"
		     "  Logs go to stderr. SIGTERM/SIGINT stop it, SIGHUP reloads the configuration.\n");
}

int run_main(struct fc_context *ctx, int argc, char **argv)
{
	static const struct option options[] = {
		{ "log-level", required_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct service sv = { .ctx = ctx, .sigfd = -1 };
	sv.log = (struct log_state){ .level = (int)ctx->cfg->log.level, .journal = getenv("JOURNAL_STREAM") != NULL,
				     .out = ctx->err };
	int opt;
	optind = 0;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (opt) {
		case 'l':
			if ((sv.log.level = level_of(optarg)) < 0) {
				fprintf(ctx->err, "%s: run: --log-level is error, warn, info or debug, not \"%s\"\n", ctx->argv0,
					optarg);
				return EXIT_USAGE;
			}
			sv.level_fixed = true;
			break;
		case 'h':
			usage(ctx->out);
			return EXIT_OK;
		default:
			fprintf(ctx->err, "%s: run: unknown option \"%s\"\n", ctx->argv0, argv[optind - 1]);
			usage(ctx->err);
			return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		usage(ctx->err);
		return EXIT_USAGE;
	}
	snprintf(sv.db_path, sizeof sv.db_path, "%s", ctx->cfg->database.path);
	sv.cfg = ctx->cfg;

	/* the signals come through a descriptor of the loop, and the worker threads never take them */
	sigset_t sigs;
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &sigs, NULL) < 0 || (sv.sigfd = signalfd(-1, &sigs, SFD_NONBLOCK | SFD_CLOEXEC)) < 0) {
		log_write(&sv.log, AGENT_ERROR, "signals: %s", strerror(errno));
		return EXIT_FAILED;
	}

	int rc = EXIT_FAILED;
	int lock_fd = -1;
	pid_t holder = 0;
	struct fc_error err = { "" };
	int got = lock_take(sv.db_path, &lock_fd, &holder, &err);
	if (got != 0) {
		if (got > 0 && holder)
			log_write(&sv.log, AGENT_ERROR, "the agent of %s runs already in process %ld (a service or a console); "
							"this one does not start", sv.db_path, (long)holder);
		else if (got > 0)
			log_write(&sv.log, AGENT_ERROR, "the agent of %s runs already in another process; this one does not start",
				  sv.db_path);
		else
			log_write(&sv.log, AGENT_ERROR, "%s", err.msg);
		goto out;
	}
	if (context_open_store(ctx, 0, &sv.store) < 0)
		goto out;
	struct server_options so = {
		.db_path = sv.db_path,
		.group = ctx->cfg->service.socket_group,
		.version = fleetcon_version(),
		.log = log_from_server,
		.log_ctx = &sv.log,
	};
	/* the socket before the threads: its owner-only umask must not meet their files */
	if (server_open(&so, &sv.server, &err) < 0) {
		log_write(&sv.log, AGENT_ERROR, "%s", err.msg);
		goto out;
	}
	if (!(sv.ac = actions_config_new(ctx->cfg, &err)) || !(sv.agent = actions_agent_new(sv.db_path, sv.ac, &err))) {
		log_write(&sv.log, AGENT_ERROR, "the agent could not start: %s", err.msg);
		goto out;
	}
	server_set_agent(sv.server, sv.agent);
	if (agenda_init(&sv.agenda, sv.store, sv.cfg, false, clock_now(), &err) < 0)
		log_write(&sv.log, AGENT_WARN, "schedule: %s", err.msg);
	char next[CLOCK_ISO_LEN] = "none (no [server] url)";
	if (sv.agenda.next_sync)
		clock_format_utc(sv.agenda.next_sync, next, sizeof next);
	log_write(&sv.log, AGENT_INFO, "fleetcon %s started: database %s, socket %s%s%s%s, poll every %llds, next sync %s",
		  fleetcon_version(), sv.db_path, sv.db_path, SOCKET_SUFFIX,
		  ctx->cfg->service.socket_group[0] ? " for the group " : "", ctx->cfg->service.socket_group,
		  (long long)ctx->cfg->poll.interval, next);
	rc = loop(&sv);
out:
	if (sv.agent) {
		/* only a failed start comes here with the agent: nothing runs in it yet */
		agent_stop(sv.agent, RUN_STOP_CANCEL_MS, NULL);
		agent_free(&sv.agent);
	}
	server_close(&sv.server, "the service is stopping");
	actions_config_free(&sv.ac);
	store_close(&sv.store);
	lock_release(&lock_fd);
	free(sv.running);
	if (sv.sigfd >= 0)
		close(sv.sigfd);
	sigprocmask(SIG_UNBLOCK, &sigs, NULL);
	return rc;
}
