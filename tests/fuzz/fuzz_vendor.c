/* Fuzzes the vendor profiles (collectors/vendor_profiles.h): who made a device from any
 * sysObjectID and sysDescr, the fields cut out of sysDescr by every profile's rules, and each
 * profile's counters decoded from any value the way its table says (numbers, text numbers, HP
 * floats, Brother blobs). Properties: identification is stable, names a profile that can be
 * found again, and takes the enterprise number from a numeric sysObjectID; a cut-out field is a
 * part of sysDescr with no blanks around it; every counter decoded is a non-negative number
 * that fits, and a blob record maps only to a meter its profile names. The profile table itself
 * is checked once at start-up: unique names, numeric OIDs that parse. */
#include "tests/fuzz/fuzz.h"

#include <math.h>

#include "collectors/decode.h"
#include "collectors/vendor_profiles.h"
#include "model/text.h"

static bool oid_ok(const char *oid)
{
	unsigned long ids[128];
	return oid == NULL || decode_oid_parse(oid, ids, 128) > 0;
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	const struct vendor_profile *p;
	for (size_t i = 0; (p = vendor_profile_at(i)) != NULL; i++) {
		FUZZ_CHECK(p->name && vendor_profile_find(p->name) == p, "profile %zu", i);
		FUZZ_CHECK(oid_ok(p->model_oid) && oid_ok(p->serial_oid) && oid_ok(p->firmware_oid) &&
				   oid_ok(p->supply_level_column),
			   "profile %s: identity OID", p->name);
		for (size_t s = 0; s < p->n_scalars; s++) {
			const struct counter_scalar *c = &p->scalars[s];
			/* A blob's records name their meters through codes; any other rule names one. */
			FUZZ_CHECK(c->oids[0] && (c->decoding == COUNTER_BROTHER_BLOB ? c->n_codes > 0 : c->meter != NULL),
				   "%s scalar %zu", p->name, s);
			for (size_t o = 0; o < COUNTER_MAX_OIDS; o++)
				FUZZ_CHECK(oid_ok(p->scalars[s].oids[o]), "%s scalar %zu oid %zu", p->name, s, o);
		}
		for (size_t t = 0; t < p->n_tables; t++)
			FUZZ_CHECK(p->tables[t].value_column && oid_ok(p->tables[t].value_column) &&
					   oid_ok(p->tables[t].type_column) && p->tables[t].n_codes > 0,
				   "%s table %zu", p->name, t);
	}
	return 0;
}

static void check_field(const char *descr, const struct descr_rule *rule)
{
	if (!rule->after)
		return;
	char *f = vendor_descr_field(descr, rule);
	if (!f)
		return;
	size_t n = strlen(f);
	FUZZ_CHECK(strstr(descr, f) != NULL, "\"%s\" is not part of sysDescr", f);
	FUZZ_CHECK(n == 0 || (f[0] != ' ' && f[0] != '\t' && f[n - 1] != ' ' && f[n - 1] != '\t'),
		   "blanks around \"%s\"", f);
	free(f);
}

/* The counter a scalar rule reads from one value, as its decoding says; checks what comes out. */
static void check_counter(const struct counter_scalar *c, const struct snmp_value *v)
{
	int64_t n;
	double d;
	switch (c->decoding) {
	case COUNTER_NUMBER:
	case COUNTER_TEXT_NUMBER:
		if (decode_counter(v, &n) == 0)
			FUZZ_CHECK(n >= 0, "counter %lld", (long long)n);
		break;
	case COUNTER_HP_FLOAT:
		if (v->type == SNMPV_OCTETS && decode_hp_float(v->bytes, v->len, &d) == 0)
			FUZZ_CHECK(isfinite(d), "float");
		break;
	case COUNTER_BROTHER_BLOB: {
		struct brother_counter rec[32];
		int k = decode_brother_counters(v->bytes, v->len, rec, 32);
		for (int r = 0; r < k; r++) {
			FUZZ_CHECK(rec[r].value >= 0, "blob value");
			for (size_t cc = 0; cc < c->n_codes; cc++)
				if (c->codes[cc].code == (long)rec[r].code)
					FUZZ_CHECK(c->codes[cc].meter && c->codes[cc].meter[0], "code %u",
						   rec[r].code);
		}
		break;
	}
	default:
		FUZZ_CHECK(false, "decoding %d", (int)c->decoding);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	uint8_t mode = fuzz_u8(&in);
	char *oid = fuzz_str(&in);
	size_t dlen;
	const uint8_t *draw = fuzz_bytes(&in, &dlen);
	/* sysDescr arrives cleaned (model/text.h); mode bit 0 passes the raw bytes instead. */
	char *descr;
	if (mode & 1) {
		descr = malloc(dlen + 1);
		FUZZ_OOM(descr);
		memcpy(descr, draw, dlen);
		descr[dlen] = '\0';
	} else {
		descr = text_from_device(draw, dlen);
		FUZZ_OOM(descr);
	}

	struct vendor_ident a, b;
	int ra = vendor_identify(mode & 2 ? NULL : oid, mode & 4 ? NULL : descr, &a);
	int rb = vendor_identify(mode & 2 ? NULL : oid, mode & 4 ? NULL : descr, &b);
	FUZZ_CHECK(ra == rb && a.vendor == b.vendor && a.brand == b.brand && a.profile == b.profile &&
			   a.enterprise == b.enterprise,
		   "identification not stable");
	FUZZ_CHECK(ra == 0 ? a.vendor != NULL : (ra == -1 && a.vendor == NULL), "rc %d vendor %s", ra,
		   a.vendor ? a.vendor : "(null)");
	FUZZ_CHECK(!a.profile || vendor_profile_find(a.profile->name) == a.profile, "profile lost");
	unsigned long ids[128];
	int nid = mode & 2 ? -1 : decode_oid_parse(oid, ids, 128);
	static const unsigned long enterprises[] = { 1, 3, 6, 1, 4, 1 };
	if (nid >= 7 && decode_oid_under(ids, (size_t)nid, enterprises, 6))
		FUZZ_CHECK(a.enterprise == ids[6], "enterprise %lu from %s", a.enterprise, oid);

	const struct vendor_profile *p;
	for (size_t i = 0; (p = vendor_profile_at(i)) != NULL; i++) {
		check_field(descr, &p->model_rule);
		check_field(descr, &p->serial_rule);
		check_field(descr, &p->firmware_rule);
	}

	/* The rest is one value, of a type the next byte picks, fed to every profile's counters. */
	static const int types[] = { SNMPV_INTEGER, SNMPV_OCTETS, SNMPV_COUNTER32, SNMPV_GAUGE32,
				     SNMPV_COUNTER64, SNMPV_OPAQUE, SNMPV_NULL };
	struct snmp_value v = { .type = types[fuzz_u8(&in) % (sizeof types / sizeof types[0])] };
	v.integer = fuzz_i64(&in);
	if (v.type == SNMPV_COUNTER32 || v.type == SNMPV_GAUGE32)
		v.integer &= 0xFFFFFFFF;
	else if (v.type == SNMPV_COUNTER64 && v.integer < 0)
		v.integer = INT64_MAX;
	v.bytes = in.p;
	v.len = in.n;
	for (size_t i = 0; (p = vendor_profile_at(i)) != NULL; i++)
		for (size_t s = 0; s < p->n_scalars; s++)
			check_counter(&p->scalars[s], &v);
	free(descr);
	free(oid);
	return 0;
}
