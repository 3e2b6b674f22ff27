"""The run page's "Temporal workflow" tab in a real browser: headless Chromium (Debian's, driven by Selenium
through Debian's chromedriver) opens Airflow's own UI on the session's stack, for an executor-mode run and a
Temporal-owned run of the same DAG, and reads what the tab's frame rendered from the workflow's ``view``
query; the owned run's page labels its run type; a running attempt shows its worker and last heartbeat.
Screenshots land in the test's tmp dir."""
from __future__ import annotations

import re
import shutil

import pytest

from conftest import DEFAULT_IDENTITY
from e2e_checks import RUN_TIMEOUT, run_dag
from airflow_temporal_testing.owned import describe, trigger_owned
from airflow_temporal_testing.stack import wait_until

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
DAG = "e2e_retry_once"  # flaky fails try 1, succeeds try 2; then after
UI_TIMEOUT = 90

# Each table row of the frame as "cell | cell | ...", an empty cell as "-" (as python-bridge's tests read it).
ROWS_JS = """return [...document.querySelectorAll('tr')].map(
    tr => [...tr.cells].map(c => c.innerText.replace(/\\s+/g, ' ').trim() || '-').join(' | '));"""


@pytest.fixture
def browser(require_temporal):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    # Installed by scripts/bootstrap.sh (Debian's chromium and chromium-driver): missing is a failure, not a skip.
    missing = [p for p in (CHROMIUM, CHROMEDRIVER) if not shutil.which(p)]
    assert not missing, f"{missing} missing: run scripts/bootstrap.sh (apt-get install chromium chromium-driver)"
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--window-size=1500,1100"):
        options.add_argument(flag)
    # An explicit driver: Selenium Manager (which would download one) never runs.
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def open_temporal_tab(browser, airflow, run_id: str, screenshot, dag_id: str = DAG) -> tuple[str, list[str]]:
    """The run page's text and the tab frame's table rows, once the frame shows the workflow's attempts."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(airflow.ui_run_url(dag_id, run_id) + "/plugin/temporal")
    wait = WebDriverWait(browser, UI_TIMEOUT)
    frame = wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "iframe") and
                       d.find_element(By.CSS_SELECTOR, "iframe"))
    browser.switch_to.frame(frame)
    wait.until(lambda d: "Attempts (" in d.find_element(By.TAG_NAME, "body").text)
    rows = browser.execute_script(ROWS_JS)
    browser.switch_to.default_content()
    # The run header renders the run type once the UI's translations have loaded.
    wait.until(lambda d: "Run Type" in d.find_element(By.TAG_NAME, "body").text)
    browser.save_screenshot(str(screenshot))
    return browser.find_element(By.TAG_NAME, "body").text, rows


def test_the_temporal_tab_shows_each_runs_attempts_and_an_owned_run_its_run_type_label(
        stack, airflow, browser, tmp_path):
    airflow.wait_for_dag(DAG)
    airflow.unpause(DAG)
    executor_run = run_dag(stack, DAG)
    result = trigger_owned(stack, DAG, "--wait")
    assert result.returncode == 0, describe(result)
    owned_run = re.search(r"^Started run (\S+) of DAG", result.stdout, re.M).group(1)

    page, rows = open_temporal_tab(browser, airflow, executor_run, tmp_path / "executor-run-temporal-tab.png")
    assert "executor mode" in " ".join(rows)
    # How each try's runner ended; a try Airflow revoked (stuck in queued on a loaded host) and queued
    # again has a row more, before its last.
    assert latest_attempts(rows) == {("flaky", "1"): "finished", ("flaky", "2"): "finished",
                                     ("after", "1"): "finished"}, rows

    page, rows = open_temporal_tab(browser, airflow, owned_run, tmp_path / "owned-run-temporal-tab.png")
    assert "Temporal-owned run" in " ".join(rows)
    assert latest_attempts(rows) == {("flaky", "1"): "up_for_retry", ("flaky", "2"): "success",
                                     ("after", "1"): "success"}, rows
    assert "runTypes.external" not in page
    # The run header: "Run Type", then the label, then the next field.
    assert "Temporal" in page.split("Run Type", 1)[1].split("Start Date", 1)[0], page


def test_a_running_attempt_shows_its_worker_and_last_heartbeat(stack, airflow, browser, tmp_path):
    dag_id = "e2e_long_task"  # long_sleep sleeps 30 s once it has written its .started marker
    airflow.wait_for_dag(dag_id)
    airflow.unpause(dag_id)
    run_id = airflow.trigger(dag_id, conf={"marker_dir": str(tmp_path)})["dag_run_id"]
    wait_until(lambda: any(tmp_path.glob("*.started")), RUN_TIMEOUT, "long_sleep to start")  # its only run here

    _, rows = open_temporal_tab(browser, airflow, run_id, tmp_path / "running-attempt-temporal-tab.png",
                                dag_id=dag_id)
    [attempt] = [row.split(" | ") for row in rows if row.startswith("long_sleep | ")]
    task, _, try_number, state, _, worker, _, ended, heartbeat = attempt[:9]
    assert (task, try_number, state, ended) == ("long_sleep", "1", "running", "-"), rows
    # Matched to its pending activity by the attempt its heartbeats name (the runner's pid follows once a
    # heartbeat after the runner's start has reached Temporal).
    assert worker.startswith(DEFAULT_IDENTITY), rows
    assert heartbeat != "-", rows
    assert any(row.startswith(f"run_task | {dag_id}/{run_id}/long_sleep try 1 | started | 1 of 1 | {DEFAULT_IDENTITY}")
               for row in rows), rows
    assert airflow.wait_for_run(dag_id, run_id, timeout=RUN_TIMEOUT)["state"] == "success"


def latest_attempts(rows: list[str]) -> dict[tuple[str, str], str]:
    """(task, try) -> the state in its last row of the Attempts table."""
    attempts = [row.split(" | ") for row in rows if row.split(" | ")[0] in ("flaky", "after")]
    return {(cells[0], cells[2]): cells[3] for cells in attempts}
