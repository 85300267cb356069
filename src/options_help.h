/* options_help.h - the text of --help and --version.
 *
 * options.c owns the option table and prints one line per option with
 * help_option(); the prose around the table and the version lines are here.
 * Everything goes to stdout.
 */
#ifndef GGUFFS_OPTIONS_HELP_H
#define GGUFFS_OPTIONS_HELP_H

/* The usage line and the text before the list of gguffs options. */
void help_head(const char *prog);

/* "    LEFT    help text" with the text wrapped at 79 columns. */
void help_option(const char *left, const char *text);

/* The text after the list of gguffs options (the exit statuses). */
void help_tail(void);

/* gguffs', libfuse's and fusermount3's versions. */
void help_version(void);

#endif
