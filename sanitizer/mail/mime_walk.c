/* mime_walk.c -- walks a parsed message's MIME tree and decides what each part is to the recipient. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sanitizer/mail/mail_int.h"
#include "sanitizer/mail/mime_words.h"

#define MIME_WALK_SIGNATURE_GONE "signature no longer applies to the rebuilt message"

const char *
mime_header_raw(GMimeObject *obj, const char *name)
{
	GMimeHeaderList *list = g_mime_object_get_header_list(obj);
	int count = list ? g_mime_header_list_get_count(list) : 0;

	for (int i = 0; i < count; i++) {
		GMimeHeader *h = g_mime_header_list_get_header_at(list, i);
		if (strcasecmp(g_mime_header_get_name(h), name) == 0)
			return g_mime_header_get_raw_value(h);
	}
	return NULL;
}

/* Media type from the raw header (our parser, not GMime's), "text/plain" when absent. */
static char *
mime_walk_media(GMimeObject *obj)
{
	const char *raw = mime_header_raw(obj, "Content-Type");
	char *media = raw ? mime_media_type(raw, strlen(raw)) : NULL;

	if (media == NULL) {
		GMimeContentType *ct = g_mime_object_get_content_type(obj);
		if (raw && ct && GMIME_IS_MULTIPART(obj)) {
			char *gtype = g_mime_content_type_get_mime_type(ct);
			media = gtype ? strdup(gtype) : NULL;
			g_free(gtype);
			for (char *c = media; c && *c; c++)
				*c = g_ascii_tolower(*c);
			if (media)
				return media;
		}
		return strdup("text/plain");
	}
	return media;
}

static bool
mime_walk_is_attachment(GMimeObject *obj)
{
	const char *disp = mime_header_raw(obj, "Content-Disposition");
	const char *ct = mime_header_raw(obj, "Content-Type");
	char *name;

	if (disp && strncasecmp(disp + strspn(disp, " \t\r\n"), "attachment", 10) == 0)
		return true;
	name = disp ? mime_param_get(disp, strlen(disp), "filename") : NULL;
	if (name == NULL && ct)
		name = mime_param_get(ct, strlen(ct), "name");
	free(name);
	return name != NULL;
}

/* Why a part can never be opened to be sanitized (encrypted, opaque-signed), or NULL. */
static const char *
mime_walk_sealed(GMimeObject *obj, const char *media)
{
	const char *ct = mime_header_raw(obj, "Content-Type");
	char *smime;
	bool opaque_signed;

	if (strcmp(media, "multipart/encrypted") == 0 || strcmp(media, "application/pgp-encrypted") == 0)
		return "encrypted message (PGP/MIME): it cannot be opened to be sanitized";
	if (strcmp(media, "application/pkcs7-mime") != 0 && strcmp(media, "application/x-pkcs7-mime") != 0)
		return NULL;
	smime = ct ? mime_param_get(ct, strlen(ct), "smime-type") : NULL;
	opaque_signed = smime && strcasecmp(smime, "signed-data") == 0;
	free(smime);
	if (opaque_signed)
		return "opaque S/MIME signed message: its content is sealed inside the signature";
	return "encrypted message (S/MIME): it cannot be opened to be sanitized";
}

/* multipart/alternative: the plain text form if there is one, else the HTML converted. */
static void
mime_walk_alternative(struct mail_build *b, GMimeMultipart *mp)
{
	int count = g_mime_multipart_get_count(mp), html = -1, nested = -1;

	for (int i = 0; i < count; i++) {
		GMimeObject *child = g_mime_multipart_get_part(mp, i);
		char *media = mime_walk_media(child);
		bool text = strcmp(media, "text/plain") == 0, is_html = strcmp(media, "text/html") == 0;
		bool multi = strncmp(media, "multipart/", 10) == 0;
		free(media);
		if (text) {
			mime_walk(b, child);
			return;
		}
		if (is_html && html < 0)
			html = i;
		if (multi && nested < 0)
			nested = i;
	}
	if (nested >= 0)
		mime_walk(b, g_mime_multipart_get_part(mp, nested));
	else if (html >= 0)
		mail_part_html(b, g_mime_multipart_get_part(mp, html), !b->have_body);
}

