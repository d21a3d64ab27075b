/* Unit tests of the uplink's delivery rules without a server: backoff with jitter and its bounds,
 * what each HTTP status means, the outbox's bounds (drops by age and by size with a "dropped"
 * sync record each, never the newest report, and the near-bound state the e-mail alerts read),
 * the retry trigger standing still while an authentication failure stands or nothing is due, and
 * the transport refusing anything but https:// before it opens a connection. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "model/clock.h"
#include "model/config.h"
#include "model/store.h"
#include "tests/unit/lib/tmpdir.h"
#include "uplink/outbox.h"
#include "uplink/transport.h"

#define DAY 86400

struct fixture {
	char *dir;
	struct store *s;
	struct config *cfg;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	f->dir = test_tmpdir_new();
	char *db = NULL;
	if (asprintf(&db, "%s/fleetcon.db", f->dir) < 0)
		return -1;
	struct fc_error err = { { 0 } };
	f->cfg = config_parse_string("[server]\nurl = https://127.0.0.1:9/reports\nuser = u\npassword = p\n"
				     "[outbox]\nmax_age = 30d\nmax_size = 1M\n",
				     "unit", &err);
	int rc = store_open(db, 0, &f->s, &err);
	free(db);
	if (!f->cfg || rc < 0) {
		fprintf(stderr, "%s\n", err.msg);
		return -1;
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	store_close(&f->s);
	config_free(&f->cfg);
	test_tmpdir_remove(&f->dir);
	free(f);
	return 0;
}

static void test_backoff(void **state)
{
	(void)state;
	/* Equal jitter: between half and all of base * 2^(n-1), capped. */
	static const struct {
		int n;
		int64_t lo, hi;
	} want[] = { { 1, 500, 1000 }, { 2, 1000, 2000 }, { 3, 2000, 4000 }, { 4, 4000, 8000 }, { 9, 4000, 8000 },
		     { 0, 500, 1000 } };
	static const uint32_t rnds[] = { 0, 1, 12345, 0x7fffffff, 0xffffffff };
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
		for (size_t j = 0; j < sizeof rnds / sizeof rnds[0]; j++) {
			int64_t d = outbox_backoff_ms(want[i].n, 1000, 8000, rnds[j]);
			assert_in_range(d, want[i].lo, want[i].hi);
		}
	}
	assert_int_equal(outbox_backoff_ms(1, 1000, 8000, 0), 500);
	/* Jitter really varies. */
	assert_int_not_equal(outbox_backoff_ms(3, 1000, 8000, 1), outbox_backoff_ms(3, 1000, 8000, 1001));
	/* Between syncs: a minute doubling to an hour. */
	assert_in_range(outbox_retry_delay(1, 77), 30, 60);
	assert_in_range(outbox_retry_delay(3, 77), 120, 240);
	assert_in_range(outbox_retry_delay(40, 77), 1800, 3600);
}

