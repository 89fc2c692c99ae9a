/* relay_landlock.c -- the relay's Landlock ruleset: read-only access to the directories of the files it re-reads, TCP only to the ports its settings name. */
#include "vpn-bridge/relay_landlock.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/landlock.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "lib/evforward.h"
#include "lib/log.h"
#include "lib/util.h"

/*
 * Debian 12's kernel headers stop at ABI 2; the kernel this runs on may know more.
 * The values are the kernel's UAPI (include/uapi/linux/landlock.h) and never change.
 */
#define RELAY_LL_FS_REFER (1ULL << 13)        /* ABI 2 */
#define RELAY_LL_FS_TRUNCATE (1ULL << 14)     /* ABI 3 */
#define RELAY_LL_FS_IOCTL_DEV (1ULL << 15)    /* ABI 5 */
#define RELAY_LL_NET_BIND_TCP (1ULL << 0)     /* ABI 4 */
#define RELAY_LL_NET_CONNECT_TCP (1ULL << 1)  /* ABI 4 */
#define RELAY_LL_SCOPE_ABSTRACT_UNIX (1ULL << 0)   /* ABI 6 */
#define RELAY_LL_SCOPE_SIGNAL (1ULL << 1)          /* ABI 6 */
#define RELAY_LL_RULE_PATH_BENEATH 1
#define RELAY_LL_RULE_NET_PORT 2
#define RELAY_LL_ABI_KNOWN 7                  /* the newest ABI this file was written for */
/* More distinct ports than this and connect is left to the relay's own grant check. */
#define RELAY_LL_MAX_CONNECT_PORTS 4096
#define RELAY_LL_EVENT_PORTS 32               /* ports listed in the event; the count is always there */

struct relay_landlock_ruleset_attr {   /* the kernel takes the prefix its ABI knows, the rest must be 0 */
	uint64_t handled_access_fs;
	uint64_t handled_access_net;
	uint64_t scoped;
};

struct relay_landlock_path_beneath {
	uint64_t allowed_access;
	int32_t parent_fd;
} __attribute__((packed));

struct relay_landlock_net_port {
	uint64_t allowed_access;
	uint64_t port;
};

struct relay_landlock_state {
	int abi, fd;
	uint8_t ports[65536 / 8];       /* connect ports, one bit each */
	unsigned n_ports;
};

static int
relay_landlock_create(const struct relay_landlock_ruleset_attr *attr, size_t size, uint32_t flags)
{
	return (int)syscall(SYS_landlock_create_ruleset, attr, size, flags);
}

static int
relay_landlock_add(int fd, int type, const void *rule)
{
	return (int)syscall(SYS_landlock_add_rule, fd, type, rule, 0);
}

/* Every filesystem right the kernel's ABI knows: handled and not allowed means denied. */
static uint64_t
relay_landlock_fs_rights(int abi)
{
	uint64_t fs = (1ULL << 13) - 1;   /* ABI 1: execute ... make_sym */

	if (abi >= 2)
		fs |= RELAY_LL_FS_REFER;
	if (abi >= 3)
		fs |= RELAY_LL_FS_TRUNCATE;
	if (abi >= 5)
		fs |= RELAY_LL_FS_IOCTL_DEV;
	return fs;
}

/* Read access beneath the directory of path (once per directory). */
static void
relay_landlock_allow_dir_of(struct relay_landlock_state *ll, const char *path, char (*done)[4096], size_t *n_done,
    struct jbuf *jb)
{
	char dir[4096];
	const char *slash;
	struct relay_landlock_path_beneath rule = { .allowed_access = LANDLOCK_ACCESS_FS_READ_FILE };
	size_t len;

	if (path == NULL)
		return;
	slash = strrchr(path, '/');
	len = slash == NULL ? 1 : slash == path ? 1 : (size_t)(slash - path);
	if (len >= sizeof dir)
		return;
	memcpy(dir, slash == NULL ? "." : path, len);
	dir[len] = '\0';
	for (size_t i = 0; i < *n_done; i++)
		if (strcmp(done[i], dir) == 0)
			return;
	rule.parent_fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rule.parent_fd < 0 || relay_landlock_add(ll->fd, RELAY_LL_RULE_PATH_BENEATH, &rule) < 0) {
		log_warn("relay: landlock: no read access to %s (what the relay reads there will fail)", dir);
	} else {
		str_copy(done[*n_done], dir, sizeof done[0]);
		(*n_done)++;
		jb_strn(jb, NULL, dir, len);   /* an element of "fs_read" */
	}
	if (rule.parent_fd >= 0)
		close(rule.parent_fd);
}

static void
relay_landlock_add_fs(struct relay_landlock_state *ll, const struct bridge_conf *conf, struct jbuf *jb)
{
	char done[3][4096];
	size_t n_done = 0;

	jb_arr_begin(jb, "fs_read");
	relay_landlock_allow_dir_of(ll, conf->asp_state_file, done, &n_done, jb);
	if (conf->crl_file != NULL) {
		relay_landlock_allow_dir_of(ll, conf->crl_file, done, &n_done, jb);
		relay_landlock_allow_dir_of(ll, conf->ca_file, done, &n_done, jb);
	}
	jb_arr_end(jb);
}

static void
relay_landlock_port(struct relay_landlock_state *ll, unsigned port)
{
	if (port == 0 || port > 65535 || (ll->ports[port / 8] & (1u << (port % 8))))
		return;
	ll->ports[port / 8] |= (uint8_t)(1u << (port % 8));
	ll->n_ports++;
}

