/* sandbox.c -- what a worker does to itself before touching hostile bytes: drop privileges, rlimits, seccomp. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "lib/log.h"
#include "sanitizer/internal.h"

/* Stands for the worker's tgid in the compiled filter: above any pid (pid_max <= 2^22). */
#define SANDBOX_TGID_MARK 0x3EADBEEFu

#if defined(__SANITIZE_ADDRESS__)
#define SANDBOX_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANDBOX_ASAN 1
#endif
#endif

/*
 * The built-in worker user; when the system has no such user, this uid (and gid) without a
 * name: just below the milter's MIME parsers (milter.parser_uid_base, 61000 + slot), so a
 * file worker never shares a uid with a parser.
 */
#define SANDBOX_DEFAULT_USER "tiergate-worker"
#define SANDBOX_DEFAULT_UID 60999

/* A worker uid given as a number ("61000"): 1..2^31-1. */
static bool
sandbox_numeric(const char *user, uid_t *uid)
{
	char *end;
	unsigned long v;

	if (user[0] < '0' || user[0] > '9')
		return false;
	errno = 0;
	v = strtoul(user, &end, 10);
	if (errno || *end || v == 0 || v > 0x7FFFFFFFUL)
		return false;
	*uid = (uid_t)v;
	return true;
}

/*
 * Looked up in the parent (NSS opens files), used in the child. The worker
 * must run as a uid that owns nothing else: not root, not the uid of this
 * daemon (a worker could otherwise signal or ptrace it), and by default a
 * dedicated user ("tiergate-worker"; uid 60999 when it does not exist; the
 * package sets "tiergate-sandbox", a system user), not "nobody", which other
 * daemons use.
 */
/*
 * The passwd entry of user, looked up once per process and name: the file
 * sanitizer and its office converters both resolve the worker user, and a
 * name NSS does not know costs milliseconds (systemd's userdb is asked too).
 */
static bool
sandbox_lookup(const char *user, uid_t *uid, gid_t *gid)
{
	static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	static char cached[64];
	static bool cached_found;
	static uid_t cached_uid;
	static gid_t cached_gid;
	struct passwd pw, *found = NULL;
	char buf[4096];
	bool ok;

	pthread_mutex_lock(&lock);
	if (strcmp(cached, user) != 0) {
		cached_found = getpwnam_r(user, &pw, buf, sizeof buf, &found) == 0 && found != NULL;
		cached_uid = cached_found ? pw.pw_uid : 0;
		cached_gid = cached_found ? pw.pw_gid : 0;
		snprintf(cached, sizeof cached, "%s", strlen(user) < sizeof cached ? user : "");
	}
	ok = cached_found;
	*uid = cached_uid;
	*gid = cached_gid;
	pthread_mutex_unlock(&lock);
	return ok;
}

bool
sandbox_worker_ids(const char *user, uid_t *uid, gid_t *gid)
{
	if (user == NULL || *user == '\0')
		return false;
	if (sandbox_lookup(user, uid, gid))
		return true;   /* a user of the passwd database */
	if (sandbox_numeric(user, uid)) {
		*gid = (gid_t)*uid;
		return true;
	}
	if (strcmp(user, SANDBOX_DEFAULT_USER) == 0) {
		*uid = SANDBOX_DEFAULT_UID;
		*gid = SANDBOX_DEFAULT_UID;
		return true;
	}
	return false;
}

int
sandbox_resolve_user(const char *user, struct sandbox_ids *ids)
{
	memset(ids, 0, sizeof *ids);
	if (!sandbox_can_setuid() || user == NULL || *user == '\0')
		return 0;
	if (!sandbox_worker_ids(user, &ids->uid, &ids->gid)) {
		log_warnx("sanitizer: worker user '%s' not found", user);
		return -1;
	}
	if (ids->uid == 0 || ids->uid == getuid() || ids->uid == geteuid() || ids->gid == 0) {
		log_warnx("sanitizer: worker user '%s' is root or this daemon's own user; refusing", user);
		return -1;
	}
	ids->drop = true;
	return 0;
}

/* This thread's permitted (or effective) capability set, low 64 bits; 0 when it cannot be read. */
static uint64_t
sandbox_caps(bool effective)
{
	struct __user_cap_header_struct head = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[2];

	memset(data, 0, sizeof data);
	if (syscall(SYS_capget, &head, data) < 0)
		return 0;
	return effective ? (uint64_t)data[1].effective << 32 | data[0].effective :
	    (uint64_t)data[1].permitted << 32 | data[0].permitted;
}

