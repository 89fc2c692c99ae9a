/* ndpi_glue.c -- every nDPI call of tiergate (API of nDPI 4.2; later versions change signatures). */
#include <malloc.h>
#include <ndpi/ndpi_api.h>
#include <pthread.h>
#include <string.h>

#include "gw/ndpi_glue.h"
#include "lib/log.h"

struct dpi {
	struct ndpi_detection_module_struct *mod;
};

/*
 * nDPI allocates inside its flow state (TLS reassembly buffers, names...), so
 * the 688-byte struct is not the whole cost of a flow. Its allocator hooks
 * count every byte by the thread that allocates it; an engine, which owns its
 * thread, reads the change since its first packet. malloc_usable_size needs
 * no header, so a block nDPI frees with plain free() cannot crash anything
 * (the count would only err high).
 */
static __thread int64_t dpi_heap_in_use;

static void *
dpi_malloc_hook(size_t size)
{
	void *p = malloc(size);

	if (p)
		dpi_heap_in_use += (int64_t)malloc_usable_size(p);
	return p;
}

static void
dpi_free_hook(void *p)
{
	if (p)
		dpi_heap_in_use -= (int64_t)malloc_usable_size(p);
	free(p);
}

static void
dpi_install_hooks(void)
{
	set_ndpi_malloc(dpi_malloc_hook);
	set_ndpi_free(dpi_free_hook);
}

int64_t
dpi_heap_bytes(void)
{
	return dpi_heap_in_use;
}

struct dpi *
dpi_new(void)
{
	static pthread_once_t hooks_once = PTHREAD_ONCE_INIT;
	struct dpi *m = calloc(1, sizeof *m);
	NDPI_PROTOCOL_BITMASK all;

	if (m == NULL)
		return NULL;
	pthread_once(&hooks_once, dpi_install_hooks);
	m->mod = ndpi_init_detection_module(ndpi_no_prefs);
	if (m->mod == NULL) {
		free(m);
		return NULL;
	}
	NDPI_BITMASK_SET_ALL(all);
	ndpi_set_protocol_detection_bitmask2(m->mod, &all);
	ndpi_finalize_initialization(m->mod);
	return m;
}

void
dpi_free(struct dpi *m)
{
	if (m == NULL)
		return;
	ndpi_exit_detection_module(m->mod);
	free(m);
}

size_t
dpi_flow_size(void)
{
	return ndpi_detection_get_sizeof_ndpi_flow_struct();
}

struct dpi_flow *
dpi_flow_new(void)
{
	size_t size = dpi_flow_size();
	void *f = ndpi_flow_malloc(size);

	if (f)
		memset(f, 0, size);
	return f;
}

void
dpi_flow_free(struct dpi_flow *f)
{
	if (f)
		ndpi_free_flow((struct ndpi_flow_struct *)f);
}

/* The carrying protocol: "TLS" for TLS.Google, "DNS" for DNS.Google. */
static uint16_t
dpi_carrier(ndpi_protocol p)
{
	return p.master_protocol != NDPI_PROTOCOL_UNKNOWN ? p.master_protocol : p.app_protocol;
}

bool
dpi_process(struct dpi *m, struct dpi_flow *f, const uint8_t *l3, size_t len, uint64_t ts_us,
    uint16_t *app)
{
	ndpi_protocol p;

	if (len > 0xffff)
		len = 0xffff;
	p = ndpi_detection_process_packet(m->mod, (struct ndpi_flow_struct *)f, l3,
	    (unsigned short)len, ts_us / 1000);
	*app = dpi_carrier(p);
	return *app != NDPI_PROTOCOL_UNKNOWN;
}

uint16_t
dpi_giveup(struct dpi *m, struct dpi_flow *f)
{
	u_int8_t guessed = 0;
	ndpi_protocol p = ndpi_detection_giveup(m->mod, (struct ndpi_flow_struct *)f, 0, &guessed);

	return guessed ? DPI_APP_UNKNOWN : dpi_carrier(p);
}

const char *
dpi_app_name(struct dpi *m, uint16_t app)
{
	const char *name = ndpi_get_proto_name(m->mod, app);

	return name ? name : "Unknown";
}

bool
dpi_app_is_tls(uint16_t app)
{
	return app == NDPI_PROTOCOL_TLS || app == NDPI_PROTOCOL_QUIC;
}

enum dpi_name
dpi_server_name(struct dpi_flow *f, uint16_t app, char *buf, size_t size)
{
	struct ndpi_flow_struct *nf = (struct ndpi_flow_struct *)f;
	size_t n = strnlen(nf->host_server_name, sizeof nf->host_server_name);

	buf[0] = '\0';
	/* protos is a union: its TLS part means something only for TLS and QUIC flows */
	if (dpi_app_is_tls(app) && nf->protos.tls_quic.encrypted_sni.esni != NULL)
		return DPI_NAME_ESNI;
	if (n == 0 || size == 0)
		return DPI_NAME_NONE;
	if (n >= size)
		n = size - 1;
	memcpy(buf, nf->host_server_name, n);
	buf[n] = '\0';
	return DPI_NAME_KNOWN;
}
