/* Fuzzes the HTML text escaper (exports/html.h). Properties for every input: the output is valid
 * UTF-8 with no raw < > " ' (so it is safe in element content and quoted attributes), every & starts
 * one of the five entities the escaper writes, no control character but tab, CR and LF is left,
 * and decoding the entities gives back the input itself whenever the input was valid UTF-8
 * without controls or noncharacters. html_escape and html_write_text agree. */
#include "tests/fuzz/fuzz.h"

#include "exports/html.h"

static const struct {
	const char *entity;
	char c;
} entities[] = { { "&amp;", '&' }, { "&lt;", '<' }, { "&gt;", '>' }, { "&quot;", '"' }, { "&#39;", '\'' } };

static void allowed(uint32_t cp, void *ctx)
{
	FUZZ_CHECK((cp >= 0x20 && cp != 0x7F && !(cp >= 0x80 && cp <= 0x9F)) || cp == '\t' ||
			   cp == '\n' || cp == '\r',
		   "control U+%04X in \"%s\"", (unsigned)cp, (const char *)ctx);
	FUZZ_CHECK(cp == 0xFFFD || !((cp >= 0xFDD0 && cp <= 0xFDEF) || (cp & 0xFFFE) == 0xFFFE),
		   "noncharacter U+%04X", (unsigned)cp);
}

static bool plain_input_cp_ok = true;
static void plain(uint32_t cp, void *ctx)
{
	(void)ctx;
	if ((cp < 0x20 && cp != '\t' && cp != '\n' && cp != '\r') || cp == 0x7F ||
	    (cp >= 0x80 && cp <= 0x9F) || (cp >= 0xFDD0 && cp <= 0xFDEF) || (cp & 0xFFFE) == 0xFFFE)
		plain_input_cp_ok = false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_cstr(data, size);
	char *out = html_escape(s);
	FUZZ_OOM(out);
	size_t n = strlen(out);
	FUZZ_CHECK(fuzz_utf8_valid((const unsigned char *)out, n, allowed, out), "not UTF-8");
	FUZZ_CHECK(strpbrk(out, "<>\"'") == NULL, "raw markup character in \"%s\"", out);

	/* Decode the entities; every & must start one. */
	char *dec = malloc(n + 1);
	FUZZ_OOM(dec);
	size_t w = 0;
	for (size_t i = 0; i < n;) {
		if (out[i] != '&') {
			dec[w++] = out[i++];
			continue;
		}
		size_t k = 0;
		while (k < sizeof entities / sizeof entities[0] &&
		       strncmp(out + i, entities[k].entity, strlen(entities[k].entity)) != 0)
			k++;
		FUZZ_CHECK(k < sizeof entities / sizeof entities[0], "bare & at %zu in \"%s\"", i, out);
		dec[w++] = entities[k].c;
		i += strlen(entities[k].entity);
	}
	dec[w] = '\0';
	plain_input_cp_ok = true;
	size_t slen = strlen(s);
	if (fuzz_utf8_valid((const unsigned char *)s, slen, plain, NULL) && plain_input_cp_ok)
		FUZZ_CHECK(strcmp(dec, s) == 0, "\"%s\" escaped and decoded is \"%s\"", s, dec);
	else
		FUZZ_CHECK(w <= 3 * slen, "decoded output longer than the input could give");

	char *direct = NULL;
	size_t dlen = 0;
	FILE *f = open_memstream(&direct, &dlen);
	FUZZ_OOM(f);
	FUZZ_CHECK(html_write_text(f, s) == 0, "html_write_text failed");
	FUZZ_CHECK(fclose(f) == 0, "memstream");
	FUZZ_CHECK(strcmp(direct, out) == 0, "html_escape and html_write_text differ");
	free(direct);
	free(dec);
	free(out);
	free(s);
	return 0;
}
