# -*- coding: utf-8 -*-
# Copyright (c) kubeshift maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Parsers for node files and command output used by kubeshift.cilium.node_facts.

This is a private module_utils file: no API guarantee, it may change at any time.

All functions are pure (text in, data out).  Malformed input raises ``ValueError`` naming the source and the
problem; the module turns that into ``fail_json`` or a warning.
"""

from __future__ import annotations

import fnmatch
import re
import socket
import struct

from ansible_collections.kubeshift.cilium.plugins.module_utils._kconfig import normalize_module_name

# --------------------------------------------------------------------------------------------------------------
# mountinfo, fstab, systemd mount units
# --------------------------------------------------------------------------------------------------------------

_OCTAL_ESCAPE_RE = re.compile(r"\\([0-7]{3})")


def _unescape_mount_field(value: str) -> str:
    """Undo the kernel's octal escaping of spaces, tabs, newlines and backslashes (``\\040``)."""
    return _OCTAL_ESCAPE_RE.sub(lambda m: chr(int(m.group(1), 8)), value)


def parse_mountinfo(text: str, source: str = "/proc/self/mountinfo") -> list:
    """Parse ``/proc/<pid>/mountinfo`` into a list of mount dicts.

    Each dict holds ``mount_id``, ``parent_id``, ``root``, ``mountpoint``, ``options``, ``optional``,
    ``fstype``, ``mount_source`` and ``super_options``.  Raises ValueError naming the source and line.
    """
    mounts = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        fields = line.split()
        try:
            sep = fields.index("-", 6)
        except ValueError:
            raise ValueError("%s line %d: not a mountinfo line (no ' - ' separator): %r" % (source, number, line))
        if sep < 6 or len(fields) < sep + 3:
            raise ValueError("%s line %d: not a mountinfo line (too few fields): %r" % (source, number, line))
        try:
            mount_id = int(fields[0])
            parent_id = int(fields[1])
        except ValueError:
            raise ValueError("%s line %d: mount ids are not numbers: %r" % (source, number, line))
        mounts.append({
            "mount_id": mount_id,
            "parent_id": parent_id,
            "root": _unescape_mount_field(fields[3]),
            "mountpoint": _unescape_mount_field(fields[4]),
            "options": fields[5],
            "optional": fields[6:sep],
            "fstype": fields[sep + 1],
            "mount_source": _unescape_mount_field(fields[sep + 2]),
            "super_options": fields[sep + 3] if len(fields) > sep + 3 else "",
        })
    if not mounts:
        raise ValueError("%s: no mounts found (empty mountinfo)" % source)
    return mounts


def bpffs_mountpoints(mounts: list) -> list:
    """Mount points of every mount with fstype ``bpf``, in mount order, without duplicates."""
    seen = []
    for mount in mounts:
        if mount["fstype"] == "bpf" and mount["mountpoint"] not in seen:
            seen.append(mount["mountpoint"])
    return seen


def cgroup_state(mounts: list) -> dict:
    """cgroup layout: ``{mounted, mountpoint, mode}`` with mode unified, hybrid, legacy or none.

    unified: only cgroup2 hierarchies; hybrid: cgroup2 next to v1 controllers (e.g. ``/sys/fs/cgroup/unified``);
    legacy: only v1; none: no cgroup mount at all.  The reported mountpoint prefers ``/sys/fs/cgroup``.
    """
    v2 = [m["mountpoint"] for m in mounts if m["fstype"] == "cgroup2"]
    v1 = [m for m in mounts if m["fstype"] == "cgroup"]
    if v2 and not v1:
        mode = "unified"
    elif v2:
        mode = "hybrid"
    elif v1:
        mode = "legacy"
    else:
        mode = "none"
    mountpoint = None
    for preferred in ("/sys/fs/cgroup", "/sys/fs/cgroup/unified"):
        if preferred in v2:
            mountpoint = preferred
            break
    if mountpoint is None and v2:
        mountpoint = v2[0]
    return {"mounted": bool(v2), "mountpoint": mountpoint, "mode": mode}


