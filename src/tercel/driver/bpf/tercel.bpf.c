// SPDX-License-Identifier: GPL-2.0
/*
 * tercel's capture program: raw-syscall-exit + sched_process_{exec,exit} hooks that emit PPME-encoded
 * exit events (ppm_evt_hdr v2, u16 length array, parameters) into one BPF ring buffer.
 *
 * Layout of one ring record: an 8-byte tercel prefix (u16 cpu, u16 reserved, u32 reserved) and then
 * the PPME event. Event numbers and parameter lists follow the newest falcosecurity event table
 * (exit-only, every parameter in the exit event).
 *
 * Flow: tercel_sys_exit checks the own-process filter and the per-syscall interest map, then tail-calls
 * the handler of that syscall (prog array filled from user space); unknown syscalls go to the generic
 * handler. Events are built in a per-CPU scratch area and copied into the ring with bpf_ringbuf_output;
 * wake-ups are suppressed except when unread data crosses a threshold (the consumer also polls on a timeout).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>

char LICENSE[] SEC("license") = "GPL";

/* ---- sizes -------------------------------------------------------------------------------- */
#define TC_SCRATCH (1 << 16)       /* scratch buffer, twice the largest event so masked writes stay in */
#define TC_MASK ((1 << 15) - 1)    /* offsets are masked to < 32 KiB */
#define TC_PREFIX 8                /* tercel prefix before the PPME header */
#define TC_HDR 26                  /* ppm_evt_hdr v2 */
#define TC_MAX_PARAMS 32
#define TC_PATH_MAX 4096
#define TC_ARGS_MAX 4096
#define TC_NAME_MAX 256
#define TC_DEPTH 24                /* path components walked for kernel paths */
#define TC_CG_DEPTH 10             /* cgroup levels */
#define TC_NR_SYSCALLS 512
#define TC_FULL_MARGIN (1 << 15)   /* free ring space below which sys_exit events are dropped early */

/* ---- PPME event numbers (exit events, newest table) ---------------------------------------- */
#define E_GENERIC_X 1
#define E_OPEN_X 3
#define E_CLOSE_X 5
#define E_SOCKET_X 19
#define E_BIND_X 21
#define E_CONNECT_X 23
#define E_LISTEN_X 25
#define E_SENDTO_X 31
#define E_RECVFROM_X 35
#define E_SENDMSG_X 49
#define E_RECVMSG_X 53
#define E_CREAT_X 59
#define E_PIPE_X 61
#define E_CHDIR_X 95
#define E_FCHDIR_X 97
#define E_KILL_X 129
#define E_TKILL_X 131
#define E_TGKILL_X 133
#define E_PTRACE_X 169
#define E_RENAME_X 175
#define E_RENAMEAT_X 177
#define E_SYMLINK_X 179
#define E_SYMLINKAT_X 181
#define E_PROCEXIT_1_E 186
#define E_SETRESUID_X 193
#define E_SETRESGID_X 195
#define E_SETUID_X 199
#define E_SETGID_X 201
#define E_CLONE_20_X 223
#define E_FORK_20_X 225
#define E_VFORK_20_X 227
#define E_SETNS_X 241
#define E_ACCEPT_5_X 247
#define E_MOUNT_X 257
#define E_CHROOT_X 267
#define E_MKDIR_2_X 277
#define E_RMDIR_2_X 279
#define E_UNSHARE_X 285
#define E_EXECVE_19_X 293
#define E_UNLINK_2_X 301
#define E_UNLINKAT_2_X 303
#define E_MKDIRAT_X 305
#define E_OPENAT_2_X 307
#define E_LINK_2_X 309
#define E_LINKAT_2_X 311
#define E_FCHMODAT_X 313
#define E_CHMOD_X 315
#define E_FCHMOD_X 317
#define E_RENAMEAT2_X 319
#define E_USERFAULTFD_X 321
#define E_OPENAT2_X 327
#define E_EXECVEAT_X 331
#define E_CLONE3_X 335
#define E_CAPSET_X 353
#define E_DUP2_X 363
#define E_DUP3_X 365
#define E_DUP_1_X 367
#define E_BPF_2_X 369
#define E_ACCEPT4_6_X 389
#define E_UMOUNT2_X 391
#define E_PIPE2_X 393
#define E_PRCTL_X 401
#define E_MEMFD_CREATE_X 405
#define E_INIT_MODULE_X 411
#define E_FINIT_MODULE_X 413
#define E_SETREUID_X 427
#define E_SETREGID_X 429

/* ---- PPM flag values ---------------------------------------------------------------------- */
#define PPM_O_RDONLY (1 << 0)
#define PPM_O_WRONLY (1 << 1)
#define PPM_O_RDWR (PPM_O_RDONLY | PPM_O_WRONLY)
#define PPM_O_CREAT (1 << 2)
#define PPM_O_APPEND (1 << 3)
#define PPM_O_DSYNC (1 << 4)
#define PPM_O_EXCL (1 << 5)
#define PPM_O_NONBLOCK (1 << 6)
#define PPM_O_SYNC (1 << 7)
#define PPM_O_TRUNC (1 << 8)
#define PPM_O_DIRECT (1 << 9)
#define PPM_O_DIRECTORY (1 << 10)
#define PPM_O_LARGEFILE (1 << 11)
#define PPM_O_CLOEXEC (1 << 12)
#define PPM_O_TMPFILE (1 << 13)
#define PPM_O_F_CREATED (1 << 14)

#define PPM_EXE_WRITABLE 1
#define PPM_EXE_UPPER_LAYER 2
#define PPM_EXE_FROM_MEMFD 4
#define PPM_EXE_LOWER_LAYER 8

#define PPM_CL_CHILD_IN_PIDNS (1 << 29)

/* Linux values (x86_64) */
#define L_O_ACCMODE 03
#define L_O_CREAT 0100
#define L_O_EXCL 0200
#define L_O_TRUNC 01000
#define L_O_APPEND 02000
#define L_O_NONBLOCK 04000
#define L_O_DSYNC 010000
#define L_O_DIRECT 040000
#define L_O_LARGEFILE 0100000
#define L_O_DIRECTORY 0200000
#define L_O_CLOEXEC 02000000
#define L_O_SYNC 04000000
#define L_O_TMPFILE 020000000
#define L_FMODE_CREATED 0x100000
#define L_S_IFMT 00170000
#define L_S_IFSOCK 0140000
#define L_AF_UNIX 1
#define L_AF_INET 2
#define L_AF_INET6 10
#define L_TS_COMPAT 0x0002
#define L_PR_SET_NAME 15
#define L_PR_GET_NAME 16
#define L_PR_GET_CHILD_SUBREAPER 37
#define L_OVERLAYFS_MAGIC 0x794c7630
#define L_CLONE_VM 0x00000100
#define L_CLONE_VFORK 0x00004000

/* ---- maps --------------------------------------------------------------------------------- */
struct tercel_cfg {
	__u32 own_tgid;       /* tercel itself: never traced */
	__u32 snaplen;        /* bytes of I/O payload to copy (0: none) */
	__u64 boot_ns;        /* epoch ns at boot: ts = boot_ns + bpf_ktime_get_boot_ns() */
	__u64 wake_bytes;     /* force a consumer wake-up once this much data is unread */
	__u32 procexit;       /* emit process-exit events */
	__u32 drop_failed;    /* drop the exits of failed syscalls (engine.modern_ebpf.drop_failed_exit) */
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct tercel_cfg);
} tercel_cfg_map SEC(".maps");

/* interest[syscall nr] != 0: the exit of this syscall is sent */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, TC_NR_SYSCALLS);
	__type(key, __u32);
	__type(value, __u8);
} tercel_interest SEC(".maps");

/* portable PPM_SC code of each native syscall, for generic events */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, TC_NR_SYSCALLS);
	__type(key, __u32);
	__type(value, __u16);
} tercel_ppm_sc SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, TC_NR_SYSCALLS);
	__type(key, __u32);
	__type(value, __u32);
} tercel_exit_progs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 8 << 20);
} tercel_ring SEC(".maps");

/* per-CPU counters: 0 events sent, 1 events dropped (ring full), 2 scratch failures */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} tercel_counters SEC(".maps");

/* The cursor lives in the map value, not on the stack: values loaded from a map are unknown scalars to
 * the verifier, so the branches after each variable-length write converge instead of multiplying. */
struct tercel_scratch {
	__u32 off;     /* write position in buf */
	__u32 idx;     /* next parameter */
	__u32 nparams;
	__u32 type;
	__u32 pstart;  /* start of the path being written */
	__u32 cgstart; /* start of the cgroups parameter */
	__u8 buf[TC_SCRATCH];
	__u64 ptrs[TC_DEPTH + 8];  /* path components while walking dentries / kernfs nodes */
};

/* an ARRAY indexed by CPU: per-CPU arrays are limited to 32 KiB values */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);    /* set to the number of CPUs by the loader */
	__type(key, __u32);
	__type(value, struct tercel_scratch);
} tercel_scratch_map SEC(".maps");

/* ---- event builder ------------------------------------------------------------------------ */
struct ev {
	struct tercel_scratch *s;
	__u32 cpu;
};

static __always_inline void count(__u32 which)
{
	__u64 *c = bpf_map_lookup_elem(&tercel_counters, &which);
	if (c)
		*c += 1;
}

static __always_inline struct tercel_cfg *cfg_get(void)
{
	__u32 k = 0;
	return bpf_map_lookup_elem(&tercel_cfg_map, &k);
}

