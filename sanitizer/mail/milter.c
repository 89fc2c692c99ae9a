/* milter.c -- tiergate-milter: the libmilter daemon Postfix asks about each message; rebuilds selected mail at end of message. */
#include <errno.h>
#include <getopt.h>
#include <libmilter/mfapi.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/event.h"
#include "lib/log.h"
#include "lib/util.h"
#include "sanitizer/cli.h"
#include "sanitizer/internal.h"
#include "sanitizer/mail/milter_check.h"
#include "sanitizer/mail/milter_conf.h"
#include "sanitizer/mail/milter_msg.h"
#include "sanitizer/mail/milter_child.h"
#include "sanitizer/mail/milter_worker.h"
#include "sanitizer/mail/milter_zygote.h"

/* Read once at start-up, then only read by the callbacks' threads. */
static struct milter_config milter_cfg;
static const char *milter_config_path;
static char milter_self[4096];
static sem_t milter_slots;            /* bounds the rebuilds running at once */
static pthread_mutex_t milter_slot_lock = PTHREAD_MUTEX_INITIALIZER;
static bool milter_slot_busy[256];    /* which slot (the parser's uid offset) each rebuild holds */
static struct ev_sink *milter_events;

/*
 * Messages whose rebuild crashed or timed out, by a hash of their
 * bytes. A failure answers tempfail; the same message failing
 * MILTER_MAX_FAILURES times is taken as never sanitizable: quarantined
 * without being parsed, and the recipient gets the notice (no endless retry).
 */
#define MILTER_MAX_FAILURES 3
#define MILTER_FAILURE_SLOTS 256
static struct { uint64_t hash; unsigned count; } milter_failures[MILTER_FAILURE_SLOTS];
static unsigned milter_failure_next;
static pthread_mutex_t milter_failure_lock = PTHREAD_MUTEX_INITIALIZER;

static struct milter_msg *
milter_priv(SMFICTX *ctx)
{
	return smfi_getpriv(ctx);
}

static sfsistat
milter_tempfail(SMFICTX *ctx, const char *why)
{
	log_warnx("milter: tempfail: %s", why);
	smfi_setreply(ctx, "451", "4.3.0", (char *)"tiergate: message could not be sanitized now, try again later");
	return SMFIS_TEMPFAIL;
}

static sfsistat
milter_connect(SMFICTX *ctx, char *host, _SOCK_ADDR *addr)
{
	struct milter_msg *m = calloc(1, sizeof *m);

	if (m == NULL)
		return SMFIS_TEMPFAIL;
	milter_msg_init(m);
	smfi_setpriv(ctx, m);
	return SMFIS_CONTINUE;
}

static char *
milter_strip_brackets(const char *addr)
{
	size_t len = strlen(addr);

	if (len >= 2 && addr[0] == '<' && addr[len - 1] == '>')
		return strndup(addr + 1, len - 2);
	return strdup(addr);
}

/* Selected by the listener: {daemon_name} of the internet-facing smtpd. */
static bool
milter_daemon_selected(SMFICTX *ctx)
{
	const char *daemon = smfi_getsymval(ctx, (char *)"{daemon_name}");

	for (size_t i = 0; daemon && i < milter_cfg.n_daemon_names; i++)
		if (strcasecmp(daemon, milter_cfg.daemon_names[i]) == 0)
			return true;
	return false;
}

static bool
milter_domain_selected(const char *rcpt)
{
	const char *at = strrchr(rcpt, '@');
	size_t len;

	if (at == NULL)
		return false;
	at++;
	len = strlen(at);
	for (size_t i = 0; i < milter_cfg.n_recipient_domains; i++) {
		const char *d = milter_cfg.recipient_domains[i];
		size_t dl = strlen(d);
		if (strcasecmp(at, d) == 0 || (len > dl && at[len - dl - 1] == '.' &&
		    strcasecmp(at + len - dl, d) == 0))
			return true;
	}
	return false;
}

