# idlc.mk - the IDL compiler, the C it generates from idl/*.idl, and the
# interface note every user program gets (docs/idl.md).
#
# idlc is a host tool (build/idlc/idlc).  Each idl/NAME.idl, whose
# protocol is NAME, becomes build/idl/NAME.h and NAME.c; user programs
# compile every protocol's C (IDL_SRCS) and link with --gc-sections, so
# only the stubs and dispatches a program uses stay, with their records.
# After each link, IDL_NOTE turns the records into the section
# .note.mica.iface (none when there are none).

IDLC       := $(BUILD)/idlc/idlc
IDLC_SRCS  := $(wildcard tools/idlc/*.c)
IDL_GEN    := $(BUILD)/idl
IDL_FILES  := $(wildcard idl/*.idl)
IDL_SRCS   := $(patsubst idl/%.idl,$(IDL_GEN)/%.c,$(IDL_FILES))
IDL_HDRS   := $(patsubst idl/%.idl,$(IDL_GEN)/%.h,$(IDL_FILES))
# the runtime every program links (idl_mica.c makes the system calls)
IDL_RT_SRCS := user/lib/idl/idl.c user/lib/idl/idl_serve.c \
               user/lib/idl/idl_mica.c
IDL_RT_HDRS := user/lib/idl/idl.h

$(IDLC): $(IDLC_SRCS) tools/idlc/idlc.h abi/include/mica/errors.h \
         abi/include/mica/objects.h abi/include/mica/rights.h \
         abi/include/mica/ipc.h abi/include/mica/iface_note.h
	@mkdir -p $(@D)
	@echo "  HOSTCC $@"
	$(Q)gcc -std=gnu11 -O2 -g -Wall -Wextra -Werror -Wmissing-prototypes \
	    -Wvla -Iabi/include -o $@ $(IDLC_SRCS)

$(IDL_GEN)/%.c $(IDL_GEN)/%.h: idl/%.idl $(IDLC)
	@mkdir -p $(@D)
	@echo "  IDLC  $<"
	$(Q)$(IDLC) c $< $(IDL_GEN)

# $(call IDL_NOTE,program): give a linked program its interface note.
define IDL_NOTE
	$(Q)$(IDLC) note $(1) $(1).note
	$(Q)if [ -s $(1).note ]; then $(OBJCOPY) \
	    --add-section .note.mica.iface=$(1).note \
	    --set-section-flags .note.mica.iface=readonly \
	    --set-section-alignment .note.mica.iface=4 $(1); fi
endef

# The echo protocol of the supervision tests, in three versions
# (tests/idl/echo/vN/echo.idl, each `protocol echo;`, so a method whose
# signature changed keeps its name and gets another id).  Each version
# is generated into a directory of its own, build/idl-echo/vN/, and each
# echo program is built against exactly one (ECHO_VERSION_* in
# user/user.mk): the generated names of the versions are the same.
# ECHO_IDS gathers every version's ids under names of their own
# (ECHO_V1_ECHO_ID, ECHO_V3_SHOUT_ID, ...) for code that needs several
# versions' ids at once, from `idlc ids`.
IDL_ECHO       := $(BUILD)/idl-echo
IDL_ECHO_FILES := $(wildcard tests/idl/echo/v*/echo.idl)
ECHO_IDS       := $(IDL_ECHO)/echo_ids.h

$(IDL_ECHO)/%/echo.c $(IDL_ECHO)/%/echo.h: tests/idl/echo/%/echo.idl $(IDLC)
	@mkdir -p $(@D)
	@echo "  IDLC  $<"
	$(Q)$(IDLC) c $< $(IDL_ECHO)/$*

$(ECHO_IDS): $(IDL_ECHO_FILES) $(IDLC)
	@mkdir -p $(@D)
	@echo "  IDS   $@"
	$(Q){ echo "/* echo_ids.h - every version's method ids, from idlc ids"; \
	      echo " * tests/idl/echo/vN/echo.idl (tools/idlc/idlc.mk). */"; \
	      echo "#ifndef MICA_IDL_ECHO_IDS_H"; \
	      echo "#define MICA_IDL_ECHO_IDS_H"; \
	      echo "#include <stdint.h>"; \
	      for f in $(IDL_ECHO_FILES); do \
	          v=$$(basename $$(dirname $$f) | tr a-z A-Z); \
	          $(IDLC) ids $$f | sed 's/(.*//' | \
	          awk -v v=$$v '{ split($$2, n, "."); \
	              printf "#define ECHO_%s_%s_ID UINT64_C(%s) /* %s */\n", \
	                     v, toupper(n[2]), $$1, $$2 }' || exit 1; \
	      done; \
	      echo "#endif"; } > $@.tmp && mv $@.tmp $@
