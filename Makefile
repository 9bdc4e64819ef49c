# Mica - top-level build.
#
#   make run     build, then boot Mica in QEMU with the console on this terminal
#   make test    host unit tests, then Mica booted in QEMU (1 and 4 CPUs,
#                2 under -icount for the tests that measure time, ISO)
#   make iso     a GRUB (BIOS) ISO image: build/mica.iso
#   make gdb     boot halted under QEMU's gdb stub and attach gdb
#   make bench   kernel fast-path figures (instructions per operation),
#                beside Debian's Linux booted on the same QEMU machine
#   make fuzz    the IDL's decoder under libFuzzer for FUZZ_TIME seconds
#
# Every artifact goes under build/.  tools/deps.sh installs missing Debian
# packages first (run/test/iso depend on it).

BUILD      := build
CC         := gcc
LD         := ld
OBJCOPY    := objcopy
PYTHON     := python3
QEMU       := qemu-system-x86_64
ACCEL      ?= tcg
SMP        ?= 1
MEM        ?= 256M
APPEND     ?=

WARN   := -Wall -Wextra -Werror -Wmissing-prototypes -Wvla
KCFLAGS := -std=gnu11 -O2 -g $(WARN) -ffreestanding -fno-pic -fno-pie \
           -mno-red-zone -mcmodel=kernel -mgeneral-regs-only \
           -fno-stack-protector -fno-omit-frame-pointer \
           -mno-omit-leaf-frame-pointer -fno-asynchronous-unwind-tables \
           -Ikernel/include -Iabi/include -MMD -MP
KASFLAGS := -Ikernel/include -Iabi/include -MMD -MP
KLDFLAGS := -n -nostdlib -z max-page-size=4096 -z noexecstack --no-warn-rwx-segments \
            -T kernel/arch/x86_64/linker.ld

