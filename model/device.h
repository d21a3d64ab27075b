/* The domain: what fleetcon knows about a printer, as plain data. Collectors fill it, the store
 * keeps it, the report, the exports and the console read it. Every string here is owned by the
 * struct that holds it (heap, NUL-terminated) and, when it came from a device, has already been
 * cleaned: bounded in length, no control or escape characters (see model/text.h). */
#ifndef FLEETCON_MODEL_DEVICE_H
#define FLEETCON_MODEL_DEVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The special Printer-MIB values of prtMarkerSuppliesLevel / MaxCapacity (RFC 3805). */
enum {
	SUPPLY_VALUE_OTHER = -1,          /* "other": for a level, no restriction */
	SUPPLY_VALUE_UNKNOWN = -2,
	SUPPLY_VALUE_SOME_REMAINING = -3, /* level only: some remaining, not low */
};

/* prtMarkerSuppliesClass */
enum { SUPPLY_CLASS_OTHER = 1, SUPPLY_CLASS_CONSUMED = 3, SUPPLY_CLASS_RECEPTACLE = 4 };

/* What a supply's level means, derived from level, max and class (supply_state_of). The names
 * (supply_state_name) are an interface: `show --json`, the report and the exports use them. */
enum supply_state {
	SUPPLY_OK,
	SUPPLY_LOW,
	SUPPLY_EMPTY,
	SUPPLY_UNKNOWN,
	SUPPLY_SOME_REMAINING,
	SUPPLY_NO_RESTRICTION,
	SUPPLY_FULL,          /* a receptacle (waste toner) with no room left */
	SUPPLY_STATE_COUNT
};

struct supply {
	int index;             /* prtMarkerSuppliesIndex */
	int type;              /* IANA PrtMarkerSuppliesTypeTC (3 toner, 4 wasteToner, ...) */
	int klass;             /* prtMarkerSuppliesClass */
	int unit;              /* prtMarkerSuppliesSupplyUnit (19 percent, 7 impressions, ...) */
	int max;               /* may be -1 / -2 */
	int level;             /* may be -1 / -2 / -3 */
	char *description;
	char *colorant;        /* "cyan", or NULL when the device names none */
};

/* One counter read: "total", "black", "color", or another counter a vendor profile names
 * ("duplex", "copy-black", ...). oid and raw say where the value came from. */
struct meter {
	char *name;
	int64_t value;
	int unit;              /* prtMarkerCounterUnit (7 impressions, 8 sheets), 0 when unknown */
	char *oid;             /* numeric, without a leading dot */
	char *raw;             /* the value as the device sent it, printable */
	int64_t read_at;       /* UTC seconds */
	/* A counter that went backwards (a reset, a wrap, a swapped board): the highest value read
	 * before it did, kept while the counter is still below it; 0 when it never went back. The
	 * store sets these when it saves a read (a collector leaves them 0). */
	int64_t back_from;
	int64_t back_at;       /* when it was first seen below back_from (UTC seconds), or 0 */
};

/* An entry of prtAlertTable (or one fleetcon derived itself, with code 0 and group 0). */
struct alert {
	int index;             /* prtAlertIndex at the time it was read */
	int severity;          /* 1 other, 3 critical, 4 warning, 5 warningBinaryChangeEvent */
	int training;
	int group;
	int group_index;
	int location;
	int code;              /* IANA PrtAlertCodeTC */
	char *description;
	int64_t time_ticks;    /* prtAlertTime (sysUpTime when it was raised) */
	int64_t first_seen;    /* UTC seconds; the store keeps these */
	int64_t last_seen;
	int64_t cleared_at;    /* 0 while active */
};

/* A paper tray (a row of prtInputTable). max and level keep -1 (other / no restriction),
 * -2 (unknown) and -3 (some remaining, level only) like supplies (tray_state_of says what they mean). */
