/* Temporary folders for unit tests: made under $TMPDIR, removed with everything in them. */
#ifndef FLEETCON_TESTS_TMPDIR_H
#define FLEETCON_TESTS_TMPDIR_H

/* Makes a new empty folder and returns its path (a new string, freed by test_tmpdir_remove). */
char *test_tmpdir_new(void);

/* Removes the folder and its contents, frees the path and NULLs *dir. */
void test_tmpdir_remove(char **dir);

/* Writes text to dir/name with the given mode; returns the full path (caller frees). */
char *test_write_file(const char *dir, const char *name, const char *text, int mode);

#endif
