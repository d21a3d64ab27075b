/* Cleaning of untrusted device strings (see text.h and docs/untrusted-input.md): strict UTF-8
 * check, removal of escape sequences, controls and invisible characters, trimming, bounding. One
 * pass over the code points; the output never grows, so it is written into a buffer of the input's
 * size and then cut to TEXT_MAX. */
#include "model/text.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ELLIPSIS "\xE2\x80\xA6" /* U+2026, marks a cut */
#define ELLIPSIS_LEN 3

/* Invisible characters that can reorder or hide text (bidi "Trojan Source" tricks, zero-width
 * characters, Unicode tag characters used to smuggle text). Removed. */
static const struct {
	uint32_t lo, hi;
} invisible[] = {
	{0x061C, 0x061C},   /* Arabic letter mark */
	{0x180E, 0x180E},   /* Mongolian vowel separator */
	{0x200B, 0x200F},   /* zero-width space/non-joiner/joiner, LRM, RLM */
	{0x202A, 0x202E},   /* embeddings and overrides */
	{0x2060, 0x2064},   /* word joiner, invisible operators */
	{0x2066, 0x2069},   /* isolates */
	{0x206A, 0x206F},   /* deprecated format characters */
	{0xFEFF, 0xFEFF},   /* byte order mark / zero-width no-break space */
	{0xFFF9, 0xFFFB},   /* interlinear annotation */
	{0xE0000, 0xE007F}, /* tag characters */
};

/* Line breaks and tabs: shown as one space so that words do not run together. */
static const uint32_t breaks[] = {0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x85, 0x2028, 0x2029};

/* Escape sequence introducers (7-bit after ESC, and their 8-bit C1 code points). */
enum seq { SEQ_NONE, SEQ_CSI, SEQ_STRING };
static const struct {
	uint32_t c1;
	char esc;
	enum seq kind;
} introducers[] = {
	{0x9B, '[', SEQ_CSI},    /* control sequence */
	{0x9D, ']', SEQ_STRING}, /* operating system command (titles, clipboard, hyperlinks) */
	{0x90, 'P', SEQ_STRING}, /* device control string */
	{0x98, 'X', SEQ_STRING}, /* start of string */
	{0x9E, '^', SEQ_STRING}, /* privacy message */
	{0x9F, '_', SEQ_STRING}, /* application program command */
};

static bool in_table_breaks(uint32_t cp)
{
	for (size_t i = 0; i < sizeof breaks / sizeof breaks[0]; i++)
		if (breaks[i] == cp)
			return true;
	return false;
}

static bool is_invisible(uint32_t cp)
{
	for (size_t i = 0; i < sizeof invisible / sizeof invisible[0]; i++)
		if (cp >= invisible[i].lo && cp <= invisible[i].hi)
			return true;
	return false;
}

size_t text_utf8_next(const unsigned char *b, size_t n, uint32_t *cp)
{
	unsigned char c = b[0];
	size_t len;
	uint32_t v, min;
	if (c < 0x80) {
		*cp = c;
		return 1;
	} else if (c >= 0xC2 && c <= 0xDF) {
		len = 2, v = c & 0x1F, min = 0x80;
	} else if (c >= 0xE0 && c <= 0xEF) {
		len = 3, v = c & 0x0F, min = 0x800;
	} else if (c >= 0xF0 && c <= 0xF4) {
		len = 4, v = c & 0x07, min = 0x10000;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((b[i] & 0xC0) != 0x80)
			return 0;
		v = (v << 6) | (b[i] & 0x3F);
	}
	if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
		return 0;
	*cp = v;
	return len;
}

bool text_utf8_valid(const unsigned char *b, size_t n)
{
	uint32_t cp;
	for (size_t i = 0; i < n;) {
		if (b[i] < 0x80) { /* most device text is ASCII: no decoding for it */
			i++;
			continue;
		}
		size_t l = text_utf8_next(b + i, n - i, &cp);
		if (!l)
			return false;
		i += l;
	}
	return true;
}

