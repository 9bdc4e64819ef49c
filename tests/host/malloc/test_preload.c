/*
 * test_preload.c - run with LD_PRELOAD=libmicamalloc.so.  The program is
 * not linked with the allocator: it finds mica_malloc_owns at run time and
 * checks that the malloc it calls (and libc calls) is Mica's.  Without the
 * preload the first test fails.
 */
#include <dlfcn.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

typedef bool (*owns_fn)(const void *);

static owns_fn owns(void)
{
    return (owns_fn)(uintptr_t)dlsym(RTLD_DEFAULT, "mica_malloc_owns");
}

static void test_preloaded(void **state)
{
    (void)state;
    owns_fn f = owns();
    assert_non_null(f);
    void *p = malloc(100);
    assert_true(f(p));
    char *s = strdup("preloaded");
    assert_true(f(s));
    free(s);
    p = realloc(p, 10 * 1024 * 1024);
    assert_true(f(p));
    free(p);
}

static void *churn(void *arg)
{
    void **v = arg;
    for (int r = 0; r < 50; r++)
        for (int i = 0; i < 1000; i++) {
            free(v[i]);
            v[i] = malloc((size_t)(i * 7 + r) % 2000);
        }
    return NULL;
}

static void test_preloaded_threads(void **state)
{
    (void)state;
    static void *v[4][1000];
    pthread_t t[4];
    for (int k = 0; k < 4; k++)
        pthread_create(&t[k], NULL, churn, v[k]);
    for (int k = 0; k < 4; k++)
        pthread_join(t[k], NULL);
    /* free from another thread than the one that allocated */
    for (int k = 0; k < 4; k++)
        for (int i = 0; i < 1000; i++)
            free(v[k][i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_preloaded),
        cmocka_unit_test(test_preloaded_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
