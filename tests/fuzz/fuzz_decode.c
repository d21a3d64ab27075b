/* Fuzzes the SNMP value decoders (collectors/decode.h) and the supply arithmetic on top of them
 * (model/device.h). The input is one value: a type, an integer and bytes, so that every decoder
 * sees every type. Properties: error bits only in the two octets the MIB defines, counters never
 * negative, blob records inside the blob, floats finite, cut-out texts inside their bytes, OIDs
 * that print and parse back the same, printable forms without a control byte, and supply
 * percentages in 0..100 (or -1 for "no honest percentage") with states that agree with them. */
#include "tests/fuzz/fuzz.h"

#include <math.h>

#include "collectors/decode.h"
#include "model/device.h"
#include "model/text.h"

static const int types[] = {
	SNMPV_INTEGER,  SNMPV_OCTETS,  SNMPV_NULL,           SNMPV_OID,
	SNMPV_IPADDRESS, SNMPV_COUNTER32, SNMPV_GAUGE32,     SNMPV_TIMETICKS,
	SNMPV_OPAQUE,   SNMPV_COUNTER64, SNMPV_NO_SUCH_OBJECT, SNMPV_NO_SUCH_INSTANCE,
	SNMPV_END_OF_MIB_VIEW, 0x30,
};

static void no_controls(uint32_t cp, void *ctx)
{
	FUZZ_CHECK(cp >= 0x20 && cp != 0x7F && !(cp >= 0x80 && cp <= 0x9F), "control U+%04X in \"%s\"",
		   (unsigned)cp, (const char *)ctx);
}

static void check_numbers(const struct snmp_value *v)
{
	int64_t n = 0, c = 0;
	int rn = decode_int(v, &n);
	int rc = decode_counter(v, &c);
	bool number = v->type == SNMPV_INTEGER || v->type == SNMPV_COUNTER32 ||
		      v->type == SNMPV_GAUGE32 || v->type == SNMPV_TIMETICKS ||
		      v->type == SNMPV_COUNTER64;
	if (number)
		FUZZ_CHECK(rn == 0 && n == v->integer, "decode_int of a number type");
	else if (v->type != SNMPV_OCTETS)
		FUZZ_CHECK(rn == -1 && rc == -1, "a number out of type %d", v->type);
	if (rc == 0) {
		FUZZ_CHECK(c >= 0, "negative counter %lld", (long long)c);
		FUZZ_CHECK(rn == 0 && (c == n || (n < 0 && c == n + ((int64_t)1 << 32))),
			   "counter %lld from int %lld", (long long)c, (long long)n);
	}
	if (rn == 0 && v->type == SNMPV_OCTETS) {
		/* The digits of n begin the text after blanks and a sign. */
		size_t i = 0;
		while (i < v->len && (v->bytes[i] == ' ' || v->bytes[i] == '\t'))
			i++;
		if (i < v->len && (v->bytes[i] == '-' || v->bytes[i] == '+'))
			i++;
		char digits[24];
		snprintf(digits, sizeof digits, "%llu", (unsigned long long)(n < 0 ? -(uint64_t)n : (uint64_t)n));
		size_t dl = strlen(digits);
		/* leading zeros are fine: skip them in the text */
		while (i + 1 < v->len && v->bytes[i] == '0' && v->bytes[i + 1] >= '0' && v->bytes[i + 1] <= '9')
			i++;
		FUZZ_CHECK(i + dl <= v->len && memcmp(v->bytes + i, digits, dl) == 0,
			   "%lld is not the number the text starts with", (long long)n);
	}
}

