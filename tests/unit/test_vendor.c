/* Unit tests for collectors/vendor_profiles: the maker (and OEM brand) of every recording of a real
 * printer, from its own sysObjectID and sysDescr (table-driven over the shared recordings, skipped
 * with a message when FLEETCON_SHARED_FIXTURES is not set, and over the project's own recordings);
 * fields cut out of sysDescr; the profile tables themselves (every OID numeric, every rule usable). */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "collectors/decode.h"
#include "collectors/vendor_profiles.h"
#include "model/text.h"

struct expect {
	const char *file;    /* base name of the recording */
	const char *vendor;  /* NULL: not identified */
	const char *brand;
	const char *profile;
};

/* The shared LibreNMS recordings (../shared/fixtures/printers). */
static const struct expect shared[] = {
	{ "brother", "Brother", NULL, "brother" },
	{ "canonprinter_ir-adv", "Canon", NULL, "canon" },
	{ "canonprinter_lbp", "Canon", NULL, "canon" },
	{ "dell-laser_mfp", "Dell", NULL, "dell" },
	{ "dell-laser_s5830dn", "Dell", NULL, "dell" },
	{ "developprinter", "Konica Minolta", "Develop", "konica-minolta" },
	{ "epson", "Epson", NULL, "epson" },
	{ "fujifilmprinter_c7580", "Fujifilm", NULL, "fujifilm" },
	{ "fujifilmprinter_c810", "Fujifilm", NULL, "fujifilm" },
	{ "gestetner", "Ricoh", "Gestetner", "ricoh" },
	{ "jetdirect", "HP", NULL, "hp" },
	{ "jetdirect_m130nw", "HP", NULL, "hp" },
	{ "jetdirect_m880", "HP", NULL, "hp" },
	{ "konica_2", "Konica Minolta", NULL, "konica-minolta" },
	{ "konica_c250i", "Konica Minolta", NULL, "konica-minolta" },
	{ "lexmarkprinter", "Lexmark", NULL, "lexmark" },
	{ "okilan_9450g", "OKI", NULL, "oki" },
	{ "ricoh", "Ricoh", NULL, "ricoh" },
	{ "samsungprinter_m4080fx", "Samsung", NULL, "samsung" },
	{ "savin_c4503", "Ricoh", "Savin", "ricoh" },
	{ "sharp", "Sharp", NULL, "sharp" },
	{ "toshiba-tec_estudio305", "Toshiba", NULL, "toshiba" }, /* on Lexmark's enterprise */
	{ "tsc", "TSC", NULL, NULL },
	{ "utax", "Kyocera", "UTAX", "kyocera" },
	{ "xerox_apeosport", "Fujifilm", "Fuji Xerox", "fujifilm" },
	{ "xerox_color", "Xerox", NULL, "xerox" },
	{ "xerox_workcentre", "Xerox", NULL, "xerox" },
	{ "zebra", "Zebra", NULL, "zebra" }, /* a ZebraNet print server's enterprise (683) */
};

/* fleetcon's own recordings (tests/fixtures/printers). */
static const struct expect own[] = {
	{ "aruba_2540_switch", "HP", NULL, "hp" }, /* HP's enterprise, and not a printer */
	{ "brother_hl2350dw_mono", "Brother", NULL, "brother" },
	{ "brother_hl8360_levels", "Brother", NULL, "brother" },
	{ "canon_iradv_c5535", "Canon", NULL, "canon" },
	{ "hostile_strings", NULL, NULL, NULL },
	{ "hp_clj_m479fdw", "HP", NULL, "hp" },
	{ "konica_c300i_wastefull", "Konica Minolta", NULL, "konica-minolta" },
	{ "kyocera_p3150dn", "Kyocera", NULL, "kyocera" },
	{ "lexmark_cx725_v3", "Lexmark", NULL, "lexmark" },
	{ "ricoh_imc3000", "Ricoh", NULL, "ricoh" },
	{ "xerox_altalink_c8045", "Xerox", NULL, "xerox" },
};

