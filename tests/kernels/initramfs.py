# SPDX-License-Identifier: GPL-2.0-only
"""The guest's initramfs: busybox-static, the exporter and the workload with
the libraries `ldd` names (and the dynamic loader), /init, /params,
and an /etc/passwd with the user --runas drops to. Nothing else: no /boot,
no kernel config file, no bpftool.
"""

import os
import re
import shutil
import subprocess
import tempfile

RUNAS_USER = "ctcp"
RUNAS_UID = 1000
LDD_PATH = re.compile(r"(?:=>\s*)?(/\S+)\s+\(0x[0-9a-f]+\)")


def libraries(binary):
    """Absolute paths of the shared objects `ldd` lists, loader included."""
    out = subprocess.run(["ldd", binary], check=True, text=True,
                         stdout=subprocess.PIPE).stdout
    return [m.group(1) for line in out.splitlines() if (m := LDD_PATH.search(line))]


def copy(src, root, dest=None):
    """src into root at dest (default: the same path), symlinks followed."""
    target = os.path.join(root, (dest or src).lstrip("/"))
    os.makedirs(os.path.dirname(target), exist_ok=True)
    shutil.copy2(os.path.realpath(src), target)


def build(out, exporter, workload, busybox, init, params, extra=()):
    """Writes the newc cpio archive `out`; params is a dict for /params,
    extra (source, path in the guest) pairs of files to add."""
    with tempfile.TemporaryDirectory() as root:
        for d in ("bin", "etc", "proc", "sys", "dev", "tmp"):
            os.makedirs(os.path.join(root, d))
        copy(busybox, root, "/bin/busybox")
        copy(init, root, "/init")
        copy(exporter, root, "/cgroup_tcp_exporter")
        copy(workload, root, "/workload")
        for lib in set(libraries(exporter) + libraries(workload)):
            copy(lib, root)
        for src, dest in extra:
            copy(src, root, dest)
        with open(os.path.join(root, "etc", "passwd"), "w") as f:
            f.write(f"root:x:0:0:root:/:/bin/sh\n"
                    f"{RUNAS_USER}:x:{RUNAS_UID}:{RUNAS_UID}::/:/bin/false\n")
        with open(os.path.join(root, "etc", "group"), "w") as f:
            f.write(f"root:x:0:\n{RUNAS_USER}:x:{RUNAS_UID}:\n")
        with open(os.path.join(root, "params"), "w") as f:
            f.writelines(f"{key}={value}\n" for key, value in params.items())
        names = subprocess.run(["find", ".", "-mindepth", "1"], cwd=root, check=True,
                               stdout=subprocess.PIPE).stdout
        with open(out, "wb") as f:
            subprocess.run(["cpio", "--quiet", "-o", "-H", "newc", "-R", "0:0"], cwd=root,
                           input=names, stdout=f, check=True)
