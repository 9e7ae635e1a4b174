"""The process group's own parts (embedkit/distributed/group.py): the waits while ranks prepare,
which watch heartbeats instead of a timeout, and runs that share one process group (two train()
calls under one torchrun, or a group the caller made)."""
import os
import re
import socket
import subprocess
import sys
import threading
import time
from datetime import timedelta

import pytest

from embedkit.errors import EmbedkitError

pytest.importorskip("torch")

from test_distributed import corpus_file, finish  # noqa: E402,F401


def store_pair():
    """Two clients of one TCPStore on loopback, as two ranks' (rank 0's process hosts it)."""
    from torch.distributed import TCPStore
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    host = TCPStore("127.0.0.1", port, 2, True, timedelta(seconds=30), wait_for_workers=False)
    return host, TCPStore("127.0.0.1", port, 2, False, timedelta(seconds=30))


def groups():
    from embedkit.distributed.group import Group
    a, b = store_pair()
    ranks = [Group(0, 2, 0, a, 0.2, "gloo"), Group(1, 2, 0, b, 0.2, "gloo")]
    for g in ranks:
        g.beat.start()
    return ranks


def test_a_rank_preparing_longer_than_the_sync_timeout_is_waited_for():
    """Rank 1 prepares for 3 s, 15 times the 0.2 s sync timeout (a node with a cold cache): rank 0
    waits (before, the collective after preparing failed with 'Timed out waiting 500ms')."""
    r0, r1 = groups()
    late = threading.Thread(target=lambda: (time.sleep(3.0), r1.all_prepared("corpus")))
    late.start()
    t0 = time.monotonic()
    r0.all_prepared("corpus")
    waited = time.monotonic() - t0
    late.join()
    assert 2.5 < waited < 10, waited
    for g in (r0, r1):
        g.stopping.set()


def test_a_rank_that_dies_while_preparing_is_named():
    """Rank 1's heartbeat stops while it prepares (its process died): rank 0 stops within a few
    GONE_AFTER_S with one line naming it; a rank that reports its error is quoted at once."""
    from embedkit.distributed.group import BEAT_LOOK_S, GONE_AFTER_S, PREPARE_GONE_AFTER_S
    r0, r1 = groups()
    time.sleep(0.5)
    r1.stopping.set()                                     # its heartbeat stops: as if it died
    t0 = time.monotonic()
    with pytest.raises(EmbedkitError, match=r"rank 1 of 2 is gone .*; rank 0 of 2 stops"):
        r0.all_prepared("corpus")
    assert time.monotonic() - t0 < PREPARE_GONE_AFTER_S + BEAT_LOOK_S + 2 * GONE_AFTER_S + 3
    r0.stopping.set()
    r0, r1 = groups()
    r1.report("no such file: /data/text8")
    with pytest.raises(EmbedkitError, match="rank 1 of 2 failed: no such file: /data/text8; rank 0 of 2 stops"):
        r0.all_prepared("corpus")
    for g in (r0, r1):
        g.stopping.set()


TWO_RUNS = '''
import os, sys, time, torch, torch.distributed as dist, embedkit
from datetime import timedelta
corpus, out, own = sys.argv[1], sys.argv[2], sys.argv[3] == "own"
if own:
    dist.init_process_group("gloo", timeout=timedelta(seconds=77))     # the caller's timeout stands
for i, model in enumerate(["cbow", "skipgram"]):
    emb = embedkit.train(model, corpus, output=f"{out}/{model}", distributed=True, workers=1, dim=16, epochs=1,
                         tokenizer="whitespace", min_count=5, sync_timeout=12)
    d = emb.training_log["distributed"]
    print(f"rank {os.environ['RANK']} {model} {d['syncs']} timeout {d['sync_timeout']:g}", flush=True)
    if i == 0 and os.environ["RANK"] == "0":
        time.sleep(15)    # evaluating the first model, longer than the sync timeout: rank 1 waits, by heartbeat
t = torch.ones(1)
dist.all_reduce(t)                   # the group is still there: the caller's own, or for a next run
print(f"rank {os.environ['RANK']} sum {int(t)}", flush=True)    # one write: the ranks share stdout
if own:    # the caller's group is the caller's to destroy: left at exit, torch may abort ('terminate
    dist.destroy_process_group()    # called without an active exception'), as for a bare init/all_reduce/exit
'''


