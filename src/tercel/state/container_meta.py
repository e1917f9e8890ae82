"""Container metadata for the container.* and k8s.* fields: a bounded cache filled asynchronously.

Live monitoring (the event path never waits for a runtime):

    meta = ContainerMetadata.from_config(cfg)   # falco.yaml-style mapping (see from_config)
    meta.start()     # worker thread: lists the runtimes' containers, follows their create/start events
    ...
    info = meta.get("3ad7b26ded6d")   # ContainerInfo, or None (a lookup is queued; fields say <NA>)
    meta.stop()

Replay: CONTAINER_JSON / CONTAINER events of a capture fill a worker-less store tied to the inspector
that read them (``parse_container_event``, a meta-event parser); without them a capture's containers
are known by id only.

Extractors find the store with :func:`store_for` (the started live store, else the inspector's own).
The cache is bounded (oldest entries go first), misses are cached for ``negative_ttl`` seconds, the
request queue is bounded (a full queue drops the request, it is asked again on a later miss).
"""

from __future__ import annotations

import json
import os
import queue
import stat
import threading
import time
import weakref
from collections.abc import Iterable, Mapping, Sequence
from glob import glob
from typing import TYPE_CHECKING, Any

from tercel.state import container_info as ci
from tercel.state.containers import HOST, full_id_from_cgroups

if TYPE_CHECKING:  # the HTTP clients load with the first engine (captures never need them)
    from tercel.state.container_engines import Engine

EVENT_INFO = "container.info"  # Event.cache key: the container a container event describes
DEFAULT_SOCKETS: dict[str, tuple[str, ...]] = {
    "docker": ("/var/run/docker.sock",),
    "podman": ("/run/podman/podman.sock", "/run/user/$uid/podman/podman.sock"),
    "cri": ("/run/crio/crio.sock", "/run/containerd/containerd.sock",
            "/run/k3s/containerd/containerd.sock"),
    "containerd": ("/run/containerd/containerd.sock",),
}
ENGINE_NAMES = ("docker", "podman", "cri", "containerd", "lxc", "libvirt_lxc", "bpm")
CACHE_SIZE = 4096
NEGATIVE_TTL = 10.0
QUEUE_SIZE = 1024
ENGINE_BACKOFF = 5.0  # an engine whose socket failed is skipped this long
MAX_ERRORS_KEPT = 20


class ContainerConfigError(ValueError):
    """A container metadata setting is invalid (the message names the key)."""


