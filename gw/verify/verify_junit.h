/* verify_junit.h -- the results as JUnit XML, the report format GitLab, Jenkins and GitHub display. */
#ifndef TIERGATE_VERIFY_JUNIT_H
#define TIERGATE_VERIFY_JUNIT_H

#include <stddef.h>
#include <stdio.h>

#include "gw/verify/verify.h"

/*
 * One <testsuite> per folder given on the command line (cases[i].suite), one
 * <testcase> per case, a <failure message="first reason"> with the details
 * as its text; with policy (--policy), a property naming the candidate. Returns 0, or -1 (errno set) when the file cannot be written.
 */
int vjunit_write(const char *path, const struct vcase_ref *cases, const struct vresult *results,
    size_t n, double total_seconds, const char *policy);

/* XML-escapes s for text and attribute values; invalid UTF-8 and bytes XML forbids become U+FFFD. */
void vjunit_escape(FILE *out, const char *s);

#endif
