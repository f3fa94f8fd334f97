# -*- coding: utf-8 -*-
# Copyright (c) kubeshift maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Unit tests for the node file parsers, on files captured from real hosts and network namespaces."""

from __future__ import annotations

import os

import pytest

from ansible_collections.kubeshift.cilium.plugins.module_utils import _kconfig as kconfig
from ansible_collections.kubeshift.cilium.plugins.module_utils import _procfs as procfs

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")
MODULES_DIR = os.path.join(FIXTURES, "node_modules_debian12_6.1.0-56-cloud-amd64")


def text(name):
    with open(os.path.join(FIXTURES, name), encoding="utf-8") as handle:
        return handle.read()


# ---------------------------------------------------------------------------------------------------- mountinfo

def test_mountinfo_host_hybrid_no_bpffs():
    mounts = procfs.parse_mountinfo(text("node_mountinfo_host_hybrid.txt"))
    assert procfs.bpffs_mountpoints(mounts) == []
    assert procfs.cgroup_state(mounts) == {"mounted": True, "mountpoint": "/sys/fs/cgroup/unified", "mode": "hybrid"}
    root = [m for m in mounts if m["mountpoint"] == "/"][0]
    assert root["fstype"] == "ext4" and root["mount_source"] == "/dev/vda"


def test_mountinfo_netns_node_with_bpffs():
    mounts = procfs.parse_mountinfo(text("node_mountinfo_netns_bpffs.txt"))
    assert procfs.bpffs_mountpoints(mounts) == ["/sys/fs/bpf"]


def test_mountinfo_unified_with_optional_fields_and_escapes():
    mounts = procfs.parse_mountinfo(text("node_mountinfo_debian12_unified.txt"))
    assert procfs.cgroup_state(mounts) == {"mounted": True, "mountpoint": "/sys/fs/cgroup", "mode": "unified"}
    assert procfs.bpffs_mountpoints(mounts) == ["/sys/fs/bpf", "/run/cilium/bpffs copy"]
    bpf = [m for m in mounts if m["mountpoint"] == "/sys/fs/bpf"][0]
    assert bpf["optional"] == ["shared:11"]
    assert bpf["super_options"] == "rw,mode=700"
    assert "/srv/data disk" in [m["mountpoint"] for m in mounts]


def test_cgroup_modes():
    def mount(fstype, where):
        return {"fstype": fstype, "mountpoint": where}
    assert procfs.cgroup_state([mount("cgroup", "/sys/fs/cgroup/cpu")])["mode"] == "legacy"
    assert procfs.cgroup_state([mount("ext4", "/")]) == {"mounted": False, "mountpoint": None, "mode": "none"}
    assert procfs.cgroup_state([mount("cgroup2", "/run/cilium/cgroupv2")])["mountpoint"] == "/run/cilium/cgroupv2"


@pytest.mark.parametrize("content, problem", [
    ("22 27 0:21 / /proc rw,relatime proc proc rw\n", "no ' - ' separator"),
    ("x 27 0:21 / /proc rw,relatime - proc proc rw\n", "mount ids are not numbers"),
    ("22 27 0:21 / /proc rw - proc\n", "too few fields"),
    ("\n\n", "no mounts found"),
])
def test_mountinfo_bad(content, problem):
    with pytest.raises(ValueError) as err:
        procfs.parse_mountinfo(content, "/tmp/mi")
    assert str(err.value).startswith("/tmp/mi")
    assert problem in str(err.value)


# ---------------------------------------------------------------------------------------------------- persistence

def test_fstab():
    entries = procfs.parse_fstab(text("node_fstab_bpffs.txt"))
    assert len(entries) == 4
    assert procfs.fstab_bpf_mounts(entries) == ["/sys/fs/bpf"]
    assert procfs.fstab_bpf_mounts(procfs.parse_fstab(text("node_fstab_bpffs_noauto.txt"))) == []
    assert procfs.fstab_bpf_mounts(procfs.parse_fstab("# UNCONFIGURED FSTAB FOR BASE SYSTEM\n")) == []