static void check_bits(const struct snmp_value *v)
{
	uint32_t bits = 0xDEADBEEF;
	int r = decode_error_bits(v, &bits);
	if (v->type != SNMPV_OCTETS) {
		FUZZ_CHECK(r == -1, "error bits from type %d", v->type);
		return;
	}
	FUZZ_CHECK(r == 0 && bits <= 0xFFFF, "bits %#x", bits);
	uint32_t want = 0;
	if (v->len > 0)
		for (int i = 0; i < 8; i++)
			want |= (v->bytes[0] >> (7 - i) & 1u) << i;
	if (v->len > 1)
		for (int i = 0; i < 8; i++)
			want |= (v->bytes[1] >> (7 - i) & 1u) << (8 + i);
	FUZZ_CHECK(bits == want, "bits %#x, want %#x", bits, want);
	for (int b = 0; b < 16; b++)
		if (bits & 1u << b)
			FUZZ_CHECK(b >= PRINTER_ERR_COUNT || printer_error_name(b) != NULL, "bit %d unnamed", b);
}

static void check_bytes(const unsigned char *b, size_t len)
{
	struct brother_counter rec[16];
	int n = decode_brother_counters(b, len, rec, 16);
	FUZZ_CHECK(n == -1 || (n >= 1 && n <= 16), "brother n %d", n);
	size_t used = 0;
	for (int i = 0; i < n; i++) {
		FUZZ_CHECK(rec[i].value >= 0 && rec[i].code <= 0xFF, "brother record %d", i);
		used += 3 + b[used + 2];
		FUZZ_CHECK(used <= len, "brother record %d past the blob", i);
	}

	double d;
	if (decode_hp_float(b, len, &d) == 0)
		FUZZ_CHECK((len == 4 || len == 8) && isfinite(d), "float of %zu bytes", len);

	const unsigned char *start;
	size_t tn;
	decode_pml_text(b, len, &start, &tn);
	FUZZ_CHECK(start >= b && start + tn <= b + len, "pml text outside its bytes");
	FUZZ_CHECK(memchr(start, '\n', tn) == NULL && memchr(start, '\0', tn) == NULL,
		   "line break or NUL in pml text");

	unsigned char *out = malloc(len ? len : 1);
	FUZZ_OOM(out);
	int j = decode_hex_tail(b, len, out);
	if (j >= 0) {
		const unsigned char *nl = memchr(b, '\n', len);
		FUZZ_CHECK(nl && (size_t)j <= len && (size_t)j > (size_t)(nl - b) &&
				   memcmp(out, b, (size_t)(nl - b)) == 0,
			   "hex tail %d of %zu", j, len);
		char *clean = text_from_device(out, (size_t)j);
		FUZZ_OOM(clean);
		FUZZ_CHECK(text_is_clean(clean), "re-joined text not clean");
		free(clean);
	}
	free(out);
}

static void check_oid_text(const unsigned char *b, size_t len)
{
	char *text = malloc(len + 1);
	FUZZ_OOM(text);
	memcpy(text, b, len);
	text[len] = '\0';
	unsigned long oid[128], again[128];
	int n = decode_oid_parse(text, oid, 128);
	free(text);
	if (n < 0)
		return;
	FUZZ_CHECK(n >= 1 && n <= 128, "oid of %d", n);
	char buf[128 * 11 + 1];
	decode_oid_format(oid, (size_t)n, buf, sizeof buf);
	int m = decode_oid_parse(buf, again, 128);
	FUZZ_CHECK(m == n && memcmp(oid, again, (size_t)n * sizeof oid[0]) == 0, "oid %s round trip", buf);
	FUZZ_CHECK(decode_oid_under(oid, (size_t)n, oid, (size_t)n), "not under itself");
	FUZZ_CHECK(n == 1 || decode_oid_under(oid, (size_t)n, oid, (size_t)n - 1), "not under its parent");
	FUZZ_CHECK(!decode_oid_under(oid, (size_t)n - 1, oid, (size_t)n), "under its child");
	/* A buffer too small is cut, never overrun. */
	for (size_t small = 0; small < 12; small++) {
		char tiny[12];
		memset(tiny, 'Z', sizeof tiny);
		decode_oid_format(oid, (size_t)n, tiny, small);
		FUZZ_CHECK(small == 0 || strnlen(tiny, small) < small, "format into %zu bytes", small);
		for (size_t k = small; k < sizeof tiny; k++)
			FUZZ_CHECK(tiny[k] == 'Z', "format into %zu bytes wrote byte %zu", small, k);
	}
}