struct tray {
	int index;             /* prtInputIndex */
	char *name;            /* prtInputName, or NULL */
	char *description;     /* prtInputDescription, or NULL */
	char *media;           /* prtInputMediaName ("A4", "Letter"), or NULL when not reported */
	int unit;              /* prtInputCapacityUnit (8 sheets, ...); 0 when not reported */
	int max;               /* prtInputMaxCapacity */
	int level;             /* prtInputCurrentLevel */
	int status;            /* prtInputStatus (PrtSubUnitStatusTC, 0..126), or TRAY_STATUS_NONE */
};
#define TRAY_STATUS_NONE (-1)

/* prtCoverStatus (PrtCoverStatusTC); 0 when the device did not send one. */
enum cover_status {
	COVER_OTHER = 1,
	COVER_UNKNOWN = 2,
	COVER_OPEN = 3,
	COVER_CLOSED = 4,
	COVER_INTERLOCK_OPEN = 5,
	COVER_INTERLOCK_CLOSED = 6,
};

/* A cover or door (a row of prtCoverTable). */
struct cover {
	int index;             /* prtCoverIndex */
	char *description;     /* prtCoverDescription, or NULL */
	int status;            /* enum cover_status, or 0 */
};

/* hrPrinterDetectedErrorState bits (RFC 2790), bit 0 = most significant bit of the first octet.
 * error_bits in struct device holds bit N as (1u << N). */
enum printer_error_bit {
	PRINTER_ERR_LOW_PAPER = 0,
	PRINTER_ERR_NO_PAPER,
	PRINTER_ERR_LOW_TONER,
	PRINTER_ERR_NO_TONER,
	PRINTER_ERR_DOOR_OPEN,
	PRINTER_ERR_JAMMED,
	PRINTER_ERR_OFFLINE,
	PRINTER_ERR_SERVICE_REQUESTED,
	PRINTER_ERR_INPUT_TRAY_MISSING,
	PRINTER_ERR_OUTPUT_TRAY_MISSING,
	PRINTER_ERR_MARKER_SUPPLY_MISSING,
	PRINTER_ERR_OUTPUT_NEAR_FULL,
	PRINTER_ERR_OUTPUT_FULL,
	PRINTER_ERR_INPUT_TRAY_EMPTY,
	PRINTER_ERR_OVERDUE_PREVENT_MAINT,
	PRINTER_ERR_COUNT
};

struct device {
	int64_t id;            /* the store's id; 0 before it is stored */
	char *address;         /* current IP address or host name */
	int port;              /* SNMP port */
	char *profile;         /* name of the credential profile that answered */

	/* identity */
	char *vendor;
	char *model;
	char *serial;
	char *mac;             /* "aa:bb:cc:dd:ee:ff" */
	char *firmware;
	char *sys_name;
	char *sys_descr;
	char *sys_object_id;
	char *location;
	int64_t uptime_ticks;

	/* status (0 = not reported) */
	int status_device;     /* hrDeviceStatus: 1 unknown 2 running 3 warning 4 testing 5 down */
	int status_printer;    /* hrPrinterStatus: 1 other 2 unknown 3 idle 4 printing 5 warmup */
	uint32_t error_bits;   /* see enum printer_error_bit */
	bool error_bits_known;
	char *panel_text;      /* front panel lines joined with " | ", or NULL */

	/* management */
	bool included;
	int64_t first_seen;
	int64_t last_seen;     /* last time it answered */
	int64_t last_poll;     /* last poll attempt */
	int64_t last_poll_ok;  /* last complete poll */
	char *poll_error;      /* why the last poll failed, or NULL */
	char *poll_warnings;   /* what the last poll found wrong with the answers ("; " between
				  sentences: an OID that did not increase, a walk cut at its bound,
				  values of the wrong type, ...), or NULL */
	int unreachable_polls; /* consecutive polls without an answer */

	struct meter *meters;
	size_t n_meters;
	struct supply *supplies;
	size_t n_supplies;
	struct alert *alerts;
	size_t n_alerts;
	struct tray *trays;
	size_t n_trays;
	struct cover *covers;
	size_t n_covers;
};

/* Frees everything the device owns and zeroes it (the struct itself is the caller's). */
void device_clear(struct device *d);

/* Frees an array of n devices made by the store or a collector, and NULLs *devs. */
void device_array_free(struct device **devs, size_t n);

