#!/usr/bin/env python3
"""``python scripts/stack.py up|down|db-up ...``: the command line of the local stack, kept at the path the
scripts and docs use. The stack itself is ``airflow_temporal_testing.stack`` (tests/support), installed in the
bootstrap venv: run this with ``$AT_VENV/bin/python``."""
import sys

from airflow_temporal_testing.stack import main

sys.exit(main())
