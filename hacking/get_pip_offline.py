"""Stand-in for ansible-test's pip bootstrap script, which it would download from a host we cannot reach.

ansible-test runs this as ``get_pip_24_2.py <pip args> pip==24.2 [--no-setuptools] [--no-wheel]``.
It installs pip from the pip 24.2 wheel cached beside it, exactly as the official get-pip.py would.
"""

import glob
import os
import sys


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    wheels = sorted(glob.glob(os.path.join(here, 'pip-24.2-py3-none-any.whl')))
    if not wheels:
        sys.exit('pip-24.2-py3-none-any.whl is missing beside %s; run hacking/setup.sh' % __file__)
    sys.path.insert(0, wheels[0])
    from pip._internal.cli.main import main as pip_main  # pylint: disable=import-outside-toplevel

    args = [arg for arg in sys.argv[1:] if arg not in ('--no-setuptools', '--no-wheel')]
    sys.exit(pip_main(['install', '--upgrade', '--force-reinstall'] + args))


if __name__ == '__main__':
    main()
