/* log.c -- levelled logging to stderr or syslog, process name on every line. */
#include "lib/log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

static char log_name[64] = "tiergate";
static int log_to_syslog;
static enum log_level log_level = LOG_LVL_INFO;

void
log_init(const char *procname, int to_syslog, enum log_level level)
{
	log_procname(procname);
	log_to_syslog = to_syslog;
	log_level = level;
	if (to_syslog)
		openlog(log_name, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void
log_procname(const char *procname)
{
	snprintf(log_name, sizeof log_name, "%s", procname ? procname : "tiergate");
}

void
log_set_level(enum log_level level)
{
	log_level = level;
}

enum log_level
log_get_level(void)
{
	return log_level;
}

static int
log_syslog_prio(enum log_level level)
{
	static const int prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG };
	return prio[level];
}

void
log_vmsg(enum log_level level, int with_errno, const char *fmt, va_list ap)
{
	static const char *names[] = { "error", "warning", "info", "debug" };
	char msg[2048];
	int saved_errno = errno;

	if (level > log_level)
		return;
	vsnprintf(msg, sizeof msg, fmt, ap);
	if (with_errno) {
		size_t used = strlen(msg);
		snprintf(msg + used, sizeof msg - used, ": %s", strerror(saved_errno));
	}
	if (log_to_syslog) {
		syslog(log_syslog_prio(level), "%s", msg);
	} else {
		fprintf(stderr, "%s: %s: %s\n", log_name, names[level], msg);
		fflush(stderr);
	}
	errno = saved_errno;
}

#define LOG_BODY(level, with_errno)             \
	do {                                    \
		va_list ap;                     \
		va_start(ap, fmt);              \
		log_vmsg(level, with_errno, fmt, ap); \
		va_end(ap);                     \
	} while (0)

void log_warn(const char *fmt, ...) { LOG_BODY(LOG_LVL_WARN, 1); }
void log_warnx(const char *fmt, ...) { LOG_BODY(LOG_LVL_WARN, 0); }
void log_info(const char *fmt, ...) { LOG_BODY(LOG_LVL_INFO, 0); }
void log_debug(const char *fmt, ...) { LOG_BODY(LOG_LVL_DEBUG, 0); }

void
fatal(const char *fmt, ...)
{
	LOG_BODY(LOG_LVL_ERROR, 1);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	LOG_BODY(LOG_LVL_ERROR, 0);
	exit(1);
}
