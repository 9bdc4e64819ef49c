# host.mk - host unit tests of the portable kernel code.
#
# Each test is tests/host/test_NAME.c, linked with the kernel sources named
# in host_NAME_SRCS, built by the host compiler with ASan and UBSan and run
# with cmocka.  Add a test by appending NAME to HOST_TESTS and defining
# host_NAME_SRCS (and, for sources outside the kernel, any include
# directories they need in host_NAME_CFLAGS).  Sources are compiled with
# -DMICA_HOST_TEST.

HOST_CC     ?= gcc
HOST_BUILD  := build/host
HOST_CFLAGS := -std=gnu11 -g -O1 -Wall -Wextra -Werror -Wmissing-prototypes \
               -Wvla -fsanitize=address,undefined -fno-sanitize-recover=all \
               -fno-omit-frame-pointer -Ikernel/include -Iabi/include \
               -Itests/host -DMICA_HOST_TEST
HOST_LDLIBS := -lcmocka

HOST_TESTS :=

HOST_SUPPORT := tests/host/host_support.c

HOST_TESTS += acpi
host_acpi_SRCS := kernel/core/acpi.c

HOST_TESTS += lib
host_lib_SRCS := kernel/core/printf.c kernel/core/cmdline.c kernel/core/ksyms.c

HOST_TESTS += clock
host_clock_SRCS := kernel/core/clock.c

HOST_TESTS += memmap
host_memmap_SRCS := kernel/core/memmap.c

HOST_TESTS += pmm
host_pmm_SRCS := kernel/core/pmm.c $(HOST_SUPPORT)

HOST_TESTS += runqueue
host_runqueue_SRCS := kernel/core/runqueue.c

HOST_TESTS += slab
host_slab_SRCS := kernel/core/slab.c $(HOST_SUPPORT)

HOST_TESTS += pagetable
host_pagetable_SRCS := kernel/arch/x86_64/pagetable.c $(HOST_SUPPORT)

HOST_TESTS += elf
host_elf_SRCS := kernel/core/elf.c
# test_elf also reads a real static musl executable built from elf_sample.c.
$(HOST_BUILD)/test_elf: $(HOST_BUILD)/elf-sample
$(HOST_BUILD)/elf-sample: tests/host/elf_sample.c abi/include/mica/auxv.h
	@mkdir -p $(@D)
	musl-gcc -static -O2 -Iabi/include -o $@ $<

HOST_TESTS += ustack
host_ustack_SRCS := kernel/core/ustack.c kernel/core/elf.c
# test_ustack starts elf-sample on a stack it built, in a child process.
$(HOST_BUILD)/test_ustack: $(HOST_BUILD)/elf-sample

HOST_TESTS += pi
host_pi_SRCS := kernel/core/pi.c $(HOST_SUPPORT)

HOST_TESTS += handle
host_handle_SRCS := kernel/core/handle.c kernel/core/object.c kernel/core/kmem_account.c $(HOST_SUPPORT)

HOST_TESTS += irq_line
host_irq_line_SRCS := kernel/core/irq_line.c

# user-space libraries that make no system calls
HOST_TESTS += manifest
host_manifest_SRCS := user/lib/manifest.c
host_manifest_CFLAGS := -Iuser/lib

HOST_TESTS += pci
host_pci_SRCS := user/servers/pci/enum.c user/servers/pci/msi.c \
                 user/servers/pci/policy.c user/servers/pci/list.c \
                 user/servers/pci/ecam.c
host_pci_CFLAGS := -Iuser/servers/pci -Iuser/lib -I$(IDL_GEN) -Iuser/lib/idl
$(HOST_BUILD)/test_pci: $(IDL_GEN)/pci.h

HOST_TESTS += critical
host_critical_SRCS := kernel/core/critical.c kernel/core/resource.c kernel/core/object.c kernel/core/kmem_account.c $(HOST_SUPPORT)

HOST_TESTS += uart
host_uart_SRCS := user/drivers/uart/ldisc.c
host_uart_CFLAGS := -Iuser/drivers/uart -I$(IDL_GEN) -Iuser/lib/idl
$(HOST_BUILD)/test_uart: $(IDL_GEN)/console.h

