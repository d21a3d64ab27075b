/* Cell text for the console (see format.h): UTF-8 decoding with wcwidth for widths, cuts on
 * character boundaries, and the number, time and gauge formats. No curses here. */
#include "tui/format.h"

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <wchar.h>

#include "model/text.h"
#include "model/units.h"

/* Decodes one UTF-8 character at s (n bytes available). Returns its length and sets *cp, or
 * returns 1 with *cp = -1 for a byte that does not start a valid character. */
static size_t utf8_next(const unsigned char *s, size_t n, long *cp)
{
	uint32_t v;
	size_t len = text_utf8_next(s, n, &v);
	if (len == 0) {
		*cp = -1;
		return 1;
	}
	*cp = (long)v;
	return len;
}

/* Columns of one decoded character (cp -1: an invalid byte, shown as "?"). */
static int char_width(long cp, bool utf8)
{
	if (cp < 0)
		return 1;
	if (cp < 0x80)
		return cp < 0x20 || cp == 0x7F ? 0 : 1;
	if (!utf8)
		return 1;
	int w = wcwidth((wchar_t)cp);
	return w < 0 ? 1 : w; /* something wcwidth does not know is shown as one "?" */
}

int fmt_width(const char *s, bool utf8)
{
	if (!s)
		return 0;
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s);
	int w = 0;
	while (n) {
		long cp;
		size_t k = utf8_next(p, n, &cp);
		w += char_width(cp, utf8);
		p += k;
		n -= k;
	}
	return w;
}

/* Appends bytes to out if they fit (keeping room for the NUL). */
static bool put(char *out, size_t len, size_t *at, const void *bytes, size_t n)
{
	if (*at + n + 1 > len)
		return false;
	memcpy(out + *at, bytes, n);
	*at += n;
	out[*at] = '\0';
	return true;
}

int fmt_fit(const char *s, int width, bool utf8, char *out, size_t len)
{
	if (!len)
		return 0;
	out[0] = '\0';
	if (!s || width <= 0)
		return 0;
	const char *ellipsis = utf8 ? "\xE2\x80\xA6" : "~";
	bool fits = fmt_width(s, utf8) <= width;
	/* when cutting, leave one column for the ellipsis */
	int room = fits ? width : width - 1;
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s), at = 0;
	int used = 0;
	while (n) {
		long cp;
		size_t k = utf8_next(p, n, &cp);
		int w = char_width(cp, utf8);
		if (used + w > room)
			break;
		bool ok;
		if (cp < 0 || (cp >= 0x80 && (!utf8 || wcwidth((wchar_t)cp) < 0)))
			ok = put(out, len, &at, "?", 1);
		else if (w == 0 && cp < 0x80)
			ok = true; /* a control byte that escaped the sanitizer is dropped, never printed */
		else
			ok = put(out, len, &at, p, k);
		if (!ok) {
			fits = false;
			break;
		}
		used += w;
		p += k;
		n -= k;
	}
	if (n && !fits && used < width && put(out, len, &at, ellipsis, strlen(ellipsis)))
		used++;
	return used;
}

int fmt_pad(const char *s, int width, bool right, bool utf8, char *out, size_t len)
{
	char tmp[1024];
	if (width < 0)
		width = 0;
	int w = fmt_fit(s, width, utf8, tmp, sizeof tmp);
	size_t at = 0;
	if (len)
		out[0] = '\0';
	int pad = width - w, done = 0;
	if (right)
		for (; done < pad && put(out, len, &at, " ", 1); done++)
			;
	if (!put(out, len, &at, tmp, strlen(tmp)))
		return 0;
	if (!right)
		for (; done < pad && put(out, len, &at, " ", 1); done++)
			;
	return w + done;
}

char *fmt_count(int64_t v, char *out, size_t len)
{
	if (v < 0) {
		snprintf(out, len, "-");
		return out;
	}
	char digits[32];
	int n = snprintf(digits, sizeof digits, "%lld", (long long)v);
	char tmp[48];
	size_t at = 0;
	for (int i = 0; i < n; i++) {
		if (i && (n - i) % 3 == 0)
			tmp[at++] = ',';
		tmp[at++] = digits[i];
	}
	tmp[at] = '\0';
	snprintf(out, len, "%s", tmp);
	return out;
}

