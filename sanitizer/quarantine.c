/* quarantine.c -- originals kept by SHA-256 with a JSON metadata file beside, expired by age, released by an admin. */
#include "sanitizer/quarantine.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lib/event.h"
#include "lib/json.h"
#include "lib/log.h"
#include "lib/util.h"

#define META_MAX (4u << 20)

int
quarantine_open(const char *dir)
{
	return dir_make_all(dir, 0700);
}

bool
quarantine_id_valid(const char *id)
{
	size_t i;

	for (i = 0; id && id[i]; i++)
		if (!((id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' && id[i] <= 'f')))
			return false;
	return i == 64;
}

static void
quarantine_path(const char *dir, const char *id, const char *suffix, char *out, size_t size)
{
	snprintf(out, size, "%s/%s%s", dir, id, suffix);
}

static int
quarantine_sha256(const uint8_t *data, size_t len, char id[QUARANTINE_ID_LEN])
{
	uint8_t md[32];
	unsigned md_len = 0;

	if (EVP_Digest(data, len, md, &md_len, EVP_sha256(), NULL) != 1 || md_len != 32)
		return -1;
	hex_encode(md, 32, id);
	return 0;
}

static void
meta_strings(struct jbuf *jb, const char *key, const char *const *v, size_t n)
{
	jb_arr_begin(jb, key);
	for (size_t i = 0; i < n; i++)
		jb_str(jb, NULL, v[i]);
	jb_arr_end(jb);
}

/* How often the same bytes were quarantined before (the old metadata's "count"). */
static long long
quarantine_seen_count(const char *dir, const char *id)
{
	char path[4096];
	uint8_t *text = NULL;
	size_t len = 0;
	long long count = 0;

	quarantine_path(dir, id, ".json", path, sizeof path);
	if (file_read_all(path, META_MAX, &text, &len) == 0) {
		struct json_value meta;
		struct json_error err;
		int64_t n;

		if (json_parse((const char *)text, len, &meta, &err) == 0 && json_get_int(&meta, "count", &n))
			count = n;
		json_free(&meta);
		free(text);
	}
	return count > 0 ? count : 0;
}

static int
quarantine_write_meta(const char *dir, const char *id, size_t size, const struct quarantine_meta *m)
{
	struct jbuf jb = JBUF_INIT;
	char path[4096], when[40];
	uint64_t now = ev_now_us();
	int rc;

	ev_timestamp(when, now);
	jb_obj_open(&jb);
	jb_str(&jb, "id", id);
	jb_str(&jb, "kind", m->kind ? m->kind : "file");
	jb_str(&jb, "name", m->name);
	jb_str(&jb, "declared_type", m->declared_mime);
	jb_str(&jb, "detected_type", m->detected_mime);
	jb_str(&jb, "reason", m->reason);
	jb_str(&jb, "source", m->source);
	jb_uint(&jb, "size", size);
	jb_int(&jb, "time", (int64_t)(now / 1000000));
	jb_str(&jb, "time_iso", when);
	jb_int(&jb, "count", quarantine_seen_count(dir, id) + 1);
	meta_strings(&jb, "findings", m->findings, m->findings ? m->n_findings : 0);
	if (m->kind && strcmp(m->kind, "mail") == 0) {
		jb_str(&jb, "sender", m->sender ? m->sender : "");
		meta_strings(&jb, "recipients", m->recipients, m->recipients ? m->n_recipients : 0);
	} else if (m->recipients && m->n_recipients == 1) {
		jb_str(&jb, "owner", m->recipients[0]);
	}
	jb_obj_end(&jb);
	jb_cstr(&jb);
	quarantine_path(dir, id, ".json", path, sizeof path);
	rc = jb.oom ? -1 : file_write_atomic(path, jb_cstr(&jb), jb.len, 0600);
	jb_free(&jb);
	return rc;
}

int
quarantine_put(const char *dir, const uint8_t *data, size_t len,
    const struct quarantine_meta *meta, char id[QUARANTINE_ID_LEN])
{
	char path[4096];
	struct stat st;

	if (quarantine_open(dir) < 0 || quarantine_sha256(data, len, id) < 0) {
		log_warn("quarantine: cannot use %s", dir);
		return -1;
	}
	quarantine_path(dir, id, "", path, sizeof path);
	if ((stat(path, &st) < 0 || (size_t)st.st_size != len) &&
	    file_write_atomic(path, data, len, 0600) < 0) {
		log_warn("quarantine: cannot write %s", path);
		return -1;
	}
	/* the sanitizer report beside the metadata, for `show` */
	if (meta->report_json) {
		quarantine_path(dir, id, ".report.json", path, sizeof path);
		file_write_atomic(path, meta->report_json, strlen(meta->report_json), 0600);
	}
	if (quarantine_write_meta(dir, id, len, meta) < 0) {   /* last: the item is complete now */
		log_warn("quarantine: cannot write metadata of %s", id);
		return -1;
	}
	return 0;
}

void
quarantine_item_free(struct quarantine_item *item)
{
	free(item->kind);
	free(item->name);
	free(item->declared_mime);
	free(item->detected_mime);
	free(item->reason);
	free(item->source);
	free(item->sender);
	free(item->owner);
	for (size_t i = 0; i < item->n_recipients; i++)
		free(item->recipients[i]);
	free(item->recipients);
	free(item->meta_json);
	memset(item, 0, sizeof *item);
}

static char *
quarantine_meta_str(const struct json_value *meta, const char *key)
{
	const char *s = json_get_str(meta, key);

	return s ? xstrdup(s) : NULL;
}

static long long
quarantine_meta_int(const struct json_value *meta, const char *key)
{
	int64_t n;

	return json_get_int(meta, key, &n) ? n : -1;
}

/* The item's fields from its metadata; metadata that does not parse leaves them unset. */
static void
quarantine_item_from_meta(struct quarantine_item *item, const char *text, size_t len)
{
	struct json_value meta;
	struct json_error err;

	item->size = UINT64_MAX;   /* what a missing size or time reads as */
	item->time = -1;
	if (json_parse(text, len, &meta, &err) < 0)
		return;
	item->kind = quarantine_meta_str(&meta, "kind");
	item->name = quarantine_meta_str(&meta, "name");
	item->declared_mime = quarantine_meta_str(&meta, "declared_type");
	item->detected_mime = quarantine_meta_str(&meta, "detected_type");
	item->reason = quarantine_meta_str(&meta, "reason");
	item->source = quarantine_meta_str(&meta, "source");
	item->sender = quarantine_meta_str(&meta, "sender");
	item->n_recipients = json_get_strings(&meta, "recipients", &item->recipients);
	item->owner = quarantine_meta_str(&meta, "owner");
	item->size = (uint64_t)quarantine_meta_int(&meta, "size");
	item->time = quarantine_meta_int(&meta, "time");
	json_free(&meta);
}

int
quarantine_get(const char *dir, const char *id, struct quarantine_item *item)
{
	char path[4096];
	uint8_t *text = NULL;
	size_t len = 0;

	memset(item, 0, sizeof *item);
	if (!quarantine_id_valid(id)) {
		errno = ENOENT;
		return -1;
	}
	quarantine_path(dir, id, ".json", path, sizeof path);
	if (file_read_all(path, META_MAX, &text, &len) < 0)
		return -1;
	memcpy(item->id, id, QUARANTINE_ID_LEN);
	quarantine_item_from_meta(item, (const char *)text, len);
	item->meta_json = xmalloc(len + 1);
	memcpy(item->meta_json, text, len);
	item->meta_json[len] = '\0';
	free(text);
	if (item->kind == NULL)
		item->kind = xstrdup("file");
	return 0;
}

int
quarantine_read(const char *dir, const char *id, uint8_t **data, size_t *len)
{
	char path[4096];

	if (!quarantine_id_valid(id)) {
		errno = ENOENT;
		return -1;
	}
	quarantine_path(dir, id, "", path, sizeof path);
	return file_read_all(path, SIZE_MAX / 2, data, len);
}

static int
item_time_cmp(const void *a, const void *b)
{
	const struct quarantine_item *x = a, *y = b;

	return x->time < y->time ? -1 : x->time > y->time;
}

/* The IDs of complete items (those with metadata). */
static size_t
quarantine_ids(const char *dir, char (**ids)[QUARANTINE_ID_LEN])
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t n = 0;

	*ids = NULL;
	if (d == NULL)
		return 0;
	while ((e = readdir(d)) != NULL) {
		size_t l = strlen(e->d_name);
		if (l != 64 + 5 || strcmp(e->d_name + 64, ".json") != 0)
			continue;
		*ids = xrealloc(*ids, n + 1, sizeof **ids);
		memcpy((*ids)[n], e->d_name, 64);
		(*ids)[n][64] = '\0';
		if (quarantine_id_valid((*ids)[n]))
			n++;
	}
	closedir(d);
	return n;
}

int
quarantine_list(const char *dir, void (*fn)(const struct quarantine_item *, void *), void *arg)
{
	char (*ids)[QUARANTINE_ID_LEN];
	size_t n = quarantine_ids(dir, &ids), kept = 0;
	struct quarantine_item *items = xcalloc(n ? n : 1, sizeof *items);

	for (size_t i = 0; i < n; i++)
		if (quarantine_get(dir, ids[i], &items[kept]) == 0)
			kept++;
	qsort(items, kept, sizeof *items, item_time_cmp);
	for (size_t i = 0; i < kept; i++) {
		if (fn)
			fn(&items[i], arg);
		quarantine_item_free(&items[i]);
	}
	free(items);
	free(ids);
	return (int)kept;
}

int
quarantine_remove(const char *dir, const char *id)
{
	char path[4096];
	int rc = 0;

	if (!quarantine_id_valid(id)) {
		errno = ENOENT;
		return -1;
	}
	/* metadata first: a half-removed item is incomplete, never a listed item without its bytes */
	quarantine_path(dir, id, ".json", path, sizeof path);
	rc |= unlink(path);
	quarantine_path(dir, id, ".report.json", path, sizeof path);
	unlink(path);
	quarantine_path(dir, id, "", path, sizeof path);
	rc |= unlink(path);
	return rc ? -1 : 0;
}

/* Originals whose metadata never got written (a crash mid-put), older than a day. */
static int
quarantine_expire_orphans(const char *dir, int64_t now)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int removed = 0;

	if (d == NULL)
		return 0;
	while ((e = readdir(d)) != NULL) {
		char path[4096];
		struct stat st;
		if (!quarantine_id_valid(e->d_name))
			continue;
		quarantine_path(dir, e->d_name, ".json", path, sizeof path);
		if (stat(path, &st) == 0)
			continue;
		quarantine_path(dir, e->d_name, "", path, sizeof path);
		if (stat(path, &st) == 0 && now - st.st_mtime > 86400 && unlink(path) == 0)
			removed++;
	}
	closedir(d);
	return removed;
}

int
quarantine_expire(const char *dir, unsigned days, int64_t now)
{
	char (*ids)[QUARANTINE_ID_LEN];
	size_t n;
	int removed = 0;

	if (days == 0)
		return 0;
	n = quarantine_ids(dir, &ids);
	for (size_t i = 0; i < n; i++) {
		struct quarantine_item item;
		if (quarantine_get(dir, ids[i], &item) < 0)
			continue;
		if (item.time >= 0 && now - item.time > (int64_t)days * 86400 &&
		    quarantine_remove(dir, ids[i]) == 0)
			removed++;
		quarantine_item_free(&item);
	}
	free(ids);
	return removed + quarantine_expire_orphans(dir, now);
}

int
quarantine_release_file(const char *dir, const char *id, const char *path)
{
	uint8_t *data = NULL;
	size_t len = 0;
	int rc;

	if (quarantine_read(dir, id, &data, &len) < 0)
		return -1;
	rc = file_write_atomic(path, data, len, 0600);
	free(data);
	return rc;
}

/* sendmail -i -f SENDER -- RCPT... with the original on stdin; no shell anywhere. */
static int
quarantine_sendmail(const char *sendmail, const char *sender, char *const *rcpts, size_t n, int in_fd)
{
	char **argv = xcalloc(n + 6, sizeof *argv);
	size_t a = 0;
	int status = 0;
	pid_t pid;

	argv[a++] = (char *)(uintptr_t)sendmail;
	argv[a++] = (char *)"-i";
	argv[a++] = (char *)"-f";
	argv[a++] = (char *)(uintptr_t)(sender ? sender : "");
	argv[a++] = (char *)"--";
	for (size_t i = 0; i < n; i++)
		argv[a++] = rcpts[i];
	pid = fork();
	if (pid == 0) {
		dup2(in_fd, 0);
		execv(sendmail, argv);
		_exit(127);
	}
	free(argv);
	if (pid < 0)
		return -1;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

/* rcpt NULL: every recipient of the item; else that one, who must be one of them. */
static int
quarantine_release_mail_rcpts(const char *dir, const char *id, const char *sendmail, const char *rcpt)
{
	struct quarantine_item item;
	char path[4096];
	char *one[1] = { (char *)(uintptr_t)rcpt };
	bool found = rcpt == NULL;
	int fd, rc;

	if (quarantine_get(dir, id, &item) < 0)
		return -1;
	for (size_t i = 0; rcpt && i < item.n_recipients; i++)
		found |= strcasecmp(item.recipients[i], rcpt) == 0;
	if (item.n_recipients == 0 || !found) {
		quarantine_item_free(&item);
		errno = EINVAL;
		return -1;
	}
	quarantine_path(dir, id, "", path, sizeof path);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	rc = fd < 0 ? -1 : quarantine_sendmail(sendmail, item.sender, rcpt ? one : item.recipients,
	    rcpt ? 1 : item.n_recipients, fd);
	if (fd >= 0)
		close(fd);
	quarantine_item_free(&item);
	return rc;
}

int
quarantine_release_mail(const char *dir, const char *id, const char *sendmail)
{
	return quarantine_release_mail_rcpts(dir, id, sendmail, NULL);
}

int
quarantine_release_mail_to(const char *dir, const char *id, const char *sendmail, const char *rcpt)
{
	return quarantine_release_mail_rcpts(dir, id, sendmail, rcpt);
}
