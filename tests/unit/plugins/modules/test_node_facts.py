# -*- coding: utf-8 -*-
# Copyright (c) kubeshift maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Run kubeshift.cilium.node_facts main() in-process against captured node files and mocked commands."""

from __future__ import annotations

import os
import shutil

import pytest

from ansible.module_utils import basic
from ansible_collections.kubeshift.cilium.plugins.modules import node_facts
from ansible_collections.kubeshift.cilium.tests.unit.plugins.modules.module_harness import run_main

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "module_utils", "fixtures")
MODULES_DIR = os.path.join(FIXTURES, "node_modules_debian12_6.1.0-56-cloud-amd64")


def fixture(name):
    return os.path.abspath(os.path.join(FIXTURES, name))


class FakeUname:
    def __init__(self, release, machine="x86_64", nodename="n1"):
        self.release = release
        self.machine = machine
        self.nodename = nodename


class Node:
    """A fake node: a /proc tree, /boot, /lib/modules, /etc files and a command table, all under tmp_path."""

    def __init__(self, tmp_path, monkeypatch):
        self.root = tmp_path
        self.monkeypatch = monkeypatch
        self.commands = {}
        self.binaries = {}
        self.calls = []
        self.release = "6.1.0-56-cloud-amd64"
        proc = tmp_path / "proc"
        (proc / "self").mkdir(parents=True)
        (proc / "net").mkdir()
        for name in ("boot", "lib/modules", "etc/ufw", "etc/systemd/system", "run"):
            (tmp_path / name).mkdir(parents=True)
        shutil.copy(fixture("node_proc_status_root_no_sys_resource.txt"), proc / "self" / "status")
        shutil.copy(fixture("node_mountinfo_host_hybrid.txt"), proc / "self" / "mountinfo")
        (tmp_path / "etc" / "fstab").write_text("# UNCONFIGURED FSTAB FOR BASE SYSTEM\n")
        shutil.copy(fixture("node_os_release_debian12.txt"), tmp_path / "etc" / "os-release")
        for attr, value in {
            "PROC": str(proc),
            "PROC_CONFIG_GZ": str(proc / "config.gz"),
            "BOOT_DIR": str(tmp_path / "boot"),
            "LIB_MODULES": str(tmp_path / "lib" / "modules"),
            "BTF_VMLINUX": str(tmp_path / "btf-vmlinux"),
            "OS_RELEASE_PATHS": [str(tmp_path / "etc" / "os-release")],
            "UFW_CONF": str(tmp_path / "etc" / "ufw" / "ufw.conf"),
            "FIREWALLD_RUN": [str(tmp_path / "run" / "firewalld")],
        }.items():
            monkeypatch.setattr(node_facts, attr, value)
        self.uname(self.release)
        monkeypatch.setattr(basic.AnsibleModule, "run_command", self._run_command)
        monkeypatch.setattr(basic.AnsibleModule, "get_bin_path", self._get_bin_path)

    @property
    def defaults(self):
        return {"fstab_path": str(self.root / "etc" / "fstab"),
                "systemd_unit_dirs": [str(self.root / "etc" / "systemd" / "system")]}

    def uname(self, release, machine="x86_64"):
        self.monkeypatch.setattr(node_facts, "_uname", lambda: FakeUname(release, machine))

    def file(self, relative, source=None, content=None):
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if source:
            shutil.copy(fixture(source), path)
        else:
            path.write_text(content)
        return str(path)

    def process(self, pid, comm, sockets=()):
        base = self.root / "proc" / str(pid)
        (base / "fd").mkdir(parents=True)
        (base / "comm").write_text(comm + "\n")
        for number, inode in enumerate(sockets, 3):
            os.symlink("socket:[%d]" % inode, str(base / "fd" / str(number)))
        os.symlink("/dev/null", str(base / "fd" / "0"))

    def binary(self, name, output="", rc=0, err="", path=None):
        self.binaries[name] = path or "/usr/sbin/" + name
        self.commands[self.binaries[name]] = (rc, output, err)

    def _get_bin_path(self, name, required=False, opt_dirs=None):
        return self.binaries.get(name)

    def _run_command(self, args, **kwargs):
        self.calls.append(list(args))
        assert kwargs.get("environ_update", {}).get("LC_ALL") == "C"
        return self.commands.get(args[0], (127, "", "not mocked"))

    def run(self, **args):
        params = dict(self.defaults)
        params.update(args)
        failed, out = run_main(node_facts.main, params)
        assert not failed, out
        assert out["changed"] is False
        return out["node_facts"]

    def fail(self, **args):
        params = dict(self.defaults)
        params.update(args)
        failed, out = run_main(node_facts.main, params)
        assert failed, out
        return out["msg"]


