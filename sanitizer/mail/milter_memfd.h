/* milter_memfd.h -- reading a whole memfd (message, result, report, envelope) that another process wrote. */
#ifndef TIERGATE_MILTER_MEMFD_H
#define TIERGATE_MILTER_MEMFD_H

#include <stddef.h>

/* All of fd from offset 0, NUL-terminated (*data malloc'd, *len without the NUL). 0 or -1. */
int milter_memfd_read(int fd, char **data, size_t *len);

#endif
