/* Where things go on the console's screen, as pure functions of the terminal size (no curses), so
 * that the layout is unit-tested by printing rectangles and widths as text: the frame (header, tab
 * line, body, status line, hint bar), the table columns that fit a width, and scrolling. */
#ifndef FLEETCON_TUI_LAYOUT_H
#define FLEETCON_TUI_LAYOUT_H

#include <stdbool.h>
#include <stddef.h>

/* The smallest terminal the console draws in; below it shows "terminal too small" and keeps
 * running. The design size is 80x24. */
#define LAYOUT_MIN_COLS 60
#define LAYOUT_MIN_ROWS 16

struct rect {
	int y, x, h, w;
};

struct frame {
	bool too_small;
	struct rect header; /* line 0: site, counts, collector and uplink state, next sync */
	struct rect tabs;   /* line 1: the screens with their keys */
	struct rect body;   /* what the screen draws in */
	struct rect status; /* one line: flash messages and progress */
	struct rect hints;  /* the last line: this screen's keys */
};

/* The frame for a terminal of rows x cols. Too small: too_small is set and only body is filled
 * (the whole terminal, for the message). */
struct frame layout_frame(int rows, int cols);

/* One table column. Columns are laid out in their array order; when the width is short, those
 * with the highest priority number are hidden first. */
struct layout_col {
	const char *title;
	int min;       /* columns it needs to be shown at all */
	int max;       /* it never grows past this (0 = no limit) */
	int priority;  /* 0 = always shown; larger = dropped earlier */
	int grow;      /* share of the spare width it takes (0 = stays at min) */
	bool right;    /* numbers are right-aligned */
};

/* Fills widths[i] (0 = hidden) for n columns separated by `gap` spaces so that the shown columns
 * and their gaps fit in width. Returns the number of columns shown. */
size_t layout_columns(const struct layout_col *cols, size_t n, int width, int gap, int *widths);

/* Keeps a selection visible in a list of n rows shown `visible` at a time: clamps *selected to
 * 0..n-1 and moves *top the least so that the selection is on screen. */
void layout_scroll(size_t n, int visible, size_t *selected, size_t *top);

#endif
