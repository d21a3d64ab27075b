/* The service's socket protocol (see protocol.h): frames to and from JSON lines with jansson, and
 * the bounded line reader. */
#include "service/protocol.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include "model/agent.h"
#include "model/text.h"

static const char *const type_names[] = {
	[PROTO_HELLO] = "hello", [PROTO_CMD] = "cmd", [PROTO_ACK] = "ack", [PROTO_EVENT] = "ev", [PROTO_BYE] = "bye",
};
#define N_TYPES (sizeof type_names / sizeof type_names[0])

void proto_frame_clear(struct proto_frame *f)
{
	fc_msg_free(&f->msg);
	memset(f, 0, sizeof *f);
}

/* A JSON string of text, with "?" for every byte that is not valid UTF-8 (jansson refuses those). */
static json_t *json_text(const char *text)
{
	json_t *j = json_string(text);
	if (j)
		return j;
	size_t len = strlen(text);
	char *copy = malloc(len + 1);
	if (!copy)
		return NULL;
	const unsigned char *s = (const unsigned char *)text;
	size_t i = 0, o = 0;
	while (i < len) {
		uint32_t cp;
		size_t n = text_utf8_next(s + i, len - i, &cp);
		if (n == 0) {
			copy[o++] = '?';
			i++;
		} else {
			memcpy(copy + o, s + i, n);
			o += n;
			i += n;
		}
	}
	copy[o] = '\0';
	j = json_string(copy);
	free(copy);
	return j;
}

static int set_new(json_t *obj, const char *key, json_t *value)
{
	return value ? json_object_set_new(obj, key, value) : -1;
}

char *proto_encode(const struct proto_frame *f, size_t *len, struct fc_error *err)
{
	if ((unsigned)f->type >= N_TYPES || !type_names[f->type]) {
		fc_error_set(err, "no frame type %d", (int)f->type);
		return NULL;
	}
	json_t *o = json_object();
	if (!o) {
		fc_error_set(err, "out of memory");
		return NULL;
	}
	int bad = set_new(o, "t", json_string(type_names[f->type]));
	switch (f->type) {
	case PROTO_HELLO:
		bad |= set_new(o, "v", json_integer(f->version));
		if (f->pid)
			bad |= set_new(o, "pid", json_integer(f->pid));
		if (f->text[0])
			bad |= set_new(o, "agent", json_text(f->text));
		break;
	case PROTO_ACK:
		bad |= set_new(o, "seq", json_integer(f->seq));
		if (f->text[0])
			bad |= set_new(o, "error", json_text(f->text));
		else
			bad |= set_new(o, "job", json_integer(f->job));
		break;
	case PROTO_BYE:
		bad |= set_new(o, "text", json_text(f->text));
		break;
	case PROTO_CMD:
	case PROTO_EVENT: {
		const struct fc_msg *m = f->msg;
		if (!m) {
			json_decref(o);
			fc_error_set(err, "a %s frame without its message", type_names[f->type]);
			return NULL;
		}
		const char *kind = f->type == PROTO_CMD ? agent_cmd_name(m->kind) : agent_event_name(m->kind);
		if (!strcmp(kind, "?")) {
			json_decref(o);
			fc_error_set(err, "no %s kind %d", f->type == PROTO_CMD ? "command" : "event", m->kind);
			return NULL;
		}
		if (f->type == PROTO_CMD)
			bad |= set_new(o, "seq", json_integer(f->seq));
		bad |= set_new(o, "kind", json_string(kind));
		bad |= set_new(o, "id", json_integer(m->id));
		bad |= set_new(o, "a", json_integer(m->a));
		bad |= set_new(o, "b", json_integer(m->b));
		if (m->text)
			bad |= set_new(o, "text", json_text(m->text));
		break;
	}
	}
	char *line = NULL;
	if (!bad)
		line = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	if (!line) {
		fc_error_set(err, "out of memory");
		return NULL;
	}
	size_t n = strlen(line);
	char *out = realloc(line, n + 2);
	if (!out) {
		free(line);
		fc_error_set(err, "out of memory");
		return NULL;
	}
	out[n] = '\n';
	out[n + 1] = '\0';
	*len = n + 1;
	return out;
}

/* An integer member, or def when absent; -1 when present but not an integer. */
static int get_int(json_t *o, const char *key, int64_t def, int64_t *out)
{
	json_t *v = json_object_get(o, key);
	if (!v) {
		*out = def;
		return 0;
	}
	if (!json_is_integer(v))
		return -1;
	*out = (int64_t)json_integer_value(v);
	return 0;
}

/* A string member into buf (cut to fit), "" when absent; -1 when present but not a string. */
static int get_str(json_t *o, const char *key, char *buf, size_t len)
{
	json_t *v = json_object_get(o, key);
	buf[0] = '\0';
	if (!v)
		return 0;
	if (!json_is_string(v))
		return -1;
	snprintf(buf, len, "%s", json_string_value(v));
	return 0;
}