static void check_supply(struct fuzz_in *in)
{
	struct supply s = { 0 };
	s.klass = fuzz_u8(in) & 1 ? SUPPLY_CLASS_RECEPTACLE : SUPPLY_CLASS_CONSUMED;
	s.level = fuzz_int(in);
	s.max = fuzz_int(in);
	int low = fuzz_int(in);
	int pct = supply_percent(&s);
	FUZZ_CHECK(pct == -1 || (pct >= 0 && pct <= 100), "percent %d of level %d max %d", pct, s.level,
		   s.max);
	FUZZ_CHECK(pct == -1 || (s.level >= 0 && s.max > 0), "percent from special values");
	enum supply_state st = supply_state_of(&s, low);
	FUZZ_CHECK((unsigned)st < SUPPLY_STATE_COUNT, "state %d", (int)st);
	FUZZ_CHECK(strcmp(supply_state_name(st), "unknown") != 0 || st == SUPPLY_UNKNOWN, "state name");
	if (s.level == SUPPLY_VALUE_OTHER)
		FUZZ_CHECK(st == SUPPLY_NO_RESTRICTION, "level -1");
	if (s.level == SUPPLY_VALUE_UNKNOWN)
		FUZZ_CHECK(st == SUPPLY_UNKNOWN, "level -2");
	if (s.level == SUPPLY_VALUE_SOME_REMAINING)
		FUZZ_CHECK(st == SUPPLY_SOME_REMAINING, "level -3");
	if (s.level < -3)
		FUZZ_CHECK(st == SUPPLY_UNKNOWN, "level %d", s.level);
	if (pct > 0 && pct >= low)
		FUZZ_CHECK(st == SUPPLY_OK, "level %d max %d low %d: %s", s.level, s.max, low,
			   supply_state_name(st));
	if (st == SUPPLY_LOW)
		FUZZ_CHECK(pct >= 0 && pct < low, "low at %d%%", pct);

	struct supply list[3] = { s, s, s };
	list[1].level = fuzz_int(in);
	list[2].max = fuzz_int(in);
	struct device d = { .supplies = list, .n_supplies = 3 };
	size_t which = 99;
	int lowest = device_lowest_supply(&d, &which);
	FUZZ_CHECK(lowest == -1 || (lowest >= 0 && lowest <= 100 && which < 3 &&
				    supply_percent(&list[which]) == lowest),
		   "lowest %d", lowest);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	struct snmp_value v = { 0 };
	v.type = types[fuzz_u8(&in) % (sizeof types / sizeof types[0])];
	v.integer = fuzz_i64(&in);
	if (v.type == SNMPV_COUNTER32 || v.type == SNMPV_GAUGE32 || v.type == SNMPV_TIMETICKS)
		v.integer &= 0xFFFFFFFF; /* what the engine hands over for these types */
	else if (v.type == SNMPV_COUNTER64 && v.integer < 0)
		v.integer = INT64_MAX;
	check_supply(&in);
	unsigned long objid[64];
	size_t nid = 0;
	for (; nid < 64 && in.n >= 1 && fuzz_u8(&in) != 0; nid++)
		objid[nid] = fuzz_u32(&in);
	v.objid = objid;
	v.objid_len = nid;
	v.bytes = in.p;
	v.len = in.n;

	FUZZ_CHECK(strlen(decode_type_name(v.type)) > 0, "type name");
	FUZZ_CHECK(decode_is_missing(&v) == (v.type == SNMPV_NULL || v.type >= SNMPV_NO_SUCH_OBJECT),
		   "missing");
	check_numbers(&v);
	check_bits(&v);
	check_bytes(v.bytes, v.len);
	check_oid_text(v.bytes, v.len);

	char *p = decode_printable(&v);
	FUZZ_OOM(p);
	size_t plen = strlen(p);
	FUZZ_CHECK(plen <= 2 + 2 * 512 + 3 && plen <= 640 * 2, "printable of %zu bytes", plen);
	FUZZ_CHECK(fuzz_utf8_valid((const unsigned char *)p, plen, no_controls, p), "printable \"%s\"", p);
	free(p);
	return 0;
}
