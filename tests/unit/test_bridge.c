/* test_bridge.c -- unit tests of the bridge's parts: CONNECT parser, grants, lockout, tokens, TOTP, hashes, user DB. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <time.h>

#include "lib/util.h"
#include "tests/lib/unit.h"
#include "vpn-bridge/access.h"
#include "vpn-bridge/asp_probe.h"
#include "vpn-bridge/auth.h"
#include "vpn-bridge/authproto.h"
#include "lib/event.h"
#include "vpn-bridge/counts.h"
#include "vpn-bridge/devreg.h"
#include "vpn-bridge/http.h"
#include "lib/lockout.h"
#include "lib/pwhash.h"
#include "vpn-bridge/relay_state.h"
#include "vpn-bridge/token.h"
#include "lib/totp.h"
#include "vpn-bridge/userdb.h"

static enum http_result
parse(const char *text, struct http_connect *out)
{
	return http_parse_connect(text, strlen(text), out);
}

static void
test_connect_basic(void)
{
	struct http_connect c;
	/* "alice:pw123456" */
	const char *req = "CONNECT 10.20.1.5:3389 HTTP/1.1\r\nHost: 10.20.1.5:3389\r\n"
	    "Proxy-Authorization: Basic YWxpY2U6cHcxMjM0NTY=\r\n\r\nextra";

	CHECK_INT(parse(req, &c), HTTP_OK);
	CHECK_STR(c.host, "10.20.1.5");
	CHECK_INT(c.port, 3389);
	CHECK(c.host_is_ip);
	CHECK(c.has_auth);
	CHECK_STR(c.user, "alice");
	CHECK_STR(c.secret, "pw123456");
	CHECK_INT(c.head_len, strlen(req) - 5);
}

static void
test_connect_targets(void)
{
	struct http_connect c;

	CHECK_INT(parse("CONNECT [fd00:20::15]:22 HTTP/1.1\r\n\r\n", &c), HTTP_OK);
	CHECK_STR(c.host, "fd00:20::15");
	CHECK(c.host_is_ip);
	CHECK_INT(parse("CONNECT asp.example.lg.jp:443 HTTP/1.0\r\n\r\n", &c), HTTP_OK);
	CHECK(!c.host_is_ip);
	CHECK(!c.has_auth);
	CHECK_INT(parse("CONNECT a b:1 HTTP/1.1\r\n\r\n", &c), HTTP_BAD_REQUEST);
	CHECK_INT(parse("CONNECT host:0 HTTP/1.1\r\n\r\n", &c), HTTP_BAD_REQUEST);
	CHECK_INT(parse("CONNECT host:65536 HTTP/1.1\r\n\r\n", &c), HTTP_BAD_REQUEST);
	CHECK_INT(parse("CONNECT host HTTP/1.1\r\n\r\n", &c), HTTP_BAD_REQUEST);
	CHECK_INT(parse("CONNECT [nothex]:1 HTTP/1.1\r\n\r\n", &c), HTTP_BAD_REQUEST);
	CHECK_INT(parse("CONNECT ho_st:1 HTTP/1.1\r\n\r\n", &c), HTTP_BAD_REQUEST);
	CHECK_INT(parse("CONNECT host:+1 HTTP/1.1\r\n\r\n", &c), HTTP_BAD_REQUEST);
}

static void
test_connect_rejects(void)
{
	struct http_connect c;
	char big[HTTP_MAX_HEAD + 10];

	CHECK_INT(parse("GET / HTTP/1.1\r\n\r\n", &c), HTTP_NOT_CONNECT);
	CHECK_INT(parse("CONNECT h:1 HTTP/1.1\r\n", &c), HTTP_INCOMPLETE);
	CHECK_INT(parse("CONNECT h:1 HTTP/1.1\r\nX: a\nb\r\n\r\n", &c), HTTP_BAD_REQUEST);
	CHECK_INT(parse("CONNECT h:1 HTTP/1.1\r\n folded\r\n\r\n", &c), HTTP_BAD_REQUEST);
	CHECK_INT(parse("CONNECT h:1 HTTP/2.0\r\n\r\n", &c), HTTP_BAD_REQUEST);
	CHECK_INT(parse("CONNECT h:1 HTTP/1.1\r\nProxy-Authorization: Basic YTpi\r\n"
	    "Proxy-Authorization: Basic YTpi\r\n\r\n", &c), HTTP_BAD_REQUEST);
	memset(big, 'a', sizeof big);
	CHECK_INT(http_parse_connect(big, sizeof big, &c), HTTP_TOO_LARGE);
	/* Unreadable credentials are "no credentials" (407), not a crash or a 400. */
	CHECK_INT(parse("CONNECT h:1 HTTP/1.1\r\nProxy-Authorization: Basic !!!!\r\n\r\n", &c), HTTP_OK);
	CHECK(!c.has_auth);
	CHECK_INT(parse("CONNECT h:1 HTTP/1.1\r\nProxy-Authorization: Digest x\r\n\r\n", &c), HTTP_OK);
	CHECK(!c.has_auth);
}

