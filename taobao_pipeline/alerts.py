"""Telling the operator that a run failed, or recovered: to a log file always, and to a
webhook and by e-mail when configured.

Configured by the environment only, so that no secret is ever in a file of the repository
(``deploy/env.example`` lists the variables; the services read them from an environment
file outside it):

- ``TAOBAO_ALERT_LOG``: the log file (default ``$DAGSTER_HOME/alerts.log``);
- ``TAOBAO_ALERT_WEBHOOK``: a URL that receives ``{"text": ...}`` as JSON (Slack, Mattermost,
  Teams and most chat tools accept it);
- ``TAOBAO_ALERT_EMAIL_TO`` (comma-separated) with ``TAOBAO_SMTP_HOST``, and optionally
  ``TAOBAO_SMTP_PORT`` (587), ``TAOBAO_SMTP_USER``, ``TAOBAO_SMTP_PASSWORD`` (STARTTLS when a
  user is given) and ``TAOBAO_ALERT_EMAIL_FROM``.

A channel that fails is reported in the log file; it never hides the others.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import smtplib
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

TIMEOUT = 10  # seconds for a webhook or a mail server


@dataclass(frozen=True)
class Alert:
    """What the operator needs: which editions, where the run stands (``stand``: attempt n
    of N and the next try, or final), what failed and what to do (each failure a line,
    its advice indented below it, said once), the run to look at.

    A ``recovered`` alert is one line: a retry of a failed run succeeded (``stand`` says
    which attempt, after which failure)."""

    editions: str
    failures: list[str]
    run_id: str
    origin: str
    stand: str = "final"
    recovered: bool = False
    next_step: str = ""

    @property
    def subject(self) -> str:
        if self.recovered:
            return f"taobao-pipeline: {self.editions} recovered ({self.origin})"
        return f"taobao-pipeline: {self.editions} failed ({self.origin}), {self.stand}"

    @property
    def text(self) -> str:
        if self.recovered:
            return f"{self.subject}: {self.stand}. Run {self.run_id}."
        lines = [f"{self.subject}. Run {self.run_id}."]
        lines += [f"- {f}" for f in self.failures]
        if self.next_step:
            lines.append(self.next_step)
        return "\n".join(lines)


def alert_log(env: Mapping[str, str] = os.environ) -> Path:
    """Where alerts are written: ``TAOBAO_ALERT_LOG``, else ``$DAGSTER_HOME/alerts.log``."""
    if env.get("TAOBAO_ALERT_LOG"):
        return Path(env["TAOBAO_ALERT_LOG"])
    return Path(env.get("DAGSTER_HOME") or ".") / "alerts.log"


def send(alert: Alert, env: Mapping[str, str] = os.environ) -> list[str]:
    """Deliver ``alert`` on every configured channel; returns the channels reached."""
    log = alert_log(env)
    reached, problems = [], []
    if env.get("TAOBAO_ALERT_WEBHOOK"):
        try:
            _post(env["TAOBAO_ALERT_WEBHOOK"], alert)
            reached.append("webhook")
        except OSError as e:  # URLError and HTTPError are OSErrors
            problems.append(f"the webhook could not be reached: {e}")
    if env.get("TAOBAO_ALERT_EMAIL_TO"):
        try:
            _mail(alert, env)
            reached.append("e-mail")
        except (OSError, smtplib.SMTPException, KeyError) as e:
            problems.append(f"the e-mail could not be sent: {e!r}")
    stamp = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "a", encoding="utf-8") as f:
        f.write(f"{stamp} {alert.text}\n")
        for problem in problems:
            f.write(f"{stamp} alert not delivered: {problem}\n")
    return ["log", *reached]


def _post(url: str, alert: Alert) -> None:
    body = json.dumps({"text": alert.text}).encode()
    request = urllib.request.Request(
        url, data=body, headers={"Content-Type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
        response.read()


def _mail(alert: Alert, env: Mapping[str, str]) -> None:
    message = EmailMessage()
    message["Subject"] = alert.subject
    message["From"] = env.get("TAOBAO_ALERT_EMAIL_FROM", "taobao-pipeline@localhost")
    message["To"] = env["TAOBAO_ALERT_EMAIL_TO"]
    message.set_content(alert.text)
    port = int(env.get("TAOBAO_SMTP_PORT", "587"))
    with smtplib.SMTP(env["TAOBAO_SMTP_HOST"], port, timeout=TIMEOUT) as smtp:
        if env.get("TAOBAO_SMTP_USER"):
            smtp.starttls()
            smtp.login(env["TAOBAO_SMTP_USER"], env.get("TAOBAO_SMTP_PASSWORD", ""))
        smtp.send_message(message)
