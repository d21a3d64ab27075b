/* The console's keys, declared once as data: every action with its keys, the screens where it
 * works, its word in the hint bar and its sentence in the help. The hint bar, the Help screen,
 * the key dispatch and (later) the man page's key section are all generated from this table, so
 * they cannot disagree. Actions that change something are marked and disappear with --readonly. */
#ifndef FLEETCON_TUI_KEYS_H
#define FLEETCON_TUI_KEYS_H

#include <stdbool.h>
#include <stddef.h>

/* Where a key works: the screens, and the text fields (filter, dialogs). */
enum key_context {
	KC_DEVICES = 1u << 0,
	KC_DEVICE = 1u << 1,
	KC_ALERTS = 1u << 2,
	KC_SYNC = 1u << 3,
	KC_DISCOVERY = 1u << 4,
	KC_SITE = 1u << 5,
	KC_LOG = 1u << 6,
	KC_HELP = 1u << 7,
	KC_EDIT = 1u << 8,     /* a text field has the keys: the filter line, a dialog */
	KC_VIEW = 1u << 9,     /* a text shown over the screen (the report preview) */
	KC_SCREENS = 0xFFu,    /* every screen (not the text fields) */
	KC_LISTS = KC_SCREENS | KC_VIEW, /* everything that scrolls */
};

/* Flags of a binding. */
enum {
	KF_CHANGES = 1u << 0, /* changes the fleet, the database or files: hidden with --readonly */
	KF_HINT = 1u << 1,    /* shown in the hint bar of its screens */
};

/* Control keys as the terminal sends them. */
#define KEYS_CTRL(c) ((c) & 0x1f)
#define KEYS_ESC 27

/* X(ACTION, contexts, flags, key1, key2, key3, "keys in the help", "hint key", "hint word", "help")
 * Keys are curses key codes; 0 = none. The codes (KEY_F(n), KEY_UP, ...) are only expanded in
 * keys.c, so this header needs no curses. The order is the order of the hint bar and the help. */
