/* Value decoders (see decode.h): the bit strings, counters, blobs and floats printers send, and
 * the printable form of a value. Every function here reads only the bytes it is given and bounds
 * what it writes; device data never decides a length. */
#include "collectors/decode.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/text.h"

bool decode_is_missing(const struct snmp_value *v)
{
	switch (v->type) {
	case SNMPV_NULL:
	case SNMPV_NO_SUCH_OBJECT:
	case SNMPV_NO_SUCH_INSTANCE:
	case SNMPV_END_OF_MIB_VIEW:
		return true;
	default:
		return false;
	}
}

static const struct {
	int type;
	const char *name;
} type_names[] = {
	{ SNMPV_INTEGER, "INTEGER" },
	{ SNMPV_OCTETS, "STRING" },
	{ SNMPV_NULL, "NULL" },
	{ SNMPV_OID, "OID" },
	{ SNMPV_IPADDRESS, "IpAddress" },
	{ SNMPV_COUNTER32, "Counter32" },
	{ SNMPV_GAUGE32, "Gauge32" },
	{ SNMPV_TIMETICKS, "Timeticks" },
	{ SNMPV_OPAQUE, "Opaque" },
	{ SNMPV_COUNTER64, "Counter64" },
	{ SNMPV_NO_SUCH_OBJECT, "noSuchObject" },
	{ SNMPV_NO_SUCH_INSTANCE, "noSuchInstance" },
	{ SNMPV_END_OF_MIB_VIEW, "endOfMibView" },
};

const char *decode_type_name(int type)
{
	for (size_t i = 0; i < sizeof type_names / sizeof type_names[0]; i++)
		if (type_names[i].type == type)
			return type_names[i].name;
	return "unknown";
}

int decode_error_bits(const struct snmp_value *v, uint32_t *bits)
{
	if (v->type != SNMPV_OCTETS)
		return -1;
	uint32_t b = 0;
	/* Octet 0 carries bits 0-7 (bit 0 in its MSB), octet 1 bits 8-15. */
	for (size_t octet = 0; octet < 2 && octet < v->len; octet++)
		for (int i = 0; i < 8; i++)
			if (v->bytes[octet] & (0x80u >> i))
				b |= 1u << (octet * 8 + (size_t)i);
	*bits = b;
	return 0;
}

/* The decimal number a string starts with. Digits are bounded so that no device text overflows. */
static int number_from_text(const unsigned char *s, size_t len, int64_t *out)
{
	size_t i = 0;
	while (i < len && (s[i] == ' ' || s[i] == '\t'))
		i++;
	bool neg = false;
	if (i < len && (s[i] == '-' || s[i] == '+')) {
		neg = s[i] == '-';
		i++;
	}
	size_t start = i;
	int64_t n = 0;
	while (i < len && s[i] >= '0' && s[i] <= '9') {
		if (n > (INT64_MAX - 9) / 10)
			return -1;
		n = n * 10 + (s[i] - '0');
		i++;
	}
	if (i == start)
		return -1;
	*out = neg ? -n : n;
	return 0;
}

/* The types whose value is in snmp_value.integer. */
static bool is_number(int type)
{
	return type == SNMPV_INTEGER || type == SNMPV_COUNTER32 || type == SNMPV_GAUGE32 ||
	       type == SNMPV_TIMETICKS || type == SNMPV_COUNTER64;
}

int decode_int(const struct snmp_value *v, int64_t *out)
{
	if (is_number(v->type)) {
		*out = v->integer;
		return 0;
	}
	if (v->type == SNMPV_OCTETS)
		return number_from_text(v->bytes, v->len, out);
	return -1;
}

int decode_counter(const struct snmp_value *v, int64_t *out)
{
	int64_t n;
	if (decode_int(v, &n) < 0)
		return -1;
	if (n < 0) {
		/* A counter past 2^31 that firmware sends as a signed INTEGER wraps negative. */
		if (v->type != SNMPV_INTEGER || n < INT32_MIN)
			return -1;
		n += (int64_t)1 << 32;
	}
	*out = n;
	return 0;
}

int decode_brother_counters(const unsigned char *bytes, size_t len, struct brother_counter *out,
			    size_t max)
{
	size_t n = 0, i = 0;
	while (n < max && i + 3 <= len) {
		unsigned code = bytes[i], kind = bytes[i + 1], vlen = bytes[i + 2];
		if (kind != 0x01 || vlen == 0 || vlen > 8 || i + 3 + vlen > len)
			break;
		uint64_t value = 0;
		for (unsigned k = 0; k < vlen; k++)
			value = value << 8 | bytes[i + 3 + k];
		if (value > (uint64_t)INT64_MAX)
			break;
		out[n].code = code;
		out[n].value = (int64_t)value;
		n++;
		i += 3 + vlen;
	}
	/* What parsed before padding or damage is kept: the records are independent. */
	return n == 0 ? -1 : (int)n;
}

int decode_hp_float(const unsigned char *bytes, size_t len, double *out)
{
	double d;
	if (len == 4) {
		uint32_t u = (uint32_t)bytes[0] << 24 | (uint32_t)bytes[1] << 16 |
			     (uint32_t)bytes[2] << 8 | bytes[3];
		float f;
		memcpy(&f, &u, sizeof f);
		d = f;
	} else if (len == 8) {
		uint64_t u = 0;
		for (int i = 0; i < 8; i++)
			u = u << 8 | bytes[i];
		memcpy(&d, &u, sizeof d);
	} else {
		return -1;
	}
	if (!isfinite(d))
		return -1;
	*out = d;
	return 0;
}

