"""Declarations of every syscall-source field (name, type, argument, flags, description).

Sources: falcosecurity/libs ``userspace/libsinsp/sinsp_filtercheck_{gen_event,event,thread,user,
group,fd,fspath,fdlist}.cpp`` (current master, registration order of ``filter_check_list.cpp``),
the container plugin's field table (``container.*``, ``k8s.*``, ``proc.is_container_*``) and
``sysdig -l`` (0.29, March 2022 libs) for names that only old captures' users know.

Row flags (the last column), any combination:
  ``A?`` optional argument, ``A!`` required argument; argument kind ``i`` index, ``k`` key,
  ``ik`` index or key; ``.`` the argument may follow a dot (``evt.arg.flags``);
  ``L`` list value; ``F`` filter only; ``R`` no RHS (not inside ``val()``); ``T`` no transformer;
  ``D`` deprecated; ``H`` hidden from ``--list`` (EPF_TABLE_ONLY).

Ancestor fields (``proc.aname`` and friends) used without an index match any ancestor: their
extractor then returns a tuple of the ancestors' values (the engine compares any-of).
"""

from __future__ import annotations

from tercel.fields.registry import ArgKind, ArgMode, FieldClass, FieldDef, declare, declare_class

Row = tuple[str, str, str, str]  # name, Falco type, flags, description


def _declare_rows(fclass: str, rows: list[Row]) -> None:
    for name, ftype, flags, desc in rows:
        toks = set(flags.split())
        arg = ArgMode.NONE
        if "A?" in toks:
            arg = ArgMode.OPTIONAL
        elif "A!" in toks:
            arg = ArgMode.REQUIRED
        kind = ArgKind.KEY
        if "i" in toks:
            kind = ArgKind.INDEX
        elif "ik" in toks:
            kind = ArgKind.INDEX_OR_KEY
        declare(FieldDef(
            name=name, ftype=ftype, desc=desc, field_class=fclass, arg=arg, arg_kind=kind,
            dotted_arg="." in toks, is_list="L" in toks, filter_only="F" in toks,
            no_rhs="R" in toks, no_transformer="T" in toks, deprecated="D" in toks,
            hidden="H" in toks,
        ))


_GEN_EVENT: list[Row] = [
    ("evt.num", "UINT64", "", "event number."),
    ("evt.time", "CHARBUF", "", "event timestamp as a time string that includes the nanosecond part."),
    ("evt.time.s", "CHARBUF", "", "event timestamp as a time string with no nanoseconds."),
    ("evt.time.iso8601", "CHARBUF", "",
     "event timestamp in ISO 8601 format, including nanoseconds and time zone offset (in UTC)."),
    ("evt.datetime", "CHARBUF", "", "event timestamp as a time string that includes the date."),
    ("evt.datetime.s", "CHARBUF", "", "event timestamp as a datetime string with no nanoseconds."),
    ("evt.rawtime", "ABSTIME", "", "absolute event timestamp, i.e. nanoseconds from epoch."),
    ("evt.rawtime.s", "ABSTIME", "", "integer part of the event timestamp (e.g. seconds since epoch)."),
    ("evt.rawtime.ns", "ABSTIME", "", "fractional part of the absolute event timestamp."),
    ("evt.reltime", "RELTIME", "", "number of nanoseconds from the beginning of the capture."),
    ("evt.reltime.s", "RELTIME", "", "number of seconds from the beginning of the capture."),
    ("evt.reltime.ns", "RELTIME", "",
     "fractional part (in ns) of the time from the beginning of the capture."),
    ("evt.pluginname", "CHARBUF", "",
     "if the event comes from a plugin-defined event source, the name of the plugin that generated it."),
    ("evt.plugininfo", "CHARBUF", "",
     "if the event comes from a plugin-defined event source, a summary of the event as formatted "
     "by the plugin."),
    ("evt.source", "CHARBUF", "", "the name of the source that produced the event."),
    ("evt.is_async", "BOOL", "", "'true' for asynchronous events, 'false' otherwise."),
    ("evt.asynctype", "CHARBUF", "",
     "If the event is asynchronous, the type of the event (e.g. 'container')."),
    ("evt.hostname", "CHARBUF", "",
     "The hostname of the underlying host (can be overridden with the FALCO_HOSTNAME environment "
     "variable)."),
]

