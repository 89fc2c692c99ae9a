/* cli.h -- `tiergate-sanitize --mail`: the mail rebuild runs in tiergate-milter, which links the mail part. */
#ifndef TIERGATE_SAN_CLI_H
#define TIERGATE_SAN_CLI_H

/*
 * `tiergate-sanitize --mail IN.eml --out OUT.eml [--config FILE]` execs the
 * tiergate-milter beside it (else the one in PATH) with argv as given, and
 * the milter's main hands it to mail_cli_main. The file CLI so does not load
 * GMime, GLib, GIO and GPGME (14 libraries, 6 ms of every run) for files.
 */
int mail_cli_main(int argc, char **argv);

#endif