static __always_inline int ev_begin(struct ev *e, __u16 type, __u32 nparams)
{
	__u32 cpu = bpf_get_smp_processor_id();
	e->cpu = cpu;
	e->s = bpf_map_lookup_elem(&tercel_scratch_map, &cpu);
	if (!e->s) {
		count(2);
		return -1;
	}
	e->s->type = type;
	e->s->nparams = nparams;
	e->s->idx = 0;
	e->s->off = TC_PREFIX + TC_HDR + 2 * nparams;
	return 0;
}

static __always_inline void ev_len(struct ev *e, __u32 len)
{
	__u32 at = TC_PREFIX + TC_HDR + 2 * (e->s->idx & (TC_MAX_PARAMS - 1));
	*(__u16 *)&e->s->buf[at & TC_MASK] = (__u16)len;
	e->s->idx++;
	e->s->off += len;
}

#define DEFINE_PUSH(name, ctype)                                               \
	static __always_inline void name(struct ev *e, ctype v)                \
	{                                                                      \
		*(ctype *)&e->s->buf[e->s->off & TC_MASK] = v;                    \
		ev_len(e, sizeof(ctype));                                      \
	}
DEFINE_PUSH(push_u8, __u8)
DEFINE_PUSH(push_u16, __u16)
DEFINE_PUSH(push_u32, __u32)
DEFINE_PUSH(push_u64, __u64)
#define push_s64(e, v) push_u64(e, (__u64)(v))
#define push_s32(e, v) push_u32(e, (__u32)(v))

static __always_inline void push_empty(struct ev *e)
{
	ev_len(e, 0);
}

static __always_inline void push_user_str(struct ev *e, const void *p, __u32 max)
{
	long n = 0;
	if (p)
		n = bpf_probe_read_user_str(&e->s->buf[e->s->off & TC_MASK], max & (TC_PATH_MAX * 2 - 1), p);
	ev_len(e, n > 0 ? n : 0);
}

static __always_inline void push_kernel_str(struct ev *e, const void *p, __u32 max)
{
	long n = 0;
	if (p)
		n = bpf_probe_read_kernel_str(&e->s->buf[e->s->off & TC_MASK], max & (TC_PATH_MAX * 2 - 1), p);
	ev_len(e, n > 0 ? n : 0);
}

/* raw user bytes (BYTEBUF) */
static __always_inline void push_user_bytes(struct ev *e, const void *p, __u64 len)
{
	if (!p || len == 0) {
		push_empty(e);
		return;
	}
	if (len > TC_ARGS_MAX)
		len = TC_ARGS_MAX;
	if (bpf_probe_read_user(&e->s->buf[e->s->off & TC_MASK], len & (TC_ARGS_MAX * 2 - 1), p) < 0)
		len = 0;
	ev_len(e, len);
}

/* a u8 index then a u64: the DYN encoding with its first (UINT64) type */
static __always_inline void push_dyn_u64(struct ev *e, __u64 v)
{
	e->s->buf[e->s->off & TC_MASK] = 0;
	*(__u64 *)&e->s->buf[(e->s->off + 1) & TC_MASK] = v;
	ev_len(e, 9);
}

static __always_inline void ev_submit(struct ev *e)
{
	struct tercel_cfg *cfg = cfg_get();
	__u8 *b = e->s->buf;
	__u32 len = e->s->off - TC_PREFIX;
	__u32 total = e->s->off;
	__u64 flags = BPF_RB_NO_WAKEUP;

	*(__u16 *)&b[0] = (__u16)bpf_get_smp_processor_id();
	*(__u16 *)&b[2] = 0;
	*(__u32 *)&b[4] = 0;
	*(__u64 *)&b[8] = (cfg ? cfg->boot_ns : 0) + bpf_ktime_get_boot_ns();
	*(__u64 *)&b[16] = bpf_get_current_pid_tgid() & 0xffffffff;
	*(__u32 *)&b[24] = len;
	*(__u16 *)&b[28] = e->s->type;
	*(__u32 *)&b[30] = e->s->nparams;

	/* Wake the consumer only when this record makes the unread data cross the threshold: above it the
	 * consumer is awake (or polls on its timeout), and a forced wake-up per event would cost each traced
	 * syscall an irq_work (an IPI, a VM exit here) exactly when the consumer is already behind. */
	if (cfg) {
		__u64 avail = bpf_ringbuf_query(&tercel_ring, BPF_RB_AVAIL_DATA);

		if (avail < cfg->wake_bytes && avail + total >= cfg->wake_bytes)
			flags = BPF_RB_FORCE_WAKEUP;
	}
	if (bpf_ringbuf_output(&tercel_ring, b, total & (TC_SCRATCH - 1), flags) == 0)
		count(0);
	else
		count(1);
}

/* ---- kernel data helpers ------------------------------------------------------------------ */
/* regs is a BTF pointer in tp_btf programs: direct loads (probe-mem) instead of helper calls */
static __always_inline unsigned long arg(struct pt_regs *regs, int i)
{
	switch (i) {
	case 0: return regs->di;
	case 1: return regs->si;
	case 2: return regs->dx;
	case 3: return regs->r10;
	case 4: return regs->r8;
	default: return regs->r9;
	}
}

static __always_inline __u32 open_flags_to_ppm(__u32 f)
{
	__u32 r = 0;
	switch (f & L_O_ACCMODE) {
	case 0: r |= PPM_O_RDONLY; break;
	case 1: r |= PPM_O_WRONLY; break;
	case 2: r |= PPM_O_RDWR; break;
	}
	if (f & L_O_CREAT) r |= PPM_O_CREAT;
	if (f & L_O_APPEND) r |= PPM_O_APPEND;
	if (f & L_O_DSYNC) r |= PPM_O_DSYNC;
	if (f & L_O_EXCL) r |= PPM_O_EXCL;
	if (f & L_O_NONBLOCK) r |= PPM_O_NONBLOCK;
	if (f & L_O_SYNC) r |= PPM_O_SYNC;
	if (f & L_O_TRUNC) r |= PPM_O_TRUNC;
	if (f & L_O_DIRECT) r |= PPM_O_DIRECT;
	if (f & L_O_DIRECTORY) r |= PPM_O_DIRECTORY;
	if (f & L_O_LARGEFILE) r |= PPM_O_LARGEFILE;
	if (f & L_O_CLOEXEC) r |= PPM_O_CLOEXEC;
	if ((f & L_O_TMPFILE) == L_O_TMPFILE) r |= PPM_O_TMPFILE;
	return r;
}

/* only the NONBLOCK / CLOEXEC bits (socket, pipe2, dup3, ...) */
static __always_inline __u32 fd_flags_to_ppm(__u32 f)
{
	__u32 r = 0;
	if (f & L_O_NONBLOCK) r |= PPM_O_NONBLOCK;
	if (f & L_O_CLOEXEC) r |= PPM_O_CLOEXEC;
	return r;
}

static __always_inline __u32 clone_flags_to_ppm(__u64 f)
{
	__u32 r = 0;
	if (f & 0x00000400) r |= 1 << 0;    /* FILES */
	if (f & 0x00000200) r |= 1 << 1;    /* FS */
	if (f & 0x80000000) r |= 1 << 2;    /* IO */
	if (f & 0x08000000) r |= 1 << 3;    /* NEWIPC */
	if (f & 0x40000000) r |= 1 << 4;    /* NEWNET */
	if (f & 0x00020000) r |= 1 << 5;    /* NEWNS */
	if (f & 0x20000000) r |= 1 << 6;    /* NEWPID */
	if (f & 0x04000000) r |= 1 << 7;    /* NEWUTS */
	if (f & 0x00008000) r |= 1 << 8;    /* PARENT */
	if (f & 0x00100000) r |= 1 << 9;    /* PARENT_SETTID */
	if (f & 0x00002000) r |= 1 << 10;   /* PTRACE */
	if (f & 0x00000800) r |= 1 << 11;   /* SIGHAND */
	if (f & 0x00040000) r |= 1 << 12;   /* SYSVSEM */
	if (f & 0x00010000) r |= 1 << 13;   /* THREAD */
	if (f & 0x00800000) r |= 1 << 14;   /* UNTRACED */
	if (f & 0x00000100) r |= 1 << 15;   /* VM */
	if (f & 0x10000000) r |= 1 << 20;   /* NEWUSER */
	if (f & 0x00200000) r |= 1 << 23;   /* CHILD_CLEARTID */
	if (f & 0x01000000) r |= 1 << 24;   /* CHILD_SETTID */
	if (f & 0x00080000) r |= 1 << 25;   /* SETTLS */
	if (f & 0x00004000) r |= 1 << 27;   /* VFORK */
	if (f & 0x02000000) r |= 1 << 28;   /* NEWCGROUP */
	return r;
}

static __always_inline __u16 ptrace_req_to_ppm(long req)
{
	switch (req) {
	case 0: return 1;   case 1: return 2;   case 2: return 3;   case 3: return 4;
	case 4: return 5;   case 5: return 6;   case 6: return 7;   case 7: return 8;
	case 8: return 9;   case 9: return 10;  case 16: return 11; case 17: return 12;
	case 24: return 13; case 0x4200: return 14; case 0x4201: return 15; case 0x4202: return 16;
	case 0x4203: return 17; case 0x4204: return 18; case 0x4205: return 19; case 0x4206: return 20;
	case 0x4207: return 21; case 0x4208: return 22; case 0x4209: return 23; case 0x420a: return 24;
	case 0x420b: return 25; case 12: return 26; case 13: return 27; case 14: return 28;
	case 15: return 29; case 18: return 30; case 19: return 31; case 21: return 32;
	case 25: return 33; case 26: return 34; case 30: return 35; case 31: return 36;
	case 32: return 37; case 33: return 38;
	default: return 0;
	}
}

