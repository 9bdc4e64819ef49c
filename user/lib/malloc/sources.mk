# sources.mk - the allocator's sources, for every build that links it:
# malloc.mk (host libraries, tests, benchmark) and user/user.mk (every
# Mica program).  Paths are relative to the repository root.
#
#   MALLOC_SRCS        portable sources (every system)
#   MALLOC_OS_LINUX    the Linux back end (host builds)
#   MALLOC_OS_MICA     the Mica back end over vm_map
#   MALLOC_HDRS        headers
#   MALLOC_CPPFLAGS    include path for mica_malloc.h

MALLOC_DIR := user/lib/malloc
MALLOC_SRCS := $(addprefix $(MALLOC_DIR)/,alloc.c free.c page.c segment.c heap.c)
MALLOC_OS_LINUX := $(MALLOC_DIR)/os_linux.c
MALLOC_OS_MICA := $(MALLOC_DIR)/os_mica.c
MALLOC_HDRS := $(wildcard $(MALLOC_DIR)/*.h)
MALLOC_CPPFLAGS := -I$(MALLOC_DIR)
