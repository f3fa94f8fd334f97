# -*- coding: utf-8 -*-
# Copyright (c) kubeshift maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Unit tests for the kernel config parser, on real distro configs and samples derived from them."""

from __future__ import annotations

import gzip
import os

import pytest

from ansible_collections.kubeshift.cilium.plugins.module_utils import _cilium_matrix as matrix
from ansible_collections.kubeshift.cilium.plugins.module_utils import _kconfig as kconfig

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")


def fixture_bytes(name):
    with open(os.path.join(FIXTURES, name), "rb") as handle:
        return handle.read()


def load(name):
    return kconfig.load_config(fixture_bytes(name), name)


# ---------------------------------------------------------------------------------------------------- whole configs

@pytest.mark.parametrize("name, arch, release, source, expected", [
    # Debian 12 cloud kernel, amd64: modular netfilter and tunnels.
    ("node_kconfig_debian12_6.1.192_amd64_cloud.gz", "x86_64", "6.1.192", "config_header", {
        "CONFIG_BPF": "y", "CONFIG_BPF_JIT": "y", "CONFIG_MODULES": "y", "CONFIG_VXLAN": "m", "CONFIG_GENEVE": "m",
        "CONFIG_WIREGUARD": "m", "CONFIG_CRYPTO_USER_API_HASH": "m", "CONFIG_SCHEDSTATS": "y",
        "CONFIG_IKCONFIG": "n", "CONFIG_HZ": "250", "CONFIG_LOCALVERSION": "",
    }),
    # Debian 12, arm64.
    ("node_kconfig_debian12_6.1.192_arm64.gz", "aarch64", "6.1.192", "config_header", {
        "CONFIG_ARM64": "y", "CONFIG_MODULES": "y", "CONFIG_NET_CLS_BPF": "m", "CONFIG_VXLAN": "m",
        "CONFIG_SCHEDSTATS": "y",
    }),
    # This CI machine: Firecracker 6.18 without CONFIG_MODULES.
    ("node_kconfig_firecracker_6.18.44_nomodules.gz", "x86_64", "6.18.44", "config_header", {
        "CONFIG_MODULES": "n", "CONFIG_VXLAN": "y", "CONFIG_GENEVE": "n", "CONFIG_SCHEDSTATS": "n",
        "CONFIG_CRYPTO_USER_API_HASH": "n", "CONFIG_IKCONFIG_PROC": "y",
    }),
])
def test_real_configs(name, arch, release, source, expected):
    result = load(name)
    assert result["architecture"] == arch
    assert result["header_release"] == release
    assert result["header_release_source"] == source
    for option, value in expected.items():
        assert result["options"][option] == value, option
    assert len(result["options"]) > 2000


def test_absent_options_are_not_keys():
    options = load("node_kconfig_debian12_6.1.192_amd64_cloud.gz")["options"]
    # arm64-only option and a made-up one are absent on amd64
    assert "CONFIG_ARM64" not in options
    assert "CONFIG_NO_SUCH_OPTION" not in options
    # NETKIT does not exist in 6.1
    assert "CONFIG_NETKIT" not in options


def test_ymn_and_strings():
    text = "\n".join([
        "# Linux/x86 6.8.0 Kernel Configuration",
        "CONFIG_A=y", "CONFIG_B=m", "# CONFIG_C is not set", "CONFIG_D=n",
        'CONFIG_E="quoted \\"value\\""', "CONFIG_F=0x10", "  CONFIG_G=y  ",
        "#CONFIG_H is not set", "# CONFIG_I is not set, really",
    ])
    options = kconfig.parse_options(text, "t")
    expected = {"CONFIG_A": "y", "CONFIG_B": "m", "CONFIG_C": "n", "CONFIG_D": "n",
                "CONFIG_E": 'quoted "value"', "CONFIG_F": "0x10", "CONFIG_G": "y", "CONFIG_H": "n"}
    assert options == expected


# ---------------------------------------------------------------------------------------------------- releases

def test_rhel8_header_has_full_release():
    result = load("node_kconfig_rhel8_4.18.0-553.el8_10.x86_64.config")
    assert result["header_release"] == "4.18.0-553.el8_10.x86_64"
    assert result["header_release_source"] == "config_header"
    assert kconfig.release_version(result["header_release"]) == [4, 18, 0]
    assert result["architecture"] == "x86_64"
    assert "CONFIG_NETKIT" not in result["options"]
    assert result["options"]["CONFIG_INET_XFRM_MODE_TUNNEL"] == "m"


def test_ubuntu_signature_wins_over_header():
    result = load("node_kconfig_ubuntu2204_5.15.0-91-generic.config")
    assert result["header_release"] == "5.15.0-91-generic"
    assert result["header_release_source"] == "config_version_signature"
    assert result["options"]["CONFIG_SCHEDSTATS"] == "n"
    assert result["options"]["CONFIG_NETKIT"] == "n"


