# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.kubeshift.cilium.plugins.filter.cilium_unmanaged_pods import FilterModule, cilium_unmanaged_pods


def test_registered():
    assert FilterModule().filters()["cilium_unmanaged_pods"] is cilium_unmanaged_pods


def test_restart_and_bare():
    agent = {"metadata": {"name": "cilium-a", "namespace": "kube-system"}, "spec": {"nodeName": "n1", "hostNetwork": True},
             "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True",
                                                            "lastTransitionTime": "2026-11-23T10:00:00Z"}]}}
    old = {"metadata": {"name": "web", "namespace": "app", "creationTimestamp": "2026-11-23T09:00:00Z",
                        "ownerReferences": [{"kind": "ReplicaSet", "name": "web-1", "controller": True}]},
           "spec": {"nodeName": "n1"}, "status": {"phase": "Running"}}
    bare = {"metadata": {"name": "debug", "namespace": "app", "creationTimestamp": "2026-11-23T09:00:00Z"},
            "spec": {"nodeName": "n1"}, "status": {"phase": "Running"}}
    out = cilium_unmanaged_pods([old, bare, agent], agent_pods=[agent])
    assert [p["name"] for p in out["restart"]] == ["web"]
    assert [p["name"] for p in out["bare"]] == ["debug"]
    assert out["managed"] == 0


def test_bad_input():
    with pytest.raises(AnsibleFilterError, match="^kubeshift.cilium.cilium_unmanaged_pods: the input and agent_pods must be lists"):
        cilium_unmanaged_pods({"a": 1}, agent_pods=[])