static sfsistat
milter_envfrom(SMFICTX *ctx, char **argv)
{
	struct milter_msg *m = milter_priv(ctx);

	if (m == NULL)
		return SMFIS_TEMPFAIL;
	milter_msg_free(m);
	m->sender = milter_strip_brackets(argv[0] ? argv[0] : "");
	m->selected = milter_cfg.sanitize_all || milter_daemon_selected(ctx);
	return m->sender ? SMFIS_CONTINUE : SMFIS_TEMPFAIL;
}

static sfsistat
milter_envrcpt(SMFICTX *ctx, char **argv)
{
	struct milter_msg *m = milter_priv(ctx);
	char *rcpt = argv[0] ? milter_strip_brackets(argv[0]) : NULL;
	int rc = rcpt && m ? milter_msg_add_rcpt(m, rcpt) : -1;

	if (rc == 0 && milter_domain_selected(rcpt))
		m->selected = true;
	free(rcpt);
	return rc == 0 ? SMFIS_CONTINUE : SMFIS_TEMPFAIL;
}

static sfsistat
milter_header(SMFICTX *ctx, char *name, char *value)
{
	struct milter_msg *m = milter_priv(ctx);

	if (m == NULL)
		return SMFIS_TEMPFAIL;
	if (milter_msg_header(m, name, value, milter_cfg.max_message_bytes, milter_cfg.spill_bytes,
	    milter_cfg.spool_dir) < 0)
		return milter_tempfail(ctx, "cannot hold the message");
	return SMFIS_CONTINUE;
}

static sfsistat
milter_eoh(SMFICTX *ctx)
{
	struct milter_msg *m = milter_priv(ctx);

	if (m == NULL)
		return SMFIS_TEMPFAIL;
	if (!m->selected)
		return SMFIS_ACCEPT;   /* not ours: Postfix delivers it untouched, no body sent */
	if (milter_msg_append(m, "\r\n", 2, milter_cfg.max_message_bytes, milter_cfg.spill_bytes,
	    milter_cfg.spool_dir) < 0)
		return milter_tempfail(ctx, "cannot hold the message");
	return SMFIS_CONTINUE;
}

static sfsistat
milter_body(SMFICTX *ctx, unsigned char *chunk, size_t len)
{
	struct milter_msg *m = milter_priv(ctx);

	if (m == NULL)
		return SMFIS_TEMPFAIL;
	if (milter_msg_append(m, chunk, len, milter_cfg.max_message_bytes, milter_cfg.spill_bytes,
	    milter_cfg.spool_dir) < 0)
		return milter_tempfail(ctx, "cannot hold the message");
	return SMFIS_CONTINUE;
}

/* Removes the old content headers (last occurrence first: indexes shift) and any forged stamp. */
static int
milter_remove_headers(SMFICTX *ctx, const struct milter_msg *m)
{
	for (size_t i = m->n_replace; i-- > 0;)
		if (smfi_chgheader(ctx, m->replace[i].name, m->replace[i].index, NULL) != MI_SUCCESS)
			return -1;
	return 0;
}

/* Adds the last n_added header fields of the rebuilt header block, in order. */
static int
milter_add_headers(SMFICTX *ctx, const struct milter_worker_out *out)
{
	size_t starts[64], n = 0;
	const char *h = out->msg;

	for (size_t i = 0; i < out->body_at; i++)
		if ((i == 0 || h[i - 1] == '\n') && h[i] != ' ' && h[i] != '\t' && h[i] != '\r')
			starts[n++ % 64] = i;
	if (out->n_added > n || out->n_added > 64)
		return -1;
	for (size_t k = n - out->n_added; k < n; k++) {
		size_t at = starts[k % 64], end = k + 1 < n ? starts[(k + 1) % 64] : out->body_at;
		struct mbuf value = MBUF_INIT;
		const char *colon = memchr(h + at, ':', end - at);
		char *name;
		int rc;
		if (colon == NULL)
			return -1;
		name = strndup(h + at, (size_t)(colon - h - at));
		for (const char *c = colon + 1 + (colon[1] == ' '); c < h + end; c++)
			if (*c != '\r')
				mbuf_addc(&value, *c);
		while (value.len && value.data[value.len - 1] == '\n')
			value.data[--value.len] = '\0';
		rc = name && !value.failed ? smfi_addheader(ctx, name, value.data) : MI_FAILURE;
		free(name);
		mbuf_free(&value);
		if (rc != MI_SUCCESS)
			return -1;
	}
	return 0;
}