bool
sandbox_can_setuid(void)
{
	uint64_t need = 1ull << CAP_SETUID | 1ull << CAP_SETGID;

	return geteuid() == 0 || (sandbox_caps(true) & need) == need;
}

/*
 * A process that is not root but holds CAP_SETUID/CAP_SETGID (the packaged
 * milter: user tiergate with those two as ambient capabilities) keeps them
 * across a change between non-zero uids, and capset() would clear them in
 * the calling thread only (a worker's render threads exist already). Passing
 * through uid 0 first makes the kernel clear every capability -- permitted,
 * effective, ambient -- in every thread when the uids become non-zero again
 * (glibc applies set*id to all threads). With only those two capabilities,
 * uid 0 grants nothing else meanwhile.
 */
static int
sandbox_setuid_from_caps(void)
{
	return geteuid() == 0 || sandbox_caps(false) == 0 ? 0 : setresuid(0, 0, 0);
}

int
sandbox_drop_caps(void)
{
	uid_t uid = getuid();

	if (geteuid() == 0 || sandbox_caps(false) == 0)
		return 0;
	if (sandbox_setuid_from_caps() < 0 || setresuid(uid, uid, uid) < 0)
		return -1;
	return sandbox_caps(false) == 0 ? 0 : -1;
}

static int
sandbox_drop(const struct sandbox_ids *ids)
{
	if (!ids->drop)
		return 0;
	if (sandbox_setuid_from_caps() < 0 || setgroups(0, NULL) < 0 ||
	    setresgid(ids->gid, ids->gid, ids->gid) < 0 || setresuid(ids->uid, ids->uid, ids->uid) < 0)
		return -1;
	if (sandbox_caps(false) != 0)
		return -1;   /* no capability left, in any set */
	return setuid(0) == 0 ? -1 : 0;   /* must not be able to get root back */
}

static int
sandbox_limit(int resource, rlim_t value)
{
	struct rlimit rl = { value, value };

	return setrlimit(resource, &rl);
}

static int
sandbox_rlimits(const struct san_config *cfg)
{
	int rc = 0;

	/* soft CPU limit raises SIGXCPU, the hard one a second later SIGKILL */
	struct rlimit cpu = { cfg->worker_cpu_seconds, cfg->worker_cpu_seconds + 1 };
	rc |= setrlimit(RLIMIT_CPU, &cpu);
#ifndef SANDBOX_ASAN
	/* ASan reserves terabytes of address space: no AS limit under it */
	rc |= sandbox_limit(RLIMIT_AS, cfg->worker_memory);
#endif
#ifndef SANDBOX_ASAN
	/*
	 * Under ASan its report must reach a log file. Otherwise the only file a
	 * worker can grow is its pixel memfd (open is refused): up to its memory.
	 */
	rc |= sandbox_limit(RLIMIT_FSIZE, cfg->worker_memory);
#endif
	rc |= sandbox_limit(RLIMIT_CORE, 0);
	rc |= sandbox_limit(RLIMIT_NOFILE, 16);   /* stdio and the result pipe; nothing is opened later */
	rc |= sandbox_limit(RLIMIT_NPROC, 0);
	return rc ? -1 : 0;
}

/* The system calls rendering and parsing need once everything is loaded. */
static const int sandbox_allowed[] = {
	SCMP_SYS(read), SCMP_SYS(write), SCMP_SYS(writev), SCMP_SYS(close), SCMP_SYS(lseek),
	SCMP_SYS(fstat), SCMP_SYS(newfstatat), SCMP_SYS(brk), SCMP_SYS(munmap), SCMP_SYS(mremap),
	SCMP_SYS(madvise), SCMP_SYS(exit), SCMP_SYS(exit_group), SCMP_SYS(rt_sigreturn),
	SCMP_SYS(rt_sigprocmask), SCMP_SYS(rt_sigaction), SCMP_SYS(futex), SCMP_SYS(clock_gettime),
	SCMP_SYS(gettimeofday), SCMP_SYS(time), SCMP_SYS(getpid), SCMP_SYS(gettid),
	SCMP_SYS(getrandom), SCMP_SYS(sched_yield), SCMP_SYS(sysinfo), SCMP_SYS(getrusage),
	SCMP_SYS(sigaltstack), SCMP_SYS(restart_syscall), SCMP_SYS(getuid), SCMP_SYS(geteuid),
	SCMP_SYS(getgid), SCMP_SYS(getegid),
#ifdef SANDBOX_ASAN
	SCMP_SYS(sched_getaffinity), SCMP_SYS(prctl), SCMP_SYS(readlink), SCMP_SYS(getppid),
#endif
};

