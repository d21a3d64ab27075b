/* Fuzzes the service's socket protocol (service/protocol.h): any line through proto_decode, and
 * any byte stream through the bounded line reader. Properties: a line either decodes or fails
 * with a message; a decoded frame encodes again as one line of JSON ending in its only "\n",
 * which decodes to the same frame and encodes to the same bytes (one round is a fixed point);
 * the reader hands out exactly the lines of the stream, none longer than its bound, and refuses
 * a longer one instead of growing without end. */
#include "tests/fuzz/fuzz.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "service/protocol.h"

static void same_frame(const struct proto_frame *a, const struct proto_frame *b)
{
	FUZZ_CHECK(a->type == b->type && a->version == b->version && a->seq == b->seq &&
			   (a->type != PROTO_HELLO || a->pid == b->pid) &&
			   (a->type != PROTO_ACK || a->text[0] || a->job == b->job),
		   "frame numbers changed in a round trip");
	FUZZ_CHECK(!a->msg == !b->msg, "message lost");
	if (a->msg)
		FUZZ_CHECK(a->msg->kind == b->msg->kind && a->msg->id == b->msg->id &&
				   a->msg->a == b->msg->a && a->msg->b == b->msg->b &&
				   !a->msg->text == !b->msg->text,
			   "message changed in a round trip");
}

static void check_line(const uint8_t *data, size_t size)
{
	struct proto_frame f, g;
	struct fc_error err = { { 0 } };
	if (proto_decode((const char *)data, size, &f, &err) < 0) {
		FUZZ_CHECK(err.msg[0] != '\0', "refused without a message");
		return;
	}
	size_t len = 0;
	char *line = proto_encode(&f, &len, &err);
	FUZZ_CHECK(line != NULL, "a decoded frame does not encode: %s", err.msg);
	FUZZ_CHECK(len > 0 && len == strlen(line) && line[len - 1] == '\n' &&
			   memchr(line, '\n', len - 1) == NULL,
		   "not one line: %s", line);
	FUZZ_CHECK(proto_decode(line, len - 1, &g, &err) == 0, "own line does not decode: %s\n%s",
		   err.msg, line);
	same_frame(&f, &g);
	size_t len2 = 0;
	char *line2 = proto_encode(&g, &len2, &err);
	FUZZ_CHECK(line2 && len2 == len && memcmp(line, line2, len) == 0, "encode not stable:\n%s%s", line,
		   line2 ? line2 : "(null)\n");
	free(line2);
	free(line);
	proto_frame_clear(&g);
	proto_frame_clear(&f);
	FUZZ_CHECK(f.msg == NULL && g.msg == NULL, "clear kept the message");
}

static void check_reader(const uint8_t *data, size_t size, size_t max)
{
	int p[2];
	FUZZ_CHECK(pipe2(p, O_NONBLOCK | O_CLOEXEC) == 0, "pipe: %s", strerror(errno));
	struct proto_reader r;
	proto_reader_init(&r, max);
	struct fc_error err = { { 0 } };
	const char *line;
	size_t len;
	/* asking before anything was read gives no line (it once computed NULL + 0) */
	FUZZ_CHECK(proto_reader_line(&r, &line, &len, &err) == 0, "a line from nothing");
	size_t fed = 0, consumed = 0;
	bool closed = false, refused = false;
	while (!refused) {
		if (fed < size) {
			/* the stream arrives in pieces of up to 4 KiB, like a socket's reads */
			size_t piece = size - fed < 4096 ? size - fed : 4096;
			ssize_t w = write(p[1], data + fed, piece);
			FUZZ_CHECK(w > 0, "write: %s", strerror(errno));
			fed += (size_t)w;
		} else if (!closed) {
			close(p[1]);
			closed = true;
		}
		ssize_t n = proto_reader_fill(&r, p[0], &err);
		FUZZ_CHECK(n >= -1, "fill: %s", err.msg);
		int rc;
		while ((rc = proto_reader_line(&r, &line, &len, &err)) == 1) {
			FUZZ_CHECK(len <= max, "a line of %zu bytes past the bound %zu", len, max);
			FUZZ_CHECK(consumed + len < size && memcmp(line, data + consumed, len) == 0 &&
					   data[consumed + len] == '\n',
				   "the reader's line is not the stream's");
			consumed += len + 1;
		}
		if (rc < 0) {
			/* refused only when the stream really has a line (or a tail) longer than max */
			const uint8_t *nl = memchr(data + consumed, '\n', size - consumed);
			size_t next = nl ? (size_t)(nl - (data + consumed)) : size - consumed;
			FUZZ_CHECK(next > max, "refused a line of %zu bytes (max %zu)", next, max);
			refused = true;
		}
		if (n == 0)
			break;
	}
	if (!refused) {
		const uint8_t *last = memchr(data + consumed, '\n', size - consumed);
		FUZZ_CHECK(last == NULL, "a complete line was left in the reader");
	}
	proto_reader_free(&r);
	close(p[0]);
	if (!closed)
		close(p[1]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* Each line of the input as a frame, then the whole input as a stream. */
	size_t start = 0;
	for (size_t i = 0; i <= size; i++) {
		if (i == size || data[i] == '\n') {
			check_line(data + start, i - start);
			start = i + 1;
		}
	}
	size_t max = size ? 1 + data[0] % 128 : 16;
	check_reader(data, size, max);
	check_reader(data, size, PROTO_LINE_MAX_CLIENT);
	return 0;
}