@pytest.mark.parametrize("signature, release", [
    ("Ubuntu 5.15.0-91.101-generic 5.15.131", "5.15.0-91-generic"),
    ("Ubuntu 6.17.0-14.14~24.04.1-generic 6.17.9", "6.17.0-14-generic"),
    ("Ubuntu 6.8.0-1012.13-aws 6.8.12", "6.8.0-1012-aws"),
    ("Custom build 6.6.30-custom", "6.6.30-custom"),
])
def test_signature_forms(signature, release):
    text = 'CONFIG_VERSION_SIGNATURE="%s"\nCONFIG_BPF=y\n' % signature
    assert kconfig.find_release(text) == (release, "config_version_signature")


def test_comment_release():
    result = load("node_kconfig_comment_5.4.0.config")
    assert (result["header_release"], result["header_release_source"]) == ("5.4.0", "config_comment")
    assert kconfig.find_release("# Kernel Version: 5.10.0-rt\nCONFIG_BPF=y\n") == ("5.10.0-rt", "config_comment")


def test_no_release_anywhere():
    assert kconfig.find_release("CONFIG_BPF=y\n") == (None, None)


@pytest.mark.parametrize("header, release, disagree", [
    ("6.1.192", "6.1.0-28-amd64", False),          # Debian: upstream sublevel vs ABI 6.1.0
    ("6.18.44", "6.18.44-fc-v669", False),
    ("5.15.0-91-generic", "6.1.0-28-amd64", True),  # a config of another kernel
    ("4.18.0-553.el8_10.x86_64", "5.14.0-427.el9.x86_64", True),
    (None, "6.1.0", False),
    ("6.1.0", None, False),
    ("garbage", "6.1.0", False),
])
def test_releases_disagree(header, release, disagree):
    assert kconfig.releases_disagree(header, release) is disagree


@pytest.mark.parametrize("release, version", [
    ("4.18.0-553.el8_10.x86_64", [4, 18, 0]),
    ("6.1.0-28-amd64", [6, 1, 0]),
    ("6.18.44-fc-v669", [6, 18, 44]),
    ("5.15", [5, 15]),
    ("vmlinuz", []),
    ("", []),
    (None, []),
])
def test_release_version(release, version):
    assert kconfig.release_version(release) == version


# ---------------------------------------------------------------------------------------------------- bad input

def test_gzip_detected_by_magic_not_name(tmp_path):
    plain = fixture_bytes("node_kconfig_rhel8_4.18.0-553.el8_10.x86_64.config")
    assert not kconfig.is_gzip(plain)
    packed = gzip.compress(plain)
    assert kconfig.is_gzip(packed)
    # a gzip file named like a plain config, and a plain file named .gz, both work
    assert kconfig.load_config(packed, "config-4.18")["options"] == kconfig.load_config(plain, "x.gz")["options"]


def test_truncated_gzip():
    with pytest.raises(kconfig.KernelConfigError) as err:
        load("node_kconfig_truncated.gz")
    assert "node_kconfig_truncated.gz: corrupt gzip data" in str(err.value)


def test_corrupt_gzip_header():
    with pytest.raises(kconfig.KernelConfigError, match="x.gz: corrupt gzip data"):
        kconfig.load_config(b"\x1f\x8bnot really gzip", "x.gz")


@pytest.mark.parametrize("data", [b"", b"hello world\n", fixture_bytes("node_mountinfo_host_hybrid.txt")])
def test_not_a_kernel_config(data):
    with pytest.raises(kconfig.KernelConfigError, match="f: not a kernel config"):
        kconfig.load_config(data, "f")


def test_error_is_value_error():
    assert issubclass(kconfig.KernelConfigError, ValueError)


# ---------------------------------------------------------------------------------------------------- arch, modules

@pytest.mark.parametrize("options, text, arch", [
    ({"CONFIG_X86_64": "y"}, "", "x86_64"),
    ({"CONFIG_ARM64": "y"}, "", "aarch64"),
    ({"CONFIG_X86_64": "n"}, "", None),
    ({}, "# Linux/arm64 6.1.0 Kernel Configuration\n", "aarch64"),
    ({}, "# Linux/mips 6.1.0 Kernel Configuration\n", None),
])
def test_config_architecture(options, text, arch):
    assert kconfig.config_architecture(options, text) == arch


def test_module_names_normalise():
    assert kconfig.normalize_module_name("ip6-tables") == "ip6_tables"
    assert kconfig.module_option("sch-ingress") == "CONFIG_NET_SCH_INGRESS"
    assert kconfig.module_option("xt_TPROXY") == "CONFIG_NETFILTER_XT_TARGET_TPROXY"
    assert kconfig.module_option("nope") is None


def test_default_modules_all_mapped():
    for name in kconfig.DEFAULT_MODULES:
        assert kconfig.module_option(name), name


def test_every_module_the_matrix_asks_for_is_mapped():
    """node_facts must know the option of every module the requirements can ask for (CONFIG_MODULES=n hosts)."""
    for option, module in matrix.MODULES.items():
        mapped = kconfig.module_option(module)
        assert mapped, module
        # several options can build one module (MARK target and match → xt_mark; AEAD/AEAD2 → aead)
        if module not in ("xt_mark", "aead"):
            assert mapped == option, (module, mapped, option)
