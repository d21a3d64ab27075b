/* Unit tests for collectors/decode: hrPrinterDetectedErrorState bit by bit (one, two, zero and too
 * many octets; never read as text), counters of every integer type and in text, Brother's counter
 * blob, HP floats, PML strings and hex tails, numeric OIDs, the printable raw view; and the supply
 * level rules the decoded values feed (special values -1/-2/-3, receptacles). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "collectors/decode.h"
#include "model/device.h"

static struct snmp_value octets(const void *bytes, size_t len)
{
	struct snmp_value v = { .type = SNMPV_OCTETS, .bytes = bytes, .len = len };
	return v;
}

static struct snmp_value number(int type, int64_t n)
{
	struct snmp_value v = { .type = type, .integer = n };
	return v;
}

static uint32_t bits_of(const char *bytes, size_t len)
{
	struct snmp_value v = octets(bytes, len);
	uint32_t bits = 0xdeadbeef;
	assert_int_equal(decode_error_bits(&v, &bits), 0);
	return bits;
}

static void test_error_bits_one_octet(void **state)
{
	(void)state;
	/* 0x20 is lowToner (bit 2), and a Kyocera sends it as a one-octet string that reads as a
	 * space: it must never be taken for text (and so never cleaned away). */
	assert_int_equal(bits_of("\x20", 1), 1u << PRINTER_ERR_LOW_TONER);
	assert_int_equal(bits_of("\x80", 1), 1u << PRINTER_ERR_LOW_PAPER);
	assert_int_equal(bits_of("\x01", 1), 1u << PRINTER_ERR_SERVICE_REQUESTED);
	assert_int_equal(bits_of("\x00", 1), 0);
	assert_int_equal(bits_of("\x48", 1),
			 1u << PRINTER_ERR_NO_PAPER | 1u << PRINTER_ERR_DOOR_OPEN);
}

static void test_error_bits_two_octets(void **state)
{
	(void)state;
	/* Values seen in the recordings: 8000 lowPaper, 2000 lowToner, 0100 serviceRequested. */
	assert_int_equal(bits_of("\x80\x00", 2), 1u << PRINTER_ERR_LOW_PAPER);
	assert_int_equal(bits_of("\x20\x00", 2), 1u << PRINTER_ERR_LOW_TONER);
	assert_int_equal(bits_of("\x01\x00", 2), 1u << PRINTER_ERR_SERVICE_REQUESTED);
	assert_int_equal(bits_of("\x00\x80", 2), 1u << PRINTER_ERR_INPUT_TRAY_MISSING);
	assert_int_equal(bits_of("\x00\x10", 2), 1u << PRINTER_ERR_OUTPUT_NEAR_FULL);
	assert_int_equal(bits_of("\x00\x02", 2), 1u << PRINTER_ERR_OVERDUE_PREVENT_MAINT);
	assert_int_equal(bits_of("\x00\x00", 2), 0);
}

static void test_error_bits_empty_and_long(void **state)
{
	(void)state;
	/* Epson sends an empty string: known, no error. */
	assert_int_equal(bits_of("", 0), 0);
	/* Octets past the second carry no defined bit and are ignored. */
	assert_int_equal(bits_of("\xff\xff\xff\xff\xff\xff\xff\xff", 8), 0xffffu);
	/* Not an OCTET STRING: refused, not guessed. */
	struct snmp_value v = number(SNMPV_INTEGER, 32);
	uint32_t bits;
	assert_int_equal(decode_error_bits(&v, &bits), -1);
}

static int64_t int_of(struct snmp_value v)
{
	int64_t n = -12345;
	assert_int_equal(decode_int(&v, &n), 0);
	return n;
}

static void test_int_every_type(void **state)
{
	(void)state;
	assert_int_equal(int_of(number(SNMPV_INTEGER, -3)), -3);
	assert_int_equal(int_of(number(SNMPV_COUNTER32, 4294967295)), 4294967295);
	assert_int_equal(int_of(number(SNMPV_GAUGE32, 100)), 100);
	assert_int_equal(int_of(number(SNMPV_TIMETICKS, 396378010)), 396378010);
	assert_int_equal(int_of(number(SNMPV_COUNTER64, INT64_MAX)), INT64_MAX);
	assert_int_equal(int_of(octets("1920 INCHES, 4876 CENTIMETERS", 29)), 1920);
	assert_int_equal(int_of(octets("  -42", 5)), -42);
	int64_t n;
	struct snmp_value v = octets("INCHES 1920", 11);
	assert_int_equal(decode_int(&v, &n), -1);
	v = octets("99999999999999999999999", 23);
	assert_int_equal(decode_int(&v, &n), -1);
	v = number(SNMPV_NO_SUCH_INSTANCE, 0);
	assert_int_equal(decode_int(&v, &n), -1);
	assert_true(decode_is_missing(&v));
	v = number(SNMPV_OID, 0);
	assert_int_equal(decode_int(&v, &n), -1);
	assert_false(decode_is_missing(&v));
}

