/* Shared by the libFuzzer targets in tests/fuzz/: a reader that cuts the fuzzer's bytes into
 * numbers and strings, and FUZZ_CHECK, which aborts (so libFuzzer keeps the input as a crash) when
 * a property that must hold for every input does not, UTF-8 and RFC 4180 CSV readers to check
 * outputs with. Header-only: each target is one file. */
#ifndef FLEETCON_TESTS_FUZZ_H
#define FLEETCON_TESTS_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(cond, ...)                                                                   \
	do {                                                                                    \
		if (!(cond)) {                                                                  \
			fprintf(stderr, "%s:%d: property failed: %s: ", __FILE__, __LINE__, #cond); \
			fprintf(stderr, __VA_ARGS__);                                           \
			fputc('\n', stderr);                                                    \
			abort();                                                                \
		}                                                                               \
	} while (0)

/* Out of memory is not a finding: the property checks cannot run without the result. */
#define FUZZ_OOM(p)                                                                             \
	do {                                                                                    \
		if (!(p)) {                                                                     \
			fprintf(stderr, "%s:%d: out of memory\n", __FILE__, __LINE__);          \
			abort();                                                                \
		}                                                                               \
	} while (0)

struct fuzz_in {
	const uint8_t *p;
	size_t n;
};

static inline uint8_t fuzz_u8(struct fuzz_in *in)
{
	if (!in->n)
		return 0;
	in->n--;
	return *in->p++;
}

static inline uint32_t fuzz_u32(struct fuzz_in *in)
{
	uint32_t v = 0;
	for (int i = 0; i < 4; i++)
		v = v << 8 | fuzz_u8(in);
	return v;
}

static inline int64_t fuzz_i64(struct fuzz_in *in)
{
	uint64_t v = (uint64_t)fuzz_u32(in) << 32 | fuzz_u32(in);
	int64_t s;
	memcpy(&s, &v, sizeof s);
	return s;
}

/* A small or special int most of the time (the boundaries matter), any int otherwise. */
static inline int fuzz_int(struct fuzz_in *in)
{
	uint8_t sel = fuzz_u8(in);
	if (sel < 200)
		return (int)sel - 100;
	uint32_t v = fuzz_u32(in);
	int s;
	memcpy(&s, &v, sizeof s);
	return s;
}

/* The next run of bytes up to a 0xFF separator (or the end), borrowed from the input. */
static inline const uint8_t *fuzz_bytes(struct fuzz_in *in, size_t *len)
{
	const uint8_t *start = in->p;
	const uint8_t *sep = in->n ? memchr(in->p, 0xFF, in->n) : NULL;
	size_t k = sep ? (size_t)(sep - in->p) : in->n;
	in->p += k + (sep ? 1 : 0);
	in->n -= k + (sep ? 1 : 0);
	*len = k;
	return start;
}

/* The same run as a new NUL-terminated string (NULs inside it end it early); caller frees. */
static inline char *fuzz_str(struct fuzz_in *in)
{
	size_t len;
	const uint8_t *b = fuzz_bytes(in, &len);
	char *s = malloc(len + 1);
	FUZZ_OOM(s);
	memcpy(s, b, len);
	s[len] = '\0';
	return s;
}

/* The whole input as a NUL-terminated string; caller frees. */
static inline char *fuzz_cstr(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	FUZZ_OOM(s);
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/* Strict UTF-8 (no overlongs, surrogates or code points above U+10FFFF). Calls cb (may be NULL)
 * with each code point. */
static inline bool fuzz_utf8_valid(const unsigned char *s, size_t len, void (*cb)(uint32_t, void *),
				   void *ctx)
{
	size_t i = 0;
	while (i < len) {
		unsigned char c = s[i];
		uint32_t cp;
		size_t k;
		if (c < 0x80) {
			cp = c;
			k = 1;
		} else if (c >= 0xC2 && c <= 0xDF) {
			cp = c & 0x1F;
			k = 2;
		} else if (c >= 0xE0 && c <= 0xEF) {
			cp = c & 0x0F;
			k = 3;
		} else if (c >= 0xF0 && c <= 0xF4) {
			cp = c & 0x07;
			k = 4;
		} else {
			return false;
		}
		if (i + k > len)
			return false;
		for (size_t j = 1; j < k; j++) {
			if ((s[i + j] & 0xC0) != 0x80)
				return false;
			cp = cp << 6 | (s[i + j] & 0x3F);
		}
		if ((k == 3 && cp < 0x800) || (k == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
		    (cp >= 0xD800 && cp <= 0xDFFF))
			return false;
		if (cb)
			cb(cp, ctx);
		i += k;
	}
	return true;
}

/* Reads one RFC 4180 record from *p into cells (new strings); returns how many, or -1 when the
 * text is not well-formed CSV. */
static inline int fuzz_csv_record(const char **p, char **cells, int max)
{
	const char *s = *p;
	int n = 0;
	for (;;) {
		if (n == max)
			return -1;
		char *cell = malloc(strlen(s) + 1);
		FUZZ_OOM(cell);
		size_t w = 0;
		if (*s == '"') {
			s++;
			for (;;) {
				if (!*s) {
					free(cell);
					return -1; /* unterminated quote */
				}
				if (*s == '"') {
					if (s[1] == '"') {
						cell[w++] = '"';
						s += 2;
						continue;
					}
					s++;
					break;
				}
				cell[w++] = *s++;
			}
		} else {
			while (*s && *s != ',' && *s != '\r' && *s != '\n') {
				if (*s == '"') {
					free(cell);
					return -1; /* a quote inside an unquoted field */
				}
				cell[w++] = *s++;
			}
		}
		cell[w] = '\0';
		cells[n++] = cell;
		if (*s == ',') {
			s++;
			continue;
		}
		if (s[0] == '\r' && s[1] == '\n') {
			*p = s + 2;
			return n;
		}
		return -1;
	}
}

#endif
