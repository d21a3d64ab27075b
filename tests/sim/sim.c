/* sim: a fast SNMPv2c printer simulator for scale tests. One process, one thread, one UDP socket
 * serves thousands of distinct printers on as many 127.x.y.z addresses: the socket is bound to the
 * wildcard address (and to the loopback device when allowed), IP_PKTINFO tells which address a
 * request was sent to, and the answer leaves from that address. (One socket per address would need
 * 20,000 descriptors, more than the usual limit, and 20,000 wake-up sources; one socket reads
 * requests in batches of 64 with recvmmsg and answers with sendmmsg.)
 *
 * Every printer answers from a .snmprec template (several templates: printer i uses template
 * i mod n) with its own identity derived from its address: serial number, MAC addresses, sysName
 * and counters (see identity_of). GET, GETNEXT and GETBULK; SNMPv1, v3 and other communities get
 * no answer. Packets are decoded with Net-SNMP's ASN.1 parser and answers built with its reverse
 * encoder; template varbinds are encoded once at start.
 *
 *   sim [--template FILE]... [--first A.B.C.D] [--count N] [--stride K] [--port P]
 *       [--port-file FILE] [--community C] [--max-msg BYTES] [--stats FILE] [--log FILE]
 *   sim [--template FILE]... --identity-oids
 *
 * Printers are at first, first+K, ... (count of them; default 127.1.0.1, 1, 1). --port 0 (the
 * default) takes a free port, written to --port-file (or stdout) once the socket is ready.
 * SIGUSR1 writes counters to --stats FILE (also at exit); SIGUSR2 starts the request log
 * (--log FILE, truncated) or stops it (see simlog.h). SIGTERM / SIGINT end the simulator. */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>

#include "tests/sim/simlog.h"

/* mk/sim.mk passes the source tree's absolute path, so the default works from any folder. */
#ifndef SIM_SOURCE_DIR
#define SIM_SOURCE_DIR "."
#endif
#define DEFAULT_TEMPLATE SIM_SOURCE_DIR "/tests/fixtures/printers/hp_clj_m479fdw.snmprec"
#define MAX_TEMPLATES 32
#define BATCH 64
#define MAX_DGRAM 65535
/* The most varbinds one answer carries (a GETBULK asking for more gets this many). */
#define MAX_RESULTS 2048
#define ARENA 65536

/* What changes from printer to printer. */
enum ident {
	ID_NONE,
	ID_SERIAL,  /* an OCTET STRING equal to the template's prtGeneralSerialNumber */
	ID_MAC,     /* a 6-octet string equal to one of the template's ifPhysAddress values */
	ID_SYSNAME, /* sysName.0 */
	ID_COUNTER, /* prtMarkerLifeCount / PowerOnCount, and Counter32/64 in the private MIBs */
};

struct entry {
	oid *name;
	size_t name_len;
	u_char type;
	long ival;              /* INTEGER */
	u_long uval;            /* Counter32, Gauge32, TimeTicks */
	struct counter64 c64;   /* Counter64 */
	u_char *bytes;          /* OCTET STRING, IpAddress, Opaque; OID as oid[] */
	size_t len;             /* bytes of bytes (an OID: bytes of its oid[]) */
	enum ident ident;
	u_char *enc;            /* the varbind as encoded for the template */
	size_t enc_len;
};

struct template {
	const char *path;
	struct entry *e;
	size_t n;
	u_char *serial;
	size_t serial_len;
	u_char macs[8][6];
	size_t n_macs;
};

static struct template templates[MAX_TEMPLATES];
static size_t n_templates;

static const oid OID_SERIAL[] = { 1, 3, 6, 1, 2, 1, 43, 5, 1, 1, 17 };
static const oid OID_PHYS[] = { 1, 3, 6, 1, 2, 1, 2, 2, 1, 6 };
static const oid OID_SYSNAME[] = { 1, 3, 6, 1, 2, 1, 1, 5, 0 };
static const oid OID_LIFE[] = { 1, 3, 6, 1, 2, 1, 43, 10, 2, 1, 4 };
static const oid OID_POWERON[] = { 1, 3, 6, 1, 2, 1, 43, 10, 2, 1, 5 };
static const oid OID_ENTERPRISES[] = { 1, 3, 6, 1, 4, 1 };
#define LEN(a) (sizeof(a) / sizeof((a)[0]))

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("sim: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(2);
}

static void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		die("out of memory");
	return p;
}

static bool under(const oid *name, size_t len, const oid *prefix, size_t plen)
{
	return len >= plen && memcmp(name, prefix, plen * sizeof(oid)) == 0;
}

/* ---- templates ---- */