/* Position after a control sequence whose parameters start at i: parameter and intermediate bytes
 * up to a final byte. A character that cannot belong to it ends it and is then handled as usual. */
static size_t skip_csi(const unsigned char *b, size_t n, size_t i)
{
	while (i < n) {
		if (b[i] >= 0x20 && b[i] <= 0x3F)
			i++;
		else if (b[i] >= 0x40 && b[i] <= 0x7E)
			return i + 1;
		else
			return i;
	}
	return n;
}

/* Position after a string sequence (OSC, DCS, ...) whose body starts at i. It ends with BEL, ST
 * (ESC \ or U+009C) or CAN/SUB, as terminals do; an ESC that is not ST ends it and starts a new
 * sequence; an unterminated string runs to the end, as a terminal would swallow it. */
static size_t skip_string(const unsigned char *b, size_t n, size_t i)
{
	uint32_t cp;
	while (i < n) {
		size_t l = text_utf8_next(b + i, n - i, &cp);
		if (cp == 0x07 || cp == 0x9C || cp == 0x18 || cp == 0x1A)
			return i + l;
		if (cp == 0x1B)
			return (i + 1 < n && b[i + 1] == '\\') ? i + 2 : i;
		i += l;
	}
	return n;
}

static enum seq introducer_c1(uint32_t cp)
{
	for (size_t k = 0; k < sizeof introducers / sizeof introducers[0]; k++)
		if (introducers[k].c1 == cp)
			return introducers[k].kind;
	return SEQ_NONE;
}

/* Position after the escape sequence whose ESC is at i. */
static size_t skip_escape(const unsigned char *b, size_t n, size_t i)
{
	size_t j = i + 1;
	if (j >= n)
		return n;
	for (size_t k = 0; k < sizeof introducers / sizeof introducers[0]; k++) {
		if (b[j] == (unsigned char)introducers[k].esc)
			return introducers[k].kind == SEQ_CSI ? skip_csi(b, n, j + 1) : skip_string(b, n, j + 1);
	}
	/* ESC, intermediate bytes, one final byte (charset switches, resets, keypad modes). */
	while (j < n && b[j] >= 0x20 && b[j] <= 0x2F)
		j++;
	if (j < n && b[j] >= 0x30 && b[j] <= 0x7E)
		return j + 1;
	return j; /* a lone ESC: only it goes */
}

/* Cleans valid UTF-8 b[0..n) into out (room for n + 1 bytes). Returns the length written;
 * *dropped counts removed characters that were not white space. */
static size_t clean_utf8(const unsigned char *b, size_t n, char *out, size_t *dropped)
{
	size_t o = 0;
	*dropped = 0;
	for (size_t i = 0; i < n;) {
		if (b[i] > 0x20 && b[i] < 0x7F) { /* printable ASCII: kept as it is (the common case) */
			out[o++] = (char)b[i++];
			continue;
		}
		uint32_t cp;
		size_t l = text_utf8_next(b + i, n - i, &cp);
		if (cp == 0x1B) {
			i = skip_escape(b, n, i);
			(*dropped)++;
			continue;
		}
		enum seq kind = introducer_c1(cp);
		if (kind != SEQ_NONE) {
			i = kind == SEQ_CSI ? skip_csi(b, n, i + l) : skip_string(b, n, i + l);
			(*dropped)++;
			continue;
		}
		i += l;
		if (in_table_breaks(cp) || cp == ' ') {
			if (o > 0 && (cp == ' ' || out[o - 1] != ' '))
				out[o++] = ' ';
			continue;
		}
		if (cp < 0x20 || (cp >= 0x7F && cp <= 0x9F) || is_invisible(cp)) {
			(*dropped)++;
			continue;
		}
		memcpy(out + o, b + i - l, l);
		o += l;
	}
	while (o > 0 && out[o - 1] == ' ')
		o--;
	out[o] = '\0';
	return o;
}

