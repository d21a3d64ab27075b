/* Tests of the service's socket protocol (service/protocol.h): every frame type survives encoding
 * and decoding, kinds cross as names, text that is not UTF-8 is mended, bad lines are refused, and
 * the line reader splits, bounds and reports the end of the peer. */
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <setjmp.h>
#include <cmocka.h>

#include "model/agent.h"
#include "service/protocol.h"

/* Encodes f, checks that the line ends in one "\n" and holds no other, decodes it into *out. */
static void round_trip(const struct proto_frame *f, struct proto_frame *out)
{
	struct fc_error err = { "" };
	size_t len = 0;
	char *line = proto_encode(f, &len, &err);
	assert_non_null(line);
	assert_int_equal(len, strlen(line));
	assert_true(len >= 2 && line[len - 1] == '\n');
	assert_null(memchr(line, '\n', len - 1));
	assert_int_equal(proto_decode(line, len - 1, out, &err), 0);
	free(line);
}

static void test_hello_and_ack(void **state)
{
	(void)state;
	struct proto_frame f = { .type = PROTO_HELLO, .version = PROTO_VERSION, .pid = 4242 };
	snprintf(f.text, sizeof f.text, "0.1.0");
	struct proto_frame g;
	round_trip(&f, &g);
	assert_int_equal(g.type, PROTO_HELLO);
	assert_int_equal(g.version, PROTO_VERSION);
	assert_int_equal(g.pid, 4242);
	assert_string_equal(g.text, "0.1.0");
	proto_frame_clear(&g);

	struct proto_frame ack = { .type = PROTO_ACK, .seq = 7, .job = 99 };
	round_trip(&ack, &g);
	assert_int_equal(g.type, PROTO_ACK);
	assert_int_equal(g.seq, 7);
	assert_int_equal(g.job, 99);
	assert_string_equal(g.text, "");
	proto_frame_clear(&g);

	struct proto_frame refused = { .type = PROTO_ACK, .seq = 8 };
	snprintf(refused.text, sizeof refused.text, "too many commands waiting");
	round_trip(&refused, &g);
	assert_int_equal(g.job, 0);
	assert_string_equal(g.text, "too many commands waiting");
	proto_frame_clear(&g);

	struct proto_frame bye = { .type = PROTO_BYE };
	snprintf(bye.text, sizeof bye.text, "the service is stopping");
	round_trip(&bye, &g);
	assert_int_equal(g.type, PROTO_BYE);
	assert_string_equal(g.text, "the service is stopping");
	proto_frame_clear(&g);
}

static void test_every_command_and_event(void **state)
{
	(void)state;
	for (int k = 1; k < AGENT_CMD_COUNT; k++) {
		struct fc_msg m = { .kind = k, .id = -5, .a = INT64_MAX, .b = INT64_MIN, .text = (char *)"10.1.2.0/24\tlab,public" };
		struct proto_frame f = { .type = PROTO_CMD, .seq = k, .msg = &m }, g;
		round_trip(&f, &g);
		assert_int_equal(g.type, PROTO_CMD);
		assert_int_equal(g.seq, k);
		assert_int_equal(g.msg->kind, k);
		assert_int_equal(g.msg->id, -5);
		assert_int_equal(g.msg->a, INT64_MAX);
		assert_int_equal(g.msg->b, INT64_MIN);
		assert_string_equal(g.msg->text, "10.1.2.0/24\tlab,public");
		proto_frame_clear(&g);
	}
	for (int k = AGENT_EV_JOB_STARTED; k <= AGENT_EV_FLASH; k++) {
		struct fc_msg m = { .kind = k, .id = 3, .a = 1, .b = 2 };
		struct proto_frame f = { .type = PROTO_EVENT, .msg = &m }, g;
		round_trip(&f, &g);
		assert_int_equal(g.type, PROTO_EVENT);
		assert_int_equal(g.msg->kind, k);
		assert_null(g.msg->text); /* no text stays no text */
		proto_frame_clear(&g);
	}
}