static int
milter_replace_body(SMFICTX *ctx, const struct milter_worker_out *out)
{
	for (size_t at = out->body_at; at < out->len;) {
		size_t n = out->len - at > 65536 ? 65536 : out->len - at;
		if (smfi_replacebody(ctx, (unsigned char *)out->msg + at, (int)n) != MI_SUCCESS)
			return -1;
		at += n;
	}
	return 0;
}

/* FNV-1a over the message as held (memory or spool file). */
static uint64_t
milter_msg_hash(int fd)
{
	uint64_t hash = 1469598103934665603ULL;
	unsigned char chunk[65536];
	ssize_t n;

	while ((n = read(fd, chunk, sizeof chunk)) > 0)
		for (ssize_t i = 0; i < n; i++)
			hash = (hash ^ chunk[i]) * 1099511628211ULL;
	lseek(fd, 0, SEEK_SET);
	return hash;
}

/* Counts a failure of hash (add = true) or reads the count; returns the count. */
static unsigned
milter_failure_count(uint64_t hash, bool add)
{
	unsigned count = 0, slot = MILTER_FAILURE_SLOTS;

	pthread_mutex_lock(&milter_failure_lock);
	for (unsigned i = 0; i < MILTER_FAILURE_SLOTS; i++)
		if (milter_failures[i].count && milter_failures[i].hash == hash)
			slot = i;
	if (add && slot == MILTER_FAILURE_SLOTS) {
		slot = milter_failure_next++ % MILTER_FAILURE_SLOTS;
		milter_failures[slot].hash = hash;
		milter_failures[slot].count = 0;
	}
	if (slot < MILTER_FAILURE_SLOTS) {
		milter_failures[slot].count += add;
		count = milter_failures[slot].count;
	}
	pthread_mutex_unlock(&milter_failure_lock);
	return count;
}

/* A free slot (there is one: the semaphore admits at most max_workers <= 256). */
static unsigned
milter_slot_take(void)
{
	unsigned slot = 0;

	pthread_mutex_lock(&milter_slot_lock);
	while (slot + 1 < sizeof milter_slot_busy && milter_slot_busy[slot])
		slot++;
	milter_slot_busy[slot] = true;
	pthread_mutex_unlock(&milter_slot_lock);
	return slot;
}

static void
milter_slot_put(unsigned slot)
{
	pthread_mutex_lock(&milter_slot_lock);
	milter_slot_busy[slot] = false;
	pthread_mutex_unlock(&milter_slot_lock);
}

/* Rebuilds m into out and checks it (milter_check.c); on failure why says what went wrong. */
static int
milter_rebuild(struct milter_msg *m, struct milter_worker_out *out, char *why, size_t why_size)
{
	struct milter_worker_job job = { milter_self, milter_config_path, m->sender,
		m->recipients, m->n_recipients, milter_cfg.timeout, milter_msg_fd(m), NULL, 0 };
	char detail[200];
	uint64_t hash;
	int rc;

	if (job.in_fd < 0)
		return -1;
	hash = milter_msg_hash(job.in_fd);
	if (milter_failure_count(hash, false) >= MILTER_MAX_FAILURES) {
		log_warnx("milter: rebuild of this message failed %d times: quarantined, notice only",
		    MILTER_MAX_FAILURES);
		job.quarantine_only = "the rebuild failed repeatedly (worker crash or timeout)";
	}
	while (sem_wait(&milter_slots) < 0 && errno == EINTR)
		;
	job.slot = milter_slot_take();
	rc = milter_worker_run(&job, out);
	milter_slot_put(job.slot);
	sem_post(&milter_slots);
	close(job.in_fd);
	if (rc == 0 && milter_check_rebuilt(out->msg, out->len, out->body_at, out->n_added, detail,
	    sizeof detail) < 0) {
		/* the parser is untrusted: what it built is refused, never delivered; counted like a crash */
		snprintf(why, why_size, "rebuilt message refused: %s", detail);
		log_warnx("milter: %s", why);
		milter_worker_out_free(out);
		rc = MILTER_WORKER_CRASHED;
	} else if (rc != 0) {
		snprintf(why, why_size, "rebuild failed (worker error, crash or timeout)");
	}
	if (rc == MILTER_WORKER_CRASHED)   /* transient failures (disk, fork) do not count */
		milter_failure_count(hash, true);
	return rc < 0 ? -1 : 0;
}

