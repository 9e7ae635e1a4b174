"""Training across processes and machines on torch.distributed (README: Training on several machines).

    torchrun --nproc-per-node N -m embedkit train --model MODEL ... --distributed

A layer above the backends: each rank runs the ordinary trainer and its numba worker threads on its
own shard (run.py), and the ranks meet only in torch.distributed collectives on gloo, at the
runner's chunk ends (sync.py: the summed deltas since the last sync are all-reduced). group.py
joins the launcher's process group, prepares the corpus once per node and names a rank that is
gone. Nothing below the runner knows how many ranks there are. torch is imported only here.
"""