HOST_TESTS += ps2kbd
host_ps2kbd_SRCS := user/drivers/ps2kbd/keymap.c
host_ps2kbd_CFLAGS := -Iuser/drivers/ps2kbd -Iuser/lib -I$(IDL_GEN) -Iuser/lib/idl
$(HOST_BUILD)/test_ps2kbd: $(IDL_GEN)/kbd.h

HOST_TESTS += virtio_blk
host_virtio_blk_SRCS := user/drivers/virtio-blk/virtq.c \
                        user/drivers/virtio-blk/vpci.c \
                        user/drivers/virtio-blk/blk.c
host_virtio_blk_CFLAGS := -Iuser/drivers/virtio-blk -Iuser/lib

# The IDL: its runtime and the C idlc generates for tests/idl/demo.idl,
# and the interface note of a program linked like user programs are.
HOST_IDL := $(HOST_BUILD)/idl
$(HOST_IDL)/demo.c $(HOST_IDL)/demo.h: tests/idl/demo.idl $(IDLC)
	@mkdir -p $(@D)
	$(IDLC) c $< $(HOST_IDL)

HOST_TESTS += idl
host_idl_SRCS := user/lib/idl/idl.c user/lib/idl/idl_serve.c $(HOST_IDL)/demo.c
host_idl_CFLAGS := -I$(HOST_IDL) -Iuser/lib/idl
$(HOST_BUILD)/test_idl: $(HOST_IDL)/demo.h

HOST_TESTS += iface_note
host_iface_note_SRCS := user/lib/iface_note.c
host_iface_note_CFLAGS := -Iuser/lib -I$(HOST_IDL) -Iuser/lib/idl
$(HOST_BUILD)/test_iface_note: $(HOST_BUILD)/note-sample $(HOST_IDL)/demo.h
$(HOST_BUILD)/note-sample: tests/host/note_sample.c $(HOST_IDL)/demo.c \
                           $(HOST_IDL)/demo.h user/lib/idl/idl.c \
                           user/lib/idl/idl_serve.c $(IDLC)
	$(HOST_CC) -std=gnu11 -O2 -Wall -Wextra -Werror -Iabi/include \
	    -I$(HOST_IDL) -Iuser/lib/idl -ffunction-sections -fdata-sections \
	    -Wl,--gc-sections -o $@ tests/host/note_sample.c \
	    $(HOST_IDL)/demo.c user/lib/idl/idl.c user/lib/idl/idl_serve.c
	$(call IDL_NOTE,$@)
	strip -o $@.stripped $@

