# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the lab tests share: running a command with a readable failure, and a one-lab-per-test environment.

Each lab test that brings up a lab of its own names it by a prefix (its netns are ``<prefix>-*``, its state is under
``/run/kubeshift-lab/<prefix>``) and an API port, so tests never meet each other's labs or the main one.
"""
from __future__ import annotations

import os
import subprocess


def run(*argv, check=True, timeout=300, **kwargs) -> subprocess.CompletedProcess:
    """Run argv (paths allowed), capture text output; on failure (check) raise with the command and its tails."""
    proc = subprocess.run([str(a) for a in argv], capture_output=True, text=True, timeout=timeout, check=False,
                          **kwargs)
    if check and proc.returncode != 0:
        raise AssertionError(f"{' '.join(map(str, argv))} exited {proc.returncode}\n"
                             f"stdout:\n{proc.stdout[-4000:]}\nstderr:\n{proc.stderr[-4000:]}")
    return proc


def lab_env(prefix: str, api_port: str, nodes: str, **extra: str) -> dict:
    """The environment lab.sh reads for a lab named ``prefix`` (extra: other LAB_* settings)."""
    env = dict(os.environ)
    env.update(LAB_PREFIX=prefix, LAB_DIR=f"/run/kubeshift-lab/{prefix}", LAB_API_PORT=api_port, LAB_NODES=nodes,
               **extra)
    return env


def lab_netns(prefix: str) -> list:
    """The network namespaces of the lab named ``prefix`` that exist now."""
    out = run("ip", "netns", "list").stdout
    return [ln.split()[0] for ln in out.splitlines() if ln.startswith(f"{prefix}-")]
