/* fuzz_mime.c -- libFuzzer target for the mail path: header words, parameters, transfer decodings, and the whole rebuild. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "sanitizer/mail/mail.h"
#include "sanitizer/mail/mime_codec.h"
#include "sanitizer/mail/mime_words.h"
#include "sanitizer/sanitize.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct san_ctx *fuzz_san;
static struct mail_ctx *fuzz_mail;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct san_config sc;
	struct mail_config mc;

	log_init("fuzz_mime", 0, LOG_LVL_ERROR);
	san_config_defaults(&sc);
	free(sc.events);
	sc.events = NULL;
	fuzz_san = san_ctx_new(&sc);
	san_config_free(&sc);
	mail_config_defaults(&mc);
	mc.quarantine_originals = false;   /* nothing is written while fuzzing */
	mc.max_parts = 50;
	fuzz_mail = fuzz_san ? mail_ctx_new(fuzz_san, &mc) : NULL;
	return 0;
}

static void
fuzz_decoders(const uint8_t *data, size_t size)
{
	struct mbuf out = MBUF_INIT;
	char *s, *name = NULL;
	size_t end;
	long at;

	free(mime_words_decode((const char *)data, size));
	free(mime_param_get((const char *)data, size, "filename"));
	free(mime_media_type((const char *)data, size));
	mime_b64_decode((const char *)data, size, &out, NULL);
	mime_qp_decode((const char *)data, size, false, &out);
	at = mime_uu_find((const char *)data, size, 0);
	if (at >= 0 && mime_uu_decode((const char *)data, size, (size_t)at, &out, &name, &end) == 0)
		free(name);
	s = strndup((const char *)data, size);
	if (s) {
		mbuf_reset(&out);
		mime_param_write(&out, "filename", s);
		free(s);
	}
	mbuf_free(&out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mail_result res;

	if (size > 65536)
		return 0;
	fuzz_decoders(data, size);
	if (fuzz_mail && mail_sanitize(fuzz_mail, data, size, NULL, &res) == 0)
		mail_result_free(&res);
	return 0;
}
