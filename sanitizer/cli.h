/* cli.h -- what tiergate-sanitize's main dispatches to: the mail mode lives in the mail part. */
#ifndef TIERGATE_SAN_CLI_H
#define TIERGATE_SAN_CLI_H

/*
 * `tiergate-sanitize --mail IN.eml --out OUT.eml [--config FILE]` is handed
 * over whole (argv as given) to mail_cli_main when the mail part is linked in;
 * weak, so tiergate-sanitize builds without it ("mail support not built", exit 2).
 */
int mail_cli_main(int argc, char **argv) __attribute__((weak));

#endif
