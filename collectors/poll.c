/* The poll of one printer (see poll.h). Every varbind received is kept (bounded) in one list; the
 * device is assembled from that list once the job is done, so that the order in which answers
 * arrive never matters. Rounds: 1) one GET of scalars; 2) walks and the vendor's GET, two in
 * flight per host; 3) the printer's Host Resources rows when its index was not the one guessed. */
#include "collectors/poll.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collectors/decode.h"
#include "collectors/vendor_profiles.h"
#include "model/array.h"
#include "model/clock.h"
#include "model/text.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* Bounds of what one poll keeps, whatever the device sends. */
#define POLL_MAX_VBS 8000
#define POLL_MAX_BYTES (1u << 20)
#define POLL_MAX_WARNINGS 16
#define MAX_SUFFIX 8

/* ---- the OIDs -------------------------------------------------------------------------------- */

#define HR_PRINTER_TYPE "1.3.6.1.2.1.25.3.1.5"

/* Scalars of the first GET; the printer's index is appended to those marked indexed. */
enum scalar {
	S_DESCR, S_OBJECT_ID, S_UPTIME, S_NAME, S_LOCATION,
	S_HR_TYPE, S_HR_DESCR, S_HR_STATUS, S_PR_STATUS, S_PR_ERRORS,
	S_SERIAL, S_ALERTS_ALL, S_COUNT
};
static const struct {
	const char *oid;
	bool indexed;
} scalars[S_COUNT] = {
	[S_DESCR] = { "1.3.6.1.2.1.1.1.0", false },
	[S_OBJECT_ID] = { "1.3.6.1.2.1.1.2.0", false },
	[S_UPTIME] = { "1.3.6.1.2.1.1.3.0", false },
	[S_NAME] = { "1.3.6.1.2.1.1.5.0", false },
	[S_LOCATION] = { "1.3.6.1.2.1.1.6.0", false },
	[S_HR_TYPE] = { "1.3.6.1.2.1.25.3.2.1.2", true },
	[S_HR_DESCR] = { "1.3.6.1.2.1.25.3.2.1.3", true },
	[S_HR_STATUS] = { "1.3.6.1.2.1.25.3.2.1.5", true },
	[S_PR_STATUS] = { "1.3.6.1.2.1.25.3.5.1.1", true },
	[S_PR_ERRORS] = { "1.3.6.1.2.1.25.3.5.1.2", true },
	[S_SERIAL] = { "1.3.6.1.2.1.43.5.1.1.17", true },
	[S_ALERTS_ALL] = { "1.3.6.1.2.1.43.5.1.1.19", true },
};

/* Table columns, walked in groups. */
enum column {
	C_SUP_COLORANT, C_SUP_CLASS, C_SUP_TYPE, C_SUP_DESCR, C_SUP_UNIT, C_SUP_MAX, C_SUP_LEVEL,
	C_COLORANT, C_MARKER_UNIT, C_MARKER_LIFE,
	C_IN_UNIT, C_IN_MAX, C_IN_LEVEL, C_IN_STATUS, C_IN_MEDIA, C_IN_NAME, C_IN_DESCR,
	C_COVER_DESCR, C_COVER_STATUS, C_CONSOLE, C_IF_PHYS, C_HR_TYPE,
	C_AL_SEVERITY, C_AL_TRAINING, C_AL_GROUP, C_AL_GROUP_INDEX, C_AL_LOCATION, C_AL_CODE,
	C_AL_DESCR, C_AL_TIME,
	C_COUNT
};
static const char *const column_oids[C_COUNT] = {
	[C_SUP_COLORANT] = "1.3.6.1.2.1.43.11.1.1.3",
	[C_SUP_CLASS] = "1.3.6.1.2.1.43.11.1.1.4",
	[C_SUP_TYPE] = "1.3.6.1.2.1.43.11.1.1.5",
	[C_SUP_DESCR] = "1.3.6.1.2.1.43.11.1.1.6",
	[C_SUP_UNIT] = "1.3.6.1.2.1.43.11.1.1.7",
	[C_SUP_MAX] = "1.3.6.1.2.1.43.11.1.1.8",
	[C_SUP_LEVEL] = "1.3.6.1.2.1.43.11.1.1.9",
	[C_COLORANT] = "1.3.6.1.2.1.43.12.1.1.4",
	[C_MARKER_UNIT] = "1.3.6.1.2.1.43.10.2.1.3",
	[C_MARKER_LIFE] = "1.3.6.1.2.1.43.10.2.1.4",
	[C_IN_UNIT] = "1.3.6.1.2.1.43.8.2.1.8",
	[C_IN_MAX] = "1.3.6.1.2.1.43.8.2.1.9",
	[C_IN_LEVEL] = "1.3.6.1.2.1.43.8.2.1.10",
	[C_IN_STATUS] = "1.3.6.1.2.1.43.8.2.1.11",
	[C_IN_MEDIA] = "1.3.6.1.2.1.43.8.2.1.12",
	[C_IN_NAME] = "1.3.6.1.2.1.43.8.2.1.13",
	[C_IN_DESCR] = "1.3.6.1.2.1.43.8.2.1.18",
	[C_COVER_DESCR] = "1.3.6.1.2.1.43.6.1.1.2",
	[C_COVER_STATUS] = "1.3.6.1.2.1.43.6.1.1.3",
	[C_CONSOLE] = "1.3.6.1.2.1.43.16.5.1.2",
	[C_IF_PHYS] = "1.3.6.1.2.1.2.2.1.6",
	[C_HR_TYPE] = "1.3.6.1.2.1.25.3.2.1.2",
	[C_AL_SEVERITY] = "1.3.6.1.2.1.43.18.1.1.2",
	[C_AL_TRAINING] = "1.3.6.1.2.1.43.18.1.1.3",
	[C_AL_GROUP] = "1.3.6.1.2.1.43.18.1.1.4",
	[C_AL_GROUP_INDEX] = "1.3.6.1.2.1.43.18.1.1.5",
	[C_AL_LOCATION] = "1.3.6.1.2.1.43.18.1.1.6",
	[C_AL_CODE] = "1.3.6.1.2.1.43.18.1.1.7",
	[C_AL_DESCR] = "1.3.6.1.2.1.43.18.1.1.8",
	[C_AL_TIME] = "1.3.6.1.2.1.43.18.1.1.9",
};

/* The two tables above parsed once per process: a poll looks their OIDs up a few hundred times,
 * and parsing the text again each time was 6% of its instructions (callgrind). */
static struct {
	struct snmp_oid scalar[S_COUNT], column[C_COUNT];
	bool scalar_ok[S_COUNT], column_ok[C_COUNT];
	/* The OIDs above by hash, for classify(): an open-addressed table of PREFIX_SLOTS entries
	 * (scalars and columns; one entry per OID) and the few lengths they have. */
	struct prefix_entry {
		uint32_t hash;
		uint8_t len;     /* 0: a free slot */
		bool column;
		uint8_t which;   /* enum column or enum scalar */
	} prefix[128];
	size_t lens[8], n_lens;
} parsed;
#define PREFIX_SLOTS (sizeof parsed.prefix / sizeof parsed.prefix[0])
static pthread_once_t parsed_once = PTHREAD_ONCE_INIT;

#define OID_HASH_START 2166136261u

/* FNV-1a over the sub-identifiers, one step: a prefix's hash is the start of the whole's. */
static uint32_t oid_hash_step(uint32_t h, oid arc)
{
	return (h ^ (uint32_t)arc) * 16777619u;
}

static uint32_t oid_hash(const oid *name, size_t len)
{
	uint32_t h = OID_HASH_START;
	for (size_t i = 0; i < len; i++)
		h = oid_hash_step(h, name[i]);
	return h;
}

static void prefix_add(const struct snmp_oid *o, bool column, int which)
{
	if (o->len == 0 || o->len > UINT8_MAX)
		return;
	uint32_t h = oid_hash(o->id, o->len);
	size_t i = h % PREFIX_SLOTS;
	while (parsed.prefix[i].len)
		i = (i + 1) % PREFIX_SLOTS;
	parsed.prefix[i] = (struct prefix_entry){ h, (uint8_t)o->len, column, (uint8_t)which };
	size_t l = 0;
	while (l < parsed.n_lens && parsed.lens[l] != o->len)
		l++;
	if (l == parsed.n_lens && l < N(parsed.lens))
		parsed.lens[parsed.n_lens++] = o->len;
}

