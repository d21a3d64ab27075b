/* Decoders for the values printers send over SNMP: the hrPrinterDetectedErrorState bit string,
 * counters of whatever integer type the firmware picked, Brother's counter blob, HP's IEEE-754
 * floats and PML strings, numeric OIDs, and a printable form of any value for the raw view.
 * Pure functions on plain data (no Net-SNMP types), so that they are tested without a network. */
#ifndef FLEETCON_COLLECTORS_DECODE_H
#define FLEETCON_COLLECTORS_DECODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The ASN.1/SNMP type tags of a value as it travels on the wire (the same numbers a .snmprec file
 * writes in decimal: 65 = Counter32). */
enum snmp_value_type {
	SNMPV_INTEGER = 0x02,
	SNMPV_OCTETS = 0x04,
	SNMPV_NULL = 0x05,
	SNMPV_OID = 0x06,
	SNMPV_IPADDRESS = 0x40,
	SNMPV_COUNTER32 = 0x41,
	SNMPV_GAUGE32 = 0x42,
	SNMPV_TIMETICKS = 0x43,
	SNMPV_OPAQUE = 0x44,
	SNMPV_COUNTER64 = 0x46,
	SNMPV_NO_SUCH_OBJECT = 0x80,
	SNMPV_NO_SUCH_INSTANCE = 0x81,
	SNMPV_END_OF_MIB_VIEW = 0x82,
};

/* One value, borrowed from whoever decoded the packet. */
struct snmp_value {
	int type;                    /* enum snmp_value_type */
	int64_t integer;             /* INTEGER (signed); Counter32, Gauge32, TimeTicks (0..2^32-1);
					Counter64 (capped at INT64_MAX) */
	const unsigned char *bytes;  /* OCTET STRING, Opaque, IpAddress */
	size_t len;
	const unsigned long *objid;  /* OBJECT IDENTIFIER */
	size_t objid_len;
};

/* True for noSuchObject, noSuchInstance, endOfMibView and NULL: "there is no value here". */
bool decode_is_missing(const struct snmp_value *v);

/* A short name of the type for the raw view ("INTEGER", "Counter32", "STRING", ...). Static. */
const char *decode_type_name(int type);

/* hrPrinterDetectedErrorState (RFC 2790 BITS): bit 0 is the most significant bit of the first
 * octet. Zero, one or two octets are normal (one octet: the rest is zero); octets after the second
 * are ignored. The value must be an OCTET STRING: it is never read as text (a Kyocera sends 0x20,
 * lowToner, which reads as a space). Sets *bits (bit N as 1u << N) and returns 0; -1 when the
 * value is not an OCTET STRING. */
int decode_error_bits(const struct snmp_value *v, uint32_t *bits);

/* An integer of any integer type (INTEGER, Counter32, Gauge32, TimeTicks, Counter64), or the
 * decimal number an OCTET STRING starts with ("1920 INCHES, 4876 CENTIMETERS" gives 1920; leading
 * blanks and a sign allowed). Returns 0 with *out set, -1 otherwise. */
int decode_int(const struct snmp_value *v, int64_t *out);

/* A counter: like decode_int, but a negative INTEGER is taken as the unsigned 32-bit number the
 * firmware meant (counters past 2^31 sent as a signed INTEGER), and a negative number in text is
 * refused. Returns 0 with *out >= 0, -1 otherwise. */
int decode_counter(const struct snmp_value *v, int64_t *out);

/* One record of Brother's counter blob (1.3.6.1.4.1.2435.2.3.9.4.2.1.5.5.10.0): records of
 * [code][0x01][length][value, big-endian, length bytes]; code 0x00 total, 0x01 black, 0x02 colour,
 * 0x06 duplex. */
struct brother_counter {
	unsigned code;
	int64_t value;
};

/* Parses the blob into out (at most max records). Parsing stops at the first record that does not
 * fit the format (padding, damage) or at max, keeping the records before it. Returns the
 * number of records, or -1 when the blob holds no valid record at all. */
int decode_brother_counters(const unsigned char *bytes, size_t len, struct brother_counter *out,
			    size_t max);

/* An IEEE-754 number sent in an OCTET STRING (HP FutureSmart counters): 4 bytes big-endian single
 * or 8 bytes big-endian double. Returns 0 with *out set; -1 for another length, NaN or infinity. */
int decode_hp_float(const unsigned char *bytes, size_t len, double *out);

/* The text part of an HP PML string: without the 0x01 0x15 type prefix some HP agents put in front
 * of strings, and without the line break and hex dump some append. Sets *start and *n to the part
 * of bytes that is the text (possibly all of it). */
void decode_pml_text(const unsigned char *bytes, size_t len, const unsigned char **start,
		     size_t *n);

/* Some HP agents send a long string as its first line of text followed by a line break and the
 * rest of its bytes as a hex dump ("Black Cartridge \n38 32 37 41 00 "). When bytes have that
 * shape (text, '\n', then only space-separated two-digit hex pairs over one or more lines), writes
 * the re-joined bytes to out (room for len bytes; the result is never longer) and returns their
 * number; returns -1 when the value has another shape (out is then untouched). */
int decode_hex_tail(const unsigned char *bytes, size_t len, unsigned char *out);

/* Parses a numeric OID ("1.3.6.1.2.1.1.1.0", a leading dot allowed) into out (room for max
 * sub-identifiers). Returns the number of sub-identifiers, or -1 for anything else. */
int decode_oid_parse(const char *text, unsigned long *out, size_t max);

/* Writes an OID as "1.3.6.1..." (no leading dot) into buf; returns buf. A buffer too small gets a
 * cut text ending in "...". */
char *decode_oid_format(const unsigned long *oid, size_t n, char *buf, size_t len);

/* Whether oid lies under (or is) prefix. */
bool decode_oid_under(const unsigned long *oid, size_t n, const unsigned long *prefix,
		      size_t prefix_len);

/* The value in printable form for the technician's raw view, as a new string the caller frees
 * (NULL only when out of memory): numbers in decimal, OIDs dotted, IpAddress dotted, strings
 * cleaned by text_from_device (bounded, hex when not UTF-8), binary data (a NUL inside, many
 * control bytes) as "0x..." hex of at most 512 bytes, exceptions by name. */
char *decode_printable(const struct snmp_value *v);

#endif
