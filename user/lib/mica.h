/*
 * mica.h - the native system calls for user programs.
 *
 * One inline function per call (the numbers and the calling convention
 * are in <mica/syscalls.h>); each returns a Mica status (0 or ERR_*).
 * mica_process_self(), mica_startup_handle() and mica_resource_handle()
 * read the handles the kernel or the creator put in the auxiliary
 * vector.
 */
#ifndef MICA_USER_MICA_H
#define MICA_USER_MICA_H

#include <stddef.h>
#include <stdint.h>

#include <mica/critical.h>
#include <mica/device.h>
#include <mica/errors.h>
#include <mica/exception.h>
#include <mica/ipc.h>
#include <mica/objects.h>
#include <mica/rights.h>
#include <mica/signals.h>
#include <mica/syscalls.h>
#include <mica/thread_state.h>

static inline long mica_syscall6(long n, long a, long b, long c, long d,
                                 long e, long f)
{
    long r;
    register long r10 __asm__("r10") = d;
    register long r8 __asm__("r8") = e;
    register long r9 __asm__("r9") = f;
    __asm__ volatile("syscall"
                     : "=a"(r)
                     : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8),
                       "r"(r9)
                     : "rcx", "r11", "memory");
    return r;
}

#define MICA_CALL(n, a, b, c, d, e, f) \
    ((int)mica_syscall6((n), (long)(a), (long)(b), (long)(c), (long)(d), \
                        (long)(e), (long)(f)))

static inline int mica_debug_write(const void *buf, size_t len)
{ return MICA_CALL(MICA_SYS_debug_write, buf, len, 0, 0, 0, 0); }
/* Read the kernel log from *pos (docs/abi/syscalls.md); *pos moves on. */
static inline int mica_debug_read(uint64_t *pos, void *buf, size_t len,
                                  uint64_t *got)
{ return MICA_CALL(MICA_SYS_debug_read, pos, buf, len, got, 0, 0); }
static inline int mica_handle_close(mica_handle_t h)
{ return MICA_CALL(MICA_SYS_handle_close, h, 0, 0, 0, 0, 0); }
static inline int mica_handle_duplicate(mica_handle_t h, mica_rights_t r,
                                        mica_handle_t *out)
{ return MICA_CALL(MICA_SYS_handle_duplicate, h, r, out, 0, 0, 0); }
/* What h names (OBJ_*) and its rights. */
static inline int mica_handle_info(mica_handle_t h,
                                   struct mica_handle_info *info)
{ return MICA_CALL(MICA_SYS_handle_info, h, info, 0, 0, 0, 0); }
static inline int mica_handle_replace(mica_handle_t h, mica_rights_t r,
                                      mica_handle_t *out)
{ return MICA_CALL(MICA_SYS_handle_replace, h, r, out, 0, 0, 0); }
static inline int mica_object_wait_one(mica_handle_t h, mica_signals_t want,
                                       uint64_t deadline,
                                       mica_signals_t *observed)
{ return MICA_CALL(MICA_SYS_object_wait_one, h, want, deadline, observed, 0, 0); }
static inline int mica_object_wait_many(struct mica_wait_item *items,
                                        size_t count, uint64_t deadline)
{ return MICA_CALL(MICA_SYS_object_wait_many, items, count, deadline, 0, 0, 0); }
static inline int mica_object_signal(mica_handle_t h, mica_signals_t clear,
                                     mica_signals_t set)
{ return MICA_CALL(MICA_SYS_object_signal, h, clear, set, 0, 0, 0); }
static inline int mica_process_create(const char *name, size_t len,
                                      mica_handle_t *out)
{ return MICA_CALL(MICA_SYS_process_create, name, len, out, 0, 0, 0); }
static inline int mica_process_create_flags(const char *name, size_t len,
                                            mica_handle_t *out,
                                            uint32_t flags)
{ return MICA_CALL(MICA_SYS_process_create, name, len, out, flags, 0, 0); }
static inline int mica_process_exit(int code)
{ return MICA_CALL(MICA_SYS_process_exit, code, 0, 0, 0, 0, 0); }
static inline int mica_process_kill(mica_handle_t h, int code)
{ return MICA_CALL(MICA_SYS_process_kill, h, code, 0, 0, 0, 0); }
static inline int mica_process_read_memory(mica_handle_t h, uint64_t addr,
                                           void *buf, size_t len)
{ return MICA_CALL(MICA_SYS_process_read_memory, h, addr, buf, len, 0, 0); }
static inline int mica_process_write_memory(mica_handle_t h, uint64_t addr,
                                            const void *buf, size_t len)
{ return MICA_CALL(MICA_SYS_process_write_memory, h, addr, buf, len, 0, 0); }
static inline int mica_process_info(mica_handle_t h,
                                    struct mica_process_info *info)
{ return MICA_CALL(MICA_SYS_process_info, h, info, 0, 0, 0, 0); }
/* fds 0-2 of proc go to the console server at ch's other end (moved);
 * ch 0: no console. */