size_t text_cut(const char *s, size_t max)
{
	size_t len = strnlen(s, max + 1);
	if (len <= max)
		return len;
	size_t keep = max;
	while (keep > 0 && ((unsigned char)s[keep] & 0xC0) == 0x80)
		keep--; /* s[keep] is the first byte cut off: back up to a character start */
	return keep;
}

/* Cuts s (length len, valid UTF-8) so that it fits TEXT_MAX with the ellipsis. */
static void cut_to_max(char *s, size_t len)
{
	if (len <= TEXT_MAX - 1)
		return;
	size_t keep = text_cut(s, TEXT_MAX - 1 - ELLIPSIS_LEN);
	while (keep > 0 && s[keep - 1] == ' ')
		keep--;
	memcpy(s + keep, ELLIPSIS, ELLIPSIS_LEN + 1);
}

static char *hex_bounded(const unsigned char *b, size_t n)
{
	static const char digits[] = "0123456789ABCDEF";
	size_t room = (TEXT_MAX - 1 - 2) / 2;
	size_t shown = n;
	bool cut = false;
	if (n > room) {
		shown = (TEXT_MAX - 1 - 2 - ELLIPSIS_LEN) / 2;
		cut = true;
	}
	char *s = malloc(2 + 2 * shown + ELLIPSIS_LEN + 1);
	if (!s)
		return NULL;
	char *p = s;
	*p++ = '0';
	*p++ = 'x';
	for (size_t i = 0; i < shown; i++) {
		*p++ = digits[b[i] >> 4];
		*p++ = digits[b[i] & 0x0F];
	}
	if (cut) {
		memcpy(p, ELLIPSIS, ELLIPSIS_LEN);
		p += ELLIPSIS_LEN;
	}
	*p = '\0';
	return s;
}

char *text_from_device(const unsigned char *bytes, size_t len)
{
	if (!bytes)
		len = 0;
	while (len > 0 && bytes[len - 1] == 0)
		len--;
	if (len == 0)
		return strdup("");
	if (!text_utf8_valid(bytes, len))
		return hex_bounded(bytes, len);
	char *out = malloc(len + 1);
	if (!out)
		return NULL;
	size_t dropped;
	size_t o = clean_utf8(bytes, len, out, &dropped);
	if (o == 0 && dropped > 0) {
		/* Nothing printable but control bytes: a blank would hide that the device sent them. */
		free(out);
		return hex_bounded(bytes, len);
	}
	cut_to_max(out, o);
	if (o + 1 > TEXT_MAX) {
		char *small = realloc(out, TEXT_MAX);
		if (small)
			out = small;
	}
	return out;
}

char *text_clean(const char *s)
{
	if (!s)
		return strdup("");
	return text_from_device((const unsigned char *)s, strlen(s));
}

bool text_is_clean(const char *s)
{
	if (!s)
		return false;
	char *c = text_clean(s);
	bool same = c && strcmp(c, s) == 0;
	free(c);
	return same;
}

char *text_hex(const unsigned char *bytes, size_t len)
{
	static const char digits[] = "0123456789ABCDEF";
	char *s = malloc(len ? 3 * len : 1);
	if (!s)
		return NULL;
	char *p = s;
	for (size_t i = 0; i < len; i++) {
		if (i)
			*p++ = ' ';
		*p++ = digits[bytes[i] >> 4];
		*p++ = digits[bytes[i] & 0x0F];
	}
	*p = '\0';
	return s;
}

int text_mac(const unsigned char *bytes, size_t len, char out[TEXT_MAC_LEN])
{
	out[0] = '\0';
	if (!bytes || len != 6)
		return -1;
	snprintf(out, TEXT_MAC_LEN, "%02x:%02x:%02x:%02x:%02x:%02x", bytes[0], bytes[1], bytes[2],
		 bytes[3], bytes[4], bytes[5]);
	return 0;
}
