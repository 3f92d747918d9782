"""Deadlines in words: every computed date says which days it skipped and why (X1)."""

from __future__ import annotations

from procedure.working_days import DayReason, DayStatus, Deadline, NoticeWindow
from texts import format_date, t


def describe_day(status: DayStatus) -> str:
    """One line on one day: ``Thứ Bảy, 14/02/2026: nghỉ cuối tuần``."""
    day = format_date(status.day)
    match status.reason:
        case DayReason.WEEKEND:
            return t("calendar.day.weekend", day=day)
        case DayReason.PUBLIC_HOLIDAY:
            return t("calendar.day.holiday", day=day, name=status.name)
        case DayReason.OFFICIAL_DAY_OFF:
            return t("calendar.day.official_off", day=day, name=status.name, source=status.source)
        case DayReason.MAKEUP_WORKING_DAY:
            if status.name:
                return t("calendar.day.makeup", day=day, name=status.name, source=status.source)
            return t("calendar.day.makeup_library", day=day)
        case DayReason.HOLIDAY_NOT_IN_FORCE:
            return t("calendar.day.not_in_force", day=day, name=status.name, source=status.source)
        case _:
            return t("calendar.day.working", day=day)


def explain_deadline(deadline: Deadline) -> list[str]:
    """The due day, how it was counted, and each day skipped with its reason."""
    lines = [
        t(
            "calendar.deadline",
            due=format_date(deadline.due),
            days=deadline.working_days,
            start=format_date(deadline.start),
        ),
        t("calendar.civil_code"),
    ]
    lines.extend(_skipped(deadline.skipped))
    return lines


def explain_notice_window(window: NoticeWindow) -> list[str]:
    """P4 in words: the latest sending day for a session, and the working days it keeps free."""
    lines = [
        t(
            "calendar.notice.latest",
            latest=format_date(window.latest_day),
            session=format_date(window.session_day),
            days=window.working_days,
        ),
    ]
    if window.latest_working_day != window.latest_day:
        lines.append(
            t("calendar.notice.latest_working", day=format_date(window.latest_working_day))
        )
    lines.append(
        t(
            "calendar.notice.counted",
            days="; ".join(format_date(day) for day in window.counted),
        )
    )
    lines.extend(_skipped(window.skipped))
    return lines


def _skipped(skipped: tuple[DayStatus, ...]) -> list[str]:
    if not skipped:
        return [t("calendar.nothing_skipped")]
    return [t("calendar.skipped_heading"), *(f"- {describe_day(status)}" for status in skipped)]
