/* Strings that come from devices are hostile: this module turns their bytes into text that is safe
 * to show on a terminal and to hand to the CSV/HTML/e-mail writers (which still do their own
 * escaping). The rules are written out in docs/untrusted-input.md. */
#ifndef FLEETCON_MODEL_TEXT_H
#define FLEETCON_MODEL_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Every cleaned string fits in char buf[TEXT_MAX]: strlen() <= TEXT_MAX - 1. */
#define TEXT_MAX 1024

/* Cleans bytes from a device (an SNMP OctetString, say) into a new string; caller frees.
 * Returns NULL only when out of memory.
 * - Trailing NUL bytes are dropped (many agents pad their strings with them).
 * - Valid UTF-8: escape sequences (CSI, OSC, DCS, ... with their 8-bit C1 forms) are removed as a
 *   whole; other C0/C1 controls, DEL and invisible format/bidi characters are removed; tab, CR, LF
 *   and the other line breaks become one space; leading and trailing spaces are trimmed.
 * - Not valid UTF-8 (ISO-8859-1 included, on purpose), or text that cleans to nothing although the
 *   device sent control bytes: the bytes in hex, "0x3C2AF4".
 * - Longer than TEXT_MAX - 1 bytes: cut on a character boundary and ended with "…" (U+2026). */
char *text_from_device(const unsigned char *bytes, size_t len);

/* The same cleaning for a C string; caller frees. NULL only when out of memory (s NULL gives ""). */
char *text_clean(const char *s);

/* True when text_clean(s) would return s unchanged (for assertions). NULL is not clean. */
bool text_is_clean(const char *s);

/* Length of the strictly valid UTF-8 character at b[0..n) with its code point in *cp, or 0 when it
 * is not one (overlong forms, surrogates, values above U+10FFFF, truncated or stray continuation
 * bytes). Stops at the first byte that does not continue the character, so n may run past a NUL
 * terminator. The one UTF-8 decoder of the project. */
size_t text_utf8_next(const unsigned char *b, size_t n, uint32_t *cp);

/* True when b[0..n) is strictly valid UTF-8 (as text_utf8_next). */
bool text_utf8_valid(const unsigned char *b, size_t n);

/* How many bytes of s to keep so that at most max are kept and the cut falls between two
 * characters (UTF-8): strlen(s) when it fits, less otherwise (the caller adds its "…"). */
size_t text_cut(const char *s, size_t max);

/* The raw bytes for the technician's view, uppercase hex pairs separated by one space: "AA BB CC"
 * ("" for no bytes). Not bounded: the caller decides how much it keeps. Caller frees; NULL only
 * when out of memory. */
char *text_hex(const unsigned char *bytes, size_t len);

/* Formats a 6-byte MAC address as "aa:bb:cc:dd:ee:ff" into out. Returns 0, or -1 (out = "") when
 * len is not 6. */
#define TEXT_MAC_LEN 18
int text_mac(const unsigned char *bytes, size_t len, char out[TEXT_MAC_LEN]);

#endif
