/* notice.c -- the notice part the recipient reads: each original attachment, what became of it and why (日本語 / English). */
#include <string.h>

#include "lib/textclean.h"

#include "sanitizer/mail/mail_int.h"

struct notice_phrase {
	const char *action, *ja, *en;
};

static const struct notice_phrase notice_phrases[] = {
	{ "flattened", "画像化したPDFに変換しました", "converted to an image-only PDF" },
	{ "text", "テキストに変換しました", "converted to plain text" },
	{ "reencoded", "画像を再作成しました（メタデータ削除）", "image re-encoded, metadata removed" },
	{ "archive", "中のファイルを一つずつ無害化しました", "archive rebuilt from its sanitized files" },
	{ "message", "添付メールを同じ方法で無害化しました", "attached message sanitized the same way" },
	{ "blocked", "削除しました", "removed" },
	{ "removed", "削除しました", "removed" },
};

static const struct notice_phrase *
notice_phrase(const char *action)
{
	for (size_t i = 0; i < sizeof notice_phrases / sizeof notice_phrases[0]; i++)
		if (strcmp(notice_phrases[i].action, action) == 0)
			return &notice_phrases[i];
	return &notice_phrases[5];
}

static void
notice_indent(struct mbuf *out, unsigned depth)
{
	for (unsigned i = 0; i < depth; i++)
		mbuf_addstr(out, "    ");
}

/* Every name and reason the notice shows goes through the one cleaner (lib/textclean.c) once more. */
static const char *
notice_clean(const char *s, char *buf, size_t size)
{
	if (s == NULL)
		return NULL;
	textclean_name(s, strlen(s), buf, size, NULL);
	return buf;
}

static void
notice_part(struct mbuf *out, const struct mail_part_report *part, size_t n, bool ja)
{
	char name_buf[1024], out_buf[1024], reason_buf[2048];
	struct mail_part_report shown = *part, *p = &shown;
	const struct notice_phrase *ph = notice_phrase(p->action);

	shown.name = (char *)notice_clean(part->name, name_buf, sizeof name_buf);
	shown.out_name = (char *)notice_clean(part->out_name, out_buf, sizeof out_buf);
	shown.reason = (char *)notice_clean(part->reason, reason_buf, sizeof reason_buf);
	const char *name = p->name ? p->name : (ja ? "（名前なし）" : "(no name)");

	notice_indent(out, p->depth);
	mbuf_printf(out, "%zu. %s (%s, %zu %s)\n", n, name,
	    p->declared_mime ? p->declared_mime : "?", p->size_in, ja ? "バイト" : "bytes");
	notice_indent(out, p->depth);
	mbuf_printf(out, "   -> %s", ja ? ph->ja : ph->en);
	if (p->out_name && (p->name == NULL || strcmp(p->out_name, p->name) != 0))
		mbuf_printf(out, ja ? "（%s）" : " (%s)", p->out_name);
	mbuf_addc(out, '\n');
	if (p->reason) {
		notice_indent(out, p->depth);
		mbuf_printf(out, "   %s %s\n", ja ? "理由:" : "reason:", p->reason);
	}
}

static void
notice_body_notes(struct mbuf *out, const struct mail_report *rep, bool ja)
{
	if (rep->html_converted)
		mbuf_addstr(out, ja ? "・HTMLメールをテキストに変換しました。リンクは文字として表示され、クリックできません。\n"
				    : "- The HTML body was converted to text; links are shown as text and are not clickable.\n");
	if (rep->signed_mail)
		mbuf_addstr(out, ja ? "・電子署名付きのメールでした。再構成したため、署名はこのメールには適用されません。\n"
				    : "- The message was signed; it was rebuilt, so the signature no longer applies.\n");
	if (rep->broken_mime)
		mbuf_addstr(out, ja ? "・メールの構造（MIME）が壊れていたため、読み取れた範囲をテキストで表示しています。\n"
				    : "- The MIME structure was broken; what could be read is shown as text.\n");
}