void decode_pml_text(const unsigned char *bytes, size_t len, const unsigned char **start,
		     size_t *n)
{
	size_t i = 0;
	if (len >= 2 && bytes[0] == 0x01 && bytes[1] == 0x15)
		i = 2;
	size_t end = i;
	while (end < len && bytes[end] != '\n' && bytes[end] != '\0')
		end++;
	*start = bytes + i;
	*n = end - i;
}

static int hex_digit(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int decode_hex_tail(const unsigned char *bytes, size_t len, unsigned char *out)
{
	const unsigned char *nl = memchr(bytes, '\n', len);
	if (!nl || nl == bytes)
		return -1;
	size_t head = (size_t)(nl - bytes), n = head, pairs = 0;
	/* Check the whole tail first: only "XX" separated by blanks and line breaks. */
	for (size_t i = head + 1; i < len;) {
		if (bytes[i] == ' ' || bytes[i] == '\n') {
			i++;
			continue;
		}
		if (i + 1 >= len || hex_digit(bytes[i]) < 0 || hex_digit(bytes[i + 1]) < 0 ||
		    (i + 2 < len && bytes[i + 2] != ' ' && bytes[i + 2] != '\n'))
			return -1;
		i += 2;
		pairs++;
	}
	if (pairs == 0)
		return -1;
	memmove(out, bytes, head);
	for (size_t i = head + 1; i < len;) {
		if (bytes[i] == ' ' || bytes[i] == '\n') {
			i++;
			continue;
		}
		out[n++] = (unsigned char)(hex_digit(bytes[i]) << 4 | hex_digit(bytes[i + 1]));
		i += 2;
	}
	return (int)n;
}

int decode_oid_parse(const char *text, unsigned long *out, size_t max)
{
	/* by hand rather than strtoull: the poll parses its vendor OIDs for every device */
	const char *p = text;
	if (*p == '.')
		p++;
	size_t n = 0;
	while (*p) {
		if (*p < '0' || *p > '9' || n == max)
			return -1;
		unsigned long long v = 0;
		for (; *p >= '0' && *p <= '9'; p++) {
			v = v * 10 + (unsigned long long)(*p - '0');
			if (v > 0xFFFFFFFFull)
				return -1;
		}
		out[n++] = (unsigned long)v;
		if (*p == '.') {
			p++;
			if (!*p)
				return -1;
		} else if (*p) {
			return -1;
		}
	}
	return n > 0 ? (int)n : -1;
}

char *decode_oid_format(const unsigned long *oid, size_t n, char *buf, size_t len)
{
	if (len == 0)
		return buf;
	size_t at = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		/* the arc's digits, last first (snprintf per arc cost ~8,000 instructions an OID) */
		char arc[24];
		size_t w = 0;
		unsigned long v = oid[i];
		do {
			arc[w++] = (char)('0' + v % 10);
			v /= 10;
		} while (v);
		if (i)
			arc[w++] = '.';
		size_t room = len - at - 1;
		size_t put = w < room ? w : room;
		for (size_t k = 0; k < put; k++)
			buf[at + k] = arc[w - 1 - k];
		buf[at + put] = '\0';
		if (w > room) { /* cut, marked as such */
			if (len >= 4)
				memcpy(buf + len - 4, "...", 4);
			return buf;
		}
		at += w;
	}
	return buf;
}

bool decode_oid_under(const unsigned long *oid, size_t n, const unsigned long *prefix,
		      size_t prefix_len)
{
	return n >= prefix_len && memcmp(oid, prefix, prefix_len * sizeof *oid) == 0;
}

/* Binary data (a counter blob, a bit string, a MAC) rather than text: a NUL before the end, or
 * more than one byte in eight a control character other than tab, line breaks and ESC (text
 * with escape sequences is text, to be cleaned, not dumped). */
static bool looks_binary(const unsigned char *b, size_t len)
{
	size_t end = len, controls = 0;
	while (end > 0 && b[end - 1] == 0)
		end--;
	for (size_t i = 0; i < end; i++) {
		if (b[i] == 0)
			return true;
		if ((b[i] < 0x20 && b[i] != '\t' && b[i] != '\n' && b[i] != '\r' && b[i] != 0x1b) ||
		    b[i] == 0x7f)
			controls++;
	}
	return controls > 0 && controls * 8 > end;
}

/* "0x" and the bytes in hex, at most 512 of them (then "…"). */
static char *hex_text(const unsigned char *b, size_t len)
{
	size_t n = len > 512 ? 512 : len;
	char *s = malloc(2 + 2 * n + 4);
	if (!s)
		return NULL;
	memcpy(s, "0x", 2);
	for (size_t i = 0; i < n; i++)
		snprintf(s + 2 + 2 * i, 3, "%02X", b[i]);
	strcpy(s + 2 + 2 * n, len > n ? "\xE2\x80\xA6" : "");
	return s;
}

char *decode_printable(const struct snmp_value *v)
{
	char buf[640];
	if (is_number(v->type)) {
		snprintf(buf, sizeof buf, "%" PRId64, v->integer);
		return strdup(buf);
	}
	switch (v->type) {
	case SNMPV_OCTETS:
	case SNMPV_OPAQUE:
		if (looks_binary(v->bytes, v->len))
			return hex_text(v->bytes, v->len);
		return text_from_device(v->bytes, v->len);
	case SNMPV_IPADDRESS:
		if (v->len == 4) {
			snprintf(buf, sizeof buf, "%u.%u.%u.%u", v->bytes[0], v->bytes[1], v->bytes[2],
				 v->bytes[3]);
			return strdup(buf);
		}
		return text_hex(v->bytes, v->len > 16 ? 16 : v->len);
	case SNMPV_OID:
		return strdup(decode_oid_format(v->objid, v->objid_len, buf, sizeof buf));
	default:
		return strdup(decode_type_name(v->type));
	}
}
