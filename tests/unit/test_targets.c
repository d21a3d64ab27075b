/* Unit tests for collectors/targets: every accepted form, every refusal and its message, counts
 * and iteration (network/broadcast skipped, no list built), host-name resolution at iteration. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "collectors/targets.h"

static struct target parse_ok(const char *text, bool force)
{
	struct target t;
	struct fc_error err = {{0}};
	int rc = target_parse(text, 161, force, &t, &err);
	if (rc != 0)
		fail_msg("'%s' refused: %s", text, err.msg);
	return t;
}

/* Parses text expecting a refusal whose message contains want. */
static void parse_bad(const char *text, bool force, const char *want)
{
	struct target t;
	struct fc_error err = {{0}};
	assert_int_equal(target_parse(text, 161, force, &t, &err), -1);
	if (!strstr(err.msg, want))
		fail_msg("'%s': message '%s' lacks '%s'", text, err.msg, want);
}

static void test_single_ipv4(void **state)
{
	(void)state;
	struct target t = parse_ok("10.1.2.3", false);
	assert_int_equal(t.kind, TARGET_IPV4);
	assert_int_equal(t.first, 0x0A010203u);
	assert_int_equal(t.port, 161);
	assert_false(t.port_given);
	assert_int_equal(target_count(&t), 1);
	t = parse_ok("  10.1.2.3:1161 ", false);
	assert_int_equal(t.port, 1161);
	assert_true(t.port_given);
	assert_string_equal(t.text, "10.1.2.3:1161");
	assert_string_equal(t.note, "");
}

static void test_cidr(void **state)
{
	(void)state;
	struct target t = parse_ok("10.1.2.0/24", false);
	assert_int_equal(t.kind, TARGET_CIDR);
	assert_int_equal(t.prefix, 24);
	assert_int_equal(t.first, 0x0A010201u);
	assert_int_equal(t.last, 0x0A0102FEu);
	assert_int_equal(target_count(&t), 254);
	t = parse_ok("10.1.0.0/16:16100", false);
	assert_int_equal(target_count(&t), 65534);
	assert_int_equal(t.port, 16100);
	t = parse_ok("10.1.2.4/30", false);
	assert_int_equal(target_count(&t), 2);
	t = parse_ok("10.1.2.4/31", false);
	assert_int_equal(target_count(&t), 2);
	assert_int_equal(t.first, 0x0A010204u);
	t = parse_ok("10.1.2.4/32", false);
	assert_int_equal(target_count(&t), 1);
	assert_int_equal(t.first, 0x0A010204u);
}

static void test_cidr_host_bits(void **state)
{
	(void)state;
	struct target t = parse_ok("10.1.2.3/24", false);
	assert_int_equal(t.network, 0x0A010200u);
	assert_int_equal(t.first, 0x0A010201u);
	assert_string_equal(t.note, "10.1.2.3/24 has host bits set: scanning the network 10.1.2.0/24");
}

static void test_range(void **state)
{
	(void)state;
	struct target t = parse_ok("10.1.2.10-10.1.2.99", false);
	assert_int_equal(t.kind, TARGET_RANGE);
	assert_int_equal(target_count(&t), 90);
	t = parse_ok("10.1.2.10-99:1161", false);
	assert_int_equal(t.last, 0x0A010263u);
	assert_int_equal(t.port, 1161);
	t = parse_ok("10.1.2.255-10.1.3.0", false);
	assert_int_equal(target_count(&t), 2);
	t = parse_ok("1.2.3.4-1.2.3.4", false);
	assert_int_equal(target_count(&t), 1);
	parse_bad("1.2.3.4-1.2.3.1", false, "ends before it starts");
	parse_bad("1.2.3.4-1.2.3.300", false, "'1.2.3.300' is not an IPv4 address");
	parse_bad("1.2.3.4-256", false, "not an address octet");
	parse_bad("1.2.3.4-1.2.3.5-1.2.3.6", false, "one '-'");
}