static void test_counter_integer_vs_counter32(void **state)
{
	(void)state;
	int64_t n;
	/* Counter32 and INTEGER (Konica Minolta, some HP firmware) mean the same count. */
	struct snmp_value c = number(SNMPV_COUNTER32, 121104), i = number(SNMPV_INTEGER, 121104);
	assert_int_equal(decode_counter(&c, &n), 0);
	assert_int_equal(n, 121104);
	assert_int_equal(decode_counter(&i, &n), 0);
	assert_int_equal(n, 121104);
	/* A count past 2^31 sent as a signed INTEGER comes back as the unsigned number. */
	i = number(SNMPV_INTEGER, -2);
	assert_int_equal(decode_counter(&i, &n), 0);
	assert_int_equal(n, 4294967294);
	/* A negative count in text is not a count. */
	struct snmp_value t = octets("-5", 2);
	assert_int_equal(decode_counter(&t, &n), -1);
	t = octets("1920 INCHES", 11);
	assert_int_equal(decode_counter(&t, &n), 0);
	assert_int_equal(n, 1920);
	struct snmp_value big = number(SNMPV_COUNTER64, 5000000000);
	assert_int_equal(decode_counter(&big, &n), 0);
	assert_int_equal(n, 5000000000);
}

static void test_brother_blob(void **state)
{
	(void)state;
	/* 00 total 12409, 01 black 7716, 02 colour 4693, 06 duplex 2210, then 0xFF padding. */
	static const unsigned char blob[] = {
		0x00, 0x01, 0x04, 0x00, 0x00, 0x30, 0x79, 0x01, 0x01, 0x04, 0x00, 0x00, 0x1E, 0x24,
		0x02, 0x01, 0x04, 0x00, 0x00, 0x12, 0x55, 0x06, 0x01, 0x04, 0x00, 0x00, 0x08, 0xA2,
		0xFF, 0xFF, 0xFF, 0xFF,
	};
	struct brother_counter c[8];
	assert_int_equal(decode_brother_counters(blob, sizeof blob, c, 8), 4);
	assert_int_equal(c[0].code, 0x00);
	assert_int_equal(c[0].value, 12409);
	assert_int_equal(c[1].code, 0x01);
	assert_int_equal(c[1].value, 7716);
	assert_int_equal(c[2].code, 0x02);
	assert_int_equal(c[2].value, 4693);
	assert_int_equal(c[3].code, 0x06);
	assert_int_equal(c[3].value, 2210);
	/* Bounded by max. */
	assert_int_equal(decode_brother_counters(blob, sizeof blob, c, 2), 2);
	/* A record cut short: what came before is kept. */
	assert_int_equal(decode_brother_counters(blob, 10, c, 8), 1);
	/* Not a blob at all. */
	static const unsigned char junk[] = { 0x00, 0x02, 0x04, 1, 2, 3, 4 };
	assert_int_equal(decode_brother_counters(junk, sizeof junk, c, 8), -1);
	assert_int_equal(decode_brother_counters(blob, 0, c, 8), -1);
	static const unsigned char zero_len[] = { 0x00, 0x01, 0x00 };
	assert_int_equal(decode_brother_counters(zero_len, 3, c, 8), -1);
}

static void test_hp_float(void **state)
{
	(void)state;
	double d;
	static const unsigned char f32[] = { 0x46, 0x41, 0xC8, 0x00 }; /* 12402.0f */
	assert_int_equal(decode_hp_float(f32, 4, &d), 0);
	assert_true(fabs(d - 12402.0) < 1e-9);
	static const unsigned char f64[] = { 0x40, 0xF8, 0x6A, 0x00, 0, 0, 0, 0 }; /* 100000.0 */
	assert_int_equal(decode_hp_float(f64, 8, &d), 0);
	assert_true(fabs(d - 100000.0) < 1e-9);
	static const unsigned char nan32[] = { 0x7F, 0xC0, 0x00, 0x00 };
	assert_int_equal(decode_hp_float(nan32, 4, &d), -1);
	static const unsigned char inf32[] = { 0x7F, 0x80, 0x00, 0x00 };
	assert_int_equal(decode_hp_float(inf32, 4, &d), -1);
	assert_int_equal(decode_hp_float(f32, 3, &d), -1);
}

