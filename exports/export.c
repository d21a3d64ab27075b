/* Writing an export so that it appears whole or not at all (see export.h): every file is written
 * under a hidden temporary name in the destination's own folder (so the rename stays on one file
 * system), flushed with fsync, and renamed into place; a CSV folder is built as a hidden temporary
 * folder and renamed as a whole. Any failure removes what was made. */
#include "exports/export.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "exports/csv.h"
#include "exports/html.h"
#include "model/clock.h"
#include "model/config.h"

/* A buffer large enough that writing costs few system calls. */
#define STREAM_BUFFER (256 * 1024)
/* The [alerts] supply_low default, for a caller without a configuration. */
#define DEFAULT_LOW_PERCENT 10

static const char *const format_names[] = { [EXPORT_HTML] = "html", [EXPORT_CSV] = "csv" };
static const char *const table_names[EXPORT_TABLE_COUNT] = {
	[EXPORT_TABLE_DEVICES] = "devices",
	[EXPORT_TABLE_METERS] = "meters",
	[EXPORT_TABLE_SUPPLIES] = "supplies",
	[EXPORT_TABLE_ALERTS] = "alerts",
	[EXPORT_TABLE_SYNCS] = "syncs",
};

void export_options_init(struct export_options *o)
{
	memset(o, 0, sizeof *o);
	o->format = EXPORT_HTML;
	o->devices = STORE_DEVICES_INCLUDED;
	o->table = EXPORT_TABLE_DEVICES;
	o->force_hint = "use --force";
}

const char *export_format_name(enum export_format f)
{
	return (unsigned)f < sizeof format_names / sizeof format_names[0] ? format_names[f] : "?";
}

int export_format_parse(const char *name, enum export_format *out)
{
	for (size_t i = 0; i < sizeof format_names / sizeof format_names[0]; i++) {
		if (strcmp(name, format_names[i]) == 0) {
			*out = (enum export_format)i;
			return 0;
		}
	}
	return -1;
}

const char *export_table_name(enum export_table t)
{
	return (unsigned)t < EXPORT_TABLE_COUNT ? table_names[t] : "?";
}

int export_table_parse(const char *name, enum export_table *out)
{
	for (size_t i = 0; i < EXPORT_TABLE_COUNT; i++) {
		if (strcmp(name, table_names[i]) == 0) {
			*out = (enum export_table)i;
			return 0;
		}
	}
	return -1;
}

/* ---- what goes into one stream ---- */

struct job {
	struct store *s;
	const struct config *cfg;
	struct export_options o; /* with `now` filled in */
	int low_percent;
};

/* Writes the HTML report, or CSV table t, to f. */
static int write_content(const struct job *j, FILE *f, enum export_table t, struct fc_error *err)
{
	if (j->o.format == EXPORT_HTML)
		return html_write_report(f, j->s, j->cfg, &j->o, err);
	return csv_write_table(f, j->s, t, &j->o, j->low_percent, err);
}

/* Flushes f to the disk and closes it (always). Returns 0, or -1 with err naming path. */
static int finish_file(FILE *f, const char *path, struct fc_error *err)
{
	int rc = 0, saved = 0;
	if (fflush(f) != 0 || ferror(f)) {
		saved = errno ? errno : EIO;
		rc = -1;
	} else if (fsync(fileno(f)) != 0) {
		saved = errno;
		rc = -1;
	}
	if (fclose(f) != 0 && rc == 0) {
		saved = errno;
		rc = -1;
	}
	if (rc < 0)
		return fc_error_set(err, "cannot write %s: %s", path, strerror(saved));
	return 0;
}

/* The process's umask, read without changing it (umask() would race with other threads). */
static mode_t current_umask(void)
{
	mode_t mask = 022;
	FILE *f = fopen("/proc/self/status", "re");
	if (!f)
		return mask;
	char line[256];
	while (fgets(line, sizeof line, f)) {
		unsigned m;
		if (sscanf(line, "Umask: %o", &m) == 1) {
			mask = (mode_t)(m & 0777);
			break;
		}
	}
	fclose(f);
	return mask;
}

static int fsync_dir(const char *dir, struct fc_error *err)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return fc_error_set(err, "cannot open folder %s: %s", dir, strerror(errno));
	int rc = fsync(fd);
	int saved = errno;
	close(fd);
	if (rc != 0)
		return fc_error_set(err, "cannot flush folder %s to disk: %s", dir, strerror(saved));
	return 0;
}

