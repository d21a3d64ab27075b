/* E-mail alerts: what deserves a message (a new critical printer alert, a supply below its
 * threshold or a waste container nearly full, a printer that stopped answering, uploads failing
 * for too long, the outbox near its bound), mailed once while the condition lasts and once more
 * when it clears and comes back, at most so many messages an hour with the rest folded into one
 * digest. Deciding is pure (alerting_evaluate, alerting_plan_make, alerting_compose_*), so it is
 * tested without a mail server; alerting_run glues it to the store and uplink/mailer.
 * docs/alerts.md is the user's description. */
#ifndef FLEETCON_UPLINK_ALERTING_H
#define FLEETCON_UPLINK_ALERTING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model/config.h"
#include "model/device.h"
#include "model/error.h"
#include "model/store.h"
#include "uplink/mailer.h"

#define ALERTING_MAX_PER_HOUR 10   /* default e-mails per rolling hour, digests included */
#define ALERTING_SUPPLY_CLEAR 10   /* a low supply's alert ends this many points above the threshold */
#define ALERTING_OUTBOX_NEAR 80    /* percent of [outbox] max_size or max_age that raises the alert */
#define ALERTING_OUTBOX_CLEAR 70   /* ... and under which it ends */
#define ALERTING_SETTING_OUTBOX "outbox.near_bound" /* see alerting_input.outbox_near_bound */
#define ALERTING_KEY_MAX 96

/* In priority order: when the hourly limit bites, the first kinds are mailed on their own. */
enum alerting_kind {
	ALERTING_CRITICAL,       /* an active printer alert of severity critical */
	ALERTING_UNREACHABLE,    /* a printer missed [alerts] unreachable_polls polls in a row */
	ALERTING_UPLOAD_FAILING, /* no successful upload for [alerts] upload_failing while tried */
	ALERTING_OUTBOX,         /* the outbox is near [outbox] max_size or max_age */
	ALERTING_SUPPLY,         /* a consumable low or empty, a receptacle nearly full or full */
	ALERTING_KIND_COUNT
};

/* "critical", "unreachable", "upload-failing", "outbox", "supply". Static string. */
const char *alerting_kind_name(enum alerting_kind kind);

/* One condition that holds now. Pointers are borrowed from the alerting_input it came from; the
 * strings are owned (freed by alerting_conditions_free). */
struct alerting_condition {
	enum alerting_kind kind;
	char key[ALERTING_KEY_MAX];     /* stable while the condition lasts: "supply:12:3" */
	const struct device *device;    /* NULL for the agent's own conditions */
	const struct supply *supply;    /* ALERTING_SUPPLY */
	const struct alert *alert;      /* ALERTING_CRITICAL */
	int64_t since;                  /* UTC seconds it began (best known); 0 = unknown */
	bool is_new;                    /* not mailed yet, or mailed and cleared since */
	char *headline;                 /* for the subject: our words and digits only, e.g.
					   "black toner low (8 %)" */
	char *what;                     /* one line for the body: may quote cleaned device text */
	char *todo;                     /* what to do, one sentence */
};

/* What alerting_evaluate looks at; all borrowed. */
struct alerting_input {
	const struct device *devices;   /* the included devices, with supplies and active alerts */
	size_t n_devices;
	const struct sync_record *syncs; /* newest first (store_syncs_list) */
	size_t n_syncs;
	const struct outbox_entry *outbox; /* store_outbox_list, bodies not needed */
	size_t n_outbox;
	/* The setting ALERTING_SETTING_OUTBOX when the uploader keeps it (NULL when absent): a reason
	 * in words when the outbox is near its bound, "" or "0" when it is not. When absent the
	 * outbox is measured here against outbox_max_size / outbox_max_age. */
	const char *outbox_near_bound;
	const char *const *active;      /* keys mailed and not cleared (any order) */
	size_t n_active;
	int supply_low;                 /* [alerts] supply_low, percent */
	int unreachable_polls;          /* [alerts] unreachable_polls */
	int64_t upload_failing;         /* [alerts] upload_failing, seconds */
	bool uploads_configured;        /* [server] url is set */
	int64_t outbox_max_size;        /* [outbox] max_size, bytes */
	int64_t outbox_max_age;         /* [outbox] max_age, seconds */
	int64_t now;
};

