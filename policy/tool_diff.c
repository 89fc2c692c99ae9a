/* tool_diff.c -- tiergate-policy diff (being written). */
#include "policy/tool.h"

int
tool_diff(int argc, char **argv)
{
	return tool_usage_error("%s: not written yet", "diff");
}
