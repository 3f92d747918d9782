"""The periods of Article 13, in working days. Configuration, with the regulation's defaults."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Periods:
    # P4 (§1.2): the invitation goes out at least this many working days before the session.
    notice_working_days: int = 5
    # P7 (§3): the head's conclusions are notified within this many working days after the session.
    conclusion_working_days: int = 10
    # P8 (§3): the written result is due this many working days after that notice. The seed text
    # writes "20 (mười)"; the digits say 20 and we use 20.
    result_working_days: int = 20
    # The ward's policy for the office inbox (not in Article 13, which covers sessions): a
    # petition, opinion or question sent outside any session is triaged within this many working
    # days of its receipt ...
    triage_working_days: int = 10
    # ... and, once forwarded to an agency, answered in writing within this many working days.
    inbox_result_working_days: int = 20
    # "Is it resolved?" (issue 13): the resident is asked this many working days after a written
    # result (P8) whether the problem was resolved; "no" or "partly" reopens the petition.
    resolution_check_working_days: int = 10

    def __post_init__(self) -> None:
        for name in (
            "notice_working_days",
            "conclusion_working_days",
            "result_working_days",
            "triage_working_days",
            "inbox_result_working_days",
            "resolution_check_working_days",
        ):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive whole number of working days")