static void test_pml_text(void **state)
{
	(void)state;
	const unsigned char *s;
	size_t n;
	static const unsigned char fw[] = "\x01\x15" "20201023";
	decode_pml_text(fw, sizeof fw - 1, &s, &n);
	assert_int_equal(n, 8);
	assert_memory_equal(s, "20201023", 8);
	static const unsigned char dump[] = "\x01\x15" "VNCRC48198\n32 30";
	decode_pml_text(dump, sizeof dump - 1, &s, &n);
	assert_int_equal(n, 10);
	assert_memory_equal(s, "VNCRC48198", 10);
	static const unsigned char plain[] = "HP LaserJet";
	decode_pml_text(plain, sizeof plain - 1, &s, &n);
	assert_int_equal(n, 11);
}

static void test_hex_tail(void **state)
{
	(void)state;
	/* jetdirect_m880: 16 bytes of text, a line break, the rest as hex pairs. */
	static const char in[] =
		"Magenta Cartridg\n65 20 38 32 37 41 20 48 50 20 43 46 33 30 33 41 \n00 ";
	unsigned char out[sizeof in];
	int n = decode_hex_tail((const unsigned char *)in, sizeof in - 1, out);
	assert_int_equal(n, 33);
	assert_memory_equal(out, "Magenta Cartridge 827A HP CF303A\0", 33);
	/* Text on two lines is not a hex tail. */
	static const char two[] = "Line one\nline two";
	assert_int_equal(decode_hex_tail((const unsigned char *)two, sizeof two - 1, out), -1);
	static const char odd[] = "Toner\n4 20";
	assert_int_equal(decode_hex_tail((const unsigned char *)odd, sizeof odd - 1, out), -1);
	static const char none[] = "Toner\n";
	assert_int_equal(decode_hex_tail((const unsigned char *)none, sizeof none - 1, out), -1);
	static const char first[] = "\n41 42";
	assert_int_equal(decode_hex_tail((const unsigned char *)first, sizeof first - 1, out), -1);
}

static void test_oids(void **state)
{
	(void)state;
	unsigned long o[16];
	assert_int_equal(decode_oid_parse("1.3.6.1.2.1.43.10.2.1.4.1.1", o, 16), 13);
	assert_int_equal(o[6], 43);
	assert_int_equal(decode_oid_parse(".1.3.6.1.4.1.4294967295", o, 16), 7);
	assert_int_equal(o[6], 4294967295ul);
	assert_int_equal(decode_oid_parse("1.3.6.1.4.1.4294967296", o, 16), -1);
	assert_int_equal(decode_oid_parse("", o, 16), -1);
	assert_int_equal(decode_oid_parse("1..3", o, 16), -1);
	assert_int_equal(decode_oid_parse("1.3.", o, 16), -1);
	assert_int_equal(decode_oid_parse("1.3.a", o, 16), -1);
	assert_int_equal(decode_oid_parse("1.3.6", o, 2), -1);
	/* sub-identifiers are 32 bits: the largest passes, one more does not */
	assert_int_equal(decode_oid_parse(".1.4294967295", o, 16), 2);
	assert_int_equal(o[1], 4294967295ul);
	assert_int_equal(decode_oid_parse("1.4294967296", o, 16), -1);
	assert_int_equal(decode_oid_parse("1.99999999999999999999999", o, 16), -1);
	assert_int_equal(decode_oid_parse("1.-3", o, 16), -1);
	assert_int_equal(decode_oid_parse("1. 3", o, 16), -1);
	char buf[64];
	unsigned long x[] = { 1, 3, 6, 1, 2, 1, 1, 2, 0 };
	assert_string_equal(decode_oid_format(x, 9, buf, sizeof buf), "1.3.6.1.2.1.1.2.0");
	char small[8];
	decode_oid_format(x, 9, small, sizeof small);
	assert_string_equal(small, "1.3....");
	unsigned long big[] = { 0, 4294967295ul, 10 };
	assert_string_equal(decode_oid_format(big, 3, buf, sizeof buf), "0.4294967295.10");
	char exact[6]; /* "1.3.6" and its NUL fit exactly; one more arc does not */
	assert_string_equal(decode_oid_format(x, 3, exact, sizeof exact), "1.3.6");
	decode_oid_format(x, 4, exact, sizeof exact);
	assert_string_equal(exact, "1....");
	unsigned long prefix[] = { 1, 3, 6, 1, 2, 1 };
	assert_true(decode_oid_under(x, 9, prefix, 6));
	assert_false(decode_oid_under(prefix, 6, x, 9));
}

static void check_printable(struct snmp_value v, const char *want)
{
	char *s = decode_printable(&v);
	assert_non_null(s);
	assert_string_equal(s, want);
	free(s);
}

