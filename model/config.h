/* fleetcon's configuration: one INI file, found by a fixed search order, read into plain data that
 * the rest of the program reads (and never writes) after start-up. Every key is described once, in
 * the table in config.c: parsing, validation, printing and the documentation checks come from it.
 * The reference for users is docs/configuration.md; fleetcon.conf.example lists every key. */
#ifndef FLEETCON_MODEL_CONFIG_H
#define FLEETCON_MODEL_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "model/error.h"

/* The system-wide file (the last place searched) and the database path that goes with it. */
#define CONFIG_SYSTEM_PATH "/etc/fleetcon/fleetcon.conf"
#define CONFIG_SYSTEM_DB_PATH "/var/lib/fleetcon/fleetcon.db"

/* Sizes of the text fields below: every value fits with its NUL. */
#define CONFIG_STR_MAX 256
#define CONFIG_PATH_MAX 4096
#define CONFIG_NAME_MAX 41 /* profile names: 1 to 40 of A-Z a-z 0-9 . _ - */

/* The names used here are prefixed because Net-SNMP's headers define SNMP_VERSION_1 and friends. */
enum config_snmp_version { CONFIG_SNMP_V1, CONFIG_SNMP_V2C, CONFIG_SNMP_V3 };
enum config_auth { CONFIG_AUTH_NONE, CONFIG_AUTH_SHA, CONFIG_AUTH_SHA256, CONFIG_AUTH_SHA512 };
enum config_priv { CONFIG_PRIV_NONE, CONFIG_PRIV_AES, CONFIG_PRIV_AES256 }; /* AES = AES-128 */
enum config_log_level { CONFIG_LOG_ERROR, CONFIG_LOG_WARN, CONFIG_LOG_INFO, CONFIG_LOG_DEBUG };

/* Where the file in use was found. */
enum config_source {
	CONFIG_FROM_NONE,   /* no file: built-in defaults */
	CONFIG_FROM_OPTION, /* the explicit path (--config FILE) */
	CONFIG_FROM_ENV,    /* $FLEETCON_CONFIG */
	CONFIG_FROM_USER,   /* $XDG_CONFIG_HOME/fleetcon/fleetcon.conf (~/.config/...) */
	CONFIG_FROM_SYSTEM, /* CONFIG_SYSTEM_PATH */
	CONFIG_FROM_STRING, /* config_parse_string() */
};

/* [sync] days: bit n stands for struct tm's tm_wday n (0 = Sunday), so that a scheduler tests
 * `days & CONFIG_DAY(tm.tm_wday)`. */
#define CONFIG_DAY(wday) (1u << (wday))
#define CONFIG_DAYS_ALL 0x7fu

/* A time of day, local time. */
struct config_tod {
	int hour;   /* 0-23 */
	int minute; /* 0-59 */
};

/* SNMP credentials, one per [profile NAME] section. For versions 1 and 2c only community is used
 * (default "public"); for version 3 user is set, auth/priv are CONFIG_*_NONE when not used, and
 * each password is set exactly when its protocol is (8 characters at least). */
struct snmp_profile {
	char name[CONFIG_NAME_MAX];
	enum config_snmp_version version;
	char community[CONFIG_STR_MAX];
	char user[CONFIG_STR_MAX];
	enum config_auth auth;
	char auth_password[CONFIG_STR_MAX];
	enum config_priv priv;
	char priv_password[CONFIG_STR_MAX];
	char context[CONFIG_STR_MAX];
};

/* Units: every duration is in seconds (int64_t), except poll.timeout_ms, in milliseconds. Sizes
 * are in bytes. An empty string means "not set". Paths are absolute, or relative to the config
 * file's folder resolved at load (config_parse_string() leaves them as written). */
struct config {
	char path[CONFIG_PATH_MAX]; /* absolute path of the file in use; "" when none */
	enum config_source source;

	struct {
		char name[CONFIG_STR_MAX]; /* default: the host name */
	} site;
	struct {
		char path[CONFIG_PATH_MAX]; /* default: see config_default_db_path() */
	} database;
	struct {
		char url[CONFIG_STR_MAX]; /* https:// only; "" = uploads not configured */
		char user[CONFIG_STR_MAX];
		char password[CONFIG_STR_MAX];          /* from password or read from password_file */
		char password_file[CONFIG_PATH_MAX];
		char ca_file[CONFIG_PATH_MAX];          /* "" = the system's CA store */
		char pinned_key[CONFIG_PATH_MAX];       /* "sha256//BASE64[;...]" or a key file; curl's form */
		char proxy[CONFIG_STR_MAX];
		int64_t connect_timeout;                /* seconds */
		int64_t timeout;                        /* seconds, the whole transfer */
	} server;
	struct {
		struct config_tod time;
		unsigned days; /* CONFIG_DAY() bits; never 0 */
	} sync;
	struct {
		int64_t interval;   /* seconds */
		int64_t timeout_ms; /* milliseconds, per SNMP request */
		int retries;
		int concurrency;    /* SNMP requests in flight, all hosts together */
		int per_host;       /* SNMP requests in flight to one host */
		int port;
		bool include_new;
	} poll;
	struct {
		int64_t interval; /* seconds; 0 = only on demand */
	} discovery;

