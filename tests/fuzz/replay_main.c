/* replay_main.c -- runs a libFuzzer target over corpus files/directories (the make test replay). */
#include <dirent.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

static int replay_file(const char *path);

static int
replay_dir(const char *path)
{
	struct dirent **names;
	int count = scandir(path, &names, NULL, alphasort), done = 0;

	if (count < 0) {
		perror(path);
		return -1;
	}
	for (int i = 0; i < count; i++) {
		char child[4096];
		if (names[i]->d_name[0] != '.') {
			snprintf(child, sizeof child, "%s/%s", path, names[i]->d_name);
			if (replay_file(child) < 0)
				done = -1;
		}
		free(names[i]);
	}
	free(names);
	return done;
}

static int
replay_file(const char *path)
{
	struct stat st;
	FILE *f;
	uint8_t *buf;
	size_t len;

	if (stat(path, &st) < 0) {
		perror(path);
		return -1;
	}
	if (S_ISDIR(st.st_mode))
		return replay_dir(path);
	f = fopen(path, "rb");
	if (f == NULL) {
		perror(path);
		return -1;
	}
	buf = malloc((size_t)st.st_size + 1);
	len = buf ? fread(buf, 1, (size_t)st.st_size, f) : 0;
	fclose(f);
	if (buf == NULL)
		return -1;
	LLVMFuzzerTestOneInput(buf, len);
	free(buf);
	printf("replayed %s\n", path);
	return 0;
}

int
main(int argc, char **argv)
{
	int status = 0;

	if (LLVMFuzzerInitialize)
		LLVMFuzzerInitialize(&argc, &argv);
	for (int i = 1; i < argc; i++)
		if (replay_file(argv[i]) < 0)
			status = 1;
	return status;
}