def parse_fstab(text: str) -> list:
    """Parse ``/etc/fstab``: list of ``{spec, file, vfstype, options}`` (comments and blank lines skipped)."""
    entries = []
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        fields = line.split()
        if len(fields) < 3:
            continue
        entries.append({
            "spec": _unescape_mount_field(fields[0]),
            "file": _unescape_mount_field(fields[1]),
            "vfstype": fields[2],
            "options": fields[3] if len(fields) > 3 else "defaults",
        })
    return entries


def fstab_bpf_mounts(entries: list) -> list:
    """Mount points that fstab mounts as bpffs at boot (``noauto`` entries do not count)."""
    result = []
    for entry in entries:
        if entry["vfstype"] == "bpf" and "noauto" not in entry["options"].split(","):
            result.append(entry["file"])
    return result


def parse_systemd_unit(text: str) -> dict:
    """Parse a systemd unit file into ``{section: {key: [values]}}`` (later assignments append)."""
    sections = {}
    current = None
    pending = ""
    for raw in text.splitlines():
        line = pending + raw.strip()
        pending = ""
        if line.endswith("\\"):
            pending = line[:-1] + " "
            continue
        if not line or line[0] in "#;":
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1].strip(), {})
            continue
        if current is None or "=" not in line:
            continue
        key, value = line.split("=", 1)
        current.setdefault(key.strip(), []).append(value.strip())
    return sections


def systemd_escape_path(path: str) -> str:
    """``systemd-escape --path``: ``/sys/fs/bpf`` → ``sys-fs-bpf`` (the name a .mount unit must carry)."""
    path = re.sub(r"/+", "/", path).strip("/")
    if not path:
        return "-"
    out = []
    for index, char in enumerate(path):
        if char == "/":
            out.append("-")
        elif char.isalnum() and char.isascii() or char in ":_" or (char == "." and index > 0):
            out.append(char)
        else:
            out.extend("\\x%02x" % byte for byte in char.encode("utf-8"))
    return "".join(out)


def bpf_mount_unit(name: str, text: str) -> dict | None:
    """Inspect one ``*.mount`` unit; None unless it mounts ``Type=bpf``.

    Returns ``{"name", "where", "name_ok", "wanted_by"}``; ``name_ok`` is False when the unit name is not the
    escaped ``Where=`` path (systemd refuses such a unit).
    """
    unit = parse_systemd_unit(text)
    mount = unit.get("Mount", {})
    types = mount.get("Type", [])
    if not types or types[-1] != "bpf":
        return None
    where = (mount.get("Where") or [""])[-1]
    wanted = []
    for key in ("WantedBy", "RequiredBy"):
        for value in unit.get("Install", {}).get(key, []):
            wanted.extend(value.split())
    return {
        "name": name,
        "where": where,
        "name_ok": bool(where) and name == systemd_escape_path(where) + ".mount",
        "wanted_by": wanted,
    }


# --------------------------------------------------------------------------------------------------------------
# Kernel modules
# --------------------------------------------------------------------------------------------------------------

_KO_SUFFIX_RE = re.compile(r"\.ko(?:\.(?:gz|xz|zst|bz2))?$")


def _module_from_path(path: str) -> str:
    base = path.strip().rsplit("/", 1)[-1]
    return normalize_module_name(_KO_SUFFIX_RE.sub("", base))


def parse_proc_modules(text: str) -> set:
    """Names of loaded modules from ``/proc/modules`` (first column)."""
    return {normalize_module_name(line.split()[0]) for line in text.splitlines() if line.strip()}


def parse_modules_builtin(text: str) -> set:
    """Names of built-in modules from ``modules.builtin`` (``kernel/drivers/net/vxlan/vxlan.ko`` → vxlan)."""
    return {_module_from_path(line) for line in text.splitlines() if line.strip() and not line.startswith("#")}


def parse_modules_dep(text: str) -> set:
    """Names of loadable modules from ``modules.dep`` (the path before each ``:``)."""
    names = set()
    for line in text.splitlines():
        if ":" in line and not line.startswith("#"):
            names.add(_module_from_path(line.split(":", 1)[0]))
    return names


def parse_modules_alias(text: str) -> dict:
    """``modules.alias`` as ``{alias: {module, …}}``; aliases may be glob patterns (``pci:v00008086d*``)."""
    aliases = {}
    for line in text.splitlines():
        fields = line.split()
        if len(fields) == 3 and fields[0] == "alias":
            aliases.setdefault(fields[1], set()).add(normalize_module_name(fields[2]))
    return aliases


