/* relay_landlock.h -- the relay's Landlock domain: which files it may still read and which TCP ports it may bind and connect to. */
#ifndef TIERGATE_BRIDGE_RELAY_LANDLOCK_H
#define TIERGATE_BRIDGE_RELAY_LANDLOCK_H

#include "lib/event.h"
#include "vpn-bridge/config.h"

enum relay_landlock_result {
	RELAY_LANDLOCK_APPLIED = 0,
	RELAY_LANDLOCK_UNAVAILABLE = -1,   /* the kernel has no Landlock (ENOSYS) or it is off (EOPNOTSUPP) */
	RELAY_LANDLOCK_FAILED = -2,        /* available, but the ruleset could not be built or applied */
};

/*
 * Restricts the calling relay for good (it must already have no_new_privs). Every
 * filesystem right the kernel's Landlock ABI knows is handled; only reading files is
 * allowed, and only beneath the directories of the files the relay re-reads while it
 * runs: asp.state_file, and with bridge.crl the CRL and bridge.ca (a new CRL rebuilds
 * the verify store). A directory, not the file: the file is replaced by a rename.
 * With ABI >= 4, TCP bind only to the listen port and TCP connect only to the ports the
 * grants, the ASP services and a "tcp:" syslog collector name. With ABI >= 6, abstract
 * UNIX sockets and signals are scoped to the relay. What was done goes into jb (an
 * event being written) as fields.
 */
enum relay_landlock_result relay_landlock_enter(const struct bridge_conf *conf, struct jbuf *jb);

#endif