static void
milter_event_tempfail(const struct milter_msg *m, const char *why)
{
	struct jbuf jb = JBUF_INIT;

	if (milter_events == NULL)
		return;
	ev_begin(&jb, "mail", 0);
	jb_str(&jb, "source", "milter");
	jb_str(&jb, "sender", m->sender);
	jb_arr_begin(&jb, "recipients");
	for (size_t i = 0; i < m->n_recipients; i++)
		jb_str(&jb, NULL, m->recipients[i]);
	jb_arr_end(&jb);
	jb_str(&jb, "verdict", "tempfail");
	jb_str(&jb, "reason", why);
	jb_uint(&jb, "size_in", m->size);
	ev_end(&jb);
	ev_emit(milter_events, &jb);
	jb_free(&jb);
}

static sfsistat
milter_eom(SMFICTX *ctx)
{
	struct milter_msg *m = milter_priv(ctx);
	struct milter_worker_out out;
	char why[256];

	if (m == NULL)
		return SMFIS_TEMPFAIL;
	if (!m->selected)
		return SMFIS_CONTINUE;
	ev_sink_refresh(milter_events);   /* logrotate renamed mail.json: let go of the old file */
	if (m->too_big) {
		smfi_setreply(ctx, "552", "5.3.4", (char *)"tiergate: message too big to be sanitized");
		return SMFIS_REJECT;
	}
	if (milter_rebuild(m, &out, why, sizeof why) < 0) {
		milter_event_tempfail(m, why);
		return milter_tempfail(ctx, why);
	}
	if (milter_remove_headers(ctx, m) < 0 || milter_add_headers(ctx, &out) < 0 ||
	    milter_replace_body(ctx, &out) < 0) {
		milter_worker_out_free(&out);
		milter_event_tempfail(m, "Postfix refused a modification");
		return milter_tempfail(ctx, "modification refused");
	}
	milter_worker_out_free(&out);
	return SMFIS_CONTINUE;
}

static sfsistat
milter_abort(SMFICTX *ctx)
{
	struct milter_msg *m = milter_priv(ctx);

	if (m)
		milter_msg_free(m);
	return SMFIS_CONTINUE;
}

static sfsistat
milter_close(SMFICTX *ctx)
{
	struct milter_msg *m = milter_priv(ctx);

	if (m) {
		milter_msg_free(m);
		free(m);
		smfi_setpriv(ctx, NULL);
	}
	return SMFIS_CONTINUE;
}

/*
 * Asks for the actions tiergate uses and nothing else. SMFIP_HDR_LEADSPC is
 * not requested: the headers we keep are never sent back, and without it the
 * values we add get the usual ": " from Postfix.
 */
static sfsistat
milter_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1, unsigned long f2,
    unsigned long f3, unsigned long *pf0, unsigned long *pf1, unsigned long *pf2, unsigned long *pf3)
{
	*pf0 = SMFIF_CHGBODY | SMFIF_CHGHDRS | SMFIF_ADDHDRS;
	*pf1 = 0;
	*pf2 = *pf3 = 0;
	return SMFIS_CONTINUE;
}