static void
test_base64(void)
{
	uint8_t out[16];

	CHECK_INT(http_base64_decode("YWJj", 4, out, sizeof out), 3);
	CHECK(memcmp(out, "abc", 3) == 0);
	CHECK_INT(http_base64_decode("YWI=", 4, out, sizeof out), 2);
	CHECK_INT(http_base64_decode("YQ==", 4, out, sizeof out), 1);
	CHECK_INT(http_base64_decode("YQ=a", 4, out, sizeof out), -1);
	CHECK_INT(http_base64_decode("Y===", 4, out, sizeof out), -1);
	CHECK_INT(http_base64_decode("YWJ", 3, out, sizeof out), -1);
	CHECK_INT(http_base64_decode("YWJjYWJj", 8, out, 4), -1);
}

static void
test_dest_parse(void)
{
	struct bconf_dest d;
	const char *why = NULL;
	struct addr a;

	CHECK_INT(bconf_dest_parse("10.20.1.0/24:3389-3390", &d, &why), 0);
	CHECK_INT(d.port_lo, 3389);
	CHECK_INT(d.port_hi, 3390);
	addr_parse("10.20.1.77", &a);
	CHECK(prefix_contains(&d.net, &a));
	CHECK_INT(bconf_dest_parse("[fd00:20::/48]:22", &d, &why), 0);
	CHECK_INT(bconf_dest_parse("asp:kintai", &d, &why), 0);
	CHECK(d.is_asp);
	free(d.asp_name);
	CHECK_INT(bconf_dest_parse("10.20.1.0/24", &d, &why), -1);
	CHECK_INT(bconf_dest_parse("10.20.1.1/24:22", &d, &why), -1);
	CHECK_INT(bconf_dest_parse("10.20.1.0/24:30-20", &d, &why), -1);
	CHECK_INT(bconf_dest_parse("10.20.1.0/24:0", &d, &why), -1);
}

static void
test_lockout_backoff(void)
{
	struct lockout *lk = lockout_new(3, 60, 600);
	unsigned left = 0;

	CHECK_INT(lockout_fail(lk, "user:a", 1000), 0);
	CHECK_INT(lockout_fail(lk, "user:a", 1001), 0);
	CHECK(!lockout_is_locked(lk, "user:a", 1001, &left));
	CHECK_INT(lockout_fail(lk, "user:a", 1002), 60);
	CHECK(lockout_is_locked(lk, "user:a", 1010, &left));
	CHECK_INT(left, 52);
	CHECK_INT(lockout_fail(lk, "user:a", 1070), 120);      /* doubles */
	CHECK_INT(lockout_fail(lk, "user:a", 1200), 240);
	CHECK_INT(lockout_fail(lk, "user:a", 1500), 480);
	CHECK_INT(lockout_fail(lk, "user:a", 2000), 600);      /* capped */
	CHECK(!lockout_is_locked(lk, "user:b", 2000, &left));
	CHECK(lockout_clear(lk, "user:a"));
	CHECK(!lockout_is_locked(lk, "user:a", 2001, &left));
	CHECK(!lockout_clear(lk, "user:a"));
	lockout_free(lk);
}

static void
test_lockout_flood(void)
{
	struct lockout *lk = lockout_new(1, 60, 60);
	char key[40];
	unsigned left, full = 0;

	/* Far more keys than slots: memory stays fixed; the first lock is never evicted, new keys are refused. */
	for (int i = 0; i < 50000; i++) {
		snprintf(key, sizeof key, "addr:10.0.%d.%d", i / 256, i % 256);
		full += lockout_check(lk, key, 5000, &left) == LOCKOUT_FULL;
		lockout_fail(lk, key, 5000);
	}
	CHECK(full > 0);
	CHECK_INT(lockout_check(lk, "addr:10.0.0.0", 5001, &left), LOCKOUT_LOCKED);
	CHECK(lockout_is_locked(lk, key, 5001, &left));
	lockout_free(lk);
}

