/* Site facts: what the agent's host is (name, addresses, OS, CPU, memory, disk, time zone) and
 * what the agent is (version, database size), for the siteinfo command, the console and every
 * report. Read from the local system only (gethostname, getifaddrs, /etc/os-release, uname,
 * /proc, statvfs); nothing is sent anywhere from here. */
#ifndef FLEETCON_COLLECTORS_SITEFACTS_H
#define FLEETCON_COLLECTORS_SITEFACTS_H

#include <stdbool.h>
#include <stdint.h>

#include "model/error.h"

#define SITEFACTS_MAX_ADDRS 16

struct site_addr {
	char ifname[32]; /* "eth0" */
	char addr[64];   /* "10.1.2.3", "2001:db8::5", "fe80::1%eth0" */
	int family;      /* AF_INET or AF_INET6 */
};

/* Plain data with fixed buffers: copy it freely; sitefacts_clear() empties it. Every string is
 * cleaned with text_clean() (safe to display). A fact that could not be read is "" or 0. */
struct site_facts {
	char hostname[256];   /* gethostname() */
	char dns_name[256];   /* canonical DNS name (getaddrinfo AI_CANONNAME), else hostname */
	struct site_addr addrs[SITEFACTS_MAX_ADDRS]; /* up interfaces, loopback left out */
	int naddrs;
	char os_name[128];    /* /etc/os-release PRETTY_NAME, else "SYSNAME RELEASE" from uname */
	char os_version[64];  /* /etc/os-release VERSION_ID (or VERSION), "" when absent */
	char kernel[128];     /* uname: "Linux 6.1.0-18-amd64" */
	char machine[32];     /* uname: "x86_64" */
	int os_bits;          /* 64 or 32, from the machine name (0 when unknown) */
	int agent_bits;       /* this build of fleetcon: 64 or 32 */
	char cpu_model[128];  /* /proc/cpuinfo "model name" (or the ARM equivalents), else machine */
	int cpu_count;        /* online CPUs */
	uint64_t mem_total;   /* bytes, /proc/meminfo MemTotal */
	uint64_t mem_free;    /* bytes, /proc/meminfo MemAvailable (what programs can still get) */
	char disk_path[256];  /* the folder measured: the database's folder */
	uint64_t disk_total;  /* bytes of that filesystem */
	uint64_t disk_free;   /* bytes available to the agent (f_bavail, not root's reserve) */
	char timezone[64];    /* "Europe/Berlin": TZ, /etc/timezone, or the /etc/localtime link */
	char tz_abbrev[16];   /* "CET" */
	int utc_offset_min;   /* now: +60 for CET */
	char utc_offset[8];   /* "+01:00" */
	bool db_exists;
	uint64_t db_bytes;    /* database file + its -wal (the -shm is an index, left out) */
	char version[32];     /* fleetcon_version() */
	char revision[48];    /* fleetcon_revision() */
	int64_t collected_at; /* clock_now() */
	/* Filled by the caller from the store (sitefacts never opens it); -1 until then. */
	int devices_discovered;
	int devices_included;
	int devices_excluded;
};

/* Fills *out. db_path is the database file (it need not exist yet: its folder is measured);
 * NULL leaves the disk and database facts empty. Returns 0, or -1 with err set when the
 * database's folder cannot be measured (every other fact is still filled). Blocks for as long as
 * the resolver takes to find the host's canonical name. */
int sitefacts_collect(const char *db_path, struct site_facts *out, struct fc_error *err);

/* Empties *f (strings "", numbers 0, device counts -1). */
void sitefacts_clear(struct site_facts *f);

#endif