@pytest.fixture
def node(tmp_path, monkeypatch):
    return Node(tmp_path, monkeypatch)


def text(name):
    with open(fixture(name), encoding="utf-8") as handle:
        return handle.read()


# ------------------------------------------------------------------------------------------------- this very machine

def test_machine_without_config_modules(node):
    """Firecracker 6.18: /proc/config.gz, no CONFIG_MODULES, no /proc/modules, no /lib/modules, no bpffs."""
    node.uname("6.18.44-fc-v669")
    node.file("proc/config.gz", "node_kconfig_firecracker_6.18.44_nomodules.gz")
    facts = node.run()
    assert facts["schema"] == 1
    assert facts["hostname"] == "n1"
    assert (facts["architecture"], facts["architecture_source"]) == ("x86_64", "uname")
    assert facts["kernel"] == {"release": "6.18.44-fc-v669", "release_source": "uname", "version": [6, 18, 44]}
    config = facts["kernel_config"]
    assert (config["status"], config["source"], config["reason"]) == ("ok", node_facts.PROC_CONFIG_GZ, None)
    assert config["header_release"] == "6.18.44"
    assert config["options"]["CONFIG_SCHEDSTATS"] == "n"
    assert config["options"]["CONFIG_CRYPTO_USER_API_HASH"] == "n"
    assert facts["modules"]["config_modules"] is False
    assert facts["modules"]["proc_modules"] is False
    state = facts["modules"]["state"]
    assert state["vxlan"] == "builtin" and state["ip_tables"] == "builtin"
    assert state["geneve"] == "missing" and state["wireguard"] == "missing"
    assert set(state) == set(node_facts.kconfig.DEFAULT_MODULES)
    assert facts["bpffs"] == {"mounted": False, "mountpoints": [], "persisted": False, "persisted_by": []}
    assert facts["cgroup2"]["mode"] == "hybrid"
    assert facts["btf"] == {"vmlinux": False}
    assert facts["distro"]["id"] == "debian" and facts["distro"]["version_id"] == "12"
    assert facts["privileges"]["missing"] == ["CAP_SYS_RESOURCE"]
    assert "missing capabilities Cilium's agent needs: CAP_SYS_RESOURCE" in facts["warnings"]
    # no binaries on this fake node: nothing present, no command run, no error
    assert facts["iptables"] == {"legacy": {"present": False, "rules": False},
                                 "nft": {"present": False, "rules": False}, "default": None, "mixed": False}
    assert node.calls == []
    assert facts["ports"] == [] and facts["firewall"] == {"active": False, "findings": []}


def test_check_mode_returns_same_facts(node):
    node.uname("6.18.44-fc-v669")
    node.file("proc/config.gz", "node_kconfig_firecracker_6.18.44_nomodules.gz")
    assert node.run(_ansible_check_mode=True) == node.run()


# ------------------------------------------------------------------------------------------------- live kernel config

def test_unknown_when_no_config(node):
    facts = node.run()
    config = facts["kernel_config"]
    assert config["status"] == "unknown"
    assert config["source"] is None and config["options"] == {}
    assert node_facts.PROC_CONFIG_GZ + " does not exist" in config["reason"]
    assert "config-6.1.0-56-cloud-amd64 does not exist" in config["reason"]
    assert facts["modules"]["config_modules"] is None
    assert any(w.startswith("kernel config unknown:") for w in facts["warnings"])


def test_corrupt_proc_config_falls_back_to_boot(node):
    node.file("proc/config.gz", "node_kconfig_truncated.gz")
    boot = node.file("boot/config-6.1.0-56-cloud-amd64", "node_kconfig_debian12_6.1.192_amd64_cloud.gz")
    config = node.run()["kernel_config"]
    assert (config["status"], config["source"]) == ("ok", boot)
    assert config["options"]["CONFIG_VXLAN"] == "m"


def test_corrupt_everything_is_unknown_with_reason(node):
    node.file("proc/config.gz", "node_kconfig_truncated.gz")
    node.file("boot/config-6.1.0-56-cloud-amd64", content="just text\n")
    config = node.run()["kernel_config"]
    assert config["status"] == "unknown"
    assert "corrupt gzip data" in config["reason"]
    assert "not a kernel config" in config["reason"]