def _alias_targets(name: str, aliases: dict) -> set:
    if name in aliases:
        return aliases[name]
    alt = name.replace("_", "-")
    if alt in aliases:
        return aliases[alt]
    found = set()
    for pattern, modules in aliases.items():
        if any(c in pattern for c in "*?[") and fnmatch.fnmatchcase(name, pattern):
            found |= modules
    return found


def classify_modules(names, builtin=None, loaded=None, loadable=None, aliases=None,
                     options=None, config_modules=None, option_map=None) -> dict:
    """Classify each module as ``builtin``, ``loaded``, ``loadable`` or ``missing``.

    ``builtin``/``loaded``/``loadable`` are sets from modules.builtin, /proc/modules and modules.dep (None when
    the file is absent); ``aliases`` from modules.alias; ``options`` the kernel config options (or None) and
    ``option_map`` the module → CONFIG_* map.  Order: built-in (modules.builtin, or ``=y`` in the config when
    modules.builtin is absent) > loaded > loadable (modules.dep or an alias resolving to a module in it) >
    missing.  With ``config_modules`` False nothing can be loaded: ``=y`` → builtin, anything else → missing
    (modules.builtin is only consulted for modules whose option is unknown).
    When the modules directory is unknown (``loadable`` None) but the config says ``=m``, the module counts as
    loadable (an offline audit of a config file cannot see ``/lib/modules``).
    """
    option_map = option_map or {}
    options = options or {}
    state = {}
    for requested in names:
        name = normalize_module_name(requested)
        option = option_map.get(name)
        value = options.get(option) if option else None
        if config_modules is False:
            # Nothing can be loaded: the config decides; modules.builtin only for modules without a known option.
            if option:
                state[requested] = "builtin" if value == "y" else "missing"
            else:
                state[requested] = "builtin" if builtin is not None and name in builtin else "missing"
            continue
        targets = {name}
        if aliases:
            targets |= _alias_targets(requested, aliases)
        if builtin is not None:
            if targets & builtin:
                state[requested] = "builtin"
                continue
        elif value == "y":
            state[requested] = "builtin"
            continue
        if loaded is not None and targets & loaded:
            state[requested] = "loaded"
        elif loadable is not None and targets & loadable:
            state[requested] = "loadable"
        elif loadable is None and value == "m":
            state[requested] = "loadable"
        else:
            state[requested] = "missing"
    return state


# --------------------------------------------------------------------------------------------------------------
# os-release and distro hints
# --------------------------------------------------------------------------------------------------------------

def parse_os_release(text: str) -> dict:
    """Parse os-release(5) shell-style assignments into a dict of strings."""
    result = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, value = line.split("=", 1)
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
            value = re.sub(r"\\(.)", r"\1", value)
        result[key.strip()] = value
    return result


def distro_facts(os_release: dict, source: str | None) -> dict:
    """Contract ``distro`` dict from parsed os-release data."""
    return {
        "id": os_release.get("ID") or None,
        "version_id": os_release.get("VERSION_ID") or None,
        "id_like": os_release.get("ID_LIKE", "").split(),
        "pretty_name": os_release.get("PRETTY_NAME") or None,
        "source": source,
    }


_EL_RE = re.compile(r"\.el(\d+)(?:_(\d+))?(?:\.|$)")
_FC_RE = re.compile(r"\.fc(\d+)(?:\.|$)")
_AMZN_RE = re.compile(r"\.amzn(\d+)(?:\.|$)")


def distro_from_release(release: str | None) -> dict | None:
    """Distro hint from a vendor kernel release, for offline audits without an os-release file.

    ``4.18.0-553.el8_10.x86_64`` → rhel 8.10 (Enterprise Linux kernels are RHEL builds whatever the rebuild),
    ``6.5.6-300.fc39.x86_64`` → fedora 39, ``5.10.201-191.748.amzn2.x86_64`` → amzn 2; None otherwise.
    """
    if not release:
        return None
    match = _EL_RE.search(release)
    if match:
        version = match.group(1) + ("." + match.group(2) if match.group(2) else "")
        return {"id": "rhel", "version_id": version, "id_like": ["fedora"],
                "pretty_name": "Enterprise Linux %s (from kernel release)" % version, "source": "kernel_release"}
    match = _FC_RE.search(release)
    if match:
        return {"id": "fedora", "version_id": match.group(1), "id_like": [],
                "pretty_name": "Fedora %s (from kernel release)" % match.group(1), "source": "kernel_release"}
    match = _AMZN_RE.search(release)
    if match:
        return {"id": "amzn", "version_id": match.group(1), "id_like": ["centos", "rhel", "fedora"],
                "pretty_name": "Amazon Linux %s (from kernel release)" % match.group(1), "source": "kernel_release"}
    return None