static void test_classify(void **state)
{
	(void)state;
	static const struct {
		int status;
		enum transport_outcome want;
	} cases[] = {
		{ 200, TRANSPORT_DELIVERED }, { 201, TRANSPORT_DELIVERED }, { 202, TRANSPORT_DELIVERED },
		{ 204, TRANSPORT_DELIVERED }, { 299, TRANSPORT_DELIVERED }, { 408, TRANSPORT_RETRY },
		{ 429, TRANSPORT_RETRY },     { 500, TRANSPORT_RETRY },     { 502, TRANSPORT_RETRY },
		{ 503, TRANSPORT_RETRY },     { 599, TRANSPORT_RETRY },     { 401, TRANSPORT_AUTH_FAILED },
		{ 403, TRANSPORT_AUTH_FAILED }, { 400, TRANSPORT_REJECTED }, { 404, TRANSPORT_REJECTED },
		{ 413, TRANSPORT_REJECTED },  { 422, TRANSPORT_REJECTED },  { 301, TRANSPORT_REJECTED },
		{ 302, TRANSPORT_REJECTED },  { 100, TRANSPORT_REJECTED },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		assert_int_equal(transport_classify_status(cases[i].status), cases[i].want);
	assert_string_equal(transport_outcome_name(TRANSPORT_AUTH_FAILED), "auth-failed");
	assert_string_equal(outbox_stage_name(OUTBOX_STAGE_ACKNOWLEDGED), "acknowledged");
}

/* An https-only transport must not even connect for http:// (the configuration refuses such a URL
 * already; this is the second lock on the door). */
static void test_http_refused_without_connecting(void **state)
{
	(void)state;
	int ls = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	assert_true(ls >= 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	assert_int_equal(bind(ls, (struct sockaddr *)&a, sizeof a), 0);
	assert_int_equal(listen(ls, 4), 0);
	socklen_t alen = sizeof a;
	assert_int_equal(getsockname(ls, (struct sockaddr *)&a, &alen), 0);
	char url[64];
	snprintf(url, sizeof url, "http://127.0.0.1:%d/reports", ntohs(a.sin_port));

	struct fc_error err = { { 0 } };
	assert_int_equal(transport_global_init(&err), 0);
	struct transport_options o = { .url = url, .connect_timeout = 2, .timeout = 2 };
	struct transport_result res;
	static const unsigned char body[] = "{}";
	assert_int_equal(transport_post(&o, "k", body, 2, &res, &err), -1);
	assert_non_null(strstr(err.msg, "https://"));
	o.url = "HTTP://127.0.0.1:1/";
	assert_int_equal(transport_post(&o, "k", body, 2, &res, &err), -1);
	o.url = "";
	assert_int_equal(transport_post(&o, "k", body, 2, &res, &err), -1);
	/* Nobody knocked. */
	assert_int_equal(accept(ls, NULL, NULL), -1);
	assert_true(errno == EAGAIN || errno == EWOULDBLOCK);
	close(ls);
}

static int64_t add_entry(struct fixture *f, size_t size, int64_t created)
{
	unsigned char *body = calloc(1, size);
	assert_non_null(body);
	char key[UUID_STR_LEN];
	int64_t id;
	struct fc_error err = { { 0 } };
	assert_int_equal(store_outbox_add(f->s, body, size, 3, created, key, &id, &err), 0);
	free(body);
	return id;
}

static int64_t setting_time(struct fixture *f, const char *key)
{
	int64_t t;
	struct fc_error err = { { 0 } };
	assert_int_equal(outbox_setting_time(f->s, key, &t, &err), 0);
	return t;
}

struct drops {
	int events;
	char last[512];
};

static void on_event(void *ctx, const struct outbox_event *ev)
{
	struct drops *d = ctx;
	assert_int_equal(ev->stage, OUTBOX_STAGE_DROPPED);
	d->events++;
	snprintf(d->last, sizeof d->last, "%s", ev->message);
}

static void test_bound_by_age(void **state)
{
	struct fixture *f = *state;
	int64_t now = 1750000000;
	add_entry(f, 1000, now - 31 * DAY); /* over max_age: goes */
	int64_t kept_old = add_entry(f, 1000, now - 25 * DAY); /* 83 % of max_age: near the bound */
	int64_t fresh = add_entry(f, 1000, now);
	struct fc_error err = { { 0 } };
	struct drops d = { 0 };
	int dropped = -1;
	assert_int_equal(outbox_enforce(f->s, f->cfg, now, fresh, "scheduled", on_event, &d, &dropped, &err), 0);
	assert_int_equal(dropped, 1);
	assert_int_equal(d.events, 1);
	assert_non_null(strstr(d.last, "max_age"));

	struct outbox_entry *list;
	size_t n;
	assert_int_equal(store_outbox_list(f->s, false, &list, &n, &err), 0);
	assert_int_equal(n, 2);
	assert_int_equal(list[0].id, kept_old);
	outbox_array_free(&list, n);

	/* The drop is in the history, with what was lost. */
	struct sync_record *syncs;
	assert_int_equal(store_syncs_list(f->s, 0, &syncs, &n, &err), 0);
	assert_int_equal(n, 1);
	assert_string_equal(syncs[0].result, "dropped");
	assert_string_equal(syncs[0].trigger, "scheduled");
	assert_int_equal(syncs[0].bytes, 1000);
	assert_int_equal(syncs[0].devices, 3);
	assert_non_null(syncs[0].report_key);
	assert_non_null(strstr(syncs[0].error, "older than [outbox] max_age"));
	sync_array_free(&syncs, n);

	/* Near the bound, since now; the line the admin sees says why. */
	assert_int_equal(setting_time(f, OUTBOX_KEY_NEAR_SINCE), now);
	char state_line[256];
	assert_int_equal(store_setting_get(f->s, OUTBOX_KEY_STATE, state_line, sizeof state_line, &err), 1);
	assert_non_null(strstr(state_line, "2 reports"));
	assert_non_null(strstr(state_line, "(83 %)"));
	char verdict[256];
	assert_int_equal(store_setting_get(f->s, OUTBOX_KEY_NEAR_BOUND, verdict, sizeof verdict, &err), 1);
	assert_string_equal(verdict, state_line);
	/* Still near an hour later: the "since" stays. */
	assert_int_equal(outbox_enforce(f->s, f->cfg, now + 3600, 0, "retry", NULL, NULL, &dropped, &err), 0);
	assert_int_equal(dropped, 0);
	assert_int_equal(setting_time(f, OUTBOX_KEY_NEAR_SINCE), now);

	/* Under 80 % but not under 70 %: still near (no flapping around the line). */
	struct outbox_summary sum;
	assert_int_equal(outbox_record_state(f->s, f->cfg, now - 3 * DAY, &sum, &err), 0);
	assert_int_equal(sum.age_percent, 73);
	assert_true(sum.near_bound);
	assert_int_equal(setting_time(f, OUTBOX_KEY_NEAR_SINCE), now);

	/* Delivered: no longer near. */
	assert_int_equal(store_outbox_remove(f->s, kept_old, &err), 1);
	assert_int_equal(outbox_record_state(f->s, f->cfg, now + 7200, &sum, &err), 0);
	assert_false(sum.near_bound);
	assert_int_equal(sum.entries, 1);
	assert_int_equal(setting_time(f, OUTBOX_KEY_NEAR_SINCE), 0);
	assert_int_equal(store_setting_get(f->s, OUTBOX_KEY_NEAR_BOUND, verdict, sizeof verdict, &err), 1);
	assert_string_equal(verdict, "0");
}

static void test_bound_by_size(void **state)
{
	struct fixture *f = *state;
	int64_t now = 1750000000;
	int64_t first = add_entry(f, 300 * 1024, now - 400);
	add_entry(f, 300 * 1024, now - 300);
	add_entry(f, 300 * 1024, now - 200);
	int64_t newest = add_entry(f, 300 * 1024, now - 100);
	struct fc_error err = { { 0 } };
	int dropped = -1;
	struct drops d = { 0 };
	assert_int_equal(outbox_enforce(f->s, f->cfg, now, newest, "manual", on_event, &d, &dropped, &err), 0);
	/* 1200 KiB in a 1 MiB outbox: the oldest goes, 900 KiB (87 %) stay, near the bound. */
	assert_int_equal(dropped, 1);
	assert_non_null(strstr(d.last, "max_size"));
	struct outbox_summary sum;
	assert_int_equal(outbox_summarize(f->s, f->cfg, now, &sum, &err), 0);
	assert_int_equal(sum.entries, 3);
	assert_int_equal(sum.bytes, 900 * 1024);
	assert_int_equal(sum.size_percent, 87);
	assert_true(sum.near_bound);
	assert_int_equal(setting_time(f, OUTBOX_KEY_NEAR_SINCE), now);
	struct outbox_entry *list;
	size_t n;
	assert_int_equal(store_outbox_list(f->s, false, &list, &n, &err), 0);
	for (size_t i = 0; i < n; i++)
		assert_int_not_equal(list[i].id, first);
	outbox_array_free(&list, n);
}

/* The report just built is never dropped, even alone over the bound. */
static void test_newest_kept(void **state)
{
	struct fixture *f = *state;
	int64_t now = 1750000000;
	int64_t big = add_entry(f, 1536 * 1024, now);
	struct fc_error err = { { 0 } };
	int dropped = -1;
	assert_int_equal(outbox_enforce(f->s, f->cfg, now, big, "manual", NULL, NULL, &dropped, &err), 0);
	assert_int_equal(dropped, 0);
	struct outbox_summary sum;
	assert_int_equal(outbox_summarize(f->s, f->cfg, now, &sum, &err), 0);
	assert_int_equal(sum.entries, 1);
	assert_true(sum.near_bound);
	assert_int_equal(sum.size_percent, 150);
}

static int no_wait(void *ctx, int64_t ms)
{
	(void)ctx;
	(void)ms;
	fail_msg("nothing should be waited for");
	return 1;
}

/* The service's retries stand still while the server refuses the credentials, and leave entries
 * alone until their time: nothing is sent (the URL's port 9 would refuse at once), nothing is
 * recorded. */
static void test_retry_trigger_waits(void **state)
{
	struct fixture *f = *state;
	int64_t now = clock_now();
	int64_t id = add_entry(f, 100, now);
	struct fc_error err = { { 0 } };
	struct outbox_delivery d = {
		.trigger = "retry", .policy = outbox_policy_default, .wait = no_wait,
	};
	d.policy.attempts = 1;
	d.policy.due_only = true;
	transport_options_from_config(&d.transport, f->cfg);

	assert_int_equal(store_setting_set(f->s, OUTBOX_KEY_AUTH_FAILED, "1750000000", &err), 0);
	struct outbox_result res;
	assert_int_equal(outbox_deliver(f->s, &d, &res, &err), 0);
	assert_true(res.auth_failed);
	assert_int_equal(res.pending, 1);
	assert_int_equal(res.skipped, 1);
	assert_int_equal(res.delivered + res.failed + res.rejected, 0);

	assert_int_equal(store_setting_set(f->s, OUTBOX_KEY_AUTH_FAILED, "0", &err), 0);
	assert_int_equal(store_outbox_attempted(f->s, id, "earlier failure", now + 3600, &err), 0);
	assert_int_equal(outbox_deliver(f->s, &d, &res, &err), 0);
	assert_false(res.auth_failed);
	assert_int_equal(res.skipped, 1);
	assert_int_equal(res.pending, 1);

	struct sync_record *syncs;
	size_t n;
	assert_int_equal(store_syncs_list(f->s, 0, &syncs, &n, &err), 0);
	assert_int_equal(n, 0);
	sync_array_free(&syncs, n);

	/* Without a URL nothing can be delivered at all: an error, not a silent success. */
	d.transport.url = "";
	assert_int_equal(outbox_deliver(f->s, &d, &res, &err), -1);
	assert_non_null(strstr(err.msg, "[server] url"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_backoff),
		cmocka_unit_test(test_classify),
		cmocka_unit_test(test_http_refused_without_connecting),
		cmocka_unit_test_setup_teardown(test_bound_by_age, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bound_by_size, setup, teardown),
		cmocka_unit_test_setup_teardown(test_newest_kept, setup, teardown),
		cmocka_unit_test_setup_teardown(test_retry_trigger_waits, setup, teardown),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	transport_global_cleanup();
	return rc;
}