def test_live_modular_host(node):
    """Debian 12 cloud kernel with /lib/modules and /proc/modules: builtin, loaded, loadable and missing."""
    node.file("boot/config-6.1.0-56-cloud-amd64", "node_kconfig_debian12_6.1.192_amd64_cloud.gz")
    for name in ("modules.builtin", "modules.dep", "modules.alias"):
        node.file("lib/modules/6.1.0-56-cloud-amd64/" + name, os.path.join(MODULES_DIR, name))
    node.file("proc/modules", "node_proc_modules_debian12.txt")
    facts = node.run(modules=["vxlan", "geneve", "unix", "sch-fq", "nosuch", "rtnl-link-wireguard"])
    assert facts["modules"] == {"config_modules": True, "proc_modules": True, "state": {
        "vxlan": "loaded", "geneve": "loadable", "unix": "builtin", "sch-fq": "loadable", "nosuch": "missing",
        "rtnl-link-wireguard": "loadable"}}
    # the Debian header (6.1.192) and the ABI release (6.1.0-56) agree on the line: no warning
    assert not [w for w in facts["warnings"] if "was built for" in w]


def test_live_modular_host_without_lib_modules(node):
    node.file("boot/config-6.1.0-56-cloud-amd64", "node_kconfig_debian12_6.1.192_amd64_cloud.gz")
    facts = node.run(modules=["vxlan", "bpf"])
    assert facts["modules"]["state"] == {"vxlan": "missing", "bpf": "missing"}
    assert any("no module can be loaded" in w for w in facts["warnings"])


# ------------------------------------------------------------------------------------------------- offline audits

@pytest.mark.parametrize("config, arch, release, source", [
    ("node_kconfig_debian12_6.1.192_amd64_cloud.gz", "x86_64", "6.1.192", "config_header"),
    ("node_kconfig_debian12_6.1.192_arm64.gz", "aarch64", "6.1.192", "config_header"),
    ("node_kconfig_ubuntu2204_5.15.0-91-generic.config", "x86_64", "5.15.0-91-generic", "config_version_signature"),
    ("node_kconfig_comment_5.4.0.config", "x86_64", "5.4.0", "config_comment"),
])
def test_offline_config_audit(node, config, arch, release, source):
    node.uname("6.18.44-fc-v669", machine="riscv64")
    facts = node.run(kernel_config_path=fixture(config), modules=["vxlan"])
    assert (facts["architecture"], facts["architecture_source"]) == (arch, "kernel_config")
    assert facts["kernel"]["release"] == release
    assert facts["kernel"]["release_source"] == source
    assert facts["kernel_config"]["source"] == fixture(config)
    assert facts["kernel_config"]["header_release"] == release
    assert facts["btf"] == {"vmlinux": None}
    # module states come from the config, not from the live host's /proc/modules
    assert facts["modules"]["proc_modules"] is False
    assert facts["modules"]["state"] == {"vxlan": "loadable"}
    # the auditing host's os-release does not describe the audited kernel
    assert facts["distro"]["source"] is None


def test_offline_rhel8_backport_facts(node):
    facts = node.run(kernel_config_path=fixture("node_kconfig_rhel8_4.18.0-553.el8_10.x86_64.config"))
    assert facts["kernel"] == {"release": "4.18.0-553.el8_10.x86_64", "release_source": "config_header",
                               "version": [4, 18, 0]}
    assert (facts["distro"]["id"], facts["distro"]["version_id"], facts["distro"]["source"]) == \
        ("rhel", "8.10", "kernel_release")
    assert facts["modules"]["state"]["wireguard"] == "loadable"
    assert facts["kernel_config"]["options"]["CONFIG_CRYPTO_USER_API_HASH"] == "y"
    assert any("module states derived from the kernel config" in w for w in facts["warnings"])


def test_offline_with_os_release_and_modules(node):
    facts = node.run(kernel_config_path=fixture("node_kconfig_debian12_6.1.192_amd64_cloud.gz"),
                     kernel_release="6.1.0-56-cloud-amd64", os_release_path=fixture("node_os_release_debian12.txt"),
                     modules_path=MODULES_DIR, proc_modules_path=fixture("node_proc_modules_debian12.txt"),
                     modules=["vxlan", "geneve", "unix"])
    assert facts["kernel"]["release_source"] == "option"
    assert facts["distro"]["source"] == fixture("node_os_release_debian12.txt")
    assert facts["modules"]["state"] == {"vxlan": "loaded", "geneve": "loadable", "unix": "builtin"}
    assert not [w for w in facts["warnings"] if "was built for" in w]


