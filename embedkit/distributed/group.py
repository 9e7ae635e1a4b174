"""The process group of a distributed run: joining it, preparing once per node, and naming a rank
that is gone.

A launcher (torchrun, or anything that sets RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR and
MASTER_PORT) starts one process per rank; `join` opens torch.distributed's process group on gloo
(CPU arrays) with `timeout` seconds for every collective, and starts a heartbeat: a thread that
adds 1 to the key hb/<rank> of the launcher's key-value store every HEARTBEAT_S seconds.

Faults. A rank whose process dies closes its sockets, so the others' next collective fails at
once; a rank that stops answering without dying (a frozen machine, a cut network) makes it fail
after `timeout` seconds. Either way `Group.failure` turns the collective's error into one line
naming the rank: one that reported an error (key failed/<rank>) is quoted, else the ranks whose
heartbeat stood still over GONE_AFTER_S seconds are named. A rank that is waiting for its node's
preparation (the corpus cache) watches the preparing rank's heartbeat instead of a timeout, since
preparing a large corpus may take far longer than a sync.
"""
from __future__ import annotations

import os
import threading
import time
from datetime import timedelta

from embedkit.errors import EmbedkitError

HEARTBEAT_S = 0.25        # seconds between two heartbeats of a rank
GONE_AFTER_S = 1.5        # a heartbeat that stands still this long: the rank is gone
SYNC_TIMEOUT_S = 60.0     # default seconds a collective may wait for a rank that does not answer
ENV = ("RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT")


def launched() -> bool:
    """True when the launcher's environment (torchrun's RANK, WORLD_SIZE, ...) is set."""
    return all(k in os.environ for k in ENV)


class Group:
    """This process's place in the run: rank, world size, local rank, and the store."""

    def __init__(self, rank: int, world: int, local_rank: int, store, timeout: float, backend: str):
        self.rank, self.world, self.local_rank = rank, world, local_rank
        self.store, self.timeout, self.backend = store, timeout, backend
        self.lock = threading.Lock()          # the store client is shared by the heartbeat thread
        self.stopping = threading.Event()
        self.beat = threading.Thread(target=self._heartbeat, daemon=True, name="embedkit-heartbeat")

    # ---- the store ----

    def _heartbeat(self) -> None:
        while not self.stopping.is_set():
            try:
                with self.lock:
                    self.store.add(f"embedkit/hb/{self.rank}", 1)
            except Exception:   # noqa: BLE001 - the store is gone: the collectives report it
                return
            self.stopping.wait(HEARTBEAT_S)

    def _beats(self, ranks) -> list[int]:
        with self.lock:
            return [int(self.store.add(f"embedkit/hb/{r}", 0)) for r in ranks]

    def _reported(self, r: int) -> str | None:
        key = f"embedkit/failed/{r}"
        with self.lock:
            if not self.store.check([key]):
                return None
            return self.store.get(key).decode("utf-8", "replace")

    def report(self, message: str) -> None:
        """Leave this rank's error where the other ranks look for it (best effort)."""
        try:
            with self.lock:
                self.store.set(f"embedkit/failed/{self.rank}", message.splitlines()[0][:300])
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

    def same(self, value: int) -> tuple[int, int] | None:
        """None when every rank holds the int64 `value`, else its (min, max) over the ranks: max(value)
        and -min(value) in one all-reduce."""
        import torch
        import torch.distributed as dist
        both = torch.tensor([value, -value], dtype=torch.int64)
        self.collective(lambda: dist.all_reduce(both, op=dist.ReduceOp.MAX))
        return None if int(both[0]) == -int(both[1]) else (-int(both[1]), int(both[0]))

    # ---- preparing once per node ----

    def node_first(self, fn, what: str):
        """fn() on each node's local rank 0 first, then on the node's other ranks (which then find
        what it cached). Waiting ranks watch the preparing rank's heartbeat, not a timeout."""
        leader = self.rank - self.local_rank          # torchrun numbers a node's ranks consecutively
        key = f"embedkit/ready/{what}/{leader}"
        if self.local_rank == 0:
            try:
                result = fn()
            except BaseException as e:
                self.report(f"{type(e).__name__}: {e}" if not isinstance(e, EmbedkitError) else str(e))
                raise
            with self.lock:
                self.store.set(key, b"1")
            return result
        while True:
            try:
                with self.lock:
                    if self.store.check([key]):
                        break
                    failed = self.store.check([f"embedkit/failed/{leader}"])
            except Exception as e:   # noqa: BLE001
                raise self.failure(e) from None
            if failed or self.gone([leader]) == [leader]:
                raise self.failure(RuntimeError(f"rank {leader} stopped while preparing the {what}"))
        return fn()

    def close(self) -> None:
        import torch.distributed as dist
        self.stopping.set()
        if dist.is_initialized():
            dist.destroy_process_group()


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
    group = Group(dist.get_rank(), dist.get_world_size(), int(os.environ.get("LOCAL_RANK", dist.get_rank())),
                  distributed_c10d._get_default_store(), timeout, backend)
    group.beat.start()
    return group
