/* no_landlock.c -- LD_PRELOAD for tests: landlock_create_ruleset fails with ENOSYS as on a kernel without Landlock; every other syscall() goes through. */
#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/syscall.h>
#include <unistd.h>

static long (*no_landlock_real)(long, ...);

__attribute__((constructor)) static void
no_landlock_init(void)
{
	no_landlock_real = (long (*)(long, ...))dlsym(RTLD_NEXT, "syscall");
}

long
syscall(long number, ...)
{
	va_list ap;
	long a[6];

	va_start(ap, number);
	for (int i = 0; i < 6; i++)
		a[i] = va_arg(ap, long);   /* what glibc's own syscall() reads too */
	va_end(ap);
	if (number == SYS_landlock_create_ruleset) {
		errno = ENOSYS;
		return -1;
	}
	if (no_landlock_real == NULL) {
		errno = ENOSYS;
		return -1;
	}
	return no_landlock_real(number, a[0], a[1], a[2], a[3], a[4], a[5]);
}
