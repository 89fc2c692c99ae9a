/* tool_bench.c -- tiergate-policy bench (being written). */
#include "policy/tool.h"

int
tool_bench(int argc, char **argv)
{
	return tool_usage_error("%s: not written yet", "bench");
}
