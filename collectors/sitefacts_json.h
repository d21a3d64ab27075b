/* Site facts as JSON: the one serializer behind `fleetcon siteinfo --json` and the "site" object of
 * the daily report, so that both speak the same format (documented in docs/report-format.md). */
#ifndef FLEETCON_COLLECTORS_SITEFACTS_JSON_H
#define FLEETCON_COLLECTORS_SITEFACTS_JSON_H

#include <jansson.h>

#include "collectors/sitefacts.h"

/* A new JSON object (caller json_decref()s it), or NULL when out of memory. site_name is the
 * configuration's [site] name. Keys: name, host{hostname, dns_name, addresses[{interface,
 * address, family}], os, os_version, kernel, machine, os_bits, cpu, cpu_count, memory_total,
 * memory_free, disk_path, disk_total, disk_free, timezone, utc_offset}, agent{version, revision,
 * bits, database_bytes}, devices{discovered, included, excluded} (null counts when unknown),
 * collected_at. Sizes in bytes; times ISO 8601 UTC. */
json_t *sitefacts_json(const struct site_facts *f, const char *site_name);

#endif