define host_test_rule
$(HOST_BUILD)/test_$(1): tests/host/test_$(1).c $$(host_$(1)_SRCS) $$(wildcard kernel/include/*.h abi/include/mica/*.h tests/host/*.h user/lib/*.h user/servers/*/*.h user/drivers/*/*.h)
	@mkdir -p $$(@D)
	$$(HOST_CC) $$(HOST_CFLAGS) $$(host_$(1)_CFLAGS) -o $$@ tests/host/test_$(1).c $$(host_$(1)_SRCS) $$(HOST_LDLIBS)
endef
$(foreach t,$(HOST_TESTS),$(eval $(call host_test_rule,$(t))))

HOST_BINS := $(addprefix $(HOST_BUILD)/test_,$(HOST_TESTS))

.PHONY: host-test
host-test: $(HOST_BINS)
	@fail=0; for t in $(HOST_BINS); do \
	    echo "== $$t"; $$t || fail=1; \
	done; \
	if [ $$fail = 0 ]; then echo "host tests: all passed"; else echo "host tests: FAILED"; exit 1; fi

# The handle tests again under ThreadSanitizer, for their stress tests.
HOST_TSAN_CFLAGS := $(filter-out -fsanitize=address%,$(HOST_CFLAGS)) -fsanitize=thread
$(HOST_BUILD)/test_handle_tsan: tests/host/test_handle.c $(host_handle_SRCS) $(wildcard kernel/include/*.h abi/include/mica/*.h tests/host/*.h)
	@mkdir -p $(@D)
	$(HOST_CC) $(HOST_TSAN_CFLAGS) -o $@ tests/host/test_handle.c $(host_handle_SRCS) $(HOST_LDLIBS) -lpthread
HOST_BINS += $(HOST_BUILD)/test_handle_tsan
host-test: $(HOST_BUILD)/test_handle_tsan


# idlc's own tests (tests/idl/check.sh): the generated C against
# tests/idl/golden, the ids, the variants, the errors.  make idl-golden
# rewrites golden/ and demo.ids after a deliberate change.
.PHONY: idl-check idl-golden
idl-check: $(IDLC)
	@tests/idl/check.sh $(IDLC) $(HOST_BUILD)/idlc-check
idl-golden: $(IDLC)
	$(IDLC) c tests/idl/demo.idl tests/idl/golden
	$(IDLC) ids tests/idl/demo.idl > tests/idl/demo.ids
host-test: idl-check

# The decoder and the note reader fuzzed with libFuzzer (clang): a fixed
# number of runs from fixed seeds in host-test (fuzz-short, a few
# seconds), as long as FUZZ_TIME seconds in make fuzz.
FUZZ_BUILD  := build/fuzz
FUZZ_CC     := clang
FUZZ_RUNS   ?= 300000
FUZZ_TIME   ?= 600
FUZZ_SRCS   := tests/fuzz/fuzz_idl.c user/lib/idl/idl.c \
               user/lib/idl/idl_serve.c $(HOST_IDL)/demo.c \
               user/lib/iface_note.c
FUZZ_HDRS   := tests/fuzz/fuzz_common.h $(HOST_IDL)/demo.h \
               user/lib/idl/idl.h user/lib/iface_note.h
FUZZ_CFLAGS := -std=gnu11 -g -O1 -Wall -Wextra -Werror -Wmissing-prototypes \
               -Iabi/include -Iuser/lib -Iuser/lib/idl -I$(HOST_IDL) \
               -Itests/fuzz
$(FUZZ_BUILD)/fuzz_idl: $(FUZZ_SRCS) $(FUZZ_HDRS)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer,address,undefined \
	    -fno-sanitize-recover=all -o $@ $(FUZZ_SRCS)
$(FUZZ_BUILD)/fuzz_seeds: tests/fuzz/fuzz_seeds.c user/lib/idl/idl.c \
                          user/lib/idl/idl_serve.c $(HOST_IDL)/demo.c \
                          $(FUZZ_HDRS)
	@mkdir -p $(@D)
	$(HOST_CC) $(FUZZ_CFLAGS) -o $@ tests/fuzz/fuzz_seeds.c \
	    user/lib/idl/idl.c user/lib/idl/idl_serve.c $(HOST_IDL)/demo.c
$(FUZZ_BUILD)/seeds: $(FUZZ_BUILD)/fuzz_seeds $(HOST_BUILD)/note-sample
	rm -rf $@ && mkdir -p $@
	$(FUZZ_BUILD)/fuzz_seeds $@
	cp $(HOST_BUILD)/note-sample.stripped $@/seed-elf

.PHONY: fuzz-short fuzz
fuzz-short: $(FUZZ_BUILD)/fuzz_idl $(FUZZ_BUILD)/seeds
	@rm -rf $(FUZZ_BUILD)/corpus && cp -r $(FUZZ_BUILD)/seeds $(FUZZ_BUILD)/corpus
	@$(FUZZ_BUILD)/fuzz_idl -seed=1 -runs=$(FUZZ_RUNS) -artifact_prefix=$(FUZZ_BUILD)/ -max_len=66000 \
	    $(FUZZ_BUILD)/corpus 2> $(FUZZ_BUILD)/short.log || \
	    { tail -40 $(FUZZ_BUILD)/short.log; echo "fuzz: FAILED"; exit 1; }
	@echo "fuzz: $(FUZZ_RUNS) runs of fuzz_idl, no finding ($$(grep -c . $(FUZZ_BUILD)/short.log) log lines)"
fuzz: $(FUZZ_BUILD)/fuzz_idl $(FUZZ_BUILD)/seeds
	@mkdir -p $(FUZZ_BUILD)/corpus-long
	$(FUZZ_BUILD)/fuzz_idl -max_total_time=$(FUZZ_TIME) -artifact_prefix=$(FUZZ_BUILD)/ -max_len=66000 \
	    -print_final_stats=1 $(FUZZ_BUILD)/corpus-long $(FUZZ_BUILD)/seeds
host-test: fuzz-short
