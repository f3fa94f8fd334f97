#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) kubeshift maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: node_facts
short_description: Gather what a node offers Cilium, in one read-only call
version_added: 0.1.0
description:
  - Returns, in a single call and without changing the node, what a Cilium preflight needs to know about a node
    (schema 1 of the C(node_facts) contract in C(docs/development.md)).
  - Architecture, kernel release and distro (os-release), the kernel configuration (every option as V(y), V(m),
    V(n) or a string; absent options are not listed; status V(unknown) with the reason when no config can be read).
  - bpffs mounts from mountinfo and whether fstab or an enabled systemd C(.mount) unit persists one; the cgroup v2
    mount; BTF (C(/sys/kernel/btf/vmlinux)).
  - The state of each requested kernel module (built-in, loaded, loadable or missing), also on kernels built
    without C(CONFIG_MODULES) where C(/proc/modules) does not exist.
  - The iptables backends present and in use (legacy, nft, both), whether the user running the module holds the
    capabilities Cilium's agent needs, which of Cilium's ports another process already holds, and whether a host
    firewall (firewalld, ufw, an nftables or iptables input policy of drop) is active. Port conflicts, firewalls,
    missing capabilities and mixed iptables backends are also listed in RV(node_facts.warnings).
  - Captured files can be audited offline with O(kernel_config_path), O(kernel_release), O(mountinfo_path),
    O(modules_path), O(proc_modules_path) and O(os_release_path). When O(kernel_config_path) is set, the
    architecture and the kernel release come from that file (explicit O(kernel_release) wins), module states come
    from the config unless O(modules_path) is given, and the distro from O(os_release_path) or from a vendor
    kernel release such as C(4.18.0-553.el8_10.x86_64). Live-only facts (bpffs, cgroup, ports, firewall,
    iptables, privileges) are still read from the host running the module unless a path option points elsewhere.
author:
  - kubeshift maintainers (@kubeshift)
