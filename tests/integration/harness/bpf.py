# SPDX-License-Identifier: GPL-2.0-only
"""BPF objects as the kernel lists them: those named like ours, those a
process holds, whether a map has a key, and run-time statistics."""

import json
import os

from . import cleanup
from .system import run


def bpf_objects(prefix="ctcp_"):
    """(program ids, map ids) of BPF objects whose name starts with prefix.

    Maps used by those programs count too, whatever their name: libbpf names
    its .rodata/.bss maps after the object file, not after our prefix.
    """
    progs = json.loads(run(["bpftool", "-j", "prog", "show"]).stdout or "[]")
    maps = json.loads(run(["bpftool", "-j", "map", "show"]).stdout or "[]")
    prog_ids, map_ids = set(), set()
    for p in progs:
        if p.get("name", "").startswith(prefix):
            prog_ids.add(p["id"])
            map_ids.update(p.get("map_ids", []))
    for m in maps:
        if m.get("name", "").startswith(prefix):
            map_ids.add(m["id"])
    return prog_ids, map_ids


def held_bpf_objects(pid):
    """(program ids, map ids) process `pid` holds, read from its
    /proc/PID/fdinfo (program and link fds have a prog_id line, map fds a
    map_id line): exact even while other loaders come and go."""
    ids = {"prog_id": set(), "map_id": set()}
    fdinfo = f"/proc/{pid}/fdinfo"
    for fd in os.listdir(fdinfo):
        try:
            with open(os.path.join(fdinfo, fd)) as f:
                for line in f:
                    key, _, value = line.partition(":")
                    if key in ids:
                        ids[key].add(int(value))
        except FileNotFoundError:
            pass  # closed meanwhile
    return ids["prog_id"], ids["map_id"]


def held_bpf_maps(pid):
    """{name: id} of the BPF maps process `pid` holds."""
    held = held_bpf_objects(pid)[1]
    maps = json.loads(run(["bpftool", "-j", "map", "show"]).stdout or "[]")
    return {m.get("name", ""): m["id"] for m in maps if m["id"] in held}


def bpf_map_has_key(map_id, key):
    """Whether a map keyed by a u64 (a cgroup id) has this key."""
    hex_bytes = [f"0x{b:02x}" for b in key.to_bytes(8, "little")]
    argv = ["bpftool", "-j", "map", "lookup", "id", str(map_id), "key"] + hex_bytes
    out = run(argv, check=False)
    # A missing key prints null, with status 0 or 254 depending on the map.
    if out.stdout.strip() == "null":
        return False
    if out.returncode != 0:
        raise RuntimeError(f"{argv!r} exited {out.returncode}:\n{out.stdout}{out.stderr}")
    return True


BPF_STATS = "/proc/sys/kernel/bpf_stats_enabled"


def enable_bpf_stats():
    """Turns on kernel.bpf_stats_enabled (program run counts and times);
    the old value is put back at cleanup, or earlier by the function this
    returns."""
    with open(BPF_STATS) as f:
        before = f.read().strip()
    with open(BPF_STATS, "w") as f:
        f.write("1")

    def restore():
        with open(BPF_STATS, "w") as f:
            f.write(before)
    return cleanup.add(restore, f"restore {BPF_STATS}")