/* The table's slot for name under SipHash key k, as lockout.c places it (8192 slots). */
static unsigned
t_lockout_slot(const uint8_t k[16], const char *name)
{
	EVP_MAC *mac = EVP_MAC_fetch(NULL, "SIPHASH", NULL);
	EVP_MAC_CTX *ctx = EVP_MAC_CTX_new(mac);
	size_t size = 8, got;
	OSSL_PARAM params[] = { OSSL_PARAM_construct_size_t(OSSL_MAC_PARAM_SIZE, &size), OSSL_PARAM_END };
	uint8_t out[8] = { 0 };

	EVP_MAC_init(ctx, k, 16, params);
	EVP_MAC_update(ctx, (const uint8_t *)name, strlen(name));
	EVP_MAC_final(ctx, out, &got, sizeof out);
	EVP_MAC_CTX_free(ctx);
	EVP_MAC_free(mac);
	return ((uint32_t)out[0] | (uint32_t)out[1] << 8 | (uint32_t)out[2] << 16 | (uint32_t)out[3] << 24) % 8192;
}

/*
 * Someone who knows the hash key fails with 40 names that land on the locked account's
 * probe window (an attacker without the key cannot find them; a test can). The account
 * stays locked: its entry is never the one given up; the names that find no room are
 * refused (FULL), not counted over it.
 */
static void
test_lockout_colliding_names(void)
{
	static const uint8_t k[16] = "tiergate-lockout";
	struct lockout *lk = lockout_new_keyed(3, 300, 3600, k);
	unsigned target = t_lockout_slot(k, "user:alice"), hits = 0, full = 0, left;
	char name[40];

	for (int i = 0; i < 3; i++)
		lockout_fail(lk, "user:alice", 1000);
	CHECK_INT(lockout_check(lk, "user:alice", 1001, &left), LOCKOUT_LOCKED);
	for (unsigned i = 0; hits < 40 && i < 1000000; i++) {
		unsigned slot;
		snprintf(name, sizeof name, "user:x%u", i);
		slot = t_lockout_slot(k, name);
		if ((slot - target + 8192) % 8192 > 15 && (target - slot + 8192) % 8192 > 15)
			continue;
		hits++;
		full += lockout_check(lk, name, 1100, &left) == LOCKOUT_FULL;
		for (int j = 0; j < 3; j++)
			lockout_fail(lk, name, 1100);
	}
	CHECK_INT(hits, 40);
	CHECK(full > 0);
	CHECK_INT(lockout_check(lk, "user:alice", 1101, &left), LOCKOUT_LOCKED);
	CHECK_INT(left, 199);
	lockout_free(lk);
}

/* A lock written by one table is there in the next (a restart), and an unlock is too. */
static void
test_lockout_restart(void)
{
	char dir[] = "/tmp/tg-lockout-XXXXXX", path[64], tmp[80];
	struct lockout *lk = lockout_new(3, 300, 3600);
	const char *why;
	unsigned left;
	time_t now = time(NULL);
	FILE *f;

	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof path, "%s/users.db.lockout-user", dir);
	CHECK_INT(lockout_persist(lk, path, now, &why), 0);
	for (int i = 0; i < 3; i++)
		lockout_fail(lk, "user:alice", now);
	lockout_fail(lk, "user:bob", now);   /* counting, not locked: not kept */
	lockout_free(lk);
	lk = lockout_new(3, 300, 3600);   /* another hash key, as after a restart */
	CHECK_INT(lockout_persist(lk, path, now + 5, &why), 0);
	CHECK_INT(lockout_check(lk, "user:alice", now + 5, &left), LOCKOUT_LOCKED);
	CHECK_INT(left, 295);
	CHECK(lockout_fail(lk, "user:alice", now + 6) == 600);   /* the count went on: doubled */
	CHECK(lockout_clear(lk, "user:alice"));
	lockout_free(lk);
	lk = lockout_new(3, 300, 3600);
	CHECK_INT(lockout_persist(lk, path, now + 7, &why), 0);
	CHECK_INT(lockout_check(lk, "user:alice", now + 7, &left), LOCKOUT_OPEN);
	lockout_free(lk);
	/* A damaged file is refused, with the reason. */
	f = fopen(path, "w");
	fputs("user:alice 3 oops\n", f);
	fclose(f);
	lk = lockout_new(3, 300, 3600);
	CHECK_INT(lockout_persist(lk, path, now, &why), -1);
	CHECK(why != NULL);
	lockout_free(lk);
	snprintf(tmp, sizeof tmp, "%s.new", path);
	unlink(tmp);
	unlink(path);
	rmdir(dir);
}

