# linux.mk - the Linux side of `make bench`: the benchmark program as a
# static musl executable, packed as /init of an initramfs that
# bench/linux/boot.sh boots on Debian's stock kernel.  Included by the
# top-level Makefile; everything goes under build/bench/linux/.

LINUXBENCH_OUT  := $(BUILD)/bench/linux
LINUXBENCH_INIT := $(LINUXBENCH_OUT)/init
LINUXBENCH_CPIO := $(LINUXBENCH_OUT)/initramfs.cpio

$(LINUXBENCH_INIT): bench/linux/linuxbench.c
	@mkdir -p $(@D)
	@echo "  UCC   $@"
	$(Q)musl-gcc -std=gnu11 -static -O2 $(WARN) -o $@ $<

$(LINUXBENCH_CPIO): $(LINUXBENCH_INIT) bench/linux/mkinitramfs.sh
	$(Q)bench/linux/mkinitramfs.sh $(LINUXBENCH_INIT) $@