/* The ports a relay may connect to: its grants' ranges, the ASP services, a TCP syslog collector. */
static void
relay_landlock_collect_ports(struct relay_landlock_state *ll, const struct bridge_conf *conf)
{
	for (size_t g = 0; g < conf->n_grants; g++)
		for (size_t i = 0; i < conf->grants[g].n_dests; i++) {
			const struct bconf_dest *d = &conf->grants[g].dests[i];
			if (d->is_asp)
				continue;
			for (unsigned p = d->port_lo; p <= d->port_hi && ll->n_ports <= RELAY_LL_MAX_CONNECT_PORTS; p++)
				relay_landlock_port(ll, p);
		}
	for (size_t i = 0; i < conf->n_asps; i++)
		relay_landlock_port(ll, conf->asps[i].port);
	relay_landlock_port(ll, ev_forward_tcp_port(ev_forward_global()));
}

static int
relay_landlock_add_net(struct relay_landlock_state *ll, const struct bridge_conf *conf, bool connect_handled,
    struct jbuf *jb)
{
	struct relay_landlock_net_port rule = { .allowed_access = RELAY_LL_NET_BIND_TCP, .port = conf->listen_port };
	unsigned listed = 0;

	if (relay_landlock_add(ll->fd, RELAY_LL_RULE_NET_PORT, &rule) < 0)
		return -1;
	jb_arr_begin(jb, "tcp_bind");
	jb_uint(jb, NULL, conf->listen_port);
	jb_arr_end(jb);
	if (!connect_handled) {
		jb_str(jb, "tcp_connect", "not restricted: the grants name more than 4096 ports");
		return 0;
	}
	jb_uint(jb, "tcp_connect_ports", ll->n_ports);
	jb_arr_begin(jb, "tcp_connect");
	rule.allowed_access = RELAY_LL_NET_CONNECT_TCP;
	for (unsigned p = 1; p < 65536; p++) {
		if (!(ll->ports[p / 8] & (1u << (p % 8))))
			continue;
		rule.port = p;
		if (relay_landlock_add(ll->fd, RELAY_LL_RULE_NET_PORT, &rule) < 0)
			return -1;
		if (listed++ < RELAY_LL_EVENT_PORTS)
			jb_uint(jb, NULL, p);
	}
	jb_arr_end(jb);
	return 0;
}

/* The ruleset for this ABI; fields of the event as it goes. Returns its fd, or -1. */
static int
relay_landlock_ruleset(struct relay_landlock_state *ll, const struct bridge_conf *conf, struct jbuf *jb)
{
	struct relay_landlock_ruleset_attr attr = { .handled_access_fs = relay_landlock_fs_rights(ll->abi) };
	bool connect_handled = false;

	if (ll->abi >= 4) {
		relay_landlock_collect_ports(ll, conf);
		connect_handled = ll->n_ports <= RELAY_LL_MAX_CONNECT_PORTS;
		attr.handled_access_net = RELAY_LL_NET_BIND_TCP | (connect_handled ? RELAY_LL_NET_CONNECT_TCP : 0);
	}
	if (ll->abi >= 6)
		attr.scoped = RELAY_LL_SCOPE_ABSTRACT_UNIX | RELAY_LL_SCOPE_SIGNAL;
	ll->fd = relay_landlock_create(&attr, sizeof attr, 0);
	if (ll->fd < 0)
		return -1;
	jb_uint(jb, "fs_rights_handled", (uint64_t)__builtin_popcountll(attr.handled_access_fs));
	relay_landlock_add_fs(ll, conf, jb);
	if (ll->abi >= 4 && relay_landlock_add_net(ll, conf, connect_handled, jb) < 0)
		return -1;
	if (ll->abi < 4)
		jb_str(jb, "tcp_connect", "not restricted: Landlock ABI below 4");
	jb_bool(jb, "scoped", ll->abi >= 6);
	return ll->fd;
}

enum relay_landlock_result
relay_landlock_enter(const struct bridge_conf *conf, struct jbuf *jb)
{
	struct relay_landlock_state *ll = calloc(1, sizeof *ll);
	enum relay_landlock_result rc = RELAY_LANDLOCK_FAILED;

	if (ll == NULL)
		return RELAY_LANDLOCK_FAILED;
	ll->fd = -1;
	ll->abi = relay_landlock_create(NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
	if (ll->abi < 0) {
		int err = errno;
		rc = err == ENOSYS || err == EOPNOTSUPP ? RELAY_LANDLOCK_UNAVAILABLE : RELAY_LANDLOCK_FAILED;
		jb_str(jb, "landlock", rc == RELAY_LANDLOCK_UNAVAILABLE ? "unavailable" : "failed");
		jb_str(jb, "landlock_error", strerror(err));
		free(ll);
		return rc;
	}
	jb_uint(jb, "landlock_abi", (uint64_t)ll->abi);
	if (ll->abi > RELAY_LL_ABI_KNOWN)
		log_info("relay: the kernel's Landlock ABI %d is newer than %d: rights added since are not handled",
		    ll->abi, RELAY_LL_ABI_KNOWN);
	if (relay_landlock_ruleset(ll, conf, jb) >= 0 && syscall(SYS_landlock_restrict_self, ll->fd, 0) == 0)
		rc = RELAY_LANDLOCK_APPLIED;
	else
		log_warn("relay: landlock ruleset (ABI %d) not applied", ll->abi);
	jb_str(jb, "landlock", rc == RELAY_LANDLOCK_APPLIED ? "applied" : "failed");
	if (ll->fd >= 0)
		close(ll->fd);
	free(ll);
	return rc;
}
