/* tool_explain.c -- tiergate-policy explain (being written). */
#include "policy/tool.h"

int
tool_explain(int argc, char **argv)
{
	return tool_usage_error("%s: not written yet", "explain");
}
