/* pool.c -- a worker's helper threads: started before the sandbox, given work by pool_run. */
#include "sanitizer/pool.h"

#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdlib.h>

#include "lib/util.h"

#define POOL_AUTO_MAX 8

struct pool {
	pthread_mutex_t lock;
	pthread_cond_t wake, idle, up;
	void (*fn)(void *);
	void *arg;
	unsigned to_start;   /* threads still to pick up fn */
	unsigned running;    /* threads inside fn */
	bool quit;
	unsigned n;
	unsigned started;    /* threads that reached pool_thread: past their start's system calls */
	pthread_t *threads;
};

static void *
pool_thread(void *v)
{
	struct pool *p = v;

	pthread_mutex_lock(&p->lock);
	p->started++;
	pthread_cond_signal(&p->up);
	for (;;) {
		while (!p->quit && p->to_start == 0)
			pthread_cond_wait(&p->wake, &p->lock);
		if (p->to_start == 0)
			break;
		void (*fn)(void *) = p->fn;
		void *arg = p->arg;
		p->to_start--;
		p->running++;
		pthread_mutex_unlock(&p->lock);
		fn(arg);
		pthread_mutex_lock(&p->lock);
		if (--p->running == 0 && p->to_start == 0)
			pthread_cond_broadcast(&p->idle);
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

struct pool *
pool_new(unsigned n)
{
	struct pool *p;

	if (n == 0)
		return NULL;
	p = xcalloc(1, sizeof *p);
	p->threads = xcalloc(n, sizeof *p->threads);
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->wake, NULL);
	pthread_cond_init(&p->idle, NULL);
	pthread_cond_init(&p->up, NULL);
	for (p->n = 0; p->n < n; p->n++)
		if (pthread_create(&p->threads[p->n], NULL, pool_thread, p) != 0)
			break;
	if (p->n == 0) {
		pool_free(p);
		return NULL;
	}
	/*
	 * Every thread running before the caller installs its filter: a thread
	 * still starting makes system calls of its own (rseq, set_robust_list)
	 * that the filter kills.
	 */
	pthread_mutex_lock(&p->lock);
	while (p->started < p->n)
		pthread_cond_wait(&p->up, &p->lock);
	pthread_mutex_unlock(&p->lock);
	return p;
}

unsigned
pool_size(const struct pool *p)
{
	return p ? p->n : 0;
}

unsigned
pool_run(struct pool *p, unsigned k, void (*fn)(void *), void *arg)
{
	if (p == NULL || k == 0)
		return 0;
	pthread_mutex_lock(&p->lock);
	while (p->running || p->to_start)   /* one job at a time */
		pthread_cond_wait(&p->idle, &p->lock);
	if (k > p->n)
		k = p->n;
	p->fn = fn;
	p->arg = arg;
	p->to_start = k;
	pthread_cond_broadcast(&p->wake);
	pthread_mutex_unlock(&p->lock);
	return k;
}

void
pool_wait(struct pool *p)
{
	if (p == NULL)
		return;
	pthread_mutex_lock(&p->lock);
	while (p->running || p->to_start)
		pthread_cond_wait(&p->idle, &p->lock);
	pthread_mutex_unlock(&p->lock);
}

void
pool_free(struct pool *p)
{
	if (p == NULL)
		return;
	pthread_mutex_lock(&p->lock);
	p->quit = true;
	pthread_cond_broadcast(&p->wake);
	pthread_mutex_unlock(&p->lock);
	for (unsigned i = 0; i < p->n; i++)
		pthread_join(p->threads[i], NULL);
	pthread_cond_destroy(&p->idle);
	pthread_cond_destroy(&p->up);
	pthread_cond_destroy(&p->wake);
	pthread_mutex_destroy(&p->lock);
	free(p->threads);
	free(p);
}

unsigned
pool_auto_threads(void)
{
	cpu_set_t cpus;
	int n = sched_getaffinity(0, sizeof cpus, &cpus) == 0 ? CPU_COUNT(&cpus) : 1;

	return n < 1 ? 1 : (n > POOL_AUTO_MAX ? POOL_AUTO_MAX : (unsigned)n);
}
