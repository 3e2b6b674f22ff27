"""Build hook: ship airflow_temporal_external_runs.pth at the top of the wheel (i.e. of site-packages).

Everything else is configured in pyproject.toml. setuptools' build_meta runs this file automatically.
The .pth's one line registers the post-import hook of ``airflow_temporal.external_runs`` (run_type='external'
support for Airflow 3.3.x) in every interpreter of the environment; see docs/external-runs.md.
Editable installs (pip install -e) do not carry files outside the package: there, run
``python -m airflow_temporal.external_runs install-pth`` once.
"""
from __future__ import annotations

import os

from setuptools import setup
from setuptools.command.build_py import build_py

PTH = "airflow_temporal_external_runs.pth"
# Must equal airflow_temporal.external_runs.PTH_LINE (tests/test_external_runs.py checks it). Written here,
# not copied from a file, so that a wheel built from an sdist has it too.
PTH_LINE = "import airflow_temporal.external_runs as _atx; _atx.install()\n"


class build_py_with_pth(build_py):
    def run(self):
        super().run()
        if not self.editable_mode:
            os.makedirs(self.build_lib, exist_ok=True)
            with open(os.path.join(self.build_lib, PTH), "w") as f:
                f.write(PTH_LINE)

    def get_outputs(self, include_bytecode=True):
        outputs = super().get_outputs(include_bytecode)
        if not self.editable_mode:
            outputs.append(os.path.join(self.build_lib, PTH))
        return outputs


setup(cmdclass={"build_py": build_py_with_pth})
