/* Parsing and iteration of discovery targets (see targets.h). IPv4 forms are parsed by hand so
 * that the rules are strict and the messages precise; IPv6 goes through getaddrinfo with
 * AI_NUMERICHOST (zones included); host names are only checked for shape until iteration. */
#include "collectors/targets.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/text.h"

#define USAGE_HINT "give an address (10.1.2.3), a network (10.1.2.0/24), a range " \
		   "(10.1.2.10-10.1.2.99) or a host name, each optionally followed by :PORT"

/* "268435456" -> "268,435,456" (for messages about sizes). */
static const char *with_commas(uint64_t v, char buf[32])
{
	char digits[24];
	int n = snprintf(digits, sizeof digits, "%llu", (unsigned long long)v);
	char *p = buf;
	for (int i = 0; i < n; i++) {
		if (i > 0 && (n - i) % 3 == 0)
			*p++ = ',';
		*p++ = digits[i];
	}
	*p = '\0';
	return buf;
}

static void ipv4_text(uint32_t a, char buf[16])
{
	snprintf(buf, 16, "%u.%u.%u.%u", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255);
}

/* Strict dotted quad: four decimal parts of 1-3 digits, each 0-255, nothing else. */
static bool parse_ipv4(const char *s, size_t len, uint32_t *out)
{
	uint32_t a = 0;
	size_t i = 0;
	for (int part = 0; part < 4; part++) {
		if (part > 0) {
			if (i >= len || s[i] != '.')
				return false;
			i++;
		}
		unsigned v = 0;
		size_t start = i;
		while (i < len && isdigit((unsigned char)s[i]) && i - start < 4)
			v = v * 10 + (unsigned)(s[i++] - '0');
		if (i == start || i - start > 3 || v > 255)
			return false;
		a = (a << 8) | v;
	}
	if (i != len)
		return false;
	*out = a;
	return true;
}

static bool only_chars(const char *s, size_t len, const char *allowed)
{
	for (size_t i = 0; i < len; i++)
		if (!strchr(allowed, s[i]))
			return false;
	return true;
}

/* Port text to number; 1-65535, digits only. */
static int parse_port(const char *s, uint16_t *out, struct fc_error *err)
{
	size_t len = strlen(s);
	unsigned long v = 0;
	if (len == 0 || len > 5 || !only_chars(s, len, "0123456789"))
		return fc_error_set(err, "the port '%s' is not a number from 1 to 65535", s);
	for (size_t i = 0; i < len; i++)
		v = v * 10 + (unsigned long)(s[i] - '0');
	if (v == 0 || v > 65535)
		return fc_error_set(err, "port %lu is out of range (1-65535)", v);
	*out = (uint16_t)v;
	return 0;
}

/* Host names as RFC 1123 allows them (plus '_', which some sites use): labels of 1-63 letters,
 * digits and hyphens, not starting or ending with a hyphen; 253 characters at most. */
static bool valid_hostname(const char *s, size_t len)
{
	if (len == 0 || len > 253)
		return false;
	size_t label = 0;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (c == '.') {
			if (label == 0 || s[i - 1] == '-')
				return false;
			label = 0;
			continue;
		}
		if (!isalnum((unsigned char)c) && c != '-' && c != '_')
			return false;
		if (c == '-' && label == 0)
			return false;
		if (++label > 63)
			return false;
	}
	return s[len - 1] != '-';
}

static int refuse_size(const char *text, uint64_t size, bool force, struct fc_error *err)
{
	char buf[32];
	if (size > TARGET_MAX_UNFORCED && !force)
		return fc_error_set(err,
				    "%s is %s addresses: targets larger than a /16 (65,536 addresses) are "
				    "refused unless you add --force",
				    text, with_commas(size, buf));
	return 0;
}

static int parse_ipv6(const char *addr, struct target *t, struct fc_error *err)
{
	if (strchr(addr, '/'))
		return fc_error_set(err, "IPv6 networks cannot be swept; enter IPv6 printers one "
				    "address at a time");
	struct addrinfo hints, *res = NULL;
	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_INET6;
	hints.ai_socktype = SOCK_DGRAM;
	hints.ai_flags = AI_NUMERICHOST;
	if (getaddrinfo(addr, NULL, &hints, &res) != 0 || !res)
		return fc_error_set(err, "'%s' is not an IPv6 address", addr);
	const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)res->ai_addr;
	t->addr6 = sin6->sin6_addr;
	t->scope_id = sin6->sin6_scope_id;
	freeaddrinfo(res);
	t->kind = TARGET_IPV6;
	return 0;
}

