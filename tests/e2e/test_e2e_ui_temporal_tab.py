"""The run page's "Temporal workflow" tab in a real browser: headless Chromium (Debian's, driven by Selenium
through Debian's chromedriver) opens Airflow's own UI on the session's stack, for an executor-mode run and a
Temporal-owned run of the same DAG, and reads what the tab's frame rendered from the workflow's ``view``
query; the owned run's page labels its run type. Screenshots land in the test's tmp dir."""
from __future__ import annotations

import re
import shutil

import pytest

from e2e_checks import run_dag
from airflow_temporal_testing.owned import describe, trigger_owned

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
DAG = "e2e_retry_once"  # flaky fails try 1, succeeds try 2; then after
UI_TIMEOUT = 90

# Each table row of the frame as "cell | cell | ...", an empty cell as "-" (as python-bridge's tests read it).
ROWS_JS = """return [...document.querySelectorAll('tr')].map(
    tr => [...tr.cells].map(c => c.innerText.replace(/\\s+/g, ' ').trim() || '-').join(' | '));"""


@pytest.fixture(scope="module")
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


def open_temporal_tab(browser, airflow, run_id: str, screenshot) -> tuple[str, list[str]]:
    """The run page's text and the tab frame's table rows, once the frame shows the workflow's attempts."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(airflow.ui_run_url(DAG, run_id) + "/plugin/temporal")
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
    attempts = [r for r in rows if r.split(" | ")[0] in ("flaky", "after")]
    assert [r.split(" | ")[:4] for r in attempts] == [
        ["flaky", "-", "1", "failed"], ["flaky", "-", "2", "success"], ["after", "-", "1", "success"]], rows

    page, rows = open_temporal_tab(browser, airflow, owned_run, tmp_path / "owned-run-temporal-tab.png")
    assert "Temporal-owned run" in " ".join(rows)
    attempts = [r for r in rows if r.split(" | ")[0] in ("flaky", "after")]
    assert [r.split(" | ")[:4] for r in attempts] == [
        ["flaky", "-", "1", "up_for_retry"], ["flaky", "-", "2", "success"], ["after", "-", "1", "success"]], rows
    assert "runTypes.external" not in page
    assert "Temporal" in page.split("Run Type", 1)[1].splitlines()[1], page
