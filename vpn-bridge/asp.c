/* asp.c -- the site's LGWAN-ASP checks (each one an asp_probe run) and the state file that makes services routable. */
#include "vpn-bridge/asp.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/util.h"
#include "vpn-bridge/asp_probe.h"

#define ASP_STATE_MAX_BYTES (4u << 20)

void
asp_state_init(struct asp_state *s, const char *path)
{
	memset(s, 0, sizeof *s);
	s->path = path ? xstrdup(path) : NULL;
}

void
asp_state_free(struct asp_state *s)
{
	free(s->v);
	free(s->path);
	memset(s, 0, sizeof *s);
}

/* Finds "key": in a line written by asp_state_write and returns where the value starts. */
static const char *
asp_json_value(const char *line, const char *key)
{
	char pattern[40];
	const char *p;

	snprintf(pattern, sizeof pattern, "\"%s\":", key);
	p = strstr(line, pattern);
	return p ? p + strlen(pattern) : NULL;
}

static void
asp_json_string(const char *line, const char *key, char *out, size_t size)
{
	const char *v = asp_json_value(line, key);
	size_t used = 0;

	out[0] = '\0';
	if (v == NULL || *v != '"')
		return;
	/* Values we write carry no escapes except \" and \\ (names and reasons are plain). */
	for (v++; *v && *v != '"' && used + 1 < size; v++) {
		if (*v == '\\' && v[1])
			v++;
		out[used++] = *v;
	}
	out[used] = '\0';
}

static void
asp_state_parse_line(struct asp_state *s, const char *line)
{
	struct asp_result *r;
	const char *v;

	if (asp_json_value(line, "service") == NULL)
		return;
	r = &s->v[s->n++];
	memset(r, 0, sizeof *r);
	asp_json_string(line, "service", r->name, sizeof r->name);
	asp_json_string(line, "reason", r->reason, sizeof r->reason);
	asp_json_string(line, "tls_version", r->tls_version, sizeof r->tls_version);
	asp_json_string(line, "cipher", r->cipher, sizeof r->cipher);
	v = asp_json_value(line, "passed");
	r->passed = v && strncmp(v, "true", 4) == 0;
	v = asp_json_value(line, "checked_at_epoch");
	r->checked_at = v ? strtoll(v, NULL, 10) : 0;
	v = asp_json_value(line, "days_left");
	r->days_left = v ? strtol(v, NULL, 10) : -1;
}

static int
asp_state_load(struct asp_state *s)
{
	uint8_t *text = NULL, *grown;
	size_t len = 0, lines = 1;
	char *line, *cursor;

	s->n = 0;
	if (file_read_all(s->path, ASP_STATE_MAX_BYTES, &text, &len) < 0)
		return errno == ENOENT ? 0 : -1;
	/* Runs in the relay: out of memory leaves no results (ASPs refused), never an exit. */
	if ((grown = realloc(text, len + 1)) == NULL) {
		free(text);
		return -1;
	}
	text = grown;
	text[len] = '\0';
	for (size_t i = 0; i < len; i++)
		lines += text[i] == '\n';
	free(s->v);
	if ((s->v = calloc(lines, sizeof *s->v)) == NULL) {
		free(text);
		s->ino = 0;   /* try again on the next refresh */
		return -1;
	}
	cursor = (char *)text;
	while ((line = strsep(&cursor, "\n")) != NULL)
		asp_state_parse_line(s, line);
	free(text);
	return 0;
}

int
asp_state_refresh(struct asp_state *s)
{
	struct stat st;

	if (s->path == NULL)
		return 0;
	if (stat(s->path, &st) < 0) {
		s->n = 0;
		s->ino = 0;
		return errno == ENOENT ? 0 : -1;
	}
	if (st.st_ino == s->ino && st.st_mtim.tv_sec == s->mtime.tv_sec &&
	    st.st_mtim.tv_nsec == s->mtime.tv_nsec)
		return 0;
	s->mtime = st.st_mtim;
	s->ino = st.st_ino;
	return asp_state_load(s);
}

const struct asp_result *
asp_state_find(const struct asp_state *s, const char *name)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->v[i].name, name) == 0)
			return &s->v[i];
	return NULL;
}

bool
asp_state_routable(struct asp_state *s, const char *name, unsigned max_age, const char **why)
{
	const struct asp_result *r;

	asp_state_refresh(s);
	r = asp_state_find(s, name);
	if (r == NULL) {
		*why = "ASP service not checked yet";
		return false;
	}
	if (!r->passed) {
		*why = "ASP service failed its connection check";
		return false;
	}
	if (max_age && r->checked_at + (time_t)max_age < time(NULL)) {
		*why = "ASP check result too old";
		return false;
	}
	return true;
}

/* The site's check of one service: the same probe a vendor runs with asp-check --target. */
void
asp_check_one(const struct bridge_conf *conf, const struct bconf_asp *svc, struct asp_result *out)
{
	struct asp_target t = {
		.address = svc->address ? svc->address : svc->host, .port = svc->port,
		.servername = svc->host, .ca_file = svc->ca_file, .crl_file = svc->crl_file,
		.pin_sha256 = svc->pin_sha256, .timeout = conf->asp_timeout,
		.min_days = conf->asp_warn_days, .allow_cbc = conf->asp_allow_cbc,
		.forbidden = conf->asp_forbidden_ciphers, .n_forbidden = conf->n_asp_forbidden,
	};
	struct asp_report *r = xmalloc(sizeof *r);
	const struct asp_criterion *bad;
	char reason[sizeof bad->subject + sizeof bad->detail + 4];

	asp_probe_run(&t, r);
	memset(out, 0, sizeof *out);
	str_copy(out->name, svc->name, sizeof out->name);
	out->checked_at = time(NULL);
	out->days_left = r->days_left;
	str_copy(out->tls_version, r->tls_version, sizeof out->tls_version);
	str_copy(out->cipher, r->cipher, sizeof out->cipher);
	out->passed = asp_report_passed(r);
	bad = asp_report_first_failure(r);
	if (bad) {
		snprintf(reason, sizeof reason, "%s%s%s", bad->subject, bad->subject[0] ? ": " : "", bad->detail);
		str_copy(out->reason, reason, sizeof out->reason);
	}
	free(r);
}

