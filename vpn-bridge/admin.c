/* admin.c -- the admin tools: passwd, enroll, deluser, unlock, revoke, asp-check, fingerprint. */
#include <openssl/crypto.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "lib/evadmin.h"
#include "lib/log.h"
#include "lib/util.h"
#include "vpn-bridge/asp.h"
#include "vpn-bridge/bridge.h"
#include "vpn-bridge/control.h"
#include "vpn-bridge/enroll.h"
#include "vpn-bridge/tls.h"
#include "vpn-bridge/userdb.h"

#define ADMIN_PW_MAX 200

/* One line from f, without its newline; with echo off when f is a terminal. */
static int
admin_read_line(FILE *f, const char *prompt, char *out, size_t size)
{
	struct termios old, quiet;
	bool tty = isatty(fileno(f)) && tcgetattr(fileno(f), &old) == 0;
	bool got;

	if (tty) {
		fputs(prompt, stderr);
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(fileno(f), TCSAFLUSH, &quiet);
	}
	got = fgets(out, (int)size, f) != NULL;
	if (tty) {
		tcsetattr(fileno(f), TCSAFLUSH, &old);
		fputc('\n', stderr);
	}
	if (!got)
		return -1;
	out[strcspn(out, "\r\n")] = '\0';
	return 0;
}

static int
admin_get_password(const struct bridge_opts *opts, char pw[ADMIN_PW_MAX])
{
	char again[ADMIN_PW_MAX];
	FILE *f = opts->file ? fopen(opts->file, "re") : stdin;
	int rc;

	if (f == NULL) {
		log_warn("%s", opts->file);
		return -1;
	}
	rc = admin_read_line(f, "new password: ", pw, ADMIN_PW_MAX);
	if (rc == 0 && isatty(fileno(f)) &&
	    (admin_read_line(f, "again: ", again, sizeof again) < 0 || strcmp(pw, again) != 0)) {
		fprintf(stderr, "the passwords differ\n");
		rc = -1;
	}
	OPENSSL_cleanse(again, sizeof again);
	if (f != stdin)
		fclose(f);
	return rc;
}

static bool
admin_password_ok(const char *pw)
{
	if (strlen(pw) < 8) {
		fprintf(stderr, "password too short (at least 8 characters)\n");
		return false;
	}
	if (str_has_prefix(pw, "token:") || strchr(pw, ':') != NULL) {
		fprintf(stderr, "a password may not contain ':' (it separates user and token)\n");
		return false;
	}
	return true;
}

/* Read-modify-write of one user under the file lock. */
static int
admin_update_user(const char *path, const char *user, const char *hash, const char *totp)
{
	struct userdb db;
	struct userdb_user *u;
	int lock = userdb_lock(path), rc = -1;

	if (lock < 0) {
		log_warn("lock %s", path);
		return -1;
	}
	if (userdb_open(&db, path) == 0) {
		u = userdb_find(&db, user);
		if (u == NULL)
			u = userdb_add(&db, user);
		if (hash)
			str_copy(u->hash, hash, sizeof u->hash);
		if (totp) {
			str_copy(u->totp, totp, sizeof u->totp);
			u->last_step = 0;
		}
		rc = userdb_save(&db);
		if (rc < 0)
			log_warn("write %s", path);
	}
	userdb_close(&db);
	userdb_unlock(lock);
	return rc;
}

/* An admin event in the site's event file, by whoever runs this tool (the kernel's uid). */
static void
admin_event(const struct bridge_conf *conf, const char *action, const char *target, const char *result)
{
	struct ev_sink *events;

	if (conf->events_file == NULL || (events = ev_sink_open(conf->events_file)) == NULL)
		return;
	ev_admin_emit(events, action, getuid(), target, result);
	ev_sink_close(events);
}

static void admin_tell_bridge(struct bridge_conf *conf, const char *user);

int
admin_passwd(struct bridge_conf *conf, const char *user, const struct bridge_opts *opts)
{
	char pw[ADMIN_PW_MAX], hash[PWHASH_MAX];
	int rc = 1;

	if (!userdb_name_ok(user)) {
		fprintf(stderr, "bad user name \"%s\" (letters, digits, . _ -)\n", user);
		return 2;
	}
	if (admin_get_password(opts, pw) == 0 && admin_password_ok(pw) &&
	    pwhash_make(pw, strlen(pw), hash) == 0 &&
	    admin_update_user(conf->users_file, user, hash, NULL) == 0) {
		printf("password set for %s\n", user);
		admin_tell_bridge(conf, user);
		rc = 0;
	}
	admin_event(conf, "password_set", user, rc == 0 ? "set" : "refused");
	OPENSSL_cleanse(pw, sizeof pw);
	return rc;
}