@pytest.mark.parametrize("path, escaped", [
    ("/sys/fs/bpf", "sys-fs-bpf"),
    ("/run/cilium/cgroupv2", "run-cilium-cgroupv2"),
    ("/", "-"),
    ("/srv/my-data", "srv-my\\x2ddata"),
    ("//sys//fs/bpf/", "sys-fs-bpf"),
])
def test_systemd_escape_path(path, escaped):
    assert procfs.systemd_escape_path(path) == escaped


def test_bpf_mount_units():
    unit = procfs.bpf_mount_unit("sys-fs-bpf.mount", text("node_systemd_enabled/sys-fs-bpf.mount"))
    assert unit == {"name": "sys-fs-bpf.mount", "where": "/sys/fs/bpf", "name_ok": True,
                    "wanted_by": ["multi-user.target"]}
    wrong = procfs.bpf_mount_unit("bpffs.mount", text("node_systemd_misnamed/bpffs.mount"))
    assert wrong["name_ok"] is False
    assert procfs.bpf_mount_unit("tmp.mount", text("node_systemd_enabled/tmp.mount")) is None


def test_systemd_unit_continuation_and_comments():
    unit = procfs.parse_systemd_unit("# c\n[Mount]\nOptions=a,\\\n b\n; x\nType=tmpfs\nType=bpf\n")
    assert unit == {"Mount": {"Options": ["a, b"], "Type": ["tmpfs", "bpf"]}}


# ---------------------------------------------------------------------------------------------------- modules

@pytest.fixture(scope="module")
def debian_modules():
    def read(name):
        with open(os.path.join(MODULES_DIR, name), encoding="utf-8") as handle:
            return handle.read()
    return {
        "builtin": procfs.parse_modules_builtin(read("modules.builtin")),
        "loadable": procfs.parse_modules_dep(read("modules.dep")),
        "aliases": procfs.parse_modules_alias(read("modules.alias")),
    }


def test_module_lists_parse(debian_modules):
    assert "unix" in debian_modules["builtin"]
    assert {"vxlan", "geneve", "wireguard", "sch_fq", "xt_socket", "ip_tables"} <= debian_modules["loadable"]
    assert debian_modules["aliases"]["rtnl-link-vxlan"] == {"vxlan"}
    assert debian_modules["aliases"]["net-pf-16-proto-16-family-wireguard"] == {"wireguard"}


def test_module_path_suffixes():
    dep = "kernel/net/sched/sch_fq.ko.zst:\nkernel/drivers/net/vxlan/vxlan.ko.xz: kernel/net/ipv4/udp_tunnel.ko.xz\n" \
          "kernel/fs/overlayfs/overlay.ko.gz:\nupdates/dkms/wireguard.ko:\n"
    assert procfs.parse_modules_dep(dep) == {"sch_fq", "vxlan", "overlay", "wireguard"}


def test_proc_modules():
    loaded = procfs.parse_proc_modules(text("node_proc_modules_debian12.txt"))
    assert {"vxlan", "xt_socket", "ip_tables", "br_netfilter"} <= loaded
    assert "geneve" not in loaded


def test_classify_modular_debian(debian_modules):
    loaded = procfs.parse_proc_modules(text("node_proc_modules_debian12.txt"))
    options = kconfig.load_config(
        open(os.path.join(FIXTURES, "node_kconfig_debian12_6.1.192_amd64_cloud.gz"), "rb").read(), "c")["options"]
    names = ["vxlan", "geneve", "wireguard", "ip-tables", "unix", "net-pf-16-proto-16-family-wireguard",
             "rtnl-link-geneve", "no_such_module", "sch_fq"]
    state = procfs.classify_modules(names, builtin=debian_modules["builtin"], loaded=loaded,
                                    loadable=debian_modules["loadable"], aliases=debian_modules["aliases"],
                                    options=options, config_modules=True,
                                    option_map=kconfig.MODULE_CONFIG_OPTIONS)
    assert state == {
        "vxlan": "loaded",
        "geneve": "loadable",
        "wireguard": "loadable",
        "ip-tables": "loaded",
        "unix": "builtin",
        "net-pf-16-proto-16-family-wireguard": "loadable",
        "rtnl-link-geneve": "loadable",
        "no_such_module": "missing",
        "sch_fq": "loadable",
    }