/* Reads sysObjectID and sysDescr (cleaned, as the poll sees it) from a .snmprec file. */
static int read_identity(const char *path, char **oid, char **descr)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	*oid = *descr = NULL;
	char *line = NULL;
	size_t cap = 0;
	while (getline(&line, &cap, f) > 0) {
		line[strcspn(line, "\r\n")] = '\0';
		char *type = strchr(line, '|');
		if (!type)
			continue;
		*type++ = '\0';
		char *value = strchr(type, '|');
		if (!value)
			continue;
		*value++ = '\0';
		if (strcmp(line, "1.3.6.1.2.1.1.2.0") == 0) {
			*oid = strdup(value);
		} else if (strcmp(line, "1.3.6.1.2.1.1.1.0") == 0) {
			size_t n = strlen(value);
			unsigned char *bytes = malloc(n + 1);
			assert_non_null(bytes);
			size_t len = n;
			if (strcmp(type, "4x") == 0) {
				len = n / 2;
				for (size_t i = 0; i < len; i++) {
					unsigned v;
					assert_int_equal(sscanf(value + 2 * i, "%2x", &v), 1);
					bytes[i] = (unsigned char)v;
				}
			} else {
				memcpy(bytes, value, n);
			}
			*descr = text_from_device(bytes, len);
			free(bytes);
		}
	}
	free(line);
	fclose(f);
	return 0;
}

