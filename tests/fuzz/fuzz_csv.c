/* Fuzzes the CSV cell encoder (exports/csv.h). The input is cut into cells at 0xFF bytes; the
 * encoded cells joined with commas and a CRLF are read back with the RFC 4180 reader of fuzz.h.
 * Properties: the row reads back as exactly the cells written, each the same text except for the
 * documented leading quote on a cell a spreadsheet could take as a formula, so that no cell read
 * back starts with = + - @ tab or CR. */
#include "tests/fuzz/fuzz.h"

#include "exports/csv.h"

#define MAX_CELLS 32

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	char *cells[MAX_CELLS];
	int n = 0;
	do {
		cells[n++] = fuzz_str(&in);
	} while (in.n > 0 && n < MAX_CELLS);

	char *row = NULL;
	size_t row_len = 0;
	FILE *f = open_memstream(&row, &row_len);
	FUZZ_OOM(f);
	for (int i = 0; i < n; i++) {
		char *enc = csv_encode(cells[i]);
		FUZZ_OOM(enc);
		/* csv_encode and csv_write_text give the same bytes */
		char *direct = NULL;
		size_t dlen = 0;
		FILE *g = open_memstream(&direct, &dlen);
		FUZZ_OOM(g);
		FUZZ_CHECK(csv_write_text(g, cells[i]) == 0, "csv_write_text failed");
		FUZZ_CHECK(fclose(g) == 0, "memstream");
		FUZZ_CHECK(strcmp(enc, direct) == 0, "csv_encode and csv_write_text differ");
		free(direct);
		fprintf(f, "%s%s", i ? "," : "", enc);
		free(enc);
	}
	fputs("\r\n", f);
	FUZZ_CHECK(fclose(f) == 0, "memstream");

	const char *p = row;
	char *back[MAX_CELLS];
	int m = fuzz_csv_record(&p, back, MAX_CELLS);
	FUZZ_CHECK(m == n, "wrote %d cells, read %d back from:\n%s", n, m, row);
	FUZZ_CHECK(*p == '\0', "bytes after the record");
	for (int i = 0; i < n; i++) {
		const char *want = cells[i];
		const char *got = back[i];
		if (csv_needs_neutralising(want)) {
			FUZZ_CHECK(got[0] == '\'', "cell %d \"%s\" not neutralised", i, want);
			got++;
		}
		FUZZ_CHECK(strcmp(want, got) == 0, "cell %d: wrote \"%s\", read \"%s\"", i, want, got);
		FUZZ_CHECK(strchr("=+-@\t\r", back[i][0]) == NULL || back[i][0] == '\0',
			   "cell %d reads back starting with a formula character", i);
		free(back[i]);
		free(cells[i]);
	}
	free(row);
	return 0;
}
