/* test_verify.c -- unit tests of tiergate-verify: the JSON reader, field matching, checks, diff, XML escaping. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/json.h"
#include "gw/verify/verify_case.h"
#include "gw/verify/verify_check.h"
#include "gw/verify/verify_events.h"
#include "gw/verify/verify_index.h"
#include "gw/verify/verify_junit.h"
#include "gw/verify/verify_str.h"
#include "gw/verify/verify_update.h"
#include "lib/log.h"
#include "tests/lib/unit.h"

static int
parse(const char *text, struct json_value *v, struct json_error *err)
{
	return json_parse(text, strlen(text), v, err);
}

static void
test_json_valid(void)
{
	struct json_value v;
	struct json_error err;
	int64_t n = 0;

	CHECK_INT(parse(" {\"a\":[1,-2.5e3,true,false,null],\"b\":{\"c\":\"x\\u00e9\\ud83d\\ude00\\n\"}} ",
	    &v, &err), 0);
	CHECK_INT(v.type, JSON_OBJECT);
	CHECK_INT(json_get(&v, "a")->len, 5);
	CHECK(json_get(&v, "a")->items[0].is_int);
	CHECK(!json_get(&v, "a")->items[1].is_int);
	CHECK(json_get(&v, "a")->items[1].number == -2500.0);
	CHECK_STR(json_get_str(json_get(&v, "b"), "c"), "x\xc3\xa9\xf0\x9f\x98\x80\n");
	CHECK(json_get(&v, "missing") == NULL);
	json_free(&v);
	CHECK_INT(parse("{\"pcap_cnt\":42}", &v, &err), 0);
	CHECK(json_get_int(&v, "pcap_cnt", &n));
	CHECK_INT(n, 42);
	json_free(&v);
	CHECK_INT(parse("\"東京\"", &v, &err), 0);
	CHECK_STR(v.text, "東京");
	json_free(&v);
	CHECK_INT(parse("9223372036854775808", &v, &err), 0);
	CHECK(!v.is_int);   /* beyond int64: only a double */
	json_free(&v);
}

static void
test_json_invalid(void)
{
	static const char *const bad[] = {
		"", "{", "{\"a\":1,}", "[1,]", "{\"a\" 1}", "{a:1}", "01", "-", "1.", "1e", ".5",
		"\"abc", "\"\\x\"", "\"\\ud800\"", "\"\\udc00\"", "\"\\ud800\\u0041\"", "\"a\tb\"",
		"\"\xff\"", "\"\xc0\xaf\"", "\"\xed\xa0\x80\"", "{\"a\":1,\"a\":2}", "tru", "nul",
		"{} x", "[1] [2]", "NaN", "'a'", "{\"a\":1}\n{\"b\":2}", "/* c */ 1", NULL,
	};
	struct json_value v;
	struct json_error err;

	for (int i = 0; bad[i]; i++) {
		if (parse(bad[i], &v, &err) == 0) {
			printf("  accepted bad JSON #%d: %s\n", i, bad[i]);
			unit_case_failed = 1;
			json_free(&v);
		} else {
			CHECK(err.text[0] != '\0');
			CHECK(err.offset <= strlen(bad[i]));
		}
	}
}

static void
test_json_depth(void)
{
	char deep[2 * (JSON_MAX_DEPTH + 2) + 1];
	struct json_value v;
	struct json_error err;
	size_t n = JSON_MAX_DEPTH + 1;

	memset(deep, '[', n);
	memset(deep + n, ']', n);
	deep[2 * n] = '\0';
	CHECK_INT(parse(deep, &v, &err), -1);
	CHECK(strstr(err.text, "deeper") != NULL);
	deep[n - 1] = ' ';
	deep[n] = ' ';
	CHECK_INT(parse(deep, &v, &err), 0);
	json_free(&v);
}

