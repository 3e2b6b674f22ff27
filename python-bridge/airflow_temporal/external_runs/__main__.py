"""``python -m airflow_temporal.external_runs status|install-pth|remove-pth``.

A module of its own, not a ``__main__`` block of the hook: the .pth imports the hook into every interpreter
first, and running an already-imported module with ``-m`` would make a second copy of it (with its own STATE)
and a RuntimeWarning on every call.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import sysconfig

from airflow_temporal.external_runs import PTH_NAME, status, write_pth


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m airflow_temporal.external_runs",
                                 description="run_type='external' support for Airflow 3.3 (Temporal-owned mode)")
    sub = ap.add_subparsers(dest="cmd", required=True)
    sub.add_parser("status", help="import Airflow and show which patches applied in this interpreter")
    w = sub.add_parser("install-pth", help=f"write {PTH_NAME} into site-packages (editable installs)")
    w.add_argument("--dir", default=None)
    sub.add_parser("remove-pth", help=f"remove {PTH_NAME} from site-packages")
    args = ap.parse_args(argv)
    if args.cmd == "status":
        print(json.dumps(status(), indent=2))
    elif args.cmd == "install-pth":
        print(write_pth(args.dir))
    else:
        path = os.path.join(sysconfig.get_paths()["purelib"], PTH_NAME)
        if os.path.exists(path):
            os.remove(path)
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
