# Stand-in for ansible-test's cached get-pip script (installed as ~/.ansible/test/cache/get_pip_<ver>.py by
# tests/utils/bootstrap.sh). ansible-test normally downloads get-pip from a host this machine cannot reach; this
# script installs pip from the wheel that bootstrap.sh placed beside it, taken from PyPI.
from __future__ import annotations

import os
import sys


def main() -> int:
    here = os.path.dirname(os.path.abspath(__file__))
    version = os.path.basename(__file__)[len("get_pip_"):-len(".py")].replace("_", ".")
    wheel = os.path.join(here, "pip-%s-py3-none-any.whl" % version)
    if not os.path.exists(wheel):
        sys.stderr.write("get-pip stand-in: %s is missing; run tests/utils/bootstrap.sh test\n" % wheel)
        return 1
    sys.path.insert(0, wheel)
    from pip._internal.cli.main import main as pip_main  # pylint: disable=import-outside-toplevel

    # ansible-test passes get-pip's own flags; pip itself does not know them.
    args = [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]
    return pip_main(["install", "--no-cache-dir", "--disable-pip-version-check"] + args + [wheel])


if __name__ == "__main__":
    sys.exit(main())
