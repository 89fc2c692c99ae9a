/* event.h -- JSON event lines (one object per line, EVE-like) shared by every part. */
#ifndef TIERGATE_EVENT_H
#define TIERGATE_EVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/*
 * A JSON object built in a caller-owned, growable buffer:
 *
 *	struct jbuf jb = JBUF_INIT;
 *	ev_begin(&jb, "flow", now_us);      // {"timestamp":"...","event":"flow"
 *	jb_str(&jb, "src_ip", "10.0.0.1");
 *	jb_obj_begin(&jb, "app"); jb_str(&jb, "name", "TLS"); jb_obj_end(&jb);
 *	ev_end(&jb);                          // }\n
 *	ev_emit(sink, &jb);                   // one write(2) per line
 *	jb_reset(&jb);                        // reuse the memory
 *
 * Strings are escaped per RFC 8259; valid UTF-8 is kept as is, invalid bytes
 * become U+FFFD so every line is valid JSON.
 */
struct jbuf {
	char *buf;
	size_t len, cap;
	int depth;        /* nesting level, for commas */
	uint32_t need_comma;  /* bit per depth: next member needs a comma */
	bool oom;         /* allocation failed: the line is dropped */
};
#define JBUF_INIT { NULL, 0, 0, 0, 0, false }

void jb_reset(struct jbuf *jb);
void jb_free(struct jbuf *jb);
const char *jb_cstr(struct jbuf *jb);   /* NUL-terminated view of the text */

void jb_obj_open(struct jbuf *jb);      /* a bare '{' (top level or array element) */
void jb_obj_begin(struct jbuf *jb, const char *key);   /* "key":{ */
void jb_obj_end(struct jbuf *jb);
void jb_arr_begin(struct jbuf *jb, const char *key);   /* "key":[ */
void jb_arr_end(struct jbuf *jb);

/* key == NULL appends an array element. */
void jb_str(struct jbuf *jb, const char *key, const char *val);   /* NULL val -> null */
void jb_strn(struct jbuf *jb, const char *key, const char *val, size_t len);
void jb_int(struct jbuf *jb, const char *key, int64_t val);
void jb_uint(struct jbuf *jb, const char *key, uint64_t val);
void jb_double(struct jbuf *jb, const char *key, double val);
void jb_bool(struct jbuf *jb, const char *key, bool val);
void jb_null(struct jbuf *jb, const char *key);

/* Appends s as a JSON string literal (with quotes) to jb: for callers that format by hand. */
void jb_quote(struct jbuf *jb, const char *s, size_t len);

/* Formats microseconds since the epoch as "2026-11-22T02:27:04.123456+0000". */
void ev_timestamp(char out[40], uint64_t usec);
uint64_t ev_now_us(void);

/* Starts an event object: timestamp (ts_us, 0 = now) and "event":name. */
void ev_begin(struct jbuf *jb, const char *name, uint64_t ts_us);
void ev_end(struct jbuf *jb);   /* closes the object and adds '\n' */

/* Where events go: a file descriptor (file, stdout, pipe); NULL sink discards. */
struct ev_sink;
struct ev_sink *ev_sink_open(const char *path);   /* "-" = stdout; appends */
struct ev_sink *ev_sink_fd(int fd);
void ev_sink_close(struct ev_sink *sink);
/* Writes the finished line atomically (one write). Returns 0 or -1 (errno set). */
int ev_emit(struct ev_sink *sink, struct jbuf *jb);
/*
 * After log rotation (on SIGHUP): ev_sink_reopen opens the path again; a process that
 * may not open files is handed the new one (ev_sink_new_fd in a process that may, then
 * ev_sink_swap, which takes fd and refuses anything but a regular file). Either way the
 * new file's first line chains to the old file's last, whichever process writes first
 * (lib/evsink.c). follow: the process may open the path again by itself, and does when
 * the path names another file or its file ends in "log_rotated" (slow writers, children
 * that are not sandboxed); otherwise lines written after another process sealed the old
 * file wait in memory for ev_sink_swap or ev_sink_reopen.
 */
int ev_sink_reopen(struct ev_sink *sink);
/* Opens the path again only if it names another file now (renamed by logrotate); follow does it at each line. */
int ev_sink_refresh(struct ev_sink *sink);
int ev_sink_new_fd(const struct ev_sink *sink);
int ev_sink_swap(struct ev_sink *sink, int fd);
void ev_sink_follow(struct ev_sink *sink, bool follow);

#endif
