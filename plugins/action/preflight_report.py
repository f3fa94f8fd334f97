# -*- coding: utf-8 -*-
# Copyright (c) kubeshift maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Action plugin for kubeshift.cilium.preflight_report: render and write the fleet report on the controller.

Runs entirely in the controller process (no module is transferred or spawned). The rendering is the collection's
own report code (module_utils._report); this file only validates the arguments and writes the files.
"""

from __future__ import annotations

import json
import os
import tempfile

from ansible.errors import AnsibleActionFail
from ansible.module_utils.common.text.converters import to_bytes, to_native, to_text
from ansible.plugins.action import ActionBase

from ansible_collections.kubeshift.cilium.plugins.module_utils._report import FORMATS, build_report, render

FILE_NAMES = {"json": "report.json", "markdown": "report.md", "html": "report.html"}
_ARGS = frozenset(("results", "cilium_version", "dest", "formats", "mode"))
_PREFIX = "kubeshift.cilium.preflight_report: "


def parse_args(args):
    """Validate the task arguments; return (results dict, cilium_version, dest, formats, mode). Raises ValueError."""
    unknown = sorted(set(args) - _ARGS)
    if unknown:
        raise ValueError("unsupported parameter(s): %s (supported: %s)" % (", ".join(unknown), ", ".join(sorted(_ARGS))))
    for name in ("results", "cilium_version", "dest"):
        if args.get(name) is None:
            raise ValueError("missing required argument: %s" % name)
    results = args["results"]
    if isinstance(results, (str, bytes)):
        try:
            results = json.loads(to_text(results))
        except ValueError as exc:
            raise ValueError("results: not valid JSON: %s" % exc) from exc
    if not isinstance(results, dict):
        raise ValueError("results: expected a mapping of node name to verdict, got %s" % type(results).__name__)
    version = args["cilium_version"]
    if not isinstance(version, str):
        version = str(version)
    dest = args["dest"]
    if not isinstance(dest, str) or not dest.strip():
        raise ValueError("dest: expected a directory path, got %r" % (dest,))
    formats = args.get("formats")
    if formats is None:
        formats = list(FORMATS)
    if isinstance(formats, str):
        formats = [item.strip() for item in formats.split(",") if item.strip()]
    if not isinstance(formats, (list, tuple)):
        raise ValueError("formats: expected a list of %s, got %s" % (", ".join(FORMATS), type(formats).__name__))
    unique = []
    for fmt in formats:
        if fmt not in FILE_NAMES:
            raise ValueError("formats: %r is not one of %s" % (fmt, ", ".join(FORMATS)))
        if fmt not in unique:
            unique.append(fmt)
    mode = args.get("mode", "0644")
    try:
        mode = int(mode, 8) if isinstance(mode, str) else int(mode)
    except (TypeError, ValueError):
        raise ValueError("mode: expected an octal string such as '0644', got %r" % (mode,)) from None
    if not 0 <= mode <= 0o7777:
        raise ValueError("mode: out of range: %r" % (args.get("mode"),))
    return results, version, dest, unique, mode


def render_files(results, cilium_version, formats):
    """Return (report dict, {format: text}) using the collection's report renderer. Raises ValueError."""
    report = build_report(results, cilium_version)
    return report, dict((fmt, render(report, fmt, indent=2 if fmt == "json" else None)) for fmt in formats)


def read_bytes(path):
    """Current content of ``path``, or None when it does not exist."""
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except FileNotFoundError:
        return None


def write_atomic(path, data, mode):
    """Write ``data`` to ``path`` through a temporary file in the same directory and an atomic rename."""
    directory = os.path.dirname(path) or "."
    fd, tmp = tempfile.mkstemp(prefix=".%s." % os.path.basename(path), dir=directory)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def size_diff(path, before, after):
    """A short --diff entry: path and sizes, never the content (reports can be many MB)."""
    before_size = "absent" if before is None else "%d bytes" % len(before)
    return {
        "before_header": "%s (%s)" % (path, before_size),
        "after_header": "%s (%d bytes)" % (path, len(after)),
        "before": "%s: %s\n" % (os.path.basename(path), before_size),
        "after": "%s: %d bytes\n" % (os.path.basename(path), len(after)),
    }


def sync_report(dest, texts, mode, check_mode=False, want_diff=False):
    """Create ``dest`` if missing and write every changed file. Returns (result fields). Raises OSError."""
    changed_files, diffs = [], []
    created_dir = not os.path.isdir(dest)
    if created_dir and os.path.exists(dest):
        raise ValueError("dest: %s exists and is not a directory" % dest)
    if created_dir:
        diffs.append({"before_header": dest, "after_header": dest,
                      "before": "%s: absent\n" % dest, "after": "%s: directory\n" % dest})
        if not check_mode:
            os.makedirs(dest, mode=0o755)
    files = []
    for fmt, text in texts.items():
        path = os.path.join(dest, FILE_NAMES[fmt])
        files.append(path)
        data = to_bytes(text, errors="surrogate_or_strict")
        before = None if created_dir else read_bytes(path)
        mode_differs = before is not None and (os.stat(path).st_mode & 0o7777) != mode
        if before == data and not mode_differs:
            continue
        changed_files.append(path)
        if want_diff:
            diffs.append(size_diff(path, before, data))
        if not check_mode:
            if before == data:
                os.chmod(path, mode)
            else:
                write_atomic(path, data, mode)
    result = {"changed": created_dir or bool(changed_files), "files": files, "changed_files": changed_files,
              "dest": dest}
    if want_diff and diffs:
        result["diff"] = diffs
    return result


class ActionModule(ActionBase):
    """Render the fleet preflight report and write it on the controller."""

    TRANSFERS_FILES = False
    _supports_check_mode = True
    _supports_async = False

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        del tmp
        dest = self._task.args.get("dest")
        try:
            results, version, dest, formats, mode = parse_args(self._task.args)
            dest = os.path.realpath(os.path.expanduser(dest))
            report, texts = render_files(results, version, formats)
            result.update(sync_report(dest, texts, mode, check_mode=bool(self._task.check_mode),
                                      want_diff=bool(self._task.diff)))
        except (ValueError, TypeError) as exc:
            raise AnsibleActionFail(_PREFIX + to_native(exc)) from None
        except OSError as exc:
            raise AnsibleActionFail(_PREFIX + "cannot write the report in %s: %s" % (dest, to_native(exc))) from None
        result["summary"] = report["summary"]
        return result