static void
test_tokens(void)
{
	struct token_table *t = token_table_new();
	char tok[TOKEN_HEX], tok2[TOKEN_HEX], tok3[TOKEN_HEX];
	uint8_t s1[TOKEN_STAMP_LEN] = { 1 }, s2[TOKEN_STAMP_LEN] = { 2 };

	CHECK_INT(token_issue(t, "alice", "aa", s1, 100, 1000, tok), 0);
	CHECK_INT(strlen(tok), 64);
	CHECK_INT(token_check(t, tok, "alice", "aa", s1, 1050), TOKEN_OK);
	CHECK_INT(token_check(t, tok, "alice", "aa", s2, 1050), TOKEN_STALE);   /* new password */
	CHECK_INT(token_check(t, tok, "alice", "bb", s1, 1050), TOKEN_WRONG_DEVICE);
	CHECK_INT(token_check(t, tok, "bob", "aa", s1, 1050), TOKEN_WRONG_USER);
	CHECK_INT(token_check(t, tok, "alice", "aa", s1, 1100), TOKEN_UNKNOWN);   /* expired */
	CHECK_INT(token_check(t, "00", "alice", "aa", s1, 1050), TOKEN_UNKNOWN);
	token_revoke_user(t, "alice");
	CHECK_INT(token_check(t, tok, "alice", "aa", s1, 1050), TOKEN_UNKNOWN);
	/* Revocation by device, and of stale stamps only. */
	CHECK_INT(token_issue(t, "alice", "aa", s1, 100, 1000, tok), 0);
	CHECK_INT(token_issue(t, "alice", "bb", s2, 100, 1000, tok2), 0);
	CHECK_INT(token_issue(t, "bob", "aa", s1, 100, 1000, tok3), 0);
	CHECK_INT(token_revoke(t, "alice", NULL, s1, NULL, NULL), 1);
	CHECK_INT(token_check(t, tok2, "alice", "bb", s2, 1050), TOKEN_UNKNOWN);
	CHECK_INT(token_check(t, tok, "alice", "aa", s1, 1050), TOKEN_OK);
	CHECK_INT(token_revoke(t, NULL, "aa", NULL, NULL, NULL), 2);
	CHECK_INT(token_check(t, tok3, "bob", "aa", s1, 1050), TOKEN_UNKNOWN);
	token_table_free(t);
}

/* RFC 6238 appendix B, SHA-1 secret "12345678901234567890". */
static void
test_totp_rfc6238(void)
{
	const char *secret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";
	uint64_t step = 0;

	CHECK_INT(totp_check(secret, "94287082", 59, 30, 0, 8, &step), 0);
	CHECK_INT(step, 1);
	CHECK_INT(totp_check(secret, "07081804", 1111111109, 30, 0, 8, &step), 0);
	CHECK_INT(totp_check(secret, "287082", 59, 30, 0, 6, &step), 0);
	/* One step late is accepted with window 1, not with window 0. */
	CHECK_INT(totp_check(secret, "287082", 89, 30, 1, 6, &step), 0);
	CHECK_INT(step, 1);
	CHECK_INT(totp_check(secret, "287082", 89, 30, 0, 6, &step), -1);
	CHECK_INT(totp_check(secret, "287083", 59, 30, 1, 6, &step), -1);
	CHECK_INT(totp_check(secret, "28708", 59, 30, 1, 6, &step), -1);
	CHECK_INT(totp_check("not base32!", "287082", 59, 30, 1, 6, &step), -1);
}

static void
test_totp_new_secret(void)
{
	char a[TOTP_SECRET_B32_MAX], b[TOTP_SECRET_B32_MAX];

	CHECK_INT(totp_new_secret(a), 0);
	CHECK_INT(totp_new_secret(b), 0);
	CHECK_INT(strlen(a), 32);
	CHECK(strcmp(a, b) != 0);
}