static inline int mica_process_set_stdio(mica_handle_t proc, mica_handle_t ch)
{ return MICA_CALL(MICA_SYS_process_set_stdio, proc, ch, 0, 0, 0, 0); }
static inline int mica_process_clone(mica_handle_t src, const char *name,
                                     size_t len, mica_handle_t *out)
{ return MICA_CALL(MICA_SYS_process_clone, src, name, len, out, 0, 0); }
static inline int mica_thread_create(mica_handle_t proc, const char *name,
                                     size_t len, mica_handle_t *out)
{ return MICA_CALL(MICA_SYS_thread_create, proc, name, len, out, 0, 0); }
static inline int mica_thread_create_flags(mica_handle_t proc,
                                           const char *name, size_t len,
                                           mica_handle_t *out, uint32_t flags)
{ return MICA_CALL(MICA_SYS_thread_create, proc, name, len, out, flags, 0); }
static inline int mica_handle_transfer(mica_handle_t h, mica_handle_t thread,
                                       mica_rights_t rights,
                                       mica_handle_t *out)
{ return MICA_CALL(MICA_SYS_handle_transfer, h, thread, rights, out, 0, 0); }
static inline int mica_thread_start(mica_handle_t t, uint64_t entry,
                                    uint64_t sp, uint64_t a0, uint64_t a1)
{ return MICA_CALL(MICA_SYS_thread_start, t, entry, sp, a0, a1, 0); }
static inline int mica_thread_exit(void)
{ return MICA_CALL(MICA_SYS_thread_exit, 0, 0, 0, 0, 0, 0); }
static inline int mica_thread_kill(mica_handle_t t)
{ return MICA_CALL(MICA_SYS_thread_kill, t, 0, 0, 0, 0, 0); }
static inline int mica_thread_set_priority(mica_handle_t t, unsigned prio)
{ return MICA_CALL(MICA_SYS_thread_set_priority, t, prio, 0, 0, 0, 0); }
/* Above the caller's own base priority with a priority resource. */
static inline int mica_thread_set_priority_granted(mica_handle_t t,
                                                   unsigned prio,
                                                   mica_handle_t resource)
{ return MICA_CALL(MICA_SYS_thread_set_priority, t, prio, resource, 0, 0, 0); }
static inline int mica_thread_set_affinity(mica_handle_t t, uint64_t mask)
{ return MICA_CALL(MICA_SYS_thread_set_affinity, t, mask, 0, 0, 0, 0); }
static inline int mica_thread_yield(void)
{ return MICA_CALL(MICA_SYS_thread_yield, 0, 0, 0, 0, 0, 0); }
static inline int mica_thread_suspend(mica_handle_t t)
{ return MICA_CALL(MICA_SYS_thread_suspend, t, 0, 0, 0, 0, 0); }
static inline int mica_thread_resume(mica_handle_t t)
{ return MICA_CALL(MICA_SYS_thread_resume, t, 0, 0, 0, 0, 0); }
static inline int mica_thread_read_state(mica_handle_t t,
                                         struct mica_thread_state *out)
{ return MICA_CALL(MICA_SYS_thread_read_state, t, out, 0, 0, 0, 0); }
static inline int mica_thread_write_state(mica_handle_t t,
                                          const struct mica_thread_state *in)
{ return MICA_CALL(MICA_SYS_thread_write_state, t, in, 0, 0, 0, 0); }
static inline int mica_thread_interrupt(mica_handle_t t)
{ return MICA_CALL(MICA_SYS_thread_interrupt, t, 0, 0, 0, 0, 0); }
static inline int mica_process_set_exception_channel(mica_handle_t proc,
                                                     mica_handle_t ch)
{
    return MICA_CALL(MICA_SYS_process_set_exception_channel, proc, ch, 0, 0,
                     0, 0);
}
static inline int mica_thread_set_exception_channel(mica_handle_t t,
                                                    mica_handle_t ch)
{ return MICA_CALL(MICA_SYS_thread_set_exception_channel, t, ch, 0, 0, 0, 0); }
static inline int mica_exception_resume(mica_handle_t token)
{ return MICA_CALL(MICA_SYS_exception_resume, token, 0, 0, 0, 0, 0); }
static inline int mica_exception_kill(mica_handle_t token)
{ return MICA_CALL(MICA_SYS_exception_kill, token, 0, 0, 0, 0, 0); }
static inline int mica_thread_info(mica_handle_t t,
                                   struct mica_thread_info *out)
{ return MICA_CALL(MICA_SYS_thread_info, t, out, 0, 0, 0, 0); }
static inline int mica_thread_critical_page(mica_handle_t t, uint64_t *addr)
{ return MICA_CALL(MICA_SYS_thread_critical_page, t, addr, 0, 0, 0, 0); }
static inline int mica_thread_set_critical_budget(mica_handle_t t,
                                                  mica_handle_t budget)
{ return MICA_CALL(MICA_SYS_thread_set_critical_budget, t, budget, 0, 0, 0,
                   0); }

