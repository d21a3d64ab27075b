/* Drawing primitives over curses for the console's screens (clipped, every string through
 * fmt_fit so that nothing wider than its cell and no stray byte reaches the terminal), and the
 * scrolling text view most screens are made of. */
#include <curses.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/array.h"
#include "model/text.h"
#include "tui/format.h"
#include "tui/ui.h"

int draw_text(struct console *c, int y, int x, int w, int r, bool pad, const char *text)
{
	if (y < 0 || y >= c->rows || x < 0 || x >= c->cols || w <= 0)
		return 0;
	if (x + w > c->cols)
		w = c->cols - x;
	char buf[4096];
	int used = pad ? fmt_pad(text ? text : "", w, false, c->utf8, buf, sizeof buf)
		       : fmt_fit(text ? text : "", w, c->utf8, buf, sizeof buf);
	attrset((attr_t)term_attr(c, (enum role)r));
	mvaddstr(y, x, buf);
	attrset(A_NORMAL);
	return used;
}

int draw_fmt(struct console *c, int y, int x, int w, int r, const char *fmt, ...)
{
	char buf[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	return draw_text(c, y, x, w, r, false, buf);
}

void draw_hline(struct console *c, int y, int x, int w)
{
	if (y < 0 || y >= c->rows || x < 0 || x >= c->cols || w <= 0)
		return;
	if (x + w > c->cols)
		w = c->cols - x;
	attrset((attr_t)term_attr(c, RL_DIM));
	if (c->ascii) {
		mvhline(y, x, '-', w);
	} else if (c->utf8) {
		move(y, x);
		for (int i = 0; i < w; i++)
			addstr("\xE2\x94\x80"); /* ─ */
	} else {
		mvhline(y, x, ACS_HLINE, w);
	}
	attrset(A_NORMAL);
}

void draw_gauge(struct console *c, int y, int x, int w, int pct, int r)
{
	char buf[1024];
	fmt_gauge(pct, w, c->utf8, buf, sizeof buf);
	attrset((attr_t)term_attr(c, (enum role)r));
	if (y >= 0 && y < c->rows && x >= 0 && x + w <= c->cols)
		mvaddstr(y, x, buf);
	attrset(A_NORMAL);
}

void draw_clear(struct console *c, struct rect rc, int r)
{
	attrset((attr_t)term_attr(c, (enum role)r));
	for (int y = rc.y; y < rc.y + rc.h && y < c->rows; y++) {
		move(y, rc.x);
		for (int x = rc.x; x < rc.x + rc.w && x < c->cols; x++)
			addch(' ');
	}
	attrset(A_NORMAL);
}

void draw_box(struct console *c, struct rect rc, const char *title)
{
	draw_clear(c, rc, RL_NORMAL);
	if (c->ascii) {
		for (int x = rc.x; x < rc.x + rc.w; x++) {
			mvaddch(rc.y, x, '-');
			mvaddch(rc.y + rc.h - 1, x, '-');
		}
		for (int y = rc.y; y < rc.y + rc.h; y++) {
			mvaddch(y, rc.x, '|');
			mvaddch(y, rc.x + rc.w - 1, '|');
		}
		mvaddch(rc.y, rc.x, '+');
		mvaddch(rc.y, rc.x + rc.w - 1, '+');
		mvaddch(rc.y + rc.h - 1, rc.x, '+');
		mvaddch(rc.y + rc.h - 1, rc.x + rc.w - 1, '+');
	} else if (c->utf8) {
		static const char *const h = "\xE2\x94\x80", *const v = "\xE2\x94\x82";
		for (int x = rc.x + 1; x < rc.x + rc.w - 1; x++) {
			mvaddstr(rc.y, x, h);
			mvaddstr(rc.y + rc.h - 1, x, h);
		}
		for (int y = rc.y + 1; y < rc.y + rc.h - 1; y++) {
			mvaddstr(y, rc.x, v);
			mvaddstr(y, rc.x + rc.w - 1, v);
		}
		mvaddstr(rc.y, rc.x, "\xE2\x94\x8C");
		mvaddstr(rc.y, rc.x + rc.w - 1, "\xE2\x94\x90");
		mvaddstr(rc.y + rc.h - 1, rc.x, "\xE2\x94\x94");
		mvaddstr(rc.y + rc.h - 1, rc.x + rc.w - 1, "\xE2\x94\x98");
	} else {
		WINDOW *w = stdscr;
		mvwhline(w, rc.y, rc.x + 1, ACS_HLINE, rc.w - 2);
		mvwhline(w, rc.y + rc.h - 1, rc.x + 1, ACS_HLINE, rc.w - 2);
		mvwvline(w, rc.y + 1, rc.x, ACS_VLINE, rc.h - 2);
		mvwvline(w, rc.y + 1, rc.x + rc.w - 1, ACS_VLINE, rc.h - 2);
		mvwaddch(w, rc.y, rc.x, ACS_ULCORNER);
		mvwaddch(w, rc.y, rc.x + rc.w - 1, ACS_URCORNER);
		mvwaddch(w, rc.y + rc.h - 1, rc.x, ACS_LLCORNER);
		mvwaddch(w, rc.y + rc.h - 1, rc.x + rc.w - 1, ACS_LRCORNER);
	}
	if (title && *title)
		draw_fmt(c, rc.y, rc.x + 2, rc.w - 4, RL_TITLE, " %s ", title);
}

int role_for_status(const char *status)
{
	if (!strcmp(status, "fault") || !strcmp(status, "unreachable"))
		return RL_CRIT;
	if (!strcmp(status, "warning"))
		return RL_WARN;
	if (!strcmp(status, "ok"))
		return RL_OK;
	return RL_NORMAL;
}

int role_for_rank(int rank)
{
	return rank == FLEET_CRITICAL ? RL_CRIT : rank == FLEET_WARNING ? RL_WARN : RL_NORMAL;
}

/* ---- the text view ---- */

void tv_clear(struct textview *tv)
{
	for (size_t i = 0; i < tv->n; i++)
		free(tv->lines[i].text);
	tv->n = 0;
}

struct tline *tv_add(struct textview *tv, int role, int64_t ref, const char *fmt, ...)
{
	struct tline *grown = array_grow(tv->lines, tv->n, &tv->cap, sizeof *grown, 64);
	if (!grown)
		return NULL;
	tv->lines = grown;
	char buf[TEXT_MAX * 2];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	/* everything shown passes the sanitizer, whatever it was built from; the indentation is
	 * ours (the sanitizer trims leading blanks) */
	size_t lead = strspn(buf, " ");
	char *clean = text_is_clean(buf + lead) ? strdup(buf + lead) : text_clean(buf + lead);
	if (!clean)
		return NULL;
	char *text = malloc(lead + strlen(clean) + 1);
	if (!text) {
		free(clean);
		return NULL;
	}
	memset(text, ' ', lead);
	strcpy(text + lead, clean);
	free(clean);
	struct tline *l = &tv->lines[tv->n++];
	*l = (struct tline){ .text = text, .role = role, .ref = ref };
	return l;
}

void tv_section(struct textview *tv, const char *title)
{
	if (tv->n)
		tv_add(tv, RL_NORMAL, 0, "%s", "");
	tv_add(tv, RL_TITLE, 0, "%s", title);
}

/* The next selectable line from i in direction dir (+1 / -1), or i when none. */
static size_t next_ref(const struct textview *tv, size_t i, int dir)
{
	size_t j = i;
	while (dir > 0 ? j + 1 < tv->n : j > 0) {
		j = dir > 0 ? j + 1 : j - 1;
		if (tv->lines[j].ref)
			return j;
	}
	return i;
}

bool tv_key(struct textview *tv, enum key_action a, int visible)
{
	if (visible < 1)
		visible = 1;
	size_t page = (size_t)visible;
	if (tv->selectable) {
		size_t old = tv->sel;
		if (tv->n && !tv->lines[tv->sel < tv->n ? tv->sel : 0].ref)
			tv->sel = next_ref(tv, tv->sel, +1);
		switch (a) {
		case KA_UP:
			tv->sel = next_ref(tv, tv->sel, -1);
			break;
		case KA_DOWN:
			tv->sel = next_ref(tv, tv->sel, +1);
			break;
		case KA_PAGE_UP:
			for (size_t k = 0; k < page; k++)
				tv->sel = next_ref(tv, tv->sel, -1);
			break;
		case KA_PAGE_DOWN:
			for (size_t k = 0; k < page; k++)
				tv->sel = next_ref(tv, tv->sel, +1);
			break;
		case KA_HOME:
			tv->sel = next_ref(tv, 0, +1);
			if (tv->n && tv->lines[0].ref)
				tv->sel = 0;
			tv->top = 0;
			break;
		case KA_END:
			tv->sel = next_ref(tv, tv->n ? tv->n - 1 : 0, -1);
			if (tv->n && tv->lines[tv->n - 1].ref)
				tv->sel = tv->n - 1;
			break;
		default:
			return false;
		}
		/* keep the section title above the first selectable line in view */
		if (a == KA_UP && tv->sel == old && tv->top > 0)
			tv->top--;
		layout_scroll(tv->n, visible, &tv->sel, &tv->top);
		return true;
	}
	size_t max_top = tv->n > page ? tv->n - page : 0;
	switch (a) {
	case KA_UP:
		if (tv->top)
			tv->top--;
		break;
	case KA_DOWN:
		if (tv->top < max_top)
			tv->top++;
		break;
	case KA_PAGE_UP:
		tv->top = tv->top > page ? tv->top - page : 0;
		break;
	case KA_PAGE_DOWN:
		tv->top = tv->top + page < max_top ? tv->top + page : max_top;
		break;
	case KA_HOME:
		tv->top = 0;
		break;
	case KA_END:
		tv->top = max_top;
		break;
	default:
		return false;
	}
	return true;
}

int64_t tv_selected_ref(const struct textview *tv)
{
	if (!tv->selectable || tv->sel >= tv->n)
		return 0;
	return tv->lines[tv->sel].ref;
}

void tv_select_ref(struct textview *tv, int64_t ref)
{
	for (size_t i = 0; i < tv->n; i++) {
		if (tv->lines[i].ref == ref && ref) {
			tv->sel = i;
			return;
		}
	}
	if (tv->sel >= tv->n || !tv->lines[tv->sel].ref)
		tv->sel = next_ref(tv, tv->sel < tv->n ? tv->sel : 0, tv->sel < tv->n ? +1 : -1);
}

void tv_draw(struct console *c, struct textview *tv, struct rect rc)
{
	if (tv->selectable) {
		if (tv->n && (tv->sel >= tv->n || !tv->lines[tv->sel].ref))
			tv_select_ref(tv, 0);
		size_t top = tv->top;
		layout_scroll(tv->n, rc.h, &tv->sel, &top);
		tv->top = top;
	} else {
		size_t max_top = tv->n > (size_t)rc.h ? tv->n - (size_t)rc.h : 0;
		if (tv->top > max_top)
			tv->top = max_top;
	}
	for (int i = 0; i < rc.h; i++) {
		size_t k = tv->top + (size_t)i;
		int y = rc.y + i;
		if (k >= tv->n) {
			draw_text(c, y, rc.x, rc.w, RL_NORMAL, true, "");
			continue;
		}
		const struct tline *l = &tv->lines[k];
		bool sel = tv->selectable && k == tv->sel && l->ref;
		draw_text(c, y, rc.x, rc.w, sel ? RL_SELECTED : l->role, true, l->text);
		if (sel && c->rows > 0) {
			/* the role's colour on a selected line */
			if (l->role != RL_NORMAL) {
				attr_t role = (attr_t)term_attr(c, (enum role)l->role);
				mvchgat(y, rc.x, rc.w, (attr_t)term_attr(c, RL_SELECTED) | (role & ~A_COLOR),
					(short)PAIR_NUMBER(role), NULL);
			}
			c->cursor_y = y;
			c->cursor_x = rc.x;
		}
		if (l->gauge_w > 0 && l->gauge_x + l->gauge_w <= rc.w)
			draw_gauge(c, y, rc.x + l->gauge_x, l->gauge_w, l->gauge_pct, l->gauge_role);
	}
	if (tv->n > (size_t)rc.h)
		snprintf(c->position, sizeof c->position, "%zu/%zu", (tv->selectable ? tv->sel : tv->top) + 1, tv->n);
}