_EVENT: list[Row] = [
    ("evt.latency", "RELTIME", "D",
     "delta between an exit event and the correspondent enter event, in nanoseconds."),
    ("evt.latency.s", "RELTIME", "D", "integer part of the event latency delta."),
    ("evt.latency.ns", "RELTIME", "D", "fractional part of the event latency delta."),
    ("evt.latency.quantized", "UINT64", "D H",
     "10-base log of the delta between an exit event and the correspondent enter event."),
    ("evt.latency.human", "CHARBUF", "D",
     "delta between an exit event and the correspondent enter event, as a human readable string "
     "(e.g. 10.3ms)."),
    ("evt.deltatime", "RELTIME", "", "delta between this event and the previous event, in nanoseconds."),
    ("evt.deltatime.s", "RELTIME", "", "integer part of the delta between this event and the previous event."),
    ("evt.deltatime.ns", "RELTIME", "",
     "fractional part of the delta between this event and the previous event."),
    ("evt.outputtime", "CHARBUF", "", "this depends on -t param, default is %evt.time ('h')."),
    ("evt.dir", "CHARBUF", "D",
     "event direction can be either '>' for enter events or '<' for exit events."),
    ("evt.type", "CHARBUF", "", "The name of the event (e.g. 'open')."),
    ("evt.type.is", "UINT32", "A! k .",
     "allows one to specify an event type, and returns 1 for events that are of that type. For "
     "example, evt.type.is.open returns 1 for open events, 0 for any other event."),
    ("syscall.type", "CHARBUF", "",
     "For system call events, the name of the system call (e.g. 'open'). Unset for other events "
     "(e.g. switch or internal events)."),
    ("evt.category", "CHARBUF", "",
     "The event category. Example values are 'file' (for file operations like open and close), "
     "'net' (for network operations like socket and bind), memory (for things like brk or mmap), "
     "and so on."),
    ("evt.cpu", "INT16", "", "number of the CPU where this event happened."),
    ("evt.args", "CHARBUF", "", "all the event arguments, aggregated into a single string."),
    ("evt.arg", "CHARBUF", "A! ik .",
     "one of the event arguments specified by name or by number. Some events (e.g. return codes "
     "or FDs) will be converted into a text representation when possible. E.g. 'evt.arg.fd' or "
     "'evt.arg[0]'."),
    # PT_DYN in libsinsp (the type of the named parameter); the registry has no dynamic type, so it
    # is declared numeric: the raw value of integer parameters, the decoded value of others.
    ("evt.rawarg", "INT64", "A! ik . R T",
     "one of the event arguments specified by name. E.g. 'evt.rawarg.fd'."),
    ("evt.info", "CHARBUF", "", "Currently, this field returns the same value as 'evt.args'."),
    ("evt.buffer", "BYTEBUF", "",
     "the binary data buffer for events that have one, like read(), recvfrom(), etc. Use this "
     "field in filters with 'contains' to search into I/O data buffers."),
    ("evt.buflen", "UINT64", "",
     "the length of the binary data buffer for events that have one, like read(), recvfrom(), etc."),
    ("evt.res", "CHARBUF", "",
     "event return value, as a string. If the event failed, the result is an error code string "
     "(e.g. 'ENOENT'), otherwise the result is the string 'SUCCESS'."),
    ("evt.rawres", "INT64", "",
     "event return value, as a number (e.g. -2). Useful for range comparisons."),
    ("evt.failed", "BOOL", "", "'true' for events that returned an error status."),
    ("evt.is_io", "BOOL", "",
     "'true' for events that read or write to FDs, like read(), send, recvfrom(), etc."),
    ("evt.is_io_read", "BOOL", "",
     "'true' for events that read from FDs, like read(), recv(), recvfrom(), etc."),
    ("evt.is_io_write", "BOOL", "", "'true' for events that write to FDs, like write(), send(), etc."),
    ("evt.io_dir", "CHARBUF", "",
     "'r' for events that read from FDs, like read(); 'w' for events that write to FDs, like write()."),
    ("evt.is_wait", "BOOL", "",
     "'true' for events that make the thread wait, e.g. sleep(), select(), poll()."),
    ("evt.wait_latency", "RELTIME", "D",
     "for events that make the thread wait (e.g. sleep(), select(), poll()), this is the time "
     "spent waiting for the event to return, in nanoseconds."),
    ("evt.is_syslog", "BOOL", "", "'true' for events that are writes to /dev/log."),
    ("evt.count", "UINT32", "", "This filter field always returns 1."),
    ("evt.count.error", "UINT32", "",
     "This filter field returns 1 for events that returned with an error."),
    ("evt.count.error.file", "UINT32", "",
     "This filter field returns 1 for events that returned with an error and are related to file I/O."),
    ("evt.count.error.net", "UINT32", "",
     "This filter field returns 1 for events that returned with an error and are related to "
     "network I/O."),
    ("evt.count.error.memory", "UINT32", "",
     "This filter field returns 1 for events that returned with an error and are related to "
     "memory allocation."),
    ("evt.count.error.other", "UINT32", "",
     "This filter field returns 1 for events that returned with an error and are related to none "
     "of the previous categories."),
    ("evt.count.exit", "UINT32", "", "This filter field returns 1 for exit events."),
    ("evt.count.procinfo", "UINT32", "H",
     "This filter field returns 1 for procinfo events generated by process main threads."),
    ("evt.count.threadinfo", "UINT32", "H", "This filter field returns 1 for procinfo events."),
    ("evt.around", "UINT64", "A! i F R T",
     "Accepts the event if it's around the specified time interval. The syntax is evt.around[T]=D, "
     "where T is the value returned by %evt.rawtime for the event and D is a delta in milliseconds."),
    ("evt.abspath", "CHARBUF", "A? k .",
     "Absolute path calculated from dirfd and name during syscalls like renameat and symlinkat. "
     "Use 'evt.abspath.src' or 'evt.abspath.dst' for syscalls that support multiple paths."),
    ("evt.buflen.in", "UINT64", "H",
     "the length of the binary data buffer, but only for input I/O events."),
    ("evt.buflen.out", "UINT64", "H",
     "the length of the binary data buffer, but only for output I/O events."),
    ("evt.buflen.file", "UINT64", "H",
     "the length of the binary data buffer, but only for file I/O events."),
    ("evt.buflen.file.in", "UINT64", "H",
     "the length of the binary data buffer, but only for input file I/O events."),
    ("evt.buflen.file.out", "UINT64", "H",
     "the length of the binary data buffer, but only for output file I/O events."),
    ("evt.buflen.net", "UINT64", "H",
     "the length of the binary data buffer, but only for network I/O events."),
    ("evt.buflen.net.in", "UINT64", "H",
     "the length of the binary data buffer, but only for input network I/O events."),
    ("evt.buflen.net.out", "UINT64", "H",
     "the length of the binary data buffer, but only for output network I/O events."),
    ("evt.is_open_read", "BOOL", "",
     "'true' for open/openat/openat2/open_by_handle_at events where the path was opened for reading"),
    ("evt.is_open_write", "BOOL", "",
     "'true' for open/openat/openat2/open_by_handle_at events where the path was opened for writing"),
    ("evt.infra.docker.name", "CHARBUF", "H",
     "for docker infrastructure events, the name of the event."),
    ("evt.infra.docker.container.id", "CHARBUF", "H",
     "for docker infrastructure events, the id of the impacted container."),
    ("evt.infra.docker.container.name", "CHARBUF", "H",
     "for docker infrastructure events, the name of the impacted container."),
    ("evt.infra.docker.container.image", "CHARBUF", "H",
     "for docker infrastructure events, the image name of the impacted container."),
    ("evt.is_open_exec", "BOOL", "",
     "'true' for open/openat/openat2/open_by_handle_at or creat events where a file is created "
     "with execute permissions"),
    ("evt.is_open_create", "BOOL", "",
     "'true' for for open/openat/openat2/open_by_handle_at events where a file is created."),
]