static void parse_tables(void)
{
	for (int s = 0; s < S_COUNT; s++)
		if ((parsed.scalar_ok[s] = snmp_oid_from_text(scalars[s].oid, &parsed.scalar[s]) == 0))
			prefix_add(&parsed.scalar[s], false, s);
	for (int c = 0; c < C_COUNT; c++)
		if ((parsed.column_ok[c] = snmp_oid_from_text(column_oids[c], &parsed.column[c]) == 0))
			prefix_add(&parsed.column[c], true, c);
}

static int parsed_copy(const struct snmp_oid *from, bool ok, struct snmp_oid *to)
{
	if (!ok)
		return -1;
	to->len = from->len;
	memcpy(to->id, from->id, from->len * sizeof from->id[0]);
	return 0;
}

/* snmp_oid_from_text() of scalars[s].oid, of column_oids[c]. */
static int scalar_oid(enum scalar s, struct snmp_oid *o)
{
	pthread_once(&parsed_once, parse_tables);
	return parsed_copy(&parsed.scalar[s], parsed.scalar_ok[s], o);
}

static int column_oid(enum column c, struct snmp_oid *o)
{
	pthread_once(&parsed_once, parse_tables);
	return parsed_copy(&parsed.column[c], parsed.column_ok[c], o);
}

static const enum column walk_supplies[] = {
	C_SUP_COLORANT, C_SUP_CLASS, C_SUP_TYPE, C_SUP_DESCR, C_SUP_UNIT, C_SUP_MAX, C_SUP_LEVEL,
};
static const enum column walk_misc[] = {
	C_COLORANT, C_MARKER_UNIT, C_MARKER_LIFE, C_IN_UNIT, C_IN_MAX, C_IN_LEVEL, C_IN_STATUS,
	C_IN_MEDIA, C_IN_NAME, C_IN_DESCR, C_COVER_DESCR, C_COVER_STATUS, C_CONSOLE, C_IF_PHYS,
};
static const enum column walk_alerts[] = {
	C_AL_SEVERITY, C_AL_TRAINING, C_AL_GROUP, C_AL_GROUP_INDEX, C_AL_LOCATION, C_AL_CODE,
	C_AL_DESCR, C_AL_TIME,
};

/* The type each object is defined with, to tell the admin when a device sends another (the
 * value is then ignored, or a number read from text): numbers are any integer type. */
enum want { W_NUMBER, W_TEXT, W_OID };
static const enum want scalar_want[S_COUNT] = {
	[S_DESCR] = W_TEXT, [S_OBJECT_ID] = W_OID, [S_UPTIME] = W_NUMBER, [S_NAME] = W_TEXT,
	[S_LOCATION] = W_TEXT, [S_HR_TYPE] = W_OID, [S_HR_DESCR] = W_TEXT, [S_HR_STATUS] = W_NUMBER,
	[S_PR_STATUS] = W_NUMBER, [S_PR_ERRORS] = W_TEXT, [S_SERIAL] = W_TEXT, [S_ALERTS_ALL] = W_NUMBER,
};
static const enum want column_want[C_COUNT] = {
	[C_SUP_DESCR] = W_TEXT, [C_COLORANT] = W_TEXT, [C_IN_MEDIA] = W_TEXT, [C_IN_NAME] = W_TEXT,
	[C_IN_DESCR] = W_TEXT, [C_COVER_DESCR] = W_TEXT, [C_CONSOLE] = W_TEXT, [C_IF_PHYS] = W_TEXT,
	[C_HR_TYPE] = W_OID, [C_AL_DESCR] = W_TEXT, /* the rest: W_NUMBER (0) */
};

/* Walk bounds for a printer: generous for real tables, small against a hostile agent. */
static const struct snmp_walk_opts poll_walk_opts = {
	.max_rows = 500,
	.max_varbinds = 2000,
	.max_bytes = 256 * 1024,
	.max_repetitions = 64,
};

/* ---- state ----------------------------------------------------------------------------------- */

/* A varbind kept: a copy of the name and of the value (in the poll's arena). */
struct kept {
	oid *name;
	size_t name_len;
	int type;
	int64_t integer;
	unsigned char *bytes;
	size_t len;
	oid *objid;
	size_t objid_len;
	uint32_t hash;  /* oid_hash() of the name */
	int column;     /* the standard column it is a row of (enum column), or -1 */
	int scalar;     /* the scalar it is (enum scalar; an indexed one at any index), or -1 */
};

/* Memory for the kept copies: a poll keeps a few hundred small values, and a malloc and free
 * for each of three parts was a tenth of a poll's instructions (callgrind). */
struct arena_chunk {
	struct arena_chunk *next;
	size_t used, size;
	max_align_t data[];
};
#define ARENA_CHUNK (16 * 1024)

struct poll_state {
	/* the target, copied */
	char *address;
	int port;
	const struct snmp_profile *profile;
	int64_t device_id;
	void *user;
	char *hint_oid, *hint_descr;
	int guess_index;
	int64_t prev_alert_events;
	struct poll_options opts;
	poll_result_fn fn;
	void *fn_arg;

	struct kept *kept;
	size_t n_kept, cap_kept;
	size_t kept_bytes;
	bool kept_truncated;
	struct arena_chunk *arena;
	uint32_t *slots;  /* open addressing over kept by name: index + 1, 0 when free */
	size_t n_slots;   /* a power of two, at least twice n_kept */

	const struct vendor_profile *profile_asked; /* vendor scalars already in the GET */
	int found_index;  /* printer index found by the hrDeviceType walk */
	bool round1_ok;
	bool alerts_walked;
	bool alerts_ok;
	bool hex_tail;    /* the vendor's strings may end in a hex dump (set at assembly) */
	char *error;      /* first failure */
	enum snmp_status error_status;
	bool incomplete;
	char *warnings[POLL_MAX_WARNINGS];
	size_t n_warnings;
};

static void state_free(struct poll_state *st)
{
	if (!st)
		return;
	while (st->arena) {
		struct arena_chunk *next = st->arena->next;
		free(st->arena);
		st->arena = next;
	}
	free(st->kept);
	free(st->slots);
	for (size_t i = 0; i < st->n_warnings; i++)
		free(st->warnings[i]);
	free(st->address);
	free(st->hint_oid);
	free(st->hint_descr);
	free(st->error);
	free(st);
}

