/* test_lib.c -- unit tests for lib/: JSON escaping, reading back metadata, addresses and prefixes, config diagnostics. */
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/addr.h"
#include "lib/conf.h"
#include "lib/evchain.h"
#include "lib/event.h"
#include "lib/json.h"
#include "lib/util.h"
#include "tests/lib/unit.h"

static void
json_escapes_controls_and_quotes(void)
{
	struct jbuf jb = JBUF_INIT;

	jb_obj_open(&jb);
	jb_str(&jb, "k", "a\"b\\c\n\t\x01");
	jb_obj_end(&jb);
	CHECK_STR(jb_cstr(&jb), "{\"k\":\"a\\\"b\\\\c\\n\\t\\u0001\"}");
	jb_free(&jb);
}

static void
json_keeps_utf8_and_replaces_invalid(void)
{
	struct jbuf jb = JBUF_INIT;

	jb_obj_open(&jb);
	jb_str(&jb, "subject", "無害化 テスト");
	jb_strn(&jb, "bad", "a\xff\xc3", 3);
	jb_str(&jb, "overlong", "\xc0\xaf");
	jb_obj_end(&jb);
	CHECK_STR(jb_cstr(&jb), "{\"subject\":\"無害化 テスト\",\"bad\":\"a\xef\xbf\xbd\xef\xbf\xbd\","
	    "\"overlong\":\"\xef\xbf\xbd\xef\xbf\xbd\"}");
	jb_free(&jb);
}

/* The quarantine reads its metadata back: members by name past nested values, escapes, string arrays. */
static void
json_reads_back_metadata(void)
{
	const char *t = "{\"a\":{\"x\":[1,{\"y\":\"}\"}]},\"name\":\"\\u9ad9\\u6a4b \\\"q\\\"\\n\","
	    "\"n\":42,\"list\":[\"one\",\"\\ud83d\\ude00\",7],\"z\":null}";
	struct json_value v;
	struct json_error err;
	char **list = NULL;
	int64_t n = 0;
	size_t count;

	CHECK_INT(json_parse(t, strlen(t), &v, &err), 0);
	CHECK_STR(json_get_str(&v, "name"), "髙橋 \"q\"\n");
	CHECK(json_get_int(&v, "n", &n));
	CHECK_INT(n, 42);
	CHECK(!json_get_int(&v, "missing", &n));
	CHECK(json_get_str(&v, "z") == NULL);
	count = json_get_strings(&v, "list", &list);
	CHECK_INT(count, 2);
	if (count == 2) {
		CHECK_STR(list[0], "one");
		CHECK_STR(list[1], "😀");
	}
	for (size_t i = 0; i < count; i++)
		free(list[i]);
	free(list);
	CHECK_INT(json_get_strings(&v, "name", &list), 0);
	CHECK(list == NULL);
	json_free(&v);
	CHECK_INT(json_parse("{\"a\":", 5, &v, &err), -1);
	CHECK(err.text[0] != '\0');
	CHECK_INT(json_parse("", 0, &v, &err), -1);
}

static void
json_nesting_and_numbers(void)
{
	struct jbuf jb = JBUF_INIT;

	jb_obj_open(&jb);
	jb_int(&jb, "neg", -5);
	jb_uint(&jb, "big", 18446744073709551615ull);
	jb_arr_begin(&jb, "list");
	jb_str(&jb, NULL, "x");
	jb_obj_open(&jb);
	jb_bool(&jb, "t", true);
	jb_obj_end(&jb);
	jb_null(&jb, NULL);
	jb_arr_end(&jb);
	jb_double(&jb, "nan", 0.0 / 0.0);
	jb_obj_end(&jb);
	CHECK_STR(jb_cstr(&jb),
	    "{\"neg\":-5,\"big\":18446744073709551615,\"list\":[\"x\",{\"t\":true},null],\"nan\":null}");
	jb_free(&jb);
}

static void
event_line_has_timestamp_and_newline(void)
{
	struct jbuf jb = JBUF_INIT;
	int fds[2];
	char line[256] = "";
	ssize_t n;
	struct ev_sink *sink;

	CHECK(pipe(fds) == 0);
	sink = ev_sink_fd(fds[1]);
	ev_begin(&jb, "flow", 1700000000123456ull);
	jb_str(&jb, "verdict", "accept");
	ev_end(&jb);
	CHECK(ev_emit(sink, &jb) == 0);
	n = read(fds[0], line, sizeof line - 1);
	CHECK(n > 0);
	CHECK_STR(line, "{\"timestamp\":\"2023-11-14T22:13:20.123456+0000\",\"event\":\"flow\","
	    "\"verdict\":\"accept\"}\n");
	ev_sink_close(sink);
	close(fds[0]);
	close(fds[1]);
	jb_free(&jb);
}