KSRCS := $(wildcard kernel/core/*.c kernel/arch/x86_64/*.c kernel/tests/*.c)
KASMS := $(wildcard kernel/arch/x86_64/*.S)
# The IDL's encoder and decoder (which make no system call) and the
# console protocol's tables: the kernel is a console client
# (kernel/core/console_client.c).
KIDL_SRCS := user/lib/idl/idl.c user/lib/idl/idl_serve.c
KIDL_OBJS := $(patsubst user/lib/idl/%.c,$(BUILD)/kernel/idl/%.c.o,$(KIDL_SRCS)) \
             $(BUILD)/kernel/idl/console.c.o
KOBJS := $(patsubst %,$(BUILD)/%.o,$(KSRCS) $(KASMS)) $(KIDL_OBJS)

KERNEL_ELF := $(BUILD)/kernel.elf
KERNEL_BIN := $(BUILD)/mica.bin
BOOTFS     := $(BUILD)/bootfs.cpio
ISO        := $(BUILD)/mica.iso

Q ?= @
include user/user.mk

.PHONY: all deps run test iso gdb clean kernel qemu-test harness-test bench fuzz
all: kernel $(BOOTFS) $(INIT_ELF)
kernel: $(KERNEL_BIN)

deps:
	@tools/deps.sh

Q ?= @
$(BUILD)/%.c.o: %.c
	@mkdir -p $(@D)
	@echo "  CC    $<"
	$(Q)$(CC) $(KCFLAGS) -c $< -o $@

KIDL_FLAGS := -Iuser/lib/idl -I$(IDL_GEN) -DIDL_TABLES_ONLY
$(BUILD)/kernel/idl/%.c.o: user/lib/idl/%.c
	@mkdir -p $(@D)
	@echo "  CC    $<"
	$(Q)$(CC) $(KCFLAGS) $(KIDL_FLAGS) -c $< -o $@

$(BUILD)/kernel/idl/console.c.o: $(IDL_GEN)/console.c $(IDL_GEN)/console.h
	@mkdir -p $(@D)
	@echo "  CC    $<"
	$(Q)$(CC) $(KCFLAGS) $(KIDL_FLAGS) -c $< -o $@

$(BUILD)/kernel/core/console_client.c.o: kernel/core/console_client.c \
                                         $(IDL_GEN)/console.h
	@mkdir -p $(@D)
	@echo "  CC    $<"
	$(Q)$(CC) $(KCFLAGS) $(KIDL_FLAGS) -c $< -o $@

$(BUILD)/%.S.o: %.S
	@mkdir -p $(@D)
	@echo "  AS    $<"
	$(Q)$(CC) $(KASFLAGS) -c $< -o $@

# Two-pass link: the second embeds the first's function symbols (.ksyms).
# Function addresses must not move between the passes; checked below.
$(BUILD)/ksyms0.S: tools/mksyms.py
	@mkdir -p $(@D)
	$(PYTHON) tools/mksyms.py --empty < /dev/null > $@

$(BUILD)/kernel0.elf: $(KOBJS) $(BUILD)/ksyms0.S.o kernel/arch/x86_64/linker.ld
	$(LD) $(KLDFLAGS) -o $@ $(KOBJS) $(BUILD)/ksyms0.S.o

$(BUILD)/ksyms1.S: $(BUILD)/kernel0.elf tools/mksyms.py
	nm -n $< | $(PYTHON) tools/mksyms.py > $@

$(BUILD)/%.S.o: $(BUILD)/%.S
	$(CC) $(KASFLAGS) -c $< -o $@

$(KERNEL_ELF): $(KOBJS) $(BUILD)/ksyms1.S.o
	$(LD) $(KLDFLAGS) -o $@ $(KOBJS) $(BUILD)/ksyms1.S.o
	@nm -n $(BUILD)/kernel0.elf | grep -i ' t ' > $(BUILD)/syms0.txt
	@nm -n $@ | grep -i ' t ' > $(BUILD)/syms1.txt
	@cmp -s $(BUILD)/syms0.txt $(BUILD)/syms1.txt || \
	    { echo "ksyms: function addresses moved between link passes"; exit 1; }

$(KERNEL_BIN): $(KERNEL_ELF)
	$(OBJCOPY) -O binary $< $@

# The bootfs: a cpio (newc) archive of everything init will start: the
# manifest (and the test manifest, which init reads on test boots only),
# the servers, drivers and programs (bin/) and the suites.
$(BOOTFS): user/manifest user/tests/manifest $(SUITES) $(UPROGS)
	@rm -rf $(BUILD)/bootfs && mkdir -p $(BUILD)/bootfs/tests $(BUILD)/bootfs/bin
	cp user/manifest $(BUILD)/bootfs/manifest
	cp user/tests/manifest $(BUILD)/bootfs/test-manifest
	for f in $(SUITES); do strip -o $(BUILD)/bootfs/tests/$${f##*/} $$f; done
	for f in $(UPROGS); do strip -o $(BUILD)/bootfs/bin/$${f##*/} $$f; done
	cd $(BUILD)/bootfs && find . -mindepth 1 | LC_ALL=C sort | \
	    cpio --quiet -o -H newc > ../bootfs.cpio

$(ISO): $(KERNEL_BIN) $(BOOTFS) $(INIT_ELF) tools/grub.cfg
	@rm -rf $(BUILD)/iso && mkdir -p $(BUILD)/iso/boot/grub
	cp $(KERNEL_BIN) $(BOOTFS) $(INIT_ELF) $(BUILD)/iso/boot/
	cp tools/grub.cfg $(BUILD)/iso/boot/grub/grub.cfg
	grub-mkrescue -o $@ $(BUILD)/iso 2> $(BUILD)/grub-mkrescue.log || \
	    { cat $(BUILD)/grub-mkrescue.log; exit 1; }

iso: deps
	@$(MAKE) --no-print-directory $(ISO)

QEMU_BASE := -M q35 -accel $(ACCEL) -cpu max -m $(MEM) -no-reboot \
             -display none -device isa-debug-exit,iobase=0xf4,iosize=0x04

# The disks of make run and make gdb, kept between runs (delete them
# for fresh ones): the manifest's disk at 00:04.0 and the test suite's
# read-only scratch disk at 00:05.0, written as tools/harness.py writes
# those of the test boots.
RUN_DISKS = $$($(PYTHON) tools/harness.py disks $(BUILD)/run)

run: deps
	@$(MAKE) --no-print-directory all
	@echo "Booting Mica (QEMU: Ctrl-A X quits, Ctrl-A C for the monitor)"
	@$(QEMU) $(QEMU_BASE) -smp $(SMP) -serial mon:stdio \
	    -debugcon file:$(BUILD)/run.debug.log $(RUN_DISKS) \
	    -kernel $(KERNEL_BIN) -initrd "$(INIT_ELF) init,$(BOOTFS) bootfs" \
	    -append "$(APPEND)"; \
	    s=$$?; [ $$s = 0 ] || [ $$s = 33 ] || { echo "QEMU exit status $$s"; exit 1; }

gdb: all
	$(QEMU) $(QEMU_BASE) -smp $(SMP) -serial mon:stdio -s -S $(RUN_DISKS) \
	    -kernel $(KERNEL_BIN) -initrd "$(INIT_ELF) init,$(BOOTFS) bootfs" \
	    -append "$(APPEND)" & \
	    gdb -q -x tools/gdbinit $(KERNEL_ELF); kill %1 2>/dev/null; true

include tests/host/host.mk
include user/lib/malloc/malloc.mk
include bench/linux/linux.mk

HARNESS := $(PYTHON) tools/harness.py --qemu $(QEMU) --accel $(ACCEL)

qemu-test: all
	$(HARNESS) boot smp1 --smp 1 --timeout 300 --kernel $(KERNEL_BIN) --init $(INIT_ELF) --initrd $(BOOTFS) --append "test=all"
	$(HARNESS) boot smp4 --smp 4 --timeout 600 --kernel $(KERNEL_BIN) --init $(INIT_ELF) --initrd $(BOOTFS) --append "test=all"
	$(HARNESS) boot icount --smp 2 --icount --timeout 300 --kernel $(KERNEL_BIN) --init $(INIT_ELF) --initrd $(BOOTFS) --append "test=timed_*"
	$(MAKE) --no-print-directory $(ISO)
	$(HARNESS) boot iso --smp 2 --timeout 600 --iso $(ISO)

harness-test: all
	$(HARNESS) selftest --kernel $(KERNEL_BIN) --init $(INIT_ELF) --initrd $(BOOTFS)

test: deps
	@$(MAKE) --no-print-directory host-test
	@$(MAKE) --no-print-directory malloc-host-test
	@$(MAKE) --no-print-directory qemu-test
	@$(MAKE) --no-print-directory harness-test
	@echo "make test: everything passed"

# Benchmarks (not tests): instructions per operation under -icount, for
# Mica and for Linux (bench/linux, docs/benchmarks.md).
bench: deps
	@$(MAKE) --no-print-directory all $(LINUXBENCH_CPIO)
	@tools/bench.sh $(KERNEL_BIN) $(INIT_ELF) $(BOOTFS) $(LINUXBENCH_CPIO)

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