int
admin_enroll(struct bridge_conf *conf, const char *user, const struct bridge_opts *opts)
{
	char secret[TOTP_SECRET_B32_MAX], uri[512];
	struct stat st;
	int rc = 1;

	if (!userdb_name_ok(user)) {
		fprintf(stderr, "bad user name \"%s\"\n", user);
		return 2;
	}
	if (opts->png && lstat(opts->png, &st) == 0) {
		/* Refused before the secret changes: the old code still works. */
		fprintf(stderr, "%s exists: the QR code is written to a new file only\n", opts->png);
		return 1;
	}
	if (totp_new_secret(secret) == 0 &&
	    enroll_uri(opts->issuer, user, secret, conf->totp_digits, conf->totp_step, uri, sizeof uri) == 0 &&
	    admin_update_user(conf->users_file, user, NULL, secret) == 0) {
		/* The secret goes to this terminal only: never to the log or the events. */
		printf("TOTP enrolled for %s. Scan with an authenticator app, or enter:\n%s\n\n", user, uri);
		enroll_qr_terminal(uri, stdout);
		rc = 0;
		if (opts->png && enroll_qr_png(uri, opts->png, 8) == 0)
			printf("QR code written to %s\n", opts->png);
		else if (opts->png) {
			fprintf(stderr, "QR code not written to %s (use the code above)\n", opts->png);
			rc = 1;
		}
		admin_tell_bridge(conf, user);
	}
	admin_event(conf, "totp_enroll", user, rc == 0 ? "enrolled" : "failed");
	OPENSSL_cleanse(secret, sizeof secret);
	OPENSSL_cleanse(uri, sizeof uri);
	return rc;
}

/* Sends "VERB ARG" to the running bridge; prints its answer. 0 when it said ok. */
static int
admin_control(struct bridge_conf *conf, const char *verb, const char *arg, bool quiet)
{
	char command[256], reply[256];

	if (conf->control_socket == NULL) {
		if (!quiet)
			fprintf(stderr, "bridge.control_socket is not set\n");
		return 1;
	}
	snprintf(command, sizeof command, "%s %s\n", verb, arg);
	if (control_request(conf->control_socket, command, reply, sizeof reply) < 0) {
		if (!quiet)
			fprintf(stderr, "cannot reach the bridge at %s (is it running?)\n", conf->control_socket);
		return 1;
	}
	if (!quiet)
		fputs(reply, stdout);
	return str_has_prefix(reply, "ok") ? 0 : 1;
}

/* After a write of the user DB: the running bridge ends what the change revoked now. */
static void
admin_tell_bridge(struct bridge_conf *conf, const char *user)
{
	if (admin_control(conf, "user-changed", user, true) != 0)
		printf("(the bridge was not reached: it applies the change within a second, or at its start)\n");
}

int
admin_unlock(struct bridge_conf *conf, const char *what)
{
	return admin_control(conf, "unlock", what, false);
}

int
admin_revoke(struct bridge_conf *conf, const char *user)
{
	if (!userdb_name_ok(user)) {
		fprintf(stderr, "bad user name \"%s\"\n", user);
		return 2;
	}
	return admin_control(conf, "revoke", user, false);
}

int
admin_deluser(struct bridge_conf *conf, const char *user)
{
	struct userdb db;
	int lock, rc = 1;
	bool found = false;

	if (!userdb_name_ok(user)) {
		fprintf(stderr, "bad user name \"%s\"\n", user);
		return 2;
	}
	if ((lock = userdb_lock(conf->users_file)) < 0) {
		log_warn("lock %s", conf->users_file);
		return 1;
	}
	if (userdb_open(&db, conf->users_file) == 0) {
		found = userdb_remove(&db, user);
		rc = found && userdb_save(&db) == 0 ? 0 : 1;
	}
	userdb_close(&db);
	userdb_unlock(lock);
	if (!found)
		fprintf(stderr, "no user \"%s\" in %s\n", user, conf->users_file);
	admin_event(conf, "user_remove", user, rc == 0 ? "removed" : "refused");
	if (rc == 0) {
		printf("user %s removed\n", user);
		admin_tell_bridge(conf, user);
	}
	return rc;
}

int
admin_asp_check(struct bridge_conf *conf, const char *name)
{
	struct ev_sink *events;
	int failed;

	if (name && bconf_asp_by_name(conf, name) == NULL) {
		fprintf(stderr, "no ASP service named \"%s\"\n", name);
		return 2;
	}
	events = ev_sink_open(conf->events_file ? conf->events_file : "/dev/null");
	ev_admin_emit(events, "asp_check", getuid(), name ? name : "all services", "started");
	failed = asp_check_run(conf, name, stdout, events);
	ev_sink_close(events);
	if (failed < 0)
		return 2;
	printf("%d failed; results in %s\n", failed, conf->asp_state_file ? conf->asp_state_file : "(none)");
	return failed ? 1 : 0;
}

int
admin_fingerprint(const char *cert_path)
{
	FILE *f = fopen(cert_path, "re");
	X509 *cert = f ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
	char fp[BRIDGE_FP_HEX];

	if (f)
		fclose(f);
	if (cert == NULL) {
		fprintf(stderr, "%s: not a PEM certificate\n", cert_path);
		return 1;
	}
	tls_cert_fingerprint(cert, fp);
	X509_free(cert);
	printf("%s\n", fp);
	return 0;
}