_ANY = "When used without an index, applicable only in filters and matches any of the process ancestors."

_THREAD: list[Row] = [
    ("proc.exe", "CHARBUF", "",
     "The first command line argument argv[0] (truncated after 4096 bytes) which is usually the "
     "executable name but it could be also a custom string."),
    ("proc.pexe", "CHARBUF", "", "The proc.exe (first command line argument argv[0]) of the parent process."),
    ("proc.aexe", "CHARBUF", "A? i",
     "The proc.exe for a specific process ancestor: proc.aexe[1] is the parent's, proc.aexe[2] "
     "the grandparent's, proc.aexe[0] the current process's. " + _ANY),
    ("proc.exepath", "CHARBUF", "",
     "The full executable path of the process (from the kernel, or /proc/PID/exe as a fallback)."),
    ("proc.pexepath", "CHARBUF", "", "The proc.exepath (full executable path) of the parent process."),
    ("proc.aexepath", "CHARBUF", "A? i",
     "The proc.exepath for a specific process ancestor (proc.aexepath[1] is the parent's). " + _ANY),
    ("proc.name", "CHARBUF", "",
     "The process name (truncated after 16 characters) generating the event (task->comm)."),
    ("proc.pname", "CHARBUF", "",
     "The proc.name (truncated after 16 characters) of the parent of the process generating the event."),
    ("proc.aname", "CHARBUF", "A? i",
     "The proc.name for a specific process ancestor: proc.aname[1] is the parent's, proc.aname[2] "
     "the grandparent's, proc.aname[0] the current process's. " + _ANY),
    ("proc.args", "CHARBUF", "",
     "The arguments passed on the command line when starting the process generating the event "
     "excluding argv[0] (truncated after 4096 bytes)."),
    ("proc.cmdline", "CHARBUF", "",
     "The concatenation of `proc.name + proc.args` (truncated after 4096 bytes) when starting the "
     "process generating the event."),
    ("proc.pcmdline", "CHARBUF", "",
     "The proc.cmdline (full command line (proc.name + proc.args)) of the parent of the process "
     "generating the event."),
    ("proc.acmdline", "CHARBUF", "A? i",
     "The full command line (proc.name + proc.args) for a specific process ancestor. " + _ANY),
    ("proc.cmdnargs", "UINT64", "", "The number of command line args (proc.args)."),
    ("proc.cmdlenargs", "UINT64", "",
     "The total count of characters / length of the command line args (proc.args) combined "
     "excluding whitespaces between args."),
    ("proc.exeline", "CHARBUF", "",
     "The full command line, with exe as first argument (proc.exe + proc.args) when starting the "
     "process generating the event."),
    ("proc.env", "CHARBUF", "A? k",
     "The environment variables of the process generating the event as concatenated string "
     "'ENV_NAME=value ENV_NAME1=value1'. Can also be used to extract the value of a known env "
     "variable, e.g. proc.env[ENV_NAME]."),
    ("proc.aenv", "CHARBUF", "A? ik",
     "[EXPERIMENTAL] proc.env of an ancestor (proc.aenv[2]), the first value of a variable in the "
     "lineage (proc.aenv[NAME]), or, without argument, any ancestor's environment."),
    ("proc.cwd", "CHARBUF", "", "The current working directory of the event."),
    ("proc.loginshellid", "INT64", "",
     "The pid of the oldest shell among the ancestors of the current process, if there is one."),
    ("proc.tty", "UINT32", "",
     "The controlling terminal of the process. 0 for processes without a terminal."),
    ("proc.pid", "INT64", "", "The id of the process generating the event."),
    ("proc.ppid", "INT64", "", "The pid of the parent of the process generating the event."),
    ("proc.apid", "INT64", "A? i",
     "The pid for a specific process ancestor (proc.apid[1] is the parent's). " + _ANY),
    ("proc.vpid", "INT64", "",
     "The id of the process generating the event as seen from its current PID namespace."),
    ("proc.pvpid", "INT64", "",
     "The id of the parent process generating the event as seen from its current PID namespace."),
    ("proc.sid", "INT64", "", "The session id of the process generating the event."),
    ("proc.sname", "CHARBUF", "",
     "The name of the current process's session leader. This is either the process with "
     "pid=proc.sid or the eldest ancestor that has the same sid as the current process."),
    ("proc.sid.exe", "CHARBUF", "",
     "The first command line argument argv[0] of the current process's session leader."),
    ("proc.sid.exepath", "CHARBUF", "",
     "The full executable path of the current process's session leader."),
    ("proc.vpgid", "INT64", "",
     "The process group id of the process generating the event, as seen from its current PID "
     "namespace."),
    ("proc.vpgid.name", "CHARBUF", "",
     "The name of the current process's process group leader."),
    ("proc.vpgid.exe", "CHARBUF", "",
     "The first command line argument argv[0] of the current process's process group leader."),
    ("proc.vpgid.exepath", "CHARBUF", "",
     "The full executable path of the current process's process group leader."),
    ("proc.duration", "RELTIME", "", "Number of nanoseconds since the process started."),
    ("proc.ppid.duration", "RELTIME", "", "Number of nanoseconds since the parent process started."),
    ("proc.pid.ts", "RELTIME", "", "Start of process as epoch timestamp in nanoseconds."),
    ("proc.ppid.ts", "RELTIME", "", "Start of parent process as epoch timestamp in nanoseconds."),
    ("proc.is_exe_writable", "BOOL", "",
     "'true' if this process' executable file is writable by the same user that spawned the process."),
    ("proc.is_exe_upper_layer", "BOOL", "",
     "'true' if this process' executable file is in upper layer in overlayfs."),
    ("proc.is_exe_from_memfd", "BOOL", "",
     "'true' if the executable file of the current process is an anonymous file created using "
     "memfd_create() and is being executed by referencing its file descriptor (fd)."),
    ("proc.is_sid_leader", "BOOL", "",
     "'true' if this process is the leader of the process session, proc.sid == proc.vpid."),
    ("proc.is_vpgid_leader", "BOOL", "",
     "'true' if this process is the leader of the virtual process group, proc.vpgid == proc.vpid."),
    ("proc.exe_ino", "INT64", "", "The inode number of the executable file on disk."),
    ("proc.exe_ino.ctime", "ABSTIME", "",
     "Last status change time of executable file (inode->ctime) as epoch timestamp in nanoseconds."),
    ("proc.exe_ino.mtime", "ABSTIME", "",
     "Last modification time of executable file (inode->mtime) as epoch timestamp in nanoseconds."),
    ("proc.exe_ino.ctime_duration_proc_start", "ABSTIME", "",
     "Number of nanoseconds between modifying status of executable image and spawning a new "
     "process using the changed executable image."),
    ("proc.exe_ino.ctime_duration_pidns_start", "ABSTIME", "",
     "Number of nanoseconds between PID namespace start ts and ctime exe file if PID namespace "
     "start predates ctime."),
    ("proc.pidns_init_start_ts", "UINT64", "",
     "Start of PID namespace (container or non container pid namespace) as epoch timestamp in "
     "nanoseconds."),
    ("thread.cap_permitted", "CHARBUF", "", "The permitted capabilities set"),
    ("thread.cap_inheritable", "CHARBUF", "", "The inheritable capabilities set"),
    ("thread.cap_effective", "CHARBUF", "", "The effective capabilities set"),
    ("proc.fdopencount", "UINT64", "", "Number of open FDs for the process"),
    ("proc.fdlimit", "INT64", "", "Maximum number of FDs the process can open."),
    ("proc.fdusage", "DOUBLE", "",
     "The ratio between open FDs and maximum available FDs for the process."),
    ("proc.vmsize", "UINT64", "", "Total virtual memory for the process (as kb)."),
    ("proc.vmrss", "UINT64", "", "Resident non-swapped memory for the process (as kb)."),
    ("proc.vmswap", "UINT64", "", "Swapped memory for the process (as kb)."),
    ("thread.pfmajor", "UINT64", "", "Number of major page faults since thread start."),
    ("thread.pfminor", "UINT64", "", "Number of minor page faults since thread start."),
    ("thread.tid", "INT64", "", "The id of the thread generating the event."),
    ("thread.ismain", "BOOL", "",
     "'true' if the thread generating the event is the main one in the process."),
    ("thread.vtid", "INT64", "",
     "The id of the thread generating the event as seen from its current PID namespace."),
    ("thread.nametid", "CHARBUF", "H",
     "This field chains the process name and tid of a thread and can be used as a specific "
     "identifier of a thread for a specific execve."),
    ("thread.exectime", "RELTIME", "",
     "CPU time spent by the last scheduled thread, in nanoseconds. Exported by switch events only."),
    ("thread.totexectime", "RELTIME", "",
     "Total CPU time, in nanoseconds since the beginning of the capture, for the current thread. "
     "Exported by switch events only."),
    ("thread.cgroups", "CHARBUF", "",
     "All cgroups the thread belongs to, aggregated into a single string."),
    ("thread.cgroup", "CHARBUF", "A! k .",
     "The cgroup the thread belongs to, for a specific subsystem. e.g. thread.cgroup.cpuacct."),
    ("proc.nthreads", "UINT64", "",
     "The number of alive threads that the process generating the event currently has, including "
     "the leader thread."),
    ("proc.nchilds", "UINT64", "",
     "The number of alive not leader threads that the process generating the event currently has."),
    ("thread.cpu", "DOUBLE", "", "The CPU consumed by the thread in the last second."),
    ("thread.cpu.user", "DOUBLE", "", "The user CPU consumed by the thread in the last second."),
    ("thread.cpu.system", "DOUBLE", "", "The system CPU consumed by the thread in the last second."),
    ("thread.vmsize", "UINT64", "",
     "For the process main thread, this is the total virtual memory for the process (as kb)."),
    ("thread.vmrss", "UINT64", "",
     "For the process main thread, this is the resident non-swapped memory for the process (as kb)."),
    ("thread.vmsize.b", "UINT64", "H",
     "For the process main thread, this is the total virtual memory for the process (in bytes)."),
    ("thread.vmrss.b", "UINT64", "H",
     "For the process main thread, this is the resident non-swapped memory for the process (in bytes)."),
]