static void warn(struct poll_state *st, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void warn(struct poll_state *st, const char *fmt, ...)
{
	if (st->n_warnings >= POLL_MAX_WARNINGS)
		return;
	char buf[400];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	for (size_t i = 0; i < st->n_warnings; i++)
		if (strcmp(st->warnings[i], buf) == 0)
			return;
	char *w = strdup(buf);
	if (w)
		st->warnings[st->n_warnings++] = w;
}

static void note_failure(struct poll_state *st, enum snmp_status status, const char *what,
			 const char *message)
{
	st->incomplete = true;
	if (st->error)
		return;
	char buf[400];
	snprintf(buf, sizeof buf, "%s: %s", what, message ? message : "failed");
	st->error = strdup(buf);
	st->error_status = status;
}

/* n bytes (aligned for any type) that live as long as the poll state, or NULL. */
static void *arena_alloc(struct poll_state *st, size_t n)
{
	n = (n + sizeof(max_align_t) - 1) / sizeof(max_align_t) * sizeof(max_align_t);
	struct arena_chunk *c = st->arena;
	if (!c || c->size - c->used < n) {
		size_t size = n > ARENA_CHUNK ? n : ARENA_CHUNK;
		c = malloc(sizeof *c + size);
		if (!c)
			return NULL;
		c->size = size;
		c->used = 0;
		c->next = st->arena;
		st->arena = c;
	}
	void *p = (char *)c->data + c->used;
	c->used += n;
	return p;
}

static bool same_name(const struct kept *k, const oid *name, size_t len, uint32_t hash)
{
	return k->hash == hash && k->name_len == len && memcmp(k->name, name, len * sizeof(oid)) == 0;
}

/* The first kept varbind with this name, missing or not, or NULL. */
static const struct kept *lookup(const struct poll_state *st, const oid *name, size_t len)
{
	if (!st->n_slots)
		return NULL;
	uint32_t h = oid_hash(name, len);
	for (size_t i = h & (st->n_slots - 1);; i = (i + 1) & (st->n_slots - 1)) {
		uint32_t at = st->slots[i];
		if (!at)
			return NULL;
		if (same_name(&st->kept[at - 1], name, len, h))
			return &st->kept[at - 1];
	}
}

/* Indexes kept[i] by name, unless an earlier one has that name (the first answer counts). */
static int index_kept(struct poll_state *st, size_t i)
{
	if (2 * (st->n_kept + 1) > st->n_slots) {
		size_t n = st->n_slots ? 2 * st->n_slots : 256;
		uint32_t *slots = calloc(n, sizeof *slots);
		if (!slots)
			return -1;
		for (size_t j = 0; j < st->n_slots; j++) {
			uint32_t at = st->slots[j];
			if (!at)
				continue;
			size_t p = st->kept[at - 1].hash & (n - 1);
			while (slots[p])
				p = (p + 1) & (n - 1);
			slots[p] = at;
		}
		free(st->slots);
		st->slots = slots;
		st->n_slots = n;
	}
	const struct kept *k = &st->kept[i];
	size_t p = k->hash & (st->n_slots - 1);
	for (; st->slots[p]; p = (p + 1) & (st->n_slots - 1))
		if (same_name(&st->kept[st->slots[p] - 1], k->name, k->name_len, k->hash))
			return 0;
	st->slots[p] = (uint32_t)(i + 1);
	return 0;
}

/* Which standard column and scalar the name belongs to: its prefixes of the tables' lengths
 * looked up by hash (a loop over the tables was a twentieth of a poll's instructions). */
static void classify(struct kept *k)
{
	pthread_once(&parsed_once, parse_tables);
	uint32_t prefix[MAX_OID_LEN + 1];
	uint32_t h = OID_HASH_START;
	size_t len = k->name_len < MAX_OID_LEN ? k->name_len : MAX_OID_LEN;
	prefix[0] = h;
	for (size_t i = 0; i < len; i++)
		prefix[i + 1] = h = oid_hash_step(h, k->name[i]);
	k->hash = k->name_len <= MAX_OID_LEN ? h : oid_hash(k->name, k->name_len);
	k->column = k->scalar = -1;
	for (size_t l = 0; l < parsed.n_lens; l++) {
		size_t plen = parsed.lens[l];
		if (plen > len)
			continue;
		for (size_t i = prefix[plen] % PREFIX_SLOTS; parsed.prefix[i].len; i = (i + 1) % PREFIX_SLOTS) {
			const struct prefix_entry *e = &parsed.prefix[i];
			if (e->hash != prefix[plen] || e->len != plen)
				continue;
			const struct snmp_oid *o = e->column ? &parsed.column[e->which] : &parsed.scalar[e->which];
			if (memcmp(k->name, o->id, plen * sizeof(oid)) != 0)
				continue;
			if (e->column && k->column < 0 && k->name_len > plen && k->name_len - plen <= MAX_SUFFIX)
				k->column = e->which;
			else if (!e->column && k->scalar < 0 &&
				 k->name_len == plen + (scalars[e->which].indexed ? 1 : 0))
				k->scalar = e->which;
		}
	}
}

/* Keeps a copy of a varbind (within the poll's bounds). */
static void keep(struct poll_state *st, const netsnmp_variable_list *vb)
{
	if (st->n_kept >= POLL_MAX_VBS || st->kept_bytes + vb->val_len > POLL_MAX_BYTES) {
		if (!st->kept_truncated)
			warn(st, "the device sent more than this poll keeps (%d values, %u bytes): the "
			     "rest was dropped", POLL_MAX_VBS, POLL_MAX_BYTES);
		st->kept_truncated = true;
		return;
	}
	struct kept *grown = array_grow(st->kept, st->n_kept, &st->cap_kept, sizeof *grown, 128);
	if (!grown)
		return;
	st->kept = grown;
	struct kept *k = &st->kept[st->n_kept];
	memset(k, 0, sizeof *k);
	struct snmp_value v;
	snmp_value_of(vb, &v);
	size_t name_bytes = vb->name_length * sizeof(oid);
	size_t objid_bytes = v.objid ? v.objid_len * sizeof(oid) : 0;
	size_t value_bytes = v.bytes ? v.len : 0;
	/* one block: the name, then the OID value, then the bytes (the alignment of oid first) */
	char *mem = arena_alloc(st, name_bytes + objid_bytes + value_bytes + 1);
	if (!mem)
		return;
	k->name = (oid *)mem;
	memcpy(k->name, vb->name, name_bytes);
	k->name_len = vb->name_length;
	k->type = v.type;
	k->integer = v.integer;
	if (objid_bytes) {
		k->objid = (oid *)(mem + name_bytes);
		memcpy(k->objid, v.objid, objid_bytes);
		k->objid_len = v.objid_len;
	}
	if (value_bytes) {
		k->bytes = (unsigned char *)mem + name_bytes + objid_bytes;
		memcpy(k->bytes, v.bytes, value_bytes);
		k->len = v.len;
	}
	classify(k);
	if (index_kept(st, st->n_kept) < 0)
		return;
	st->kept_bytes += v.len + name_bytes;
	st->n_kept++;
}

static void kept_value(const struct kept *k, struct snmp_value *v)
{
	memset(v, 0, sizeof *v);
	v->type = k->type;
	v->integer = k->integer;
	v->bytes = k->bytes;
	v->len = k->len;
	v->objid = k->objid;
	v->objid_len = k->objid_len;
}

/* The kept varbind with exactly this OID, or NULL (missing values count as absent). */
static const struct kept *find_exact(const struct poll_state *st, const struct snmp_oid *o)
{
	const struct kept *k = lookup(st, o->id, o->len);
	if (!k)
		return NULL;
	struct snmp_value v;
	kept_value(k, &v);
	return decode_is_missing(&v) ? NULL : k;
}

static const struct kept *find_text_oid(const struct poll_state *st, const char *text)
{
	struct snmp_oid o;
	if (!text || snmp_oid_from_text(text, &o) < 0)
		return NULL;
	return find_exact(st, &o);
}

static const struct kept *find_scalar(const struct poll_state *st, enum scalar s, int index)
{
	struct snmp_oid o;
	if (scalar_oid(s, &o) < 0)
		return NULL;
	if (scalars[s].indexed) {
		if (index < 0)
			return NULL;
		o.id[o.len++] = (oid)index;
	}
	return find_exact(st, &o);
}

/* Index suffix of k under column c (the sub-identifiers after the column's OID). Returns the
 * number of sub-identifiers (1..MAX_SUFFIX), or 0 when k is not a row of c. */
static size_t row_of(const struct kept *k, const struct snmp_oid *col, unsigned long *idx)
{
	if (k->name_len <= col->len || k->name_len - col->len > MAX_SUFFIX ||
	    memcmp(k->name, col->id, col->len * sizeof(oid)) != 0)
		return 0;
	size_t n = k->name_len - col->len;
	for (size_t i = 0; i < n; i++)
		idx[i] = k->name[col->len + i];
	return n;
}

/* Index suffix of k under standard column c (as row_of, from the classification of k). */
static size_t row_in(const struct kept *k, enum column c, unsigned long *idx)
{
	if (k->column != (int)c)
		return 0;
	size_t at = parsed.column[c].len, n = k->name_len - at;
	for (size_t i = 0; i < n; i++)
		idx[i] = k->name[at + i];
	return n;
}

/* The kept value of column c at exactly this index, or NULL. */
static const struct kept *find_cell(const struct poll_state *st, const struct snmp_oid *col,
				    const unsigned long *idx, size_t n)
{
	struct snmp_oid o;
	if (col->len + n > MAX_OID_LEN)
		return NULL;
	o.len = col->len;
	memcpy(o.id, col->id, col->len * sizeof o.id[0]); /* not the whole 1 KB struct */
	for (size_t i = 0; i < n; i++)
		o.id[o.len++] = idx[i];
	return find_exact(st, &o);
}

/* The cleaned text of a kept OCTET STRING (NULL when absent or empty). pml: an HP PML string
 * (prefix and hex dump cut off); hex_tail: re-join a text whose end was sent as a hex dump. */
static char *text_of(const struct kept *k, bool pml, bool hex_tail)
{
	if (!k || (k->type != SNMPV_OCTETS && k->type != SNMPV_OPAQUE))
		return NULL;
	const unsigned char *s = k->bytes;
	size_t n = k->len;
	unsigned char *joined = NULL;
	if (pml) {
		decode_pml_text(k->bytes, k->len, &s, &n);
	} else if (hex_tail && n && (joined = malloc(n))) {
		int j = decode_hex_tail(k->bytes, k->len, joined);
		if (j >= 0) {
			s = joined;
			n = (size_t)j;
		}
	}
	char *t = text_from_device(s ? s : (const unsigned char *)"", n);
	free(joined);
	if (t && !*t) {
		free(t);
		return NULL;
	}
	return t;
}

static bool int_of(const struct kept *k, int64_t *out)
{
	if (!k)
		return false;
	struct snmp_value v;
	kept_value(k, &v);
	return decode_int(&v, out) == 0;
}

static int clamp_int(int64_t v)
{
	return v > INT32_MAX ? INT32_MAX : v < INT32_MIN ? INT32_MIN : (int)v;
}

/* ---- requests -------------------------------------------------------------------------------- */

static void keep_all(struct poll_state *st, const netsnmp_variable_list *vars)
{
	for (const netsnmp_variable_list *v = vars; v; v = v->next_variable)
		keep(st, v);
}

struct walk_ctx {
	struct poll_state *st;
	const char *what;
	bool find_printer;
	bool *ok;          /* set when the walk ended normally */
};

static void on_walk_vb(void *arg, size_t column, const netsnmp_variable_list *vb)
{
	(void)column;
	struct walk_ctx *w = arg;
	keep(w->st, vb);
}

static void round3(struct snmp_job *job, struct poll_state *st);

static void on_walk_done(struct snmp_job *job, const struct snmp_walk_result *res, void *arg)
{
	struct walk_ctx *w = arg;
	struct poll_state *st = w->st;
	if (res->status != SNMP_OK)
		note_failure(st, res->status, w->what, res->message);
	else if (res->message)
		warn(st, "%s: %s", w->what, res->message);
	if (w->ok)
		*w->ok = res->status == SNMP_OK;
	if (w->find_printer && res->status == SNMP_OK)
		round3(job, st);
	free(w);
}

static int start_walk(struct snmp_job *job, struct poll_state *st, const enum column *cols,
		      size_t n, bool with_hr_type, const char *what, bool *ok)
{
	struct snmp_oid oids[SNMP_WALK_MAX_COLUMNS];
	size_t k = 0;
	for (size_t i = 0; i < n && k < SNMP_WALK_MAX_COLUMNS; i++)
		if (column_oid(cols[i], &oids[k]) == 0)
			k++;
	if (with_hr_type && k < SNMP_WALK_MAX_COLUMNS &&
	    column_oid(C_HR_TYPE, &oids[k]) == 0)
		k++;
	struct walk_ctx *w = calloc(1, sizeof *w);
	if (!w)
		return -1;
	w->st = st;
	w->what = what;
	w->find_printer = with_hr_type;
	w->ok = ok;
	if (snmp_job_walk(job, oids, k, &poll_walk_opts, on_walk_vb, on_walk_done, w) < 0) {
		free(w);
		return -1;
	}
	return 0;
}

static void on_get(struct snmp_job *job, const struct snmp_reply *r, void *arg)
{
	(void)job;
	struct poll_state *st = arg;
	keep_all(st, r->vars);
	if (r->status != SNMP_OK)
		note_failure(st, r->status, "vendor values", r->message);
}

/* Adds the OIDs a vendor profile reads with GET (identity and scalar counters) to oids. */
static size_t profile_oids(const struct vendor_profile *p, struct snmp_oid *oids, size_t max)
{
	size_t n = 0;
	const char *identity[] = { p->model_oid, p->serial_oid, p->firmware_oid };
	for (size_t i = 0; i < N(identity); i++)
		if (identity[i] && n < max && snmp_oid_from_text(identity[i], &oids[n]) == 0)
			n++;
	for (size_t i = 0; i < p->n_scalars; i++)
		for (size_t k = 0; k < COUNTER_MAX_OIDS && p->scalars[i].oids[k]; k++) {
			if (n >= max || snmp_oid_from_text(p->scalars[i].oids[k], &oids[n]) < 0)
				continue;
			bool dup = false;
			for (size_t d = 0; d < n && !dup; d++)
				dup = snmp_oid_compare(oids[d].id, oids[d].len, oids[n].id, oids[n].len) == 0;
			if (!dup)
				n++;
		}
	return n;
}

static const struct vendor_profile *profile_of(const char *oid_text, const char *descr)
{
	struct vendor_ident id;
	if (vendor_identify(oid_text, descr, &id) < 0)
		return NULL;
	return id.profile;
}

/* The text of a kept OCTET STRING, as a C string for identification (cleaned). */
static char *scalar_text(const struct poll_state *st, enum scalar s)
{
	return text_of(find_scalar(st, s, 0), false, st->hex_tail);
}

static char *scalar_oid_text(const struct poll_state *st, enum scalar s)
{
	const struct kept *k = find_scalar(st, s, 0);
	if (!k || k->type != SNMPV_OID)
		return NULL;
	char buf[512];
	return strdup(decode_oid_format(k->objid, k->objid_len, buf, sizeof buf));
}

static bool printer_at_guess(const struct poll_state *st)
{
	const struct kept *t = find_scalar(st, S_HR_TYPE, st->guess_index);
	if (t && t->type == SNMPV_OID) {
		char buf[128];
		return strcmp(decode_oid_format(t->objid, t->objid_len, buf, sizeof buf),
			      HR_PRINTER_TYPE) == 0;
	}
	/* No hrDeviceType there: hrPrinterTable rows exist only for printers. */
	return find_scalar(st, S_PR_STATUS, st->guess_index) ||
	       find_scalar(st, S_PR_ERRORS, st->guess_index);
}

static void round2(struct snmp_job *job, struct poll_state *st)
{
	char *oid_text = scalar_oid_text(st, S_OBJECT_ID);
	char *descr = scalar_text(st, S_DESCR);
	const struct vendor_profile *p = profile_of(oid_text, descr);
	free(oid_text);
	free(descr);

	bool find_printer = !printer_at_guess(st);
	if (start_walk(job, st, walk_supplies, N(walk_supplies), false, "supplies walk", NULL) < 0 ||
	    start_walk(job, st, walk_misc, N(walk_misc), find_printer, "printer tables walk", NULL) < 0)
		note_failure(st, SNMP_ABORTED, "walks", snmp_job_abort_reason(job));

	/* The alert table only when prtAlertAllEvents moved (or cannot tell). */
	int64_t events;
	bool known = int_of(find_scalar(st, S_ALERTS_ALL, st->guess_index), &events);
	if (!known || st->prev_alert_events < 0 || events != st->prev_alert_events) {
		st->alerts_walked = true;
		if (start_walk(job, st, walk_alerts, N(walk_alerts), false, "alert table walk",
			       &st->alerts_ok) < 0)
			note_failure(st, SNMP_ABORTED, "walks", snmp_job_abort_reason(job));
	}

	if (p && p != st->profile_asked) {
		struct snmp_oid oids[64];
		size_t n = profile_oids(p, oids, N(oids));
		if (n && snmp_job_get(job, oids, n, on_get, st) < 0)
			note_failure(st, SNMP_ABORTED, "vendor values", snmp_job_abort_reason(job));
	}
	if (p) {
		/* The vendor's tables (counters, private supply levels) in one walk. */
		struct snmp_oid cols[SNMP_WALK_MAX_COLUMNS];
		size_t n = 0;
		for (size_t t = 0; t < p->n_tables && n + 2 <= N(cols); t++) {
			if (snmp_oid_from_text(p->tables[t].value_column, &cols[n]) == 0)
				n++;
			if (p->tables[t].type_column &&
			    snmp_oid_from_text(p->tables[t].type_column, &cols[n]) == 0)
				n++;
		}
		if (p->supply_level_column && n < N(cols) &&
		    snmp_oid_from_text(p->supply_level_column, &cols[n]) == 0)
			n++;
		struct walk_ctx *w = n ? calloc(1, sizeof *w) : NULL;
		if (w) {
			w->st = st;
			w->what = "vendor tables walk";
			if (snmp_job_walk(job, cols, n, &poll_walk_opts, on_walk_vb, on_walk_done, w) < 0)
				free(w);
		}
	}
}

/* The printer is not at the guessed index: ask its rows where the hrDeviceType walk found it. */
static void round3(struct snmp_job *job, struct poll_state *st)
{
	for (size_t i = 0; i < st->n_kept; i++) {
		unsigned long idx[MAX_SUFFIX];
		const struct kept *k = &st->kept[i];
		if (row_in(k, C_HR_TYPE, idx) != 1 || k->type != SNMPV_OID)
			continue;
		char buf[128];
		if (strcmp(decode_oid_format(k->objid, k->objid_len, buf, sizeof buf),
			   HR_PRINTER_TYPE) != 0)
			continue;
		if ((int)idx[0] == st->guess_index || idx[0] > INT32_MAX)
			return;
		st->found_index = (int)idx[0];
		struct snmp_oid oids[S_COUNT];
		size_t n = 0;
		for (int s = 0; s < S_COUNT; s++) {
			if (!scalars[s].indexed || scalar_oid(s, &oids[n]) < 0)
				continue;
			oids[n].id[oids[n].len++] = idx[0];
			n++;
		}
		if (snmp_job_get(job, oids, n, on_get, st) < 0)
			note_failure(st, SNMP_ABORTED, "printer values", snmp_job_abort_reason(job));
		return;
	}
}

static void on_round1(struct snmp_job *job, const struct snmp_reply *r, void *arg)
{
	struct poll_state *st = arg;
	keep_all(st, r->vars);
	if (r->status != SNMP_OK) {
		note_failure(st, r->status, "first request", r->message);
		return;
	}
	if (r->errstat != SNMP_ERR_NOERROR) {
		char msg[160];
		snprintf(msg, sizeof msg, "error %ld (%s)", r->errstat,
			 snmp_errstring((int)r->errstat));
		note_failure(st, SNMP_OK, "first request", msg);
		return;
	}
	st->round1_ok = true;
	round2(job, st);
}

static void poll_start(struct snmp_job *job, void *arg)
{
	struct poll_state *st = arg;
	struct snmp_oid oids[S_COUNT + 64];
	size_t n = 0;
	for (int s = 0; s < S_COUNT; s++) {
		if (scalar_oid(s, &oids[n]) < 0)
			continue;
		if (scalars[s].indexed)
			oids[n].id[oids[n].len++] = (oid)st->guess_index;
		n++;
	}
	/* The vendor known from the last poll: its scalars ride along in the first packet. */
	const struct vendor_profile *p = profile_of(st->hint_oid, st->hint_descr);
	if (p) {
		n += profile_oids(p, oids + n, N(oids) - n);
		st->profile_asked = p;
	}
	if (snmp_job_get(job, oids, n, on_round1, st) < 0)
		note_failure(st, SNMP_ABORTED, "first request", snmp_job_abort_reason(job));
}

/* ---- assembly -------------------------------------------------------------------------------- */

static void add_warning_to(struct poll_result *res, const char *w)
{
	char **a = realloc(res->warnings, (res->n_warnings + 1) * sizeof *a);
	if (!a)
		return;
	res->warnings = a;
	a[res->n_warnings] = strdup(w);
	if (a[res->n_warnings])
		res->n_warnings++;
}

static void assemble_identity(struct poll_state *st, struct poll_result *res,
			      const struct vendor_ident *id, int pidx)
{
	struct device *d = &res->device;
	d->sys_descr = scalar_text(st, S_DESCR);
	d->sys_name = scalar_text(st, S_NAME);
	d->location = scalar_text(st, S_LOCATION);
	d->sys_object_id = scalar_oid_text(st, S_OBJECT_ID);
	int64_t ticks;
	if (int_of(find_scalar(st, S_UPTIME, 0), &ticks))
		d->uptime_ticks = ticks;
	if (id->vendor)
		d->vendor = strdup(id->vendor);
	if (id->brand)
		res->brand = strdup(id->brand);
	const struct vendor_profile *p = id->profile;
	res->profile_name = p ? p->name : NULL;
	bool pml = p && p->pml_strings;

	/* model: the vendor's own OID, the printer's hrDeviceDescr, a rule on sysDescr, sysDescr */
	if (p && p->model_oid)
		d->model = text_of(find_text_oid(st, p->model_oid), pml, st->hex_tail);
	if (!d->model)
		d->model = text_of(find_scalar(st, S_HR_DESCR, pidx), false, st->hex_tail);
	if (!d->model && p && d->sys_descr) {
		char *m = vendor_descr_field(d->sys_descr, &p->model_rule);
		d->model = m ? text_clean(m) : NULL;
		free(m);
	}
	if (!d->model && d->sys_descr) {
		size_t cut = strcspn(d->sys_descr, ";,");
		char *m = strndup(d->sys_descr, cut);
		d->model = m ? text_clean(m) : NULL;
		free(m);
	}
	/* serial: the Printer-MIB, the vendor's OID, a rule on sysDescr */
	d->serial = text_of(find_scalar(st, S_SERIAL, pidx), false, st->hex_tail);
	if (!d->serial && p && p->serial_oid)
		d->serial = text_of(find_text_oid(st, p->serial_oid), pml, st->hex_tail);
	if (!d->serial && p && d->sys_descr) {
		char *s = vendor_descr_field(d->sys_descr, &p->serial_rule);
		d->serial = s ? text_clean(s) : NULL;
		free(s);
	}
	/* firmware: the vendor's OID, a rule on sysDescr */
	if (p && p->firmware_oid)
		d->firmware = text_of(find_text_oid(st, p->firmware_oid), pml, st->hex_tail);
	if (!d->firmware && p && d->sys_descr) {
		char *f = vendor_descr_field(d->sys_descr, &p->firmware_rule);
		d->firmware = f ? text_clean(f) : NULL;
		free(f);
	}
	/* MAC: the first interface with a real 6-byte address */
	for (size_t i = 0; i < st->n_kept && !d->mac; i++) {
		unsigned long idx[MAX_SUFFIX];
		const struct kept *k = &st->kept[i];
		if (!row_in(k, C_IF_PHYS, idx) || k->type != SNMPV_OCTETS || k->len != 6)
			continue;
		bool zero = true;
		for (size_t b = 0; b < 6; b++)
			zero = zero && k->bytes[b] == 0;
		char mac[TEXT_MAC_LEN];
		if (!zero && text_mac(k->bytes, k->len, mac) == 0)
			d->mac = strdup(mac);
	}
}

static void assemble_status(struct poll_state *st, struct poll_result *res, int pidx)
{
	struct device *d = &res->device;
	int64_t v;
	if (int_of(find_scalar(st, S_HR_STATUS, pidx), &v))
		d->status_device = clamp_int(v);
	if (int_of(find_scalar(st, S_PR_STATUS, pidx), &v))
		d->status_printer = clamp_int(v);
	const struct kept *e = find_scalar(st, S_PR_ERRORS, pidx);
	if (e) {
		struct snmp_value sv;
		kept_value(e, &sv);
		uint32_t bits;
		if (decode_error_bits(&sv, &bits) == 0) {
			d->error_bits = bits;
			d->error_bits_known = true;
		}
	}
	res->alert_all_events = -1;
	if (int_of(find_scalar(st, S_ALERTS_ALL, pidx), &v))
		res->alert_all_events = v;

	/* Front panel: the console lines in order, joined. */
	char buf[TEXT_MAX];
	size_t at = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < st->n_kept; i++) {
		unsigned long idx[MAX_SUFFIX];
		if (!row_in(&st->kept[i], C_CONSOLE, idx))
			continue;
		char *line = text_of(&st->kept[i], false, st->hex_tail);
		if (line && at < sizeof buf - 1)
			at += (size_t)snprintf(buf + at, sizeof buf - at, "%s%s", at ? " | " : "", line);
		free(line);
		if (at >= sizeof buf)
			at = sizeof buf - 1;
	}
	if (at)
		d->panel_text = text_clean(buf);
}