def test_header_disagrees_with_given_release(node):
    facts = node.run(kernel_config_path=fixture("node_kconfig_ubuntu2204_5.15.0-91-generic.config"),
                     kernel_release="6.1.0-28-amd64")
    assert facts["kernel"]["release"] == "6.1.0-28-amd64"
    assert facts["kernel"]["version"] == [6, 1, 0]
    assert facts["kernel_config"]["header_release"] == "5.15.0-91-generic"
    assert any("was built for 5.15.0-91-generic but the kernel release is 6.1.0-28-amd64" in w
               for w in facts["warnings"])


def test_offline_config_without_release(node):
    path = node.file("captured/config", content="CONFIG_BPF=y\nCONFIG_X86_64=y\n")
    facts = node.run(kernel_config_path=path)
    assert facts["kernel"] == {"release": None, "release_source": None, "version": []}
    assert any("kernel release unknown" in w and path in w for w in facts["warnings"])


@pytest.mark.parametrize("args, message", [
    ({"kernel_config_path": "/nonexistent/config"}, "kernel_config_path: /nonexistent/config does not exist"),
    ({"kernel_config_path": fixture("node_kconfig_truncated.gz")},
     "kernel_config_path: %s: corrupt gzip data" % fixture("node_kconfig_truncated.gz")),
    ({"kernel_config_path": fixture("node_os_release_debian12.txt")},
     "kernel_config_path: %s: not a kernel config" % fixture("node_os_release_debian12.txt")),
    ({"kernel_config_path": FIXTURES}, "is a directory"),
    ({"mountinfo_path": "/nonexistent/mi"}, "mountinfo_path: /nonexistent/mi does not exist"),
    ({"mountinfo_path": fixture("node_os_release_debian12.txt")}, "not a mountinfo line"),
    ({"modules_path": "/nonexistent/mods"}, "modules_path: /nonexistent/mods is not a directory"),
    ({"os_release_path": "/nonexistent/os"}, "os_release_path: /nonexistent/os does not exist"),
    ({"ports": [{"port": 70000}]}, "ports: 70000 is not a valid port number"),
])
def test_bad_explicit_input_fails_clearly(node, args, message):
    assert message in node.fail(**args)


# ------------------------------------------------------------------------------------------------- mounts

def test_bpffs_mounted_and_persisted(node):
    node.file("etc/systemd/system/sys-fs-bpf.mount", "node_systemd_enabled/sys-fs-bpf.mount")
    os.makedirs(str(node.root / "etc/systemd/system/multi-user.target.wants"))
    os.symlink("../sys-fs-bpf.mount", str(node.root / "etc/systemd/system/multi-user.target.wants/sys-fs-bpf.mount"))
    facts = node.run(mountinfo_path=fixture("node_mountinfo_debian12_unified.txt"),
                     fstab_path=fixture("node_fstab_bpffs.txt"))
    assert facts["bpffs"] == {"mounted": True, "mountpoints": ["/sys/fs/bpf", "/run/cilium/bpffs copy"],
                              "persisted": True, "persisted_by": ["fstab", "systemd:sys-fs-bpf.mount"]}
    assert facts["cgroup2"] == {"mounted": True, "mountpoint": "/sys/fs/cgroup", "mode": "unified"}


def test_bpffs_units_disabled_or_misnamed(node):
    facts = node.run(mountinfo_path=fixture("node_mountinfo_netns_bpffs.txt"),
                     fstab_path=fixture("node_fstab_bpffs_noauto.txt"),
                     systemd_unit_dirs=[fixture("node_systemd_disabled"), fixture("node_systemd_misnamed")])
    assert facts["bpffs"]["mounted"] is True
    assert facts["bpffs"]["persisted"] is False and facts["bpffs"]["persisted_by"] == []
    assert any("sys-fs-bpf.mount mounts bpffs but is not enabled" in w for w in facts["warnings"])
    assert any("bpffs.mount mounts bpffs at /sys/fs/bpf but systemd requires the name sys-fs-bpf.mount" in w
               for w in facts["warnings"])


def test_enabled_unit_fixture_dir(node):
    facts = node.run(systemd_unit_dirs=[fixture("node_systemd_enabled")])
    assert facts["bpffs"]["persisted_by"] == ["systemd:sys-fs-bpf.mount"]


