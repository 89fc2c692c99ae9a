/* pcap_read.c -- benchmark floor: reads a capture with libpcap and does nothing else. */
#include <pcap/pcap.h>
#include <stdio.h>
#include <time.h>

static double
pcap_read_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int
main(int argc, char **argv)
{
	char err[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *h;
	const u_char *data;
	unsigned long long packets = 0, bytes = 0;
	double t0 = pcap_read_now(), secs;
	pcap_t *pc;

	if (argc != 2) {
		fprintf(stderr, "usage: pcap_read FILE.pcap\n");
		return 2;
	}
	if ((pc = pcap_open_offline(argv[1], err)) == NULL) {
		fprintf(stderr, "pcap_read: %s\n", err);
		return 1;
	}
	while (pcap_next_ex(pc, &h, &data) == 1) {
		packets++;
		bytes += h->caplen;
	}
	pcap_close(pc);
	secs = pcap_read_now() - t0;
	printf("packets %llu bytes %llu seconds %.6f pps %.0f\n", packets, bytes, secs,
	    secs > 0 ? (double)packets / secs : 0.0);
	return 0;
}
