# -*- coding: utf-8 -*-
# Copyright (c) kubeshift maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Kernel configuration parsing for kubeshift.cilium.

This is a private module_utils file: no API guarantee, it may change at any time.

Everything here is pure: callers read the bytes (``/proc/config.gz``, ``/boot/config-<release>`` or a captured
file) and pass them in.  Errors are raised as :class:`KernelConfigError` (a ``ValueError``) whose message names
the source and the problem.
"""

from __future__ import annotations

import gzip
import re
import zlib

GZIP_MAGIC = b"\x1f\x8b"

# Kernel modules Cilium's agent loads (or needs loadable) and the Kconfig option that builds each of them.
# Filters use this to tell which module a tristate option implies; node_facts uses it to classify modules on
# hosts without modules.builtin / CONFIG_MODULES.
MODULE_CONFIG_OPTIONS = {
    "ip_tables": "CONFIG_IP_NF_IPTABLES",
    "iptable_nat": "CONFIG_IP_NF_NAT",
    "iptable_mangle": "CONFIG_IP_NF_MANGLE",
    "iptable_raw": "CONFIG_IP_NF_RAW",
    "iptable_filter": "CONFIG_IP_NF_FILTER",
    "ip6_tables": "CONFIG_IP6_NF_IPTABLES",
    "ip6table_mangle": "CONFIG_IP6_NF_MANGLE",
    "ip6table_raw": "CONFIG_IP6_NF_RAW",
    "ip6table_filter": "CONFIG_IP6_NF_FILTER",
    "xt_socket": "CONFIG_NETFILTER_XT_MATCH_SOCKET",
    "xt_TPROXY": "CONFIG_NETFILTER_XT_TARGET_TPROXY",
    "xt_mark": "CONFIG_NETFILTER_XT_MARK",
    "xt_CT": "CONFIG_NETFILTER_XT_TARGET_CT",
    "xt_comment": "CONFIG_NETFILTER_XT_MATCH_COMMENT",
    "xt_set": "CONFIG_NETFILTER_XT_SET",
    "ip_set": "CONFIG_IP_SET",
    "ip_set_hash_ip": "CONFIG_IP_SET_HASH_IP",
    "vxlan": "CONFIG_VXLAN",
    "geneve": "CONFIG_GENEVE",
    "wireguard": "CONFIG_WIREGUARD",
    "sch_fq": "CONFIG_NET_SCH_FQ",
    "sch_ingress": "CONFIG_NET_SCH_INGRESS",
    "cls_bpf": "CONFIG_NET_CLS_BPF",
    "br_netfilter": "CONFIG_BRIDGE_NETFILTER",
    "overlay": "CONFIG_OVERLAY_FS",
    "xfrm_user": "CONFIG_XFRM_USER",
    "xfrm_algo": "CONFIG_XFRM_ALGO",
    "esp4": "CONFIG_INET_ESP",
    "esp6": "CONFIG_INET6_ESP",
    "inet_diag": "CONFIG_INET_DIAG",
    "udp_diag": "CONFIG_INET_UDP_DIAG",
    "af_alg": "CONFIG_CRYPTO_USER_API",
    "algif_hash": "CONFIG_CRYPTO_USER_API_HASH",
    "sha1_generic": "CONFIG_CRYPTO_SHA1",
    "sha256_generic": "CONFIG_CRYPTO_SHA256",
    "aes_generic": "CONFIG_CRYPTO_AES",
    "aead": "CONFIG_CRYPTO_AEAD2",
    "gcm": "CONFIG_CRYPTO_GCM",
    "seqiv": "CONFIG_CRYPTO_SEQIV",
    "cbc": "CONFIG_CRYPTO_CBC",
    "hmac": "CONFIG_CRYPTO_HMAC",
    "ipcomp": "CONFIG_INET_IPCOMP",
    "ipcomp6": "CONFIG_INET6_IPCOMP",
    "xfrm4_tunnel": "CONFIG_INET_XFRM_TUNNEL",
    "xfrm6_tunnel": "CONFIG_INET6_XFRM_TUNNEL",
    "tunnel4": "CONFIG_INET_TUNNEL",
    "tunnel6": "CONFIG_INET6_TUNNEL",
    "xfrm4_mode_tunnel": "CONFIG_INET_XFRM_MODE_TUNNEL",
}

# What node_facts classifies when the caller does not pass a list (what Cilium's agent loads or probes).
DEFAULT_MODULES = [
    "ip_tables", "iptable_nat", "iptable_mangle", "iptable_raw", "iptable_filter",
    "ip6_tables", "ip6table_mangle", "ip6table_raw", "ip6table_filter",
    "xt_socket", "xt_TPROXY", "xt_mark", "xt_CT", "xt_comment",
    "vxlan", "geneve", "wireguard",
    "sch_fq", "cls_bpf", "sch_ingress",
    "ip_set", "ip_set_hash_ip", "xt_set",
]

# Architecture options, checked in order; value is the `uname -m` name.
_ARCH_OPTIONS = [
    ("CONFIG_X86_64", "x86_64"),
    ("CONFIG_ARM64", "aarch64"),
    ("CONFIG_RISCV", "riscv64"),
    ("CONFIG_S390", "s390x"),
    ("CONFIG_PPC64", "ppc64le"),
    ("CONFIG_X86_32", "i686"),
    ("CONFIG_ARM", "armv7l"),
]
_HEADER_ARCH = {"x86_64": "x86_64", "arm64": "aarch64", "riscv": "riscv64", "s390": "s390x", "powerpc": "ppc64le"}

_SET_RE = re.compile(r"^(CONFIG_[A-Za-z0-9_]+)=(.*)$")
_NOT_SET_RE = re.compile(r"^#\s*(CONFIG_[A-Za-z0-9_]+) is not set\s*$")
_HEADER_RE = re.compile(r"^#\s*Linux/(\S+)\s+(\S+)\s+Kernel Configuration\s*$", re.IGNORECASE)
_COMMENT_RE = re.compile(r"^#\s*(?:Linux\s+)?kernel\s+version:?\s+(\S+)", re.IGNORECASE)
_UBUNTU_SIG_RE = re.compile(r"^Ubuntu\s+(\d+\.\d+\.\d+)-(\d+)\.[^-\s]+-(\S+)")
_RELEASE_TOKEN_RE = re.compile(r"\d+\.\d+(?:\.\d+)?\S*")
_VERSION_RE = re.compile(r"^(\d+)(?:\.(\d+))?(?:\.(\d+))?")


class KernelConfigError(ValueError):
    """The kernel config cannot be read or is not a kernel config; the message names the source."""


def is_gzip(data: bytes) -> bool:
    """True when ``data`` starts with the gzip magic bytes (the file name is irrelevant)."""
    return data[:2] == GZIP_MAGIC


def decode_config(data: bytes, source: str) -> str:
    """Return the text of a plain or gzip-compressed kernel config; raise KernelConfigError if corrupt."""
    if is_gzip(data):
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as exc:
            raise KernelConfigError("%s: corrupt gzip data (%s)" % (source, exc))
    return data.decode("utf-8", errors="replace")


def _unquote(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == '"' and value[-1] == '"':
        return value[1:-1].replace('\\"', '"').replace("\\\\", "\\")
    return value


def parse_options(text: str, source: str) -> dict:
    """Parse kernel config text into ``{CONFIG_X: 'y'|'m'|'n'|<string>}``.

    ``# CONFIG_X is not set`` becomes ``'n'``; absent options are not keys.  Raises KernelConfigError when the
    text holds no option at all (not a kernel config).
    """
    options = {}
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        match = _SET_RE.match(line)
        if match:
            options[match.group(1)] = _unquote(match.group(2))
            continue
        match = _NOT_SET_RE.match(line)
        if match:
            options[match.group(1)] = "n"
    if not options:
        raise KernelConfigError("%s: not a kernel config (no CONFIG_* lines found)" % source)
    return options


def _signature_release(signature: str) -> str | None:
    match = _UBUNTU_SIG_RE.match(signature)
    if match:
        return "%s-%s-%s" % match.groups()
    match = _RELEASE_TOKEN_RE.search(signature)
    return match.group(0) if match else None


def find_release(text: str, options: dict | None = None) -> tuple:
    """Find the kernel release a config was built for.

    Returns ``(release, source)`` with source ``config_version_signature`` (distro signature such as Ubuntu's
    ``"Ubuntu 5.15.0-91.101-generic 5.15.131"`` → ``5.15.0-91-generic``; it names the release ``uname -r`` shows,
    so it wins), ``config_header`` (``# Linux/x86 6.1.0 Kernel Configuration``) or ``config_comment``
    (``# Linux kernel version: 3.10.0`` / ``# Kernel Version: …``), or ``(None, None)``.
    """
    if options is None:
        options = parse_options(text, "<text>")
    signature = options.get("CONFIG_VERSION_SIGNATURE")
    if signature:
        release = _signature_release(signature)
        if release:
            return release, "config_version_signature"
    header = None
    comment = None
    for line in text.splitlines()[:40]:
        line = line.strip()
        if not line.startswith("#"):
            continue
        if header is None:
            match = _HEADER_RE.match(line)
            if match:
                header = match.group(2)
                continue
        if comment is None:
            match = _COMMENT_RE.match(line)
            if match:
                comment = match.group(1)
    if header:
        return header, "config_header"
    if comment:
        return comment, "config_comment"
    return None, None


def header_architecture(text: str) -> str | None:
    """``uname -m`` name from a ``# Linux/<arch> … Kernel Configuration`` header, or None."""
    for line in text.splitlines()[:40]:
        match = _HEADER_RE.match(line.strip())
        if match:
            return _HEADER_ARCH.get(match.group(1).lower())
    return None


def config_architecture(options: dict, text: str = "") -> str | None:
    """Architecture (``uname -m`` spelling) a config was built for: CONFIG_X86_64 / CONFIG_ARM64 / …"""
    for option, arch in _ARCH_OPTIONS:
        if options.get(option) == "y":
            return arch
    return header_architecture(text) if text else None


def release_version(release: str | None) -> list:
    """Numeric prefix of a kernel release: ``'4.18.0-553.el8_10.x86_64'`` → ``[4, 18, 0]``; ``[]`` if none."""
    if not release:
        return []
    match = _VERSION_RE.match(release.strip())
    if not match:
        return []
    return [int(part) for part in match.groups() if part is not None]


def releases_disagree(header_release: str | None, release: str | None) -> bool:
    """True when both are known and name different major.minor lines (6.1.192 vs 6.1.0-28-amd64 agree)."""
    left = release_version(header_release)[:2]
    right = release_version(release)[:2]
    return bool(left) and bool(right) and left != right


def load_config(data: bytes, source: str) -> dict:
    """Decode and parse one kernel config file's bytes.

    Returns ``{"options", "header_release", "header_release_source", "architecture"}``; raises KernelConfigError.
    """
    text = decode_config(data, source)
    options = parse_options(text, source)
    release, release_source = find_release(text, options)
    return {
        "options": options,
        "header_release": release,
        "header_release_source": release_source,
        "architecture": config_architecture(options, text),
    }


def normalize_module_name(name: str) -> str:
    """Module names treat ``-`` and ``_`` alike; the canonical spelling uses ``_``."""
    return name.strip().replace("-", "_")


def module_option(name: str) -> str | None:
    """Kconfig option that builds module ``name`` (None when unknown)."""
    return MODULE_CONFIG_OPTIONS.get(normalize_module_name(name))


# Options a caller always gets back, whatever it asked for: they decide how the rest is read.
ALWAYS_RETURNED = ("CONFIG_MODULES", "CONFIG_X86_64", "CONFIG_ARM64")


def select_options(options: dict, wanted) -> dict:
    """The subset of ``options`` named in ``wanted`` (plus ALWAYS_RETURNED); everything when ``wanted`` is empty."""
    if not wanted:
        return options
    names = set(wanted)
    names.update(ALWAYS_RETURNED)
    return dict((name, options[name]) for name in names if name in options)