/* new_encode_dev(): what the drivers put in `dev` params */
static __always_inline __u32 encode_dev(__u32 dev)
{
	__u32 major = dev >> 20, minor = dev & 0xfffff;
	return (minor & 0xff) | (major << 8) | ((minor & ~0xffU) << 12);
}

/* current's struct file for fd (NULL if none); t is a BTF pointer so the walk is direct loads, and the
 * result is cast back to a BTF pointer so callers can dereference it without helper calls */
extern void *bpf_rdonly_cast(const void *obj, __u32 btf_id) __ksym;

static __always_inline struct file *fd_file(struct task_struct *t, long fd)
{
	struct fdtable *fdt;
	struct file **arr;
	struct file *f = NULL;

	if (fd < 0)
		return NULL;
	fdt = t->files->fdt;
	if (!fdt || fd >= fdt->max_fds)
		return NULL;
	arr = fdt->fd;
	bpf_probe_read_kernel(&f, sizeof(f), &arr[fd]);
	if (!f)
		return NULL;
	return bpf_rdonly_cast(f, bpf_core_type_id_kernel(struct file));
}

/* overlayfs layer of an open file: 1 upper (written in the container), 2 lower (image), 0 not overlay */
static __always_inline int overlay_layer(struct file *f)
{
	struct inode *ino;
	if (!f)
		return 0;
	ino = BPF_CORE_READ(f, f_path.dentry, d_inode);
	if (BPF_CORE_READ(ino, i_sb, s_magic) != L_OVERLAYFS_MAGIC)
		return 0;
	return BPF_CORE_READ(container_of(ino, struct ovl_inode, vfs_inode), __upperdentry) ? 1 : 2;
}

static __always_inline __u64 task_pid_vnr_of(struct pid *pid)
{
	unsigned int level = BPF_CORE_READ(pid, level);
	return BPF_CORE_READ(pid, numbers[level & 31].nr);
}

static __always_inline __u64 task_global_nr(struct pid *pid)
{
	return BPF_CORE_READ(pid, numbers[0].nr);
}

/* ---- paths ----------------------------------------------------------------------------------
 * Loops over path components run in bpf_loop callbacks: the verifier checks a callback once instead
 * of every combination of branches of an unrolled loop (which exceeds the 1M-instruction budget). */
struct dwalk {
	__u64 d, vm, mnt;
	__u32 n, cpu;
};

static long dwalk_cb(__u32 i, void *vc)
{
	struct dwalk *c = vc;
	struct dentry *d = (struct dentry *)c->d;
	struct vfsmount *vm = (struct vfsmount *)c->vm;
	struct mount *mnt = (struct mount *)c->mnt;
	struct dentry *root = BPF_CORE_READ(vm, mnt_root);
	struct dentry *parent = BPF_CORE_READ(d, d_parent);
	struct tercel_scratch *s;
	__u32 cpu = c->cpu;

	if (d == root) {
		struct mount *mp = BPF_CORE_READ(mnt, mnt_parent);
		if (!mp || mp == mnt)
			return 1;
		c->d = (__u64)BPF_CORE_READ(mnt, mnt_mountpoint);
		c->mnt = (__u64)mp;
		c->vm = (__u64)((char *)mp + bpf_core_field_offset(struct mount, mnt));
		return 0;
	}
	if (!d || d == parent)
		return 1;
	s = bpf_map_lookup_elem(&tercel_scratch_map, &cpu);
	if (!s)
		return 1;
	s->ptrs[c->n & (TC_DEPTH + 8 - 1)] = (__u64)BPF_CORE_READ(d, d_name.name);
	c->n++;
	c->d = (__u64)parent;
	return c->n >= TC_DEPTH;
}

/* writes "/" + component for ptrs[n-1] .. ptrs[0] at s->off */
struct demit {
	__u32 n, cpu, max;
};

static long demit_cb(__u32 i, void *vc)
{
	struct demit *c = vc;
	struct tercel_scratch *s;
	__u32 cpu = c->cpu, idx = c->n - 1 - i;
	long r;

	s = bpf_map_lookup_elem(&tercel_scratch_map, &cpu);
	if (!s)
		return 1;
	if (s->off - s->pstart > TC_PATH_MAX - TC_NAME_MAX - 2)
		return 1;
	s->buf[s->off & TC_MASK] = '/';
	s->off++;
	r = bpf_probe_read_kernel_str(&s->buf[s->off & TC_MASK], c->max & (TC_NAME_MAX * 2 - 1),
				      (void *)s->ptrs[idx & (TC_DEPTH + 8 - 1)]);
	if (r > 1)
		s->off += r - 1;
	return 0;
}

/* Writes the absolute path of (dentry, vfsmount) as a NUL-terminated string parameter. */
static __always_inline void push_dpath(struct ev *e, struct dentry *d, struct vfsmount *vm)
{
	struct dwalk w = {};
	struct demit m = {};
	__u32 start;

	if (!d || !vm) {
		push_empty(e);
		return;
	}
	w.d = (__u64)d;
	w.vm = (__u64)vm;
	w.mnt = (__u64)container_of(vm, struct mount, mnt);
	w.cpu = e->cpu;
	bpf_loop(TC_DEPTH, dwalk_cb, &w, 0);
	start = e->s->off;
	e->s->pstart = start;
	m.n = w.n;
	m.cpu = e->cpu;
	m.max = TC_NAME_MAX;
	if (w.n == 0) {
		/* a pseudo file that is its own root (memfd, ...): its bare name, "memfd:x" as Falco's drivers
		 * give it (the official rules compare proc.exepath with "memfd:runc_cloned:/proc/self/exe") */
		const unsigned char *nm = BPF_CORE_READ(d, d_name.name);
		char c0 = 0;
		bpf_probe_read_kernel(&c0, 1, nm);
		if (c0 && c0 != '/') {
			long r = bpf_probe_read_kernel_str(&e->s->buf[e->s->off & TC_MASK], TC_NAME_MAX, nm);
			if (r > 1)
				e->s->off += r - 1;
		} else {
			e->s->buf[e->s->off & TC_MASK] = '/';
			e->s->off++;
		}
	} else {
		bpf_loop(w.n & (TC_DEPTH + 8 - 1), demit_cb, &m, 0);
	}
	e->s->buf[e->s->off & TC_MASK] = 0;
	e->s->off++;
	start = e->s->pstart;
	{
		__u32 len = e->s->off - start;
		e->s->off = start;
		ev_len(e, len);
	}
}

static __always_inline void push_file_path(struct ev *e, struct file *f)
{
	if (!f) {
		push_empty(e);
		return;
	}
	push_dpath(e, BPF_CORE_READ(f, f_path.dentry), BPF_CORE_READ(f, f_path.mnt));
}

/* cgroups: "subsys=/path\0" for every attached subsystem (BYTEBUF) */
struct kernfs_node___old {
	struct kernfs_node *parent;
} __attribute__((preserve_access_index));

static __always_inline struct kernfs_node *kn_parent(struct kernfs_node *kn)
{
	if (bpf_core_field_exists(kn->__parent))
		return BPF_CORE_READ(kn, __parent);
	return BPF_CORE_READ((struct kernfs_node___old *)kn, parent);
}

struct cgwalk {
	__u64 cs;
	__u32 cpu;
};

static long cg_cb(__u32 i, void *vc)
{
	struct cgwalk *c = vc;
	struct css_set *cs = (struct css_set *)c->cs;
	struct cgroup_subsys_state *css;
	struct tercel_scratch *s;
	struct kernfs_node *kn;
	struct demit m = {};
	__u32 cpu = c->cpu, n = 0;
	long r;
	int j;

	if (i >= CGROUP_SUBSYS_COUNT)
		return 1;
	css = BPF_CORE_READ(cs, subsys[i]);
	if (!css)
		return 0;
	s = bpf_map_lookup_elem(&tercel_scratch_map, &cpu);
	if (!s)
		return 1;
	if (s->off - s->cgstart > TC_ARGS_MAX - 1024)
		return 1;
	r = bpf_probe_read_kernel_str(&s->buf[s->off & TC_MASK], 32, BPF_CORE_READ(css, ss, name));
	if (r <= 1)
		return 0;
	s->off += r - 1;
	s->buf[s->off & TC_MASK] = '=';
	s->off++;
	kn = BPF_CORE_READ(css, cgroup, kn);
	for (j = 0; j < TC_CG_DEPTH; j++) {
		struct kernfs_node *p;
		if (!kn)
			break;
		p = kn_parent(kn);
		if (!p)
			break;   /* the root node's name is not part of the path */
		s->ptrs[n & (TC_DEPTH + 8 - 1)] = (__u64)BPF_CORE_READ(kn, name);
		n++;
		kn = p;
	}
	s->pstart = s->off;
	m.n = n;
	m.cpu = cpu;
	m.max = 128;
	if (n == 0) {
		s->buf[s->off & TC_MASK] = '/';
		s->off++;
	} else {
		bpf_loop(n & (TC_DEPTH + 8 - 1), demit_cb, &m, 0);
	}
	s = bpf_map_lookup_elem(&tercel_scratch_map, &cpu);
	if (!s)
		return 1;
	s->buf[s->off & TC_MASK] = 0;
	s->off++;
	return 0;
}

static __always_inline void push_cgroups(struct ev *e, struct task_struct *t)
{
	struct cgwalk c = {};
	__u32 start = e->s->off;
	c.cs = (__u64)BPF_CORE_READ(t, cgroups);
	c.cpu = e->cpu;
	e->s->cgstart = start;
	if (c.cs)
		bpf_loop(CGROUP_SUBSYS_COUNT, cg_cb, &c, 0);
	start = e->s->cgstart;
	{
		__u32 len = e->s->off - start;
		e->s->off = start;
		ev_len(e, len);
	}
}