static int
sandbox_rules(scmp_filter_ctx sc, bool strict)
{
	int rc = 0;

	for (size_t i = 0; i < sizeof sandbox_allowed / sizeof sandbox_allowed[0]; i++)
		rc |= seccomp_rule_add(sc, SCMP_ACT_ALLOW, sandbox_allowed[i], 0);
	/* memory, but never executable: no shellcode page can be made */
	rc |= seccomp_rule_add(sc, SCMP_ACT_ALLOW, SCMP_SYS(mmap), 1,
	    SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
	rc |= seccomp_rule_add(sc, SCMP_ACT_ALLOW, SCMP_SYS(mprotect), 1,
	    SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
	/*
	 * abort() signals itself: let it, so a failed assertion reads SIGABRT, not
	 * SIGSYS -- but only its own threads. The worker's tgid is not known when
	 * the filter is compiled: SANDBOX_TGID_MARK stands for it and
	 * sandbox_enter patches it into the program after fork. kill, tkill and
	 * every other way to signal (rt_sigqueueinfo, pidfd_send_signal) stay out.
	 */
	rc |= seccomp_rule_add(sc, SCMP_ACT_ALLOW, SCMP_SYS(tgkill), 1,
	    SCMP_A0(SCMP_CMP_EQ, SANDBOX_TGID_MARK));
	if (strict)   /* the mail parser loads everything first: any open at all kills it */
		return rc ? -1 : 0;
	/* the pixel memfds (arena.c): made sealable, written, sealed, and passed to the parent */
	rc |= seccomp_rule_add(sc, SCMP_ACT_ALLOW, SCMP_SYS(memfd_create), 1,
	    SCMP_A1(SCMP_CMP_EQ, MFD_CLOEXEC | MFD_ALLOW_SEALING));
	rc |= seccomp_rule_add(sc, SCMP_ACT_ALLOW, SCMP_SYS(pwrite64), 0);
	rc |= seccomp_rule_add(sc, SCMP_ACT_ALLOW, SCMP_SYS(fcntl), 1, SCMP_A1(SCMP_CMP_EQ, F_ADD_SEALS));
	rc |= seccomp_rule_add(sc, SCMP_ACT_ALLOW, SCMP_SYS(sendmsg), 0);
	/* libraries that probe a file get "permission denied" and carry on without it */
	rc |= seccomp_rule_add(sc, SCMP_ACT_ERRNO(EACCES), SCMP_SYS(open), 0);
	rc |= seccomp_rule_add(sc, SCMP_ACT_ERRNO(EACCES), SCMP_SYS(openat), 0);
	rc |= seccomp_rule_add(sc, SCMP_ACT_ERRNO(EACCES), SCMP_SYS(access), 0);
	rc |= seccomp_rule_add(sc, SCMP_ACT_ERRNO(EACCES), SCMP_SYS(stat), 0);
	rc |= seccomp_rule_add(sc, SCMP_ACT_ERRNO(EACCES), SCMP_SYS(ioctl), 0);
	return rc ? -1 : 0;
}

static int
sandbox_compile_rules(struct sandbox_ids *ids, bool strict)
{
	/* Everything else (socket, connect, execve, fork, ptrace, ...) kills the worker: SIGSYS. */
#ifdef SANDBOX_ASAN
	scmp_filter_ctx sc = seccomp_init(SCMP_ACT_ERRNO(EPERM));
#else
	scmp_filter_ctx sc = seccomp_init(SCMP_ACT_KILL_PROCESS);
#endif
	int fd = memfd_create("tiergate-seccomp", MFD_CLOEXEC), rc = -1;
	off_t len;

	if (sc == NULL || fd < 0 || sandbox_rules(sc, strict) < 0 || seccomp_export_bpf(sc, fd) < 0)
		goto out;
	len = lseek(fd, 0, SEEK_CUR);
	if (len <= 0 || len % (off_t)sizeof(struct sock_filter) != 0 || len > 65535 * 8)
		goto out;
	ids->bpf = malloc((size_t)len);
	if (ids->bpf && pread(fd, ids->bpf, (size_t)len, 0) == len) {
		ids->bpf_len = (unsigned short)(len / (off_t)sizeof(struct sock_filter));
		rc = 0;
	}
out:
	if (fd >= 0)
		close(fd);
	if (sc)
		seccomp_release(sc);
	if (rc < 0)
		log_warnx("sanitizer: cannot compile the worker's seccomp filter");
	return rc;
}

int
sandbox_compile(struct sandbox_ids *ids)
{
	return sandbox_compile_rules(ids, false);
}

int
sandbox_compile_strict(struct sandbox_ids *ids)
{
	return sandbox_compile_rules(ids, true);
}

void
sandbox_free(struct sandbox_ids *ids)
{
	free(ids->bpf);
	ids->bpf = NULL;
	ids->bpf_len = 0;
}

/*
 * TSYNC: the render threads started before the sandbox (pool.c) get the same
 * filter, atomically. The compiled program is the parent's copy (inherited by
 * fork): its tgkill test compares against SANDBOX_TGID_MARK, replaced here
 * by this process's tgid. A program without the mark is refused.
 */
static int
sandbox_seccomp(const struct sandbox_ids *ids)
{
	struct sock_filter *insn = ids->bpf;
	struct sock_fprog prog = { ids->bpf_len, ids->bpf };
	unsigned marks = 0;

	if (ids->bpf == NULL)
		return -1;
	for (unsigned i = 0; i < ids->bpf_len; i++)
		if (BPF_CLASS(insn[i].code) == BPF_JMP && BPF_SRC(insn[i].code) == BPF_K &&
		    insn[i].k == SANDBOX_TGID_MARK) {
			insn[i].k = (uint32_t)getpid();
			marks++;
		}
	if (marks == 0)
		return -1;
	return syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, &prog) == 0 ? 0 : -1;
}

/* Closes every descriptor but stdin/out/err and the kept ones (other threads' sockets and files). */
static void
sandbox_close_fds(int keep_fd, int keep_fd2)
{
	int lo = keep_fd2 >= 0 && keep_fd2 < keep_fd ? keep_fd2 : keep_fd;
	int hi = keep_fd2 > keep_fd ? keep_fd2 : keep_fd;

	if (lo > 3)
		syscall(SYS_close_range, 3, (unsigned)lo - 1, 0);
	if (hi > lo + 1)
		syscall(SYS_close_range, (unsigned)lo + 1, (unsigned)hi - 1, 0);
	syscall(SYS_close_range, (unsigned)hi + 1, ~0U, 0);
	if (lo != 3 && hi != 3)
		close(3);
}

int
sandbox_enter(const struct san_config *cfg, const struct sandbox_ids *ids, int keep_fd)
{
	return sandbox_enter_fds(cfg, ids, keep_fd, -1);
}

/*
 * The first half: stdio, descriptors, uid, gid and capabilities. The
 * worker starts its threads after it and before sandbox_enter_filter: a
 * setresuid in a process of one thread is one system call, while with
 * threads glibc must signal each and wait until every one has run (up to
 * 4 ms for a thread not yet scheduled, on the path of every file).
 */
int
sandbox_enter_ids(const struct sandbox_ids *ids, int keep_fd, int keep_fd2)
{
	int devnull = open("/dev/null", O_RDWR);

	if (devnull >= 0) {   /* nothing of the parent's stdin; stderr stays for diagnostics */
		dup2(devnull, 0);
		dup2(devnull, 1);
#ifndef SANDBOX_ASAN
		/* ... unless it is a file: with RLIMIT_FSIZE 0 a library's warning would be SIGXFSZ */
		struct stat err;
		if (fstat(2, &err) == 0 && S_ISREG(err.st_mode))
			dup2(devnull, 2);
#endif
		if (devnull > 2)
			close(devnull);
	}
	sandbox_close_fds(keep_fd, keep_fd2);
	return sandbox_drop(ids);
}

/* The second half: no new privileges, rlimits, the seccomp filter on every thread (TSYNC). */
int
sandbox_enter_filter(const struct san_config *cfg, const struct sandbox_ids *ids)
{
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		return -1;
	if (sandbox_rlimits(cfg) < 0)
		return -1;
	return sandbox_seccomp(ids);
}

int
sandbox_enter_fds(const struct san_config *cfg, const struct sandbox_ids *ids, int keep_fd, int keep_fd2)
{
	if (sandbox_enter_ids(ids, keep_fd, keep_fd2) < 0)
		return -1;
	return sandbox_enter_filter(cfg, ids);
}