/* The release portal's links, one per recipient: each works only for that recipient. */
static void
notice_links(struct mbuf *out, const struct mail_report *rep, bool ja)
{
	mbuf_printf(out, ja ? "\n元のメールは保管されています（隔離ID: %s）。\n"
			      "元のファイルが必要な場合は、次のリンクから理由を添えて申請できます（承認が必要です）。\n"
			    : "\nThe original is kept (quarantine ID: %s).\n"
			      "If you need it, ask for it with a reason at the link below (an approver decides).\n",
	    rep->quarantine_id);
	for (size_t i = 0; i < rep->n_links; i++)
		mbuf_printf(out, "%s %s:\n  %s\n", ja ? "宛先" : "for", rep->link_rcpt[i], rep->link_url[i]);
}

static void
notice_section(struct mbuf *out, const struct mail_report *rep, bool ja)
{
	size_t n = 0;

	mbuf_addstr(out, ja ? "【無害化のお知らせ】\n"
			      "このメールはインターネットから届いたため、安全な形に作り直して配送しました。\n"
			    : "[Sanitization notice]\n"
			      "This message came from the internet and was rebuilt in a safe form before delivery.\n");
	notice_body_notes(out, rep, ja);
	for (size_t i = 0; i < rep->n_parts; i++)
		if (strcmp(rep->parts[i].action, "body") != 0)
			n++;
	if (n) {
		mbuf_addstr(out, ja ? "\n元の添付ファイル:\n" : "\nOriginal attachments:\n");
		n = 0;
		for (size_t i = 0; i < rep->n_parts; i++)
			if (strcmp(rep->parts[i].action, "body") != 0)
				notice_part(out, &rep->parts[i], ++n, ja);
	}
	if (rep->quarantine_id[0] && rep->n_links > 0)
		notice_links(out, rep, ja);
	else if (rep->quarantine_id[0])
		mbuf_printf(out, ja ? "\n元のメールは保管されています（隔離ID: %s）。\n"
				      "元のファイルが必要な場合は、この隔離IDを添えて情報システム担当にご連絡ください。\n"
				    : "\nThe original is kept (quarantine ID: %s).\n"
				      "If you need the original, ask the IT administrator with this ID.\n",
		    rep->quarantine_id);
}

void
notice_write(struct mbuf *out, const struct mail_report *rep, enum mail_notice_lang lang)
{
	if (lang != MAIL_NOTICE_EN)
		notice_section(out, rep, true);
	if (lang == MAIL_NOTICE_JA_EN)
		mbuf_addstr(out, "\n----------------------------------------\n\n");
	if (lang != MAIL_NOTICE_JA)
		notice_section(out, rep, false);
}

void
notice_write_quarantined(struct mbuf *out, const struct mail_report *rep, enum mail_notice_lang lang)
{
	char reason_buf[2048], subject_buf[2048];
	const char *reason = rep->reason ? notice_clean(rep->reason, reason_buf, sizeof reason_buf) : "unknown";
	const char *subject = rep->subject ? notice_clean(rep->subject, subject_buf, sizeof subject_buf) : "";

	if (lang != MAIL_NOTICE_EN)
		mbuf_printf(out, "【無害化のお知らせ】\n"
		    "インターネットから届いたこのメールは、安全な形に作り直すことができないため、"
		    "本文と添付ファイルをお届けできません。元のメールは隔離されています。\n"
		    "理由: %s\n件名: %s\n隔離ID: %s\n"
		    "必要な場合は、この隔離IDを添えて情報システム担当にご連絡ください。\n",
		    reason, subject, rep->quarantine_id);
	if (lang == MAIL_NOTICE_JA_EN)
		mbuf_addstr(out, "\n----------------------------------------\n\n");
	if (lang != MAIL_NOTICE_JA)
		mbuf_printf(out, "[Sanitization notice]\n"
		    "This message from the internet cannot be rebuilt in a safe form, so its text and "
		    "attachments are not delivered. The original is quarantined.\n"
		    "Reason: %s\nQuarantine ID: %s\n"
		    "If you need it, ask the IT administrator with this ID.\n",
		    reason, rep->quarantine_id);
}
