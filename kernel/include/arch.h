/*
 * arch.h - the whole contract between the portable kernel and the machine.
 *
 * Code in kernel/core sees the hardware only through these declarations.
 * An architecture supplies them in arch/<name>/arch_inline.h (the small,
 * hot ones, inline) and in its C files (the rest).  Host tests build core
 * code against tests/host/host_arch.h instead.
 */
#ifndef MICA_ARCH_H
#define MICA_ARCH_H

#include "types.h"

#define MAX_CPUS 64

typedef unsigned long irqflags_t;

/* Inline, from arch_inline.h:
 *   irqflags_t arch_irq_save(void);      disable, return previous state
 *   void arch_irq_restore(irqflags_t);
 *   void arch_irq_enable(void), arch_irq_disable(void);
 *   bool arch_irq_enabled(void);
 *   void arch_cpu_relax(void);           spin-wait hint
 *   uint64_t arch_timestamp(void);       cycle counter (TSC)
 *   void arch_wait_for_interrupt(void);  enable interrupts, sleep
 *   uintptr_t arch_frame_pointer(void);  current frame, for backtraces
 *   struct percpu *this_cpu(void);       the running CPU's data
 */
#ifdef MICA_HOST_TEST
#include "host_arch.h"
#else
#include "arch/x86_64/arch_inline.h"
#endif

/* Frequency of arch_timestamp() in Hz (0 until calibrated). */
uint64_t arch_timestamp_hz(void);

/* Write raw bytes to the machine's log sinks (debug port, early serial).
 * Called with the log lock held; must not take locks of its own. */
void arch_log_write(const char *s, size_t n);

/* Stop every other CPU (NMI); used by panic.  Returns once sent. */
void arch_stop_other_cpus(void);

/* Power off.  Under QEMU, exit with the success or failure status. */
noreturn void arch_shutdown(bool success);

/* Halt this CPU forever with interrupts off. */
noreturn void arch_halt_forever(void);

/* Fill pcs[] with return addresses walking frame pointers from `fp`;
 * stops at a frame outside the kernel's stacks.  Returns the count. */
size_t arch_backtrace(uintptr_t fp, uintptr_t *pcs, size_t max);

/* Load the user TLS base of the running thread. */
void arch_set_fs_base(uint64_t base);

/* Device interrupt lines (irq.h).  Route GSI `gsi` with the given mode to
 * a handler that calls irq_hw_raise(gsi), leaving it masked: 0,
 * ERR_OUT_OF_RANGE or ERR_NOT_FOUND (no controller serves it). */
int arch_irq_line_route(uint32_t gsi, bool level, bool active_low);
void arch_irq_line_mask(uint32_t gsi, bool masked);
/* MSI line `num` (at or above IRQ_MAX_GSI): its handler calls
 * irq_hw_raise(num); *address and *data are what the device must write.
 * 0 or ERR_NO_RESOURCES. */
int arch_irq_msi_route(uint32_t num, uint64_t *address, uint32_t *data);
void arch_irq_msi_unroute(uint32_t num);
/* Where ISA IRQ `irq` arrives (the firmware's overrides): 0 or
 * ERR_OUT_OF_RANGE. */
int arch_irq_isa(unsigned irq, uint32_t *gsi, bool *level, bool *active_low);

/* The firmware's PCI Express configuration windows (MCFG): up to `max`
 * into out[] (mica/device.h); returns how many there are. */
struct mica_ecam_window;
unsigned arch_pci_ecam(struct mica_ecam_window *out, unsigned max);

/* I/O ports: let every thread of p use ports [base, base + count) from
 * now until p is gone: 0 or ERR_NO_MEMORY (p's permission map, charged
 * to p).  arch_io_release frees the map of a dead process.  A machine
 * whose log writes to a port (a PC's COM1) stops when a process may use
 * it, and takes it back when the last such process has died. */
struct process;
int arch_io_allow(struct process *p, uint32_t base, uint32_t count);
void arch_io_release(struct process *p);

/* Deliberately crash in the named way (command line `fault=`), so the
 * test harness can prove it catches crashes.  Returns if unknown. */
void arch_inject_fault(const char *kind);

#endif
