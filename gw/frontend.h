/* frontend.h -- the two ways tiergate-gw runs: offline on pcap files, or live on NFQUEUE. */
#ifndef TIERGATE_GW_FRONTEND_H
#define TIERGATE_GW_FRONTEND_H

/*
 * main() picks the front-end: with --pcap the offline replay (gw/pcap_main.c),
 * otherwise the live gateway. The live front-end is built separately
 * (gw/live.mk); when it is not linked in, gw_live_main is NULL.
 * Both return the process exit status.
 */
int gw_pcap_main(int argc, char **argv);
int gw_live_main(int argc, char **argv) __attribute__((weak));

#endif