static int parse_oid(const char *text, oid *out, size_t *len)
{
	size_t n = 0;
	const char *p = text;
	if (*p == '.')
		p++;
	while (*p) {
		char *end;
		errno = 0;
		unsigned long v = strtoul(p, &end, 10);
		if (end == p || errno || n == MAX_OID_LEN || v > 0xffffffffUL)
			return -1;
		out[n++] = (oid)v;
		if (*end == '.')
			end++;
		else if (*end)
			return -1;
		p = end;
	}
	*len = n;
	return n >= 2 ? 0 : -1;
}

static int unhex(const char *s, u_char **out, size_t *len)
{
	size_t n = strlen(s);
	if (n % 2)
		return -1;
	u_char *b = xmalloc(n / 2);
	for (size_t i = 0; i < n / 2; i++) {
		unsigned v;
		if (sscanf(s + 2 * i, "%2x", &v) != 1) {
			free(b);
			return -1;
		}
		b[i] = (u_char)v;
	}
	*out = b;
	*len = n / 2;
	return 0;
}

/* Encodes one varbind into a fresh buffer. */
static int encode_vb(const oid *name, size_t name_len, u_char type, const void *val, size_t val_len,
		     u_char **out, size_t *out_len)
{
	size_t cap = val_len + name_len * 5 + 64;
	u_char *buf = xmalloc(cap);
	size_t off = 0, nl = name_len;
	if (!snmp_realloc_rbuild_var_op(&buf, &cap, &off, 0, name, &nl, type, (u_char *)val, val_len)) {
		free(buf);
		return -1;
	}
	memmove(buf, buf + cap - off, off);
	*out = buf;
	*out_len = off;
	return 0;
}

/* The value pointer and size Net-SNMP's encoder wants for an entry. */
static const void *value_of(const struct entry *e, size_t *len)
{
	switch (e->type) {
	case ASN_INTEGER:
		*len = sizeof e->ival;
		return &e->ival;
	case ASN_COUNTER:
	case ASN_GAUGE:
	case ASN_TIMETICKS:
		*len = sizeof e->uval;
		return &e->uval;
	case ASN_COUNTER64:
		*len = sizeof e->c64;
		return &e->c64;
	case ASN_NULL:
		*len = 0;
		return NULL;
	default:
		*len = e->len;
		return e->bytes;
	}
}

static int parse_value(struct entry *e, const char *tag, const char *val)
{
	bool hex = tag[strlen(tag) - 1] == 'x';
	long t = strtol(tag, NULL, 10);
	e->type = (u_char)t;
	switch (t) {
	case ASN_INTEGER:
		e->ival = strtol(val, NULL, 10);
		return 0;
	case ASN_COUNTER:
	case ASN_GAUGE:
	case ASN_TIMETICKS:
		e->uval = strtoul(val, NULL, 10) & 0xffffffffUL;
		return 0;
	case ASN_COUNTER64: {
		unsigned long long v = strtoull(val, NULL, 10);
		e->c64.high = (u_long)(v >> 32);
		e->c64.low = (u_long)(v & 0xffffffffULL);
		return 0;
	}
	case ASN_NULL:
		return 0;
	case ASN_OBJECT_ID: {
		oid tmp[MAX_OID_LEN];
		size_t n;
		if (parse_oid(val, tmp, &n) < 0)
			return -1;
		e->len = n * sizeof(oid);
		e->bytes = xmalloc(e->len);
		memcpy(e->bytes, tmp, e->len);
		return 0;
	}
	case ASN_IPADDRESS:
		if (hex)
			return unhex(val, &e->bytes, &e->len) == 0 && e->len == 4 ? 0 : -1;
		e->bytes = xmalloc(4);
		e->len = 4;
		return inet_pton(AF_INET, val, e->bytes) == 1 ? 0 : -1;
	case ASN_OCTET_STR:
	case ASN_OPAQUE:
		if (hex)
			return unhex(val, &e->bytes, &e->len);
		e->len = strlen(val);
		e->bytes = xmalloc(e->len);
		memcpy(e->bytes, val, e->len);
		return 0;
	default:
		return -1;
	}
}

static int entry_cmp(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;
	return snmp_oid_compare(x->name, x->name_len, y->name, y->name_len);
}

