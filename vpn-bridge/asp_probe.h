/* asp_probe.h -- the LGWAN-ASP connection check of one TLS endpoint, criterion by criterion. */
#ifndef TIERGATE_BRIDGE_ASP_PROBE_H
#define TIERGATE_BRIDGE_ASP_PROBE_H

#include <openssl/ssl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* What is checked and against what. Everything but address and port is optional. */
struct asp_target {
	const char *address;        /* name or address to connect to */
	uint16_t port;
	const char *servername;     /* SNI, and the name the certificate must carry */
	const char *ca_file;        /* NULL: the system's trust store */
	const char *crl_file;       /* NULL: revocation is not checked */
	const char *pin_sha256;     /* NULL: no pin */
	unsigned timeout;           /* seconds per connection */
	unsigned min_days;          /* the certificate must be valid this many days more */
	bool allow_cbc;             /* false: every accepted cipher must be AEAD */
	char *const *forbidden;     /* the site's own list of cipher names, exact */
	size_t n_forbidden;
};

struct asp_criterion {
	char name[16];              /* connect, tls-versions, cipher, handshake, chain, ... */
	char subject[64];           /* the cipher judged, "" for the others */
	bool passed;
	char detail[200];           /* why, in words an ASP vendor can act on */
};

#define ASP_MAX_CRITERIA 80

struct asp_report {
	struct asp_criterion c[ASP_MAX_CRITERIA];
	size_t n;
	char tls_version[16];       /* of the ordinary handshake, "" when it failed */
	char cipher[64];
	long days_left;             /* leaf certificate, -1 when unknown */
};

/* Runs every check against t; the report lists each criterion in order. */
void asp_probe_run(const struct asp_target *t, struct asp_report *r);
bool asp_report_passed(const struct asp_report *r);
const struct asp_criterion *asp_report_first_failure(const struct asp_report *r);

/* A cipher's properties, as OpenSSL's cipher API gives them. */
struct asp_cipher_props {
	bool aead;
	int kx_nid;                 /* NID_kx_ecdhe, NID_kx_rsa, NID_kx_any (TLS 1.3), ... */
	int auth_nid;               /* NID_auth_null for anonymous suites */
	int bits;                   /* symmetric key bits actually used */
};

void asp_cipher_props_of(const SSL_CIPHER *cipher, struct asp_cipher_props *p);
/* True when acceptable; otherwise why lists every property that fails, "; " between. */
bool asp_cipher_judge(const struct asp_cipher_props *p, bool allow_cbc, char *why, size_t size);

/* The report as a table, as JSON (one object, no newline) or as a JUnit file. */
void asp_report_print(FILE *out, const struct asp_target *t, const struct asp_report *r);
char *asp_report_json(const struct asp_target *t, const struct asp_report *r);
int asp_report_junit(const char *path, const struct asp_target *t, const struct asp_report *r);

#endif