options:
  modules:
    description:
      - Kernel module names to classify. V(-) and V(_) are equivalent.
    type: list
    elements: str
    default: [ip_tables, iptable_nat, iptable_mangle, iptable_raw, iptable_filter, ip6_tables, ip6table_mangle,
              ip6table_raw, ip6table_filter, xt_socket, xt_TPROXY, xt_mark, xt_CT, xt_comment, vxlan, geneve,
              wireguard, sch_fq, cls_bpf, sch_ingress, ip_set, ip_set_hash_ip, xt_set]
  ports:
    description:
      - Ports Cilium will use. Only those another socket already holds are returned in RV(node_facts.ports).
      - TCP ports count when a socket listens on them, UDP ports when a socket is bound to them.
      - The default is Cilium's health, VXLAN, Geneve, Hubble, WireGuard and metrics ports.
    type: list
    elements: dict
    default:
      - {port: 4240, protocol: tcp, purpose: health}
      - {port: 8472, protocol: udp, purpose: vxlan}
      - {port: 6081, protocol: udp, purpose: geneve}
      - {port: 4244, protocol: tcp, purpose: hubble}
      - {port: 51871, protocol: udp, purpose: wireguard}
      - {port: 9962, protocol: tcp, purpose: metrics}
      - {port: 9963, protocol: tcp, purpose: metrics}
      - {port: 9964, protocol: tcp, purpose: metrics}
      - {port: 9965, protocol: tcp, purpose: metrics}
    suboptions:
      port:
        description: Port number.
        type: int
        required: true
      protocol:
        description: Transport protocol.
        type: str
        choices: [tcp, udp]
        default: tcp
      purpose:
        description: What Cilium uses the port for (copied into the result).
        type: str
        default: ''
  kernel_config_path:
    description:
      - Audit this kernel config file (plain text or gzip, detected by content) instead of the live one.
      - A missing, unreadable or corrupt file fails the module with a message naming the path.
      - Without it the module reads C(/proc/config.gz), then C(/boot/config-<release>); when neither can be read
        C(node_facts.kernel_config.status) is V(unknown) with the reason.
    type: path
  kernel_release:
    description:
      - Kernel release to report and to look up C(/boot/config-<release>) and C(/lib/modules/<release>) with.
      - Default is the running kernel, or, with O(kernel_config_path), the release found in the config's
        C(CONFIG_VERSION_SIGNATURE), its C(# Linux/<arch> <release> Kernel Configuration) header or a
        C(Kernel Version) comment.
    type: str
  kernel_config_options:
    description:
      - Return only these kernel options (plus C(CONFIG_MODULES) and the architecture options) in
        C(node_facts.kernel_config.options), to keep the result small when many nodes are audited at once.
      - The default, an empty list, returns every option. C(node_facts.kernel_config.options_total) always counts
        every option the config sets.
    type: list
    elements: str
    default: []
  mountinfo_path:
    description: Read mounts from this file instead of C(/proc/self/mountinfo).
    type: path
  modules_path:
    description:
      - Directory holding C(modules.builtin), C(modules.dep) and C(modules.alias).
      - Default C(/lib/modules/<release>) on live audits; with O(kernel_config_path) and no O(modules_path) the
        module states are derived from the config (V(y) built-in, V(m) loadable).
    type: path
  proc_modules_path:
    description:
      - Read loaded modules from this file instead of C(/proc/modules). Not read by default when auditing a
        O(kernel_config_path).
    type: path
  os_release_path:
    description: Read the distro from this file instead of C(/etc/os-release) (or C(/usr/lib/os-release)).
    type: path
  fstab_path:
    description: fstab file checked for a persistent bpffs mount.
    type: path
    default: /etc/fstab
  systemd_unit_dirs:
    description: Directories searched for C(*.mount) units of type C(bpf) and their C(*.wants) links.
    type: list
    elements: path
    default: [/etc/systemd/system, /run/systemd/system, /usr/lib/systemd/system, /lib/systemd/system]
attributes:
  check_mode:
    support: full
    description: The module never changes the node; check mode returns the same data.
  diff_mode:
    support: none
    description: Nothing changes, so there is no diff.
  platform:
    support: full
    platforms: [linux]
    description: Linux nodes only.
notes:
  - Reading iptables rules and other processes' sockets needs root; as another user those facts are incomplete
    and a warning says so.
  - The module runs a handful of commands at most and no C(modprobe) or C(modinfo). C(nft list ruleset) is read
    once and also tells the iptables-nft backend's state; C(iptables-legacy-save) only runs when the kernel lists
    legacy tables in C(/proc/net/ip_tables_names) (C(ip6_tables_names)); without C(nft), C(iptables-nft-save) runs.
seealso:
  - name: Cilium system requirements
    description: Kernel options, modules and ports the agent needs.
    link: https://docs.cilium.io/en/stable/operations/system_requirements/
"""

EXAMPLES = r"""
---
- name: Gather node facts for the preflight
  kubeshift.cilium.node_facts:
  register: __facts

- name: Show the kernel config status
  ansible.builtin.debug:
    msg: "{{ __facts.node_facts.kernel_config.status }} ({{ __facts.node_facts.kernel_config.source }})"

- name: Audit a captured kernel config (one inventory host per config file)
  kubeshift.cilium.node_facts:
    kernel_config_path: "{{ kernel_config_path }}"
    modules: [vxlan, geneve, wireguard]
  delegate_to: localhost
  register: __audit

- name: Audit a RHEL 8 config with an explicit release
  kubeshift.cilium.node_facts:
    kernel_config_path: /srv/configs/config-4.18.0-553.el8_10.x86_64
    kernel_release: 4.18.0-553.el8_10.x86_64
    ports: []
"""

RETURN = r"""
---
node_facts:
  description: What the node offers Cilium (contract C(node_facts), schema 1, in C(docs/development.md)).
  returned: always
  type: dict
  contains:
    schema:
      description: Contract version.
      type: int
      returned: always
      sample: 1
    hostname:
      description: Host name of the node.
      type: str
      returned: always
      sample: node1
    architecture:
      description: C(uname -m) architecture, or from the audited config; null when unknown.
      type: str
      returned: always
      sample: x86_64
    architecture_source:
      description: V(uname) or V(kernel_config).
      type: str
      returned: always
      sample: uname
    kernel:
      description: Kernel release, where it came from and its numeric version.
      type: dict
      returned: always
      sample: {release: 6.1.0-28-amd64, release_source: uname, version: [6, 1, 0]}
    distro:
      description: Distro from os-release (or from a vendor kernel release when auditing a config file).
      type: dict
      returned: always
      sample: {id: debian, version_id: "12", id_like: [], pretty_name: Debian GNU/Linux 12 (bookworm),
               source: /etc/os-release}
    kernel_config:
      description: Kernel config status, source, reason when unknown, release found in it, and every option.
      type: dict
      returned: always
      sample: {status: ok, source: /proc/config.gz, reason: null, header_release: 6.1.0,
               options: {CONFIG_BPF: y, CONFIG_VXLAN: m}, options_total: 2}
    btf:
      description: Whether C(/sys/kernel/btf/vmlinux) exists; null when auditing a config file.
      type: dict
      returned: always
      sample: {vmlinux: true}
    bpffs:
      description: bpffs mounts and how they are persisted.
      type: dict
      returned: always
      sample: {mounted: true, mountpoints: [/sys/fs/bpf], persisted: true, persisted_by: ["systemd:sys-fs-bpf.mount"]}
    cgroup2:
      description: cgroup v2 mount and the cgroup mode (unified, hybrid, legacy, none).
      type: dict
      returned: always
      sample: {mounted: true, mountpoint: /sys/fs/cgroup, mode: unified}
    modules:
      description: CONFIG_MODULES, whether /proc/modules is readable, and the state of each requested module.
      type: dict
      returned: always
      sample: {config_modules: true, proc_modules: true, state: {vxlan: loaded, geneve: loadable}}
    iptables:
      description: iptables backends present, holding rules, the default one and whether both hold rules.
      type: dict
      returned: always
      sample: {legacy: {present: true, rules: false}, nft: {present: true, rules: true}, default: nft, mixed: false}
    privileges:
      description: Effective uid and capabilities, and the agent capabilities missing.
      type: dict
      returned: always
      sample: {uid: 0, capabilities: [CAP_NET_ADMIN, CAP_SYS_ADMIN], missing: [CAP_SYS_RESOURCE], ok: false}
    ports:
      description: Requested ports already taken, with their owner (V(kernel), C(<comm>[<pid>]) or V(unknown)).
      type: list
      elements: dict
      returned: always
      sample: [{port: 8472, protocol: udp, purpose: vxlan, owner: kernel}]
    firewall:
      description: Whether a host firewall is active, and the findings.
      type: dict
      returned: always
      sample: {active: true, findings: [firewalld is running]}
    warnings:
      description: Findings worth a warning in the preflight report.
      type: list
      elements: str
      returned: always
      sample: ["port 8472/udp (vxlan) is taken by kernel"]
"""

import glob
import os

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.kubeshift.cilium.plugins.module_utils import _kconfig as kconfig
from ansible_collections.kubeshift.cilium.plugins.module_utils import _procfs as procfs

SCHEMA = 1
DEFAULT_PORTS = [
    {"port": 4240, "protocol": "tcp", "purpose": "health"},
    {"port": 8472, "protocol": "udp", "purpose": "vxlan"},
    {"port": 6081, "protocol": "udp", "purpose": "geneve"},
    {"port": 4244, "protocol": "tcp", "purpose": "hubble"},
    {"port": 51871, "protocol": "udp", "purpose": "wireguard"},
    {"port": 9962, "protocol": "tcp", "purpose": "metrics"},
    {"port": 9963, "protocol": "tcp", "purpose": "metrics"},
    {"port": 9964, "protocol": "tcp", "purpose": "metrics"},
    {"port": 9965, "protocol": "tcp", "purpose": "metrics"},
]
DEFAULT_UNIT_DIRS = ["/etc/systemd/system", "/run/systemd/system", "/usr/lib/systemd/system", "/lib/systemd/system"]

# Live paths; unit tests point these at fixtures.
PROC = "/proc"
PROC_CONFIG_GZ = "/proc/config.gz"
BOOT_DIR = "/boot"
LIB_MODULES = "/lib/modules"
BTF_VMLINUX = "/sys/kernel/btf/vmlinux"
OS_RELEASE_PATHS = ["/etc/os-release", "/usr/lib/os-release"]
UFW_CONF = "/etc/ufw/ufw.conf"
FIREWALLD_RUN = ["/run/firewalld", "/var/run/firewalld.pid"]
C_LOCALE = {"LANG": "C", "LC_ALL": "C", "LANGUAGE": "C"}


def _uname():
    return os.uname()


def _read(path):
    """Return (bytes, None) or (None, reason)."""
    try:
        with open(path, "rb") as handle:
            return handle.read(), None
    except FileNotFoundError:
        return None, "%s does not exist" % path
    except IsADirectoryError:
        return None, "%s is a directory" % path
    except OSError as exc:
        return None, "%s is unreadable (%s)" % (path, exc.strerror or exc)


def _read_text(path):
    data, error = _read(path)
    if data is None:
        return None, error
    return data.decode("utf-8", errors="replace"), None


class NodeFacts:
    """Collects the facts; every read goes through _read/_read_text and every command through run_command."""

    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.warnings = []
        self.audit_file = bool(self.params["kernel_config_path"])
        self.all_options = {}

    # ---------------------------------------------------------------- kernel and config
    def kernel_and_config(self):
        params = self.params
        uname = _uname()
        config = {"status": "unknown", "source": None, "reason": None, "header_release": None, "options": {}}
        loaded = None
        if self.audit_file:
            path = params["kernel_config_path"]
            data, error = _read(path)
            if data is None:
                self.module.fail_json(msg="kernel_config_path: %s" % error)
            try:
                loaded = kconfig.load_config(data, path)
            except kconfig.KernelConfigError as exc:
                self.module.fail_json(msg="kernel_config_path: %s" % exc)
            config.update(status="ok", source=path)
        if params["kernel_release"]:
            release, release_source = params["kernel_release"], "option"
        elif self.audit_file:
            release, release_source = loaded["header_release"], loaded["header_release_source"]
        else:
            release, release_source = uname.release, "uname"
        if not self.audit_file:
            candidates = []
            if release == uname.release:
                candidates.append(PROC_CONFIG_GZ)
            candidates.append(os.path.join(BOOT_DIR, "config-%s" % release))
            reasons = []
            for path in candidates:
                data, error = _read(path)
                if data is None:
                    reasons.append(error)
                    continue
                try:
                    loaded = kconfig.load_config(data, path)
                except kconfig.KernelConfigError as exc:
                    reasons.append(str(exc))
                    continue
                config.update(status="ok", source=path)
                break
            if loaded is None:
                config["reason"] = "; ".join(reasons)
                self.warnings.append("kernel config unknown: %s" % config["reason"])
        if loaded is not None:
            # Module states are decided on every option; only the returned copy is cut down.
            self.all_options = loaded["options"]
            config["options"] = kconfig.select_options(loaded["options"], params["kernel_config_options"])
            config["options_total"] = len(loaded["options"])
            config["header_release"] = loaded["header_release"]
            if release_source not in ("config_header", "config_version_signature", "config_comment") and \
                    kconfig.releases_disagree(loaded["header_release"], release):
                self.warnings.append(
                    "kernel config %s was built for %s but the kernel release is %s: the config may belong to "
                    "another kernel" % (config["source"], loaded["header_release"], release))
        if self.audit_file:
            architecture, architecture_source = loaded["architecture"], "kernel_config"
        else:
            architecture, architecture_source = uname.machine or None, "uname"
        if not release:
            self.warnings.append("kernel release unknown: %s has no release header; set kernel_release"
                                 % params["kernel_config_path"])
        kernel = {"release": release or None, "release_source": release_source if release else None,
                  "version": kconfig.release_version(release)}
        return architecture, architecture_source, kernel, config

    # ---------------------------------------------------------------- distro
    def distro(self, release):
        path = self.params["os_release_path"]
        paths = [path] if path else ([] if self.audit_file else OS_RELEASE_PATHS)
        for candidate in paths:
            text, error = _read_text(candidate)
            if text is None:
                if path:
                    self.module.fail_json(msg="os_release_path: %s" % error)
                continue
            return procfs.distro_facts(procfs.parse_os_release(text), candidate)
        hint = procfs.distro_from_release(release) if self.audit_file else None
        if hint:
            return hint
        return {"id": None, "version_id": None, "id_like": [], "pretty_name": None, "source": None}

    # ---------------------------------------------------------------- mounts
    def mounts(self):
        path = self.params["mountinfo_path"] or os.path.join(PROC, "self/mountinfo")
        text, error = _read_text(path)
        if text is None:
            if self.params["mountinfo_path"]:
                self.module.fail_json(msg="mountinfo_path: %s" % error)
            self.warnings.append("mounts unknown: %s" % error)
            return []
        try:
            return procfs.parse_mountinfo(text, path)
        except ValueError as exc:
            if self.params["mountinfo_path"]:
                self.module.fail_json(msg="mountinfo_path: %s" % exc)
            self.warnings.append("mounts unknown: %s" % exc)
            return []

    def bpffs(self, mounts):
        mountpoints = procfs.bpffs_mountpoints(mounts)
        persisted_by = []
        text, error = _read_text(self.params["fstab_path"])
        if text is not None and procfs.fstab_bpf_mounts(procfs.parse_fstab(text)):
            persisted_by.append("fstab")
        seen = set()
        for directory in self.params["systemd_unit_dirs"]:
            for unit_path in sorted(glob.glob(os.path.join(directory, "*.mount"))):
                name = os.path.basename(unit_path)
                if name in seen:
                    continue
                seen.add(name)
                text, error = _read_text(unit_path)
                if text is None:
                    continue
                unit = procfs.bpf_mount_unit(name, text)
                if unit is None:
                    continue
                if not unit["name_ok"]:
                    self.warnings.append(
                        "systemd unit %s mounts bpffs at %s but systemd requires the name %s.mount; it will "
                        "not start" % (unit_path, unit["where"] or "?", procfs.systemd_escape_path(unit["where"])))
                elif self._unit_enabled(name):
                    persisted_by.append("systemd:%s" % name)
                else:
                    self.warnings.append("systemd unit %s mounts bpffs but is not enabled" % unit_path)
        return {"mounted": bool(mountpoints), "mountpoints": mountpoints, "persisted": bool(persisted_by),
                "persisted_by": persisted_by}

    def _unit_enabled(self, name):
        for directory in self.params["systemd_unit_dirs"]:
            if glob.glob(os.path.join(directory, "*.wants", name)) or \
                    glob.glob(os.path.join(directory, "*.requires", name)):
                return True
        return False

    # ---------------------------------------------------------------- modules
    def modules(self, config, release):
        params = self.params
        options = self.all_options if config["status"] == "ok" else None
        config_modules = None if options is None else options.get("CONFIG_MODULES") == "y"
        proc_path = params["proc_modules_path"] or (None if self.audit_file else os.path.join(PROC, "modules"))
        loaded = None
        if proc_path:
            text, error = _read_text(proc_path)
            if text is not None:
                loaded = procfs.parse_proc_modules(text)
            elif params["proc_modules_path"]:
                self.module.fail_json(msg="proc_modules_path: %s" % error)
        builtin = loadable = aliases = None
        directory = params["modules_path"]
        if not directory and not self.audit_file and release:
            directory = os.path.join(LIB_MODULES, release)
        if directory:
            if params["modules_path"] and not os.path.isdir(directory):
                self.module.fail_json(msg="modules_path: %s is not a directory" % directory)
            text, error = _read_text(os.path.join(directory, "modules.builtin"))
            builtin = procfs.parse_modules_builtin(text) if text is not None else None
            text, error = _read_text(os.path.join(directory, "modules.dep"))
            # On a live host a missing modules.dep means nothing can be loaded.
            loadable = procfs.parse_modules_dep(text) if text is not None else set()
            text, error = _read_text(os.path.join(directory, "modules.alias"))
            aliases = procfs.parse_modules_alias(text) if text is not None else None
            if config_modules and not os.path.isdir(directory):
                self.warnings.append("%s does not exist: no module can be loaded" % directory)
        elif self.audit_file and config_modules:
            self.warnings.append("no modules_path given: module states derived from the kernel config "
                                 "(y = builtin, m = loadable)")
        state = procfs.classify_modules(params["modules"], builtin=builtin, loaded=loaded, loadable=loadable,
                                        aliases=aliases, options=options, config_modules=config_modules,
                                        option_map=kconfig.MODULE_CONFIG_OPTIONS)
        return {"config_modules": config_modules, "proc_modules": loaded is not None, "state": state}

    # ---------------------------------------------------------------- commands
    def _run(self, argv):
        rc, out, err = self.module.run_command(argv, environ_update=C_LOCALE)
        if rc != 0:
            self.warnings.append("%s failed (rc=%d): %s" % (" ".join(argv), rc, (err or out).strip()[:200]))
            return None
        return out

    def _nft_ruleset(self):
        """`nft list ruleset` output (read once), or None when nft is missing or fails."""
        if not hasattr(self, "_nft_text"):
            nft = self.module.get_bin_path("nft")
            self._nft_text = self._run([nft, "list", "ruleset"]) if nft else None
        return self._nft_text

    def _legacy_tables_loaded(self, family):
        """False when the kernel lists no legacy table of this family in this network namespace (no need to
        run the save command); True when it lists some or cannot tell."""
        name = "ip_tables_names" if family == "iptables" else "ip6_tables_names"
        text, error = _read_text(os.path.join(PROC, "net", name))
        if text is None:
            # No file: the kernel has no legacy x_tables for this family (or it is a module not loaded yet).
            return not os.path.exists(os.path.join(PROC, "net"))
        return bool(text.strip())

    def iptables(self):
        module = self.module
        default = None
        iptables_bin = module.get_bin_path("iptables")
        if iptables_bin:
            default = procfs.iptables_backend_from_path(os.path.realpath(iptables_bin))
            if default is None:
                out = self._run([iptables_bin, "-V"])
                default = procfs.iptables_backend_from_version(out or "")
        result = {"legacy": {"present": False, "rules": False}, "nft": {"present": False, "rules": False},
                  "default": default, "mixed": False}
        input_drop = []
        nft_text = self._nft_ruleset()
        for backend in ("legacy", "nft"):
            for family in ("iptables", "ip6tables"):
                save = module.get_bin_path("%s-%s-save" % (family, backend))
                if save is None and default == backend:
                    save = module.get_bin_path("%s-save" % family)
                if save is None:
                    continue
                result[backend]["present"] = True
                if backend == "legacy" and not self._legacy_tables_loaded(family):
                    continue
                if backend == "nft" and nft_text is not None:
                    # iptables-nft keeps its tables in nf_tables: the ruleset already read tells everything.
                    summary = procfs.nft_iptables_summary(nft_text, "ip" if family == "iptables" else "ip6")
                else:
                    out = self._run([save])
                    if out is None:
                        continue
                    summary = procfs.parse_iptables_save(out)
                if summary["has_rules"]:
                    result[backend]["rules"] = True
                if procfs.iptables_input_drop(summary):
                    input_drop.append("%s-%s filter INPUT policy is DROP" % (family, backend))
        if default and not result[default]["present"]:
            result[default]["present"] = True
        result["mixed"] = result["legacy"]["rules"] and result["nft"]["rules"]
        if result["mixed"]:
            self.warnings.append("both iptables backends (legacy and nft) hold rules")
        return result, input_drop

    def nft_findings(self):
        out = self._nft_ruleset()
        if out is None:
            return []
        return ["nftables chain %s %s %s has policy drop" % chain for chain in procfs.nft_input_drop_chains(out)]

    # ---------------------------------------------------------------- processes, ports, firewall
    def _processes(self):
        """{pid: comm} for every process we can see (read once, and only when a finding needs an owner)."""
        if getattr(self, "_process_cache", None) is not None:
            return self._process_cache
        result = {}
        for entry in os.listdir(PROC):
            if entry.isdigit():
                text, error = _read_text(os.path.join(PROC, entry, "comm"))
                if text is not None:
                    result[int(entry)] = text.strip()
        self._process_cache = result
        return result

    def _socket_owners(self, processes, inodes):
        """({inode: "comm[pid]"}, complete) where complete means every process's fds were readable."""
        owners = {}
        complete = True
        for pid, comm in processes.items():
            fd_dir = os.path.join(PROC, str(pid), "fd")
            try:
                fds = os.listdir(fd_dir)
            except FileNotFoundError:
                continue
            except OSError:
                complete = False
                continue
            for fd in fds:
                try:
                    inode = procfs.socket_inode_from_link(os.readlink(os.path.join(fd_dir, fd)))
                except OSError:
                    continue
                if inode in inodes and inode not in owners:
                    owners[inode] = "%s[%d]" % (comm, pid)
            if len(owners) == len(inodes):
                break
        return owners, complete

    def ports(self):
        wanted = self.params["ports"]
        if not wanted:
            return []
        sockets = []
        for name, protocol in (("tcp", "tcp"), ("tcp6", "tcp"), ("udp", "udp"), ("udp6", "udp")):
            path = os.path.join(PROC, "net", name)
            text, error = _read_text(path)
            if text is None:
                continue
            try:
                sockets.extend(procfs.parse_proc_net(text, protocol, path))
            except ValueError as exc:
                self.warnings.append(str(exc))
        taken = procfs.taken_ports(sockets, wanted)
        inodes = set()
        for sock in sockets:
            if sock["inode"] and any(t["port"] == sock["port"] and t["protocol"] == sock["protocol"] for t in taken):
                inodes.add(sock["inode"])
        if inodes:
            owners, complete = self._socket_owners(self._processes(), inodes)
            taken = procfs.taken_ports(sockets, wanted, owners, complete)
        for entry in taken:
            self.warnings.append("port %d/%s (%s) is taken by %s" % (
                entry["port"], entry["protocol"], entry["purpose"] or "cilium", entry["owner"]))
        return taken

    def firewall(self, input_drop):
        findings = []
        # firewalld always leaves its run files; only then is the process list worth reading.
        if any(os.path.exists(path) for path in FIREWALLD_RUN):
            firewalld = sorted(pid for pid, comm in self._processes().items() if comm == "firewalld")
            if firewalld:
                findings.append("firewalld is running (pid %d)" % firewalld[0])
            else:
                self.warnings.append("firewalld runtime files exist but no firewalld process runs")
        text, error = _read_text(UFW_CONF)
        if text is not None and procfs.ufw_enabled(text):
            findings.append("ufw is enabled (%s ENABLED=yes)" % UFW_CONF)
        findings.extend(self.nft_findings())
        findings.extend(input_drop)
        for finding in findings:
            self.warnings.append("host firewall: %s" % finding)
        return {"active": bool(findings), "findings": findings}

    def privileges(self, kernel_version):
        path = os.path.join(PROC, "self/status")
        text, error = _read_text(path)
        try:
            if text is None:
                raise ValueError(error)
            status = procfs.parse_proc_status(text, path)
        except ValueError as exc:
            self.warnings.append("privileges unknown: %s" % exc)
            return {"uid": os.geteuid(), "capabilities": [], "missing": list(procfs.AGENT_CAPABILITIES),
                    "ok": False}
        result = procfs.privileges(status["uid"], procfs.capability_names(status["cap_eff"]), kernel_version)
        if result["missing"]:
            self.warnings.append("missing capabilities Cilium's agent needs: %s" % ", ".join(result["missing"]))
        return result

    # ---------------------------------------------------------------- all
    def collect(self):
        architecture, architecture_source, kernel, config = self.kernel_and_config()
        distro = self.distro(kernel["release"])
        mounts = self.mounts()
        modules = self.modules(config, kernel["release"])
        iptables, input_drop = self.iptables()
        facts = {
            "schema": SCHEMA,
            "hostname": _uname().nodename,
            "architecture": architecture,
            "architecture_source": architecture_source,
            "kernel": kernel,
            "distro": distro,
            "kernel_config": config,
            "btf": {"vmlinux": None if self.audit_file else os.path.exists(BTF_VMLINUX)},
            "bpffs": self.bpffs(mounts),
            "cgroup2": procfs.cgroup_state(mounts),
            "modules": modules,
            "iptables": iptables,
            "privileges": self.privileges(kernel["version"]),
            "ports": self.ports(),
            "firewall": self.firewall(input_drop),
        }
        facts["warnings"] = self.warnings
        return facts


def main():
    module = AnsibleModule(
        argument_spec=dict(
            modules=dict(type="list", elements="str", default=list(kconfig.DEFAULT_MODULES)),
            ports=dict(type="list", elements="dict", default=[dict(p) for p in DEFAULT_PORTS], options=dict(
                port=dict(type="int", required=True),
                protocol=dict(type="str", choices=["tcp", "udp"], default="tcp"),
                purpose=dict(type="str", default=""),
            )),
            kernel_config_path=dict(type="path"),
            kernel_release=dict(type="str"),
            kernel_config_options=dict(type="list", elements="str", default=[]),
            mountinfo_path=dict(type="path"),
            modules_path=dict(type="path"),
            proc_modules_path=dict(type="path"),
            os_release_path=dict(type="path"),
            fstab_path=dict(type="path", default="/etc/fstab"),
            systemd_unit_dirs=dict(type="list", elements="path", default=list(DEFAULT_UNIT_DIRS)),
        ),
        supports_check_mode=True,
    )
    for entry in module.params["ports"]:
        if not 0 < entry["port"] < 65536:
            module.fail_json(msg="ports: %d is not a valid port number" % entry["port"])
    facts = NodeFacts(module).collect()
    module.exit_json(changed=False, node_facts=facts)


if __name__ == "__main__":
    main()