class ContainerMetadata:
    def __init__(self, engines: Sequence[Engine] = (), *, enabled: bool = True,
                 cache_size: int = CACHE_SIZE, negative_ttl: float = NEGATIVE_TTL,
                 queue_size: int = QUEUE_SIZE, follow_events: bool = True) -> None:
        self.engines = list(engines)
        self.enabled = enabled
        self.cache_size = max(1, cache_size)
        self.negative_ttl = negative_ttl
        self.follow_events = follow_events
        self._cache: dict[str, ci.ContainerInfo] = {}  # short id -> info (insertion order = age)
        self._negative: dict[str, float] = {}  # short id -> monotonic time the miss expires
        self._pending: set[str] = set()
        self._forced: set[str] = set()  # queued ids to look up even when cached (runtime events)
        self._queue: queue.Queue[str] = queue.Queue(maxsize=max(1, queue_size))
        self._lock = threading.Lock()  # cache writers (worker, listeners, capture events)
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._down_until: dict[int, float] = {}  # id(engine) -> monotonic time to retry it
        self.running = False
        self.lookups = 0
        self.found = 0
        self.missed = 0
        self.dropped = 0
        self.errors: list[str] = []

    # --- configuration --------------------------------------------------------------------------
    @classmethod
    def from_config(cls, mapping: Mapping[str, Any] | None) -> ContainerMetadata:
        """Settings from a falco.yaml-style mapping: the ``plugins`` entry named ``container`` and its
        ``init_config`` (a mapping, or JSON text as Falco also accepts):

            plugins:
              - name: container
                init_config:
                  enabled: true              # tercel: false turns runtime lookups off
                  label_max_len: 100
                  engines:
                    docker: {enabled: true, sockets: [/var/run/docker.sock]}
                    podman: {enabled: true, sockets: [/run/podman/podman.sock, /run/user/$uid/podman/podman.sock]}
                    cri: {enabled: true, sockets: [/run/crio/crio.sock]}
                  cache_size: 4096           # tercel: containers kept
                  negative_ttl: 10           # tercel: seconds an unknown id is not asked again
                  lookup_timeout_ms: 2000    # tercel: one runtime request

        Without that entry every engine is on with the plugin's default sockets. Raises
        ContainerConfigError naming the key for a wrong value."""
        from tercel.state.container_engines import Engine

        init = _init_config(mapping)
        enabled = _bool(init, "enabled", True, "plugins[container].init_config.enabled")
        label_max_len = _int(init, "label_max_len", ci.LABEL_MAX_LEN)
        cache_size = _int(init, "cache_size", CACHE_SIZE)
        timeout = max(_int(init, "lookup_timeout_ms", 2000), 10) / 1000.0
        ttl = init.get("negative_ttl", NEGATIVE_TTL)
        if isinstance(ttl, str):
            try:
                ttl = float(ttl)
            except ValueError:
                pass
        if isinstance(ttl, bool) or not isinstance(ttl, int | float) or ttl < 0:
            raise ContainerConfigError(
                f"plugins[container].init_config.negative_ttl: expected seconds, got {ttl!r}")
        engines_cfg = init.get("engines")
        if engines_cfg is None:  # `engines:` left empty
            engines_cfg = {}
        if not isinstance(engines_cfg, Mapping):
            raise ContainerConfigError("plugins[container].init_config.engines: expected a mapping")
        engines: list[Engine] = []
        for name in ENGINE_NAMES:
            ecfg = engines_cfg.get(name)
            if ecfg is None:
                ecfg = {}
            key = f"plugins[container].init_config.engines.{name}"
            if not isinstance(ecfg, Mapping):
                raise ContainerConfigError(f"{key}: expected a mapping")
            if name not in DEFAULT_SOCKETS or not _bool(ecfg, "enabled", True, key + ".enabled"):
                continue
            sockets = ecfg.get("sockets", DEFAULT_SOCKETS[name])
            if not isinstance(sockets, list | tuple) or not all(isinstance(s, str) for s in sockets):
                raise ContainerConfigError(f"{key}.sockets: expected a list of socket paths")
            for path in _expand_sockets(sockets):
                kind = _kind_for(name, path)
                if kind is not None and not any(e.path == path and e.kind == kind for e in engines):
                    engines.append(Engine(kind, path, timeout=timeout, label_max_len=label_max_len))
        return cls(engines, enabled=enabled, cache_size=cache_size, negative_ttl=float(ttl))

    # --- lifecycle --------------------------------------------------------------------------------
    def start(self) -> ContainerMetadata:
        """Start the worker (and one event follower per engine); this store becomes the one
        extractors use. Never blocks on a runtime."""
        global _active
        if self.running or not self.enabled:
            return self
        self._stop.clear()
        self.running = True
        worker = threading.Thread(target=self._work, name="tercel-containers", daemon=True)
        self._threads = [worker]
        if self.follow_events:
            for eng in self.engines:
                if eng.kind != "cri-o":
                    self._threads.append(threading.Thread(
                        target=self._follow, args=(eng,), name=f"tercel-containers-{eng.kind}", daemon=True))
        for t in self._threads:
            t.start()
        _active = self
        return self

    def stop(self, timeout: float = 2.0) -> None:
        global _active
        if _active is self:
            _active = None
        if not self.running:
            return
        self.running = False
        self._stop.set()
        for eng in self.engines:
            eng.close_streams()
        try:
            self._queue.put_nowait("")  # wakes the worker
        except queue.Full:
            pass
        deadline = time.monotonic() + timeout
        for t in self._threads:
            t.join(max(0.0, deadline - time.monotonic()))
        self._threads = []

    def __enter__(self) -> ContainerMetadata:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- the event path ---------------------------------------------------------------------------
    def get(self, cid: str, cgroups: Any = None) -> ci.ContainerInfo | None:
        """Cached metadata of a container (12-character id); on a miss a lookup is queued and None
        returned at once. ``cgroups`` (the thread's) give the full id runtimes such as CRI-O need."""
        info = self._cache.get(cid)
        if info is None and self.running:
            self.request(cid, cgroups=cgroups)
        return info

    def request(self, cid: str, force: bool = False, *, full_id: str = "", cgroups: Any = None) -> None:
        """Queue a lookup of a 12-character id (never blocks; ignored while a miss for the id is
        still fresh unless ``force``). The full id, when known or found in ``cgroups``, is what the
        runtime is asked about."""
        if not self.running or cid in self._pending or cid == HOST or not cid:
            return
        if not force:
            if cid in self._cache:
                return
            until = self._negative.get(cid)
            if until is not None and until > time.monotonic():
                return
        if not full_id and cgroups:
            full_id = full_id_from_cgroups(cgroups) or ""
        self._pending.add(cid)
        if force:
            self._forced.add(cid)
        try:
            self._queue.put_nowait(full_id if full_id.startswith(cid) else cid)
        except queue.Full:
            self._pending.discard(cid)
            self._forced.discard(cid)
            self.dropped += 1

    def add(self, info: ci.ContainerInfo) -> None:
        """Known metadata (a capture's container event, a runtime answer)."""
        with self._lock:
            cache = self._cache
            cache.pop(info.id, None)
            cache[info.id] = info
            self._negative.pop(info.id, None)
            while len(cache) > self.cache_size:
                del cache[next(iter(cache))]

    def known(self) -> list[str]:
        return list(self._cache)

    def wait_for(self, cid: str, timeout: float) -> ci.ContainerInfo | None:
        """Block until the container's metadata is cached (tests and tools, not the event path)."""
        deadline = time.monotonic() + timeout
        while True:
            info = self._cache.get(cid)
            if info is not None or time.monotonic() >= deadline:
                return info
            self.request(cid)
            time.sleep(0.01)

    def status(self) -> dict[str, Any]:
        return {"running": self.running, "engines": [f"{e.kind}:{e.path}" for e in self.engines],
                "cached": len(self._cache), "lookups": self.lookups, "found": self.found,
                "missed": self.missed, "dropped": self.dropped, "errors": list(self.errors)}

    # --- worker side ------------------------------------------------------------------------------
    def _error(self, text: str) -> None:
        if len(self.errors) >= MAX_ERRORS_KEPT:
            del self.errors[0]
        self.errors.append(text)

    def _usable(self) -> list[Engine]:
        now = time.monotonic()
        return [e for e in self.engines if self._down_until.get(id(e), 0.0) <= now and _is_socket(e.path)]

    def _lookup(self, ref: str) -> None:
        """Ask the engines about a container (12-character or full id)."""
        from tercel.state.container_engines import EngineError

        cid = ref[: ci.SHORT_ID_LEN]
        self.lookups += 1
        for eng in self._usable():
            try:
                info = eng.inspect(ref)
            except (EngineError, ValueError) as exc:
                self._error(str(exc))
                if getattr(exc, "unreachable", False):  # a bad answer about one id keeps the engine
                    self._down_until[id(eng)] = time.monotonic() + ENGINE_BACKOFF
                continue
            if info is not None:
                self.found += 1
                self.add(info)
                return
        self.missed += 1
        with self._lock:
            neg = self._negative
            neg[cid] = time.monotonic() + self.negative_ttl
            while len(neg) > self.cache_size:
                del neg[next(iter(neg))]

    def _prime(self) -> None:
        """Containers that exist already (bounded by the cache size)."""
        from tercel.state.container_engines import EngineError

        for eng in self._usable():
            if self._stop.is_set():
                return
            try:
                ids = eng.list_ids()
            except EngineError as exc:
                self._error(str(exc))
                continue
            for full in ids[: self.cache_size]:
                if self._stop.is_set():
                    return
                if full[: ci.SHORT_ID_LEN] not in self._cache:
                    self._lookup(full)
                while self._serve(0.0):  # asked-for ids (alerts waiting) go before the listing
                    pass

    def _serve(self, timeout: float) -> bool:
        """Answer one queued request (waiting up to ``timeout``); False when none came."""
        try:
            ref = self._queue.get(timeout=timeout) if timeout > 0 else self._queue.get_nowait()
        except queue.Empty:
            return False
        if not ref or self._stop.is_set():
            return False
        cid = ref[: ci.SHORT_ID_LEN]
        try:
            if cid in self._forced or cid not in self._cache:
                self._lookup(ref)
        except Exception as exc:  # a worker must survive anything a runtime answers
            self._error(f"container {cid}: {exc!r}")
        finally:
            self._forced.discard(cid)
            self._pending.discard(cid)
        return True

    def _work(self) -> None:
        self._prime()
        while not self._stop.is_set():
            self._serve(0.5)

    def _follow(self, eng: Engine) -> None:
        """Created/started containers of one engine, looked up at once (before their first alert)."""
        from tercel.state.container_engines import EngineError

        while not self._stop.is_set():
            if _is_socket(eng.path):
                try:
                    for full in eng.events(self._stop):
                        self.request(full[: ci.SHORT_ID_LEN], force=True, full_id=full)
                except EngineError as exc:
                    self._error(str(exc))
            self._stop.wait(1.0)