int proto_decode(const char *line, size_t len, struct proto_frame *f, struct fc_error *err)
{
	memset(f, 0, sizeof *f);
	json_error_t jerr;
	json_t *o = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!o)
		return fc_error_set(err, "not JSON: %s", jerr.text);
	int rc = -1;
	if (!json_is_object(o)) {
		fc_error_set(err, "not a JSON object");
		goto out;
	}
	const char *type = json_string_value(json_object_get(o, "t"));
	for (size_t i = 1; type && i < N_TYPES; i++)
		if (type_names[i] && !strcmp(type_names[i], type))
			f->type = (enum proto_type)i;
	if (!f->type) {
		fc_error_set(err, "no frame type \"%.40s\"", type ? type : "");
		goto out;
	}
	int64_t v = 0;
	switch (f->type) {
	case PROTO_HELLO:
		if (get_int(o, "v", -1, &v) < 0 || v < 0 || v > 1000000 || get_int(o, "pid", 0, &f->pid) < 0 ||
		    get_str(o, "agent", f->text, sizeof f->text) < 0) {
			fc_error_set(err, "a hello without a version");
			goto out;
		}
		f->version = (int)v;
		break;
	case PROTO_ACK:
		if (get_int(o, "seq", -1, &f->seq) < 0 || get_int(o, "job", 0, &f->job) < 0 ||
		    get_str(o, "error", f->text, sizeof f->text) < 0) {
			fc_error_set(err, "a bad ack");
			goto out;
		}
		break;
	case PROTO_BYE:
		if (get_str(o, "text", f->text, sizeof f->text) < 0) {
			fc_error_set(err, "a bad bye");
			goto out;
		}
		break;
	case PROTO_CMD:
	case PROTO_EVENT: {
		const char *kind = json_string_value(json_object_get(o, "kind"));
		int k = f->type == PROTO_CMD ? agent_cmd_kind(kind) : agent_event_kind(kind);
		if (!k) {
			fc_error_set(err, "no %s \"%.40s\"", f->type == PROTO_CMD ? "command" : "event", kind ? kind : "");
			goto out;
		}
		struct fc_msg *m = fc_msg_new(k);
		if (!m) {
			fc_error_set(err, "out of memory");
			goto out;
		}
		f->msg = m;
		json_t *text = json_object_get(o, "text");
		if ((f->type == PROTO_CMD && get_int(o, "seq", -1, &f->seq) < 0) || get_int(o, "id", 0, &m->id) < 0 ||
		    get_int(o, "a", 0, &m->a) < 0 || get_int(o, "b", 0, &m->b) < 0 ||
		    (text && !json_is_string(text) && !json_is_null(text))) {
			fc_error_set(err, "a field of the wrong type");
			goto out;
		}
		if (json_is_string(text) && !(m->text = strndup(json_string_value(text), json_string_length(text)))) {
			fc_error_set(err, "out of memory");
			goto out;
		}
		break;
	}
	}
	rc = 0;
out:
	json_decref(o);
	if (rc < 0)
		proto_frame_clear(f);
	return rc;
}

void proto_reader_init(struct proto_reader *r, size_t max)
{
	memset(r, 0, sizeof *r);
	r->max = max;
}

void proto_reader_free(struct proto_reader *r)
{
	free(r->buf);
	memset(r, 0, sizeof *r);
}

ssize_t proto_reader_fill(struct proto_reader *r, int fd, struct fc_error *err)
{
	/* drop what was consumed, then make room for at least 64 KiB */
	if (r->start) {
		memmove(r->buf, r->buf + r->start, r->len - r->start);
		r->len -= r->start;
		r->start = 0;
	}
	size_t want = r->len + 65536;
	if (want > r->cap) {
		size_t ncap = r->cap ? r->cap : 65536;
		while (ncap < want)
			ncap *= 2;
		char *nb = realloc(r->buf, ncap);
		if (!nb) {
			fc_error_set(err, "out of memory");
			return -2;
		}
		r->buf = nb;
		r->cap = ncap;
	}
	for (;;) {
		ssize_t n = read(fd, r->buf + r->len, r->cap - r->len);
		if (n > 0) {
			r->len += (size_t)n;
			return n;
		}
		if (n == 0)
			return 0;
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return -1;
		fc_error_set(err, "read: %s", strerror(errno));
		return -2;
	}
}

int proto_reader_line(struct proto_reader *r, const char **line, size_t *len, struct fc_error *err)
{
	if (!r->buf)
		return 0; /* nothing read yet */
	const char *from = r->buf + r->start;
	size_t avail = r->len - r->start;
	const char *nl = avail ? memchr(from, '\n', avail) : NULL;
	if (!nl) {
		if (avail > r->max) {
			fc_error_set(err, "a line longer than %zu bytes", r->max);
			return -1;
		}
		return 0;
	}
	size_t n = (size_t)(nl - from);
	if (n > r->max) {
		fc_error_set(err, "a line longer than %zu bytes", r->max);
		return -1;
	}
	*line = from;
	*len = n;
	r->start += n + 1;
	return 1;
}