static void
test_pwhash(void)
{
	char h1[PWHASH_MAX], h2[PWHASH_MAX];

	CHECK_INT(pwhash_make("correct horse", 13, h1), 0);
	CHECK_INT(pwhash_make("correct horse", 13, h2), 0);
	CHECK(strcmp(h1, h2) != 0);   /* salted */
	CHECK(str_has_prefix(h1, "$scrypt$ln=14,r=8,p=1$"));
	CHECK(pwhash_verify(h1, "correct horse", 13));
	CHECK(!pwhash_verify(h1, "correct horsf", 13));
	CHECK(!pwhash_verify(h1, "correct horse", 12));
	CHECK(!pwhash_verify("$scrypt$ln=40,r=8,p=1$00$00", "x", 1));
	CHECK(!pwhash_verify("garbage", "x", 1));
}

static void
test_userdb_roundtrip(void)
{
	char path[] = "/tmp/tg-userdb-XXXXXX";
	int fd = mkstemp(path);
	struct userdb db;
	struct userdb_user *u;

	close(fd);
	unlink(path);
	CHECK_INT(userdb_open(&db, path), 0);
	CHECK_INT(db.n, 0);
	for (int i = 0; i < 40; i++) {
		char name[16];
		snprintf(name, sizeof name, "user%d", i);
		u = userdb_add(&db, name);
		str_copy(u->totp, "GEZDGNBV", sizeof u->totp);
		u->last_step = (uint64_t)i * 1000;
	}
	CHECK_INT(userdb_save(&db), 0);
	userdb_close(&db);
	CHECK_INT(userdb_open(&db, path), 0);
	CHECK_INT(db.n, 40);
	u = userdb_find(&db, "user39");
	CHECK(u != NULL && u->last_step == 39000);
	CHECK(userdb_find(&db, "user40") == NULL);
	userdb_close(&db);
	CHECK(!userdb_name_ok("a:b"));
	CHECK(!userdb_name_ok(""));
	CHECK(userdb_name_ok("taro.yamada-2"));
	unlink(path);
}

/*
 * The relay may be compromised: a denial reaches it as ok = 0 and nothing else (every
 * byte after id and ok is zero), while the event log, written by the auth process, has
 * the reason.
 */
static void
test_auth_answer_no_reason(void)
{
	char dir[] = "/tmp/tg-auth-XXXXXX", users[64], events[64], log[4096];
	struct bridge_conf conf = { .lockout_threshold = 5, .lockout_base = 60, .lockout_max = 600,
		.lockout_source_threshold = 50, .token_lifetime = 60 };
	struct authreq req = { .id = 7, .kind = AUTHREQ_LOGIN, .user = "nobody-here",
		.secret = "wrong123456", .src = "192.0.2.1", .src_port = 1 };
	struct authres res;
	struct ev_sink *sink;
	struct auth *a;
	const uint8_t *bytes = (const uint8_t *)&res;
	size_t nonzero = 0, from = offsetof(struct authres, ok) + 1;
	FILE *f;

	CHECK(mkdtemp(dir) != NULL);
	snprintf(users, sizeof users, "%s/users.db", dir);
	snprintf(events, sizeof events, "%s/events.log", dir);
	conf.users_file = users;
	conf.devices_file = users;   /* none registered: the request carries no device */
	sink = ev_sink_open(events);
	a = sink ? auth_new(&conf, sink) : NULL;
	CHECK(a != NULL);
	if (a == NULL)
		return;
	memset(&res, 0xee, sizeof res);
	auth_handle(a, &req, &res);
	CHECK_INT(res.id, 7);
	CHECK_INT(res.ok, 0);
	for (size_t i = from; i < sizeof res; i++)
		nonzero += bytes[i] != 0;
	CHECK_INT(nonzero, 0);
	auth_free(a);
	ev_sink_close(sink);
	f = fopen(events, "r");
	log[f ? fread(log, 1, sizeof log - 1, f) : 0] = '\0';
	if (f)
		fclose(f);
	CHECK(strstr(log, "\"bridge_login\"") != NULL && strstr(log, "\"reason\"") != NULL);
	unlink(events);
	unlink(users);
	rmdir(dir);
}

static struct bridge_conf *
load_conf(const char *text)
{
	char path[] = "/tmp/tg-bconf-XXXXXX";
	int fd = mkstemp(path);
	struct diags d;
	struct bridge_conf *conf;

	if (write(fd, text, strlen(text)) < 0)
		return NULL;
	close(fd);
	diags_init(&d, path);
	conf = bconf_load(path, &d);
	if (conf == NULL)
		diags_print(&d, stdout);
	diags_free(&d);
	unlink(path);
	return conf;
}