_USER: list[Row] = [
    ("user.uid", "UINT32", "", "user ID."),
    ("user.name", "CHARBUF", "", "user name."),
    ("user.homedir", "CHARBUF", "", "home directory of the user."),
    ("user.shell", "CHARBUF", "", "user's shell."),
    ("user.loginuid", "INT64", "",
     "audit user id (auid); an invalid uid (UINT32_MAX) is returned as -1."),
    ("user.loginname", "CHARBUF", "", "audit user name (auid)."),
]

_GROUP: list[Row] = [
    ("group.gid", "UINT32", "", "group ID."),
    ("group.name", "CHARBUF", "", "group name."),
]

_FD: list[Row] = [
    ("fd.num", "INT64", "", "the unique number identifying the file descriptor."),
    ("fd.type", "CHARBUF", "",
     "type of FD. Can be 'file', 'directory', 'ipv4', 'ipv6', 'unix', 'pipe', 'event', "
     "'signalfd', 'eventpoll', 'inotify', 'signalfd' or 'memfd'."),
    ("fd.typechar", "CHARBUF", "",
     "type of FD as a single character. Can be 'f' for file, 4 for IPv4 socket, 6 for IPv6 "
     "socket, 'u' for unix socket, p for pipe, 'e' for eventfd, 's' for signalfd, 'l' for "
     "eventpoll, 'i' for inotify, 'b' for bpf, 'u' for userfaultd, 'r' for io_uring, 'm' for "
     "memfd, 'o' for unknown."),
    ("fd.name", "CHARBUF", "",
     "FD full name. If the fd is a file, this field contains the full path. If the FD is a "
     "socket, this field contain the connection tuple."),
    ("fd.directory", "CHARBUF", "", "If the fd is a file, the directory that contains it."),
    ("fd.filename", "CHARBUF", "", "If the fd is a file, the filename without the path."),
    ("fd.ip", "IPADDR", "F", "matches the ip address (client or server) of the fd."),
    ("fd.cip", "IPADDR", "", "client IP address."),
    ("fd.sip", "IPADDR", "", "server IP address."),
    ("fd.lip", "IPADDR", "", "local IP address."),
    ("fd.rip", "IPADDR", "", "remote IP address."),
    ("fd.port", "PORT", "F", "matches the port (either client or server) of the fd."),
    ("fd.cport", "PORT", "", "for TCP/UDP FDs, the client port."),
    ("fd.sport", "PORT", "", "for TCP/UDP FDs, server port."),
    ("fd.lport", "PORT", "", "for TCP/UDP FDs, the local port."),
    ("fd.rport", "PORT", "", "for TCP/UDP FDs, the remote port."),
    ("fd.l4proto", "CHARBUF", "",
     "the IP protocol of a socket. Can be 'tcp', 'udp', 'icmp' or 'raw'."),
    ("fd.sockfamily", "CHARBUF", "",
     "the socket family for socket events. Can be 'ip' or 'unix'."),
    ("fd.is_server", "BOOL", "",
     "'true' if the process owning this FD is the server endpoint in the connection."),
    ("fd.uid", "CHARBUF", "",
     "a unique identifier for the FD, created by chaining the FD number and the thread ID."),
    ("fd.containername", "CHARBUF", "", "chaining of the container ID and the FD name."),
    ("fd.containerdirectory", "CHARBUF", "", "chaining of the container ID and the directory name."),
    ("fd.proto", "PORT", "F", "matches the protocol (either client or server) of the fd."),
    ("fd.cproto", "CHARBUF", "", "for TCP/UDP FDs, the client protocol."),
    ("fd.sproto", "CHARBUF", "", "for TCP/UDP FDs, server protocol."),
    ("fd.lproto", "CHARBUF", "", "for TCP/UDP FDs, the local protocol."),
    ("fd.rproto", "CHARBUF", "", "for TCP/UDP FDs, the remote protocol."),
    ("fd.net", "IPNET", "F", "matches the IP network (client or server) of the fd."),
    ("fd.cnet", "IPNET", "F", "matches the client IP network of the fd."),
    ("fd.snet", "IPNET", "F", "matches the server IP network of the fd."),
    ("fd.lnet", "IPNET", "F", "matches the local IP network of the fd."),
    ("fd.rnet", "IPNET", "F", "matches the remote IP network of the fd."),
    ("fd.connected", "BOOL", "", "for TCP/UDP FDs, 'true' if the socket is connected."),
    ("fd.name_changed", "BOOL", "",
     "True when an event changes the name of an fd used by this event. This can occur in some "
     "cases such as udp connections where the connection tuple changes."),
    ("fd.cip.name", "CHARBUF", "", "Domain name associated with the client IP address."),
    ("fd.sip.name", "CHARBUF", "", "Domain name associated with the server IP address."),
    ("fd.lip.name", "CHARBUF", "", "Domain name associated with the local IP address."),
    ("fd.rip.name", "CHARBUF", "", "Domain name associated with the remote IP address."),
    ("fd.dev", "INT32", "", "device number (major/minor) containing the referenced file"),
    ("fd.dev.major", "INT32", "", "major device number containing the referenced file"),
    ("fd.dev.minor", "INT32", "", "minor device number containing the referenced file"),
    ("fd.ino", "INT64", "", "inode number of the referenced file"),
    ("fd.nameraw", "CHARBUF", "",
     "FD full name raw. Just like fd.name, but only used if fd is a file path. File path is kept "
     "raw with limited sanitization and without deriving the absolute path."),
    ("fd.types", "CHARBUF", "A? i L",
     "List of FD types in used. Can be passed an fd number e.g. fd.types[0] to get the type of "
     "stdout as a single item list."),
]