char *fmt_count_short(int64_t v, char *out, size_t len)
{
	static const struct {
		int64_t div;
		char suffix;
	} units[] = { { 1000000000000LL, 'T' }, { 1000000000LL, 'G' }, { 1000000LL, 'M' }, { 1000LL, 'k' } };
	if (v < 0) {
		snprintf(out, len, "-");
		return out;
	}
	if (v < 100000)
		return fmt_count(v, out, len);
	for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
		if (v >= units[i].div) {
			double x = (double)v / (double)units[i].div;
			/* 999.96k would print as "1000.0k": go up a unit instead */
			if (x >= 999.95 && i > 0)
				x = (double)v / (double)units[i - 1].div, i--;
			snprintf(out, len, x < 100 ? "%.1f%c" : "%.0f%c", x, units[i].suffix);
			return out;
		}
	}
	return fmt_count(v, out, len);
}

char *fmt_ago(int64_t t, int64_t now, char *out, size_t len)
{
	if (t <= 0) {
		snprintf(out, len, "never");
		return out;
	}
	if (t > now + 60) {
		snprintf(out, len, "in the future");
		return out;
	}
	char span[32];
	units_span(now - t, span, sizeof span);
	snprintf(out, len, "%s ago", span);
	return out;
}

char *fmt_ago_short(int64_t t, int64_t now, char *out, size_t len)
{
	if (t <= 0) {
		snprintf(out, len, "never");
		return out;
	}
	int64_t s = now - t;
	if (s < -60)
		snprintf(out, len, "future");
	else if (s < 60)
		snprintf(out, len, "%llds ago", (long long)(s < 0 ? 0 : s));
	else if (s < 3600)
		snprintf(out, len, "%lldm ago", (long long)(s / 60));
	else if (s < 86400)
		snprintf(out, len, "%lldh ago", (long long)(s / 3600));
	else if (s < 1000 * 86400LL)
		snprintf(out, len, "%lldd ago", (long long)(s / 86400));
	else
		snprintf(out, len, "%lldy ago", (long long)(s / (365 * 86400LL)));
	return out;
}

char *fmt_countdown(int64_t t, int64_t now, char *out, size_t len)
{
	if (t <= 0) {
		snprintf(out, len, "not scheduled");
		return out;
	}
	if (t <= now) {
		snprintf(out, len, "due now");
		return out;
	}
	int64_t s = t - now;
	char span[32];
	if (s < 3600 && s >= 60)
		snprintf(span, sizeof span, "%lldm %02llds", (long long)(s / 60), (long long)(s % 60));
	else
		units_span(s, span, sizeof span);
	snprintf(out, len, "in %s", span);
	return out;
}

char *fmt_gauge(int percent, int width, bool utf8, char *out, size_t len)
{
	const char *full = utf8 ? "\xE2\x96\x88" : "#";  /* █ */
	const char *empty = utf8 ? "\xE2\x96\x91" : "-"; /* ░ */
	size_t at = 0;
	if (len)
		out[0] = '\0';
	if (width < 0)
		width = 0;
	int filled = percent < 0 ? 0 : (percent * width + 50) / 100;
	if (percent > 0 && filled == 0)
		filled = 1; /* something left is never drawn as nothing */
	if (filled > width)
		filled = width;
	for (int i = 0; i < width; i++) {
		const char *cell = percent < 0 ? " " : i < filled ? full : empty;
		if (!put(out, len, &at, cell, strlen(cell)))
			break;
	}
	return out;
}

char *fmt_supply(const struct supply *s, int low_percent, char *out, size_t len)
{
	enum supply_state st = supply_state_of(s, low_percent);
	int pct = supply_percent(s);
	bool receptacle = s->klass == SUPPLY_CLASS_RECEPTACLE;
	switch (st) {
	case SUPPLY_EMPTY:
		snprintf(out, len, "EMPTY");
		break;
	case SUPPLY_FULL:
		snprintf(out, len, "FULL");
		break;
	case SUPPLY_LOW:
		if (receptacle)
			snprintf(out, len, "NEAR FULL");
		else if (pct >= 0)
			snprintf(out, len, "LOW %d%%", pct);
		else
			snprintf(out, len, "LOW");
		break;
	case SUPPLY_UNKNOWN:
		snprintf(out, len, "unknown");
		break;
	case SUPPLY_SOME_REMAINING:
		snprintf(out, len, "some left");
		break;
	case SUPPLY_NO_RESTRICTION:
		snprintf(out, len, "no limit");
		break;
	default:
		if (pct < 0)
			snprintf(out, len, "ok");
		else if (receptacle)
			snprintf(out, len, "room %d%%", pct);
		else
			snprintf(out, len, "%d%%", pct);
		break;
	}
	return out;
}

int fmt_supply_severity(enum supply_state st)
{
	switch (st) {
	case SUPPLY_EMPTY:
	case SUPPLY_FULL:
		return 0;
	case SUPPLY_LOW:
		return 1;
	default:
		return 2;
	}
}

char *fmt_meter(int64_t v, char *out, size_t len)
{
	return fmt_count(v, out, len);
}
