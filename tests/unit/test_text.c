/* Unit tests for model/text: hostile device strings (escape sequences, C1 controls, bidi tricks,
 * invalid UTF-8, huge values) come out as bounded, printable text or as hex. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "model/text.h"

/* Cleans a C string literal (may hold any byte but NUL) and compares with the expected text. */
static void check_clean(const char *in, const char *want)
{
	char *got = text_from_device((const unsigned char *)in, strlen(in));
	assert_non_null(got);
	assert_string_equal(got, want);
	assert_true(text_is_clean(got));
	free(got);
}

static void check_bytes(const unsigned char *in, size_t len, const char *want)
{
	char *got = text_from_device(in, len);
	assert_non_null(got);
	assert_string_equal(got, want);
	free(got);
}

static void test_plain_text_unchanged(void **state)
{
	(void)state;
	check_clean("HP LaserJet 400 color M451dn", "HP LaserJet 400 color M451dn");
	check_clean("Tóner negro – Größe 日本語", "Tóner negro – Größe 日本語");
	assert_true(text_is_clean("Xerox WorkCentre 7845"));
	assert_false(text_is_clean(" leading"));
	assert_false(text_is_clean("trailing "));
	assert_false(text_is_clean("bell\a"));
	assert_false(text_is_clean(NULL));
}

static void test_empty_and_nul_padding(void **state)
{
	(void)state;
	check_bytes((const unsigned char *)"", 0, "");
	check_bytes(NULL, 0, "");
	const unsigned char padded[] = {'A', 'B', 'C', 0, 0, 0};
	check_bytes(padded, sizeof padded, "ABC");
	const unsigned char nuls[] = {0, 0, 0, 0};
	check_bytes(nuls, sizeof nuls, "");
	check_clean("   \t\r\n  ", "");
	char *c = text_clean(NULL);
	assert_string_equal(c, "");
	free(c);
}

static void test_csi_sequences(void **state)
{
	(void)state;
	check_clean("\x1b[2J\x1b[HCyan Toner", "Cyan Toner");
	check_clean("Black\x1b[31;1m RED\x1b[0m", "Black RED");
	check_clean("a\x1b[?1049hb", "ab");
	/* A CSI broken by a character that cannot belong to it ends there. */
	check_clean("x\x1b[12\xc3\xa9y", "x\xc3\xa9y");
}

static void test_osc_terminators(void **state)
{
	(void)state;
	/* OSC 52 sets the clipboard; OSC 0 the window title; OSC 8 makes hyperlinks. */
	check_clean("A\x1b]52;c;cm0gLXJmIH4=\aB", "AB");
	check_clean("A\x1b]0;owned\x1b\\B", "AB");
	check_clean("\x1b]8;;http://evil.example/\aClick\x1b]8;;\a here", "Click here");
	check_clean("A\x1b]0;title\xc2\x9c" "B", "AB"); /* 8-bit ST */
	/* Unterminated: swallowed to the end, like a terminal would. */
	check_clean("Tray 1\x1b]0;never ends", "Tray 1");
	/* DCS and APC strings too. */
	check_clean("x\x1bPq#0;2;0;0;0\x1b\\y", "xy");
	check_clean("x\x1b_hidden\x1b\\y", "xy");
}

static void test_lone_and_short_escapes(void **state)
{
	(void)state;
	check_clean("abc\x1b", "abc");
	check_clean("\x1b" "cReset", "Reset"); /* ESC c resets the terminal: both go */
	check_clean("a\x1b(Bb", "ab");        /* charset switch */
	check_clean("a\x1b\x1b[1mb", "ab");
	check_clean("a\x1b\xc3\xa9", "a\xc3\xa9"); /* ESC before a non-ASCII char: only ESC goes */
}

static void test_c1_controls(void **state)
{
	(void)state;
	/* U+009B is the 8-bit CSI; encoded in UTF-8 it is C2 9B. */
	check_clean("A\xc2\x9b" "2JB", "AB");
	check_clean("A\xc2\x9d" "0;t\aB", "AB"); /* 8-bit OSC */
	check_clean("A\xc2\x80\xc2\x8d" "B", "AB");
	check_clean("line1\xc2\x85line2", "line1 line2"); /* NEL is a line break */
}

static void test_c0_del_and_whitespace(void **state)
{
	(void)state;
	check_clean("Low\atoner\x7f!", "Lowtoner!");
	check_clean("Line one\r\nLine two\tend", "Line one Line two end");
	check_clean("\r\n\t Paper jam \r\n", "Paper jam");
	check_clean("a \r\n b", "a  b"); /* the device's own spaces stay */
	check_clean("a\xe2\x80\xa8" "b\xe2\x80\xa9" "c", "a b c");
	const unsigned char mid_nul[] = {'a', 0, 'b'};
	check_bytes(mid_nul, sizeof mid_nul, "ab");
}