#define KEY_ACTIONS(X)                                                                                         \
	X(OPEN, KC_DEVICES | KC_ALERTS, KF_HINT, '\n', '\r', KEY_ENTER, "Enter", "Enter", "open",              \
	  "Open the selected device")                                                                          \
	X(FILTER, KC_DEVICES, KF_HINT, '/', KEY_F(4), 0, "/  F4", "/", "filter",                               \
	  "Filter as you type (name, address, model, serial, status); Enter keeps it, Esc clears it")        \
	X(SORT_LEFT, KC_DEVICES, KF_HINT, '<', 0, 0, "<", "<>", "sort",                                       \
	  "Sort by the column to the left")                                                                    \
	X(SORT_RIGHT, KC_DEVICES, 0, '>', KEY_F(6), 0, ">  F6", "", "", "Sort by the column to the right")     \
	X(SORT_INVERT, KC_DEVICES, 0, 'I', 0, 0, "I", "", "", "Invert the sort direction")                    \
	X(INCLUDE, KC_DEVICES | KC_DEVICE, KF_HINT | KF_CHANGES, ' ', 0, 0, "Space", "Space", "in/exclude",   \
	  "Include or exclude the device (excluded devices are not polled or reported)")                     \
	X(POLL, KC_DEVICES | KC_DEVICE, KF_HINT, 'p', KEY_F(5), 0, "p  F5", "p", "poll",                       \
	  "Poll the device now")                                                                                \
	X(RAW, KC_DEVICE, KF_HINT, 'w', 0, 0, "w", "w", "raw SNMP",                                           \
	  "Show or hide the raw SNMP values of this device's last own poll (for technicians)")                \
	X(UPLOAD, KC_SYNC, KF_HINT | KF_CHANGES, 'u', 0, 0, "u", "u", "upload now",                          \
	  "Upload a report now and follow its stages")                                                        \
	X(PREVIEW, KC_SYNC, KF_HINT, 'v', 0, 0, "v", "v", "preview",                                          \
	  "Show the report the next sync would send, exactly")                                                \
	X(RANGE_ADD, KC_DISCOVERY, KF_HINT | KF_CHANGES, 'n', KEY_IC, 0, "n  Insert", "n", "new",            \
	  "Add a range or a manual address with its profiles")                                                \
	X(RANGE_EDIT, KC_DISCOVERY, KF_HINT | KF_CHANGES, '\n', '\r', KEY_ENTER, "Enter", "Enter", "edit",   \
	  "Edit the selected range")                                                                           \
	X(RANGE_REMOVE, KC_DISCOVERY, KF_HINT | KF_CHANGES, 'x', KEY_DC, 0, "x  Delete", "x", "remove",      \
	  "Remove the selected range (its devices stay)")                                                     \
	X(DRY_RUN, KC_DISCOVERY, KF_HINT, 't', 0, 0, "t", "t", "cost",                                        \
	  "Dry run: how many addresses, packets and the worst-case time, nothing sent")                      \
	X(DISCOVER, KC_DISCOVERY, KF_HINT | KF_CHANGES, 'g', 0, 0, "g", "g", "run now",                      \
	  "Run a discovery of every range now, with live progress")                                           \
	X(CANCEL, KC_DISCOVERY | KC_SYNC, KF_HINT, 'c', 0, 0, "c", "c", "cancel",                             \
	  "Cancel the running discovery or upload")                                                           \
	X(EXPORT, KC_SCREENS, KF_CHANGES, 'e', 0, 0, "e", "e", "export",                                      \
	  "Export the fleet to an HTML report or CSV files")                                                  \
	X(SCREEN_DEVICES, KC_SCREENS, 0, '1', 'd', 0, "1  d", "", "", "Devices: the fleet")                  \
	X(SCREEN_DEVICE, KC_SCREENS, 0, '2', 'i', 0, "2  i", "", "", "Device: everything about the selected device") \
	X(SCREEN_ALERTS, KC_SCREENS, 0, '3', 'a', 0, "3  a", "", "", "Alerts: every fault and low supply, worst first") \
	X(SCREEN_SYNC, KC_SCREENS, 0, '4', 's', 0, "4  s", "", "", "Sync: uploads, the outbox and the schedule") \
	X(SCREEN_DISCOVERY, KC_SCREENS, 0, '5', 'r', 0, "5  r", "", "", "Discovery: ranges, manual addresses, runs") \
	X(SCREEN_SITE, KC_SCREENS, 0, '6', 'f', 0, "6  f", "", "", "Site: facts about this agent and its host") \
	X(SCREEN_LOG, KC_SCREENS, 0, '7', 'l', 0, "7  l", "", "", "Log: the agent's messages, newest last")  \
	X(HELP, KC_SCREENS, KF_HINT, '?', KEY_F(1), '8', "?  F1  8", "?", "help", "This help")                \
	X(NEXT_SCREEN, KC_SCREENS, 0, '\t', 0, 0, "Tab", "", "", "Next screen")                               \
	X(PREV_SCREEN, KC_SCREENS, 0, KEY_BTAB, 0, 0, "Shift-Tab", "", "", "Previous screen")                 \
	X(BACK, KC_SCREENS, 0, KEYS_ESC, KEY_BACKSPACE, 0, "Esc", "", "", "Back to the previous screen; clears the filter") \
	X(UP, KC_LISTS, 0, KEY_UP, 'k', 0, "Up  k", "", "", "Move up")                                        \
	X(DOWN, KC_LISTS, 0, KEY_DOWN, 'j', 0, "Down  j", "", "", "Move down")                                 \
	X(PAGE_UP, KC_LISTS, 0, KEY_PPAGE, KEYS_CTRL('b'), 0, "PgUp  Ctrl-B", "", "", "One page up")           \
	X(PAGE_DOWN, KC_LISTS, 0, KEY_NPAGE, KEYS_CTRL('f'), 0, "PgDn  Ctrl-F", "", "", "One page down")       \
	X(HOME, KC_LISTS, 0, KEY_HOME, 0, 0, "Home", "", "", "To the first line")                         \
	X(END, KC_LISTS, 0, KEY_END, 'G', 0, "End  G", "", "", "To the last line")                             \
	X(REDRAW, KC_SCREENS, 0, KEYS_CTRL('l'), 0, 0, "Ctrl-L", "", "", "Redraw the screen")                  \
	X(QUIT, KC_SCREENS, KF_HINT, 'q', KEY_F(10), 0, "q  F10", "q", "quit",                               \
	  "Quit (Ctrl-Z suspends instead)")                                                                    \
	X(VIEW_CLOSE, KC_VIEW, KF_HINT, KEYS_ESC, 'q', '\n', "Esc  q  Enter", "Esc", "close",                \
	  "Text window: close it")                                                                             \
	X(EDIT_ACCEPT, KC_EDIT, KF_HINT, '\n', '\r', KEY_ENTER, "Enter", "Enter", "keep",                     \
	  "Text field: keep what was typed")                                                                   \
	X(EDIT_CANCEL, KC_EDIT, KF_HINT, KEYS_ESC, 0, 0, "Esc", "Esc", "cancel",                             \
	  "Text field: cancel (the filter: clear it)")                                                         \
	X(EDIT_NEXT, KC_EDIT, KF_HINT, '\t', KEY_DOWN, 0, "Tab  Down", "Tab", "next field",                   \
	  "Dialog: the next field")                                                                            \
	X(EDIT_PREV, KC_EDIT, 0, KEY_BTAB, KEY_UP, 0, "Shift-Tab  Up", "", "", "Dialog: the previous field")   \
	X(EDIT_ERASE, KC_EDIT, 0, KEY_BACKSPACE, 127, '\b', "Backspace", "", "", "Text field: erase a character") \
	X(EDIT_CLEAR, KC_EDIT, 0, KEYS_CTRL('u'), 0, 0, "Ctrl-U", "", "", "Text field: erase everything")