static const char flow_events[] =
	"{\"event\":\"flow\",\"flow_id\":1,\"pcap_cnt\":1,\"src_ip\":\"10.20.1.5\",\"src_port\":40000,"
	"\"dst_ip\":\"10.40.1.10\",\"dst_port\":443,\"proto\":\"TCP\",\"src_zone\":\"lgwan\",\"dst_zone\":\"asp\","
	"\"app\":null,\"rule\":\"lgwan-to-asp\",\"verdict\":\"accept\",\"final\":false}\n"
	"{\"event\":\"flow\",\"flow_id\":1,\"pcap_cnt\":4,\"src_ip\":\"10.20.1.5\",\"src_port\":40000,"
	"\"dst_ip\":\"10.40.1.10\",\"dst_port\":443,\"proto\":\"TCP\",\"src_zone\":\"lgwan\",\"dst_zone\":\"asp\","
	"\"app\":\"TLS\",\"rule\":\"lgwan-to-asp\",\"verdict\":\"accept\",\"final\":true}\n"
	"\n"
	"{\"event\":\"flow\",\"flow_id\":2,\"pcap_cnt\":9,\"src_ip\":\"10.10.1.5\",\"src_port\":5555,"
	"\"dst_ip\":\"198.51.100.10\",\"dst_port\":80,\"proto\":\"TCP\",\"src_zone\":\"mynumber\","
	"\"dst_zone\":\"internet\",\"app\":null,\"rule\":null,\"verdict\":\"drop\",\"final\":true}\n";

/* Loads text as the events of one replay named x.pcap (through a temp file, as verify does). */
static int
load_events(struct vevents *evs, const char *text, char **error)
{
	char path[] = "/tmp/test_verify.XXXXXX";
	int fd = mkstemp(path), rc;

	memset(evs, 0, sizeof *evs);
	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		return -1;
	close(fd);
	rc = vevents_load(evs, path, "x.pcap", error);
	unlink(path);
	return rc;
}

static void
test_events_load(void)
{
	struct vevents evs;
	char *error = NULL;

	CHECK_INT(load_events(&evs, flow_events, &error), 0);
	CHECK_INT(evs.n, 3);
	CHECK_INT(evs.v[2].line, 4);   /* the blank line is skipped, not renumbered */
	vevents_free(&evs);
	CHECK_INT(load_events(&evs, "{\"event\":\"flow\"}\n{\"event\":\"flow\",}\n", &error), -1);
	CHECK(error && strstr(error, "events of x.pcap, line 2: expected") != NULL);
	free(error);
	vevents_free(&evs);
	CHECK_INT(load_events(&evs, "{\"no_event\":1}\n", &error), -1);
	CHECK(error && strstr(error, "no string \"event\"") != NULL);
	free(error);
	vevents_free(&evs);
	CHECK_INT(load_events(&evs, "{\"event\":\"flow\"}", &error), -1);
	CHECK(error && strstr(error, "cut short") != NULL);
	free(error);
	vevents_free(&evs);
}

static void
test_field_matches(void)
{
	struct vfields fs = { NULL, 0 };
	struct json_value v;
	struct json_error err;

	vfields_add_str(&fs, "app", "null");
	vfields_add_int(&fs, "dst_port", 443);
	vfields_add_bool(&fs, "final", true);
	vfields_add_str(&fs, "port_text", "443");
	CHECK_INT(parse("{\"app\":null,\"dst_port\":443,\"final\":true,\"port_text\":443}", &v, &err), 0);
	for (size_t i = 0; i < fs.n; i++)
		CHECK(vcheck_field_matches(&fs.v[i], json_get(&v, fs.v[i].name)));
	json_free(&v);
	CHECK_INT(parse("{\"app\":\"TLS\",\"dst_port\":\"443x\",\"final\":1,\"port_text\":\"4430\"}", &v, &err), 0);
	for (size_t i = 0; i < fs.n; i++)
		CHECK(!vcheck_field_matches(&fs.v[i], json_get(&v, fs.v[i].name)));
	CHECK(!vcheck_field_matches(&fs.v[0], NULL));
	json_free(&v);
	vfields_free(&fs);
}

static struct vcase
one_check_case(struct vcheck *ck)
{
	struct vcase vc;

	memset(&vc, 0, sizeof vc);
	vc.conf_path = "t/case.conf";
	vc.checks = ck;
	vc.nchecks = 1;
	return vc;
}

