"""The process group of a distributed run: joining it, preparing once per node, and naming a rank
that is gone.

A launcher (torchrun, or anything that sets RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR and
MASTER_PORT) starts one process per rank; `join` opens torch.distributed's process group on gloo
(CPU arrays) with `timeout` seconds for every collective, and starts a heartbeat: a thread that
adds 1 to the key embedkit/hb/<rank> of the launcher's key-value store every HEARTBEAT_S seconds,
one for the process, from its first join() to its exit (a run's other keys are the run's).

Faults. A rank whose process dies closes its sockets, so the others' next collective fails at
once; a rank that stops answering without dying (a frozen machine, a cut network) makes it fail
after `timeout` seconds. Either way `Group.failure` turns the collective's error into one line
naming the rank: one that reported an error (key failed/<rank>) is quoted, else the ranks whose
heartbeat stood still over GONE_AFTER_S seconds are named. A rank that is waiting for the
others' preparation (the corpus cache, the co-occurrences, a run's first meeting) watches their
heartbeats instead of a timeout, since preparing a large corpus may take far longer than a sync.
"""
from __future__ import annotations

import os
import sys
import threading
import time
from datetime import timedelta

from embedkit.errors import EmbedkitError

HEARTBEAT_S = 0.25        # seconds between two heartbeats of a rank
GONE_AFTER_S = 1.5        # a heartbeat that stands still this long: the rank is gone
# while ranks wait for each other's preparation, a heartbeat must stand still this long before the
# rank is looked at (then for GONE_AFTER_S more): a preparing rank may hold the GIL in one long C
# call (a scipy conversion of a large matrix, a read of a large file), which starves its heartbeat
PREPARE_GONE_AFTER_S = 10.0
POLL_S = 0.1              # seconds between two looks at the store while waiting for preparation
BEAT_LOOK_S = 1.0         # ... and between two looks at the heartbeats of the ranks it waits for
WAIT_NOTE_S = 60.0        # a line on stderr every this many seconds of waiting (a rank may wait without end)
SYNC_TIMEOUT_S = 60.0     # default seconds a collective may wait for a rank that does not answer
ENV = ("RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT")


class PROCESS:
    """What this process has done with torch.distributed: several train() calls may share a group."""
    made_group = False        # join() made the default process group (close() destroys it at exit)
    destroy_at_exit = False
    runs = 0                  # join() calls so far
    beating = None            # the Group whose heartbeat thread runs: one a process, from its first join() to exit
    beating_pg = None         # the default process group (and so the store) that heartbeat uses


def stop_heartbeat() -> None:
    """Stop this process's heartbeat (at exit, before its process group is destroyed)."""
    group = PROCESS.beating
    if group is not None:
        group.stopping.set()
        if group.beat.is_alive() and group.beat is not threading.current_thread():
            group.beat.join(timeout=5 * HEARTBEAT_S)


def launched() -> bool:
    """True when the launcher's environment (torchrun's RANK, WORLD_SIZE, ...) is set."""
    return all(k in os.environ for k in ENV)