# ------------------------------------------------------------------------------------------------- netfilter, firewall

def test_iptables_mixed_backends_and_firewall(node):
    node.binary("iptables", path=str(node.root / "xtables-nft-multi"))
    node.binary("iptables-legacy-save", text("node_iptables_legacy_save_rules.txt"))
    node.binary("ip6tables-legacy-save", text("node_iptables_legacy_save_empty.txt"))
    node.binary("iptables-nft-save", text("node_iptables_nft_save_rules_mixed.txt"))
    node.binary("ip6tables-nft-save", text("node_iptables_nft_save_builtin_only.txt"))
    node.binary("nft", text("node_nft_ruleset_input_drop.txt"))
    node.file("etc/ufw/ufw.conf", "node_ufw_conf_enabled.txt")
    node.file("run/firewalld/.keep", content="")
    node.file("proc/net/ip_tables_names", content="filter\nnat\n")
    node.file("proc/net/ip6_tables_names", content="")
    node.process(812, "firewalld")
    facts = node.run()
    assert facts["iptables"] == {"legacy": {"present": True, "rules": True}, "nft": {"present": True, "rules": True},
                                 "default": "nft", "mixed": True}
    assert facts["firewall"]["active"] is True
    assert facts["firewall"]["findings"] == [
        "firewalld is running (pid 812)",
        "ufw is enabled (%s ENABLED=yes)" % node_facts.UFW_CONF,
        "nftables chain inet filter input has policy drop",
        "iptables-nft filter INPUT policy is DROP",
    ]
    assert "both iptables backends (legacy and nft) hold rules" in facts["warnings"]
    assert "host firewall: firewalld is running (pid 812)" in facts["warnings"]
    # One legacy save (the kernel lists no legacy ip6 table) and one nft ruleset read, which also tells the
    # iptables-nft backend's state: the *-nft-save commands are not run.
    assert sorted(call[0] for call in node.calls) == sorted([node.binaries["iptables-legacy-save"], node.binaries["nft"]])


def test_iptables_nft_save_used_without_nft_binary(node):
    node.binary("iptables", path=str(node.root / "xtables-nft-multi"))
    node.binary("iptables-nft-save", text("node_iptables_nft_save_rules_mixed.txt"))
    node.binary("ip6tables-nft-save", text("node_iptables_nft_save_builtin_only.txt"))
    facts = node.run()
    assert facts["iptables"]["nft"] == {"present": True, "rules": True}
    assert facts["firewall"]["findings"] == ["iptables-nft filter INPUT policy is DROP"]
    assert len(node.calls) == 2


def test_firewalld_process_not_scanned_without_run_files(node):
    node.process(812, "firewalld")
    facts = node.run()
    assert facts["firewall"] == {"active": False, "findings": []}


def test_iptables_clean_node(node):
    iptables = str(node.root / "sbin" / "iptables")  # not a symlink: the backend comes from `iptables -V`
    node.binary("iptables", "iptables v1.8.9 (legacy)\n", path=iptables)
    node.binary("iptables-legacy-save", text("node_iptables_legacy_save_builtin_only.txt"))
    node.binary("iptables-nft-save", "")
    node.file("etc/ufw/ufw.conf", "node_ufw_conf_disabled.txt")
    facts = node.run()
    assert facts["iptables"] == {"legacy": {"present": True, "rules": False},
                                 "nft": {"present": True, "rules": False}, "default": "legacy", "mixed": False}
    assert facts["firewall"] == {"active": False, "findings": []}
    assert [iptables, "-V"] in node.calls


def test_old_iptables_save_without_suffix(node):
    """Older hosts: only iptables-save (legacy); it counts as the legacy backend."""
    node.binary("iptables", "iptables v1.6.1\n", path=str(node.root / "sbin" / "iptables"))
    node.binary("iptables-save", text("node_iptables_legacy_save_rules.txt"))
    node.file("proc/net/ip_tables_names", content="filter\n")
    facts = node.run()
    assert facts["iptables"]["legacy"] == {"present": True, "rules": True}
    assert facts["iptables"]["nft"] == {"present": False, "rules": False}


def test_failing_command_is_a_warning(node):
    node.binary("iptables-nft-save", "", rc=1, err="iptables-nft-save: Permission denied (you must be root)")
    facts = node.run()
    assert facts["iptables"]["nft"] == {"present": True, "rules": False}
    assert any("iptables-nft-save failed (rc=1): iptables-nft-save: Permission denied" in w
               for w in facts["warnings"])