def test_classify_without_config_modules():
    """This machine: no CONFIG_MODULES, no /proc/modules, no /lib/modules; =y is built in, the rest missing."""
    options = kconfig.load_config(
        open(os.path.join(FIXTURES, "node_kconfig_firecracker_6.18.44_nomodules.gz"), "rb").read(), "c")["options"]
    state = procfs.classify_modules(["vxlan", "geneve", "wireguard", "xt_socket", "ip_set", "sch_fq"],
                                    options=options, config_modules=False, loadable=set(),
                                    option_map=kconfig.MODULE_CONFIG_OPTIONS)
    assert state == {"vxlan": "builtin", "geneve": "missing", "wireguard": "missing", "xt_socket": "builtin",
                     "ip_set": "builtin", "sch_fq": "missing"}


def test_classify_without_config_modules_config_beats_fake_builtin_list():
    """A (fake) modules.builtin naming geneve does not make it built in when the config says it is not set."""
    options = {"CONFIG_MODULES": "n", "CONFIG_GENEVE": "n", "CONFIG_VXLAN": "y"}
    state = procfs.classify_modules(["geneve", "vxlan", "bridge", "tun"], builtin={"geneve", "bridge"},
                                    options=options, config_modules=False, loadable=set(),
                                    option_map=kconfig.MODULE_CONFIG_OPTIONS)
    assert state == {"geneve": "missing", "vxlan": "builtin", "bridge": "builtin", "tun": "missing"}


def test_classify_config_m_but_not_installed():
    """=m in the config but the module is not in modules.dep (e.g. linux-modules-extra missing): missing."""
    state = procfs.classify_modules(["vxlan"], builtin=set(), loaded=set(), loadable=set(),
                                    options={"CONFIG_VXLAN": "m"}, config_modules=True,
                                    option_map=kconfig.MODULE_CONFIG_OPTIONS)
    assert state == {"vxlan": "missing"}


def test_classify_offline_config_only():
    """Offline audit of a config: no modules dir, so y → builtin (no modules.builtin), m → loadable."""
    state = procfs.classify_modules(["vxlan", "cls_bpf", "geneve", "wireguard"],
                                    options={"CONFIG_VXLAN": "m", "CONFIG_NET_CLS_BPF": "y", "CONFIG_GENEVE": "n"},
                                    config_modules=True, option_map=kconfig.MODULE_CONFIG_OPTIONS)
    assert state == {"vxlan": "loadable", "cls_bpf": "builtin", "geneve": "missing", "wireguard": "missing"}


def test_classify_builtin_list_beats_config():
    """modules.builtin present: it decides built-in, a stale =y in the config does not."""
    state = procfs.classify_modules(["vxlan"], builtin={"unix"}, loaded=None, loadable={"vxlan"},
                                    options={"CONFIG_VXLAN": "y"}, config_modules=True,
                                    option_map=kconfig.MODULE_CONFIG_OPTIONS)
    assert state == {"vxlan": "loadable"}


def test_alias_glob():
    aliases = procfs.parse_modules_alias("alias net-pf-10-proto-* ipv6\nalias fs-overlay overlay\n")
    state = procfs.classify_modules(["net-pf-10-proto-6", "fs-overlay"], builtin=set(), loaded=set(),
                                    loadable={"ipv6", "overlay"}, aliases=aliases, config_modules=True)
    assert state == {"net-pf-10-proto-6": "loadable", "fs-overlay": "loadable"}


# ---------------------------------------------------------------------------------------------------- os-release