static void mark_identity(struct template *t)
{
	for (size_t i = 0; i < t->n; i++) {
		struct entry *e = &t->e[i];
		if (!t->serial && e->type == ASN_OCTET_STR && e->len &&
		    under(e->name, e->name_len, OID_SERIAL, LEN(OID_SERIAL))) {
			t->serial = e->bytes;
			t->serial_len = e->len;
		}
		if (e->type == ASN_OCTET_STR && e->len == 6 && t->n_macs < 8 &&
		    under(e->name, e->name_len, OID_PHYS, LEN(OID_PHYS)) &&
		    memcmp(e->bytes, "\0\0\0\0\0\0", 6) != 0)
			memcpy(t->macs[t->n_macs++], e->bytes, 6);
	}
	for (size_t i = 0; i < t->n; i++) {
		struct entry *e = &t->e[i];
		bool intlike = e->type == ASN_INTEGER || e->type == ASN_COUNTER || e->type == ASN_GAUGE ||
			       e->type == ASN_COUNTER64;
		if (e->type == ASN_OCTET_STR && snmp_oid_compare(e->name, e->name_len, OID_SYSNAME, LEN(OID_SYSNAME)) == 0) {
			e->ident = ID_SYSNAME;
		} else if (e->type == ASN_OCTET_STR && t->serial && e->len == t->serial_len &&
			   memcmp(e->bytes, t->serial, e->len) == 0) {
			e->ident = ID_SERIAL;
		} else if (e->type == ASN_OCTET_STR && e->len == 6) {
			for (size_t m = 0; m < t->n_macs; m++)
				if (memcmp(e->bytes, t->macs[m], 6) == 0)
					e->ident = ID_MAC;
		} else if (intlike && (under(e->name, e->name_len, OID_LIFE, LEN(OID_LIFE)) ||
				       under(e->name, e->name_len, OID_POWERON, LEN(OID_POWERON)))) {
			e->ident = ID_COUNTER;
		} else if ((e->type == ASN_COUNTER || e->type == ASN_COUNTER64) &&
			   under(e->name, e->name_len, OID_ENTERPRISES, LEN(OID_ENTERPRISES))) {
			e->ident = ID_COUNTER;
		}
	}
}

static void load_template(struct template *t, const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f)
		die("cannot open %s: %s", path, strerror(errno));
	t->path = path;
	size_t cap = 256;
	t->e = xmalloc(cap * sizeof *t->e);
	char *line = NULL;
	size_t lcap = 0;
	ssize_t got;
	unsigned lineno = 0;
	while ((got = getline(&line, &lcap, f)) >= 0) {
		lineno++;
		while (got > 0 && (line[got - 1] == '\n' || line[got - 1] == '\r'))
			line[--got] = '\0';
		if (!*line || *line == '#')
			continue;
		char *bar1 = strchr(line, '|');
		char *bar2 = bar1 ? strchr(bar1 + 1, '|') : NULL;
		if (!bar2)
			die("%s:%u: not OID|TYPE|VALUE", path, lineno);
		*bar1 = *bar2 = '\0';
		if (strchr(bar1 + 1, ':'))
			die("%s:%u: snmpsim variation modules are not supported", path, lineno);
		if (t->n == cap) {
			cap *= 2;
			t->e = realloc(t->e, cap * sizeof *t->e);
			if (!t->e)
				die("out of memory");
		}
		struct entry *e = &t->e[t->n];
		memset(e, 0, sizeof *e);
		oid tmp[MAX_OID_LEN];
		if (parse_oid(line, tmp, &e->name_len) < 0)
			die("%s:%u: bad OID %s", path, lineno, line);
		e->name = xmalloc(e->name_len * sizeof(oid));
		memcpy(e->name, tmp, e->name_len * sizeof(oid));
		if (parse_value(e, bar1 + 1, bar2 + 1) < 0)
			die("%s:%u: bad value of type %s", path, lineno, bar1 + 1);
		t->n++;
	}
	free(line);
	fclose(f);
	if (!t->n)
		die("%s: no values", path);
	qsort(t->e, t->n, sizeof *t->e, entry_cmp);
	/* An OID given twice: the first line wins, as a walk would see one value. */
	size_t k = 0;
	for (size_t i = 0; i < t->n; i++)
		if (!k || entry_cmp(&t->e[k - 1], &t->e[i]) != 0)
			t->e[k++] = t->e[i];
	t->n = k;
	mark_identity(t);
	for (size_t i = 0; i < t->n; i++) {
		struct entry *e = &t->e[i];
		size_t vl;
		const void *v = value_of(e, &vl);
		if (encode_vb(e->name, e->name_len, e->type, v, vl, &e->enc, &e->enc_len) < 0)
			die("%s: cannot encode a value", path);
	}
}

/* ---- identity ---- */

static uint32_t mix32(uint32_t x)
{
	x ^= x >> 16;
	x *= 0x7feb352dU;
	x ^= x >> 15;
	x *= 0x846ca68bU;
	x ^= x >> 16;
	return x;
}

/* The value printer `key` (the low 24 bits of its address: unique in 127.0.0.0/8) sends for an
 * identity entry, into buf. Serial: the template's with its last 5 characters replaced by the key
 * in base 36. MAC: the template's first 3 octets and the key. sysName: its last 6 characters
 * replaced by the key in hex. Counters: multiplied by 1..64 (mixed from the key), so that the
 * vendor's black + colour still add up to its total. */
