/* Fuzzes the sanitizer for device strings (model/text.h). For every input the cleaned text is
 * bounded, strict UTF-8, holds no control character (C0, DEL, C1: not even tab or line breaks,
 * which become spaces) and none of the invisible or direction-changing characters
 * docs/untrusted-input.md lists, has no leading or trailing space, and is a fixed point of the
 * cleaner. text_hex and text_mac keep their exact shapes. */
#include "tests/fuzz/fuzz.h"

#include "model/text.h"

/* The invisible and bidi code points the cleaner removes (docs/untrusted-input.md). */
static bool is_invisible(uint32_t cp)
{
	static const uint32_t ranges[][2] = {
		{ 0x061C, 0x061C }, { 0x180E, 0x180E }, { 0x200B, 0x200F }, { 0x202A, 0x202E },
		{ 0x2060, 0x2064 }, { 0x2066, 0x2069 }, { 0x206A, 0x206F }, { 0xFEFF, 0xFEFF },
		{ 0xFFF9, 0xFFFB }, { 0xE0000, 0xE007F }, { 0x2028, 0x2029 },
	};
	for (size_t i = 0; i < sizeof ranges / sizeof ranges[0]; i++)
		if (cp >= ranges[i][0] && cp <= ranges[i][1])
			return true;
	return false;
}

static void check_cp(uint32_t cp, void *ctx)
{
	const char *s = ctx;
	FUZZ_CHECK(cp >= 0x20 && cp != 0x7F && !(cp >= 0x80 && cp <= 0x9F), "control U+%04X in \"%s\"",
		   (unsigned)cp, s);
	FUZZ_CHECK(!is_invisible(cp), "invisible U+%04X in \"%s\"", (unsigned)cp, s);
}

static void check_clean(const char *out)
{
	size_t n = strlen(out);
	FUZZ_CHECK(n <= TEXT_MAX - 1, "%zu bytes", n);
	FUZZ_CHECK(fuzz_utf8_valid((const unsigned char *)out, n, check_cp, (void *)out),
		   "not UTF-8: \"%s\"", out);
	FUZZ_CHECK(n == 0 || (out[0] != ' ' && out[n - 1] != ' '), "untrimmed \"%s\"", out);
	FUZZ_CHECK(text_is_clean(out), "text_is_clean false for its own output \"%s\"", out);
	char *again = text_clean(out);
	FUZZ_OOM(again);
	FUZZ_CHECK(strcmp(again, out) == 0, "not idempotent: \"%s\" -> \"%s\"", out, again);
	free(again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *out = text_from_device(data, size);
	FUZZ_OOM(out);
	check_clean(out);
	size_t end = size;
	while (end > 0 && data[end - 1] == 0)
		end--;
	FUZZ_CHECK(end > 0 || out[0] == '\0', "NUL padding alone gave \"%s\"", out);
	free(out);

	char *s = fuzz_cstr(data, size);
	out = text_clean(s);
	FUZZ_OOM(out);
	check_clean(out);
	free(out);
	free(s);

	char *hex = text_hex(data, size);
	FUZZ_OOM(hex);
	FUZZ_CHECK(strlen(hex) == (size ? 3 * size - 1 : 0), "hex of %zu bytes is %zu long", size,
		   strlen(hex));
	for (size_t i = 0; i < size; i++) {
		char want[3];
		snprintf(want, sizeof want, "%02X", data[i]);
		FUZZ_CHECK(memcmp(hex + 3 * i, want, 2) == 0 && (i + 1 == size || hex[3 * i + 2] == ' '),
			   "hex byte %zu", i);
	}
	free(hex);

	char mac[TEXT_MAC_LEN];
	int rc = text_mac(data, size, mac);
	FUZZ_CHECK(size == 6 ? rc == 0 && strlen(mac) == 17 : rc == -1 && mac[0] == '\0', "text_mac");
	return 0;
}
