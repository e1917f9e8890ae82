"""proc.sname / proc.vpgid.name: the session and process-group leaders, found by tid on the host and
by walking ancestors that share the id inside a pid namespace (where the ids are namespace-local)."""

from __future__ import annotations

from typing import Any

from tercel.fields import registry
from tercel.state.threadinfo import ThreadInfo, ThreadTable


class _Evt:
    def __init__(self, thread: ThreadInfo) -> None:
        self.thread = thread
        self.cache: dict[str, Any] = {}


def _field(name: str, t: ThreadInfo) -> Any:
    found = registry.resolve(name)
    assert found is not None
    return registry.make_extractor(found[0], found[1])(_Evt(t))


def _table(*threads: ThreadInfo) -> ThreadTable:
    table = ThreadTable()
    for t in threads:
        table.add(t)
    return table


def test_leaders_by_tid_on_the_host() -> None:
    sess = ThreadInfo(10, pid=10, ptid=1, sid=10, vpgid=10, comm="sshd")
    grp = ThreadInfo(20, pid=20, ptid=10, sid=10, vpgid=20, comm="bash")
    me = ThreadInfo(30, pid=30, ptid=20, sid=10, vpgid=20, comm="cat")
    _table(ThreadInfo(1, pid=1, ptid=0, sid=1, vpgid=1, comm="init"), sess, grp, me)
    assert _field("proc.sname", me) == "sshd"
    assert _field("proc.vpgid.name", me) == "bash"


def test_leaders_by_ancestors_in_a_pid_namespace() -> None:
    # namespace-local ids: tid 2 in the namespace is not host tid 2, so the walk decides
    outside = ThreadInfo(2, pid=2, ptid=1, sid=2, vpgid=2, comm="host-two")
    init = ThreadInfo(100, pid=100, ptid=1, sid=1, vpgid=1, vtid=1, vpid=1, comm="tini")
    sh = ThreadInfo(101, pid=101, ptid=100, sid=2, vpgid=2, vtid=2, vpid=2, comm="sh")
    child = ThreadInfo(102, pid=102, ptid=101, sid=2, vpgid=3, vtid=3, vpid=3, comm="grep")
    _table(ThreadInfo(1, pid=1, ptid=0, comm="init"), outside, init, sh, child)
    assert _field("proc.sname", child) == "sh"
    assert _field("proc.vpgid.name", child) == "grep"  # its own group: no ancestor shares vpgid 3