static int cell_int(const struct poll_state *st, const struct snmp_oid *cols, enum column c,
		    const unsigned long *idx, size_t n, int fallback)
{
	int64_t v;
	return int_of(find_cell(st, &cols[c], idx, n), &v) ? clamp_int(v) : fallback;
}

/* Supply types that collect waste (IANA PrtMarkerSuppliesTypeTC): wasteToner, wasteInk,
 * wasteWax, wasteWater, wastePaper. */
static bool is_waste_type(int type)
{
	static const int waste[] = { 4, 8, 14, 24, 26 };
	for (size_t i = 0; i < N(waste); i++)
		if (waste[i] == type)
			return true;
	return false;
}

/* The vendor's private level (percent, 0..100) for supply index, when it has one. */
static bool private_level(const struct poll_state *st, const struct vendor_profile *p,
			  unsigned long index, int64_t *out)
{
	struct snmp_oid col;
	if (!p || !p->supply_level_column || snmp_oid_from_text(p->supply_level_column, &col) < 0)
		return false;
	int64_t v;
	if (!int_of(find_cell(st, &col, &index, 1), &v) || v < 0 || v > 100)
		return false;
	*out = v;
	return true;
}

static void assemble_supplies(struct poll_state *st, struct poll_result *res,
			      const struct snmp_oid *cols, const struct vendor_profile *p)
{
	struct device *d = &res->device;
	/* One supply per row of any supply column (descriptions are the most reliable). */
	static const enum column keys[] = { C_SUP_DESCR, C_SUP_LEVEL, C_SUP_TYPE, C_SUP_MAX };
	for (size_t kc = 0; kc < N(keys); kc++) {
		for (size_t i = 0; i < st->n_kept; i++) {
			unsigned long idx[MAX_SUFFIX];
			size_t n = row_in(&st->kept[i], keys[kc], idx);
			if (n != 2)
				continue;
			bool seen = false;
			for (size_t s = 0; s < d->n_supplies && !seen; s++)
				seen = d->supplies[s].index == (int)idx[1];
			if (seen || idx[1] > INT32_MAX)
				continue;
			struct supply *a = realloc(d->supplies, (d->n_supplies + 1) * sizeof *a);
			if (!a)
				return;
			d->supplies = a;
			struct supply *s = &a[d->n_supplies++];
			memset(s, 0, sizeof *s);
			s->index = (int)idx[1];
			s->klass = cell_int(st, cols, C_SUP_CLASS, idx, 2, 0);
			s->type = cell_int(st, cols, C_SUP_TYPE, idx, 2, 0);
			if (s->klass == 0 && is_waste_type(s->type))
				s->klass = SUPPLY_CLASS_RECEPTACLE; /* class not sent: a waste box fills up */
			s->unit = cell_int(st, cols, C_SUP_UNIT, idx, 2, 0);
			s->max = cell_int(st, cols, C_SUP_MAX, idx, 2, SUPPLY_VALUE_UNKNOWN);
			s->level = cell_int(st, cols, C_SUP_LEVEL, idx, 2, SUPPLY_VALUE_UNKNOWN);
			int64_t priv;
			if (s->level < 0 && s->level != SUPPLY_VALUE_OTHER && private_level(st, p, idx[1], &priv)) {
				/* Ricoh: the real level, in percent, is in its private column. */
				s->level = (int)priv;
				s->max = 100;
				s->unit = 19;
			} else if (p && (p->quirks & QUIRK_LEVEL_MINUS100_EMPTY) && s->level == -100) {
				s->level = 0;
			}
			s->description = text_of(find_cell(st, &cols[C_SUP_DESCR], idx, 2), false, st->hex_tail);
			int64_t ci;
			if (int_of(find_cell(st, &cols[C_SUP_COLORANT], idx, 2), &ci) && ci > 0) {
				unsigned long cidx[2] = { idx[0], (unsigned long)ci };
				s->colorant = text_of(find_cell(st, &cols[C_COLORANT], cidx, 2), false, st->hex_tail);
			}
		}
	}
}