static const char access_conf[] =
    "bridge = { certificates = ( { cert = \"c\"; key = \"k\"; } ); ca = \"ca\"; devices = \"d\"; users = \"u\";\n"
    "  groups = ( { name = \"staff\"; members = [ \"alice\" ]; } );\n"
    "  grants = ( { name = \"rdp\"; who = [ \"@staff\" ]; to = [ \"10.20.1.0/24:3389\", \"asp:kintai\" ]; } ); };\n"
    "asp = { state_file = \"/nonexistent/asp.json\"; services = ( { name = \"kintai\"; host = \"kintai.asp.test\";\n"
    "  address = \"10.40.1.10\"; port = 443; ca = \"asp-ca.pem\"; } ); };\n";

static void
test_access(void)
{
	struct bridge_conf *conf = load_conf(access_conf);
	struct asp_state asps;
	struct http_connect req;
	struct access_target t;
	const char *why = NULL;

	CHECK(conf != NULL);
	if (conf == NULL)
		return;
	asp_state_init(&asps, conf->asp_state_file);
	parse("CONNECT 10.20.1.5:3389 HTTP/1.1\r\n\r\n", &req);
	CHECK_INT(access_check(conf, NULL, &asps, "alice", &req, &t, &why), 0);
	CHECK_STR(t.grant, "rdp");
	CHECK_INT(access_check(conf, NULL, &asps, "bob", &req, &t, &why), -1);
	parse("CONNECT 10.20.1.5:22 HTTP/1.1\r\n\r\n", &req);
	CHECK_INT(access_check(conf, NULL, &asps, "alice", &req, &t, &why), -1);
	parse("CONNECT 10.20.2.5:3389 HTTP/1.1\r\n\r\n", &req);
	CHECK_INT(access_check(conf, NULL, &asps, "alice", &req, &t, &why), -1);
	parse("CONNECT kintai.asp.test:443 HTTP/1.1\r\n\r\n", &req);
	CHECK_INT(access_check(conf, NULL, &asps, "alice", &req, &t, &why), -1);
	CHECK_STR(why, "ASP service not checked yet");
	CHECK(t.asp != NULL);
	parse("CONNECT other.test:443 HTTP/1.1\r\n\r\n", &req);
	CHECK_INT(access_check(conf, NULL, &asps, "alice", &req, &t, &why), -1);
	asp_state_free(&asps);
	bconf_free(conf);
}

static void
test_access_mynumber_guard(void)
{
	struct bridge_conf *conf = load_conf(
	    "bridge = { certificates = ( { cert = \"c\"; key = \"k\"; } ); ca = \"ca\"; devices = \"d\";\n"
	    "  users = \"u\"; grants = ( { name = \"too-wide\"; who = [ \"alice\" ]; to = [ \"10.0.0.0/8:3389\" ]; } ); };\n");
	struct diags d;
	struct policy *zones;
	struct asp_state asps;
	struct http_connect req;
	struct access_target t;
	const char *why = NULL;

	diags_init(&d, "zones");
	zones = policy_load_string("model = \"alpha\";\nzones = ( { name = \"mynumber\"; networks = [ \"10.10.0.0/16\" ]; },\n"
	    "  { name = \"lgwan\"; networks = [ \"10.20.0.0/16\" ]; }, { name = \"internet\"; networks = [ \"0.0.0.0/0\" ]; } );\n",
	    "zones", &d);
	diags_free(&d);
	CHECK(conf != NULL && zones != NULL);
	if (conf == NULL || zones == NULL)
		return;
	asp_state_init(&asps, NULL);
	parse("CONNECT 10.20.1.5:3389 HTTP/1.1\r\n\r\n", &req);
	CHECK_INT(access_check(conf, zones, &asps, "alice", &req, &t, &why), 0);
	parse("CONNECT 10.10.1.5:3389 HTTP/1.1\r\n\r\n", &req);
	CHECK_INT(access_check(conf, NULL, &asps, "alice", &req, &t, &why), 0);   /* the grant alone allows it */
	CHECK_INT(access_check(conf, zones, &asps, "alice", &req, &t, &why), -1); /* the zone model does not */
	CHECK(why != NULL && strstr(why, "mynumber") != NULL);
	asp_state_free(&asps);
	policy_unref(zones);
	bconf_free(conf);
}