static struct smfiDesc milter_desc = {
	.xxfi_name = (char *)"tiergate-milter",
	.xxfi_version = SMFI_VERSION,
	.xxfi_flags = SMFIF_CHGBODY | SMFIF_CHGHDRS | SMFIF_ADDHDRS,
	.xxfi_connect = milter_connect,
	.xxfi_envfrom = milter_envfrom,
	.xxfi_envrcpt = milter_envrcpt,
	.xxfi_header = milter_header,
	.xxfi_eoh = milter_eoh,
	.xxfi_body = milter_body,
	.xxfi_eom = milter_eom,
	.xxfi_abort = milter_abort,
	.xxfi_close = milter_close,
	.xxfi_negotiate = milter_negotiate,
};

static int
milter_usage(void)
{
	fprintf(stderr, "usage: tiergate-milter [--config FILE] [--check] [--debug]\n");
	return 2;
}

static int
milter_start(void)
{
	struct san_config sc;
	ssize_t n = readlink("/proc/self/exe", milter_self, sizeof milter_self - 1);

	if (n <= 0)
		fatal("readlink /proc/self/exe");
	milter_self[n] = '\0';
	if (milter_config_read(milter_config_path, &sc, &milter_cfg) < 0)
		return 1;
	if (milter_cfg.events)
		milter_events = ev_sink_open(milter_cfg.events);
	else if (sc.events)
		milter_events = ev_sink_open(sc.events);
	/* libmilter stops the milter on SIGHUP: after log rotation the milter follows the path itself */
	ev_sink_follow(milter_events, true);
	san_config_free(&sc);
	if (dir_make_all(milter_cfg.spool_dir, 0700) < 0)
		fatal("spool directory %s", milter_cfg.spool_dir);
	sem_init(&milter_slots, 0, milter_cfg.max_workers ? milter_cfg.max_workers : 1);
	/* before the listening socket exists, so the zygote inherits nothing of it */
	if (milter_zygote_start(milter_self, milter_config_path) < 0)
		log_warn("milter: no zygote; every message will start a worker process");
	else if (sandbox_drop_caps() < 0)   /* the zygote has them; what talks to Postfix needs none */
		fatal("milter: cannot drop CAP_SETUID and CAP_SETGID");
	if (smfi_register(milter_desc) != MI_SUCCESS || smfi_setconn(milter_cfg.listen) != MI_SUCCESS ||
	    smfi_opensocket(true) != MI_SUCCESS)
		fatalx("cannot listen on %s", milter_cfg.listen);
	smfi_settimeout((int)milter_cfg.timeout + 60);
	log_info("listening on %s (%s)", milter_cfg.listen,
	    milter_cfg.sanitize_all ? "all mail" : "selected mail");
	return smfi_main() == MI_SUCCESS ? 0 : 1;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' }, { "check", no_argument, NULL, 'n' },
		{ "debug", no_argument, NULL, 'd' }, { "worker", no_argument, NULL, 'w' },
		{ NULL, 0, NULL, 0 },
	};
	bool check = false, debug = false;
	int c;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--worker") == 0)
			return milter_child_main(argc, argv);
		if (strcmp(argv[i], "--zygote") == 0)
			return milter_zygote_main(argc, argv);
		if (strcmp(argv[i], "--mail") == 0)   /* tiergate-sanitize --mail (cli.h) */
			return mail_cli_main(argc, argv);
	}
	while ((c = getopt_long(argc, argv, "c:nd", opts, NULL)) != -1) {
		if (c == 'c')
			milter_config_path = optarg;
		else if (c == 'n')
			check = true;
		else if (c == 'd')
			debug = true;
		else
			return milter_usage();
	}
	log_init("tiergate-milter", 0, debug ? LOG_LVL_DEBUG : LOG_LVL_INFO);
	if (check) {
		struct san_config sc;
		int rc = milter_config_read(milter_config_path, &sc, &milter_cfg);
		if (rc == 0)
			printf("configuration OK\n");
		milter_config_free(&milter_cfg);
		san_config_free(&sc);
		return rc == 0 ? 0 : 1;
	}
	return milter_start();
}