static int parse_cidr(const char *host, const char *whole, bool force, struct target *t,
		      struct fc_error *err)
{
	const char *slash = strchr(host, '/');
	uint32_t a;
	if (!parse_ipv4(host, (size_t)(slash - host), &a))
		return fc_error_set(err, "'%.*s' is not an IPv4 address (a network is written "
				    "A.B.C.D/N, e.g. 10.1.2.0/24)", (int)(slash - host), host);
	const char *p = slash + 1;
	size_t plen = strlen(p);
	if (plen == 0 || plen > 2 || !only_chars(p, plen, "0123456789") || atoi(p) > 32)
		return fc_error_set(err, "the prefix length '/%s' must be a number from 0 to 32", p);
	unsigned n = (unsigned)atoi(p);
	uint64_t size = (uint64_t)1 << (32 - n);
	uint32_t mask = n == 0 ? 0 : 0xFFFFFFFFu << (32 - n);
	if (refuse_size(whole, size, force, err) < 0)
		return -1;
	t->kind = TARGET_CIDR;
	t->prefix = n;
	t->network = a & mask;
	t->first = t->network;
	t->last = (uint32_t)(t->network + (size - 1));
	if (n <= 30) {
		t->first++;
		t->last--;
	}
	if (a != t->network) {
		char net[16];
		ipv4_text(t->network, net);
		snprintf(t->note, sizeof t->note, "%.20s has host bits set: scanning the network %s/%u",
			 host, net, n); /* host is A.B.C.D/N here: 18 characters at most */
	}
	return 0;
}

static int parse_range(const char *host, const char *whole, bool force, struct target *t,
		       struct fc_error *err)
{
	const char *dash = strchr(host, '-');
	const char *end = dash + 1;
	uint32_t a, b;
	if (strchr(end, '-'))
		return fc_error_set(err, "a range has one '-' (A.B.C.D-A.B.C.E)");
	if (!parse_ipv4(host, (size_t)(dash - host), &a))
		return fc_error_set(err, "'%.*s' is not an IPv4 address",
				    (int)(dash - host), host);
	size_t elen = strlen(end);
	if (elen > 0 && elen <= 3 && only_chars(end, elen, "0123456789")) {
		unsigned last_octet = (unsigned)atoi(end);
		if (last_octet > 255)
			return fc_error_set(err, "'%s' is not an address octet (0-255)", end);
		b = (a & 0xFFFFFF00u) | last_octet;
	} else if (!parse_ipv4(end, elen, &b)) {
		return fc_error_set(err, "'%s' is not an IPv4 address", end);
	}
	if (b < a)
		return fc_error_set(err, "the range ends before it starts");
	if (refuse_size(whole, (uint64_t)b - a + 1, force, err) < 0)
		return -1;
	t->kind = TARGET_RANGE;
	t->first = a;
	t->last = b;
	return 0;
}

static int parse_text(const char *text, uint16_t default_port, bool force, struct target *out,
		      struct fc_error *err)
{
	if (!text)
		text = "";
	while (isspace((unsigned char)*text))
		text++;
	size_t len = strlen(text);
	while (len > 0 && isspace((unsigned char)text[len - 1]))
		len--;
	if (len == 0)
		return fc_error_set(err, "empty target: " USAGE_HINT);
	if (len >= TARGET_TEXT_MAX)
		return fc_error_set(err, "target too long (%zu characters, at most %d)", len,
				    TARGET_TEXT_MAX - 1);

	struct target t;
	memset(&t, 0, sizeof t);
	memcpy(t.text, text, len);
	t.text[len] = '\0';
	t.port = default_port;
	const char *whole = t.text;

	char host[TARGET_TEXT_MAX];
	const char *port = NULL;
	if (whole[0] == '[') {
		const char *close = strchr(whole, ']');
		if (!close)
			return fc_error_set(err, "missing ']' after the IPv6 address");
		size_t hl = (size_t)(close - whole - 1);
		memcpy(host, whole + 1, hl);
		host[hl] = '\0';
		if (close[1] == ':')
			port = close + 2;
		else if (close[1] != '\0')
			return fc_error_set(err, "only ':PORT' may follow ']'");
		if (port && parse_port(port, &t.port, err) < 0)
			return -1;
		t.port_given = port != NULL;
		if (parse_ipv6(host, &t, err) < 0)
			return -1;
		*out = t;
		return 0;
	}

	const char *colon = strchr(whole, ':');
	if (colon && strchr(colon + 1, ':')) {
		/* Two colons or more: a bare IPv6 address, which cannot carry a port. */
		if (parse_ipv6(whole, &t, err) < 0)
			return -1;
		*out = t;
		return 0;
	}
	size_t hl = colon ? (size_t)(colon - whole) : len;
	memcpy(host, whole, hl);
	host[hl] = '\0';
	if (colon) {
		port = colon + 1;
		if (parse_port(port, &t.port, err) < 0)
			return -1;
		t.port_given = true;
	}
	if (hl == 0)
		return fc_error_set(err, "no address before the port; " USAGE_HINT);

	int rc;
	if (strchr(host, '/')) {
		rc = parse_cidr(host, whole, force, &t, err);
	} else if (only_chars(host, hl, "0123456789.-") && strchr(host, '-')) {
		rc = parse_range(host, whole, force, &t, err);
	} else if (only_chars(host, hl, "0123456789.")) {
		if (!parse_ipv4(host, hl, &t.first))
			return fc_error_set(err, "'%s' is not an IPv4 address (four numbers 0-255 "
					    "separated by dots)", host);
		t.last = t.first;
		t.kind = TARGET_IPV4;
		rc = 0;
	} else if (valid_hostname(host, hl)) {
		t.kind = TARGET_NAME;
		memcpy(t.name, host, hl + 1);
		rc = 0;
	} else {
		return fc_error_set(err, "not an address or a host name; " USAGE_HINT);
	}
	if (rc < 0)
		return -1;
	*out = t;
	return 0;
}

