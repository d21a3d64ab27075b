/* The daily report (see report.h): the header (schema, agent, time, site) is one small jansson
 * object; the devices are serialized one by one with model/device_json and streamed to a sink,
 * which either collects the text or feeds deflate, so a 20,000-device report never exists as one
 * JSON tree or one uncompressed buffer. */
#include "uplink/report.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include <jansson.h>

#include "model/clock.h"
#include "model/device_json.h"
#include "model/uuid.h"
#include "model/version.h"
#include "collectors/sitefacts.h"
#include "collectors/sitefacts_json.h"

struct report {
	json_t *head;           /* everything but "devices", in key order */
	struct device *devices; /* the included devices, ordered by id */
	size_t n_devices;
	int low_percent;
};

void report_free(struct report **r)
{
	if (!r || !*r)
		return;
	json_decref((*r)->head);
	device_array_free(&(*r)->devices, (*r)->n_devices);
	free(*r);
	*r = NULL;
}

int report_device_count(const struct report *r)
{
	return (int)r->n_devices;
}

static json_t *time_or_null(int64_t t)
{
	if (t <= 0)
		return json_null();
	char buf[CLOCK_ISO_LEN];
	return json_string(clock_format_utc(t, buf, sizeof buf));
}

/* The site: the facts the collectors gather about the host (collectors/sitefacts) and the device
 * counts. The folder the database lives in is left out: it may hold a user's home folder name. */
static json_t *site_json(const struct config *cfg, const struct store_counts *c, struct fc_error *err)
{
	struct site_facts f;
	struct fc_error ferr = { { 0 } };
	/* A folder that cannot be measured leaves the disk facts empty; the rest is still worth sending. */
	(void)sitefacts_collect(cfg->database.path, &f, &ferr);
	f.devices_discovered = (int)c->discovered;
	f.devices_included = (int)c->included;
	f.devices_excluded = (int)c->excluded;
	json_t *site = sitefacts_json(&f, cfg->site.name);
	json_t *host = site ? json_object_get(site, "host") : NULL;
	json_t *devices = site ? json_object_get(site, "devices") : NULL;
	if (!host || !devices || json_object_del(host, "disk_path") < 0 ||
	    json_object_set_new(devices, "with_faults", json_integer(c->with_faults)) < 0 ||
	    json_object_set_new(devices, "with_low_supplies", json_integer(c->with_low_supplies)) < 0 ||
	    json_object_set_new(site, "last_data", time_or_null(c->last_data)) < 0) {
		json_decref(site);
		fc_error_set(err, "out of memory building the report");
		return NULL;
	}
	return site;
}

int report_load(struct store *s, const struct config *cfg, int64_t now, struct report **out,
		struct fc_error *err)
{
	*out = NULL;
	struct report *r = calloc(1, sizeof *r);
	if (!r)
		return fc_error_set(err, "out of memory building the report");
	r->low_percent = cfg->alerts.supply_low;

	char agent_id[UUID_STR_LEN];
	struct store_counts counts;
	if (store_agent_uuid(s, agent_id, err) < 0 || store_counts(s, cfg->alerts.supply_low, &counts, err) < 0)
		goto fail;
	/* One read transaction would be ideal; the store reads each table in its own statement, and a
	 * poll landing in between only makes the counts a moment older than the devices. */
	if (store_devices_list(s, STORE_DEVICES_INCLUDED, STORE_LOAD_ALL, &r->devices, &r->n_devices, err) < 0)
		goto fail;

	json_t *site = site_json(cfg, &counts, err);
	if (!site)
		goto fail;
	r->head = json_pack("{sssis{ssssss}soso}", "schema", REPORT_SCHEMA, "schema_version",
			    REPORT_SCHEMA_VERSION, "agent", "id", agent_id, "version", fleetcon_version(),
			    "revision", fleetcon_revision(), "generated_at", time_or_null(now), "site", site);
	if (!r->head) {
		fc_error_set(err, "out of memory building the report");
		goto fail;
	}
	*out = r;
	return 0;
fail:
	report_free(&r);
	return -1;
}