static void
mime_walk_multipart(struct mail_build *b, GMimeObject *obj, const char *media)
{
	GMimeMultipart *mp = GMIME_MULTIPART(obj);
	int count = g_mime_multipart_get_count(mp);

	if (count == 0) {   /* boundary missing or never found: GMime kept it all as prologue */
		const char *pro = g_mime_multipart_get_prologue(mp);
		b->rep->broken_mime = true;
		mail_part_broken_text(b, pro ? pro : "", pro ? strlen(pro) : 0);
		return;
	}
	if (strcmp(media, "multipart/alternative") == 0) {
		mime_walk_alternative(b, mp);
		return;
	}
	if (strcmp(media, "multipart/signed") == 0) {
		/* the signed content is rebuilt; the signature part cannot survive that */
		b->rep->signed_mail = true;
		mime_walk(b, g_mime_multipart_get_part(mp, 0));
		for (int i = 1; i < count; i++) {
			GMimeObject *sig = g_mime_multipart_get_part(mp, i);
			char *sig_media = mime_walk_media(sig);
			mail_part_removed(b, sig, sig_media, MIME_WALK_SIGNATURE_GONE);
			free(sig_media);
		}
		return;
	}
	for (int i = 0; i < count && !b->internal_error && !b->never_reason; i++)
		mime_walk(b, g_mime_multipart_get_part(mp, i));
}

static void
mime_walk_message_part(struct mail_build *b, GMimeObject *obj)
{
	GMimeMessage *inner = g_mime_message_part_get_message(GMIME_MESSAGE_PART(obj));
	GMimeStream *mem;
	GByteArray *bytes;

	if (inner == NULL) {
		mail_part_record(b, NULL, "message/rfc822", "removed", "empty attached message", 0);
		return;
	}
	mem = g_mime_stream_mem_new();
	g_mime_object_write_to_stream(GMIME_OBJECT(inner), NULL, mem);
	bytes = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem));
	mail_nested(b, bytes->data, bytes->len, NULL);
	g_object_unref(mem);
}

static void
mime_walk_leaf(struct mail_build *b, GMimeObject *obj, const char *media)
{
	bool attachment = mime_walk_is_attachment(obj);

	if (strcmp(media, "text/plain") == 0 && !attachment)
		mail_part_text(b, obj, media);
	else if (strcmp(media, "text/html") == 0 && !attachment)
		mail_part_html(b, obj, !b->have_body);
	else if (strcmp(media, "application/pgp-signature") == 0 ||
	    strcmp(media, "application/pkcs7-signature") == 0 ||
	    strcmp(media, "application/x-pkcs7-signature") == 0)
		mail_part_removed(b, obj, media, MIME_WALK_SIGNATURE_GONE);
	else
		mail_part_attachment(b, obj, media);
}

void
mime_walk(struct mail_build *b, GMimeObject *obj)
{
	char *media;

	if (obj == NULL || b->internal_error || b->never_reason)
		return;
	if (++*b->parts_seen > b->mc->config.max_parts) {
		if (*b->parts_seen == b->mc->config.max_parts + 1)
			mail_part_record(b, NULL, NULL, "removed", "too many MIME parts", 0);
		return;
	}
	media = mime_walk_media(obj);
	if (mime_walk_sealed(obj, media) != NULL) {
		b->rep->encrypted = true;
		b->never_reason = strdup(mime_walk_sealed(obj, media));
	} else if (GMIME_IS_MULTIPART(obj)) {
		mime_walk_multipart(b, obj, media);
	} else if (GMIME_IS_MESSAGE_PART(obj)) {
		mime_walk_message_part(b, obj);
	} else if (GMIME_IS_PART(obj)) {
		mime_walk_leaf(b, obj, media);
	}
	free(media);
}