static char *
eval(struct vcheck *ck, const struct vevents *evs, int *rc)
{
	struct vcase vc = one_check_case(ck);
	struct vs_buf b;
	char *reason = NULL, *details;

	vs_open(&b);
	*rc = vcheck_eval(&vc, ck, 1, evs, NULL, &reason, b.f);
	details = vs_take(&b);
	if (reason) {
		char *both = vs_printf("%s\n%s", reason, details);
		free(reason);
		free(details);
		return both;
	}
	return details;
}

static void
test_check_expect(void)
{
	struct vevents evs;
	struct vcheck ck = { .line = 7, .count = 1 };
	char *error = NULL, *out;
	int rc;

	CHECK_INT(load_events(&evs, flow_events, &error), 0);
	vfields_add_str(&ck.match, "event", "flow");
	vfields_add_int(&ck.match, "dst_port", 443);
	vfields_add_bool(&ck.match, "final", true);
	vfields_add_str(&ck.expect, "app", "TLS");
	vfields_add_str(&ck.expect, "verdict", "accept");
	out = eval(&ck, &evs, &rc);
	CHECK_INT(rc, 0);
	free(out);
	free(ck.expect.v[1].str);
	ck.expect.v[1].str = strdup("drop");
	out = eval(&ck, &evs, &rc);
	CHECK_INT(rc, -1);
	CHECK(strstr(out, "check 1 (t/case.conf:7)") != NULL);
	CHECK(strstr(out, "expected verdict=drop, got verdict=accept") != NULL);
	CHECK(strstr(out, "rule=lgwan-to-asp") != NULL);
	CHECK(strstr(out, "packet 4 of x.pcap") != NULL);
	CHECK(strstr(out, "other events of the same flow") != NULL);
	CHECK(strstr(out, "packet 1 of x.pcap") != NULL);
	free(out);
	vcheck_free(&ck);
	vevents_free(&evs);
}

static void
test_check_count(void)
{
	struct vevents evs;
	struct vcheck ck = { .line = 3, .count = 0 };
	char *error = NULL, *out;
	int rc;

	CHECK_INT(load_events(&evs, flow_events, &error), 0);
	vfields_add_str(&ck.match, "src_zone", "mynumber");
	vfields_add_str(&ck.match, "dst_zone", "internet");
	vfields_add_str(&ck.match, "verdict", "accept");
	out = eval(&ck, &evs, &rc);
	CHECK_INT(rc, 0);   /* the mynumber -> internet flow was dropped */
	free(out);
	free(ck.match.v[2].str);
	ck.match.v[2].str = strdup("drop");
	out = eval(&ck, &evs, &rc);
	CHECK_INT(rc, -1);
	CHECK(strstr(out, "expected 0 matching events, got 1") != NULL);
	CHECK(strstr(out, "packet 9 of x.pcap") != NULL);
	free(out);
	ck.count = -1;
	free(ck.match.v[0].str);
	ck.match.v[0].str = strdup("lgwan");   /* no lgwan -> internet flow at all */
	out = eval(&ck, &evs, &rc);
	CHECK_INT(rc, -1);
	CHECK(strstr(out, "no event matches") != NULL);
	CHECK(strstr(out, "nearest events") != NULL && strstr(out, "src_zone=mynumber") != NULL);
	free(out);
	vcheck_free(&ck);
	vevents_free(&evs);
}

static void
test_update_record(void)
{
	struct vevents evs;
	struct vcase old, now;
	struct vindex *ix;
	char *error = NULL;

	memset(&old, 0, sizeof old);
	old.dir = "t";
	old.conf_path = "t/case.conf";
	CHECK_INT(load_events(&evs, flow_events, &error), 0);
	ix = vindex_new(&evs);
	vupdate_record(&now, &old, &evs, ix);
	CHECK_INT(now.nchecks, 2 + 3);   /* two final flows, three verdict counts */
	CHECK_STR(vfields_find(&now.checks[0].expect, "app")->str, "TLS");
	CHECK_STR(vfields_find(&now.checks[1].expect, "rule")->str, "null");
	CHECK_INT(now.checks[0].count, 1);
	CHECK_INT(now.checks[2].count, 1);   /* accept */
	CHECK_INT(now.checks[3].count, 1);   /* drop */
	CHECK_INT(now.checks[4].count, 0);   /* reject */
	for (size_t i = 0; i < now.nchecks; i++) {
		char *reason = NULL;
		struct vs_buf b;
		vs_open(&b);
		CHECK_INT(vcheck_eval(&now, &now.checks[i], i + 1, &evs, ix, &reason, b.f), 0);
		free(reason);
		free(vs_take(&b));
	}
	vcase_free(&now);
	vindex_free(ix);
	vevents_free(&evs);
}