static void
prefixes_parse_and_match(void)
{
	struct prefix p, q;
	struct addr a;
	const char *why = NULL;
	char text[64];

	CHECK(prefix_parse("10.20.0.0/16", &p, NULL) == 0);
	CHECK(addr_parse("10.20.5.1", &a) == 0);
	CHECK(prefix_contains(&p, &a));
	CHECK(addr_parse("10.21.0.1", &a) == 0);
	CHECK(!prefix_contains(&p, &a));
	CHECK(prefix_parse("10.20.1.0/24", &q, NULL) == 0);
	CHECK(prefix_covers(&p, &q));
	CHECK(!prefix_covers(&q, &p));
	CHECK(prefix_parse("10.0.0.1/8", &p, &why) < 0);
	CHECK_STR(why, "host bits set after the prefix length");
	CHECK(prefix_parse("10.0.0.0/33", &p, NULL) < 0);
	CHECK(prefix_parse("fd00:10::/48", &p, NULL) == 0);
	prefix_format(&p, text, sizeof text);
	CHECK_STR(text, "fd00:10::/48");
	CHECK(addr_parse("fd00:10:0:5::1", &a) == 0);
	CHECK(prefix_contains(&p, &a));
	CHECK(prefix_parse("0.0.0.0/0", &p, NULL) == 0);
	CHECK(addr_parse("192.0.2.1", &a) == 0);
	CHECK(prefix_contains(&p, &a));
	CHECK(addr_parse("2001:db8::1", &a) == 0);
	CHECK(!prefix_contains(&p, &a));
	CHECK(prefix_parse("not-an-address", &p, NULL) < 0);
}

static void
config_errors_carry_file_and_line(void)
{
	config_t cfg;
	struct diags d;

	config_init(&cfg);
	diags_init(&d, "site.conf");
	CHECK(conf_load_string(&cfg, "a = 1;\nb = ;\n", NULL, &d) < 0);
	CHECK_INT(d.n, 1);
	if (d.n == 1) {
		CHECK_STR(d.v[0].file, "site.conf");
		CHECK_INT(d.v[0].line, 2);
	}
	diags_free(&d);
	config_destroy(&cfg);
}

static void
config_typed_getters_report_bad_types(void)
{
	config_t cfg;
	struct diags d;
	long long n = 7;
	const char *s = NULL;
	static const char *const words[] = { "drop", "accept", NULL };
	int which = -1;
	static const char *const known[] = { "n", "s", "w", NULL };

	config_init(&cfg);
	diags_init(&d, "t.conf");
	CHECK(conf_load_string(&cfg, "n = \"x\";\ns = \"ok\";\nw = \"maybe\";\ntypo = 1;\n", NULL, &d) == 0);
	CHECK(conf_get_int(config_root_setting(&cfg), "n", 0, 10, &n, &d) < 0);
	CHECK_INT(n, 7);
	CHECK(conf_get_str(config_root_setting(&cfg), "s", &s, &d) == 0);
	CHECK_STR(s, "ok");
	CHECK(conf_get_enum(config_root_setting(&cfg), "w", words, &which, &d) < 0);
	conf_check_members(config_root_setting(&cfg), known, &d);
	CHECK_INT(diags_count(&d, DIAG_ERROR), 2);
	CHECK_INT(diags_count(&d, DIAG_WARNING), 1);
	CHECK_INT(d.v[1].line, 3);
	diags_free(&d);
	config_destroy(&cfg);
}

static void
atomic_write_replaces_whole_file(void)
{
	char dir[] = "/tmp/tg-util-XXXXXX", path[128];
	uint8_t *buf = NULL;
	size_t len = 0;

	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof path, "%s/a/b/out.txt", dir);
	snprintf(dir + strlen(dir), sizeof dir - strlen(dir), "%s", "");
	{
		char sub[128];
		snprintf(sub, sizeof sub, "%.*s", (int)(strrchr(path, '/') - path), path);
		CHECK(dir_make_all(sub, 0755) == 0);
	}
	CHECK(file_write_atomic(path, "hello", 5, 0600) == 0);
	CHECK(file_read_all(path, 100, &buf, &len) == 0);
	CHECK_INT(len, 5);
	CHECK(buf && memcmp(buf, "hello", 5) == 0);
	free(buf);
	CHECK(file_read_all(path, 2, &buf, &len) < 0);
	{
		char cmd[200];
		snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
		CHECK(system(cmd) == 0);
	}
}

