/* The key table (see keys.h), expanded from KEY_ACTIONS with curses' key codes, and the lookups
 * that the dispatch, the hint bar and the help screen share. */
#include "tui/keys.h"

#include <curses.h>
#include <stdio.h>
#include <string.h>

#include "tui/format.h"

static const struct key_binding table[] = {
#define KEYS_ROW(name, ctx, fl, k1, k2, k3, lab, hk, hw, hl) \
	{ KA_##name, (ctx), (fl), { (k1), (k2), (k3) }, (lab), (hk), (hw), (hl) },
	KEY_ACTIONS(KEYS_ROW)
#undef KEYS_ROW
};

#define TABLE_N (sizeof table / sizeof table[0])

const struct key_binding *keys_table(size_t *n)
{
	*n = TABLE_N;
	return table;
}

const struct key_binding *keys_binding(enum key_action action)
{
	for (size_t i = 0; i < TABLE_N; i++)
		if (table[i].action == action)
			return &table[i];
	return NULL;
}

enum key_action keys_lookup(unsigned context, int key, bool readonly, bool *refused)
{
	if (refused)
		*refused = false;
	if (key == 0)
		return KA_NONE;
	for (size_t i = 0; i < TABLE_N; i++) {
		const struct key_binding *b = &table[i];
		if (!(b->contexts & context))
			continue;
		for (int k = 0; k < 3; k++) {
			if (b->keys[k] != key)
				continue;
			if (readonly && (b->flags & KF_CHANGES)) {
				if (refused)
					*refused = true;
				return KA_NONE;
			}
			return b->action;
		}
	}
	return KA_NONE;
}

size_t keys_hints(unsigned context, bool readonly, const struct key_binding **out, size_t max)
{
	size_t n = 0;
	for (size_t i = 0; i < TABLE_N && n < max; i++) {
		const struct key_binding *b = &table[i];
		if (!(b->flags & KF_HINT) || !(b->contexts & context))
			continue;
		if (readonly && (b->flags & KF_CHANGES))
			continue;
		out[n++] = b;
	}
	return n;
}

char *keys_hint_text(unsigned context, bool readonly, int width, char *out, size_t len)
{
	const struct key_binding *items[32];
	size_t n = keys_hints(context, readonly, items, 32);
	char line[1024];
	size_t at = 0;
	line[0] = '\0';
	if (readonly)
		at += (size_t)snprintf(line, sizeof line, "READ-ONLY  ");
	for (size_t i = 0; i < n && at < sizeof line; i++)
		at += (size_t)snprintf(line + at, sizeof line - at, "%s%s %s", i ? "  " : "", items[i]->hint_key,
				       items[i]->hint);
	fmt_fit(line, width, false, out, len);
	return out;
}

static const struct {
	unsigned context;
	const char *name;
} context_names[] = {
	{ KC_DEVICES, "Devices" }, { KC_DEVICE, "Device" },   { KC_ALERTS, "Alerts" },
	{ KC_SYNC, "Sync" },       { KC_DISCOVERY, "Discovery" }, { KC_SITE, "Site" },
	{ KC_LOG, "Log" },         { KC_HELP, "Help" },       { KC_EDIT, "Text fields" },
	{ KC_VIEW, "Text windows" },
};

const char *keys_context_name(unsigned context)
{
	if (context == KC_SCREENS || context == KC_LISTS)
		return "Everywhere";
	for (size_t i = 0; i < sizeof context_names / sizeof context_names[0]; i++)
		if (context_names[i].context == context)
			return context_names[i].name;
	return "Several screens";
}
