/* qrel_file.h -- writing a released original inside the release directory only (no .., no symlinks, never over a file). */
#ifndef TIERGATE_QREL_FILE_H
#define TIERGATE_QREL_FILE_H

#include <stddef.h>
#include <stdint.h>

/*
 * path is absolute and below release_dir, or relative to it. Each directory on
 * the way is opened with openat(O_NOFOLLOW|O_DIRECTORY) from the one before
 * (so a symlink anywhere below release_dir stops it), the file with
 * O_CREAT|O_EXCL|O_NOFOLLOW, mode 0600, owned by the owner of the directory it
 * lands in. Returns 0, or -1 with *err saying why.
 */
int qrel_file_write(const char *release_dir, const char *path, const uint8_t *data, size_t len,
    const char **err);

/* The same checks on the path alone (no file system access): to refuse a request before it waits. */
int qrel_file_path_ok(const char *release_dir, const char *path, const char **err);

/*
 * A file item released through the portal: written to ROOT/USER/NAME, the directory made
 * 0700 and given to the user when missing (an existing one must be theirs, not a symlink),
 * the file created with openat(O_CREAT|O_EXCL|O_NOFOLLOW) on the directory's fd, mode 0600,
 * owned by the user; a name that is taken (a file, or a symlink planted there) gives
 * "NAME (2).ext", "NAME (3).ext" ... Returns 0 and the path in *written (malloc'd), or -1
 * with *err.
 */
int qrel_file_to_user(const char *root, const char *user, const char *name, const uint8_t *data, size_t len,
    char **written, const char **err);

#endif