/* The meter called name ("total", "black", "color"), or NULL. Borrowed from d. */
const struct meter *device_meter(const struct device *d, const char *name);

/* What a supply's level means (see enum supply_state). low_percent is the threshold under which a
 * consumable is "low" (the configuration's [alerts] supply_low). */
enum supply_state supply_state_of(const struct supply *s, int low_percent);

/* The stable name of a state: "ok", "low", "empty", "unknown", "some-remaining",
 * "no-restriction", "full". Static string. */
const char *supply_state_name(enum supply_state st);

/* Names of a supply type (IANA PrtMarkerSuppliesTypeTC), from one table: the MIB's own name
 * ("wasteToner", what the exports write; "" for a code the TC does not name) and a word for people
 * ("waste toner", what `show` prints; "supply" for a code the TC does not name). Static strings. */
const char *supply_type_mib_name(int type);
const char *supply_type_word(int type);

/* Percentage 0..100 of what is left (for a receptacle: of the room left), or -1 when there is no
 * honest percentage (special values, unknown max). */
int supply_percent(const struct supply *s);

/* The lowest percentage among the consumed supplies of d (-1 when none has one), and the index
 * of that supply in d->supplies in *which (may be NULL). */
int device_lowest_supply(const struct device *d, size_t *which);

/* What a tray's level means: SUPPLY_NO_RESTRICTION (-1), SUPPLY_UNKNOWN (-2 and other negative
 * values), SUPPLY_SOME_REMAINING (-3), SUPPLY_EMPTY (0) or SUPPLY_OK. A tray is never "low":
 * printers say that themselves with the lowPaper bit. */
enum supply_state tray_state_of(const struct tray *t);

/* Percentage 0..100 of paper left in a tray, or -1 when there is no honest one (like
 * supply_percent: a level above the maximum is 100). */
int tray_percent(const struct tray *t);

/* prtInputStatus in words into buf ("available and idle", "unavailable on request, non-critical
 * alerts", "off-line"...); "" for TRAY_STATUS_NONE or a value outside the TC. Returns buf. */
char *tray_status_text(int status, char *buf, size_t len);

/* A cover's status word: "open", "closed", "interlock open", "interlock closed", "other",
 * "unknown" (also for 0 and values outside the TC). Static string. */
const char *cover_status_name(int status);

/* Whether a cover (or its interlock) is open. */
bool cover_is_open(const struct cover *c);

/* Short word for a bit of hrPrinterDetectedErrorState ("lowPaper" style: "low paper"), or NULL
 * for an unknown bit. Static string. */
const char *printer_error_name(int bit);
/* Whether the bit is a fault that stops printing (no paper, jammed, door open, ...). */
bool printer_error_is_critical(int bit);

/* A device's overall state, worst first (lists sort by it). The names (device_state_name) are an
 * interface: the console, `devices`, the `status` column of devices.csv and the HTML report. */
enum device_state {
	DEVICE_FAULT,       /* down, an error bit that stops printing, or a critical alert */
	DEVICE_UNREACHABLE, /* the last polls got no answer */
	DEVICE_WARNING,     /* warning status, another error bit or alert, a poll error or warning */
	DEVICE_UNKNOWN,     /* never polled completely */
	DEVICE_OK,
	DEVICE_STATE_COUNT
};

/* The state of d; reads d->alerts when they were loaded (cleared ones do not count).
 * The rule for the sub-units (one rule, docs/report-format.md "Device state"): the printer's own
 * hrPrinterDetectedErrorState is its summary, so when it was reported, covers and trays do not
 * count again; when it was not, an open cover is a fault (like doorOpen) and a tray at level 0 a
 * warning (like inputTrayEmpty). A meter that went backwards (back_from) and poll warnings are
 * warnings. */
enum device_state device_state_of(const struct device *d);

/* "fault", "unreachable", "warning", "unknown", "ok". Static string. */
const char *device_state_name(enum device_state st);

/* Words for hrDeviceStatus / hrPrinterStatus / an alert severity ("running", "idle",
 * "critical"); "unknown" for values outside the MIB. Static strings. */
const char *device_status_name(int status);
const char *printer_status_name(int status);
const char *alert_severity_name(int severity);

#endif