	struct snmp_profile *profiles; /* never empty: a built-in "default" when the file has none */
	size_t profile_count;

	struct {
		char url[CONFIG_STR_MAX]; /* smtp:// or smtps://; "" = no e-mail alerts */
		bool starttls;
		char user[CONFIG_STR_MAX];
		char password[CONFIG_STR_MAX];
		char ca_file[CONFIG_PATH_MAX]; /* "" = the system's CA store */
		char from[CONFIG_STR_MAX];
		char to[CONFIG_STR_MAX]; /* addresses separated by ", " */
		int64_t connect_timeout; /* seconds, until the server's greeting */
		int64_t timeout;         /* seconds, one message from connect to QUIT */
	} smtp;
	struct {
		int supply_low;        /* percent, 0-100 */
		int unreachable_polls;
		int64_t upload_failing; /* seconds */
		int max_per_hour;       /* alert e-mails */
	} alerts;
	struct {
		int64_t max_age;  /* seconds */
		int64_t max_size; /* bytes */
	} outbox;
	struct {
		char socket_group[CONFIG_STR_MAX]; /* "" = the console socket is owner-only */
	} service;
	struct {
		enum config_log_level level;
	} log;
};

/* Finds the configuration file and reads it. Search order: explicit_path (from --config FILE; NULL
 * or "" when not given), $FLEETCON_CONFIG, $XDG_CONFIG_HOME/fleetcon/fleetcon.conf (XDG_CONFIG_HOME
 * defaults to ~/.config), CONFIG_SYSTEM_PATH. The first two must exist when given; when neither
 * default file exists, built-in defaults apply (cfg->path is "", cfg->source CONFIG_FROM_NONE).
 * A file that sets a secret and is readable by group or others is refused (the message holds the
 * chmod that fixes it); [server] password_file is read here, under the same rule.
 * Returns a new configuration the caller frees with config_free(), or NULL with err set; every
 * error about the file's content starts with "FILE:LINE: ". */
struct config *config_load(const char *explicit_path, struct fc_error *err);

/* Parses text as a configuration file (for tests and fuzzing): the same rules as config_load()
 * except that nothing is read from disk (no permission check; password_file is kept but not read;
 * relative paths stay relative). name is used in messages only. Returns a new configuration the
 * caller frees with config_free(), or NULL with err set. */
struct config *config_parse_string(const char *text, const char *name_for_messages,
				   struct fc_error *err);

/* Changes one key after loading, as a command-line option does (`--db FILE`: section "database",
 * key "path"). value is checked as in a file; a relative path is taken from the current folder.
 * origin names where the value came from in config_print() ("--db"; copied, at most 23 bytes).
 * Secrets, password_file and profile keys cannot be set this way. Returns 0, or -1 with err set
 * and cfg unchanged. */
int config_set(struct config *cfg, const char *section, const char *key, const char *value,
	       const char *origin, struct fc_error *err);

/* Frees a configuration (secrets are wiped first) and NULLs *cfg. NULL or *cfg NULL is fine. */
void config_free(struct config **cfg);

/* The profile called name, or NULL. Borrowed: valid until config_free(). */
const struct snmp_profile *config_profile(const struct config *cfg, const char *name);

/* What loading cannot know without looking around: files the configuration names for later
 * ([server] and [smtp] ca_file) can be read, and [service] socket_group is a group of this
 * system. `config check` runs it so that a mistake shows before the day it is used. Returns 0, or
 * -1 with err set ("FILE:LINE: [section] key: ...") for the first problem. */
int config_check_environment(const struct config *cfg, struct fc_error *err);

/* Prints the configuration as INI text: which file (or none) and, for every key, its value and
 * where it came from (a line of the file, a default, an option). Secrets that are set show as
 * "********", whatever their length. Returns 0, or -1 when writing fails (errno set). */
int config_print(const struct config *cfg, FILE *out);

/* The default [database] path for the configuration file config_path ("" or NULL: none):
 * CONFIG_SYSTEM_DB_PATH for the system file, else $XDG_DATA_HOME/fleetcon/fleetcon.db
 * (XDG_DATA_HOME defaults to ~/.local/share). Writes it to out; returns 0, or -1 with err set when
 * it does not fit or no home folder is known. */
int config_default_db_path(const char *config_path, char *out, size_t len, struct fc_error *err);

/* One key as documented (for docs and the check of fleetcon.conf.example). */
struct config_key_doc {
	const char *section;       /* "poll"; "profile" for the keys of every [profile NAME] */
	const char *key;           /* "interval" */
	const char *type;          /* what a value looks like: "duration", "yes/no", "1|2c|3", ... */
	const char *default_value; /* as it would be written in the file; "" = empty / not set */
	const char *doc;           /* one line */
	bool secret;               /* masked when printed; a file that sets it must be mode 0600 */
	bool dynamic_default;      /* the default depends on the host; default_value is an example */
};

/* The i-th key in the table (0, 1, ...), or NULL past the last. Static data. */
const struct config_key_doc *config_key_doc(size_t i);

#endif
