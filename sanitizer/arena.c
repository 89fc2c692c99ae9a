/* arena.c -- the pixel memfd: the worker renders pages into it and seals it; the parent checks the seals before mapping. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/util.h"
#include "sanitizer/internal.h"

#define ARENA_SEALS (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL)

struct arena {
	pthread_mutex_t lock;   /* render threads allocate pages concurrently */
	int fd;                 /* -1 until the first page */
	uint64_t size, max;
};

struct arena *
arena_new(uint64_t max_bytes)
{
	struct arena *a = xcalloc(1, sizeof *a);

	pthread_mutex_init(&a->lock, NULL);
	a->fd = -1;
	a->max = max_bytes;
	return a;
}

static uint64_t
arena_round(uint64_t n)
{
	uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);

	return (n + page - 1) / page * page;
}

int
arena_alloc(struct arena *a, size_t len, uint64_t *offset, uint8_t **map)
{
	uint64_t at, grown;
	int rc = -1;

	pthread_mutex_lock(&a->lock);
	at = a->size;
	grown = arena_round(at + len);
	if (len == 0 || grown > a->max || grown < at)
		goto out;
	if (a->fd < 0)
		a->fd = memfd_create("tiergate-pixels", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (a->fd < 0 || ftruncate(a->fd, (off_t)grown) < 0)
		goto out;
	a->size = grown;
	rc = 0;
out:
	pthread_mutex_unlock(&a->lock);
	if (rc < 0)
		return -1;
	*map = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, a->fd, (off_t)at);   /* one call, not a fault per 4 KB */
	if (*map == MAP_FAILED)
		return -1;
	*offset = at;
	return 0;
}

void
arena_unmap(uint8_t *map, size_t len)
{
	if (map && len)
		munmap(map, len);
}

int
arena_seal(struct arena *a)
{
	if (a == NULL || a->fd < 0)
		return -1;
	return fcntl(a->fd, F_ADD_SEALS, ARENA_SEALS) == 0 ? a->fd : -1;
}

void
arena_free(struct arena *a)
{
	if (a == NULL)
		return;
	if (a->fd >= 0)
		close(a->fd);
	pthread_mutex_destroy(&a->lock);
	free(a);
}

/*
 * A descriptor from a worker is as hostile as the worker: only a memfd that
 * can no longer change (all four seals) and whose size is within the bound
 * is mapped, read-only. A writable or growable one could change under the
 * encoder; a pipe or a file would not be pixels at all.
 */
int
arena_map_received(int fd, uint64_t max_bytes, const uint8_t **map, size_t *len, char *why, size_t why_size)
{
	struct stat st;
	int seals = fcntl(fd, F_GET_SEALS);
	void *m;

	if (seals < 0) {
		snprintf(why, why_size, "pixel descriptor is not a sealable memfd");
		return -1;
	}
	if ((seals & ARENA_SEALS) != ARENA_SEALS) {
		snprintf(why, why_size, "pixel memfd not sealed (seals 0x%x)", (unsigned)seals);
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size <= 0) {
		snprintf(why, why_size, "pixel memfd empty or not a memory file");
		return -1;
	}
	if ((uint64_t)st.st_size > max_bytes) {
		snprintf(why, why_size, "pixel memfd of %lld bytes over the limit of %llu",
		    (long long)st.st_size, (unsigned long long)max_bytes);
		return -1;
	}
	m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED | MAP_POPULATE, fd, 0);
	if (m == MAP_FAILED) {
		snprintf(why, why_size, "pixel memfd cannot be mapped: %s", strerror(errno));
		return -1;
	}
	*map = m;
	*len = (size_t)st.st_size;
	return 0;
}