static const void *identity_of(const struct entry *e, uint32_t key, u_char *buf, size_t *len,
			       long *ival, u_long *uval, struct counter64 *c64)
{
	static const char b36[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
	switch (e->ident) {
	case ID_SERIAL: {
		memcpy(buf, e->bytes, e->len);
		uint32_t k = key;
		for (size_t i = 0; i < 5 && i < e->len; i++) {
			buf[e->len - 1 - i] = (u_char)b36[k % 36];
			k /= 36;
		}
		*len = e->len;
		return buf;
	}
	case ID_MAC:
		memcpy(buf, e->bytes, 3);
		buf[3] = (u_char)(key >> 16);
		buf[4] = (u_char)(key >> 8);
		buf[5] = (u_char)key;
		*len = 6;
		return buf;
	case ID_SYSNAME: {
		char hex[7];
		snprintf(hex, sizeof hex, "%06" PRIX32, key & 0xffffff);
		size_t n = e->len > 200 ? 200 : e->len;
		memcpy(buf, e->bytes, n);
		if (n >= 6) {
			memcpy(buf + n - 6, hex, 6);
		} else {
			memcpy(buf + n, hex, 6);
			n += 6;
		}
		*len = n;
		return buf;
	}
	case ID_COUNTER: {
		uint64_t m = 1 + mix32(key) % 64;
		if (e->type == ASN_INTEGER) {
			*ival = e->ival >= 0 && (uint64_t)e->ival * m <= 0x7fffffffULL ? (long)((uint64_t)e->ival * m) : e->ival;
			*len = sizeof *ival;
			return ival;
		}
		if (e->type == ASN_COUNTER64) {
			uint64_t v = ((uint64_t)e->c64.high << 32 | e->c64.low) * m;
			c64->high = (u_long)(v >> 32);
			c64->low = (u_long)(v & 0xffffffffU);
			*len = sizeof *c64;
			return c64;
		}
		*uval = (uint64_t)e->uval * m <= 0xffffffffULL ? (u_long)((uint64_t)e->uval * m) : e->uval;
		*len = sizeof *uval;
		return uval;
	}
	default:
		return NULL;
	}
}

/* ---- answers ---- */

struct counters {
	uint64_t requests, answers, dropped, varbinds, bytes_in, bytes_out;
	uint64_t get, getnext, getbulk;
};
static struct counters stats;

struct out {
	u_char arena[ARENA]; /* encodings made for this answer */
	size_t used;
	const u_char *enc[MAX_RESULTS];
	size_t len[MAX_RESULTS];
	size_t n, total;
	size_t limit;        /* bytes the varbinds may take */
	bool full;
};

static void out_reset(struct out *o, size_t limit)
{
	o->used = o->n = o->total = 0;
	o->limit = limit;
	o->full = false;
}

/* Adds an encoded varbind; false (and o->full) when it does not fit. */
static bool out_add(struct out *o, const u_char *enc, size_t len)
{
	if (o->n == MAX_RESULTS || o->total + len > o->limit) {
		o->full = true;
		return false;
	}
	o->enc[o->n] = enc;
	o->len[o->n] = len;
	o->n++;
	o->total += len;
	return true;
}

/* Encodes a varbind into the arena and adds it. */
static bool out_encode(struct out *o, const oid *name, size_t name_len, u_char type, const void *val,
		       size_t val_len)
{
	size_t cap = ARENA - o->used;
	u_char *base = o->arena + o->used;
	size_t off = 0, nl = name_len;
	if (cap < 16 || !snmp_realloc_rbuild_var_op(&base, &cap, &off, 0, name, &nl, type, (u_char *)val, val_len)) {
		o->full = true;
		return false;
	}
	/* Built at the end of the free space: move it to the front of it. */
	memmove(o->arena + o->used, o->arena + o->used + cap - off, off);
	const u_char *enc = o->arena + o->used;
	o->used += off;
	return out_add(o, enc, off);
}

static bool out_entry(struct out *o, const struct entry *e, uint32_t key)
{
	if (e->ident == ID_NONE)
		return out_add(o, e->enc, e->enc_len);
	u_char buf[256];
	size_t len = 0;
	long iv;
	u_long uv;
	struct counter64 c;
	const void *v = identity_of(e, key, buf, &len, &iv, &uv, &c);
	return out_encode(o, e->name, e->name_len, e->type, v, len);
}

/* First entry strictly after name, or NULL. */
static const struct entry *next_of(const struct template *t, const oid *name, size_t len)
{
	size_t lo = 0, hi = t->n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (snmp_oid_compare(t->e[mid].name, t->e[mid].name_len, name, len) <= 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < t->n ? &t->e[lo] : NULL;
}

static const struct entry *exact(const struct template *t, const oid *name, size_t len)
{
	size_t lo = 0, hi = t->n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = snmp_oid_compare(t->e[mid].name, t->e[mid].name_len, name, len);
		if (c == 0)
			return &t->e[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

struct request {
	long version;
	u_char community[256];
	size_t community_len;
	u_char type;
	long reqid, nonrep, maxrep;
	size_t n;
	oid names[MAX_RESULTS][MAX_OID_LEN];
	size_t name_len[MAX_RESULTS];
};

/* Decodes a v1/v2c request. Returns 0, or -1 when it is not one. */
static int decode(u_char *p, size_t len, struct request *rq)
{
	u_char t;
	size_t l = len;
	if (!(p = asn_parse_sequence(p, &l, &t, ASN_SEQUENCE | ASN_CONSTRUCTOR, "message")))
		return -1;
	if (!(p = asn_parse_int(p, &l, &t, &rq->version, sizeof rq->version)))
		return -1;
	rq->community_len = sizeof rq->community;
	if (!(p = asn_parse_string(p, &l, &t, rq->community, &rq->community_len)))
		return -1;
	if (!(p = asn_parse_header(p, &l, &rq->type)))
		return -1;
	long a, b;
	if (!(p = asn_parse_int(p, &l, &t, &rq->reqid, sizeof rq->reqid)) ||
	    !(p = asn_parse_int(p, &l, &t, &a, sizeof a)) || !(p = asn_parse_int(p, &l, &t, &b, sizeof b)))
		return -1;
	rq->nonrep = a;
	rq->maxrep = b;
	if (!(p = asn_parse_sequence(p, &l, &t, ASN_SEQUENCE | ASN_CONSTRUCTOR, "varbinds")))
		return -1;
	rq->n = 0;
	while (l > 0) {
		if (rq->n == MAX_RESULTS)
			return -1;
		u_char *start = p;
		size_t vl = l;
		u_char *q = asn_parse_sequence(p, &vl, &t, ASN_SEQUENCE | ASN_CONSTRUCTOR, "varbind");
		if (!q)
			return -1;
		u_char *end = q + vl;
		rq->name_len[rq->n] = MAX_OID_LEN;
		if (!asn_parse_objid(q, &vl, &t, rq->names[rq->n], &rq->name_len[rq->n]))
			return -1;
		rq->n++;
		size_t used = (size_t)(end - start);
		if (used > l)
			return -1;
		l -= used;
		p = end;
	}
	return 0;
}

/* Builds the answer at the end of buf; returns its start and sets *len (NULL: no answer). */
static u_char *build(const struct request *rq, const struct out *o, long errstat, long errindex,
		     u_char *buf, size_t cap, size_t *len)
{
	size_t off = 0;
	for (size_t i = o->n; i-- > 0;) {
		memcpy(buf + cap - off - o->len[i], o->enc[i], o->len[i]);
		off += o->len[i];
	}
	u_char *b = buf;
	size_t c = cap;
	long version = rq->version, reqid = rq->reqid;
	const u_char INT = ASN_UNIVERSAL | ASN_PRIMITIVE | ASN_INTEGER;
	if (!asn_realloc_rbuild_sequence(&b, &c, &off, 0, ASN_SEQUENCE | ASN_CONSTRUCTOR, off) ||
	    !asn_realloc_rbuild_int(&b, &c, &off, 0, INT, &errindex, sizeof errindex) ||
	    !asn_realloc_rbuild_int(&b, &c, &off, 0, INT, &errstat, sizeof errstat) ||
	    !asn_realloc_rbuild_int(&b, &c, &off, 0, INT, &reqid, sizeof reqid) ||
	    !asn_realloc_rbuild_sequence(&b, &c, &off, 0, SNMP_MSG_RESPONSE, off) ||
	    !asn_realloc_rbuild_string(&b, &c, &off, 0, ASN_UNIVERSAL | ASN_PRIMITIVE | ASN_OCTET_STR,
				       rq->community, rq->community_len) ||
	    !asn_realloc_rbuild_int(&b, &c, &off, 0, INT, &version, sizeof version) ||
	    !asn_realloc_rbuild_sequence(&b, &c, &off, 0, ASN_SEQUENCE | ASN_CONSTRUCTOR, off))
		return NULL;
	*len = off;
	return buf + cap - off;
}

struct config {
	const char *community;
	size_t community_len;
	size_t max_msg;
	uint32_t first, count, stride;
};
static struct config cfg = { .community = "public", .max_msg = 65507, .first = 0x7f010001, .count = 1, .stride = 1 };

/* The answer to one datagram sent to address addr (host order), or NULL. */
static u_char *answer(u_char *pkt, size_t n, uint32_t addr, struct request *rq, struct out *o, u_char *buf,
		      size_t cap, size_t *len)
{
	uint32_t d = addr - cfg.first;
	if (addr < cfg.first || d % cfg.stride || d / cfg.stride >= cfg.count)
		return NULL;
	uint32_t index = d / cfg.stride;
	const struct template *t = &templates[index % n_templates];
	uint32_t key = addr & 0xffffff;
	if (decode(pkt, n, rq) < 0 || rq->version != SNMP_VERSION_2c || rq->community_len != cfg.community_len ||
	    memcmp(rq->community, cfg.community, cfg.community_len) != 0)
		return NULL;
	size_t overhead = 48 + rq->community_len;
	out_reset(o, cfg.max_msg > overhead ? cfg.max_msg - overhead : 0);
	long errstat = 0, errindex = 0;
	switch (rq->type) {
	case SNMP_MSG_GET:
		stats.get++;
		for (size_t i = 0; i < rq->n && !o->full; i++) {
			const struct entry *e = exact(t, rq->names[i], rq->name_len[i]);
			/* snmpsim says noSuchInstance for every OID it does not have. */
			if (e)
				out_entry(o, e, key);
			else
				out_encode(o, rq->names[i], rq->name_len[i], SNMP_NOSUCHINSTANCE, NULL, 0);
		}
		break;
	case SNMP_MSG_GETNEXT:
		stats.getnext++;
		for (size_t i = 0; i < rq->n && !o->full; i++) {
			const struct entry *e = next_of(t, rq->names[i], rq->name_len[i]);
			if (e)
				out_entry(o, e, key);
			else
				out_encode(o, rq->names[i], rq->name_len[i], SNMP_ENDOFMIBVIEW, NULL, 0);
		}
		break;
	case SNMP_MSG_GETBULK: {
		stats.getbulk++;
		size_t nonrep = rq->nonrep < 0 ? 0 : (size_t)rq->nonrep > rq->n ? rq->n : (size_t)rq->nonrep;
		long maxrep = rq->maxrep < 0 ? 0 : rq->maxrep;
		for (size_t i = 0; i < nonrep && !o->full; i++) {
			const struct entry *e = next_of(t, rq->names[i], rq->name_len[i]);
			if (e)
				out_entry(o, e, key);
			else
				out_encode(o, rq->names[i], rq->name_len[i], SNMP_ENDOFMIBVIEW, NULL, 0);
		}
		size_t nrep = rq->n - nonrep;
		/* Where each repeated column is, and whether it ran past the last entry. */
		const struct entry *cur[MAX_RESULTS];
		bool ended[MAX_RESULTS];
		for (size_t j = 0; j < nrep; j++) {
			cur[j] = NULL;
			ended[j] = false;
		}
		const struct entry *last = t->e + t->n - 1;
		for (long r = 0; r < maxrep && nrep && !o->full; r++) {
			/* Like snmpsim, a column past the end fills its repetitions with endOfMibView. */
			for (size_t j = 0; j < nrep && !o->full; j++) {
				const struct entry *e = NULL;
				if (ended[j])
					e = NULL;
				else if (r == 0)
					e = next_of(t, rq->names[nonrep + j], rq->name_len[nonrep + j]);
				else if (cur[j] < last)
					e = cur[j] + 1;
				if (e) {
					cur[j] = e;
					out_entry(o, e, key);
				} else {
					ended[j] = true;
					const oid *nm = cur[j] ? cur[j]->name : rq->names[nonrep + j];
					size_t nl = cur[j] ? cur[j]->name_len : rq->name_len[nonrep + j];
					out_encode(o, nm, nl, SNMP_ENDOFMIBVIEW, NULL, 0);
				}
			}
		}
		/* A GETBULK answer that does not fit is cut, never refused. */
		o->full = false;
		break;
	}
	default:
		/* SET and the rest: this agent is read-only. */
		errstat = SNMP_ERR_NOTWRITABLE;
		errindex = 1;
		for (size_t i = 0; i < rq->n; i++)
			out_encode(o, rq->names[i], rq->name_len[i], ASN_NULL, NULL, 0);
		o->full = false;
		break;
	}
	if (o->full) {
		/* GET / GETNEXT: tooBig, without the varbinds. */
		out_reset(o, 0);
		errstat = SNMP_ERR_TOOBIG;
	}
	stats.varbinds += o->n;
	return build(rq, o, errstat, errindex, buf, cap, len);
}

/* ---- the loop ---- */

static volatile sig_atomic_t want_stop, want_stats, want_log;

static void on_signal(int sig)
{
	if (sig == SIGUSR1)
		want_stats = 1;
	else if (sig == SIGUSR2)
		want_log = 1;
	else
		want_stop = 1;
}

static const char *stats_path;

static void write_stats(void)
{
	static unsigned seq;
	if (!stats_path)
		return;
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	char tmp[4096];
	snprintf(tmp, sizeof tmp, "%s.tmp", stats_path);
	FILE *f = fopen(tmp, "w");
	if (!f)
		return;
	fprintf(f,
		"seq %u\nrequests %" PRIu64 "\nanswers %" PRIu64 "\ndropped %" PRIu64 "\nvarbinds %" PRIu64
		"\nbytes_in %" PRIu64 "\nbytes_out %" PRIu64 "\nget %" PRIu64 "\ngetnext %" PRIu64
		"\ngetbulk %" PRIu64 "\ncpu_seconds %.3f\nmax_rss_kib %ld\n",
		++seq, stats.requests, stats.answers, stats.dropped, stats.varbinds, stats.bytes_in,
		stats.bytes_out, stats.get, stats.getnext, stats.getbulk,
		(double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
			ru.ru_stime.tv_usec / 1e6,
		ru.ru_maxrss);
	if (fclose(f) == 0)
		rename(tmp, stats_path);
}

static void usage(void)
{
	fprintf(stderr,
		"usage: sim [--template FILE]... [--first A.B.C.D] [--count N] [--stride K] [--port P]\n"
		"           [--port-file FILE] [--community C] [--max-msg BYTES] [--stats FILE] [--log FILE]\n"
		"       sim [--template FILE]... --identity-oids\n");
	exit(2);
}

static int open_socket(int port)
{
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0)
		die("socket: %s", strerror(errno));
	int one = 1, big = 8 << 20;
	if (setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof one) < 0)
		die("IP_PKTINFO: %s", strerror(errno));
	/* Bursts of 256 requests in flight must not overflow the queue (root may pass the cap). */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof big) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &big, sizeof big) < 0)
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &big, sizeof big);
	/* Only loopback traffic reaches the wildcard socket when the kernel lets us say so; the
	 * address check in answer() keeps everything else out either way. */
	(void)setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, "lo", 3);
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				  .sin_addr.s_addr = htonl(INADDR_ANY) };
	if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0)
		die("bind port %d: %s", port, strerror(errno));
	return fd;
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "template", required_argument, NULL, 't' }, { "first", required_argument, NULL, 'f' },
		{ "count", required_argument, NULL, 'n' },    { "stride", required_argument, NULL, 's' },
		{ "port", required_argument, NULL, 'p' },     { "port-file", required_argument, NULL, 'P' },
		{ "community", required_argument, NULL, 'c' }, { "max-msg", required_argument, NULL, 'm' },
		{ "stats", required_argument, NULL, 'S' },    { "log", required_argument, NULL, 'l' },
		{ "identity-oids", no_argument, NULL, 'i' },  { NULL, 0, NULL, 0 },
	};
	const char *paths[MAX_TEMPLATES];
	size_t n_paths = 0;
	const char *port_file = NULL, *log_path = NULL;
	int port = 0, opt;
	bool list_identity = false;
	while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
		switch (opt) {
		case 't':
			if (n_paths == MAX_TEMPLATES)
				die("at most %d templates", MAX_TEMPLATES);
			paths[n_paths++] = optarg;
			break;
		case 'f': {
			struct in_addr a;
			if (inet_pton(AF_INET, optarg, &a) != 1 || (ntohl(a.s_addr) >> 24) != 127)
				die("--first wants an address in 127.0.0.0/8");
			cfg.first = ntohl(a.s_addr);
			break;
		}
		case 'n': cfg.count = (uint32_t)strtoul(optarg, NULL, 10); break;
		case 's': cfg.stride = (uint32_t)strtoul(optarg, NULL, 10); break;
		case 'p': port = atoi(optarg); break;
		case 'P': port_file = optarg; break;
		case 'c': cfg.community = optarg; break;
		case 'm': cfg.max_msg = strtoul(optarg, NULL, 10); break;
		case 'S': stats_path = optarg; break;
		case 'l': log_path = optarg; break;
		case 'i': list_identity = true; break;
		default: usage();
		}
	}
	if (optind != argc || cfg.count == 0 || cfg.stride == 0 || cfg.max_msg < 484 || cfg.max_msg > 65507)
		usage();
	if ((uint64_t)cfg.first + (uint64_t)(cfg.count - 1) * cfg.stride > 0x7fffffffULL)
		die("the printers do not fit in 127.0.0.0/8");
	cfg.community_len = strlen(cfg.community);
	if (!n_paths)
		paths[n_paths++] = DEFAULT_TEMPLATE;
	for (size_t i = 0; i < n_paths; i++)
		load_template(&templates[n_templates++], paths[i]);

	if (list_identity) {
		for (size_t i = 0; i < n_templates; i++)
			for (size_t j = 0; j < templates[i].n; j++) {
				const struct entry *e = &templates[i].e[j];
				if (e->ident == ID_NONE)
					continue;
				for (size_t k = 0; k < e->name_len; k++)
					printf("%s%lu", k ? "." : "", (unsigned long)e->name[k]);
				putchar('\n');
			}
		return 0;
	}

	int fd = open_socket(port);
	struct sockaddr_in bound;
	socklen_t bl = sizeof bound;
	if (getsockname(fd, (struct sockaddr *)&bound, &bl) < 0)
		die("getsockname: %s", strerror(errno));
	struct sigaction sa = { .sa_handler = on_signal };
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGUSR2, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (port_file) {
		char tmp[4096];
		snprintf(tmp, sizeof tmp, "%s.tmp", port_file);
		FILE *f = fopen(tmp, "w");
		if (!f || fprintf(f, "%u\n", ntohs(bound.sin_port)) < 0 || fclose(f) != 0 || rename(tmp, port_file) < 0)
			die("cannot write %s", port_file);
	} else {
		printf("%u\n", ntohs(bound.sin_port));
		fflush(stdout);
	}

	static u_char inbuf[BATCH][MAX_DGRAM];
	static u_char outbuf[BATCH][MAX_DGRAM + 128];
	static struct request rq;
	static struct out o;
	struct mmsghdr in[BATCH], outm[BATCH];
	struct iovec iin[BATCH], iout[BATCH];
	struct sockaddr_in from[BATCH], to[BATCH];
	char cin[BATCH][CMSG_SPACE(sizeof(struct in_pktinfo))];
	char cout[BATCH][CMSG_SPACE(sizeof(struct in_pktinfo))];
	FILE *log = NULL;
	while (!want_stop) {
		if (want_stats) {
			want_stats = 0;
			write_stats();
		}
		if (want_log) {
			want_log = 0;
			if (log) {
				fclose(log);
				log = NULL;
			} else if (log_path && !(log = fopen(log_path, "w"))) {
				fprintf(stderr, "sim: cannot write %s: %s\n", log_path, strerror(errno));
			}
		}
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		int pr = poll(&pfd, 1, 100);
		if (pr <= 0)
			continue;
		for (int i = 0; i < BATCH; i++) {
			iin[i] = (struct iovec){ inbuf[i], MAX_DGRAM };
			in[i].msg_hdr = (struct msghdr){ .msg_name = &from[i], .msg_namelen = sizeof from[i],
							 .msg_iov = &iin[i], .msg_iovlen = 1,
							 .msg_control = cin[i], .msg_controllen = sizeof cin[i] };
		}
		int got = recvmmsg(fd, in, BATCH, MSG_DONTWAIT, NULL);
		if (got <= 0)
			continue;
		int nout = 0;
		for (int i = 0; i < got; i++) {
			stats.requests++;
			stats.bytes_in += in[i].msg_len;
			uint32_t dst = 0;
			for (struct cmsghdr *c = CMSG_FIRSTHDR(&in[i].msg_hdr); c; c = CMSG_NXTHDR(&in[i].msg_hdr, c))
				if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO)
					dst = ntohl(((struct in_pktinfo *)CMSG_DATA(c))->ipi_addr.s_addr);
			if (log && dst) {
				struct simlog_record r = { .addr = dst, .len = (uint16_t)in[i].msg_len };
				fwrite(&r, sizeof r, 1, log);
				fwrite(inbuf[i], 1, in[i].msg_len, log);
			}
			size_t len = 0;
			u_char *a = dst ? answer(inbuf[i], in[i].msg_len, dst, &rq, &o, outbuf[nout], sizeof outbuf[nout], &len)
					: NULL;
			if (!a) {
				stats.dropped++;
				continue;
			}
			to[nout] = from[i];
			iout[nout] = (struct iovec){ a, len };
			memset(cout[nout], 0, sizeof cout[nout]);
			outm[nout].msg_hdr = (struct msghdr){ .msg_name = &to[nout], .msg_namelen = sizeof to[nout],
							      .msg_iov = &iout[nout], .msg_iovlen = 1,
							      .msg_control = cout[nout], .msg_controllen = sizeof cout[nout] };
			struct cmsghdr *c = CMSG_FIRSTHDR(&outm[nout].msg_hdr);
			c->cmsg_level = IPPROTO_IP;
			c->cmsg_type = IP_PKTINFO;
			c->cmsg_len = CMSG_LEN(sizeof(struct in_pktinfo));
			struct in_pktinfo pi = { .ipi_spec_dst.s_addr = htonl(dst) };
			memcpy(CMSG_DATA(c), &pi, sizeof pi);
			stats.answers++;
			stats.bytes_out += len;
			nout++;
		}
		for (int sent = 0; sent < nout;) {
			int k = sendmmsg(fd, outm + sent, (unsigned)(nout - sent), 0);
			if (k < 0) {
				if (errno == EINTR)
					continue;
				stats.answers -= (uint64_t)(nout - sent);
				stats.dropped += (uint64_t)(nout - sent);
				break;
			}
			sent += k;
		}
	}
	if (log)
		fclose(log);
	write_stats();
	close(fd);
	return 0;
}
