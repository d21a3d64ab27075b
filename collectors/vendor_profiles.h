/* Vendors as data: who made a device (from sysObjectID's enterprise number and sysDescr, OEM brands
 * included), and each maker's profile: where its black / colour counters, model, serial number and
 * firmware live in its private MIB. Adding a vendor or a counter is a table row in
 * vendor_profiles.c, never code. Values come from PRINTER-DATA.md and the recordings; vendor OIDs
 * vary by model, so every counter is verified against prtMarkerLifeCount by the poll. */
#ifndef FLEETCON_COLLECTORS_VENDOR_PROFILES_H
#define FLEETCON_COLLECTORS_VENDOR_PROFILES_H

#include <stdbool.h>
#include <stddef.h>

/* How a counter value is read from its varbind. */
enum counter_decoding {
	COUNTER_NUMBER,      /* any integer type, or a number in text */
	COUNTER_TEXT_NUMBER, /* the number a text starts with ("1920 INCHES, ...") */
	COUNTER_HP_FLOAT,    /* IEEE-754 float in an OCTET STRING */
	COUNTER_BROTHER_BLOB /* Brother's blob of [code, 0x01, len, value] records: see codes */
};

/* A code in a counter table (or a record code of a blob) and the meter it feeds. Several codes may
 * feed one meter: their values are summed (Canon's large + small, Ricoh's copy + print). */
struct counter_code {
	long code;
	const char *meter;
};

/* A counter read with GET. oids[] are summed (all must answer); rules naming the same meter are
 * alternatives, the first that answers wins. */
#define COUNTER_MAX_OIDS 4
struct counter_scalar {
	const char *meter;       /* "total", "black", "color", "duplex", "scan", ... */
	int unit;                /* prtMarkerCounterUnit meaning (7 impressions), 0 when not a count of
				    impressions or unknown */
	enum counter_decoding decoding;
	const char *oids[COUNTER_MAX_OIDS];
	const struct counter_code *codes; /* COUNTER_BROTHER_BLOB: record code -> meter */
	size_t n_codes;
};

/* A counter table read with a walk: each row's value comes from value_column; its code is the
 * value of type_column in the same row, or, with no type_column, the row's last index. */
struct counter_table {
	const char *value_column;
	const char *type_column;  /* NULL: the code is the last sub-identifier of the row */
	int unit;
	const struct counter_code *codes;
	size_t n_codes;
};

/* Where a text field can be cut out of sysDescr: the text after `after` up to `until` (or the end
 * of sysDescr when until is NULL or not found), blanks trimmed. When anchor is set, `after` is
 * looked for only behind the first anchor ("... Rev.00.69 ... Attached to MC873 Rev.07.87": the
 * printer's revision, not the print server's). */
struct descr_rule {
	const char *after;
	const char *until;
	const char *anchor;
};

enum vendor_quirk {
	QUIRK_LEVEL_MINUS100_EMPTY = 1 << 0, /* prtMarkerSuppliesLevel -100 means empty (Ricoh),
						 when the private column has nothing better */
	QUIRK_HEX_TAIL = 1 << 1,             /* strings may end in a hex dump (decode_hex_tail) */
};

struct vendor_profile {
	const char *name;         /* "kyocera": what a profile is known as in logs and tests */
	const struct counter_scalar *scalars;
	size_t n_scalars;
	const struct counter_table *tables;
	size_t n_tables;
	/* Identity in the private MIB, NULL when unknown: exact instance OIDs, read with GET. */
	const char *model_oid;
	const char *serial_oid;
	const char *firmware_oid;
	bool pml_strings;         /* the identity strings are HP PML strings (decode_pml_text) */
	/* A private column of supply levels in percent, indexed like prtMarkerSuppliesIndex, used
	 * when the standard level is a special value (Ricoh sends -3 / -100 there); NULL: none. */
	const char *supply_level_column;
	/* Fallbacks cut out of sysDescr when neither the OIDs above nor the Printer-MIB gave one. */
	struct descr_rule model_rule, serial_rule, firmware_rule;
	unsigned quirks;          /* enum vendor_quirk bits */
};

/* Who made a device. vendor is the maker ("Kyocera" for a UTAX), brand the name on the device when
 * it differs ("UTAX"), NULL otherwise. profile may be NULL (a maker without a profile). All static. */
struct vendor_ident {
	const char *vendor;
	const char *brand;
	const struct vendor_profile *profile;
	unsigned long enterprise; /* from sysObjectID, 0 when there is none */
};

/* Identifies the maker from sysObjectID (numeric, a leading dot allowed; may be NULL) and sysDescr
 * (cleaned text; may be NULL). OEM brands come first (Gestetner, Savin and Lanier are Ricoh; UTAX
 * and TA Triumph-Adler are Kyocera; Develop is Konica Minolta; Fuji Xerox is Fujifilm), then the
 * enterprise number, then the maker's name in sysDescr. Returns 0 with *out filled, or -1 when
 * the maker is unknown (*out then has vendor NULL and the enterprise number, if any). */
int vendor_identify(const char *sys_object_id, const char *sys_descr, struct vendor_ident *out);

/* The profile called name ("xerox"), or NULL. Static. */
const struct vendor_profile *vendor_profile_find(const char *name);

/* The i-th profile (0, 1, ...), or NULL past the last: for tests and documentation. Static. */
const struct vendor_profile *vendor_profile_at(size_t i);

/* Cuts a field out of sysDescr with rule; returns a new string the caller frees, or NULL when the
 * rule does not apply (or out of memory). The result is not cleaned: clean it before use. */
char *vendor_descr_field(const char *sys_descr, const struct descr_rule *rule);

#endif