_FSPATH: list[Row] = [
    ("fs.path.name", "CHARBUF", "",
     "For any event type that deals with a filesystem path, the path the file syscall is "
     "operating on. This path is always fully resolved, prepending the thread cwd when needed."),
    ("fs.path.nameraw", "CHARBUF", "",
     "For any event type that deals with a filesystem path, the path the file syscall is "
     "operating on, as provided to the syscall (may not be fully resolved)."),
    ("fs.path.source", "CHARBUF", "",
     "For events with a source and a target (mv, cp, ...), the source path, fully resolved."),
    ("fs.path.sourceraw", "CHARBUF", "",
     "For events with a source and a target (mv, cp, ...), the source path as provided to the syscall."),
    ("fs.path.target", "CHARBUF", "",
     "For events with a source and a target (mv, cp, ...), the target path, fully resolved."),
    ("fs.path.targetraw", "CHARBUF", "",
     "For events with a source and a target (mv, cp, ...), the target path as provided to the syscall."),
]

_FDLIST: list[Row] = [
    ("fdlist.nums", "CHARBUF", "",
     "for poll events, this is a comma-separated list of the FD numbers in the 'fds' argument, "
     "returned as a string."),
    ("fdlist.names", "CHARBUF", "",
     "for poll events, this is a comma-separated list of the FD names in the 'fds' argument, "
     "returned as a string."),
    ("fdlist.cips", "CHARBUF", "",
     "for poll events, this is a comma-separated list of the client IP addresses in the 'fds' "
     "argument, returned as a string."),
    ("fdlist.sips", "CHARBUF", "",
     "for poll events, this is a comma-separated list of the server IP addresses in the 'fds' "
     "argument, returned as a string."),
    ("fdlist.cports", "CHARBUF", "",
     "for TCP/UDP FDs, for poll events, this is a comma-separated list of the client TCP/UDP "
     "ports in the 'fds' argument, returned as a string."),
    ("fdlist.sports", "CHARBUF", "",
     "for poll events, this is a comma-separated list of the server TCP/UDP ports in the 'fds' "
     "argument, returned as a string."),
]