/* Splits path into its folder (dir, "." when none) and last component (base). */
static int split_path(const char *path, char *dir, size_t dlen, char *base, size_t blen,
		      struct fc_error *err)
{
	size_t len = strlen(path);
	while (len > 1 && path[len - 1] == '/')
		len--; /* "out/" names the folder "out" */
	const char *slash = NULL;
	for (size_t i = 0; i < len; i++)
		if (path[i] == '/')
			slash = path + i;
	int n1, n2;
	if (!slash) {
		n1 = snprintf(dir, dlen, ".");
		n2 = snprintf(base, blen, "%.*s", (int)len, path);
	} else {
		size_t dl = slash == path ? 1 : (size_t)(slash - path);
		n1 = snprintf(dir, dlen, "%.*s", (int)dl, path);
		n2 = snprintf(base, blen, "%.*s", (int)(len - (size_t)(slash + 1 - path)), slash + 1);
	}
	if (n1 < 0 || (size_t)n1 >= dlen || n2 < 0 || (size_t)n2 >= blen)
		return fc_error_set(err, "path is too long: %s", path);
	if (!*base || strcmp(base, ".") == 0 || strcmp(base, "..") == 0 || strcmp(base, "/") == 0)
		return fc_error_set(err, "%s names no file or folder to write", path);
	return 0;
}

/* "PATH exists; use --force to replace it", in the caller's words. Returns -1. */
static int exists_error(struct fc_error *err, const char *path, const struct export_options *o)
{
	return fc_error_set(err, "%s exists; %s to replace it", path, o->force_hint ? o->force_hint : "use --force");
}

/* The destination's folder must exist (-1); the destination must not, unless force, and must be
 * of the kind asked for (EXPORT_REFUSED). */
static int check_destination(const char *path, const char *dir, bool want_dir, const struct export_options *o,
			     struct fc_error *err)
{
	struct stat st;
	if (stat(dir, &st) != 0)
		return fc_error_set(err, "cannot write %s: folder %s %s", path, dir,
				    errno == ENOENT ? "does not exist" : strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return fc_error_set(err, "cannot write %s: %s is not a folder", path, dir);
	if (stat(path, &st) != 0) {
		if (errno == ENOENT)
			return 0;
		return fc_error_set(err, "cannot write %s: %s", path, strerror(errno));
	}
	if (!o->force) {
		exists_error(err, path, o);
		return EXPORT_REFUSED;
	}
	if (want_dir && !S_ISDIR(st.st_mode)) {
		fc_error_set(err, "%s exists and is not a folder; a CSV export is a folder", path);
		return EXPORT_REFUSED;
	}
	if (!want_dir && S_ISDIR(st.st_mode)) {
		fc_error_set(err, "%s is a folder; name a file for this export", path);
		return EXPORT_REFUSED;
	}
	return 0;
}

/* ---- one file ---- */

static int write_file(const struct job *j, const char *path, enum export_table t, struct fc_error *err)
{
	char dir[PATH_MAX], base[NAME_MAX + 1], tmp[PATH_MAX];
	if (split_path(path, dir, sizeof dir, base, sizeof base, err) < 0)
		return -1;
	int checked = check_destination(path, dir, false, &j->o, err);
	if (checked < 0)
		return checked;
	int n = snprintf(tmp, sizeof tmp, "%s/.%s.XXXXXX", dir, base);
	if (n < 0 || (size_t)n >= sizeof tmp)
		return fc_error_set(err, "path is too long: %s", path);
	int fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return fc_error_set(err, "cannot create a file in %s: %s", dir, strerror(errno));
	/* mkostemp makes the file private; a report gets the mode any new file would. */
	if (fchmod(fd, 0666 & ~current_umask()) != 0) {
		fc_error_set(err, "cannot set the mode of %s: %s", tmp, strerror(errno));
		close(fd);
		unlink(tmp);
		return -1;
	}
	FILE *f = fdopen(fd, "w");
	if (!f) {
		fc_error_set(err, "cannot write %s: %s", tmp, strerror(errno));
		close(fd);
		unlink(tmp);
		return -1;
	}
	setvbuf(f, NULL, _IOFBF, STREAM_BUFFER);
	if (write_content(j, f, t, err) < 0) {
		fc_error_prefix(err, "%s", path);
		fclose(f);
		unlink(tmp);
		return -1;
	}
	if (finish_file(f, path, err) < 0) {
		unlink(tmp);
		return -1;
	}
	int rc;
	if (j->o.force) {
		rc = rename(tmp, path);
	} else {
		/* Someone may have made the file meanwhile: never replace it. */
		rc = renameat2(AT_FDCWD, tmp, AT_FDCWD, path, RENAME_NOREPLACE);
		if (rc != 0 && (errno == EINVAL || errno == ENOSYS)) {
			rc = link(tmp, path);
			if (rc == 0)
				unlink(tmp);
		}
	}
	if (rc != 0) {
		int saved = errno;
		unlink(tmp);
		if (saved == EEXIST) /* it appeared while the export ran */
			return exists_error(err, path, &j->o);
		return fc_error_set(err, "cannot rename %s to %s: %s", tmp, path, strerror(saved));
	}
	return fsync_dir(dir, err);
}

/* ---- a folder of CSV files ---- */

/* Removes the export files from folder dir (only those), then the folder. */
static void remove_export_folder(const char *dir)
{
	char p[PATH_MAX];
	for (int t = 0; t < EXPORT_TABLE_COUNT; t++) {
		if (snprintf(p, sizeof p, "%s/%s.csv", dir, table_names[t]) < (int)sizeof p)
			unlink(p);
	}
	rmdir(dir);
}

/* True when folder path holds nothing but export files (so --force may replace it). */
static int only_export_files(const char *path, struct fc_error *err)
{
	DIR *d = opendir(path);
	if (!d)
		return fc_error_set(err, "cannot read folder %s: %s", path, strerror(errno));
	struct dirent *e;
	int rc = 0;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		bool ours = false;
		for (int t = 0; t < EXPORT_TABLE_COUNT; t++) {
			char name[32];
			snprintf(name, sizeof name, "%s.csv", table_names[t]);
			if (strcmp(e->d_name, name) == 0)
				ours = true;
		}
		if (!ours) {
			rc = fc_error_set(err, "%s holds other files than a CSV export (%s); choose another "
					  "folder, or move them away", path, e->d_name);
			break;
		}
	}
	closedir(d);
	return rc;
}