/* ---- process info shared by clone and execve ---------------------------------------------- */
/* exe (argv[0]), args (the rest of argv), tid, pid, ptid, cwd, fdlimit, pgft_maj, pgft_min,
 * vm_size, vm_rss, vm_swap, comm, cgroups: parameters 1..14 of clone and execve exits. */
static __always_inline void push_proc_common(struct ev *e, struct task_struct *t)
{
	struct mm_struct *mm = BPF_CORE_READ(t, mm);
	unsigned long as = 0, ae = 0;
	long n = 0;
	__u64 rss = 0, swap = 0;
	struct path pwd;

	if (mm) {
		as = BPF_CORE_READ(mm, arg_start);
		ae = BPF_CORE_READ(mm, arg_end);
	}
	/* exe */
	if (as && ae > as) {
		n = bpf_probe_read_user_str(&e->s->buf[e->s->off & TC_MASK], TC_NAME_MAX * 4, (void *)as);
		if (n < 0)
			n = 0;
	}
	ev_len(e, n);
	/* args */
	if (as && ae > as + n)
		push_user_bytes(e, (void *)(as + n), ae - as - n);
	else
		push_empty(e);
	push_s64(e, BPF_CORE_READ(t, pid));
	push_s64(e, BPF_CORE_READ(t, tgid));
	push_s64(e, BPF_CORE_READ(t, real_parent, tgid));
	/* cwd */
	pwd = BPF_CORE_READ(t, fs, pwd);
	push_dpath(e, pwd.dentry, pwd.mnt);
	push_u64(e, BPF_CORE_READ(t, signal, rlim[7].rlim_cur)); /* RLIMIT_NOFILE */
	push_u64(e, BPF_CORE_READ(t, maj_flt));
	push_u64(e, BPF_CORE_READ(t, min_flt));
	if (mm) {
		rss = BPF_CORE_READ(mm, rss_stat[0].count) + BPF_CORE_READ(mm, rss_stat[1].count) +
		      BPF_CORE_READ(mm, rss_stat[3].count);
		swap = BPF_CORE_READ(mm, rss_stat[2].count);
		push_u32(e, BPF_CORE_READ(mm, total_vm) << 2);  /* pages -> KiB */
		push_u32(e, rss << 2);
		push_u32(e, swap << 2);
	} else {
		push_u32(e, 0);
		push_u32(e, 0);
		push_u32(e, 0);
	}
	push_kernel_str(e, BPF_CORE_READ(t, comm), 16);
	push_cgroups(e, t);
}

static __always_inline __u64 cap_bits(kernel_cap_t c)
{
	__u64 v = 0;
	bpf_probe_read_kernel(&v, sizeof(v), &c);
	return v;
}

static __always_inline __u64 ts_of(__s64 sec, __u32 nsec)
{
	return (__u64)sec * 1000000000ULL + nsec;
}

/* The rest of an execve/execveat exit: params 15..29 (+30 filename for execve). */
static __always_inline void push_exec_tail(struct ev *e, struct task_struct *t, struct file *exe,
					   const char *kfilename, const char *ufilename, int with_filename)
{
	struct mm_struct *mm = BPF_CORE_READ(t, mm);
	const struct cred *cred = BPF_CORE_READ(t, cred);
	unsigned long es = 0, ee = 0;
	struct tty_struct *tty = BPF_CORE_READ(t, signal, tty);
	struct pid *pgrp = BPF_CORE_READ(t, signal, pids[PIDTYPE_PGID]);
	__u32 flags = 0, euid = BPF_CORE_READ(cred, euid.val);
	struct inode *ino = NULL;

	if (mm) {
		es = BPF_CORE_READ(mm, env_start);
		ee = BPF_CORE_READ(mm, env_end);
	}
	/* 15 env */
	if (es && ee > es)
		push_user_bytes(e, (void *)es, ee - es);
	else
		push_empty(e);
	/* 16 tty */
	if (tty) {
		__u32 major = BPF_CORE_READ(tty, driver, major);
		__u32 minor = BPF_CORE_READ(tty, driver, minor_start) + BPF_CORE_READ(tty, index);
		push_u32(e, encode_dev((major << 20) | minor));
	} else {
		push_u32(e, 0);
	}
	/* 17 vpgid */
	push_s64(e, pgrp ? task_pid_vnr_of(pgrp) : 0);
	/* 18 loginuid */
	push_u32(e, BPF_CORE_READ(t, loginuid.val));
	/* 19 flags */
	if (exe) {
		__u32 mode;
		char pre[8] = {};
		ino = BPF_CORE_READ(exe, f_inode);
		mode = BPF_CORE_READ(ino, i_mode);
		if (euid == 0 || (BPF_CORE_READ(ino, i_uid.val) == euid && (mode & 0200)) || (mode & 02))
			flags |= PPM_EXE_WRITABLE;
		bpf_probe_read_kernel_str(pre, sizeof(pre), BPF_CORE_READ(exe, f_path.dentry, d_name.name));
		if (pre[0] == 'm' && pre[1] == 'e' && pre[2] == 'm' && pre[3] == 'f' && pre[4] == 'd' &&
		    pre[5] == ':')
			flags |= PPM_EXE_FROM_MEMFD;
		switch (overlay_layer(exe)) {
		case 1: flags |= PPM_EXE_UPPER_LAYER; break;
		case 2: flags |= PPM_EXE_LOWER_LAYER; break;
		}
	}
	push_u32(e, flags);
	/* 20..22 capabilities */
	push_u64(e, cap_bits(BPF_CORE_READ(cred, cap_inheritable)));
	push_u64(e, cap_bits(BPF_CORE_READ(cred, cap_permitted)));
	push_u64(e, cap_bits(BPF_CORE_READ(cred, cap_effective)));
	/* 23..25 exe inode, ctime, mtime */
	if (ino) {
		push_u64(e, BPF_CORE_READ(ino, i_ino));
		if (bpf_core_field_exists(ino->i_ctime_sec)) {
			push_u64(e, ts_of(BPF_CORE_READ(ino, i_ctime_sec), BPF_CORE_READ(ino, i_ctime_nsec)));
			push_u64(e, ts_of(BPF_CORE_READ(ino, i_mtime_sec), BPF_CORE_READ(ino, i_mtime_nsec)));
		} else {
			push_u64(e, 0);
			push_u64(e, 0);
		}
	} else {
		push_u64(e, 0);
		push_u64(e, 0);
		push_u64(e, 0);
	}
	/* 26 uid */
	push_u32(e, euid);
	/* 27 trusted_exepath */
	push_file_path(e, exe);
	/* 28 pgid */
	push_s64(e, pgrp ? task_global_nr(pgrp) : 0);
	/* 29 gid */
	push_u32(e, BPF_CORE_READ(cred, egid.val));
	/* 30 filename (execve only) */
	if (with_filename) {
		if (kfilename)
			push_kernel_str(e, kfilename, TC_PATH_MAX);
		else
			push_user_str(e, ufilename, TC_PATH_MAX);
	}
}

/* ---- entry points ------------------------------------------------------------------------- */
static __always_inline int traced(void)
{
	struct tercel_cfg *cfg = cfg_get();
	return cfg && (bpf_get_current_pid_tgid() >> 32) != cfg->own_tgid;
}

static __always_inline int interested(long id)
{
	__u32 k = id;
	__u8 *w;
	if (id < 0 || id >= TC_NR_SYSCALLS)
		return 0;
	w = bpf_map_lookup_elem(&tercel_interest, &k);
	return w && *w;
}

SEC("tp_btf/sys_exit")
int BPF_PROG(tercel_sys_exit, struct pt_regs *regs, long ret)
{
	struct task_struct *t;
	long id;

	struct tercel_cfg *cfg = cfg_get();

	if (!cfg || (bpf_get_current_pid_tgid() >> 32) == cfg->own_tgid)
		return 0;
	id = regs->orig_ax;
	if (!interested(id))
		return 0;
	if (cfg->drop_failed && ret < 0 && ret >= -4095)
		return 0;
	/* Ring (nearly) full: count the drop now rather than build an event that cannot fit. When the
	 * consumer is behind, this keeps the cost to the traced program of a lost event at ~50 ns. */
	if (bpf_ringbuf_query(&tercel_ring, BPF_RB_AVAIL_DATA) + TC_FULL_MARGIN >
	    bpf_ringbuf_query(&tercel_ring, BPF_RB_RING_SIZE)) {
		count(1);
		return 0;
	}
	t = bpf_get_current_task_btf();
	if (bpf_core_field_exists(t->thread_info.status) && (BPF_CORE_READ(t, thread_info.status) & L_TS_COMPAT))
		return 0;   /* 32-bit syscalls use another numbering: not handled */
	bpf_tail_call(ctx, &tercel_exit_progs, id);
	return 0;
}