# --------------------------------------------------------------------------------------------------------------
# /proc/net sockets and ports
# --------------------------------------------------------------------------------------------------------------

TCP_LISTEN = "0A"


def _decode_address(hex_addr: str) -> str:
    raw = bytes.fromhex(hex_addr)
    if len(raw) == 4:
        return socket.inet_ntop(socket.AF_INET, struct.pack("<I", struct.unpack(">I", raw)[0]))
    if len(raw) == 16:
        words = struct.unpack(">4I", raw)
        return socket.inet_ntop(socket.AF_INET6, b"".join(struct.pack("<I", w) for w in words))
    raise ValueError("bad address length %d" % len(raw))


def parse_proc_net(text: str, protocol: str, source: str = "/proc/net") -> list:
    """Parse ``/proc/net/{tcp,tcp6,udp,udp6}``: list of ``{protocol, address, port, state, uid, inode}``.

    The header line is skipped.  A malformed line raises ValueError naming the source and line number.
    """
    sockets = []
    for number, line in enumerate(text.splitlines(), 1):
        fields = line.split()
        if not fields or fields[0] == "sl":
            continue
        try:
            local_hex, port_hex = fields[1].split(":")
            sockets.append({
                "protocol": protocol,
                "address": _decode_address(local_hex),
                "port": int(port_hex, 16),
                "state": fields[3].upper(),
                "uid": int(fields[7]),
                "inode": int(fields[9]),
            })
        except (IndexError, ValueError) as exc:
            raise ValueError("%s line %d: cannot parse socket line (%s): %r" % (source, number, exc, line))
    return sockets


def socket_inode_from_link(target: str) -> int | None:
    """Inode from a ``/proc/<pid>/fd/<n>`` link target ``socket:[12345]``; None for anything else."""
    if target.startswith("socket:[") and target.endswith("]"):
        try:
            return int(target[8:-1])
        except ValueError:
            return None
    return None


def taken_ports(sockets: list, wanted: list, owners: dict | None = None, complete: bool = False) -> list:
    """Which wanted ports are taken.

    ``wanted`` is a list of ``{port, protocol, purpose}``; ``sockets`` comes from :func:`parse_proc_net` (tcp
    entries count only in LISTEN state, udp entries whenever bound); ``owners`` maps socket inode →
    ``"<comm>[<pid>]"``.  Inode 0 is a kernel socket → owner ``kernel``.  A socket no process holds is a kernel
    socket too (a vxlan device's UDP socket has an inode on current kernels), but only ``complete`` (every
    process's fds could be read) proves that; otherwise such an owner is ``unknown``.  One entry per wanted
    (protocol, port), owners joined when several.
    """
    owners = owners or {}
    result = []
    for want in wanted:
        protocol = want["protocol"]
        port = int(want["port"])
        names = []
        for sock in sockets:
            if sock["protocol"] != protocol or sock["port"] != port:
                continue
            if protocol == "tcp" and sock["state"] != TCP_LISTEN:
                continue
            if sock["inode"] == 0:
                owner = "kernel"
            else:
                owner = owners.get(sock["inode"], "kernel" if complete else "unknown")
            if owner not in names:
                names.append(owner)
        if names:
            if len(names) > 1 and "unknown" in names:
                names.remove("unknown")
            result.append({"port": port, "protocol": protocol, "purpose": want.get("purpose") or "",
                           "owner": ", ".join(names)})
    return result


# --------------------------------------------------------------------------------------------------------------
# Capabilities
# --------------------------------------------------------------------------------------------------------------

CAPABILITY_NAMES = [
    "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL", "CAP_SETGID",
    "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO",
    "CAP_SYS_CHROOT", "CAP_SYS_PTRACE", "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE", "CAP_AUDIT_WRITE",
    "CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE",
]