static bool same(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static void check_folder(const char *dir, const struct expect *table, size_t n)
{
	size_t checked = 0;
	for (size_t i = 0; i < n; i++) {
		char path[1024];
		snprintf(path, sizeof path, "%s/%s.snmprec", dir, table[i].file);
		char *oid, *descr;
		if (read_identity(path, &oid, &descr) < 0)
			fail_msg("cannot read %s", path);
		struct vendor_ident id;
		int rc = vendor_identify(oid, descr, &id);
		if (!same(id.vendor, table[i].vendor) || !same(id.brand, table[i].brand) ||
		    !same(id.profile ? id.profile->name : NULL, table[i].profile))
			fail_msg("%s (%s, \"%s\"): got %s / %s / %s, want %s / %s / %s", table[i].file,
				 oid, descr, id.vendor, id.brand, id.profile ? id.profile->name : NULL,
				 table[i].vendor, table[i].brand, table[i].profile);
		assert_int_equal(rc, table[i].vendor ? 0 : -1);
		free(oid);
		free(descr);
		checked++;
	}
	/* Recordings added later that the table does not know yet still identify without harm. */
	DIR *d = opendir(dir);
	assert_non_null(d);
	struct dirent *de;
	while ((de = readdir(d))) {
		size_t l = strlen(de->d_name);
		if (l < 9 || strcmp(de->d_name + l - 8, ".snmprec") != 0)
			continue;
		bool known = false;
		for (size_t i = 0; i < n && !known; i++)
			known = strlen(table[i].file) == l - 8 &&
				strncmp(de->d_name, table[i].file, l - 8) == 0;
		if (known)
			continue;
		char path[1024], *oid, *descr;
		snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
		assert_int_equal(read_identity(path, &oid, &descr), 0);
		struct vendor_ident id;
		vendor_identify(oid, descr, &id);
		print_message("note: %s is not in this test's table: identified as %s\n", de->d_name,
			      id.vendor ? id.vendor : "(unknown)");
		free(oid);
		free(descr);
	}
	closedir(d);
	print_message("%zu recordings in %s identified as expected\n", checked, dir);
}

static void test_shared_recordings(void **state)
{
	(void)state;
	const char *dir = getenv("FLEETCON_SHARED_FIXTURES");
	if (!dir || !*dir) {
		print_message("skip: FLEETCON_SHARED_FIXTURES is not set (the shared recordings)\n");
		skip();
	}
	check_folder(dir, shared, sizeof shared / sizeof shared[0]);
}

static void test_own_recordings(void **state)
{
	(void)state;
	check_folder("tests/fixtures/printers", own, sizeof own / sizeof own[0]);
}

static void test_identify_edges(void **state)
{
	(void)state;
	struct vendor_ident id;
	/* No sysObjectID: the maker's name in sysDescr. */
	assert_int_equal(vendor_identify(NULL, "Brother NC-8300h, Firmware Ver.1.14", &id), 0);
	assert_string_equal(id.vendor, "Brother");
	assert_int_equal(id.enterprise, 0);
	/* A word inside another word does not count. */
	assert_int_equal(vendor_identify(NULL, "SHPX Printing System", &id), -1);
	assert_int_equal(vendor_identify("1.3.6.1.4.1.99999.1", "Printer", &id), -1);
	assert_int_equal(id.enterprise, 99999);
	/* OEM brands win over the maker's name, but only under the maker's enterprise. */
	assert_int_equal(vendor_identify("1.3.6.1.4.1.1347.41", "TA Triumph-Adler P-C3560DN", &id), 0);
	assert_string_equal(id.vendor, "Kyocera");
	assert_string_equal(id.brand, "TA Triumph-Adler");
	assert_int_equal(vendor_identify("1.3.6.1.4.1.367.1.1", "LANIER MP 305+", &id), 0);
	assert_string_equal(id.brand, "Lanier");
	/* Garbage in sysObjectID is not an enterprise. */
	assert_int_equal(vendor_identify("not.an.oid", NULL, &id), -1);
	assert_int_equal(vendor_identify("1.3.6.1.2.1.1", NULL, &id), -1);
	assert_int_equal(vendor_identify(NULL, NULL, &id), -1);
}

static void check_field(const char *descr, const struct descr_rule *rule, const char *want)
{
	char *got = vendor_descr_field(descr, rule);
	if (!want) {
		assert_null(got);
		return;
	}
	assert_non_null(got);
	assert_string_equal(got, want);
	free(got);
}

static void test_descr_rules(void **state)
{
	(void)state;
	const struct vendor_profile *oki = vendor_profile_find("oki");
	assert_non_null(oki);
	const char *d = "OKI OkiLAN 9450g Rev.00.69 10/100/1000BASE Ethernet PrintServer: Attached to "
			"MC873 Rev.07.87 : Copyright (c) 2015 Oki Data Corporation.";
	check_field(d, &oki->model_rule, "MC873");
	/* The printer's revision, not the print server's. */
	check_field(d, &oki->firmware_rule, "07.87");
	const struct vendor_profile *hp = vendor_profile_find("hp");
	check_field("HP ETHERNET MULTI-ENVIRONMENT,SN:VNCRC48198,FN:4Q817L4", &hp->serial_rule,
		    "VNCRC48198");
	check_field("HP ETHERNET MULTI-ENVIRONMENT,ROM none,JETDIRECT", &hp->serial_rule, NULL);
	const struct vendor_profile *lex = vendor_profile_find("lexmark");
	check_field("Lexmark T640 version NS.NP.N219 kernel 2.6.6 All-N-1", &lex->firmware_rule,
		    "NS.NP.N219");
	check_field("SN: ", &hp->serial_rule, NULL);
	check_field(NULL, &hp->serial_rule, NULL);
}

static void assert_numeric_oid(const char *what, const char *oid)
{
	unsigned long o[128];
	if (decode_oid_parse(oid, o, 128) < 7)
		fail_msg("%s: '%s' is not a numeric OID under the MIB tree", what, oid);
}

static void test_profile_tables(void **state)
{
	(void)state;
	size_t n = 0;
	for (const struct vendor_profile *p; (p = vendor_profile_at(n)); n++) {
		assert_non_null(p->name);
		assert_ptr_equal(vendor_profile_find(p->name), p);
		const char *ids[] = { p->model_oid, p->serial_oid, p->firmware_oid,
				      p->supply_level_column };
		for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++)
			if (ids[i])
				assert_numeric_oid(p->name, ids[i]);
		for (size_t i = 0; i < p->n_scalars; i++) {
			const struct counter_scalar *c = &p->scalars[i];
			assert_non_null(c->oids[0]);
			for (size_t k = 0; k < COUNTER_MAX_OIDS && c->oids[k]; k++)
				assert_numeric_oid(p->name, c->oids[k]);
			if (c->decoding == COUNTER_BROTHER_BLOB) {
				assert_true(c->n_codes > 0);
				for (size_t k = 0; k < c->n_codes; k++)
					assert_non_null(c->codes[k].meter);
			} else {
				assert_non_null(c->meter);
				assert_true(*c->meter);
			}
		}
		for (size_t t = 0; t < p->n_tables; t++) {
			assert_numeric_oid(p->name, p->tables[t].value_column);
			if (p->tables[t].type_column)
				assert_numeric_oid(p->name, p->tables[t].type_column);
			assert_true(p->tables[t].n_codes > 0);
		}
	}
	/* The makers the issue names all have a profile with counters. */
	static const char *const makers[] = { "xerox", "hp", "ricoh", "kyocera", "canon",
					      "konica-minolta", "lexmark", "brother", "epson",
					      "sharp" };
	for (size_t i = 0; i < sizeof makers / sizeof makers[0]; i++) {
		const struct vendor_profile *p = vendor_profile_find(makers[i]);
		assert_non_null(p);
		assert_true(p->n_scalars + p->n_tables > 0);
	}
	assert_null(vendor_profile_find("nobody"));
	assert_null(vendor_profile_find(NULL));
	assert_true(n >= 10);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shared_recordings),
		cmocka_unit_test(test_own_recordings),
		cmocka_unit_test(test_identify_edges),
		cmocka_unit_test(test_descr_rules),
		cmocka_unit_test(test_profile_tables),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
