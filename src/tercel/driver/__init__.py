"""Layer 1 — the BPF program, its loader and the ring-buffer reader (emits PPME-encoded events).

- `bpf/tercel.bpf.c` (built by `make -C src/tercel/driver/bpf`, vmlinux.h generated from the running
  kernel's BTF): tp_btf sys_exit (+ tail-called per-syscall handlers), sched_process_exec and
  sched_process_exit; exit-only events with the newest table's numbers and parameter lists.
- `loader.Driver(obj_path=None, ring_bytes=8 MiB, snaplen=0, wake_bytes=1 MiB, exclude_tgid=own pid,
  drop_failed=False)`: records are submitted without wake-up; the consumer is woken only when a record
  makes the unread data cross `wake_bytes` (and polls on a short timeout otherwise); with less than
  32 KiB free in the ring a syscall exit is counted as dropped before any event is built;
  `.open(syscalls)`, `.set_interest(names)` (in place), `.counters() -> DriverCounters`, `.ring`, `.close()`.
- `interest.select_syscalls(rule_syscalls, custom_set=(), repair=False, all_syscalls=False)`: Falco's
  base_syscalls semantics over names (`procexit` included).
- `ringbuf.RingReader`: the mmap reader (`read_batch()`, `wait(timeout)`).
- `errors.DriverError`: one-line reason live capture cannot start.
"""
