#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) kubeshift maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: netfilter_purge
short_description: Remove kube-proxy, Flannel and CNI netfilter state from a node, with a backup
version_added: 0.1.0
description:
  - Selective, backend-aware clean-up of what kube-proxy, Flannel and the CNI plugins leave in the kernel when a
    node moves to kube-proxy-free Cilium, replacing the C(iptables-save | grep -v KUBE | iptables-restore) one-liner.
  - For every iptables backend present (iptables-legacy and iptables-nft, IPv4 and IPv6) and every table, removes the
    chains owned by the selected O(owners), every rule in them, every rule anywhere that jumps (C(-j)) or goes
    (C(-g)) to them, and every rule whose C(--comment) marks an owner (such as C(flanneld masq)). Each changed table
    is changed atomically, in one commit, by C(*-restore --noflush) of a script that names only what goes (the
    removed chains are flushed and deleted, each removed rule of a kept chain is deleted with its C(*-save) spelling);
    every other line, chain, policy and counter stays byte for byte, and a rule another tool adds meanwhile stays
    too. Built-in chain policies are never changed and nothing is flushed wholesale.
  - Chains that look like Kubernetes or CNI chains but belong to an owner that is not selected, or to no known
    owner, are reported in RV(unowned) and never touched (except that a rule jumping into a removed chain goes).
  - Also deletes the native nftables tables of the selected owners (kube-proxy's C(ip kube-proxy) and
    C(ip6 kube-proxy), Flannel's C(ip flannel-ipv4) and C(ip6 flannel-ipv6)), kube-proxy's IPVS virtual servers
    whose address is bound on C(kube-ipvs0) (never any other virtual server) and the C(kube-ipvs0) link, and the
    selected owners' ipsets once no remaining rule references them.
  - Before any change the full C(*-save -c), C(nft list ruleset), C(ipvsadm -Sn) and C(ipset save) output is
    written to a new timestamped directory under O(backup_dir) together with a C(manifest.json); RV(backup_dir)
    returns it. When applying fails, every part already changed is put back from that backup and the module fails
    with a message naming the backend, table and error.
  - With O(restore_from), puts back the state that a previous run removed, from its backup directory.
author:
  - kubeshift maintainers (@kubeshift)
options:
  owners:
    description:
      - Whose state to remove. The default fits a Flannel + kube-proxy to Cilium migration.
      - V(kube-proxy) (C(KUBE-SERVICES), C(KUBE-SVC-*), C(KUBE-SEP-*), C(KUBE-POSTROUTING), C(KUBE-MARK-*) and the
        other chains of its iptables, IPVS and nftables modes, its ipsets, its nftables tables, its IPVS state).
      - V(flannel) (C(FLANNEL-*), rules commented C(flanneld masq) or C(flanneld forward), its nftables tables).
      - V(cni-portmap) (C(CNI-*) chains of the portmap, bridge and firewall plugins).
      - V(kubelet) (C(KUBE-FIREWALL) in the filter table, C(KUBE-KUBELET-CANARY), C(KUBE-IPTABLES-HINT)).
      - V(kube-router) (C(KUBE-ROUTER-*), C(KUBE-NWPLCY-*), C(KUBE-POD-FW-*) and its ipsets).
      - V(cilium) (C(CILIUM_*) and C(OLD_CILIUM_*) chains, for a rollback or an uninstall).
    type: list
    elements: str
    choices: [kube-proxy, flannel, cni-portmap, kubelet, kube-router, cilium]
    default: [kube-proxy, flannel, cni-portmap]
  backup_dir:
    description:
      - Directory on the node under which each changing run creates C(netfilter-<UTC timestamp>/). Nothing is
        created when nothing changes or in check mode.
    type: path
    default: /var/lib/kubeshift/backups
  restore_from:
    description:
      - Restore mode. A backup directory written by this module, or V(latest) for the newest one under
        O(backup_dir). Puts back exactly the tables, nftables tables, IPVS services, ipsets and C(kube-ipvs0)
        addresses that run removed; tables it did not change are left alone. O(owners) is ignored.
    type: str
  ipvs:
    description: Handle kube-proxy's IPVS virtual servers and the C(kube-ipvs0) link (needs V(kube-proxy) in O(owners)).
    type: bool
    default: true
  ipsets:
    description: Destroy the selected owners' ipsets that no remaining rule references.
    type: bool
    default: true
  nft_tables:
    description: Delete the selected owners' native nftables tables.
    type: bool
    default: true
  binaries_path:
    description:
      - Directories searched before C(PATH) for C(iptables-*-save/restore), C(nft), C(ipvsadm), C(ipset) and C(ip).
    type: list
    elements: path
    default: []
attributes:
  check_mode:
    support: full
    description: Reports what would be removed; nothing is written, not even the backup.
  diff_mode:
    support: full
    description: The removed lines are shown per backend and table, plus nftables tables, IPVS services and ipsets.
  platform:
    support: full
    platforms: [linux]
    description: Linux nodes only.
notes:
  - Stop kube-proxy and Flannel on the node first, or they re-create their rules.
  - A backend whose C(*-save) binary is missing, a node without C(nft), C(ipvsadm) or C(ipset), and a kernel without
    IPVS (RV(ipvs.status) V(not available)) are not errors.
  - C(KUBE-MARK-MASQ), C(KUBE-MARK-DROP) and C(KUBE-POSTROUTING) count as kube-proxy's (kubelet stopped creating
    them in Kubernetes 1.28); C(KUBE-FIREWALL) is kubelet's in the filter table and kube-proxy's in the nat table.