static void test_size_limit_and_force(void **state)
{
	(void)state;
	parse_bad("10.0.0.0/4", false, "--force");
	parse_bad("10.0.0.0/4", false, "268,435,456 addresses");
	parse_bad("10.0.0.0/15", false, "larger than a /16");
	parse_bad("10.0.0.0-10.1.0.0", false, "65,537 addresses");
	struct target t = parse_ok("10.0.0.0-10.0.255.255", false);
	assert_int_equal(target_count(&t), 65536);
	t = parse_ok("10.0.0.0/4", true);
	assert_int_equal(t.network, 0);
	assert_int_equal(target_count(&t), (1u << 28) - 2);
	assert_non_null(strstr(t.note, "0.0.0.0/4"));
	t = parse_ok("0.0.0.0/0", true);
	assert_int_equal(target_count(&t), 4294967294ull);
}

static void test_bad_addresses(void **state)
{
	(void)state;
	parse_bad("300.1.1.1", false, "'300.1.1.1' is not an IPv4 address");
	parse_bad("1.2.3", false, "not an IPv4 address");
	parse_bad("1.2.3.4.5", false, "not an IPv4 address");
	parse_bad("1..3.4", false, "not an IPv4 address");
	parse_bad("10.0.0.0/33", false, "0 to 32");
	parse_bad("/33", false, "is not an IPv4 address");
	parse_bad("10.0.0.0/", false, "0 to 32");
	parse_bad("10.0.0.0/x", false, "0 to 32");
	parse_bad("", false, "empty target");
	parse_bad("   ", false, "empty target");
	parse_bad(NULL, false, "empty target");
	parse_bad("bad name!", false, "not an address or a host name");
	parse_bad("-printer", false, "not an address or a host name");
	parse_bad(":161", false, "no address before the port");
}

static void test_ports(void **state)
{
	(void)state;
	parse_bad("10.1.2.3:0", false, "out of range (1-65535)");
	parse_bad("10.1.2.3:65536", false, "out of range (1-65535)");
	parse_bad("10.1.2.3:99999", false, "out of range");
	parse_bad("10.1.2.3:", false, "is not a number from 1 to 65535");
	parse_bad("10.1.2.3:16x", false, "is not a number");
	parse_bad("10.1.2.3:-1", false, "is not a number");
	parse_bad("[2001:db8::1]:0", false, "out of range");
	struct target t = parse_ok("10.1.2.3:65535", false);
	assert_int_equal(t.port, 65535);
}

static void test_ipv6(void **state)
{
	(void)state;
	struct target t = parse_ok("[2001:db8::1]:1161", false);
	assert_int_equal(t.kind, TARGET_IPV6);
	assert_int_equal(t.port, 1161);
	assert_int_equal(target_count(&t), 1);
	t = parse_ok("2001:db8::1", false);
	assert_int_equal(t.kind, TARGET_IPV6);
	assert_int_equal(t.port, 161);
	t = parse_ok("[::1]", false);
	assert_int_equal(t.kind, TARGET_IPV6);
	parse_bad("[2001:db8::1", false, "missing ']'");
	parse_bad("[2001:db8::1]x", false, "only ':PORT'");
	parse_bad("2001:db8::zz", false, "not an IPv6 address");
	parse_bad("2001:db8::/64", false, "IPv6 networks cannot be swept");

	struct target_iter it;
	struct target_addr a;
	t = parse_ok("[2001:db8::1]:1161", false);
	assert_int_equal(target_iter_begin(&it, &t, NULL), 0);
	assert_true(target_iter_next(&it, &a));
	assert_string_equal(a.addr, "2001:db8::1");
	assert_string_equal(a.peer, "udp6:[2001:db8::1]:1161");
	assert_int_equal(a.sa.ss_family, AF_INET6);
	assert_false(target_iter_next(&it, &a));
}

