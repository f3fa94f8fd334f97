# -*- coding: utf-8 -*-
# Copyright (c) kubeshift maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Test helper: run a module's ``main()`` in-process with given arguments and catch what it returns."""

from __future__ import annotations

import contextlib
import json

import pytest

from ansible.module_utils import basic
from ansible.module_utils.common.text.converters import to_bytes


class ExitJson(Exception):
    """``exit_json`` was called; ``args[0]`` holds the result."""


class FailJson(Exception):
    """``fail_json`` was called; ``args[0]`` holds the result."""


def _exit(module, **kwargs):
    raise ExitJson(kwargs)


def _fail(module, **kwargs):
    raise FailJson(kwargs)


@contextlib.contextmanager
def module_args(args):
    """The module arguments ``AnsibleModule`` reads, as ansible-core's own test helper sets them."""
    args = dict(args, _ansible_remote_tmp="/tmp", _ansible_keep_remote_files=False)
    try:
        from ansible.module_utils.testing import patch_module_args
    except ImportError:  # ansible-core < 2.19
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(basic, "_ANSIBLE_ARGS", to_bytes(json.dumps({"ANSIBLE_MODULE_ARGS": args})))
            yield
    else:
        with patch_module_args(args):
            yield


def run_main(main, params):
    """Call ``main()`` with ``params``; returns ``(failed, result)``."""
    with module_args(params), pytest.MonkeyPatch.context() as mp:
        mp.setattr(basic.AnsibleModule, "exit_json", _exit)
        mp.setattr(basic.AnsibleModule, "fail_json", _fail)
        with pytest.raises((ExitJson, FailJson)) as info:
            main()
    return info.type is FailJson, info.value.args[0]
