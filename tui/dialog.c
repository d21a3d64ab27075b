/* Dialogs over the screen: the export dialog (HTML or CSV, where, the result), the range editor
 * (target, profiles, port, kind, enabled), the confirmation before removing a range, and a read-only text
 * window (the report preview). A dialog takes every key while it is open; its commands go to the
 * workers and their result is shown in it. */
#include <curses.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <wchar.h>

#include "model/config.h"
#include "model/store.h"
#include "model/text.h"
#include "tui/format.h"
#include "tui/ui.h"

static const char *const formats[] = { "HTML report", "CSV files", NULL };
static const char *const yes_no[] = { "no", "yes", NULL };
static const char *const range_kinds[] = { "automatic", "manual address", "range sweep", NULL };
static const char *const range_states[] = { "enabled", "disabled", NULL };
/* The range editor sends its kind (0 automatic, 1 manual, 2 sweep) in the command's b, with this
 * bit set when the range is switched off (kept in the list, left out of discovery runs). */

static void dialog_reset(struct console *c, enum dialog_kind kind, const char *title)
{
	struct textview keep = c->dialog.view;
	tv_clear(&keep);
	memset(&c->dialog, 0, sizeof c->dialog);
	c->dialog.view = keep;
	c->dialog.kind = kind;
	snprintf(c->dialog.title, sizeof c->dialog.title, "%s", title);
}

static struct field *add_field(struct dialog *d, const char *label, enum field_type type, const char *value,
			       const char *const *choices, const char *note)
{
	struct field *f = &d->fields[d->nfields++];
	*f = (struct field){ .label = label, .type = type, .choices = choices, .note = note };
	snprintf(f->value, sizeof f->value, "%s", value ? value : "");
	return f;
}

static void default_export_path(int format, char *out, size_t len)
{
	char day[16];
	time_t t = time(NULL);
	struct tm tm;
	if (!localtime_r(&t, &tm) || !strftime(day, sizeof day, "%Y-%m-%d", &tm))
		snprintf(day, sizeof day, "today");
	char cwd[1024];
	if (!getcwd(cwd, sizeof cwd))
		snprintf(cwd, sizeof cwd, ".");
	const char *name = format == 0 ? "fleetcon-report-" : "fleetcon-csv-";
	const char *ext = format == 0 ? ".html" : "";
	/* a folder too deep for the field: the name alone, relative to it */
	if (snprintf(out, len, "%s/%s%s%s", cwd, name, day, ext) >= (int)len)
		snprintf(out, len, "%s%s%s", name, day, ext);
}

void dialog_open_export(struct console *c)
{
	dialog_reset(c, DLG_EXPORT, "Export");
	char path[512];
	default_export_path(0, path, sizeof path);
	add_field(&c->dialog, "Format", FIELD_CHOICE, NULL, formats, "Space or arrows change it");
	add_field(&c->dialog, "Write to", FIELD_TEXT, path, NULL, "HTML: a file; CSV: a folder of five tables");
	add_field(&c->dialog, "Replace existing", FIELD_CHOICE, NULL, yes_no, NULL);
}

void dialog_open_range(struct console *c, int64_t range_id)
{
	dialog_reset(c, DLG_RANGE, range_id ? "Edit range" : "New range or address");
	c->dialog.ref = range_id;
	static char known[256];
	size_t at = (size_t)snprintf(known, sizeof known, "known:");
	for (size_t i = 0; i < c->cfg->profile_count && at < sizeof known; i++)
		at += (size_t)snprintf(known + at, sizeof known - at, " %s", c->cfg->profiles[i].name);
	const char *target = "", *profiles = "";
	char port[16] = "";
	int kind = 0, disabled = 0;
	struct range *ranges = NULL;
	size_t n = 0;
	struct fc_error err = { "" };
	if (range_id && store_ranges_list(c->store, &ranges, &n, &err) == 0) {
		for (size_t i = 0; i < n; i++) {
			if (ranges[i].id != range_id)
				continue;
			target = ranges[i].target;
			profiles = ranges[i].profiles ? ranges[i].profiles : "";
			if (ranges[i].port)
				snprintf(port, sizeof port, "%d", ranges[i].port);
			kind = ranges[i].manual ? 1 : 2;
			disabled = !ranges[i].enabled;
		}
	}
	add_field(&c->dialog, "Target", FIELD_TEXT, target, NULL, "10.1.2.0/24, 10.1.2.10-99, printer.example:1161, 2001:db8::5");
	add_field(&c->dialog, "Profiles", FIELD_TEXT, profiles, NULL, known);
	add_field(&c->dialog, "Port", FIELD_TEXT, port, NULL, "empty: the target's own or [poll] port");
	add_field(&c->dialog, "Kind", FIELD_CHOICE, NULL, range_kinds, "automatic: one address is a manual entry");
	c->dialog.fields[3].choice = kind;
	add_field(&c->dialog, "Discovery", FIELD_CHOICE, NULL, range_states, "disabled: kept here, not swept");
	c->dialog.fields[4].choice = disabled;
	range_array_free(&ranges, n);
}