AGENT_CAPABILITIES = ["CAP_SYS_ADMIN", "CAP_NET_ADMIN", "CAP_SYS_RESOURCE", "CAP_SYS_MODULE", "CAP_NET_RAW",
                      "CAP_IPC_LOCK"]


def parse_proc_status(text: str, source: str = "/proc/self/status") -> dict:
    """``{"uid": effective uid, "cap_eff": int}`` from ``/proc/<pid>/status``; ValueError when fields lack."""
    uid = None
    cap_eff = None
    for line in text.splitlines():
        key, dummy, value = line.partition(":")
        if key == "Uid":
            fields = value.split()
            if len(fields) >= 2:
                uid = int(fields[1])
        elif key == "CapEff":
            cap_eff = int(value.strip(), 16)
    if uid is None or cap_eff is None:
        raise ValueError("%s: no Uid/CapEff lines (not a /proc/<pid>/status file)" % source)
    return {"uid": uid, "cap_eff": cap_eff}


def capability_names(mask: int) -> list:
    """Decode a capability bit mask into ``CAP_*`` names (unknown bits as ``CAP_<bit>``)."""
    names = []
    bit = 0
    while mask >> bit:
        if mask >> bit & 1:
            names.append(CAPABILITY_NAMES[bit] if bit < len(CAPABILITY_NAMES) else "CAP_%d" % bit)
        bit += 1
    return names


def privileges(uid: int, capabilities: list, kernel_version: list | None = None) -> dict:
    """Contract ``privileges`` dict: which of the agent's capabilities are missing.

    CAP_BPF and CAP_PERFMON (kernel ≥ 5.8) are satisfied by CAP_SYS_ADMIN, as the kernel itself accepts; on
    older or unknown kernels only CAP_SYS_ADMIN is asked for.
    """
    held = set(capabilities)
    missing = [cap for cap in AGENT_CAPABILITIES if cap not in held]
    if kernel_version and list(kernel_version[:2]) >= [5, 8] and "CAP_SYS_ADMIN" not in held:
        missing.extend(cap for cap in ("CAP_BPF", "CAP_PERFMON") if cap not in held)
    return {"uid": uid, "capabilities": sorted(held), "missing": missing, "ok": not missing}


# --------------------------------------------------------------------------------------------------------------
# iptables / nftables / ufw
# --------------------------------------------------------------------------------------------------------------

_BUILTIN_CHAINS = {"INPUT", "OUTPUT", "FORWARD", "PREROUTING", "POSTROUTING"}


def _tables_hold_rules(tables: dict) -> bool:
    """A table counts when it has a rule, a user chain, or a built-in chain whose policy is not ACCEPT."""
    return any(table["rules"] or table["user_chains"] or any(p != "ACCEPT" for p in table["policies"].values())
               for table in tables.values())


def parse_iptables_save(text: str) -> dict:
    """Summarise ``ip(6)tables-{legacy,nft}-save`` output.

    Returns ``{"tables": {name: {"policies": {chain: policy}, "user_chains": [..], "rules": n}},
    "has_rules": bool, "other_backend_warning": bool}``.  A table holding only built-in chains with ACCEPT
    policies and no rule counts as empty.  ``other_backend_warning`` is set by iptables-nft-save's
    "# Warning: iptables-legacy tables present" line.
    """
    tables = {}
    current = None
    other_warning = False
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        if line.startswith("#"):
            if "iptables-legacy tables present" in line:
                other_warning = True
            continue
        if line.startswith("*"):
            current = tables.setdefault(line[1:], {"policies": {}, "user_chains": [], "rules": 0})
            continue
        if current is None:
            continue
        if line.startswith(":"):
            parts = line[1:].split()
            if len(parts) >= 2:
                chain, policy = parts[0], parts[1]
                if policy == "-" or chain not in _BUILTIN_CHAINS:
                    current["user_chains"].append(chain)
                else:
                    current["policies"][chain] = policy
        elif line.startswith("-A ") or line.startswith("-I "):
            current["rules"] += 1
    return {"tables": tables, "has_rules": _tables_hold_rules(tables), "other_backend_warning": other_warning}


def iptables_input_drop(summary: dict) -> bool:
    """True when the filter table's INPUT chain has policy DROP."""
    return summary["tables"].get("filter", {}).get("policies", {}).get("INPUT") == "DROP"


