/* Fuzzes the discovery target parser (collectors/targets.h). For every input: either a target
 * whose numbers agree with each other (first <= last, the count, the port, the size limit without
 * force, a CIDR's network) and that parses again from its own text to the same target, or -1
 * with a message. The first addresses of an IPv4 target iterate inside [first, last] and in
 * order. Host names are never iterated here: that would ask the resolver. */
#include "tests/fuzz/fuzz.h"

#include <arpa/inet.h>

#include "collectors/targets.h"

static void check_target(const struct target *t, uint16_t default_port, bool force)
{
	FUZZ_CHECK(strnlen(t->text, sizeof t->text) < sizeof t->text &&
			   strnlen(t->name, sizeof t->name) < sizeof t->name &&
			   strnlen(t->note, sizeof t->note) < sizeof t->note,
		   "unterminated field");
	FUZZ_CHECK(t->port >= 1, "port 0 for \"%s\"", t->text);
	FUZZ_CHECK(t->port_given || t->port == default_port, "port %u not the default", t->port);
	uint64_t count = target_count(t);
	FUZZ_CHECK(count >= 1, "empty target \"%s\"", t->text);
	FUZZ_CHECK(force || count <= TARGET_MAX_UNFORCED, "%llu addresses without force: \"%s\"",
		   (unsigned long long)count, t->text);
	switch (t->kind) {
	case TARGET_IPV4:
		FUZZ_CHECK(t->first == t->last && count == 1, "one address \"%s\"", t->text);
		break;
	case TARGET_CIDR:
		FUZZ_CHECK(t->prefix <= 32, "prefix %u", t->prefix);
		{
			uint32_t mask = t->prefix ? ~0u << (32 - t->prefix) : 0;
			FUZZ_CHECK((t->network & ~mask) == 0, "host bits in the network of \"%s\"", t->text);
			FUZZ_CHECK((t->first & mask) == t->network && (t->last & mask) == t->network,
				   "\"%s\" iterates outside its network", t->text);
		}
		/* fall through */
	case TARGET_RANGE:
		FUZZ_CHECK(t->first <= t->last, "first > last in \"%s\"", t->text);
		FUZZ_CHECK(count == (uint64_t)t->last - t->first + 1, "count of \"%s\"", t->text);
		break;
	case TARGET_IPV6:
		FUZZ_CHECK(count == 1, "IPv6 count");
		break;
	case TARGET_NAME:
		FUZZ_CHECK(t->name[0] != '\0' && count == 1, "name \"%s\"", t->text);
		break;
	default:
		FUZZ_CHECK(false, "kind %d", (int)t->kind);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 3)
		return 0;
	uint16_t default_port = (uint16_t)(data[0] << 8 | data[1]);
	if (default_port == 0)
		default_port = 161;
	bool force = data[2] & 1;
	char *text = fuzz_cstr(data + 3, size - 3);
	struct target t;
	struct fc_error err = { { 0 } };
	memset(&t, 0xA5, sizeof t); /* *out untouched on failure: stale bytes must not matter */
	int rc = target_parse(text, default_port, force, &t, &err);
	FUZZ_CHECK(rc == 0 || rc == -1, "rc %d", rc);
	if (rc < 0) {
		FUZZ_CHECK(err.msg[0] != '\0', "failed without a message for \"%s\"", text);
		free(text);
		return 0;
	}
	check_target(&t, default_port, force);

	/* Its own text parses to the same target. */
	struct target again;
	FUZZ_CHECK(target_parse(t.text, default_port, force, &again, &err) == 0,
		   "own text \"%s\" does not parse: %s", t.text, err.msg);
	FUZZ_CHECK(again.kind == t.kind && again.first == t.first && again.last == t.last &&
			   again.port == t.port && again.prefix == t.prefix &&
			   strcmp(again.name, t.name) == 0 &&
			   memcmp(&again.addr6, &t.addr6, sizeof t.addr6) == 0,
		   "\"%s\" parses differently the second time", t.text);

	if (t.kind != TARGET_NAME) {
		struct target_iter it;
		FUZZ_CHECK(target_iter_begin(&it, &t, &err) == 0, "iter_begin: %s", err.msg);
		struct target_addr a;
		uint32_t prev = 0;
		for (int i = 0; i < 64 && target_iter_next(&it, &a); i++) {
			FUZZ_CHECK(a.port == t.port, "iterated port %u", a.port);
			FUZZ_CHECK(strnlen(a.addr, sizeof a.addr) < sizeof a.addr &&
					   strnlen(a.peer, sizeof a.peer) < sizeof a.peer,
				   "unterminated address");
			if (t.kind == TARGET_IPV6)
				continue;
			struct in_addr in;
			FUZZ_CHECK(inet_pton(AF_INET, a.addr, &in) == 1, "address \"%s\"", a.addr);
			uint32_t h = ntohl(in.s_addr);
			FUZZ_CHECK(h >= t.first && h <= t.last && (i == 0 || h > prev),
				   "address %s outside or out of order in \"%s\"", a.addr, t.text);
			prev = h;
		}
	}
	free(text);
	return 0;
}