static void
test_config_errors(void)
{
	CHECK(load_conf("bridge = { ca = \"x\"; };") == NULL);
	CHECK(load_conf("bridge = { certificates = ( { cert = \"c\"; key = \"k\"; } ); ca = \"ca\"; "
	    "devices = \"d\"; users = \"u\"; grants = ( { who = [\"a\"]; to = [\"10.0.0.1/8:1\"]; } ); };") == NULL);
	CHECK(load_conf("bridge = { certificates = ( { cert = \"c\"; key = \"k\"; } ); ca = \"ca\"; "
	    "devices = \"d\"; users = \"u\"; tls_min = \"1.0\"; };") == NULL);
}

static void
test_counts(void)
{
	struct counts *c = counts_new();

	CHECK_INT(counts_inc(c, "10.0.0.1"), 1);
	CHECK_INT(counts_inc(c, "10.0.0.1"), 2);
	CHECK_INT(counts_get(c, "10.0.0.2"), 0);
	counts_dec(c, "10.0.0.1");
	counts_dec(c, "10.0.0.1");
	counts_dec(c, "10.0.0.1");
	CHECK_INT(counts_get(c, "10.0.0.1"), 0);
	counts_free(c);
}

/* asp-check judges ciphers by what OpenSSL says they are, so renamed or unknown suites are judged too. */
static void
test_asp_cipher_judge(void)
{
	/* 3DES (DES-CBC3-SHA): this OpenSSL no longer offers it, so its properties are written out */
	struct asp_cipher_props des3 = { .aead = false, .kx_nid = NID_kx_rsa, .auth_nid = NID_auth_rsa, .bits = 112 };
	struct asp_cipher_props gcm = { .aead = true, .kx_nid = NID_kx_ecdhe, .auth_nid = NID_auth_ecdsa, .bits = 128 };
	struct asp_cipher_props anon = gcm;
	char why[160];
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	STACK_OF(SSL_CIPHER) *list;
	struct asp_cipher_props p;
	int found = 0;

	CHECK(!asp_cipher_judge(&des3, true, why, sizeof why));
	CHECK(strstr(why, "112-bit key") != NULL);
	CHECK(strstr(why, "no forward secrecy") != NULL);
	CHECK(asp_cipher_judge(&gcm, false, why, sizeof why));
	anon.auth_nid = NID_auth_null;
	CHECK(!asp_cipher_judge(&anon, false, why, sizeof why));
	CHECK(strstr(why, "anonymous") != NULL);

	/* AES128-SHA read from OpenSSL's own cipher table: RSA key exchange, CBC */
	CHECK(ctx != NULL && SSL_CTX_set_cipher_list(ctx, "AES128-SHA") == 1);
	list = ctx ? SSL_CTX_get_ciphers(ctx) : NULL;
	for (int i = 0; list && i < sk_SSL_CIPHER_num(list); i++) {
		const SSL_CIPHER *c = sk_SSL_CIPHER_value(list, i);
		if (strcmp(SSL_CIPHER_get_name(c), "AES128-SHA") != 0)
			continue;
		found++;
		asp_cipher_props_of(c, &p);
		CHECK(!p.aead && p.kx_nid == NID_kx_rsa && p.bits == 128);
		CHECK(!asp_cipher_judge(&p, true, why, sizeof why));
		CHECK(strstr(why, "no forward secrecy") != NULL);
		CHECK(!asp_cipher_judge(&p, false, why, sizeof why));
		CHECK(strstr(why, "not AEAD") != NULL);
	}
	CHECK(found == 1);
	SSL_CTX_free(ctx);
}

/* The relay's transition table: the one path through a session, CLOSING from every
 * phase after the handshake, and nothing else (an illegal transition is refused). */