def test_a_heartbeat_paused_while_preparing_is_not_a_gone_rank():
    """Rank 1's heartbeat stands still for 4 s while it prepares (one long C call holding the GIL):
    rank 0 waits on (with a 1.5 s window it named rank 1 gone)."""
    r0, r1 = groups()

    def late():
        r1.stopping.set()
        time.sleep(4.0)
        r1.stopping.clear()
        r1.beat = threading.Thread(target=r1._heartbeat, daemon=True)
        r1.beat.start()
        r1.all_prepared("corpus")
    thread = threading.Thread(target=late)
    thread.start()
    r0.all_prepared("corpus")
    thread.join()
    for g in (r0, r1):
        g.stopping.set()


@pytest.mark.parametrize("own", ["own", "embedkit's"])
def test_runs_share_a_process_group(corpus_file, tmp_path, own):
    """Two distributed train() calls in one torchrun, then a collective of the caller's. The second
    call could not join ('Gloo connectFullMesh failed ... Connection refused': the first had
    destroyed the group, and a new one found the old one's keys), and a group the caller made was
    destroyed under it ('Default process group has not been initialized'). Rank 0 starts the
    second run 15 s late, more than --sync-timeout: rank 1 named it gone ('rank 0 of 2 is gone')
    while the heartbeat was a run's, not the process's."""
    script = tmp_path / "two_runs.py"
    script.write_text(TWO_RUNS)
    env = {**os.environ, "OMP_NUM_THREADS": "1", "LOGLEVEL": "ERROR"}
    proc = subprocess.Popen([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2",
                             str(script), str(corpus_file), str(tmp_path), own], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env, start_new_session=True)
    rc, out, err = finish(proc)
    assert rc == 0, err[-3000:]
    for r in (0, 1):
        timeout = 77 if own == "own" else 12
        for model in ("cbow", "skipgram"):
            assert re.search(rf"rank {r} {model} \d+ timeout {timeout}\n", out), out
        assert f"rank {r} sum 2" in out, out
    assert (tmp_path / "cbow" / "vectors.txt").exists() and (tmp_path / "skipgram" / "vectors.txt").exists()


RETRY = '''
import os, sys, time, embedkit
corpus, out = sys.argv[1], sys.argv[2]
rank = int(os.environ["RANK"])
try:                                  # the ranks disagree: both fail at once
    embedkit.train("cbow", corpus, output=out, distributed=True, workers=1, epochs=1, tokenizer="whitespace",
                   dim=16 + rank)
except embedkit.EmbedkitError as e:
    print(f"rank {rank} caught: {str(e)[:40]}", flush=True)
if rank == 0:
    time.sleep(13)                    # longer than a dead rank's 10 + 1.5 s: its heartbeat must go on
emb = embedkit.train("cbow", corpus, output=out, distributed=True, workers=1, epochs=1, tokenizer="whitespace", dim=16)
print(f"rank {rank} trained {len(emb)}", flush=True)
'''


def test_a_caught_failure_keeps_the_heartbeat_for_the_next_call(corpus_file, tmp_path):
    """A caller that catches train()'s error and calls it again 13 s later: the failed run stopped
    the process's heartbeat, so the other rank, already waiting in the next call, named it gone."""
    script = tmp_path / "retry.py"
    script.write_text(RETRY)
    env = {**os.environ, "OMP_NUM_THREADS": "1", "LOGLEVEL": "ERROR"}
    proc = subprocess.Popen([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2",
                             str(script), str(corpus_file), str(tmp_path / "out")], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env, start_new_session=True)
    rc, out, err = finish(proc)
    assert rc == 0, err[-3000:]
    for r in (0, 1):
        assert f"rank {r} caught: the ranks were started with different op" in out, out
        assert re.search(rf"rank {r} trained \d+", out), out