static void
base64_alphabet_values(void)
{
	CHECK_INT(base64_value('A'), 0);
	CHECK_INT(base64_value('z'), 51);
	CHECK_INT(base64_value('0'), 52);
	CHECK_INT(base64_value('+'), 62);
	CHECK_INT(base64_value('/'), 63);
	CHECK_INT(base64_value('='), -1);
	CHECK_INT(base64_value('-'), -1);
	CHECK_INT(base64_value(0xff), -1);
}

static void
emit_one(struct ev_sink *sink, unsigned seq)
{
	struct jbuf jb = JBUF_INIT;

	ev_begin(&jb, "test", 0);
	jb_uint(&jb, "seq", seq);
	ev_end(&jb);
	CHECK(ev_emit(sink, &jb) == 0);
	jb_free(&jb);
}

/* Rotation (rename, then reopen on SIGHUP): the new file's line 1 carries the old file's last hash. */
static void
event_chain_survives_rotation(void)
{
	char dir[] = "/tmp/tg-test-lib.XXXXXX", path[64], old[64], want[EVCHAIN_HEX], got[EVCHAIN_HEX];
	struct ev_sink *sink;
	uint8_t *text = NULL;
	size_t len = 0;
	int fd;

	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof path, "%s/ev", dir);
	snprintf(old, sizeof old, "%s/ev.1", dir);
	sink = ev_sink_open(path);
	CHECK(sink != NULL);
	if (sink == NULL)
		return;
	emit_one(sink, 1);
	emit_one(sink, 2);
	CHECK(rename(path, old) == 0);
	CHECK(ev_sink_reopen(sink) == 0);
	emit_one(sink, 3);
	ev_sink_close(sink);
	fd = open(old, O_RDONLY);
	evchain_last_line_hash(fd, lseek(fd, 0, SEEK_END), want);
	close(fd);
	CHECK(file_read_all(path, 4096, &text, &len) == 0 && len > 1);
	CHECK(text != NULL && evchain_line_prev((char *)text, len - 1, got));
	CHECK_STR(got, want);
	CHECK(strcmp(want, EVCHAIN_GENESIS) != 0);
	free(text);
	unlink(path);
	unlink(old);
	rmdir(dir);
}

/* Line n (from 1) of a file, without its newline, into out; false when there is none. */
static bool
line_of(const char *path, int n, char *out, size_t size)
{
	FILE *f = fopen(path, "r");
	bool found = false;

	if (f == NULL)
		return false;
	for (int i = 1; fgets(out, (int)size, f) != NULL; i++)
		if (i == n) {
			out[strcspn(out, "\n")] = '\0';
			found = true;
			break;
		}
	fclose(f);
	return found;
}

/* prev of line n of path equals the hash of the line given (a whole line). */
static bool
chains_to(const char *path, int n, const char *line_before)
{
	char line[1024], prev[EVCHAIN_HEX], want[EVCHAIN_HEX];

	if (!line_of(path, n, line, sizeof line) || !evchain_line_prev(line, strlen(line), prev))
		return false;
	evchain_hash(line_before, strlen(line_before), want);
	return strcmp(prev, want) == 0;
}

/*
 * Two writers of one file (as the bridge's auth process and relay): B wrote last, then the
 * file is renamed and A changes over first. A's first line in the new file must chain to
 * the old file's real end (B's line, then the log_rotated seal A adds), not to A's own
 * last line; B, still on the old file, must not write behind the seal: its line waits
 * and goes to the new file when B is handed it. C follows the path itself.
 */
