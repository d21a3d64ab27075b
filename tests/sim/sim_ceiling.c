/* sim_ceiling: replays a request log of the simulator (sim --log, see simlog.h) against it as fast
 * as it answers, keeping --window requests in flight, to give the "ceiling" a poll is measured
 * against: the same requests, to the same printers, without anything a poll does besides asking.
 *
 *   sim_ceiling --log FILE --port P [--window N] [--raw] [--repeat K]
 *
 * Default: a minimal asynchronous Net-SNMP client (one session, one socket, every PDU rebuilt and
 * sent with snmp_sess_async_send, every answer parsed by Net-SNMP and dropped): what any client on
 * Net-SNMP pays at the least. --raw: the logged datagrams sent as they are with sendmmsg, answers
 * read with recvmmsg and not parsed: what the simulator itself can answer. Prints one line:
 *   ceiling mode M requests N answered A lost L seconds S cpu_seconds C */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>
#include <net-snmp/library/snmp_impl.h>

#include "tests/sim/simlog.h"

struct req {
	uint32_t addr;
	uint16_t len;
	u_char *bytes;
	netsnmp_pdu *pdu; /* Net-SNMP mode: the request as a PDU, cloned for each send */
};

static struct req *reqs;
static size_t n_reqs;
static int port;

static void die(const char *msg, const char *arg)
{
	fprintf(stderr, "sim_ceiling: %s%s%s\n", msg, arg ? ": " : "", arg ? arg : "");
	exit(2);
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static double cpu(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
	       ru.ru_stime.tv_usec / 1e6;
}

static void load(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		die("cannot open", path);
	size_t cap = 1024;
	reqs = malloc(cap * sizeof *reqs);
	struct simlog_record r;
	while (reqs && fread(&r, sizeof r, 1, f) == 1) {
		if (n_reqs == cap) {
			cap *= 2;
			reqs = realloc(reqs, cap * sizeof *reqs);
			if (!reqs)
				break;
		}
		struct req *q = &reqs[n_reqs];
		q->addr = r.addr;
		q->len = r.len;
		q->bytes = malloc(r.len ? r.len : 1);
		q->pdu = NULL;
		if (!q->bytes || fread(q->bytes, 1, r.len, f) != r.len)
			die("short or unreadable log", path);
		n_reqs++;
	}
	if (!reqs)
		die("out of memory", NULL);
	fclose(f);
}

static struct sockaddr_in peer_of(uint32_t addr)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				  .sin_addr.s_addr = htonl(addr) };
	return sa;
}

/* ---- raw: the simulator's own capacity ---- */

#define BATCH 64

static void run_raw(int window, size_t *answered, size_t *lost)
{
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	int big = 8 << 20;
	if (fd < 0)
		die("socket", strerror(errno));
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof big) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
	static u_char inbuf[BATCH][65536];
	struct mmsghdr in[BATCH], out[BATCH];
	struct iovec iin[BATCH], iout[BATCH];
	struct sockaddr_in to[BATCH];
	size_t next = 0, inflight = 0;
	while (next < n_reqs || inflight > 0) {
		int n = 0;
		while (next < n_reqs && inflight + (size_t)n < (size_t)window && n < BATCH) {
			to[n] = peer_of(reqs[next].addr);
			iout[n] = (struct iovec){ reqs[next].bytes, reqs[next].len };
			out[n].msg_hdr = (struct msghdr){ .msg_name = &to[n], .msg_namelen = sizeof to[n],
							  .msg_iov = &iout[n], .msg_iovlen = 1 };
			n++;
			next++;
		}
		for (int sent = 0; sent < n;) {
			int k = sendmmsg(fd, out + sent, (unsigned)(n - sent), 0);
			if (k < 0 && errno != EINTR)
				die("sendmmsg", strerror(errno));
			if (k > 0)
				sent += k;
		}
		inflight += (size_t)n;
		struct pollfd p = { .fd = fd, .events = POLLIN };
		if (poll(&p, 1, 500) <= 0) {
			/* Nothing for half a second: what is still out is lost. */
			*lost += inflight;
			inflight = 0;
			continue;
		}
		for (int i = 0; i < BATCH; i++) {
			iin[i] = (struct iovec){ inbuf[i], sizeof inbuf[i] };
			in[i].msg_hdr = (struct msghdr){ .msg_iov = &iin[i], .msg_iovlen = 1 };
		}
		int got = recvmmsg(fd, in, BATCH, MSG_DONTWAIT, NULL);
		if (got > 0) {
			*answered += (size_t)got;
			inflight -= (size_t)got > inflight ? inflight : (size_t)got;
		}
	}
	close(fd);
}

/* ---- Net-SNMP: a minimal asynchronous client ---- */

static size_t nsm_answered, nsm_lost, nsm_inflight;

static int on_answer(int op, netsnmp_session *s, int reqid, netsnmp_pdu *pdu, void *magic)
{
	(void)s;
	(void)reqid;
	(void)pdu;
	(void)magic;
	if (op == NETSNMP_CALLBACK_OP_RESEND || op == NETSNMP_CALLBACK_OP_CONNECT)
		return 1; /* notices: the request is still in flight */
	if (op == NETSNMP_CALLBACK_OP_RECEIVED_MESSAGE)
		nsm_answered++;
	else
		nsm_lost++; /* timed out, send failed, security error: its end all the same */
	nsm_inflight--;
	return 1;
}