void dialog_open_confirm_remove(struct console *c, int64_t range_id, const char *what)
{
	dialog_reset(c, DLG_CONFIRM_REMOVE, "Remove range");
	c->dialog.ref = range_id;
	char *t = text_clean(what);
	snprintf(c->dialog.message, sizeof c->dialog.message, "Remove%s? Its devices stay. Enter or y removes, Esc keeps it.",
		 t ? t : "");
	free(t);
	c->dialog.message_level = AGENT_WARN;
}

void dialog_open_view(struct console *c, const char *title, const char *text)
{
	dialog_reset(c, DLG_VIEW, title);
	struct textview *tv = &c->dialog.view;
	tv->top = 0;
	tv->selectable = false;
	const char *p = text;
	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		tv_add(tv, RL_NORMAL, 0, "%.*s", (int)len, p);
		p += len;
		if (*p == '\n')
			p++;
	}
}

/* The box for the current dialog. */
static struct rect dialog_rect(const struct console *c)
{
	const struct dialog *d = &c->dialog;
	int w = c->cols - 4 < 76 ? c->cols - 4 : 76;
	int h;
	if (d->kind == DLG_VIEW) {
		w = c->cols - 2;
		h = c->rows - 2;
	} else {
		h = 4 + d->nfields * 3 + 2;
		if (h > c->rows - 2)
			h = c->rows - 2;
	}
	return (struct rect){ (c->rows - h) / 2, (c->cols - w) / 2, h, w };
}

void dialog_draw(struct console *c)
{
	struct dialog *d = &c->dialog;
	struct rect r = dialog_rect(c);
	draw_box(c, r, d->title);
	if (d->kind == DLG_VIEW) {
		struct rect in = { r.y + 1, r.x + 1, r.h - 3, r.w - 2 };
		tv_draw(c, &d->view, in);
		draw_text(c, r.y + r.h - 2, r.x + 2, r.w - 4, RL_DIM, false, "Up, Down, PgUp, PgDn scroll; Esc closes");
		c->cursor_y = in.y;
		c->cursor_x = in.x;
		c->cursor_visible = false;
		return;
	}
	int y = r.y + 2;
	int label_w = 18;
	for (int i = 0; i < d->nfields; i++) {
		struct field *f = &d->fields[i];
		bool focus = i == d->focus && !d->done;
		draw_fmt(c, y, r.x + 2, label_w, focus ? RL_TITLE : RL_NORMAL, "%s%s", focus ? "> " : "  ", f->label);
		int vx = r.x + 2 + label_w, vw = r.w - 4 - label_w;
		char shown[600];
		if (f->type == FIELD_CHOICE)
			snprintf(shown, sizeof shown, "< %s >", f->choices[f->choice]);
		else
			snprintf(shown, sizeof shown, "%s", f->value);
		/* a long text shows its end, where the typing happens */
		const char *from = shown;
		while (fmt_width(from, c->utf8) > vw - 1 && *from) {
			from++;
			while (((unsigned char)*from & 0xC0) == 0x80)
				from++;
		}
		draw_text(c, y, vx, vw, focus ? RL_FIELD : RL_NORMAL, true, from);
		if (focus) {
			c->cursor_y = y;
			c->cursor_x = vx + (f->type == FIELD_TEXT ? fmt_width(from, c->utf8) : 0);
			c->cursor_visible = f->type == FIELD_TEXT;
		}
		if (f->note)
			draw_text(c, y + 1, vx, vw, RL_DIM, false, f->note);
		y += 3;
	}
	int my = r.y + r.h - 3;
	if (d->kind == DLG_CONFIRM_REMOVE)
		my = r.y + 2;
	if (d->message[0])
		draw_text(c, my, r.x + 2, r.w - 4, d->message_level == AGENT_ERROR ? RL_FLASH_ERR : RL_NORMAL, true, d->message);
	else if (d->job)
		draw_text(c, my, r.x + 2, r.w - 4, RL_DIM, true, "working ...");
	draw_text(c, r.y + r.h - 2, r.x + 2, r.w - 4, RL_DIM, false,
		  d->done ? "Enter or Esc closes" : "Enter confirms, Tab moves, Esc cancels");
	if (d->kind == DLG_CONFIRM_REMOVE) {
		c->cursor_y = my;
		c->cursor_x = r.x + 2;
	}
}

static void dialog_close(struct console *c)
{
	tv_clear(&c->dialog.view);
	c->dialog.kind = DLG_NONE;
	c->dialog.job = 0;
}

