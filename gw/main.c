/* main.c -- tiergate-gw: choose the offline (--pcap) or live front-end. */
#include <stdio.h>
#include <string.h>

#include "gw/frontend.h"

static int
main_wants_pcap(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			break;
		if (strcmp(argv[i], "--pcap") == 0 || strncmp(argv[i], "--pcap=", 7) == 0)
			return 1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	if (main_wants_pcap(argc, argv))
		return gw_pcap_main(argc, argv);
	if (gw_live_main == NULL) {
		fprintf(stderr, "tiergate-gw: live mode not built (use --pcap FILE for offline replay)\n");
		return 2;
	}
	return gw_live_main(argc, argv);
}