/* The index only narrows: with and without it every match selects the same events. */
static void
test_index_agrees(void)
{
	static const char events[] =
		"{\"event\":\"flow\",\"dst_port\":443,\"app\":null,\"final\":true,\"x\":1.0}\n"
		"{\"event\":\"flow\",\"dst_port\":443.0,\"app\":\"null\",\"final\":false,\"x\":2.5}\n"
		"{\"event\":\"flow\",\"dst_port\":\"443\",\"app\":\"TLS\",\"final\":\"true\"}\n"
		"{\"event\":\"flow_end\",\"dst_port\":-0,\"app\":\"TLS\\u0000x\"}\n";
	struct vevents evs;
	struct vindex *ix;
	char *error = NULL;

	CHECK_INT(load_events(&evs, events, &error), 0);
	ix = vindex_new(&evs);
	for (int i = 0; i < 12; i++) {
		struct vcheck ck = { .count = -1 };
		const struct vevent *f1, *f2;
		switch (i) {
		case 0: vfields_add_int(&ck.match, "dst_port", 443); break;
		case 1: vfields_add_str(&ck.match, "dst_port", "443"); break;
		case 2: vfields_add_str(&ck.match, "app", "null"); break;
		case 3: vfields_add_bool(&ck.match, "final", true); break;
		case 4: vfields_add_str(&ck.match, "final", "true"); break;
		case 5: vfields_add_int(&ck.match, "x", 1); break;
		case 6: vfields_add_int(&ck.match, "dst_port", 0); break;
		case 7: vfields_add_str(&ck.match, "app", "TLS"); break;
		case 8: vfields_add_str(&ck.match, "dst_port", "443.0"); break;
		case 9: vfields_add_str(&ck.match, "event", "flow"); vfields_add_int(&ck.match, "dst_port", 443); break;
		case 10: vfields_add_str(&ck.match, "nope", "x"); break;
		default: vfields_add_str(&ck.match, "dst_port", "-0"); break;
		}
		if (vcheck_count(&ck, &evs, ix, &f1) != vcheck_count(&ck, &evs, NULL, &f2) || f1 != f2) {
			printf("  match #%d: %zu with the index, %zu without\n", i, vcheck_count(&ck, &evs, ix, &f1),
			    vcheck_count(&ck, &evs, NULL, &f2));
			unit_case_failed = 1;
		}
		vcheck_free(&ck);
	}
	vindex_free(ix);
	vevents_free(&evs);
}

static void
test_diff(void)
{
	char *a[] = { "one", "two", "three" }, *b[] = { "one", "2", "three", "four" };
	struct vs_buf buf;
	size_t removed, added;
	char *out;

	vs_open(&buf);
	vupdate_diff(a, 3, b, 4, buf.f, &removed, &added);
	out = vs_take(&buf);
	CHECK_INT(removed, 1);
	CHECK_INT(added, 2);
	CHECK_STR(out, "  - two\n  + 2\n  + four\n");
	free(out);
	vs_open(&buf);
	vupdate_diff(a, 3, a, 3, buf.f, &removed, &added);
	out = vs_take(&buf);
	CHECK_INT(removed + added, 0);
	CHECK_STR(out, "");
	free(out);
}

/* Beyond what LCS aligns (a recorded capture of many flows), one changed flow is still one - and one +. */
static void
test_diff_big(void)
{
	enum { N = 20000 };
	char **a = calloc(N, sizeof *a), **b = calloc(N, sizeof *b);
	struct vs_buf buf;
	size_t removed, added;
	char *out;

	for (int i = 0; i < N; i++) {
		a[i] = vs_printf("flow %d => verdict=accept", i);
		b[i] = i == N / 2 ? vs_printf("flow %d => verdict=drop", i) : strdup(a[i]);
	}
	vs_open(&buf);
	vupdate_diff(a, N, b, N, buf.f, &removed, &added);
	out = vs_take(&buf);
	CHECK_INT(removed, 1);
	CHECK_INT(added, 1);
	CHECK_STR(out, "  - flow 10000 => verdict=accept\n  + flow 10000 => verdict=drop\n");
	free(out);
	for (int i = 0; i < N; i++) {
		free(a[i]);
		free(b[i]);
	}
	free(a);
	free(b);
}