static void test_printable(void **state)
{
	(void)state;
	check_printable(number(SNMPV_INTEGER, -3), "-3");
	check_printable(number(SNMPV_COUNTER32, 15232), "15232");
	check_printable(number(SNMPV_NO_SUCH_OBJECT, 0), "noSuchObject");
	unsigned long oid[] = { 1, 3, 6, 1, 4, 1, 1347, 41 };
	struct snmp_value o = { .type = SNMPV_OID, .objid = oid, .objid_len = 8 };
	check_printable(o, "1.3.6.1.4.1.1347.41");
	struct snmp_value ip = { .type = SNMPV_IPADDRESS, .bytes = (const unsigned char *)"\x7f\0\0\x01", .len = 4 };
	check_printable(ip, "127.0.0.1");
	/* Text is cleaned: no escape sequence reaches a terminal. */
	check_printable(octets("\x1b[2JToner\x07", 10), "Toner");
	/* Binary data is shown as hex, not as the letters hidden in it. */
	static const unsigned char blob[] = { 0x00, 0x01, 0x04, 0x00, 0x00, 0x22, 0x62 };
	check_printable(octets(blob, sizeof blob), "0x00010400002262");
	/* A MAC address is binary too. */
	check_printable(octets("\x00\x17\xc8\x94\x5f\x14", 6), "0x0017C8945F14");
	assert_string_equal(decode_type_name(SNMPV_COUNTER64), "Counter64");
	assert_string_equal(decode_type_name(0x99), "unknown");
}

static struct supply supply(int klass, int max, int level)
{
	struct supply s = { .index = 1, .type = 3, .klass = klass, .unit = 19, .max = max, .level = level };
	return s;
}

static void test_supply_levels(void **state)
{
	(void)state;
	struct supply s = supply(SUPPLY_CLASS_CONSUMED, 100, SUPPLY_VALUE_SOME_REMAINING);
	assert_int_equal(supply_state_of(&s, 10), SUPPLY_SOME_REMAINING);
	assert_int_equal(supply_percent(&s), -1);
	s = supply(SUPPLY_CLASS_CONSUMED, 100, SUPPLY_VALUE_UNKNOWN);
	assert_int_equal(supply_state_of(&s, 10), SUPPLY_UNKNOWN);
	assert_int_equal(supply_percent(&s), -1);
	s = supply(SUPPLY_CLASS_CONSUMED, -1, SUPPLY_VALUE_OTHER);
	assert_int_equal(supply_state_of(&s, 10), SUPPLY_NO_RESTRICTION);
	/* A known level with an unknown capacity: a state, no percentage. */
	s = supply(SUPPLY_CLASS_CONSUMED, SUPPLY_VALUE_UNKNOWN, 30);
	assert_int_equal(supply_percent(&s), -1);
	assert_int_equal(supply_state_of(&s, 10), SUPPLY_OK);
	s = supply(SUPPLY_CLASS_CONSUMED, 45000, 22050);
	assert_int_equal(supply_percent(&s), 49);
	s = supply(SUPPLY_CLASS_CONSUMED, 100000, 0);
	assert_int_equal(supply_state_of(&s, 10), SUPPLY_EMPTY);
	s = supply(SUPPLY_CLASS_CONSUMED, 100, 8);
	assert_int_equal(supply_state_of(&s, 10), SUPPLY_LOW);
}

static void test_receptacle(void **state)
{
	(void)state;
	/* A waste toner box: the level is the room left. 4 of 100 left is nearly full. */
	struct supply s = supply(SUPPLY_CLASS_RECEPTACLE, 100, 4);
	assert_int_equal(supply_state_of(&s, 10), SUPPLY_LOW);
	s = supply(SUPPLY_CLASS_RECEPTACLE, 100, 0);
	assert_int_equal(supply_state_of(&s, 10), SUPPLY_FULL);
	s = supply(SUPPLY_CLASS_RECEPTACLE, 100, 72);
	assert_int_equal(supply_state_of(&s, 10), SUPPLY_OK);
	s = supply(SUPPLY_CLASS_RECEPTACLE, SUPPLY_VALUE_UNKNOWN, SUPPLY_VALUE_SOME_REMAINING);
	assert_int_equal(supply_state_of(&s, 10), SUPPLY_SOME_REMAINING);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_error_bits_one_octet),
		cmocka_unit_test(test_error_bits_two_octets),
		cmocka_unit_test(test_error_bits_empty_and_long),
		cmocka_unit_test(test_int_every_type),
		cmocka_unit_test(test_counter_integer_vs_counter32),
		cmocka_unit_test(test_brother_blob),
		cmocka_unit_test(test_hp_float),
		cmocka_unit_test(test_pml_text),
		cmocka_unit_test(test_hex_tail),
		cmocka_unit_test(test_oids),
		cmocka_unit_test(test_printable),
		cmocka_unit_test(test_supply_levels),
		cmocka_unit_test(test_receptacle),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