_LAG = "In instances of userspace container engine lookup delays, this field may not be available yet."
_K8S_DEP = "Deprecated. Use `k8smeta` plugin instead."

_CONTAINER: list[Row] = [
    ("container.id", "CHARBUF", "",
     "The truncated container ID (first 12 characters) extracted from the Linux cgroups; 'host' "
     "if the process occurs on the host."),
    ("container.full_id", "CHARBUF", "", "The full container ID. " + _LAG),
    ("container.name", "CHARBUF", "",
     "The container name ('host' for host processes). " + _LAG),
    ("container.image", "CHARBUF", "",
     "The container image name (e.g. falcosecurity/falco:latest for docker). " + _LAG),
    ("container.image.id", "CHARBUF", "", "The container image id (e.g. 6f7e2741b66b). " + _LAG),
    ("container.type", "CHARBUF", "", "The container type, e.g. docker, cri-o, containerd etc."),
    ("container.privileged", "BOOL", "",
     "'true' for containers running as privileged, 'false' otherwise. " + _LAG),
    ("container.mounts", "CHARBUF", "",
     "A space-separated list of mount information. Each item in the list has the format "
     "'source:dest:mode:rdrw:propagation'. " + _LAG),
    ("container.mount", "CHARBUF", "A! ik",
     "Information about a single mount, specified by number (e.g. container.mount[0]) or mount "
     "source (container.mount[/usr/local]); the pathname can be a glob. Returns \"none\" when no "
     "mount matches. " + _LAG),
    ("container.mount.source", "CHARBUF", "A! ik",
     "The mount source, specified by number or mount destination (a glob). " + _LAG),
    ("container.mount.dest", "CHARBUF", "A! ik",
     "The mount destination, specified by number or mount source (a glob). " + _LAG),
    ("container.mount.mode", "CHARBUF", "A! ik",
     "The mount mode, specified by number or mount source (a glob). " + _LAG),
    ("container.mount.rdwr", "CHARBUF", "A! ik",
     "The mount rdwr value, specified by number or mount source (a glob). " + _LAG),
    ("container.mount.propagation", "CHARBUF", "A! ik",
     "The mount propagation value, specified by number or mount source (a glob). " + _LAG),
    ("container.image.repository", "CHARBUF", "",
     "The container image repository (e.g. falcosecurity/falco). " + _LAG),
    ("container.image.tag", "CHARBUF", "",
     "The container image tag (e.g. stable, latest). " + _LAG),
    ("container.image.digest", "CHARBUF", "",
     "The container image registry digest. " + _LAG),
    ("container.healthcheck", "CHARBUF", "D", "Deprecated, will be removed in a future version."),
    ("container.liveness_probe", "CHARBUF", "D", _K8S_DEP),
    ("container.readiness_probe", "CHARBUF", "D", _K8S_DEP),
    ("container.start_ts", "ABSTIME", "",
     "Container start as epoch timestamp in nanoseconds based on proc.pidns_init_start_ts."),
    ("container.duration", "RELTIME", "", "Number of nanoseconds since container.start_ts."),
    ("container.ip", "CHARBUF", "",
     "The container's / pod's primary ip address as retrieved from the container engine. " + _LAG),
    ("container.cni.json", "CHARBUF", "",
     "The container's / pod's CNI result field from the respective pod status info. " + _LAG),
    ("container.host_pid", "BOOL", "",
     "'true' if the container is running in the host PID namespace, 'false' otherwise."),
    ("container.host_network", "BOOL", "",
     "'true' if the container is running in the host network namespace, 'false' otherwise."),
    ("container.host_ipc", "BOOL", "",
     "'true' if the container is running in the host IPC namespace, 'false' otherwise."),
    ("container.label", "CHARBUF", "A! k .", "Container label. E.g. 'container.label.foo'."),
    ("container.labels", "CHARBUF", "",
     "Container comma-separated key/value labels. E.g. 'foo1:bar1,foo2:bar2'."),
    ("proc.is_container_healthcheck", "BOOL", "D",
     "Deprecated, will be removed in a future version."),
    ("proc.is_container_liveness_probe", "BOOL", "D", _K8S_DEP),
    ("proc.is_container_readiness_probe", "BOOL", "D", _K8S_DEP),
]