# --- which store the extractors use ------------------------------------------------------------------
_active: ContainerMetadata | None = None
_replay_stores: weakref.WeakKeyDictionary[Any, ContainerMetadata] = weakref.WeakKeyDictionary()


def active() -> ContainerMetadata | None:
    return _active


def store_for(insp: Any) -> ContainerMetadata | None:
    """The started live store, else the store the inspector's capture events filled (or None)."""
    if _active is not None:
        return _active
    if insp is None:
        return None
    return _replay_stores.get(insp)


def _replay_store(insp: Any) -> ContainerMetadata:
    if _active is not None:
        return _active
    store = _replay_stores.get(insp)
    if store is None:
        store = _replay_stores[insp] = ContainerMetadata(enabled=False)
    return store


def parse_container_event(insp: Any, evt: Any, _th: Any) -> None:
    """Meta-event parser of the capture events named ``container``: CONTAINER_JSON(_2) carry
    libsinsp's JSON, the old CONTAINER_E id/type/name/image. Malformed events are skipped (counted)."""
    try:
        if evt.nparams == 1:
            info = ci.from_sinsp_json(evt.param(0) or "")
        elif evt.nparams >= 4:
            ctype = evt.param(1)
            info = ci.from_container_event(str(evt.param(0) or ""), ctype if isinstance(ctype, int) else None,
                                           str(evt.param(2) or ""), str(evt.param(3) or ""))
        else:
            return
    except (ValueError, TypeError, UnicodeError):
        store = _replay_store(insp)
        store.missed += 1
        store._error(f"event {getattr(evt, 'num', '?')}: malformed container event")
        return
    _replay_store(insp).add(info)
    _remember(evt, info)