# ------------------------------------------------------------------------------------------------- ports

def test_ports_taken(node):
    for name in ("tcp", "tcp6", "udp", "udp6"):
        node.file("proc/net/" + name, "node_proc_net_%s.txt" % name)
    node.process(24747, "python3", [44755, 44756, 44757, 44758, 44759])
    node.process(1, "init")
    facts = node.run()
    assert facts["ports"] == [
        {"port": 4240, "protocol": "tcp", "purpose": "health", "owner": "python3[24747]"},
        {"port": 8472, "protocol": "udp", "purpose": "vxlan", "owner": "kernel"},
        {"port": 6081, "protocol": "udp", "purpose": "geneve", "owner": "python3[24747]"},
        {"port": 51871, "protocol": "udp", "purpose": "wireguard", "owner": "python3[24747]"},
        {"port": 9962, "protocol": "tcp", "purpose": "metrics", "owner": "python3[24747]"},
    ]
    assert "port 8472/udp (vxlan) is taken by kernel" in facts["warnings"]


def test_ports_custom_list_and_none(node):
    for name in ("tcp", "udp"):
        node.file("proc/net/" + name, "node_proc_net_%s.txt" % name)
    node.process(1, "init")
    facts = node.run(ports=[{"port": 8473, "protocol": "udp", "purpose": "vxlan"},
                            {"port": 4240, "purpose": "health"}])
    assert facts["ports"] == [{"port": 4240, "protocol": "tcp", "purpose": "health", "owner": "kernel"}]
    assert node.run(ports=[])["ports"] == []


def test_live_with_explicit_release_reads_boot_not_proc(node):
    """kernel_release names another kernel than the running one: /proc/config.gz does not describe it."""
    node.uname("6.18.44-fc-v669")
    node.file("proc/config.gz", "node_kconfig_firecracker_6.18.44_nomodules.gz")
    boot = node.file("boot/config-5.15.0-91-generic", "node_kconfig_ubuntu2204_5.15.0-91-generic.config")
    facts = node.run(kernel_release="5.15.0-91-generic")
    assert facts["kernel"] == {"release": "5.15.0-91-generic", "release_source": "option", "version": [5, 15, 0]}
    assert facts["kernel_config"]["source"] == boot
    assert facts["architecture_source"] == "uname"
    assert not [w for w in facts["warnings"] if "was built for" in w]


def test_live_proc_config_of_another_kernel_warns(node):
    """A /proc/config.gz whose header names another line than uname -r (e.g. a bind-mounted fixture)."""
    node.uname("6.18.44-fc-v669")
    node.file("proc/config.gz", "node_kconfig_debian12_6.1.192_amd64_cloud.gz")
    facts = node.run(modules=["vxlan"])
    assert facts["kernel_config"]["header_release"] == "6.1.192"
    assert any("was built for 6.1.192 but the kernel release is 6.18.44-fc-v669" in w for w in facts["warnings"])


def test_unreadable_live_mountinfo_is_a_warning(node):
    os.remove(str(node.root / "proc" / "self" / "mountinfo"))
    facts = node.run()
    assert facts["bpffs"]["mounted"] is False
    assert facts["cgroup2"] == {"mounted": False, "mountpoint": None, "mode": "none"}
    assert any(w.startswith("mounts unknown:") and "mountinfo does not exist" in w for w in facts["warnings"])


def test_kernel_config_options_limits_the_result_not_the_decisions(node):
    path = fixture("node_kconfig_debian12_6.1.192_amd64_cloud.gz")
    full = node.run(kernel_config_path=path)
    small = node.run(kernel_config_path=path, kernel_config_options=["CONFIG_BPF_JIT", "CONFIG_NO_SUCH_OPTION"])
    assert len(full["kernel_config"]["options"]) == full["kernel_config"]["options_total"] > 1000
    # The asked-for option, plus the ones that decide how the rest is read; an unknown name is simply absent.
    assert small["kernel_config"]["options"] == {
        "CONFIG_BPF_JIT": full["kernel_config"]["options"]["CONFIG_BPF_JIT"],
        "CONFIG_MODULES": "y",
        "CONFIG_X86_64": "y",
    }
    assert small["kernel_config"]["options_total"] == full["kernel_config"]["options_total"]
    assert small["modules"] == full["modules"] and small["architecture"] == "x86_64"