/* The parsers say only the reason; the target is named after it, cut, so that a one-line field
 * (the console's range editor) still shows why. A reason that quotes the target already is left
 * alone. */
static void name_target(struct fc_error *err, const char *text)
{
	while (isspace((unsigned char)*text))
		text++;
	size_t len = strlen(text);
	while (len > 0 && isspace((unsigned char)text[len - 1]))
		len--;
	if (len == 0 || memmem(err->msg, strlen(err->msg), text, len))
		return;
	size_t shown = text_cut(text, len < 40 ? len : 40);
	size_t at = strlen(err->msg);
	snprintf(err->msg + at, sizeof err->msg - at, " (in '%.*s%s')", (int)shown, text, shown < len ? "…" : "");
}

int target_parse(const char *text, uint16_t default_port, bool force, struct target *out,
		 struct fc_error *err)
{
	int rc = parse_text(text, default_port, force, out, err);
	if (rc < 0 && err && text)
		name_target(err, text);
	return rc;
}

uint64_t target_count(const struct target *t)
{
	switch (t->kind) {
	case TARGET_CIDR:
	case TARGET_RANGE:
		return (uint64_t)t->last - t->first + 1;
	case TARGET_IPV4:
	case TARGET_IPV6:
	case TARGET_NAME:
		break;
	}
	return 1;
}

int target_addr_from_sockaddr(const struct sockaddr *sa, socklen_t len, struct target_addr *out)
{
	memset(out, 0, sizeof *out);
	if ((sa->sa_family != AF_INET && sa->sa_family != AF_INET6) || len > sizeof out->sa)
		return -1;
	memcpy(&out->sa, sa, len);
	out->sa_len = len;
	char serv[8];
	if (getnameinfo(sa, len, out->addr, sizeof out->addr, serv, sizeof serv,
			NI_NUMERICHOST | NI_NUMERICSERV) != 0)
		return -1;
	out->port = (uint16_t)atoi(serv);
	if (sa->sa_family == AF_INET)
		snprintf(out->peer, sizeof out->peer, "udp:%s:%u", out->addr, out->port);
	else
		snprintf(out->peer, sizeof out->peer, "udp6:[%s]:%u", out->addr, out->port);
	return 0;
}

int target_iter_begin(struct target_iter *it, const struct target *t, struct fc_error *err)
{
	memset(it, 0, sizeof *it);
	it->t = t;
	if (t->kind != TARGET_NAME)
		return 0;
	struct addrinfo hints, *res = NULL;
	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_DGRAM;
	int rc = getaddrinfo(t->name, NULL, &hints, &res);
	if (rc != 0) {
		it->done = true;
		return fc_error_set(err, "cannot resolve %s: %s", t->name, gai_strerror(rc));
	}
	for (const struct addrinfo *ai = res; ai; ai = ai->ai_next) {
		if ((ai->ai_family == AF_INET || ai->ai_family == AF_INET6) &&
		    ai->ai_addrlen <= sizeof it->resolved) {
			memcpy(&it->resolved, ai->ai_addr, ai->ai_addrlen);
			it->resolved_len = ai->ai_addrlen;
			break;
		}
	}
	freeaddrinfo(res);
	if (!it->resolved_len) {
		it->done = true;
		return fc_error_set(err, "cannot resolve %s: no IPv4 or IPv6 address", t->name);
	}
	return 0;
}

bool target_iter_next(struct target_iter *it, struct target_addr *out)
{
	const struct target *t = it->t;
	if (it->done || it->next >= target_count(t))
		return false;
	struct sockaddr_storage ss;
	socklen_t len;
	memset(&ss, 0, sizeof ss);
	if (t->kind == TARGET_NAME) {
		ss = it->resolved;
		len = it->resolved_len;
		if (ss.ss_family == AF_INET)
			((struct sockaddr_in *)&ss)->sin_port = htons(t->port);
		else
			((struct sockaddr_in6 *)&ss)->sin6_port = htons(t->port);
	} else if (t->kind == TARGET_IPV6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
		s6->sin6_family = AF_INET6;
		s6->sin6_addr = t->addr6;
		s6->sin6_scope_id = t->scope_id;
		s6->sin6_port = htons(t->port);
		len = sizeof *s6;
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
		s4->sin_family = AF_INET;
		s4->sin_addr.s_addr = htonl((uint32_t)(t->first + it->next));
		s4->sin_port = htons(t->port);
		len = sizeof *s4;
	}
	it->next++;
	if (target_addr_from_sockaddr((const struct sockaddr *)&ss, len, out) < 0) {
		it->done = true;
		return false;
	}
	return true;
}
