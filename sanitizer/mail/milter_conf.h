/* milter_conf.h -- the `milter` group of the site file: what tiergate-milter sanitizes and how. */
#ifndef TIERGATE_MILTER_CONF_H
#define TIERGATE_MILTER_CONF_H

#include <libconfig.h>
#include <stdbool.h>
#include <stddef.h>

#include "lib/conf.h"
#include "sanitizer/mail/mail.h"

struct milter_config {
	char *listen;                /* libmilter socket, loopback inet ("inet:10025@127.0.0.1") */
	/* which mail: all of it, or by recipient domain, or by the Postfix listener */
	bool sanitize_all;
	char **recipient_domains;    /* a recipient in one of these (or a subdomain) */
	size_t n_recipient_domains;
	char **daemon_names;         /* Postfix {daemon_name} of the internet-facing smtpd */
	size_t n_daemon_names;
	size_t max_message_bytes;    /* bigger: refused with 552 (Postfix message_size_limit should be lower) */
	size_t spill_bytes;          /* beyond this a message in flight moves to a temp file */
	char *spool_dir;             /* where spilled messages go ("/var/spool/tiergate/milter") */
	unsigned timeout;            /* seconds for one message's rebuild; past it: tempfail */
	unsigned max_workers;        /* messages rebuilt at once; more wait (4) */
	unsigned parser_uid_base;    /* the MIME parser of slot N runs as uid/gid base+N (61000; 0: off) */
	char *events;                /* JSON events ("-" stdout, NULL: the sanitizer's) */
	struct mail_config mail;     /* depth, parts, notice language */
};

void milter_config_defaults(struct milter_config *mc);
/* Reads the "milter" group of root (missing: defaults). Returns -1 on an error diagnostic. */
int milter_config_load(struct milter_config *mc, const config_setting_t *root, struct diags *d);
void milter_config_free(struct milter_config *mc);
/* Loads FILE's sanitizer and milter groups; prints diagnostics; -1 on errors. */
int milter_config_read(const char *path, struct san_config *sc, struct milter_config *mc);

#endif
