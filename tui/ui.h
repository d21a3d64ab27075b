/* The console's insides, shared by its files in tui/ and by nothing else: the console's state,
 * the screens' entry points, the drawing primitives over curses, the scrolling text view and the
 * dialogs. The public face of the console is tui/console.h. Only the main thread runs any of it. */
#ifndef FLEETCON_TUI_UI_H
#define FLEETCON_TUI_UI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model/agent.h"
#include "model/device.h"
#include "model/store.h"
#include "service/agenda.h"
#include "tui/fleet.h"
#include "tui/keys.h"
#include "tui/layout.h"
#include "uplink/sync.h"

struct config;
struct agent_link;

enum screen_id {
	SCR_DEVICES,
	SCR_DEVICE,
	SCR_ALERTS,
	SCR_SYNC,
	SCR_DISCOVERY,
	SCR_SITE,
	SCR_LOG,
	SCR_HELP,
	SCR_COUNT
};

/* What a piece of text is; the theme decides how it looks (colour, or attributes only). */
enum role {
	RL_NORMAL,
	RL_HEADER,     /* the top line */
	RL_TAB,        /* a screen's name on the tab line */
	RL_TAB_ACTIVE,
	RL_TITLE,      /* column titles, section titles */
	RL_SELECTED,   /* the selected row */
	RL_DIM,        /* excluded devices, secondary text */
	RL_CRIT,       /* faults: always next to a word that says it */
	RL_WARN,
	RL_OK,
	RL_KEY,        /* a key in the hint bar */
	RL_HINT,
	RL_FLASH_ERR,
	RL_FLASH_INFO,
	RL_FIELD,      /* a text field in a dialog */
	RL_COUNT
};

/* ---- the scrolling text view (Device, Sync, Site, Log, Help, Alerts, previews) ---- */

struct tline {
	char *text;      /* cleaned display text (heap) */
	int role;
	int64_t ref;     /* what the line is about (a device id, a range id), 0 = nothing */
	int gauge_x;     /* a gauge drawn over the line at this column ... */
	int gauge_w;     /* ... this wide (0 = none) */
	int gauge_pct;
	int gauge_role;
};

struct textview {
	struct tline *lines;
	size_t n, cap;
	size_t top;       /* first line shown */
	size_t sel;       /* selected line when selectable */
	bool selectable;  /* lines with a ref can be selected */
};

void tv_clear(struct textview *tv);
/* Adds a line (text cleaned with text_clean; printf-style). Returns the line or NULL when out of
 * memory. */
