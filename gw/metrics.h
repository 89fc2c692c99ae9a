/* metrics.h -- the Prometheus endpoint: a tiny HTTP/1.0 server answering GET /metrics on a local address. */
#ifndef TIERGATE_GW_METRICS_H
#define TIERGATE_GW_METRICS_H

#include <stddef.h>
#include <stdio.h>

typedef void (*metrics_fn)(FILE *out, void *arg);

/* Listens on "ADDR:PORT" or "[V6ADDR]:PORT". Returns the fd, or -1 with why. */
int metrics_listen(const char *listen_addr, char *why, size_t why_size);
/* Accepts one connection and answers it: /metrics from fn, 404 otherwise. */
void metrics_serve_one(int fd, metrics_fn fn, void *arg);

#endif