static void test_host_names(void **state)
{
	(void)state;
	struct target t = parse_ok("printer-3.example.com:1161", false);
	assert_int_equal(t.kind, TARGET_NAME);
	assert_string_equal(t.name, "printer-3.example.com");
	assert_int_equal(t.port, 1161);
	assert_int_equal(target_count(&t), 1);
	/* Parsing resolves nothing: a name that does not exist parses fine... */
	t = parse_ok("no-such-host.invalid", false);
	/* ...and fails only when iterated. */
	struct target_iter it;
	struct target_addr a;
	struct fc_error err = {{0}};
	assert_int_equal(target_iter_begin(&it, &t, &err), -1);
	assert_non_null(strstr(err.msg, "cannot resolve no-such-host.invalid"));
	assert_false(target_iter_next(&it, &a));

	t = parse_ok("localhost:1161", false);
	assert_int_equal(target_iter_begin(&it, &t, &err), 0);
	assert_true(target_iter_next(&it, &a));
	assert_int_equal(a.port, 1161);
	assert_true(strcmp(a.addr, "127.0.0.1") == 0 || strcmp(a.addr, "::1") == 0);
	assert_false(target_iter_next(&it, &a));
}

static void test_iterate_without_list(void **state)
{
	(void)state;
	struct target t = parse_ok("10.1.0.0/16", false);
	struct target_iter it;
	struct target_addr a;
	assert_int_equal(target_iter_begin(&it, &t, NULL), 0);
	uint64_t n = 0;
	char first[64] = "", last[64] = "";
	bool saw_network = false, saw_broadcast = false;
	while (target_iter_next(&it, &a)) {
		if (n == 0)
			strcpy(first, a.addr);
		strcpy(last, a.addr);
		if (strcmp(a.addr, "10.1.0.0") == 0)
			saw_network = true;
		if (strcmp(a.addr, "10.1.255.255") == 0)
			saw_broadcast = true;
		n++;
	}
	assert_int_equal(n, 65534);
	assert_string_equal(first, "10.1.0.1");
	assert_string_equal(last, "10.1.255.254");
	assert_false(saw_network);
	assert_false(saw_broadcast);
	/* 10.1.0.255 and 10.1.1.0 are ordinary hosts inside a /16. */

	t = parse_ok("127.77.0.1-127.77.0.3:16100", false);
	assert_int_equal(target_iter_begin(&it, &t, NULL), 0);
	assert_true(target_iter_next(&it, &a));
	assert_string_equal(a.peer, "udp:127.77.0.1:16100");
	assert_int_equal(a.sa.ss_family, AF_INET);
	assert_int_equal(a.sa_len, sizeof(struct sockaddr_in));
	assert_true(target_iter_next(&it, &a));
	assert_true(target_iter_next(&it, &a));
	assert_string_equal(a.addr, "127.77.0.3");
	assert_false(target_iter_next(&it, &a));
	assert_false(target_iter_next(&it, &a));
}

static void test_text_too_long(void **state)
{
	(void)state;
	char s[TARGET_TEXT_MAX + 10];
	memset(s, 'a', sizeof s - 1);
	s[sizeof s - 1] = '\0';
	parse_bad(s, false, "too long");
	/* A label longer than 63 characters is not a host name. */
	s[70] = '\0';
	parse_bad(s, false, "not an address or a host name");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_single_ipv4),
		cmocka_unit_test(test_cidr),
		cmocka_unit_test(test_cidr_host_bits),
		cmocka_unit_test(test_range),
		cmocka_unit_test(test_size_limit_and_force),
		cmocka_unit_test(test_bad_addresses),
		cmocka_unit_test(test_ports),
		cmocka_unit_test(test_ipv6),
		cmocka_unit_test(test_host_names),
		cmocka_unit_test(test_iterate_without_list),
		cmocka_unit_test(test_text_too_long),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