struct tline *tv_add(struct textview *tv, int role, int64_t ref, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* Adds a section title and an empty line before it (unless first). */
void tv_section(struct textview *tv, const char *title);
/* Moves the view (or the selection) for a navigation action; returns true when it moved. */
bool tv_key(struct textview *tv, enum key_action a, int visible);
/* The ref of the selected line (0 when none). */
int64_t tv_selected_ref(const struct textview *tv);
/* Selects the first line whose ref is ref (keeping the position when there is none). */
void tv_select_ref(struct textview *tv, int64_t ref);

/* ---- dialogs ---- */

enum dialog_kind { DLG_NONE, DLG_EXPORT, DLG_RANGE, DLG_CONFIRM_REMOVE, DLG_VIEW };
enum field_type { FIELD_TEXT, FIELD_CHOICE };

struct field {
	const char *label;
	enum field_type type;
	char value[512];             /* FIELD_TEXT: UTF-8 as typed */
	const char *const *choices;  /* FIELD_CHOICE: NULL-terminated */
	int choice;
	const char *note;            /* a hint under the field, or NULL */
};

struct dialog {
	enum dialog_kind kind;
	char title[96];
	struct field fields[5];
	int nfields;
	int focus;
	char message[512];           /* the result or what went wrong, after Enter */
	int message_level;           /* AGENT_ERROR / AGENT_INFO */
	int64_t job;                 /* the command it is waiting for (0 = none) */
	int64_t ref;                 /* the range being edited or removed */
	bool done;                   /* the result is shown; Enter / Esc closes */
	struct textview view;        /* DLG_VIEW: the text shown (the report preview) */
};

/* ---- jobs the console follows ---- */

struct job_track {
	int64_t id;           /* 0 = none yet */
	bool running;
	int64_t done, total;
	char text[256];       /* the latest progress line */
	int status;           /* enum agent_job_status once finished */
	char result[512];     /* the finishing line */
	int64_t started_ms, finished_at;
};

struct log_line {
	int64_t at;
	int level;
	char *text;
};

#define CONSOLE_LOG_MAX 2000

/* ---- the console ---- */

struct console {
	struct config *cfg;          /* borrowed */
	struct store *store;         /* the main thread's own connection */
	struct agent_link *link;     /* the agent: in this process, or the service's (NULL when the
					workers could not start: then nothing can be sent) */
	char mode[64];               /* for the header: "local agent", "service pid N" */
	bool link_gone;              /* the service went away */
	bool readonly, ascii, no_color, no_mouse;

	/* terminal, decided once at start (term_start) */
	bool utf8, color, mouse;
	int rows, cols;
	struct frame frame;
	bool need_clear;             /* clear and repaint everything at the next draw */
	int cursor_y, cursor_x;      /* where the hardware cursor rests after drawing */
	char position[48];           /* "12/340": where the screen is in its list, for the status line */
	bool cursor_visible;

	struct fleet fleet;
	enum screen_id screen;
	enum screen_id history[32];  /* for Esc */
	int nhistory;

	/* Devices */
	size_t dev_sel, dev_top;
	int64_t dev_sel_id;          /* keeps the selection on its device across re-sorts */
	bool filtering;              /* the filter line has the keys */

	/* Device */
	int64_t detail_id;
	bool detail_raw;
	bool detail_dirty;
	struct textview detail;

	/* Alerts */
	struct textview alerts;
	unsigned alerts_generation;
	int64_t alerts_built_ms;

	/* Sync */
	struct textview sync;
	bool sync_dirty;             /* re-read the sync status and the outbox */
	bool sync_loaded;
	struct sync_status sync_st;
	struct outbox_entry *outbox;
	size_t n_outbox;
	int64_t next_sync;           /* UTC seconds, for the header's countdown (0 = none) */
	int64_t last_success;
	bool uplink_configured;
	bool last_sync_failed;

	/* Discovery */
	struct textview disc;
	bool disc_dirty;
	char dry_run[512];           /* the last dry run's answer */

	/* Site */
	struct textview site;
	int64_t site_job;
	char *site_text;             /* the last AGENT_CMD_SITEFACTS answer */

	/* Log and Help */
	struct log_line log[CONSOLE_LOG_MAX];
	size_t log_start, log_n;
	struct textview logview;
	bool log_dirty;
	bool log_follow;             /* stay at the newest line */
	struct textview help;

	/* the agent's own schedule while the console hosts it and holds the agent's lock */
	bool schedules;
	struct agenda agenda;

	/* jobs */
	struct job_track poll, discover, upload, preview, exporting;
	size_t polls_running;
	int64_t *pending_ids;        /* devices changed since the last draw */
	size_t n_pending, cap_pending;
	bool reload_all;

	struct dialog dialog;

	char flash[512];
	int flash_level;
	int64_t flash_until_ms;

	int64_t now;                 /* clock_now() at the top of the loop */
	bool quit;
};

/* ---- term.c: the terminal ---- */

struct term_options {
	bool ascii, no_color, no_mouse;
};

/* Starts curses on the terminal: locale, stderr redirected to a file, keys, colours or
 * monochrome (NO_COLOR, --no-color), line drawing, mouse, ESC delay, the signal handlers and an
 * atexit hook that restore the terminal on every exit path. Fills c->utf8/color/mouse/rows/cols.
 * Returns 0, or -1 with err set (nothing left changed). */
int term_start(struct console *c, const struct term_options *o, struct fc_error *err);

/* Restores the terminal and stderr, and copies what was written to stderr meanwhile to the real
 * stderr. Safe to call twice. */
void term_stop(void);

/* A signal asked the console to stop (SIGINT, SIGTERM, SIGHUP), to repaint (SIGCONT), to suspend
 * (SIGTSTP) or to take a new size (SIGWINCH). The descriptor is readable then; term_signals()
 * reads it and says what came. */
int term_signal_fd(void);
enum { TERM_SIG_QUIT = 1, TERM_SIG_REPAINT = 2, TERM_SIG_SUSPEND = 4, TERM_SIG_RESIZE = 8 };
int term_signals(void);

/* Ctrl-Z: gives the terminal back and stops the process; returns once it is continued (fg), with
 * the terminal taken again. */
void term_suspend(void);

/* The terminal's size changed (SIGWINCH): curses takes the new size. */
void term_resize(void);

/* The attributes of a role in the theme chosen at start. */
unsigned term_attr(const struct console *c, enum role r);

/* ---- draw.c: primitives (clipped to the terminal, text through fmt_fit) ---- */

/* Draws text at (y, x) in at most w columns with role r, padding with spaces to w when pad.
 * Returns the columns drawn. */
int draw_text(struct console *c, int y, int x, int w, int r, bool pad, const char *text);
/* printf-style draw_text without padding. */
int draw_fmt(struct console *c, int y, int x, int w, int r, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));
/* A horizontal line of w columns (UTF-8, ACS or ASCII). */
void draw_hline(struct console *c, int y, int x, int w);
/* A gauge (see fmt_gauge) with role r. */
void draw_gauge(struct console *c, int y, int x, int w, int pct, int r);
/* Fills a rectangle with spaces of role r. */
void draw_clear(struct console *c, struct rect rc, int r);
/* A box with a title (for dialogs). */
void draw_box(struct console *c, struct rect rc, const char *title);
/* Draws the text view in rc; with a selection, parks the cursor on it. */
void tv_draw(struct console *c, struct textview *tv, struct rect rc);

