/* heifload.c -- libheif and libde265 loaded at run time, only when a HEIC/HEIF image may be read: their start is most of a small PDF's. */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "lib/log.h"
#include "sanitizer/heifload.h"
#include "sanitizer/internal.h"

/*
 * Why: linked, libheif brings libx265, libaom, libdav1d and libnuma into
 * every process, and the dynamic loader and their constructors were ~3 ms
 * of each tiergate-sanitize start (a 5-page PDF is ~55 ms in all). Only the
 * parent loads (san_buffer, before the fork, when the input is a HEIF image
 * or an archive that may hold one): the worker inherits the mapping and
 * opens nothing. A worker that meets a HEIF image without them blocks it
 * with heifload_error's reason.
 *
 * The names are the Debian 12 sonames (packages libheif1, libde265-0,
 * debian/control's Depends): the ABI these headers describe.
 */
#define HEIFLOAD_LIBHEIF "libheif.so.1"
#define HEIFLOAD_LIBDE265 "libde265.so.0"

struct heifload heifload;
static pthread_once_t heifload_once = PTHREAD_ONCE_INIT;
static bool heifload_ok;
static char heifload_why[256];

static void *
heifload_lib(const char *soname)
{
	void *lib = dlopen(soname, RTLD_NOW | RTLD_LOCAL);

	if (lib == NULL) {
		const char *err = dlerror();
		snprintf(heifload_why, sizeof heifload_why, "%s", err ? err : soname);
	}
	return lib;
}

static void *
heifload_sym(void *lib, const char *soname, const char *name)
{
	void *sym = dlsym(lib, name);

	if (sym == NULL)
		snprintf(heifload_why, sizeof heifload_why, "%s has no %s (older than the headers built against)",
		    soname, name);
	return sym;
}

/* Every pointer, or -1 at the first one missing. */
static int
heifload_resolve(void *heif, void *de265)
{
#define HEIFLOAD_RESOLVE(lib, soname, f) \
	if ((heifload.f = (__typeof__(heifload.f))heifload_sym(lib, soname, #f)) == NULL) \
		return -1;
#define HEIFLOAD_FROM_HEIF(f) HEIFLOAD_RESOLVE(heif, HEIFLOAD_LIBHEIF, f)
#define HEIFLOAD_FROM_DE265(f) HEIFLOAD_RESOLVE(de265, HEIFLOAD_LIBDE265, f)
	HEIFLOAD_HEIF_FUNCS(HEIFLOAD_FROM_HEIF)
	HEIFLOAD_DE265_FUNCS(HEIFLOAD_FROM_DE265)
#undef HEIFLOAD_FROM_DE265
#undef HEIFLOAD_FROM_HEIF
#undef HEIFLOAD_RESOLVE
	return 0;
}

static void
heifload_once_run(void)
{
	void *heif = heifload_lib(HEIFLOAD_LIBHEIF);
	void *de265 = heif ? heifload_lib(HEIFLOAD_LIBDE265) : NULL;

	if (de265 == NULL || heifload_resolve(heif, de265) < 0) {
		memset(&heifload, 0, sizeof heifload);
		log_warnx("sanitizer: HEIC/HEIF decoder not loaded (%s): HEIC images will be blocked", heifload_why);
		return;   /* the libraries stay loaded if one was: a second dlopen would find the same */
	}
	/* libheif registers its decoders and looks for plugins now, before any fork */
	heifload.heif_init(NULL);
	if (heifde265_register() < 0) {
		snprintf(heifload_why, sizeof heifload_why, "the single-thread HEVC decoder could not be registered");
		log_warnx("sanitizer: HEIF decoder could not be registered: HEIC images will be blocked");
		return;
	}
	heifload_ok = true;
}

int
heifload_open(void)
{
	pthread_once(&heifload_once, heifload_once_run);
	return heifload_ok ? 0 : -1;
}

bool
heifload_ready(void)
{
	return heifload_ok;
}

const char *
heifload_error(void)
{
	return heifload_ok ? "" : heifload_why;
}
