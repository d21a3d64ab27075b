/* man_keys: prints the KEYS section of the man page fleetcon.1 (roff, to stdout) from the console's
 * key table, tui/keys.h. Only the X-macro's data is used (the curses key codes are never expanded),
 * so this program needs no curses; its groups follow the console's Help screen. Built and run by
 * mk/install.mk; the page can therefore never disagree with the console. */
#include <stdio.h>
#include <string.h>

#include "tui/keys.h"

struct row {
	unsigned contexts, flags;
	const char *label, *help;
};

static const struct row rows[] = {
#define MAN_ROW(name, ctx, fl, k1, k2, k3, lab, hk, hw, hl) { (ctx), (fl), (lab), (hl) },
	KEY_ACTIONS(MAN_ROW)
#undef MAN_ROW
};
#define N_ROWS (sizeof rows / sizeof rows[0])

/* The places, in the order of the Help screen; a key is listed under the first that has it, and
 * names the others. A key that works on every screen is listed under "Everywhere". */
static const struct {
	unsigned context;
	const char *name;
} groups[] = {
	{ KC_SCREENS, "Everywhere" }, { KC_DEVICES, "Devices" },     { KC_DEVICE, "Device" },
	{ KC_ALERTS, "Alerts" },      { KC_SYNC, "Sync" },           { KC_DISCOVERY, "Discovery" },
	{ KC_SITE, "Site" },          { KC_LOG, "Log" },             { KC_HELP, "Help" },
	{ KC_EDIT, "Text fields" },     { KC_VIEW, "Text windows" },
};
#define N_GROUPS (sizeof groups / sizeof groups[0])

static size_t group_of(unsigned contexts)
{
	if ((contexts & KC_SCREENS) == KC_SCREENS)
		return 0;
	for (size_t g = 1; g < N_GROUPS; g++)
		if (contexts & groups[g].context)
			return g;
	return N_GROUPS;
}

/* Text for roff: backslashes and minus signs escaped (so "--readonly" stays two ASCII hyphens
 * where the device supports it), len bytes of s. A line never starts with a control character
 * because every line this program writes starts with its own text. */
static void put_roff(const char *s, size_t len)
{
	for (size_t i = 0; i < len && s[i]; i++) {
		if (s[i] == '\\')
			fputs("\\e", stdout);
		else if (s[i] == '-')
			fputs("\\-", stdout);
		else
			putchar(s[i]);
	}
}

/* The keys of a label ("PgUp  Ctrl-B": separated by two spaces) in bold, separated by commas. */
static void put_keys(const char *label)
{
	const char *p = label;
	int first = 1;
	while (*p) {
		while (*p == ' ')
			p++;
		if (!*p)
			break;
		const char *end = strstr(p, "  ");
		size_t len = end ? (size_t)(end - p) : strlen(p);
		fputs(first ? "\\fB" : ", \\fB", stdout);
		put_roff(p, len);
		fputs("\\fR", stdout);
		first = 0;
		p += len;
	}
}

int main(void)
{
	for (size_t i = 0; i < N_ROWS; i++) {
		if (group_of(rows[i].contexts) == N_GROUPS) {
			fprintf(stderr, "man_keys: the key \"%s\" works in no place this page lists; add its "
					"context to groups[]\n", rows[i].label);
			return 1;
		}
	}
	for (size_t g = 0; g < N_GROUPS; g++) {
		int titled = 0;
		for (size_t i = 0; i < N_ROWS; i++) {
			const struct row *r = &rows[i];
			if (group_of(r->contexts) != g)
				continue;
			if (!titled)
				printf(".SS %s\n", groups[g].name);
			titled = 1;
			printf(".TP\n");
			put_keys(r->label);
			printf("\n");
			put_roff(r->help, strlen(r->help));
			if (g != 0) {
				const char *sep = " (also ";
				for (size_t o = 1; o < N_GROUPS; o++) {
					if (o == g || !(r->contexts & groups[o].context))
						continue;
					printf("%s%s", sep, groups[o].name);
					sep = ", ";
				}
				if (sep[0] == ',')
					printf(")");
			}
			if (r->flags & KF_CHANGES)
				printf(" (not with \\-\\-readonly)");
			printf("\n");
		}
	}
	return ferror(stdout) || fflush(stdout) != 0;
}