/* ---- writing ---- */

struct dump_ctx {
	report_sink_fn sink;
	void *ctx;
	size_t written;
	struct fc_error *err;
	bool failed;
};

static int emit(struct dump_ctx *d, const char *bytes, size_t len)
{
	if (d->failed)
		return -1;
	if (len && d->sink(d->ctx, bytes, len, d->err) < 0) {
		d->failed = true;
		return -1;
	}
	d->written += len;
	return 0;
}

static int dump_cb(const char *buffer, size_t size, void *data)
{
	return emit(data, buffer, size);
}

int report_write(const struct report *r, report_sink_fn sink, void *ctx, size_t *json_bytes,
		 struct fc_error *err)
{
	struct dump_ctx d = { sink, ctx, 0, err, false };
	/* The header without its closing brace, then the devices array, then the brace. */
	char *head = json_dumps(r->head, JSON_COMPACT);
	if (!head)
		return fc_error_set(err, "out of memory writing the report");
	size_t hlen = strlen(head);
	int rc = emit(&d, head, hlen - 1);
	free(head);
	if (rc == 0)
		rc = emit(&d, ",\"devices\":[", 12);
	for (size_t i = 0; rc == 0 && i < r->n_devices; i++) {
		json_t *dev = device_json(&r->devices[i], r->low_percent);
		if (!dev)
			return fc_error_set(err, "out of memory writing the report");
		if (i > 0)
			rc = emit(&d, ",", 1);
		if (rc == 0 && json_dump_callback(dev, dump_cb, &d, JSON_COMPACT) < 0) {
			if (!d.failed)
				fc_error_set(err, "cannot serialize device %lld", (long long)r->devices[i].id);
			rc = -1;
		}
		json_decref(dev);
	}
	if (rc == 0)
		rc = emit(&d, "]}", 2);
	if (rc < 0)
		return -1;
	if (json_bytes)
		*json_bytes = d.written;
	return 0;
}

struct membuf {
	char *data;
	size_t len, cap;
};

static int sink_mem(void *ctx, const char *bytes, size_t len, struct fc_error *err)
{
	struct membuf *m = ctx;
	if (m->len + len + 1 > m->cap) {
		size_t ncap = m->cap ? m->cap : 65536;
		while (ncap < m->len + len + 1)
			ncap *= 2;
		char *nd = realloc(m->data, ncap);
		if (!nd)
			return fc_error_set(err, "out of memory writing the report");
		m->data = nd;
		m->cap = ncap;
	}
	memcpy(m->data + m->len, bytes, len);
	m->len += len;
	m->data[m->len] = '\0';
	return 0;
}

int report_json_text(const struct report *r, char **out, size_t *len, struct fc_error *err)
{
	struct membuf m = { 0 };
	*out = NULL;
	*len = 0;
	if (report_write(r, sink_mem, &m, NULL, err) < 0) {
		free(m.data);
		return -1;
	}
	*out = m.data;
	*len = m.len;
	return 0;
}

/* ---- gzip ---- */

struct gz {
	z_stream zs;
	unsigned char *buf;
	size_t cap;
};

static int gz_grow(struct gz *g, struct fc_error *err)
{
	size_t used = g->zs.total_out;
	size_t ncap = g->cap ? g->cap * 2 : 64 * 1024;
	unsigned char *nb = realloc(g->buf, ncap);
	if (!nb)
		return fc_error_set(err, "out of memory compressing the report");
	g->buf = nb;
	g->cap = ncap;
	g->zs.next_out = g->buf + used;
	g->zs.avail_out = (uInt)(ncap - used);
	return 0;
}

/* Runs deflate over the input given (or to the end with Z_FINISH), growing the output as needed. */
static int gz_run(struct gz *g, int flush, struct fc_error *err)
{
	for (;;) {
		if (g->zs.avail_out == 0 && gz_grow(g, err) < 0)
			return -1;
		int zr = deflate(&g->zs, flush);
		if (zr == Z_STREAM_END)
			return 0;
		if (zr != Z_OK && zr != Z_BUF_ERROR)
			return fc_error_set(err, "compressing the report failed (zlib error %d)", zr);
		/* Without flushing, done once all input is taken and no output is left pending. */
		if (flush == Z_NO_FLUSH && g->zs.avail_in == 0 && g->zs.avail_out != 0)
			return 0;
	}
}