/* The role for a device status word, a supply severity, an alert rank. */
int role_for_status(const char *status);
int role_for_rank(int rank);

/* ---- console.c: shared actions ---- */

void console_flash(struct console *c, int level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void console_log(struct console *c, int level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void console_show(struct console *c, enum screen_id s);
/* Sends a command to the workers; on failure flashes why. Returns the job or 0. */
int64_t console_submit(struct console *c, int kind, int64_t id, int64_t a, int64_t b, const char *text);
/* Asks a job to stop, wherever the agent runs. */
void console_cancel(struct console *c, int64_t job);
/* Opens the Device screen on device id. */
void console_open_device(struct console *c, int64_t id);

/* ---- the screens: draw into the body, take a key (the action from the key table, or the raw key
 * when the action is KA_NONE). A key handler returns true when it used the key. ---- */

void devices_draw(struct console *c, struct rect r);
bool devices_key(struct console *c, enum key_action a, int key, int wch);
void devices_mouse(struct console *c, int y, int x, bool open);

void device_draw(struct console *c, struct rect r);
bool device_key(struct console *c, enum key_action a);
void device_invalidate(struct console *c);

void alerts_draw(struct console *c, struct rect r);
bool alerts_key(struct console *c, enum key_action a, struct rect r);

void sync_draw(struct console *c, struct rect r);
bool sync_key(struct console *c, enum key_action a, struct rect r);

void discovery_draw(struct console *c, struct rect r);
bool discovery_key(struct console *c, enum key_action a, struct rect r);

void site_draw(struct console *c, struct rect r);
bool site_key(struct console *c, enum key_action a, struct rect r);

void log_draw(struct console *c, struct rect r);
bool log_key(struct console *c, enum key_action a, struct rect r);

void help_draw(struct console *c, struct rect r);
bool help_key(struct console *c, enum key_action a, struct rect r);

/* ---- dialog.c ---- */

void dialog_open_export(struct console *c);
void dialog_open_range(struct console *c, int64_t range_id);
void dialog_open_confirm_remove(struct console *c, int64_t range_id, const char *what);
/* A read-only text in a window over the screen (takes the text: a copy is made). */
void dialog_open_view(struct console *c, const char *title, const char *text);
void dialog_draw(struct console *c);
/* Takes every key while a dialog is open. */
void dialog_key(struct console *c, int key, int wch);
/* A job the dialog waits for has finished. */
void dialog_job_done(struct console *c, int64_t job, int status, const char *text);

#endif