static void
event_chain_rotation_two_writers(void)
{
	char dir[] = "/tmp/tg-test-lib.XXXXXX", path[64], old[64], line[1024], seal[1024], first[1024];
	struct ev_sink *a, *b, *c;

	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof path, "%s/ev", dir);
	snprintf(old, sizeof old, "%s/ev.1", dir);
	a = ev_sink_open(path);
	b = ev_sink_open(path);
	c = ev_sink_open(path);
	CHECK(a != NULL && b != NULL && c != NULL);
	if (a == NULL || b == NULL || c == NULL)
		return;
	ev_sink_follow(c, true);
	emit_one(a, 1);
	emit_one(b, 2);
	CHECK(rename(path, old) == 0);
	CHECK(ev_sink_reopen(a) == 0);
	emit_one(a, 3);
	emit_one(b, 4);   /* B has not changed over: held, not written behind the seal */
	CHECK(line_of(old, 2, line, sizeof line) && strstr(line, "\"seq\":2") != NULL);
	CHECK(line_of(old, 3, seal, sizeof seal) && strstr(seal, "\"event\":\"log_rotated\"") != NULL);
	CHECK(!line_of(old, 4, line, sizeof line));
	CHECK(line_of(old, 2, line, sizeof line) && chains_to(old, 3, line));
	CHECK(chains_to(path, 1, seal));
	CHECK(ev_sink_swap(b, open(path, O_RDWR | O_APPEND)) == 0);   /* as the relay is handed it */
	emit_one(c, 5);
	CHECK(line_of(path, 1, first, sizeof first) && strstr(first, "\"seq\":3") != NULL);
	CHECK(line_of(path, 2, line, sizeof line) && strstr(line, "\"seq\":4") != NULL && chains_to(path, 2, first));
	CHECK(line_of(path, 3, line, sizeof line) && strstr(line, "\"seq\":5") != NULL);
	CHECK(ev_sink_swap(b, open("/dev/null", O_WRONLY)) < 0);   /* only a regular file is taken */
	ev_sink_close(a);
	ev_sink_close(b);
	ev_sink_close(c);
	unlink(path);
	unlink(old);
	rmdir(dir);
}

/* A process that opens the new, empty file after a rotation (an admin tool) continues PATH.1. */
static void
event_chain_fresh_writer_continues_dot1(void)
{
	char dir[] = "/tmp/tg-test-lib.XXXXXX", path[64], old[64], last[1024];
	struct ev_sink *sink;
	int fd;

	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof path, "%s/ev", dir);
	snprintf(old, sizeof old, "%s/ev.1", dir);
	sink = ev_sink_open(old);
	CHECK(sink != NULL);
	if (sink == NULL)
		return;
	emit_one(sink, 1);
	ev_sink_close(sink);
	fd = open(path, O_CREAT | O_WRONLY, 0640);   /* logrotate's create */
	close(fd);
	sink = ev_sink_open(path);
	emit_one(sink, 2);
	ev_sink_close(sink);
	CHECK(line_of(old, 2, last, sizeof last) && strstr(last, "\"event\":\"log_rotated\"") != NULL);
	CHECK(chains_to(path, 1, last));
	unlink(path);
	unlink(old);
	rmdir(dir);
}

/* A writer (a hostile relay) appends a "log_rotated" line without any rotation: the others write on. */
static void
event_chain_forged_seal_ignored(void)
{
	char dir[] = "/tmp/tg-test-lib.XXXXXX", path[64], line[1024];
	struct ev_sink *a, *hostile;
	struct jbuf jb = JBUF_INIT;

	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof path, "%s/ev", dir);
	a = ev_sink_open(path);
	hostile = ev_sink_open(path);
	CHECK(a != NULL && hostile != NULL);
	if (a == NULL || hostile == NULL)
		return;
	emit_one(a, 1);
	ev_begin(&jb, "log_rotated", 0);
	ev_end(&jb);
	CHECK(ev_emit(hostile, &jb) == 0);
	jb_free(&jb);
	emit_one(a, 2);
	CHECK(line_of(path, 3, line, sizeof line) && strstr(line, "\"seq\":2") != NULL);
	ev_sink_close(a);
	ev_sink_close(hostile);
	unlink(path);
	rmdir(dir);
}

int
main(void)
{
	UNIT_RUN(json_escapes_controls_and_quotes);
	UNIT_RUN(json_keeps_utf8_and_replaces_invalid);
	UNIT_RUN(json_nesting_and_numbers);
	UNIT_RUN(json_reads_back_metadata);
	UNIT_RUN(event_line_has_timestamp_and_newline);
	UNIT_RUN(event_chain_survives_rotation);
	UNIT_RUN(event_chain_rotation_two_writers);
	UNIT_RUN(event_chain_fresh_writer_continues_dot1);
	UNIT_RUN(event_chain_forged_seal_ignored);
	UNIT_RUN(prefixes_parse_and_match);
	UNIT_RUN(config_errors_carry_file_and_line);
	UNIT_RUN(config_typed_getters_report_bad_types);
	UNIT_RUN(atomic_write_replaces_whole_file);
	UNIT_RUN(base64_alphabet_values);
	UNIT_EXIT();
}