static void assemble_trays_covers(struct poll_state *st, struct poll_result *res,
				  const struct snmp_oid *cols)
{
	struct device *d = &res->device;
	for (size_t i = 0; i < st->n_kept; i++) {
		unsigned long idx[MAX_SUFFIX];
		const struct kept *k = &st->kept[i];
		enum column key = C_COUNT;
		if (row_in(k, C_IN_NAME, idx) == 2 || row_in(k, C_IN_MAX, idx) == 2)
			key = C_IN_NAME;
		else if (row_in(k, C_COVER_STATUS, idx) == 2)
			key = C_COVER_STATUS;
		if (key == C_COUNT || idx[1] > INT32_MAX)
			continue;
		if (key == C_IN_NAME) {
			bool seen = false;
			for (size_t t = 0; t < d->n_trays && !seen; t++)
				seen = d->trays[t].index == (int)idx[1];
			if (seen)
				continue;
			struct tray *a = realloc(d->trays, (d->n_trays + 1) * sizeof *a);
			if (!a)
				return;
			d->trays = a;
			struct tray *t = &a[d->n_trays++];
			memset(t, 0, sizeof *t);
			t->index = (int)idx[1];
			t->name = text_of(find_cell(st, &cols[C_IN_NAME], idx, 2), false, st->hex_tail);
			t->description = text_of(find_cell(st, &cols[C_IN_DESCR], idx, 2), false, st->hex_tail);
			t->unit = cell_int(st, cols, C_IN_UNIT, idx, 2, 0);
			t->max = cell_int(st, cols, C_IN_MAX, idx, 2, SUPPLY_VALUE_UNKNOWN);
			t->level = cell_int(st, cols, C_IN_LEVEL, idx, 2, SUPPLY_VALUE_UNKNOWN);
			t->status = cell_int(st, cols, C_IN_STATUS, idx, 2, TRAY_STATUS_NONE);
			t->media = text_of(find_cell(st, &cols[C_IN_MEDIA], idx, 2), false, st->hex_tail);
		} else {
			bool seen = false;
			for (size_t c = 0; c < d->n_covers && !seen; c++)
				seen = d->covers[c].index == (int)idx[1];
			if (seen)
				continue;
			struct cover *a = realloc(d->covers, (d->n_covers + 1) * sizeof *a);
			if (!a)
				return;
			d->covers = a;
			struct cover *c = &a[d->n_covers++];
			memset(c, 0, sizeof *c);
			c->index = (int)idx[1];
			c->description = text_of(find_cell(st, &cols[C_COVER_DESCR], idx, 2), false, st->hex_tail);
			c->status = cell_int(st, cols, C_COVER_STATUS, idx, 2, 0);
		}
	}
}

