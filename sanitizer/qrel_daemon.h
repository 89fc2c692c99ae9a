/* qrel_daemon.h -- tiergate-quarantined: the one process that releases originals, on a local socket. */
#ifndef TIERGATE_QREL_DAEMON_H
#define TIERGATE_QREL_DAEMON_H

struct qrel_daemon;

/* Binds sanitizer.quarantine.release_socket (mode 0666: the caller's uid decides). */
int qrel_daemon_listen(struct qrel_daemon *d);
/* Serves one connection at a time until *stop. */
void qrel_daemon_run(struct qrel_daemon *d, volatile int *stop);

#endif
