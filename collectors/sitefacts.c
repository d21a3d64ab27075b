/* Site facts from the local system (see sitefacts.h). Each fact is read on its own; one that
 * cannot be read stays empty rather than failing the others. Strings go through text_clean(). */
#include "collectors/sitefacts.h"

#include <errno.h>
#include <ifaddrs.h>
#include <limits.h>
#include <net/if.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "model/clock.h"
#include "model/text.h"
#include "model/version.h"

/* Copies the cleaned form of src into dst, cut on a UTF-8 character boundary. */
static void copy_clean(char *dst, size_t size, const char *src)
{
	dst[0] = '\0';
	char *c = text_clean(src ? src : "");
	if (!c)
		return;
	size_t n = text_cut(c, size - 1);
	memcpy(dst, c, n);
	dst[n] = '\0';
	free(c);
}

/* Value of "KEY=value" / KEY="value" in an os-release file, unquoted, into out. */
static bool os_release_value(FILE *f, const char *key, char *out, size_t size)
{
	char line[512];
	size_t klen = strlen(key);
	rewind(f);
	while (fgets(line, sizeof line, f)) {
		if (strncmp(line, key, klen) != 0 || line[klen] != '=')
			continue;
		char *v = line + klen + 1;
		v[strcspn(v, "\r\n")] = '\0';
		size_t len = strlen(v);
		if (len >= 2 && (v[0] == '"' || v[0] == '\'') && v[len - 1] == v[0]) {
			v[len - 1] = '\0';
			v++;
		}
		copy_clean(out, size, v);
		return out[0] != '\0';
	}
	return false;
}

static void read_os(struct site_facts *f)
{
	struct utsname u;
	if (uname(&u) == 0) {
		char k[sizeof u.sysname + sizeof u.release + 2];
		snprintf(k, sizeof k, "%s %s", u.sysname, u.release);
		copy_clean(f->kernel, sizeof f->kernel, k);
		copy_clean(f->machine, sizeof f->machine, u.machine);
	}
	FILE *os = fopen("/etc/os-release", "r");
	if (!os)
		os = fopen("/usr/lib/os-release", "r");
	if (os) {
		if (!os_release_value(os, "PRETTY_NAME", f->os_name, sizeof f->os_name))
			os_release_value(os, "NAME", f->os_name, sizeof f->os_name);
		if (!os_release_value(os, "VERSION_ID", f->os_version, sizeof f->os_version))
			os_release_value(os, "VERSION", f->os_version, sizeof f->os_version);
		fclose(os);
	}
	if (!f->os_name[0])
		copy_clean(f->os_name, sizeof f->os_name, f->kernel);

	/* Machine names of 64-bit kernels; anything else that is known is 32-bit. */
	static const char *const bits64[] = {"x86_64", "aarch64", "arm64", "ppc64", "ppc64le",
					     "s390x", "riscv64", "mips64", "loongarch64", "sparc64"};
	static const char *const bits32[] = {"i386", "i486", "i586", "i686", "armv6l", "armv7l",
					     "armv8l", "mips", "ppc", "riscv32", "s390"};
	for (size_t i = 0; i < sizeof bits64 / sizeof bits64[0]; i++)
		if (strcmp(f->machine, bits64[i]) == 0)
			f->os_bits = 64;
	for (size_t i = 0; i < sizeof bits32 / sizeof bits32[0]; i++)
		if (strcmp(f->machine, bits32[i]) == 0)
			f->os_bits = 32;
	f->agent_bits = (int)(sizeof(void *) * CHAR_BIT);
}

static void read_cpu(struct site_facts *f)
{
	/* x86 says "model name"; ARM kernels say "Hardware", "Model" or "Processor"; s390 and
	 * POWER say "cpu". The first found in this order wins. */
	static const char *const keys[] = {"model name", "Model", "Hardware", "Processor", "cpu"};
	char found[sizeof keys / sizeof keys[0]][128];
	memset(found, 0, sizeof found);
	FILE *c = fopen("/proc/cpuinfo", "r");
	if (c) {
		char line[512];
		while (fgets(line, sizeof line, c)) {
			char *colon = strchr(line, ':');
			if (!colon)
				continue;
			size_t klen = (size_t)(colon - line);
			while (klen > 0 && (line[klen - 1] == ' ' || line[klen - 1] == '\t'))
				klen--;
			for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
				if (found[k][0] || strlen(keys[k]) != klen || strncmp(line, keys[k], klen))
					continue;
				char *v = colon + 1;
				v[strcspn(v, "\n")] = '\0';
				copy_clean(found[k], sizeof found[k], v);
			}
		}
		fclose(c);
	}
	for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
		if (found[k][0]) {
			copy_clean(f->cpu_model, sizeof f->cpu_model, found[k]);
			break;
		}
	}
	if (!f->cpu_model[0])
		copy_clean(f->cpu_model, sizeof f->cpu_model, f->machine);
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	f->cpu_count = n > 0 ? (int)n : 0;
}

static void read_memory(struct site_facts *f)
{
	FILE *m = fopen("/proc/meminfo", "r");
	if (m) {
		char line[256];
		unsigned long long kb;
		while (fgets(line, sizeof line, m)) {
			if (sscanf(line, "MemTotal: %llu kB", &kb) == 1)
				f->mem_total = kb * 1024;
			else if (sscanf(line, "MemAvailable: %llu kB", &kb) == 1)
				f->mem_free = kb * 1024;
		}
		fclose(m);
	}
	if (!f->mem_total) {
		long pages = sysconf(_SC_PHYS_PAGES), avail = sysconf(_SC_AVPHYS_PAGES);
		long psize = sysconf(_SC_PAGESIZE);
		if (pages > 0 && psize > 0) {
			f->mem_total = (uint64_t)pages * (uint64_t)psize;
			f->mem_free = avail > 0 ? (uint64_t)avail * (uint64_t)psize : 0;
		}
	}
}

