/* check_run.h - the one way the unit tests run their Check suite.
 *
 * check_run(s) runs every test of `s` (forked per test unless CK_FORK=no)
 * and returns the process exit status: EXIT_SUCCESS only if none failed.
 */
#ifndef GGUFFS_CHECK_RUN_H
#define GGUFFS_CHECK_RUN_H

#include <check.h>
#include <stdlib.h>

static inline int check_run(Suite *s)
{
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

#endif