static void dialog_submit(struct console *c)
{
	struct dialog *d = &c->dialog;
	d->message[0] = '\0';
	if (d->kind == DLG_EXPORT) {
		if (!d->fields[1].value[0]) {
			snprintf(d->message, sizeof d->message, "give a path to write to");
			d->message_level = AGENT_ERROR;
			return;
		}
		d->job = console_submit(c, AGENT_CMD_EXPORT, 0, d->fields[0].choice, d->fields[2].choice, d->fields[1].value);
		if (d->job)
			c->exporting = (struct job_track){ .id = d->job, .running = true };
	} else if (d->kind == DLG_RANGE) {
		char text[1100];
		char *end;
		long port = 0;
		if (d->fields[2].value[0]) {
			port = strtol(d->fields[2].value, &end, 10);
			if (*end || port < 1 || port > 65535) {
				snprintf(d->message, sizeof d->message, "the port is a number from 1 to 65535, or empty");
				d->message_level = AGENT_ERROR;
				return;
			}
		}
		snprintf(text, sizeof text, "%s\t%s", d->fields[0].value, d->fields[1].value);
		/* an edit changes the range in place: it keeps its id and its last run */
		int64_t b = d->fields[3].choice | (d->fields[4].choice ? AGENT_RANGE_DISABLED : 0);
		d->job = console_submit(c, d->ref ? AGENT_CMD_RANGE_EDIT : AGENT_CMD_RANGE_ADD, d->ref, port, b, text);
	} else if (d->kind == DLG_CONFIRM_REMOVE) {
		d->job = console_submit(c, AGENT_CMD_RANGE_REMOVE, d->ref, 0, 0, NULL);
	}
	if (!d->job) {
		snprintf(d->message, sizeof d->message, "%s", c->flash);
		d->message_level = AGENT_ERROR;
	}
}

void dialog_job_done(struct console *c, int64_t job, int status, const char *text)
{
	struct dialog *d = &c->dialog;
	if (d->kind == DLG_NONE || !job || d->job != job)
		return;
	d->job = 0;
	if (status == AGENT_JOB_OK && d->kind != DLG_EXPORT) {
		dialog_close(c);
		return;
	}
	char *t = text_clean(text);
	snprintf(d->message, sizeof d->message, "%s", t ? t : "");
	free(t);
	d->message_level = status == AGENT_JOB_OK ? AGENT_INFO : AGENT_ERROR;
	d->done = status == AGENT_JOB_OK;
}

static void field_type_char(struct field *f, int wch)
{
	char mb[8];
	mbstate_t st;
	memset(&st, 0, sizeof st);
	size_t n = wcrtomb(mb, (wchar_t)wch, &st);
	size_t len = strlen(f->value);
	if (n != (size_t)-1 && len + n + 1 < sizeof f->value) {
		memcpy(f->value + len, mb, n);
		f->value[len + n] = '\0';
	}
}

void dialog_key(struct console *c, int key, int wch)
{
	struct dialog *d = &c->dialog;
	if (d->kind == DLG_VIEW) {
		enum key_action a = keys_lookup(KC_VIEW, key, false, NULL);
		if (a == KA_VIEW_CLOSE) {
			dialog_close(c);
			return;
		}
		struct rect r = dialog_rect(c);
		tv_key(&d->view, a, r.h - 3);
		return;
	}
	enum key_action a = keys_lookup(KC_EDIT, key, false, NULL);
	if (d->done || d->kind == DLG_CONFIRM_REMOVE) {
		if (a == KA_EDIT_CANCEL || (d->done && a == KA_EDIT_ACCEPT)) {
			dialog_close(c);
			return;
		}
		if (d->kind == DLG_CONFIRM_REMOVE && !d->job && (a == KA_EDIT_ACCEPT || key == 'y' || key == 'Y'))
			dialog_submit(c);
		return;
	}
	if (d->job) {
		/* waiting for the worker: only Esc (which leaves it to finish) */
		if (a == KA_EDIT_CANCEL)
			dialog_close(c);
		return;
	}
	struct field *f = &d->fields[d->focus];
	switch (a) {
	case KA_EDIT_ACCEPT:
		dialog_submit(c);
		return;
	case KA_EDIT_CANCEL:
		dialog_close(c);
		return;
	case KA_EDIT_NEXT:
		d->focus = (d->focus + 1) % d->nfields;
		return;
	case KA_EDIT_PREV:
		d->focus = (d->focus + d->nfields - 1) % d->nfields;
		return;
	case KA_EDIT_ERASE:
		if (f->type == FIELD_TEXT) {
			size_t len = strlen(f->value);
			while (len > 0 && ((unsigned char)f->value[len - 1] & 0xC0) == 0x80)
				len--;
			if (len > 0)
				len--;
			f->value[len] = '\0';
		}
		return;
	case KA_EDIT_CLEAR:
		if (f->type == FIELD_TEXT)
			f->value[0] = '\0';
		return;
	default:
		break;
	}
	if (f->type == FIELD_CHOICE) {
		int n = 0;
		while (f->choices[n])
			n++;
		if (key == ' ' || key == KEY_RIGHT)
			f->choice = (f->choice + 1) % n;
		else if (key == KEY_LEFT)
			f->choice = (f->choice + n - 1) % n;
		/* the export path follows the format while it is the default one */
		if (d->kind == DLG_EXPORT && f == &d->fields[0]) {
			char other[512];
			default_export_path(!f->choice, other, sizeof other);
			if (!strcmp(d->fields[1].value, other) || !d->fields[1].value[0])
				default_export_path(f->choice, d->fields[1].value, sizeof d->fields[1].value);
		}
		return;
	}
	if (wch >= 0x20 && wch != 0x7F)
		field_type_char(f, wch);
}
