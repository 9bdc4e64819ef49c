# user.mk - user programs: static executables linked with Debian's musl.
#
# Every program is built with musl-gcc -static from its folder's sources
# plus the runtime in user/lib.  init also goes to the kernel as its own
# boot module; everything else goes into the bootfs.  Each file in
# user/tests is a test suite of its own: a program tests/NAME in the
# bootfs, which init starts in its own process.  Each folder of
# user/servers and user/drivers is one program, bin/NAME in the bootfs,
# which init starts when the manifest says so, and so is each folder of
# user/bin (programs); so is each file of user/tests/progs (programs the
# suites start, not suites themselves).
#
# Every program also links the IDL's runtime and the C of every protocol
# in idl/ (tools/idlc/idlc.mk); --gc-sections keeps only what it uses,
# and after the link it gets its interface note (docs/idl.md).

include tools/idlc/idlc.mk

UCC       := musl-gcc
UCFLAGS   := -std=gnu11 -O2 -g -static -Wall -Wextra -Werror \
             -Wmissing-prototypes -Wvla -fno-omit-frame-pointer \
             -ffunction-sections -fdata-sections -Wl,--gc-sections \
             -Iabi/include -Iuser/lib -Iuser/lib/idl -I$(IDL_GEN) -Iuser/bench
UIDL_SRCS := $(IDL_RT_SRCS) $(IDL_SRCS) user/lib/iface_note.c
ULIB_SRCS := user/lib/mica.c user/lib/utest.c $(UIDL_SRCS)
UBUILD    := $(BUILD)/user
# the kernel's ELF parser and stack builder, reused by the program loader
ULOADER_SRCS := user/lib/spawn.c user/lib/bootfs.c kernel/core/elf.c \
                kernel/core/ustack.c
ULOADER_FLAGS := -DMICA_USER -Ikernel/include
# what programs started from the manifest use: their capabilities, and
# the block protocol's and the name service's client sides
USVC_SRCS := user/lib/caps.c user/lib/manifest.c \
             user/lib/blk_client.c user/lib/svc_client.c
# what starts such programs (init, and the suites standing in for it)
USTART_SRCS := $(USVC_SRCS) user/lib/service.c

# The allocator replaces musl's malloc in every program.  Its objects are
# linked as objects, not from an archive, so that the linker never takes
# musl's malloc for a reference it meets only inside libc.
-include user/lib/malloc/sources.mk
ifneq ($(MALLOC_OS_MICA),)
UMALLOC_OBJS := $(patsubst $(MALLOC_DIR)/%.c,$(UBUILD)/malloc/%.o,\
                  $(MALLOC_SRCS) $(MALLOC_OS_MICA))
endif

$(UBUILD)/malloc/%.o: $(MALLOC_DIR)/%.c $(MALLOC_HDRS) user/lib/mica.h
	@mkdir -p $(@D)
	@echo "  UCC   $@"
	$(Q)$(UCC) $(UCFLAGS) -DMICA_MALLOC_OVERRIDE -c $< -o $@

UHDRS     := $(wildcard user/lib/*.h user/init/*.h user/bench/*.h \
                        user/tests/*.h user/tests/progs/*.h \
                        abi/include/mica/*.h kernel/include/elf.h \
                        kernel/include/ustack.h) \
             $(IDL_RT_HDRS) $(IDL_HDRS) $(IDLC)

INIT_SRCS := $(wildcard user/init/*.c) $(wildcard user/bench/*.c)
INIT_ELF  := $(UBUILD)/init

$(INIT_ELF): $(INIT_SRCS) $(ULIB_SRCS) $(ULOADER_SRCS) $(USTART_SRCS) \
             $(UMALLOC_OBJS) $(UHDRS)
	@mkdir -p $(@D)
	@echo "  UCC   $@"
	$(Q)$(UCC) $(UCFLAGS) $(ULOADER_FLAGS) -Iuser/init -o $@ $(INIT_SRCS) \
	    $(ULIB_SRCS) $(ULOADER_SRCS) $(USTART_SRCS) $(UMALLOC_OBJS)
	$(call IDL_NOTE,$@)

# Test suites: one program per file of user/tests.
SUITES := $(patsubst user/tests/%.c,$(UBUILD)/tests/%,$(wildcard user/tests/*.c))

UTEST_SRCS := user/lib/utest_main.c user/lib/testchild.c

$(UBUILD)/tests/%: user/tests/%.c $(UTEST_SRCS) $(ULIB_SRCS) \
                   $(ULOADER_SRCS) $(USTART_SRCS) $(UMALLOC_OBJS) $(UHDRS)
	@mkdir -p $(@D)
	@echo "  UCC   $@"
	$(Q)$(UCC) $(UCFLAGS) $(ULOADER_FLAGS) -o $@ $< $(UTEST_SRCS) \
	    $(ULIB_SRCS) $(ULOADER_SRCS) $(USTART_SRCS) $(UMALLOC_OBJS)
	$(call IDL_NOTE,$@)

# Servers, drivers and programs: one per folder, from all its sources.
define uprog_dir
$(UBUILD)/bin/$(notdir $(1)): $(wildcard $(1)/*.c $(1)/*.h) $(USVC_SRCS) \
                              user/lib/mica.c $(UIDL_SRCS) $(UMALLOC_OBJS) \
                              $(UHDRS)
	@mkdir -p $$(@D)
	@echo "  UCC   $$@"
	$$(Q)$$(UCC) $$(UCFLAGS) -I$(1) -o $$@ $(wildcard $(1)/*.c) \
	    $(USVC_SRCS) user/lib/mica.c $(UIDL_SRCS) $(UMALLOC_OBJS)
	$$(call IDL_NOTE,$$@)
endef
UPROG_DIRS := $(patsubst %/,%,$(wildcard user/servers/*/ user/drivers/*/ \
                                          user/bin/*/))
$(foreach d,$(UPROG_DIRS),$(eval $(call uprog_dir,$(d))))

# Programs for the suites: one per file.
$(UBUILD)/bin/%: user/tests/progs/%.c $(USVC_SRCS) user/lib/mica.c \
                 $(UIDL_SRCS) $(UMALLOC_OBJS) $(UHDRS)
	@mkdir -p $(@D)
	@echo "  UCC   $@"
	$(Q)$(UCC) $(UCFLAGS) -o $@ $< $(USVC_SRCS) user/lib/mica.c \
	    $(UIDL_SRCS) $(UMALLOC_OBJS)
	$(call IDL_NOTE,$@)

UPROGS := $(addprefix $(UBUILD)/bin/,$(notdir $(UPROG_DIRS)) \
            $(patsubst user/tests/progs/%.c,%,$(wildcard user/tests/progs/*.c)))