@pytest.mark.parametrize("name, distro_id, version, like", [
    ("node_os_release_debian12.txt", "debian", "12", []),
    ("node_os_release_rhel810.txt", "rhel", "8.10", ["fedora"]),
    ("node_os_release_ubuntu2204.txt", "ubuntu", "22.04", ["debian"]),
])
def test_os_release(name, distro_id, version, like):
    facts = procfs.distro_facts(procfs.parse_os_release(text(name)), "/etc/os-release")
    assert (facts["id"], facts["version_id"], facts["id_like"], facts["source"]) == \
        (distro_id, version, like, "/etc/os-release")
    assert facts["pretty_name"]


@pytest.mark.parametrize("release, distro_id, version", [
    ("4.18.0-553.el8_10.x86_64", "rhel", "8.10"),
    ("4.18.0-372.9.1.el8.x86_64", "rhel", "8"),
    ("5.14.0-427.31.1.el9_4.x86_64", "rhel", "9.4"),
    ("6.5.6-300.fc39.x86_64", "fedora", "39"),
    ("5.10.201-191.748.amzn2.x86_64", "amzn", "2"),
])
def test_distro_from_release(release, distro_id, version):
    hint = procfs.distro_from_release(release)
    assert (hint["id"], hint["version_id"], hint["source"]) == (distro_id, version, "kernel_release")


@pytest.mark.parametrize("release", ["6.1.0-28-amd64", "5.15.0-91-generic", "6.18.44-fc-v669", None, "", "elephant"])
def test_distro_from_release_none(release):
    assert procfs.distro_from_release(release) is None


# ---------------------------------------------------------------------------------------------------- sockets, ports

@pytest.fixture(scope="module")
def sockets():
    result = []
    for name, protocol in (("tcp", "tcp"), ("tcp6", "tcp"), ("udp", "udp"), ("udp6", "udp")):
        result.extend(procfs.parse_proc_net(text("node_proc_net_%s.txt" % name), protocol, name))
    return result


def test_parse_proc_net(sockets):
    listen = [s for s in sockets if s["protocol"] == "tcp" and s["state"] == procfs.TCP_LISTEN]
    assert sorted((s["address"], s["port"]) for s in listen) == [("0.0.0.0", 4240), ("::", 9962)]
    udp = sorted((s["address"], s["port"], s["inode"]) for s in sockets if s["protocol"] == "udp")
    assert udp == [("0.0.0.0", 8472, 44726), ("127.0.0.1", 51871, 44758), ("::1", 6081, 44759)]


WANTED = [
    {"port": 4240, "protocol": "tcp", "purpose": "health"},
    {"port": 8472, "protocol": "udp", "purpose": "vxlan"},
    {"port": 6081, "protocol": "udp", "purpose": "geneve"},
    {"port": 4244, "protocol": "tcp", "purpose": "hubble"},
    {"port": 51871, "protocol": "udp", "purpose": "wireguard"},
    {"port": 9962, "protocol": "tcp", "purpose": "metrics"},
    {"port": 6081, "protocol": "tcp", "purpose": "not udp"},
]


def test_taken_ports_with_owners(sockets):
    owners = {44755: "python3[24747]", 44756: "python3[24747]", 44758: "python3[24747]", 44759: "python3[24747]"}
    taken = procfs.taken_ports(sockets, WANTED, owners, complete=True)
    assert taken == [
        {"port": 4240, "protocol": "tcp", "purpose": "health", "owner": "python3[24747]"},
        # the vxlan device's socket: no process holds it
        {"port": 8472, "protocol": "udp", "purpose": "vxlan", "owner": "kernel"},
        {"port": 6081, "protocol": "udp", "purpose": "geneve", "owner": "python3[24747]"},
        {"port": 51871, "protocol": "udp", "purpose": "wireguard", "owner": "python3[24747]"},
        {"port": 9962, "protocol": "tcp", "purpose": "metrics", "owner": "python3[24747]"},
    ]