static void test_bidi_and_invisible(void **state)
{
	(void)state;
	check_clean("abc\xe2\x80\xae" "fdp.exe", "abcfdp.exe");       /* RLO */
	check_clean("\xe2\x80\xaa" "x\xe2\x80\xac", "x");             /* LRE ... PDF */
	check_clean("a\xe2\x81\xa6" "b\xe2\x81\xa9", "ab");           /* LRI ... PDI */
	check_clean("\xef\xbb\xbfSerial", "Serial");                  /* BOM */
	check_clean("zero\xe2\x80\x8bwidth\xe2\x80\x8f", "zerowidth"); /* ZWSP, RLM */
	check_clean("tag\xf3\xa0\x81\x81", "tag");                    /* U+E0041 tag A */
}

static void test_formula_and_markup_kept_as_text(void **state)
{
	(void)state;
	/* The sanitizer is for terminals; CSV and HTML writers neutralise these themselves. */
	check_clean("=HYPERLINK(\"http://x\",\"y\")", "=HYPERLINK(\"http://x\",\"y\")");
	check_clean("<script>alert(1)</script>", "<script>alert(1)</script>");
}

static void test_invalid_utf8_is_hex(void **state)
{
	(void)state;
	const unsigned char latin1[] = {'C', 'a', 'f', 0xE9};
	check_bytes(latin1, sizeof latin1, "0x436166E9");
	const unsigned char overlong[] = {0xC0, 0xAF};
	check_bytes(overlong, sizeof overlong, "0xC0AF");
	const unsigned char overlong3[] = {0xE0, 0x80, 0xAF};
	check_bytes(overlong3, sizeof overlong3, "0xE080AF");
	const unsigned char surrogate[] = {'a', 0xED, 0xA0, 0x80};
	check_bytes(surrogate, sizeof surrogate, "0x61EDA080");
	const unsigned char truncated[] = {'a', 0xE2, 0x80};
	check_bytes(truncated, sizeof truncated, "0x61E280");
	const unsigned char too_big[] = {0xF4, 0x90, 0x80, 0x80};
	check_bytes(too_big, sizeof too_big, "0xF4908080");
	const unsigned char stray[] = {0x80};
	check_bytes(stray, sizeof stray, "0x80");
	const unsigned char mac[] = {0x00, 0x1B, 0xA9, 0x3C, 0x2A, 0xF4};
	check_bytes(mac, sizeof mac, "0x001BA93C2AF4"); /* trailing NULs trimmed, but inner kept */
}

static void test_only_controls_is_hex(void **state)
{
	(void)state;
	const unsigned char ctl[] = {0x01, 0x02, 0x03};
	check_bytes(ctl, sizeof ctl, "0x010203");
	check_clean("\x1b[2J", "0x1B5B324A");
}

static void test_long_text_cut_on_boundary(void **state)
{
	(void)state;
	/* 64 KiB of 'é' (2 bytes each) after one 'a': every boundary is at an odd offset. */
	size_t n = 64 * 1024;
	unsigned char *big = malloc(n);
	assert_non_null(big);
	big[0] = 'a';
	for (size_t i = 1; i + 1 < n; i += 2) {
		big[i] = 0xC3;
		big[i + 1] = 0xA9;
	}
	big[n - 1] = 'z';
	char *got = text_from_device(big, n);
	assert_non_null(got);
	size_t len = strlen(got);
	assert_true(len <= TEXT_MAX - 1);
	assert_true(len >= TEXT_MAX - 1 - 3 - 2);
	assert_memory_equal(got + len - 3, "\xE2\x80\xA6", 3);
	assert_true(text_is_clean(got));
	/* Everything before the ellipsis is whole characters. */
	assert_int_equal((len - 3 - 1) % 2, 0);
	free(got);

	/* 4-byte characters too. */
	for (size_t i = 0; i + 3 < n; i += 4)
		memcpy(big + i, "\xF0\x9F\x96\xA8", 4); /* U+1F5A8 printer */
	got = text_from_device(big, n);
	assert_non_null(got);
	len = strlen(got);
	assert_true(len <= TEXT_MAX - 1);
	assert_int_equal((len - 3) % 4, 0);
	assert_true(text_is_clean(got));
	free(got);

	/* 64 KiB of escape sequences with a little text: all removed, quickly. */
	for (size_t i = 0; i + 4 < n; i += 4)
		memcpy(big + i, "\x1b[2J", 4);
	memcpy(big + n - 4, "Tray", 4);
	check_bytes(big, n, "Tray");
	free(big);
}

static void test_exactly_at_limit(void **state)
{
	(void)state;
	char s[TEXT_MAX + 1];
	memset(s, 'x', TEXT_MAX - 1);
	s[TEXT_MAX - 1] = '\0';
	check_clean(s, s); /* 1023 bytes fit */
	memset(s, 'x', TEXT_MAX);
	s[TEXT_MAX] = '\0';
	char *got = text_clean(s);
	assert_int_equal(strlen(got), TEXT_MAX - 1);
	assert_memory_equal(got + TEXT_MAX - 4, "\xE2\x80\xA6", 3);
	free(got);
}