def parse_async_event(insp: Any, evt: Any, _th: Any) -> None:
    """Meta-event parser of async events: the container plugin's (Falco 0.41+) are named
    ``container`` and carry its JSON (captures hold them for the containers known at start)."""
    try:
        if evt.nparams < 3 or evt.param(1) != "container":
            return
        info = ci.from_sinsp_json(evt.param(2) or b"")
    except (ValueError, TypeError, UnicodeError):
        store = _replay_store(insp)
        store.missed += 1
        store._error(f"event {getattr(evt, 'num', '?')}: malformed container async event")
        return
    _replay_store(insp).add(info)
    _remember(evt, info)


def _remember(evt: Any, info: ci.ContainerInfo) -> None:
    """A container event's fields are about the container it describes (it has no thread)."""
    if evt.cache is None:
        evt.cache = {}
    evt.cache[EVENT_INFO] = info


# --- config helpers -----------------------------------------------------------------------------------
def _init_config(mapping: Mapping[str, Any] | None) -> Mapping[str, Any]:
    if not mapping:
        return {}
    plugins = mapping.get("plugins") or []
    if not isinstance(plugins, list):
        return {}
    for p in plugins:
        if isinstance(p, Mapping) and p.get("name") == "container":
            init = p.get("init_config")
            if init is None or init == "":
                return {}
            if isinstance(init, str):
                try:
                    init = json.loads(init)
                except ValueError as exc:
                    raise ContainerConfigError(
                        f"plugins[container].init_config: not a mapping nor JSON text ({exc})") from None
            if not isinstance(init, Mapping):
                raise ContainerConfigError("plugins[container].init_config: expected a mapping")
            return init
    return {}


def _bool(m: Mapping[str, Any], key: str, default: bool, where: str) -> bool:
    v = m.get(key, default)
    if isinstance(v, str) and v.lower() in ("true", "false"):  # -o key=value gives text
        v = v.lower() == "true"
    if not isinstance(v, bool):
        raise ContainerConfigError(f"{where}: expected true or false, got {v!r}")
    return v


def _int(m: Mapping[str, Any], key: str, default: int) -> int:
    v = m.get(key, default)
    if isinstance(v, str) and v.strip().isdigit():  # -o key=value gives text
        v = int(v)
    if isinstance(v, bool) or not isinstance(v, int) or v < 0:
        raise ContainerConfigError(f"plugins[container].init_config.{key}: expected a non-negative "
                                   f"integer, got {v!r}")
    return v


def _expand_sockets(paths: Iterable[str]) -> list[str]:
    """``$uid`` stands for every user with a runtime directory (/run/user/<uid>)."""
    out: list[str] = []
    for p in paths:
        if "$uid" in p:
            for d in sorted(glob("/run/user/*")):
                uid = os.path.basename(d)
                if uid.isdigit():
                    out.append(p.replace("$uid", uid))
        else:
            out.append(p)
    return out


def _kind_for(engine: str, path: str) -> str | None:
    """The client for an engine's socket: docker and podman speak HTTP; among the CRI sockets only
    CRI-O's answers HTTP (its inspect endpoint); containerd is gRPC only (ids alone)."""
    if engine in ("docker", "podman"):
        return engine
    if engine == "cri" and "crio" in os.path.basename(path):
        return "cri-o"
    return None


def _is_socket(path: str) -> bool:
    try:
        return stat.S_ISSOCK(os.stat(path).st_mode)
    except OSError:
        return False