static void read_names(struct site_facts *f)
{
	char host[256];
	if (gethostname(host, sizeof host) != 0)
		return;
	host[sizeof host - 1] = '\0';
	copy_clean(f->hostname, sizeof f->hostname, host);
	struct addrinfo hints, *res = NULL;
	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_flags = AI_CANONNAME;
	if (getaddrinfo(host, NULL, &hints, &res) == 0 && res && res->ai_canonname)
		copy_clean(f->dns_name, sizeof f->dns_name, res->ai_canonname);
	if (res)
		freeaddrinfo(res);
	if (!f->dns_name[0])
		copy_clean(f->dns_name, sizeof f->dns_name, f->hostname);
}

static void read_addrs(struct site_facts *f)
{
	struct ifaddrs *list = NULL;
	if (getifaddrs(&list) != 0)
		return;
	for (struct ifaddrs *i = list; i && f->naddrs < SITEFACTS_MAX_ADDRS; i = i->ifa_next) {
		if (!i->ifa_addr || (i->ifa_flags & IFF_LOOPBACK) || !(i->ifa_flags & IFF_UP))
			continue;
		int fam = i->ifa_addr->sa_family;
		if (fam != AF_INET && fam != AF_INET6)
			continue;
		socklen_t len = fam == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
		char buf[NI_MAXHOST];
		if (getnameinfo(i->ifa_addr, len, buf, sizeof buf, NULL, 0, NI_NUMERICHOST) != 0)
			continue;
		struct site_addr *a = &f->addrs[f->naddrs++];
		a->family = fam;
		copy_clean(a->addr, sizeof a->addr, buf);
		copy_clean(a->ifname, sizeof a->ifname, i->ifa_name);
	}
	freeifaddrs(list);
}

static void read_timezone(struct site_facts *f)
{
	const char *tz = getenv("TZ");
	if (tz && *tz) {
		copy_clean(f->timezone, sizeof f->timezone, tz[0] == ':' ? tz + 1 : tz);
	} else {
		FILE *t = fopen("/etc/timezone", "r");
		char line[128];
		if (t) {
			if (fgets(line, sizeof line, t)) {
				line[strcspn(line, "\r\n")] = '\0';
				copy_clean(f->timezone, sizeof f->timezone, line);
			}
			fclose(t);
		}
		if (!f->timezone[0]) {
			char target[PATH_MAX];
			ssize_t n = readlink("/etc/localtime", target, sizeof target - 1);
			if (n > 0) {
				target[n] = '\0';
				const char *z = strstr(target, "zoneinfo/");
				copy_clean(f->timezone, sizeof f->timezone, z ? z + strlen("zoneinfo/") : target);
			}
		}
	}
	time_t now = time(NULL);
	struct tm tm;
	if (localtime_r(&now, &tm)) {
		long off = tm.tm_gmtoff / 60;
		f->utc_offset_min = (int)off;
		long a = off < 0 ? -off : off;
		snprintf(f->utc_offset, sizeof f->utc_offset, "%c%02ld:%02ld", off < 0 ? '-' : '+',
			 (a / 60) % 100, a % 60);
		if (tm.tm_zone)
			copy_clean(f->tz_abbrev, sizeof f->tz_abbrev, tm.tm_zone);
	}
	if (!f->timezone[0])
		copy_clean(f->timezone, sizeof f->timezone, f->tz_abbrev);
}

static int read_disk(const char *db_path, struct site_facts *f, struct fc_error *err)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(db_path, '/');
	if (!slash) {
		snprintf(dir, sizeof dir, ".");
	} else if (slash == db_path) {
		snprintf(dir, sizeof dir, "/");
	} else {
		if ((size_t)(slash - db_path) >= sizeof dir)
			return fc_error_set(err, "database path too long");
		memcpy(dir, db_path, (size_t)(slash - db_path));
		dir[slash - db_path] = '\0';
	}
	copy_clean(f->disk_path, sizeof f->disk_path, dir);

	struct stat st;
	if (stat(db_path, &st) == 0) {
		f->db_exists = true;
		f->db_bytes = (uint64_t)st.st_size;
		char wal[PATH_MAX];
		if ((size_t)snprintf(wal, sizeof wal, "%s-wal", db_path) < sizeof wal &&
		    stat(wal, &st) == 0)
			f->db_bytes += (uint64_t)st.st_size;
	}

	struct statvfs vfs;
	if (statvfs(dir, &vfs) != 0)
		return fc_error_set(err, "cannot measure the database folder %s: %s", dir,
				    strerror(errno));
	f->disk_total = (uint64_t)vfs.f_blocks * vfs.f_frsize;
	f->disk_free = (uint64_t)vfs.f_bavail * vfs.f_frsize;
	return 0;
}

void sitefacts_clear(struct site_facts *f)
{
	memset(f, 0, sizeof *f);
	f->devices_discovered = f->devices_included = f->devices_excluded = -1;
}

int sitefacts_collect(const char *db_path, struct site_facts *out, struct fc_error *err)
{
	sitefacts_clear(out);
	out->collected_at = clock_now();
	copy_clean(out->version, sizeof out->version, fleetcon_version());
	copy_clean(out->revision, sizeof out->revision, fleetcon_revision());
	read_os(out);
	read_cpu(out);
	read_memory(out);
	read_names(out);
	read_addrs(out);
	read_timezone(out);
	if (db_path && *db_path)
		return read_disk(db_path, out, err);
	return 0;
}
