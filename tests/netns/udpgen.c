/* udpgen.c -- test helper: small UDP packets as fast as one socket can send, to one port (packets/s) or across many (new flows/s). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

/*
 * usage: udpgen DST PORT PORTS SIZE SECONDS [SRC]
 * Sends SIZE-byte datagrams to DST for SECONDS, the destination port cycling
 * through PORT .. PORT+PORTS-1 (PORTS = 1: one flow; many: a new flow per
 * packet until the cycle repeats); SECONDS = 0 sends one pass over the ports.
 * Prints the number of packets sent.
 */
#define GEN_BURST 64

static double
gen_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int
main(int argc, char **argv)
{
	static struct mmsghdr msgs[GEN_BURST];
	static struct iovec iov[GEN_BURST];
	static struct sockaddr_in to[GEN_BURST];
	static char payload[1500];
	struct sockaddr_in src = { .sin_family = AF_INET };
	unsigned long long sent = 0;
	unsigned port, ports, size, next = 0;
	double until;
	int fd;

	if (argc < 6) {
		fprintf(stderr, "usage: udpgen DST PORT PORTS SIZE SECONDS [SRC]\n");
		return 2;
	}
	port = (unsigned)strtoul(argv[2], NULL, 10);
	ports = (unsigned)strtoul(argv[3], NULL, 10);
	size = (unsigned)strtoul(argv[4], NULL, 10);
	until = gen_now() + strtod(argv[5], NULL);
	bool one_pass = strtod(argv[5], NULL) == 0;
	if (ports == 0 || port + ports > 65536 || size > sizeof payload)
		return 2;
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (argc > 6 && (inet_pton(AF_INET, argv[6], &src.sin_addr) != 1 ||
	    bind(fd, (struct sockaddr *)&src, sizeof src) < 0)) {
		perror("udpgen: bind");
		return 1;
	}
	memset(payload, 'x', sizeof payload);
	for (int i = 0; i < GEN_BURST; i++) {
		to[i].sin_family = AF_INET;
		if (inet_pton(AF_INET, argv[1], &to[i].sin_addr) != 1)
			return 2;
		iov[i].iov_base = payload;
		iov[i].iov_len = size;
		msgs[i].msg_hdr.msg_name = &to[i];
		msgs[i].msg_hdr.msg_namelen = sizeof to[i];
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
	}
	while (one_pass ? sent < ports : gen_now() < until) {
		unsigned burst = one_pass && ports - sent < GEN_BURST ? (unsigned)(ports - sent) : GEN_BURST;
		for (unsigned i = 0; i < burst; i++) {
			to[i].sin_port = htons((uint16_t)(port + next));
			next = (next + 1) % ports;
		}
		int n = sendmmsg(fd, msgs, burst, 0);
		if (n > 0)
			sent += (unsigned long long)n;
		if (one_pass && n > 0 && (unsigned)n < burst)
			next = (unsigned)(sent % ports);   /* resend the ones the socket did not take */
	}
	printf("%llu\n", sent);
	return 0;
}
