/* relay_sandbox.c -- the relay's sandbox once it listens: its Landlock domain, then the seccomp allowlist (no exec, trace, or files written by name), and the event saying so. */
#include "vpn-bridge/relay_sandbox.h"

#include <fcntl.h>
#include <seccomp.h>
#include <stddef.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "lib/log.h"
#include "vpn-bridge/relay_landlock.h"

static const int relay_sandbox_allowed[] = {
	/* sessions: accepted sockets, upstream connects, TLS and HTTP bytes */
	SCMP_SYS(read), SCMP_SYS(write), SCMP_SYS(readv), SCMP_SYS(writev), SCMP_SYS(close),
	SCMP_SYS(accept), SCMP_SYS(accept4), SCMP_SYS(socket), SCMP_SYS(connect), SCMP_SYS(shutdown),
	SCMP_SYS(setsockopt), SCMP_SYS(getsockopt), SCMP_SYS(getsockname), SCMP_SYS(getpeername),
	SCMP_SYS(sendto), SCMP_SYS(recvfrom), SCMP_SYS(sendmsg), SCMP_SYS(recvmsg), SCMP_SYS(fcntl),
	/* libevent's loop */
	SCMP_SYS(epoll_wait), SCMP_SYS(epoll_pwait), SCMP_SYS(epoll_ctl), SCMP_SYS(poll),
	/* the event log (lib/evsink.c, evchain.c) and the ASP state file (read only) */
	SCMP_SYS(flock), SCMP_SYS(fstat), SCMP_SYS(newfstatat), SCMP_SYS(statx), SCMP_SYS(stat),
	SCMP_SYS(pread64), SCMP_SYS(lseek),
	/* memory, time, signals, exit */
	SCMP_SYS(brk), SCMP_SYS(munmap), SCMP_SYS(mremap), SCMP_SYS(madvise), SCMP_SYS(futex),
	SCMP_SYS(clock_gettime), SCMP_SYS(gettimeofday), SCMP_SYS(time), SCMP_SYS(nanosleep),
	SCMP_SYS(clock_nanosleep), SCMP_SYS(getpid), SCMP_SYS(gettid), SCMP_SYS(getrandom),
	SCMP_SYS(sched_yield), SCMP_SYS(restart_syscall), SCMP_SYS(rt_sigreturn),
	SCMP_SYS(rt_sigprocmask), SCMP_SYS(rt_sigaction), SCMP_SYS(wait4), SCMP_SYS(exit),
	SCMP_SYS(exit_group), SCMP_SYS(getuid), SCMP_SYS(geteuid), SCMP_SYS(getgid), SCMP_SYS(getegid),
	SCMP_SYS(tgkill),   /* abort() reads SIGABRT, not SIGSYS */
};

static int
relay_sandbox_rules(scmp_filter_ctx sc)
{
	int rc = 0;

	for (size_t i = 0; i < sizeof relay_sandbox_allowed / sizeof relay_sandbox_allowed[0]; i++)
		rc |= seccomp_rule_add(sc, SCMP_ACT_ALLOW, relay_sandbox_allowed[i], 0);
	/* memory is never made executable */
	rc |= seccomp_rule_add(sc, SCMP_ACT_ALLOW, SCMP_SYS(mmap), 1, SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
	rc |= seccomp_rule_add(sc, SCMP_ACT_ALLOW, SCMP_SYS(mprotect), 1, SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
#if defined(__SANITIZE_ADDRESS__)
	/* ASan/UBSan builds only: the sanitizer runtime sets up its alternate signal stack */
	rc |= seccomp_rule_add(sc, SCMP_ACT_ALLOW, SCMP_SYS(sigaltstack), 0);
#endif
	/* libevent asks how much a socket holds */
	rc |= seccomp_rule_add(sc, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1, SCMP_A1(SCMP_CMP_EQ, FIONREAD));
	/* files are opened for reading only (the ASP state file) */
	rc |= seccomp_rule_add(sc, SCMP_ACT_ALLOW, SCMP_SYS(openat), 1,
	    SCMP_A2(SCMP_CMP_MASKED_EQ, O_ACCMODE | O_CREAT | O_TRUNC | O_APPEND, O_RDONLY));
	return rc ? -1 : 0;
}

static int
relay_sandbox_seccomp(void)
{
	scmp_filter_ctx sc = seccomp_init(SCMP_ACT_KILL_PROCESS);
	int rc = -1;

	if (sc != NULL && relay_sandbox_rules(sc) == 0 && seccomp_load(sc) == 0)
		rc = 0;
	if (sc != NULL)
		seccomp_release(sc);
	if (rc < 0)
		log_warnx("relay: cannot load its seccomp filter");
	return rc;
}

/* Landlock as bridge.relay_landlock says; false when the relay must not run. */
static bool
relay_sandbox_landlock(const struct bridge_conf *conf, struct jbuf *jb)
{
	enum relay_landlock_result ll = relay_landlock_enter(conf, jb);

	jb_str(jb, "relay_landlock", conf->relay_landlock_best_effort ? "best-effort" : "require");
	if (ll == RELAY_LANDLOCK_APPLIED)
		return true;
	if (ll == RELAY_LANDLOCK_UNAVAILABLE && conf->relay_landlock_best_effort) {
		log_warnx("relay: THE KERNEL HAS NO LANDLOCK: the relay runs under seccomp only and can read "
		    "any file its user can (bridge.relay_landlock = \"best-effort\")");
		return true;
	}
	log_warnx("relay: %s; the relay does not run without it (bridge.relay_landlock = \"%s\")",
	    ll == RELAY_LANDLOCK_UNAVAILABLE ? "the kernel has no Landlock (needs Linux 5.13 with landlock in lsm=)" :
	    "its Landlock ruleset could not be applied", conf->relay_landlock_best_effort ? "best-effort" : "require");
	return false;
}

int
relay_sandbox_enter(const struct bridge_conf *conf, struct ev_sink *events, struct jbuf *jb)
{
	bool ok;

	jb_reset(jb);
	ev_begin(jb, "bridge_sandbox", 0);
	jb_int(jb, "pid", (int64_t)getpid());
	ok = relay_sandbox_landlock(conf, jb);
	ok = ok && relay_sandbox_seccomp() == 0;
	jb_bool(jb, "seccomp", ok);
	jb_bool(jb, "running", ok);
	ev_end(jb);
	ev_emit(events, jb);
	jb_reset(jb);
	return ok ? 0 : -1;
}
