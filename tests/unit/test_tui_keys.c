/* The console's key table (tui/keys.h): no key means two things in one place, every action is
 * documented, the hint bar is built from the same table and --readonly removes what changes
 * something from the dispatch, the hint bar and nothing else. */
#include <curses.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <setjmp.h>
#include <cmocka.h>

#include "tui/keys.h"

static const unsigned screens[] = { KC_DEVICES, KC_DEVICE, KC_ALERTS, KC_SYNC,
				    KC_DISCOVERY, KC_SITE, KC_LOG, KC_HELP };

static void test_no_conflicts(void **state)
{
	(void)state;
	size_t n;
	const struct key_binding *t = keys_table(&n);
	assert_true(n > 20);
	for (size_t i = 0; i < n; i++) {
		assert_true(t[i].action > KA_NONE && t[i].action < KA_COUNT);
		assert_non_null(t[i].label);
		assert_true(strlen(t[i].label) > 0);
		assert_true(strlen(t[i].help) > 5);
		assert_true(t[i].keys[0] != 0);
		if (t[i].flags & KF_HINT) {
			assert_true(strlen(t[i].hint_key) > 0);
			assert_true(strlen(t[i].hint) > 0);
		}
		assert_ptr_equal(keys_binding(t[i].action), &t[i]);
		for (size_t j = i + 1; j < n; j++) {
			if (!(t[i].contexts & t[j].contexts))
				continue;
			for (int a = 0; a < 3; a++)
				for (int b = 0; b < 3; b++)
					if (t[i].keys[a] && t[i].keys[a] == t[j].keys[b])
						fail_msg("key %d is both \"%s\" and \"%s\" in %s", t[i].keys[a], t[i].help,
							 t[j].help, keys_context_name(t[i].contexts & t[j].contexts));
		}
	}
}

static void test_lookup(void **state)
{
	(void)state;
	bool refused;
	assert_int_equal(keys_lookup(KC_DEVICES, '/', false, &refused), KA_FILTER);
	assert_int_equal(keys_lookup(KC_DEVICES, KEY_F(4), false, &refused), KA_FILTER);
	assert_int_equal(keys_lookup(KC_DEVICES, '\n', false, &refused), KA_OPEN);
	assert_int_equal(keys_lookup(KC_DISCOVERY, '\n', false, &refused), KA_RANGE_EDIT);
	assert_int_equal(keys_lookup(KC_EDIT, '\n', false, &refused), KA_EDIT_ACCEPT);
	assert_int_equal(keys_lookup(KC_SYNC, 'q', false, &refused), KA_QUIT);
	assert_int_equal(keys_lookup(KC_SYNC, '/', false, &refused), KA_NONE);
	assert_false(refused);
	assert_int_equal(keys_lookup(KC_DEVICES, ' ', false, &refused), KA_INCLUDE);
	/* read-only: known, but not allowed */
	assert_int_equal(keys_lookup(KC_DEVICES, ' ', true, &refused), KA_NONE);
	assert_true(refused);
	assert_int_equal(keys_lookup(KC_SYNC, 'u', true, &refused), KA_NONE);
	assert_true(refused);
	assert_int_equal(keys_lookup(KC_SYNC, 'v', true, &refused), KA_PREVIEW);
	assert_false(refused);
	assert_int_equal(keys_lookup(KC_DEVICE, 'p', true, &refused), KA_POLL); /* reading is fine */
	/* every screen is reachable from every screen by number and letter */
	for (size_t s = 0; s < sizeof screens / sizeof screens[0]; s++) {
		assert_int_equal(keys_lookup(screens[s], '1', false, NULL), KA_SCREEN_DEVICES);
		assert_int_equal(keys_lookup(screens[s], 'l', false, NULL), KA_SCREEN_LOG);
		assert_int_equal(keys_lookup(screens[s], KEY_F(1), false, NULL), KA_HELP);
		assert_int_equal(keys_lookup(screens[s], '\t', false, NULL), KA_NEXT_SCREEN);
	}
}

static void test_hints(void **state)
{
	(void)state;
	char out[256];
	keys_hint_text(KC_DEVICES, false, 200, out, sizeof out);
	assert_string_equal(out, "Enter open  / filter  <> sort  Space in/exclude  p poll  ? help  q quit");
	keys_hint_text(KC_DEVICES, true, 200, out, sizeof out);
	assert_string_equal(out, "READ-ONLY  Enter open  / filter  <> sort  p poll  ? help  q quit");
	keys_hint_text(KC_SYNC, true, 200, out, sizeof out);
	assert_null(strstr(out, "upload"));
	assert_non_null(strstr(out, "v preview"));
	keys_hint_text(KC_DISCOVERY, true, 200, out, sizeof out);
	assert_null(strstr(out, "new"));
	assert_null(strstr(out, "run now"));
	assert_non_null(strstr(out, "t cost"));
	keys_hint_text(KC_DEVICES, false, 30, out, sizeof out);
	assert_true(strlen(out) <= 30);
	/* every screen's bar says how to get help and out */
	for (size_t s = 0; s < sizeof screens / sizeof screens[0]; s++) {
		keys_hint_text(screens[s], true, 500, out, sizeof out);
		assert_non_null(strstr(out, "? help"));
		assert_non_null(strstr(out, "q quit"));
	}
	const struct key_binding *items[32];
	size_t n = keys_hints(KC_EDIT, false, items, 32);
	assert_true(n >= 2);
	assert_int_equal(items[0]->action, KA_EDIT_ACCEPT);
	assert_string_equal(keys_context_name(KC_DISCOVERY), "Discovery");
	assert_string_equal(keys_context_name(KC_SCREENS), "Everywhere");
}

/* docs/console.md lists every key with its sentence (the tests run from the repository's top). */
static void test_documented(void **state)
{
	(void)state;
	FILE *f = fopen("docs/console.md", "r");
	if (!f)
		fail_msg("docs/console.md not found (run from the repository's top folder)");
	static char doc[65536];
	size_t len = fread(doc, 1, sizeof doc - 1, f);
	fclose(f);
	doc[len] = '\0';
	size_t n;
	const struct key_binding *t = keys_table(&n);
	for (size_t i = 0; i < n; i++) {
		char label[64];
		snprintf(label, sizeof label, "`%s`", t[i].label);
		if (!strstr(doc, label))
			fail_msg("docs/console.md does not name the keys %s", label);
		if (!strstr(doc, t[i].help))
			fail_msg("docs/console.md does not say \"%s\"", t[i].help);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_conflicts),
		cmocka_unit_test(test_lookup),
		cmocka_unit_test(test_hints),
		cmocka_unit_test(test_documented),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
