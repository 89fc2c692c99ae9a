/* config.h -- the bridge's settings (groups `bridge` and `asp` of the site file), parsed once. */
#ifndef TIERGATE_BRIDGE_CONFIG_H
#define TIERGATE_BRIDGE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/addr.h"
#include "lib/conf.h"

#define BRIDGE_NAME_MAX 64      /* user, group, device label, ASP name */
#define BRIDGE_FP_HEX 65        /* SHA-256 fingerprint as lower-case hex + NUL */

/* A destination a grant opens: a network and a port range, or a named ASP service. */
struct bconf_dest {
	bool is_asp;
	char *asp_name;           /* when is_asp */
	struct prefix net;
	uint16_t port_lo, port_hi;
};

/* "who may reach what": members are user names or "@group". */
struct bconf_grant {
	char *name;
	char **who;
	size_t n_who;
	struct bconf_dest *dests;
	size_t n_dests;
	unsigned protocols;       /* screenproto bits checked inside the tunnel; 0: none (not telework) */
};

struct bconf_group {
	char *name;
	char **members;
	size_t n_members;
};

struct bconf_asp {
	char *name, *vendor;
	char *host;               /* DNS name the certificate must carry; what clients CONNECT to */
	char *address;            /* where to connect (IP literal); defaults to host */
	uint16_t port;
	char *ca_file;            /* the CA the service's chain must lead to */
	char *crl_file;           /* optional: the CA's CRL; the leaf must not be revoked */
	char *pin_sha256;         /* optional: expected leaf certificate fingerprint */
	char **who;               /* users / @groups allowed (empty: grants decide) */
	size_t n_who;
};

struct bconf_cert {
	char *cert_file, *key_file;
};

struct bridge_conf {
	char *path;               /* the site file */
	bool has_zones;           /* the file defines zones: the zone model must load */
	/* listener and TLS */
	char *listen_host;
	uint16_t listen_port;
	struct bconf_cert certs[4];
	size_t n_certs;
	char *ca_file, *crl_file;
	int tls_min, tls_max;     /* TLS1_2_VERSION / TLS1_3_VERSION */
	char *ciphers, *ciphersuites;
	/* files and processes */
	char *devices_file, *users_file, *events_file, *control_socket, *run_user;
	unsigned workers;
	bool key_process;         /* TLS keys in their own process (default) */
	bool cpu_affinity;        /* relay i and its key process share one CPU (default) */
	bool relay_landlock_best_effort;   /* relay_landlock = "best-effort": a relay without Landlock runs (logged) */
	/* authentication */
	bool require_device;
	bool crl_expired_warn;    /* crl_expired = "warn": a CRL past nextUpdate lets devices in (logged) */
	unsigned totp_window, totp_digits, totp_step;
	unsigned lockout_threshold, lockout_source_threshold, lockout_base, lockout_max;
	unsigned token_lifetime;
	/* sessions */
	unsigned handshake_timeout, request_timeout, connect_timeout;
	unsigned idle_timeout, max_session;
	unsigned max_sessions_per_user, max_half_open, max_conns_per_source, max_conns;
	unsigned max_half_open_per_source, half_open_reserve;
	struct bconf_group *groups;
	size_t n_groups;
	struct bconf_grant *grants;
	size_t n_grants;
	/* ASP registry and checks */
	struct bconf_asp *asps;
	size_t n_asps;
	char *asp_state_file;
	unsigned asp_check_interval, asp_warn_days, asp_timeout, asp_max_age;
	bool asp_allow_cbc;       /* accept non-AEAD ciphers with forward secrecy (default: no) */
	char **asp_forbidden_ciphers;
	size_t n_asp_forbidden;
};

/* Loads path's `bridge` and `asp` groups. Returns NULL when diags has errors. */
struct bridge_conf *bconf_load(const char *path, struct diags *diags);
void bconf_free(struct bridge_conf *conf);

const struct bconf_asp *bconf_asp_by_name(const struct bridge_conf *conf, const char *name);
/* The ASP service a CONNECT host:port names (by host or address), or NULL. */
const struct bconf_asp *bconf_asp_by_target(const struct bridge_conf *conf, const char *host,
    uint16_t port);
/* True when user is named in who[] directly or through "@group". */
bool bconf_user_in(const struct bridge_conf *conf, const char *user, char *const *who, size_t n_who);
/* Parses "10.20.1.0/24:3389", "10.20.1.5:3389-3390", "[fd00::1]:22" or "asp:NAME". */
int bconf_dest_parse(const char *text, struct bconf_dest *out, const char **why);

#endif
