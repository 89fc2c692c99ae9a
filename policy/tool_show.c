/* tool_show.c -- tiergate-policy show (being written). */
#include "policy/tool.h"

int
tool_show(int argc, char **argv)
{
	return tool_usage_error("%s: not written yet", "show");
}