/* Every condition that holds, in priority order (kind, device id, key), into a new array (*out,
 * *n) the caller frees with alerting_conditions_free. A condition already mailed stays held
 * within its band (a low supply until ALERTING_SUPPLY_CLEAR points above the threshold, the
 * outbox until under ALERTING_OUTBOX_CLEAR %), so a level that wobbles is not mailed twice. */
int alerting_evaluate(const struct alerting_input *in, struct alerting_condition **out, size_t *n,
		      struct fc_error *err);
void alerting_conditions_free(struct alerting_condition **c, size_t n);

/* Which e-mails to send. Indexes refer to the conditions array and to the active keys given. */
struct alerting_plan {
	size_t *single;        /* new conditions mailed one each, in priority order */
	size_t n_single;
	size_t *digest;        /* new conditions folded into one digest e-mail */
	size_t n_digest;
	size_t n_deferred;     /* new conditions left for a later run: the hourly limit is reached */
	size_t *cleared;       /* active keys (indexes into active[]) whose condition is over */
	size_t n_cleared;
};

/* Plans the e-mails for the new conditions with `budget` e-mails left in this hour: each on its
 * own while they fit, else budget - 1 on their own and the rest in one digest; none at all when
 * budget <= 0. Lists the active keys that no condition holds any more. The caller frees the plan
 * with alerting_plan_free. */
int alerting_plan_make(const struct alerting_condition *c, size_t n, const char *const *active,
		       size_t n_active, int budget, struct alerting_plan *plan, struct fc_error *err);
void alerting_plan_free(struct alerting_plan *plan);

/* The e-mail for one condition: *subject (header-safe: our words, the device's address or number,
 * the site name cleaned) and *body, new strings the caller frees. site is [site] name, agent the
 * agent's UUID (both borrowed). */
int alerting_compose_one(const struct alerting_condition *c, const char *site, const char *agent,
			 int64_t now, char **subject, char **body, struct fc_error *err);

/* The digest of n conditions (c[idx[0..n-1]]): the first ones in full, the next ones a line
 * each, the rest counted. max_per_hour is named in the text. New strings the caller frees. */
int alerting_compose_digest(const struct alerting_condition *c, const size_t *idx, size_t n,
			    const char *site, const char *agent, int max_per_hour, int64_t now,
			    char **subject, char **body, struct fc_error *err);

/* What a run did. */
struct alerting_result {
	size_t conditions;  /* conditions that hold now */
	size_t fresh;       /* of which not mailed yet */
	size_t mails;       /* e-mails sent by this run (digests count one) */
	size_t mailed;      /* conditions those e-mails carried */
	size_t deferred;    /* new conditions left for a later run (hourly limit, or a send failed) */
	size_t cleared;     /* conditions that ended since the last run */
	bool disabled;      /* [smtp] url is empty: evaluated, nothing sent or recorded */
};

/* Settings of a run that the configuration does not hold (yet). */
struct alerting_options {
	int max_per_hour;       /* 0 = [alerts] max_per_hour */
	const char *ca_file;    /* CAs for the mail server's certificate; NULL = [smtp] ca_file */
	/* Sends one message instead of mail_send (for tests); NULL = mail_send through [smtp]. */
	int (*send)(void *ctx, const struct mail_message *m, struct fc_error *err);
	void *send_ctx;
};

/* Evaluates the conditions from the store (included devices, syncs, outbox), records the ones
 * that ended, mails the new ones within the hourly limit through [smtp] and records each
 * condition as mailed only once the server accepted its e-mail, so that a failed send is retried
 * at the next run. opt may be NULL. Fills *out (always). Returns 0, or -1 with err set when the
 * store fails or an e-mail could not be sent (the rest wait for the next run). Call it after each
 * poll cycle and each sync, from a thread that owns s; it blocks while mailing. */
int alerting_run(struct store *s, const struct config *cfg, const struct alerting_options *opt,
		 int64_t now, struct alerting_result *out, struct fc_error *err);

#endif