static void
asp_json_result(struct jbuf *jb, const struct asp_result *r)
{
	char stamp[40];

	ev_timestamp(stamp, (uint64_t)r->checked_at * 1000000);
	jb_str(jb, "service", r->name);
	jb_bool(jb, "passed", r->passed);
	jb_str(jb, "reason", r->reason);
	jb_str(jb, "tls_version", r->tls_version);
	jb_str(jb, "cipher", r->cipher);
	jb_int(jb, "days_left", r->days_left);
	jb_str(jb, "checked_at", stamp);
	jb_int(jb, "checked_at_epoch", r->checked_at);
}

/* One service per line, so a reader can find each without a JSON library. */
static int
asp_state_write(const char *path, const struct asp_result *v, size_t n)
{
	struct jbuf line = JBUF_INIT;
	size_t cap = 64, len = 0;
	char *text = xmalloc(cap);
	int rc;

	len += (size_t)snprintf(text, cap, "{\"services\":[\n");
	for (size_t i = 0; i < n; i++) {
		const char *json;
		size_t jlen;
		jb_reset(&line);
		jb_obj_open(&line);
		asp_json_result(&line, &v[i]);
		jb_obj_end(&line);
		json = jb_cstr(&line);
		jlen = strlen(json);
		text = xrealloc(text, cap = len + jlen + 16, 1);
		memcpy(text + len, json, jlen);
		len += jlen;
		len += (size_t)snprintf(text + len, cap - len, "%s\n", i + 1 < n ? "," : "");
	}
	text = xrealloc(text, len + 8, 1);
	len += (size_t)snprintf(text + len, 8, "]}\n");
	rc = file_write_atomic(path, text, len, 0644);
	if (rc < 0)
		log_warn("cannot write ASP state %s", path);
	free(text);
	jb_free(&line);
	return rc;
}

static void
asp_emit(struct ev_sink *events, const struct bconf_asp *svc, const struct asp_result *r)
{
	struct jbuf jb = JBUF_INIT;

	ev_begin(&jb, "bridge_asp_check", 0);
	asp_json_result(&jb, r);
	jb_str(&jb, "vendor", svc->vendor);
	jb_str(&jb, "host", svc->host);
	jb_uint(&jb, "port", svc->port);
	ev_end(&jb);
	ev_emit(events, &jb);
	jb_free(&jb);
}

static void
asp_table_row(FILE *out, const struct bconf_asp *svc, const struct asp_result *r)
{
	char target[300], days[24];

	snprintf(target, sizeof target, "%s:%u", svc->host, svc->port);
	if (r->days_left >= 0)
		snprintf(days, sizeof days, "%ld", r->days_left);
	else
		str_copy(days, "-", sizeof days);
	fprintf(out, "%-16s %-28s %-8s %-30s %6s  %-4s %s\n", svc->name, target,
	    r->tls_version[0] ? r->tls_version : "-", r->cipher[0] ? r->cipher : "-", days,
	    r->passed ? "PASS" : "FAIL", r->reason);
}

/* Old results of services not checked this time are kept (asp-check NAME). */
static size_t
asp_merge(const struct bridge_conf *conf, struct asp_result *merged, const struct asp_result *fresh,
    const bool *checked, const struct asp_state *old)
{
	size_t n = 0;

	for (size_t i = 0; i < conf->n_asps; i++) {
		const struct asp_result *prev = asp_state_find(old, conf->asps[i].name);
		if (checked[i])
			merged[n++] = fresh[i];
		else if (prev)
			merged[n++] = *prev;
	}
	return n;
}

int
asp_check_run(const struct bridge_conf *conf, const char *only, FILE *out, struct ev_sink *events)
{
	struct asp_result *fresh = xcalloc(conf->n_asps + 1, sizeof *fresh);
	struct asp_result *merged = xcalloc(conf->n_asps + 1, sizeof *merged);
	bool *checked = xcalloc(conf->n_asps + 1, sizeof *checked);
	struct asp_state old;
	int failed = 0;
	size_t n;

	if (out)
		fprintf(out, "%-16s %-28s %-8s %-30s %6s  %-4s %s\n", "SERVICE", "TARGET", "TLS",
		    "CIPHER", "DAYS", "OK", "REASON");
	for (size_t i = 0; i < conf->n_asps; i++) {
		if (only && strcmp(only, conf->asps[i].name) != 0)
			continue;
		asp_check_one(conf, &conf->asps[i], &fresh[i]);
		checked[i] = true;
		failed += !fresh[i].passed;
		if (out)
			asp_table_row(out, &conf->asps[i], &fresh[i]);
		asp_emit(events, &conf->asps[i], &fresh[i]);
	}
	asp_state_init(&old, conf->asp_state_file);
	asp_state_refresh(&old);
	n = asp_merge(conf, merged, fresh, checked, &old);
	if (conf->asp_state_file && asp_state_write(conf->asp_state_file, merged, n) < 0)
		failed = -1;
	asp_state_free(&old);
	free(fresh);
	free(merged);
	free(checked);
	return failed;
}