/* A bounded non-preemptible section (mica/critical.h): entering and
 * leaving are stores to the thread's critical page, and a system call
 * (a yield) only when the kernel held a preemption off meanwhile.
 * Sections nest; the yield comes when the outermost one ends, and
 * mica_crit_leave returns 1 when it yielded. */
static inline void mica_crit_enter(struct mica_critical_page *p)
{
    p->defer = p->defer + 1;
    __asm__ volatile("" ::: "memory");
}

static inline int mica_crit_leave(struct mica_critical_page *p)
{
    __asm__ volatile("" ::: "memory");
    uint32_t depth = p->defer - 1;
    p->defer = depth;
    if (depth != 0 || !p->preempt_pending)
        return 0;
    mica_thread_yield();
    return 1;
}
static inline int mica_vmo_create(uint64_t size, mica_handle_t *out)
{ return MICA_CALL(MICA_SYS_vmo_create, size, out, 0, 0, 0, 0); }
static inline int mica_vmo_read(mica_handle_t h, void *buf, uint64_t off,
                                size_t len)
{ return MICA_CALL(MICA_SYS_vmo_read, h, buf, off, len, 0, 0); }
static inline int mica_vmo_write(mica_handle_t h, const void *buf,
                                 uint64_t off, size_t len)
{ return MICA_CALL(MICA_SYS_vmo_write, h, buf, off, len, 0, 0); }
static inline int mica_vmo_get_size(mica_handle_t h, uint64_t *size)
{ return MICA_CALL(MICA_SYS_vmo_get_size, h, size, 0, 0, 0, 0); }
static inline int mica_vmo_clone(mica_handle_t h, uint64_t off, uint64_t size,
                                 mica_handle_t *out)
{ return MICA_CALL(MICA_SYS_vmo_clone, h, off, size, out, 0, 0); }
static inline int mica_vm_map(mica_handle_t proc, mica_handle_t vmo,
                              uint64_t off, uint64_t len, uint32_t flags,
                              uint64_t *addr_inout)
{ return MICA_CALL(MICA_SYS_vm_map, proc, vmo, off, len, flags, addr_inout); }
static inline int mica_vm_unmap(mica_handle_t proc, uint64_t addr,
                                uint64_t len)
{ return MICA_CALL(MICA_SYS_vm_unmap, proc, addr, len, 0, 0, 0); }
static inline int mica_vm_protect(mica_handle_t proc, uint64_t addr,
                                  uint64_t len, uint32_t flags)
{ return MICA_CALL(MICA_SYS_vm_protect, proc, addr, len, flags, 0, 0); }
static inline int mica_clock_get(uint64_t *ns)
{ return MICA_CALL(MICA_SYS_clock_get, ns, 0, 0, 0, 0, 0); }
static inline int mica_nanosleep(uint64_t deadline)
{ return MICA_CALL(MICA_SYS_nanosleep, deadline, 0, 0, 0, 0, 0); }