def test_taken_ports_incomplete_scan(sockets):
    taken = procfs.taken_ports(sockets, WANTED[:2])
    assert [t["owner"] for t in taken] == ["unknown", "unknown"]


def test_established_tcp_does_not_count():
    line = "   1: 0100007F:1090 0100007F:8670 01 00000000:00000000 00:00000000 00000000     0        0 0 1 0\n"
    socks = procfs.parse_proc_net(line, "tcp")
    assert procfs.taken_ports(socks, [{"port": 4240, "protocol": "tcp"}]) == []


def test_inode_zero_is_kernel():
    line = "   1: 00000000:2118 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 0 2 0 0\n"
    socks = procfs.parse_proc_net(line, "udp")
    assert procfs.taken_ports(socks, [{"port": 8472, "protocol": "udp", "purpose": "vxlan"}])[0]["owner"] == "kernel"


def test_proc_net_bad_line():
    with pytest.raises(ValueError, match="/proc/net/tcp line 2: cannot parse socket line"):
        procfs.parse_proc_net("  sl  local_address\n   0: zz:1090 00000000:0000 0A\n", "tcp", "/proc/net/tcp")


@pytest.mark.parametrize("target, inode", [("socket:[44755]", 44755), ("pipe:[1]", None), ("/dev/null", None),
                                           ("socket:[x]", None)])
def test_socket_inode_from_link(target, inode):
    assert procfs.socket_inode_from_link(target) == inode


# ---------------------------------------------------------------------------------------------------- capabilities

def test_privileges_root_without_sys_resource():
    status = procfs.parse_proc_status(text("node_proc_status_root_no_sys_resource.txt"))
    names = procfs.capability_names(status["cap_eff"])
    assert status["uid"] == 0
    assert "CAP_SYS_ADMIN" in names and "CAP_BPF" in names and "CAP_SYS_RESOURCE" not in names
    result = procfs.privileges(status["uid"], names, [6, 18, 44])
    assert result["missing"] == ["CAP_SYS_RESOURCE"]
    assert result["ok"] is False


def test_privileges_unprivileged_user():
    status = procfs.parse_proc_status(text("node_proc_status_user.txt"))
    assert status == {"uid": 1000, "cap_eff": 0}
    result = procfs.privileges(1000, procfs.capability_names(0), [6, 1, 0])
    assert result["missing"] == procfs.AGENT_CAPABILITIES + ["CAP_BPF", "CAP_PERFMON"]
    # before 5.8 there is no CAP_BPF to ask for
    assert procfs.privileges(1000, [], [5, 4, 0])["missing"] == procfs.AGENT_CAPABILITIES


def test_privileges_full_set():
    names = procfs.capability_names((1 << 41) - 1)
    assert len(names) == 41 and names[-1] == "CAP_CHECKPOINT_RESTORE"
    assert procfs.privileges(0, names, [6, 1])["ok"] is True
    assert procfs.capability_names(1 << 45) == ["CAP_45"]


def test_proc_status_bad():
    with pytest.raises(ValueError, match="/x: no Uid/CapEff lines"):
        procfs.parse_proc_status("Name: foo\n", "/x")


# ---------------------------------------------------------------------------------------------------- netfilter

@pytest.mark.parametrize("name, has_rules, input_drop, warning", [
    ("node_iptables_legacy_save_empty.txt", False, False, False),
    ("node_iptables_legacy_save_builtin_only.txt", False, False, False),
    ("node_iptables_nft_save_builtin_only.txt", False, False, False),
    ("node_iptables_legacy_save_rules.txt", True, False, False),
    ("node_iptables_nft_save_rules_mixed.txt", True, True, True),
])
def test_iptables_save(name, has_rules, input_drop, warning):
    summary = procfs.parse_iptables_save(text(name))
    assert summary["has_rules"] is has_rules
    assert procfs.iptables_input_drop(summary) is input_drop
    assert summary["other_backend_warning"] is warning