_K8S_NOTE = ("This field is extracted from the container runtime socket simultaneously as we look "
             "up the 'container.*' fields.")

_K8S: list[Row] = [
    ("k8s.pod.name", "CHARBUF", "", "The Kubernetes pod name. " + _K8S_NOTE),
    ("k8s.ns.name", "CHARBUF", "", "The Kubernetes namespace name. " + _K8S_NOTE),
    ("k8s.pod.id", "CHARBUF", "",
     "[LEGACY] The Kubernetes pod UID; points to `k8s.pod.uid`. " + _K8S_NOTE),
    ("k8s.pod.uid", "CHARBUF", "", "The Kubernetes pod UID. " + _K8S_NOTE),
    ("k8s.pod.sandbox_id", "CHARBUF", "",
     "The truncated Kubernetes pod sandbox ID (first 12 characters). " + _K8S_NOTE),
    ("k8s.pod.full_sandbox_id", "CHARBUF", "",
     "The full Kubernetes pod / sandbox ID. " + _K8S_NOTE),
    ("k8s.pod.label", "CHARBUF", "A! k .",
     "The Kubernetes pod label, e.g. 'k8s.pod.label[foo]' or 'k8s.pod.label.foo'. " + _K8S_NOTE),
    ("k8s.pod.labels", "CHARBUF", "",
     "The Kubernetes pod comma-separated key/value labels. " + _K8S_NOTE),
    ("k8s.pod.ip", "CHARBUF", "", "The Kubernetes pod ip, same as container.ip. " + _K8S_NOTE),
    ("k8s.pod.cni.json", "CHARBUF", "",
     "The Kubernetes pod CNI result field, same as container.cni.json. " + _K8S_NOTE),
]
for _kind in ("rc", "svc"):
    _K8S += [
        (f"k8s.{_kind}.name", "CHARBUF", "D", _K8S_DEP),
        (f"k8s.{_kind}.id", "CHARBUF", "D", _K8S_DEP),
        (f"k8s.{_kind}.label", "CHARBUF", "A! k . D", _K8S_DEP),
        (f"k8s.{_kind}.labels", "CHARBUF", "D", _K8S_DEP),
    ]