static int write_tables(const struct job *j, const char *tmpdir, const char *path, struct fc_error *err)
{
	for (int t = 0; t < EXPORT_TABLE_COUNT; t++) {
		char file[PATH_MAX];
		int n = snprintf(file, sizeof file, "%s/%s.csv", tmpdir, table_names[t]);
		if (n < 0 || (size_t)n >= sizeof file)
			return fc_error_set(err, "path is too long: %s", tmpdir);
		int fd = open(file, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
		if (fd < 0)
			return fc_error_set(err, "cannot create %s: %s", file, strerror(errno));
		FILE *f = fdopen(fd, "w");
		if (!f) {
			close(fd);
			return fc_error_set(err, "cannot write %s: %s", file, strerror(errno));
		}
		setvbuf(f, NULL, _IOFBF, STREAM_BUFFER);
		char shown[PATH_MAX + 16];
		snprintf(shown, sizeof shown, "%s/%s.csv", path, table_names[t]);
		if (write_content(j, f, (enum export_table)t, err) < 0) {
			fc_error_prefix(err, "%s", shown);
			fclose(f);
			return -1;
		}
		if (finish_file(f, shown, err) < 0)
			return -1;
	}
	return fsync_dir(tmpdir, err);
}

/* Puts the finished folder tmpdir in place of path (which may exist when force). */
static int swap_folder(const char *tmpdir, const char *path, const char *dir, const char *base,
		       bool exists, const struct export_options *o, struct fc_error *err)
{
	if (!exists) {
		if (renameat2(AT_FDCWD, tmpdir, AT_FDCWD, path, RENAME_NOREPLACE) == 0)
			return 0;
		if (errno != EINVAL && errno != ENOSYS) {
			if (errno == EEXIST || errno == ENOTEMPTY)
				return exists_error(err, path, o); /* it appeared while the export ran */
			return fc_error_set(err, "cannot rename %s to %s: %s", tmpdir, path, strerror(errno));
		}
		if (rename(tmpdir, path) == 0)
			return 0;
		return fc_error_set(err, "cannot rename %s to %s: %s", tmpdir, path, strerror(errno));
	}
	/* Replace: swap the two folders in one step, then remove the old one (now at tmpdir). */
	if (renameat2(AT_FDCWD, tmpdir, AT_FDCWD, path, RENAME_EXCHANGE) == 0) {
		remove_export_folder(tmpdir);
		return 0;
	}
	if (errno != EINVAL && errno != ENOSYS)
		return fc_error_set(err, "cannot replace %s: %s", path, strerror(errno));
	/* No exchange on this file system: move the old one aside first. */
	char old[PATH_MAX];
	int n = snprintf(old, sizeof old, "%s/.%s.old-XXXXXX", dir, base);
	if (n < 0 || (size_t)n >= sizeof old || !mkdtemp(old))
		return fc_error_set(err, "cannot replace %s: no room for a temporary name", path);
	rmdir(old);
	if (rename(path, old) != 0)
		return fc_error_set(err, "cannot move %s aside: %s", path, strerror(errno));
	if (rename(tmpdir, path) != 0) {
		int saved = errno;
		rename(old, path); /* put the old export back */
		return fc_error_set(err, "cannot rename %s to %s: %s", tmpdir, path, strerror(saved));
	}
	remove_export_folder(old);
	return 0;
}

static int write_folder(const struct job *j, const char *path, struct fc_error *err)
{
	char dir[PATH_MAX], base[NAME_MAX + 1], tmpdir[PATH_MAX];
	if (split_path(path, dir, sizeof dir, base, sizeof base, err) < 0)
		return -1;
	int checked = check_destination(path, dir, true, &j->o, err);
	if (checked < 0)
		return checked;
	struct stat st;
	bool exists = stat(path, &st) == 0;
	if (exists && only_export_files(path, err) < 0)
		return -1;
	int n = snprintf(tmpdir, sizeof tmpdir, "%s/.%s.XXXXXX", dir, base);
	if (n < 0 || (size_t)n >= sizeof tmpdir)
		return fc_error_set(err, "path is too long: %s", path);
	if (!mkdtemp(tmpdir))
		return fc_error_set(err, "cannot create a folder in %s: %s", dir, strerror(errno));
	if (write_tables(j, tmpdir, path, err) < 0 ||
	    chmod(tmpdir, 0777 & ~current_umask()) != 0 ||
	    swap_folder(tmpdir, path, dir, base, exists, &j->o, err) < 0) {
		if (!err || !err->msg[0])
			fc_error_set(err, "cannot set the mode of %s: %s", tmpdir, strerror(errno));
		remove_export_folder(tmpdir);
		return -1;
	}
	return fsync_dir(dir, err);
}

/* ---- standard output ---- */

static int write_stream(const struct job *j, FILE *f, struct fc_error *err)
{
	errno = 0;
	if (write_content(j, f, j->o.table, err) < 0)
		return -1;
	if (fflush(f) != 0 || ferror(f))
		return fc_error_set(err, "cannot write to standard output: %s", strerror(errno ? errno : EIO));
	return 0;
}

int export_write(struct store *s, const struct config *cfg, const struct export_options *o,
		 struct fc_error *err)
{
	if (!o->output || !*o->output)
		return fc_error_set(err, "no output given");
	if (o->format == EXPORT_HTML && o->one_table)
		return fc_error_set(err, "an HTML report has no tables to choose from (--table is for CSV)");
	if ((unsigned)o->table >= EXPORT_TABLE_COUNT)
		return fc_error_set(err, "no such CSV table");
	struct job j = {
		.s = s,
		.cfg = cfg,
		.o = *o,
		.low_percent = cfg ? cfg->alerts.supply_low : DEFAULT_LOW_PERCENT,
	};
	if (!j.o.now)
		j.o.now = clock_now();
	if (err)
		err->msg[0] = '\0';
	/* one state of the database for the whole report, however long it takes */
	int reading = store_read_begin(s, err);
	if (reading < 0)
		return -1;
	int rc;
	if (strcmp(o->output, "-") == 0)
		rc = write_stream(&j, o->stream ? o->stream : stdout, err);
	else if (o->format == EXPORT_CSV && !o->one_table)
		rc = write_folder(&j, o->output, err);
	else
		rc = write_file(&j, o->output, o->table, err);
	store_read_end(s, reading);
	return rc;
}
