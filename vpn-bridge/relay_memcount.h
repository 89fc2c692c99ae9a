/* relay_memcount.h -- test build only: live allocations of OpenSSL and libevent, for tests and the bench. */
#ifndef TIERGATE_BRIDGE_RELAY_MEMCOUNT_H
#define TIERGATE_BRIDGE_RELAY_MEMCOUNT_H

#include <stddef.h>

/*
 * "openssl_bytes=N openssl_record_buffers=N libevent_bytes=N libevent_chains=N heap_bytes=N"
 * (usable bytes of live allocations; record buffers: OpenSSL allocations of 16 KB or more;
 * chains: libevent allocations of 4 KB or more; heap: glibc's bytes in use), or
 * "memcount=off" when the hooks could not be installed.
 */
void relay_memcount_format(char *out, size_t len);

#endif