_K8S += [
    ("k8s.ns.id", "CHARBUF", "D", _K8S_DEP),
    ("k8s.ns.label", "CHARBUF", "A! k . D", _K8S_DEP),
    ("k8s.ns.labels", "CHARBUF", "D", _K8S_DEP),
]
for _kind in ("rs", "deployment"):
    _K8S += [
        (f"k8s.{_kind}.name", "CHARBUF", "D", _K8S_DEP),
        (f"k8s.{_kind}.id", "CHARBUF", "D", _K8S_DEP),
        (f"k8s.{_kind}.label", "CHARBUF", "A! k . D", _K8S_DEP),
        (f"k8s.{_kind}.labels", "CHARBUF", "D", _K8S_DEP),
    ]

_CLASSES: list[tuple[FieldClass, list[Row]]] = [
    (FieldClass("evt", "These fields can be used for all event types"), _GEN_EVENT),
    (FieldClass("evt", "Event fields applicable to syscall events. Note that for most events you "
                "can access the individual arguments/parameters of each syscall via evt.arg, e.g. "
                "evt.arg.filename."), _EVENT),
    (FieldClass("process", "Additional information about the process and thread executing the "
                "syscall event."), _THREAD),
    (FieldClass("user", "Information about the user executing the specific event."), _USER),
    (FieldClass("group", "Information about the user group."), _GROUP),
    (FieldClass("fd", "Every syscall that has a file descriptor in its arguments has these fields "
                "set with information related to the file."), _FD),
    (FieldClass("fs.path", "Every syscall that has a filesystem path in its arguments has these "
                "fields set with information related to the path arguments. This differs from "
                "the fd.* fields as it includes syscalls like unlink, rename, etc. that act "
                "directly on filesystem paths as compared to opened file descriptors."), _FSPATH),
    (FieldClass("fdlist", "Poll event related fields."), _FDLIST),
    (FieldClass("container", "Container metadata (container plugin)."), _CONTAINER),
    (FieldClass("k8s", "Kubernetes metadata from the container runtime (container plugin)."), _K8S),
]

# Two "evt" classes exist in libsinsp (gen_event: "All event types", event: "Syscall events
# only"); the registry keys classes by name, so the second is keyed "evt.syscall" (a listing
# prints it as "evt (Syscall events only)").
for _i, (_fc, _rows) in enumerate(_CLASSES):
    _key = "evt.syscall" if _i == 1 else _fc.name
    declare_class(FieldClass(_key, _fc.desc, _fc.sources))
    _declare_rows(_key, _rows)

# Output details of libsinsp that the field type alone does not tell:
# - text rendering with PF_10_PADDED_DEC: these integers print zero-padded to 9 digits ("%09d");
PADDED_FIELDS = frozenset({"evt.rawtime.ns", "evt.reltime", "evt.reltime.ns", "evt.deltatime.ns",
                           "evt.latency.ns"})
# - JSON ``output_fields``: these time strings appear as the raw event timestamp (an integer, ns),
#   as Falco's extract_as_js does (e.g. "evt.time.iso8601": 1795715283397268199).
JSON_TIMESTAMP_FIELDS = frozenset({"evt.time", "evt.time.s", "evt.time.iso8601", "evt.datetime",
                                   "evt.datetime.s"})