static void test_text_mended(void **state)
{
	(void)state;
	/* a lone continuation byte, a cut sequence, an overlong "/" and a surrogate; UTF-8 kept */
	char text[] = "a\x80" "b\xC3" "c\xC0\xAF" "d\xED\xA0\x80" "e ü 字 \"q\" \\ \x01";
	struct fc_msg m = { .kind = AGENT_EV_LOG, .text = text };
	struct proto_frame f = { .type = PROTO_EVENT, .msg = &m }, g;
	round_trip(&f, &g);
	assert_string_equal(g.msg->text, "a?b?c??d???e ü 字 \"q\" \\ \x01");
	proto_frame_clear(&g);
}

static void test_bad_lines(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"",
		"not json",
		"[1,2]",
		"{}",
		"{\"t\":\"nope\"}",
		"{\"t\":\"hello\"}",
		"{\"t\":\"hello\",\"v\":\"1\"}",
		"{\"t\":\"cmd\",\"seq\":1,\"kind\":\"format-disk\"}",
		"{\"t\":\"cmd\",\"seq\":1,\"kind\":\"poll\",\"id\":\"7\"}",
		"{\"t\":\"cmd\",\"seq\":1,\"kind\":\"poll\",\"text\":5}",
		"{\"t\":\"ev\",\"kind\":\"poll\"}",
		"{\"t\":\"ack\",\"seq\":1,\"t\":\"ack\"}",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct proto_frame g;
		struct fc_error err = { "" };
		assert_int_equal(proto_decode(bad[i], strlen(bad[i]), &g, &err), -1);
		assert_true(err.msg[0] != '\0');
		assert_null(g.msg);
	}
	/* unknown members are ignored: a newer peer may add some */
	const char *newer = "{\"t\":\"ev\",\"kind\":\"log\",\"a\":1,\"colour\":\"red\",\"text\":null}";
	struct proto_frame g;
	struct fc_error err = { "" };
	assert_int_equal(proto_decode(newer, strlen(newer), &g, &err), 0);
	assert_int_equal(g.msg->kind, AGENT_EV_LOG);
	assert_null(g.msg->text);
	proto_frame_clear(&g);
	/* encoding refuses what has no name */
	struct fc_msg m = { .kind = 12345 };
	struct proto_frame f = { .type = PROTO_EVENT, .msg = &m };
	size_t len;
	assert_null(proto_encode(&f, &len, &err));
}

static void test_reader(void **state)
{
	(void)state;
	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
	struct proto_reader r;
	proto_reader_init(&r, 16);
	struct fc_error err = { "" };
	const char *line;
	size_t len;
	assert_int_equal(proto_reader_fill(&r, sv[0], &err), -1); /* nothing yet */
	assert_int_equal(write(sv[1], "one\ntwo\nthr", 11), 11);
	assert_true(proto_reader_fill(&r, sv[0], &err) > 0);
	assert_int_equal(proto_reader_line(&r, &line, &len, &err), 1);
	assert_int_equal(len, 3);
	assert_memory_equal(line, "one", 3);
	assert_int_equal(proto_reader_line(&r, &line, &len, &err), 1);
	assert_memory_equal(line, "two", 3);
	assert_int_equal(proto_reader_line(&r, &line, &len, &err), 0); /* "thr" waits for its end */
	assert_int_equal(write(sv[1], "ee\n", 3), 3);
	assert_true(proto_reader_fill(&r, sv[0], &err) > 0);
	assert_int_equal(proto_reader_line(&r, &line, &len, &err), 1);
	assert_int_equal(len, 5);
	assert_memory_equal(line, "three", 5);
	/* a line past the bound is an error, with or without its end */
	assert_int_equal(write(sv[1], "0123456789abcdefXYZ", 19), 19);
	assert_true(proto_reader_fill(&r, sv[0], &err) > 0);
	assert_int_equal(proto_reader_line(&r, &line, &len, &err), -1);
	assert_non_null(strstr(err.msg, "longer than 16"));
	proto_reader_free(&r);
	/* the peer's end */
	proto_reader_init(&r, 16);
	close(sv[1]);
	assert_int_equal(proto_reader_fill(&r, sv[0], &err), 0);
	proto_reader_free(&r);
	close(sv[0]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hello_and_ack),
		cmocka_unit_test(test_every_command_and_event),
		cmocka_unit_test(test_text_mended),
		cmocka_unit_test(test_bad_lines),
		cmocka_unit_test(test_reader),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