static void assemble_alerts(struct poll_state *st, struct poll_result *res,
			    const struct snmp_oid *cols)
{
	struct device *d = &res->device;
	for (size_t i = 0; i < st->n_kept; i++) {
		unsigned long idx[MAX_SUFFIX];
		if (row_in(&st->kept[i], C_AL_SEVERITY, idx) != 2 || idx[1] > INT32_MAX)
			continue;
		struct alert *a = realloc(d->alerts, (d->n_alerts + 1) * sizeof *a);
		if (!a)
			return;
		d->alerts = a;
		struct alert *al = &a[d->n_alerts++];
		memset(al, 0, sizeof *al);
		al->index = (int)idx[1];
		al->severity = cell_int(st, cols, C_AL_SEVERITY, idx, 2, 0);
		al->training = cell_int(st, cols, C_AL_TRAINING, idx, 2, 0);
		al->group = cell_int(st, cols, C_AL_GROUP, idx, 2, 0);
		al->group_index = cell_int(st, cols, C_AL_GROUP_INDEX, idx, 2, 0);
		al->location = cell_int(st, cols, C_AL_LOCATION, idx, 2, 0);
		al->code = cell_int(st, cols, C_AL_CODE, idx, 2, 0);
		al->description = text_of(find_cell(st, &cols[C_AL_DESCR], idx, 2), false, st->hex_tail);
		int64_t t;
		if (int_of(find_cell(st, &cols[C_AL_TIME], idx, 2), &t))
			al->time_ticks = t;
	}
}

/* ---- meters ---------------------------------------------------------------------------------- */

static bool has_meter(const struct device *d, const char *name)
{
	return device_meter(d, name) != NULL;
}

static void add_meter(struct device *d, const char *name, int64_t value, int unit,
		      const char *oid_text, const char *raw, int64_t now)
{
	struct meter *a = realloc(d->meters, (d->n_meters + 1) * sizeof *a);
	if (!a)
		return;
	d->meters = a;
	struct meter *m = &a[d->n_meters];
	memset(m, 0, sizeof *m);
	m->name = strdup(name);
	m->oid = strdup(oid_text ? oid_text : "");
	m->raw = strdup(raw ? raw : "");
	if (!m->name || !m->oid || !m->raw) {
		free(m->name);
		free(m->oid);
		free(m->raw);
		return;
	}
	m->value = value;
	m->unit = unit;
	m->read_at = now;
	d->n_meters++;
}

/* Appends "+text" (or "text" when empty) to buf, bounded. */
static void join(char *buf, size_t len, const char *text)
{
	size_t at = strlen(buf);
	if (at && at < len - 1)
		buf[at++] = '+';
	size_t n = strlen(text);
	if (n > len - 1 - at)
		n = len - 1 - at; /* a long list of sources is cut, never overflows */
	memcpy(buf + at, text, n);
	buf[at + n] = '\0';
}

/* Appends "; text" (or "text" when empty) to buf, bounded. */
static void join_sentence(char *buf, size_t len, const char *text)
{
	size_t at = strlen(buf);
	if (at < len - 1)
		snprintf(buf + at, len - at, "%s%s", at ? "; " : "", text);
}

static char *printable(const struct kept *k)
{
	struct snmp_value v;
	kept_value(k, &v);
	return decode_printable(&v);
}

/* A vendor meter named like a standard one goes in under "vendor-" when the standard one is
 * there already (the life count is "total"). */
static void add_vendor_meter(struct device *d, const char *name, int64_t value, int unit,
			     const char *oid_text, const char *raw, int64_t now)
{
	char alt[64];
	if (has_meter(d, name)) {
		snprintf(alt, sizeof alt, "vendor-%s", name);
		if (has_meter(d, alt))
			return;
		name = alt;
	}
	add_meter(d, name, value, unit, oid_text, raw, now);
}