/* A successful execve is reported here, where the new image and bprm->filename are at hand. */
SEC("tp_btf/sched_process_exec")
int BPF_PROG(tercel_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	struct task_struct *t = bpf_get_current_task_btf();
	struct pt_regs *regs;
	long id;
	struct ev e;
	int is_at;

	if (!traced())
		return 0;
	regs = (struct pt_regs *)bpf_task_pt_regs(t);
	id = BPF_CORE_READ(regs, orig_ax);
	is_at = id == 322;   /* execveat */
	if (!interested(is_at ? 322 : 59))
		return 0;
	if (ev_begin(&e, is_at ? E_EXECVEAT_X : E_EXECVE_19_X, is_at ? 30 : 31))
		return 0;
	push_s64(&e, 0);
	push_proc_common(&e, t);
	push_exec_tail(&e, t, BPF_CORE_READ(t, mm, exe_file), BPF_CORE_READ(bprm, filename), NULL, !is_at);
	ev_submit(&e);
	return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(tercel_procexit, struct task_struct *p)
{
	struct task_struct *t = bpf_get_current_task_btf();
	struct tercel_cfg *cfg = cfg_get();
	struct ev e;
	int code;

	if (!cfg || !cfg->procexit || (bpf_get_current_pid_tgid() >> 32) == cfg->own_tgid)
		return 0;
	if (ev_begin(&e, E_PROCEXIT_1_E, 5))
		return 0;
	code = BPF_CORE_READ(t, exit_code);
	push_s64(&e, code);
	push_s64(&e, code >> 8);
	push_u8(&e, code & 0x7f);
	push_u8(&e, (code & 0x80) ? 1 : 0);
	push_s64(&e, 0);
	ev_submit(&e);
	return 0;
}

/* ---- syscall handlers (tail-called from tercel_sys_exit) ---------------------------------- */
#define HANDLER(name) \
	SEC("tp_btf/sys_exit") int BPF_PROG(name, struct pt_regs *regs, long ret)

HANDLER(sx_generic)
{
	struct ev e;
	__u32 id = BPF_CORE_READ(regs, orig_ax);
	__u16 *sc = bpf_map_lookup_elem(&tercel_ppm_sc, &id);
	if (ev_begin(&e, E_GENERIC_X, 2))
		return 0;
	push_u16(&e, sc ? *sc : 0);
	push_u16(&e, id);
	ev_submit(&e);
	return 0;
}

static __always_inline void exec_failed(struct pt_regs *regs, long ret, int is_at)
{
	struct task_struct *t = bpf_get_current_task_btf();
	struct ev e;
	if (ret == 0)
		return;   /* success was reported by sched_process_exec */
	if (ev_begin(&e, is_at ? E_EXECVEAT_X : E_EXECVE_19_X, is_at ? 30 : 31))
		return;
	push_s64(&e, ret);
	push_proc_common(&e, t);
	push_exec_tail(&e, t, BPF_CORE_READ(t, mm, exe_file), NULL, (const char *)arg(regs, 0), !is_at);
	ev_submit(&e);
}

HANDLER(sx_execve) { exec_failed(regs, ret, 0); return 0; }
HANDLER(sx_execveat) { exec_failed(regs, ret, 1); return 0; }

/* clone family: parent (ret = child tid or error) and child (ret = 0) both report */
static __always_inline void clone_exit(struct pt_regs *regs, long ret, __u16 type, __u64 lflags)
{
	struct task_struct *t = bpf_get_current_task_btf();
	const struct cred *cred = BPF_CORE_READ(t, cred);
	struct pid *tp = BPF_CORE_READ(t, thread_pid);
	struct pid *lp = BPF_CORE_READ(t, group_leader, thread_pid);
	unsigned int level = BPF_CORE_READ(tp, level);
	struct task_struct *reaper = BPF_CORE_READ(tp, numbers[level & 31].ns, child_reaper);
	__u32 flags = clone_flags_to_ppm(lflags);
	struct ev e;

	if (ret == 0 && level > 0)
		flags |= PPM_CL_CHILD_IN_PIDNS;
	if (ev_begin(&e, type, 21))
		return;
	push_s64(&e, ret);
	push_proc_common(&e, t);
	push_u32(&e, flags);
	push_u32(&e, BPF_CORE_READ(cred, euid.val));
	push_u32(&e, BPF_CORE_READ(cred, egid.val));
	push_s64(&e, task_pid_vnr_of(tp));
	push_s64(&e, lp ? task_pid_vnr_of(lp) : 0);
	push_u64(&e, reaper ? BPF_CORE_READ(reaper, start_time) : 0);
	ev_submit(&e);
}

HANDLER(sx_clone) { clone_exit(regs, ret, E_CLONE_20_X, arg(regs, 0)); return 0; }
HANDLER(sx_fork) { clone_exit(regs, ret, E_FORK_20_X, 0); return 0; }
HANDLER(sx_vfork) { clone_exit(regs, ret, E_VFORK_20_X, L_CLONE_VM | L_CLONE_VFORK); return 0; }
HANDLER(sx_clone3)
{
	__u64 f = 0;
	bpf_probe_read_user(&f, sizeof(f), (void *)arg(regs, 0));  /* clone_args.flags */
	clone_exit(regs, ret, E_CLONE3_X, f);
	return 0;
}

/* open family: fd, [dirfd,] name, flags, mode, [resolve,] dev, ino */
#define PPM_FD_UPPER_LAYER (1 << 15)
#define PPM_FD_LOWER_LAYER (1 << 16)

/* dev, ino of the new fd; *extra gets PPM_O_F_CREATED and the overlay layer bits for the flags param */
static __always_inline void push_file_ids(struct ev *e, long fd, __u32 *extra)
{
	struct file *f = fd >= 0 ? fd_file(bpf_get_current_task_btf(), fd) : NULL;
	if (f) {
		struct inode *ino = f->f_inode;
		push_u32(e, encode_dev(ino->i_sb->s_dev));
		push_u64(e, ino->i_ino);
		if (f->f_mode & L_FMODE_CREATED)
			*extra |= PPM_O_F_CREATED;
		switch (overlay_layer(f)) {
		case 1: *extra |= PPM_FD_UPPER_LAYER; break;
		case 2: *extra |= PPM_FD_LOWER_LAYER; break;
		}
	} else {
		push_u32(e, 0);
		push_u64(e, 0);
	}
}

static __always_inline void patch_u32(struct ev *e, __u32 at, __u32 v)
{
	*(__u32 *)&e->s->buf[at & TC_MASK] = v;
}

HANDLER(sx_open)
{
	struct ev e;
	__u32 flags = open_flags_to_ppm(arg(regs, 1)), created = 0, at;
	if (ev_begin(&e, E_OPEN_X, 6))
		return 0;
	push_s64(&e, ret);
	push_user_str(&e, (void *)arg(regs, 0), TC_PATH_MAX);
	at = e.s->off;
	push_u32(&e, flags);
	push_u32(&e, arg(regs, 2) & 07777);
	push_file_ids(&e, ret, &created);
	if (created)
		patch_u32(&e, at, flags | created);
	ev_submit(&e);
	return 0;
}

HANDLER(sx_openat)
{
	struct ev e;
	__u32 flags = open_flags_to_ppm(arg(regs, 2)), created = 0, at;
	if (ev_begin(&e, E_OPENAT_2_X, 7))
		return 0;
	push_s64(&e, ret);
	push_s64(&e, (int)arg(regs, 0));
	push_user_str(&e, (void *)arg(regs, 1), TC_PATH_MAX);
	at = e.s->off;
	push_u32(&e, flags);
	push_u32(&e, arg(regs, 3) & 07777);
	push_file_ids(&e, ret, &created);
	if (created)
		patch_u32(&e, at, flags | created);
	ev_submit(&e);
	return 0;
}

HANDLER(sx_openat2)
{
	struct ev e;
	struct { __u64 flags, mode, resolve; } how = {};
	__u32 flags, created = 0, at, res = 0;
	bpf_probe_read_user(&how, sizeof(how), (void *)arg(regs, 2));
	flags = open_flags_to_ppm(how.flags);
	/* RESOLVE_* (Linux) -> PPM: BENEATH 1, IN_ROOT 2, NO_MAGICLINKS 4, NO_SYMLINKS 8, NO_XDEV 0x10, CACHED 0x20 */
	if (how.resolve & 0x08) res |= 1;
	if (how.resolve & 0x10) res |= 2;
	if (how.resolve & 0x02) res |= 4;
	if (how.resolve & 0x04) res |= 8;
	if (how.resolve & 0x01) res |= 0x10;
	if (how.resolve & 0x20) res |= 0x20;
	if (ev_begin(&e, E_OPENAT2_X, 8))
		return 0;
	push_s64(&e, ret);
	push_s64(&e, (int)arg(regs, 0));
	push_user_str(&e, (void *)arg(regs, 1), TC_PATH_MAX);
	at = e.s->off;
	push_u32(&e, flags);
	push_u32(&e, how.mode & 07777);
	push_u32(&e, res);
	push_file_ids(&e, ret, &created);
	if (created)
		patch_u32(&e, at, flags | created);
	ev_submit(&e);
	return 0;
}

HANDLER(sx_creat)
{
	struct ev e;
	__u32 created = 0;
	if (ev_begin(&e, E_CREAT_X, 6))
		return 0;
	push_s64(&e, ret);
	push_user_str(&e, (void *)arg(regs, 0), TC_PATH_MAX);
	push_u32(&e, arg(regs, 1) & 07777);
	push_file_ids(&e, ret, &created);
	/* creat_flags: PPM_FD_UPPER_LAYER_CREAT 1, PPM_FD_LOWER_LAYER_CREAT 2 */
	push_u16(&e, (created & PPM_FD_UPPER_LAYER) ? 1 : (created & PPM_FD_LOWER_LAYER) ? 2 : 0);
	ev_submit(&e);
	return 0;
}

HANDLER(sx_close)
{
	struct ev e;
	if (ev_begin(&e, E_CLOSE_X, 2))
		return 0;
	push_s64(&e, ret);
	push_s64(&e, (int)arg(regs, 0));
	ev_submit(&e);
	return 0;
}

HANDLER(sx_dup)
{
	struct ev e;
	if (ev_begin(&e, E_DUP_1_X, 2))
		return 0;
	push_s64(&e, ret);
	push_s64(&e, (int)arg(regs, 0));
	ev_submit(&e);
	return 0;
}

HANDLER(sx_dup2)
{
	struct ev e;
	if (ev_begin(&e, E_DUP2_X, 3))
		return 0;
	push_s64(&e, ret);
	push_s64(&e, (int)arg(regs, 0));
	push_s64(&e, (int)arg(regs, 1));
	ev_submit(&e);
	return 0;
}

HANDLER(sx_dup3)
{
	struct ev e;
	if (ev_begin(&e, E_DUP3_X, 4))
		return 0;
	push_s64(&e, ret);
	push_s64(&e, (int)arg(regs, 0));
	push_s64(&e, (int)arg(regs, 1));
	push_u32(&e, fd_flags_to_ppm(arg(regs, 2)));
	ev_submit(&e);
	return 0;
}

static __always_inline void pipe_exit(struct pt_regs *regs, long ret, int two)
{
	struct ev e;
	int fds[2] = {-1, -1};
	struct file *f = NULL;
	if (ret == 0) {
		bpf_probe_read_user(fds, sizeof(fds), (void *)arg(regs, 0));
		f = fd_file(bpf_get_current_task_btf(), fds[0]);
	}
	if (ev_begin(&e, two ? E_PIPE2_X : E_PIPE_X, two ? 5 : 4))
		return;
	push_s64(&e, ret);
	push_s64(&e, fds[0]);
	push_s64(&e, fds[1]);
	push_u64(&e, f ? BPF_CORE_READ(f, f_inode, i_ino) : 0);
	if (two)
		push_u32(&e, fd_flags_to_ppm(arg(regs, 1)));
	ev_submit(&e);
}
HANDLER(sx_pipe) { pipe_exit(regs, ret, 0); return 0; }
HANDLER(sx_pipe2) { pipe_exit(regs, ret, 1); return 0; }

/* ---- sockets ------------------------------------------------------------------------------ */
struct tc_sockaddr {
	__u16 family;
	__u8 data[126];
};

/* sockaddr parameter read from user memory */
static __always_inline void push_user_sockaddr(struct ev *e, const void *uaddr, long alen)
{
	__u8 *b = e->s->buf;
	__u32 o = e->s->off;
	__u16 fam = 0;
	if (!uaddr || alen < 2 || bpf_probe_read_user(&fam, 2, uaddr) < 0) {
		push_empty(e);
		return;
	}
	if (fam == L_AF_INET) {
		b[o & TC_MASK] = L_AF_INET;
		bpf_probe_read_user(&b[(o + 1) & TC_MASK], 4, uaddr + 4);
		bpf_probe_read_user(&b[(o + 5) & TC_MASK], 2, uaddr + 2);
		*(__u16 *)&b[(o + 5) & TC_MASK] = bpf_ntohs(*(__u16 *)&b[(o + 5) & TC_MASK]);
		ev_len(e, 7);
	} else if (fam == L_AF_INET6) {
		b[o & TC_MASK] = L_AF_INET6;
		bpf_probe_read_user(&b[(o + 1) & TC_MASK], 16, uaddr + 8);
		bpf_probe_read_user(&b[(o + 17) & TC_MASK], 2, uaddr + 2);
		*(__u16 *)&b[(o + 17) & TC_MASK] = bpf_ntohs(*(__u16 *)&b[(o + 17) & TC_MASK]);
		ev_len(e, 19);
	} else if (fam == L_AF_UNIX) {
		long n;
		b[o & TC_MASK] = L_AF_UNIX;
		n = bpf_probe_read_user_str(&b[(o + 1) & TC_MASK], 108, uaddr + 2);
		if (n <= 1 && alen > 3) {   /* abstract socket: show it as @name */
			b[(o + 1) & TC_MASK] = '@';
			n = bpf_probe_read_user_str(&b[(o + 2) & TC_MASK], 107, uaddr + 3);
			n = n > 0 ? n + 1 : 2;
			if (n == 2)
				b[(o + 2) & TC_MASK] = 0;
		}
		if (n <= 0) {
			b[(o + 1) & TC_MASK] = 0;
			n = 1;
		}
		ev_len(e, 1 + n);
	} else {
		push_empty(e);
	}
}

static __always_inline struct sock *fd_sock(long fd)
{
	struct file *f = fd_file(bpf_get_current_task_btf(), fd);
	struct socket *so;
	if (!f)
		return NULL;
	if ((BPF_CORE_READ(f, f_inode, i_mode) & L_S_IFMT) != L_S_IFSOCK)
		return NULL;
	so = BPF_CORE_READ(f, private_data);
	return so ? BPF_CORE_READ(so, sk) : NULL;
}

static __always_inline void push_unix_path(struct ev *e, struct sock *sk)
{
	struct unix_sock *us = (struct unix_sock *)sk;
	struct unix_address *ua = sk ? BPF_CORE_READ(us, addr) : NULL;
	__u8 *b = e->s->buf;
	long n = 0;
	if (ua) {
		char *p = (char *)ua + bpf_core_field_offset(struct unix_address, name) + 2;
		n = bpf_probe_read_kernel_str(&b[e->s->off & TC_MASK], 108, p);
		if (n <= 1) {
			b[e->s->off & TC_MASK] = '@';
			n = bpf_probe_read_kernel_str(&b[(e->s->off + 1) & TC_MASK], 107, p + 1);
			n = n > 0 ? n + 1 : 0;
		}
	}
	if (n <= 0) {
		b[e->s->off & TC_MASK] = 0;
		n = 1;
	}
	e->s->off += n;
}

/* Socket tuple of fd, client -> server. `inbound`: the peer is the client (accept, recv*).
 * Where the socket has no peer (unconnected UDP), the user sockaddr fills the remote end. */
static __always_inline void push_socktuple(struct ev *e, long fd, int inbound, const void *uaddr, long alen)
{
	struct sock *sk = fd_sock(fd);
	__u8 *b = e->s->buf;
	__u32 start = e->s->off;
	__u16 fam;

	if (!sk) {
		push_empty(e);
		return;
	}
	fam = BPF_CORE_READ(sk, __sk_common.skc_family);
	if (fam == L_AF_INET) {
		__u32 lip = BPF_CORE_READ(sk, __sk_common.skc_rcv_saddr);
		__u32 rip = BPF_CORE_READ(sk, __sk_common.skc_daddr);
		__u16 lport = BPF_CORE_READ(sk, __sk_common.skc_num);
		__u16 rport = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
		__u16 ufam = 0;
		if (rport == 0 && uaddr && alen >= 8 && bpf_probe_read_user(&ufam, 2, uaddr) == 0 &&
		    ufam == L_AF_INET) {
			bpf_probe_read_user(&rip, 4, uaddr + 4);
			bpf_probe_read_user(&rport, 2, uaddr + 2);
			rport = bpf_ntohs(rport);
		}
		b[start & TC_MASK] = L_AF_INET;
		if (inbound) {
			*(__u32 *)&b[(start + 1) & TC_MASK] = rip;
			*(__u16 *)&b[(start + 5) & TC_MASK] = rport;
			*(__u32 *)&b[(start + 7) & TC_MASK] = lip;
			*(__u16 *)&b[(start + 11) & TC_MASK] = lport;
		} else {
			*(__u32 *)&b[(start + 1) & TC_MASK] = lip;
			*(__u16 *)&b[(start + 5) & TC_MASK] = lport;
			*(__u32 *)&b[(start + 7) & TC_MASK] = rip;
			*(__u16 *)&b[(start + 11) & TC_MASK] = rport;
		}
		ev_len(e, 13);
	} else if (fam == L_AF_INET6) {
		__u16 lport = BPF_CORE_READ(sk, __sk_common.skc_num);
		__u16 rport = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
		__u32 l = inbound ? 19 : 1, r = inbound ? 1 : 19;
		__u16 ufam = 0;
		b[start & TC_MASK] = L_AF_INET6;
		bpf_core_read(&b[(start + l) & TC_MASK], 16, &sk->__sk_common.skc_v6_rcv_saddr);
		bpf_core_read(&b[(start + r) & TC_MASK], 16, &sk->__sk_common.skc_v6_daddr);
		if (rport == 0 && uaddr && alen >= 24 && bpf_probe_read_user(&ufam, 2, uaddr) == 0 &&
		    ufam == L_AF_INET6) {
			bpf_probe_read_user(&b[(start + r) & TC_MASK], 16, uaddr + 8);
			bpf_probe_read_user(&rport, 2, uaddr + 2);
			rport = bpf_ntohs(rport);
		}
		*(__u16 *)&b[(start + l + 16) & TC_MASK] = lport;
		*(__u16 *)&b[(start + r + 16) & TC_MASK] = rport;
		ev_len(e, 37);
	} else if (fam == L_AF_UNIX) {
		struct sock *peer = BPF_CORE_READ((struct unix_sock *)sk, peer);
		b[start & TC_MASK] = L_AF_UNIX;
		*(__u64 *)&b[(start + 1) & TC_MASK] = (__u64)sk;
		*(__u64 *)&b[(start + 9) & TC_MASK] = (__u64)peer;
		e->s->off = start + 17;
		push_unix_path(e, peer ? peer : sk);
		{
			__u32 len = e->s->off - start;
			e->s->off = start;
			ev_len(e, len);
		}
	} else {
		push_empty(e);
	}
}

HANDLER(sx_socket)
{
	struct ev e;
	if (ev_begin(&e, E_SOCKET_X, 5))
		return 0;
	push_s64(&e, ret);
	push_u32(&e, arg(regs, 0));
	push_u32(&e, arg(regs, 1));
	push_u32(&e, arg(regs, 2));
	push_u32(&e, fd_flags_to_ppm(arg(regs, 1)));
	ev_submit(&e);
	return 0;
}

HANDLER(sx_bind)
{
	struct ev e;
	if (ev_begin(&e, E_BIND_X, 3))
		return 0;
	push_s64(&e, ret);
	push_user_sockaddr(&e, (void *)arg(regs, 1), arg(regs, 2));
	push_s64(&e, (int)arg(regs, 0));
	ev_submit(&e);
	return 0;
}

HANDLER(sx_connect)
{
	struct ev e;
	long fd = (int)arg(regs, 0);
	if (ev_begin(&e, E_CONNECT_X, 4))
		return 0;
	push_s64(&e, ret);
	push_socktuple(&e, fd, 0, (void *)arg(regs, 1), arg(regs, 2));
	push_s64(&e, fd);
	push_user_sockaddr(&e, (void *)arg(regs, 1), arg(regs, 2));
	ev_submit(&e);
	return 0;
}

HANDLER(sx_listen)
{
	struct ev e;
	if (ev_begin(&e, E_LISTEN_X, 3))
		return 0;
	push_s64(&e, ret);
	push_s64(&e, (int)arg(regs, 0));
	push_s32(&e, (int)arg(regs, 1));
	ev_submit(&e);
	return 0;
}

static __always_inline void accept_exit(struct pt_regs *regs, long ret, int four)
{
	struct ev e;
	struct sock *lsk = fd_sock((int)arg(regs, 0));
	__u32 qlen = 0, qmax = 0;
	if (lsk) {
		qlen = BPF_CORE_READ(lsk, sk_ack_backlog);
		qmax = BPF_CORE_READ(lsk, sk_max_ack_backlog);
	}
	if (ev_begin(&e, four ? E_ACCEPT4_6_X : E_ACCEPT_5_X, four ? 6 : 5))
		return;
	push_s64(&e, ret);
	if (ret >= 0)
		push_socktuple(&e, ret, 1, NULL, 0);
	else
		push_empty(&e);
	push_u8(&e, qmax ? (qlen * 100) / qmax : 0);
	push_u32(&e, qlen);
	push_u32(&e, qmax);
	if (four)
		push_s32(&e, (int)arg(regs, 3));
	ev_submit(&e);
}
HANDLER(sx_accept) { accept_exit(regs, ret, 0); return 0; }
HANDLER(sx_accept4) { accept_exit(regs, ret, 1); return 0; }

static __always_inline void push_payload(struct ev *e, const void *p, long ret)
{
	struct tercel_cfg *cfg = cfg_get();
	__u32 snap = cfg ? cfg->snaplen : 0;
	if (ret <= 0 || snap == 0 || !p) {
		push_empty(e);
		return;
	}
	push_user_bytes(e, p, ret < snap ? ret : snap);
}

/* sendto: res, data, fd, size, tuple */
HANDLER(sx_sendto)
{
	struct ev e;
	long fd = (int)arg(regs, 0);
	if (ev_begin(&e, E_SENDTO_X, 5))
		return 0;
	push_s64(&e, ret);
	push_payload(&e, (void *)arg(regs, 1), ret);
	push_s64(&e, fd);
	push_u32(&e, arg(regs, 2));
	push_socktuple(&e, fd, 0, (void *)arg(regs, 4), arg(regs, 5));
	ev_submit(&e);
	return 0;
}

/* recvfrom: res, data, tuple, fd, size */
HANDLER(sx_recvfrom)
{
	struct ev e;
	long fd = (int)arg(regs, 0);
	__u32 alen = 0;
	void *ualen = (void *)arg(regs, 5);
	if (ualen)
		bpf_probe_read_user(&alen, 4, ualen);
	if (ev_begin(&e, E_RECVFROM_X, 5))
		return 0;
	push_s64(&e, ret);
	push_payload(&e, (void *)arg(regs, 1), ret);
	push_socktuple(&e, fd, 1, (void *)arg(regs, 4), alen);
	push_s64(&e, fd);
	push_u32(&e, arg(regs, 2));
	ev_submit(&e);
	return 0;
}

struct tc_msghdr {
	void *name;
	int namelen;
	void *iov;
	__u64 iovlen;
	void *control;
	__u64 controllen;
	unsigned int flags;
};
struct tc_iovec {
	void *base;
	__u64 len;
};

/* sendmsg: res, data, fd, size, tuple */
HANDLER(sx_sendmsg)
{
	struct ev e;
	long fd = (int)arg(regs, 0);
	struct tc_msghdr mh = {};
	struct tc_iovec iov = {};
	__u64 size = 0;
	int i;
	bpf_probe_read_user(&mh, sizeof(mh), (void *)arg(regs, 1));
	for (i = 0; i < 8; i++) {
		struct tc_iovec v = {};
		if (i >= mh.iovlen)
			break;
		bpf_probe_read_user(&v, sizeof(v), mh.iov + i * sizeof(v));
		if (i == 0)
			iov = v;
		size += v.len;
	}
	if (ev_begin(&e, E_SENDMSG_X, 5))
		return 0;
	push_s64(&e, ret);
	push_payload(&e, iov.base, ret < (long)iov.len ? ret : (long)iov.len);
	push_s64(&e, fd);
	push_u32(&e, size);
	push_socktuple(&e, fd, 0, mh.name, mh.namelen);
	ev_submit(&e);
	return 0;
}

/* recvmsg: res, size, data, tuple, msgcontrol, fd */
HANDLER(sx_recvmsg)
{
	struct ev e;
	long fd = (int)arg(regs, 0);
	struct tc_msghdr mh = {};
	struct tc_iovec iov = {};
	bpf_probe_read_user(&mh, sizeof(mh), (void *)arg(regs, 1));
	if (mh.iovlen > 0)
		bpf_probe_read_user(&iov, sizeof(iov), mh.iov);
	if (ev_begin(&e, E_RECVMSG_X, 6))
		return 0;
	push_s64(&e, ret);
	push_u32(&e, ret > 0 ? ret : 0);
	push_payload(&e, iov.base, ret < (long)iov.len ? ret : (long)iov.len);
	push_socktuple(&e, fd, 1, mh.name, mh.namelen);
	push_empty(&e);
	push_s64(&e, fd);
	ev_submit(&e);
	return 0;
}

/* ---- paths and files ---------------------------------------------------------------------- */
/* res, oldpath, newpath */
static __always_inline void path2_exit(struct pt_regs *regs, long ret, __u16 type)
{
	struct ev e;
	if (ev_begin(&e, type, 3))
		return;
	push_s64(&e, ret);
	push_user_str(&e, (void *)arg(regs, 0), TC_PATH_MAX);
	push_user_str(&e, (void *)arg(regs, 1), TC_PATH_MAX);
	ev_submit(&e);
}
HANDLER(sx_rename) { path2_exit(regs, ret, E_RENAME_X); return 0; }
HANDLER(sx_link) { path2_exit(regs, ret, E_LINK_2_X); return 0; }
HANDLER(sx_symlink) { path2_exit(regs, ret, E_SYMLINK_X); return 0; }

static __always_inline void at2_exit(struct pt_regs *regs, long ret, __u16 type, int with_flags, __u32 flags)
{
	struct ev e;
	if (ev_begin(&e, type, with_flags ? 6 : 5))
		return;
	push_s64(&e, ret);
	push_s64(&e, (int)arg(regs, 0));
	push_user_str(&e, (void *)arg(regs, 1), TC_PATH_MAX);
	push_s64(&e, (int)arg(regs, 2));
	push_user_str(&e, (void *)arg(regs, 3), TC_PATH_MAX);
	if (with_flags)
		push_u32(&e, flags);
	ev_submit(&e);
}
HANDLER(sx_renameat) { at2_exit(regs, ret, E_RENAMEAT_X, 0, 0); return 0; }
HANDLER(sx_renameat2) { at2_exit(regs, ret, E_RENAMEAT2_X, 1, arg(regs, 4)); return 0; }
HANDLER(sx_linkat) { at2_exit(regs, ret, E_LINKAT_2_X, 1, arg(regs, 4)); return 0; }

HANDLER(sx_symlinkat)
{
	struct ev e;
	if (ev_begin(&e, E_SYMLINKAT_X, 4))
		return 0;
	push_s64(&e, ret);
	push_user_str(&e, (void *)arg(regs, 0), TC_PATH_MAX);
	push_s64(&e, (int)arg(regs, 1));
	push_user_str(&e, (void *)arg(regs, 2), TC_PATH_MAX);
	ev_submit(&e);
	return 0;
}

/* res, path */
static __always_inline void path1_exit(struct pt_regs *regs, long ret, __u16 type)
{
	struct ev e;
	if (ev_begin(&e, type, 2))
		return;
	push_s64(&e, ret);
	push_user_str(&e, (void *)arg(regs, 0), TC_PATH_MAX);
	ev_submit(&e);
}
HANDLER(sx_unlink) { path1_exit(regs, ret, E_UNLINK_2_X); return 0; }
HANDLER(sx_rmdir) { path1_exit(regs, ret, E_RMDIR_2_X); return 0; }
HANDLER(sx_chdir) { path1_exit(regs, ret, E_CHDIR_X); return 0; }
HANDLER(sx_chroot) { path1_exit(regs, ret, E_CHROOT_X); return 0; }

HANDLER(sx_unlinkat)
{
	struct ev e;
	if (ev_begin(&e, E_UNLINKAT_2_X, 4))
		return 0;
	push_s64(&e, ret);
	push_s64(&e, (int)arg(regs, 0));
	push_user_str(&e, (void *)arg(regs, 1), TC_PATH_MAX);
	push_u32(&e, arg(regs, 2));
	ev_submit(&e);
	return 0;
}

HANDLER(sx_mkdir)
{
	struct ev e;
	if (ev_begin(&e, E_MKDIR_2_X, 3))
		return 0;
	push_s64(&e, ret);
	push_user_str(&e, (void *)arg(regs, 0), TC_PATH_MAX);
	push_u32(&e, arg(regs, 1));
	ev_submit(&e);
	return 0;
}

HANDLER(sx_mkdirat)
{
	struct ev e;
	if (ev_begin(&e, E_MKDIRAT_X, 4))
		return 0;
	push_s64(&e, ret);
	push_s64(&e, (int)arg(regs, 0));
	push_user_str(&e, (void *)arg(regs, 1), TC_PATH_MAX);
	push_u32(&e, arg(regs, 2));
	ev_submit(&e);
	return 0;
}

HANDLER(sx_chmod)
{
	struct ev e;
	if (ev_begin(&e, E_CHMOD_X, 3))
		return 0;
	push_s64(&e, ret);
	push_user_str(&e, (void *)arg(regs, 0), TC_PATH_MAX);
	push_u32(&e, arg(regs, 1) & 07777);
	ev_submit(&e);
	return 0;
}

HANDLER(sx_fchmod)
{
	struct ev e;
	if (ev_begin(&e, E_FCHMOD_X, 3))
		return 0;
	push_s64(&e, ret);
	push_s64(&e, (int)arg(regs, 0));
	push_u32(&e, arg(regs, 1) & 07777);
	ev_submit(&e);
	return 0;
}

HANDLER(sx_fchmodat)
{
	struct ev e;
	if (ev_begin(&e, E_FCHMODAT_X, 4))
		return 0;
	push_s64(&e, ret);
	push_s64(&e, (int)arg(regs, 0));
	push_user_str(&e, (void *)arg(regs, 1), TC_PATH_MAX);
	push_u32(&e, arg(regs, 2) & 07777);
	ev_submit(&e);
	return 0;
}

HANDLER(sx_fchdir)
{
	struct ev e;
	if (ev_begin(&e, E_FCHDIR_X, 2))
		return 0;
	push_s64(&e, ret);
	push_s64(&e, (int)arg(regs, 0));
	ev_submit(&e);
	return 0;
}

/* ---- credentials, namespaces, signals, misc ----------------------------------------------- */
/* res followed by n u32 arguments (setuid, setgid, setres*, setre*) */
static __always_inline void ids_exit(struct pt_regs *regs, long ret, __u16 type, int n)
{
	struct ev e;
	if (ev_begin(&e, type, 1 + n))
		return;
	push_s64(&e, ret);
	push_u32(&e, arg(regs, 0));
	if (n > 1)
		push_u32(&e, arg(regs, 1));
	if (n > 2)
		push_u32(&e, arg(regs, 2));
	ev_submit(&e);
}
HANDLER(sx_setuid) { ids_exit(regs, ret, E_SETUID_X, 1); return 0; }
HANDLER(sx_setgid) { ids_exit(regs, ret, E_SETGID_X, 1); return 0; }
HANDLER(sx_setresuid) { ids_exit(regs, ret, E_SETRESUID_X, 3); return 0; }
HANDLER(sx_setresgid) { ids_exit(regs, ret, E_SETRESGID_X, 3); return 0; }
HANDLER(sx_setreuid) { ids_exit(regs, ret, E_SETREUID_X, 2); return 0; }
HANDLER(sx_setregid) { ids_exit(regs, ret, E_SETREGID_X, 2); return 0; }

HANDLER(sx_setns)
{
	struct ev e;
	if (ev_begin(&e, E_SETNS_X, 3))
		return 0;
	push_s64(&e, ret);
	push_s64(&e, (int)arg(regs, 0));
	push_u32(&e, clone_flags_to_ppm(arg(regs, 1)));
	ev_submit(&e);
	return 0;
}

HANDLER(sx_unshare)
{
	struct ev e;
	if (ev_begin(&e, E_UNSHARE_X, 2))
		return 0;
	push_s64(&e, ret);
	push_u32(&e, clone_flags_to_ppm(arg(regs, 0)));
	ev_submit(&e);
	return 0;
}

HANDLER(sx_capset)
{
	struct ev e;
	const struct cred *cred = BPF_CORE_READ(bpf_get_current_task_btf(), cred);
	if (ev_begin(&e, E_CAPSET_X, 4))
		return 0;
	push_s64(&e, ret);
	push_u64(&e, cap_bits(BPF_CORE_READ(cred, cap_inheritable)));
	push_u64(&e, cap_bits(BPF_CORE_READ(cred, cap_permitted)));
	push_u64(&e, cap_bits(BPF_CORE_READ(cred, cap_effective)));
	ev_submit(&e);
	return 0;
}

HANDLER(sx_ptrace)
{
	struct ev e;
	if (ev_begin(&e, E_PTRACE_X, 5))
		return 0;
	push_s64(&e, ret);
	push_dyn_u64(&e, arg(regs, 2));
	push_dyn_u64(&e, arg(regs, 3));
	push_u16(&e, ptrace_req_to_ppm(arg(regs, 0)));
	push_s64(&e, (int)arg(regs, 1));
	ev_submit(&e);
	return 0;
}

HANDLER(sx_kill)
{
	struct ev e;
	if (ev_begin(&e, E_KILL_X, 3))
		return 0;
	push_s64(&e, ret);
	push_s64(&e, (int)arg(regs, 0));
	push_u8(&e, arg(regs, 1));
	ev_submit(&e);
	return 0;
}

HANDLER(sx_tkill)
{
	struct ev e;
	if (ev_begin(&e, E_TKILL_X, 3))
		return 0;
	push_s64(&e, ret);
	push_s64(&e, (int)arg(regs, 0));
	push_u8(&e, arg(regs, 1));
	ev_submit(&e);
	return 0;
}

HANDLER(sx_tgkill)
{
	struct ev e;
	if (ev_begin(&e, E_TGKILL_X, 4))
		return 0;
	push_s64(&e, ret);
	push_s64(&e, (int)arg(regs, 0));
	push_s64(&e, (int)arg(regs, 1));
	push_u8(&e, arg(regs, 2));
	ev_submit(&e);
	return 0;
}

HANDLER(sx_mount)
{
	struct ev e;
	__u32 flags = arg(regs, 3);
	if ((flags & 0xffff0000) == 0xc0ed0000)   /* MS_MGC_VAL magic */
		flags &= 0xffff;
	if (ev_begin(&e, E_MOUNT_X, 5))
		return 0;
	push_s64(&e, ret);
	push_user_str(&e, (void *)arg(regs, 0), TC_PATH_MAX);
	push_user_str(&e, (void *)arg(regs, 1), TC_PATH_MAX);
	push_user_str(&e, (void *)arg(regs, 2), TC_NAME_MAX);
	push_u32(&e, flags);
	ev_submit(&e);
	return 0;
}

HANDLER(sx_umount2)
{
	struct ev e;
	if (ev_begin(&e, E_UMOUNT2_X, 3))
		return 0;
	push_s64(&e, ret);
	push_user_str(&e, (void *)arg(regs, 0), TC_PATH_MAX);
	push_u32(&e, arg(regs, 1));
	ev_submit(&e);
	return 0;
}

HANDLER(sx_memfd_create)
{
	struct ev e;
	if (ev_begin(&e, E_MEMFD_CREATE_X, 3))
		return 0;
	push_s64(&e, ret);
	push_user_str(&e, (void *)arg(regs, 0), TC_NAME_MAX);
	push_u32(&e, arg(regs, 1));
	ev_submit(&e);
	return 0;
}

HANDLER(sx_init_module)
{
	struct ev e;
	if (ev_begin(&e, E_INIT_MODULE_X, 4))
		return 0;
	push_s64(&e, ret);
	push_payload(&e, (void *)arg(regs, 0), arg(regs, 1));
	push_u64(&e, arg(regs, 1));
	push_user_str(&e, (void *)arg(regs, 2), TC_NAME_MAX);
	ev_submit(&e);
	return 0;
}

HANDLER(sx_finit_module)
{
	struct ev e;
	if (ev_begin(&e, E_FINIT_MODULE_X, 4))
		return 0;
	push_s64(&e, ret);
	push_s64(&e, (int)arg(regs, 0));
	push_user_str(&e, (void *)arg(regs, 1), TC_NAME_MAX);
	push_u32(&e, arg(regs, 2));
	ev_submit(&e);
	return 0;
}

HANDLER(sx_bpf)
{
	struct ev e;
	if (ev_begin(&e, E_BPF_2_X, 2))
		return 0;
	push_s64(&e, ret);
	push_u32(&e, arg(regs, 0));
	ev_submit(&e);
	return 0;
}

HANDLER(sx_userfaultfd)
{
	struct ev e;
	__u32 f = arg(regs, 0), r = fd_flags_to_ppm(f);
	if (f & 1)
		r |= 1;   /* UFFD_USER_MODE_ONLY */
	if (ev_begin(&e, E_USERFAULTFD_X, 2))
		return 0;
	push_s64(&e, ret);
	push_u32(&e, r);
	ev_submit(&e);
	return 0;
}

HANDLER(sx_prctl)
{
	struct ev e;
	long opt = arg(regs, 0);
	if (ev_begin(&e, E_PRCTL_X, 4))
		return 0;
	push_s64(&e, ret);
	push_u32(&e, opt);
	if (opt == L_PR_SET_NAME || opt == L_PR_GET_NAME) {
		push_user_str(&e, (void *)arg(regs, 1), 16);
		push_s64(&e, 0);
	} else if (opt == L_PR_GET_CHILD_SUBREAPER) {
		/* the attribute read back (arg2 points to an int), what the state engine keeps */
		int v = 0;
		bpf_probe_read_user(&v, sizeof(v), (void *)arg(regs, 1));
		push_empty(&e);
		push_s64(&e, v);
	} else {
		push_empty(&e);
		push_s64(&e, arg(regs, 1));
	}
	ev_submit(&e);
	return 0;
}
