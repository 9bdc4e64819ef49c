# malloc.mk - build, test and benchmark Mica's allocator on the host.
#
# Included by the top-level Makefile (paths are relative to the repository
# root), or used alone:  make -f user/lib/malloc/malloc.mk malloc-host-test
#
# Sources and paths: sources.mk (shared with user/user.mk).
# Targets:
#   malloc-libs        static library, override static library, LD_PRELOAD .so
#   malloc-host-test   every host test variant (plain, override, preload,
#                      ThreadSanitizer, AddressSanitizer+UBSan)
#   bench-malloc       the benchmark against glibc, musl, jemalloc, tcmalloc
#   malloc-clean

include user/lib/malloc/sources.mk

MALLOC_OUT := build/host/malloc
MALLOC_TDIR := tests/host/malloc
MALLOC_BDIR := bench/malloc

MALLOC_CC ?= cc
MALLOC_CLANG ?= $(shell command -v clang 2>/dev/null)
MALLOC_WARN := -Wall -Wextra -Werror -Wmissing-prototypes -Wvla
MALLOC_CFLAGS := -std=c11 -O2 -g $(MALLOC_WARN) $(MALLOC_CPPFLAGS)
MALLOC_HOST_SRCS := $(MALLOC_SRCS) $(MALLOC_OS_LINUX)
MALLOC_TEST_SRCS := $(MALLOC_TDIR)/test_malloc.c
MALLOC_TEST_LIBS := -lcmocka -pthread

.PHONY: malloc-libs malloc-host-test bench-malloc malloc-clean

malloc-libs: $(MALLOC_OUT)/libmicamalloc.a \
             $(MALLOC_OUT)/libmicamalloc-override.a \
             $(MALLOC_OUT)/libmicamalloc.so

# Objects: plain (mica_ names only), override (standard names too), pic.
$(MALLOC_OUT)/obj/%.o: $(MALLOC_DIR)/%.c $(MALLOC_HDRS)
	@mkdir -p $(@D)
	$(MALLOC_CC) $(MALLOC_CFLAGS) -c $< -o $@

$(MALLOC_OUT)/obj-override/%.o: $(MALLOC_DIR)/%.c $(MALLOC_HDRS)
	@mkdir -p $(@D)
	$(MALLOC_CC) $(MALLOC_CFLAGS) -DMICA_MALLOC_OVERRIDE -c $< -o $@

$(MALLOC_OUT)/obj-pic/%.o: $(MALLOC_DIR)/%.c $(MALLOC_HDRS)
	@mkdir -p $(@D)
	$(MALLOC_CC) $(MALLOC_CFLAGS) -DMICA_MALLOC_OVERRIDE -fPIC \
		-fvisibility=hidden -c $< -o $@

MALLOC_NAMES := $(notdir $(MALLOC_HOST_SRCS:.c=.o))

$(MALLOC_OUT)/libmicamalloc.a: $(addprefix $(MALLOC_OUT)/obj/,$(MALLOC_NAMES))
	rm -f $@ && ar rcs $@ $^

$(MALLOC_OUT)/libmicamalloc-override.a: \
		$(addprefix $(MALLOC_OUT)/obj-override/,$(MALLOC_NAMES))
	rm -f $@ && ar rcs $@ $^

$(MALLOC_OUT)/libmicamalloc.so: $(addprefix $(MALLOC_OUT)/obj-pic/,$(MALLOC_NAMES))
	$(MALLOC_CC) -shared -pthread -o $@ $^

# ---- tests ----

MALLOC_TESTS := $(MALLOC_OUT)/test_malloc $(MALLOC_OUT)/test_override \
                $(MALLOC_OUT)/test_preload $(MALLOC_OUT)/test_malloc_tsan \
                $(MALLOC_OUT)/test_malloc_asan

$(MALLOC_OUT)/test_malloc: $(MALLOC_TEST_SRCS) $(MALLOC_OUT)/libmicamalloc.a
	$(MALLOC_CC) $(MALLOC_CFLAGS) -D_GNU_SOURCE $(MALLOC_TEST_SRCS) \
		$(MALLOC_OUT)/libmicamalloc.a $(MALLOC_TEST_LIBS) -o $@

$(MALLOC_OUT)/test_override: $(MALLOC_TDIR)/test_override.c \
		$(MALLOC_OUT)/libmicamalloc-override.a
	$(MALLOC_CC) $(MALLOC_CFLAGS) -D_GNU_SOURCE $< \
		$(MALLOC_OUT)/libmicamalloc-override.a $(MALLOC_TEST_LIBS) -o $@

$(MALLOC_OUT)/test_preload: $(MALLOC_TDIR)/test_preload.c \
		$(MALLOC_OUT)/libmicamalloc.so
	$(MALLOC_CC) $(MALLOC_CFLAGS) -D_GNU_SOURCE $< $(MALLOC_TEST_LIBS) -ldl \
		-o $@

# Sanitizer builds compile the allocator into the test, mica_ names only
# (the sanitizers bring their own malloc).  Prefer clang: its TSan and ASan
# runtimes are what Debian's clang ships with.
MALLOC_SAN_CC := $(if $(MALLOC_CLANG),$(MALLOC_CLANG),$(MALLOC_CC))
MALLOC_SAN_FLAGS := -std=c11 -O1 -g -fno-omit-frame-pointer $(MALLOC_WARN) \
                    $(MALLOC_CPPFLAGS) -D_GNU_SOURCE

$(MALLOC_OUT)/test_malloc_tsan: $(MALLOC_TEST_SRCS) $(MALLOC_HOST_SRCS) \
		$(MALLOC_HDRS)
	@mkdir -p $(@D)
	$(MALLOC_SAN_CC) $(MALLOC_SAN_FLAGS) -fsanitize=thread \
		$(MALLOC_TEST_SRCS) $(MALLOC_HOST_SRCS) $(MALLOC_TEST_LIBS) -o $@

$(MALLOC_OUT)/test_malloc_asan: $(MALLOC_TEST_SRCS) $(MALLOC_HOST_SRCS) \
		$(MALLOC_HDRS)
	@mkdir -p $(@D)
	$(MALLOC_SAN_CC) $(MALLOC_SAN_FLAGS) -fsanitize=address,undefined \
		-fno-sanitize-recover=undefined \
		$(MALLOC_TEST_SRCS) $(MALLOC_HOST_SRCS) $(MALLOC_TEST_LIBS) -o $@

malloc-host-test: $(MALLOC_TESTS) $(MALLOC_OUT)/libmicamalloc.so
	$(MALLOC_OUT)/test_malloc
	$(MALLOC_OUT)/test_override
	LD_PRELOAD=$(CURDIR)/$(MALLOC_OUT)/libmicamalloc.so \
		$(MALLOC_OUT)/test_preload
	sh $(MALLOC_TDIR)/preload_smoke.sh $(CURDIR)/$(MALLOC_OUT)/libmicamalloc.so
	TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" \
		$(MALLOC_OUT)/test_malloc_tsan
	ASAN_OPTIONS="detect_leaks=0" UBSAN_OPTIONS="print_stacktrace=1" \
		$(MALLOC_OUT)/test_malloc_asan
	@echo "malloc-host-test: all variants passed"

# ---- benchmark ----

bench-malloc: malloc-libs
	sh $(MALLOC_BDIR)/run.sh

malloc-clean:
	rm -rf $(MALLOC_OUT) build/bench/malloc
