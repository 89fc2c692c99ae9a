/* verify_gw.h -- running tiergate-gw --pcap as a subprocess for one replay, bounded in time. */
#ifndef TIERGATE_VERIFY_GW_H
#define TIERGATE_VERIFY_GW_H

struct vgw_job {
	const char *gw;        /* path of tiergate-gw */
	const char *pcap;
	const char *pcap_name;  /* the pcap as the case names it, for messages (NULL: pcap) */
	const char *policy;
	const char *events;    /* --events output file */
	const char *log;       /* its stdout and stderr go here */
	int timeout_s;         /* killed after this many seconds */
};

/*
 * Runs the replay. Returns 0 when tiergate-gw exited 0; otherwise -1 with
 * *reason one line ("tiergate-gw exited 1 on x.pcap: conf/a.conf:12: ...") and
 * *output the first lines it printed (both caller frees).
 */
int vgw_run(const struct vgw_job *job, char **reason, char **output);

/* The command line of a job, for -v. Caller frees. */
char *vgw_command(const struct vgw_job *job);

#endif