class Group:
    """This process's place in the run: rank, world size, local rank, and the store."""

    def __init__(self, rank: int, world: int, local_rank: int, store, timeout: float, backend: str,
                 prefix: str = "embedkit/0/"):
        self.rank, self.world, self.local_rank = rank, world, local_rank
        self.store, self.timeout, self.backend = store, timeout, backend
        self.prefix = prefix                  # this run's keys in the store (several runs may share a group)
        self.lock = threading.Lock()          # the store client is shared by the heartbeat thread
        self.stopping = threading.Event()
        self.beat = threading.Thread(target=self._heartbeat, daemon=True, name="embedkit-heartbeat")

    # ---- the store ----

    def key(self, *parts) -> str:
        return self.prefix + "/".join(map(str, parts))

    @staticmethod
    def hb_key(rank: int) -> str:
        """A rank's heartbeat: one key for the process, whatever the run (a run that follows another
        in the same process finds the rank alive while it still saves or evaluates the last one)."""
        return f"embedkit/hb/{rank}"

    def _heartbeat(self) -> None:
        while not self.stopping.is_set():
            try:
                with self.lock:
                    self.store.add(self.hb_key(self.rank), 1)
            except Exception:   # noqa: BLE001 - a store that is gone for good: the collectives report it;
                pass            # one that failed once must not make this live rank look gone for good
            self.stopping.wait(HEARTBEAT_S)

    def _beats(self, ranks) -> list[int]:
        with self.lock:
            return [int(self.store.add(self.hb_key(r), 0)) for r in ranks]

    def _reported(self, r: int) -> str | None:
        key = self.key("failed", r)
        with self.lock:
            if not self.store.check([key]):
                return None
            return self.store.get(key).decode("utf-8", "replace")

    def report(self, message: str) -> None:
        """Leave this rank's error where the other ranks look for it (best effort)."""
        try:
            with self.lock:
                self.store.set(self.key("failed", self.rank), message.splitlines()[0][:300])
                self.store.add(self.key("failures"), 1)         # one key for waiting ranks to watch
        except Exception:   # noqa: BLE001 - nothing more to do: the process is stopping anyway
            pass

    # ---- naming the rank that is gone ----

    def gone(self, ranks=None) -> list[int] | None:
        """The ranks (of `ranks`, default all others) whose heartbeat stood still over GONE_AFTER_S;
        None when the store itself cannot be reached (rank 0's launcher or machine is gone)."""
        ranks = [r for r in (range(self.world) if ranks is None else ranks) if r != self.rank]
        try:
            before = self._beats(ranks)
            time.sleep(GONE_AFTER_S)
            after = self._beats(ranks)
        except Exception:   # noqa: BLE001
            return None
        return [r for r, a, b in zip(ranks, before, after) if a == b]

    def failure(self, error: BaseException) -> EmbedkitError:
        """A one-line error for a collective that failed: which rank stopped, and why when it said."""
        me = f"rank {self.rank} of {self.world} stops"
        try:
            reported = [(r, m) for r in range(self.world) if r != self.rank and (m := self._reported(r))]
        except Exception:   # noqa: BLE001
            reported = []
        if reported:
            r, m = reported[0]
            return EmbedkitError(f"rank {r} of {self.world} failed: {m}; {me}")
        dead = self.gone()
        if dead is None:
            return EmbedkitError(f"the launcher's store (on the node of rank 0) cannot be reached: rank 0 or its "
                                 f"machine is gone; {me}")
        if dead:
            return EmbedkitError(f"rank {', '.join(map(str, dead))} of {self.world} is gone (no heartbeat for "
                                 f"{GONE_AFTER_S:g} s: its process died or its machine is unreachable); {me}")
        first = (str(error).strip().splitlines() or [type(error).__name__])[0][:200]
        return EmbedkitError(f"a synchronisation with the other ranks failed (every rank still has a heartbeat; "
                             f"timeout {self.timeout:g} s): {first}; {me}")

    def collective(self, fn):
        """fn() (torch.distributed collectives); a failure becomes Group.failure's one-line error."""
        try:
            return fn()
        except EmbedkitError:
            raise
        except Exception as e:   # noqa: BLE001 - gloo/NCCL raise RuntimeError subclasses (DistError...)
            raise self.failure(e) from None

    def spread(self, values, dtype=None) -> list[tuple]:
        """(min, max) over the ranks of each of `values` (float64, or the torch `dtype`): max(v) and
        -min(v) of them all in one all-reduce."""
        import torch
        import torch.distributed as dist
        t = torch.tensor([*values, *(-v for v in values)], dtype=dtype or torch.float64)
        self.collective(lambda: dist.all_reduce(t, op=dist.ReduceOp.MAX))
        n = len(values)
        return [(-t[n + i].item(), t[i].item()) for i in range(n)]

    def same(self, value: int) -> tuple[int, int] | None:
        """None when every rank holds the int64 `value` (a 62-bit fingerprint: exact in int64 alone),
        else its (min, max) over the ranks."""
        import torch
        (lo, hi), = self.spread([value], torch.int64)
        return None if lo == hi else (lo, hi)

    # ---- preparing: waits without a timeout ----

    def _await(self, keys: dict, what: str) -> None:
        """Return once the store holds keys[r] for every rank r. Preparing (a corpus, its
        co-occurrences) may take far longer than a sync, on one node more than another, so this
        has no timeout: it stops only when a rank has reported an error, or when a rank it waits
        for has a heartbeat that stood still over PREPARE_GONE_AFTER_S and then GONE_AFTER_S more.
        The store is looked at every POLL_S (every key at once, and a counter of failures), the
        heartbeats every BEAT_LOOK_S; a line on stderr every WAIT_NOTE_S says who is waited for."""
        beats, changed, looked, t0, noted = {}, {}, 0.0, time.monotonic(), 0
        while True:
            stalled = []
            try:
                with self.lock:
                    if self.store.check(list(keys.values())):
                        return
                    failures = int(self.store.add(self.key("failures"), 0))
                if failures:
                    raise self.failure(RuntimeError(f"a rank failed while preparing the {what}"))
                now = time.monotonic()
                if now - looked >= BEAT_LOOK_S:
                    with self.lock:
                        keys = {r: k for r, k in keys.items() if not self.store.check([k])}
                    for r, b in zip(keys, self._beats(keys)):
                        if beats.get(r) != b:
                            beats[r], changed[r] = b, now
                    stalled = [r for r in keys if now - changed[r] >= PREPARE_GONE_AFTER_S]
                    looked = now
            except EmbedkitError:
                raise
            except Exception as e:   # noqa: BLE001
                raise self.failure(e) from None
            if stalled and self.gone(stalled) != []:     # still standing (or the store is gone)
                raise self.failure(RuntimeError(f"rank {stalled[0]} stopped while preparing the {what}"))
            if time.monotonic() - t0 >= (noted + 1) * WAIT_NOTE_S:
                noted += 1
                print(f"embedkit: rank {self.rank} of {self.world} has waited {noted * WAIT_NOTE_S:.0f} s for rank "
                      f"{', '.join(map(str, keys))} to prepare the {what} (alive: heartbeats)", file=sys.stderr,
                      flush=True)
            time.sleep(POLL_S)

    def node_first(self, fn, what: str):
        """fn() on each node's local rank 0 first, then on the node's other ranks (which then find
        what it cached). Waiting ranks watch the preparing rank's heartbeat, not a timeout."""
        leader = self.rank - self.local_rank          # torchrun numbers a node's ranks consecutively
        if self.local_rank == 0:
            try:
                result = fn()
            except BaseException as e:
                self.report(f"{type(e).__name__}: {e}" if not isinstance(e, EmbedkitError) else str(e))
                raise
            with self.lock:
                self.store.set(self.key("ready", what, leader), b"1")
            return result
        self._await({leader: self.key("ready", what, leader)}, what)
        return fn()

    def all_prepared(self, what: str) -> None:
        """Return once every rank has prepared `what` (corpus, co-occurrences): the collectives
        that follow run under --sync-timeout, and one node may prepare minutes longer than
        another (a cold cache, --no-cache)."""
        with self.lock:
            self.store.set(self.key("prepared", what, self.rank), b"1")
        self._await({r: self.key("prepared", what, r) for r in range(self.world) if r != self.rank}, what)

    def close(self) -> None:
        """The end of a run. The heartbeat goes on (a next run in this process needs it: the others
        then see this rank alive while it saves or evaluates), and stops at exit. A process group
        that join() made is destroyed at exit, not now: a second distributed train() in this
        process uses it again (torch cannot make a new default group where the launcher's store
        still holds the last one's keys); one the caller made is the caller's."""
        if PROCESS.made_group and not PROCESS.destroy_at_exit:
            import atexit
            import torch.distributed as dist
            atexit.register(lambda: (stop_heartbeat(), dist.is_initialized() and dist.destroy_process_group()))
            PROCESS.destroy_at_exit = True


