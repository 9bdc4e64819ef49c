/*
 * test_override.c - the allocator as the program's malloc, linked from the
 * static library built with the standard names (libmicamalloc-override.a).
 *
 * Checks that malloc, free and friends - and the libc functions that
 * allocate through them, such as strdup - land in Mica's allocator, and
 * that an invalid free through the standard name aborts with our message.
 */
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "mica_malloc.h"

/* Through a volatile: the compiler would otherwise reason about malloc. */
static bool ours(void *p)
{
    void *volatile q = p;
    return mica_malloc_owns(q);
}

static volatile size_t huge_count = SIZE_MAX / 2;

static void test_standard_names_are_ours(void **state)
{
    (void)state;
    void *p = malloc(10);
    assert_true(ours(p));
    free(p);
    char *s = strdup("mica");
    assert_true(ours(s));
    free(s);
    p = calloc(10, 10);
    assert_true(ours(p));
    p = realloc(p, 100000);
    assert_true(ours(p));
    assert_true(malloc_usable_size(p) >= 100000);
    free(p);
    assert_int_equal(posix_memalign(&p, 4096, 10), 0);
    assert_true(ours(p) && (uintptr_t)p % 4096 == 0);
    free(p);
    p = aligned_alloc(64, 64);
    assert_true(ours(p) && (uintptr_t)p % 64 == 0);
    free(p);
    p = memalign(128, 10);
    assert_true(ours(p) && (uintptr_t)p % 128 == 0);
    free(p);
    errno = 0;
    assert_null(calloc(huge_count, 4));
    assert_int_equal(errno, ENOMEM);
}

static void *thread_strings(void *arg)
{
    char **out = arg;
    for (int i = 0; i < 1000; i++) {
        char buf[32];
        snprintf(buf, sizeof buf, "string %d", i);
        out[i] = strdup(buf);
    }
    return NULL;
}

static void test_threads_and_libc(void **state)
{
    (void)state;
    char *v[4][1000];
    pthread_t t[4];
    for (int k = 0; k < 4; k++)
        pthread_create(&t[k], NULL, thread_strings, v[k]);
    for (int k = 0; k < 4; k++)
        pthread_join(t[k], NULL);
    for (int k = 0; k < 4; k++)
        for (int i = 0; i < 1000; i++) {
            char buf[32];
            snprintf(buf, sizeof buf, "string %d", i);
            assert_string_equal(v[k][i], buf);
            free(v[k][i]);
        }
}

static void test_invalid_free_aborts(void **state)
{
    (void)state;
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t pid = fork();
    if (pid == 0) {
        dup2(fds[1], 2);
        char *volatile p = malloc(64); /* volatile: keep the calls */
        free(p);
        free(p);
        _exit(0);
    }
    close(fds[1]);
    char buf[256] = {0};
    ssize_t n = read(fds[0], buf, sizeof buf - 1);
    (void)n;
    int status;
    waitpid(pid, &status, 0);
    assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT);
    assert_non_null(strstr(buf, "mica malloc: double free"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_standard_names_are_ours),
        cmocka_unit_test(test_threads_and_libc),
        cmocka_unit_test(test_invalid_free_aborts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