static void
test_junit_escape(void)
{
	struct vs_buf b;
	char *out;

	vs_open(&b);
	vjunit_escape(b.f, "a<b>&\"c'\n\x01\xff 東");
	out = vs_take(&b);
	CHECK_STR(out, "a&lt;b&gt;&amp;&quot;c&apos;&#10;\xef\xbf\xbd\xef\xbf\xbd 東");
	free(out);
}

/* Writes text to DIR/case.conf in a fresh temp dir; returns the dir (caller frees, removes). */
static char *
case_dir_with(const char *text)
{
	char *dir = strdup("/tmp/test_verify_case.XXXXXX"), *path;
	FILE *f;

	if (dir == NULL || mkdtemp(dir) == NULL)
		return dir;
	path = vs_printf("%s/case.conf", dir);
	f = fopen(path, "w");
	if (f) {
		fputs(text, f);
		fclose(f);
	}
	free(path);
	return dir;
}

static void
case_dir_remove(char *dir)
{
	char *path = vs_printf("%s/case.conf", dir);

	unlink(path);
	rmdir(dir);
	free(path);
	free(dir);
}

/* Loads text as a case.conf; returns the first diagnostic's text ("" when it loads). */
static char *
case_load_text(const char *text, struct vcase *vc, int *rc)
{
	char *dir = case_dir_with(text), *first;
	struct diags d;

	diags_init(&d, "case.conf");
	*rc = vcase_load(vc, dir, &d);
	first = d.n ? vs_printf("line %d: %s", d.v[0].line, d.v[0].text) : strdup("");
	diags_free(&d);
	case_dir_remove(dir);
	return first;
}

static void
test_case_load(void)
{
	static const struct { const char *text; const char *want; } bad[] = {
		{ "pcap = \"a.pcap\";\nchecks = ( { match = { event = \"flow\"; }; expcet = { verdict = \"drop\"; }; } );\n",
		  "line 2: unknown setting 'expcet'" },
		{ "pcap = \"a.pcap\";\npolcy = \"p.conf\";\nchecks = ( { match = { event = \"flow\"; }; } );\n",
		  "line 2: unknown setting 'polcy'" },
		{ "pcap = \"a.pcap\";\nchecks = ( { match = { event = \"flow\";\n verdcit = \"accept\"; }; count = 0; } );\n",
		  "line 3: unknown event field 'verdcit'" },
		{ "pcap = \"a.pcap\";\nchecks = ( { match = { event = \"flow\"; };\n expect = { rul = \"x\"; }; } );\n",
		  "line 3: unknown event field 'rul'" },
		{ "pcap = \"a.pcap\";\nchecks = ( );\n", "line 2: 'checks' is empty" },
		{ "pcap = \"a.pcap\";\n", "no 'checks'" },
		{ "checks = ( { match = { event = \"flow\"; }; } );\n", "no 'pcap'" },
		{ "pcap = [ 1 ];\nchecks = ( { match = { event = \"flow\"; }; } );\n", "'pcap' entries must be strings" },
		{ "pcap = \"a\";\nchecks = ( { match = { app = [ \"TLS\" ]; }; } );\n", "'app' must be a string, number or boolean" },
		{ "pcap = \"a\";\nchecks = ( { expect = { app = \"TLS\"; }; } );\n", "check has no 'match' group" },
		{ "pcap = \"a\";\nchecks = ( { match = { }; expect = { }; } );\n", "'expect' is empty" },
		{ "pcap = \"a\";\nchecks = ( { match = { }; count = -1; } );\n", "count" },
		{ "pcap = \"a\";\nchecks = ( { match = { event = \"flow\" }; }\n", "line 3: syntax error" },
		{ NULL, NULL },
	};
	struct vcase vc;
	int rc;

	for (int i = 0; bad[i].text; i++) {
		char *first = case_load_text(bad[i].text, &vc, &rc);
		if (rc != -1 || strstr(first, bad[i].want) == NULL) {
			printf("  bad case #%d: rc %d, first diagnostic \"%s\", wanted \"%s\"\n", i, rc, first,
			    bad[i].want);
			unit_case_failed = 1;
		}
		free(first);
		vcase_free(&vc);
	}
	free(case_load_text("pcap = \"one.pcap\";\nchecks = ( { match = { dst_port = 443; final = true; "
	    "pcap_cnt = 1.5; }; count = 2; keep = true; } );\n", &vc, &rc));
	CHECK_INT(rc, 0);
	CHECK_INT(vc.npcaps, 1);
	CHECK(vc.policy == NULL);
	CHECK_INT(vc.checks[0].count, 2);
	CHECK(vc.checks[0].keep);
	CHECK_INT(vc.checks[0].match.v[0].kind, VFIELD_INT);
	CHECK_INT(vc.checks[0].match.v[1].kind, VFIELD_BOOL);
	CHECK_INT(vc.checks[0].match.v[2].kind, VFIELD_FLOAT);
	vcase_free(&vc);
}

