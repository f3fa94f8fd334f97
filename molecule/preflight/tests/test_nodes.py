# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""testinfra checks run inside each namespace node of the preflight scenario (pytest --hosts=local://)."""

from __future__ import annotations

import socket

import pytest

NODE = socket.gethostname()
UNIT = "/etc/systemd/system/sys-fs-bpf.mount"
WANTS = "/etc/systemd/system/multi-user.target.wants/sys-fs-bpf.mount"
MODULES_LOAD = "/etc/modules-load.d/cilium.conf"


def test_runs_inside_a_scenario_node(host):
    assert NODE in ("good", "badkernel", "nobpffs"), "not a preflight test node: %s" % NODE
    assert "127.0.1.1 %s" % NODE in host.file("/etc/hosts").content_string


def test_bpffs_is_mounted(host):
    mount = host.mount_point("/sys/fs/bpf")
    assert mount.exists
    assert mount.filesystem == "bpf"
    assert "nosuid" in mount.options and "noexec" in mount.options


def test_bpffs_persistence(host):
    fstab = host.file("/etc/fstab")
    if NODE == "good":
        # Persisted by fstab in prepare: fix mode must not add a unit on top.
        entries = [line.split() for line in fstab.content_string.splitlines()]
        assert any(fields[:3] == ["bpffs", "/sys/fs/bpf", "bpf"] for fields in entries), fstab.content_string
        assert not host.file(UNIT).exists
        return
    unit = host.file(UNIT)
    assert unit.is_file and unit.mode == 0o644
    content = unit.content_string
    for line in ("DefaultDependencies=no", "Before=local-fs.target umount.target", "After=swap.target",
                 "What=bpffs", "Where=/sys/fs/bpf", "Type=bpf",
                 "Options=rw,nosuid,nodev,noexec,relatime,mode=700", "WantedBy=multi-user.target"):
        assert line in content.splitlines(), "%s lacks %r" % (UNIT, line)
    link = host.file(WANTS)
    assert link.is_symlink and link.linked_to == UNIT


def test_modules_persisted_only_where_loadable(host):
    conf = host.file(MODULES_LOAD)
    if NODE == "nobpffs":
        lines = [line for line in conf.content_string.splitlines() if line and not line.startswith("#")]
        assert lines == ["vxlan", "xt_socket"]
    else:
        assert not conf.exists


@pytest.mark.parametrize("option", ["CONFIG_BPF_SYSCALL", "CONFIG_BPF_JIT", "CONFIG_CGROUP_BPF"])
def test_kernel_config_fixture(host, option):
    config = host.run("zcat /proc/config.gz").stdout.splitlines()
    if NODE == "badkernel":
        assert "# %s is not set" % option in config
    else:
        assert "%s=y" % option in config
