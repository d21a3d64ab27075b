/* Discovery targets as an admin types them: one address, a CIDR network, a range of IPv4 addresses
 * or a host name, each with an optional port. Parsing never touches the network; host names are
 * resolved when their addresses are iterated. A target is iterated without building a list, so a
 * /16 costs no memory. The accepted forms and rules are in the comment of target_parse(). */
#ifndef FLEETCON_COLLECTORS_TARGETS_H
#define FLEETCON_COLLECTORS_TARGETS_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "model/error.h"

/* The largest target accepted without force: a /16. */
#define TARGET_MAX_UNFORCED 65536u

#define TARGET_TEXT_MAX 256

enum target_kind {
	TARGET_IPV4,  /* one IPv4 address: 10.1.2.3 */
	TARGET_IPV6,  /* one IPv6 address: [2001:db8::1]:161 or 2001:db8::1 */
	TARGET_CIDR,  /* an IPv4 network: 10.1.2.0/24 */
	TARGET_RANGE, /* an IPv4 range: 10.1.2.10-10.1.2.99 (or 10.1.2.10-99) */
	TARGET_NAME,  /* a host name, resolved at iteration: printer-3.example.com */
};

struct target {
	enum target_kind kind;
	/* IPv4 kinds: the first and last address iterated, in host byte order. For a CIDR /N with
	 * N <= 30 the network and broadcast addresses are left out (a /24 gives .1 to .254); a /31 or
	 * /32 gives every address (RFC 3021 point-to-point links have no broadcast). A range gives
	 * every address from its start to its end, as written. */
	uint32_t first, last;
	uint32_t network; /* CIDR: the network address (host bits cleared) */
	unsigned prefix;  /* CIDR: prefix length, 0-32 */
	struct in6_addr addr6;
	uint32_t scope_id; /* IPv6 link-local zone (fe80::1%eth0), 0 when none */
	uint16_t port;     /* as written, else the default given to target_parse() */
	bool port_given;
	char text[TARGET_TEXT_MAX]; /* as entered, surrounding blanks trimmed */
	char name[TARGET_TEXT_MAX]; /* TARGET_NAME: the host name without the port */
	/* A remark the caller should show, or "": "10.1.2.3/24 has host bits set: scanning the
	 * network 10.1.2.0/24". */
	char note[160];
};

/* Parses one target. Accepted: HOST[:PORT], A.B.C.D/N[:PORT], A.B.C.D-A.B.C.E[:PORT],
 * A.B.C.D-E[:PORT] (E is the last octet), [IPV6]:PORT, [IPV6], bare IPV6 (no port). A text made of
 * digits and dots only must be a valid IPv4 address (300.1.1.1 is refused, not looked up as a
 * name). Ports are 1-65535. A CIDR with host bits set is accepted as its network, with a note.
 * Targets of more than TARGET_MAX_UNFORCED addresses (larger than a /16) are refused unless force.
 * IPv6 networks are refused (too large to sweep). Returns 0, or -1 with err set; *out is filled
 * only on success. */
int target_parse(const char *text, uint16_t default_port, bool force, struct target *out,
		 struct fc_error *err);

/* How many addresses iterating the target gives (a host name counts as one). */
uint64_t target_count(const struct target *t);

/* One address of a target, ready to send to. */
struct target_addr {
	struct sockaddr_storage sa; /* with the port set */
	socklen_t sa_len;
	uint16_t port;
	char addr[64];  /* "10.1.2.3", "2001:db8::1", "fe80::1%eth0" */
	char peer[96];  /* Net-SNMP peer name: "udp:10.1.2.3:161", "udp6:[2001:db8::1]:161" */
};

/* Iteration state: plain data, no allocation, nothing to free. */
struct target_iter {
	const struct target *t; /* borrowed: must outlive the iteration */
	uint64_t next;          /* offset of the next address from t->first */
	bool done;
	struct sockaddr_storage resolved; /* TARGET_NAME: its address */
	socklen_t resolved_len;
};

/* Starts iterating t. A host name is resolved here (getaddrinfo; its first address, IPv4 or IPv6,
 * in the order the resolver prefers). Returns 0, or -1 with err set when the name does not
 * resolve. Blocks for as long as the resolver does for names; never for addresses. */
int target_iter_begin(struct target_iter *it, const struct target *t, struct fc_error *err);

/* Gives the next address in *out; returns true, or false when there are no more. */
bool target_iter_next(struct target_iter *it, struct target_addr *out);

/* Fills *out for one socket address (port included), as target_iter_next() does. Returns 0, or -1
 * for a family other than AF_INET/AF_INET6. */
int target_addr_from_sockaddr(const struct sockaddr *sa, socklen_t len, struct target_addr *out);

#endif
