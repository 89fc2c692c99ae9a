/* verify.h -- tiergate-verify: the options of a run and the result of one case. */
#ifndef TIERGATE_VERIFY_H
#define TIERGATE_VERIFY_H

#include <stdbool.h>
#include <stddef.h>

struct vopts {
	const char *gw;         /* tiergate-gw to run */
	const char *policy;     /* --policy: candidate replacing every case's own, or NULL */
	const char *junit;      /* --junit FILE, or NULL */
	const char *workdir;    /* temporary directory of this run (events, logs, results) */
	bool update;            /* --update: record the verdicts as the new expectations */
	bool verbose;           /* -v */
	int jobs;               /* cases run at once */
	int timeout_s;          /* per tiergate-gw run */
};

enum vstatus { VSTATUS_PASS, VSTATUS_FAIL, VSTATUS_UPDATED, VSTATUS_SAME };

struct vresult {
	enum vstatus status;
	size_t nchecks;
	char *reason;           /* one line: why it failed, or what --update changed */
	char *details;          /* explanation, diff, or (-v) what ran; may be empty */
	double seconds;         /* wall time, measured by the scheduler */
};

/* A case found on the command line: its folder, its name in reports, its suite (the DIR given). */
struct vcase_ref {
	char *dir;
	char *name;
	const char *suite;
};

/* Runs the case in ref (in a worker process) and fills res. */
void vrun_case(const struct vopts *opts, const struct vcase_ref *ref, size_t slot, struct vresult *res);

/* Result files pass a worker's result to the scheduler. */
int vresult_save(const struct vresult *res, const char *path);
int vresult_load(struct vresult *res, const char *path);
void vresult_free(struct vresult *res);
const char *vstatus_word(enum vstatus status);
bool vstatus_ok(enum vstatus status);

#endif