static void test_long_invalid_is_bounded_hex(void **state)
{
	(void)state;
	unsigned char b[2000];
	memset(b, 0xFF, sizeof b);
	char *got = text_from_device(b, sizeof b);
	assert_non_null(got);
	assert_true(strlen(got) <= TEXT_MAX - 1);
	assert_memory_equal(got, "0xFFFF", 6);
	assert_memory_equal(got + strlen(got) - 3, "\xE2\x80\xA6", 3);
	assert_true(text_is_clean(got));
	free(got);
}

static void test_hex_and_mac(void **state)
{
	(void)state;
	const unsigned char b[] = {0xAA, 0x0B, 0xCC};
	char *h = text_hex(b, sizeof b);
	assert_string_equal(h, "AA 0B CC");
	free(h);
	h = text_hex(b, 0);
	assert_string_equal(h, "");
	free(h);

	char mac[TEXT_MAC_LEN];
	const unsigned char m[] = {0x00, 0x1B, 0xA9, 0x3C, 0x2A, 0xF4};
	assert_int_equal(text_mac(m, 6, mac), 0);
	assert_string_equal(mac, "00:1b:a9:3c:2a:f4");
	assert_int_equal(text_mac(m, 5, mac), -1);
	assert_string_equal(mac, "");
	assert_int_equal(text_mac(m, 0, mac), -1);
}

/* Random inputs built from the pieces that matter (ESC, C1, bidi, multi-byte characters, broken
 * sequences, plain text): whatever comes in, what comes out is clean, bounded and stable. */
static void test_random_inputs_always_clean(void **state)
{
	(void)state;
	static const char *const pieces[] = {
		"\x1b", "[", "]", "\\", "\a", "\r\n", "\t", "2J", "0;", "\xc2\x9b", "\xc2\x9d",
		"\xc2\x9c", "\xc2\x85", "\xe2\x80\xae", "\xe2\x81\xa6", "\xef\xbb\xbf", "\xc3\xa9",
		"\xf0\x9f\x96\xa8", "\xe2\x80\xa6", " ", "  ", "Toner", "=", "<", "\x7f", "\x01",
		"\xe2\x80", "\xc0\xaf", "\xed\xa0\x80", "\xff",
	};
	size_t npieces = sizeof pieces / sizeof pieces[0];
	unsigned char buf[4096];
	uint32_t seed = 12345;
	for (int round = 0; round < 5000; round++) {
		size_t len = 0;
		seed = seed * 1103515245u + 12345u;
		size_t want = (seed >> 16) % (round % 10 == 0 ? 4000 : 60);
		while (len < want) {
			seed = seed * 1103515245u + 12345u;
			const char *p = pieces[(seed >> 16) % npieces];
			size_t pl = strlen(p);
			if (len + pl > sizeof buf)
				break;
			memcpy(buf + len, p, pl);
			len += pl;
		}
		char *got = text_from_device(buf, len);
		assert_non_null(got);
		assert_true(strlen(got) <= TEXT_MAX - 1);
		if (!text_is_clean(got))
			fail_msg("round %d: output not stable: '%s'", round, got);
		for (const unsigned char *c = (const unsigned char *)got; *c; c++) {
			assert_true(*c >= 0x20 && *c != 0x7f);
			assert_false(c[0] == 0xC2 && c[1] >= 0x80 && c[1] <= 0x9F); /* C1 */
		}
		free(got);
	}
}

/* text_cut keeps whole characters: a 2-byte "é" is kept or dropped, never halved. */
static void test_cut_on_characters(void **state)
{
	(void)state;
	assert_int_equal(text_cut("abc", 10), 3);
	assert_int_equal(text_cut("abc", 3), 3);
	assert_int_equal(text_cut("abcd", 3), 3);
	assert_int_equal(text_cut("a\xC3\xA9" "b", 2), 1); /* "aé": the é would be cut in half */
	assert_int_equal(text_cut("a\xC3\xA9" "b", 3), 3);
	assert_int_equal(text_cut("\xE2\x80\xA6", 2), 0);
	assert_int_equal(text_cut("", 0), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_text_unchanged),
		cmocka_unit_test(test_empty_and_nul_padding),
		cmocka_unit_test(test_csi_sequences),
		cmocka_unit_test(test_osc_terminators),
		cmocka_unit_test(test_lone_and_short_escapes),
		cmocka_unit_test(test_c1_controls),
		cmocka_unit_test(test_c0_del_and_whitespace),
		cmocka_unit_test(test_bidi_and_invisible),
		cmocka_unit_test(test_formula_and_markup_kept_as_text),
		cmocka_unit_test(test_invalid_utf8_is_hex),
		cmocka_unit_test(test_only_controls_is_hex),
		cmocka_unit_test(test_long_text_cut_on_boundary),
		cmocka_unit_test(test_exactly_at_limit),
		cmocka_unit_test(test_long_invalid_is_bounded_hex),
		cmocka_unit_test(test_hex_and_mac),
		cmocka_unit_test(test_random_inputs_always_clean),
		cmocka_unit_test(test_cut_on_characters),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