/* What --update writes must read back as the same case, whatever the strings hold. */
static void
test_case_roundtrip(void)
{
	struct vcase vc, back;
	struct vcheck ck = { .count = 3, .keep = true };
	struct vs_buf b;
	char *text, *dir, *s1, *s2;
	struct diags d;

	memset(&vc, 0, sizeof vc);
	vc.description = strdup("a \"quoted\" back\\slash\nnew line\x01 東京 \t tab");
	vc.header = strdup("# kept comment\n");
	vc.pcaps = calloc(1, sizeof *vc.pcaps);
	vc.pcaps[vc.npcaps++] = strdup("../x \"y\".pcap");
	vc.policy = strdup("../../site.conf");
	vfields_add_str(&ck.match, "rule", "a\"b\\c");
	vfields_add_int(&ck.match, "dst_port", 443);
	vfields_add_bool(&ck.match, "final", false);
	vfields_add_str(&ck.expect, "app", "null");
	ck.comment = strdup("why \"this\"");
	vc.checks = &ck;
	vc.nchecks = 1;
	vs_open(&b);
	vcase_write(&vc, b.f);
	text = vs_take(&b);
	dir = case_dir_with(text);
	diags_init(&d, "case.conf");
	CHECK_INT(vcase_load(&back, dir, &d), 0);
	if (d.n)
		printf("  %s:%d: %s\n%s", d.v[0].file, d.v[0].line, d.v[0].text, text);
	CHECK_STR(back.description, vc.description);
	CHECK_STR(back.pcaps[0], vc.pcaps[0]);
	CHECK_STR(back.header, "# kept comment\n");
	CHECK_INT(back.nchecks, 1);
	s1 = vcheck_summary(&ck);
	s2 = back.nchecks ? vcheck_summary(&back.checks[0]) : strdup("");
	CHECK_STR(s2, s1);
	CHECK_STR(back.nchecks ? back.checks[0].comment : "", ck.comment);
	free(s1);
	free(s2);
	diags_free(&d);
	vcase_free(&back);
	case_dir_remove(dir);
	free(text);
	vc.checks = NULL;
	vc.nchecks = 0;
	vcheck_free(&ck);
	vcase_free(&vc);
}

int
main(void)
{
	log_init("test_verify", 0, LOG_LVL_WARN);
	UNIT_RUN(test_json_valid);
	UNIT_RUN(test_json_invalid);
	UNIT_RUN(test_json_depth);
	UNIT_RUN(test_events_load);
	UNIT_RUN(test_field_matches);
	UNIT_RUN(test_check_expect);
	UNIT_RUN(test_check_count);
	UNIT_RUN(test_update_record);
	UNIT_RUN(test_index_agrees);
	UNIT_RUN(test_diff);
	UNIT_RUN(test_diff_big);
	UNIT_RUN(test_junit_escape);
	UNIT_RUN(test_case_load);
	UNIT_RUN(test_case_roundtrip);
	UNIT_EXIT();
}