static inline int mica_system_info(struct mica_system_info *info)
{ return MICA_CALL(MICA_SYS_system_info, info, 0, 0, 0, 0, 0); }

static inline int mica_platform_info(struct mica_platform_info *info)
{ return MICA_CALL(MICA_SYS_platform_info, info, 0, 0, 0, 0, 0); }

static inline int mica_debug_fail_inject(uint32_t one_in_n, uint64_t seed)
{ return MICA_CALL(MICA_SYS_debug_fail_inject, one_in_n, seed, 0, 0, 0, 0); }

static inline int mica_channel_create(uint32_t flags, mica_handle_t out[2])
{ return MICA_CALL(MICA_SYS_channel_create, flags, out, 0, 0, 0, 0); }
static inline int mica_channel_write(mica_handle_t h, const void *bytes,
                                     uint32_t num_bytes,
                                     const mica_handle_t *handles,
                                     uint32_t num_handles)
{ return MICA_CALL(MICA_SYS_channel_write, h, bytes, num_bytes, handles,
                   num_handles, 0); }
static inline int mica_channel_read(mica_handle_t h, struct mica_msg_buf *buf)
{ return MICA_CALL(MICA_SYS_channel_read, h, buf, 0, 0, 0, 0); }
static inline int mica_channel_call(mica_handle_t h, const struct mica_msg *msg,
                                    struct mica_msg_buf *reply,
                                    uint64_t deadline)
{ return MICA_CALL(MICA_SYS_channel_call, h, msg, reply, deadline, 0, 0); }
static inline int mica_channel_reply_read(mica_handle_t h, uint64_t txid,
                                          const struct mica_msg *reply,
                                          struct mica_msg_buf *recv,
                                          uint64_t deadline)
{ return MICA_CALL(MICA_SYS_channel_reply_read, h, txid, reply, recv,
                   deadline, 0); }
static inline int mica_channel_bind(mica_handle_t h, mica_handle_t port,
                                    uint64_t key)
{ return MICA_CALL(MICA_SYS_channel_bind, h, port, key, 0, 0, 0); }
static inline int mica_grant_create(const void *addr, uint64_t len,
                                    mica_rights_t rights, mica_handle_t *out)
{ return MICA_CALL(MICA_SYS_grant_create, addr, len, rights, out, 0, 0); }
static inline int mica_grant_read(mica_handle_t h, uint64_t off, void *buf,
                                  uint64_t len)
{ return MICA_CALL(MICA_SYS_grant_read, h, off, buf, len, 0, 0); }
static inline int mica_grant_write(mica_handle_t h, uint64_t off,
                                   const void *buf, uint64_t len)
{ return MICA_CALL(MICA_SYS_grant_write, h, off, buf, len, 0, 0); }
static inline int mica_port_create(uint32_t flags, mica_handle_t *out)
{ return MICA_CALL(MICA_SYS_port_create, flags, out, 0, 0, 0, 0); }
static inline int mica_port_receive(mica_handle_t port,
                                    struct mica_msg_buf *buf,
                                    uint64_t deadline)
{ return MICA_CALL(MICA_SYS_port_receive, port, buf, deadline, 0, 0, 0); }
static inline int mica_reply_receive(mica_handle_t port, uint64_t txid,
                                     const struct mica_msg *reply,
                                     struct mica_msg_buf *recv,
                                     uint64_t deadline)
{ return MICA_CALL(MICA_SYS_reply_receive, port, txid, reply, recv,
                   deadline, 0); }
static inline int mica_port_wait(mica_handle_t port, uint64_t deadline,
                                 struct mica_packet *out)
{ return MICA_CALL(MICA_SYS_port_wait, port, deadline, out, 0, 0, 0); }
static inline int mica_port_queue(mica_handle_t port,
                                  const struct mica_packet *pkt)
{ return MICA_CALL(MICA_SYS_port_queue, port, pkt, 0, 0, 0, 0); }
static inline int mica_object_wait_async(mica_handle_t h, mica_handle_t port,
                                         uint64_t key, mica_signals_t signals,
                                         uint32_t options)
{ return MICA_CALL(MICA_SYS_object_wait_async, h, port, key, signals,
                   options, 0); }
