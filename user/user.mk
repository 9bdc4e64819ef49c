# user.mk - user programs: static executables linked with Debian's musl.
#
# Every program is built with musl-gcc -static from its folder's sources
# plus the runtime in user/lib.  init also goes to the kernel as its own
# boot module; everything else goes into the bootfs.

UCC       := musl-gcc
UCFLAGS   := -std=gnu11 -O2 -g -static -Wall -Wextra -Werror \
             -Wmissing-prototypes -Wvla -fno-omit-frame-pointer \
             -Iabi/include -Iuser/lib -Iuser/bench
ULIB_SRCS := user/lib/mica.c user/lib/utest.c
UBUILD    := $(BUILD)/user

INIT_SRCS := $(wildcard user/init/*.c) $(wildcard user/tests/*.c) \
             $(wildcard user/bench/*.c)
INIT_ELF  := $(UBUILD)/init

$(INIT_ELF): $(INIT_SRCS) $(ULIB_SRCS) $(wildcard user/lib/*.h user/bench/*.h abi/include/mica/*.h)
	@mkdir -p $(@D)
	@echo "  UCC   $@"
	$(Q)$(UCC) $(UCFLAGS) -o $@ $(INIT_SRCS) $(ULIB_SRCS)
