/* qrel_file.c -- a released original written below release_dir, walked component by component with openat. */
#include "sanitizer/qrel_file.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/util.h"
#include "sanitizer/uniqname.h"

/* The part of path below release_dir, or NULL when path is elsewhere. */
static const char *
qrel_file_relative(const char *release_dir, const char *path)
{
	size_t n = strlen(release_dir);

	while (n > 1 && release_dir[n - 1] == '/')
		n--;
	if (path[0] != '/')
		return path;
	if (strncmp(path, release_dir, n) != 0 || path[n] != '/')
		return NULL;
	return path + n + 1;
}

static bool
qrel_file_component_ok(const char *c)
{
	return c[0] != '\0' && strcmp(c, ".") != 0 && strcmp(c, "..") != 0;
}

int
qrel_file_path_ok(const char *release_dir, const char *path, const char **err)
{
	const char *rel = qrel_file_relative(release_dir, path);
	char *copy, *comp, *save = NULL;
	int rc = 0;

	if (rel == NULL)
		return *err = "--to must be inside the release directory", -1;
	if (*rel == '\0' || rel[strlen(rel) - 1] == '/' || strstr(rel, "//") != NULL)
		return *err = "empty, '.' or '..' path component", -1;
	copy = xstrdup(rel);
	for (comp = strtok_r(copy, "/", &save); comp; comp = strtok_r(NULL, "/", &save))
		if (!qrel_file_component_ok(comp))
			rc = -1, *err = "empty, '.' or '..' path component";
	free(copy);
	return rc;
}

static int
qrel_file_write_fd(int dfd, const char *name, const uint8_t *data, size_t len, const char **err)
{
	struct stat dst;
	int fd = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	size_t off = 0;

	if (fd < 0)
		return *err = errno == EEXIST ? "the file exists already (never overwritten)" :
		    "cannot create the file", -1;
	while (off < len) {
		ssize_t w = write(fd, data + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			close(fd);
			unlinkat(dfd, name, 0);
			return *err = "write failed", -1;
		}
		off += (size_t)w;
	}
	/* the user's own directory: the file becomes theirs, still 0600 */
	if (fstat(dfd, &dst) == 0 && dst.st_uid != 0 && fchown(fd, dst.st_uid, dst.st_gid) < 0) {
		close(fd);
		unlinkat(dfd, name, 0);
		return *err = "cannot give the file to the directory's owner", -1;
	}
	if (fsync(fd) < 0 || close(fd) < 0)
		return *err = "write failed", -1;
	return 0;
}

int
qrel_file_write(const char *release_dir, const char *path, const uint8_t *data, size_t len,
    const char **err)
{
	const char *rel = qrel_file_relative(release_dir, path);
	char *copy, *comp, *slash;
	int dfd, rc = -1;

	if (rel == NULL)
		return *err = "--to must be inside the release directory", -1;
	if ((dfd = open(release_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return *err = "the release directory cannot be opened", -1;
	copy = xstrdup(rel);
	for (comp = copy; (slash = strchr(comp, '/')) != NULL; comp = slash + 1) {
		int next;
		*slash = '\0';
		if (!qrel_file_component_ok(comp)) {
			*err = "empty, '.' or '..' path component";
			goto out;
		}
		next = openat(dfd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (next < 0) {
			*err = errno == ELOOP || errno == ENOTDIR ? "a symbolic link or a file on the way" :
			    "no such directory inside the release directory";
			goto out;
		}
		close(dfd);
		dfd = next;
	}
	if (!qrel_file_component_ok(comp))
		*err = "empty, '.' or '..' file name";
	else
		rc = qrel_file_write_fd(dfd, comp, data, len, err);
out:
	free(copy);
	close(dfd);
	return rc;
}

/* ROOT/USER as a directory fd: made 0700 and given to the user when missing; an existing one must be theirs. */
static int
qrel_file_user_dir(const char *root, const struct passwd *pw, const char **err)
{
	int rfd = open(root, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC), dfd;
	struct stat st;
	bool made;

	if (rfd < 0)
		return *err = "user_release_root cannot be opened", -1;
	made = mkdirat(rfd, pw->pw_name, 0700) == 0;
	dfd = openat(rfd, pw->pw_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	close(rfd);
	if (dfd < 0)
		return *err = "the user's release directory is a symbolic link or not a directory", -1;
	if (made && (fchown(dfd, pw->pw_uid, pw->pw_gid) < 0 || fchmod(dfd, 0700) < 0)) {
		close(dfd);
		return *err = "cannot give the new release directory to its user", -1;
	}
	if (fstat(dfd, &st) < 0 || st.st_uid != pw->pw_uid) {
		close(dfd);
		return *err = "the user's release directory belongs to someone else", -1;
	}
	return dfd;
}

/* The stored name as a single path element ("original" when it cannot be one). */
static const char *
qrel_file_leaf(const char *name)
{
	return name && name[0] && strchr(name, '/') == NULL && qrel_file_component_ok(name) &&
	    strlen(name) < 256 ? name : "original";
}

int
qrel_file_to_user(const char *root, const char *user, const char *name, const uint8_t *data, size_t len,
    char **written, const char **err)
{
	struct passwd *pw = getpwnam(user);
	const char *why = "no free name in the user's release directory";
	int dfd, rc = -1;

	*written = NULL;
	if (root == NULL)
		return *err = "no user_release_root configured", -1;
	if (pw == NULL || pw->pw_uid == 0)
		return *err = "no such user (or root) for the release directory", -1;
	if ((dfd = qrel_file_user_dir(root, pw, err)) < 0)
		return -1;
	for (unsigned n = 1; n < 1000; n++) {
		char *leaf = uniqname_nth(qrel_file_leaf(name), n);
		int fd = openat(dfd, leaf, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd < 0) {
			free(leaf);
			if (errno == EEXIST)
				continue;   /* a file or a planted symlink of that name: never followed, never replaced */
			why = "cannot create the file";
			break;
		}
		if (fd_write_all(fd, data, len) < 0 || fchown(fd, pw->pw_uid, pw->pw_gid) < 0 || fsync(fd) < 0) {
			close(fd);
			unlinkat(dfd, leaf, 0);
			free(leaf);
			why = "write failed";
			break;
		}
		close(fd);
		*written = xstrfmt("%s/%s/%s", root, pw->pw_name, leaf);
		free(leaf);
		rc = 0;
		break;
	}
	close(dfd);
	if (rc < 0)
		*err = why;
	return rc;
}
