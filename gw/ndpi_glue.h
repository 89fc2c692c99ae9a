/* ndpi_glue.h -- the only door to nDPI: its signatures change between versions (see PLATFORM.md). */
#ifndef TIERGATE_GW_NDPI_GLUE_H
#define TIERGATE_GW_NDPI_GLUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DPI_APP_UNKNOWN 0        /* NDPI_PROTOCOL_UNKNOWN: its name is "Unknown" */

struct dpi;                      /* one nDPI detection module: one per thread */
struct dpi_flow;                 /* nDPI's per-flow state (allocated only for flows with payload) */

struct dpi *dpi_new(void);
void dpi_free(struct dpi *m);
size_t dpi_flow_size(void);      /* bytes of one flow state, for memory accounting */
struct dpi_flow *dpi_flow_new(void);
void dpi_flow_free(struct dpi_flow *f);

/*
 * Feeds one packet (from its IP header). Returns true when the application
 * is known, with its id in *app: the protocol that carries the data (TLS,
 * HTTP, DNS, SSH...) rather than the service behind it (Google...), because
 * that is what the policy's app names mean.
 */
bool dpi_process(struct dpi *m, struct dpi_flow *f, const uint8_t *l3, size_t len,
    uint64_t ts_us, uint16_t *app);
/*
 * Classification ends without an answer: returns what nDPI saw, never a guess
 * by port (an unclassified flow on 443 is not TLS), so often DPI_APP_UNKNOWN.
 */
uint16_t dpi_giveup(struct dpi *m, struct dpi_flow *f);
const char *dpi_app_name(struct dpi *m, uint16_t app);

enum dpi_name { DPI_NAME_NONE, DPI_NAME_KNOWN, DPI_NAME_ESNI };
/*
 * The server name nDPI read (TLS/QUIC SNI, HTTP Host, DNS question) into buf
 * (at most 79 bytes: nDPI cuts longer names); DPI_NAME_ESNI when the
 * ClientHello carried an encrypted SNI.
 */
enum dpi_name dpi_server_name(struct dpi_flow *f, uint16_t app, char *buf, size_t size);
/* The application is TLS or QUIC (a ClientHello carries its name). */
bool dpi_app_is_tls(uint16_t app);
/* Bytes nDPI holds that the calling thread allocated (all modules and flow states). */
int64_t dpi_heap_bytes(void);

#endif