def launch_rank() -> int:
    """This process's rank as the launcher set it (before joining: a resumed rank picks its checkpoint file)."""
    if not launched():
        raise EmbedkitError("--distributed needs a launcher's environment (RANK, WORLD_SIZE, MASTER_ADDR, "
                            "MASTER_PORT): start it as `torchrun --nproc-per-node N -m embedkit train ... "
                            "--distributed`")
    return int(os.environ["RANK"])


def join(timeout: float = SYNC_TIMEOUT_S, backend: str = "gloo") -> Group:
    """Join the run the launcher started (its environment must be set: see `launched`)."""
    launch_rank()
    from embedkit.torch.device import import_torch
    import_torch()
    import torch.distributed as dist
    from torch.distributed import distributed_c10d

    if not dist.is_initialized():
        try:
            dist.init_process_group(backend, timeout=timedelta(seconds=timeout))
        except Exception as e:   # noqa: BLE001
            first = (str(e).strip().splitlines() or [type(e).__name__])[0][:200]
            raise EmbedkitError(f"could not join the distributed run at {os.environ['MASTER_ADDR']}:"
                                f"{os.environ['MASTER_PORT']} as rank {os.environ['RANK']}: {first}") from None
        PROCESS.made_group = True
    else:                     # a caller's group, or an earlier run's: its timeout and backend stand
        timeout = group_timeout(timeout)
        backend = str(dist.get_backend())
    PROCESS.runs += 1         # every rank calls train() as often: the n-th run's keys are the same everywhere
    group = Group(dist.get_rank(), dist.get_world_size(), int(os.environ.get("LOCAL_RANK", dist.get_rank())),
                  distributed_c10d._get_default_store(), timeout, backend, prefix=f"embedkit/{PROCESS.runs}/")
    pg = distributed_c10d._get_default_group()
    beating = PROCESS.beating
    if beating is not None and PROCESS.beating_pg is pg and beating.beat.is_alive() and not beating.stopping.is_set():
        group.lock, group.stopping, group.beat = beating.lock, beating.stopping, beating.beat     # one a process
    else:
        if beating is None:
            import atexit
            atexit.register(stop_heartbeat)    # also where the caller destroys its own group first
        else:
            stop_heartbeat()                   # its group (and store) were destroyed: beat on the new one's
        group.beat.start()
        PROCESS.beating, PROCESS.beating_pg = group, pg
    return group


def group_timeout(asked: float) -> float:
    """The seconds a collective of the existing default group may wait (`asked` where torch does
    not say): a group made before train() keeps its own timeout."""
    try:
        import torch
        from torch.distributed import distributed_c10d
        cpu = distributed_c10d._get_default_group()._get_backend(torch.device("cpu"))
        return cpu.options._timeout.total_seconds()
    except Exception:   # noqa: BLE001 - a private attribute: torch versions differ
        return asked

