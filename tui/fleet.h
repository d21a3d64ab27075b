/* The console's in-memory view of the fleet: one compact row per device, loaded once from the store
 * at start and then updated one device at a time when a worker says that device changed, so that
 * no keystroke ever reads the whole database. Sorting and filtering work on an index array over
 * the rows (20,000 devices sort in milliseconds). No curses here. Every string in a row has been
 * through text_clean() (model/text.h) and is never NULL. */
#ifndef FLEETCON_TUI_FLEET_H
#define FLEETCON_TUI_FLEET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model/device.h"
#include "model/error.h"

struct store;

/* The Devices table's columns, which are also the sort keys. */
enum fleet_col {
	FLEET_COL_STATUS,
	FLEET_COL_NAME,
	FLEET_COL_MODEL,
	FLEET_COL_SERIAL,
	FLEET_COL_TOTAL,
	FLEET_COL_BLACK,
	FLEET_COL_COLOR,
	FLEET_COL_SUPPLY,
	FLEET_COL_ALERTS,
	FLEET_COL_POLLED,
	FLEET_COL_COUNT
};

/* The column's title ("Status", "Name / address", ...). Static string. */
const char *fleet_col_title(enum fleet_col c);

/* The Devices table's column widths for a terminal width (0 = hidden): which columns fit, in
 * their order of importance (status, name, supply, alerts, total, model, last poll, serial, black,
 * colour), and the spare width given to name and model. Returns the number shown. */
size_t fleet_col_widths(int width, int widths[FLEET_COL_COUNT]);

/* Whether the column's values are numbers (right-aligned). */
bool fleet_col_numeric(enum fleet_col c);

/* How bad a problem is: the Alerts screen lists the worst first. */
enum fleet_rank { FLEET_CRITICAL, FLEET_WARNING, FLEET_NOTICE };

/* One active fault or low supply of a device. */
struct fleet_problem {
	enum fleet_rank rank;
	const char *word;    /* static: "critical", "warning", "EMPTY", "LOW", "FULL", "unreachable" */
	char *text;          /* what it is: the alert's description, "toner black 4%", "door open" */
	int64_t since;       /* UTC seconds when it was first seen, 0 when unknown */
};

struct fleet_row {
	int64_t id;
	const char *status;  /* device_state_name(): "unreachable", "fault", "warning", "unknown", "ok" */
	int status_rank;     /* enum device_state, worst first: sorts the status column */
	char *name;          /* sysName, else the address */
	char *address;
	char *model;         /* "Vendor Model" */
	char *serial;
	int64_t total, black, color; /* -1 when the device has no such meter */
	int lowest_pct;      /* lowest consumable percentage, -1 when none */
	int lowest_sev;      /* fmt_supply_severity of the worst supply (2 = fine) */
	char lowest[24];     /* the worst supply as a word: "LOW 8%", "EMPTY", "45%", "" */
	int alerts;          /* active alerts */
	int64_t last_poll;   /* last poll attempt, 0 = never */
	bool included;
	char *haystack;      /* lower-case text the filter searches */
	struct fleet_problem *problems;
	size_t n_problems;
};

struct fleet_counts {
	size_t discovered, included, excluded;
	size_t errors, warnings, unreachable; /* included devices by status */
	size_t low;                          /* included devices with a low, empty or full supply */
	size_t problems;                     /* problems of included devices (the Alerts screen) */
};

struct fleet {
	struct fleet_row *rows;  /* ordered by id */
	size_t n, cap;
	size_t *view;            /* indices into rows: those matching the filter, in sort order */
	size_t n_view;
	enum fleet_col sort;
	bool desc;
	char filter[256];        /* as typed; matched case-insensitively */
	int low_percent;         /* [alerts] supply_low */
	struct fleet_counts counts;
	unsigned generation;     /* changes whenever a row does (for views built from the rows) */
	bool dirty;              /* rows changed since the view was built */
};

/* An empty fleet sorted by status (worst first). */
void fleet_init(struct fleet *f, int low_percent);

/* Frees the rows and the view; the fleet is empty again (fleet_init state). */
void fleet_clear(struct fleet *f);

/* Replaces the rows with every device in the store. Returns 0, or -1 with err set (the fleet is
 * unchanged). */
int fleet_load(struct fleet *f, struct store *s, struct fc_error *err);

/* Re-reads one device (a new one is added, a removed one dropped). Marks the view dirty. */
int fleet_reload(struct fleet *f, struct store *s, int64_t id, struct fc_error *err);

/* Puts one device's data in its row (added when new). d is only read. Returns 0, or -1 when out
 * of memory. Marks the view dirty. */
int fleet_put(struct fleet *f, const struct device *d);

/* Drops the device's row if there is one. */
void fleet_remove(struct fleet *f, int64_t id);

/* The row of device id, or NULL. Borrowed until the next change. */
const struct fleet_row *fleet_find(const struct fleet *f, int64_t id);

/* Sets the sort column and direction, or the filter; the view is rebuilt on the next
 * fleet_refresh(). */
void fleet_sort(struct fleet *f, enum fleet_col col, bool desc);
void fleet_filter(struct fleet *f, const char *text);

/* Rebuilds the view when something changed since the last time (rows, sort, filter). Returns
 * true when it did. Out of memory leaves the old view. */
bool fleet_refresh(struct fleet *f);

/* The row shown at position i of the view (i < n_view). Borrowed. */
const struct fleet_row *fleet_at(const struct fleet *f, size_t i);

/* The position of device id in the view, or (size_t)-1 when it is not in it. */
size_t fleet_view_index(const struct fleet *f, int64_t id);

/* One line of the Alerts screen: a problem and whose it is. */
struct fleet_alert {
	const struct fleet_row *row;
	const struct fleet_problem *problem;
};

/* Every problem of the included devices, worst first (rank, then oldest, then device name), into
 * a new array (*out, *n) the caller frees with free(). Pointers are borrowed from f and valid
 * until its next change. Returns 0, or -1 when out of memory. */
int fleet_alerts(const struct fleet *f, struct fleet_alert **out, size_t *n);

#endif