seealso:
  - name: Cilium kube-proxy-free installation
    description: Upstream procedure for removing kube-proxy.
    link: https://docs.cilium.io/en/stable/network/kubernetes/kubeproxy-free/
"""

EXAMPLES = r"""
---
- name: Remove kube-proxy, Flannel and CNI portmap rules from every backend
  kubeshift.cilium.netfilter_purge:
  register: purge

- name: Show where the backup went
  ansible.builtin.debug:
    msg: "Backup in {{ purge.backup_dir }}; left alone: {{ purge.unowned | map(attribute='chain') | list }}"
  when: purge is changed

- name: Also remove kube-router's network-policy chains and kubelet's chains
  kubeshift.cilium.netfilter_purge:
    owners: [kube-proxy, flannel, cni-portmap, kube-router, kubelet]

- name: Put back what the newest run removed
  kubeshift.cilium.netfilter_purge:
    restore_from: latest
"""

RETURN = r"""
backup_dir:
  description: Backup directory written by this run (purge), or read (restore); null when nothing changed.
  returned: always
  type: str
  sample: /var/lib/kubeshift/backups/netfilter-20261123T091402Z
backends:
  description: Per iptables backend and family, whether the tools exist and whether they hold any rule.
  returned: always
  type: dict
  sample: {legacy: {ipv4: {present: true, usable: true, has_rules: true}, ipv6: {present: true, usable: true,
           has_rules: false}}, nft: {ipv4: {present: true, usable: true, has_rules: true},
           ipv6: {present: false, usable: false, has_rules: false}}}
removed:
  description: Per backend, family and table, the chains removed and how many rules went (purge mode).
  returned: always
  type: list
  elements: dict
  sample: [{backend: legacy, family: ipv4, table: nat, chains: [KUBE-SERVICES, FLANNEL-POSTRTG], rules: 57}]
unowned:
  description:
    - Kubernetes- or CNI-looking chains left in place, with the owner that was not selected (null when unknown).
  returned: always
  type: list
  elements: dict
  sample: [{backend: legacy, family: ipv4, table: filter, chain: KUBE-ROUTER-INPUT, owner: kube-router}]
nft_tables_removed:
  description: Native nftables tables deleted (purge) or re-created (restore), as C(family name).
  returned: always
  type: list
  elements: str
  sample: [ip kube-proxy, ip6 kube-proxy]
ipvs:
  description: IPVS handling.
  returned: always
  type: dict
  contains:
    status:
      description: V(ok), V(not available) (kernel without IPVS), V(not installed) (no ipvsadm) or V(skipped).
      type: str
    message:
      description: Why IPVS was not available, from ipvsadm.
      type: str
    services_removed:
      description: Virtual services removed (purge) or re-added (restore), as C(-t ADDR:PORT).
      type: list
      elements: str
    services_kept:
      description: Virtual services left because their address is not on C(kube-ipvs0).
      type: list
      elements: str
    link_removed:
      description: Whether C(kube-ipvs0) was (or would be) deleted.
      type: bool
  sample: {status: "not available", message: "Can't initialize ipvs: Protocol not available",
           services_removed: [], services_kept: [], link_removed: false}