static void
test_relay_transitions(void)
{
	static const enum relay_state path[] = { RS_HANDSHAKE, RS_REQUEST, RS_AUTH, RS_CONNECTING,
		RS_RELAY, RS_CLOSING };
	unsigned allowed = 0;

	for (size_t i = 0; i + 1 < sizeof path / sizeof path[0]; i++)
		CHECK(relay_state_may(path[i], path[i + 1]));
	for (int s = RS_REQUEST; s < RS_CLOSING; s++)
		CHECK(relay_state_may((enum relay_state)s, RS_CLOSING));
	CHECK(!relay_state_may(RS_HANDSHAKE, RS_RELAY));
	CHECK(!relay_state_may(RS_HANDSHAKE, RS_CLOSING));   /* a failed handshake is freed, not flushed */
	CHECK(!relay_state_may(RS_REQUEST, RS_RELAY));        /* no relaying without the auth answer */
	CHECK(!relay_state_may(RS_AUTH, RS_RELAY));           /* nor without the destination connected */
	CHECK(!relay_state_may(RS_RELAY, RS_REQUEST));
	CHECK(!relay_state_may(RS_CLOSING, RS_RELAY));
	CHECK(!relay_state_may(RS_COUNT, RS_CLOSING));
	CHECK(!relay_state_may(RS_REQUEST, RS_COUNT));
	for (int from = 0; from < RS_COUNT; from++) {
		CHECK(!relay_state_may((enum relay_state)from, (enum relay_state)from));
		CHECK(!relay_state_may(RS_CLOSING, (enum relay_state)from));
		CHECK(strcmp(relay_state_name((enum relay_state)from), "?") != 0);
		for (int to = 0; to < RS_COUNT; to++)
			allowed += relay_state_may((enum relay_state)from, (enum relay_state)to);
	}
	CHECK_INT(allowed, 8);   /* the 5 steps of the path and 3 more ways to CLOSING */
	CHECK_STR(relay_state_name(RS_COUNT), "?");
}

/* not_after: a day (valid through it, UTC) or a second ("...THH:MM:SSZ"); anything else refused. */
static int
t_devreg_not_after(const char *value, time_t *out)
{
	char path[] = "/tmp/tg-devreg-XXXXXX";
	int fd = mkstemp(path);
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
	struct devreg r;
	struct diags d;
	int rc;

	if (f == NULL)
		return -2;
	fprintf(f, "devices = ( { fingerprint = \"%064d\"; owner = \"alice\"; not_after = \"%s\"; } );\n", 0, value);
	fclose(f);
	memset(&r, 0, sizeof r);
	diags_init(&d, path);
	rc = devreg_open(&r, path, &d) == 0 && diags_count(&d, DIAG_ERROR) == 0 && r.n == 1 ? 0 : -1;
	if (rc == 0)
		*out = r.v[0].not_after;
	devreg_close(&r);
	diags_free(&d);
	unlink(path);
	return rc;
}

static void
test_devreg_not_after(void)
{
	time_t t = 0;

	CHECK_INT(t_devreg_not_after("2027-03-31", &t), 0);
	CHECK_INT((long long)t, 1806537599LL);   /* 2027-03-31T23:59:59Z */
	CHECK_INT(t_devreg_not_after("2027-03-31T17:00:05Z", &t), 0);
	CHECK_INT((long long)t, 1806512405LL);
	CHECK_INT(t_devreg_not_after("2027-03-31T17:00:05", &t), -1);   /* no zone: refused */
	CHECK_INT(t_devreg_not_after("2027-03-31T17:00Z", &t), -1);
	CHECK_INT(t_devreg_not_after("2027-03-31 17:00:05Z", &t), -1);
	CHECK_INT(t_devreg_not_after("2027-03-31T17:00:05Z trailing", &t), -1);
}

int
main(void)
{
	UNIT_RUN(test_connect_basic);
	UNIT_RUN(test_connect_targets);
	UNIT_RUN(test_connect_rejects);
	UNIT_RUN(test_base64);
	UNIT_RUN(test_dest_parse);
	UNIT_RUN(test_lockout_backoff);
	UNIT_RUN(test_lockout_flood);
	UNIT_RUN(test_lockout_colliding_names);
	UNIT_RUN(test_lockout_restart);
	UNIT_RUN(test_tokens);
	UNIT_RUN(test_totp_rfc6238);
	UNIT_RUN(test_totp_new_secret);
	UNIT_RUN(test_pwhash);
	UNIT_RUN(test_userdb_roundtrip);
	UNIT_RUN(test_devreg_not_after);
	UNIT_RUN(test_access);
	UNIT_RUN(test_access_mynumber_guard);
	UNIT_RUN(test_config_errors);
	UNIT_RUN(test_counts);
	UNIT_RUN(test_asp_cipher_judge);
	UNIT_RUN(test_relay_transitions);
	UNIT_RUN(test_auth_answer_no_reason);
	UNIT_EXIT();
}