def test_iptables_save_details():
    summary = procfs.parse_iptables_save(text("node_iptables_nft_save_rules_mixed.txt"))
    assert summary["tables"]["nat"]["user_chains"] == ["KUBE-SERVICES"]
    assert summary["tables"]["filter"]["rules"] == 2
    assert summary["tables"]["filter"]["policies"] == {"INPUT": "DROP", "FORWARD": "ACCEPT", "OUTPUT": "ACCEPT"}


def test_iptables_policy_only_counts_as_rules():
    summary = procfs.parse_iptables_save("*filter\n:INPUT ACCEPT [0:0]\n:FORWARD DROP [0:0]\nCOMMIT\n")
    assert summary["has_rules"] is True


@pytest.mark.parametrize("path, backend", [
    ("/usr/sbin/xtables-nft-multi", "nft"),
    ("/usr/sbin/xtables-legacy-multi", "legacy"),
    ("/usr/sbin/iptables-legacy", "legacy"),
    ("/usr/sbin/iptables-nft", "nft"),
    ("/sbin/iptables", None),
    (None, None),
])
def test_backend_from_path(path, backend):
    assert procfs.iptables_backend_from_path(path) == backend


@pytest.mark.parametrize("out, backend", [
    ("iptables v1.8.9 (nf_tables)\n", "nft"),
    ("iptables v1.8.7 (legacy)\n", "legacy"),
    ("iptables v1.6.1\n", "legacy"),
    ("iptables v1.8.4\n", None),
    ("", None),
])
def test_backend_from_version(out, backend):
    assert procfs.iptables_backend_from_version(out) == backend


def test_nft_input_drop():
    chains = procfs.nft_input_drop_chains(text("node_nft_ruleset_input_drop.txt"))
    # inet filter input drops; the iptables-nft INPUT chain is left to the iptables check; forward is no input
    assert chains == [("inet", "filter", "input")]
    assert procfs.nft_input_drop_chains("") == []


@pytest.mark.parametrize("name, enabled", [("node_ufw_conf_enabled.txt", True), ("node_ufw_conf_disabled.txt", False)])
def test_ufw(name, enabled):
    assert procfs.ufw_enabled(text(name)) is enabled
    assert procfs.ufw_enabled('ENABLED="yes"\n') is True


def test_nft_iptables_summary_reads_iptables_nft_tables_from_the_ruleset():
    # Captured in a throwaway netns: iptables-nft INPUT policy drop + SSH rule, an empty KUBE-SERVICES chain in
    # nat, an ip6 mangle rule, and kube-proxy's own nft table (not an iptables-nft table).
    ruleset = text("node_nft_ruleset_iptables_nft.txt")
    ip = procfs.nft_iptables_summary(ruleset, "ip")
    assert ip["has_rules"] is True
    assert ip["tables"]["filter"] == {"policies": {"INPUT": "DROP"}, "user_chains": [], "rules": 1}
    assert ip["tables"]["nat"]["user_chains"] == ["KUBE-SERVICES"]
    assert "kube-proxy" not in ip["tables"]
    assert procfs.iptables_input_drop(ip) is True
    ip6 = procfs.nft_iptables_summary(ruleset, "ip6")
    assert ip6["tables"] == {"mangle": {"policies": {"PREROUTING": "ACCEPT"}, "user_chains": [], "rules": 1}}
    assert procfs.iptables_input_drop(ip6) is False


def test_nft_iptables_summary_only_native_tables_or_empty():
    native = "table ip kube-proxy {\n\tchain services {\n\t\tip daddr 10.96.0.1 counter accept\n\t}\n}\n"
    assert procfs.nft_iptables_summary(native, "ip")["has_rules"] is False
    assert procfs.nft_iptables_summary("", "ip6") == {"tables": {}, "has_rules": False, "other_backend_warning": False}
    accept_only = "table ip filter {\n\tchain INPUT {\n\t\ttype filter hook input priority filter; policy accept;\n\t}\n}\n"
    assert procfs.nft_iptables_summary(accept_only, "ip")["has_rules"] is False
