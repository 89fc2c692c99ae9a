/* relay_memcount.c -- test build only: counts what OpenSSL and libevent hold (live bytes, record-sized buffers), so tests and the bench can see where an idle session's memory goes. */
#include "vpn-bridge/relay_memcount.h"

#include <event2/event.h>
#include <malloc.h>
#include <openssl/crypto.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

/*
 * Installed before main() (a constructor): OpenSSL and libevent take allocator hooks only
 * before their first allocation. Sizes come from malloc_usable_size, so a free needs no
 * header. One thread per process: plain counters.
 */
struct memcount {
	long live_bytes;   /* usable bytes of the live allocations */
	long large;        /* live allocations of at least large_min bytes */
	size_t large_min;
};

/* A TLS record buffer is 16 KB of plaintext plus its overhead; an SSL object is 7.5 KB. */
static struct memcount memcount_ssl = { 0, 0, 16384 };
/* An evbuffer chain with room for a read (libevent reserves 4 KB, an 8 KB chain); a bufferevent is < 1 KB. */
static struct memcount memcount_ev = { 0, 0, 4096 };
static bool memcount_ssl_on, memcount_ev_on;

static void
memcount_add(struct memcount *mc, void *p, int sign)
{
	size_t n = p ? malloc_usable_size(p) : 0;

	mc->live_bytes += sign * (long)n;
	if (n >= mc->large_min)
		mc->large += sign;
}

static void *
memcount_alloc(struct memcount *mc, size_t n)
{
	void *p = malloc(n);

	memcount_add(mc, p, 1);
	return p;
}

static void *
memcount_realloc(struct memcount *mc, void *p, size_t n)
{
	void *q;

	if (n == 0) {
		memcount_add(mc, p, -1);
		free(p);
		return NULL;
	}
	memcount_add(mc, p, -1);
	q = realloc(p, n);
	memcount_add(mc, q ? q : p, 1);   /* a failed realloc leaves p as it was */
	return q;
}

static void
memcount_free(struct memcount *mc, void *p)
{
	memcount_add(mc, p, -1);
	free(p);
}

/* OpenSSL's hooks (with the caller's file and line, unused). */
static void *
memcount_ssl_malloc(size_t n, const char *file, int line)
{
	(void)file;
	(void)line;
	return memcount_alloc(&memcount_ssl, n);
}

static void *
memcount_ssl_realloc(void *p, size_t n, const char *file, int line)
{
	(void)file;
	(void)line;
	return memcount_realloc(&memcount_ssl, p, n);
}

static void
memcount_ssl_free(void *p, const char *file, int line)
{
	(void)file;
	(void)line;
	memcount_free(&memcount_ssl, p);
}

/* libevent's hooks. */
static void *
memcount_ev_malloc(size_t n)
{
	return memcount_alloc(&memcount_ev, n);
}

static void *
memcount_ev_realloc(void *p, size_t n)
{
	return memcount_realloc(&memcount_ev, p, n);
}

static void
memcount_ev_free(void *p)
{
	memcount_free(&memcount_ev, p);
}

__attribute__((constructor)) static void
memcount_install(void)
{
	memcount_ssl_on = CRYPTO_set_mem_functions(memcount_ssl_malloc, memcount_ssl_realloc,
	    memcount_ssl_free) == 1;
	event_set_mem_functions(memcount_ev_malloc, memcount_ev_realloc, memcount_ev_free);
	memcount_ev_on = true;
}

void
relay_memcount_format(char *out, size_t len)
{
	struct mallinfo2 mi = mallinfo2();

	if (!memcount_ssl_on || !memcount_ev_on) {
		snprintf(out, len, "memcount=off");
		return;
	}
	snprintf(out, len, "openssl_bytes=%ld openssl_record_buffers=%ld libevent_bytes=%ld "
	    "libevent_chains=%ld heap_bytes=%zu", memcount_ssl.live_bytes, memcount_ssl.large,
	    memcount_ev.live_bytes, memcount_ev.large, mi.uordblks);
}
