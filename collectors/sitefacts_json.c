/* Site facts as JSON (see sitefacts_json.h). The strings in struct site_facts are cleaned already. */
#include "collectors/sitefacts_json.h"

#include <sys/socket.h>

#include "model/clock.h"

static json_t *count_or_null(int n)
{
	return n >= 0 ? json_integer(n) : json_null();
}

json_t *sitefacts_json(const struct site_facts *f, const char *site_name)
{
	json_t *addrs = json_array();
	if (!addrs)
		return NULL;
	for (int i = 0; i < f->naddrs; i++) {
		json_t *a = json_pack("{ssssss}", "interface", f->addrs[i].ifname, "address", f->addrs[i].addr,
				      "family", f->addrs[i].family == AF_INET6 ? "ipv6" : "ipv4");
		if (!a || json_array_append_new(addrs, a) < 0) {
			json_decref(addrs);
			return NULL;
		}
	}
	char when[CLOCK_ISO_LEN];
	/* json_pack's "o" takes the references, and on failure frees them: one check covers all. */
	return json_pack("{ss s{ss ss so ss ss ss ss si ss si sI sI ss sI sI ss ss}"
			 " s{ss ss si sI} s{so so so} ss}",
			 "name", site_name,
			 "host",
			 "hostname", f->hostname, "dns_name", f->dns_name, "addresses", addrs,
			 "os", f->os_name, "os_version", f->os_version, "kernel", f->kernel,
			 "machine", f->machine, "os_bits", f->os_bits, "cpu", f->cpu_model,
			 "cpu_count", f->cpu_count, "memory_total", (json_int_t)f->mem_total,
			 "memory_free", (json_int_t)f->mem_free, "disk_path", f->disk_path,
			 "disk_total", (json_int_t)f->disk_total, "disk_free", (json_int_t)f->disk_free,
			 "timezone", f->timezone, "utc_offset", f->utc_offset,
			 "agent",
			 "version", f->version, "revision", f->revision, "bits", f->agent_bits,
			 "database_bytes", (json_int_t)f->db_bytes,
			 "devices",
			 "discovered", count_or_null(f->devices_discovered),
			 "included", count_or_null(f->devices_included),
			 "excluded", count_or_null(f->devices_excluded),
			 "collected_at", clock_format_utc(f->collected_at, when, sizeof when));
}
