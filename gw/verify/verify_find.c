/* verify_find.c -- finding the cases under the folders named on the command line. */
#include "gw/verify/verify_find.h"

#include <dirent.h>
#include <errno.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gw/verify/verify_case.h"
#include "gw/verify/verify_str.h"
#include "lib/log.h"
#include "lib/util.h"

static bool
vfind_is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static bool
vfind_has_case(const char *dir)
{
	char *conf = vs_printf("%s/%s", dir, VCASE_FILE);
	bool yes = access(conf, F_OK) == 0;

	free(conf);
	return yes;
}

static void
vfind_add(struct vcase_list *out, const char *dir, const char *name, const char *root)
{
	struct vcase_ref *ref;

	out->v = xrealloc(out->v, out->n + 1, sizeof *out->v);
	ref = &out->v[out->n++];
	ref->dir = xstrdup(dir);
	ref->name = xstrdup(name);
	ref->suite = root;
}

static void
vfind_walk(const char *root, const char *dir, const char *rel, int depth, struct vcase_list *out)
{
	struct dirent **names;
	int count;

	if (depth > VFIND_MAX_DEPTH)
		return;
	count = scandir(dir, &names, NULL, alphasort);
	if (count < 0) {
		log_warn("%s", dir);
		return;
	}
	for (int i = 0; i < count; i++) {
		char *child = vs_printf("%s/%s", dir, names[i]->d_name);
		char *child_rel = rel[0] ? vs_printf("%s/%s", rel, names[i]->d_name) : xstrdup(names[i]->d_name);
		if (names[i]->d_name[0] != '.' && vfind_is_dir(child)) {
			if (vfind_has_case(child))
				vfind_add(out, child, child_rel, root);
			else
				vfind_walk(root, child, child_rel, depth + 1, out);
		}
		free(child);
		free(child_rel);
		free(names[i]);
	}
	free(names);
}

int
vfind_cases(const char *root, struct vcase_list *out)
{
	char *copy;
	size_t len = strlen(root);
	char *trimmed = xstrdup(root);

	while (len > 1 && trimmed[len - 1] == '/')
		trimmed[--len] = '\0';
	if (!vfind_is_dir(trimmed)) {
		log_warnx("%s: %s", root, access(trimmed, F_OK) == 0 ? "not a folder" : "no such folder");
		free(trimmed);
		return -1;
	}
	if (vfind_has_case(trimmed)) {
		copy = xstrdup(trimmed);
		vfind_add(out, trimmed, basename(copy), root);
		free(copy);
	} else {
		vfind_walk(root, trimmed, "", 0, out);
	}
	free(trimmed);
	return 0;
}

void
vfind_free(struct vcase_list *list)
{
	for (size_t i = 0; i < list->n; i++) {
		free(list->v[i].dir);
		free(list->v[i].name);
	}
	free(list->v);
	list->v = NULL;
	list->n = 0;
}