static void meters_from_scalars(struct poll_state *st, struct device *d,
				const struct vendor_profile *p, int64_t now)
{
	char done_names[64][48];
	size_t n_done = 0;
	for (size_t i = 0; i < p->n_scalars; i++) {
		const struct counter_scalar *c = &p->scalars[i];
		if (c->decoding == COUNTER_BROTHER_BLOB) {
			const struct kept *k = find_text_oid(st, c->oids[0]);
			if (!k || k->type != SNMPV_OCTETS)
				continue;
			struct brother_counter rec[32];
			int n = decode_brother_counters(k->bytes, k->len, rec, N(rec));
			char *raw = printable(k);
			for (int r = 0; r < n; r++) {
				const char *meter = NULL;
				for (size_t cc = 0; cc < c->n_codes && !meter; cc++)
					if (c->codes[cc].code == (long)rec[r].code)
						meter = c->codes[cc].meter;
				if (meter)
					add_vendor_meter(d, meter, rec[r].value, c->unit, c->oids[0], raw,
							 now);
			}
			free(raw);
			continue;
		}
		bool already = false;
		for (size_t k = 0; k < n_done && !already; k++)
			already = strcmp(done_names[k], c->meter) == 0;
		if (already)
			continue;
		int64_t sum = 0;
		char oids[512] = "", raws[512] = "";
		bool all = true;
		for (size_t o = 0; o < COUNTER_MAX_OIDS && c->oids[o] && all; o++) {
			const struct kept *k = find_text_oid(st, c->oids[o]);
			int64_t v = 0;
			struct snmp_value sv;
			if (k)
				kept_value(k, &sv);
			if (!k) {
				all = false;
			} else if (c->decoding == COUNTER_HP_FLOAT) {
				double f;
				if (k->type != SNMPV_OCTETS || decode_hp_float(k->bytes, k->len, &f) < 0 ||
				    f < 0 || f > 9e15)
					all = false;
				else
					v = (int64_t)(f + 0.5);
			} else if (c->decoding == COUNTER_TEXT_NUMBER) {
				if (k->type != SNMPV_OCTETS || decode_counter(&sv, &v) < 0)
					all = false;
			} else if (decode_counter(&sv, &v) < 0) {
				all = false;
			}
			/* a hostile device's huge counters must not overflow into a negative meter */
			if (!all || __builtin_add_overflow(sum, v, &sum)) {
				all = false;
				break;
			}
			join(oids, sizeof oids, c->oids[o]);
			char *raw = printable(k);
			join(raws, sizeof raws, raw ? raw : "");
			free(raw);
		}
		if (!all)
			continue;
		add_vendor_meter(d, c->meter, sum, c->unit, oids, raws, now);
		if (n_done < N(done_names))
			snprintf(done_names[n_done++], sizeof done_names[0], "%s", c->meter);
	}
}

static void meters_from_tables(struct poll_state *st, struct device *d,
			       const struct vendor_profile *p, int64_t now)
{
	for (size_t t = 0; t < p->n_tables; t++) {
		const struct counter_table *tab = &p->tables[t];
		struct snmp_oid vcol, tcol;
		if (snmp_oid_from_text(tab->value_column, &vcol) < 0)
			continue;
		bool typed = tab->type_column && snmp_oid_from_text(tab->type_column, &tcol) == 0;
		/* Sum per meter in the order the profile names them. */
		const char *names[32];
		int64_t sums[32];
		bool overflowed[32];
		char oids[32][256], raws[32][256];
		size_t n_names = 0;
		for (size_t i = 0; i < st->n_kept; i++) {
			unsigned long idx[MAX_SUFFIX];
			const struct kept *k = &st->kept[i];
			size_t n = row_of(k, &vcol, idx);
			if (!n)
				continue;
			int64_t code;
			if (typed) {
				if (!int_of(find_cell(st, &tcol, idx, n), &code))
					continue;
			} else {
				code = (int64_t)idx[n - 1];
			}
			struct snmp_value sv;
			kept_value(k, &sv);
			int64_t v;
			if (decode_counter(&sv, &v) < 0)
				continue;
			char o[256];
			decode_oid_format(k->name, k->name_len, o, sizeof o);
			char *raw = printable(k);
			for (size_t c = 0; c < tab->n_codes; c++) {
				if (tab->codes[c].code != code)
					continue;
				size_t m = 0;
				while (m < n_names && strcmp(names[m], tab->codes[c].meter) != 0)
					m++;
				if (m == n_names) {
					if (n_names == N(names))
						continue;
					names[m] = tab->codes[c].meter;
					sums[m] = 0;
					overflowed[m] = false;
					oids[m][0] = raws[m][0] = '\0';
					n_names++;
				}
				if (__builtin_add_overflow(sums[m], v, &sums[m]))
					overflowed[m] = true; /* dropped below rather than wrapped negative */
				join(oids[m], sizeof oids[m], o);
				join(raws[m], sizeof raws[m], raw ? raw : "");
			}
			free(raw);
		}
		for (size_t m = 0; m < n_names; m++)
			if (!overflowed[m])
				add_vendor_meter(d, names[m], sums[m], tab->unit, oids[m], raws[m], now);
	}
}

static void assemble_meters(struct poll_state *st, struct poll_result *res,
			    const struct snmp_oid *cols, const struct vendor_profile *p)
{
	struct device *d = &res->device;
	int64_t now = clock_now();
	/* prtMarkerLifeCount of each marker: the first marker is "total". */
	size_t markers = 0;
	for (size_t i = 0; i < st->n_kept; i++) {
		unsigned long idx[MAX_SUFFIX];
		const struct kept *k = &st->kept[i];
		if (row_in(k, C_MARKER_LIFE, idx) != 2)
			continue;
		struct snmp_value sv;
		kept_value(k, &sv);
		int64_t v;
		if (decode_counter(&sv, &v) < 0)
			continue;
		char name[48], o[256];
		if (markers == 0)
			snprintf(name, sizeof name, "total");
		else
			snprintf(name, sizeof name, "marker-%lu", idx[1]);
		char *raw = printable(k);
		add_meter(d, name, v, cell_int(st, cols, C_MARKER_UNIT, idx, 2, 0),
			  decode_oid_format(k->name, k->name_len, o, sizeof o), raw, now);
		free(raw);
		markers++;
	}
	if (!p)
		return;
	meters_from_scalars(st, d, p, now);
	meters_from_tables(st, d, p, now);

	/* A vendor total that disagrees with the life count is worth a look, not a silent choice
	 * (HP moves its life count in steps of 10; some models wrap at 999,999). */
	const struct meter *life = device_meter(d, "total");
	const struct meter *vend = device_meter(d, "vendor-total");
	if (life && vend) {
		int64_t diff = life->value > vend->value ? life->value - vend->value
							 : vend->value - life->value;
		int64_t tolerance = life->value / 200 > 10 ? life->value / 200 : 10;
		if (diff > tolerance)
			warn(st, "the vendor's total %" PRId64 " (%s) differs from prtMarkerLifeCount %"
			     PRId64 " by %" PRId64, vend->value, vend->oid, life->value, diff);
	}
}

static void assemble_raw(struct poll_state *st, struct poll_result *res)
{
	size_t max_entries = st->opts.raw_max_entries ? st->opts.raw_max_entries : 2000;
	size_t max_bytes = st->opts.raw_max_bytes ? st->opts.raw_max_bytes : 64 * 1024;
	size_t n = st->n_kept < max_entries ? st->n_kept : max_entries;
	res->raw = calloc(n ? n : 1, sizeof *res->raw);
	if (!res->raw)
		return;
	size_t bytes = 0;
	for (size_t i = 0; i < n; i++) {
		const struct kept *k = &st->kept[i];
		char o[512];
		decode_oid_format(k->name, k->name_len, o, sizeof o);
		char *value = printable(k);
		size_t need = strlen(o) + (value ? strlen(value) : 0) + 16;
		if (bytes + need > max_bytes) {
			free(value);
			res->raw_truncated = true;
			break;
		}
		struct raw_varbind *r = &res->raw[res->n_raw];
		r->oid = strdup(o);
		r->type = decode_type_name(k->type);
		r->value = value;
		if (!r->oid) {
			free(value);
			break;
		}
		bytes += need;
		res->n_raw++;
	}
	if (n < st->n_kept || st->kept_truncated)
		res->raw_truncated = true;
}

static bool type_fits(int type, enum want w)
{
	switch (w) {
	case W_TEXT:
		return type == SNMPV_OCTETS;
	case W_OID:
		return type == SNMPV_OID;
	default:
		return type == SNMPV_INTEGER || type == SNMPV_COUNTER32 || type == SNMPV_GAUGE32 ||
		       type == SNMPV_TIMETICKS || type == SNMPV_COUNTER64;
	}
}

/* Counts the values of a standard object sent in another type than the MIB's, and says so once
 * with an example (vendor values have no fixed type: their decoders judge them). */
