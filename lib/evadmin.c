/* evadmin.c -- admin events with the operator the kernel vouches for, and the fingerprint of what they loaded. */
#include "lib/evadmin.h"

#include <openssl/evp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "lib/util.h"

void
ev_admin_begin(struct jbuf *jb, const char *action, uid_t operator_uid)
{
	struct passwd pw, *found = NULL;
	char buf[1024];

	getpwuid_r(operator_uid, &pw, buf, sizeof buf, &found);
	ev_begin(jb, "admin", 0);
	jb_str(jb, "action", action);
	jb_obj_begin(jb, "operator");
	jb_uint(jb, "uid", operator_uid);
	jb_str(jb, "name", found ? found->pw_name : NULL);
	jb_obj_end(jb);
}

void
ev_admin_emit(struct ev_sink *sink, const char *action, uid_t operator_uid, const char *target,
    const char *result)
{
	struct jbuf jb = JBUF_INIT;

	ev_admin_begin(&jb, action, operator_uid);
	if (target)
		jb_str(&jb, "target", target);
	if (result)
		jb_str(&jb, "result", result);
	ev_end(&jb);
	ev_emit(sink, &jb);
	jb_free(&jb);
}

void
ev_file_sha256(const char *path, char out[65])
{
	unsigned char digest[EVP_MAX_MD_SIZE], chunk[65536];
	unsigned int n = 0;
	EVP_MD_CTX *md;
	FILE *f = fopen(path, "re");
	size_t got;

	out[0] = '\0';
	if (f == NULL || (md = EVP_MD_CTX_new()) == NULL) {
		if (f)
			fclose(f);
		return;
	}
	EVP_DigestInit_ex(md, EVP_sha256(), NULL);
	while ((got = fread(chunk, 1, sizeof chunk, f)) > 0)
		EVP_DigestUpdate(md, chunk, got);
	if (!ferror(f) && EVP_DigestFinal_ex(md, digest, &n) == 1) {
		hex_encode(digest, n, out);
		out[64] = '\0';
	}
	EVP_MD_CTX_free(md);
	fclose(f);
}