enum key_action {
	KA_NONE = 0,
#define KEYS_ENUM(name, ...) KA_##name,
	KEY_ACTIONS(KEYS_ENUM)
#undef KEYS_ENUM
	KA_COUNT
};

struct key_binding {
	enum key_action action;
	unsigned contexts;     /* enum key_context bits */
	unsigned flags;        /* KF_* */
	int keys[3];           /* curses key codes, 0 = unused */
	const char *label;     /* the keys as the help shows them: "/  F4" */
	const char *hint_key;  /* the key in the hint bar: "/" ("" = not in the bar) */
	const char *hint;      /* the word in the hint bar: "filter" */
	const char *help;      /* one sentence */
};

/* The whole table (n entries). Static data. */
const struct key_binding *keys_table(size_t *n);

/* The binding of action, or NULL. */
const struct key_binding *keys_binding(enum key_action action);

/* The action key has in context (one enum key_context bit), or KA_NONE. With readonly, an action
 * that changes something is KA_NONE too and *refused (may be NULL) says that a key was known but
 * is not allowed. The first binding in table order wins (so a screen's own use of a key, listed
 * first, wins over a global one). */
enum key_action keys_lookup(unsigned context, int key, bool readonly, bool *refused);

/* The hint bar's entries for context, in table order, without the changing ones with readonly.
 * Fills out with up to max bindings and returns how many. */
size_t keys_hints(unsigned context, bool readonly, const struct key_binding **out, size_t max);

/* The hint bar as plain text ("Enter open  / filter  ? help  q quit") cut to width columns, with
 * "READ-ONLY" first with readonly. Returns out. */
char *keys_hint_text(unsigned context, bool readonly, int width, char *out, size_t len);

/* The name of a context for the help: "Devices", "Text fields", ... Static string. */
const char *keys_context_name(unsigned context);

#endif
