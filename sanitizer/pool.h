/* pool.h -- threads a sanitizer worker starts before its sandbox, to render pages on every core. */
#ifndef TIERGATE_SANITIZER_POOL_H
#define TIERGATE_SANITIZER_POOL_H

/*
 * Inside the sandbox no thread can be made (RLIMIT_NPROC 0, clone is not
 * in the seccomp filter), so the worker starts its helpers first; the
 * filter, installed with TSYNC, then covers them too. Idle helpers sleep
 * on a condition variable until pool_run hands them a function.
 */
struct pool;

/* Starts n threads (0: none, NULL returned). NULL also when not one could start. */
struct pool *pool_new(unsigned n);
unsigned pool_size(const struct pool *p);
/* Runs fn(arg) on up to k idle threads; returns how many were started. */
unsigned pool_run(struct pool *p, unsigned k, void (*fn)(void *), void *arg);
/* Waits until every fn started by pool_run has returned. */
void pool_wait(struct pool *p);
/* Stops and joins the threads (tests; a worker process simply exits). */
void pool_free(struct pool *p);

/* How many render threads "threads = 0" means here: the CPUs this process may use, at most 8. */
unsigned pool_auto_threads(void);

#endif
