/* test_qrel.c -- unit tests for the release socket: request line parser, request-link tokens, approver tickets, writing inside release_dir. */
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sanitizer/qrel_file.h"
#include "sanitizer/relrevoke.h"
#include "sanitizer/relsock_proto.h"
#include "sanitizer/relticket.h"
#include "sanitizer/reltoken.h"
#include "tests/lib/unit.h"

static int
parse(const char *line, struct relsock_req *req, char *buf, const char **err)
{
	size_t n = strlen(line);

	memcpy(buf, line, n + 1);
	return relsock_parse(buf, n, req, err);
}

static void
proto_accepts_well_formed_requests(void)
{
	char buf[RELSOCK_LINE_MAX + 16];
	struct relsock_req req;
	const char *err = NULL;

	CHECK_INT(parse("LIST\n", &req, buf, &err), 0);
	CHECK_INT(req.verb, RELSOCK_LIST);
	CHECK_INT(parse("RELEASE\t0123456789abcdef\t/srv/release/a.zip\n", &req, buf, &err), 0);
	CHECK_INT(req.n_fields, 2);
	CHECK_STR(req.field[1], "/srv/release/a.zip");
	CHECK_INT(parse("REFUSE\t0123456789abcdef\t必要ありません\n", &req, buf, &err), 0);
	CHECK_STR(req.field[1], "必要ありません");
	CHECK(relsock_verb_is_portal(RELSOCK_ASK) && !relsock_verb_is_portal(RELSOCK_RELEASE));
	CHECK_INT(parse("PLOGIN\thanako@city\tpass word 秘密\t123456\t127.0.0.1\t"
	    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n", &req, buf, &err), 0);
	CHECK_INT(req.n_fields, 5);
	CHECK_STR(req.field[1], "pass word 秘密");
	CHECK(relsock_verb_is_portal(RELSOCK_PLOGIN) && !relsock_verb_is_portal(RELSOCK_UNLOCK));
	CHECK_INT(parse("PAPPROVE\ta1.1.61.00\t0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	    "\t0123456789abcdef\n", &req, buf, &err), 0);
	CHECK_INT(parse("UNLOCK\t2001:db8::1\n", &req, buf, &err), 0);
	CHECK_INT(parse("UNLOCK\tsaburo\n", &req, buf, &err), 0);
	CHECK_INT(parse("PLOGOUT\ta1.1.61.00\t0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n",
	    &req, buf, &err), 0);
	CHECK(req.verb == RELSOCK_PLOGOUT && relsock_verb_is_portal(RELSOCK_PLOGOUT));
	CHECK_INT(parse("LOGOUT\thanako@city\n", &req, buf, &err), 0);
	CHECK(req.verb == RELSOCK_LOGOUT && !relsock_verb_is_portal(RELSOCK_LOGOUT));
	/* a logout carries the session binding; a bare name or a short session is not one */
	CHECK_INT(parse("PLOGOUT\ta1.1.61.00\n", &req, buf, &err), -1);
	CHECK_INT(parse("PLOGOUT\thanako\t0123\n", &req, buf, &err), -1);
	CHECK_INT(parse("LOGOUT\tha nako\n", &req, buf, &err), -1);
}

static void
proto_refuses_malformed_requests(void)
{
	static const char *const bad[] = {
		"LIST",                                   /* no newline */
		"LIST\textra\n",                          /* too many fields for the verb */
		"list\n",                                 /* verbs are upper case */
		"SHOW\t../../etc/passwd\n",               /* not hex */
		"SHOW\t0123456\n",                        /* shorter than 8 */
		"SHOW\t0123456789ABCDEF\n",               /* upper-case hex */
		"REFUSE\t0123456789abcdef\t\n",           /* empty comment */
		"REFUSE\t0123456789abcdef\ta\x01b\n",     /* control character */
		"REFUSE\t0123456789abcdef\ta\xc3\n",      /* truncated UTF-8 */
		"REFUSE\t0123456789abcdef\t\xc0\xaf\n",   /* overlong UTF-8 */
		"REFUSE\t0123456789abcdef\t\xed\xa0\x80\n", /* surrogate */
		"REFUSE\t0123456789abcdef\ta\xc2\x85z\n", /* C1 control (NEL) */
		"APPROVE\t0123456789abcde\n",             /* request ID of 15 */
		"RELEASE\t0123456789abcdef\t/a\t/b\n",    /* too many fields */
		"PAPPROVE\thanako\t0123456789abcdef\tok\n", /* the old form: a name, no ticket and session */
		"STATUS\n",                              /* the status page needs a ticket */
		"PLOGIN\tna me\tpw\t123456\t-\t0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n",
		"PLOGIN\thanako\tpw\t12a456\t-\t0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n",
		"PLOGIN\thanako\tp\x01w\t123456\t-\t0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n",
		"PLOGIN\thanako\tpw\t123456\t-\t0123456789abcdef\n",       /* session of 16 */
		"UNLOCK\ta/b\n",
		"LIST\nLIST\n",                           /* two lines */
	};
	char buf[RELSOCK_LINE_MAX + 16];
	struct relsock_req req;

	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		const char *err = NULL;
		if (parse(bad[i], &req, buf, &err) == 0 || err == NULL) {
			printf("  accepted: %s\n", bad[i]);
			unit_case_failed = 1;
		}
	}
}

static void
proto_bounds_the_line(void)
{
	static char line[RELSOCK_LINE_MAX + 2], buf[RELSOCK_LINE_MAX + 2];
	struct relsock_req req;
	const char *err = NULL;
	size_t head = strlen("REFUSE\t0123456789abcdef\t");

	memcpy(line, "REFUSE\t0123456789abcdef\t", head);
	memset(line + head, 'a', RELSOCK_TEXT_MAX);
	line[head + RELSOCK_TEXT_MAX] = '\n';
	line[head + RELSOCK_TEXT_MAX + 1] = '\0';
	CHECK_INT(parse(line, &req, buf, &err), 0);
	line[head + RELSOCK_TEXT_MAX] = 'a';          /* one byte over the text limit */
	line[head + RELSOCK_TEXT_MAX + 1] = '\n';
	line[head + RELSOCK_TEXT_MAX + 2] = '\0';
	CHECK_INT(parse(line, &req, buf, &err), -1);
	memset(buf, 'A', RELSOCK_LINE_MAX + 1);
	buf[RELSOCK_LINE_MAX] = '\n';
	CHECK_INT(relsock_parse(buf, RELSOCK_LINE_MAX + 1, &req, &err), -1);
}

static const uint8_t key[RELTOKEN_KEY_LEN] = "0123456789abcdef0123456789abcdef";
static const char qid[] = "a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90";

static void
token_round_trip_and_forgeries(void)
{
	char tok[RELTOKEN_MAX], q[65], r[RELTOKEN_RCPT_MAX + 1], *p;
	int64_t exp = 0;
	uint8_t other[RELTOKEN_KEY_LEN];

	CHECK_INT(reltoken_make(key, qid, "taro@city.example", 2000000000, tok), 0);
	CHECK_INT(reltoken_verify(key, tok, 1900000000, q, r, &exp), RELTOKEN_OK);
	CHECK_STR(q, qid);
	CHECK_STR(r, "taro@city.example");
	CHECK_INT(exp, 2000000000);
	CHECK_INT(reltoken_verify(key, tok, 2000000001, q, r, &exp), RELTOKEN_EXPIRED);
	memcpy(other, key, sizeof other);
	other[0] ^= 1;
	CHECK_INT(reltoken_verify(other, tok, 0, q, r, &exp), RELTOKEN_BAD_MAC);
	/* a later expiry written into the token breaks the MAC */
	p = strchr(tok, '.') + 1;
	*p = *p == '3' ? '4' : '3';
	CHECK_INT(reltoken_verify(key, tok, 0, q, r, &exp), RELTOKEN_BAD_MAC);
	CHECK_INT(reltoken_verify(key, "abc", 0, q, r, &exp), RELTOKEN_MALFORMED);
	CHECK_INT(reltoken_verify(key, "", 0, q, r, &exp), RELTOKEN_MALFORMED);
}

static void
token_of_another_recipient_fails(void)
{
	char a[RELTOKEN_MAX], b[RELTOKEN_MAX], forged[RELTOKEN_MAX * 2], q[65], r[RELTOKEN_RCPT_MAX + 1];
	int64_t exp;
	const char *mac_a, *mac_b;

	reltoken_make(key, qid, "taro@city.example", 2000000000, a);
	reltoken_make(key, qid, "hanako@city.example", 2000000000, b);
	/* hanako's fields with taro's MAC */
	mac_a = strrchr(a, '.');
	mac_b = strrchr(b, '.');
	snprintf(forged, sizeof forged, "%.*s%s", (int)(mac_b - b), b, mac_a);
	CHECK_INT(reltoken_verify(key, forged, 0, q, r, &exp), RELTOKEN_BAD_MAC);
}

static void
file_write_stays_inside(void)
{
	char dir[] = "/tmp/test_qrel.XXXXXX", path[256], link[256];
	const char *err = NULL;
	struct stat st;

	if (mkdtemp(dir) == NULL) {
		CHECK(0);
		return;
	}
	snprintf(path, sizeof path, "%s/sub", dir);
	mkdir(path, 0755);
	snprintf(link, sizeof link, "%s/link", dir);
	CHECK_INT(symlink("/tmp", link), 0);
	snprintf(path, sizeof path, "%s/sub/ok.bin", dir);
	CHECK_INT(qrel_file_write(dir, path, (const uint8_t *)"abc", 3, &err), 0);
	CHECK(stat(path, &st) == 0 && st.st_size == 3 && (st.st_mode & 0777) == 0600);
	CHECK_INT(qrel_file_write(dir, path, (const uint8_t *)"abc", 3, &err), -1);   /* exists */
	CHECK_INT(qrel_file_write(dir, "/tmp/elsewhere.bin", (const uint8_t *)"x", 1, &err), -1);
	snprintf(path, sizeof path, "%s/../escape.bin", dir);
	CHECK_INT(qrel_file_write(dir, path, (const uint8_t *)"x", 1, &err), -1);
	snprintf(path, sizeof path, "%s/link/escape.bin", dir);
	CHECK_INT(qrel_file_write(dir, path, (const uint8_t *)"x", 1, &err), -1);
	CHECK(access("/tmp/escape.bin", F_OK) != 0);
	snprintf(path, sizeof path, "%s/link", dir);                                  /* the link itself */
	CHECK_INT(qrel_file_write(dir, path, (const uint8_t *)"x", 1, &err), -1);
	snprintf(path, sizeof path, "%sX/a.bin", dir);                                /* a sibling prefix */
	CHECK_INT(qrel_file_write(dir, path, (const uint8_t *)"x", 1, &err), -1);
	CHECK_INT(qrel_file_path_ok(dir, "/tmp/x", &err), -1);
	snprintf(path, sizeof path, "%s/a/../b", dir);
	CHECK_INT(qrel_file_path_ok(dir, path, &err), -1);
	snprintf(path, sizeof path, "%s/a//b", dir);
	CHECK_INT(qrel_file_path_ok(dir, path, &err), -1);
	snprintf(path, sizeof path, "%s/sub/new.bin", dir);
	CHECK_INT(qrel_file_path_ok(dir, path, &err), 0);
	snprintf(path, sizeof path, "rm -rf '%s'", dir);
	CHECK_INT(system(path), 0);
}

/* A portal file release: ROOT/USER made 0700 for the user, O_EXCL names, planted symlinks never followed. */
static void
file_to_user_dir(void)
{
	char root[] = "/tmp/tg-qrel-user-XXXXXX", path[4200], *written = NULL;
	const struct passwd *pw = geteuid() == 0 ? getpwnam("nobody") : getpwuid(geteuid());
	const char *err = NULL, *user;
	struct stat st;

	CHECK(mkdtemp(root) != NULL && pw != NULL);
	user = strdup(pw->pw_name);
	err = NULL;
	CHECK_INT(qrel_file_to_user(root, user, "見積書.xlsm", (const uint8_t *)"orig", 4, &written, &err), 0);
	CHECK(err == NULL);
	snprintf(path, sizeof path, "%s/%s/見積書.xlsm", root, user);
	CHECK_STR(written, path);
	CHECK(stat(path, &st) == 0 && st.st_uid == pw->pw_uid && (st.st_mode & 0777) == 0600 && st.st_size == 4);
	snprintf(path, sizeof path, "%s/%s", root, user);
	CHECK(stat(path, &st) == 0 && st.st_uid == pw->pw_uid && (st.st_mode & 0777) == 0700);
	free(written);
	err = NULL;
	CHECK_INT(qrel_file_to_user(root, user, "見積書.xlsm", (const uint8_t *)"orig", 4, &written, &err), 0);
	CHECK(err == NULL);
	CHECK(written && strstr(written, "/見積書 (2).xlsm") != NULL);
	free(written);
	/* a symlink planted under the name: not followed, its target not written */
	snprintf(path, sizeof path, "%s/%s/b.txt", root, user);
	CHECK_INT(symlink("/tmp/tg-qrel-never-written", path), 0);
	CHECK_INT(qrel_file_to_user(root, user, "b.txt", (const uint8_t *)"x", 1, &written, &err), 0);
	CHECK(written && strstr(written, "/b (2).txt") != NULL && access("/tmp/tg-qrel-never-written", F_OK) != 0);
	free(written);
	CHECK_INT(qrel_file_to_user(root, user, "../etc/x", (const uint8_t *)"x", 1, &written, &err), 0);
	CHECK(written && strstr(written, "/original") != NULL);   /* no path in a name */
	free(written);
	CHECK_INT(qrel_file_to_user(root, "root", "a", (const uint8_t *)"x", 1, &written, &err), -1);
	CHECK_INT(qrel_file_to_user(NULL, user, "a", (const uint8_t *)"x", 1, &written, &err), -1);
	/* the user's directory replaced by a symlink elsewhere: refused */
	snprintf(path, sizeof path, "rm -rf '%s/%s' && ln -s /tmp '%s/%s'", root, user, root, user);
	CHECK_INT(system(path), 0);
	CHECK_INT(qrel_file_to_user(root, user, "a", (const uint8_t *)"x", 1, &written, &err), -1);
	CHECK(written == NULL && strstr(err, "symbolic link") != NULL);
	snprintf(path, sizeof path, "rm -rf '%s'", root);
	CHECK_INT(system(path), 0);
	free((char *)user);
}

#define SESS_A "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define SESS_B "1123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static void
ticket_round_trip_and_forgeries(void)
{
	uint8_t tkey[RELTICKET_KEY_LEN], other[RELTICKET_KEY_LEN];
	char t[RELTICKET_MAX], bad[RELTICKET_MAX], name[RELTICKET_NAME_MAX + 1];
	size_t n;

	memset(tkey, 7, sizeof tkey);
	memset(other, 8, sizeof other);
	CHECK_INT(relticket_make(tkey, "hanako@city", 2000, SESS_A, t), 0);
	CHECK_INT(relticket_verify(tkey, t, SESS_A, 1999, name), RELTICKET_OK);
	CHECK_STR(name, "hanako@city");
	CHECK_INT(relticket_verify(tkey, t, SESS_A, 2000, name), RELTICKET_EXPIRED);
	CHECK_INT(relticket_verify(tkey, t, SESS_B, 1999, name), RELTICKET_BAD_MAC);   /* another session */
	CHECK_INT(relticket_verify(other, t, SESS_A, 1999, name), RELTICKET_BAD_MAC); /* another start's tkey */
	CHECK_STR(name, "hanako@city");   /* the claimed name, for the event */
	memcpy(bad, t, sizeof bad);       /* a later expiry */
	bad[3] = '3';
	CHECK_INT(relticket_verify(tkey, bad, SESS_A, 1999, name), RELTICKET_BAD_MAC);
	/* another name, same MAC: "jiro" */
	snprintf(bad, sizeof bad, "a1.2000.6a69726f.%s", strrchr(t, '.') + 1);
	CHECK_INT(relticket_verify(tkey, bad, SESS_A, 1999, name), RELTICKET_BAD_MAC);
	CHECK_STR(name, "jiro");
	snprintf(bad, sizeof bad, "a1.2000.6a69726f00.%s", strrchr(t, '.') + 1);   /* a NUL inside the name */
	CHECK_INT(relticket_verify(tkey, bad, SESS_A, 1999, name), RELTICKET_MALFORMED);
	n = strlen(t);
	memcpy(bad, t, n + 1);
	bad[n - 1] = bad[n - 1] == 'A' ? 'b' : 'A';   /* upper case is not our hex */
	CHECK_INT(relticket_verify(tkey, bad, SESS_A, 1999, name), RELTICKET_MALFORMED);
	CHECK_INT(relticket_verify(tkey, "a1.2000.6a69726f", SESS_A, 1999, name), RELTICKET_MALFORMED);
	CHECK_INT(relticket_verify(tkey, t, "0123", 1999, name), RELTICKET_MALFORMED);
	CHECK_INT(relticket_make(tkey, "na me", 2000, SESS_A, t), -1);
	{
		int64_t expiry = 0;
		CHECK_INT(relticket_make(tkey, "hanako@city", 2000, SESS_A, t), 0);
		CHECK_INT(relticket_expiry(t, &expiry), 0);
		CHECK_INT(expiry, 2000);
		CHECK_INT(relticket_expiry("a1.x.00.00", &expiry), -1);
	}
}

/* Logouts: a record per approver taken at the login, exact voiding, bounded, a re-login not caught. */
static void
revoke_ends_issued_tickets_only(void)
{
	struct relrevoke rv;
	int64_t e1, e2, e3, ej, ek;

	relrevoke_init(&rv, 2);
	CHECK_INT(relrevoke_logout(&rv, "hanako", 1000), 0);   /* nothing issued: nothing to end */
	CHECK_INT(relrevoke_issue(&rv, "hanako", 1000, 100, &e1), 0);
	CHECK_INT(e1, 1100);
	CHECK_INT(relrevoke_issue(&rv, "hanako", 1010, 100, &e2), 0);   /* a second session */
	CHECK_INT(relrevoke_issue(&rv, "jiro", 1010, 100, &ej), 0);
	CHECK(!relrevoke_is_void(&rv, "hanako", e1));
	CHECK_INT(relrevoke_logout(&rv, "hanako", 1020), 1);
	CHECK(relrevoke_is_void(&rv, "hanako", e1));
	CHECK(relrevoke_is_void(&rv, "hanako", e2));                    /* every session of hanako */
	CHECK(!relrevoke_is_void(&rv, "jiro", ej));                     /* not another approver's */
	CHECK(!relrevoke_is_void(&rv, "saburo", 5000));
	/* a login in the same second as the logout gets an expiry above the voided ones */
	CHECK_INT(relrevoke_issue(&rv, "hanako", 1010, 100, &e3), 0);
	CHECK_INT(e3, e2 + 1);
	CHECK(!relrevoke_is_void(&rv, "hanako", e3));
	CHECK_INT(relrevoke_logout(&rv, "hanako", 1020), 1);
	CHECK(relrevoke_is_void(&rv, "hanako", e3));
	CHECK_INT(relrevoke_logout(&rv, "hanako", 1020), 0);           /* again: nothing left live */
	/* full (2 approvers with live tickets): a third is refused, no revocation is dropped */
	CHECK_INT(relrevoke_issue(&rv, "saburo", 1030, 100, &ek), -1);
	CHECK(relrevoke_is_void(&rv, "hanako", e3));
	CHECK_INT(relrevoke_issue(&rv, "jiro", 1030, 100, &ej), 0);     /* an approver with a record still logs in */
	/* once every ticket of hanako has expired her record is dropped to make room */
	CHECK_INT(relrevoke_issue(&rv, "saburo", e3, 100, &ek), 0);
	CHECK_INT(ek, e3 + 100);
	CHECK(!relrevoke_is_void(&rv, "saburo", ek));
	CHECK(relrevoke_is_void(&rv, "jiro", ej) == false);
	relrevoke_free(&rv);
}

int
main(void)
{
	UNIT_RUN(proto_accepts_well_formed_requests);
	UNIT_RUN(proto_refuses_malformed_requests);
	UNIT_RUN(proto_bounds_the_line);
	UNIT_RUN(token_round_trip_and_forgeries);
	UNIT_RUN(token_of_another_recipient_fails);
	UNIT_RUN(ticket_round_trip_and_forgeries);
	UNIT_RUN(revoke_ends_issued_tickets_only);
	UNIT_RUN(file_write_stays_inside);
	UNIT_RUN(file_to_user_dir);
	UNIT_EXIT();
}