static int gz_sink(void *ctx, const char *bytes, size_t len, struct fc_error *err)
{
	struct gz *g = ctx;
	/* avail_in is 32 bits: feed very large pieces in slices. */
	while (len > 0) {
		size_t part = len > (1u << 30) ? (1u << 30) : len;
		g->zs.next_in = (Bytef *)bytes;
		g->zs.avail_in = (uInt)part;
		if (gz_run(g, Z_NO_FLUSH, err) < 0)
			return -1;
		bytes += part;
		len -= part;
	}
	return 0;
}

int report_gzip(const struct report *r, unsigned char **out, size_t *out_len, size_t *json_bytes,
		struct fc_error *err)
{
	*out = NULL;
	*out_len = 0;
	struct gz g;
	memset(&g, 0, sizeof g);
	/* 15 + 16: a gzip wrapper rather than zlib's, as Content-Encoding: gzip says. */
	if (deflateInit2(&g.zs, Z_BEST_COMPRESSION, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY) != Z_OK)
		return fc_error_set(err, "cannot start compressing the report (zlib)");
	int rc = gz_grow(&g, err);
	if (rc == 0)
		rc = report_write(r, gz_sink, &g, json_bytes, err);
	if (rc == 0) {
		g.zs.next_in = NULL;
		g.zs.avail_in = 0;
		rc = gz_run(&g, Z_FINISH, err);
	}
	size_t total = g.zs.total_out;
	deflateEnd(&g.zs);
	if (rc < 0) {
		free(g.buf);
		return -1;
	}
	*out = g.buf;
	*out_len = total;
	return 0;
}

int report_gunzip(const unsigned char *in, size_t len, size_t max_len, char **out, size_t *out_len,
		  struct fc_error *err)
{
	*out = NULL;
	*out_len = 0;
	z_stream zs;
	memset(&zs, 0, sizeof zs);
	if (len > UINT32_MAX)
		return fc_error_set(err, "the compressed report is too large");
	if (inflateInit2(&zs, 15 + 16) != Z_OK)
		return fc_error_set(err, "cannot start decompressing (zlib)");
	size_t cap = len * 4 + 1024, used = 0;
	char *buf = malloc(cap);
	int zr = Z_OK;
	if (!buf)
		goto oom;
	zs.next_in = (Bytef *)in;
	zs.avail_in = (uInt)len;
	while (zr != Z_STREAM_END) {
		if (used + 1 >= cap) {
			if (cap > max_len) {
				inflateEnd(&zs);
				free(buf);
				return fc_error_set(err, "the report inflates to more than %zu bytes", max_len);
			}
			size_t ncap = cap * 2;
			char *nb = realloc(buf, ncap);
			if (!nb)
				goto oom;
			buf = nb;
			cap = ncap;
		}
		zs.next_out = (Bytef *)buf + used;
		zs.avail_out = (uInt)(cap - used - 1);
		zr = inflate(&zs, Z_NO_FLUSH);
		used = zs.total_out;
		if (zr != Z_OK && zr != Z_STREAM_END) {
			inflateEnd(&zs);
			free(buf);
			return fc_error_set(err, "the report is not valid gzip data (zlib error %d)", zr);
		}
		if (zr == Z_OK && zs.avail_in == 0 && zs.avail_out != 0) {
			inflateEnd(&zs);
			free(buf);
			return fc_error_set(err, "the report's gzip data is cut short");
		}
	}
	inflateEnd(&zs);
	if (used > max_len) {
		free(buf);
		return fc_error_set(err, "the report inflates to more than %zu bytes", max_len);
	}
	buf[used] = '\0';
	*out = buf;
	*out_len = used;
	return 0;
oom:
	inflateEnd(&zs);
	free(buf);
	return fc_error_set(err, "out of memory decompressing");
}