def iptables_backend_from_path(path: str | None) -> str | None:
    """Backend from the resolved ``iptables`` binary (``xtables-nft-multi``, ``iptables-legacy`` …)."""
    if not path:
        return None
    base = path.rsplit("/", 1)[-1]
    if "nft" in base:
        return "nft"
    if "legacy" in base:
        return "legacy"
    return None


def iptables_backend_from_version(text: str) -> str | None:
    """Backend from ``iptables -V``: ``iptables v1.8.9 (nf_tables)`` → nft; ``(legacy)`` → legacy; old → legacy."""
    text = text.strip()
    if not text:
        return None
    if "(nf_tables)" in text:
        return "nft"
    if "(legacy)" in text:
        return "legacy"
    if re.match(r"^ip6?tables v1\.[0-6]\.", text):
        return "legacy"
    return None


_NFT_TABLE_RE = re.compile(r"^table\s+(\S+)\s+(\S+)\s*\{")
_NFT_CHAIN_RE = re.compile(r"^chain\s+(\S+)\s*\{")


def nft_input_drop_chains(text: str) -> list:
    """``[(family, table, chain)]`` of base chains with ``hook input`` and ``policy drop`` in ``nft list ruleset``.

    Chains of iptables-nft's own tables (``ip``/``ip6 filter`` ``INPUT``) are left out: the iptables save output
    reports them already.
    """
    found = []
    table = None
    chain = None
    for raw in text.splitlines():
        line = raw.strip()
        match = _NFT_TABLE_RE.match(line)
        if match:
            table = (match.group(1), match.group(2))
            chain = None
            continue
        match = _NFT_CHAIN_RE.match(line)
        if match and table:
            chain = match.group(1)
            continue
        if table and chain and "hook input" in line and re.search(r"\bpolicy\s+drop\b", line):
            if table[0] in ("ip", "ip6") and table[1] == "filter" and chain == "INPUT":
                continue
            found.append((table[0], table[1], chain))
    return found


_IPTABLES_NFT_TABLES = ("filter", "nat", "mangle", "raw", "security")
_NFT_POLICY_RE = re.compile(r"\bhook\s+(\S+).*\bpolicy\s+(\w+)")


def nft_iptables_summary(text: str, family: str) -> dict:
    """Summarise iptables-nft's tables of ``family`` (``ip`` or ``ip6``) in ``nft list ruleset`` output.

    Same shape as :func:`parse_iptables_save` (``other_backend_warning`` is always False): iptables-nft keeps its
    tables (filter, nat, mangle, raw, security) in nf_tables, so the ruleset read once for the firewall check also
    tells whether this backend holds rules, without running ``iptables-nft-save`` and ``ip6tables-nft-save``.
    """
    tables = {}
    current = None
    chain = None
    depth = 0
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        match = _NFT_TABLE_RE.match(line)
        if match and depth == 0:
            depth = 1
            chain = None
            current = None
            if match.group(1) == family and match.group(2) in _IPTABLES_NFT_TABLES:
                current = tables.setdefault(match.group(2), {"policies": {}, "user_chains": [], "rules": 0})
            continue
        if line == "}":
            depth = max(depth - 1, 0)
            if depth <= 1:
                chain = None
            continue
        match = _NFT_CHAIN_RE.match(line)
        if match and depth == 1:
            depth = 2
            chain = match.group(1)
            if current is not None:
                current["user_chains"].append(chain)
            continue
        if line.endswith("{"):
            depth += 1
            continue
        if current is None or chain is None:
            continue
        policy = _NFT_POLICY_RE.search(line)
        if line.startswith("type ") and policy:
            # A base chain: move it from the user chains to the policies.
            if chain in current["user_chains"]:
                current["user_chains"].remove(chain)
            current["policies"][chain] = policy.group(2).upper()
            continue
        if line.startswith("type "):
            continue
        current["rules"] += 1
    return {"tables": tables, "has_rules": _tables_hold_rules(tables), "other_backend_warning": False}


def ufw_enabled(text: str) -> bool:
    """True when ``/etc/ufw/ufw.conf`` says ``ENABLED=yes``."""
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("ENABLED="):
            return line.split("=", 1)[1].strip().strip("\"'").lower() == "yes"
    return False
