/* The poll of one printer, in few packets: one GET of the scalars (system group, the printer's
 * Host Resources rows, Printer-MIB general values, and the vendor's scalars when the vendor is
 * known from the last poll), then multi-column walks of the supplies, markers, colorants, trays,
 * covers, console and interfaces (and of the alert table only when prtAlertAllEvents moved),
 * and the vendor's counters from its profile. The result is a struct device (see model/device.h)
 * plus what the device struct has no place for: warnings and the raw varbinds. */
#ifndef FLEETCON_COLLECTORS_POLL_H
#define FLEETCON_COLLECTORS_POLL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "collectors/snmp_engine.h"
#include "model/config.h"
#include "model/device.h"
#include "model/error.h"

/* A device to poll and what the caller knows about it from the last poll (zero when nothing). All
 * pointers are borrowed for the call of poll_add() / poll_devices() only (copied as needed). */
struct poll_target {
	const char *address;                /* IPv4, IPv6 or host name */
	int port;                           /* 0: 161 */
	const struct snmp_profile *profile; /* borrowed until the run ends */
	int64_t device_id;                  /* copied into the result's device.id */
	void *user;                         /* handed back in the result */
	/* hints from the last poll */
	const char *sys_object_id;          /* with sys_descr: the vendor's scalars join the first GET */
	const char *sys_descr;
	int printer_index;                  /* hrDeviceIndex of the printer (0: try 1) */
	int64_t alert_all_events;           /* prtAlertAllEvents last time; -1: unknown (walk alerts) */
};

struct poll_options {
	int64_t budget_ms;      /* whole-device time budget; 0: 10 x (retries + 1) x timeout, >= 5 s */
	bool keep_raw;          /* keep the raw varbinds of this poll */
	size_t raw_max_entries; /* bound of the raw view (default 2000 varbinds) */
	size_t raw_max_bytes;   /* bound of the raw view's text (default 64 KiB) */
	int low_percent;        /* unused by the poll itself; kept for callers that share options */
};

/* One varbind as the device sent it, for the technician's raw view. */
struct raw_varbind {
	char *oid;         /* numeric */
	const char *type;  /* static: "INTEGER", "STRING", ... */
	char *value;       /* printable (see decode_printable) */
};

/* The outcome of polling one device. Owned by the poll; the callback may take any heap field
 * (copy the pointer and set the field to NULL / the count to 0), the poll frees the rest after
 * the callback returns. */
struct poll_result {
	struct device device;     /* identity, status, supplies, meters, alerts, trays, covers;
				     device.poll_error
				     says what went wrong (NULL when the poll was complete) */
	void *user;               /* poll_target.user */
	bool answered;            /* the device answered at least one request */
	bool complete;            /* every part was read */
	bool is_printer;          /* Host Resources says printer, or the Printer-MIB answered */
	char *brand;              /* OEM brand when it differs from device.vendor ("UTAX"), or NULL */
	const char *profile_name; /* vendor profile used (static), or NULL */
	int printer_index;        /* hrDeviceIndex of the printer, 0 when unknown */
	bool alerts_read;         /* the alert table was walked (else device.alerts is empty because
				     prtAlertAllEvents did not move: keep the alerts you have) */
	int64_t alert_all_events; /* prtAlertAllEvents now, -1 when not reported */
	struct raw_varbind *raw;
	size_t n_raw;
	bool raw_truncated;
	char **warnings;          /* sentences (a vendor total that disagrees with the life count, a
				     walk that hit a bound, an OID that did not increase, ...) */
	size_t n_warnings;
	unsigned requests;        /* requests completed and datagrams sent for this device */
	unsigned packets;
	int64_t elapsed_ms;
};

/* Frees everything the result owns (the device included) and zeroes it. */
void poll_result_clear(struct poll_result *r);

/* Called once per device, on the engine's thread, from inside snmp_engine_run(). */
typedef void (*poll_result_fn)(struct poll_result *r, void *arg);

/* Queues the poll of one device on engine e (see snmp_engine_add_job; callable from engine
 * callbacks). target and opts are copied (opts may be NULL); target->profile and arg are borrowed
 * until fn has run. Returns 0, or -1 with err set (out of memory). */
int poll_add(struct snmp_engine *e, const struct poll_target *target,
	     const struct poll_options *opts, poll_result_fn fn, void *arg, struct fc_error *err);

/* Polls n devices and returns when all are done or *cancel became true (cancel may be NULL):
 * fn runs once for every device, also for those cut short by the cancel (their result says so).
 * Jobs are created as sessions free up, so n may be large (20,000). targets (and what they point
 * to) must stay valid until this returns. Returns 0, or -1 with err set when the engine loop
 * failed. */
int poll_devices(struct snmp_engine *e, const struct poll_target *targets, size_t n,
		 const struct poll_options *opts, poll_result_fn fn, void *arg,
		 const atomic_bool *cancel, struct fc_error *err);

/* The default whole-device budget for an engine's limits, in milliseconds. */
int64_t poll_default_budget_ms(const struct engine_limits *l);

#endif