static void netsnmp_prepare(void)
{
	setenv("MIBS", "", 1);
	netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DONT_READ_CONFIGS, 1);
	netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DISABLE_PERSISTENT_LOAD, 1);
	netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DISABLE_PERSISTENT_SAVE, 1);
	netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DONT_PERSIST_STATE, 1);
	init_snmp("sim_ceiling");
	/* The requests as PDUs (decoded before the clock starts, like a poll knows its OIDs). */
	for (size_t i = 0; i < n_reqs; i++) {
		u_char community[256];
		size_t clen = sizeof community, len = reqs[i].len;
		long version;
		u_char *data = snmp_comstr_parse(reqs[i].bytes, &len, community, &clen, &version);
		netsnmp_pdu *pdu = snmp_pdu_create(0);
		if (!data || !pdu || snmp_pdu_parse(pdu, data, &len) != 0)
			die("a logged request does not parse", NULL);
		pdu->version = version;
		free(pdu->community);
		pdu->community = malloc(clen ? clen : 1);
		if (!pdu->community)
			die("out of memory", NULL);
		memcpy(pdu->community, community, clen);
		pdu->community_len = clen;
		reqs[i].pdu = pdu;
	}
}

static void run_netsnmp(int window)
{
	netsnmp_session conf;
	snmp_sess_init(&conf);
	char peer[64];
	snprintf(peer, sizeof peer, "udp:127.0.0.1:%d", port);
	conf.peername = peer;
	conf.version = SNMP_VERSION_2c;
	conf.community = (u_char *)"public";
	conf.community_len = 6;
	conf.timeout = 1000000;
	conf.retries = 1;
	conf.callback = on_answer;
	void *sess = snmp_sess_open(&conf);
	if (!sess)
		die("snmp_sess_open failed", NULL);
	/* A window of answers must fit in the socket's queue, as in the engine. */
	netsnmp_transport *t = snmp_sess_transport(sess);
	int big = 8 << 20;
	if (t && setsockopt(t->sock, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof big) < 0)
		setsockopt(t->sock, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
	size_t next = 0;
	while (next < n_reqs || nsm_inflight > 0) {
		/* A simulator that stopped answering: no ceiling to measure, and no point waiting. */
		if (nsm_lost > 64 && next < n_reqs) {
			nsm_lost += n_reqs - next;
			next = n_reqs;
		}
		while (next < n_reqs && nsm_inflight < (size_t)window) {
			netsnmp_pdu *pdu = snmp_clone_pdu(reqs[next].pdu);
			netsnmp_indexed_addr_pair *to = calloc(1, sizeof *to);
			if (!pdu || !to)
				die("out of memory", NULL);
			/* The logged ids belong to the poll that sent them. */
			pdu->reqid = snmp_get_next_reqid();
			pdu->msgid = snmp_get_next_msgid();
			/* One socket for every printer: the PDU names its own destination. */
			to->remote_addr.sin = peer_of(reqs[next].addr);
			pdu->transport_data = to;
			pdu->transport_data_length = sizeof *to;
			if (!snmp_sess_async_send(sess, pdu, on_answer, NULL)) {
				snmp_free_pdu(pdu);
				nsm_lost++;
			} else {
				nsm_inflight++;
			}
			next++;
		}
		int fds = 0, block = 0;
		fd_set set;
		FD_ZERO(&set);
		struct timeval tv = { 1, 0 };
		snmp_sess_select_info(sess, &fds, &set, &tv, &block);
		int n = select(fds, &set, NULL, NULL, &tv);
		if (n > 0)
			snmp_sess_read(sess, &set);
		else if (n == 0)
			snmp_sess_timeout(sess);

	}
	snmp_sess_close(sess);
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "log", required_argument, NULL, 'l' },  { "port", required_argument, NULL, 'p' },
		{ "window", required_argument, NULL, 'w' }, { "raw", no_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 },
	};
	const char *log = NULL;
	int window = 256, opt;
	bool raw = false;
	while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
		switch (opt) {
		case 'l': log = optarg; break;
		case 'p': port = atoi(optarg); break;
		case 'w': window = atoi(optarg); break;
		case 'r': raw = true; break;
		default: die("usage: sim_ceiling --log FILE --port P [--window N] [--raw]", NULL);
		}
	}
	if (!log || port <= 0 || window < 1)
		die("usage: sim_ceiling --log FILE --port P [--window N] [--raw]", NULL);
	load(log);
	if (!n_reqs)
		die("the log is empty", log);
	size_t answered = 0, lost = 0;
	double c0, t0, t1;
	if (raw) {
		c0 = cpu();
		t0 = now();
		run_raw(window, &answered, &lost);
		t1 = now();
	} else {
		/* Net-SNMP's start-up and the decoding of the log are not timed. */
		netsnmp_prepare();
		c0 = cpu();
		t0 = now();
		run_netsnmp(window);
		t1 = now();
		answered = nsm_answered;
		lost = nsm_lost;
	}
	printf("ceiling mode %s requests %zu answered %zu lost %zu seconds %.3f cpu_seconds %.3f\n",
	       raw ? "raw" : "netsnmp", n_reqs, answered, lost, t1 - t0, cpu() - c0);
	return lost ? 1 : 0;
}