static void check_types(struct poll_state *st, int pidx)
{
	size_t wrong = 0;
	char example[300] = "";
	for (size_t i = 0; i < st->n_kept; i++) {
		const struct kept *k = &st->kept[i];
		struct snmp_value v;
		kept_value(k, &v);
		if (decode_is_missing(&v))
			continue;
		int want = -1;
		if (k->scalar >= 0 && (!scalars[k->scalar].indexed || k->name[k->name_len - 1] == (oid)pidx))
			want = (int)scalar_want[k->scalar];
		else if (k->column >= 0)
			want = (int)column_want[k->column];
		if (want < 0 || type_fits(k->type, (enum want)want))
			continue;
		if (!wrong++) {
			char o[256];
			snprintf(example, sizeof example, "%s sent as %s",
				 decode_oid_format(k->name, k->name_len, o, sizeof o), decode_type_name(k->type));
		}
	}
	if (wrong)
		warn(st, "%zu value%s of the wrong type, ignored or read as best as possible (first: %s)",
		     wrong, wrong == 1 ? "" : "s", example);
}

static void assemble(struct snmp_job *job, struct poll_state *st, struct poll_result *res)
{
	struct device *d = &res->device;
	d->id = st->device_id;
	d->address = strdup(st->address);
	d->port = st->port;
	d->profile = strdup(st->profile->name);
	res->user = st->user;
	res->requests = snmp_job_requests(job);
	res->packets = snmp_job_packets(job);
	res->elapsed_ms = snmp_job_elapsed_ms(job);
	int64_t now = clock_now();
	d->last_poll = now;

	res->answered = st->n_kept > 0 || st->error_status == SNMP_AUTH_FAILED ||
			st->error_status == SNMP_REPORT;
	if (st->n_kept > 0)
		d->last_seen = now;

	struct snmp_oid cols[C_COUNT];
	for (int c = 0; c < C_COUNT; c++)
		if (column_oid(c, &cols[c]) < 0)
			cols[c].len = 0;

	char *oid_text = scalar_oid_text(st, S_OBJECT_ID);
	char *descr = scalar_text(st, S_DESCR);
	struct vendor_ident id;
	vendor_identify(oid_text, descr, &id);
	free(oid_text);
	free(descr);

	st->hex_tail = id.profile && (id.profile->quirks & QUIRK_HEX_TAIL);
	int pidx = st->found_index ? st->found_index : st->guess_index;
	res->printer_index = (st->found_index || printer_at_guess(st)) ? pidx : 0;

	assemble_identity(st, res, &id, pidx);
	assemble_status(st, res, pidx);
	assemble_supplies(st, res, cols, id.profile);
	assemble_trays_covers(st, res, cols);
	if (st->alerts_walked) {
		assemble_alerts(st, res, cols);
		res->alerts_read = st->alerts_ok;
	}
	assemble_meters(st, res, cols, id.profile);

	/* A printer: Host Resources says so, or the Printer-MIB answered anything. */
	static const oid prt_mib[] = { 1, 3, 6, 1, 2, 1, 43 };
	bool prt = false;
	for (size_t i = 0; i < st->n_kept && !prt; i++) {
		struct snmp_value v;
		kept_value(&st->kept[i], &v);
		prt = !decode_is_missing(&v) &&
		      decode_oid_under(st->kept[i].name, st->kept[i].name_len, prt_mib, N(prt_mib));
	}
	res->is_printer = prt || res->printer_index > 0;

	check_types(st, pidx);
	if (st->opts.keep_raw)
		assemble_raw(st, res);
	for (size_t i = 0; i < st->n_warnings; i++)
		add_warning_to(res, st->warnings[i]);
	/* the device keeps them too, so that show, the console and the report can say what was wrong */
	char joined[TEXT_MAX] = "";
	for (size_t i = 0; i < st->n_warnings; i++)
		join_sentence(joined, sizeof joined, st->warnings[i]);
	if (joined[0])
		d->poll_warnings = text_clean(joined);

	if (snmp_job_aborted(job) && !st->error) {
		st->incomplete = true;
		st->error = strdup(snmp_job_abort_reason(job));
	}
	res->complete = !st->incomplete && st->round1_ok;
	if (st->error) {
		char buf[600];
		snprintf(buf, sizeof buf, "%s%s", st->error,
			 st->n_kept ? " (partial data kept)" : "");
		d->poll_error = strdup(buf);
	} else if (!st->round1_ok) {
		d->poll_error = strdup("no answer");
	}
	if (res->complete)
		d->last_poll_ok = now;
}

static void poll_done(struct snmp_job *job, void *arg)
{
	struct poll_state *st = arg;
	struct poll_result res;
	memset(&res, 0, sizeof res);
	assemble(job, st, &res);
	if (st->fn)
		st->fn(&res, st->fn_arg);
	poll_result_clear(&res);
	state_free(st);
}

static const struct snmp_job_ops poll_ops = { poll_start, poll_done };

/* ---- public ---------------------------------------------------------------------------------- */

void poll_result_clear(struct poll_result *r)
{
	if (!r)
		return;
	device_clear(&r->device);
	free(r->brand);
	for (size_t i = 0; i < r->n_raw; i++) {
		free(r->raw[i].oid);
		free(r->raw[i].value);
	}
	free(r->raw);
	for (size_t i = 0; i < r->n_warnings; i++)
		free(r->warnings[i]);
	free(r->warnings);
	memset(r, 0, sizeof *r);
}

int64_t poll_default_budget_ms(const struct engine_limits *l)
{
	int64_t b = 10 * (int64_t)(l->retries + 1) * l->timeout_ms;
	return b < 5000 ? 5000 : b;
}

int poll_add(struct snmp_engine *e, const struct poll_target *t, const struct poll_options *opts,
	     poll_result_fn fn, void *arg, struct fc_error *err)
{
	struct poll_state *st = calloc(1, sizeof *st);
	if (!st || !(st->address = strdup(t->address)) ||
	    (t->sys_object_id && !(st->hint_oid = strdup(t->sys_object_id))) ||
	    (t->sys_descr && !(st->hint_descr = strdup(t->sys_descr)))) {
		state_free(st);
		return fc_error_set(err, "out of memory");
	}
	st->port = t->port > 0 ? t->port : 161;
	st->profile = t->profile;
	st->device_id = t->device_id;
	st->user = t->user;
	st->guess_index = t->printer_index > 0 ? t->printer_index : 1;
	st->prev_alert_events = t->alert_all_events;
	if (opts)
		st->opts = *opts;
	st->fn = fn;
	st->fn_arg = arg;
	int64_t budget = st->opts.budget_ms > 0 ? st->opts.budget_ms
						 : poll_default_budget_ms(snmp_engine_limits(e));
	if (!snmp_engine_add_job(e, st->address, st->port, t->profile, budget, &poll_ops, st, err)) {
		state_free(st);
		return -1;
	}
	return 0;
}

struct feed {
	const struct poll_target *targets;
	size_t n, next;
	const struct poll_options *opts;
	poll_result_fn fn;
	void *arg;
	bool failed;
	struct fc_error err;
};

static size_t feed_polls(struct snmp_engine *e, size_t want, void *arg)
{
	struct feed *f = arg;
	size_t added = 0;
	while (added < want && f->next < f->n) {
		if (poll_add(e, &f->targets[f->next], f->opts, f->fn, f->arg, &f->err) < 0) {
			f->failed = true;
			return added;
		}
		f->next++;
		added++;
	}
	return added;
}

int poll_devices(struct snmp_engine *e, const struct poll_target *targets, size_t n,
		 const struct poll_options *opts, poll_result_fn fn, void *arg,
		 const atomic_bool *cancel, struct fc_error *err)
{
	struct feed f = { .targets = targets, .n = n, .opts = opts, .fn = fn, .arg = arg };
	snmp_engine_set_feeder(e, feed_polls, &f);
	int rc = snmp_engine_run(e, cancel, NULL, NULL, 250, err);
	snmp_engine_set_feeder(e, NULL, NULL);
	/* Targets never queued (cancelled, or out of memory) still get their result. */
	for (; f.next < n; f.next++) {
		struct poll_result res;
		memset(&res, 0, sizeof res);
		res.user = targets[f.next].user;
		res.device.id = targets[f.next].device_id;
		res.device.address = strdup(targets[f.next].address);
		res.device.port = targets[f.next].port > 0 ? targets[f.next].port : 161;
		res.device.poll_error = strdup(f.failed ? f.err.msg : "cancelled");
		res.device.last_poll = clock_now();
		fn(&res, arg);
		poll_result_clear(&res);
	}
	if (rc == 0 && f.failed)
		return fc_error_set(err, "%s", f.err.msg);
	return rc;
}