ipsets_removed:
  description: ipsets destroyed (purge) or re-created (restore).
  returned: always
  type: list
  elements: str
  sample: [KUBE-CLUSTER-IP, KUBE-LOOP-BACK]
ipsets_kept:
  description: Owned ipsets left because a remaining rule still references them.
  returned: always
  type: list
  elements: dict
  sample: [{name: KUBE-CLUSTER-IP, owner: kube-proxy, reason: still referenced by a remaining rule}]
restored:
  description: Restore mode only, what was put back per backend, family and table.
  returned: when O(restore_from) is set
  type: list
  elements: dict
  sample: [{backend: nft, family: ipv4, table: nat}]
"""

import datetime
import json
import os

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.kubeshift.cilium.plugins.module_utils import _netfilter as nf

FAMILIES = (("ipv4", "iptables", "v4"), ("ipv6", "ip6tables", "v6"))
BACKENDS = ("legacy", "nft")
KUBE_IPVS_LINK = "kube-ipvs0"
MANIFEST_SCHEMA = 1


class PurgeError(Exception):
    """A step failed while applying; carries a message for fail_json."""


class Node:
    """All I/O against the node goes through this class (one seam for the unit tests)."""

    def __init__(self, module):
        self.module = module
        self.paths = module.params["binaries_path"] or []

    def find(self, name):
        for directory in self.paths:
            candidate = os.path.join(directory, name)
            if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
                return candidate
        return self.module.get_bin_path(name, required=False, opt_dirs=["/usr/sbin", "/sbin"])

    def run(self, argv, data=None):
        rc, out, err = self.module.run_command(argv, data=data, binary_data=True, check_rc=False,
                                               environ_update={"LANG": "C", "LC_ALL": "C"})
        return rc, out, err


def _first_line(text):
    text = (text or "").strip()
    return text.splitlines()[0] if text else ""


def _tool_names(family_tool, backend):
    return "%s-%s-save" % (family_tool, backend), "%s-%s-restore" % (family_tool, backend)


# ----------------------------------------------------------------------------------------------------- gather


def gather_backends(node):
    """Save and parse every backend. Returns (backends_result, entries) where entries are usable backends."""
    result = {b: {} for b in BACKENDS}
    entries = []
    for family, tool, suffix in FAMILIES:
        for backend in BACKENDS:
            save_name, restore_name = _tool_names(tool, backend)
            save, restore = node.find(save_name), node.find(restore_name)
            info = {"present": bool(save and restore), "usable": False, "has_rules": False}
            result[backend][family] = info
            if not info["present"]:
                continue
            rc, out, err = node.run([save, "-c"])
            source = "%s (%s)" % (save_name, family)
            if rc != 0:
                if "ermission denied" in err or "not permitted" in err:
                    raise PurgeError("%s failed: %s (run as root)" % (save_name, _first_line(err)))
                info["error"] = _first_line(err)
                node.module.warn("%s is not usable, skipped: %s" % (save_name, _first_line(err)))
                continue
            dump = nf.parse_save(out, source)
            info["usable"] = True
            info["has_rules"] = dump.has_rules
            entries.append({"backend": backend, "family": family, "suffix": suffix, "save": save,
                            "restore": restore, "save_name": save_name, "restore_name": restore_name,
                            "dump": dump, "text": out})
    # Old distributions only ship iptables-save/iptables-restore: use them for the backend they drive.
    for family, tool, suffix in FAMILIES:
        if any(result[b][family]["present"] for b in BACKENDS):
            continue
        save, restore = node.find("%s-save" % tool), node.find("%s-restore" % tool)
        if not (save and restore):
            continue
        rc, out, err = node.run([save, "--version"])
        backend = "nft" if "nf_tables" in (out + err) else "legacy"
        info = result[backend][family]
        info["present"] = True
        rc, out, err = node.run([save, "-c"])
        if rc != 0:
            info["error"] = _first_line(err)
            node.module.warn("%s-save is not usable, skipped: %s" % (tool, _first_line(err)))
            continue
        dump = nf.parse_save(out, "%s-save (%s)" % (tool, family))
        info["usable"] = True
        info["has_rules"] = dump.has_rules
        entries.append({"backend": backend, "family": family, "suffix": suffix, "save": save, "restore": restore,
                        "save_name": "%s-save" % tool, "restore_name": "%s-restore" % tool,
                        "dump": dump, "text": out})
    return result, entries


def gather_nft(node, owners, enabled):
    """Probe each native nftables table the selected owners may have, one ``nft list table`` per table.

    ``nft list tables`` would read the whole ruleset (iptables-nft's tables included), which is slow on a node with
    100,000 kube-proxy rules; a listing of one absent table is cheap and fails with ENOENT.
    """
    state = {"binary": None, "remove": [], "listings": {}}
    nft = node.find("nft")
    if not nft or not enabled:
        return state
    state["binary"] = nft
    candidates = [tuple(t) for owner in owners for t in nf.OWNERS[owner]["nft_tables"]]
    for family, name in candidates:
        rc, listing, err = node.run([nft, "list", "table", family, name])
        if rc != 0:
            if "No such file or directory" in err:
                continue
            if "not permitted" in err:
                raise PurgeError("nft list table %s %s failed: %s (run as root)" % (family, name, _first_line(err)))
            node.module.warn("nft is not usable, nftables tables skipped: %s" % _first_line(err))
            state["binary"] = None
            state["remove"] = []
            return state
        nf.check_nft_listing(listing, family, name, "nft list table %s %s" % (family, name))
        state["remove"].append((family, name))
        state["listings"][(family, name)] = listing
    return state


def gather_ipvs(node, owners, enabled):
    state = {"status": "skipped", "message": "", "services": [], "remove": [], "binary": None, "save": "",
             "link": False, "addresses": [], "ip": node.find("ip")}
    if not enabled or "kube-proxy" not in owners:
        return state
    if state["ip"]:
        rc, out, err = node.run([state["ip"], "-o", "addr", "show", "dev", KUBE_IPVS_LINK])
        if rc == 0:
            state["link"] = True
            state["addresses"] = nf.parse_ip_addr_show(out)
    ipvsadm = node.find("ipvsadm")
    if not ipvsadm:
        state["status"] = "not installed"
        return state
    rc, out, err = node.run([ipvsadm, "-Sn"])
    if rc != 0:
        state["status"] = "not available"
        state["message"] = _first_line(err) or _first_line(out)
        return state
    state["status"] = "ok"
    state["binary"] = ipvsadm
    state["save"] = out
    state["services"] = nf.parse_ipvsadm_save(out)
    state["remove"] = nf.plan_ipvs(state["services"], state["addresses"])
    return state


def gather_ipsets(node):
    state = {"binary": None, "names": [], "save": ""}
    ipset = node.find("ipset")
    if not ipset:
        return state
    rc, out, err = node.run([ipset, "list", "-n"])
    if rc != 0:
        node.module.warn("ipset is not usable, skipped: %s" % _first_line(err))
        return state
    state["binary"] = ipset
    state["names"] = nf.parse_ipset_names(out)
    return state


def _service_label(service):
    return " ".join(service["key"])


# ----------------------------------------------------------------------------------------------------- backup


def _new_backup_dir(base):
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    path = os.path.join(base, "netfilter-" + stamp)
    counter = 0
    while os.path.exists(path):
        counter += 1
        path = os.path.join(base, "netfilter-%s-%d" % (stamp, counter))
    os.makedirs(path, 0o700)
    return path


def _write(path, text):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)


def backup_file_name(entry):
    return "%s-save.%s" % ("iptables-" + entry["backend"], entry["suffix"])


def find_latest_backup(base):
    if not os.path.isdir(base):
        raise PurgeError("backup directory %s does not exist" % base)
    candidates = sorted(d for d in os.listdir(base)
                        if d.startswith("netfilter-") and os.path.isfile(os.path.join(base, d, "manifest.json")))
    if not candidates:
        raise PurgeError("no netfilter-* backup with a manifest.json under %s" % base)
    # names sort by timestamp, then by the -N suffix for runs within the same second
    candidates.sort(key=lambda d: (d[:26], int(d[27:]) if len(d) > 27 and d[27:].isdigit() else 0))
    return os.path.join(base, candidates[-1])


# ----------------------------------------------------------------------------------------------------- purge


def purge(module, node):
    owners = nf.validate_owners(module.params["owners"])
    backends, entries = gather_backends(node)
    plans = []
    removed, unowned, diff_parts = [], [], []
    for entry in entries:
        entry["plans"] = nf.plan_dump(entry["dump"], owners)
        for plan in entry["plans"]:
            for chain, owner in plan.unowned:
                unowned.append({"backend": entry["backend"], "family": entry["family"], "table": plan.table.name,
                                "chain": chain, "owner": owner})
            if not plan.changed:
                continue
            plans.append((entry, plan))
            removed.append({"backend": entry["backend"], "family": entry["family"], "table": plan.table.name,
                            "chains": list(plan.removed_chains), "rules": len(plan.removed_rules)})
            diff_parts.append("# iptables-%s %s table %s\n%s" % (entry["backend"], entry["family"], plan.table.name,
                                                                 nf.removed_text(entry["dump"], plan)))
    nft = gather_nft(node, owners, module.params["nft_tables"])
    for family, name in nft["remove"]:
        diff_parts.append("# nft table %s %s\n%s" % (family, name, nft["listings"][(family, name)]))
    ipvs = gather_ipvs(node, owners, module.params["ipvs"])
    remove_link = ipvs["link"]
    for service in ipvs["remove"]:
        diff_parts.append("# ipvs\n%s\n" % "\n".join(service["lines"]))
    if remove_link:
        diff_parts.append("# link %s (%s)\n" % (KUBE_IPVS_LINK, ", ".join(ipvs["addresses"]) or "no addresses"))
    ipsets = gather_ipsets(node) if module.params["ipsets"] else {"binary": None, "names": [], "save": ""}
    referenced = set()
    for entry in entries:
        referenced |= nf.remaining_match_sets(entry["dump"], entry["plans"])
    destroy, kept_sets = nf.plan_ipsets(ipsets["names"], owners, referenced)
    for name in destroy:
        diff_parts.append("# ipset %s\n" % name)

    ipvs_result = {"status": ipvs["status"], "message": ipvs["message"],
                   "services_removed": [_service_label(s) for s in ipvs["remove"]],
                   "services_kept": [_service_label(s) for s in ipvs["services"] if s not in ipvs["remove"]],
                   "link_removed": remove_link}
    changed = bool(plans or nft["remove"] or ipvs["remove"] or remove_link or destroy)
    result = {"changed": changed, "backup_dir": None, "backends": backends, "removed": removed, "unowned": unowned,
              "nft_tables_removed": ["%s %s" % t for t in nft["remove"]], "ipvs": ipvs_result,
              "ipsets_removed": destroy, "ipsets_kept": kept_sets}
    if changed and module._diff:
        result["diff"] = {"before": "".join(diff_parts), "after": "",
                          "before_header": "netfilter state to remove", "after_header": "after purge"}
    if not changed or module.check_mode:
        return result

    # ---- backup (before any change)
    try:
        backup = _new_backup_dir(module.params["backup_dir"])
        manifest = {"schema": MANIFEST_SCHEMA, "kind": "kubeshift.cilium.netfilter_purge",
                    "created": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "owners": owners, "backends": [], "nft_tables": [], "ipvs": {}, "ipsets": {}, "removed": removed,
                    "unowned": unowned}
        for entry in entries:
            name = backup_file_name(entry)
            _write(os.path.join(backup, name), entry["text"])
            manifest["backends"].append({"backend": entry["backend"], "family": entry["family"], "file": name,
                                         "tables_modified": [p.table.name for e, p in plans if e is entry]})
        if nft["remove"]:
            # For reference only (a restore uses the per-table files): iptables-nft's tables are in its save files.
            rc, ruleset, err = node.run([nft["binary"], "list", "ruleset"])
            _write(os.path.join(backup, "nft-ruleset.nft"), ruleset if rc == 0 else "")
        for family, name in nft["remove"]:
            fname = "nft-table-%s-%s.nft" % (family, name.replace("/", "_"))
            _write(os.path.join(backup, fname), nft["listings"][(family, name)])
            manifest["nft_tables"].append({"family": family, "name": name, "file": fname})
        if ipvs["binary"]:
            _write(os.path.join(backup, "ipvsadm.rules"), ipvs["save"])
        manifest["ipvs"] = {"services_removed": [s["lines"] for s in ipvs["remove"]],
                            "link": {"name": KUBE_IPVS_LINK, "removed": remove_link, "addresses": ipvs["addresses"]}}
        if ipsets["binary"]:
            rc, saved, err = node.run([ipsets["binary"], "save"])
            if rc != 0:
                raise PurgeError("ipset save failed: %s" % _first_line(err))
            ipsets["save"] = saved
            _write(os.path.join(backup, "ipset.save"), saved)
        manifest["ipsets"] = {"destroyed": destroy, "file": "ipset.save" if ipsets["binary"] else None}
        # One line: json's C encoder only runs without indent, and the manifest names every removed chain
        # (70,000 on a big kube-proxy node). ``jq . manifest.json`` pretty-prints it.
        _write(os.path.join(backup, "manifest.json"), json.dumps(manifest, sort_keys=True) + "\n")
    except (OSError, IOError) as exc:
        raise PurgeError("cannot write the backup under %s: %s; nothing was changed"
                         % (module.params["backup_dir"], exc))
    result["backup_dir"] = backup

    # ---- apply, keeping an undo list
    undo = []
    try:
        for entry, plan in plans:
            undo.append(("table", entry, plan.table))
            script = entry["dump"].purge_script(plan)
            rc, out, err = node.run([entry["restore"], "--wait=10", "--noflush", "-c"], data=script)
            if rc != 0:
                raise PurgeError("%s (%s) failed for table %s: %s" % (entry["restore_name"], entry["family"],
                                                                      plan.table.name, _first_line(err) or "rc=%d" % rc))
        for family, name in nft["remove"]:
            rc, out, err = node.run([nft["binary"], "delete", "table", family, name])
            if rc != 0:
                raise PurgeError("nft delete table %s %s failed: %s" % (family, name, _first_line(err)))
            undo.append(("nft", family, name))
        for service in ipvs["remove"]:
            rc, out, err = node.run([ipvs["binary"], "-D"] + service["key"])
            if rc != 0:
                raise PurgeError("ipvsadm -D %s failed: %s" % (_service_label(service), _first_line(err)))
            undo.append(("ipvs", service))
        if remove_link:
            rc, out, err = node.run([ipvs["ip"], "link", "del", KUBE_IPVS_LINK])
            if rc != 0 and "Cannot find device" not in err:
                raise PurgeError("ip link del %s failed: %s" % (KUBE_IPVS_LINK, _first_line(err)))
            undo.append(("link", ipvs["addresses"]))
        for name in destroy:
            rc, out, err = node.run([ipsets["binary"], "destroy", name])
            if rc != 0:
                raise PurgeError("ipset destroy %s failed: %s" % (name, _first_line(err)))
            undo.append(("ipset", name))
    except PurgeError as exc:
        problems = rollback(node, undo, nft, ipvs, ipsets)
        msg = "%s; the node was restored from the backup %s" % (exc, backup)
        if problems:
            msg = "%s; the node was NOT fully restored from the backup %s: %s" % (exc, backup, "; ".join(problems))
        raise PurgeError(msg)
    return result


def rollback(node, undo, nft, ipvs, ipsets):
    """Undo applied steps in reverse order from the saved state. Returns a list of problems (empty on success)."""
    problems = []
    for step in reversed(undo):
        kind = step[0]
        if kind == "ipset":
            data = nf.ipset_save_subset(ipsets["save"], [step[1]])
            rc, out, err = node.run([ipsets["binary"], "restore", "-exist"], data=data)
            if rc != 0:
                problems.append("ipset %s: %s" % (step[1], _first_line(err)))
        elif kind == "link":
            problems.extend(recreate_link(node, ipvs["ip"], step[1]))
        elif kind == "ipvs":
            rc, out, err = node.run([ipvs["binary"], "-R"], data="\n".join(step[1]["lines"]) + "\n")
            if rc != 0:
                problems.append("ipvs %s: %s" % (_service_label(step[1]), _first_line(err)))
        elif kind == "nft":
            dummy, family, name = step
            listing = nft["listings"][(family, name)]
            rc, out, err = node.run([nft["binary"], "-f", "-"], data=nf.nft_restore_script(family, name, listing))
            if rc != 0:
                problems.append("nft table %s %s: %s" % (family, name, _first_line(err)))
        elif kind == "table":
            dummy, entry, table = step
            rc, out, err = node.run([entry["restore"], "--wait=10", "-c"], data=entry["dump"].section(table))
            if rc != 0:
                problems.append("%s table %s: %s" % (entry["restore_name"], table.name, _first_line(err)))
    return problems


def recreate_link(node, ip, addresses):
    """Best effort: kube-proxy re-creates kube-ipvs0 itself; without the dummy driver this cannot work."""
    if not ip:
        return ["%s: no ip binary" % KUBE_IPVS_LINK]
    rc, out, err = node.run([ip, "link", "add", KUBE_IPVS_LINK, "type", "dummy"])
    if rc != 0:
        return ["%s not re-created: %s" % (KUBE_IPVS_LINK, _first_line(err))]
    problems = []
    for address in addresses:
        prefix = "/128" if ":" in address else "/32"
        rc, out, err = node.run([ip, "addr", "add", address + prefix, "dev", KUBE_IPVS_LINK])
        if rc != 0:
            problems.append("%s address %s: %s" % (KUBE_IPVS_LINK, address, _first_line(err)))
    return problems


# ----------------------------------------------------------------------------------------------------- restore


def _read(path):
    try:
        with open(path) as handle:
            return handle.read()
    except (OSError, IOError) as exc:
        raise PurgeError("cannot read %s: %s" % (path, exc))


def restore(module, node):
    spec = module.params["restore_from"]
    path = find_latest_backup(module.params["backup_dir"]) if spec == "latest" else spec
    manifest_path = os.path.join(path, "manifest.json")
    try:
        manifest = json.loads(_read(manifest_path))
    except ValueError as exc:
        raise PurgeError("%s is not valid JSON: %s" % (manifest_path, exc))
    if not isinstance(manifest, dict) or manifest.get("schema") != MANIFEST_SCHEMA:
        raise PurgeError("%s is not a netfilter_purge manifest (schema %s)" % (manifest_path, MANIFEST_SCHEMA))
    backends, entries = gather_backends(node)
    current = {(e["backend"], e["family"]): e for e in entries}
    actions, restored, diff_parts = [], [], []

    # ipsets first: restored rules may reference them
    sets = manifest.get("ipsets") or {}
    sets_back = []
    ipset_bin = node.find("ipset") if sets.get("destroyed") else None
    if sets.get("destroyed"):
        if not ipset_bin:
            raise PurgeError("the backup destroyed ipsets but ipset is not installed")
        saved = _read(os.path.join(path, sets.get("file") or "ipset.save"))
        rc, out, err = node.run([ipset_bin, "list", "-n"])
        present = set(nf.parse_ipset_names(out)) if rc == 0 else set()
        missing = [n for n in sets["destroyed"] if n not in present]
        if missing:
            sets_back = missing
            actions.append(("ipset", nf.ipset_save_subset(saved, missing)))
            diff_parts.append("# ipsets\n%s\n" % "\n".join(missing))

    for item in manifest.get("backends", []):
        if not item.get("tables_modified"):
            continue
        entry = current.get((item["backend"], item["family"]))
        if entry is None:
            raise PurgeError("the backup has %s (%s) tables but that backend is not usable here"
                             % (item["backend"], item["family"]))
        saved = nf.parse_save(_read(os.path.join(path, item["file"])), os.path.join(path, item["file"]))
        for name in item["tables_modified"]:
            table = saved.table(name)
            if table is None:
                raise PurgeError("%s has no table %s" % (item["file"], name))
            wanted = saved.section(table)
            now = entry["dump"].table(name)
            if now is not None and nf.strip_counters(entry["dump"].section(now)) == nf.strip_counters(wanted):
                continue
            actions.append(("table", entry, name, wanted))
            restored.append({"backend": item["backend"], "family": item["family"], "table": name})
            diff_parts.append("# iptables-%s %s table %s\n%s" % (item["backend"], item["family"], name, wanted))

    nft_back = []
    if manifest.get("nft_tables"):
        nft = node.find("nft")
        if not nft:
            raise PurgeError("the backup removed nftables tables but nft is not installed")
        rc, out, err = node.run([nft, "list", "tables"])
        present = set(nf.parse_nft_tables(out)) if rc == 0 else set()
        for item in manifest["nft_tables"]:
            key = (item["family"], item["name"])
            listing = _read(os.path.join(path, item["file"]))
            if key in present:
                rc, now, err = node.run([nft, "list", "table", key[0], key[1]])
                if rc == 0 and now == listing:
                    continue
            actions.append(("nft", nft, key, listing))
            nft_back.append("%s %s" % key)
            diff_parts.append("# nft table %s %s\n%s" % (key[0], key[1], listing))

    ipvs_info = manifest.get("ipvs") or {}
    ipvs_back = []
    ipvs_status = "skipped"
    if ipvs_info.get("services_removed"):
        ipvsadm = node.find("ipvsadm")
        if not ipvsadm:
            raise PurgeError("the backup removed IPVS services but ipvsadm is not installed")
        rc, out, err = node.run([ipvsadm, "-Sn"])
        if rc != 0:
            raise PurgeError("the backup removed IPVS services but IPVS is not available: %s" % _first_line(err))
        ipvs_status = "ok"
        present = set(tuple(s["key"]) for s in nf.parse_ipvsadm_save(out))
        for lines in ipvs_info["services_removed"]:
            service = nf.parse_ipvsadm_save("\n".join(lines), os.path.join(path, "manifest.json"))[0]
            if tuple(service["key"]) in present:
                continue
            actions.append(("ipvs", ipvsadm, service))
            ipvs_back.append(_service_label(service))
            diff_parts.append("# ipvs\n%s\n" % "\n".join(lines))
    link = ipvs_info.get("link") or {}
    ipvs_message = ""
    if link.get("removed"):
        # A link is not netfilter state: kube-proxy re-creates kube-ipvs0 (a dummy device) when it starts.
        ipvs_message = "%s was removed by that run and is not re-created; kube-proxy re-creates it" % KUBE_IPVS_LINK

    changed = bool(actions)
    result = {"changed": changed, "backup_dir": path, "backends": backends, "removed": [], "unowned": [],
              "restored": restored, "nft_tables_removed": nft_back, "ipsets_removed": sets_back, "ipsets_kept": [],
              "ipvs": {"status": ipvs_status, "message": ipvs_message, "services_removed": ipvs_back,
                       "services_kept": [], "link_removed": False}}
    if changed and module._diff:
        result["diff"] = {"before": "", "after": "".join(diff_parts), "before_header": "current",
                          "after_header": "restored from %s" % path}
    if not changed or module.check_mode:
        return result
    for action in actions:
        kind = action[0]
        if kind == "ipset":
            rc, out, err = node.run([ipset_bin, "restore", "-exist"], data=action[1])
            what = "ipset restore"
        elif kind == "table":
            dummy, entry, name, text = action
            rc, out, err = node.run([entry["restore"], "--wait=10", "-c"], data=text)
            what = "%s (%s) table %s" % (entry["restore_name"], entry["family"], name)
        elif kind == "nft":
            dummy, nft, key, listing = action
            rc, out, err = node.run([nft, "-f", "-"], data=nf.nft_restore_script(key[0], key[1], listing))
            what = "nft table %s %s" % key
        else:
            dummy, ipvsadm, service = action
            rc, out, err = node.run([ipvsadm, "-R"], data="\n".join(service["lines"]) + "\n")
            what = "ipvsadm -R %s" % _service_label(service)
        if rc != 0:
            raise PurgeError("restore from %s failed at %s: %s" % (path, what, _first_line(err) or "rc=%d" % rc))
    return result


def main():
    module = AnsibleModule(
        argument_spec=dict(
            owners=dict(type="list", elements="str", default=list(nf.DEFAULT_OWNERS), choices=list(nf.OWNER_NAMES)),
            backup_dir=dict(type="path", default="/var/lib/kubeshift/backups"),
            restore_from=dict(type="str"),
            ipvs=dict(type="bool", default=True),
            ipsets=dict(type="bool", default=True),
            nft_tables=dict(type="bool", default=True),
            binaries_path=dict(type="list", elements="path", default=[]),
        ),
        supports_check_mode=True,
    )
    node = Node(module)
    try:
        if module.params["restore_from"]:
            result = restore(module, node)
        else:
            result = purge(module, node)
    except PurgeError as exc:
        module.fail_json(msg=str(exc))
    except ValueError as exc:
        module.fail_json(msg="%s; nothing was changed" % exc)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