static inline int mica_object_wait_cancel(mica_handle_t h, mica_handle_t port,
                                          uint64_t key)
{ return MICA_CALL(MICA_SYS_object_wait_cancel, h, port, key, 0, 0, 0); }
static inline int mica_event_create(uint32_t flags, mica_handle_t *out)
{ return MICA_CALL(MICA_SYS_event_create, flags, out, 0, 0, 0, 0); }
static inline int mica_timer_create(uint32_t flags, mica_handle_t *out)
{ return MICA_CALL(MICA_SYS_timer_create, flags, out, 0, 0, 0, 0); }
static inline int mica_timer_set(mica_handle_t h, uint64_t deadline,
                                 uint64_t period)
{ return MICA_CALL(MICA_SYS_timer_set, h, deadline, period, 0, 0, 0); }
static inline int mica_timer_cancel(mica_handle_t h)
{ return MICA_CALL(MICA_SYS_timer_cancel, h, 0, 0, 0, 0, 0); }
static inline int mica_timer_set_port(mica_handle_t h, mica_handle_t port,
                                      uint64_t key)
{ return MICA_CALL(MICA_SYS_timer_set_port, h, port, key, 0, 0, 0); }
static inline int mica_resource_create(mica_handle_t parent, uint32_t kind,
                                       uint64_t base, uint64_t size,
                                       mica_handle_t *out)
{ return MICA_CALL(MICA_SYS_resource_create, parent, kind, base, size, out,
                   0); }
static inline int mica_interrupt_create(mica_handle_t resource,
                                        uint32_t number, uint32_t options,
                                        mica_handle_t *out,
                                        uint32_t *pending)
{ return MICA_CALL(MICA_SYS_interrupt_create, resource, number, options, out,
                   pending, 0); }
static inline int mica_interrupt_wait(mica_handle_t h, uint64_t last_seq,
                                      uint64_t deadline, uint64_t *seq)
{ return MICA_CALL(MICA_SYS_interrupt_wait, h, last_seq, deadline, seq, 0,
                   0); }
static inline int mica_interrupt_ack(mica_handle_t h, uint64_t seq)
{ return MICA_CALL(MICA_SYS_interrupt_ack, h, seq, 0, 0, 0, 0); }
static inline int mica_interrupt_nak(mica_handle_t h, uint64_t seq)
{ return MICA_CALL(MICA_SYS_interrupt_nak, h, seq, 0, 0, 0, 0); }
static inline int mica_interrupt_set_port(mica_handle_t h, mica_handle_t port,
                                          uint64_t key)
{ return MICA_CALL(MICA_SYS_interrupt_set_port, h, port, key, 0, 0, 0); }
static inline int mica_ioport_create(mica_handle_t resource, uint32_t base,
                                     uint32_t count, mica_handle_t *out)
{ return MICA_CALL(MICA_SYS_ioport_create, resource, base, count, out, 0,
                   0); }
static inline int mica_vmo_create_physical(mica_handle_t resource,
                                           uint64_t base, uint64_t size,
                                           uint32_t cache, mica_handle_t *out)
{ return MICA_CALL(MICA_SYS_vmo_create_physical, resource, base, size, cache,
                   out, 0); }
static inline int mica_vmo_create_contiguous(mica_handle_t resource,
                                             uint64_t size, mica_handle_t *out,
                                             uint64_t *paddr)
{ return MICA_CALL(MICA_SYS_vmo_create_contiguous, resource, size, out,
                   paddr, 0, 0); }
static inline int mica_ioport_enable(mica_handle_t h)
{ return MICA_CALL(MICA_SYS_ioport_enable, h, 0, 0, 0, 0, 0); }
static inline int mica_interrupt_info(mica_handle_t h,
                                      struct mica_irq_info *info)
{ return MICA_CALL(MICA_SYS_interrupt_info, h, info, 0, 0, 0, 0); }

mica_handle_t mica_process_self(void);
mica_handle_t mica_startup_handle(void);
mica_handle_t mica_resource_handle(void);   /* 0: none given */
const char *mica_status_str(int status);

#endif
